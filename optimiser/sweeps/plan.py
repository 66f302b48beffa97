"""From a spec to work: each case's key (a hash of its inputs), its structure group, and the
chains of cases one worker solves in a row.

A case's **key** is the SHA-256 of what its answer depends on: the base scenario's resolved
configuration and hourly data (their hashes, as in ``summary.json``'s provenance), the case's
changes (a replacement file by the hash of its bytes), the solver options and time limit, and the
tool's version. A row whose key is the case's key is that case's answer: a sweep started again
does not solve it again.

Cases are **grouped by structure**: the values that may change the shape of the LP (a text or a
boolean, a table's presence, a key the base does not set) must be equal within a group; numbers
where the base has a number and ``series.`` multipliers only change costs, bounds and a few
matrix values, which :class:`optimiser.WarmSolver` changes in place. (A number that does change
the shape only costs speed: the WarmSolver sees it and hands the model over whole.)

Within a group cases are put in **snake order** over the values' ranks (a reflected
mixed-radix Gray code: neighbours differ in one key by one step), so that each solve starts from
the basis of a close neighbour, and cut into **chains** of at most ``chain`` cases. Chains depend
on the spec alone, never on the number of workers or the engine: the same spec gives the same
table on one core, on eight, or on a Dask cluster.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .spec import SERIES, Case, SweepSpec, canonical, file_digest


@dataclass
class Task:
    """One case as a worker needs it (picklable, small)."""

    id: str
    key: str
    config: dict[str, Any]
    """Dotted scenario keys and their values, for :meth:`optimiser.Scenario.replace`."""
    series: dict[str, Any]
    """Column -> a multiplier (float) or the replacement column (numpy array)."""
    extra: tuple[str, ...] = ()
    """Model edits, ``"module:function"`` or ``"/abs/file.py:function"``, in order."""


@dataclass
class Chain:
    """Cases of one structure, solved in this order by one :class:`optimiser.WarmSolver`."""

    id: str
    tasks: list[Task] = field(default_factory=list)


def base_digest(spec: SweepSpec, scenario: Any) -> str:
    """SHA-256 of what every case shares: the base scenario as solved, the options, the version."""
    from ..outdir import tool_version
    from ..provenance import config_sha256, data_sha256

    doc = {"config": config_sha256(scenario.config), "data": data_sha256(scenario.data),
           "solver": spec.solver, "time_limit": spec.time_limit, "tool": tool_version(),
           "extra": [extra_digest(e) for e in spec.extra]}
    return hashlib.sha256(canonical(doc).encode()).hexdigest()


def case_key(base: str, case: Case, file_hashes: dict[str, str]) -> str:
    """SHA-256 of a case's inputs (see the module)."""
    changes = []
    for k in sorted(case.values):
        v = case.values[k]
        if k.startswith(SERIES) and isinstance(v, str):
            v = {"file": file_hashes[v]}
        elif isinstance(v, int) and not isinstance(v, bool):
            v = float(v)  # 250 and 250.0 are the same scenario
        changes.append([k, v])
    if case.extra:
        changes.append(["extra", [extra_digest(e) for e in case.extra]])
    return hashlib.sha256(f"{base}\n{canonical(changes)}".encode()).hexdigest()


def extra_digest(extra: str) -> str:
    """An extra by name, and by the hash of its file's bytes when it names a file."""
    from pathlib import Path

    module, _, fn = extra.rpartition(":")
    if module.endswith(".py") and Path(module).is_file():
        return f"{file_digest(Path(module))}:{fn}"
    return extra


def is_structural(spec: SweepSpec, key: str, value: Any) -> bool:
    """Whether a value may change the LP's shape (see the module)."""
    if key.startswith(SERIES):
        return False
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    base = spec.base_values.get(key)
    return not (number and isinstance(base, (int, float)) and not isinstance(base, bool))


def plan(spec: SweepSpec, scenario: Any, series: dict[str, np.ndarray] | None = None) -> tuple[dict[str, str], list[Chain]]:
    """Each case's key and the chains to solve.

    Parameters
    ----------
    series
        Replacement columns already read, ``{file as written: array}``; read here if not given.

    Returns
    -------
    (keys, chains)
        ``{case id: key}`` for every case, and the chains of every case (in the spec's order of
        groups: the group of the first case id first).
    """
    from .spec import read_series

    series = dict(series or {})
    hashes = {name: file_digest(p) for name, p in spec.series_files.items()}
    base = base_digest(spec, scenario)
    keys = {c.id: case_key(base, c, hashes) for c in spec.cases}

    groups: dict[str, list[Case]] = {}
    for c in spec.cases:
        sig = canonical([sorted([k, v] for k, v in c.values.items() if is_structural(spec, k, v)), c.extra])
        groups.setdefault(sig, []).append(c)

    chains: list[Chain] = []
    for g, cases in enumerate(groups.values()):
        ordered = snake_order(spec, cases)
        n = math.ceil(len(ordered) / spec.chain)
        size, extra = divmod(len(ordered), n)
        start = 0
        for j in range(n):
            stop = start + size + (1 if j < extra else 0)
            chain = Chain(f"{g:03d}-{j:03d}")
            for c in ordered[start:stop]:
                config, cols = {}, {}
                for k, v in c.values.items():
                    if k.startswith(SERIES):
                        col = k[len(SERIES):]
                        if isinstance(v, str):
                            if v not in series:
                                series[v] = read_series(spec.series_files[v], col, scenario)
                            cols[col] = series[v]
                        else:
                            cols[col] = float(v)
                    else:
                        config[k] = v
                chain.tasks.append(Task(c.id, keys[c.id], config, cols, spec.extra + c.extra))
            chains.append(chain)
            start = stop
    return keys, chains


def snake_order(spec: SweepSpec, cases: list[Case]) -> list[Case]:
    """Cases in snake order over the ranks of their values, key by key in the spec's order."""
    values = [spec.values(c) for c in cases]
    ranks: list[dict[str, int]] = []
    for k in spec.keys:
        distinct = sorted({_sortable(v[k]) for v in values})
        ranks.append({d: i for i, d in enumerate(distinct)})
    sizes = [len(r) for r in ranks]

    def position(i: int) -> tuple:
        digits = [ranks[j][_sortable(values[i][k])] for j, k in enumerate(spec.keys)]
        out, parity = [], 0
        for d, n in zip(digits, sizes):
            out.append(n - 1 - d if parity % 2 else d)
            parity += d
        return tuple(out) + (cases[i].id,)

    return [cases[i] for i in sorted(range(len(cases)), key=position)]


def _sortable(v: Any) -> tuple:
    if isinstance(v, bool):
        return (1, str(v))
    if isinstance(v, (int, float)):
        return (0, float(v), "")
    return (2, str(v))
