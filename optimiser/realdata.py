"""Real-data scenarios: a hybrid site at ERCOT's HB_WEST hub in 2024 and in January-November 2025.

Built from the published series in the shared data folder (``../shared/data`` next to the
repository, or the folder named by the environment variable ``DISPATCH_DATA``; the files are
read in place, never copied into the repository):

==========================================  ==================================================
input column                                source file and treatment
==========================================  ==================================================
``price_usd_per_mwh``                       ``ercot_rtm_spp_hourly_HB_WEST.csv``: real-time
                                            settlement point price, hourly mean of the four
                                            15-min prices. Complete to 2025-11-30T23Z; a gap
                                            is an error.
``regup``/``regdn``/``rrs``/``nonspin``/    ``ercot_dam_as_mcpc_hourly.csv``: day-ahead
``ecrs_usd_per_mw_per_h``                   ancillary clearing prices. **Gaps filled with
                                            0 $/MW/h** (169 h from 2024-03-10T07Z and from
                                            2025-03-09T07Z, and the repeated DST hours
                                            2024-11-03T07Z and 2025-11-02T07Z): no reserve
                                            income is assumed in those hours. Each filled run
                                            is listed in ``Scenario.warnings``.
``btc_usd``                                 ``btc_usd_daily_newhedge.csv`` (daily close), carried
                                            forward from 00:00Z to every hour of its UTC day.
``difficulty``                              ``btc_difficulty_daily_newhedge.csv``, carried forward.
``fees_btc_per_block``                      ``btc_fees_daily.csv``: ``fees_btc_per_day /
                                            blocks_mined`` of each UTC day, carried forward, to
                                            the file's last day (2025-04-16). **After it**:
                                            derived from ``btc_miner_revenue_daily_newhedge.csv``
                                            as the average of each 2016-block difficulty epoch
                                            (:func:`fee_epochs`; ``Scenario.warnings`` says so).
``subsidy_btc``                             not read: the halving schedule (2024-04-20T00:09:27Z).
==========================================  ==================================================

Two horizons (:data:`HORIZONS`): the ERCOT (Central Prevailing Time) calendar year 2024,
``2024-01-01T06:00Z`` .. ``2025-01-01T06:00Z`` (8,784 hours), and 2025 from
``2025-01-01T06:00Z`` to the end of the price files, ``2025-12-01T00:00Z`` (8,010 hours: CPT
January-November less its last six hours, 18:00-24:00 CST on 30 November). The site is the one
of ``scenarios/example`` (two ASIC fleets, a GPU tenant, a must-take PPA, RRS and ECRS sold from
ASIC load, a demand charge) with a flat GPU spot price and four coincident-peak hours a year
(:data:`FOUR_CP_2024`, :data:`FOUR_CP_2025`). Start from :func:`ercot_config` to change the site.

How the fees after April 2025 are derived, and how well the result agrees with the published
hashprice, is in ``docs/realdata.md``.

Example::

    from optimiser import build, solve
    from optimiser.realdata import ercot_scenario, write_scenario_folder

    sc = ercot_scenario(year=2025)               # data from DISPATCH_DATA or ../shared/data
    res = solve(build(sc))
    write_scenario_folder(sc, "out/ercot2025")   # a folder `dispatch run` can read
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .bitcoin import DEFAULT_HALVING_DATES, INITIAL_SUBSIDY_BTC, subsidy_btc
from .errors import InputError, Problem
from .scenario import SCENARIO_FILE, Scenario, config_to_toml_dict, from_config, parse_timestamp

__all__ = [
    "AS_COLUMNS",
    "BLOCKS_PER_EPOCH",
    "CPT_2024_END",
    "CPT_2024_START",
    "CPT_2025_START",
    "DATA_ENV",
    "END_2025",
    "FALLBACK_EPOCHS",
    "FOUR_CP_2024",
    "FORECAST_COLUMN",
    "FOUR_CP_2025",
    "HORIZONS",
    "default_data_dir",
    "difficulty_adjustments",
    "epoch_fees_by_day",
    "ercot_2024_config",
    "ercot_2024_scenario",
    "ercot_2025_config",
    "ercot_2025_scenario",
    "ercot_config",
    "ercot_scenario",
    "with_day_ahead_forecast",
    "fee_epochs",
    "read_ercot_2024_inputs",
    "read_ercot_inputs",
    "write_scenario_folder",
]

DATA_ENV = "DISPATCH_DATA"
"""Environment variable naming the shared data folder."""

CPT_2024_START = "2024-01-01T06:00:00Z"
"""First hour of ERCOT's (Central Prevailing Time) calendar year 2024. [UTC]"""

CPT_2024_END = "2025-01-01T06:00:00Z"
"""End (exclusive) of ERCOT's calendar year 2024. [UTC]"""

CPT_2025_START = CPT_2024_END
"""First hour of ERCOT's calendar year 2025. [UTC]"""

END_2025 = "2025-12-01T00:00:00Z"
"""End (exclusive) of the 2025 horizon: one hour after the last hour of the ERCOT price files
(2025-11-30T23Z), i.e. 18:00 CST on 30 November; the last six hours of the CPT month are not in
the files. [UTC]"""

HORIZONS: Mapping[int, tuple[str, str]] = {2024: (CPT_2024_START, CPT_2024_END), 2025: (CPT_2025_START, END_2025)}
"""Default horizon of each real-data year, ``(start, end)``, end exclusive. [UTC]"""

FOUR_CP_2024: tuple[str, ...] = (
    "2024-06-30T17:00:00-05:00",
    "2024-07-01T17:00:00-05:00",
    "2024-08-20T17:00:00-05:00",
    "2024-09-19T17:00:00-05:00",
)
"""Hour starts charged as ERCOT's 2024 coincident peaks (4CP).

The June, July and August *days* are the published 4CP days (see the data README); the hour
(17:00 CDT) is the usual 4CP hour, not a published one. The September interval is a **guess**
(a mid-September weekday at 17:00 CDT): no source for it was available.
"""

FOUR_CP_2025: tuple[str, ...] = (
    "2025-06-17T17:00:00-05:00",
    "2025-07-16T17:00:00-05:00",
    "2025-08-19T17:00:00-05:00",
    "2025-09-16T17:00:00-05:00",
)
"""Hour starts charged as coincident peaks in 2025: **all four are guesses** (a mid-month weekday
at 17:00 CDT, June to September). The data folder has no 2025 4CP intervals and no published
list was available; replace them with ``ercot_2025_config(coincident_peak_intervals=...)``.
"""

AS_COLUMNS: tuple[str, ...] = (
    "regup_usd_per_mw_per_h",
    "regdn_usd_per_mw_per_h",
    "rrs_usd_per_mw_per_h",
    "nonspin_usd_per_mw_per_h",
    "ecrs_usd_per_mw_per_h",
)
"""Ancillary-service price columns read from ``ercot_dam_as_mcpc_hourly.csv``. [$/MW/h]"""

BLOCKS_PER_EPOCH = 2016
"""Blocks between two difficulty adjustments. [blocks]"""

FALLBACK_EPOCHS = 6
"""Complete epochs whose median fee stands in for an epoch whose revenue is below its subsidy."""

_HALVING_INTERVAL_BLOCKS = 210_000
_AS_FILE = "ercot_dam_as_mcpc_hourly.csv"
_PRICE_FILE = "ercot_rtm_spp_hourly_{point}.csv"
_BTC_FILE = "btc_usd_daily_newhedge.csv"
_DIFFICULTY_FILE = "btc_difficulty_daily_newhedge.csv"
_FEES_FILE = "btc_fees_daily.csv"
_REVENUE_FILE = "btc_miner_revenue_daily_newhedge.csv"
_INPUT_CSV = "inputs.csv"
_DAY = pd.Timedelta(days=1)
#: Days of Bitcoin data read around the derived days: before (for the fallback epochs) and after
#: (to close the last epoch; epochs last about 14 days).
_FEE_WINDOW = (pd.Timedelta(days=120), pd.Timedelta(days=21))

_SITE: dict[str, Any] = {
    "timezone": "America/Chicago",
    "site": {"import_mw": 300, "export_mw": 250, "energy_adder_usd_per_mwh": 4.0, "ramp_mw_per_h": 200},
    "ppa": {"volume_mw": 250, "price_usd_per_mwh": 32.0},
    "asic": [
        {"name": "s21", "model": "antminer-s21", "capacity_mw": 150, "pool_fee": 0.02, "om_usd_per_mwh": 2.0,
         "pue": 1.05},
        {"name": "s19jpro", "model": "antminer-s19j-pro", "capacity_mw": 60, "pool_fee": 0.02,
         "om_usd_per_mwh": 3.0, "pue": 1.08},
    ],
    "gpu": [
        {"name": "tenant-a", "model": "dgx-h100", "capacity_mw": 60, "contract_mw": 50,
         "contract_usd_per_mw_per_h": 210.0, "availability": 0.999, "billing_period": "month",
         "sla_credit_usd_per_mwh": 2000.0, "spot_usd_per_mwh": 120.0, "om_usd_per_mwh": 5.0, "pue": 1.3},
    ],
    "reserve": [
        {"product": "rrs", "price_column": "rrs_usd_per_mw_per_h", "max_mw": 100, "eligible": ["asic"]},
        {"product": "ecrs", "price_column": "ecrs_usd_per_mw_per_h", "max_mw": 60, "eligible": ["asic"]},
    ],
    "demand_charge": {"usd_per_mw_month": 9000.0},
    "coincident_peak": {"usd_per_mw_year": 60000.0},
}
_YEAR_LABEL = {2024: "2024", 2025: "Jan-Nov 2025"}
_FOUR_CP = {2024: FOUR_CP_2024, 2025: FOUR_CP_2025}


def default_data_dir() -> Path:
    """The shared data folder: ``$DISPATCH_DATA`` if set, else ``<repository>/../shared/data``.

    The folder is not checked for existence.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _year(year: int) -> int:
    if year not in HORIZONS:
        raise InputError(Problem(f"no real-data horizon for {year}; the years are {sorted(HORIZONS)}", key="year"))
    return year


def ercot_config(year: int = 2024, *, coincident_peak_intervals: Sequence[str] | None = None) -> dict[str, Any]:
    """The configuration of the real-data site in ``year``, as the keys of ``scenario.toml``.

    A fresh copy each call: edit it and pass it to :func:`ercot_scenario` (``config=``). Both
    years have the same site; only the name, the horizon and the coincident-peak hours differ.

    Parameters
    ----------
    year
        2024 or 2025 (:data:`HORIZONS`).
    coincident_peak_intervals
        Hour starts charged as coincident peaks (ISO 8601 with offsets); default
        :data:`FOUR_CP_2024` or :data:`FOUR_CP_2025`.

    Returns
    -------
    dict
        ``start``/``end`` span the year's horizon [UTC]; the GPU spot price is a flat
        120 $/MWh; the reserves read ``rrs_usd_per_mw_per_h`` and ``ecrs_usd_per_mw_per_h``.

    Raises
    ------
    InputError
        A year without real data.
    """
    start, end = HORIZONS[_year(year)]
    cfg = {"name": f"Hybrid site at ERCOT HB_WEST, {_YEAR_LABEL[year]} (real prices and Bitcoin data)",
           **copy.deepcopy(_SITE), "start": start, "end": end}
    intervals = _FOUR_CP[year] if coincident_peak_intervals is None else coincident_peak_intervals
    cfg["coincident_peak"]["intervals"] = list(intervals)
    return cfg


def ercot_2024_config(*, coincident_peak_intervals: Sequence[str] = FOUR_CP_2024) -> dict[str, Any]:
    """:func:`ercot_config` for 2024 (the CPT calendar year)."""
    return ercot_config(2024, coincident_peak_intervals=coincident_peak_intervals)


def ercot_2025_config(*, coincident_peak_intervals: Sequence[str] = FOUR_CP_2025) -> dict[str, Any]:
    """:func:`ercot_config` for 2025 (CPT January to the end of the price files, :data:`END_2025`)."""
    return ercot_config(2025, coincident_peak_intervals=coincident_peak_intervals)


def _utc(text: str | pd.Timestamp) -> pd.Timestamp:
    return parse_timestamp(text) if isinstance(text, str) else pd.Timestamp(text).tz_convert("UTC")


def _read(data_dir: Path, name: str, columns: Sequence[str], problems: list[Problem]) -> pd.DataFrame | None:
    """Read a data file, indexed by its UTC ``timestamp``; None (with a problem) if unusable."""
    path = data_dir / name
    if not path.is_file():
        problems.append(Problem(f"data file not found (looked for {path}; set {DATA_ENV})", file=str(path)))
        return None
    frame = pd.read_csv(path)
    missing = [c for c in ("timestamp", *columns) if c not in frame.columns]
    for c in missing:
        problems.append(Problem("column missing", file=str(path), column=c))
    if missing:
        return None
    ts = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    out = frame[list(columns)].astype(float)
    out.index = pd.DatetimeIndex(ts).as_unit("ns")
    if not out.index.is_monotonic_increasing or out.index.has_duplicates:
        problems.append(Problem("timestamps are not strictly increasing", file=str(path)))
        return None
    return out


def _runs(hours: pd.DatetimeIndex, step: pd.Timedelta = pd.Timedelta(hours=1), fmt: str = "%Y-%m-%dT%H:%MZ",
          unit: str = "h") -> list[str]:
    """Describe regular timestamps as runs ``first .. last (n h)``."""
    if len(hours) == 0:
        return []
    ns = hours.asi8
    breaks = np.flatnonzero(np.diff(ns) != step.value)
    firsts = np.r_[0, breaks + 1]
    lasts = np.r_[breaks, len(ns) - 1]
    text = [t.strftime(fmt) for t in hours]
    return [text[a] if a == b else f"{text[a]} .. {text[b]} ({b - a + 1} {unit})" for a, b in zip(firsts, lasts)]


def _carry_forward(
    daily: pd.Series, hours: pd.DatetimeIndex, file: str, problems: list[Problem]
) -> np.ndarray | None:
    """Each hour takes the last daily value at or before its start; the data must cover the horizon."""
    daily = daily.dropna()
    if len(daily) == 0 or daily.index[0] > hours[0]:
        problems.append(Problem(f"no value at or before the horizon start {hours[0]}", file=file,
                                column=str(daily.name)))
        return None
    if daily.index[-1] + _DAY < hours[-1] + pd.Timedelta(hours=1):
        problems.append(Problem(f"the series ends on {daily.index[-1]:%Y-%m-%d}, before the horizon end "
                                f"{hours[-1] + pd.Timedelta(hours=1)}", file=file, column=str(daily.name)))
        return None
    pos = np.searchsorted(daily.index.asi8, hours.asi8, side="right") - 1
    return daily.to_numpy(dtype=float)[pos]


# ------------------------------------------------------------------------------------------------
# fees per block from the miner revenue, epoch by epoch
# ------------------------------------------------------------------------------------------------


def difficulty_adjustments(difficulty: pd.Series) -> pd.DataFrame:
    """The difficulty adjustments in a daily difficulty series, and where in its day each fell.

    In Newhedge's daily series (``btc_difficulty_daily_newhedge.csv``) a difficulty level holds
    for whole days, and the day of an adjustment carries a value between the old and the new
    level: the mean over that day's blocks. So ``after = (D_day - D_old) / (D_new - D_old)`` is
    the share of the day's blocks mined at the new difficulty, i.e. in the new epoch. (Checked
    against mempool.space's epoch heights and the daily block counts, 2023-06 to 2025-03: the
    share is 4-8 blocks, about an hour, below the count every time; split by it, Newhedge's
    revenue adds up to 2016 blocks per epoch.) A level
    that follows the previous one with no day between starts an epoch at the start of its first
    day (``after = 1``).

    A level is a value held on two or more consecutive days; a value held on one day between
    two levels is an adjustment day.

    Parameters
    ----------
    difficulty
        Difficulty by UTC day, indexed by the day's start, increasing. [-]

    Returns
    -------
    pandas.DataFrame
        One row per adjustment, indexed by its UTC day: ``old`` and ``new`` levels [-], and
        ``after``, the share of the day's blocks mined after the adjustment [0-1].

    Raises
    ------
    ValueError
        Two or more days in a row between two levels, or a day's value outside the two levels
        around it: not the one-adjustment-a-day-at-most pattern this reading relies on.
    """
    s = difficulty.dropna()
    v = s.to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    ends = np.r_[starts[1:] - 1, len(v) - 1]
    levels = [(a, b) for a, b in zip(starts, ends) if b > a]
    rows = []
    for (_, prev_end), (start, _) in zip(levels, levels[1:]):
        old, new = v[prev_end], v[start]
        between = start - prev_end - 1
        if between == 0:
            rows.append((s.index[start], old, new, 1.0))
        elif between == 1:
            after = (v[prev_end + 1] - old) / (new - old)
            if not -1e-9 <= after <= 1 + 1e-9:
                raise ValueError(f"the difficulty on {s.index[prev_end + 1]:%Y-%m-%d} ({v[prev_end + 1]:.6g}) is "
                                 f"not between the levels before and after it ({old:.6g}, {new:.6g})")
            rows.append((s.index[prev_end + 1], old, new, min(max(after, 0.0), 1.0)))
        else:
            raise ValueError(f"the difficulty changes on {between} days in a row from "
                             f"{s.index[prev_end + 1]:%Y-%m-%d}: not one adjustment")
    return pd.DataFrame(rows, columns=["day", "old", "new", "after"]).set_index("day")


def _epoch_subsidy(t0: pd.Timestamp, t1: pd.Timestamp, halving_dates: Sequence[str | pd.Timestamp]) -> float:
    """Mean block subsidy of an epoch mined between ``t0`` and ``t1``. [BTC/block]

    An epoch holding halving ``k`` (block ``210,000 k``) mines ``210,000 k mod 2016`` of its
    blocks before it (1,344 for the 2024 halving); ``halving_dates`` must list every halving
    from the first.
    """
    moments = sorted(_utc(d) for d in halving_dates)
    before = sum(h <= t0 for h in moments)
    inside = [k for k, h in enumerate(moments, start=1) if t0 < h < t1]
    if not inside:
        return INITIAL_SUBSIDY_BTC / 2.0**before
    k = inside[0]
    m = (_HALVING_INTERVAL_BLOCKS * k) % BLOCKS_PER_EPOCH
    old, new = INITIAL_SUBSIDY_BTC / 2.0 ** (k - 1), INITIAL_SUBSIDY_BTC / 2.0**k
    return (m * old + (BLOCKS_PER_EPOCH - m) * new) / BLOCKS_PER_EPOCH


def fee_epochs(
    revenue_usd_per_day: pd.Series,
    btc_usd: pd.Series,
    difficulty: pd.Series,
    *,
    halving_dates: Sequence[str | pd.Timestamp] = DEFAULT_HALVING_DATES,
    fallback_epochs: int = FALLBACK_EPOCHS,
) -> pd.DataFrame:
    """Average fees per block of each difficulty epoch, from the miners' daily revenue.

    An epoch has exactly 2016 blocks, so its fees are exactly

        fees = revenue_btc / 2016 - mean subsidy            [BTC/block]

    where ``revenue_btc`` adds up the revenue in BTC (USD revenue / BTC price) of the epoch's
    days, with the two adjustment days split by the share of their blocks on each side
    (:func:`difficulty_adjustments`). No block count per day is needed, and none is published
    after April 2025; with 144 blocks a day instead, a day's luck (±8 % blocks) would land in the
    fees, which are about 1 % of the revenue.

    An epoch whose revenue is below its subsidy (negative fees: blocks missing from the revenue
    series, as in Newhedge's from 2025-05-17) is not ``complete``; its ``fees_btc_per_block``
    is the median of the ``fallback_epochs`` complete epochs before it (NaN if there are none).

    Parameters
    ----------
    revenue_usd_per_day
        Miner revenue (subsidy and fees) by UTC day. [$/day]
    btc_usd
        BTC price by UTC day (the price the revenue was converted at; Newhedge's daily close).
        [$/BTC]
    difficulty
        Difficulty by UTC day (Newhedge's convention, see :func:`difficulty_adjustments`). [-]
    halving_dates
        Every halving from the first, tz-aware. [UTC]
    fallback_epochs
        How many complete epochs stand in for one that is not complete.

    Returns
    -------
    pandas.DataFrame
        One row per epoch between two adjustments of ``difficulty``: ``start`` and ``end``
        (the adjustment days [UTC]), ``start_after`` and ``end_after`` (the share of those days'
        blocks after each adjustment [0-1]), ``blocks_per_day`` (2016 over the epoch's length,
        the adjustment times placed as if blocks came evenly through their days), ``revenue_btc``
        [BTC], ``subsidy_btc_per_block`` and ``implied_fees_btc_per_block`` [BTC/block],
        ``complete`` (implied fees >= 0), ``fees_btc_per_block`` (the implied fees, or the
        fallback) [BTC/block]. An epoch with a day missing from the revenue or the price has NaN
        revenue and fees.

    Raises
    ------
    ValueError
        From :func:`difficulty_adjustments`.
    """
    adj = difficulty_adjustments(difficulty)
    revenue = (revenue_usd_per_day / btc_usd.reindex(revenue_usd_per_day.index)).dropna()
    rows = []
    for (d0, f0), (d1, f1) in zip(adj["after"].items(), list(adj["after"].items())[1:]):
        inner = revenue[(revenue.index > d0) & (revenue.index < d1)]
        ends = [revenue.get(d0, np.nan), revenue.get(d1, np.nan)]
        whole = len(inner) == round((d1 - d0) / _DAY) - 1
        rev = f0 * ends[0] + inner.sum() + (1.0 - f1) * ends[1] if whole else np.nan
        t0, t1 = d0 + (1.0 - f0) * _DAY, d1 + (1.0 - f1) * _DAY
        subsidy = _epoch_subsidy(t0, t1, halving_dates)
        rows.append({"start": d0, "end": d1, "start_after": f0, "end_after": f1,
                     "blocks_per_day": BLOCKS_PER_EPOCH / ((t1 - t0) / _DAY), "revenue_btc": rev,
                     "subsidy_btc_per_block": subsidy, "implied_fees_btc_per_block": rev / BLOCKS_PER_EPOCH - subsidy})
    columns = ["start", "end", "start_after", "end_after", "blocks_per_day", "revenue_btc", "subsidy_btc_per_block",
               "implied_fees_btc_per_block"]
    out = pd.DataFrame(rows, columns=columns)
    implied = out["implied_fees_btc_per_block"]
    out["complete"] = implied >= 0
    fees = implied.where(out["complete"])
    for i in np.flatnonzero(implied.notna() & ~out["complete"]):
        earlier = implied[:i][out["complete"][:i]]
        fees.iloc[i] = earlier.iloc[-fallback_epochs:].median() if len(earlier) else np.nan
    out["fees_btc_per_block"] = fees
    return out


def epoch_fees_by_day(epochs: pd.DataFrame, days: pd.DatetimeIndex) -> pd.Series:
    """Each UTC day's fees per block from :func:`fee_epochs`: its epoch's, and on an adjustment
    day the two epochs' mixed by the share of the day's blocks in each.

    Parameters
    ----------
    epochs
        From :func:`fee_epochs`.
    days
        UTC day starts.

    Returns
    -------
    pandas.Series
        Indexed by ``days``, named ``fees_btc_per_block``; NaN on a day not wholly covered by
        epochs with fees. [BTC/block]
    """
    days = pd.DatetimeIndex(days)
    value, weight = np.zeros(len(days)), np.zeros(len(days))
    for e in epochs.itertuples():
        fee = e.fees_btc_per_block
        for mask, w in ((days == e.start, e.start_after), ((days > e.start) & (days < e.end), 1.0),
                        (days == e.end, 1.0 - e.end_after)):
            value[mask] += w * fee
            weight[mask] += w
    return pd.Series(np.where(np.abs(weight - 1.0) < 1e-9, value, np.nan), index=days, name="fees_btc_per_block")


def _derived_fees(
    data_dir: Path, days: pd.DatetimeIndex, btc: pd.DataFrame, diff: pd.DataFrame, problems: list[Problem]
) -> tuple[pd.Series | None, list[str]]:
    """Fees per block of ``days`` from the miner revenue (:func:`fee_epochs`), and the notes."""
    revenue = _read(data_dir, _REVENUE_FILE, ["miner_revenue_usd_per_day"], problems)
    if revenue is None:
        return None, []
    lo, hi = days[0] - _FEE_WINDOW[0], days[-1] + _FEE_WINDOW[1]
    window = slice(lo, hi)
    try:
        epochs = fee_epochs(revenue["miner_revenue_usd_per_day"][window], btc["btc_usd"][window],
                            diff["difficulty"][window])
    except ValueError as exc:
        problems.append(Problem(f"cannot find the difficulty epochs: {exc}", file=str(data_dir / _DIFFICULTY_FILE),
                                column="difficulty"))
        return None, []
    fees = epoch_fees_by_day(epochs, days)
    if fees.isna().any():
        runs = _runs(days[fees.isna().to_numpy()], _DAY, "%Y-%m-%d", "days")
        problems.append(Problem(f"no fees per block for {', '.join(runs)}: the miner revenue, the BTC price or the "
                                "difficulty does not cover a whole difficulty epoch around these days",
                                file=str(data_dir / _REVENUE_FILE), column="miner_revenue_usd_per_day"))
        return None, []
    notes = [f"{_FEES_FILE} ends on {days[0] - _DAY:%Y-%m-%d}: fees_btc_per_block from {days[0]:%Y-%m-%d} to "
             f"{days[-1]:%Y-%m-%d} is each 2016-block difficulty epoch's average, from {_REVENUE_FILE}, {_BTC_FILE} "
             f"and {_DIFFICULTY_FILE} (docs/realdata.md)"]
    used = epochs[(epochs["end"] >= days[0]) & (epochs["start"] <= days[-1])]
    short = used[~used["complete"]]
    for fee, group in short.groupby("fees_btc_per_block", sort=False):
        notes.append(f"{_REVENUE_FILE}: {len(group)} difficulty epoch(s) from {group['start'].iloc[0]:%Y-%m-%d} to "
                     f"{group['end'].iloc[-1]:%Y-%m-%d} earned less than their block subsidy (blocks missing from the "
                     f"series); their fees are the median of the {FALLBACK_EPOCHS} complete epochs before them, "
                     f"{fee:.4f} BTC/block")
    return fees, notes


# ------------------------------------------------------------------------------------------------
# the hourly frame and the scenario
# ------------------------------------------------------------------------------------------------


def read_ercot_inputs(
    data_dir: str | Path | None = None,
    *,
    start: str | pd.Timestamp = CPT_2024_START,
    end: str | pd.Timestamp = CPT_2024_END,
    settlement_point: str = "HB_WEST",
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Read the real series into one hourly UTC frame (the ``data`` of a :class:`Scenario`).

    Parameters
    ----------
    data_dir
        The shared data folder; default :func:`default_data_dir`.
    start, end
        Horizon, inclusive start and exclusive end, on whole hours (ISO 8601 with offsets);
        default the CPT year 2024. [UTC]
    settlement_point
        ``"HB_WEST"`` (default) or another point with a gap-free real-time file
        (``ercot_rtm_spp_hourly_<point>.csv``), e.g. ``"HB_HUBAVG"``.

    Returns
    -------
    frame
        Indexed by hour start (UTC, named ``timestamp``): ``price_usd_per_mwh`` [$/MWh], the
        :data:`AS_COLUMNS` [$/MW/h], ``btc_usd`` [$/BTC], ``difficulty`` [-],
        ``fees_btc_per_block`` [BTC/block].
    notes
        One sentence per ancillary-price gap filled with 0 $/MW/h, and, for a horizon past the
        end of ``btc_fees_daily.csv``, on the fees derived from the miner revenue
        (:func:`fee_epochs`), with the epochs whose revenue fell short of their subsidy.

    Raises
    ------
    InputError
        A data file or column missing, energy prices missing for some hour, a daily series
        not covering the horizon, or fees that cannot be derived.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    lo, hi = _utc(start), _utc(end)
    if lo != lo.floor("h") or hi != hi.floor("h") or hi <= lo:
        raise InputError(Problem(f"the horizon {lo} .. {hi} is empty or not on whole hours", key="start"))
    hours = pd.date_range(lo, hi, freq="h", inclusive="left", name="timestamp").as_unit("ns")
    problems: list[Problem] = []
    price_file = _PRICE_FILE.format(point=settlement_point)
    prices = _read(data_dir, price_file, ["price_usd_per_mwh"], problems)
    anc = _read(data_dir, _AS_FILE, list(AS_COLUMNS), problems)
    btc = _read(data_dir, _BTC_FILE, ["btc_usd"], problems)
    diff = _read(data_dir, _DIFFICULTY_FILE, ["difficulty"], problems)
    fees = _read(data_dir, _FEES_FILE, ["fees_btc_per_day", "blocks_mined"], problems)
    out: dict[str, np.ndarray] = {}
    notes: list[str] = []
    if prices is not None:
        p = prices["price_usd_per_mwh"].reindex(hours)
        if p.isna().any():
            missing = _runs(hours[p.isna().to_numpy()])
            problems.append(Problem(f"{int(p.isna().sum())} hour(s) of the horizon missing: {', '.join(missing[:5])}",
                                    file=str(data_dir / price_file), column="price_usd_per_mwh"))
        out["price_usd_per_mwh"] = p.to_numpy()
    if anc is not None:
        a = anc.reindex(hours)
        gap = a.isna().any(axis=1).to_numpy()
        for run in _runs(hours[gap]):
            notes.append(f"{_AS_FILE}: no ancillary prices for {run}; filled with 0 $/MW/h (no reserve income)")
        for c in AS_COLUMNS:
            out[c] = a[c].fillna(0.0).to_numpy()
    for frame, col, file in ((btc, "btc_usd", _BTC_FILE), (diff, "difficulty", _DIFFICULTY_FILE)):
        if frame is not None:
            v = _carry_forward(frame[col], hours, str(data_dir / file), problems)
            if v is not None:
                out[col] = v
    if fees is not None:
        per_block = (fees["fees_btc_per_day"] / fees["blocks_mined"]).rename("fees_btc_per_block")
        last_day = hours[-1].floor("D")
        if btc is not None and diff is not None and len(per_block) and per_block.index[-1] < last_day:
            days = pd.date_range(per_block.index[-1] + _DAY, last_day, freq="D")
            derived, fee_notes = _derived_fees(data_dir, days, btc, diff, problems)
            if derived is not None:
                per_block = pd.concat([per_block, derived])
                notes.extend(fee_notes)
        v = _carry_forward(per_block, hours, str(data_dir / _FEES_FILE), problems)
        if v is not None:
            out["fees_btc_per_block"] = v
    if problems:
        raise InputError(problems)
    order = ["price_usd_per_mwh", *AS_COLUMNS, "btc_usd", "difficulty", "fees_btc_per_block"]
    return pd.DataFrame({c: out[c] for c in order}, index=hours), tuple(notes)


read_ercot_2024_inputs = read_ercot_inputs
"""The former name of :func:`read_ercot_inputs` (its default horizon is the CPT year 2024)."""


def ercot_scenario(
    data_dir: str | Path | None = None,
    *,
    year: int = 2024,
    config: Mapping[str, Any] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    settlement_point: str = "HB_WEST",
) -> Scenario:
    """A real-data scenario (see the module docstring for every source and fill).

    Parameters
    ----------
    data_dir
        The shared data folder; default :func:`default_data_dir`.
    year
        2024 (the CPT calendar year) or 2025 (CPT January to :data:`END_2025`).
    config
        The site, as the keys of ``scenario.toml``; default :func:`ercot_config` of ``year``.
        Its reserves may name any of :data:`AS_COLUMNS`; a GPU spot price or flex revenue given
        as a column name must be one of the frame's columns.
    start, end
        Override the horizon (ISO 8601 with offsets, whole hours); default the configuration's
        ``start``/``end``, else the year's :data:`HORIZONS`.
    settlement_point
        Real-time price file to use (:func:`read_ercot_inputs`).

    Returns
    -------
    Scenario
        ``warnings`` lists every ancillary-price gap filled with 0 $/MW/h, the fees derived
        from the miner revenue (2025) and every coincident-peak interval outside the horizon.

    Raises
    ------
    InputError
        A year without real data, missing data (see :func:`read_ercot_inputs`) or a bad
        configuration.
    """
    cfg = dict(config) if config is not None else ercot_config(_year(year))
    default_lo, default_hi = HORIZONS[_year(year)]
    lo = start if start is not None else cfg.get("start") or default_lo
    hi = end if end is not None else cfg.get("end") or default_hi
    cfg["start"] = _utc(lo).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg["end"] = _utc(hi).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg.pop("inputs", None)
    data, notes = read_ercot_inputs(data_dir, start=lo, end=hi, settlement_point=settlement_point)
    sc = from_config(cfg, data)
    return dataclasses.replace(sc, warnings=tuple(notes) + sc.warnings)


def ercot_2024_scenario(data_dir: str | Path | None = None, **options: Any) -> Scenario:
    """:func:`ercot_scenario` for 2024; ``options`` as there (``config``, ``start``, ``end``,
    ``settlement_point``)."""
    return ercot_scenario(data_dir, year=2024, **options)


def ercot_2025_scenario(data_dir: str | Path | None = None, **options: Any) -> Scenario:
    """:func:`ercot_scenario` for 2025 (CPT January to :data:`END_2025`); ``options`` as there."""
    return ercot_scenario(data_dir, year=2025, **options)


FORECAST_COLUMN = "forecast_price_usd_per_mwh"
"""The column :func:`with_day_ahead_forecast` adds: the price a plan on forecasts reads. [$/MWh]"""

_DAM_FILE = "ercot_dam_spp_hourly_{point}.csv"


def with_day_ahead_forecast(scenario: Scenario, data_dir: str | Path | None = None, *,
                            settlement_point: str = "HB_WEST", column: str = FORECAST_COLUMN) -> Scenario:
    """The scenario with the day-ahead settlement point price of its hours as a forecast column,
    for a rolling horizon planning on it (``run_policy(sc, "rolling", forecast=column)``).

    Parameters
    ----------
    scenario
        A real-data scenario (:func:`ercot_scenario`), whose price is the real-time one.
    data_dir
        The shared data folder; default :func:`default_data_dir`.
    settlement_point
        Reads ``ercot_dam_spp_hourly_<point>.csv`` (complete for CPT 2024 and January to
        November 2025 at HB_WEST and HB_HUBAVG).
    column
        The column's name. [$/MWh]

    Raises
    ------
    InputError
        The file missing, or an hour of the scenario without a day-ahead price.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    problems: list[Problem] = []
    name = _DAM_FILE.format(point=settlement_point)
    dam = _read(data_dir, name, ["price_usd_per_mwh"], problems)
    if dam is not None:
        values = dam["price_usd_per_mwh"].reindex(scenario.timestamps)
        if values.isna().any():
            missing = _runs(scenario.timestamps[values.isna().to_numpy()])
            problems.append(Problem(f"{int(values.isna().sum())} hour(s) of the horizon without a day-ahead price: "
                                    f"{', '.join(missing[:5])}", file=str(data_dir / name), column="price_usd_per_mwh"))
    if problems:
        raise InputError(problems)
    return scenario.with_series(**{column: values.to_numpy()})


# ------------------------------------------------------------------------------------------------
# writing a scenario folder
# ------------------------------------------------------------------------------------------------


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml(doc: Mapping[str, Any]) -> str:
    """Write the configuration's plain data (scalars, arrays, tables, arrays of tables) as TOML."""
    lines: list[str] = []

    def table(d: Mapping[str, Any], header: str | None, array: bool) -> None:
        if header is not None:
            lines.append("")
            lines.append(f"[[{header}]]" if array else f"[{header}]")
        nested = []
        for k, v in d.items():
            if isinstance(v, Mapping) or (isinstance(v, (list, tuple)) and v and all(isinstance(x, Mapping) for x in v)):
                nested.append((k, v))
            elif isinstance(v, (list, tuple)) and not v:
                continue  # an empty array of tables or values: the default
            else:
                lines.append(f"{k} = {_toml_value(v)}")
        for k, v in nested:
            name = k if header is None else f"{header}.{k}"
            if isinstance(v, Mapping):
                table(v, name, False)
            else:
                for item in v:
                    table(item, name, True)

    table(doc, None, False)
    return "\n".join(lines).lstrip("\n") + "\n"


def write_scenario_folder(scenario: Scenario, folder: str | Path) -> Path:
    """Write a scenario as a folder ``dispatch run`` / :func:`optimiser.load_scenario` can read.

    Writes ``scenario.toml`` (the resolved configuration: fleets sized in ``capacity_mw``,
    ``start``/``end`` set to the data's hours, ``inputs = ["inputs.csv"]``) and ``inputs.csv``
    (every column of ``scenario.data``, one row an hour, timestamps in UTC with ``Z``, values
    at full precision). ``subsidy_btc`` is written only when it differs from the configuration's
    halving schedule. The scenario's warnings (e.g. filled gaps) head ``scenario.toml`` as
    ``# note:`` comments. Reading the folder back gives the same configuration and the same
    values in every column the configuration uses (columns it does not use are written but not
    read back).

    Parameters
    ----------
    scenario
        Any scenario (e.g. from :func:`ercot_scenario` or :func:`optimiser.from_config`).
    folder
        Created if needed; ``scenario.toml`` and ``inputs.csv`` in it are replaced.

    Returns
    -------
    Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    doc = config_to_toml_dict(scenario.config)
    for key in ("columns", "fill"):  # inputs.csv holds the columns read, renamed and filled
        doc.pop(key, None)
    for kind in ("asic", "gpu"):
        for fleet in doc.get(kind, []):
            if fleet.get("capacity_mw") is not None:
                fleet.pop("units", None)  # resolved: capacity_mw holds units x machine power
    if scenario.config.catalogue is not None and scenario.folder is not None:
        cat = Path(scenario.config.catalogue)
        doc["catalogue"] = str(cat if cat.is_absolute() else (scenario.folder / cat).resolve())
    idx = scenario.timestamps
    doc["start"] = idx[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["end"] = (idx[-1] + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["inputs"] = [_INPUT_CSV]
    head = ["name", "timezone", "start", "end", "inputs", "catalogue"]
    doc = {k: doc[k] for k in head if k in doc} | {k: v for k, v in doc.items() if k not in head}
    data = scenario.data.copy()
    if "subsidy_btc" in data:
        schedule = subsidy_btc(idx, scenario.config.bitcoin.schedule)
        if np.array_equal(data["subsidy_btc"].to_numpy(dtype=float), schedule):
            data = data.drop(columns="subsidy_btc")
    data.index = idx.strftime("%Y-%m-%dT%H:%M:%SZ")
    data.index.name = "timestamp"
    data.to_csv(folder / _INPUT_CSV, lineterminator="\n")
    notes = "".join("# note: " + " ".join(w.split()) + "\n" for w in scenario.warnings)
    (folder / SCENARIO_FILE).write_text(notes + _toml(doc), encoding="utf-8")
    return folder
