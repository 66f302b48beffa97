"""Network tariffs on import: the monthly demand charge and coincident-peak charges."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from ..scenario import parse_timestamp
from .core import Lin, Registry
from .fleets import billing_periods


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
        labels, month = billing_periods(sc.local_timestamps(), "month")
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

        reg.add_term("demand_charge", "cost", [Lin(peak, idx, rate, -1)], allocate=allocate)


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
