"""Running a sweep: the folder, the plan, the engine, the table.

Engines:

``in-process``
    One worker (``workers=1``, or a single chain): the chains run here, one after another.
``local``
    Worker processes on this machine (default: one per core this process may use,
    ``os.sched_getaffinity``), a chain a task.
``dask``
    A Dask distributed scheduler (``scheduler="tcp://host:8786"``, or a
    ``distributed.Client``): a chain a task, on as many machines as the cluster has. The sweep
    folder should be on a file system the workers share (as home and scratch are on SLURM or PBS
    clusters) for progress case by case and for ``keep_cases``; without one each chain's rows come
    back with its result and the table is complete all the same.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..progress import Progress
from .folder import open_sweep_folder
from .plan import Chain, plan
from .spec import SweepSpec, _bound, load_spec
from .table import assemble, write_table
from .worker import CASES, FINAL, ROWS, RunOptions, read_row, run_chain, write_row

#: Seconds between looks at the rows folder while workers run.
POLL_S = 0.2


@dataclass
class SweepResult:
    """What :func:`sweep` hands back.

    Attributes
    ----------
    folder
        The sweep folder, absolute.
    table
        The table (as ``cases.parquet``; see :mod:`optimiser.sweeps.table`).
    reused
        Cases complete before this run (not solved again).
    solved
        Cases this run solved (or failed).
    not_run
        Cases without a row at the end (a worker lost): running the sweep again finishes them.
    warnings
        The sweep's warnings (a warm answer that disagreed with the cold one, a lost worker).
    """

    folder: Path
    table: pd.DataFrame
    spec: SweepSpec
    engine: str
    workers: int
    reused: int
    solved: int
    not_run: int
    wall_s: float
    warnings: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Cases that ran and failed. [-]"""
        return int((~self.table["status"].isin(["ok", "not run"])).sum())


def sweep(
    spec: str | Path | SweepSpec | tuple[SweepSpec, Any],
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    cold: bool = False,
    keep_cases: bool = False,
    plots: bool = True,
    progress: Callable[[Progress], None] | None = None,
    check_cold_every: int = 10,
) -> SweepResult:
    """Solve every case of a sweep spec, warm-started, resumable; write the table and plots.

    Parameters
    ----------
    spec
        A spec file (TOML, see :mod:`optimiser.sweeps.spec`), or what :func:`load_spec` returns.
    out
        The sweep folder: new, empty, or a sweep folder (the sweep resumes there: cases whose row
        holds the answer to the same inputs are not solved again). See :mod:`.folder`.
    workers
        Local worker processes; default one per core this process may use. Ignored with
        ``scheduler``.
    scheduler
        A Dask scheduler address (``"tcp://10.0.0.5:8786"``), a ``distributed.Client``, or a cluster
        object (``LocalCluster``, dask-jobqueue's ``SLURMCluster``).
    cold
        Solve every case from scratch (no warm starts).
    keep_cases
        Also write each case's results folder, ``cases/<case id>/`` (``dispatch.csv``,
        ``summary.json``): about as long again as a warm solve of a year.
    plots
        Write ``plots/*.png`` (:mod:`optimiser.sweep_plots`).
    progress
        Called with a :class:`~optimiser.progress.Progress` at the start, after each case, on a
        warning and at the end (from this thread). Nothing is printed.
    check_cold_every
        Every this many warm solves of a chain, solve the case cold too and compare (relative
        1e-7); on a mismatch the chain goes on cold. 0: never.

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        A bad spec (every problem, each naming its key), before anything is solved.
    SweepFolderError
        ``out`` may not hold a sweep, or another sweep is writing it.
    KeyboardInterrupt
        Ctrl-C: the workers stop, the rows written so far stay and the table is written with the
        remaining cases ``not run``; running the sweep again finishes them.
    """
    from .folder import check_sweep_folder

    t0 = time.perf_counter()
    check_sweep_folder(out)  # before anything is read
    if isinstance(spec, (str, Path)):
        spec_path: Path | None = Path(spec)
        spec, base = load_spec(spec)
    elif isinstance(spec, tuple):
        spec_path = spec[0].path
        spec, base = spec
    else:
        from ..scenario import load_scenario

        spec_path = spec.path
        base = load_scenario(spec.base, start=_bound(spec.start), end=_bound(spec.end))
    keys, chains = plan(spec, base)
    folder, lock = open_sweep_folder(out)
    try:
        _clean_stale_rows(folder / ROWS)
        if spec_path is not None:
            _write_text(folder / "spec.toml", Path(spec_path).read_text(encoding="utf-8"))
        done: dict[str, dict[str, Any]] = {}
        for c in spec.cases:
            r = read_row(folder / ROWS / f"{c.id}.json")
            if r is not None and r["key"] == keys[c.id] and r.get("status") in FINAL and (
                    not keep_cases or r.get("status") != "ok" or (folder / CASES / c.id / "summary.json").is_file()):
                done[c.id] = r
        todo = [Chain(ch.id, [t for t in ch.tasks if t.id not in done]) for ch in chains]
        todo = sorted((ch for ch in todo if ch.tasks), key=lambda ch: (-len(ch.tasks), ch.id))
        options = RunOptions(cold=cold, keep_cases=keep_cases, solver=spec.solver, time_limit=spec.time_limit,
                             check_cold_every=check_cold_every)
        tracker = _Tracker(spec, keys, done, progress, folder)
        tracker.emit("start")
        if scheduler is not None:
            engine, n = "dask", _run_dask(scheduler, base, todo, folder, options, tracker)
        else:
            n = _workers(workers)
            if min(n, len(todo)) <= 1:
                engine, n = "in-process", 1
                for ch in todo:
                    run_chain(base, ch, str(folder), options, on_row=tracker.row)
            else:
                engine = "local"
                n = min(n, len(todo))
                _run_local(n, base, todo, folder, options, tracker)
        table, not_run = _finish(spec, keys, folder)
        paths = []
        if plots:
            from ..sweep_plots import write_plots

            paths = write_plots(table, spec.keys, folder / "plots")
        tracker.emit("end")
        return SweepResult(folder, table, spec, engine, n, len(done), tracker.solved, not_run,
                           time.perf_counter() - t0, tracker.warnings, paths)
    except BaseException:
        try:  # the table of what is done so far; the next run finishes it
            _finish(spec, keys, folder)
        except Exception:  # noqa: BLE001 - never hide the original error
            pass
        raise
    finally:
        lock.close()


def _clean_stale_rows(rows: Path) -> None:
    """Remove the temporary row files of killed workers (``.ID.json.tmp-PID`` of a PID gone)."""
    from ..results import _alive

    if not rows.is_dir():
        return
    for p in rows.glob(".*.json.tmp-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                p.unlink()
            except OSError:
                pass


def _workers(workers: int | None) -> int:
    if workers is not None:
        if workers < 1:
            from ..errors import InputError

            raise InputError(f"workers must be at least 1, not {workers}")
        return int(workers)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _write_text(path: Path, text: str) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _finish(spec: SweepSpec, keys: dict[str, str], folder: Path) -> tuple[pd.DataFrame, int]:
    """Assemble the table from the row files of the spec's cases (those of the same inputs)."""
    rows = {}
    for c in spec.cases:
        r = read_row(folder / ROWS / f"{c.id}.json")
        if r is not None and r["key"] == keys[c.id]:
            rows[c.id] = r
    table = assemble(spec, rows)
    write_table(table, folder)
    return table, int((table["status"] == "not run").sum())


class _Tracker:
    """Turns rows appearing on disk (or handed over in-process) into progress events."""

    def __init__(self, spec: SweepSpec, keys: dict[str, str], done: dict[str, dict], callback: Any,
                 folder: Path) -> None:
        self.keys = keys
        self.callback = callback
        self.rows_dir = folder / ROWS
        self.total = len(spec.cases)
        self.reused = len(done)
        self.failed = sum(1 for r in done.values() if r.get("status") != "ok")
        self.finished: set[str] = set(done)
        self.solved = 0
        self.warnings: list[str] = []
        self.t0 = time.perf_counter()
        self._seen: dict[str, int] = {}
        try:
            for e in os.scandir(self.rows_dir):
                self._seen[e.name] = e.stat().st_mtime_ns
        except OSError:
            pass

    def emit(self, event: str, case: str | None = None, status: str | None = None, message: str | None = None) -> None:
        if self.callback is not None:
            self.callback(Progress(event, self.total, len(self.finished), self.failed, self.reused,  # type: ignore[arg-type]
                                   time.perf_counter() - self.t0, case, status, message))

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.emit("warning", message=message)

    def row(self, row: dict[str, Any]) -> None:
        case = row["case"]
        if case in self.finished or self.keys.get(case) != row.get("key"):
            return
        self.finished.add(case)
        self.solved += 1
        status = row.get("status", "error")
        if status != "ok":
            self.failed += 1
        if row.get("cold_fallback"):
            self.warn(f"case {case}: the warm answer disagreed with a cold solve of it (relative difference above "
                      "1e-7); the cold answer is reported and the rest of its chain is solved cold")
        self.emit("case", case, status)

    def poll(self) -> None:
        """Read the rows written since the last look."""
        try:
            entries = list(os.scandir(self.rows_dir))
        except OSError:
            return
        for e in entries:
            if not e.name.endswith(".json") or e.name.startswith("."):
                continue
            try:
                mtime = e.stat().st_mtime_ns
            except OSError:
                continue
            if self._seen.get(e.name) == mtime:
                continue
            self._seen[e.name] = mtime
            if e.name[:-5] in self.finished or e.name[:-5] not in self.keys:
                continue
            r = read_row(Path(e.path))
            if r is not None:
                self.row(r)


# ---------------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------------

_BASE: Any = None


def _init_local(base: Any) -> None:
    global _BASE
    _BASE = base
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the sweep stops its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker must not inherit the command's handler


def _local_chain(chain: Chain, out: str, options: RunOptions) -> list[dict[str, Any]]:
    return run_chain(_BASE, chain, out, options)


def start_method() -> str:
    """How local workers start: ``fork`` on Linux from a process with one thread (instant: the
    base scenario and the imports are inherited), else ``spawn``; ``DISPATCH_SWEEP_START`` overrides."""
    method = os.environ.get("DISPATCH_SWEEP_START")
    if method:
        return method
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _run_local(n: int, base: Any, chains: list[Chain], folder: Path, options: RunOptions, tracker: _Tracker) -> None:
    ctx = multiprocessing.get_context(start_method())
    options = RunOptions(**{**options.__dict__, "parent_pid": os.getpid()})
    ex = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_local, initargs=(base,))
    futures = {ex.submit(_local_chain, ch, str(folder), options): ch for ch in chains}
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            tracker.poll()
            for f in finished:
                _collect(f, futures[f], folder, tracker)
        ex.shutdown(wait=True)
    except BaseException:
        procs = list(getattr(ex, "_processes", {}).values())
        ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # a chain in progress stops now; its finished cases are on disk
            try:
                p.terminate()
            except Exception:  # noqa: BLE001
                pass
        for p in procs:
            p.join(timeout=5)
        raise


def _collect(future: Any, chain: Chain, folder: Path, tracker: _Tracker) -> None:
    """A chain's rows, written here when the worker could not (a file system it does not share)."""
    try:
        rows = future.result()
    except Exception as err:  # noqa: BLE001 - a lost worker: its cases stay to do
        tracker.poll()
        left = [t.id for t in chain.tasks if t.id not in tracker.finished]
        if left:
            tracker.warn(f"chain {chain.id}: the worker was lost ({type(err).__name__}: {err}); "
                         f"{len(left)} case(s) not run, run the sweep again to finish them")
        return
    for row in rows:
        path = folder / ROWS / f"{row['case']}.json"
        on_disk = read_row(path)
        if on_disk is None or on_disk.get("key") != row.get("key"):
            write_row(folder, row)
        tracker.row(row)


def _dask_chain(base: Any, chain: Chain, out: str, options: RunOptions) -> list[dict[str, Any]]:
    return run_chain(base, chain, out, options)


def _run_dask(scheduler: Any, base: Any, chains: list[Chain], folder: Path, options: RunOptions,
              tracker: _Tracker) -> int:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - an install without the extra
        from ..errors import InputError

        raise InputError("a Dask scheduler needs the 'distributed' package: pip install 'dispatch-optimiser[sweep]'") from None
    own = not isinstance(scheduler, Client)
    if own and not isinstance(scheduler, str) and hasattr(scheduler, "scheduler_address"):
        scheduler = scheduler.scheduler_address  # a cluster object (LocalCluster, dask-jobqueue's SLURMCluster)
    client = Client(scheduler, timeout="30s") if own else scheduler
    try:
        n = len(client.scheduler_info().get("workers", {})) or 1
        if not chains:
            return n
        base_f = client.scatter(base, broadcast=True, hash=False)
        token = uuid.uuid4().hex[:8]
        futures = {client.submit(_dask_chain, base_f, ch, str(folder), options, pure=False,
                                 key=f"dispatch-sweep-{ch.id}-{token}"): ch for ch in chains}
        pending = set(futures)
        try:
            while pending:
                time.sleep(POLL_S)
                tracker.poll()
                for f in [f for f in pending if f.done()]:
                    pending.discard(f)
                    _collect(f, futures[f], folder, tracker)
        except BaseException:
            client.cancel(list(pending))
            raise
        return n
    finally:
        if own:
            client.close()
