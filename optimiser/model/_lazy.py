"""The one place that touches Pyomo internals: components whose elements are made on first use.

A year of the dispatch LP has 70,000 variables, 52,000 rows and about 400,000 expression
objects. A model that is only solved never needs the Pyomo objects: the solver is fed from the
arrays the components registered (:mod:`optimiser.lp`). Making them anyway costs five times
the build and a fifth of the process's garbage. So registered variables, rows and named
expressions are real Pyomo components whose elements are created the first time anything reads
them (``len``, ``[]``, iteration, printing, writing, cloning), and a row's expression is made
from the arrays the first time it is read.

This needs what Pyomo does not publish: the element dict ``_data`` of an indexed component, the
``_expr`` slot of ``ConstraintData``, the ``_args_`` slot of ``ExpressionData`` and the slots of
``VarData``. All of it is in this module and nowhere else. At import, :func:`_self_test` builds
a tiny lazy model and checks that Pyomo reads, edits and clears it as it would an ordinary one;
if anything differs (another Pyomo version), or ``DISPATCH_PYOMO_LAZY=0`` is set, :data:`LAZY`
is False and every function below uses Pyomo's public API only: components are built eagerly and
edits are found by comparing the current expressions with the ones built (by identity). Both
routes are run by the test suite.

The rest of the package asks this module three questions (what did the user touch?) through
:func:`rows_touched`, :func:`vars_touched` and :func:`expression_touched`, and never looks at
Pyomo's private attributes itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import attrgetter, is_
from typing import Any
from weakref import ref as weakref_ref

import numpy as np
import pyomo.core as pyo

try:  # the classes subclassed below; a Pyomo without them falls back to the public API
    from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
    from pyomo.core.base.expression import ExpressionData, IndexedExpression
    from pyomo.core.base.var import IndexedVar, VarData

    _IMPORTED = True
except ImportError:  # pragma: no cover - exercised only on an unsupported Pyomo
    _IMPORTED = False


# ------------------------------------------------------------------------------------------------
# The lazy classes (only defined when Pyomo has what they build on)
# ------------------------------------------------------------------------------------------------
if _IMPORTED:

    class _LazyData:
        """Mixin for an indexed Pyomo component whose element dict (``_data``) is filled by a
        function the first time anything reads it. Until then the component costs one Python
        object, not one per element."""

        @property
        def _data(self) -> dict:
            d = self.__dict__
            if d.get("_dispatch_pending"):
                d["_dispatch_pending"] = False
                d.pop("_dispatch_fill_fn")(d["_dispatch_store"])
            return d["_dispatch_store"]

        @_data.setter
        def _data(self, value: dict) -> None:
            # clear() and construction assign a new dict: nothing is refilled after that
            self.__dict__["_dispatch_store"] = value
            self.__dict__["_dispatch_pending"] = False
            self.__dict__.pop("_dispatch_fill_fn", None)

        def is_reference(self) -> bool:
            return False

        def __deepcopy__(self, memo: dict) -> Any:
            # a clone must not share the closures that make elements from this model's arrays:
            # make every element and expression first, then copy as Pyomo does
            for d in self._data.values():
                if isinstance(d, LazyRowData):
                    d._expr  # noqa: B018 - makes it
                elif isinstance(d, LazyExpressionData):
                    d._args_  # noqa: B018 - makes it
            return super().__deepcopy__(memo)

        def _dispatch_defer(self, fill: Callable[[dict], None]) -> None:
            self.__dict__["_dispatch_fill_fn"] = fill
            self.__dict__["_dispatch_pending"] = True

    def _mark_bounds(data: Any) -> None:
        comp = data.parent_component()
        if comp is not None:
            comp.__dict__["_dispatch_bounds_touched"] = True

    class LazyVarData(VarData):
        """``VarData`` that tells its component when its bounds, domain or fixed flag are set
        (every public way to change them goes through these four setters), so an untouched
        registered variable's bounds are read from the registry, not from 70,000 elements."""

        __slots__ = ()

        @property
        def lower(self) -> Any:
            return VarData.lower.fget(self)

        @lower.setter
        def lower(self, val: Any) -> None:
            VarData.lower.fset(self, val)
            _mark_bounds(self)

        @property
        def upper(self) -> Any:
            return VarData.upper.fget(self)

        @upper.setter
        def upper(self, val: Any) -> None:
            VarData.upper.fset(self, val)
            _mark_bounds(self)

        @property
        def domain(self) -> Any:
            return self._domain

        @domain.setter
        def domain(self, domain: Any) -> None:
            VarData.domain.fset(self, domain)
            _mark_bounds(self)

        @property
        def fixed(self) -> bool:
            return self._fixed

        @fixed.setter
        def fixed(self, val: Any) -> None:
            VarData.fixed.fset(self, val)
            _mark_bounds(self)

    class LazyVar(_LazyData, IndexedVar):
        """An indexed ``Var`` (registered) whose ``VarData`` are made on first use."""

        _ComponentDataClass = LazyVarData

        @property
        def domain(self) -> Any:
            return IndexedVar.domain.fget(self)

        @domain.setter
        def domain(self, domain: Any) -> None:  # sets the elements' _domain directly
            self.__dict__["_dispatch_bounds_touched"] = True
            IndexedVar.domain.fset(self, domain)

    class LazyRowData(ConstraintData):
        """A registered row: ``ConstraintData`` whose expression is made from the arrays the
        first time anything reads it. Setting the expression marks the row edited."""

        __slots__ = ("_lazy", "_edited")

        def __init__(self, expr: Any = None, component: Any = None):
            self._component = weakref_ref(component) if component is not None else None
            self._active = True
            self._lazy = None
            self._edited = True
            if expr is not None:
                self.set_value(expr)

        @property  # type: ignore[override]
        def _expr(self) -> Any:
            e = self._lazy
            if e is None and not self._edited:
                e = self._lazy = self.parent_component()._dispatch_make(self._index)
            return e

        @_expr.setter
        def _expr(self, value: Any) -> None:
            self._lazy = value
            self._edited = True

    class LazyRows(_LazyData, IndexedConstraint):
        """An indexed ``Constraint`` holding :class:`LazyRowData` rows."""

        _ComponentDataClass = LazyRowData
        _dispatch_make: Callable[[Any], Any] | None = None

    class LazyExpressionData(ExpressionData):
        """``ExpressionData`` whose expression is made on first use; setting it marks it edited."""

        __slots__ = ("_lazy", "_edited")

        def __init__(self, expr: Any = None, component: Any = None):
            self._lazy = (expr,)
            self._edited = True
            self._component = weakref_ref(component) if component is not None else None
            self._index = None

        @property  # type: ignore[override]
        def _args_(self) -> tuple:
            a = self._lazy
            if a is None:
                a = self._lazy = (self.parent_component()._dispatch_make(self._index),)
            return a

        @_args_.setter
        def _args_(self, value: tuple) -> None:
            self._lazy = value
            self._edited = True

    class LazyExpressions(_LazyData, IndexedExpression):
        """An indexed ``Expression`` whose registered entries are made on first use."""

        _ComponentDataClass = LazyExpressionData
        _dispatch_make: Callable[[Any], Any] | None = None

        def construct(self, data: Any = None) -> None:
            """Construct empty: entries come from :func:`add_expressions` or a user's assignment."""
            if self._constructed:
                return
            self._constructed = True
            if self._anonymous_sets is not None:
                for s in self._anonymous_sets:
                    s.construct()


def _made(component: Any) -> bool:
    return not component.__dict__.get("_dispatch_pending", False)


_EDITED, _ACTIVE = attrgetter("_edited"), attrgetter("_active")
_LB, _UB, _DOMAIN, _FIXED = attrgetter("_lb"), attrgetter("_ub"), attrgetter("_domain"), attrgetter("_fixed")


# ------------------------------------------------------------------------------------------------
# Building
# ------------------------------------------------------------------------------------------------
def make_var(block: Any, name: str, index: Any, keys: Sequence, ub: np.ndarray | None, doc: str,
             lazy: bool, integer: bool = False) -> Any:
    """Add a non-negative indexed ``Var`` ``block.<name>`` over ``keys`` with upper bounds ``ub``
    (``None``: unbounded) and return it: real (domain ``NonNegativeReals``) or, with
    ``integer``, integer (domain ``NonNegativeIntegers``; a binary is one with ``ub`` 1)."""
    n = len(keys)
    domain = registered_domain(integer)
    if not lazy:
        ubs = [None] * n if ub is None else [None if not np.isfinite(u) else float(u) for u in ub.tolist()]
        where = dict(zip(keys, range(n))) if n else {}
        var = pyo.Var(index, domain=domain, dense=True, doc=doc,
                      bounds=lambda _m, *k: (None, ubs[where[k[0] if len(k) == 1 else k]]))
        block.add_component(name, var)
        return var
    var = LazyVar(index, domain=domain, dense=False, doc=doc)
    block.add_component(name, var)

    def fill(data: dict) -> None:
        # Pyomo makes (and validates) the first element; the others are copies of it
        if not n:
            return
        ubs = [None] * n if ub is None else [None if u == np.inf else u for u in ub.tolist()]
        it, ub_it = iter(keys), iter(ubs)
        first = var._getitem_when_not_present(next(it))
        first._ub = next(ub_it)
        copy = type(first).copy
        for k, u in zip(it, ub_it):
            d = copy(first)
            d._index = k
            d._ub = u
            data[k] = d

    var._dispatch_defer(fill)
    return var


def make_rows(block: Any, name: str, index: Any, keys: Sequence, expression: Callable[[int], Any],
              doc: str, lazy: bool) -> tuple[Any, Any]:
    """Add an indexed ``Constraint`` ``block.<name>`` with one row per key, the row at position
    ``i`` being ``expression(i)``. Returns the component and a token for :func:`rows_touched`."""
    if not lazy:
        where = {k: i for i, k in enumerate(keys)}
        con = pyo.Constraint(index, doc=doc, rule=lambda _m, *k: expression(where[k[0] if len(k) == 1 else k]))
        block.add_component(name, con)
        return con, [con[k].expr for k in keys]
    con = LazyRows(index, doc=doc)
    block.add_component(name, con)
    where_l: list = []

    def make(key: Any) -> Any:
        if not where_l:
            where_l.append({k: i for i, k in enumerate(keys)})
        return expression(where_l[0][key])

    con._dispatch_make = make
    _defer_elements(con, LazyRowData, keys)
    return con, None


def make_expressions(block: Any, name: str, index: Any, keys: Sequence, expression: Callable[[Any], Any],
                     doc: str, lazy: bool) -> tuple[Any, Any]:
    """Add an indexed ``Expression`` ``block.<name>`` with the entries ``keys`` (``expression(key)``);
    more entries may be assigned later. Returns the component and a token for
    :func:`expression_touched`."""
    keys = list(keys)
    if not lazy:
        comp = pyo.Expression(index, doc=doc)
        block.add_component(name, comp)
        for k in keys:
            comp[k] = expression(k)
        return comp, {k: comp[k].expr for k in keys}
    comp = LazyExpressions(index, doc=doc)
    comp._dispatch_make = expression
    block.add_component(name, comp)
    _defer_elements(comp, LazyExpressionData, keys)
    return comp, None


def _defer_elements(comp: Any, cls: type, keys: Sequence) -> None:
    """Fill ``comp`` with unmade, unedited ``cls`` elements for ``keys`` when first read."""

    def fill(data: dict) -> None:
        ref = weakref_ref(comp)
        new = cls.__new__
        row = cls is LazyRowData
        for k in keys:
            d = new(cls)
            d._component = ref
            if row:
                d._active = True
            d._index = k
            d._lazy = None
            d._edited = False
            data[k] = d

    comp._dispatch_defer(fill)


# ------------------------------------------------------------------------------------------------
# What did the user touch?
# ------------------------------------------------------------------------------------------------
def rows_touched(con: Any, keys: Sequence, token: Any) -> tuple[np.ndarray, list] | None:
    """Which registered rows still hold their registered expression.

    Returns
    -------
    None
        When every row is as built, active and present (the arrays are the model).
    (keep, other)
        ``keep[i]``: row ``i`` is as built and active; ``other``: ``(i or None, ConstraintData)``
        for every active row that is not as built (``i`` its registered position, ``None`` for a
        key that was not registered), to be compiled from Pyomo.
    """
    if token is None and not _made(con):
        return None
    if token is None:
        data = con._data
        rows = list(map(data.get, keys))
        if (len(data) == len(keys) and all(map(is_, map(type, rows), repeat(LazyRowData)))
                and not any(map(_EDITED, rows)) and all(map(_ACTIVE, rows))):
            return None
        keep = np.array([d is not None and type(d) is LazyRowData and not d._edited and d._active for d in rows],
                        dtype=bool)
    else:
        rows = [con[k] if k in con else None for k in keys]
        keep = np.array([d is not None and d.active and d.expr is e for d, e in zip(rows, token)], dtype=bool)
        if keep.all() and len(con) == len(keys):
            return None
    other: list = [(i, d) for i, d in enumerate(rows) if d is not None and not keep[i] and d.active]
    if len(con) != len(keys) - int(sum(d is None for d in rows)):
        known = set(keys)
        other += [(None, d) for k, d in con.items() if k not in known and d.active]
    return keep, other


def expression_touched(data: Any, token: Any, key: Any) -> bool:
    """True when a registered named expression entry no longer holds its registered expression."""
    if token is None:
        return type(data) is not LazyExpressionData or data._edited
    return data.expr is not token.get(key, None)


def vars_touched(var: Any, keys: Sequence, lazy: bool) -> list | None:
    """``None`` while nobody has read a lazy variable's elements (its bounds and domain are
    the registered ones); otherwise its ``VarData`` in registration order."""
    if lazy and not _made(var):
        return None
    if lazy:
        return list(map(var._data.__getitem__, keys))
    return [var[k] for k in keys]


def bounds_touched(var: Any, lazy: bool) -> bool:
    """Whether anything may have changed a registered variable's bounds, domain or fixed flag
    since it was registered (always True on the public-API route, where nothing tells)."""
    return not lazy or var.__dict__.get("_dispatch_bounds_touched", False)


def registered_domain(integer: bool) -> Any:
    """The Pyomo domain of a registered variable: non-negative reals, or non-negative integers."""
    return pyo.NonNegativeIntegers if integer else pyo.NonNegativeReals


def simple_bounds(datas: list, lazy: bool, integer: bool = False) -> np.ndarray | None:
    """Upper bounds of variables that are still as registered in all but their upper bound
    (the registered domain, :func:`registered_domain`, no lower bound, not fixed, numeric upper
    bound); ``None`` if any is not."""
    if not lazy:
        return None
    raw = list(map(_UB, datas))
    nonneg = registered_domain(integer)
    if (all(map(is_, map(_LB, datas), repeat(None))) and all(map(is_, map(_DOMAIN, datas), repeat(nonneg)))
            and not any(map(_FIXED, datas)) and set(map(type, raw)) <= {float, int, type(None)}):
        hi = np.array(raw, dtype=float)  # None -> nan
        hi[np.isnan(hi)] = np.inf
        return hi
    return None


def data_of(component: Any, key: Any, lazy: bool) -> Any:
    """The element ``key`` of an indexed component, or ``None`` (without creating it)."""
    if lazy and isinstance(component, _LazyData):
        return component._data.get(key)
    return component[key] if key in component else None


def set_values(datas: list, values: list, lazy: bool) -> None:
    """Put solution values on variables (without Pyomo's per-value validation)."""
    if lazy:
        for d, v in zip(datas, values):
            d._value = v
    else:
        for d, v in zip(datas, values):
            d.set_value(v, skip_validation=True)


def fix_values(component: Any, datas: list, values: list, lazy: bool) -> None:
    """Fix variables of ``component`` at ``values`` (as ``VarData.fix`` does, without Pyomo's
    per-value validation: a policy's decisions for a year are 50,000 of them); the component is
    marked as having had its bounds touched, so the compiler reads them from the elements."""
    if lazy and isinstance(component, _LazyData):
        for d, v in zip(datas, values):
            d._value = v
            d._fixed = True
        component.__dict__["_dispatch_bounds_touched"] = True
    else:
        for d, v in zip(datas, values):
            d.fix(v)


# ------------------------------------------------------------------------------------------------
# Is the lazy route sound on this Pyomo?
# ------------------------------------------------------------------------------------------------
def _self_test() -> bool:
    """Build a two-row lazy model and check that Pyomo reads, edits, clears, clones and
    deactivates it exactly as it would an ordinary one."""
    if not _IMPORTED:
        return False
    try:
        from pyomo.core.expr.numeric_expr import LinearExpression

        m = pyo.ConcreteModel()
        m.I = pyo.RangeSet(0, 1)
        x = make_var(m, "x", m.I, range(2), np.array([1.0, np.inf]), "", True)
        keys = range(2)

        def row(i: int) -> Any:
            return LinearExpression(constant=0.0, linear_coefs=[1.0], linear_vars=[x[i]]) <= 5.0

        c, tok = make_rows(m, "c", m.I, keys, row, "", True)
        e, etok = make_expressions(m, "e", pyo.Any, ["a"], lambda k: 2.0 * x[0], "", True)
        ok = rows_touched(c, keys, tok) is None and not expression_touched(e["a"], etok, "a")
        ok &= x[0].ub == 1.0 and x[1].ub is None and x[0].lb == 0 and len(x) == 2
        y = make_var(m, "y", m.I, range(2), np.array([1.0, 1.0]), "", True, integer=True)
        ok &= y[1].is_integer() and y[1].bounds == (0, 1) and simple_bounds(list(y.values()), True, True) is not None
        ok &= str(c[1].body) == "x[1]" and c[1].upper == 5.0 and rows_touched(c, keys, tok) is None
        c[0].set_value(x[0] <= 3.0)
        touched = rows_touched(c, keys, tok)
        ok &= touched is not None and touched[0].tolist() == [False, True] and touched[1][0][1] is c[0]
        c[1].deactivate()
        ok &= rows_touched(c, keys, tok)[0].tolist() == [False, False]
        e["a"].set_value(3.0 * x[1])
        ok &= expression_touched(e["a"], etok, "a")
        c2, _ = make_rows(m, "c2", m.I, keys, row, "", True)
        c2.clear()
        ok &= len(c2) == 0 and len(list(c2.values())) == 0
        # every public way to change a registered variable's bounds, domain or fixed flag is seen
        for change in (lambda v: v[0].setub(2.0), lambda v: v[1].setlb(0.5), lambda v: setattr(v[0], "ub", 3),
                       lambda v: setattr(v[1], "bounds", (0, 1)), lambda v: v[0].fix(0.5), lambda v: v[1].unfix(),
                       lambda v: setattr(v[0], "domain", pyo.Integers), lambda v: setattr(v, "domain", pyo.Binary),
                       lambda v: v.setub(4.0), lambda v: v.fix(1.0), lambda v: setattr(v[1], "fixed", True)):
            y = make_var(m, f"y{id(change)}", m.I, range(2), np.array([1.0, 1.0]), "", True)
            ok &= len(y) == 2 and not bounds_touched(y, True)
            y[0].value = 0.3
            ok &= not bounds_touched(y, True)
            change(y)
            ok &= bounds_touched(y, True)
        c3, _ = make_rows(m, "c3", m.I, keys, row, "", True)
        m2 = m.clone()
        ok &= len(m2.c) == 2 and m2.c[0].upper == 3.0 and len(m2.x) == 2
        ok &= m2.c3[1].body.linear_vars[0] is m2.x[1] and m2.e["a"].expr.args[1] is m2.x[1]
        return bool(ok)
    except Exception:  # noqa: BLE001 - any difference means: use the public API
        return False


#: True when registered components are built lazily (this Pyomo passed :func:`_self_test` and
#: ``DISPATCH_PYOMO_LAZY`` is not ``0``); False: eager, public API only.
LAZY: bool = os.environ.get("DISPATCH_PYOMO_LAZY", "1") != "0" and _self_test()
