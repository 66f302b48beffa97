"""Results: the hourly dispatch, the summary by stream, the duals, and writing them out whole."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .model.core import Registry
from .solve import Solution

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
    duals: dict[str, pd.Series]
    solution: Solution

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
        """Write ``dispatch.csv`` and ``summary.json`` into ``out_dir``, whole or not at all.

        Everything is written to a temporary folder beside ``out_dir`` and moved into place
        only when complete; previous results in ``out_dir`` stay untouched until then.
        """
        return write_results(self, out_dir)


def _values(m: Any, sol: Solution) -> tuple[dict[str, float], dict[str, float], np.ndarray, float]:
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
        if term.expr is not None:
            ul = sol.lp.user_terms[id(term)]
            val = ul.value(x)
            if term.by_hour is not None:
                for t, hl in sol.lp.user_hourly[id(term)].items():
                    if isinstance(t, (int, np.integer)) and 0 <= t < n:
                        book[int(t)] += hl.value(x)
                    else:
                        unbooked += term.sign * hl.value(x)
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
        (revenue if term.kind == "revenue" else cost)[term.name] = val
    return revenue, cost, hourly, unbooked


def make_results(m: Any, sol: Solution) -> Results:
    """Assemble :class:`Results` from a model and its solution."""
    reg: Registry = m.dispatch
    sc = reg.scenario
    n = reg.n
    revenue, cost, hourly_profit, unbooked = _values(m, sol)
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
    balance = next((b for b, _ in sol.lp.blocks if b.name == "balance" and b.component is m.balance), None)
    marginal = sol.dual(m.balance) if balance is not None else None
    cols["marginal_value_usd_per_mwh"] = marginal if marginal is not None else np.full(n, np.nan)
    cols["profit_usd"] = hourly_profit
    cols.setdefault("hashprice_usd_per_ph_day", np.full(n, np.nan))
    order = ["price_usd_per_mwh", "hashprice_usd_per_ph_day"]
    order += [c for c in cols if c.startswith("asic_")]
    order += [c for c in cols if c.startswith("gpu_")]
    order += [c for c in cols if c.startswith("flex_")]
    order += [c for c in cols if c.startswith("reserve_")]
    order += ["load_mw", "import_mw", "export_mw", "marginal_value_usd_per_mwh", "profit_usd"]
    order += [c for c in cols if c not in order]
    frame = pd.DataFrame({c: cols[c] for c in order}, index=sc.timestamps)
    mw = [c for c in frame.columns if c.endswith("_mw")]
    vals = frame[mw].to_numpy(copy=True)
    vals[np.abs(vals) < ZERO_TOL] = 0.0
    frame[mw] = vals

    energy: dict[str, float] = {}
    for c in mw:
        if c.startswith(("asic_", "flex_")) or c in ("load_mw", "import_mw", "export_mw"):
            energy[c.removesuffix("_mw")] = float(frame[c].sum())
        elif c.startswith("gpu_") and not c.endswith("_shortfall_mw"):
            energy[c.removesuffix("_mw")] = float(frame[c].sum())
    energy["ppa"] = float(sc.config.ppa_mw * n)

    availability: dict[str, float] = {}
    by_period: dict[str, dict[str, float]] = {}
    from .model.fleets import billing_periods

    local = sc.local_timestamps()
    for g in sc.config.gpu:
        firm = frame[f"gpu_{g.name}_firm_mw"].to_numpy()
        availability[g.name] = float(firm.sum() / (g.contract_mw * n)) if g.contract_mw > 0 else 1.0
        labels, per = billing_periods(local, g.billing_period)
        delivered = np.bincount(per, weights=firm, minlength=len(labels))
        hours = np.bincount(per, minlength=len(labels))
        by_period[g.name] = {
            lab: float(d / (g.contract_mw * h)) if g.contract_mw > 0 else 1.0
            for lab, d, h in zip(labels, delivered, hours)
        }

    info = sol.info
    summary: dict[str, Any] = {
        "scenario": sc.config.name,
        "objective_usd": objective,
        "revenue_usd": revenue,
        "cost_usd": cost,
        "profit_not_in_hours_usd": unbooked,
        "energy_mwh": energy,
        "gpu_availability": availability,
        "gpu_availability_by_period": by_period,
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
    }
    duals: dict[str, pd.Series] = {}
    for blk, start in sol.lp.blocks:
        parent = blk.component.parent_block()
        name = blk.name if parent is m else f"{parent.local_name}.{blk.name}"
        keys = blk.keys
        idx = pd.MultiIndex.from_tuples(keys) if keys and isinstance(keys[0], tuple) else pd.Index(keys)
        duals[name] = pd.Series(sol.duals[start : start + len(keys)], index=idx, name=name)
    return Results(frame, summary, duals, sol)


def _fmt_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.index.name = "timestamp"
    return out


def write_results(results: Results, out_dir: str | Path) -> Path:
    """Write a results folder atomically (see :meth:`Results.write`)."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    old = None
    try:
        _fmt_frame(results.dispatch).to_csv(tmp / "dispatch.csv", float_format="%.10g", lineterminator="\n")
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(results.summary, fh, indent=2, default=_json_default)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
