"""Read the input CSV files into one hourly frame.

Every input CSV has a ``timestamp`` column holding the *start* of each interval as ISO 8601
with an explicit UTC offset (``2024-07-01T20:00:00Z``, ``2024-07-01T15:00:00-05:00``). Columns
are recognised by name across all the files given; a file may hold other columns, which are
ignored.

Two kinds of series are read:

* **hourly** series (prices, reserve prices): every hour of the horizon must be present; rows
  finer than an hour (e.g. 15-minute prices) are averaged to the hour they fall in, and must
  fill it: every hour of a file holds the same number of rows, evenly spaced from the hour
  start (an hourly file one row at :00, a 15-minute file four at :00, :15, :30, :45);
* **step** series (difficulty, BTC price, fees): a value stays in force until the next row, so
  each hour takes the value of the last row at or before the hour start.

Inputs in other layouts (ERCOT's own price extracts, CSVs in local time) are selected per
input with a ``format`` and read by :mod:`optimiser.markets` into the same UTC hours.

Opt-in, and reported in ``notes``: a column may be read under another name (``rename``), and
gaps in a column may be filled (``fill``: carry the previous value, zero, or interpolate
linearly) up to a stated length. Every input file must give at least one column that is read,
and every value read must lie in its column's plausible range (``ranges``).

Every problem found is collected and raised at once as one :class:`~optimiser.errors.InputError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

import numpy as np
import pandas as pd

from optimiser.errors import InputError, Problem
from optimiser.safety import excerpt
from optimiser.safety import describe_header, excerpt, input_file_problem
from optimiser.markets import (
    ERCOT_FORMATS,
    LOCAL_OK,
    OFFSET_PATTERN as _OFFSET_PATTERN,
    HourlySeries,
    InputSpec,
    collect_ercot_spp,
    as_spec,
    local_time_problems,
    parse_local_ns,
    read_header_line,
    report_rows as _report_rows,
)

__all__ = ["FillRule", "TIMESTAMP_COLUMN", "ValueRange", "format_number", "read_inputs"]

TIMESTAMP_COLUMN = "timestamp"
"""Name of the column holding the interval start in every input CSV."""

_HOUR_NS = 3_600_000_000_000
"""One hour. [ns]"""

_NAT = np.iinfo(np.int64).min
"""The int64 pattern of NaT."""

_MAX_RUNS = 5
"""How many runs of missing hours are listed in a missing-hours problem."""

_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null"})
"""Cell texts (stripped, lower case) that mean "no value": a gap a ``fill`` rule may fill."""

_SUGGEST_CUTOFF = 0.75
"""Least :class:`difflib.SequenceMatcher` ratio at which a file's column is taken for a misspelling
of a column the model reads (``fees_btc_per_day`` for ``fees_btc_per_block``: 0.77)."""

MAX_GAP_H = 8784
"""The longest gap a fill rule may allow: a leap year. [h]"""


def format_number(x: float) -> str:
    """A bound for messages: whole numbers with thousands separators (``1,000,000``), others
    in the shortest form (``0.5``, ``1e+20``)."""
    if np.isfinite(x) and x == round(x) and abs(x) < 1e15:
        return f"{x:,.0f}"
    return f"{x:g}"


@dataclass(frozen=True)
class ValueRange:
    """The values a column may hold: a plausible range, with the reason for it.

    Parameters
    ----------
    lo, hi
        Least and greatest value allowed (inclusive unless ``lo_open``), in ``unit``.
    unit
        The column's unit, for messages (``"BTC/block"``).
    why
        What the range protects against, for messages (``"fees cannot be negative"``).
    lo_open
        If True, ``lo`` itself is refused (a price of Bitcoin must be > 0).
    """

    lo: float
    hi: float
    unit: str = ""
    why: str = ""
    lo_open: bool = False

    def bad(self, values: np.ndarray) -> np.ndarray:
        """Mask of the finite values outside the range (NaN is not judged here)."""
        v = np.asarray(values, dtype=np.float64)
        low = (v <= self.lo) if self.lo_open else (v < self.lo)
        return np.isfinite(v) & (low | (v > self.hi))

    def describe(self, value: float, at: str = "") -> str:
        """Say why ``value`` (outside the range), found ``at`` an hour if given, is refused."""
        unit = f" {self.unit}" if self.unit else ""
        where = f" at {at}" if at else ""
        if value <= self.lo:
            text = f"{value:g}{where} is {'not above' if self.lo_open else 'below'} {format_number(self.lo)}{unit}"
        else:
            text = f"{value:g}{where} is above {format_number(self.hi)}{unit}"
        return text + (f": {self.why}" if self.why else "")


def _check_fill_gap(v: int) -> int:
    if not 1 <= v <= MAX_GAP_H:
        raise ValueError(f"{v} h is out of range: max_gap_h must be 1 .. {MAX_GAP_H} hours")
    return v


class FillRule(BaseModel):
    """How to fill the gaps of one column: a table in ``[fill]`` of ``scenario.toml``.

    A gap is a run of hours without a value: hours with no row (hourly columns), and hours
    whose row holds an empty cell or ``NaN``/``NA``/``N/A``/``null`` (any column).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    method: Literal["previous", "zero", "linear"] = Field(
        description="previous: the last value before the gap; zero: 0; linear: the straight line between "
        "the values on either side of the gap."
    )
    max_gap_h: Annotated[int, Strict(), AfterValidator(_check_fill_gap)] = Field(
        description="Longest gap filled; a longer one is an error. [h]"
    )



@dataclass
class _File:
    """One input file as read: valid rows only, in file order."""

    label: str
    """The file as the user named it."""
    columns: list[str]
    """The requested columns this file holds."""
    ts_ns: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """Interval starts of the rows with a valid timestamp. [ns since epoch, UTC]"""
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """1-based line number of each row in ``ts_ns`` (header = line 1)."""
    values: dict[str, np.ndarray] = field(default_factory=dict)
    """Values of each requested column on the rows in ``ts_ns`` (NaN where bad)."""
    timestamps_ok: bool = True
    """False if any timestamp was bad, duplicated or out of order (coverage is then not checked)."""
    sources: dict[str, str] = field(default_factory=dict)
    """The name in the file of each column read under another name (``[columns]``)."""
    hours_filled: bool | None = None
    """Whether the rows fill every hour they fall in (None: not checked yet; checked once a file)."""

    def name(self, column: str) -> str:
        """The name ``column`` has in the file (what messages call it)."""
        return self.sources.get(column, column)


def read_inputs(
    files: Sequence[str | Path | InputSpec | Mapping[str, Any]],
    *,
    base_dir: Path,
    hourly_columns: Collection[str],
    step_columns: Collection[str],
    optional_step_columns: Collection[str] = (),
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    timezone: str | None = None,
    rename: Mapping[str, str] | None = None,
    fill: Mapping[str, FillRule | Mapping[str, Any]] | None = None,
    ranges: Mapping[str, ValueRange] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read the input CSV files and return one hourly frame over the horizon.

    Parameters
    ----------
    files
        The inputs: a file name (a standard CSV) or an :class:`~optimiser.markets.InputSpec`
        (or a mapping with its keys) naming the file and its format: ``standard``,
        ``ercot-dam-spp``, ``ercot-rtm-spp`` (one settlement point's price, hourly; it
        provides the column ``spec.column``, default ``price_usd_per_mwh``) or ``local-time``.
        Files are relative to ``base_dir`` unless absolute. Error messages name each file as
        written here. Every input must give at least one of the columns requested.
    base_dir
        Directory that relative paths in ``files`` are relative to (usually the scenario's).
    hourly_columns
        Columns that must have a value for every hour of the horizon. Sub-hourly rows are
        averaged (unweighted) to the hour they start in (the timestamp floored to the UTC hour);
        they must fill it: every hour of a file holds the same number of rows, evenly spaced
        from the hour start (one at :00; or four at :00, :15, :30, :45; ...).
    step_columns
        Columns whose value stays in force until the next row; each hour takes the value of the
        last row at or before the hour start. The first row must be at or before ``start``.
    optional_step_columns
        As ``step_columns``, but a column found in no file is simply left out of the result
        (unless a file holds a column whose name is a near miss of it: that is an error).
    start
        First hour of the horizon (inclusive), tz-aware, on a whole hour. Default: the first
        hour that every column covers.
    end
        End of the horizon (exclusive), tz-aware, on a whole hour. Default: the end of the last
        hour that every column covers. A step column covers up to its last timestamp plus its
        median row spacing, floored to the hour; a step column with a single row does not
        limit the default end. With an explicit ``end``, step series are carried forward up
        to it however long after their last row (only hourly columns are checked for gaps).
    timezone
        IANA time zone of ``local-time`` inputs that do not name their own; None: such an
        input is an error.
    rename
        ``{column read: column in the file}``: read a requested column from a file column of
        another name (``[columns]`` of ``scenario.toml``). A requested column may not be
        mapped while a file also holds a column of its own name.
    fill
        ``{column: FillRule}``: fill that column's gaps (``[fill]`` of ``scenario.toml``);
        a gap longer than ``max_gap_h`` is an error naming its first and last hour. Without a
        rule, a missing hour or an empty value is an error.
    ranges
        ``{column: ValueRange}``: the values a column may hold; a value outside is an error
        naming the file, the line and the column. Only rows that count are checked (the hours
        of the horizon, and the step rows in force during it).
    notes
        If given, one sentence is appended per renamed column and per filled column (how many
        hours, how many gaps, the longest), for the scenario's warnings.

    Returns
    -------
    pandas.DataFrame
        Indexed by a contiguous, tz-aware UTC hourly :class:`~pandas.DatetimeIndex` named
        ``timestamp`` from ``start`` to ``end`` (exclusive); float64 columns: the hourly
        columns, the step columns, then the optional step columns that were found.

    Raises
    ------
    InputError
        Listing every problem found: missing or empty files, bad input tables, timestamps
        without a UTC offset or unparseable, local times that occur twice or never, problems in
        ERCOT files (see :func:`~optimiser.markets.read_ercot_spp`), duplicate or out-of-order
        timestamps, empty or non-numeric values, values out of range, columns found in no file
        or in several files, files giving no column read, near misses of optional columns,
        hours a file's sub-hourly rows do not fill, missing hours, gaps longer than the fill
        rule allows, step series starting after the horizon start, a bad or empty horizon,
        ``rename`` or ``fill`` naming a column that is not read.
    ValueError
        If the same column is requested twice in different roles, or ``timestamp`` is requested.
    """
    hourly = _unique(hourly_columns)
    step = _unique(step_columns)
    optional = _unique(optional_step_columns)
    requested = hourly + step + optional
    if len(set(requested)) != len(requested):
        both = sorted({c for c in requested if requested.count(c) > 1})
        raise ValueError(f"columns requested in more than one role: {both}")
    if TIMESTAMP_COLUMN in requested:
        raise ValueError(f"'{TIMESTAMP_COLUMN}' is the time column, not a data column")
    rename = dict(rename or {})
    ranges = dict(ranges or {})

    problems: list[Problem] = []
    n_before = len(problems)
    start_ns = _check_bound(start, "start", problems)
    end_ns = _check_bound(end, "end", problems)
    bounds_bad = len(problems) > n_before
    rules = _fill_rules(fill, requested, ranges, problems)
    for c in rename:
        if c not in requested:
            problems.append(Problem(f"the scenario reads no column '{c}', so it cannot be mapped "
                                    f"(it reads: {', '.join(requested)})", key=f"columns.{c}"))
    source = {c: rename.get(c, c) for c in requested}  # requested column -> its name in the files

    # --- the inputs: how to read each one ------------------------------------------------------
    specs: list[InputSpec] = []
    for k, f in enumerate(files):
        try:
            specs.append(as_spec(f))
        except InputError as err:
            problems += [Problem(p.message, file=p.file, key=f"inputs[{k}]" + (f".{p.key}" if p.key else ""))
                         for p in err.problems]
    specs = list(dict.fromkeys(specs))  # the same input listed twice is read once

    # --- locate the columns: read each header (ERCOT files: read whole) ------------------------
    used = set(source.values()) | {TIMESTAMP_COLUMN}
    headers: dict[int, list[str] | None] = {}  # input -> header (None: file unreadable)
    paths: dict[int, Path] = {}
    zones: dict[int, str] = {}  # local-time inputs -> their time zone
    native: dict[int, HourlySeries] = {}  # ERCOT inputs -> their hourly prices
    for k, spec in enumerate(specs):
        path = Path(spec.file)
        if not path.is_absolute():
            path = Path(base_dir) / path
        paths[k] = path
        unsafe = input_file_problem(path, spec.file)  # a FIFO, a device, a folder, too large: not opened
        if unsafe is not None:
            problems.append(unsafe)
            headers[k] = None
            continue
        if spec.format in ERCOT_FORMATS:
            series = collect_ercot_spp(path, spec.file, spec.format, spec.settlement_point, problems)
            if series is not None:
                native[k] = series
            headers[k] = None if series is None else [TIMESTAMP_COLUMN, str(spec.output_column)]
            continue
        headers[k] = _read_header(spec.file, path, used, problems)
        if spec.format == "local-time":
            zone = spec.timezone or timezone
            if zone is None:
                problems.append(Problem("the input's format is local-time, but no time zone is stated: set "
                                        "'timezone' in scenario.toml (an IANA name such as America/Chicago) "
                                        "or in this input's table", file=spec.file, key="timezone"))
                headers[k] = None
            else:
                zones[k] = zone

    def name_in(k: int, c: str) -> str:
        """The name column ``c`` has in input ``k`` (ERCOT inputs name the column they provide)."""
        return c if k in native else source[c]

    owners: dict[str, list[int]] = {c: [] for c in requested}
    for k, header in headers.items():
        if header is None:
            continue
        for c in requested:
            if name_in(k, c) in header:
                owners[c].append(k)
            if k not in native and source[c] != c and c in header:
                problems.append(Problem(
                    f"this file has a column '{c}' of its own, and [columns] maps '{source[c]}' onto '{c}': "
                    "which one is meant? Drop the mapping or rename one of the columns",
                    file=specs[k].file, column=c, key=f"columns.{c}"))

    unreadable = [str(specs[k]) for k, header in headers.items() if header is None]
    wanted: dict[int, list[str]] = {k: [] for k in headers}  # input -> columns to read
    for c in requested:
        where = owners[c]
        mapped = f" (mapped from '{source[c]}' by [columns])" if source[c] != c else ""
        if len(where) > 1:
            problems.append(
                Problem(
                    f"found in {len(where)} files ({', '.join(str(specs[k]) for k in where)}){mapped}; "
                    "each column must come from exactly one file",
                    column=c,
                )
            )
        elif len(where) == 1:
            wanted[where[0]].append(c)
        elif c not in optional or source[c] != c:
            searched = ", ".join(str(specs[k]) for k in headers if headers[k] is not None)
            msg = f"not found in any input file{mapped} (searched: {searched or 'none'})"
            if unreadable:
                msg += f"; not searched, because unreadable: {', '.join(unreadable)}"
            msg += _near_misses(source[c], headers, specs, native, used)
            problems.append(Problem(msg, column=c, key=f"columns.{c}" if mapped else None))
    useless = _useless_inputs(specs, headers, native, owners, source, used)
    problems += useless
    reported = {p.file for p in useless}
    problems += [p for p in _optional_near_misses(optional, owners, source, headers, specs, native, used)
                 if p.file not in reported]
    for c, rule in rules.items():
        if not owners[c] and c in optional and source[c] == c:
            problems.append(Problem(f"[fill] names '{c}', but no input file gives it", key=f"fill.{c}"))

    # --- read the files ------------------------------------------------------------------------
    read: dict[int, _File] = {}
    for k, header in headers.items():
        if header is None:
            continue
        if k in native:
            if wanted[k]:
                ser = native[k]
                read[k] = _File(label=specs[k].file, columns=wanted[k], ts_ns=ser.ts_ns, lines=ser.lines,
                                values={wanted[k][0]: ser.values})
            continue
        parsed = _read_file(specs[k].file, paths[k], header, wanted[k], problems, zones.get(k),
                            sources={c: source[c] for c in wanted[k]}, gaps_allowed=set(rules))
        if parsed is not None:
            read[k] = parsed
    if notes is not None:
        for c in requested:
            if source[c] != c and owners[c] and owners[c][0] in read:
                notes.append(f"{read[owners[c][0]].label}, column '{source[c]}': read as '{c}' ([columns])")

    series_of: dict[str, _File] = {}
    for parsed in read.values():
        for c in parsed.columns:
            series_of[c] = parsed
    found_optional = [c for c in optional if c in series_of]
    step_all = step + found_optional

    # --- horizon -------------------------------------------------------------------------------
    if start_ns is None or end_ns is None:
        default_start, default_end = _default_horizon(
            [series_of[c] for c in hourly if c in series_of],
            [series_of[c] for c in step_all if c in series_of],
        )
        if start_ns is None:
            start_ns = default_start
        if end_ns is None:
            end_ns = default_end
    horizon_ok = False
    if bounds_bad:
        pass  # a bad explicit bound: already reported; coverage against a guess would mislead
    elif start_ns is not None and end_ns is not None:
        if end_ns <= start_ns:
            inferred = start is None or end is None
            problems.append(
                Problem(
                    f"the horizon {_fmt(start_ns)} .. {_fmt(end_ns)} holds no hours"
                    + (" (the input files have no hours in common)" if inferred else "")
                )
            )
        else:
            horizon_ok = True
    elif not problems:
        problems.append(
            Problem("cannot infer the horizon from the input files; give start and end explicitly")
        )

    # --- build the columns ---------------------------------------------------------------------
    out: dict[str, np.ndarray] = {}
    if horizon_ok:
        hours = np.arange(start_ns, end_ns, _HOUR_NS, dtype=np.int64)
        for c in hourly:
            if c in series_of:
                out[c] = _hourly_values(series_of[c], c, hours, problems, rules.get(c), ranges.get(c), notes)
        for c in step_all:
            if c in series_of:
                out[c] = _step_values(series_of[c], c, hours, problems, rules.get(c), ranges.get(c), notes)

    if problems:
        raise InputError(problems)

    index = pd.date_range(
        pd.Timestamp(start_ns, tz="UTC"), periods=len(hours), freq="h", name=TIMESTAMP_COLUMN
    )
    return pd.DataFrame({c: out[c] for c in hourly + step_all}, index=index, dtype=np.float64)


# ------------------------------------------------------------------------------------------------
# which files give which columns
# ------------------------------------------------------------------------------------------------


def _fill_rules(
    fill: Mapping[str, FillRule | Mapping[str, Any]] | None,
    requested: list[str],
    ranges: Mapping[str, ValueRange],
    problems: list[Problem],
) -> dict[str, FillRule]:
    """The fill rules as :class:`FillRule`, each checked: its column is read, and a zero fill
    lies in the column's range."""
    rules: dict[str, FillRule] = {}
    for c, rule in (fill or {}).items():
        if not isinstance(rule, FillRule):
            try:
                rule = FillRule.model_validate(dict(rule))
            except Exception as err:  # pydantic.ValidationError; reported by key
                problems.append(Problem(f"not a fill rule ({err})", key=f"fill.{c}"))
                continue
        if c not in requested:
            problems.append(Problem(f"the scenario reads no column '{c}', so there is nothing to fill "
                                    f"(it reads: {', '.join(requested)})", key=f"fill.{c}"))
            continue
        r = ranges.get(c)
        if rule.method == "zero" and r is not None and bool(r.bad(np.array([0.0]))[0]):
            problems.append(Problem(f"a zero fill would put a value out of range in '{c}': "
                                    f"{r.describe(0.0)}", key=f"fill.{c}.method"))
            continue
        rules[c] = rule
    return rules


def _shown(name: str) -> str:
    """A column name as an error message shows it: as it is when short and printable, else a
    short escaped excerpt (a header may be anything, e.g. a secret file's first line)."""
    return name if len(name) <= 40 and name.isprintable() else excerpt(name)


def _data_columns(header: list[str]) -> list[str]:
    """A header's columns other than the timestamp, without repeats."""
    return [h for h in dict.fromkeys(header) if h != TIMESTAMP_COLUMN and h]


def _suggest(name: str, candidates: Collection[str]) -> list[str]:
    """The candidates that look like ``name`` (a misspelling), best first."""
    return difflib.get_close_matches(name, list(candidates), n=3, cutoff=_SUGGEST_CUTOFF)


def _near_misses(
    name: str,
    headers: Mapping[int, list[str] | None],
    specs: list[InputSpec],
    native: Mapping[int, HourlySeries],
    used: Collection[str],
) -> str:
    """'; did you mean ...' for a column found in no file, from the files' unused columns."""
    hits = []
    for k, header in headers.items():
        if header is None or k in native:
            continue
        for h in _suggest(name, [h for h in _data_columns(header) if h not in used]):
            hits.append(f"'{h}' in {specs[k].file}")
    return f"; did you mean {' or '.join(hits)}?" if hits else ""


def _useless_inputs(
    specs: list[InputSpec],
    headers: Mapping[int, list[str] | None],
    native: Mapping[int, HourlySeries],
    owners: Mapping[str, list[int]],
    source: Mapping[str, str],
    used: Collection[str],
) -> list[Problem]:
    """An input none of whose columns is read: a misnamed column would otherwise be ignored."""
    problems = []
    reads = list(dict.fromkeys(source.values()))
    contributes = {k for where in owners.values() for k in where}
    for k, header in headers.items():
        if header is None or k in contributes:
            continue
        if k in native:
            col = header[1]
            hint = _suggest(col, reads)
            problems.append(Problem(
                f"this input gives the column '{_shown(col)}', which the model does not read (it reads: "
                f"{', '.join(reads)})" + (f"; did you mean {' or '.join(hint)}?" if hint else ""),
                file=specs[k].file, key=f"inputs[{k}].column"))
            continue
        mine = _data_columns(header)
        hints = [f"{h} (for {_shown(c)})" for c in mine for h in _suggest(c, reads)]
        problems.append(Problem(
            f"none of its columns ({', '.join(_shown(h) for h in header[:20])}"
            f"{', ...' if len(header) > 20 else ''}) is read by the model"
            + (f"; did you mean {', '.join(hints)}?" if hints else ".")
            + f" The model reads: {', '.join(reads)}. A column of another name, in the right unit, can be "
            "mapped in [columns] of scenario.toml; a file the scenario does not need is not listed in inputs",
            file=specs[k].file))
    return problems


def _optional_near_misses(
    optional: list[str],
    owners: Mapping[str, list[int]],
    source: Mapping[str, str],
    headers: Mapping[int, list[str] | None],
    specs: list[InputSpec],
    native: Mapping[int, HourlySeries],
    used: Collection[str],
) -> list[Problem]:
    """An optional column found nowhere while a file holds a column named almost like it: the
    column would silently take its default (fees 0), so the near miss is refused."""
    problems = []
    for c in optional:
        if owners[c] or source[c] != c:
            continue
        for k, header in headers.items():
            if header is None or k in native:
                continue
            for h in _suggest(c, [h for h in _data_columns(header) if h not in used]):
                problems.append(Problem(
                    f"'{h}' looks like '{c}', which the model reads when a file gives it and otherwise takes "
                    f"its default; if it is {c} in the right unit, rename the column (or map it in [columns] "
                    "of scenario.toml); if not, rename it to something less alike",
                    file=specs[k].file, column=h))
    return problems


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _unique(columns: Collection[str]) -> list[str]:
    """The column names in the order given, without repeats."""
    return list(dict.fromkeys(str(c) for c in columns))


def _fmt(ns: int | np.integer) -> str:
    """Format a UTC instant given in ns since the epoch, e.g. ``2024-01-01T05:00Z``."""
    t = pd.Timestamp(int(ns), tz="UTC")
    if t.second or t.microsecond or t.nanosecond:
        return t.isoformat().replace("+00:00", "Z")
    return t.strftime("%Y-%m-%dT%H:%MZ")


def _check_bound(
    value: pd.Timestamp | str | None, name: str, problems: list[Problem]
) -> int | None:
    """Validate an explicit horizon bound; return it in ns since the epoch (UTC) or None."""
    if value is None:
        return None
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        problems.append(Problem(f"{name} {excerpt(value)} is not a timestamp", key=name))
        return None
    if t.tzinfo is None:
        problems.append(
            Problem(f"{name} {t.isoformat()} has no time zone; give a UTC offset or Z", key=name)
        )
        return None
    ns = int(t.tz_convert("UTC").as_unit("ns").value)
    if ns % _HOUR_NS:
        problems.append(Problem(f"{name} {t.isoformat()} is not on a whole hour", key=name))
        return None
    return ns


def _read_header(
    label: str, path: Path, used: Collection[str], problems: list[Problem]
) -> list[str] | None:
    """Return the stripped column names of a CSV, or None (with a problem) if unusable.

    A header naming ``timestamp`` or a column in ``used`` more than once makes the file unusable;
    other repeated names are ignored like any other column.
    """
    header = read_header_line(path, label, problems)
    if header is None:
        return None
    dupes = sorted({name for name in header if name in used and header.count(name) > 1})
    for name in dupes:
        problems.append(
            Problem("the header names this column more than once", file=label, column=name)
        )
    if TIMESTAMP_COLUMN not in header:
        hint = ""
        if {"deliverydate", "deliveryhour"} <= {h.replace(" ", "").lower() for h in header}:
            kind = "ercot-rtm-spp" if any(h.replace(" ", "").lower() == "deliveryinterval" for h in header) \
                else "ercot-dam-spp"
            hint = (f"; this looks like an ERCOT extract: list it in inputs as {{file = \"{label}\", "
                    f"format = \"{kind}\", settlement_point = \"...\"}}")
        problems.append(
            Problem(f"no '{TIMESTAMP_COLUMN}' column (header: {describe_header(header)}){hint}", file=label)
        )
    if dupes:
        return None
    return header


def _read_file(
    label: str,
    path: Path,
    header: list[str],
    columns: list[str],
    problems: list[Problem],
    timezone: str | None = None,
    sources: Mapping[str, str] | None = None,
    gaps_allowed: Collection[str] = (),
) -> _File | None:
    """Read the timestamp and the requested columns of one file, checking every row.

    With ``timezone`` (format local-time), timestamps are local wall-clock times without offset
    in that IANA zone; times that occur twice or never there are refused. ``sources`` gives the
    name in the file of each requested column (default: its own); the values of the columns in
    ``gaps_allowed`` may be empty (or ``NaN``, ``NA``, ``N/A``, ``null``): read as NaN, a gap
    to fill.
    """
    if TIMESTAMP_COLUMN not in header:
        return None  # already reported
    src = {c: (sources or {}).get(c, c) for c in columns}
    positions = [header.index(TIMESTAMP_COLUMN)] + [header.index(src[c]) for c in columns]
    try:
        raw = pd.read_csv(
            path,
            usecols=positions,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        problems.append(Problem(f"cannot read the file: {exc}", file=label))
        return None
    raw.columns = [name.strip() for name in raw.columns]
    raw = raw.rename(columns={v: k for k, v in src.items()})
    lines_all = np.arange(2, len(raw) + 2, dtype=np.int64)
    if _field_counts_differ(label, path, len(header), problems):
        return None

    if timezone is not None:
        got = _local_timestamps(label, raw, columns, lines_all, timezone, problems)
        if got is None:
            return None
        raw, ts_ns, lines_all, valid = got
        parsed = _File(label=label, columns=columns, sources={c: n for c, n in src.items() if n != c})
        if not valid.all():
            parsed.timestamps_ok = False
    else:
        # Parse the timestamps as written; only rows that fail are stripped of blanks and retried
        # (stripping every row costs more than parsing it).
        text = raw[TIMESTAMP_COLUMN].to_numpy(dtype=str)
        ts_ns = _parse_ns(text)
        failed = np.flatnonzero(ts_ns == _NAT)
        if len(failed):
            text[failed] = np.strings.strip(text[failed])
            ts_ns[failed] = _parse_ns(text[failed])
            # Rows with every field read empty (blank lines) are skipped; line numbers are kept.
            blank = np.zeros(len(raw), dtype=bool)
            blank[failed] = text[failed] == ""
            for c in columns:
                blank[failed] &= np.strings.strip(raw[c].to_numpy(dtype=str)[failed]) == ""
            if blank.any():
                keep = ~blank
                raw, text, ts_ns, lines_all = raw.loc[keep], text[keep], ts_ns[keep], lines_all[keep]
        if len(raw) == 0:
            problems.append(Problem("the file has a header but no data rows", file=label))
            return None

        parsed = _File(label=label, columns=columns, sources={c: n for c, n in src.items() if n != c})
        parsed_ok = ts_ns != _NAT
        # An explicit UTC offset is required: 'Z' (the usual case) is checked at C speed, the
        # pattern only on the rows that do not end in 'Z'.
        has_offset = np.strings.endswith(text, "Z")
        other = np.flatnonzero(~has_offset)
        if len(other):
            stripped = pd.Series(np.strings.strip(text[other]), dtype=object)
            has_offset[other] = stripped.str.contains(_OFFSET_PATTERN, regex=True).to_numpy(dtype=bool)
        naive = parsed_ok & ~has_offset
        unparseable = ~parsed_ok

        bad_idx = np.flatnonzero(unparseable)
        _report_rows(
            problems, label, TIMESTAMP_COLUMN, lines_all[bad_idx],
            lambda k: (f"cannot read timestamp {excerpt(str(text[bad_idx[k]]))}; expected ISO 8601 with a "
                       "UTC offset, e.g. 2024-07-01T20:00:00Z"),
            "unreadable timestamps",
        )
        naive_idx = np.flatnonzero(naive)
        _report_rows(
            problems, label, TIMESTAMP_COLUMN, lines_all[naive_idx],
            lambda k: (f"timestamp {excerpt(str(text[naive_idx[k]]))} has no UTC offset; write it with Z or "
                       "an offset such as -06:00 (times are never guessed; a file in local time is listed "
                       "in inputs as a table with format = \"local-time\")"),
            "timestamps without a UTC offset",
        )
        valid = parsed_ok & has_offset
        if not valid.all():
            parsed.timestamps_ok = False

    ts_ns = ts_ns[valid]
    lines = lines_all[valid]
    parsed.ts_ns = ts_ns
    parsed.lines = lines

    # Duplicates (anywhere in the file) and rows earlier than the row before them.
    if len(ts_ns) > 1:
        order = np.argsort(ts_ns, kind="stable")
        sorted_ts = ts_ns[order]
        same = sorted_ts[1:] == sorted_ts[:-1]
        if same.any():
            parsed.timestamps_ok = False
            group_start = np.flatnonzero(np.r_[True, ~same])
            group_len = np.diff(np.r_[group_start, len(sorted_ts)])
            dup_groups = group_start[group_len > 1]
            dup_lens = group_len[group_len > 1]
            # The sort is stable, so within a group rows are in file order: report each group
            # at the line of its second occurrence, groups in line order.
            second_line = lines[order[dup_groups + 1]]
            by_line = np.argsort(second_line, kind="stable")
            dup_groups, dup_lens = dup_groups[by_line], dup_lens[by_line]
            second_line = second_line[by_line]
            _report_rows(
                problems, label, TIMESTAMP_COLUMN, second_line,
                lambda k: (f"duplicate timestamp {_fmt(sorted_ts[dup_groups[k]])}: on lines "
                           + ", ".join(str(x) for x in
                                       lines[order[dup_groups[k]:dup_groups[k] + dup_lens[k]]])),
                "duplicate timestamps",
            )
        back = np.flatnonzero(ts_ns[1:] < ts_ns[:-1]) + 1
        if len(back):
            parsed.timestamps_ok = False
            _report_rows(
                problems, label, TIMESTAMP_COLUMN, lines[back],
                lambda k: (f"timestamp {_fmt(ts_ns[back[k]])} is earlier than the one before it "
                           f"(line {lines[back[k] - 1]}: {_fmt(ts_ns[back[k] - 1])}); rows must "
                           "be in ascending time order"),
                "out-of-order timestamps",
            )

    # Values.
    for c in columns:
        col_text = raw[c].to_numpy(dtype=object)[valid]
        values = pd.to_numeric(pd.Series(col_text, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, copy=True
        )
        finite = np.isfinite(values)
        if c in gaps_allowed:  # an empty cell is a gap for the fill rule; text or inf is not
            blank = np.isin(np.strings.lower(np.strings.strip(col_text.astype(str))), list(_MISSING_TEXT))
            values[blank] = np.nan
            finite |= blank
        bad = np.flatnonzero(~finite)
        if len(bad):
            _report_rows(
                problems, label, src[c], lines[bad],
                lambda k, col_text=col_text, bad=bad: _describe_value(col_text[bad[k]]),
                "empty or non-numeric values",
            )
        parsed.values[c] = values
    return parsed


def _field_counts_differ(label: str, path: Path, n_fields: int, problems: list[Problem]) -> bool:
    """Refuse rows with more or fewer fields than the header (a lost or extra comma shifts every
    later value into the wrong column: ``31,40`` read as 3,140). Lines holding a quote character
    are left to the CSV parser; blank lines are allowed."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        text = fh.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    counts = np.fromiter((ln.count(",") for ln in lines), dtype=np.int64, count=len(lines))
    bad = counts != n_fields - 1
    if not bad[1:].any():
        return False
    idx = np.flatnonzero(bad)
    idx = idx[idx > 0]
    idx = np.array([i for i in idx if '"' not in lines[i] and lines[i].strip()], dtype=np.int64)
    if len(idx) == 0:
        return False
    _report_rows(
        problems, label, None, idx + 1,
        lambda k: f"the row has {int(counts[idx[k]]) + 1} fields, the header {n_fields} (a missing or extra comma?)",
        "a wrong number of fields",
    )
    return True


def _local_timestamps(
    label: str, raw: pd.DataFrame, columns: list[str], lines: np.ndarray, timezone: str, problems: list[Problem]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray] | None:
    """Convert the local-time timestamps of a file, reporting the rows that cannot be placed.

    Returns the rows kept (blank lines dropped), their UTC instants [ns], their line numbers and
    a mask of the rows converted; None (with a problem) if the file has no data rows.
    """
    text = np.strings.strip(raw[TIMESTAMP_COLUMN].to_numpy(dtype=str))
    blank = text == ""
    for c in columns:
        blank &= np.strings.strip(raw[c].to_numpy(dtype=str)) == ""
    if blank.any():
        keep = ~blank
        raw, text, lines = raw.loc[keep], text[keep], lines[keep]
    if len(raw) == 0:
        problems.append(Problem("the file has a header but no data rows", file=label))
        return None
    ts_ns, outcome = parse_local_ns(text, timezone)
    local_time_problems(label, text, outcome, lines, timezone, problems)
    return raw, ts_ns, lines, outcome == LOCAL_OK


def _parse_ns(text: np.ndarray) -> np.ndarray:
    """Parse ISO 8601 strings to UTC instants; ``_NAT`` where unparseable. [ns since epoch]"""
    ts = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    try:
        ns = ts.as_unit("ns")
    except pd.errors.OutOfBoundsDatetime:  # e.g. year 9999: outside what ns can hold
        lo = pd.Timestamp.min.tz_localize("UTC")
        hi = pd.Timestamp.max.tz_localize("UTC")
        ns = ts.where((ts >= lo) & (ts <= hi)).as_unit("ns")
    return np.asarray(ns.asi8, dtype=np.int64).copy()


def _describe_value(text: object) -> str:
    """Say what is wrong with one value that is not a finite number."""
    s = str(text).strip()
    if not s:
        return "empty value; every row needs a number"
    return f"value {excerpt(s)} is not a finite number"


def _step_end(ts_ns: np.ndarray) -> int | None:
    """End of the hours a step series covers: last row + median spacing, floored to the hour."""
    if len(ts_ns) < 2:
        return None
    spacing = int(np.median(np.diff(ts_ns)))
    return _floor_hour(int(ts_ns[-1]) + spacing)


def _floor_hour(ns: int) -> int:
    """Floor an instant to the UTC hour. [ns]"""
    return (ns // _HOUR_NS) * _HOUR_NS


def _default_horizon(
    hourly_files: list[_File], step_files: list[_File]
) -> tuple[int | None, int | None]:
    """The hours every series covers: (latest first hour, earliest end); None if unknown."""
    starts: list[int] = []
    ends: list[int] = []
    for f in hourly_files:
        if len(f.ts_ns):
            starts.append(_floor_hour(int(f.ts_ns.min())))
            ends.append(_floor_hour(int(f.ts_ns.max())) + _HOUR_NS)
    for f in step_files:
        if len(f.ts_ns):
            first = int(f.ts_ns.min())
            starts.append(-((-first) // _HOUR_NS) * _HOUR_NS)  # ceil to the hour
            e = _step_end(np.sort(f.ts_ns))
            if e is not None:
                ends.append(e)
    return (max(starts) if starts else None, min(ends) if ends else None)


def _hourly_values(
    f: _File,
    column: str,
    hours: np.ndarray,
    problems: list[Problem],
    rule: FillRule | None = None,
    value_range: ValueRange | None = None,
    notes: list[str] | None = None,
) -> np.ndarray:
    """Average a column to the hour and check every hour of the horizon is present.

    The rows of each hour must fill it (:func:`_check_hours_filled`) and lie in
    ``value_range``; with ``rule``, gaps are filled (:func:`_fill_gaps`), else a missing hour
    is an error.
    """
    out = np.full(len(hours), np.nan)
    if not f.timestamps_ok:
        return out  # timestamps already reported; missing hours would only repeat them
    name = f.name(column)
    hour_of_row = (f.ts_ns // _HOUR_NS) * _HOUR_NS
    values = f.values[column]
    inside = (hour_of_row >= hours[0]) & (hour_of_row <= hours[-1])
    n_before = len(problems)
    if f.hours_filled is None:
        _check_hours_filled(f.label, f.ts_ns[inside], f.lines[inside], hour_of_row[inside], problems)
        f.hours_filled = len(problems) == n_before
    if value_range is not None:
        _check_range(f.label, name, values[inside], f.lines[inside], value_range, problems)
    if len(problems) > n_before or not f.hours_filled:
        return out
    # The hours to average over: the horizon, widened to the file's rows when gaps are filled
    # (a gap at the edge of the horizon is filled from the rows beyond it).
    lo, hi = int(hours[0]), int(hours[-1])
    if rule is not None and len(hour_of_row):
        lo, hi = min(lo, int(hour_of_row[0])), max(hi, int(hour_of_row[-1]))
    else:
        hour_of_row, values = hour_of_row[inside], values[inside]
    grid = np.arange(lo, hi + _HOUR_NS, _HOUR_NS, dtype=np.int64)
    means = np.full(len(grid), np.nan)
    present = np.zeros(len(grid), dtype=bool)
    if len(hour_of_row):
        first = np.flatnonzero(np.r_[True, hour_of_row[1:] != hour_of_row[:-1]])
        counts = np.diff(np.r_[first, len(hour_of_row)])
        pos = ((hour_of_row[first] - lo) // _HOUR_NS).astype(np.intp)
        means[pos] = np.add.reduceat(values, first) / counts  # an empty cell makes its hour a gap
        present[pos] = True
    i0 = int((hours[0] - lo) // _HOUR_NS)
    if rule is None:  # (a bad value is reported where it was read)
        out = means[i0 : i0 + len(hours)]
        missing = ~present[i0 : i0 + len(hours)]
        if missing.any():
            problems.append(Problem(_missing_hours_message(hours, missing), file=f.label, column=name))
        return out
    return _fill_gaps(grid, means, i0, len(hours), rule, f.label, name, column, problems, notes)


def _grid_text(n: int) -> str:
    """Describe a grid of ``n`` evenly spaced rows an hour (``15-minute (4 rows an hour, ...)``)."""
    if n == 1:
        return "hourly grid (one row at the start of each hour)"
    step = _HOUR_NS // n
    minutes = f"{step / 60e9:g}-minute"
    at = ", ".join(f":{k * step // 60_000_000_000:02d}" for k in range(n)) if n <= 12 else "..."
    return f"{minutes} grid ({n} rows an hour, at {at})"


def _check_hours_filled(
    label: str, ts_ns: np.ndarray, lines: np.ndarray, hour_of_row: np.ndarray, problems: list[Problem]
) -> None:
    """Every hour's rows must fill it: as many rows as the file's usual hour, evenly spaced
    from the hour start. An hourly value is the mean of an hour's rows, so a stray 16:15 row in
    an hourly file, or an hour with 3 of its 4 quarter hours, would be averaged in silently."""
    if len(ts_ns) == 0:
        return
    first = np.flatnonzero(np.r_[True, hour_of_row[1:] != hour_of_row[:-1]])
    counts = np.diff(np.r_[first, len(ts_ns)])
    tally = np.bincount(counts)
    n = int(np.flatnonzero(tally == tally.max())[-1])  # the usual number of rows an hour (ties: the finer)
    step = _HOUR_NS // n
    offset = ts_ns - hour_of_row
    stray = np.flatnonzero((offset % step != 0) | (offset >= n * step))
    _report_rows(
        problems, label, TIMESTAMP_COLUMN, lines[stray],
        lambda k: (f"timestamp {_fmt(ts_ns[stray[k]])} is off the file's {_grid_text(n)}: an hour's value is "
                   "the mean of its rows, so every hour needs the same evenly spaced rows (a stray row "
                   "would be averaged in)"),
        "timestamps off the file's grid",
    )
    bad_hour = np.zeros(len(first), dtype=bool)
    if len(stray):
        bad_hour[np.searchsorted(first, stray, side="right") - 1] = True
    short = np.flatnonzero((counts != n) & ~bad_hour)

    def describe(k: int) -> str:
        a, m = first[short[k]], counts[short[k]]
        have = set(((offset[a : a + m]) // step).tolist())
        gone = [f":{j * step // 60_000_000_000:02d}" for j in range(n) if j not in have]
        return (f"the hour {_fmt(hour_of_row[a])} has {m} of the {n} rows of the file's {_grid_text(n)} "
                f"(lines {', '.join(str(x) for x in lines[a : a + m])}; missing {', '.join(gone)}): its value "
                f"would be the mean of {m} {'row' if m == 1 else 'rows'}; give every row of the hour, or none "
                "(a missing hour may be filled with [fill])")

    _report_rows(problems, label, TIMESTAMP_COLUMN, lines[first[short]], describe, "incomplete hours")


def _check_range(
    label: str, name: str, values: np.ndarray, lines: np.ndarray, value_range: ValueRange, problems: list[Problem]
) -> None:
    """Refuse the values outside their column's plausible range, naming each line."""
    bad = np.flatnonzero(value_range.bad(values))
    _report_rows(problems, label, name, lines[bad], lambda k: value_range.describe(float(values[bad[k]])),
                 "values out of range")


def _fill_gaps(
    grid: np.ndarray,
    values: np.ndarray,
    i0: int,
    n: int,
    rule: FillRule,
    label: str,
    name: str,
    column: str,
    problems: list[Problem],
    notes: list[str] | None,
) -> np.ndarray:
    """Fill the gaps (runs of NaN) of ``values`` that touch the horizon ``values[i0:i0 + n]``.

    Parameters
    ----------
    grid
        Hour starts of ``values``, contiguous. [ns since epoch, UTC]
    values
        Hourly values on ``grid``, NaN where there is none; the values around a gap, even
        outside the horizon, are what ``previous`` and ``linear`` fill it from.
    i0, n
        Position of the horizon's first hour in ``grid``, and its number of hours.
    rule
        The method and the longest gap allowed.
    label, name, column
        The file, the column's name in it, the column read: for messages.

    Returns
    -------
    numpy.ndarray
        The horizon's values, filled. [the column's unit]
    """
    gap = np.isnan(values)
    if not gap[i0 : i0 + n].any():
        return values[i0 : i0 + n]
    idx = np.flatnonzero(gap)
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts, ends = idx[np.r_[0, breaks + 1]], idx[np.r_[breaks, len(idx) - 1]]  # inclusive
    touch = (ends >= i0) & (starts < i0 + n)
    starts, ends = starts[touch], ends[touch]
    filled = values.copy()
    refused: list[str] = []
    n_hours, longest = 0, (0, "")
    for a, b in zip(starts.tolist(), ends.tolist()):
        length = b - a + 1
        span = f"{_fmt(grid[a])} .. {_fmt(grid[b])}" if length > 1 else _fmt(grid[a])
        left = values[a - 1] if a > 0 else np.nan
        right = values[b + 1] if b + 1 < len(values) else np.nan
        if length > rule.max_gap_h:
            refused.append(f"a gap of {length} h ({span}) is longer than max_gap_h = {rule.max_gap_h} h")
            continue
        if rule.method == "previous" and np.isnan(left):
            refused.append(f"the gap {span} starts the data: there is no value before it to carry forward")
            continue
        if rule.method == "linear" and (np.isnan(left) or np.isnan(right)):
            side = "before" if np.isnan(left) else "after"
            refused.append(f"the gap {span} cannot be interpolated: there is no value {side} it")
            continue
        if rule.method == "previous":
            filled[a : b + 1] = left
        elif rule.method == "zero":
            filled[a : b + 1] = 0.0
        else:
            filled[a : b + 1] = left + (right - left) * np.arange(1, length + 1) / (length + 1)
        n_hours += min(b, i0 + n - 1) - max(a, i0) + 1
        if length > longest[0]:
            longest = (length, span)
    for k, text in enumerate(refused[:_MAX_RUNS]):
        problems.append(Problem(text, file=label, column=name, key=f"fill.{column}"))
    if len(refused) > _MAX_RUNS:
        problems.append(Problem(f"and {len(refused) - _MAX_RUNS} more gaps that cannot be filled",
                                file=label, column=name, key=f"fill.{column}"))
    if notes is not None and n_hours:
        n_gaps = len(starts) - len(refused)
        notes.append(f"{label}, column '{name}': {n_hours} hour{'s' if n_hours != 1 else ''} of the horizon filled "
                     f"({rule.method}) in {n_gaps} gap{'s' if n_gaps != 1 else ''}, the longest {longest[0]} h "
                     f"({longest[1]}) ([fill] max_gap_h = {rule.max_gap_h})")
    return filled[i0 : i0 + n]


def _missing_hours_message(hours: np.ndarray, missing: np.ndarray) -> str:
    """Describe the missing hours as runs: first .. last (count)."""
    idx = np.flatnonzero(missing)
    breaks = np.flatnonzero(np.diff(idx) != 1)
    run_first = idx[np.r_[0, breaks + 1]]
    run_last = idx[np.r_[breaks, len(idx) - 1]]
    parts = []
    for a, b in zip(run_first[:_MAX_RUNS], run_last[:_MAX_RUNS]):
        n = int(b - a + 1)
        parts.append(_fmt(hours[a]) if n == 1 else f"{_fmt(hours[a])} .. {_fmt(hours[b])} ({n} h)")
    msg = (
        f"{len(idx)} hour{'s' if len(idx) != 1 else ''} of the horizon "
        f"{_fmt(hours[0])} .. {_fmt(hours[-1] + _HOUR_NS)} missing: {', '.join(parts)}"
    )
    if len(run_first) > _MAX_RUNS:
        rest = run_first[_MAX_RUNS:]
        n_rest = int(np.sum(run_last[_MAX_RUNS:] - rest + 1))
        msg += f", and {len(rest)} more gaps ({n_rest} h) up to {_fmt(hours[run_last[-1]])}"
    return msg


def _step_values(
    f: _File,
    column: str,
    hours: np.ndarray,
    problems: list[Problem],
    rule: FillRule | None = None,
    value_range: ValueRange | None = None,
    notes: list[str] | None = None,
) -> np.ndarray:
    """Carry a step series forward: each hour takes the last row at or before the hour start.

    The rows in force during the horizon must lie in ``value_range``; with ``rule``, hours whose
    row holds no value (an empty cell) are filled (:func:`_fill_gaps`).
    """
    out = np.full(len(hours), np.nan)
    if not f.timestamps_ok or len(f.ts_ns) == 0:
        return out
    name = f.name(column)
    if f.ts_ns[0] > hours[0]:
        problems.append(
            Problem(
                f"the series starts at {_fmt(f.ts_ns[0])}, after the horizon start "
                f"{_fmt(hours[0])}; it needs a row at or before the start",
                file=f.label,
                row=int(f.lines[0]),
                column=name,
            )
        )
        return out
    cover = _step_end(f.ts_ns)
    horizon_end = int(hours[-1]) + _HOUR_NS
    if cover is not None and horizon_end > cover:
        problems.append(
            Problem(
                f"the series ends at {_fmt(f.ts_ns[-1])} and covers the hours up to {_fmt(cover)}, "
                f"but the horizon runs to {_fmt(horizon_end)}; add rows or end the horizon earlier "
                "(a step series is carried forward one row spacing past its last row, no further)",
                file=f.label,
                row=int(f.lines[-1]),
                column=name,
            )
        )
        return out
    values = f.values[column]
    pos = np.searchsorted(f.ts_ns, hours, side="right") - 1
    if value_range is not None:
        rows = np.unique(pos)
        n_before = len(problems)
        _check_range(f.label, name, values[rows], f.lines[rows], value_range, problems)
        if len(problems) > n_before:
            return out
    if rule is None:
        return values[pos]
    # Each hour from the first row's to the last row's (or the horizon end): the value in force,
    # NaN where that row's cell is empty. The rows beyond the horizon anchor its edge gaps.
    lo = -((-int(f.ts_ns[0])) // _HOUR_NS) * _HOUR_NS  # the first row, ceiled to the hour
    hi = max(int(hours[-1]), _floor_hour(int(f.ts_ns[-1])))
    grid = np.arange(lo, hi + _HOUR_NS, _HOUR_NS, dtype=np.int64)
    on_grid = values[np.searchsorted(f.ts_ns, grid, side="right") - 1]
    i0 = int((hours[0] - lo) // _HOUR_NS)
    return _fill_gaps(grid, on_grid, i0, len(hours), rule, f.label, name, column, problems, notes)
