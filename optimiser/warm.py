"""Warm re-solves: keep one HiGHS instance across solves and change only what differs.

A sweep (BTC price, energy price, a contract price, a ramp limit) solves LPs of the same shape
whose numbers differ. :class:`WarmSolver` compiles each model as :func:`optimiser.solve` does
(the compiled LP is the model of record: every edit is in it), compares it with the LP HiGHS
holds and

- hands it over whole (*cold*) on the first solve, or when the structure differs: shape,
  sparsity pattern of the matrix, integrality, objective sense, solver options, or more than
  ``max_coeff_changes`` matrix values; and always when the model has integer variables;
- otherwise changes only the costs, column bounds, row bounds, objective offset and the few
  matrix values that differ, and runs HiGHS from the basis it kept (*warm*): on the year, a
  BTC price change of 10 % takes about a tenth of the cold iterations.

Every ``check_cold_every``-th warm solve is also solved cold in a fresh HiGHS and the objectives
must agree (HiGHS issues 3194 and 3294 report wrong objectives after some warm starts); a warm
answer whose objective fails :func:`optimiser.solve.check_objective` is re-solved cold too. The
statuses, infeasibility diagnosis, objective check and :class:`~optimiser.results.Results` are
those of :func:`optimiser.solve`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import highspy
import numpy as np

from .basis import get_basis, set_basis
from .errors import DispatchError, SolverError
from .lp import LP
from .solve import (
    ObjectiveCheckError,
    Solution,
    compile_checked,
    diagnosed,
    finish,
    configured_highs,
    pass_lp,
    run_lp,
    solver_options,
)

if TYPE_CHECKING:  # pragma: no cover
    from .extra import Extra
    from .results import Results
    from .scenario import Scenario

#: Largest relative difference allowed between a warm objective and the cold one. [-]
COLD_CHECK_RTOL = 1e-7


@dataclass
class _Kept:
    """The LP HiGHS holds, in the compiled (not negated) form: copies of the arrays only, so that
    no Pyomo model is kept alive."""

    shape: tuple[int, int]
    maximize: bool
    integrality: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    c: np.ndarray
    offset: float
    col_lo: np.ndarray
    col_hi: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    options: dict[str, Any]

    @classmethod
    def of(cls, lp: LP, options: dict[str, Any]) -> "_Kept":
        A = lp.matrix
        return cls(lp.shape, lp.maximize, _integrality(lp), A.indptr.copy(), A.indices.copy(), A.data.copy(),
                   lp.c.copy(), float(lp.offset), lp.col_lo.copy(), lp.col_hi.copy(), lp.row_lo.copy(),
                   lp.row_hi.copy(), dict(options))


def _integrality(lp: LP) -> np.ndarray:
    n_col = lp.shape[1]
    return np.zeros(n_col, np.int32) if lp.integrality is None else np.asarray(lp.integrality, np.int32)


def _rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(a), abs(b))


class WarmSolver:
    """Solve a sequence of models of the same structure, each from the previous one's basis.

    Parameters
    ----------
    options
        HiGHS options, over :data:`optimiser.solve.DEFAULT_OPTIONS` (as :func:`optimiser.solve`).
    time_limit
        Seconds HiGHS may run, per solve. [s]
    rel_gap
        Relative optimality gap (``mip_rel_gap``) for models a user made integer.
    allow_nonoptimal
        Return a non-optimal answer (time limit) instead of raising.
    log
        Let HiGHS write its log to the console.
    check_cold_every
        Also solve every N-th warm solve cold in a fresh HiGHS and compare the objectives
        (relative :data:`COLD_CHECK_RTOL`); 0 never. Default 10.
    max_coeff_changes
        Above this many changed matrix values the model is handed over whole instead of changed
        value by value (``changeCoeff``). Default 1,000.
    on_mismatch
        What a failed cold check does: ``"fallback"`` (default) reports the cold answer, keeps
        the fresh HiGHS for the next solves and adds a warning to ``summary["warnings"]``;
        ``"raise"`` raises :class:`~optimiser.errors.SolverError`.

    Attributes
    ----------
    stats
        Counts over the solver's life: ``solves``, ``warm``, ``cold``, ``cold_checks``,
        ``mismatches`` (failed cold checks and failed objective checks after a warm start).
    last
        What the last :meth:`solve_solution` did (whether it was warm, why not, what changed).

    Examples
    --------
    >>> ws = optimiser.WarmSolver()
    >>> for k in (0.9, 1.0, 1.1):
    ...     res = ws.solve_scenario(sc.with_series(btc_usd=lambda d: k * d["btc_usd"]))
    ...     res.summary["solver"]["warm"]["warm"], res.summary["solver"]["iterations"]

    ``start_from``: each warm solve starts from the basis the previous solve ended with
    (``"previous"``, best for a sorted sweep, where neighbours are close) or from the first
    solve's (``"first"``, best for variants scattered around a base case: on the year, random
    +-20 % BTC price variants need a third fewer iterations).

    One instance holds one HiGHS model: use one per thread or process (a pool of workers each
    with its own). Each solve's ``res.summary["solver"]["warm"]`` says whether it was warm, why
    not (``reason``), what changed (``changed``: counts of costs, column bounds, row bounds and
    matrix values, and whether the objective offset changed), and the cold check if one ran
    (``cold_check``).
    """

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        time_limit: float | None = None,
        *,
        rel_gap: float | None = None,
        allow_nonoptimal: bool = False,
        log: bool = False,
        check_cold_every: int = 10,
        max_coeff_changes: int = 1000,
        on_mismatch: Literal["fallback", "raise"] = "fallback",
        start_from: Literal["previous", "first"] = "previous",
    ) -> None:
        if on_mismatch not in ("fallback", "raise"):
            raise ValueError(f"on_mismatch must be 'fallback' or 'raise', not {on_mismatch!r}")
        if start_from not in ("previous", "first"):
            raise ValueError(f"start_from must be 'previous' or 'first', not {start_from!r}")
        self.start_from = start_from
        self._anchor: Any = None
        self.options = dict(options or {})
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.allow_nonoptimal = allow_nonoptimal
        self.log = log
        self.check_cold_every = int(check_cold_every)
        self.max_coeff_changes = int(max_coeff_changes)
        self.on_mismatch = on_mismatch
        self.stats: dict[str, int] = {"solves": 0, "warm": 0, "cold": 0, "cold_checks": 0, "mismatches": 0}
        self._h: highspy.Highs | None = None
        self._log: list[str] = []
        self._kept: _Kept | None = None
        self._next_reason = "first solve"
        self._pending_basis: tuple[np.ndarray, np.ndarray] | None = None
        self.last: dict[str, Any] | None = None

    # -- public ---------------------------------------------------------------------------------

    def solve(self, m: Any, *, load_solution: bool = True) -> "Results":
        """Solve a built (possibly edited) model, warm if it has the kept LP's structure.

        Parameters
        ----------
        m
            From :func:`optimiser.build`, possibly edited.
        load_solution
            Also put the values (and duals, with an ``IMPORT`` ``dual`` suffix) on the model, as
            :func:`optimiser.solve` does.

        Returns
        -------
        Results
            As :func:`optimiser.solve`'s, with ``summary["solver"]["warm"]`` added.

        Raises
        ------
        InfeasibleError, SolverError, DispatchError
            As :func:`optimiser.solve`; after any of them the next solve is cold.
        """
        lp, ranges, numerics, compile_s = compile_checked(m)
        self.stats["solves"] += 1
        fallback: str | None = None
        try:
            with diagnosed(m, lp):
                sol, record = self._solve_lp(lp)
                if record["warm"] and self._check_due():
                    sol, fallback = self._cold_check(lp, sol, record)
            try:
                res = finish(m, sol, ranges, numerics, compile_s=compile_s, load_solution=load_solution)
            except ObjectiveCheckError as err:
                if not record["warm"] or fallback is not None:
                    raise
                self.stats["mismatches"] += 1
                with diagnosed(m, lp):
                    cold = self._replace_with_cold(lp)
                fallback = f"the warm answer failed the objective check ({err}); solved cold instead"
                record["fallback"] = {"why": "objective check", "warm_iterations": sol.info.iterations}
                self._raise_if_strict(fallback)
                res = finish(m, cold, ranges, numerics, compile_s=compile_s, load_solution=load_solution)
        except BaseException:
            self._drop("the previous solve failed")
            raise
        res.summary["solver"]["warm"] = record
        self.last = record
        if fallback is not None:
            res.summary["warnings"] = list(res.summary.get("warnings", [])) + [fallback]
        return res

    def solve_solution(self, m: Any) -> Solution:
        """Solve a built model as :meth:`solve` does, warm where it can, and return HiGHS's answer
        without making :class:`~optimiser.results.Results` (no columns, streams or summary).

        For loops that read a few values from each of many small models (a rolling horizon's
        plans: ``sol.value(m.asic.power)``), where making results would cost more than the solve.
        The answer is polished by the components as :func:`optimiser.solve` polishes it, and the
        cold check runs as for :meth:`solve`; the objective check, which reads the streams, does
        not. What the solve did is in :attr:`last` (the record :meth:`solve` puts in
        ``summary["solver"]["warm"]``).

        Raises
        ------
        InfeasibleError, SolverError, DispatchError
            As :meth:`solve`; after any of them the next solve is cold.
        """
        lp, _ranges, _numerics, compile_s = compile_checked(m)
        self.stats["solves"] += 1
        try:
            with diagnosed(m, lp):
                sol, record = self._solve_lp(lp)
                if record["warm"] and self._check_due():
                    sol, _fallback = self._cold_check(lp, sol, record)
        except BaseException:
            self._drop("the previous solve failed")
            raise
        sol.info.handover_s += compile_s
        sol.registry = m.dispatch
        for comp in m.dispatch.components:
            polish = getattr(comp, "polish", None)
            if polish is not None:
                polish(m.dispatch, sol)
        self.last = record
        return sol

    def solve_scenario(self, scenario: "Scenario", *, extra: "Extra | None" = None,
                       load_solution: bool = False) -> "Results":
        """Build a scenario (:func:`optimiser.build`), apply ``extra`` and :meth:`solve` it.

        Building a year takes about 0.02 s, so a sweep can make each variant a :class:`Scenario`
        (``sc.with_series(...)``, ``sc.replace(...)``) and solve it here.

        Parameters
        ----------
        scenario
            The variant to solve.
        extra
            Hooks ``fn(m) -> None`` applied to the built model (see :mod:`optimiser.extra`).
        load_solution
            Put the values on the (otherwise discarded) model; off by default.

        Returns
        -------
        Results
            As :meth:`solve`.
        """
        from . import build
        from .extra import apply_extras

        m = build(scenario)
        apply_extras(m, extra)
        return self.solve(m, load_solution=load_solution)

    def basis(self) -> tuple[np.ndarray, np.ndarray]:
        """The basis HiGHS holds after the last solve, as ``(col_status, row_status)`` int8 arrays
        (picklable; see :mod:`optimiser.basis`), for :meth:`set_basis` or
        ``optimiser.solve(m, basis=...)`` in another process.

        Raises
        ------
        DispatchError
            If nothing was solved yet (or the last solve failed).
        """
        if self._h is None:
            raise DispatchError("the WarmSolver holds no basis: nothing solved yet, or the last solve failed")
        return get_basis(self._h)

    def set_basis(self, col_status: np.ndarray, row_status: np.ndarray) -> None:
        """Start the next solve from this basis (as from :meth:`basis`, possibly of another
        process) instead of the kept one. It must fit the next model's columns and rows, else
        that solve raises :class:`~optimiser.errors.DispatchError`."""
        self._pending_basis = (np.array(col_status, dtype=np.int8), np.array(row_status, dtype=np.int8))

    def reset(self) -> None:
        """Forget the kept model and basis: the next solve is cold."""
        self._drop("reset")

    # -- internals ------------------------------------------------------------------------------

    def _drop(self, reason: str) -> None:
        self._h = None
        self._kept = None
        self._log = []
        self._anchor = None
        self._next_reason = reason

    def _check_due(self) -> bool:
        return self.check_cold_every > 0 and self.stats["warm"] % self.check_cold_every == 0

    def _raise_if_strict(self, message: str) -> None:
        if self.on_mismatch == "raise":
            raise SolverError(message)

    def _why_cold(self, lp: LP, opts: dict[str, Any]) -> str | None:
        k = self._kept
        if self._h is None or k is None:
            return self._next_reason
        if lp.integrality is not None and np.any(lp.integrality):
            # branch and bound gains little from a basis, and two MIP answers may differ within
            # the gap, which the cold check would take for a wrong answer
            return "integer variables: a MIP is always handed over whole"
        if lp.shape != k.shape:
            return f"shape changed ({k.shape[0]} x {k.shape[1]} -> {lp.shape[0]} x {lp.shape[1]})"
        if lp.maximize != k.maximize:
            return "objective sense changed"
        if not np.array_equal(_integrality(lp), k.integrality):
            return "integrality changed"
        if opts != k.options:
            return "solver options changed"
        A = lp.matrix
        if not (np.array_equal(A.indptr, k.indptr) and np.array_equal(A.indices, k.indices)):
            return "matrix sparsity pattern changed"
        return None

    def _update(self, lp: LP) -> dict[str, Any] | str:
        """Change what differs between the kept LP and ``lp`` in HiGHS; the counts, or why the
        model must be handed over whole instead."""
        k = self._kept
        assert k is not None
        A = lp.matrix
        coef = np.flatnonzero(A.data != k.data)
        if len(coef) > self.max_coeff_changes:
            return f"{len(coef)} matrix values changed (more than max_coeff_changes={self.max_coeff_changes})"
        sign = -1.0 if lp.maximize else 1.0
        cost = np.flatnonzero(lp.c != k.c)
        cols = np.flatnonzero((lp.col_lo != k.col_lo) | (lp.col_hi != k.col_hi))
        rows = np.flatnonzero((lp.row_lo != k.row_lo) | (lp.row_hi != k.row_hi))
        offset = float(lp.offset) != k.offset
        ok = True
        if len(cost):
            ok &= self._change_costs(cost, sign * lp.c[cost])
        if len(cols):
            ok &= self._change_col_bounds(cols, lp.col_lo[cols], lp.col_hi[cols])
        if len(rows):
            ok &= self._change_row_bounds(rows, lp.row_lo[rows], lp.row_hi[rows])
        if offset:
            ok &= self._h.changeObjectiveOffset(sign * float(lp.offset)) != highspy.HighsStatus.kError
        if len(coef):
            col_of = np.searchsorted(A.indptr, coef, side="right") - 1
            for r, c, v in zip(A.indices[coef].tolist(), col_of.tolist(), A.data[coef].tolist()):
                ok &= self._h.changeCoeff(r, c, v) != highspy.HighsStatus.kError
        if not ok:
            return "HiGHS refused a change"
        return {"costs": int(len(cost)), "column_bounds": int(len(cols)), "row_bounds": int(len(rows)),
                "matrix_values": int(len(coef)), "objective_offset": bool(offset)}

    # One method per kind of change, so that a test can break one on purpose.
    def _change_costs(self, idx: np.ndarray, values: np.ndarray) -> bool:
        return self._h.changeColsCost(len(idx), idx.astype(np.int32), values) != highspy.HighsStatus.kError

    def _change_col_bounds(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
        return self._h.changeColsBounds(len(idx), idx.astype(np.int32), lo, hi) != highspy.HighsStatus.kError

    def _change_row_bounds(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
        return self._h.changeRowsBounds(len(idx), idx.astype(np.int32), lo, hi) != highspy.HighsStatus.kError

    def _solve_lp(self, lp: LP) -> tuple[Solution, dict[str, Any]]:
        t0 = time.perf_counter()
        opts = solver_options(lp, self.options, self.time_limit, self.rel_gap)
        reason = self._why_cold(lp, opts)
        changed: dict[str, Any] | None = None
        if reason is None:
            self._log.clear()
            update = self._update(lp)
            if isinstance(update, str):
                reason = update
            else:
                changed = update
        if reason is not None:
            self._drop(reason)  # nothing of the old instance is kept, even if passing fails
            self._h, self._log = configured_highs(opts, self.log)
            pass_lp(self._h, lp)
        self._kept = _Kept.of(lp, opts)
        self._next_reason = "first solve"
        pending, self._pending_basis = self._pending_basis, None
        if pending is not None:
            set_basis(self._h, *pending)
        elif reason is None and self.start_from == "first" and self._anchor is not None:
            self._h.setBasis(self._anchor)  # every variant starts from the first one's optimal basis
        warm = reason is None or pending is not None
        self.stats["warm" if warm else "cold"] += 1
        sol = run_lp(self._h, lp, opts, log_lines=self._log, handover_s=time.perf_counter() - t0,
                     allow_nonoptimal=self.allow_nonoptimal)
        if reason is not None and self.start_from == "first":
            self._anchor = self._h.getBasis()
        record = {"warm": warm, "reason": reason, "changed": changed, "basis_given": pending is not None,
                  "cold_check": None, "fallback": None}
        return sol, record

    def _cold(self, lp: LP) -> tuple[Solution, highspy.Highs, list[str]]:
        opts = solver_options(lp, self.options, self.time_limit, self.rel_gap)
        t0 = time.perf_counter()
        h, log = configured_highs(opts, self.log)
        pass_lp(h, lp)
        sol = run_lp(h, lp, opts, log_lines=log, handover_s=time.perf_counter() - t0,
                        allow_nonoptimal=self.allow_nonoptimal)
        return sol, h, log

    def _replace_with_cold(self, lp: LP) -> Solution:
        """Solve ``lp`` cold and keep that HiGHS (and its basis) for the next solves."""
        sol, h, log = self._cold(lp)
        self._h, self._log = h, log
        self._kept = _Kept.of(lp, solver_options(lp, self.options, self.time_limit, self.rel_gap))
        return sol

    def _cold_check(self, lp: LP, warm: Solution, record: dict[str, Any]) -> tuple[Solution, str | None]:
        """Solve ``lp`` cold too; the answer to report and, if they disagree, a warning."""
        if warm.info.termination != "Optimal":
            return warm, None
        self.stats["cold_checks"] += 1
        cold, h, log = self._cold(lp)
        rel = _rel_diff(warm.objective, cold.objective)
        agrees = rel <= COLD_CHECK_RTOL
        record["cold_check"] = {"objective_usd": cold.objective, "warm_objective_usd": warm.objective,
                                "rel_diff": rel, "agrees": agrees, "iterations": cold.info.iterations,
                                "solve_s": cold.info.solve_s}
        if agrees:
            return warm, None
        self.stats["mismatches"] += 1
        message = (f"a warm re-solve gave an objective of {warm.objective:.10g} but a cold solve of the same "
                   f"model {cold.objective:.10g} (relative difference {rel:.2g} > {COLD_CHECK_RTOL:g}); "
                   "the cold answer is reported")
        self._raise_if_strict(message)
        self._h, self._log = h, log  # the cold instance holds the right model and basis
        record["fallback"] = {"why": "cold check", "warm_iterations": warm.info.iterations}
        return cold, message
