"""From the Pyomo model to a matrix, and from HiGHS's answer back.

:func:`compile_lp` turns a built (and possibly edited) model into the arrays HiGHS takes:
registered constraint families and objective terms come straight from the coefficient arrays
the components kept (no expression walking); anything a user added or replaced (constraints,
variables, objective terms, a whole new objective) is compiled from its Pyomo expression. So a
notebook's edits always reach the solver, and an untouched model pays nothing for them.

Nothing here imports scipy (imported after Pyomo it costs half a second: docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.repn import generate_standard_repn

from .errors import DispatchError
from .model.core import Registry, RowBlock, gc_paused


@dataclass
class UserLinear:
    """A linear expression compiled from Pyomo: ``coef . x[cols] + constant``."""

    cols: np.ndarray
    coef: np.ndarray
    constant: float

    def value(self, x: np.ndarray) -> float:
        return float(self.coef @ x[self.cols]) + self.constant if len(self.cols) else self.constant


_ROW_BITS = 31
_ROW_MASK = (1 << _ROW_BITS) - 1


def entry_keys(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """One int64 per matrix entry, ordered by column then row: ``col << 31 | row``."""
    key = np.left_shift(cols, _ROW_BITS, dtype=np.int64)
    key |= rows
    return key


@dataclass
class Csc:
    """A sparse matrix in compressed-column form, the layout HiGHS takes.

    Kept as plain numpy arrays so that solving never imports scipy (which, imported after
    Pyomo, also pulls in ``scipy.stats``: half a second per process). :meth:`to_scipy` gives a
    ``scipy.sparse.csc_array`` sharing the arrays.
    """

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def nnz(self) -> int:
        return int(len(self.data))

    @classmethod
    def from_triplets(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> "Csc":
        """Sum duplicate ``(row, col)`` entries and sort by column, then row."""
        return cls.from_keys(entry_keys(np.asarray(rows), np.asarray(cols)), np.asarray(vals, dtype=float), shape)

    @classmethod
    def from_keys(cls, key: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> "Csc":
        """From entries given as :func:`entry_keys` and values; duplicates are summed."""
        n_row, n_col = shape
        order = np.argsort(key, kind="stable")  # runs of ascending keys: timsort merges them
        key = key[order]
        vals = vals[order]
        del order
        if len(key) > 1:
            dup = key[1:] == key[:-1]
            if dup.any():
                starts = np.flatnonzero(np.concatenate(([True], ~dup)))
                vals = np.add.reduceat(vals, starts)
                key = key[starts]
        col = key >> _ROW_BITS
        indptr = np.zeros(n_col + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=n_col), out=indptr[1:])
        del col
        key &= _ROW_MASK
        return cls((n_row, n_col), indptr, key.astype(np.int32), vals)

    def to_scipy(self) -> Any:
        """The same matrix as a ``scipy.sparse.csc_array``."""
        import scipy.sparse as sp

        return sp.csc_array((self.data, self.indices, self.indptr), shape=self.shape)


@dataclass
class LP:
    """The LP in HiGHS's terms: maximise ``c.x + offset`` (or minimise, see ``maximize``)
    subject to ``row_lo <= A x <= row_hi`` and ``col_lo <= x <= col_hi``.

    Attributes
    ----------
    matrix
        ``A`` in compressed-column form (numpy arrays); :attr:`A` gives it as a scipy array.
    var_start
        Column of the first element of each registered variable (by ``id`` of the component).
    var_size
        Number of columns of each registered variable (by ``id`` of the component).
    blocks
        Registered constraint families passed from their arrays: ``(block, first_row)``.
    user_rows
        Rows compiled from Pyomo expressions: ``(ConstraintData, row)``.
    user_cols
        Variables found only in user expressions, in column order after the registered ones.
    user_terms
        Objective streams given as Pyomo expressions, compiled: ``{id(term): UserLinear}``.
    fast_objective
        True when the objective is the registered streams' sum (then the streams add up to it).
    """

    c: np.ndarray
    offset: float
    matrix: Csc
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integrality: np.ndarray | None
    maximize: bool
    var_start: dict[int, int]
    blocks: list[tuple[RowBlock, int]]
    user_rows: list[tuple[Any, int]]
    user_cols: list[Any]
    user_terms: dict[int, UserLinear] = field(default_factory=dict)
    user_hourly: dict[int, dict[int, UserLinear]] = field(default_factory=dict)
    fast_objective: bool = True
    var_size: dict[int, int] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def A(self) -> Any:
        """The constraint matrix as a ``scipy.sparse.csc_array`` (imports scipy)."""
        return self.matrix.to_scipy()


_LB, _UB, _DOMAIN, _FIXED = attrgetter("_lb"), attrgetter("_ub"), attrgetter("_domain"), attrgetter("_fixed")


class _Columns:
    """Maps Pyomo variables to columns, adding user variables as they are met."""

    def __init__(self, reg: Registry):
        self.reg = reg
        self.start: dict[int, int] = {}
        self.size: dict[int, int] = {}
        self._info: dict[int, Any] = {}
        n = 0
        for vi in reg.vars:
            self.start[id(vi.component)] = n
            self.size[id(vi.component)] = vi.size
            self._info[id(vi.component)] = vi
            n += vi.size
        self.n_registered = n
        self.extra: list[Any] = []
        self._map: dict[int, int] = {}

    def col(self, v: Any) -> int:
        c = self._map.get(id(v))
        if c is not None:
            return c
        comp = v.parent_component()
        vi = self._info.get(id(comp))
        if vi is not None and vi.component._data.get(v.index()) is v:
            c = self.start[id(comp)] + vi.position(v.index())
        else:
            c = self.n_registered + len(self.extra)
            self.extra.append(v)
        self._map[id(v)] = c
        return c

    def linear(self, expr: Any, what: str) -> UserLinear:
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if repn.nonlinear_expr is not None or repn.quadratic_vars:
            raise DispatchError(f"{what} is not linear: this tool solves linear programs only")
        cols = np.array([self.col(v) for v in repn.linear_vars], dtype=np.int64)
        return UserLinear(cols, np.array(repn.linear_coefs, dtype=float), float(pyo.value(repn.constant)))


def _bounds(datas: list) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([(d.value if d.fixed else d.lb) if (d.fixed or d.lb is not None) else -np.inf for d in datas],
                  dtype=float)
    hi = np.array([(d.value if d.fixed else d.ub) if (d.fixed or d.ub is not None) else np.inf for d in datas],
                  dtype=float)
    return lo, hi


def _registered_bounds(reg: Registry) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of registered variables, read from the Pyomo objects (users may change them)."""
    nonneg = pyo.NonNegativeReals
    numeric = {float, int, type(None)}
    los, his = [], []
    for vi in reg.vars:
        if not vi.made:
            # nobody has looked at the Pyomo elements: the bounds are the registered ones
            los.append(np.zeros(vi.size))
            his.append(vi.ub)
            continue
        datas = vi.datas
        # fast path (C-level loops): untouched non-negative variables with numeric upper bounds
        raw_hi = list(map(_UB, datas))
        simple = (
            vi.component.ctype is pyo.Var
            and all(map(is_, map(_LB, datas), repeat(None)))
            and all(map(is_, map(_DOMAIN, datas), repeat(nonneg)))
            and not any(map(_FIXED, datas))
            and set(map(type, raw_hi)) <= numeric
        )
        if simple:
            los.append(np.zeros(len(datas)))
            hi = np.array(raw_hi, dtype=float)  # None -> nan
            hi[np.isnan(hi)] = np.inf
            his.append(hi)
        else:
            lo, hi = _bounds(datas)
            los.append(lo)
            his.append(hi)
    if not los:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(los), np.concatenate(his)


def compile_lp(m: Any) -> LP:
    """Compile a built model (with any edits) into the arrays HiGHS takes.

    Raises
    ------
    DispatchError
        If the model has no or several active objectives, or a nonlinear expression.
    """
    reg: Registry = m.dispatch
    with gc_paused():
        cols = _Columns(reg)
        col_lo, col_hi = _registered_bounds(reg)

        # -- rows
        fast_ids = set()
        keys, vals, lo_parts, hi_parts = [], [], [], []
        blocks: list[tuple[RowBlock, int]] = []
        n_rows = 0
        for blk in reg.rows:
            if not blk.intact():
                continue
            fast_ids.add(id(blk.component))
            for lin in blk.lins:
                keys.append(entry_keys(lin.row + n_rows, lin.pos + cols.start[id(lin.var)]))
                vals.append(lin.coef)
            lo_parts.append(blk.lower)
            hi_parts.append(blk.upper)
            blocks.append((blk, n_rows))
            n_rows += len(blk.keys)
        user_rows: list[tuple[Any, int]] = []
        u_lo, u_hi = [], []
        for comp in m.component_objects(pyo.Constraint, active=True, descend_into=True):
            if id(comp) in fast_ids:
                continue
            for d in comp.values():
                if not d.active:
                    continue
                lin = cols.linear(d.body, f"constraint {d.name}")
                lb = pyo.value(d.lower) if d.has_lb() else -np.inf
                ub = pyo.value(d.upper) if d.has_ub() else np.inf
                if len(lin.cols) == 0:
                    if lb - 1e-9 <= lin.constant <= ub + 1e-9:
                        continue
                    from .errors import InfeasibleError

                    raise InfeasibleError(f"constraint {d.name} has no variables and cannot hold")
                keys.append(entry_keys(np.full(len(lin.cols), n_rows), lin.cols))
                vals.append(lin.coef)
                u_lo.append(lb - lin.constant)
                u_hi.append(ub - lin.constant)
                user_rows.append((d, n_rows))
                n_rows += 1

        # -- objective
        objs = list(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
        if len(objs) != 1:
            raise DispatchError(f"the model must have exactly one active objective; it has {len(objs)}")
        obj = objs[0]
        c_parts_i, c_parts_v = [], []
        offset = 0.0
        user_terms: dict[int, UserLinear] = {}
        user_hourly: dict[int, dict[int, UserLinear]] = {}
        fast = obj is getattr(m, "objective", None) and obj.expr is reg.objective_expr
        for term in reg.terms:
            if term.expr is not None:
                if term.by_hour is not None:
                    hourly = {t: cols.linear(e, f"stream {term.name}") for t, e in term.by_hour.items()}
                    user_hourly[id(term)] = hourly
                    ul = UserLinear(
                        np.concatenate([h.cols for h in hourly.values()]) if hourly else np.zeros(0, np.int64),
                        np.concatenate([h.coef for h in hourly.values()]) if hourly else np.zeros(0),
                        sum(h.constant for h in hourly.values()),
                    )
                else:
                    ul = cols.linear(term.expr, f"stream {term.name}")
                user_terms[id(term)] = ul
                if fast:
                    c_parts_i.append(ul.cols)
                    c_parts_v.append(term.sign * ul.coef)
                    offset += term.sign * ul.constant
            elif fast:
                for lin in term.lins:
                    c_parts_i.append(lin.pos + cols.start[id(lin.var)])
                    c_parts_v.append(term.sign * lin.coef)
                if term.hourly_constant is not None:
                    offset += term.sign * float(term.hourly_constant.sum())
        if fast:
            maximize = True
        else:
            ul = cols.linear(obj.expr, f"objective {obj.name}")
            c_parts_i, c_parts_v, offset = [ul.cols], [ul.coef], ul.constant
            maximize = obj.sense == pyo.maximize

        # -- columns met only in user expressions
        n_col = cols.n_registered + len(cols.extra)
        integrality = None
        if cols.extra:
            lo, hi = _bounds(cols.extra)
            col_lo = np.concatenate([col_lo, lo])
            col_hi = np.concatenate([col_hi, hi])
            kinds = np.array([0 if v.is_continuous() else 1 for v in cols.extra], dtype=np.int32)
            if kinds.any():
                integrality = np.concatenate([np.zeros(cols.n_registered, np.int32), kinds])
        c = np.bincount(np.concatenate(c_parts_i).astype(np.int64), weights=np.concatenate(c_parts_v),
                        minlength=n_col) if c_parts_i else np.zeros(n_col)
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        v = np.concatenate(vals).astype(float, copy=False) if vals else np.zeros(0)
        del keys, vals
        if n_rows > _ROW_MASK:
            raise DispatchError(f"the model has {n_rows} rows, more than this tool can index (2**31 - 1)")
        A = Csc.from_keys(key, v, (n_rows, n_col))
        row_lo = np.concatenate(lo_parts + [np.array(u_lo, float)]) if n_rows else np.zeros(0)
        row_hi = np.concatenate(hi_parts + [np.array(u_hi, float)]) if n_rows else np.zeros(0)
    return LP(c, offset, A, row_lo, row_hi, col_lo, col_hi, integrality, maximize, cols.start, blocks,
              user_rows, cols.extra, user_terms, user_hourly, fast, cols.size)


def coefficient_ranges(lp: LP) -> dict[str, tuple[float, float]]:
    """Smallest and largest absolute non-zero values of the matrix, costs, bounds and row sides."""

    def rng(a: np.ndarray) -> tuple[float, float]:
        a = np.abs(a[np.isfinite(a)])
        a = a[a > 0]
        return (float(a.min()), float(a.max())) if len(a) else (0.0, 0.0)

    return {
        "matrix": rng(lp.matrix.data),
        "cost": rng(lp.c),
        "bound": rng(np.concatenate([lp.col_lo, lp.col_hi])),
        "rhs": rng(np.concatenate([lp.row_lo, lp.row_hi])),
    }
