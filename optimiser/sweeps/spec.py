"""The sweep spec: a base scenario and what varies, read from TOML and checked whole.

A spec names a base scenario folder and varies dotted scenario keys
(``"gpu.tenant-a.contract_usd_per_mw_per_h"``, as :meth:`optimiser.Scenario.replace` takes them)
and input columns (``"series.btc_usd"``: a number multiplies the column, a string names a CSV
file holding the replacement), as a ``[grid]`` (every combination) and/or a list of
``[[case]]`` tables::

    base = "scenarios/example"                 # relative to the spec file, or absolute
    start = "2025-03-03"                       # optional: the horizon, as --start/--end take it
    end = "2025-03-10"
    [grid]
    "gpu.tenant-a.contract_usd_per_mw_per_h" = [180.0, 210.0, 240.0]
    "series.btc_usd" = [0.8, 1.0, 1.2]
    [[case]]
    name = "cheap-ppa-high-btc"
    "ppa.price_usd_per_mwh" = 25.0
    "series.btc_usd" = 1.5

A case may also edit the built model: ``extra = "caps.py:cap"`` (or a list), functions
``fn(m)`` as ``dispatch run --extra`` takes them (a file path relative to the spec file); a
top-level ``extra`` applies to every case. Optional top-level keys: ``name`` (a title), ``chain`` (how many cases of one structure one
worker solves in a row from the previous basis; default :data:`DEFAULT_CHAIN`), ``time_limit``
(seconds per solve) and ``[solver]`` (HiGHS options, as ``-O`` takes them).

:func:`load_spec` reads the file and the base scenario and checks everything it can before
anything is solved; every problem is collected into one :class:`~optimiser.errors.InputError`,
each naming the key at fault: an unknown top-level key, a key the scenario does not have (with
the nearest ones), a fleet the base does not have, an input column the base does not read, a
value of the wrong type or out of its plausible range, an empty grid list or a value listed
twice, duplicate case names, a base folder or replacement file not found. What only a
combination of values can break (a contract above the fleet's capacity) is found when that case
runs: its row says so and the other cases go on.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import json
import math
import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI (a dependency there)
    import tomli as tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Annotated, get_args, get_origin

from ..errors import InputError, Problem
from ..safety import check_input_file, excerpt

#: Cases of one structure that one worker solves in a row, each warm from the previous basis.
#: Fixed by the spec, never by the number of workers, so that the table does not depend on them.
DEFAULT_CHAIN = 25

#: Prefix of the keys that vary an input column.
SERIES = "series."

#: Keys of the spec itself.
TOP_KEYS = ("base", "name", "start", "end", "chain", "time_limit", "solver", "extra", "grid", "case")

#: The column of the table naming a case's own extras (when any case has some).
EXTRA = "extra"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

#: Scenario keys a sweep cannot vary: they name files or reshape how the inputs are read.
NOT_VARIED = ("inputs", "catalogue", "columns", "fill", "timezone")


@dataclass(frozen=True)
class Case:
    """One scenario of the sweep.

    Attributes
    ----------
    id
        Its name in the table and its folder: ``grid-000``, ``grid-001``, ... in the order of the
        grid (the last key varying fastest), then the ``[[case]]`` tables by ``name`` (or
        ``case-000``, ... when unnamed).
    values
        What it changes: ``{key: value}`` as written in the spec.
    """

    id: str
    values: dict[str, Any]
    extra: tuple[str, ...] = ()
    """The case's own model edits (``"path/file.py:function"``, paths absolute), after the spec's."""
    extra_text: str = ""
    """As written in the spec, for the table."""


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep spec (see the module).

    Attributes
    ----------
    base
        The base scenario folder, absolute.
    keys
        Every key varied, in the order of the spec (grid keys first).
    cases
        Every case, in the order of their ids.
    base_values
        The base scenario's value of every key (1.0 for a ``series.`` multiplier): a case that
        does not set a key has it in the table.
    series_files
        Replacement columns: ``{file as written: path}``.
    """

    path: Path | None
    base: Path
    name: str
    start: Any
    end: Any
    keys: tuple[str, ...]
    cases: tuple[Case, ...]
    chain: int = DEFAULT_CHAIN
    time_limit: float | None = None
    solver: dict[str, Any] = field(default_factory=dict)
    base_values: dict[str, Any] = field(default_factory=dict)
    series_files: dict[str, Path] = field(default_factory=dict)
    extra: tuple[str, ...] = ()
    """Model edits applied to every case (paths absolute)."""

    def values(self, case: Case) -> dict[str, Any]:
        """Every varied key's value in ``case`` (the base's where the case does not set it)."""
        return {k: case.extra_text if k == EXTRA else case.values.get(k, self.base_values.get(k))
                for k in self.keys}


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------


def load_spec(path: str | Path) -> tuple[SweepSpec, Any]:
    """Read a spec file and its base scenario; check every key and value.

    Returns
    -------
    (SweepSpec, Scenario)
        The spec and the base scenario (over the spec's horizon).

    Raises
    ------
    InputError
        Listing every problem (see the module), each naming the spec file and the key.
    """
    p = Path(path)
    check_input_file(p, "the sweep spec")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem("sweep spec not found", file=str(p))) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(Problem(f"not valid TOML: {err}", file=str(p))) from None
    return parse_spec(raw, p.resolve().parent, file=str(p))


def parse_spec(raw: Mapping[str, Any], folder: str | Path = ".", *, file: str = "sweep spec") -> tuple[SweepSpec, Any]:
    """Check a spec given as data (as read from TOML); relative paths are relative to ``folder``.

    Returns and raises as :func:`load_spec`.
    """
    from ..scenario import load_scenario

    folder = Path(folder)
    problems: list[Problem] = []

    def bad(key: str | None, message: str) -> None:
        problems.append(Problem(message, file=file, key=key))

    for k in raw:
        if k not in TOP_KEYS:
            bad(k, "unknown key" + _near(k, TOP_KEYS) + f" (a spec has {', '.join(TOP_KEYS)}; "
                "scenario keys go under [grid] or [[case]])")

    # -- base, horizon, options ----------------------------------------------------------------
    base_dir: Path | None = None
    base = raw.get("base")
    if base is None:
        bad("base", "required key is missing: the base scenario folder")
    elif not isinstance(base, str) or not base.strip():
        bad("base", f"give the base scenario folder as text, not {excerpt(base)}")
    else:
        b = Path(base).expanduser()
        base_dir = (b if b.is_absolute() else folder / b).resolve()
        if not base_dir.is_dir():
            bad("base", f"base scenario folder not found: {excerpt(base_dir, 200)}")
            base_dir = None
    name = raw.get("name", "sweep")
    if not isinstance(name, str):
        bad("name", f"give a title as text, not {excerpt(name)}")
        name = "sweep"
    start, end = raw.get("start"), raw.get("end")
    for key, v in (("start", start), ("end", end)):
        if v is not None and not isinstance(v, (str, dt.date, dt.datetime)):
            bad(key, f"give {FORMS_TEXT}, not {excerpt(v)}")
    chain = raw.get("chain", DEFAULT_CHAIN)
    if isinstance(chain, bool) or not isinstance(chain, int) or chain < 1:
        bad("chain", f"give a whole number of cases, at least 1, not {excerpt(chain)}")
        chain = DEFAULT_CHAIN
    time_limit = raw.get("time_limit")
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                   or not math.isfinite(time_limit) or time_limit <= 0):
        bad("time_limit", f"give seconds per solve, a number above 0, not {excerpt(time_limit)}")
        time_limit = None
    solver = raw.get("solver", {})
    if not isinstance(solver, Mapping):
        bad("solver", "give a table of HiGHS options ([solver] solver = \"simplex\")")
        solver = {}
    else:
        from ..options import check_options

        try:
            solver = check_options(dict(solver))
        except InputError as err:
            problems.extend(Problem(p.message, file=file, key=f"solver.{p.key}" if p.key else "solver")
                            for p in err.problems)
            solver = {}

    # -- grid and cases, as written --------------------------------------------------------------
    grid_raw = raw.get("grid", {})
    grid: dict[str, list[Any]] = {}
    if not isinstance(grid_raw, Mapping):
        bad("grid", "give a table: [grid] with one list of values a key")
    else:
        for key, values in _flatten(grid_raw).items():
            if not isinstance(values, list):
                bad(f"grid.{key}", f"give a list of values ([{excerpt(values)}, ...]), not one value")
            elif not values:
                bad(f"grid.{key}", "the list of values is empty: a grid of every combination would have no case")
            else:
                seen: list[Any] = []
                for v in values:
                    if any(_same(v, s) for s in seen):
                        bad(f"grid.{key}", f"the value {excerpt(v)} is listed twice")
                    seen.append(v)
                grid[key] = values
    extra = _extras(raw.get("extra"), folder, "extra", bad)
    cases_raw = raw.get("case", [])
    entries: list[tuple[str | None, dict[str, Any], int]] = []
    case_extras: list[tuple[tuple[str, ...], str]] = []
    if not isinstance(cases_raw, list) or not all(isinstance(c, Mapping) for c in cases_raw):
        bad("case", "give cases as [[case]] tables")
        cases_raw = []
    names: dict[str, int] = {}
    for i, c in enumerate(cases_raw):
        c = dict(c)
        cname = c.pop("name", None)
        where = f"case[{i}]" if cname is None else f"case '{cname}'"
        if cname is not None:
            if not isinstance(cname, str) or not _NAME_RE.match(cname):
                bad(f"case[{i}].name", f"{excerpt(cname)} is not a usable case name: letters, digits, '_', '-', "
                    "'.', starting with a letter or digit (it names the case's folder)")
                cname = None
            elif cname in names:
                bad(f"case[{i}].name", f"duplicate case name {excerpt(cname)} (also case[{names[cname]}])")
                cname = None
            else:
                names[cname] = i
        given = c.pop("extra", None)
        text = given if isinstance(given, str) else " + ".join(map(str, given)) if isinstance(given, list) else ""
        case_extras.append((_extras(given, folder, f"{where}.extra", bad), text))
        flat = _flatten(c)
        for key, v in flat.items():
            if isinstance(v, Mapping):
                bad(f"{where}.{key}", "give one value, not a table")
        entries.append((cname, flat, i))
    if not grid and not entries and not any(p.key in ("grid", "case") for p in problems):
        bad("grid", "the spec varies nothing: give a [grid] of values or [[case]] tables")

    # -- the base scenario, then every key and value against it ---------------------------------
    scenario = None
    if base_dir is not None:
        try:
            scenario = load_scenario(base_dir, start=_bound(start), end=_bound(end))
        except InputError as err:
            problems.extend(Problem(p.message, file=p.file, row=p.row, column=p.column,
                                    key=p.key if p.file is not None else (p.key or "base")) for p in err.problems)
    keys: list[str] = list(grid)
    for _, flat, _ in entries:
        keys += [k for k in flat if k not in keys]
    base_values: dict[str, Any] = {}
    series_files: dict[str, Path] = {}
    if scenario is not None:
        checker = _KeyChecker(scenario, folder)
        for key in keys:
            ok, base_value = checker.key(key)
            if not ok:
                bad(_where(key, grid, entries), checker.message)
                continue
            base_values[key] = base_value
            values = [(f"grid.{key}", v) for v in grid.get(key, [])]
            values += [(f"{'case[' + str(i) + ']' if n is None else 'case ' + repr(n)}.{key}", flat[key])
                       for n, flat, i in entries if key in flat]
            for where, v in values:
                msg = checker.value(key, v, series_files)
                if msg:
                    bad(where, msg)
    if any(e for e, _ in case_extras):
        keys.append(EXTRA)
        base_values[EXTRA] = ""
    if problems:
        raise InputError(problems)

    # -- the cases ---------------------------------------------------------------------------------
    cases: list[Case] = []
    n_grid = math.prod(len(v) for v in grid.values()) if grid else 0
    width = max(3, len(str(max(n_grid, len(entries)) - 1)))
    for i, combo in enumerate(itertools.product(*grid.values()) if grid else ()):
        cases.append(Case(f"grid-{i:0{width}d}", dict(zip(grid, combo))))
    for j, (cname, flat, _) in enumerate(entries):
        cases.append(Case(cname or f"case-{j:0{width}d}", flat, *case_extras[j]))
    ids: dict[str, str] = {}
    for c in cases:
        if c.id in ids:
            problems.append(Problem(f"case name {excerpt(c.id)} is also the id of another case: rename it",
                                    file=file, key="case"))
        ids[c.id] = c.id
    if problems:
        raise InputError(problems)
    assert base_dir is not None
    spec = SweepSpec(path=None if file == "sweep spec" else Path(file).resolve(), base=base_dir, name=name,
                     start=start, end=end, keys=tuple(keys), cases=tuple(sorted(cases, key=lambda c: c.id)),
                     chain=chain, time_limit=None if time_limit is None else float(time_limit), solver=solver,
                     base_values=base_values, series_files=series_files, extra=extra)
    return spec, scenario


def _extras(given: Any, folder: Path, key: str, bad: Any) -> tuple[str, ...]:
    """Model edits as given (a string or a list of them), path forms made absolute and each
    loaded once to check it (:func:`optimiser.extra.load_extra`)."""
    from ..extra import load_extra

    if given is None:
        return ()
    items = [given] if isinstance(given, str) else given
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        bad(key, f"give 'module:function' or 'path/file.py:function', or a list of them, not {excerpt(given)}")
        return ()
    out = []
    for item in items:
        module, sep, fn = item.rpartition(":")
        if sep and (module.endswith(".py") or "/" in module or "\\" in module):
            p = Path(module).expanduser()
            item = f"{p if p.is_absolute() else (folder / p).resolve()}:{fn}"
        try:
            load_extra(item)
        except InputError as err:
            for pr in err.problems:
                bad(key, pr.message.removeprefix("--extra "))
            continue
        out.append(item)
    return tuple(out)


FORMS_TEXT = "a date (2025-03-02), a local time (2025-03-02T06:00) or a time with an offset"


def _bound(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.tzinfo is None:
        return v.isoformat()
    return v


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"gpu": {"tenant-a": {"x": 1}}}`` (TOML's dotted keys unquoted) -> ``{"gpu.tenant-a.x": 1}``."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                             and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _near(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _where(key: str, grid: Mapping[str, Any], entries: list) -> str:
    if key in grid:
        return f"grid.{key}"
    for n, flat, i in entries:
        if key in flat:
            return f"{'case[' + str(i) + ']' if n is None else 'case ' + repr(n)}.{key}"
    return key


# ---------------------------------------------------------------------------------------------
# keys and values against the scenario's schema
# ---------------------------------------------------------------------------------------------


class _KeyChecker:
    """Resolves dotted keys against :class:`~optimiser.scenario.ScenarioConfig` and the base."""

    def __init__(self, scenario: Any, folder: Path) -> None:
        self.sc = scenario
        self.folder = folder
        self.raw = scenario.config.model_dump(mode="json")
        self.message = ""
        self._fields: dict[str, Any] = {}

    def key(self, key: str) -> tuple[bool, Any]:
        """Whether ``key`` can be varied (else :attr:`message` says why), and its base value."""
        from ..scenario import ScenarioConfig

        if key.startswith(SERIES):
            col = key[len(SERIES):]
            columns = list(self.sc.data.columns)
            if col not in columns:
                self.message = (f"the base scenario reads no input column {excerpt(col)}{_near(col, columns)}; "
                                f"it reads {', '.join(columns)}")
                return False, None
            return True, 1.0
        parts = key.split(".")
        model: Any = ScenarioConfig
        node: Any = self.raw
        path = []
        i = 0
        while i < len(parts):
            p = parts[i]
            path.append(p)
            fields = model.model_fields
            if p not in fields:
                here = ".".join(path[:-1]) or "the scenario"
                self.message = (f"unknown key: {here} has no key {excerpt(p)}{_near(p, fields)} "
                                "(scenario keys: docs/scenario.md; input columns: series.<column>)")
                return False, None
            if i == 0 and p in NOT_VARIED:
                self.message = f"'{p}' cannot be varied by a sweep (it names files or how they are read)"
                return False, None
            info = fields[p]
            inner, many = _table_of(info.annotation)
            last = i == len(parts) - 1
            if inner is not None and last:
                self.message = f"'{'.'.join(path)}' is a table, not a value: vary one of its keys"
                return False, None
            if inner is None and not last:
                self.message = f"'{'.'.join(path)}' is a value, not a table: nothing is below it"
                return False, None
            if inner is None:
                self._fields[key] = info
                return True, node.get(p) if isinstance(node, Mapping) else None
            node = node.get(p) if isinstance(node, Mapping) else None
            if many:
                i += 1
                if i == len(parts) - 1 or i >= len(parts):
                    self.message = (f"'{'.'.join(path)}' holds a list of tables: name one "
                                    f"('{'.'.join(path)}.<name>.<key>')")
                    return False, None
                member = parts[i]
                items = node or []
                named = [x for x in items if member in (x.get("name"), x.get("product"))]
                if not named:
                    have = [x.get("name") or x.get("product") for x in items]
                    self.message = (f"the base scenario has no {p} named {excerpt(member)}"
                                    + (f"{_near(member, have)}; it has {', '.join(map(str, have))}" if have
                                       else f"; it has no [[{p}]] at all"))
                    return False, None
                node = named[0]
                path.append(member)
            model = inner
            i += 1
        self.message = f"'{key}' names no value"
        return False, None

    def value(self, key: str, value: Any, files: dict[str, Path]) -> str | None:
        """Why ``value`` cannot be given to ``key``, or None."""
        if isinstance(value, (Mapping)) or value is None:
            return f"give a value, not {excerpt(value)}"
        if key.startswith(SERIES):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                return (f"give a multiplier (a number) or the name of a CSV file holding the column, "
                        f"not {excerpt(value)}")
            if isinstance(value, str):
                return self._series_file(key[len(SERIES):], value, files)
            if not math.isfinite(value):
                return f"the multiplier {value} is not a finite number"
            return None
        return _check_value(self._fields[key], value)

    def _series_file(self, col: str, name: str, files: dict[str, Path]) -> str | None:
        p = Path(name).expanduser()
        p = p if p.is_absolute() else self.folder / p
        if not p.is_file():
            return f"replacement file not found: {excerpt(p, 200)}"
        try:
            read_series(p, col, self.sc)
        except InputError as err:
            return "; ".join(str(x) for x in err.problems)
        files[name] = p.resolve()
        return None


def _table_of(annotation: Any) -> tuple[Any, bool]:
    """The table model an annotation holds (``Site``, ``PPA | None``, ``tuple[GpuFleet, ...]``)
    and whether it is a list of them; ``(None, False)`` for a value."""
    from pydantic import BaseModel

    ann = annotation
    if get_origin(ann) is Annotated:
        ann = get_args(ann)[0]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
    args = [a for a in get_args(ann) if a is not type(None) and a is not Ellipsis]
    if get_origin(ann) is tuple and len(args) == 1:
        inner = args[0]
        if get_origin(inner) is Annotated:
            inner = get_args(inner)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, True
        return None, False
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0], False
    return None, False


@lru_cache(maxsize=None)
def _adapter(info: Any) -> Any:
    from pydantic import TypeAdapter

    ann = info.annotation
    return TypeAdapter(Annotated[(ann, *info.metadata)] if info.metadata else ann)


def _check_value(info: Any, value: Any) -> str | None:
    """Why a value does not fit one scenario field (type and plausible range), or None."""
    from pydantic import ValidationError

    try:
        _adapter(info).validate_python(value)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        msg = e["msg"].removeprefix("Value error, ")
        if isinstance(value, bool) and e["type"] in ("float_type", "int_type"):
            msg = f"{str(value).lower()} is a boolean, not a number"
        elif isinstance(value, str) and e["type"] in ("float_type", "int_type"):
            msg = f"{value!r} is text, not a number (write it without quotes)"
        elif repr(value) not in msg and "out of range" not in msg:
            msg += f" (got {excerpt(value)})"
        return msg
    return None


# ---------------------------------------------------------------------------------------------
# replacement columns
# ---------------------------------------------------------------------------------------------


def read_series(path: Path, column: str, scenario: Any) -> Any:
    """The column ``column`` of a CSV file over the scenario's hours, checked as inputs are
    (:func:`optimiser.inputs.read_inputs`: timestamps, gaps, plausible range); a numpy array.

    Raises
    ------
    InputError
        Naming the file, the line and the column.
    """
    import pandas as pd

    from ..inputs import read_inputs

    cfg = scenario.config
    step = column in ("difficulty", "btc_usd", "fees_btc_per_block", "subsidy_btc")
    idx = scenario.timestamps
    frame = read_inputs([path.name], base_dir=path.parent,
                        hourly_columns=[] if step else [column], step_columns=[column] if step else [],
                        start=idx[0], end=idx[-1] + pd.Timedelta(hours=1),
                        ranges={k: v for k, v in cfg.column_ranges().items() if k == column})
    return frame[column].to_numpy(dtype=float)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical(value: Any) -> str:
    """Text of a value for hashing: JSON with sorted keys, floats as ``repr``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
