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
        """The ramp rows: they read the draws of every fleet, so they come after all builds.

        With ``State.load_mw`` (the hour before the window) a first row keeps
        ``|load[0] - load_mw| <= ramp``; its key is 0.
        """
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
        return None

    def handover(self, reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: the last hour's load. [MW]"""
        return {"load_mw": float(res.dispatch["load_mw"].iloc[-1])}
