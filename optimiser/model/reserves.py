"""Ancillary-service capacity sold from interruptible load."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from .core import Lin, ProductKeys, Registry


class Reserves:
    """``m.reserves.offer[a, t]`` MW of product ``a`` offered in hour ``t``, paid its hourly price.

    Each product is backed by the load of the fleet kinds eligible for it (``"asic"``,
    ``"flex"``; ``"gpu"`` means a GPU fleet's spot load: its firm load is sold to the tenant), and
    by what other components register as capability (:meth:`Registry.add_backing`, ``"battery"``):
    ``m.reserves.backing[a, t]``, and, with several products, all of them together by the
    load eligible for any: ``m.reserves.total[t]``.
    """

    name = "reserves"

    def build(self, m: Any, reg: Registry) -> None:
        """The offers (other components' rows may read them, e.g. a capacity product's); the rows
        wait until every fleet has registered its draw: see :meth:`link`."""
        products = reg.scenario.config.reserve
        n = reg.n
        names = [r.product for r in products]
        m.reserves = pyo.Block(doc="Ancillary services")
        m.reserves.A = pyo.Set(initialize=names, ordered=True)
        reg.add_var(m.reserves, "offer", ProductKeys(names, n),
                    np.repeat([r.max_mw for r in products], n), doc="Reserve capacity offered [MW]")

    def link(self, m: Any, reg: Registry) -> None:
        """Their revenue and the backing rows (they read every fleet's draw)."""
        sc = reg.scenario
        products = sc.config.reserve
        n = reg.n
        hours = np.arange(n)
        names = [r.product for r in products]
        offer = m.reserves.offer
        keys, lins = [], []
        for i, r in enumerate(products):
            pos = i * n + hours
            reg.add_term(f"reserve_{r.product}", "revenue", [Lin(offer, pos, sc.series(r.price_column), hours)])
            keys += [(r.product, t) for t in range(n)]
            lins.append(Lin(offer, pos, 1.0, i * n + hours))
            lins += [Lin(l.var, l.pos, -l.coef, i * n + l.row) for l in reg.backing_lins(r.eligible)]
        reg.add_rows(m.reserves, "backing", keys, lins, None, 0.0, family="reserve",
                     doc="offer[a,t] <= load of the fleets eligible for a [MW]")
        if len(products) > 1:
            kinds = sorted({k for r in products for k in r.eligible})
            tl = [Lin(offer, np.arange(len(names) * n), 1.0, np.tile(hours, len(names)))]
            tl += [Lin(l.var, l.pos, -l.coef, l.row) for l in reg.backing_lins(kinds)]
            reg.add_rows(m.reserves, "total", hours, tl, None, 0.0, family="reserve",
                         doc="sum of offers <= load of the fleets eligible for any product [MW]")

        def report(sol: Any) -> dict[str, np.ndarray]:
            x = sol.value(offer).reshape(len(names), n)
            return {f"reserve_{a}_mw": x[i] for i, a in enumerate(names)}

        reg.add_reporter(report)

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        return f"reserve backing ({ref})" if family == "reserve" else None
