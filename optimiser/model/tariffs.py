"""Network tariffs on import: the monthly demand charge and coincident-peak charges."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from ..scenario import parse_timestamp
from .core import Lin, Registry


class DemandCharge:
    """``m.demand_charge.peak[month] >= import[t]`` for every hour of the month (site timezone),
    charged ``usd_per_mw_month`` each (cost ``demand_charge``). In ``dispatch.csv`` a month's
    charge is booked to the hour of its highest import."""

    name = "demand_charge"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing before the site has made its import: see :meth:`link`."""

    def link(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        n = reg.n
        hours = np.arange(n)
        labels, month, _ = reg.window.periods("month")
        imp = m.site.grid_import
        m.demand_charge = pyo.Block(doc="Monthly demand charge")
        peak = reg.add_var(m.demand_charge, "peak", labels, sc.config.site.import_mw,
                           doc="Highest import of the billing month [MW]")
        reg.add_rows(m.demand_charge, "above_import", hours, [Lin(peak, month, 1.0, hours), Lin(imp, hours, -1.0, hours)],
                     0.0, None, family="peak", doc="peak[month(t)] >= import[t] [MW]")
        rate = sc.config.demand_charge.usd_per_mw_month
        idx = np.arange(len(labels))

        def allocate(sol: Any) -> list[np.ndarray]:
            x = sol.value(imp)
            book = np.empty(len(labels), dtype=np.int64)
            for j in idx:
                hrs = np.flatnonzero(month == j)
                book[j] = hrs[np.argmax(x[hrs])]
            return [book]

        # a month-to-date peak carried in (State.peak_mw) is owed already: the window's peak is at
        # least that, and only what it adds is charged here
        carried = np.array([reg.window.state.peak_mw.get(lab, 0.0) for lab in labels])
        constant = None
        if np.any(carried > 0):
            has = np.flatnonzero(carried > 0)
            reg.add_rows(m.demand_charge, "carried_peak", [labels[j] for j in has], [Lin(peak, has, 1.0, np.arange(len(has)))],
                         carried[has], None, family="peak", doc="peak[month] >= the month's peak before the window [MW]")
            constant = np.zeros(n)
            first_hour = np.array([np.flatnonzero(month == j)[0] for j in idx])
            np.add.at(constant, first_hour, -rate * carried)
        reg.add_term("demand_charge", "cost", [Lin(peak, idx, rate, -1)], hourly_constant=constant, allocate=allocate)

    @staticmethod
    def handover(reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: each month's highest import so far. [MW]"""
        out = dict(reg.window.state.peak_mw)
        labels, month, _ = reg.window.periods("month")
        imp = res.dispatch["import_mw"].to_numpy()
        for j, lab in enumerate(labels):
            out[lab] = max(out.get(lab, 0.0), float(imp[month == j].max()))
        return {"peak_mw": out}

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        return f"the demand-charge peak ({ref})" if family == "peak" else None


class CoincidentPeak:
    """A charge on import in the listed system-peak hours: ``usd_per_mw_year / n_intervals``
    per MW imported in each (cost ``coincident_peak``). An interval outside the horizon still
    counts in ``n_intervals`` and adds nothing (the scenario warns about it)."""

    name = "coincident_peak"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing before the site has made its import: see :meth:`link`."""

    def link(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        cp = sc.config.coincident_peak
        stamps = [parse_timestamp(s) for s in cp.intervals]
        where = sc.timestamps.get_indexer(stamps)
        # an hour listed twice is charged twice: each listing is one of the n intervals
        hours, times = np.unique(where[where >= 0], return_counts=True)
        rate = cp.usd_per_mw_year / len(stamps)
        self.hours = hours
        reg.add_term("coincident_peak", "cost", [Lin(m.site.grid_import, hours, rate * times, hours)])
