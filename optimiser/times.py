"""Times people type: the horizon bounds of ``--start``/``--end`` and ``load_scenario(start=...)``.

Three forms are accepted:

* a date, ``2025-03-02``: midnight at the start of that day in the scenario's time zone;
* a local time without an offset, ``2025-03-02T06:00`` (or ``06:00:00``, or a space instead of
  ``T``): a wall-clock time in the scenario's time zone;
* a time with an offset or ``Z``, ``2025-03-02T06:00:00-06:00``: that instant, whatever the
  scenario's time zone.

A local time that does not exist in the time zone (clocks spring forward over it) or that
exists twice (clocks fall back) is an error naming it: add the offset to say which is meant.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from .errors import InputError, Problem
from .safety import excerpt

_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_TIME = r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))"
_OFFSET = r"(?P<offset>Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})"
_FORM = re.compile(rf"^{_DATE}(?:{_TIME}{_OFFSET}?)?$")

FORMS = "a date (2025-03-02), a local time (2025-03-02T06:00) or a time with an offset (2025-03-02T06:00:00-06:00)"


def parse_bound(value: str | dt.datetime | dt.date | pd.Timestamp, timezone: str, key: str = "start") -> pd.Timestamp:
    """Read a horizon bound typed by a person into a UTC timestamp.

    Parameters
    ----------
    value
        A date, a local time or a time with an offset (see the module), as text or as a
        ``datetime``/``date``/``Timestamp`` (naive ones are local times in ``timezone``).
    timezone
        IANA name of the scenario's time zone, in which dates and local times are read.
    key
        How messages name the bound (``start``, ``end``, ``--start``).

    Returns
    -------
    pandas.Timestamp
        The instant, tz-aware, in UTC.

    Raises
    ------
    InputError
        Naming ``key`` if the text is none of the forms, is not a real date or time, or is a
        local time that does not exist or exists twice in ``timezone``.
    """
    def fail(why: str) -> InputError:
        return InputError(Problem(why, key=key))

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"the time zone {excerpt(timezone)} is not an IANA name") from None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        text, naive = value.isoformat(), value.replace(tzinfo=None)
        if value.tzinfo is not None:
            return pd.Timestamp(value).tz_convert("UTC")
    elif isinstance(value, dt.date):
        text, naive = value.isoformat(), dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        m = _FORM.match(text)
        if m is None:
            raise fail(f"{excerpt(text)} is not {FORMS}")
        try:
            naive = dt.datetime.fromisoformat(f"{m['date']}T{m['time'] or '00:00'}")
        except ValueError as err:
            raise fail(f"{excerpt(text)} is not a real date and time ({err})") from None
        if m["offset"]:
            off = m["offset"].upper()
            off = "+00:00" if off == "Z" else (off + ":00" if len(off) == 3 else off)
            off = off if ":" in off else f"{off[:3]}:{off[3:]}"
            try:
                aware = dt.datetime.fromisoformat(naive.isoformat() + off)
            except ValueError as err:
                raise fail(f"{excerpt(text)} has an offset that cannot be read ({err})") from None
            return _timestamp(aware, text, fail)
    # a wall-clock time in the zone: refuse one the zone skips or repeats
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        a, b = (first, second) if first.utcoffset() > second.utcoffset() else (second, first)
        if _round_trip(first) != naive:
            raise fail(
                f"{excerpt(text)} does not exist in {timezone} (clocks spring forward over it); "
                "give a time that exists there, or a time with an offset"
            )
        raise fail(
            f"{excerpt(text)} occurs twice in {timezone} (clocks fall back that night); say which with an "
            f"offset: {naive:%Y-%m-%dT%H:%M}{_fmt_offset(a)} (the first) or "
            f"{naive:%Y-%m-%dT%H:%M}{_fmt_offset(b)} (the second)"
        )
    return _timestamp(first, text, fail)


def _round_trip(local: dt.datetime) -> dt.datetime:
    """The wall-clock time that ``local``'s instant shows in its zone (differs if it does not exist)."""
    return local.astimezone(dt.timezone.utc).astimezone(local.tzinfo).replace(tzinfo=None)


def _fmt_offset(local: dt.datetime) -> str:
    off = local.utcoffset()
    assert off is not None
    minutes = int(off.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _timestamp(aware: dt.datetime, text: str, fail) -> pd.Timestamp:  # type: ignore[no-untyped-def]
    try:
        return pd.Timestamp(aware).tz_convert("UTC").as_unit("ns")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        raise fail(f"{excerpt(text)} is outside the years this tool can represent (1678-2261)") from None


def horizon_bounds(
    start: str | dt.datetime | dt.date | pd.Timestamp | None,
    end: str | dt.datetime | dt.date | pd.Timestamp | None,
    timezone: str,
    default: tuple[str | None, str | None] = (None, None),
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Both horizon bounds, each read by :func:`parse_bound` (None where neither is given).

    Parameters
    ----------
    start, end
        The bounds asked for (``--start``/``--end``, ``load_scenario(start=...)``), or None.
    timezone
        IANA name of the scenario's time zone.
    default
        The bounds to use where ``start`` or ``end`` is None (the scenario's own).

    Raises
    ------
    InputError
        Listing the problems with both bounds, each naming its key (``start``, ``end``).
    """
    out: list[pd.Timestamp | None] = []
    problems: list[Problem] = []
    for key, value, fallback in (("start", start, default[0]), ("end", end, default[1])):
        value = fallback if value is None else value
        try:
            out.append(None if value is None else parse_bound(value, timezone, key))
        except InputError as err:
            problems += err.problems
            out.append(None)
    if problems:
        raise InputError(problems)
    return out[0], out[1]
