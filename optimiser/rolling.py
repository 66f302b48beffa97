"""Rolling horizon: plan a window on forecasts, keep its first hours, settle them on actuals, roll on.

The procedure (docs/operations.md, "Rolling horizon"), with ``W = window_h`` and ``K = keep_h``:

1. **Plan.** At hour ``s`` (0, K, 2K, ...) the model of hours ``s .. s+W-1`` is built from the
   state the settled hours left (:class:`~optimiser.model.State`: the last hour's load for the
   ramp, each billing period's SLA shortfall, each month's peak metered draw, the batteries'
   stored energy, each cap period's emissions) with the **forecast** price in place of the
   price: a column (``forecast``, e.g. the day-ahead price forecasting the real-time one) or
   ``"naive"`` (:func:`naive_forecast`). Coincident-peak hours are not known in advance: the plan
   charges ``rate x alert[t]`` per MW metered (:class:`~optimiser.model.planning.CoincidentPeakAlerts`,
   ``cp_alert``), or nothing without an alert column. The monthly demand charge is weighed pro
   rata (:class:`~optimiser.model.planning.ProRataDemandCharge`), and a cyclic battery ends each
   plan with the horizon's initial charge (:class:`~optimiser.model.planning.PlanBatteries`).
   Every other input (Bitcoin, reserve and GPU spot prices, availability, outages, carbon
   intensity) is taken as known.
2. **Keep.** The plan's decisions for its first ``K`` hours are kept: each fleet's power, GPU
   firm and spot power, reserve offers, battery charge and discharge
   (:data:`~optimiser.policies.DECISION_VARIABLES`).
3. **Settle.** The kept hours are settled on actual prices with those decisions fixed: import and
   export as the balance requires, the SLA counted on the firm power actually delivered, the
   demand charge on the metered draw, the coincident peak on the hours listed. The state after
   them is handed to the next plan. Because every decision is fixed, that state (load, shortfall,
   metered peak, stored energy, emissions) does not depend on the price: it is the plan's over
   its kept hours (:func:`optimiser.model.state_after` with ``stop=K``), and the money is
   settled once for the whole horizon by :func:`optimiser.policies.evaluate` (all decisions
   fixed, actual prices), which is the sum of settling each window in turn (a test checks it).

Consecutive plans of the same shape are solved by one :class:`~optimiser.WarmSolver`, updated in
place (costs, bounds and changed coefficients only) and started from the previous plan's basis;
a plan of another shape (a window across a month boundary has one more SLA row and peak
variable, the last window is shorter) is handed over whole.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from .errors import InfeasibleError, InputError, Problem
from .model import default_components, state_after
from .model.core import gc_paused
from .model.battery import Batteries
from .model.planning import CoincidentPeakAlerts, PlanBatteries, ProRataDemandCharge
from .model.reuse import WindowModels
from .model.tariffs import CoincidentPeak, DemandCharge
from .model.window import State, Window
from .policies import PolicyOptions, _mark, decisions_from, evaluate
from .scenario import PRICE_RANGE_USD_PER_MWH, Scenario

__all__ = ["HOURS_PER_WEEK", "naive_forecast", "plan_components", "run_rolling"]

HOURS_PER_WEEK = 168
"""The naive forecast's lag: the same hour a week earlier. [h]"""

PLAN_COLD_CHECK_EVERY = 30
"""Every this many warm plans, one is also solved cold and the objectives compared
(:class:`~optimiser.WarmSolver`'s ``check_cold_every``; about a dozen checks a year)."""

GC_EVERY = 25
"""Plans between two collections of the young garbage (the collector is paused meanwhile: each
plan's model is cyclic garbage once its decisions are kept, and collecting after every plan
costs a third of building one)."""


def naive_forecast(price: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The naive price forecast a plan made at hour ``start`` uses for hours ``start .. stop-1``.

    Each hour takes the price of the same hour a week earlier (``t - 168``). Within the
    horizon's first week, where that hour is before the horizon, it takes the price of the same
    hour of day on the last whole day before ``start``; a plan made in the first day (nothing
    observed yet) uses the actual prices of its hours (``summary.json`` warns).

    Parameters
    ----------
    price
        The actual hourly prices of the whole horizon. [$/MWh]
    start, stop
        The plan's hours. [h]

    Returns
    -------
    numpy.ndarray
        One forecast an hour. [$/MWh]

    Examples
    --------
    >>> p = np.arange(400.0)
    >>> naive_forecast(p, 200, 202).tolist()   # a week earlier
    [32.0, 33.0]
    >>> naive_forecast(p, 48, 50).tolist()     # the day before the plan, same hours of day
    [24.0, 25.0]
    """
    price = np.asarray(price, float)
    t = np.arange(start, stop)
    out = np.empty(len(t))
    week = t - HOURS_PER_WEEK
    ok = week >= 0
    out[ok] = price[week[ok]]
    if start >= 24:
        day = start - 24 + (t[~ok] - start) % 24
        out[~ok] = price[day]
    else:
        out[~ok] = price[t[~ok]]
    return out


@dataclass(frozen=True, eq=False)
class _PlanWindow(Window):
    """A window whose price column holds a forecast."""

    forecast: np.ndarray | None = None

    @cached_property
    def data(self) -> pd.DataFrame:  # type: ignore[override]
        d = self.scenario.data.iloc[self.start : self.stop].copy()
        d["price_usd_per_mwh"] = self.forecast
        return d


def plan_components(scenario: Scenario | Window, cp_alert: str | None) -> list[Any]:
    """The components of a plan: the scenario's, with the coincident-peak charge on the hours
    listed replaced by the alerts' expected charge (or left out without ``cp_alert``), the
    demand charge weighed pro rata and a cyclic battery ending at the horizon's initial charge
    (:mod:`optimiser.model.planning`)."""
    comps = []
    for c in default_components(scenario):
        if isinstance(c, CoincidentPeak):
            if cp_alert is not None:
                comps.append(CoincidentPeakAlerts(cp_alert))
        elif isinstance(c, DemandCharge):
            comps.append(ProRataDemandCharge())
        elif isinstance(c, Batteries):
            comps.append(PlanBatteries())
        else:
            comps.append(c)
    return comps


def _check_columns(sc: Scenario, options: PolicyOptions) -> None:
    problems = []
    for col, lo, hi, what in ((None if options.forecast == "naive" else options.forecast, *PRICE_RANGE_USD_PER_MWH,
                               "a price forecast [$/MWh]"),
                              (options.cp_alert, 0.0, 1.0, "a coincident-peak alert, a probability 0 .. 1")):
        if col is None:
            continue
        if col not in sc.data:
            problems.append(Problem(f"column missing: {what} (load the scenario with extra_columns=['{col}'])",
                                    column=col))
            continue
        v = sc.data[col].to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(v) | (v < lo) | (v > hi))
        if len(bad):
            problems.append(Problem(f"{v[bad[0]]:g} at {sc.timestamps[bad[0]]:%Y-%m-%dT%H:%MZ} is not {what} "
                                    f"({len(bad)} such values)", column=col))
    if problems:
        raise InputError(problems)


def _kept_dispatch(reg: Any, sol: Any) -> SimpleNamespace:
    """The plan's columns (what the components hand on reads), as a results-like object."""
    cols: dict[str, np.ndarray] = {}
    for fn in reg.reporters:
        cols.update(fn(sol))
    names = list(cols)
    values = np.column_stack([np.broadcast_to(np.asarray(cols[c], float), (reg.n,)) for c in names])
    return SimpleNamespace(dispatch=pd.DataFrame(values, columns=names, index=reg.window.timestamps, copy=False))


def _plan(sc: Scenario, s: int, options: PolicyOptions, column: np.ndarray | None, actual: np.ndarray,
          state: State, ws: Any, models: WindowModels, decisions: dict[str, np.ndarray],
          forecast_used: np.ndarray, reasons: dict[str, int]) -> State:
    """Plan the window starting at hour ``s``, keep its first hours' decisions (into
    ``decisions`` and ``forecast_used``, in place) and return the state after them."""
    n = sc.hours
    e = min(s + options.window_h, n)
    keep = min(options.keep_h, n - s)
    fc = naive_forecast(actual, s, e) if column is None else column[s:e]
    forecast_used[s : s + keep] = fc[:keep]
    w = _PlanWindow(sc, s, e, state, fc)
    m, reg = models.model(w)
    try:
        sol = ws.solve_solution(m)
    except InfeasibleError as err:
        if reg is not m.dispatch:  # updated in place: build it anew, for the diagnosis to read
            m, reg = models.model(w, fresh=True)
            try:
                sol = ws.solve_solution(m)
            except InfeasibleError as err2:
                err = err2
            else:
                err = None
        if err is not None:
            raise InfeasibleError(f"the rolling plan made at {sc.timestamps[s]:%Y-%m-%dT%H:%MZ} (hours {s}..{e - 1}) "
                                  f"cannot be met: {err}") from None
    for name, values in decisions_from(m, sol, keep).items():
        decisions.setdefault(name, np.zeros((values.shape[0], n)))[:, s : s + keep] = values
    why = (ws.last or {}).get("reason")
    if why:  # handed over whole: why, without the shapes (" (288 x 385 -> ...)")
        why = why.split(" (")[0]
        reasons[why] = reasons.get(why, 0) + 1
    return state_after(SimpleNamespace(dispatch=reg), _kept_dispatch(reg, sol), stop=keep)


def run_rolling(scenario: Scenario, settings: PolicyOptions | None = None, **solve_options: Any) -> Any:
    """Operate a scenario on a rolling horizon (see the module docstring) and settle it.

    Parameters
    ----------
    scenario
        The scenario, with actual prices, holding the ``forecast`` and ``cp_alert`` columns if
        named (``load_scenario(..., extra_columns=settings.columns("rolling"))``).
    settings
        ``window_h``, ``keep_h``, ``forecast``, ``cp_alert`` (:class:`~optimiser.policies.PolicyOptions`).
    **solve_options
        ``options``, ``time_limit``, ``rel_gap``, ``allow_nonoptimal``, ``log`` for every solve.

    Returns
    -------
    Results
        The settled horizon in the usual format (``dispatch.csv`` over every hour, streams adding
        up to ``objective_usd``); ``summary["policy"]`` holds the settings, the number of plans and
        how many were solved warm, the forecast's error and the time spent planning and settling.

    Raises
    ------
    InputError
        A forecast or alert column missing or out of range.
    InfeasibleError
        A plan that cannot be met (naming the window and the row), or a settlement that cannot.
    """
    from .warm import WarmSolver

    from .policies import _check_decided

    options = settings or PolicyOptions()
    _check_decided(scenario, "rolling")
    _check_columns(scenario, options)
    sc = scenario
    n = sc.hours
    actual = sc.data["price_usd_per_mwh"].to_numpy(float)
    column = None if options.forecast == "naive" else sc.data[options.forecast].to_numpy(float)
    ws = WarmSolver(options=solve_options.get("options"), time_limit=solve_options.get("time_limit"),
                    rel_gap=solve_options.get("rel_gap"), allow_nonoptimal=solve_options.get("allow_nonoptimal", False),
                    log=solve_options.get("log", False), check_cold_every=PLAN_COLD_CHECK_EVERY)
    decisions: dict[str, np.ndarray] = {}
    forecast_used = np.empty(n)
    state = State()
    reasons: dict[str, int] = {}
    t0 = time.perf_counter()
    windows = 0
    models = WindowModels(lambda w: plan_components(w, options.cp_alert))
    with gc_paused():  # each plan leaves a model's worth of cyclic garbage: collected every few plans
        for s in range(0, n, options.keep_h):
            windows += 1
            if windows % GC_EVERY == 0:
                gc.collect(1)
            state = _plan(sc, s, options, column, actual, state, ws, models, decisions, forecast_used, reasons)
    plan_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = evaluate(sc, decisions, policy="rolling", **solve_options)
    settle_s = time.perf_counter() - t1
    err = forecast_used - actual
    info: dict[str, Any] = {
        "windows": windows,
        "plans": {"built": models.built, "updated_in_place": models.updated,
                  "warm": ws.stats["warm"], "cold": ws.stats["cold"], "why_cold": reasons,
                  "cold_checks": ws.stats["cold_checks"], "mismatches": ws.stats["mismatches"]},
        "forecast_error_usd_per_mwh": {"mean": float(err.mean()), "mean_absolute": float(np.abs(err).mean()),
                                       "max_absolute": float(np.abs(err).max())},
        "timing_s": {"plans": plan_s, "settlement": settle_s},
    }
    _mark(res, "rolling", options, info)
    warnings = []
    if column is None:
        warnings.append("rolling: the naive forecast has no past in the horizon's first day: the first plan used "
                        "that day's actual prices")
    if sc.config.coincident_peak is not None and options.cp_alert is None:
        warnings.append("rolling: without a coincident-peak alert column (cp_alert) the plans did not see the "
                        "coincident-peak charge; the settlement bills the hours listed")
    res.summary["warnings"] = list(res.summary.get("warnings", [])) + warnings
    return res
