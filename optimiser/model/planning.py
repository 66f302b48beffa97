"""What a plan on forecasts charges for the tariffs that are settled only after the fact.

**Coincident-peak alerts.** ERCOT's 4CP hours are known only after the summer; operators curtail on alerts (a utility's or
a forecaster's, often a probability that the coming hour sets the month's peak). A plan on
forecasts (:mod:`optimiser.rolling`) therefore replaces :class:`~optimiser.model.tariffs.CoincidentPeak`
(which charges the listed hours, known in hindsight) by :class:`CoincidentPeakAlerts`: the
expected charge, ``rate x p[t] x metered[t]`` in each hour, ``p[t]`` the alert column (a
probability 0..1, or 0/1) and ``rate`` the charge per MW of one listed interval,
``usd_per_mw_year / n_y``. The settlement then bills the hours actually listed.

**The demand charge, pro rata.** A month's demand charge bills its peak once. A plan of two days
that weighed a whole month's charge against two days of margin would never raise the peak (and
once the peak is set, the rest of the month may run up to it for nothing). A plan therefore
charges each MW it adds above the month-to-date peak (``State.peak_mw``) at the month's rate
times its share of what is left of the month, ``hours of the month in the plan / hours of the
month from the plan's start to the month's end``: a small part early in the month, all of it in
the month's last plan (:class:`ProRataDemandCharge`). The settlement bills the month's peak.

**A cyclic battery ends each plan where the horizon began.** A plan keeps only its first hours,
so a battery that returned at each plan's end to what that plan started with could end the
settled horizon lower than it began, which a cyclic end forbids. A plan's cyclic battery must
therefore end its plan with at least the horizon's initial charge (``initial_soc x
energy_mwh``, at most ``max_soc x energy_mwh``; :class:`PlanBatteries`); the last plan ends the
horizon, so the settled horizon meets the cyclic end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..scenario import parse_timestamp
from .battery import Batteries
from .core import Lin, Registry
from .site import metered_lins
from .tariffs import DemandCharge
from .window import scenario_periods


def interval_rate_by_hour(config: Any, timestamps: Any) -> np.ndarray:
    """The charge per MW metered in one coincident-peak interval, for each hour:
    ``usd_per_mw_year / n_y``, ``n_y`` the intervals listed in the hour's calendar year (site
    timezone); for a year without any listed, the most listed in any year. [$/MW]"""
    cp = config.coincident_peak
    years = np.array([parse_timestamp(s).tz_convert(config.timezone).year for s in cp.intervals])
    listed, counts = np.unique(years, return_counts=True)
    per_year = dict(zip(listed.tolist(), counts.tolist()))
    most = max(per_year.values())
    hour_years = np.asarray(timestamps.tz_convert(config.timezone).year)
    n_y = np.array([per_year.get(int(y), most) for y in hour_years], dtype=float)
    return cp.usd_per_mw_year / n_y


class CoincidentPeakAlerts:
    """The coincident-peak charge a plan expects from an alert column: cost ``coincident_peak`` =
    ``sum_t rate[t] x p[t] x metered[t]`` (see the module docstring).

    Parameters
    ----------
    column
        The alert column: the probability (0..1) that the hour is a coincident peak. [-]
    """

    name = "coincident_peak"

    def __init__(self, column: str):
        self.column = column

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing before every fleet has registered its draw: see :meth:`link`."""

    def link(self, m: Any, reg: Registry) -> None:
        """The ``coincident_peak`` stream on the metered draw, weighted by the alerts."""
        w = reg.window
        p = np.clip(w.data[self.column].to_numpy(float), 0.0, 1.0)
        rate = interval_rate_by_hour(w.config, w.timestamps) * p
        lins = []
        for l in metered_lins(m, reg):
            keep = rate[l.row] != 0
            lins.append(Lin(l.var, l.pos[keep], l.coef[keep] * rate[l.row[keep]], l.row[keep]))
        reg.add_term("coincident_peak", "cost", lins)


class ProRataDemandCharge(DemandCharge):
    """A plan's demand charge: the month's rate on what the plan adds to the month-to-date peak,
    weighted by the plan's share of the rest of the month (see the module docstring)."""

    def rates(self, reg: Registry, labels: list[str], share: np.ndarray) -> np.ndarray:
        """``usd_per_mw_month x share x hours in the plan / hours from the plan's start to the
        month's end``, for each month the plan touches. [$/MW]"""
        w = reg.window
        _, of_hour, _ = scenario_periods(w.scenario, "month")
        used, in_plan = np.unique(of_hour[w.start : w.stop], return_counts=True)
        left = np.bincount(of_hour[w.start :], minlength=int(used.max()) + 1)[used]
        return super().rates(reg, labels, share) * in_plan / left


class PlanBatteries(Batteries):
    """A plan's batteries: a cyclic one ends the plan with at least the horizon's initial charge
    (see the module docstring). A power decision is refused: each plan would choose it again."""

    def build(self, m: Any, reg: Registry) -> None:
        """Refuse a power decision by name, then build as :class:`Batteries`."""
        from ..errors import InputError, Problem

        refused = [Problem(f"battery '{b.name}' has a power decision (power_mw = {{ min, max }}), which a plan on "
                           "forecasts would choose again in every window: give power_mw as a number",
                           key=f"battery.{b.name}.power_mw") for b in reg.window.config.battery if b.capacity_is_decision]
        if refused:
            raise InputError(refused)
        super().build(m, reg)

    @staticmethod
    def end_target(battery: Any, start_mwh: float) -> float:
        """``min(initial_soc, max_soc) x energy_mwh``, whatever the plan started with. [MWh]"""
        return min(battery.initial_soc, battery.max_soc) * battery.energy_mwh
