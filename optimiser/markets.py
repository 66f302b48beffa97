"""Native market files: ERCOT settlement point price extracts and local-time CSVs.

The optimiser works in UTC hours (``docs/inputs.md``). Planners often hold files in their
market's own layout instead; this module reads them and returns UTC hourly series:

* ``ercot-dam-spp``: ERCOT day-ahead settlement point prices, one row per settlement point and
  delivery hour, keyed by ``Delivery Date`` and ``Delivery Hour`` (hour ending 1-24, in Central
  Prevailing Time, America/Chicago) with a ``Repeated Hour Flag`` for the fall-back hour;
* ``ercot-rtm-spp``: ERCOT real-time settlement point prices, one row per settlement point and
  15-minute interval, keyed as above plus ``Delivery Interval`` (1-4); the four intervals of
  each hour are averaged to the hour (all four must be present);
* ``local-time``: a CSV like a standard input whose ``timestamp`` holds local wall-clock times
  (no offset), read in a stated IANA time zone. Local times that occur twice (fall-back) or
  never (spring-forward) are refused, naming the line.

Both ERCOT readers take one settlement point (``Settlement Point Name``) out of a file that may
hold many, and read the price from ``Settlement Point Price``. ERCOT's compact header spelling
(``DeliveryDate``, ``DeliveryHour``, ``DSTFlag``, ``SettlementPointName`` ...) and the day-ahead
``Hour Ending`` column (``01:00`` .. ``24:00``) are accepted too.

DST in CPT: on the 23-hour spring-forward day hour ending 3 (02:00-03:00) does not exist; on the
25-hour fall-back day hour ending 2 (01:00-02:00) occurs twice, first in CDT (flag ``N``, UTC-5)
and then in CST (flag ``Y``, UTC-6).

Every problem is collected and raised at once as one :class:`~optimiser.errors.InputError`,
each naming the file, the line (header = line 1) and the column.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator, field_validator, model_validator

from optimiser.errors import InputError, Problem
from optimiser.safety import describe_header, excerpt

__all__ = [
    "ERCOT_TIMEZONE",
    "FORMATS",
    "HourlySeries",
    "InputEntry",
    "InputSpec",
    "PRICE_COLUMN",
    "convert",
    "localize_ns",
    "read_ercot_spp",
    "write_standard_csv",
]

Format = Literal["standard", "ercot-dam-spp", "ercot-rtm-spp", "local-time"]
FORMATS: tuple[str, ...] = ("standard", "ercot-dam-spp", "ercot-rtm-spp", "local-time")
"""The input formats, ``standard`` first (the default)."""

ERCOT_FORMATS: tuple[str, ...] = ("ercot-dam-spp", "ercot-rtm-spp")
"""The formats read from ERCOT's own extracts."""

ERCOT_TIMEZONE = "America/Chicago"
"""ERCOT's Central Prevailing Time (CPT)."""

PRICE_COLUMN = "price_usd_per_mwh"
"""Column an ERCOT price becomes unless the input names another. [$/MWh]"""

TIMESTAMP_COLUMN = "timestamp"

OFFSET_PATTERN = r"[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
"""A time of day followed by a UTC offset (``Z``, ``+hh``, ``+hhmm`` or ``+hh:mm``) at the end."""

MAX_LISTED = 5
"""How many rows of one kind of problem (per file and column) are reported one by one."""

_HOUR_NS = 3_600_000_000_000
"""One hour. [ns]"""

_QUARTER_NS = _HOUR_NS // 4
"""One ERCOT real-time settlement interval, 15 minutes. [ns]"""

_DAY_NS = 24 * _HOUR_NS
"""One day. [ns]"""

_NAT = np.iinfo(np.int64).min
"""The int64 pattern of NaT."""

# Local-time parse outcomes (see parse_local_ns).
LOCAL_OK, LOCAL_UNPARSEABLE, LOCAL_OFFSET, LOCAL_AMBIGUOUS, LOCAL_NONEXISTENT = range(5)


# ------------------------------------------------------------------------------------------------
# the input table of scenario.toml
# ------------------------------------------------------------------------------------------------


def _check_timezone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{v}' is not an IANA time zone name (e.g. 'America/Chicago')") from None
    return v


class InputSpec(BaseModel):
    """One input file and how to read it: a table in ``inputs`` of ``scenario.toml``.

    A plain string in ``inputs`` is a file in the standard format (UTC offsets, columns named
    as in the contract). A table names the format and what it needs, e.g.
    ``{file = "rtm.csv", format = "ercot-rtm-spp", settlement_point = "HB_WEST"}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    file: str = Field(min_length=1, description="The file, relative to the scenario folder or absolute.")
    format: Format = Field(default="standard", description="How to read it (see FORMATS).")
    settlement_point: str | None = Field(
        default=None,
        min_length=1,
        description="ERCOT formats: the `Settlement Point Name` to take; may be left out when the file "
        "holds only one.",
    )
    column: str | None = Field(
        default=None,
        min_length=1,
        description="ERCOT formats: the column the price becomes; default `price_usd_per_mwh`. [$/MWh]",
    )
    timezone: str | None = Field(
        default=None, description="local-time: the IANA zone of the timestamps; default the scenario's."
    )

    _tz = field_validator("timezone")(classmethod(lambda cls, v: v if v is None else _check_timezone(v)))

    @model_validator(mode="after")
    def _keys_fit_format(self) -> "InputSpec":
        ercot = self.format in ERCOT_FORMATS
        if not ercot:
            for key in ("settlement_point", "column"):
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' applies only to the formats {', '.join(ERCOT_FORMATS)}, "
                                     f"not to '{self.format}'")
        if self.format != "local-time" and self.timezone is not None:
            where = ("ERCOT files are always in Central Prevailing Time (America/Chicago)" if ercot
                     else "standard files carry a UTC offset on every timestamp")
            raise ValueError(f"'timezone' applies only to the format local-time: {where}")
        if self.column == TIMESTAMP_COLUMN:
            raise ValueError(f"'column' cannot be '{TIMESTAMP_COLUMN}' (that is the time column)")
        return self

    @property
    def output_column(self) -> str | None:
        """The column an ERCOT file provides (None for formats whose header names the columns)."""
        if self.format in ERCOT_FORMATS:
            return self.column or PRICE_COLUMN
        return None

    def __str__(self) -> str:
        extra = [self.format] + ([self.settlement_point] if self.settlement_point else [])
        return self.file if self.format == "standard" else f"{self.file} ({', '.join(extra)})"


def _entry(value: Any, handler: Callable[[Any], Any]) -> Any:
    """Validate one item of ``inputs``: a file name stays a string; a table becomes an InputSpec."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("an input file name is empty")
        return value
    if isinstance(value, (Mapping, InputSpec)):
        return InputSpec.model_validate(value)  # its errors keep their keys (inputs[i].key)
    raise ValueError(
        "an input is a file name or a table such as {file = \"rtm.csv\", format = \"ercot-rtm-spp\", "
        f"settlement_point = \"HB_WEST\"}}, not {type(value).__name__}"
    )


InputEntry = Annotated[Union[str, InputSpec], WrapValidator(_entry)]
"""The type of one item of ``inputs`` in ``scenario.toml``: a file name or an :class:`InputSpec`."""


def as_spec(entry: str | os.PathLike[str] | InputSpec | Mapping[str, Any]) -> InputSpec:
    """Turn one input (a file name, a path, a table or a spec) into an :class:`InputSpec`.

    Raises
    ------
    InputError
        If a table has unknown keys or bad values, naming each key.
    """
    if isinstance(entry, InputSpec):
        return entry
    if isinstance(entry, Mapping):
        try:
            return InputSpec.model_validate(dict(entry))
        except ValidationError as err:
            file = entry.get("file") if isinstance(entry.get("file"), str) else None
            raise InputError([
                Problem(
                    ("unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")),
                    file=file,
                    key=".".join(str(p) for p in e["loc"]) or None,
                )
                for e in err.errors(include_url=False)
            ]) from None
    return InputSpec(file=os.fspath(entry))


# ------------------------------------------------------------------------------------------------
# local time -> UTC
# ------------------------------------------------------------------------------------------------


def localize_ns(
    local_ns: np.ndarray, timezone: str, dst: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert local wall-clock times to UTC instants.

    Parameters
    ----------
    local_ns
        Local wall-clock times as int64 ns since 1970-01-01T00:00 *local* (``_NAT`` allowed).
    timezone
        IANA time zone name.
    dst
        For each time, True to take the first (daylight-saving) occurrence of a time that occurs
        twice, False to take the second (standard-time) one. Default: ambiguous times get NaT.

    Returns
    -------
    utc_ns : numpy.ndarray
        UTC instants, int64. [ns since epoch] ``_NAT`` where the time does not exist, or is
        ambiguous and ``dst`` is not given.
    ambiguous : numpy.ndarray
        True where the local time occurs twice (the hour clocks fall back over).
    nonexistent : numpy.ndarray
        True where the local time does not exist (the hour clocks spring forward over).
    """
    local_ns = np.asarray(local_ns, dtype=np.int64)
    n = len(local_ns)
    idx = pd.DatetimeIndex(local_ns.view("datetime64[ns]"))
    first = idx.tz_localize(timezone, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    second = idx.tz_localize(timezone, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    a = np.asarray(first.as_unit("ns").asi8, dtype=np.int64)
    b = np.asarray(second.as_unit("ns").asi8, dtype=np.int64)
    valid = local_ns != _NAT
    nonexistent = valid & (a == _NAT)
    ambiguous = valid & ~nonexistent & (a != b)
    if dst is None:
        utc = np.where(ambiguous, _NAT, a)
    else:
        utc = np.where(ambiguous & ~np.asarray(dst, dtype=bool), b, a)
    return utc.astype(np.int64), ambiguous, nonexistent


def _to_ns(values: Any) -> np.ndarray:
    """A datetime-like array as int64 ns (``_NAT`` for NaT or values out of the ns range)."""
    ts = pd.DatetimeIndex(values)
    try:
        ns = ts.as_unit("ns")
    except pd.errors.OutOfBoundsDatetime:  # e.g. year 9999
        lo, hi = pd.Timestamp.min, pd.Timestamp.max
        ns = ts.where((ts >= lo) & (ts <= hi)).as_unit("ns")
    return np.asarray(ns.asi8, dtype=np.int64).copy()


def parse_local_ns(text: np.ndarray, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse local wall-clock ISO 8601 timestamps (no offset) to UTC instants.

    Parameters
    ----------
    text
        The timestamps as written, already stripped of blanks.
    timezone
        IANA time zone they are in.

    Returns
    -------
    utc_ns : numpy.ndarray
        UTC instants, int64 (``_NAT`` unless the outcome is ``LOCAL_OK``). [ns since epoch]
    outcome : numpy.ndarray
        Per row: ``LOCAL_OK``, ``LOCAL_UNPARSEABLE``, ``LOCAL_OFFSET`` (the text carries a UTC
        offset), ``LOCAL_AMBIGUOUS`` (occurs twice) or ``LOCAL_NONEXISTENT`` (never occurs).
    """
    text = np.asarray(text, dtype=str)
    n = len(text)
    outcome = np.full(n, LOCAL_OK, dtype=np.int8)
    has_offset = pd.Series(text, dtype=object).str.contains(OFFSET_PATTERN, regex=True).to_numpy(dtype=bool)
    outcome[has_offset] = LOCAL_OFFSET
    local = np.full(n, _NAT, dtype=np.int64)
    plain = np.flatnonzero(~has_offset)
    if len(plain):
        local[plain] = _to_ns(pd.to_datetime(text[plain], format="ISO8601", errors="coerce"))
    outcome[(local == _NAT) & ~has_offset] = LOCAL_UNPARSEABLE
    utc, ambiguous, nonexistent = localize_ns(local, timezone)
    outcome[ambiguous] = LOCAL_AMBIGUOUS
    outcome[nonexistent] = LOCAL_NONEXISTENT
    utc[outcome != LOCAL_OK] = _NAT
    return utc, outcome


def local_time_problems(
    label: str, text: np.ndarray, outcome: np.ndarray, lines: np.ndarray, timezone: str, problems: list[Problem]
) -> None:
    """Report every row of a local-time file whose timestamp was not converted, by kind."""
    kinds = (
        (LOCAL_UNPARSEABLE, "unreadable timestamps",
         lambda s: f"cannot read timestamp {excerpt(s)}; expected a local time such as 2024-07-01T15:00:00"),
        (LOCAL_OFFSET, "timestamps with a UTC offset",
         lambda s: f"timestamp {excerpt(s)} carries a UTC offset, but the input's format is local-time (wall-clock "
                   "times without offset); use format standard for timestamps with offsets"),
        (LOCAL_AMBIGUOUS, "ambiguous local times",
         lambda s: f"local time {excerpt(s)} occurs twice in {timezone} (clocks fall back that night), so the row "
                   "cannot be placed; write this file with UTC offsets or Z instead"),
        (LOCAL_NONEXISTENT, "non-existent local times",
         lambda s: f"local time {excerpt(s)} does not exist in {timezone} (clocks spring forward over it); "
                   "write this file with UTC offsets or Z instead"),
    )
    for code, what, describe in kinds:
        idx = np.flatnonzero(outcome == code)
        report_rows(problems, label, TIMESTAMP_COLUMN, lines[idx],
                    lambda k, idx=idx, describe=describe: describe(str(text[idx[k]])), what)


def report_rows(
    problems: list[Problem],
    label: str,
    column: str | None,
    lines: np.ndarray,
    describe: Callable[[int], str],
    what: str,
) -> None:
    """Add one problem per bad line, the first few one by one and the rest as a summary."""
    for k in range(min(len(lines), MAX_LISTED)):
        problems.append(Problem(describe(k), file=label, row=int(lines[k]), column=column))
    if len(lines) > MAX_LISTED:
        rest = lines[MAX_LISTED:]
        problems.append(
            Problem(
                f"{len(rest)} more rows with {what} (lines {int(rest[0])} .. {int(rest[-1])})",
                file=label,
                column=column,
            )
        )


# ------------------------------------------------------------------------------------------------
# ERCOT settlement point prices
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourlySeries:
    """One settlement point's prices, hourly, in UTC."""

    ts_ns: np.ndarray
    """Hour starts, ascending, no repeats. [ns since epoch, UTC]"""
    lines: np.ndarray
    """Line of the file (header = 1) of the first row that went into each hour."""
    values: np.ndarray
    """Settlement point price of each hour (mean of its four intervals in real time). [$/MWh]"""
    settlement_point: str
    """The settlement point read."""

    def to_frame(self, column: str = PRICE_COLUMN) -> pd.DataFrame:
        """The series as a frame indexed by tz-aware UTC hour starts named ``timestamp``."""
        index = pd.DatetimeIndex(self.ts_ns.view("datetime64[ns]"), name=TIMESTAMP_COLUMN).tz_localize("UTC")
        return pd.DataFrame({column: self.values}, index=index)


# Header names, compared without blanks, underscores or case.
_ERCOT_COLUMNS: dict[str, tuple[str, ...]] = {
    "Delivery Date": ("deliverydate",),
    "Delivery Hour": ("deliveryhour", "hourending"),
    "Delivery Interval": ("deliveryinterval",),
    "Repeated Hour Flag": ("repeatedhourflag", "dstflag"),
    "Settlement Point Name": ("settlementpointname", "settlementpoint"),
    "Settlement Point Price": ("settlementpointprice",),
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_]", "", name).lower()


def _ercot_positions(header: list[str], kind: str) -> tuple[dict[str, int], list[str]]:
    """Map each ERCOT column to its position in ``header``; list the required ones missing."""
    normed = [_norm(h) for h in header]
    where: dict[str, int] = {}
    for name, spellings in _ERCOT_COLUMNS.items():
        for s in spellings:
            if _norm(s) in normed:
                where[name] = normed.index(_norm(s))
                break
    required = ["Delivery Date", "Delivery Hour", "Settlement Point Name", "Settlement Point Price"]
    if kind == "ercot-rtm-spp":
        required.insert(2, "Delivery Interval")
    return where, [c for c in required if c not in where]


def _parse_dates(text: np.ndarray) -> np.ndarray:
    """ERCOT delivery dates (``MM/DD/YYYY``, or ISO ``YYYY-MM-DD``) as local midnights. [ns]"""
    out = _to_ns(pd.to_datetime(text, format="%m/%d/%Y", errors="coerce"))
    retry = np.flatnonzero(out == _NAT)
    if len(retry):
        out[retry] = _to_ns(pd.to_datetime(text[retry], format="%Y-%m-%d", errors="coerce"))
    return out


def _parse_small_int(text: np.ndarray, lo: int, hi: int, suffix: str = "") -> np.ndarray:
    """Whole numbers lo..hi (``02``, ``2``, ``2.0``; with ``suffix``, ``02:00`` too); -1 where bad."""
    s = pd.Series(text, dtype=object)
    if suffix:
        s = s.str.replace(suffix + "$", "", regex=True)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(num) & (num == np.round(num)) & (num >= lo) & (num <= hi)
    return np.where(ok, np.nan_to_num(num), -1).astype(np.int64)


def read_ercot_spp(
    path: str | Path,
    *,
    format: str,
    settlement_point: str | None = None,
    label: str | None = None,
) -> HourlySeries:
    """Read one settlement point's prices out of an ERCOT SPP extract, hourly in UTC.

    Parameters
    ----------
    path
        The CSV file in ERCOT's layout.
    format
        ``"ercot-dam-spp"`` (day-ahead, one row per hour) or ``"ercot-rtm-spp"`` (real time, one
        row per 15-minute interval; the four intervals of an hour are averaged).
    settlement_point
        The ``Settlement Point Name`` to take; may be None when the file holds only one.
    label
        How error messages name the file; default ``path`` as given.

    Returns
    -------
    HourlySeries
        The prices of every hour the file holds for that point. [$/MWh]

    Raises
    ------
    InputError
        Listing every problem: missing columns, an unknown or unchosen settlement point, bad
        dates, hours, intervals, flags or prices, hours that do not exist in CPT, flags on hours
        that are not repeated, duplicate rows, real-time hours without all four intervals.
    """
    problems: list[Problem] = []
    series = collect_ercot_spp(Path(path), str(path) if label is None else label, format, settlement_point, problems)
    if problems or series is None:
        raise InputError(problems or [Problem("no prices read", file=label or str(path))])
    return series


def read_header_line(path: Path, label: str, problems: list[Problem]) -> list[str] | None:
    """The stripped column names of a CSV's first line, or None (with a problem naming the file)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = next(csv.reader(fh), None)
    except FileNotFoundError:
        problems.append(Problem(f"file not found (looked for {path})", file=label))
        return None
    except IsADirectoryError:
        problems.append(Problem(f"is a directory, not a CSV file ({path})", file=label))
        return None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(f"cannot read the file: {exc}", file=label))
        return None
    if not first or all(not h.strip() for h in first):
        problems.append(Problem("the file is empty (no header line)", file=label))
        return None
    return [h.strip() for h in first]


def collect_ercot_spp(
    path: Path, label: str, kind: str, point: str | None, problems: list[Problem]
) -> HourlySeries | None:
    """As :func:`read_ercot_spp`, adding problems to ``problems`` and returning None on any."""
    if kind not in ERCOT_FORMATS:
        raise ValueError(f"not an ERCOT format: {kind!r}")
    header = read_header_line(path, label, problems)
    if header is None:
        return None
    where, missing = _ercot_positions(header, kind)
    if missing:
        problems.append(
            Problem(
                f"not an ERCOT {'real-time' if kind == 'ercot-rtm-spp' else 'day-ahead'} SPP file: no column "
                + ", ".join(f"'{c}'" for c in missing) + f" (header: {describe_header(header)})",
                file=label,
            )
        )
        return None
    names = list(where)
    try:
        raw = pd.read_csv(path, usecols=[where[c] for c in names], dtype=str, keep_default_na=False,
                          na_filter=False, skip_blank_lines=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        problems.append(Problem(f"cannot read the file: {exc}", file=label))
        return None
    # usecols keeps the file's column order: name the columns by position.
    by_position = {where[c]: c for c in names}
    raw.columns = [by_position[p] for p in sorted(by_position)]
    col = {c: header[where[c]] for c in names}  # the spelling the file uses, for messages
    lines = np.arange(2, len(raw) + 2, dtype=np.int64)
    text = {c: np.strings.strip(raw[c].to_numpy(dtype=str)) for c in names}
    blank = np.logical_and.reduce([text[c] == "" for c in names])
    if blank.any():
        keep = ~blank
        text = {c: v[keep] for c, v in text.items()}
        lines = lines[keep]
    if len(lines) == 0:
        problems.append(Problem("the file has a header but no data rows", file=label))
        return None

    # --- the settlement point ------------------------------------------------------------------
    points = text["Settlement Point Name"]
    available = list(dict.fromkeys(p for p in points.tolist() if p))
    if point is None:
        if len(available) != 1:
            shown = ", ".join(available[:12]) + (f", ... ({len(available)} in all)" if len(available) > 12 else "")
            problems.append(Problem(f"the file holds {len(available)} settlement points ({shown}); "
                                    "choose one with settlement_point", file=label,
                                    column=col["Settlement Point Name"]))
            return None
        point = available[0]
    rows = points == point
    if not rows.any():
        shown = ", ".join(available[:12]) + (f", ... ({len(available)} in all)" if len(available) > 12 else "")
        close = [p for p in available if p.lower() == point.lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(Problem(f"settlement point '{point}' is not in the file{hint}; it holds: {shown}",
                                file=label, column=col["Settlement Point Name"]))
        return None
    text = {c: v[rows] for c, v in text.items()}
    lines = lines[rows]
    n = len(lines)
    n_before = len(problems)

    # --- fields ----------------------------------------------------------------------------
    day_ns = _parse_dates(text["Delivery Date"])
    bad = np.flatnonzero(day_ns == _NAT)
    report_rows(problems, label, col["Delivery Date"], lines[bad],
                lambda k: f"cannot read delivery date {excerpt(str(text['Delivery Date'][bad[k]]))}; "
                          "expected MM/DD/YYYY (as ERCOT writes it) or YYYY-MM-DD", "unreadable dates")
    hour = _parse_small_int(text["Delivery Hour"], 1, 24, suffix=":00")
    bad_h = np.flatnonzero(hour < 0)
    report_rows(problems, label, col["Delivery Hour"], lines[bad_h],
                lambda k: f"delivery hour {excerpt(str(text['Delivery Hour'][bad_h[k]]))} is not an hour ending 1-24",
                "bad delivery hours")
    if kind == "ercot-rtm-spp":
        interval = _parse_small_int(text["Delivery Interval"], 1, 4)
        bad_i = np.flatnonzero(interval < 0)
        report_rows(problems, label, col["Delivery Interval"], lines[bad_i],
                    lambda k: f"delivery interval {excerpt(str(text['Delivery Interval'][bad_i[k]]))} is not "
                              "1-4 (the 15-minute interval of the hour)", "bad delivery intervals")
    else:
        interval = np.ones(n, dtype=np.int64)
    if "Repeated Hour Flag" in text:
        flag = np.char.upper(text["Repeated Hour Flag"])
        bad_f = np.flatnonzero((flag != "Y") & (flag != "N"))
        report_rows(problems, label, col["Repeated Hour Flag"], lines[bad_f],
                    lambda k: f"repeated hour flag {excerpt(str(text['Repeated Hour Flag'][bad_f[k]]))} is not Y or N",
                    "bad repeated hour flags")
        repeated = flag == "Y"
    else:
        repeated = np.zeros(n, dtype=bool)
    price_text = text["Settlement Point Price"]
    price = pd.to_numeric(pd.Series(price_text, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    bad_p = np.flatnonzero(~np.isfinite(price))
    report_rows(problems, label, col["Settlement Point Price"], lines[bad_p],
                lambda k: ("empty price" if not price_text[bad_p[k]]
                           else f"price {excerpt(str(price_text[bad_p[k]]))} is not a finite number"),
                "empty or non-numeric prices")
    if len(problems) > n_before:
        return None

    # --- CPT -> UTC ----------------------------------------------------------------------------
    local = day_ns + (hour - 1) * _HOUR_NS + (interval - 1) * _QUARTER_NS
    utc, ambiguous, nonexistent = localize_ns(local, ERCOT_TIMEZONE, dst=~repeated)

    def when(k: int) -> str:
        d = pd.Timestamp(int(day_ns[k])).strftime("%Y-%m-%d")
        return f"{d} hour ending {hour[k]}" + (f" interval {interval[k]}" if kind == "ercot-rtm-spp" else "")

    gone = np.flatnonzero(nonexistent)
    report_rows(problems, label, col["Delivery Hour"], lines[gone],
                lambda k: f"{when(gone[k])} does not exist in Central Prevailing Time: clocks spring forward "
                          "from 02:00 to 03:00 that day, which has 23 hours and no hour ending 3",
                "hours that do not exist")
    if "Repeated Hour Flag" in text:
        wrong = np.flatnonzero(repeated & ~ambiguous & ~nonexistent)
        report_rows(problems, label, col["Repeated Hour Flag"], lines[wrong],
                    lambda k: f"repeated hour flag is Y, but {when(wrong[k])} is not the repeated hour (only hour "
                              "ending 2 of the fall-back day occurs twice)", "flags on hours that are not repeated")
    if len(problems) > n_before:
        return None

    order = np.argsort(utc, kind="stable")
    utc, lines_s, price_s = utc[order], lines[order], price[order]
    same = np.flatnonzero(utc[1:] == utc[:-1]) + 1
    if len(same):
        hint = "" if "Repeated Hour Flag" in text else " (without a Repeated Hour Flag column, the two " \
                                                        "occurrences of the fall-back hour cannot be told apart)"
        report_rows(problems, label, col["Delivery Hour"], lines_s[same],
                    lambda k: f"{when(order[same[k]])} for {point} appears twice: also on line "
                              f"{lines_s[same[k] - 1]}{hint}", "duplicate rows")
        return None

    hour_ns = (utc // _HOUR_NS) * _HOUR_NS
    start = np.flatnonzero(np.r_[True, hour_ns[1:] != hour_ns[:-1]])
    count = np.diff(np.r_[start, len(hour_ns)])
    if kind == "ercot-rtm-spp":
        short = np.flatnonzero(count != 4)
        report_rows(problems, label, col["Delivery Interval"], lines_s[start[short]],
                    lambda k: f"{when(order[start[short[k]]]).rsplit(' interval', 1)[0]} has "
                              f"{count[short[k]]} of its 4 intervals (lines "
                              + ", ".join(str(x) for x in lines_s[start[short[k]]:start[short[k]] + count[short[k]]])
                              + "); an hour's real-time price is the mean of all four",
                    "incomplete hours")
        if len(problems) > n_before:
            return None
    values = np.add.reduceat(price_s, start) / count
    first_line = np.minimum.reduceat(lines_s, start)
    return HourlySeries(ts_ns=hour_ns[start], lines=first_line, values=values, settlement_point=point)


# ------------------------------------------------------------------------------------------------
# conversion to a standard CSV
# ------------------------------------------------------------------------------------------------


def convert(
    format: str,
    path: str | Path,
    *,
    settlement_point: str | None = None,
    timezone: str | None = None,
    column: str | None = None,
    label: str | None = None,
) -> pd.DataFrame:
    """Read a native file into a frame ready for a standard CSV (UTC timestamps).

    Parameters
    ----------
    format
        ``"ercot-dam-spp"``, ``"ercot-rtm-spp"`` or ``"local-time"``.
    path
        The native file.
    settlement_point
        ERCOT formats: the settlement point to take (may be None if the file holds only one).
    timezone
        local-time: the IANA zone the timestamps are written in (required).
    column
        ERCOT formats: the name of the price column; default ``price_usd_per_mwh``. [$/MWh]
    label
        How error messages name the file; default ``path`` as given.

    Returns
    -------
    pandas.DataFrame
        Indexed by tz-aware UTC interval starts named ``timestamp``. ERCOT formats: one float
        column of hourly prices [$/MWh]. local-time: every other column of the file, as written
        (text), rows in file order.

    Raises
    ------
    InputError
        Naming the file, the line and the column of every problem; or the option at fault.
    """
    label = str(path) if label is None else label
    try:
        spec = InputSpec(file=label, format=format, settlement_point=settlement_point,  # type: ignore[arg-type]
                         timezone=timezone, column=column)
    except ValidationError as err:
        raise InputError([Problem(e["msg"].removeprefix("Value error, "), file=label,
                                  key=".".join(str(p) for p in e["loc"]) or None)
                          for e in err.errors(include_url=False)]) from None
    if spec.format == "standard":
        raise InputError(Problem("a standard file needs no conversion", file=label, key="format"))
    if spec.format in ERCOT_FORMATS:
        series = read_ercot_spp(path, format=spec.format, settlement_point=spec.settlement_point, label=label)
        return series.to_frame(spec.output_column or PRICE_COLUMN)
    if spec.timezone is None:
        raise InputError(Problem("a local-time file needs its time zone (an IANA name such as America/Chicago)",
                                 file=label, key="timezone"))
    return _convert_local(Path(path), label, spec.timezone)


def _convert_local(path: Path, label: str, timezone: str) -> pd.DataFrame:
    """Read a local-time CSV: timestamps to UTC, other columns kept as written."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem(f"file not found (looked for {path})", file=label)) from None
    except pd.errors.EmptyDataError:
        raise InputError(Problem("the file is empty (no header line)", file=label)) from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(Problem(f"cannot read the file: {exc}", file=label)) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if TIMESTAMP_COLUMN not in raw.columns:
        raise InputError(Problem(f"no '{TIMESTAMP_COLUMN}' column (header: {describe_header(list(raw.columns))})", file=label))
    if len(raw) == 0:
        raise InputError(Problem("the file has a header but no data rows", file=label))
    text = np.strings.strip(raw[TIMESTAMP_COLUMN].to_numpy(dtype=str))
    utc, outcome = parse_local_ns(text, timezone)
    problems: list[Problem] = []
    local_time_problems(label, text, outcome, np.arange(2, len(raw) + 2), timezone, problems)
    if problems:
        raise InputError(problems)
    index = pd.DatetimeIndex(utc.view("datetime64[ns]"), name=TIMESTAMP_COLUMN).tz_localize("UTC")
    out = raw.drop(columns=[TIMESTAMP_COLUMN])
    out.index = index
    return out


def write_standard_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame indexed by UTC timestamps as a standard input CSV, atomically.

    The file appears whole or not at all: it is written beside ``path`` and moved into place.

    Parameters
    ----------
    frame
        Indexed by tz-aware timestamps; written as ``timestamp`` in UTC with ``Z``, then the
        columns (floats written exactly: they read back to the same value).
    path
        The CSV to write (replaced if it exists).
    """
    path = Path(path)
    index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    out = frame.copy()
    out.index = pd.Index(index.strftime("%Y-%m-%dT%H:%M:%SZ"), name=TIMESTAMP_COLUMN)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            out.to_csv(fh, lineterminator="\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
