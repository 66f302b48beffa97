"""HiGHS options checked before the solve (``-O key=value``, ``solve(options=...)``).

HiGHS itself knows each option's type and range: :func:`check_options` asks it, through a
scratch ``highspy.Highs`` whose log is captured (so nothing is printed), and reports HiGHS's own
words for a value out of range. On top of that, a few values HiGHS accepts but that would stop
or endanger the process are refused (:data:`REFUSED`, :func:`_curated`):

* ``threads`` above the CPUs this process may use: HiGHS would try to start them all
  (``threads=100000`` hangs or aborts the process);
* a NaN or an infinity for any number option (HiGHS takes ``time_limit=nan`` and never stops;
  an infinity is HiGHS's default where it is allowed at all, and would not be strict JSON in
  ``summary.json``);
* options that make HiGHS read or write files of its own (``log_file``, ``solution_file``,
  ``write_model_file``, ...): a run writes only its results folder, whole; use
  ``--solver-log`` (``log=True``) to see HiGHS's log.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any

from .errors import InputError, Problem
from .safety import escape, excerpt

_lock = threading.Lock()
_scratch: Any = None
_log: list[str] = []


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def quiet_highs() -> Any:
    """A new ``highspy.Highs`` with its output off (:func:`optimiser._highs.new_highs`)."""
    from ._highs import new_highs

    h = new_highs()
    h.setOptionValue("output_flag", False)
    return h


def _highs() -> Any:
    """A scratch ``Highs`` with its log captured, created once per process."""
    global _scratch
    if _scratch is None:
        from .interrupt import install_callbacks

        h = quiet_highs()
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        if not install_callbacks(h, _log.append):
            h.setOptionValue("output_flag", False)
        _scratch = h
    return _scratch


def highs_version() -> str:
    """The version of the HiGHS library highspy runs (``1.16.0``)."""
    with _lock:
        return str(_highs().version())


def _is_file_option(name: str) -> bool:
    return "file" in name


def _coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """``value`` as HiGHS's type ``kind`` ("bool", "int", "double", "string"), or why it is not."""
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "on", "off"):
            return value.strip().lower() in ("true", "on"), None
        return None, "takes true or false"
    if kind == "int":
        if isinstance(value, bool):
            return None, "takes a whole number"
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str):
            try:
                return int(value.strip()), None
            except ValueError:
                pass
        return None, "takes a whole number"
    if kind == "double":
        if isinstance(value, bool):
            return None, "takes a number"
        try:
            x = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            return None, "takes a number"
        if not math.isfinite(x):  # NaN: HiGHS takes time_limit=nan and never stops; inf: not JSON
            return None, "takes a finite number (leave the option out for HiGHS's default, e.g. no time limit)"
        return x, None
    if isinstance(value, str):
        return value, None
    return None, "takes a word (a string)"


def _curated(name: str, value: Any) -> str | None:
    """Why HiGHS would take ``value`` but the run must not, or None."""
    if name == "threads":
        cpus = available_cpus()
        if value > cpus:
            return (f"is more threads than the {cpus} CPU(s) this process may use (HiGHS would try to "
                    f"start them all); use 0 (HiGHS chooses) to {cpus}")
    return None


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check HiGHS options by HiGHS's own metadata (name, type, range) and a few rules of ours.

    Parameters
    ----------
    options
        ``{name: value}`` as given to HiGHS (``{"solver": "ipm", "threads": 2}``); values may
        be text (``"2"``) where the type is clear.

    Returns
    -------
    dict
        The options with values of HiGHS's types (``"2"`` -> 2 for an integer option).

    Raises
    ------
    InputError
        Listing every bad option, each named with its value: unknown (with the nearest known
        names), of the wrong type, out of HiGHS's range (in HiGHS's words), NaN, more
        ``threads`` than CPUs, or an option that reads or writes files.
    """
    import highspy

    problems: list[Problem] = []
    out: dict[str, Any] = {}
    if not options:
        return out
    with _lock:
        h = _highs()
        known = [n for n in dir(h.getOptions()) if not n.startswith("_")]
        kinds = {highspy.HighsOptionType.kBool: "bool", highspy.HighsOptionType.kInt: "int",
                 highspy.HighsOptionType.kDouble: "double", highspy.HighsOptionType.kString: "string"}
        for name, value in options.items():
            shown = f"solver option {escape(name)}={excerpt(value) if isinstance(value, str) else escape(value)}"
            if not isinstance(name, str) or not name:
                problems.append(Problem(f"{shown}: the option has no name"))
                continue
            status, kind = h.getOptionType(name)
            if status != highspy.HighsStatus.kOk or kind not in kinds:
                near = difflib.get_close_matches(name, known, n=3)
                problems.append(Problem(f"{shown}: HiGHS has no option '{escape(name)}'"
                                        + (f" (did you mean {', '.join(near)}?)" if near else "")))
                continue
            if _is_file_option(name):
                problems.append(Problem(f"{shown}: options that make HiGHS read or write files are not passed "
                                        "(a run writes only its results folder, whole); use --solver-log to "
                                        "see HiGHS's log"))
                continue
            val, why = _coerce(kinds[kind], value)
            if why is None:
                _log.clear()
                before = h.getOptionValue(name)
                if h.setOptionValue(name, val) != highspy.HighsStatus.kOk:
                    said = [re.sub(r"^\w+:\s+", "", ln.split(":", 1)[-1].strip())
                            for ln in "".join(_log).splitlines() if ln.strip().upper().startswith("ERROR")]
                    why = "HiGHS refuses it" + (f": {escape(said[-1])}" if said else "")
                else:
                    why = _curated(name, val)
                if isinstance(before, tuple):  # highspy returns (status, value)
                    before = before[1]
                h.setOptionValue(name, before)
            if why is not None:
                problems.append(Problem(f"{shown}: {why}" if why.startswith(("HiGHS", "is ")) else
                                        f"{shown}: {name} {why}"))
            else:
                out[name] = val
    if problems:
        raise InputError(problems)
    return out
