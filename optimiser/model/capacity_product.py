"""Contract-period capacity products (e.g. ERCOT's Emergency Response Service): MW committed for
a contract period, paid per MW, and backed by curtailable load in every designated hour.

The whole story of a capacity product is here: its commitment variables, its backing rows, the
rows it shares with the hourly reserves, its revenue, its state handed to the next window, its
columns, summary and words for infeasibility messages. See docs/model.md, "Capacity products".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo

from .core import Lin, Registry


@dataclass
class _Period:
    """One contract period of a product as the window sees it."""

    label: str
    """``"2025-06-01T05:00Z"`` (its start, UTC), or ``"horizon"``."""
    hours: np.ndarray
    """The window's hours in the period."""
    designated: np.ndarray
    """The window's designated hours in the period."""
    share: float
    """The share of the period's payment the window earns: its hours in the period over the
    period's hours. [-]"""


def _periods(reg: Registry, p: Any) -> list[_Period]:
    """The contract periods of product ``p`` that the window touches."""
    w = reg.window
    stamps = w.timestamps
    col = p.designated_hours_column
    flag = w.series(col) == 1 if col else np.ones(w.hours, dtype=bool)
    out = []
    if not p.periods:
        hrs = np.arange(w.hours)
        return [_Period("horizon", hrs, hrs[flag], w.hours / w.scenario.hours)]
    for c in p.periods:
        lo, hi = c.bounds
        inside = np.flatnonzero((stamps >= lo) & (stamps < hi))
        if len(inside):
            out.append(_Period(c.label, inside, inside[flag[inside]], len(inside) / c.hours))
    return out


class CapacityProducts:
    """Capacity products ``p``: ``m.capacity_product.commit[p, period]`` MW committed for each
    contract period the window touches (``<= max_mw``), paid ``usd_per_mw`` per MW.

    Rows:

    - ``m.capacity_product.backing[p, t]``, each designated hour: the load at the meter of the
      fleets eligible for ``p`` (and what batteries can deliver, when ``"battery"`` is eligible,
      :meth:`Registry.add_backing`) is at least the commitment: curtailing it delivers the
      product;
    - ``m.capacity_product.shared[t]``, each designated hour where more than one product or
      reserve can be sold: the commitments designated then plus every reserve offer are at
      most the load eligible for any of them: one MW of curtailable load is sold once;
    - ``m.capacity_product.carried[p, period]``: a commitment made by an earlier window
      (``State.capacity_mw``) is kept.

    Column ``capacity_<p>_mw``: the MW committed, in every hour of its contract periods (the
    obligation holds in the designated ones).

    Revenue ``capacity_<p>``: ``usd_per_mw x commit`` for each contract period, spread evenly
    over its hours; a window (or a horizon) holding part of a period earns that share.
    """

    name = "capacity_product"

    def build(self, m: Any, reg: Registry) -> None:
        """Commitments and their revenue."""
        products = reg.window.config.capacity_product
        self.periods = {p.name: _periods(reg, p) for p in products}
        keys = [(p.name, c.label) for p in products for c in self.periods[p.name]]
        m.capacity_product = pyo.Block(doc="Contract-period capacity products")
        ub = [p.max_mw for p in products for _ in self.periods[p.name]]
        commit = reg.add_var(m.capacity_product, "commit", keys, np.array(ub, float),
                             doc="MW committed to product p for a contract period [MW]")
        self.commit = commit
        vi = reg.info(commit)
        carried = reg.window.state.capacity_mw
        kept = [(k, carried[k]) for k in keys if k in carried]
        for p in products:
            lins = []
            for c in self.periods[p.name]:
                j = vi.position((p.name, c.label))
                lins.append(Lin(commit, np.full(len(c.hours), j), p.usd_per_mw * c.share / len(c.hours), c.hours))
            if lins:
                reg.add_term(f"capacity_{p.name}", "revenue", lins)
        if kept:
            reg.add_rows(m.capacity_product, "carried", [k for k, _ in kept],
                         [Lin(commit, [vi.position(k) for k, _ in kept], 1.0, np.arange(len(kept)))],
                         np.array([v for _, v in kept]), np.array([v for _, v in kept]), family="capacity_carried",
                         doc="commit[p, period] = the MW an earlier window committed [MW]")

        def report(sol: Any) -> dict[str, np.ndarray]:
            x = sol.value(commit)
            cols = {}
            for p in products:
                col = np.zeros(reg.n)
                for c in self.periods[p.name]:
                    col[c.hours] = x[vi.position((p.name, c.label))]
                cols[f"capacity_{p.name}_mw"] = col
            return cols

        reg.add_reporter(report)

    def link(self, m: Any, reg: Registry) -> None:
        """The backing rows and the rows shared with reserves (they read every fleet's draw)."""
        products = reg.window.config.capacity_product
        n = reg.n
        commit = self.commit
        vi = reg.info(commit)
        # for each product, hour -> its commitment's position (-1: not designated)
        which = {p.name: np.full(n, -1, dtype=np.int64) for p in products}
        for p in products:
            for c in self.periods[p.name]:
                which[p.name][c.designated] = vi.position((p.name, c.label))
        keys, lins = [], []
        for p in products:
            hrs = np.flatnonzero(which[p.name] >= 0)
            if not len(hrs):
                continue
            row = np.full(n, -1, dtype=np.int64)
            row[hrs] = len(keys) + np.arange(len(hrs))
            keys += [(p.name, int(t)) for t in hrs]
            lins.append(Lin(commit, which[p.name][hrs], 1.0, row[hrs]))
            lins += _at_hours(reg.backing_lins(p.eligible), row, -1.0)
        if keys:
            reg.add_rows(m.capacity_product, "backing", keys, lins, None, 0.0, family="capacity_product",
                         doc="commit[p, period(t)] <= load of the fleets eligible for p, each designated hour [MW]")
        self._shared(m, reg, which)

    def _shared(self, m: Any, reg: Registry, which: dict[str, np.ndarray]) -> None:
        """``m.capacity_product.shared[t]``: commitments designated in hour t plus every reserve
        offer <= the load eligible for any of them, where more than one can be sold. [MW]"""
        products = reg.window.config.capacity_product
        reserves = reg.window.config.reserve
        offer = getattr(getattr(m, "reserves", None), "offer", None)
        if offer is None or reg.registered(offer) is None:
            reserves = ()
        n = reg.n
        designated = np.array([which[p.name] >= 0 for p in products]).reshape(len(products), n)
        count = designated.sum(axis=0) + len(reserves)
        hrs = np.flatnonzero(designated.any(axis=0) & (count > 1))
        if not len(hrs):
            return
        row = np.full(n, -1, dtype=np.int64)
        row[hrs] = np.arange(len(hrs))
        lins: list[Lin] = []
        for i in range(len(reserves)):
            lins.append(Lin(offer, i * n + hrs, 1.0, row[hrs]))
        # hours grouped by the set of products designated then: each group's eligible kinds
        pattern = [tuple(np.flatnonzero(designated[:, t])) for t in hrs]
        for group in dict.fromkeys(pattern):
            sel = hrs[[pat == group for pat in pattern]]
            grow = np.full(n, -1, dtype=np.int64)
            grow[sel] = row[sel]
            kinds = sorted({k for i in group for k in products[i].eligible} | {k for r in reserves for k in r.eligible})
            for i in group:
                lins.append(Lin(self.commit, which[products[i].name][sel], 1.0, row[sel]))
            lins += _at_hours(reg.backing_lins(kinds), grow, -1.0)
        reg.add_rows(m.capacity_product, "shared", [int(t) for t in hrs], lins, None, 0.0, family="capacity_product",
                     doc="commitments designated in t + reserve offers <= load eligible for any of them [MW]")

    def energy(self, reg: Registry, frame: Any) -> dict[str, float]:
        """Energy by use: each product's commitment over its designated hours, the curtailable
        energy the site stood ready to give up. [MWh]"""
        out = {}
        for p in reg.window.config.capacity_product:
            col = frame[f"capacity_{p.name}_mw"].to_numpy()
            out[f"capacity_{p.name}_committed"] = float(sum(col[c.designated].sum() for c in self.periods[p.name]))
        return out

    def summary(self, reg: Registry, frame: Any) -> dict[str, Any]:
        """By product and contract period: MW committed, its designated hours in the window and
        the share of the period's payment the window earns."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for p in reg.window.config.capacity_product:
            col = frame[f"capacity_{p.name}_mw"].to_numpy()
            out[p.name] = {c.label: {"committed_mw": float(col[c.hours[0]]), "designated_hours": int(len(c.designated)),
                                     "paid_share": c.share} for c in self.periods[p.name]}
        return {"capacity_product": out}

    @staticmethod
    def handover(reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: the MW committed for each contract period it
        touched, by ``(product, period)``. [MW]"""
        out = dict(reg.window.state.capacity_mw)
        w = reg.window
        for p in w.config.capacity_product:
            col = res.dispatch[f"capacity_{p.name}_mw"]
            for c in _periods(reg, p):
                held = col.to_numpy()[c.hours[c.hours < len(col)]]
                if len(held):
                    out[(p.name, c.label)] = max(0.0, float(held.max()))
        return {"capacity_mw": out}

    def describe(self, reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        if family == "capacity_product" and isinstance(key, tuple):
            return (f"the backing of capacity product '{key[0]}' in {hour_text(int(key[1]))}: load eligible for it "
                    f"at least the MW committed ({ref})")
        if family == "capacity_product":
            return (f"capacity products and reserves sold together in {hour_text(int(key))}, at most the load "
                    f"eligible for any of them ({ref})")
        if family == "capacity_carried" and isinstance(key, tuple):
            mw = reg.window.state.capacity_mw.get(tuple(key))
            return (f"the commitment of {mw:g} MW to capacity product '{key[0]}' for the contract period {key[1]}, "
                    f"made before the window ({ref})")
        return None


def _at_hours(lins: list[Lin], row: np.ndarray, sign: float) -> list[Lin]:
    """Hourly terms (``lin.row`` = hour) moved to the rows ``row[hour]`` (``-1``: dropped), times ``sign``."""
    out = []
    for lin in lins:
        r = row[lin.row]
        keep = r >= 0
        if keep.any():
            out.append(Lin(lin.var, lin.pos[keep], sign * lin.coef[keep], r[keep]))
    return out
