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
from typing import Any

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.core.expr.numvalue import is_potentially_variable
from pyomo.repn import generate_standard_repn

from .errors import DispatchError
from .model import _lazy
from .model.core import Registry, RowBlock, gc_paused, registries


@dataclass
class UserLinear:
    """A linear expression compiled from Pyomo: ``coef . x[cols] + constant``."""

    cols: np.ndarray
    coef: np.ndarray
    constant: float

    def value(self, x: np.ndarray) -> float:
        return float(self.coef @ x[self.cols]) + self.constant if len(self.cols) else self.constant


@dataclass
class HourlyLinear:
    """A stream given hour by hour: ``total`` is the whole stream, entry ``i`` of
    ``total.cols``/``total.coef`` belongs to ``keys[owner[i]]``, which adds ``constants[k]``."""

    keys: list
    total: UserLinear
    owner: np.ndarray
    constants: np.ndarray

    def values(self, x: np.ndarray) -> np.ndarray:
        """The value of each key's part at ``x``, in the order of ``keys``."""
        t = self.total
        parts = t.coef * x[t.cols] if len(t.cols) else np.zeros(0)
        return np.bincount(self.owner, weights=parts, minlength=len(self.keys)) + self.constants


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
    subject to ``row_lo <= A x <= row_hi``, ``col_lo <= x <= col_hi`` and ``x[j]`` integer
    where ``integrality[j]`` is 1.

    The arrays and the names are plain data (they pickle: a worker process can send them
    back); the references into the Pyomo model (``blocks``, ``user_rows``, ``user_cols``,
    ``streams``) are dropped when pickled.

    Attributes
    ----------
    matrix
        ``A`` in compressed-column form (numpy arrays); :attr:`A` gives it as a scipy array.
    var_start, var_size
        First column and number of columns of each registered variable (by ``id`` of the
        component); :attr:`var_names` the same by the component's name.
    blocks
        Registered constraint families in the LP: ``(RowBlock, first_row)``. Rows a user
        edited are compiled from Pyomo in place; deactivated or deleted ones are left free.
    families
        The same as plain data: ``{family name: (first_row, number of rows)}``.
    user_rows
        Rows compiled from Pyomo: ``(ConstraintData, row)``. A user's row on a single variable
        is passed as a bound on that column instead (``bound_rows``): the same feasible set, and
        the dual simplex handles bounds far better than singleton rows.
    user_cols
        Variables met only in user expressions, in column order after the registered ones.
    streams
        Each named stream compiled from Pyomo because it is not as registered (a user's stream,
        or an edited one): ``{(prefix, kind, name): UserLinear}`` (``prefix``: the block a
        dispatch model was built into, ``""`` for :func:`optimiser.build`); registered streams are absent.
    hourly
        User streams given hour by hour: ``{(prefix, kind, name): HourlyLinear}``.
    fast_objective
        True when the objective is the registered sum of the streams (then they add up to it).
    objective_linear
        The objective compiled from Pyomo when it is not that sum.
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
    streams: dict[tuple[str, str, str], UserLinear] = field(default_factory=dict)
    hourly: dict[tuple[str, str, str], "HourlyLinear"] = field(default_factory=dict)
    fast_objective: bool = True
    var_size: dict[int, int] = field(default_factory=dict)
    var_names: dict[str, tuple[int, int]] = field(default_factory=dict)
    families: dict[str, tuple[int, int]] = field(default_factory=dict)
    row_names: dict[int, str] = field(default_factory=dict)
    """Names of the rows compiled from Pyomo (filled when pickled; else see ``user_rows``)."""
    col_names: list[str] = field(default_factory=list)
    """Names of the user columns (filled when pickled; else see ``user_cols``)."""
    objective_linear: UserLinear | None = None
    bound_rows: list[tuple[Any, int, float, float, float]] = field(default_factory=list)
    """User rows on one variable, passed as bounds on its column: ``(ConstraintData, column,
    coefficient, lower, upper)`` (bounds of the column implied by the row)."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def A(self) -> Any:
        """The constraint matrix as a ``scipy.sparse.csc_array`` (imports scipy)."""
        return self.matrix.to_scipy()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(var_start={}, var_size={}, blocks=[], user_rows=[], user_cols=[], bound_rows=[],
                     row_names={row: d.name for d, row in self.user_rows} or self.row_names,
                     col_names=[v.name for v in self.user_cols] or self.col_names)
        return state


#: Component types an LP can hold. Anything else active in the model is refused by name.
_LP_CTYPES = (pyo.Block, pyo.Var, pyo.Constraint, pyo.Objective, pyo.Expression, pyo.Param, pyo.Set,
              pyo.RangeSet, pyo.Suffix, pyo.BooleanVar)

#: What to do instead, by component type name.
_HINTS = {
    "SOSConstraint": "HiGHS takes no SOS constraints; model it with binaries, or Piecewise(..., pw_repn='INC')",
    "Disjunction": "transform it first: pyo.TransformationFactory('gdp.bigm').apply_to(m) (or 'gdp.hull')",
    "Disjunct": "transform it first: pyo.TransformationFactory('gdp.bigm').apply_to(m) (or 'gdp.hull')",
    "LogicalConstraint": "transform it first: pyo.TransformationFactory('core.logical_to_linear').apply_to(m)",
}


def check_components(m: Any) -> None:
    """Refuse a model holding an active component an LP cannot hold, naming it.

    Raises
    ------
    DispatchError
        Naming the first such component of each kind and what to do instead.
    """
    bad: dict[Any, Any] = {}
    for blk in m.block_data_objects(active=True, descend_into=True):
        for comp in blk.component_map(active=True).values():
            if comp.ctype not in _LP_CTYPES:
                bad.setdefault(comp.ctype, comp)
    if not bad:
        return
    msgs = []
    for ctype, first in sorted(bad.items(), key=lambda kv: kv[0].__name__):
        name = first.name
        hint = _HINTS.get(ctype.__name__, "this tool solves linear programs (with integer variables) only")
        msgs.append(f"{name} is an active {ctype.__name__}: {hint}")
    raise DispatchError("the model cannot be handed to HiGHS as it is: " + "; ".join(msgs))


def var_bounds(datas: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds (a fixed variable: its value) and integrality of ``VarData``, as
    Pyomo's LP writer reads them (domain bounds included)."""
    n = len(datas)
    lo, hi, kind = np.empty(n), np.empty(n), np.zeros(n, dtype=np.int32)
    for i, d in enumerate(datas):
        if d.fixed:
            if d.value is None:
                raise DispatchError(f"{d.name} is fixed but has no value")
            lo[i] = hi[i] = float(d.value)
            continue
        lb, ub = d.bounds
        lo[i] = -np.inf if lb is None else float(lb)
        hi[i] = np.inf if ub is None else float(ub)
        if not d.is_continuous():
            if not d.is_integer():
                raise DispatchError(f"{d.name} has the domain {d.domain}, which is neither continuous nor integer")
            kind[i] = 1
    return lo, hi, kind


class _Columns:
    """Maps Pyomo variables to columns, adding user variables as they are met."""

    def __init__(self, regs: list[Registry]):
        self.start: dict[int, int] = {}
        self.size: dict[int, int] = {}
        self._info: dict[int, Any] = {}  # registered components (of this model: compiled now) by id
        n = 0
        for vi in (vi for reg in regs for vi in reg.vars):
            self.start[id(vi.component)] = n
            self.size[id(vi.component)] = vi.size
            self._info[id(vi.component)] = vi
            n += vi.size
        self.n_registered = n
        self.extra: list[Any] = []
        self._map: dict[int, int] = {}
        self._profits: dict[int, Registry] = {}
        self._profit_cache: dict[int, Any] = {}

    def col(self, v: Any) -> int:
        c = self._map.get(id(v))
        if c is not None:
            return c
        comp = v.parent_component()
        vi = self._info.get(id(comp))
        if vi is not None and vi.component is comp and _lazy.data_of(comp, v.index(), vi.lazy) is v:
            c = self.start[id(comp)] + vi.position(v.index())
        else:
            c = self.n_registered + len(self.extra)
            self.extra.append(v)
        self._map[id(v)] = c
        return c

    def set_profits(self, regs: list[Registry]) -> None:
        """Know each dispatch model's ``profit`` (:func:`optimiser.build_into`) whose expression
        and streams are as built: an expression that uses it takes its terms from the arrays."""
        for reg in regs:
            comp = reg.profit_component
            if comp is None or comp.expr is not reg.profit_expr:
                continue
            self._profits[id(comp)] = reg  # a scalar Expression: the component is its data

    def _profit_linear(self, reg: Registry) -> tuple[np.ndarray, np.ndarray, float] | None:
        """A dispatch model's profit from its arrays, or ``None`` if a stream was edited."""
        if id(reg) in self._profit_cache:
            return self._profit_cache[id(reg)]
        out: tuple[np.ndarray, np.ndarray, float] | None
        idx, val, const = [], [], 0.0
        for term, data in reg.objective_parts:
            if term.expr is not None or _lazy.expression_touched(data, reg.stream_tokens.get(term.kind), term.name):
                out = None
                break
            for lin in term.lins:
                idx.append(lin.pos + self.start[id(lin.var)])
                val.append(term.sign * lin.coef)
            if term.hourly_constant is not None:
                const += term.sign * float(term.hourly_constant.sum())
        else:
            out = ((np.concatenate(idx) if idx else np.zeros(0, np.int64)),
                   (np.concatenate(val) if val else np.zeros(0)), const)
        self._profit_cache[id(reg)] = out
        return out

    def _split(self, expr: Any, weight: float, known: list, rest: list) -> None:
        """Split a sum into weighted dispatch-model profits taken from arrays (``known``) and the
        rest (``rest``, compiled by Pyomo), through Pyomo's public expression classes."""
        if type(expr) in (int, float):
            rest.append((weight, expr))
            return
        named = expr.is_named_expression_type()
        reg = self._profits.get(id(expr)) if named else None
        if reg is not None:
            lin = self._profit_linear(reg)
            if lin is not None:
                known.append((weight, lin))
                return
        if named and reg is None and expr.expr is not None:  # another named expression: what it holds
            self._split(expr.expr, weight, known, rest)
            return
        if isinstance(expr, SumExpression) and not isinstance(expr, LinearExpression):
            for a in expr.args:
                self._split(a, weight, known, rest)
            return
        if isinstance(expr, NegationExpression):
            self._split(expr.args[0], -weight, known, rest)
            return
        if isinstance(expr, ProductExpression) and not isinstance(expr, MonomialTermExpression):
            a, b = expr.args
            if not is_potentially_variable(a):
                self._split(b, weight * float(pyo.value(a)), known, rest)
                return
            if not is_potentially_variable(b):
                self._split(a, weight * float(pyo.value(b)), known, rest)
                return
        rest.append((weight, expr))

    def terms(self, expr: Any, what: Any) -> tuple[list[int], list[float], float]:
        """Columns, coefficients and constant of a linear expression; ``what`` (a string, or a
        component whose name is taken only for an error message) names it."""
        if self._profits and not isinstance(expr, (int, float)):
            known: list = []
            rest: list = []
            self._split(expr, 1.0, known, rest)
            if known:  # dispatch models' profits from their arrays, the rest from Pyomo
                cols, coefs, constant = [], [], 0.0
                for w, (idx, val, const) in known:
                    cols.append(idx)
                    coefs.append(w * val)
                    constant += w * const
                if rest:  # one Pyomo expression for the rest
                    c, v, k = self._repn(sum(w * e for w, e in rest), what)
                    cols.append(np.asarray(c, dtype=np.int64))
                    coefs.append(np.asarray(v, dtype=float))
                    constant += k
                allc, allv = np.concatenate(cols), np.concatenate(coefs)
                uniq, inv = np.unique(allc, return_inverse=True)
                summed = np.bincount(inv, weights=allv, minlength=len(uniq))
                return uniq.tolist(), summed.tolist(), constant
        return self._repn(expr, what)

    def _repn(self, expr: Any, what: Any) -> tuple[list[int], list[float], float]:
        try:
            repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        except (ValueError, TypeError) as err:
            raise DispatchError(f"{_what(what)} cannot be evaluated: {err}") from None
        if repn.nonlinear_expr is not None or repn.quadratic_vars:
            raise DispatchError(f"{_what(what)} is not linear: this tool solves linear programs only")
        col = self.col
        return [col(v) for v in repn.linear_vars], list(repn.linear_coefs), float(pyo.value(repn.constant))

    def linear(self, expr: Any, what: Any) -> UserLinear:
        cols, coefs, constant = self.terms(expr, what)
        return UserLinear(np.array(cols, dtype=np.int64), np.array(coefs, dtype=float), constant)


def _what(what: Any) -> str:
    return what if isinstance(what, str) else f"constraint {what.name}"


def _column_bounds(regs: list[Registry]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Bounds and integrality of the registered columns, from the Pyomo objects where a user may
    have changed them."""
    los, his, kinds = [], [], []
    all_vars = [vi for reg in regs for vi in reg.vars]
    for vi in all_vars:
        datas = vi.touched()
        if datas is not None and not _lazy.bounds_touched(vi.component, vi.lazy):
            datas = None  # made (e.g. a row was read) but no bound, domain or fixed flag was set
        hi = vi.ub if datas is None else _lazy.simple_bounds(datas, vi.lazy, vi.integer)
        if hi is not None:
            los.append(np.zeros(vi.size))
            his.append(hi)
            kinds.append(np.ones(vi.size, np.int32) if vi.integer else None)
        else:
            lo, hi, kind = var_bounds(datas)
            los.append(lo)
            his.append(hi)
            kinds.append(kind if kind.any() else None)
    if not los:
        return np.zeros(0), np.zeros(0), None
    integrality = None
    if any(k is not None for k in kinds):
        integrality = np.concatenate([np.zeros(vi.size, np.int32) if k is None else k for vi, k in zip(all_vars, kinds)])
    return np.concatenate(los), np.concatenate(his), integrality


def _row_bounds(d: Any) -> tuple[Any, float, float]:
    """``(body, lower, upper)`` of a constraint, bounds evaluated (``-inf``/``inf``: none)."""
    if hasattr(d, "to_bounded_expression"):
        lb, body, ub = d.to_bounded_expression(True)
    else:  # pragma: no cover - Pyomo before 6.8
        lb, body, ub = pyo.value(d.lower), d.body, pyo.value(d.upper)
    return body, -np.inf if lb is None else float(lb), np.inf if ub is None else float(ub)


def compile_lp(m: Any, *, rows_as_bounds: bool = True) -> LP:
    """Compile a built (and possibly edited) model into the arrays HiGHS takes.

    The model compiled is exactly the one Pyomo's LP writer would write from ``m``: every
    active constraint under active blocks, the one active objective with its sense, variable
    domains, bounds and fixed values. Registered families and streams are taken from their
    arrays only where their Pyomo objects are still as registered.

    ``rows_as_bounds``: pass a user's row on one variable as that column's bound (the default;
    the infeasibility diagnosis turns it off to name such rows).

    Raises
    ------
    DispatchError
        If the model holds a component an LP cannot (naming it), has no or several active
        objectives, or a nonlinear expression.
    InfeasibleError
        If a constraint without variables cannot hold.
    """
    from .errors import InfeasibleError

    regs = registries(m)
    if not regs:
        raise DispatchError("the model holds no dispatch model: make it with optimiser.build or optimiser.build_into")
    check_components(m)
    with gc_paused():
        cols = _Columns(regs)
        if len(regs) > 1:
            cols.set_profits(regs)
        col_lo, col_hi, reg_integrality = _column_bounds(regs)

        # -- rows: registered families from their arrays (edited rows compiled in place)
        keys, vals, lo_parts, hi_parts = [], [], [], []
        blocks: list[tuple[RowBlock, int]] = []
        user_rows: list[tuple[Any, int]] = []
        pending: list[tuple[Any, int | None]] = []  # (ConstraintData, row or None: append)
        n_rows = 0
        for comp in m.component_objects(pyo.Constraint, active=True, descend_into=True):
            blk = next((b for b in (reg.family(comp) for reg in regs) if b is not None), None)
            if blk is None:
                pending.extend((d, None) for d in comp.values() if d.active)
                continue
            touched = blk.touched()
            lo, hi = blk.lower, blk.upper
            if touched is not None:
                keep, other = touched
                lo, hi = np.where(keep, lo, -np.inf), np.where(keep, hi, np.inf)
                for i, d in other:
                    pending.append((d, None if i is None else n_rows + i))
            for lin in blk.lins:
                r, p, v = lin.row, lin.pos, lin.coef
                if touched is not None:
                    sel = keep[r]
                    r, p, v = r[sel], p[sel], v[sel]
                keys.append(entry_keys(r + n_rows, p + cols.start[id(lin.var)]))
                vals.append(v)
            lo_parts.append(lo)
            hi_parts.append(hi)
            blocks.append((blk, n_rows))
            n_rows += len(blk.keys)
        row_lo = np.concatenate(lo_parts) if lo_parts else np.zeros(0)
        row_hi = np.concatenate(hi_parts) if hi_parts else np.zeros(0)
        u_lo, u_hi = [], []
        e_rows: list[int] = []
        e_cols: list[int] = []
        e_vals: list[float] = []
        bound_rows: list[tuple[Any, int, float, float, float]] = []
        for d, row in pending:
            body, lb, ub = _row_bounds(d)
            r_cols, r_coefs, constant = cols.terms(body, d)
            lb, ub = lb - constant, ub - constant
            if not r_cols:
                if lb <= 1e-9 and ub >= -1e-9:
                    if row is not None:  # an edited registered row that became trivial
                        row_lo[row], row_hi[row] = -np.inf, np.inf
                    continue
                raise InfeasibleError(f"constraint {d.name} has no variables and cannot hold ({lb:g} <= 0 <= {ub:g})")
            if rows_as_bounds and row is None and len(r_cols) == 1 and r_coefs[0] != 0:
                # one variable: a bound on it, as HiGHS's presolve would make it (its dual is
                # recovered from the variable's reduced cost: Solution.bound_row_duals)
                a = float(r_coefs[0])
                bound_rows.append((d, r_cols[0], a, *((lb / a, ub / a) if a > 0 else (ub / a, lb / a))))
                continue
            if row is None:
                row = n_rows
                n_rows += 1
                u_lo.append(lb)
                u_hi.append(ub)
            else:
                row_lo[row], row_hi[row] = lb, ub
            e_rows.extend([row] * len(r_cols))
            e_cols.extend(r_cols)
            e_vals.extend(r_coefs)
            user_rows.append((d, row))
        if e_rows:
            keys.append(entry_keys(np.array(e_rows, dtype=np.int64), np.array(e_cols, dtype=np.int64)))
            vals.append(np.array(e_vals, dtype=float))
        if u_lo:
            row_lo = np.concatenate([row_lo, np.array(u_lo, float)])
            row_hi = np.concatenate([row_hi, np.array(u_hi, float)])

        # -- the objective
        objs = list(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
        if len(objs) != 1:
            names = ", ".join(o.name for o in objs[:5]) or "none"
            raise DispatchError(f"the model must have exactly one active objective; it has {len(objs)} ({names})")
        obj = objs[0]
        maximize = obj.sense == pyo.maximize
        reg = regs[0]
        fast = len(regs) == 1 and obj is reg.objective_component and obj.expr is reg.objective_expr
        streams: dict[tuple[str, str, str], UserLinear] = {}
        hourly: dict[tuple[str, str, str], HourlyLinear] = {}
        c_parts_i, c_parts_v = [], []
        offset = 0.0
        for reg, (term, data) in ((r, p) for r in regs for p in r.objective_parts):
            key = (reg.prefix, term.kind, term.name)
            if term.expr is None and not _lazy.expression_touched(data, reg.stream_tokens.get(term.kind), term.name):
                if fast:
                    for lin in term.lins:
                        c_parts_i.append(lin.pos + cols.start[id(lin.var)])
                        c_parts_v.append(term.sign * lin.coef)
                    if term.hourly_constant is not None:
                        offset += term.sign * float(term.hourly_constant.sum())
                continue
            expr = data.expr
            if term.by_hour is not None and expr is term.expr:
                what = f"stream {term.kind}[{term.name}]"
                h_cols: list[int] = []
                h_coefs: list[float] = []
                owner: list[int] = []
                constants: list[float] = []
                for j, e in enumerate(term.by_hour.values()):
                    t_cols, t_coefs, t_const = cols.terms(e, what)
                    h_cols.extend(t_cols)
                    h_coefs.extend(t_coefs)
                    owner.extend([j] * len(t_cols))
                    constants.append(t_const)
                ul = UserLinear(np.array(h_cols, dtype=np.int64), np.array(h_coefs, dtype=float), float(sum(constants)))
                hourly[key] = HourlyLinear(list(term.by_hour), ul, np.array(owner, dtype=np.int64),
                                           np.array(constants, dtype=float))
            else:
                ul = cols.linear(expr, f"stream {term.kind}[{term.name}]")
            streams[key] = ul
            if fast:
                c_parts_i.append(ul.cols)
                c_parts_v.append(term.sign * ul.coef)
                offset += term.sign * ul.constant
        objective_linear = None
        if not fast:
            objective_linear = cols.linear(obj.expr, f"objective {obj.name}")
            c_parts_i, c_parts_v, offset = [objective_linear.cols], [objective_linear.coef], objective_linear.constant

        # -- columns met only in user expressions
        n_col = cols.n_registered + len(cols.extra)
        integrality = reg_integrality
        if cols.extra:
            lo, hi, kind = var_bounds(cols.extra)
            col_lo = np.concatenate([col_lo, lo])
            col_hi = np.concatenate([col_hi, hi])
            if kind.any() or integrality is not None:
                base = integrality if integrality is not None else np.zeros(cols.n_registered, np.int32)
                integrality = np.concatenate([base, kind])
        for d, j, a, lo_b, hi_b in bound_rows:
            col_lo[j] = max(col_lo[j], lo_b)
            col_hi[j] = min(col_hi[j], hi_b)
        for d, j, a, lo_b, hi_b in bound_rows:
            if col_lo[j] > col_hi[j] + 1e-9 * max(1.0, abs(col_lo[j])):
                others = [e.name for e, k, *_ in bound_rows if k == j and e is not d]
                raise InfeasibleError(
                    f"constraint {d.name} cannot hold: it bounds one variable, whose bounds become "
                    f"{col_lo[j]:g} > {col_hi[j]:g}" + (f" (with {', '.join(others[:3])})" if others else ""))
        c = np.bincount(np.concatenate(c_parts_i).astype(np.int64), weights=np.concatenate(c_parts_v),
                        minlength=n_col) if c_parts_i else np.zeros(n_col)
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        v = np.concatenate(vals).astype(float, copy=False) if vals else np.zeros(0)
        del keys, vals
        if n_rows > _ROW_MASK:
            raise DispatchError(f"the model has {n_rows} rows, more than this tool can index (2**31 - 1)")
        A = Csc.from_keys(key, v, (n_rows, n_col))
    families = {}
    for blk, start in blocks:
        families[blk.component.name] = (start, len(blk.keys))
    var_names = {vi.component.name: (cols.start[id(vi.component)], vi.size) for r in regs for vi in r.vars}
    return LP(c, offset, A, row_lo, row_hi, col_lo, col_hi, integrality, maximize, cols.start, blocks,
              user_rows, cols.extra, streams, hourly, fast, cols.size, var_names, families,
              objective_linear=objective_linear, bound_rows=bound_rows)



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
