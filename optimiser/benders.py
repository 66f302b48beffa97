"""The stochastic capacity problem by Benders decomposition (the L-shaped method, multi-cut),
for horizons too large for one LP (docs/investment.md, "Speed").

The extensive form (:func:`optimiser.stochastic.build_stochastic`) holds every future's
whole dispatch in one LP; the capacities couple them, and on five years of three futures
(about 1.3 million columns) neither HiGHS's simplex nor its interior point finishes in minutes.
But only a handful of numbers couple the futures. So:

- **Subproblems**: each future's dispatch model with its capacities fixed at ``C``
  (:func:`optimiser.build`, capacities fixed through Pyomo, compiled once), held in its own
  HiGHS; each iteration changes only those columns' bounds and re-solves warm from the last
  basis (dual simplex), the futures in parallel threads (HiGHS releases the GIL while it
  runs). A solved subproblem gives its profit ``V_s(C)`` and, from the fixed columns' reduced
  costs, a subgradient ``g_s`` (``V_s`` is concave in ``C``): the optimality cut
  ``theta_s <= V_s(C^i) + g_s (C - C^i)``. An infeasible one (say, a GPU contract larger than
  the import can serve through the SLA) gives HiGHS's Farkas ray ``y``, and with it the
  feasibility cut ``(A^T y)_C C >= min_r y^T r - max_x (A^T y)_x x`` over the other columns'
  bounds and the rows' bounds (the sign of ``y`` chosen so that the cut removes ``C^i``).
- **Master**: ``max (1 - w) sum_s p_s theta_s + w (eta - sum_s p_s u_s / (1 - alpha))`` with
  ``u_s >= eta - theta_s``, the cuts, the capacities' bounds and the cooled floor: a few
  columns, solved exactly each iteration.

The master's value is an upper bound; the objective evaluated at any ``C`` the subproblems
solved (exactly: the expected profit and the CVaR of the futures' true profits) is a lower
bound. It stops when they are within ``rel_gap`` (relative, default 1e-6) and reports both.
The answer is then read through each future's Pyomo model with the capacities fixed (the model
of record): compiled again, it must be the subproblem's LP, and the objective at the answer must
be Pyomo's; one future's LP is also solved cold in a fresh HiGHS, which must reproduce the subproblem's
profit (relative 1e-7), or it raises.

Edits: ``extra(m)`` is applied to every future's model before it is compiled; an edit to the
extensive form's own rows (the first stage, the CVaR) needs ``method="extensive"``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import highspy
import numpy as np

from .errors import DispatchError, InfeasibleError, SolverError

#: A subproblem solved again through the model of record must give the same profit. [-]
CHECK_RTOL = 1e-7


@dataclass
class _Sub:
    """One future's subproblem: its model, its compiled LP and its HiGHS."""

    name: str
    probability: float
    model: Any
    lp: Any
    h: Any
    opts: dict[str, Any]
    cols: np.ndarray  # the capacity columns, in the master's order
    col_lo: np.ndarray
    col_hi: np.ndarray
    log: list[str]
    last: Any = None  # the Solution of the last feasible solve, and its capacities
    last_c: Any = None
    final: str = ""
    solves: int = 0
    iterations: int = 0
    solve_s: float = 0.0


def _fixed_vars(m: Any, dec: list[tuple[str, Any]]) -> list[Any]:
    from .model.investment import capacity_var

    return [capacity_var(m, kind)[f.name] for kind, f in dec]


def _prepare(fut: Any, dec: list[tuple[str, Any]], c0: np.ndarray, options: dict[str, Any] | None,
             extra: Callable[[Any], None] | None) -> _Sub:
    import optimiser

    from .lp import compile_lp
    from .solve import configured_highs, pass_lp, solver_options

    m = optimiser.build(fut.scenario)
    if extra is not None:
        extra(m)
    for v, c in zip(_fixed_vars(m, dec), c0):
        v.fix(float(c))
    lp = compile_lp(m)
    if lp.integrality is not None and np.any(lp.integrality):
        raise DispatchError(f"future '{fut.name}' has integer variables (a time-basis SLA, credit tiers or an edit): "
                            "Benders needs linear subproblems (their value must be concave in the capacities); "
                            "solve it with method='extensive'")
    reg = m.dispatch
    cols = np.array([lp.var_start[id(v.parent_component())] + reg.info(v.parent_component()).position(v.index())
                     for v in _fixed_vars(m, dec)], dtype=np.int64)
    opts = solver_options(lp, options)
    h, log = configured_highs(opts)
    pass_lp(h, lp)
    return _Sub(fut.name, float(fut.probability), m, lp, h, opts, cols, lp.col_lo.copy(), lp.col_hi.copy(), log)


def _evaluate(sub: _Sub, c: np.ndarray) -> tuple[str, float, np.ndarray, float | None]:
    """Solve ``sub`` at capacities ``c``: ``("opt", V, g, None)`` or ``("feas", nan, g, b)`` (the
    feasibility cut ``g C >= b``)."""
    from .solve import run_lp

    sub.col_lo[sub.cols] = c
    sub.col_hi[sub.cols] = c
    sub.h.changeColsBounds(len(sub.cols), sub.cols.astype(np.int32), c.astype(float), c.astype(float))
    sub.log.clear()
    t0 = time.perf_counter()
    try:
        sol = run_lp(sub.h, sub.lp, sub.opts, log_lines=sub.log, handover_s=0.0)
    except InfeasibleError:
        sub.solves += 1
        sub.solve_s += time.perf_counter() - t0
        g, b = _feasibility_cut(sub, c)
        return "feas", float("nan"), g, b
    sub.solves += 1
    sub.iterations += sol.info.iterations
    sub.solve_s += time.perf_counter() - t0
    rc = np.asarray(sub.h.getSolution().col_dual, dtype=float)
    g = -rc[sub.cols] if sub.lp.maximize else rc[sub.cols]
    sub.last, sub.last_c = sol, c.copy()
    return "opt", float(sol.objective), g, None


def _same_lp(a: Any, b: Any, col_lo: np.ndarray, col_hi: np.ndarray) -> bool:
    """Whether ``b`` (compiled again from the model) is ``a`` with the bounds ``col_lo``/``col_hi``."""
    return (a.shape == b.shape and a.maximize == b.maximize and float(a.offset) == float(b.offset)
            and np.array_equal(a.c, b.c) and np.array_equal(col_lo, b.col_lo) and np.array_equal(col_hi, b.col_hi)
            and np.array_equal(a.row_lo, b.row_lo) and np.array_equal(a.row_hi, b.row_hi)
            and np.array_equal(a.matrix.indptr, b.matrix.indptr) and np.array_equal(a.matrix.indices, b.matrix.indices)
            and np.array_equal(a.matrix.data, b.matrix.data))


def _final(sub: _Sub, dec: list[tuple[str, Any]], c: np.ndarray, options: dict[str, Any] | None) -> Any:
    """The future's Results at capacities ``c`` through its Pyomo model (the model of record):
    the capacities fixed in Pyomo, compiled again, which must be the subproblem's LP; the
    subproblem's answer there (solved warm again if the last solve was elsewhere), its objective
    checked against Pyomo's (:func:`optimiser.solve.finish`). Anything else: solved cold."""
    import optimiser

    from .solve import compile_checked, finish

    if sub.last_c is None or not np.array_equal(sub.last_c, c):
        kind, *_ = _evaluate(sub, c)
        if kind != "opt":
            raise SolverError(f"future '{sub.name}' is infeasible at the capacities chosen")
    for v, x in zip(_fixed_vars(sub.model, dec), c):
        v.fix(float(x))
    sub.col_lo[sub.cols] = c  # the bounds of the answer (an infeasible solve elsewhere may have moved them)
    sub.col_hi[sub.cols] = c
    lp, ranges, numerics, compile_s = compile_checked(sub.model)
    if not _same_lp(sub.lp, lp, sub.col_lo, sub.col_hi):
        sub.final = "solved cold: the model compiled again differs from the subproblem"
        return optimiser.solve(sub.model, options=options)
    sub.final = "the subproblem's answer, through the model of record"
    sol = sub.last
    sol.lp = lp
    return finish(sub.model, sol, ranges, numerics, compile_s=compile_s)


def _feasibility_cut(sub: _Sub, c: np.ndarray) -> tuple[np.ndarray, float]:
    """A cut ``g C >= b`` that every capacity making ``sub`` feasible meets and ``c`` does not,
    from HiGHS's dual ray (see the module docstring)."""
    status, has_ray, ray = sub.h.getDualRay()
    if status == highspy.HighsStatus.kError or not has_ray:
        raise InfeasibleError(f"future '{sub.name}' cannot be met with capacities {np.round(c, 6).tolist()} MW and "
                              "HiGHS gives no certificate to steer away from them: narrow the capacity ranges")
    A = sub.lp.matrix
    col_of = np.repeat(np.arange(A.shape[1]), np.diff(A.indptr))
    y0 = np.asarray(ray, dtype=float)
    for y in (y0, -y0):
        v = np.bincount(col_of, weights=A.data * y[A.indices], minlength=A.shape[1])
        scale = max(1.0, float(np.abs(v).max()))
        v[np.abs(v) <= 1e-11 * scale] = 0.0
        other = np.ones(A.shape[1], bool)
        other[sub.cols] = False
        vo = v[other]
        hi = np.where(vo > 0, sub.col_hi[other], np.where(vo < 0, sub.col_lo[other], 0.0))
        with np.errstate(invalid="ignore"):
            x_max = float(np.sum(np.where(vo != 0, vo * hi, 0.0)))
        yr = np.where(np.abs(y) <= 1e-11 * max(1.0, float(np.abs(y).max())), 0.0, y)
        r = np.where(yr > 0, sub.lp.row_lo, np.where(yr < 0, sub.lp.row_hi, 0.0))
        with np.errstate(invalid="ignore"):
            r_min = float(np.sum(np.where(yr != 0, yr * r, 0.0)))
        if not (np.isfinite(x_max) and np.isfinite(r_min)):
            continue
        g = v[sub.cols]
        b = r_min - x_max
        if g @ c < b - 1e-9 * max(1.0, abs(b)):
            return g, b
    raise InfeasibleError(f"future '{sub.name}' cannot be met with capacities {np.round(c, 6).tolist()} MW and its "
                          "infeasibility certificate does not say which capacities would do: narrow the ranges")


class _Master:
    """The master LP over capacities, one ``theta`` a future, and the CVaR's ``eta`` and ``u``."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray, prob: np.ndarray, w: float, alpha: float,
                 floor: float | None, in_floor: np.ndarray | None = None):
        from .solve import configured_highs

        self.k, self.s = len(lo), len(prob)
        self.h, _ = configured_highs({"presolve": "off", "solver": "simplex"})
        inf = highspy.kHighsInf
        k, s = self.k, self.s
        # columns: C (k), theta (s), then with risk eta (1), u (s); HiGHS minimises: negate
        cost = np.concatenate([np.zeros(k), -(1.0 - w) * prob])
        lo_all = np.concatenate([lo, np.full(s, -inf)])
        hi_all = np.concatenate([hi, np.full(s, inf)])
        if w > 0:
            cost = np.concatenate([cost, [-w], w * prob / (1.0 - alpha)])
            lo_all = np.concatenate([lo_all, [-inf], np.zeros(s)])
            hi_all = np.concatenate([hi_all, [inf], np.full(s, inf)])
        self.h.addVars(len(cost), lo_all, hi_all)
        self.cost = cost
        self.phase1 = True  # no objective until every future has an optimality cut (see solve)
        self.h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), np.zeros(len(cost)))
        on = np.flatnonzero(np.ones(k, bool) if in_floor is None else in_floor).astype(np.int32)
        if floor is not None and len(on):  # the fleets' IT capacity (not the batteries')
            self.h.addRow(-inf, floor, len(on), on, np.ones(len(on)))
        if w > 0:  # u_s - eta + theta_s >= 0
            for j in range(s):
                idx = np.array([k + j, k + s, k + s + 1 + j], dtype=np.int32)
                self.h.addRow(0.0, inf, 3, idx, np.array([1.0, -1.0, 1.0]))
        self.cuts = 0

    def optimality_cut(self, j: int, value: float, g: np.ndarray, c: np.ndarray) -> None:
        """theta_j - g C <= value - g c."""
        idx = np.concatenate([np.arange(self.k), [self.k + j]]).astype(np.int32)
        self.h.addRow(-highspy.kHighsInf, value - float(g @ c), self.k + 1, idx, np.concatenate([-g, [1.0]]))
        self.cuts += 1

    def feasibility_cut(self, g: np.ndarray, b: float) -> None:
        """g C >= b."""
        self.h.addRow(b, highspy.kHighsInf, self.k, np.arange(self.k, dtype=np.int32), g.astype(float))
        self.cuts += 1

    def objective_on(self) -> None:
        """Every future has an optimality cut (its theta is bounded): the real objective."""
        if self.phase1:
            self.phase1 = False
            self.h.changeColsCost(len(self.cost), np.arange(len(self.cost), dtype=np.int32), self.cost)

    def solve(self) -> tuple[np.ndarray, float]:
        """The master's capacities and its value (an upper bound; ``inf`` while in phase one, when
        it only looks for capacities no feasibility cut excludes)."""
        self.h.run()
        status = self.h.modelStatusToString(self.h.getModelStatus())
        if status == "Infeasible":
            raise InfeasibleError("no capacities within their ranges (and the cooled floor) let every future be met")
        if status != "Optimal":
            raise SolverError(f"the Benders master ended with status '{status}'")
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        if self.phase1:
            return x[: self.k], np.inf
        return x[: self.k], -float(self.h.getInfo().objective_function_value)


def solve_benders(
    futures: Sequence[Any], *, risk_weight: float = 0.0, alpha: float = 0.95,
    options: dict[str, Any] | None = None, rel_gap: float = 1e-6, max_iterations: int = 200,
    threads: int | None = None, extra: Callable[[Any], None] | None = None,
    progress: Callable[[str], None] | None = None, check_cold: bool = True,
) -> Any:
    """Solve the stochastic capacity problem by Benders decomposition (see the module docstring).

    Parameters
    ----------
    futures, risk_weight, alpha
        As :func:`optimiser.stochastic.build_stochastic`.
    options
        HiGHS options of the subproblems (default: dual simplex, as :func:`optimiser.solve`).
    rel_gap
        Stop when the upper and lower bounds are within this, relative. [-]
    max_iterations
        Raise :class:`~optimiser.errors.SolverError` if not converged by then.
    threads
        Subproblems solved at once (default: one thread a future, at most twice the cores:
        HiGHS runs without the GIL, and a third future on two cores then shares them instead of
        waiting for a free one).
    check_cold
        Also solve the first future's LP at the answer cold, in a fresh HiGHS; it must agree
        (relative 1e-7).
    extra
        Applied to every future's model after it is built (an ``extra_functionality`` hook).
    progress
        Called with a line of text after each iteration.

    Returns
    -------
    optimiser.stochastic.StochasticResults
        With ``summary["decomposition"]``: iterations, bounds, gap, cuts, subproblem solves.
    """
    from .solve import solve_lp
    from .stochastic import StochasticResults, check_futures, cvar, decisions

    t_start = time.perf_counter()
    check_futures(futures, risk_weight, alpha)
    w, alpha = float(risk_weight), float(alpha)
    dec = decisions(futures[0].scenario)
    names = [f.name for _, f in dec]
    lo = np.array([f.capacity_range.min for _, f in dec], float)
    hi = np.array([f.capacity_range.max for _, f in dec], float)
    cfg = futures[0].scenario.config
    floor = None
    if cfg.site.floor_mw is not None:
        fixed = sum(f.capacity_mw for _, f in cfg.fleets() if not f.capacity_is_decision)
        floor = cfg.site.floor_mw - fixed
    prob = np.array([f.probability for f in futures], float)
    n_threads = max(1, threads or min(len(futures), 2 * (os.cpu_count() or 1)))
    say = progress or (lambda _line: None)

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        subs = list(pool.map(lambda f: _prepare(f, dec, lo, options, extra), futures))
        build_s = time.perf_counter() - t_start
        master = _Master(lo, hi, prob, w, alpha, floor, np.array([kind != "battery" for kind, _ in dec], bool))
        best_c, best_f, best_v = None, -np.inf, None
        ub = np.inf
        c = lo.copy()
        history: list[dict[str, Any]] = []
        has_cut = np.zeros(len(subs), bool)
        for it in range(1, max_iterations + 1):
            results = list(pool.map(lambda s: _evaluate(s, c), subs))
            feasible = all(r[0] == "opt" for r in results)
            for j, (kind, v, g, b) in enumerate(results):
                if kind == "opt":
                    master.optimality_cut(j, v, g, c)
                    has_cut[j] = True
                else:
                    master.feasibility_cut(g, b)
            if has_cut.all():
                master.objective_on()
            if feasible:
                vals = np.array([r[1] for r in results])
                f = (1.0 - w) * float(prob @ vals) + (w * cvar(vals, prob, alpha) if w > 0 else 0.0)
                if f > best_f:
                    best_c, best_f, best_v = c.copy(), f, vals
            c_next, ub = master.solve()
            gap = (ub - best_f) / max(1.0, abs(best_f)) if np.isfinite(best_f) else np.inf
            history.append({"iteration": it, "capacity_mw": dict(zip(names, c.tolist())), "feasible": feasible,
                            "lower_bound_usd": best_f if np.isfinite(best_f) else None,
                            "upper_bound_usd": ub if np.isfinite(ub) else None,
                            "gap": gap if np.isfinite(gap) else None})
            say(f"Benders {it}: lower {best_f:,.0f} upper {ub:,.0f} gap {gap:.2e}"
                + ("" if feasible else " (a future infeasible: feasibility cut)"))
            if gap <= rel_gap:
                break
            c = np.clip(c_next, lo, hi)
        else:
            raise SolverError(f"Benders did not converge in {max_iterations} iterations (gap {gap:.2e} > {rel_gap:g})")
        loop_s = time.perf_counter() - t_start - build_s

        # the answer through the model of record: each future's Pyomo model, capacities fixed;
        # and one future (a sample) solved cold in a fresh HiGHS, which must agree
        t0 = time.perf_counter()
        cold_job = None
        if check_cold:  # on the arrays (no Pyomo: it runs beside the finals), in a fresh HiGHS
            lo0, hi0 = subs[0].col_lo.copy(), subs[0].col_hi.copy()
            lo0[subs[0].cols] = best_c
            hi0[subs[0].cols] = best_c
            cold_lp = dataclasses.replace(subs[0].lp, col_lo=lo0, col_hi=hi0)
            cold_job = pool.submit(lambda: solve_lp(cold_lp, options=options).objective)
        results_by = dict(zip([s.name for s in subs], pool.map(lambda s: _final(s, dec, best_c, options), subs)))
        cold = None if cold_job is None else float(cold_job.result())
        final_s = time.perf_counter() - t0
    checks = [(sub.name, results_by[sub.name].objective_usd, v, "the model of record") for sub, v in zip(subs, best_v)]
    if cold is not None:
        checks.append((subs[0].name, cold, best_v[0], "a cold solve"))
    for name, got, v, what in checks:
        if abs(got - v) > CHECK_RTOL * max(1.0, abs(v)):
            raise SolverError(f"future '{name}': {what} gives a profit of {got:.10g} at the capacities Benders chose, "
                              f"the subproblem {v:.10g}: not reporting either")
    profits = {s.name: results_by[s.name].objective_usd for s in subs}
    caps = {k: (0.0 if abs(x) < 1e-9 else float(x)) for k, x in zip(names, best_c)}
    p = {s.name: s.probability for s in subs}
    expected = float(sum(p[k] * v for k, v in profits.items()))
    summary = {
        "objective_usd": best_f,
        "expected_profit_usd": expected,
        "cvar_usd": cvar(list(profits.values()), list(p.values()), alpha),
        "risk_weight": w,
        "alpha": alpha,
        "capacity_mw": caps,
        "profit_usd": profits,
        "probability": p,
        "investment": {k: r.summary.get("investment") for k, r in results_by.items()},
        "build_s": build_s,
        "solve_s": loop_s + final_s,
        "method": "benders",
        "decomposition": {
            "iterations": len(history), "lower_bound_usd": best_f, "upper_bound_usd": ub,
            "gap": (ub - best_f) / max(1.0, abs(best_f)), "rel_gap": rel_gap, "cuts": master.cuts,
            "threads": n_threads, "loop_s": loop_s, "final_s": final_s,
            "subproblems": {s.name: {"solves": s.solves, "iterations": s.iterations, "solve_s": s.solve_s,
                                     "answer": s.final} for s in subs},
            "cold_check": None if cold is None else {"future": subs[0].name, "profit_usd": cold},
            "history": history,
        },
        "solver": {"status": "ok", "termination": "Optimal",
                   "iterations": int(sum(s.iterations for s in subs)), "options": dict(subs[0].opts)},
    }
    return StochasticResults(caps, results_by, p, summary)
