"""What a worker does: solve a chain of cases with one :class:`optimiser.WarmSolver`, write each
case's row (and, if asked, its results folder) the moment it is known.

A case's row is one JSON file, ``rows/<case id>.json``, written to a temporary name and renamed
into place: it is there whole or not at all, whatever stops the process (SIGKILL included). It
is not flushed to disk (``fsync`` would cost more than a warm solve of a week): after a power
cut a row may be empty or missing, and a row that does not read back is solved again.
Its results folder, when kept, is written first (:meth:`optimiser.Results.write`, atomic too),
so a row on disk means the case is complete.

A failing case (bad input, infeasible, a solver failure) is a row with its status and error;
the chain goes on with the next case (cold: the WarmSolver starts afresh after a failure).
Every ``check_cold_every``-th warm solve is also solved cold; if the two disagree the
WarmSolver reports the cold answer and this chain solves the rest of its cases cold.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .plan import Chain, Task

#: Statuses of a case whose answer is known: a row with one of them is not solved again.
FINAL = ("ok", "infeasible", "bad input", "solver error")

#: Columns that measure time: they differ from run to run, and are left out of comparisons.
TIMING_COLUMNS = ("solve_s", "case_s", "case_cpu_s")

ROWS = "rows"
CASES = "cases"


@dataclass
class RunOptions:
    """How cases are solved (picklable; the same for every chain of a sweep)."""

    cold: bool = False
    keep_cases: bool = False
    solver: dict[str, Any] = field(default_factory=dict)
    time_limit: float | None = None
    check_cold_every: int = 10
    parent_pid: int | None = None
    """Stop between cases when this process is no longer the parent (the sweep was killed)."""


def run_chain(base: Any, chain: Chain, out: str, options: RunOptions,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Solve a chain's cases in order; write and return their rows.

    Parameters
    ----------
    base
        The base :class:`optimiser.Scenario`.
    out
        The sweep folder (rows go to ``rows/``, results folders to ``cases/``).
    on_row
        Called with each row as it is written (in-process runs report progress so).
    """
    from ..warm import WarmSolver

    ws = WarmSolver(options.solver, options.time_limit, check_cold_every=0 if options.cold else
                    options.check_cold_every)
    cold = options.cold
    rows = []
    folder = Path(out)
    for task in chain.tasks:
        if options.parent_pid is not None and os.getppid() != options.parent_pid:
            break  # the sweep that started this worker is gone: leave the rest to the next run
        if cold:
            ws.reset()
        row = solve_case(base, task, ws, folder, options, chain.id)
        if row.get("cold_fallback"):
            cold = True  # a warm answer disagreed with the cold one: no more warm starts here
        write_row(folder, row)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def solve_case(base: Any, task: Task, ws: Any, folder: Path, options: RunOptions, chain: str) -> dict[str, Any]:
    """One case: apply its changes to the base, solve, and its row (see :mod:`.table`)."""
    from .. import build
    from ..errors import DispatchError, InfeasibleError, InputError, SolverError
    from ..extra import load_extra
    from .table import row_from_summary

    t0, cpu0 = time.perf_counter(), time.process_time()
    meta: dict[str, Any] = {"case": task.id, "key": task.key, "chain": chain}
    try:
        sc = base
        if task.series:
            sc = sc.with_series(**{c: _column(c, v) for c, v in task.series.items()})
        if task.config:
            sc = sc.replace(**task.config)
        m = build(sc)
        for name in task.extra:
            fn = load_extra(name)
            try:
                fn(m)
            except DispatchError:
                raise
            except Exception as err:  # the user's code failed: name it
                raise InputError(f"extra {name} raised {type(err).__name__}: {err}") from err
        res = ws.solve(m, load_solution=False)
        summary = res.summary
        warm = summary["solver"].get("warm") or {}
        meta.update(status="ok", error=None, warm=bool(warm.get("warm")),
                    cold_fallback=warm.get("fallback") is not None)
        check = warm.get("cold_check")
        meta["cold_check_rel_diff"] = None if check is None else float(check["rel_diff"])
        if options.keep_cases:
            res.write(folder / CASES / task.id)
            meta["folder"] = f"{CASES}/{task.id}"
        row = row_from_summary(summary)
    except InputError as err:
        meta.update(status="bad input", error=_one_line("; ".join(str(p) for p in err.problems)))
        summary, row = None, {}
    except InfeasibleError as err:
        meta.update(status="infeasible", error=_one_line(err))
        summary, row = None, {}
    except SolverError as err:
        meta.update(status="solver error", error=_one_line(err))
        summary, row = None, {}
    except DispatchError as err:
        meta.update(status="error", error=_one_line(err))
        summary, row = None, {}
    except Exception as err:  # noqa: BLE001 - a bug in one case must not stop the others
        meta.update(status="error", error=f"{type(err).__name__}: {err}",
                    traceback=traceback.format_exc(limit=8))
        summary, row = None, {}
    meta["case_s"] = time.perf_counter() - t0
    meta["case_cpu_s"] = time.process_time() - cpu0
    return {**meta, **row, "summary": summary}


def _column(col: str, value: Any) -> Any:
    if isinstance(value, float):
        return lambda d: value * d[col]
    return value


def _one_line(err: BaseException | str) -> str:
    """An error as one line of the table (whitespace and newlines collapsed)."""
    return " ".join(str(err).split())


def write_row(folder: Path, row: dict[str, Any]) -> Path:
    """Write a case's row file atomically (temporary name, renamed into place)."""
    from ..results import _json_default

    rows = folder / ROWS
    rows.mkdir(parents=True, exist_ok=True)
    path = rows / f"{row['case']}.json"
    tmp = rows / f".{row['case']}.json.tmp-{os.getpid()}"
    text = json.dumps(row, default=_json_default, allow_nan=True)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def read_row(path: Path) -> dict[str, Any] | None:
    """A row file's content, or None if it cannot be read (it is then solved again)."""
    try:
        with open(path, encoding="utf-8") as fh:
            row = json.load(fh)
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) and "case" in row and "key" in row else None
