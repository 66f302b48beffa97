"""Multi-year futures: seeded Bitcoin and difficulty paths, repeated ERCOT price years, and a
small set of weighted futures for a stochastic program (issue 14, "the conversion question").

A capacity decision (convert ASIC halls to GPU hosting, build more, sell power) outlives one
year of data. This module turns the real series of the shared data folder into several years of
hourly inputs, as a few weighted *futures*, each of which plugs into the existing model
(:func:`scenario_for`). ``docs/futures.md`` states every modelling choice; in short:

* :func:`calibrate`: BTC log-return drift and volatility, difficulty growth and its epoch noise,
  mean fees per block and the last observed values, from the real daily series from
  2024-01-01 to the latest day (:class:`Calibration`).
* :func:`btc_paths`: geometric Brownian motion on daily steps from the last observed price,
  carried to the 24 hours of each UTC day.
* :func:`difficulty_paths`: a step series that adjusts every ``difficulty_epoch_days`` (about
  14 days, 2016 blocks), growing at the calibrated rate with lognormal noise, optionally
  responding to the BTC path (``btc_elasticity``).
* :func:`power_prices`: a real ERCOT year (2024, or 2025 with December from 2024) repeated
  over the horizon, aligned by weekday and hour.
* :func:`futures`: representative low/mid/high paths (``method="quantiles"``) or equiprobable
  samples (``method="sample"``), combined with the price years, as :class:`Future` objects.
* The subsidy is not a column: the scenario's halving schedule
  (:data:`optimiser.bitcoin.DEFAULT_HALVING_DATES`, with the projected 2028-04-15 halving)
  fills it, so a 2026-2031 horizon halves the subsidy in April 2028.

Every random draw comes from ``numpy.random.default_rng([seed, stream])`` (stream 0: BTC,
stream 1: difficulty), so a seed gives the same paths on every machine and the two streams are
independent; the module keeps no state between calls.

Example::

    from optimiser import build, solve
    from optimiser.futures import calibrate, futures, scenario_for

    cal = calibrate()                                    # the real data, read in place
    fs = futures(cal, "2026-01-01T06:00Z", "2032-01-01T06:00Z", n=3, seed=7)
    for f in fs:                                         # 6 futures: 3 BTC paths x 2 price years
        res = solve(build(scenario_for(f)))
        print(f.name, f.probability, res.objective_usd)
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from .bitcoin import DEFAULT_HALVING_DATES, hashprice_usd_per_ph_day, subsidy_btc
from .errors import InputError, Problem
from .realdata import (
    _AS_FILE,
    _BTC_FILE,
    _DIFFICULTY_FILE,
    _FEES_FILE,
    _PRICE_FILE,
    _REVENUE_FILE,
    AS_COLUMNS,
    FOUR_CP_2024,
    FOUR_CP_2025,
    _read,
    _runs,
    default_data_dir,
    epoch_fees_by_day,
    ercot_config,
    fee_epochs,
    write_scenario_folder,
)
from .scenario import Scenario, from_config, parse_timestamp

__all__ = [
    "CALIBRATION_START",
    "DAYS_PER_YEAR",
    "FUTURE_COLUMNS",
    "PRICE_YEARS",
    "Calibration",
    "Future",
    "btc_paths",
    "calibrate",
    "calibrate_series",
    "difficulty_paths",
    "futures",
    "map_price_hours",
    "power_prices",
    "scenario_for",
    "write_future_folder",
    "write_futures",
]

DAYS_PER_YEAR = 365.25
"""Days in a year, for every annualisation here (Bitcoin trades every day). [day/year]"""

CALIBRATION_START = "2024-01-01T00:00:00Z"
"""First day of the calibration window; it runs to the last day of each series. [UTC]"""

PRICE_YEARS: tuple[int, ...] = (2024, 2025)
"""ERCOT price years that can be repeated over a horizon (:func:`power_prices`)."""

FUTURE_COLUMNS: tuple[str, ...] = ("price_usd_per_mwh", *AS_COLUMNS, "btc_usd", "difficulty", "fees_btc_per_block")
"""Columns of :attr:`Future.data`, in order."""

_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)
_NS_PER_DAY = 86_400 * 10**9
_YEAR_OFFSET = pd.Timedelta(hours=6)
"""A price year starts at local midnight of 1 January in Central Standard Time, 06:00Z (the
ERCOT calendar year of :mod:`optimiser.realdata`)."""

_DEC_FILL_SHIFT = pd.Timedelta(weeks=52)
"""December 2025 (after the price files end) is the same weekdays 52 weeks earlier."""

_FOUR_CP: Mapping[int, tuple[str, ...]] = MappingProxyType({2024: FOUR_CP_2024, 2025: FOUR_CP_2025})
_FILL_END_2025 = pd.Timestamp("2025-12-01T00:00:00Z")
_QUANTILE_LABELS: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {1: ("mid",), 2: ("low", "high"), 3: ("low", "mid", "high")})


# ------------------------------------------------------------------------------------------------
# argument checks
# ------------------------------------------------------------------------------------------------


def _bad(argument: str, message: str) -> InputError:
    """An error naming the argument at fault (``key`` of its :class:`Problem`)."""
    return InputError(Problem(f"{argument}: {message}", key=argument))


def _count(value: Any, argument: str, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise _bad(argument, f"must be an integer >= {lo} (got {value!r})")
    return int(value)


def _seed(seed: Any) -> int:
    return _count(seed, "seed", 0)


def _finite(value: Any, argument: str, *, lo: float | None = None, lo_open: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _bad(argument, f"must be a number (got {value!r})") from None
    if not math.isfinite(v) or (lo is not None and (v < lo or (lo_open and v == lo))):
        bound = "" if lo is None else f" {'>' if lo_open else '>='} {lo:g}"
        raise _bad(argument, f"must be a finite number{bound} (got {value!r})")
    return v


def _time(value: str | pd.Timestamp, argument: str) -> pd.Timestamp:
    try:
        t = parse_timestamp(value) if isinstance(value, str) else pd.Timestamp(value)
    except ValueError as exc:
        raise _bad(argument, str(exc)) from None
    if t.tzinfo is None:
        raise _bad(argument, f"'{value}' has no time zone (write e.g. 'Z' or '-06:00')")
    return t.tz_convert("UTC").as_unit("ns")


def _horizon(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """The horizon's hour starts [UTC]: ``start`` inclusive, ``end`` exclusive, whole hours."""
    lo, hi = _time(start, "start"), _time(end, "end")
    for t, name in ((lo, "start"), (hi, "end")):
        if t != t.floor("h"):
            raise _bad(name, f"must be on a whole hour (got {t})")
    if hi <= lo:
        raise _bad("end", f"must be after start ({hi} <= {lo})")
    return pd.date_range(lo, hi, freq="h", inclusive="left", name="timestamp").as_unit("ns")


# ------------------------------------------------------------------------------------------------
# calibration
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Parameters of the Bitcoin paths, estimated from daily series (:func:`calibrate`).

    Attributes
    ----------
    btc_drift_per_year
        Drift of the log price, ``m`` in ``ln P(t) = ln P0 + m t + s W(t)``: the mean daily log
        return times :data:`DAYS_PER_YEAR`. The median price grows as ``exp(m t)``, the mean as
        ``exp((m + s**2 / 2) t)``. [1/year]
    btc_vol_per_year
        Volatility ``s`` of the log price: the standard deviation of daily log returns times
        ``sqrt(DAYS_PER_YEAR)``. [1/sqrt(year)]
    difficulty_growth_per_year
        Slope ``g`` of a least-squares line through ``ln(difficulty)`` against time, every day
        of the window: difficulty grows as ``exp(g t)``. [1/year]
    difficulty_vol_per_epoch
        Standard deviation of the log change at one adjustment around the trend,
        ``ln(D_k / D_(k-1)) - g * epoch``, per epoch of ``difficulty_epoch_days``. [-]
    difficulty_epoch_days
        Mean time between two difficulty adjustments in the window (2016 blocks). [day]
    fees_btc_per_block
        Mean fees per block over the days of the window with measured fees
        (``first_date`` .. ``fees_last_date``). [BTC/block]
    fees_last_year_btc_per_block
        Mean fees per block over the last 365 days with measured fees. [BTC/block]
    last_btc_usd
        The last observed BTC price (daily close of ``last_date``). [$/BTC]
    last_difficulty
        The last observed difficulty. [-]
    last_date
        Day of the last observed BTC price and difficulty (the later of the two series' common
        last day). [UTC]
    last_adjustment
        First whole day at the last observed difficulty level (the last adjustment, to within a
        day); the paths' adjustments fall at ``last_adjustment + k * difficulty_epoch_days``.
        [UTC]
    first_date
        First day of the window. [UTC]
    fees_last_date
        Last day with measured fees. [UTC]
    """

    btc_drift_per_year: float
    btc_vol_per_year: float
    difficulty_growth_per_year: float
    difficulty_vol_per_epoch: float
    difficulty_epoch_days: float
    fees_btc_per_block: float
    fees_last_year_btc_per_block: float
    last_btc_usd: float
    last_difficulty: float
    last_date: pd.Timestamp
    last_adjustment: pd.Timestamp
    first_date: pd.Timestamp
    fees_last_date: pd.Timestamp

    def __post_init__(self) -> None:
        for name in ("btc_vol_per_year", "difficulty_vol_per_epoch", "fees_btc_per_block",
                     "fees_last_year_btc_per_block"):
            _finite(getattr(self, name), name, lo=0.0)
        for name in ("btc_drift_per_year", "difficulty_growth_per_year"):
            _finite(getattr(self, name), name)
        for name in ("difficulty_epoch_days", "last_btc_usd", "last_difficulty"):
            _finite(getattr(self, name), name, lo=0.0, lo_open=True)
        for name in ("last_date", "last_adjustment", "first_date", "fees_last_date"):
            object.__setattr__(self, name, _time(getattr(self, name), name))


def _daily(series: pd.Series, argument: str, start: pd.Timestamp) -> pd.Series:
    """The series from ``start`` on, positive values only, on a strictly increasing UTC index."""
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
        raise _bad(argument, "must be a pandas Series indexed by tz-aware (UTC) days")
    s = series.astype(float).dropna()
    s = s[s.index >= start]
    s.index = pd.DatetimeIndex(s.index).tz_convert("UTC").as_unit("ns")
    if not s.index.is_monotonic_increasing or s.index.has_duplicates:
        raise _bad(argument, "the days must be strictly increasing")
    return s


def _levels(difficulty: pd.Series) -> pd.Series:
    """The difficulty levels: values held two days or more, each at its first day.

    A day between two levels (Newhedge's adjustment day carries a mix of the old and the new
    level) or a run of changing days (as in January 2026) is not a level; the change across it
    counts as one step between the levels around it.
    """
    v = difficulty.to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    ends = np.r_[starts[1:], len(v)]
    keep = [s for s, e in zip(starts, ends) if e - s >= 2]
    lv = pd.Series(v[keep], index=difficulty.index[keep])
    return lv[np.r_[True, lv.to_numpy()[1:] != lv.to_numpy()[:-1]]]


def calibrate_series(
    btc_usd: pd.Series,
    difficulty: pd.Series,
    fees_btc_per_block: pd.Series,
    *,
    start: str | pd.Timestamp = CALIBRATION_START,
) -> Calibration:
    """Estimate a :class:`Calibration` from daily series (what :func:`calibrate` does with the
    real data; here for any series, e.g. a synthetic one).

    Parameters
    ----------
    btc_usd
        Daily close by UTC day. Gaps are allowed: a return over ``k`` days counts as ``k`` days
        (the drift is ``ln(P_last / P_first)`` over the years between, the variance the mean
        of ``(r - m dt)**2 / dt``). [$/BTC]
    difficulty
        Difficulty in force each UTC day, a step series. [-]
    fees_btc_per_block
        Mean fees per block by UTC day (days without a measurement left out or NaN).
        [BTC/block]
    start
        First day used; each series is used to its last day. [UTC]

    Returns
    -------
    Calibration

    Raises
    ------
    InputError
        A series not indexed by tz-aware days, too short (fewer than 30 prices, 4 difficulty
        levels or 1 fee), or with values <= 0 (price, difficulty).
    """
    lo = _time(start, "start")
    btc = _daily(btc_usd, "btc_usd", lo)
    diff = _daily(difficulty, "difficulty", lo)
    fees = _daily(fees_btc_per_block, "fees_btc_per_block", lo)
    if len(btc) < 30:
        raise _bad("btc_usd", f"needs at least 30 days from {lo:%Y-%m-%d} (got {len(btc)})")
    if (btc <= 0).any() or (diff <= 0).any():
        raise _bad("btc_usd" if (btc <= 0).any() else "difficulty", "must be > 0 every day")
    if len(fees) == 0:
        raise _bad("fees_btc_per_block", f"has no value from {lo:%Y-%m-%d}")
    # BTC: maximum likelihood of a Brownian log price sampled at the given days
    x = np.log(btc.to_numpy())
    dt = np.diff(btc.index.asi8.astype(float)) / _NS_PER_DAY / DAYS_PER_YEAR
    r = np.diff(x)
    drift = (x[-1] - x[0]) / dt.sum()
    vol = math.sqrt(float(np.sum((r - drift * dt) ** 2 / dt)) / (len(r) - 1))
    # difficulty: log-linear trend over every day; noise of each step between levels
    levels = _levels(diff)
    if len(levels) < 4:
        raise _bad("difficulty", f"needs at least 4 levels (3 adjustments) from {lo:%Y-%m-%d} (got {len(levels)})")
    years = (diff.index.asi8.astype(float) - diff.index.asi8[0]) / _NS_PER_DAY / DAYS_PER_YEAR
    growth = float(np.polyfit(years, np.log(diff.to_numpy()), 1)[0])
    gap_days = np.diff(levels.index.asi8.astype(float)) / _NS_PER_DAY
    epoch_days = float(gap_days.sum() / len(gap_days))
    residual = np.diff(np.log(levels.to_numpy())) - growth * gap_days / DAYS_PER_YEAR
    epoch_vol = float(np.std(residual / np.sqrt(gap_days / epoch_days), ddof=1))
    last = min(btc.index[-1], diff.index[-1])
    recent = fees[fees.index > fees.index[-1] - pd.Timedelta(days=365)]
    return Calibration(
        btc_drift_per_year=float(drift), btc_vol_per_year=vol, difficulty_growth_per_year=growth,
        difficulty_vol_per_epoch=epoch_vol, difficulty_epoch_days=epoch_days,
        fees_btc_per_block=float(fees.mean()), fees_last_year_btc_per_block=float(recent.mean()),
        last_btc_usd=float(btc[btc.index <= last].iloc[-1]), last_difficulty=float(diff[diff.index <= last].iloc[-1]),
        last_date=last, last_adjustment=levels.index[-1], first_date=max(btc.index[0], diff.index[0]),
        fees_last_date=fees.index[-1],
    )


def _measured_fees(data_dir: Path, btc: pd.Series, diff: pd.Series, problems: list[Problem]) -> pd.Series | None:
    """Fees per block by UTC day: the published ones (``btc_fees_daily.csv``), then those of the
    complete difficulty epochs derived from the miner revenue (:func:`optimiser.realdata.fee_epochs`).

    An epoch whose revenue falls below its subsidy (from 2025-05-17: blocks missing from the
    revenue series) has no measured fee: it is left out, not replaced by the fallback median.
    """
    fees = _read(data_dir, _FEES_FILE, ["fees_btc_per_day", "blocks_mined"], problems)
    revenue = _read(data_dir, _REVENUE_FILE, ["miner_revenue_usd_per_day"], problems)
    if fees is None or revenue is None:
        return None
    published = (fees["fees_btc_per_day"] / fees["blocks_mined"]).dropna()
    lo = published.index[-1] - pd.Timedelta(days=30)
    hi = min(revenue.index[-1], btc.index[-1], diff.index[-1])
    epochs = None
    while hi > published.index[-1] + pd.Timedelta(days=30):
        window = slice(lo, hi)
        try:  # the daily difficulty's adjustment pattern breaks in January 2026: stop before it
            epochs = fee_epochs(revenue["miner_revenue_usd_per_day"][window], btc[window], diff[window])
            break
        except ValueError:
            hi -= pd.Timedelta(days=60)
    if epochs is None:
        return published
    epochs = epochs.assign(fees_btc_per_block=epochs["fees_btc_per_block"].where(epochs["complete"]))
    days = pd.date_range(published.index[-1] + _DAY, epochs["end"].max(), freq="D")
    derived = epoch_fees_by_day(epochs, days).dropna()
    return pd.concat([published, derived])


def calibrate(data_dir: str | Path | None = None, *, start: str | pd.Timestamp = CALIBRATION_START) -> Calibration:
    """Calibrate the Bitcoin paths on the real series of the shared data folder.

    Reads ``btc_usd_daily_newhedge.csv`` (daily close), ``btc_difficulty_daily_newhedge.csv``
    and the fees per block: ``btc_fees_daily.csv`` (to 2025-04-16) followed by the fees of the
    complete difficulty epochs derived from ``btc_miner_revenue_daily_newhedge.csv`` (to
    2025-05-16; the epochs after it lack blocks in the revenue series and are left out). Each
    series is used from ``start`` to its last day; see :func:`calibrate_series` for the
    estimators.

    Parameters
    ----------
    data_dir
        The shared data folder; default :func:`optimiser.realdata.default_data_dir`.
    start
        First day of the window. [UTC]

    Returns
    -------
    Calibration

    Raises
    ------
    InputError
        A data file or column missing, or too little data in the window.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    problems: list[Problem] = []
    btc = _read(data_dir, _BTC_FILE, ["btc_usd"], problems)
    diff = _read(data_dir, _DIFFICULTY_FILE, ["difficulty"], problems)
    fees = None
    if btc is not None and diff is not None:
        fees = _measured_fees(data_dir, btc["btc_usd"], diff["difficulty"], problems)
    if problems or fees is None or btc is None or diff is None:
        raise InputError(problems or [Problem("cannot read the Bitcoin series", file=str(data_dir))])
    return calibrate_series(btc["btc_usd"], diff["difficulty"], fees, start=start)


# ------------------------------------------------------------------------------------------------
# Bitcoin paths
# ------------------------------------------------------------------------------------------------


def _origin(cal: Calibration, hours: pd.DatetimeIndex) -> pd.Timestamp:
    """Day the paths start from the last observed values: the last observed day, or the
    horizon's first day if that is earlier (the last observation then stands for the start)."""
    return min(hours[0].floor("D"), cal.last_date.floor("D"))


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([stream, seed])


def _log_btc_daily(n_days: int, n_paths: int, seed: int, drift: float, vol: float) -> np.ndarray:
    """``ln(P / P0)`` at day starts from the origin, shape ``(n_days, n_paths)``; row 0 is 0."""
    step = 1.0 / DAYS_PER_YEAR
    z = _rng(seed, 0).standard_normal((n_days - 1, n_paths))
    inc = drift * step + vol * math.sqrt(step) * z
    out = np.zeros((n_days, n_paths))
    np.cumsum(inc, axis=0, out=out[1:])
    return out


@dataclass(frozen=True)
class _Params:
    """Resolved path parameters (overrides applied)."""

    btc_drift_per_year: float
    btc_vol_per_year: float
    difficulty_growth_per_year: float
    difficulty_vol_per_epoch: float
    epoch_days: float
    btc_elasticity: float
    btc_lag_days: int


def _params(cal: Calibration, *, btc_drift_per_year: float | None = None, btc_vol_per_year: float | None = None,
            difficulty_growth_per_year: float | None = None, difficulty_vol_per_epoch: float | None = None,
            epoch_days: float | None = None, btc_elasticity: float = 0.0, btc_lag_days: int = 28) -> _Params:
    if not isinstance(cal, Calibration):
        raise _bad("cal", f"must be a Calibration (from calibrate()), not {type(cal).__name__}")

    def pick(value: float | None, name: str, default: float, **bounds: Any) -> float:
        return default if value is None else _finite(value, name, **bounds)

    return _Params(
        btc_drift_per_year=pick(btc_drift_per_year, "btc_drift_per_year", cal.btc_drift_per_year),
        btc_vol_per_year=pick(btc_vol_per_year, "btc_vol_per_year", cal.btc_vol_per_year, lo=0.0),
        difficulty_growth_per_year=pick(difficulty_growth_per_year, "difficulty_growth_per_year",
                                        cal.difficulty_growth_per_year),
        difficulty_vol_per_epoch=pick(difficulty_vol_per_epoch, "difficulty_vol_per_epoch",
                                      cal.difficulty_vol_per_epoch, lo=0.0),
        epoch_days=pick(epoch_days, "epoch_days", cal.difficulty_epoch_days, lo=0.0, lo_open=True),
        btc_elasticity=_finite(btc_elasticity, "btc_elasticity"),
        btc_lag_days=_count(btc_lag_days, "btc_lag_days", 0),
    )


class _Draw:
    """One joint draw of ``n_paths`` BTC and difficulty paths over a horizon (lazy per column)."""

    def __init__(self, cal: Calibration, hours: pd.DatetimeIndex, n_paths: int, seed: int, p: _Params):
        self.cal, self.hours, self.n_paths, self.seed, self.p = cal, hours, n_paths, seed, p
        self.origin = _origin(cal, hours)
        self.n_days = int((hours[-1].floor("D") - self.origin) / _DAY) + 1
        self._log_btc: np.ndarray | None = None

    @property
    def log_btc(self) -> np.ndarray:
        """``ln(P / P0)`` by day from the origin, ``P0`` the last observed price. [-]"""
        if self._log_btc is None:
            self._log_btc = _log_btc_daily(self.n_days, self.n_paths, self.seed, self.p.btc_drift_per_year,
                                           self.p.btc_vol_per_year)
        return self._log_btc

    def day_index(self, times: pd.DatetimeIndex) -> np.ndarray:
        return (times.floor("D").asi8 - self.origin.value) // _NS_PER_DAY

    def btc(self, times: pd.DatetimeIndex) -> np.ndarray:
        """BTC price at each time (the day's value), shape ``(len(times), n_paths)``. [$/BTC]"""
        return self.cal.last_btc_usd * np.exp(self.log_btc[self.day_index(times)])

    def adjustments(self) -> np.ndarray:
        """Hour starts of the adjustments after the origin, to the horizon end. [ns UTC]"""
        epoch_ns = self.p.epoch_days * _NS_PER_DAY
        anchor = self.cal.last_adjustment.value
        first = math.floor((self.origin.value - anchor) / epoch_ns) + 1
        last = math.floor((self.hours[-1].value - anchor) / epoch_ns) + 1
        tau = anchor + np.arange(first, last + 1) * epoch_ns
        hour_ns = 3_600 * 10**9
        tau = (np.floor(tau / hour_ns) * hour_ns).astype(np.int64)
        return tau[(tau > self.origin.value) & (tau <= self.hours[-1].value)]

    def log_difficulty_levels(self, tau: np.ndarray) -> np.ndarray:
        """``ln(D / D0)`` after each of ``len(tau)`` adjustments, row 0 (0) the last observed level ``D0``."""
        p = self.p
        epoch_years = p.epoch_days / DAYS_PER_YEAR
        noise = _rng(self.seed, 1).standard_normal((len(tau), self.n_paths))
        inc = p.difficulty_growth_per_year * epoch_years + p.difficulty_vol_per_epoch * noise
        if p.btc_elasticity != 0.0 and len(tau):
            # excess BTC log return (over its drift) across each epoch, btc_lag_days earlier
            days = np.arange(self.n_days)
            excess = self.log_btc - p.btc_drift_per_year * days[:, None] / DAYS_PER_YEAR
            lag = p.btc_lag_days * _NS_PER_DAY
            epoch_ns = int(p.epoch_days * _NS_PER_DAY)

            def at(t: np.ndarray) -> np.ndarray:
                return excess[np.clip((t - self.origin.value) // _NS_PER_DAY, 0, self.n_days - 1)]

            inc += p.btc_elasticity * (at(tau - lag) - at(tau - epoch_ns - lag))
        out = np.zeros((len(tau) + 1, self.n_paths))
        np.cumsum(inc, axis=0, out=out[1:])
        return out

    def difficulty(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Difficulty at each time, shape ``(len(times), n_paths)``. [-]"""
        tau = self.adjustments()
        levels = self.log_difficulty_levels(tau)[np.searchsorted(tau, times.asi8, side="right")]
        return self.cal.last_difficulty * np.exp(levels)


def _frame(values: np.ndarray, hours: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(values, index=hours, columns=pd.RangeIndex(values.shape[1], name="path"))


def btc_paths(
    cal: Calibration,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    n_paths: int,
    seed: int,
    *,
    btc_drift_per_year: float | None = None,
    btc_vol_per_year: float | None = None,
) -> pd.DataFrame:
    """Hourly BTC price paths: geometric Brownian motion on daily steps.

    ``ln P`` starts at ``ln(cal.last_btc_usd)`` on the origin day and moves each UTC day by
    ``m / 365.25 + s * sqrt(1 / 365.25) * Z`` (``Z`` standard normal); the day's value holds for
    its 24 hours. The origin is ``cal.last_date``, or the horizon's first day if that is
    earlier (the last observation then stands for the start of the horizon). At ``t`` years
    after the origin, ``ln P ~ N(ln P0 + m t, s**2 t)``.

    Parameters
    ----------
    cal
        From :func:`calibrate` or :func:`calibrate_series`.
    start, end
        Horizon: first hour, and the hour after the last (ISO 8601 with an offset, whole
        hours). [UTC]
    n_paths
        Number of paths, >= 1.
    seed
        Seed, >= 0: the draws come from ``numpy.random.default_rng([0, seed])``; the same seed
        and arguments give the same paths.
    btc_drift_per_year
        Drift ``m`` of the log price; default ``cal.btc_drift_per_year``. [1/year]
    btc_vol_per_year
        Volatility ``s``, >= 0; default ``cal.btc_vol_per_year``. [1/sqrt(year)]

    Returns
    -------
    pandas.DataFrame
        Indexed by hour start (UTC, named ``timestamp``), one column per path (``0 ..
        n_paths - 1``). [$/BTC]

    Raises
    ------
    InputError
        A bad argument (the message names it).
    """
    hours = _horizon(start, end)
    p = _params(cal, btc_drift_per_year=btc_drift_per_year, btc_vol_per_year=btc_vol_per_year)
    draw = _Draw(cal, hours, _count(n_paths, "n_paths"), _seed(seed), p)
    return _frame(draw.btc(hours), hours)


def difficulty_paths(
    cal: Calibration,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    n_paths: int,
    seed: int,
    *,
    difficulty_growth_per_year: float | None = None,
    difficulty_vol_per_epoch: float | None = None,
    epoch_days: float | None = None,
    btc_elasticity: float = 0.0,
    btc_lag_days: int = 28,
    btc_drift_per_year: float | None = None,
    btc_vol_per_year: float | None = None,
) -> pd.DataFrame:
    """Hourly difficulty paths: a step series adjusting every ``epoch_days``.

    Adjustments fall at ``cal.last_adjustment + k * epoch_days`` (floored to the hour), after
    the origin (as in :func:`btc_paths`). The level starts at ``cal.last_difficulty`` and each
    adjustment multiplies it by ``exp(g * epoch_days / 365.25 + v * Z + b * X)``, with ``Z``
    standard normal and ``X`` the BTC path's log return over its drift across the epoch that
    ended ``btc_lag_days`` earlier (0 before the origin). With ``b = 0`` (default) the
    difficulty is independent of BTC; with ``b = 1`` a BTC move passes whole into the difficulty
    ``btc_lag_days`` later, so hashprice keeps only the BTC moves of the last lag plus noise.
    The BTC path is the one :func:`btc_paths` gives for the same ``seed``, ``n_paths`` and BTC
    arguments: path ``i`` here responds to path ``i`` there.

    Parameters
    ----------
    cal
        From :func:`calibrate`.
    start, end
        Horizon, as in :func:`btc_paths`. [UTC]
    n_paths
        Number of paths, >= 1.
    seed
        Seed, >= 0; the noise ``Z`` comes from ``numpy.random.default_rng([1, seed])``.
    difficulty_growth_per_year
        Trend ``g``; default ``cal.difficulty_growth_per_year``. [1/year]
    difficulty_vol_per_epoch
        Noise ``v`` per adjustment, >= 0; default ``cal.difficulty_vol_per_epoch``. [-]
    epoch_days
        Time between adjustments, > 0; default ``cal.difficulty_epoch_days``. [day]
    btc_elasticity
        ``b``: response of the log difficulty to the excess BTC log return. [-]
    btc_lag_days
        Delay of that response, >= 0. [day]
    btc_drift_per_year, btc_vol_per_year
        Of the BTC path the difficulty responds to (used only if ``btc_elasticity`` is not 0);
        defaults from ``cal``.

    Returns
    -------
    pandas.DataFrame
        Indexed by hour start (UTC), one column per path. [-]

    Raises
    ------
    InputError
        A bad argument (the message names it).
    """
    hours = _horizon(start, end)
    p = _params(cal, btc_drift_per_year=btc_drift_per_year, btc_vol_per_year=btc_vol_per_year,
                difficulty_growth_per_year=difficulty_growth_per_year,
                difficulty_vol_per_epoch=difficulty_vol_per_epoch, epoch_days=epoch_days,
                btc_elasticity=btc_elasticity, btc_lag_days=btc_lag_days)
    draw = _Draw(cal, hours, _count(n_paths, "n_paths"), _seed(seed), p)
    return _frame(draw.difficulty(hours), hours)


# ------------------------------------------------------------------------------------------------
# power prices: a real year repeated
# ------------------------------------------------------------------------------------------------


def _year_start(year: int) -> pd.Timestamp:
    return pd.Timestamp(f"{year}-01-01T00:00:00Z").as_unit("ns") + _YEAR_OFFSET


def _price_year(year: Any) -> int:
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or int(year) not in PRICE_YEARS:
        raise _bad("year_of_data", f"must be one of {list(PRICE_YEARS)} (got {year!r})")
    return int(year)


def map_price_hours(year_of_data: int, hours: pd.DatetimeIndex) -> np.ndarray:
    """The hour of the price year ``year_of_data`` each target hour takes its prices from.

    Years run from 1 January 06:00Z (midnight CST) to the next. Target hour ``j`` of its year
    ``T`` takes hour ``(j + 24 r) mod N`` of the source year (``N`` its hours: 8,784 for 2024,
    8,760 for 2025), with ``r`` in -3..3 days the shift that puts 1 January of ``T`` on the
    weekday of source day ``1 + r``. So within a year every hour keeps its UTC hour of day and
    its weekday, and its date moves by at most 3 days; a whole target year of ``N`` hours takes
    every source hour exactly once (the same values, permuted). A year longer than the source
    repeats its first day at the end; a shorter one leaves one day unused. The one seam, where
    the index wraps, is at the start or the end of the target year (winter on both sides).

    Parameters
    ----------
    year_of_data
        2024 or 2025.
    hours
        Target hour starts, tz-aware. [UTC]

    Returns
    -------
    numpy.ndarray
        For each hour, the index (0 .. N - 1) of its source hour in the source year. [h]
    """
    year = _price_year(year_of_data)
    hours = pd.DatetimeIndex(hours).tz_convert("UTC").as_unit("ns")
    src0 = _year_start(year)
    n_src = int((_year_start(year + 1) - src0) / _HOUR)
    shifted = hours - _YEAR_OFFSET
    out = np.empty(len(hours), dtype=np.int64)
    for target in np.unique(shifted.year):
        mask = shifted.year == target
        t0 = _year_start(int(target))
        r = (t0.weekday() - src0.weekday() + 3) % 7 - 3
        j = (hours[mask].asi8 - t0.value) // (3_600 * 10**9)
        out[mask] = (j + 24 * r) % n_src
    return out


def _source_year(year: int, data_dir: Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The price year's hours (``price_usd_per_mwh`` and :data:`AS_COLUMNS`), complete, and the
    notes on its fills."""
    problems: list[Problem] = []
    price_file = _PRICE_FILE.format(point="HB_WEST")
    prices = _read(data_dir, price_file, ["price_usd_per_mwh"], problems)
    anc = _read(data_dir, _AS_FILE, list(AS_COLUMNS), problems)
    if problems:
        raise InputError(problems)
    assert prices is not None and anc is not None
    hours = pd.date_range(_year_start(year), _year_start(year + 1), freq="h", inclusive="left", name="timestamp")
    source = hours.where(hours < _FILL_END_2025, hours - _DEC_FILL_SHIFT) if year == 2025 else hours
    notes: list[str] = []
    if year == 2025:
        notes.append(f"power prices of 2025: {price_file} ends at 2025-11-30T23Z; the hours from 2025-12-01T00Z to "
                     f"2026-01-01T06Z take the prices (energy and ancillary) of the same weekday and hour 52 weeks "
                     f"earlier, 2024-12-02T00Z .. 2025-01-02T06Z")
    frame = pd.DataFrame(index=hours)
    p = prices["price_usd_per_mwh"].reindex(source)
    if p.isna().any():
        runs = _runs(source[p.isna().to_numpy()])
        raise InputError(Problem(f"{int(p.isna().sum())} hour(s) of price year {year} missing: {', '.join(runs[:5])}",
                                 file=str(data_dir / price_file), column="price_usd_per_mwh"))
    frame["price_usd_per_mwh"] = p.to_numpy()
    a = anc.reindex(source)
    gap = a.isna().any(axis=1).to_numpy()
    for run in _runs(source[gap]):
        notes.append(f"power prices of {year}: {_AS_FILE} has no ancillary prices for {run}; filled with 0 $/MW/h "
                     "(no reserve income) in every year the horizon repeats it")
    for c in AS_COLUMNS:
        frame[c] = a[c].fillna(0.0).to_numpy()
    return frame, tuple(notes)


def _power(year_of_data: int, hours: pd.DatetimeIndex,
           data_dir: str | Path | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    year = _price_year(year_of_data)
    source, notes = _source_year(year, Path(data_dir) if data_dir is not None else default_data_dir())
    values = source.to_numpy()[map_price_hours(year, hours)]
    return pd.DataFrame(values, index=hours, columns=source.columns), notes


def power_prices(
    year_of_data: int,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """A real ERCOT price year (HB_WEST real-time energy and the day-ahead ancillary prices)
    repeated over a horizon, aligned by weekday and hour (:func:`map_price_hours`).

    The source year is the ERCOT (CPT) calendar year, 1 January 06:00Z to the next. 2025's
    price files end at 2025-11-30T23Z: its hours from 2025-12-01T00Z to 2026-01-01T06Z take the
    prices of the same weekday and hour 52 weeks earlier (2024-12-02 .. 2025-01-02). Ancillary
    prices missing in the file (a week in March and the repeated DST hour in November of each
    year) are 0 $/MW/h, as in :mod:`optimiser.realdata`. Every column of an hour comes from the
    same source hour, so energy and ancillary prices keep their joint pattern. The alignment is
    in UTC: in the weeks where the source and the target year are not both on daylight time
    (DST starts and ends on different dates), the local hour of day is one hour off.

    Parameters
    ----------
    year_of_data
        2024 or 2025 (:data:`PRICE_YEARS`).
    start, end
        Horizon (ISO 8601 with an offset, whole hours). [UTC]
    data_dir
        The shared data folder; default :func:`optimiser.realdata.default_data_dir`.

    Returns
    -------
    pandas.DataFrame
        Indexed by hour start (UTC, named ``timestamp``): ``price_usd_per_mwh`` [$/MWh] and the
        :data:`optimiser.realdata.AS_COLUMNS` [$/MW/h].

    Raises
    ------
    InputError
        A bad argument, or a data file or column missing.
    """
    return _power(year_of_data, _horizon(start, end), data_dir)[0]


def _mapped_intervals(year: int, hours: pd.DatetimeIndex) -> tuple[str, ...]:
    """The price year's coincident-peak hours, mapped like its prices into every year the
    horizon touches (all of a touched year's intervals, in or out of the horizon, so that each
    bills its share of the year's rate, contract section 3)."""
    src0 = _year_start(year)
    wanted = {int((parse_timestamp(s) - src0) / _HOUR) for s in _FOUR_CP[year]}
    out = []
    for target in np.unique((hours - _YEAR_OFFSET).year):
        year_hours = pd.date_range(_year_start(int(target)), _year_start(int(target) + 1), freq="h", inclusive="left")
        idx = map_price_hours(year, year_hours)
        out += [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in year_hours[np.isin(idx, list(wanted))]]
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# futures
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Future:
    """One weighted future: several years of hourly inputs and their probability.

    Attributes
    ----------
    name
        A folder-safe name, e.g. ``"btc-low_power-2024"``.
    probability
        Weight of the future in a stochastic program; the futures of one :func:`futures` call
        add up to 1. [-]
    data
        Indexed by hour start (UTC, named ``timestamp``), the columns :data:`FUTURE_COLUMNS`:
        ``price_usd_per_mwh`` [$/MWh], the ancillary prices [$/MW/h], ``btc_usd`` [$/BTC],
        ``difficulty`` [-], ``fees_btc_per_block`` [BTC/block]. No ``subsidy_btc``: the
        scenario's halving schedule supplies it.
    price_year
        The ERCOT year whose prices are repeated.
    path
        Index of the BTC/difficulty path among those drawn (the ``n_samples`` of
        ``method="quantiles"``, the ``n`` of ``method="sample"``).
    coincident_peak_intervals
        The price year's coincident-peak hours mapped into each year of the horizon
        (ISO 8601, UTC); :func:`scenario_for` uses them with the default site.
    notes
        What was filled or assumed (ancillary gaps, December 2025), carried into the scenario's
        warnings.
    """

    name: str
    probability: float
    data: pd.DataFrame
    price_year: int
    path: int
    coincident_peak_intervals: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> pd.Timestamp:
        """First hour. [UTC]"""
        return self.data.index[0]

    @property
    def end(self) -> pd.Timestamp:
        """The hour after the last. [UTC]"""
        return self.data.index[-1] + _HOUR


def futures(
    cal: Calibration,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    n: int = 3,
    seed: int = 0,
    price_years: Sequence[int] = PRICE_YEARS,
    method: Literal["quantiles", "sample"] = "quantiles",
    n_samples: int = 1000,
    fees_btc_per_block: float | None = None,
    data_dir: str | Path | None = None,
    **path_options: Any,
) -> list[Future]:
    """A small set of weighted futures over a horizon, for a stochastic program.

    ``method="quantiles"``: draw ``n_samples`` joint BTC/difficulty paths (:func:`btc_paths`,
    :func:`difficulty_paths`), rank them by their **mean hashprice over the horizon** (one
    value a day, :func:`optimiser.bitcoin.hashprice_usd_per_ph_day` with the default halving
    schedule and the fees below), split the ranking into ``n`` equally likely strata and keep
    the path at the middle of each, the ``(2k - 1) / (2n)`` quantile (1/6, 1/2, 5/6 for
    ``n = 3``: "low", "mid", "high"). Each path is combined with each price year: ``n *
    len(price_years)`` futures of probability ``1 / (n * len(price_years))`` (BTC and power
    prices taken as independent).

    ``method="sample"``: ``n`` joint paths as drawn, path ``i`` with price year
    ``price_years[i % len(price_years)]`` (balanced, not random): ``n`` futures of probability
    ``1 / n``.

    Parameters
    ----------
    cal
        From :func:`calibrate`.
    start, end
        Horizon (ISO 8601 with an offset, whole hours). [UTC]
    n
        Paths kept (``"quantiles"``) or drawn (``"sample"``), >= 1.
    seed
        Seed, >= 0, of every draw (reproducible).
    price_years
        ERCOT years to repeat (:func:`power_prices`), distinct, each 2024 or 2025.
    method
        ``"quantiles"`` or ``"sample"``.
    n_samples
        Paths drawn to find the quantiles, >= ``n`` (``"quantiles"`` only).
    fees_btc_per_block
        Fees of every hour; default ``cal.fees_btc_per_block``. [BTC/block]
    data_dir
        The shared data folder (the prices); default
        :func:`optimiser.realdata.default_data_dir`.
    **path_options
        For the paths: ``btc_drift_per_year``, ``btc_vol_per_year``,
        ``difficulty_growth_per_year``, ``difficulty_vol_per_epoch``, ``epoch_days``,
        ``btc_elasticity``, ``btc_lag_days`` (see :func:`difficulty_paths`).

    Returns
    -------
    list of Future
        Probabilities add up to 1; ordered by path, then price year.

    Raises
    ------
    InputError
        A bad argument (the message names it), or missing data.
    """
    hours = _horizon(start, end)
    n = _count(n, "n")
    seed = _seed(seed)
    if method not in ("quantiles", "sample"):
        raise _bad("method", f"must be 'quantiles' or 'sample' (got {method!r})")
    if isinstance(price_years, (int, str)) or len(price_years) == 0:
        raise _bad("price_years",
                   f"must be a non-empty sequence of years from {list(PRICE_YEARS)} (got {price_years!r})")
    years = [int(_price_year(y)) for y in price_years]
    if len(set(years)) != len(years):
        raise _bad("price_years", f"lists a year twice ({years})")
    unknown = sorted(set(path_options) - {f.name for f in dataclasses.fields(_Params)} - {"epoch_days"})
    if unknown:
        raise _bad(unknown[0], "is not an option of the paths (btc_drift_per_year, btc_vol_per_year, "
                               "difficulty_growth_per_year, difficulty_vol_per_epoch, epoch_days, btc_elasticity, "
                               "btc_lag_days)")
    p = _params(cal, **path_options)
    fees = cal.fees_btc_per_block if fees_btc_per_block is None else _finite(fees_btc_per_block, "fees_btc_per_block",
                                                                             lo=0.0)
    if method == "quantiles":
        n_samples = _count(n_samples, "n_samples")
        if n_samples < n:
            raise _bad("n_samples", f"must be >= n ({n_samples} < {n})")
        draw = _Draw(cal, hours, n_samples, seed, p)
        daily = hours[::24]
        hp = hashprice_usd_per_ph_day(draw.difficulty(daily), subsidy_btc(daily, DEFAULT_HALVING_DATES)[:, None], fees,
                                      draw.btc(daily)).mean(axis=0)
        order = np.argsort(hp, kind="stable")
        picks = [int(order[round((2 * k + 1) / (2 * n) * (n_samples - 1))]) for k in range(n)]
        labels = _QUANTILE_LABELS.get(n, tuple(f"q{k + 1}of{n}" for k in range(n)))
        plan = [(path, label, year) for path, label in zip(picks, labels) for year in years]
        probability = 1.0 / (n * len(years))
    else:
        draw = _Draw(cal, hours, n, seed, p)
        plan = [(i, f"sample-{i:0{len(str(n - 1))}d}", years[i % len(years)]) for i in range(n)]
        probability = 1.0 / n
    paths = sorted({path for path, _, _ in plan})
    btc = dict(zip(paths, draw.btc(hours)[:, paths].T))
    difficulty = dict(zip(paths, draw.difficulty(hours)[:, paths].T))
    power = {year: _power(year, hours, data_dir) for year in sorted(set(y for _, _, y in plan))}
    cp = {year: _mapped_intervals(year, hours) for year in power}
    out = []
    for path, label, year in plan:
        prices, notes = power[year]
        data = prices.assign(btc_usd=btc[path], difficulty=difficulty[path], fees_btc_per_block=fees)
        out.append(Future(name=f"btc-{label}_power-{year}" if method == "quantiles" else f"{label}_power-{year}",
                          probability=probability, data=data[list(FUTURE_COLUMNS)], price_year=year, path=path,
                          coincident_peak_intervals=cp[year], notes=notes))
    return out


# ------------------------------------------------------------------------------------------------
# into the model
# ------------------------------------------------------------------------------------------------


def scenario_for(future: Future, config: Mapping[str, Any] | None = None) -> Scenario:
    """The :class:`optimiser.Scenario` of a future: its hours with a site.

    Parameters
    ----------
    future
        From :func:`futures`.
    config
        The site, as the keys of ``scenario.toml`` (e.g. :func:`optimiser.realdata.ercot_config`
        edited); its ``start``/``end`` are replaced by the future's horizon and ``inputs`` is
        ignored. A GPU spot price or flex revenue given as a column name must be a column the
        caller added to ``future.data``. Default: :func:`optimiser.realdata.ercot_config` of
        the future's price year, its coincident-peak hours replaced by
        ``future.coincident_peak_intervals``.

    Returns
    -------
    Scenario
        Built with :func:`optimiser.from_config`; the subsidy comes from the configuration's
        ``[bitcoin].halving_dates`` (default: the known halvings and 2028-04-15). Its warnings
        start with ``future.notes``.

    Raises
    ------
    InputError
        A bad configuration.
    """
    if not isinstance(future, Future):
        raise _bad("future", f"must be a Future (from futures()), not {type(future).__name__}")
    if config is None:
        cfg = ercot_config(future.price_year)
        cfg["name"] = (f"Hybrid site at ERCOT HB_WEST, future {future.name} (p = {future.probability:.4g}; "
                       f"{future.price_year} prices repeated, simulated Bitcoin)")
        if cfg.get("coincident_peak") is not None:
            cfg["coincident_peak"]["intervals"] = list(future.coincident_peak_intervals)
    else:
        cfg = copy.deepcopy(dict(config))
    cfg.pop("inputs", None)
    cfg["start"] = future.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg["end"] = future.end.strftime("%Y-%m-%dT%H:%M:%SZ")
    sc = from_config(cfg, future.data)
    return dataclasses.replace(sc, warnings=future.notes + sc.warnings)


def write_future_folder(future: Future, config: Mapping[str, Any] | None, folder: str | Path) -> Path:
    """Write a future's scenario (:func:`scenario_for`) as a folder ``dispatch run`` reads
    (:func:`optimiser.realdata.write_scenario_folder`): ``scenario.toml`` (its first lines the
    notes and the future's probability) and ``inputs.csv``.

    Returns
    -------
    Path
        The folder.
    """
    sc = scenario_for(future, config)
    head = f"future {future.name}: probability {future.probability!r}, BTC/difficulty path {future.path}, " \
           f"power prices of {future.price_year}"
    return write_scenario_folder(dataclasses.replace(sc, warnings=(head,) + sc.warnings), folder)


def write_futures(futures: Sequence[Future], config: Mapping[str, Any] | None, folder: str | Path) -> Path:
    """Write each future into ``folder/<name>/`` (:func:`write_future_folder`) and
    ``folder/futures.csv``: ``name``, ``probability``, ``price_year``, ``path``, one row a future.

    Returns
    -------
    Path
        The folder.
    """
    folder = Path(folder)
    names = [f.name for f in futures]
    if len(set(names)) != len(names):
        raise _bad("futures", "two futures have the same name")
    for f in futures:
        write_future_folder(f, config, folder / f.name)
    table = pd.DataFrame({"name": names, "probability": [f.probability for f in futures],
                          "price_year": [f.price_year for f in futures], "path": [f.path for f in futures]})
    table.to_csv(folder / "futures.csv", index=False, lineterminator="\n")
    return folder
