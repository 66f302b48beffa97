"""A real-data scenario: a hybrid site at ERCOT's HB_WEST hub through calendar year 2024.

Built from the published series in the shared data folder (``../shared/data`` next to the
repository, or the folder named by the environment variable ``DISPATCH_DATA``; the files are
read in place, never copied into the repository):

==========================================  ==================================================
input column                                source file and treatment
==========================================  ==================================================
``price_usd_per_mwh``                       ``ercot_rtm_spp_hourly_HB_WEST.csv``: real-time
                                            settlement point price, hourly mean of the four
                                            15-min prices. Complete for 2024; a gap is an error.
``regup``/``regdn``/``rrs``/``nonspin``/    ``ercot_dam_as_mcpc_hourly.csv``: day-ahead
``ecrs_usd_per_mw_per_h``                   ancillary clearing prices. **Gaps filled with
                                            0 $/MW/h** (169 h from 2024-03-10T07Z and the
                                            repeated DST hour 2024-11-03T07Z in the CPT year):
                                            no reserve income is assumed in those hours. Each
                                            filled run is listed in ``Scenario.warnings``.
``btc_usd``                                 ``btc_usd_daily_newhedge.csv`` (daily close), carried
                                            forward from 00:00Z to every hour of its UTC day.
``difficulty``                              ``btc_difficulty_daily_newhedge.csv``, carried forward.
``fees_btc_per_block``                      ``btc_fees_daily.csv``: ``fees_btc_per_day /
                                            blocks_mined`` of each UTC day, carried forward.
``subsidy_btc``                             not read: the halving schedule (2024-04-20T00:09:27Z).
==========================================  ==================================================

The horizon defaults to the ERCOT (Central Prevailing Time) calendar year 2024,
``2024-01-01T06:00Z`` .. ``2025-01-01T06:00Z`` (8,784 hours). The site is the one of
``scenarios/example`` (two ASIC fleets, a GPU tenant, a must-take PPA, RRS and ECRS sold from
ASIC load, a demand charge) with a flat GPU spot price and ERCOT's 2024 4CP days
(:data:`FOUR_CP_2024`). Start from :func:`ercot_2024_config` to change the site.

Example::

    from optimiser import build, solve
    from optimiser.realdata import ercot_2024_scenario, write_scenario_folder

    sc = ercot_2024_scenario()                   # data from DISPATCH_DATA or ../shared/data
    res = solve(build(sc))
    write_scenario_folder(sc, "out/ercot2024")   # a folder `dispatch run` can read
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

from .bitcoin import subsidy_btc
from .errors import InputError, Problem
from .scenario import SCENARIO_FILE, Scenario, config_to_toml_dict, from_config, parse_timestamp

__all__ = [
    "AS_COLUMNS",
    "CPT_2024_END",
    "CPT_2024_START",
    "DATA_ENV",
    "FOUR_CP_2024",
    "default_data_dir",
    "ercot_2024_config",
    "ercot_2024_scenario",
    "read_ercot_2024_inputs",
    "write_scenario_folder",
]

DATA_ENV = "DISPATCH_DATA"
"""Environment variable naming the shared data folder."""

CPT_2024_START = "2024-01-01T06:00:00Z"
"""First hour of ERCOT's (Central Prevailing Time) calendar year 2024. [UTC]"""

CPT_2024_END = "2025-01-01T06:00:00Z"
"""End (exclusive) of ERCOT's calendar year 2024. [UTC]"""

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

AS_COLUMNS: tuple[str, ...] = (
    "regup_usd_per_mw_per_h",
    "regdn_usd_per_mw_per_h",
    "rrs_usd_per_mw_per_h",
    "nonspin_usd_per_mw_per_h",
    "ecrs_usd_per_mw_per_h",
)
"""Ancillary-service price columns read from ``ercot_dam_as_mcpc_hourly.csv``. [$/MW/h]"""

_AS_FILE = "ercot_dam_as_mcpc_hourly.csv"
_PRICE_FILE = "ercot_rtm_spp_hourly_{point}.csv"
_BTC_FILE = "btc_usd_daily_newhedge.csv"
_DIFFICULTY_FILE = "btc_difficulty_daily_newhedge.csv"
_FEES_FILE = "btc_fees_daily.csv"
_INPUT_CSV = "inputs.csv"

_SITE_2024: dict[str, Any] = {
    "name": "Hybrid site at ERCOT HB_WEST, 2024 (real prices and Bitcoin data)",
    "timezone": "America/Chicago",
    "start": CPT_2024_START,
    "end": CPT_2024_END,
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
    "coincident_peak": {"usd_per_mw_year": 60000.0, "intervals": list(FOUR_CP_2024)},
}


def default_data_dir() -> Path:
    """The shared data folder: ``$DISPATCH_DATA`` if set, else ``<repository>/../shared/data``.

    The folder is not checked for existence.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def ercot_2024_config(*, coincident_peak_intervals: Sequence[str] = FOUR_CP_2024) -> dict[str, Any]:
    """The configuration of the 2024 real-data site, as the keys of ``scenario.toml``.

    A fresh copy each call: edit it and pass it to :func:`ercot_2024_scenario` (``config=``).

    Parameters
    ----------
    coincident_peak_intervals
        Hour starts charged as coincident peaks (ISO 8601 with offsets); default
        :data:`FOUR_CP_2024`.

    Returns
    -------
    dict
        ``start``/``end`` span the CPT year 2024; the GPU spot price is a flat 120 $/MWh; the
        reserves read ``rrs_usd_per_mw_per_h`` and ``ecrs_usd_per_mw_per_h``.
    """
    cfg = copy.deepcopy(_SITE_2024)
    cfg["coincident_peak"]["intervals"] = list(coincident_peak_intervals)
    return cfg


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


def _runs(hours: pd.DatetimeIndex) -> list[str]:
    """Describe hours as runs ``first .. last (n h)``."""
    if len(hours) == 0:
        return []
    ns = hours.asi8
    breaks = np.flatnonzero(np.diff(ns) != 3_600_000_000_000)
    firsts = np.r_[0, breaks + 1]
    lasts = np.r_[breaks, len(ns) - 1]
    fmt = "%Y-%m-%dT%H:%MZ"
    return [
        hours[a].strftime(fmt) if a == b else f"{hours[a].strftime(fmt)} .. {hours[b].strftime(fmt)} ({b - a + 1} h)"
        for a, b in zip(firsts, lasts)
    ]


def _carry_forward(
    daily: pd.Series, hours: pd.DatetimeIndex, file: str, problems: list[Problem]
) -> np.ndarray | None:
    """Each hour takes the last daily value at or before its start; the data must cover the horizon."""
    daily = daily.dropna()
    if len(daily) == 0 or daily.index[0] > hours[0]:
        problems.append(Problem(f"no value at or before the horizon start {hours[0]}", file=file,
                                column=str(daily.name)))
        return None
    if daily.index[-1] + pd.Timedelta(days=1) < hours[-1] + pd.Timedelta(hours=1):
        problems.append(Problem(f"the series ends on {daily.index[-1]:%Y-%m-%d}, before the horizon end "
                                f"{hours[-1] + pd.Timedelta(hours=1)}", file=file, column=str(daily.name)))
        return None
    pos = np.searchsorted(daily.index.asi8, hours.asi8, side="right") - 1
    return daily.to_numpy(dtype=float)[pos]


def read_ercot_2024_inputs(
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
        Horizon, inclusive start and exclusive end, on whole hours (ISO 8601 with offsets).
        [UTC]
    settlement_point
        ``"HB_WEST"`` (default) or another point with a gap-free real-time file
        (``ercot_rtm_spp_hourly_<point>.csv``), e.g. ``"HB_HUBAVG"``.

    Returns
    -------
    frame
        Indexed by hour start (UTC, named ``timestamp``): ``price_usd_per_mwh`` [$/MWh], the
        :data:`AS_COLUMNS` [$/MW/h], ``btc_usd`` [$/BTC], ``difficulty`` [-],
        ``fees_btc_per_block`` [BTC].
    notes
        One sentence per ancillary-price gap filled with 0 $/MW/h (empty if none).

    Raises
    ------
    InputError
        A data file or column missing, energy prices missing for some hour, or a daily series
        not covering the horizon.
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
        v = _carry_forward(per_block, hours, str(data_dir / _FEES_FILE), problems)
        if v is not None:
            out["fees_btc_per_block"] = v
    if problems:
        raise InputError(problems)
    order = ["price_usd_per_mwh", *AS_COLUMNS, "btc_usd", "difficulty", "fees_btc_per_block"]
    return pd.DataFrame({c: out[c] for c in order}, index=hours), tuple(notes)


def ercot_2024_scenario(
    data_dir: str | Path | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    settlement_point: str = "HB_WEST",
) -> Scenario:
    """The 2024 real-data scenario (see the module docstring for every source and fill).

    Parameters
    ----------
    data_dir
        The shared data folder; default :func:`default_data_dir`.
    config
        The site, as the keys of ``scenario.toml``; default :func:`ercot_2024_config`. Its
        reserves may name any of :data:`AS_COLUMNS`; a GPU spot price or flex revenue given as
        a column name must be one of the frame's columns.
    start, end
        Override the horizon (ISO 8601 with offsets, whole hours); default the configuration's
        ``start``/``end``, else the CPT year 2024.
    settlement_point
        Real-time price file to use (:func:`read_ercot_2024_inputs`).

    Returns
    -------
    Scenario
        ``warnings`` lists every ancillary-price gap filled with 0 $/MW/h and every
        coincident-peak interval outside the horizon.

    Raises
    ------
    InputError
        Missing data (see :func:`read_ercot_2024_inputs`) or a bad configuration.
    """
    cfg = dict(config) if config is not None else ercot_2024_config()
    lo = start if start is not None else cfg.get("start") or CPT_2024_START
    hi = end if end is not None else cfg.get("end") or CPT_2024_END
    cfg["start"] = _utc(lo).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg["end"] = _utc(hi).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg.pop("inputs", None)
    data, notes = read_ercot_2024_inputs(data_dir, start=lo, end=hi, settlement_point=settlement_point)
    sc = from_config(cfg, data)
    return dataclasses.replace(sc, warnings=tuple(notes) + sc.warnings)


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
        Any scenario (e.g. from :func:`ercot_2024_scenario` or :func:`optimiser.from_config`).
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
