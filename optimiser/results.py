"""Results: the hourly dispatch, the summary by stream, the duals, and writing them out whole."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .model.core import Registry
from .provenance import collect as collect_provenance
from .solve import Solution

#: The last columns of ``dispatch.csv`` (contract section 4), after every component's own.
METER_COLUMNS = ("load_mw", "import_mw", "export_mw", "marginal_value_usd_per_mwh", "profit_usd")

#: Tolerance below which a value is written as 0 (solver noise). [MW]
ZERO_TOL = 1e-7


@dataclass
class Results:
    """What a solve hands back.

    Attributes
    ----------
    dispatch
        One row an hour, indexed by hour start (UTC): the columns of ``dispatch.csv``.
    summary
        The content of ``summary.json``.
    duals
        Duals of every registered constraint family, ``{"balance": Series, "gpu.sla": Series, ...}``,
        each indexed by the family's keys. [$ per unit of the row]
    solution
        The raw solution (column values, row duals) for advanced use.
    """

    dispatch: pd.DataFrame
    summary: dict[str, Any]
    duals: Mapping[str, pd.Series]
    solution: Solution
    uses_mw: pd.DataFrame | None = None
    """Power drawn at the meter by use (the kind each component registered its draws under:
    ``asic``, ``gpu``, ``flex``, ``battery``...), hour by hour. [MW]"""

    @property
    def objective_usd(self) -> float:
        """The optimal objective. [$]"""
        return float(self.summary["objective_usd"])

    def streams(self) -> pd.DataFrame:
        """Revenue and cost streams as one table (``kind``, ``stream``, ``usd``)."""
        rows = [("revenue", k, v) for k, v in self.summary["revenue_usd"].items()]
        rows += [("cost", k, v) for k, v in self.summary["cost_usd"].items()]
        return pd.DataFrame(rows, columns=["kind", "stream", "usd"])

    def write(self, out_dir: str | Path) -> Path:
        """Write ``dispatch.csv``, ``summary.json`` and the marker into ``out_dir``, whole or not at all.

        ``out_dir`` must be new, empty or a results folder holding only what the tool wrote
        (:func:`optimiser.outdir.check_results_folder`); anything else is refused, never
        deleted. Everything is written to a temporary folder beside ``out_dir`` and moved into
        place only when complete; previous results in ``out_dir`` stay untouched until then.
        See :func:`write_results`.
        """
        return write_results(self, out_dir)


def _values(
    m: Any, sol: Solution, by_stream: dict[str, np.ndarray] | None = None
) -> tuple[dict[str, float], dict[str, float], np.ndarray, float]:
    """Revenue and cost by stream, the hourly profit and the profit booked to no hour.

    ``by_stream``, if given, receives each stream's signed hourly booking (revenue > 0, cost < 0). [$]
    """
    reg: Registry = m.dispatch
    n = reg.n
    x = sol.x
    revenue: dict[str, float] = {}
    cost: dict[str, float] = {}
    hourly = np.zeros(n)
    unbooked = 0.0
    for term in reg.terms:
        val = 0.0
        book = np.zeros(n)
        key = (reg.prefix, term.kind, term.name)
        ul = sol.lp.streams.get(key)
        if ul is not None:  # compiled from Pyomo: a user's stream, or an edited one
            val = ul.value(x)
            by_hour = sol.lp.hourly.get(key)
            if by_hour is not None:
                for t, v in zip(by_hour.keys, by_hour.values(x).tolist()):
                    if isinstance(t, (int, np.integer)) and 0 <= t < n:
                        book[int(t)] += v
                    else:
                        unbooked += term.sign * v
            else:
                unbooked += term.sign * val
        else:
            alloc = term.allocate(sol) if term.allocate is not None else None
            for i, lin in enumerate(term.lins):
                s = sol.lp.var_start[id(lin.var)]
                contrib = lin.coef * x[s + lin.pos]
                val += float(contrib.sum())
                rows = alloc[i] if alloc is not None else lin.row
                ok = rows >= 0
                book += np.bincount(rows[ok], weights=contrib[ok], minlength=n)
                unbooked += term.sign * float(contrib[~ok].sum())
            if term.hourly_constant is not None:
                val += float(term.hourly_constant.sum())
                book += term.hourly_constant
        hourly += term.sign * book
        if by_stream is not None:
            by_stream[term.name] = by_stream.get(term.name, 0.0) + term.sign * book
        (revenue if term.kind == "revenue" else cost)[term.name] = val
    return revenue, cost, hourly, unbooked


def make_results(m: Any, sol: Solution) -> Results:
    """Assemble :class:`Results` from a model and its solution."""
    reg: Registry = m.dispatch
    sc = reg.scenario
    n = reg.n
    by_stream: dict[str, np.ndarray] = {}
    revenue, cost, hourly_profit, unbooked = _values(m, sol, by_stream)
    objective = float(sol.objective)
    total = sum(revenue.values()) - sum(cost.values())
    if not sol.lp.fast_objective:
        other = objective - total
        if abs(other) > 1e-6 * max(1.0, abs(objective)):
            (revenue if other > 0 else cost)["other_objective_terms"] = abs(other)
            unbooked += other

    cols: dict[str, np.ndarray] = {}
    for fn in reg.reporters:
        cols.update(fn(sol))
    marginal = sol.dual(reg.qualified("balance"))
    cols["marginal_value_usd_per_mwh"] = marginal if marginal is not None else np.full(n, np.nan)
    cols["profit_usd"] = hourly_profit
    cols.setdefault("hashprice_usd_per_ph_day", np.full(n, np.nan))
    # the contract's order: prices, then each component's columns as it reports them, then the meter
    first, last = ["price_usd_per_mwh", "hashprice_usd_per_ph_day"], list(METER_COLUMNS)
    order = first + [c for c in cols if c not in first and c not in last] + last
    frame = pd.DataFrame({c: cols[c] for c in order}, index=sc.timestamps)
    mw = [c for c in frame.columns if c.endswith("_mw")]
    vals = frame[mw].to_numpy(copy=True)
    vals[np.abs(vals) < ZERO_TOL] = 0.0
    frame[mw] = vals

    energy: dict[str, float] = {}
    extra: dict[str, Any] = {"gpu_availability": {}, "gpu_availability_by_period": {}}
    for comp in reg.components:  # each component reports its own uses and summary entries
        if hasattr(comp, "energy"):
            energy.update(comp.energy(reg, frame))
        if hasattr(comp, "summary"):
            extra.update(comp.summary(reg, frame))
        if hasattr(comp, "results_summary"):  # a summary that reads the solution (capacities chosen)
            extra.update(comp.results_summary(reg, frame, sol))

    info = sol.info
    summary: dict[str, Any] = {
        "scenario": sc.config.name,
        "objective_usd": objective,
        "assumptions": assumptions(sc.config),
        "policy": {"name": "optimal"},
        "revenue_usd": revenue,
        "cost_usd": cost,
        "profit_not_in_hours_usd": unbooked,
        "energy_mwh": energy,
        **extra,
        "profit_by_month_usd": profit_by_month(by_stream, sc.timestamps, sc.config.timezone),
        "fleets": fleet_parameters(sc.config, extra.get("investment")),
        "site": site_parameters(sc.config),
        "hours": n,
        "start": sc.timestamps[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (sc.timestamps[-1] + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": sc.config.timezone,
        "warnings": list(sc.warnings),
        "solver": {
            "name": "highs",
            "status": info.status,
            "termination": info.termination,
            "build_s": info.build_s,
            "handover_s": info.handover_s,
            "solve_s": info.solve_s,
            "iterations": info.iterations,
            "rows": info.rows,
            "columns": info.columns,
            "nonzeros": info.nonzeros,
            "options": {k: v for k, v in info.options.items()},
        },
        "provenance": collect_provenance(sc, info.options),  # inputs' hashes, versions, horizon
    }
    where: dict[str, tuple[int, Any]] = {}
    for blk, start in sol.lp.blocks:
        if blk.registry is not reg:  # another dispatch model of the same Pyomo model
            continue
        parent = blk.component.parent_block()
        name = blk.name if parent is m else f"{parent.local_name}.{blk.name}"
        where[name] = (start, blk.keys)
    return Results(frame, summary, Duals(sol.duals, where), sol, uses_mw(reg, sol, frame.index))


class Duals(Mapping):
    """The duals of every registered constraint family, by name (``"balance"``, ``"gpu.sla"``):
    a read-only mapping whose Series (indexed by the family's keys, a MultiIndex for tuples) are
    made on first use: a sweep that reads none pays nothing for them."""

    def __init__(self, values: np.ndarray, where: dict[str, tuple[int, Any]]):
        self._values = values
        self._where = where
        self._made: dict[str, pd.Series] = {}

    def __getitem__(self, name: str) -> pd.Series:
        if name not in self._made:
            start, keys = self._where[name]  # KeyError for a family not in the LP
            idx = pd.MultiIndex.from_tuples(keys) if len(keys) and isinstance(keys[0], tuple) else pd.Index(keys)
            self._made[name] = pd.Series(self._values[start : start + len(keys)], index=idx, name=name)
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __repr__(self) -> str:
        return f"<Duals of {', '.join(self._where)}>"


def profit_by_month(by_stream: dict[str, np.ndarray], timestamps: pd.DatetimeIndex, timezone: str) -> dict:
    """Each stream's hourly booking summed by calendar month in the site's time zone.

    Parameters
    ----------
    by_stream
        ``{stream: signed hourly $}`` (revenue > 0, cost < 0), as booked to ``profit_usd``.
    timestamps
        The hours (UTC).
    timezone
        The site's IANA time zone: months are its calendar months (the billing periods').

    Returns
    -------
    dict
        ``{"2025-01": {stream: $}, ...}`` in time order; a month's values add up to that month's
        ``profit_usd``. [$]
    """
    local = timestamps.tz_convert(timezone)
    code = np.asarray(local.year) * 100 + np.asarray(local.month)
    months, where = np.unique(code, return_inverse=True)
    out: dict[str, dict[str, float]] = {f"{c // 100:04d}-{c % 100:02d}": {} for c in months}
    labels = list(out)
    for name, book in by_stream.items():
        sums = np.bincount(where, weights=np.asarray(book, dtype=float), minlength=len(months))
        for label, v in zip(labels, sums.tolist()):
            out[label][name] = v
    return out


def fleet_parameters(config: Any, investment: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """What a report needs of each fleet's configuration (``summary.json`` key ``fleets``).

    The break-even power price of an ASIC fleet, the curtailment of any fleet and its power at
    the meter depend on these; a results folder does not hold the scenario, so they are saved.

    Returns
    -------
    dict
        ``{name: {"kind", "capacity_mw", "pue", "om_usd_per_mwh", ...}}``; ASICs add
        ``model``, ``efficiency_j_per_th``, ``pool_fee``; GPUs ``contract_mw``,
        ``contract_usd_per_mw_per_h``, ``availability``, ``billing_period``,
        ``sla_credit_usd_per_mwh``. A capacity the LP chose (``investment``, from the summary)
        is reported as chosen, with the contract that follows from it, not as its range's max.
        [MW, -, $/MWh, J/TH, $/MW/h]
    """
    chosen = (investment or {}).get("fleets") or {}
    out: dict[str, dict[str, Any]] = {}
    for kind, f in config.fleets():
        c = chosen.get(f.name) if f.capacity_is_decision else None
        row: dict[str, Any] = {"kind": kind, "capacity_mw": f.capacity_mw if c is None else c["capacity_mw"],
                               "pue": f.pue, "om_usd_per_mwh": f.om_usd_per_mwh}
        if kind == "asic":
            row.update(model=f.model, efficiency_j_per_th=f.efficiency_j_per_th, pool_fee=f.pool_fee)
        elif kind == "gpu":
            row.update(contract_mw=f.contract_mw if c is None else c["contract_mw"],
                       contract_usd_per_mw_per_h=f.contract_usd_per_mw_per_h,
                       availability=f.availability, billing_period=f.billing_period,
                       sla_credit_usd_per_mwh=f.sla_credit_usd_per_mwh)
        out[f.name] = row
    return out


def site_parameters(config: Any) -> dict[str, Any]:
    """The grid connection and the PPA (``summary.json`` key ``site``). [MW, $/MWh]"""
    return {
        "import_mw": config.site.import_mw,
        "export_mw": config.export_mw,
        "ppa_mw": config.ppa_mw,
        "ppa_usd_per_mwh": config.ppa.price_usd_per_mwh if config.ppa is not None else None,
        "energy_adder_usd_per_mwh": config.site.energy_adder_usd_per_mwh,
    }


def uses_mw(reg: Registry, sol: Solution, index: pd.Index) -> pd.DataFrame:
    """Each registered draw on the balance, summed by use (the part of its kind before ``_``:
    ``gpu_firm`` and ``gpu`` are both ``gpu``), hour by hour at the meter. [MW]"""
    out: dict[str, np.ndarray] = {}
    for draw in reg.loads:
        use = draw.kind.split("_", 1)[0]
        col = out.setdefault(use, np.zeros(reg.n))
        lin = draw.lin
        np.add.at(col, lin.row, lin.coef * sol.value(lin.var)[lin.pos])
    return pd.DataFrame({f"{k}_mw": v for k, v in out.items()}, index=index)


FORESIGHT = (
    "perfect foresight: every price, Bitcoin input and coincident-peak hour is known in advance, "
    "so the objective is an upper bound on what the site earns without hindsight"
)
"""What every solve assumes, in words (``summary.json`` ``assumptions.meaning``)."""


def assumptions(config: Any) -> dict[str, str]:
    """What the answer assumes: ``foresight`` (always ``"perfect"``: one solve sees every hour of
    its horizon, so its objective is an upper bound), ``metering`` (``site.metering``, what the
    meter bills) and ``meaning`` (:data:`FORESIGHT`)."""
    return {"foresight": "perfect", "metering": config.site.metering, "meaning": FORESIGHT}


def _fmt_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.index.name = "timestamp"
    return out


def write_results(results: Results, out_dir: str | Path) -> Path:
    """Write a results folder whole or not at all (see :meth:`Results.write`).

    First the folder is checked (:func:`optimiser.outdir.check_results_folder`): a path that
    is not a folder, a folder holding anything the tool did not write, or one whose parent
    cannot be written is refused before anything is written. ``summary.json`` is rendered as
    strict JSON (no NaN or Infinity) before anything is written too.

    The files (``dispatch.csv``, ``summary.json`` and the marker ``.dispatch-results``) are
    written and flushed to disk in a temporary folder ``.NAME.tmp-PID-XXXX`` beside
    ``out_dir``, which then takes the place of ``out_dir`` in one atomic step (Linux
    ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, undone on failure). Whatever stops
    the process (an exception, Ctrl-C, SIGTERM), ``out_dir`` holds either the previous results
    or the new ones, complete: a signal before the swap leaves the previous results; one during
    the swap and the removal of the previous results is acted on once they are done. A
    temporary folder a killed process (SIGKILL, power loss) left behind is removed by the next
    write beside it, once its process is gone. Folders and files get the permissions the umask
    allows.

    Parameters
    ----------
    results
        What to write.
    out_dir
        The results folder: created, or replaced whole if it is empty or a results folder.

    Returns
    -------
    pathlib.Path
        The results folder, absolute.

    Raises
    ------
    ResultsFolderError
        If ``out_dir`` may not be replaced (see above) or cannot be written.
    DispatchError
        If the summary holds a value that is not finite (naming its key).
    """
    summary_text = summary_json(results.summary)

    def fill(tmp: Path) -> tuple[list[str], dict[str, list[str]]]:
        write_results_files(results, tmp, summary_text)
        return ["dispatch.csv", "summary.json"], {}

    return write_folder(out_dir, fill)


def write_results_files(results: Results, folder: Path, summary_text: str | None = None) -> None:
    """``dispatch.csv`` and ``summary.json`` of ``results`` into ``folder`` (which exists), each
    flushed to disk; no marker."""
    csv_path = folder / "dispatch.csv"
    _fmt_frame(results.dispatch).to_csv(csv_path, float_format="%.10g", lineterminator="\n")
    _fsync(csv_path)
    _write_text(folder / "summary.json", summary_text if summary_text is not None else summary_json(results.summary))


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_folder(out_dir: str | Path, fill: Any) -> Path:
    """Write a folder whole or not at all, as :func:`write_results` does: ``fill(tmp)`` writes the
    content into a temporary folder beside ``out_dir`` and returns the files and the sub-folders
    (name -> files) it wrote, which the marker lists; the temporary folder then takes
    ``out_dir``'s place in one step. Anything ``fill`` raises leaves ``out_dir`` as it was.

    Raises
    ------
    ResultsFolderError
        If ``out_dir`` may not be replaced or cannot be written.
    """
    from .interrupt import deferred
    from .outdir import MARKER, ResultsFolderError, check_results_folder, follow_umask, marker_text

    out = check_results_folder(out_dir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    except OSError as err:
        raise ResultsFolderError(f"cannot write the results folder {out}: {err}") from None
    try:
        follow_umask(tmp)
        files, folders = fill(tmp)
        for sub in folders:
            follow_umask(tmp / sub)
        _write_text(tmp / MARKER, marker_text(files, folders or None))
    except BaseException as err:
        _remove(tmp)
        if isinstance(err, OSError):
            raise ResultsFolderError(f"cannot write the results folder {out}: {err}") from None
        raise
    with deferred():  # the swap and the clean-up are not cut short; a signal is acted on after them
        old = None
        try:
            if out.exists() and _exchange(tmp, out):
                old = tmp  # the previous results, now under the temporary name
            else:
                if out.exists():
                    old = out.parent / f".{out.name}.old-{os.getpid()}-{tmp.name.rsplit('-', 1)[-1]}"
                    os.replace(out, old)
                os.replace(tmp, out)
            _fsync(out.parent)
        except BaseException as err:
            if old is None or old != tmp:
                _remove(tmp)
            if old is not None and old.exists() and not out.exists():
                os.replace(old, out)
            if isinstance(err, OSError):
                raise ResultsFolderError(f"cannot write the results folder {out}: {err}") from None
            raise
        if old is not None:
            _remove(old)
    return out


def summary_json(summary: dict[str, Any]) -> str:
    """``summary.json`` as strict JSON text (RFC 8259: no NaN, no Infinity).

    NumPy scalars and arrays become numbers and lists; other objects their ``str``.

    Raises
    ------
    DispatchError
        Naming the key (dotted, ``solver.coefficient_ranges.bound[1]``) of the first value that
        is not a finite number: such a value means something upstream went wrong, and is not
        written as ``NaN`` (which strict JSON readers refuse) nor silently as ``null``.
    """
    from .errors import DispatchError

    bad = _non_finite(summary, "")
    if bad is not None:
        raise DispatchError(
            f"summary.json: the value of '{bad[0]}' is {bad[1]}, not a finite number; nothing was written"
        )
    return json.dumps(summary, indent=2, default=_json_default, allow_nan=False) + "\n"


def _non_finite(value: Any, key: str) -> tuple[str, str] | None:
    """The dotted key and text of the first non-finite number in ``value``, or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            got = _non_finite(v, f"{key}.{k}" if key else str(k))
            if got is not None:
                return got
    elif isinstance(value, (list, tuple, np.ndarray)):
        for i, v in enumerate(value):
            got = _non_finite(v, f"{key}[{i}]")
            if got is not None:
                return got
    elif isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return key, str(float(value))
    return None


def clean_stale(out_dir: str | Path) -> list[Path]:
    """Remove what killed writers of ``out_dir`` left beside it.

    ``.NAME.tmp-PID-*`` folders (unfinished results) of processes that no longer run are
    deleted; a ``.NAME.old-PID-*`` folder (previous results moved aside) of a dead process is
    put back as ``NAME`` if ``NAME`` is missing, deleted otherwise. Folders of running
    processes are left alone.

    Returns
    -------
    list of pathlib.Path
        What was removed or restored.
    """
    out = Path(out_dir)
    done = []
    if not out.parent.is_dir():
        return done
    for kind in ("old", "tmp"):
        for p in sorted(out.parent.glob(f".{out.name}.{kind}-*")):
            pid = _pid_of(p.name, f".{out.name}.{kind}-")
            if pid is None or _alive(pid):
                continue
            if kind == "old" and not out.exists():
                os.replace(p, out)
            else:
                _remove(p)
            done.append(p)
    return done


def _pid_of(name: str, prefix: str) -> int | None:
    head = name[len(prefix):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs: a zombie (killed, not yet reaped by its parent) does not."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    try:  # Linux: the state after the command's closing parenthesis ("Z": a zombie)
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"
    except (OSError, ValueError):
        return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False if unsupported."""
    if sys.platform != "linux":
        return False
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fsync(path: Path) -> None:
    """Flush a file or a folder to disk (best effort for folders)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
