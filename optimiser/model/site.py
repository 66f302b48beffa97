"""The site: grid import and export at the meter, the PPA, the ramp limit, and what the meter bills."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from .availability import grid_outage
from .core import Lin, Registry


def metered_lins(m: Any, reg: Registry) -> list[Lin]:
    """The draw the utility meter bills each hour, ``metered[t]``, as linear terms (``row`` = hour). [MW]

    Under ``site.metering = "net"`` it is the import, ``m.site.grid_import[t]``. Under ``"load"``
    it is the site's whole draw at the meter: the sum of every registered draw (each fleet's
    ``pue x power``, ``m.site_load[t]``) or, with batteries, ``m.site.metered[t]`` (see
    :class:`Site`). Call it from a component's ``link``: every draw is registered by then.
    """
    n = reg.n
    hours = np.arange(n)
    if reg.window.config.site.metering == "net":
        return [Lin(m.site.grid_import, hours, 1.0, hours)]
    if hasattr(m.site, "metered"):
        return [Lin(m.site.metered, hours, 1.0, hours)]
    return reg.load_lins()


def metered_values(lins: list[Lin], sol: Any, n: int) -> np.ndarray:
    """``metered[t]`` at a solution, from :func:`metered_lins`. [MW]"""
    out = np.zeros(n)
    for lin in lins:
        np.add.at(out, lin.row, lin.coef * sol.value(lin.var)[lin.pos])
    return out


def metered_mw(reg: Registry, frame: Any) -> np.ndarray:
    """``metered[t]`` from the columns of ``dispatch.csv`` (``import_mw`` under net metering;
    under load metering ``load_mw``, less the batteries' discharge and at least 0). [MW]"""
    if reg.window.config.site.metering == "net":
        return frame["import_mw"].to_numpy(float)
    load = frame["load_mw"].to_numpy(float)
    for b in reg.window.config.battery:
        load = load - frame[f"battery_{b.name}_discharge_mw"].to_numpy(float)
    return np.maximum(load, 0.0)


class Site:
    """``m.site.grid_import[t]``, ``m.site.grid_export[t]`` (MW at the meter), the must-take PPA
    and, when ``ramp_mw_per_h`` is set, ``m.site.ramp[t]``: ``|load[t] - load[t-1]| <= ramp``.

    Registers revenue ``energy_sales`` (export at the price) and costs ``energy_purchases``
    (import at the price), ``energy_adder`` (metered draw x adder, see :func:`metered_lins`)
    and ``ppa`` (volume x price).

    Metering (``site.metering``): ``"net"`` bills the import; ``"load"`` (the default) the
    site's whole draw, ``m.site_load[t]``. With batteries behind the meter, the draw the
    meter sees is the load less the batteries' discharge, and never below zero (a battery
    exporting through the meter earns no delivery credit): ``m.site.metered[t] >= 0`` with
    ``m.site.metered_draw[t]``: ``metered[t] + export[t] - import[t] >= ppa`` (by the balance,
    ``ppa + import - export`` is the load less the discharge). Every charge on it is a cost, so
    the optimum keeps it at that bound wherever it is billed.
    """

    name = "site"

    def build(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        cfg = sc.config
        n = reg.n
        hours = np.arange(n)
        price = sc.data["price_usd_per_mwh"].to_numpy(float)
        m.site = pyo.Block(doc="Grid connection and PPA")
        # a grid outage (site.outage_column): no import, no export, no PPA delivered that hour
        up = np.where(grid_outage(sc), 0.0, 1.0)
        imp = reg.add_var(m.site, "grid_import", hours, cfg.site.import_mw * up, doc="Power bought from the grid [MW]")
        exp = reg.add_var(m.site, "grid_export", hours, cfg.export_mw * up, doc="Power sold back to the grid [MW]")
        reg.add_balance(Lin(exp, hours, 1.0, hours))
        reg.add_balance(Lin(imp, hours, -1.0, hours))
        reg.add_supply(cfg.ppa_mw * up)
        if cfg.site.metering == "load" and cfg.battery:
            metered = reg.add_var(m.site, "metered", hours, None,
                                  doc="Draw the meter bills: load less battery discharge, at least 0 [MW]")
            reg.add_rows(m.site, "metered_draw", hours,
                         [Lin(metered, hours, 1.0, hours), Lin(exp, hours, 1.0, hours), Lin(imp, hours, -1.0, hours)],
                         cfg.ppa_mw, None, family="metered",
                         doc="metered[t] >= ppa + import[t] - export[t] (the load less battery discharge) [MW]")
        reg.add_term("energy_sales", "revenue", [Lin(exp, hours, price, hours)])
        reg.add_term("energy_purchases", "cost", [Lin(imp, hours, price, hours)])
        # on the metered draw, which reads every fleet's draw: its terms are added in link()
        self.adder = reg.add_term("energy_adder", "cost") if cfg.site.energy_adder_usd_per_mwh else None
        if cfg.ppa is not None:
            reg.add_term("ppa", "cost", hourly_constant=cfg.ppa.volume_mw * cfg.ppa.price_usd_per_mwh)

        def report(sol: Any) -> dict[str, np.ndarray]:
            net = sol.value(imp) - sol.value(exp)
            load = np.zeros(n)
            for lin in reg.load_lins():
                np.add.at(load, lin.row, lin.coef * sol.value(lin.var)[lin.pos])
            return {
                "price_usd_per_mwh": price,
                "load_mw": load,
                "import_mw": np.maximum(net, 0.0),
                "export_mw": np.maximum(-net, 0.0),
            }

        reg.add_reporter(report)

    def link(self, m: Any, reg: Registry) -> None:
        """The energy adder's terms and the ramp rows: they read the draws of every fleet, so they
        come after all builds.

        With ``State.load_mw`` (the hour before the window) a first row keeps
        ``|load[0] - load_mw| <= ramp``; its key is 0.
        """
        if self.adder is not None:
            adder = reg.window.config.site.energy_adder_usd_per_mwh
            self.adder.lins.extend(Lin(l.var, l.pos, adder * l.coef, l.row) for l in metered_lins(m, reg))
        n = reg.n
        ramp = reg.scenario.config.site.ramp_mw_per_h
        before = reg.window.state.load_mw
        if ramp is None or (n < 2 and before is None):
            return
        lins = []
        for lin in reg.load_lins():
            later = lin.row >= 1
            earlier = lin.row <= n - 2
            lins.append(Lin(lin.var, lin.pos[later], lin.coef[later], lin.row[later] - 1))
            lins.append(Lin(lin.var, lin.pos[earlier], -lin.coef[earlier], lin.row[earlier]))
        keys, lo, up = range(1, n), np.full(n - 1, -ramp), np.full(n - 1, ramp)
        if before is not None:
            first = [Lin(l.var, l.pos[l.row == 0], l.coef[l.row == 0], 0) for l in reg.load_lins()]
            lins = first + [Lin(l.var, l.pos, l.coef, l.row + 1) for l in lins]
            keys = range(0, n)
            lo, up = np.concatenate([[before - ramp], lo]), np.concatenate([[before + ramp], up])
        down = grid_outage(reg.window)[np.asarray(keys)]  # the load is dropped into an outage, not ramped
        lo, up = np.where(down, -np.inf, lo), np.where(down, np.inf, up)
        reg.add_rows(m.site, "ramp", keys, lins, lo, up, family="ramp",
                     doc="-ramp <= load[t] - load[t-1] <= ramp [MW]")

    @staticmethod
    def energy(reg: Registry, frame: Any) -> dict[str, float]:
        """Energy at the meter: load, import, export and the PPA volume. [MWh]"""
        out = {c: float(frame[f"{c}_mw"].sum()) for c in ("load", "import", "export")}
        out["ppa"] = float(reg.window.config.ppa_mw * len(frame))
        return out

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        if family == "ramp" and isinstance(key, (int, np.integer)):
            ramp = reg.window.config.site.ramp_mw_per_h
            before = "the hour before the window" if int(key) == 0 else hour_text(int(key) - 1)
            return f"the ramp limit of {ramp:g} MW/h between {before} and {hour_text(int(key))} ({ref})"
        if family == "metered" and isinstance(key, (int, np.integer)):
            return f"the metered draw in {hour_text(int(key))} ({ref})"
        return None

    @staticmethod
    def polish(reg: Registry, sol: Any) -> None:
        """Net import and export bought and sold in the same hour, among equal optima.

        Where nothing but the price reads them (the adder, demand and coincident-peak charges
        bill the load, or nothing does), buying and selling the same MW in one hour at the same
        price is a tie the solver may break either way, and it would gross up the streams
        ``energy_sales`` and ``energy_purchases`` by equal amounts. In each hour where both are
        positive and their objective coefficients cancel, both are lowered by the smaller, if
        every row and bound stays as satisfied as it was (a row a user added included); the
        objective and the duals stay optimal. Changes ``sol.x`` in place.
        """
        lp = sol.lp
        vars_ = {v.component.name: v.component for v in reg.vars}
        imp, exp = vars_.get("site.grid_import"), vars_.get("site.grid_export")
        if imp is None or exp is None or id(imp) not in lp.var_start or id(exp) not in lp.var_start:
            return
        n = reg.n
        ci, ce = lp.var_start[id(imp)] + np.arange(n), lp.var_start[id(exp)] + np.arange(n)
        x = sol.x
        d = np.minimum(x[ci] - lp.col_lo[ci], x[ce] - lp.col_lo[ce])
        tie = np.abs(lp.c[ci] + lp.c[ce]) <= 1e-12 * (np.abs(lp.c[ci]) + np.abs(lp.c[ce]) + 1.0)
        if lp.integrality is not None:
            tie &= (lp.integrality[ci] == 0) & (lp.integrality[ce] == 0)
        d = np.where(tie & (d > 0), d, 0.0)
        if not np.any(d > 0):
            return
        a = lp.matrix
        cols = np.repeat(np.arange(a.shape[1]), np.diff(a.indptr))

        def activity(v: np.ndarray) -> np.ndarray:
            return np.bincount(a.indices, weights=a.data * v[cols], minlength=a.shape[0])

        def violation(act: np.ndarray) -> np.ndarray:
            return np.maximum(np.maximum(lp.row_lo - act, act - lp.row_hi), 0.0)

        before = violation(activity(x))
        for _ in range(2):  # drop hours that touch a row the netting would break, and check again
            new = x.copy()
            new[ci] -= d
            new[ce] -= d
            worse = violation(activity(new)) > before + 1e-9
            if not worse.any():
                x[:] = new
                return
            hit = np.zeros(a.shape[1], dtype=bool)
            hit[cols[worse[a.indices]]] = True
            d = np.where(hit[ci] | hit[ce], 0.0, d)

    def handover(self, reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: the last hour's load. [MW]"""
        return {"load_mw": float(res.dispatch["load_mw"].iloc[-1])}
