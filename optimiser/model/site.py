"""The site: grid import and export at the meter, the PPA, the ramp limit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from .core import Lin, Registry


class Site:
    """``m.site.grid_import[t]``, ``m.site.grid_export[t]`` (MW at the meter), the must-take PPA
    and, when ``ramp_mw_per_h`` is set, ``m.site.ramp[t]``: ``|load[t] - load[t-1]| <= ramp``.

    Registers revenue ``energy_sales`` (export at the price) and costs ``energy_purchases``
    (import at the price), ``energy_adder`` (import x adder) and ``ppa`` (volume x price).
    """

    name = "site"

    def build(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        cfg = sc.config
        n = reg.n
        hours = np.arange(n)
        price = sc.data["price_usd_per_mwh"].to_numpy(float)
        m.site = pyo.Block(doc="Grid connection and PPA")
        imp = reg.add_var(m.site, "grid_import", hours, cfg.site.import_mw, doc="Power bought from the grid [MW]")
        exp = reg.add_var(m.site, "grid_export", hours, cfg.export_mw, doc="Power sold back to the grid [MW]")
        reg.add_balance(Lin(exp, hours, 1.0, hours))
        reg.add_balance(Lin(imp, hours, -1.0, hours))
        reg.add_supply(cfg.ppa_mw)
        reg.add_term("energy_sales", "revenue", [Lin(exp, hours, price, hours)])
        reg.add_term("energy_purchases", "cost", [Lin(imp, hours, price, hours)])
        if cfg.site.energy_adder_usd_per_mwh:
            reg.add_term("energy_adder", "cost", [Lin(imp, hours, cfg.site.energy_adder_usd_per_mwh, hours)])
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
        """The ramp rows: they read the draws of every fleet, so they come after all builds."""
        n = reg.n
        ramp = reg.scenario.config.site.ramp_mw_per_h
        if ramp is not None and n > 1:
            lins = []
            for lin in reg.load_lins():
                later = lin.row >= 1
                earlier = lin.row <= n - 2
                lins.append(Lin(lin.var, lin.pos[later], lin.coef[later], lin.row[later] - 1))
                lins.append(Lin(lin.var, lin.pos[earlier], -lin.coef[earlier], lin.row[earlier]))
            reg.add_rows(m.site, "ramp", range(1, n), lins, -ramp, ramp, family="ramp",
                         doc="-ramp <= load[t] - load[t-1] <= ramp [MW]")
