"""Hand the compiled LP to HiGHS, check how it ended, and bring the answer back."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import highspy
import numpy as np
import pyomo.core as pyo

from ._highs import new_highs
from .errors import DispatchError, InfeasibleError, SolverError
from .interrupt import install_callbacks, run_highs
from .options import check_options
from .lp import LP, coefficient_ranges, compile_lp
from .model import _lazy

if TYPE_CHECKING:  # pragma: no cover
    from .results import Results

#: HiGHS options used unless the caller overrides them, chosen by measurement (docs/performance.md,
#: ``benchmarks/run.py --solvers``): dual simplex is 8x faster than interior point and 20x faster
#: than primal simplex or PDLP on a year; HiGHS's presolve removes nothing from this LP but costs
#: 0.1 s a year (a third of the solve), so it is off, except for a model a user made integer
#: (see :data:`MIP_OPTIONS`).
DEFAULT_OPTIONS: dict[str, Any] = {"solver": "simplex", "simplex_strategy": 1, "presolve": "off"}

#: Defaults that replace :data:`DEFAULT_OPTIONS` when the model has integer variables (a user's
#: edit, or the SLA extensions of :mod:`optimiser.model.sla`): branch and bound needs presolve,
#: picks its own LP solver (HiGHS ignores ``solver = "simplex"`` for a MIP, with a warning), and
#: stops within a relative gap of 1e-4 (HiGHS's own default, written down so that the summary
#: records it: 0.01 % of a year's objective; a gap of 0 can take four times as long for the same
#: answer, docs/model.md). The caller's options still override them.
MIP_OPTIONS: dict[str, Any] = {"presolve": "on", "solver": "choose", "mip_rel_gap": 1e-4}


@dataclass
class SolverInfo:
    """How the solve went."""

    status: str
    termination: str
    objective_usd: float | None
    handover_s: float
    """Compiling the model to arrays and passing them to HiGHS. [s]"""
    solve_s: float
    iterations: int
    rows: int
    columns: int
    nonzeros: int
    options: dict[str, Any] = field(default_factory=dict)
    build_s: float | None = None
    highs_warnings: list[str] = field(default_factory=list)
    """The warnings HiGHS logged (scaling, values it ignored, ...), one line each."""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Solution:
    """The optimal point and the duals, indexed like the registered model.

    ``duals`` are d(objective)/d(right-hand side) for the objective as posed (dollars, maximised):
    the marginal value of relaxing a row by one unit.
    """

    lp: LP
    x: np.ndarray
    duals: np.ndarray
    objective: float
    info: SolverInfo
    registry: Any = None
    bound_row_duals: list[float] = field(default_factory=list)
    """Duals of the user rows on one variable (``lp.bound_rows``). [$ per unit of the row]"""

    def value(self, var: Any) -> np.ndarray:
        """Values of a registered variable (a component or its name), in registration order. [MW]"""
        name = var if isinstance(var, str) else var.name
        if not isinstance(var, str) and id(var) in self.lp.var_start:
            s, size = self.lp.var_start[id(var)], self.lp.var_size[id(var)]
        else:
            # by name: a clone's component, or a solution sent from another process
            s, size = self.lp.var_names[name]
        return self.x[s : s + size]

    def dual(self, con: Any) -> np.ndarray | None:
        """Duals of a registered constraint family (a component or its name), in key order;
        ``None`` if the family is not in the LP (deactivated or deleted)."""
        name = con if isinstance(con, str) else con.name
        where = self.lp.families.get(name)
        if where is None:
            return None
        return self.duals[where[0] : where[0] + where[1]]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["registry"] = None
        return state


_OK = {"Optimal"}

#: Smallest and largest matrix value HiGHS keeps (``small_matrix_value``, ``large_matrix_value``).
HIGHS_SMALL_MATRIX_VALUE = 1e-9
HIGHS_LARGE_MATRIX_VALUE = 1e15

#: Costs and bounds at or above this HiGHS takes for infinite (``infinite_cost``, ``infinite_bound``).
HIGHS_INFINITE = 1e20

#: Above this ratio of largest to smallest matrix value the summary warns. [-]
MATRIX_RANGE_WARN = 1e9

#: Words that mark a HiGHS log warning as being about scaling or coefficient ranges.
SCALING_WORDS = ("excessively", "scal", "coefficient", "ignored", "range")


def _capture_log(h: highspy.Highs, lines: list[str], to_console: bool) -> None:
    """Collect HiGHS's log into ``lines`` (and echo it to the console if ``to_console``)."""
    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", bool(to_console))
    # one callback: the log, and a stop when SIGINT/SIGTERM arrives during the run (interrupt.py)
    if not install_callbacks(h, lines.append):  # a highspy without callbacks: the log is not captured
        h.setOptionValue("output_flag", bool(to_console))


def _warnings(lines: list[str]) -> list[str]:
    """The ``WARNING:`` lines of a captured HiGHS log, without the prefix."""
    out = []
    for line in "".join(lines).splitlines():
        if line.strip().upper().startswith("WARNING"):
            out.append(line.split(":", 1)[-1].strip())
    return out


def scaling_warnings(highs_warnings: list[str]) -> list[str]:
    """Those of HiGHS's warnings that are about scaling or coefficient ranges."""
    return [w for w in highs_warnings if any(word in w.lower() for word in SCALING_WORDS)]


def check_numerics(ranges: dict[str, tuple[float, float]]) -> list[str]:
    """Check the LP's coefficient ranges (:func:`optimiser.lp.coefficient_ranges`).

    Returns
    -------
    list of str
        Warnings: a matrix whose largest and smallest non-zero differ by more than
        :data:`MATRIX_RANGE_WARN`.

    Raises
    ------
    SolverError
        If a matrix value is so small that HiGHS would silently drop it, or so large that HiGHS
        would reject the model.
    """
    lo, hi = ranges["matrix"]
    if 0 < lo <= HIGHS_SMALL_MATRIX_VALUE:
        raise SolverError(
            f"the constraint matrix holds a coefficient of {lo:.3g}: HiGHS ignores values below "
            f"{HIGHS_SMALL_MATRIX_VALUE:g}, so the model solved would not be the one built; rescale "
            "the constraint that holds it (e.g. state it in MW, not W)"
        )
    if hi >= HIGHS_LARGE_MATRIX_VALUE:
        raise SolverError(
            f"the constraint matrix holds a coefficient of {hi:.3g}: HiGHS rejects values above "
            f"{HIGHS_LARGE_MATRIX_VALUE:g}; rescale the constraint that holds it"
        )
    out = []
    if lo > 0 and hi / lo > MATRIX_RANGE_WARN:
        out.append(
            f"the constraint matrix spans {lo:.3g} .. {hi:.3g} (a ratio of {hi / lo:.2g}, above "
            f"{MATRIX_RANGE_WARN:g}): the solve may be inaccurate; rescale the constraints that hold the extremes"
        )
    return out


def _solver_error(message: str, info: "SolverInfo") -> SolverError:
    """A :class:`SolverError` carrying how the solve ended in ``.solver`` (a dict)."""
    err = SolverError(message)
    err.solver = info.as_dict()  # type: ignore[attr-defined]
    return err


def _apply_options(h: highspy.Highs, options: dict[str, Any]) -> None:
    options = check_options(options)  # type, range and safety, naming the option (options.py)
    for key, val in options.items():
        status = h.setOptionValue(key, val)
        if status != highspy.HighsStatus.kOk:
            raise DispatchError(f"HiGHS did not accept option {key}={val!r}")


def solver_options(
    lp: LP,
    options: dict[str, Any] | None = None,
    time_limit: float | None = None,
    rel_gap: float | None = None,
) -> dict[str, Any]:
    """The HiGHS options a solve of ``lp`` uses: :data:`DEFAULT_OPTIONS` (with :data:`MIP_OPTIONS`
    if ``lp`` has integer columns), then ``options``, ``time_limit`` [s] and ``rel_gap``."""
    opts = dict(DEFAULT_OPTIONS)
    if lp.integrality is not None and np.any(lp.integrality):
        opts.update(MIP_OPTIONS)
    opts.update(options or {})
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    if rel_gap is not None:
        opts["mip_rel_gap"] = float(rel_gap)
    return opts


def configured_highs(opts: dict[str, Any], log: bool = False) -> tuple[highspy.Highs, list[str]]:
    """A fresh ``Highs`` (no banner on stdout: :func:`optimiser._highs.new_highs`) with ``opts``
    set and its log captured into the returned list.

    Raises
    ------
    DispatchError
        If HiGHS does not accept an option.
    """
    h = new_highs()
    log_lines: list[str] = []
    _capture_log(h, log_lines, to_console=log)
    _apply_options(h, opts)
    return h, log_lines


def pass_lp(h: highspy.Highs, lp: LP) -> None:
    """Hand ``lp`` to ``h`` as a minimisation (HiGHS's statuses and duals are most reliable so).

    Raises
    ------
    SolverError
        If HiGHS rejects the model.
    """
    n_row, n_col = lp.shape
    A = lp.matrix
    integrality = lp.integrality if lp.integrality is not None else np.zeros(A.shape[1], dtype=np.int32)
    cost = -lp.c if lp.maximize else lp.c
    off = -lp.offset if lp.maximize else lp.offset
    status = h.passModel(
        n_col, n_row, A.nnz, 1, 1, off,
        cost, lp.col_lo, lp.col_hi, lp.row_lo, lp.row_hi,
        A.indptr.astype(np.int32), A.indices.astype(np.int32, copy=False), A.data, integrality.astype(np.int32, copy=False),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (inconsistent bounds or a NaN coefficient)")


def run_lp(
    h: highspy.Highs,
    lp: LP,
    opts: dict[str, Any],
    *,
    log_lines: list[str],
    handover_s: float,
    allow_nonoptimal: bool = False,
) -> Solution:
    """Run HiGHS on the model it holds (``lp``, passed or updated), check how it ended and read
    the answer back.

    ``time_limit`` in ``opts`` is per call: HiGHS counts it from the object's first run, so it is
    set to the run time already spent plus the limit.

    Parameters
    ----------
    h
        Holding ``lp`` (and possibly a basis to start from).
    lp
        The LP ``h`` holds, as compiled.
    opts
        The options set on ``h`` (recorded in the :class:`SolverInfo`).
    log_lines
        Where ``h``'s log is captured (from :func:`configured_highs`): the lines of this model's
        hand-over and solve (clear it before changing a kept model), for
        :attr:`SolverInfo.highs_warnings`.
    handover_s
        Time spent handing the model over, recorded. [s]
    allow_nonoptimal
        Return a non-optimal answer that has a feasible point instead of raising.

    Raises
    ------
    InfeasibleError, SolverError
    """
    n_row, n_col = lp.shape
    if opts.get("time_limit") is not None and h.getRunTime() > 0:
        h.setOptionValue("time_limit", float(h.getRunTime()) + float(opts["time_limit"]))
    t1 = time.perf_counter()
    run_highs(h)  # SIGINT/SIGTERM stop HiGHS through its callbacks, then are raised (interrupt.py)
    model_status = h.modelStatusToString(h.getModelStatus())
    if model_status == "Primal infeasible or unbounded" and h.getOptionValue("presolve")[1] != "off":
        # presolve could not tell which: solve again without it for a definite answer
        presolve = h.getOptionValue("presolve")[1]
        h.setOptionValue("presolve", "off")
        run_highs(h)
        h.setOptionValue("presolve", presolve)
        model_status = h.modelStatusToString(h.getModelStatus())
    t2 = time.perf_counter()
    info = h.getInfo()
    iterations = int(info.simplex_iteration_count) + max(int(info.ipm_iteration_count), 0) + max(
        int(getattr(info, "pdlp_iteration_count", 0)), 0
    )
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    obj = None
    if has_solution:
        obj = float(info.objective_function_value)
        obj = -obj if lp.maximize else obj
    solver_info = SolverInfo(
        status="ok" if model_status in _OK else "warning",
        termination=model_status,
        objective_usd=obj,
        handover_s=handover_s,
        solve_s=t2 - t1,
        iterations=iterations,
        rows=n_row,
        columns=n_col,
        nonzeros=int(lp.matrix.nnz),
        options=dict(opts),
        highs_warnings=_warnings(log_lines),
    )
    if model_status not in _OK:
        if model_status in ("Infeasible", "Primal infeasible or unbounded"):
            err = InfeasibleError(f"HiGHS reports the scenario {model_status.lower()}")
            err.solver = solver_info.as_dict()  # type: ignore[attr-defined]
            raise err
        if model_status == "Unbounded":
            raise _solver_error("the model is unbounded: the objective can grow without limit", solver_info)
        if not (allow_nonoptimal and has_solution):
            raise _solver_error(
                f"HiGHS ended with status '{model_status}' after {t2 - t1:.1f} s"
                + ("" if has_solution else " without a feasible point: there is no answer to return")
                + ("; pass allow_nonoptimal=True (--allow-nonoptimal) to accept it" if has_solution else ""),
                solver_info,
            )
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    col_duals = None
    if sol.dual_valid:
        duals = np.asarray(sol.row_dual, dtype=float)
        duals = -duals if lp.maximize else duals
        if lp.bound_rows:
            col_duals = np.asarray(sol.col_dual, dtype=float)
            col_duals = -col_duals if lp.maximize else col_duals
    elif lp.integrality is not None and np.any(lp.integrality) and model_status in _OK:
        duals, col_duals = fixed_lp_duals(lp, x, opts)
    else:
        duals = np.full(n_row, np.nan)
    out = Solution(lp, x, duals, float(obj) if obj is not None else float("nan"), solver_info)
    out.bound_row_duals = bound_row_duals(lp, x, col_duals)
    return out


def fixed_lp_duals(lp: LP, x: np.ndarray, opts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Duals of a MIP's answer: the LP with every integer column fixed at its value, solved again
    (as unit-commitment models price their dispatch). The marginal value of site power then
    holds for the commitment the MIP chose. [$ per unit of the row]; NaN if that LP does not solve
    to the MIP's objective."""
    from dataclasses import replace

    integer = lp.integrality.astype(bool)
    fixed = np.round(x[integer])
    col_lo, col_hi = lp.col_lo.copy(), lp.col_hi.copy()
    col_lo[integer] = col_hi[integer] = fixed
    relaxed = replace(lp, col_lo=col_lo, col_hi=col_hi, integrality=None)
    h, lines = configured_highs({k: v for k, v in opts.items() if not k.startswith("mip_")} | DEFAULT_OPTIONS)
    pass_lp(h, relaxed)
    run_highs(h)
    nan = np.full(lp.shape[0], np.nan)
    if h.modelStatusToString(h.getModelStatus()) not in _OK:
        return nan, None
    sol = h.getSolution()
    if not sol.dual_valid:
        return nan, None
    sign = -1.0 if lp.maximize else 1.0
    return sign * np.asarray(sol.row_dual, dtype=float), sign * np.asarray(sol.col_dual, dtype=float)


def bound_row_duals(lp: LP, x: np.ndarray, col_duals: np.ndarray | None) -> list[float]:
    """Duals of the user rows passed as column bounds (``lp.bound_rows``), in their order:
    d(objective)/d(right-hand side), the column's reduced cost over the row's coefficient where
    the row's bound is the one the column sits at, else 0. [$ per unit of the row]"""
    out = []
    for _d, j, a, lo_b, hi_b in lp.bound_rows:
        if col_duals is None:
            out.append(float("nan"))
            continue
        tol = 1e-7 * max(1.0, abs(x[j]))
        at_row_bound = (abs(x[j] - hi_b) <= tol and lp.col_hi[j] == hi_b) or (
            abs(x[j] - lo_b) <= tol and lp.col_lo[j] == lo_b)
        out.append(float(col_duals[j] / a) if at_row_bound else 0.0)
    return out


def solve_lp(
    lp: LP,
    *,
    options: dict[str, Any] | None = None,
    time_limit: float | None = None,
    rel_gap: float | None = None,
    allow_nonoptimal: bool = False,
    log: bool = False,
    basis: tuple[np.ndarray, np.ndarray] | None = None,
) -> Solution:
    """Solve a compiled LP with HiGHS.

    Parameters
    ----------
    lp
        From :func:`optimiser.lp.compile_lp`.
    options
        HiGHS options (``{"solver": "ipm"}``), over :data:`DEFAULT_OPTIONS`.
    time_limit
        Seconds HiGHS may run. [s]
    rel_gap
        Relative optimality gap accepted (``mip_rel_gap``, for models a user made integer).
    allow_nonoptimal
        Return a non-optimal answer (time limit) instead of raising.
    log
        Let HiGHS write its log to the console.
    basis
        A simplex basis to start from, ``(col_status, row_status)`` as from
        :meth:`optimiser.WarmSolver.basis` (see :func:`optimiser.basis.set_basis`).

    Raises
    ------
    InfeasibleError, SolverError
    DispatchError
        If ``basis`` does not fit the LP or HiGHS rejects it.
    """
    opts = solver_options(lp, options, time_limit, rel_gap)
    t0 = time.perf_counter()
    h, log_lines = configured_highs(opts, log)
    pass_lp(h, lp)
    if basis is not None:
        from .basis import set_basis

        set_basis(h, *basis)
    return run_lp(h, lp, opts, log_lines=log_lines, handover_s=time.perf_counter() - t0,
                     allow_nonoptimal=allow_nonoptimal)


def load_into_model(m: Any, solution: Solution) -> None:
    """Put variable values (and duals, if the model has an ``IMPORT`` ``dual`` suffix) on the model."""
    from .model.core import registries

    x = solution.x
    all_vars = [vi for reg in registries(m) for vi in reg.vars]
    for vi in all_vars:
        s = solution.lp.var_start[id(vi.component)]
        _lazy.set_values(vi.datas, x[s : s + vi.size].tolist(), vi.lazy)
    n_reg = sum(vi.size for vi in all_vars)
    for i, v in enumerate(solution.lp.user_cols):
        v.set_value(float(x[n_reg + i]), skip_validation=True)
    suffix = getattr(m, "dual", None)
    if isinstance(suffix, pyo.Suffix) and suffix.import_enabled():
        for blk, start in solution.lp.blocks:
            for d, y in zip(blk.component.values(), solution.duals[start : start + len(blk.keys)].tolist()):
                suffix[d] = y
        for d, row in solution.lp.user_rows:
            suffix[d] = float(solution.duals[row])
        for (d, *_), y in zip(solution.lp.bound_rows, solution.bound_row_duals):
            suffix[d] = y


def compile_checked(m: Any) -> tuple[LP, dict[str, tuple[float, float]], list[str], float]:
    """Compile a model (:func:`optimiser.lp.compile_lp`) and check its numbers before HiGHS sees them.

    Returns
    -------
    lp
        The compiled LP.
    ranges
        Its coefficient ranges (:func:`optimiser.lp.coefficient_ranges`).
    numerics
        Warnings about them (:func:`check_numerics`).
    compile_s
        Time taken. [s]

    Raises
    ------
    SolverError
        If a coefficient is one HiGHS would drop, reject or take for infinite (naming the column).
    """
    t0 = time.perf_counter()
    lp = compile_lp(m)
    ranges = coefficient_ranges(lp)
    numerics = check_numerics(ranges)
    huge = np.flatnonzero(~(np.abs(lp.c) < HIGHS_INFINITE))
    if len(huge):
        from .diagnose import column_name

        c = huge[np.argmax(np.abs(lp.c[huge]))] if np.isfinite(lp.c[huge]).all() else huge[0]
        raise SolverError(
            f"the objective gives {column_name(m, lp, int(c))} a coefficient of {lp.c[c]:.3g} $ per unit "
            f"({len(huge)} such): HiGHS takes {HIGHS_INFINITE:g} and above for infinite, so it would solve "
            "another model; check the inputs behind that variable (or the term you added) for a wrong unit"
        )
    return lp, ranges, numerics, time.perf_counter() - t0


@contextmanager
def diagnosed(m: Any, lp: LP) -> Iterator[None]:
    """Re-raise an infeasible or unbounded outcome of solving ``lp`` (compiled from ``m``) with
    its diagnosis: the constraint family and hour that cannot hold, or the unbounded column."""
    try:
        yield
    except InfeasibleError as err:
        from .diagnose import diagnose_infeasible  # imports scipy: only when needed

        if lp.bound_rows:  # diagnose with the user's one-variable rows as rows, so it can name them
            lp = compile_lp(m, rows_as_bounds=False)
        new = InfeasibleError(f"{err}. {diagnose_infeasible(m, lp)}")
        new.solver = getattr(err, "solver", None)  # type: ignore[attr-defined]
        raise new from None
    except SolverError as err:
        info = getattr(err, "solver", None) or {}
        if info.get("termination") == "Unbounded":
            from .diagnose import diagnose_unbounded

            new = SolverError(f"{err}. {diagnose_unbounded(m, lp)}")
            new.solver = info  # type: ignore[attr-defined]
            raise new from None
        raise


def finish(
    m: Any,
    solution: Solution,
    ranges: dict[str, tuple[float, float]],
    numerics: list[str],
    *,
    compile_s: float = 0.0,
    load_solution: bool = True,
) -> "Results":
    """From HiGHS's answer to :class:`~optimiser.results.Results`: load it on the model (if
    ``load_solution``), assemble the results, check the objective (:func:`check_objective`) and
    add the numerics and HiGHS warnings to the summary.

    Raises
    ------
    ObjectiveCheckError
        If the model's objective at the solution is not HiGHS's.
    """
    from .results import make_results

    solution.registry = m.dispatch
    for comp in m.dispatch.components:  # a choice among equal optima (the site nets import and export)
        polish = getattr(comp, "polish", None)
        if polish is not None:
            polish(m.dispatch, solution)
    solution.info.build_s = getattr(m.dispatch, "build_s", None)
    solution.info.handover_s += compile_s
    if load_solution:
        load_into_model(m, solution)
    res = make_results(m, solution)
    check_objective(m, res, loaded=load_solution)
    scaling = scaling_warnings(solution.info.highs_warnings)
    res.summary["solver"]["coefficient_ranges"] = {k: list(v) for k, v in ranges.items()}
    res.summary["solver"]["highs_warnings"] = list(solution.info.highs_warnings)
    res.summary["warnings"] = list(res.summary.get("warnings", [])) + numerics + [f"HiGHS: {w}" for w in scaling]
    return res


def solve(
    m: Any,
    *,
    options: dict[str, Any] | None = None,
    time_limit: float | None = None,
    rel_gap: float | None = None,
    allow_nonoptimal: bool = False,
    load_solution: bool = True,
    log: bool = False,
    basis: tuple[np.ndarray, np.ndarray] | None = None,
) -> "Results":
    """Solve a built model (with any edits) and return its :class:`~optimiser.results.Results`.

    Parameters
    ----------
    m
        From :func:`optimiser.build`, possibly edited.
    options, time_limit, rel_gap, allow_nonoptimal, log
        See :func:`solve_lp`.
    load_solution
        Also put the values on the Pyomo variables (``pyo.value(m.asic.power["s21", 0])``) and the
        duals on ``m.dual`` if the model has such an import suffix.
    basis
        A simplex basis to start from, ``(col_status, row_status)`` int8 arrays as from
        :meth:`optimiser.WarmSolver.basis` (e.g. sent from another process). To re-solve many
        variants in one process, :class:`optimiser.WarmSolver` is faster.

    Raises
    ------
    InfeasibleError
        Naming the constraint family and the hour or billing period that cannot hold.
    SolverError
        On a time limit (unless ``allow_nonoptimal``), an unbounded model or a solver failure.
    """
    lp, ranges, numerics, compile_s = compile_checked(m)
    with diagnosed(m, lp):
        solution = solve_lp(lp, options=options, time_limit=time_limit, rel_gap=rel_gap,
                            allow_nonoptimal=allow_nonoptimal, log=log, basis=basis)
    return finish(m, solution, ranges, numerics, compile_s=compile_s, load_solution=load_solution)


def solve_blocks(
    m: Any,
    *,
    options: dict[str, Any] | None = None,
    time_limit: float | None = None,
    rel_gap: float | None = None,
    allow_nonoptimal: bool = False,
    log: bool = False,
) -> dict[str, "Results"]:
    """Solve a model holding several dispatch models (:func:`optimiser.build_into`) and return
    each one's :class:`~optimiser.results.Results`, by block name.

    The whole model is compiled and solved as :func:`solve` does (its active objective, every
    edit); the solution is loaded on the model and the objective checked against Pyomo's. Each
    block's results hold its own dispatch, streams (adding up to its ``profit``) and duals; their
    ``objective_usd`` is the block's profit, and the model's objective is in
    ``summary["solver"]["model_objective_usd"]``.

    Raises
    ------
    InfeasibleError, SolverError, DispatchError
    """
    from .model.core import registries
    from .results import make_results

    lp, ranges, numerics, compile_s = compile_checked(m)
    solution = solve_lp(lp, options=options, time_limit=time_limit, rel_gap=rel_gap,
                        allow_nonoptimal=allow_nonoptimal, log=log)
    solution.info.handover_s += compile_s
    load_into_model(m, solution)
    obj = next(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
    _compare_objectives(float(pyo.value(obj.expr)), solution)
    out: dict[str, Results] = {}
    for reg in registries(m):
        block = m if not reg.prefix else m.find_component(reg.prefix)
        part = Solution(lp, solution.x, solution.duals, float(pyo.value(block.profit)), solution.info, reg,
                        solution.bound_row_duals)
        res = make_results(block, part)
        res.summary["solver"]["model_objective_usd"] = solution.objective
        res.summary["warnings"] = list(res.summary.get("warnings", [])) + numerics
        out[reg.prefix or m.name] = res
    return out


class ObjectiveCheckError(SolverError):
    """The model's objective at HiGHS's solution is not the objective HiGHS reports."""


#: Largest relative difference allowed between HiGHS's objective and the model's objective
#: evaluated at HiGHS's solution. [-]
OBJECTIVE_CHECK_RTOL = 1e-9


def check_objective(m: Any, res: "Results", *, loaded: bool) -> None:
    """Check that the model's active objective, evaluated at the solution, is HiGHS's objective.

    The registered objective is the sum of the streams (``res.summary``), each evaluated from
    its Pyomo expression where it is not as registered; any other objective is evaluated by
    Pyomo (``pyo.value``) when the solution was loaded, else from its compiled form.

    Raises
    ------
    ObjectiveCheckError
        If they differ by more than :data:`OBJECTIVE_CHECK_RTOL` (relative): the model solved
        would not be the model of record.
    """
    sol = res.solution
    lp = sol.lp
    ours = sol.objective
    if not np.isfinite(ours):
        return
    if lp.fast_objective:
        value = sum(res.summary["revenue_usd"].values()) - sum(res.summary["cost_usd"].values())
    elif loaded:
        obj = next(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
        value = float(pyo.value(obj.expr))
    else:
        value = lp.objective_linear.value(sol.x)
    _compare_objectives(value, sol)


def _compare_objectives(value: float, sol: Solution) -> None:
    """Raise :class:`ObjectiveCheckError` unless the model's objective ``value`` at ``sol`` is
    HiGHS's, within :data:`OBJECTIVE_CHECK_RTOL`."""
    ours = sol.objective
    if abs(value - ours) > OBJECTIVE_CHECK_RTOL * max(1.0, abs(value), abs(ours)):
        err = ObjectiveCheckError(
            f"the model's objective at HiGHS's solution is {value:.10g} but HiGHS reports {ours:.10g}: "
            "the model solved is not the model built; please report this with the edits made"
        )
        err.solver = sol.info.as_dict()  # type: ignore[attr-defined]
        raise err
