"""Read the input CSV files into one hourly frame.

Every input CSV has a ``timestamp`` column holding the *start* of each interval as ISO 8601
with an explicit UTC offset (``2024-07-01T20:00:00Z``, ``2024-07-01T15:00:00-05:00``). Columns
are recognised by name across all the files given; a file may hold other columns, which are
ignored.

Two kinds of series are read:

* **hourly** series (prices, reserve prices): every hour of the horizon must be present; rows
  finer than an hour (e.g. 15-minute prices) are averaged to the hour they fall in;
* **step** series (difficulty, BTC price, fees): a value stays in force until the next row, so
  each hour takes the value of the last row at or before the hour start.

Inputs in other layouts (ERCOT's own price extracts, CSVs in local time) are selected per
input with a ``format`` and read by :mod:`optimiser.markets` into the same UTC hours.

Every problem found is collected and raised at once as one :class:`~optimiser.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimiser.errors import InputError, Problem
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

__all__ = ["read_inputs", "TIMESTAMP_COLUMN"]

TIMESTAMP_COLUMN = "timestamp"
"""Name of the column holding the interval start in every input CSV."""

_HOUR_NS = 3_600_000_000_000
"""One hour. [ns]"""

_NAT = np.iinfo(np.int64).min
"""The int64 pattern of NaT."""

_MAX_RUNS = 5
"""How many runs of missing hours are listed in a missing-hours problem."""



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
        written here.
    base_dir
        Directory that relative paths in ``files`` are relative to (usually the scenario's).
    hourly_columns
        Columns that must have a value for every hour of the horizon. Sub-hourly rows are
        averaged (unweighted) to the hour they start in (the timestamp floored to the UTC hour).
    step_columns
        Columns whose value stays in force until the next row; each hour takes the value of the
        last row at or before the hour start. The first row must be at or before ``start``.
    optional_step_columns
        As ``step_columns``, but a column found in no file is simply left out of the result.
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
        ERCOT files (see :func:`~optimiser.markets.read_ercot_spp`), duplicate or out-of-order timestamps, empty or non-numeric values, columns
        found in no file or in several files, missing hours, step series starting after the
        horizon start, a bad or empty horizon.
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

    problems: list[Problem] = []
    n_before = len(problems)
    start_ns = _check_bound(start, "start", problems)
    end_ns = _check_bound(end, "end", problems)
    bounds_bad = len(problems) > n_before

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
    used = set(requested) | {TIMESTAMP_COLUMN}
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

    owners: dict[str, list[int]] = {c: [] for c in requested}
    for k, header in headers.items():
        if header is None:
            continue
        for c in requested:
            if c in header:
                owners[c].append(k)

    unreadable = [str(specs[k]) for k, header in headers.items() if header is None]
    wanted: dict[int, list[str]] = {k: [] for k in headers}  # input -> columns to read
    for c in requested:
        where = owners[c]
        if len(where) > 1:
            problems.append(
                Problem(
                    f"found in {len(where)} files ({', '.join(str(specs[k]) for k in where)}); "
                    "each column must come from exactly one file",
                    column=c,
                )
            )
        elif len(where) == 1:
            wanted[where[0]].append(c)
        elif c not in optional:
            searched = ", ".join(str(specs[k]) for k in headers if headers[k] is not None)
            msg = f"not found in any input file (searched: {searched or 'none'})"
            if unreadable:
                msg += f"; not searched, because unreadable: {', '.join(unreadable)}"
            problems.append(Problem(msg, column=c))

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
        parsed = _read_file(specs[k].file, paths[k], header, wanted[k], problems, zones.get(k))
        if parsed is not None:
            read[k] = parsed

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
                out[c] = _hourly_values(series_of[c], c, hours, problems)
        for c in step_all:
            if c in series_of:
                out[c] = _step_values(series_of[c], c, hours, problems)

    if problems:
        raise InputError(problems)

    index = pd.date_range(
        pd.Timestamp(start_ns, tz="UTC"), periods=len(hours), freq="h", name=TIMESTAMP_COLUMN
    )
    return pd.DataFrame({c: out[c] for c in hourly + step_all}, index=index, dtype=np.float64)


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
) -> _File | None:
    """Read the timestamp and the requested columns of one file, checking every row.

    With ``timezone`` (format local-time), timestamps are local wall-clock times without offset
    in that IANA zone; times that occur twice or never there are refused.
    """
    if TIMESTAMP_COLUMN not in header:
        return None  # already reported
    positions = [header.index(TIMESTAMP_COLUMN)] + [header.index(c) for c in columns]
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
    lines_all = np.arange(2, len(raw) + 2, dtype=np.int64)
    if _field_counts_differ(label, path, len(header), problems):
        return None

    if timezone is not None:
        got = _local_timestamps(label, raw, columns, lines_all, timezone, problems)
        if got is None:
            return None
        raw, ts_ns, lines_all, valid = got
        parsed = _File(label=label, columns=columns)
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

        parsed = _File(label=label, columns=columns)
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
            dtype=np.float64
        )
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            _report_rows(
                problems, label, c, lines[bad],
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


def _hourly_values(f: _File, column: str, hours: np.ndarray, problems: list[Problem]) -> np.ndarray:
    """Average a column to the hour and check every hour of the horizon is present."""
    out = np.full(len(hours), np.nan)
    if not f.timestamps_ok:
        return out  # timestamps already reported; missing hours would only repeat them
    hour_of_row = (f.ts_ns // _HOUR_NS) * _HOUR_NS
    values = f.values[column]
    inside = (hour_of_row >= hours[0]) & (hour_of_row <= hours[-1])
    hour_of_row = hour_of_row[inside]
    values = values[inside]
    if len(hour_of_row):
        first = np.flatnonzero(np.r_[True, hour_of_row[1:] != hour_of_row[:-1]])
        counts = np.diff(np.r_[first, len(hour_of_row)])
        means = np.add.reduceat(values, first) / counts
        pos = ((hour_of_row[first] - hours[0]) // _HOUR_NS).astype(np.intp)
        out[pos] = means
        present = np.zeros(len(hours), dtype=bool)
        present[pos] = True
    else:
        present = np.zeros(len(hours), dtype=bool)
    if not present.all():
        problems.append(
            Problem(_missing_hours_message(hours, ~present), file=f.label, column=column)
        )
    return out


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


def _step_values(f: _File, column: str, hours: np.ndarray, problems: list[Problem]) -> np.ndarray:
    """Carry a step series forward: each hour takes the last row at or before the hour start."""
    out = np.full(len(hours), np.nan)
    if not f.timestamps_ok or len(f.ts_ns) == 0:
        return out
    if f.ts_ns[0] > hours[0]:
        problems.append(
            Problem(
                f"the series starts at {_fmt(f.ts_ns[0])}, after the horizon start "
                f"{_fmt(hours[0])}; it needs a row at or before the start",
                file=f.label,
                row=int(f.lines[0]),
                column=column,
            )
        )
        return out
    cover = _step_end(f.ts_ns)
    horizon_end = int(hours[-1]) + 3_600_000_000_000
    if cover is not None and horizon_end > cover:
        problems.append(
            Problem(
                f"the series ends at {_fmt(f.ts_ns[-1])} and covers the hours up to {_fmt(cover)}, "
                f"but the horizon runs to {_fmt(horizon_end)}; add rows or end the horizon earlier "
                "(a step series is carried forward one row spacing past its last row, no further)",
                file=f.label,
                row=int(f.lines[-1]),
                column=column,
            )
        )
        return out
    pos = np.searchsorted(f.ts_ns, hours, side="right") - 1
    return f.values[column][pos]
