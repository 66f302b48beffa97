"""Network tariffs on the metered draw: the monthly demand charge and coincident-peak charges.

Both bill ``metered[t]`` (:func:`optimiser.model.site.metered_lins`): the site's whole draw
under ``site.metering = "load"``, the import under ``"net"``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo

from ..scenario import parse_timestamp
from .core import Lin, Registry
from .site import metered_lins, metered_mw, metered_values


def calendar_month_hours(labels: list[str], timezone: str) -> np.ndarray:
    """Hours in each whole calendar month, in the site timezone (``"2025-03"`` in
    America/Chicago: 743, a clock hour lost to daylight saving). [h]

    Counted as the model counts a month's hours: the whole UTC hours whose start falls in the
    month's local bounds, so a month the horizon covers whole has exactly this many.
    """
    return np.array([_month_hours(lab, timezone) for lab in labels], dtype=float)


@lru_cache(maxsize=4096)
def _month_hours(label: str, timezone: str) -> float:
    """Hours of one calendar month (see :func:`calendar_month_hours`); kept, as a rolling horizon
    asks for the same months hundreds of times. [h]"""
    first = pd.Timestamp(f"{label}-01")
    bounds = [t.tz_localize(timezone, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC").ceil("h")
              for t in (first, first + pd.offsets.MonthBegin(1))]
    return float((bounds[1] - bounds[0]) / pd.Timedelta(hours=1))


def most_drawn_mw(reg: Registry) -> float | None:
    """The most power the site can take in any hour: the supply registered (the PPA) plus every
    supply on the balance at its upper bound (the import limit, batteries' discharge); ``None``
    if one is unbounded. It bounds the peak of the whole draw (load metering). [MW]"""
    most = np.asarray(reg.supply, float).copy()
    for lin in reg.balance_lins:
        neg = lin.coef < 0
        np.add.at(most, lin.row[neg], -lin.coef[neg] * reg.info(lin.var).ub[lin.pos[neg]])
    top = float(most.max()) if len(most) else 0.0
    return top if np.isfinite(top) else None


def month_shares(reg: Registry) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The billing months of a model's hours and the share of each month the charge is owed for.

    Returns
    -------
    labels
        The months the window touches (``"2025-07"``, site timezone).
    month_of_hour
        For each hour of the window, the position of its month in ``labels``.
    share
        Hours of the month in the whole scenario's horizon over the hours of the calendar month
        (1 for a whole month). A window shares its scenario's: every window that touches a
        month bills the same share of the same month-to-date peak, so windows add up to one
        solve. [-]
    """
    labels, month, in_horizon = reg.window.periods("month")
    return labels, month, in_horizon / calendar_month_hours(labels, reg.window.config.timezone)


class DemandCharge:
    """``m.demand_charge.peak[month] >= metered[t]`` for every hour of the month (site timezone;
    ``m.demand_charge.above_metered[t]``), charged ``usd_per_mw_month x share[month]`` each
    (cost ``demand_charge``), ``share`` being the share of the calendar month's hours that lie in
    the horizon (:func:`month_shares`). In ``dispatch.csv`` a month's charge is booked to its
    hour of highest metered draw.

    With a window, ``State.peak_mw[month]`` is the month's peak metered draw before it: owed
    already, so the window pays ``usd_per_mw_month x share`` only on what it adds.
    """

    name = "demand_charge"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing before every fleet has registered its draw: see :meth:`link`."""

    def link(self, m: Any, reg: Registry) -> None:
        """The peak variables and rows and the ``demand_charge`` stream."""
        sc = reg.scenario
        n = reg.n
        hours = np.arange(n)
        labels, month, share = month_shares(reg)
        metered = metered_lins(m, reg)
        ub = sc.config.site.import_mw if sc.config.site.metering == "net" else most_drawn_mw(reg)
        m.demand_charge = pyo.Block(doc="Monthly demand charge")
        peak = reg.add_var(m.demand_charge, "peak", labels, ub, doc="Highest metered draw of the billing month [MW]")
        reg.add_rows(m.demand_charge, "above_metered", hours,
                     [Lin(peak, month, 1.0, hours)] + [Lin(l.var, l.pos, -l.coef, l.row) for l in metered],
                     0.0, None, family="peak", doc="peak[month(t)] >= metered[t] [MW]")
        rate = self.rates(reg, labels, share)
        idx = np.arange(len(labels))

        def allocate(sol: Any) -> list[np.ndarray]:
            x = metered_values(metered, sol, n)
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

    def rates(self, reg: Registry, labels: list[str], share: np.ndarray) -> np.ndarray:
        """The charge per MW of each month's peak: ``usd_per_mw_month x share`` (a plan on
        forecasts weighs it otherwise: :class:`~optimiser.model.planning.ProRataDemandCharge`). [$/MW]"""
        return reg.window.config.demand_charge.usd_per_mw_month * share

    @staticmethod
    def handover(reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: each month's highest metered draw so far. [MW]"""
        out = dict(reg.window.state.peak_mw)
        labels, month, _ = reg.window.periods("month")
        drawn = metered_mw(reg, res.dispatch)
        for j, lab in enumerate(labels):
            out[lab] = max(out.get(lab, 0.0), float(drawn[month == j].max()))
        return {"peak_mw": out}

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        return f"the demand-charge peak ({ref})" if family == "peak" else None


class CoincidentPeak:
    """A charge on the metered draw in listed system-peak hours (ERCOT's 4CP, or any number of
    intervals a year): each calendar year ``y`` (site timezone) bills ``usd_per_mw_year``
    spread over its ``n_y`` listed intervals, ``usd_per_mw_year / n_y`` per MW metered in each
    (cost ``coincident_peak``). A horizon over two years pays two years' charges.

    ``n_y`` counts every interval listed in year ``y``, also those outside the horizon (or the
    window): such an interval adds nothing, so a horizon holding ``k`` of a year's ``n_y``
    intervals bills ``k / n_y`` of that year's rate (the scenario warns about each interval
    outside the horizon), and windows add up to one solve. An hour listed twice is charged twice.
    """

    name = "coincident_peak"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing before every fleet has registered its draw: see :meth:`link`."""

    def link(self, m: Any, reg: Registry) -> None:
        """The ``coincident_peak`` stream on the metered draw of the listed hours in the window."""
        sc = reg.scenario
        cp = sc.config.coincident_peak
        rates = interval_rates(cp.usd_per_mw_year, cp.intervals, sc.config.timezone)
        where = sc.timestamps.get_indexer([parse_timestamp(s) for s in cp.intervals])
        rate = np.zeros(reg.n)
        np.add.at(rate, where[where >= 0], rates[where >= 0])
        self.hours = np.flatnonzero(rate)
        lins = []
        for l in metered_lins(m, reg):
            keep = rate[l.row] != 0
            lins.append(Lin(l.var, l.pos[keep], l.coef[keep] * rate[l.row[keep]], l.row[keep]))
        reg.add_term("coincident_peak", "cost", lins)


def interval_rates(usd_per_mw_year: float, intervals: Any, timezone: str) -> np.ndarray:
    """The charge per MW metered in each listed interval: ``usd_per_mw_year / n_y``, ``n_y``
    the number of intervals listed in the interval's calendar year in ``timezone``. [$/MW]"""
    years = np.array([parse_timestamp(s).tz_convert(timezone).year for s in intervals])
    _, inv, counts = np.unique(years, return_inverse=True, return_counts=True)
    return usd_per_mw_year / counts[inv].astype(float)
