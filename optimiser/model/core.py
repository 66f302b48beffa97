"""The core of the model: the hour set, the registry components write into, the power
balance and the objective.

Every component (ASIC fleets, GPU fleets, the site, reserves, tariffs) adds to a Pyomo
``ConcreteModel`` through a :class:`Registry`: its variables, its constraints, its draw on the
site's power balance and its named revenue and cost terms. The core then writes the balance
(one row an hour) and the objective (the sum of what was registered). Nothing in the core
knows what an ASIC is.

Each registered constraint and term is kept twice: as Pyomo objects (which a researcher sees,
edits and extends) and as coefficient arrays (which :mod:`optimiser.lp` hands to HiGHS without
walking the expressions again, as long as the Pyomo objects were not replaced).

The Pyomo side is lazy (docs/performance.md): every row of a registered constraint family is a
real ``ConstraintData`` (:class:`LazyRowData`) and every registered named expression
(``m.site_load[t]``, ``m.revenue[name]``, ``m.cost[name]``) a real ``ExpressionData``
(:class:`LazyExpressionData`), but their expressions are made from the arrays the first time
anything reads them. Reading, printing, writing an LP file, ``pyo.value``, using them in new
constraints all work as usual; setting a row's expression marks it edited, and its family is
then compiled from Pyomo. A model that is only solved never makes the ~400,000 expression
objects a year would need (five times faster to build, a fifth of the garbage to collect).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import product, repeat
from operator import attrgetter, eq, is_, itemgetter
from typing import Any, Iterator, Literal

from weakref import ref as weakref_ref

import numpy as np
import pyomo.core as pyo
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.expression import ExpressionData, IndexedExpression
from pyomo.core.base.var import IndexedVar
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.relational_expr import inequality

from ..scenario import Scenario


@dataclass
class Lin:
    """A block of linear terms ``coef[i] * var[pos[i]]``, each on row (or hour) ``row[i]``.

    Parameters
    ----------
    var
        An indexed Pyomo ``Var`` created through :meth:`Registry.add_var`.
    pos
        Positions of the terms' variables in that Var's registration order.
    coef
        Coefficients.
    row
        The row of a constraint block each term belongs to, or, in an objective term, the
        hour it is booked to (``-1``: not tied to an hour).
    """

    var: Any
    pos: np.ndarray
    coef: np.ndarray
    row: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.pos)
        self.pos = np.asarray(self.pos, dtype=np.int64)
        self.coef = np.broadcast_to(np.asarray(self.coef, dtype=float), (n,)).copy()
        self.row = np.broadcast_to(np.asarray(self.row, dtype=np.int64), (n,)).copy()


@dataclass
class VarInfo:
    """A registered variable: its Pyomo component, its keys in registration order and its upper
    bounds as registered (``inf``: no bound). [MW]"""

    component: Any
    keys: Sequence
    ub: np.ndarray
    _datas: list | None = field(default=None, repr=False)
    _position: dict | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Number of elements (columns), without making them."""
        return len(self.keys)

    @property
    def datas(self) -> list:
        """The Pyomo ``VarData`` in registration order (makes them if not made yet)."""
        if self._datas is None:
            data = self.component._data
            self._datas = [data[k] for k in self.keys]
        return self._datas

    @property
    def made(self) -> bool:
        """False until anything reads the Pyomo elements (then users may have changed them)."""
        return _is_made(self.component)

    def position(self, key: Any) -> int:
        """Position of ``key`` in registration order."""
        if isinstance(self.keys, (range, ProductKeys)):
            return self.keys.index(key)
        if self._position is None:
            self._position = {k: i for i, k in enumerate(self.keys)}
        return self._position[key]


class _LazyData:
    """Mixin for an indexed Pyomo component whose element dict (``_data``) is filled by
    ``_dispatch_fill(store)`` the first time anything reads it: ``len(m.balance)``,
    ``m.balance[t]``, iterating, printing, writing, cloning all make the elements first and then
    behave as usual. Until then the component costs one Python object, not one per element."""

    @property
    def _data(self) -> dict:
        d = self.__dict__
        if d.get("_dispatch_pending"):
            d["_dispatch_pending"] = False
            self._dispatch_fill(d["_dispatch_store"])
        return d["_dispatch_store"]

    @_data.setter
    def _data(self, value: dict) -> None:
        self.__dict__["_dispatch_store"] = value

    def is_reference(self) -> bool:
        return False

    def _dispatch_defer(self, fill: Callable[[dict], None]) -> None:
        """Make the elements with ``fill(store)`` when first needed."""
        self.__dict__["_dispatch_fill_fn"] = fill
        self.__dict__["_dispatch_pending"] = True

    def _dispatch_fill(self, store: dict) -> None:
        self.__dict__.pop("_dispatch_fill_fn")(store)


def _is_made(component: Any) -> bool:
    return not component.__dict__.get("_dispatch_pending", False)


class LazyVar(_LazyData, IndexedVar):
    """An indexed ``Var`` (non-negative, registered) whose ``VarData`` are made on first use."""


@dataclass
class RowBlock:
    """A registered family of constraints ``lower <= sum(lins) <= upper``.

    Its Pyomo rows (:class:`LazyRowData`) make their expressions on first use: a model that is
    only solved never builds them, and one a user inspects or edits builds only what is touched.
    """

    name: str
    component: Any
    keys: Sequence
    lins: list[Lin]
    lower: np.ndarray
    upper: np.ndarray
    family: str
    registry: Any = field(default=None, repr=False)
    _rows: "_Rows | None" = field(default=None, repr=False)
    _position: dict | None = field(default=None, repr=False)

    def intact(self) -> bool:
        """True when no row was edited, added, removed or deactivated since the build."""
        comp = self.component
        if not comp.active:
            return False
        if not _is_made(comp):
            return True
        rows = list(comp._data.values())
        return (
            len(rows) == len(self.keys)
            and all(map(is_, map(type, rows), repeat(LazyRowData)))
            and not any(map(_EDITED, rows))
            and all(map(_ACTIVE, rows))
        )

    def expression(self, key: Any) -> Any:
        """The Pyomo relational expression of the row ``key`` (built from the arrays)."""
        if self._position is None:
            self._position = {k: i for i, k in enumerate(self.keys)}
        if self._rows is None:
            self._rows = _Rows(self.registry, len(self.keys), self.lins)
        i = self._position[key]
        e = self._rows.expression(i)
        lo, up = float(self.lower[i]), float(self.upper[i])
        if lo == up:
            return e == lo
        if not np.isfinite(lo):
            return e <= up
        if not np.isfinite(up):
            return e >= lo
        return inequality(lo, e, up)


class _Rows:
    """Blocks of terms sorted by row, to make one row's ``LinearExpression`` on demand."""

    def __init__(self, reg: "Registry", n: int, lins: Sequence[Lin]):
        if lins:
            row = np.concatenate([l.row for l in lins])
            coef = np.concatenate([l.coef for l in lins])
            vds: list = []
            for l in lins:
                datas = reg.info(l.var).datas
                vds.extend([datas[p] for p in l.pos.tolist()])
            order = np.argsort(row, kind="stable")
            self.bounds = np.searchsorted(row[order], np.arange(n + 1)).tolist()
            self.coefs = coef[order].tolist()
            self.vars = [vds[i] for i in order.tolist()]
        else:
            self.bounds, self.coefs, self.vars = [0] * (n + 1), [], []

    def expression(self, i: int) -> Any:
        a, b = self.bounds[i], self.bounds[i + 1]
        return LinearExpression(constant=0.0, linear_coefs=self.coefs[a:b], linear_vars=self.vars[a:b])


class LazyRowData(ConstraintData):
    """A row of a registered constraint family: Pyomo's ``ConstraintData`` whose expression is
    made from the registered arrays the first time anything reads it.

    Anything that sets the expression (``set_value``, ``m.balance[t] = ...``) marks the row
    edited; :func:`optimiser.lp.compile_lp` then compiles the family from its Pyomo expressions.
    """

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
            e = self._lazy = self.parent_component()._dispatch_rows.expression(self._index)
        return e

    @_expr.setter
    def _expr(self, value: Any) -> None:
        self._lazy = value
        self._edited = True


_EDITED, _ACTIVE = attrgetter("_edited"), attrgetter("_active")


class LazyRows(_LazyData, IndexedConstraint):
    """An indexed ``Constraint`` holding :class:`LazyRowData` rows (see :class:`RowBlock`)."""

    _ComponentDataClass = LazyRowData
    _dispatch_rows: RowBlock | None = None


class LazyExpressionData(ExpressionData):
    """Pyomo's ``ExpressionData`` whose expression is made on first use by its component's
    ``_dispatch_make(index)``; setting it (``set_value``) replaces it as usual."""

    __slots__ = ("_lazy",)

    def __init__(self, expr: Any = None, component: Any = None):
        self._lazy = (expr,)
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


class LazyExpressions(_LazyData, IndexedExpression):
    """An indexed ``Expression`` whose registered entries are made on first use."""

    _ComponentDataClass = LazyExpressionData
    _dispatch_make: Callable[[Any], Any] | None = None

    def construct(self, data: Any = None) -> None:
        """Construct empty: entries come from :meth:`add_lazy` or a user's assignment (Pyomo's own
        construction would first make an entry holding ``None`` for every index)."""
        if self._constructed:
            return
        self._constructed = True
        if self._anonymous_sets is not None:
            for s in self._anonymous_sets:
                s.construct()

    def add_lazy(self, keys: Sequence) -> None:
        """Add entries for ``keys`` (already in the index set), made with their expressions
        only when first read."""
        keys = keys if isinstance(keys, (range, ProductKeys)) else list(keys)

        def fill(data: dict) -> None:
            ref = weakref_ref(self)
            new = LazyExpressionData.__new__
            for k in keys:
                d = new(LazyExpressionData)
                d._component = ref
                d._index = k
                d._lazy = None
                data[k] = d

        self._dispatch_defer(fill)


@dataclass
class Term:
    """A named revenue or cost stream (in dollars, positive as it is named).

    Parameters
    ----------
    name
        The stream's name in ``summary.json`` (``asic_s21_mining``).
    kind
        ``"revenue"`` or ``"cost"``.
    lins
        Its linear part; ``Lin.row`` books each term to an hour (``-1``: to none).
    hourly_constant
        A constant per hour, if any. [$]
    allocate
        For a term not tied to hours at build time (a monthly peak charge): a function of the
        solution returning, for each of its ``lins`` entries, the hour it is booked to.
    expr
        A Pyomo expression, for terms added by a user (evaluated after the solve).
    by_hour
        The same, hour by hour (``{t: expr}``), when the user gave it so.
    """

    name: str
    kind: Literal["revenue", "cost"]
    lins: list[Lin] = field(default_factory=list)
    hourly_constant: np.ndarray | None = None
    allocate: Callable[[Any], list[np.ndarray]] | None = None
    expr: Any = None
    by_hour: dict | None = None

    @property
    def sign(self) -> float:
        return 1.0 if self.kind == "revenue" else -1.0


@dataclass
class LoadDraw:
    """A fleet's draw on the site: ``lin`` in MW at the meter, ``lin.row`` the hour."""

    kind: str
    fleet: str
    lin: Lin


class ProductKeys(Sequence):
    """The keys ``(name, hour)`` for every name and hour ``0..hours-1``, in that order, without
    storing them (a year of two fleets would otherwise keep 17,520 tuples alive)."""

    __slots__ = ("names", "hours")

    def __init__(self, names: Sequence, hours: int):
        self.names = tuple(names)
        self.hours = int(hours)

    def __len__(self) -> int:
        return len(self.names) * self.hours

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        a, t = divmod(i, self.hours)
        return (self.names[a], t)

    def __iter__(self) -> Iterator[tuple]:
        return product(self.names, range(self.hours))

    def index(self, key: Any, start: int = 0, stop: int | None = None) -> int:
        """Position of ``(name, hour)``, in constant time."""
        try:
            a, t = key
            i = self.names.index(a) * self.hours + t
        except (TypeError, ValueError):
            raise ValueError(f"{key!r} is not in the keys") from None
        if not (isinstance(t, (int, np.integer)) and 0 <= t < self.hours) or not (
            start <= i < (len(self) if stop is None else stop)
        ):
            raise ValueError(f"{key!r} is not in the keys")
        return int(i)

    def __contains__(self, key: object) -> bool:
        try:
            self.index(key)
        except ValueError:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProductKeys):
            return self.names == other.names and self.hours == other.hours
        return isinstance(other, Sequence) and len(other) == len(self) and all(map(eq, self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ProductKeys({list(self.names)!r}, {self.hours})"


def _index_set(block: Any, keys: Sequence) -> tuple[Any, Sequence]:
    """A cheap Pyomo index for ``keys`` and the keys as a compact sequence of plain values.

    Hours ``0..n-1`` are the model's ``T`` (keys: a ``range``); other runs of integers a
    ``RangeSet`` (a ``range``); pairs ``(name, hour)`` covering names x hours in that order the
    product of a small ``Set`` and ``T`` (:class:`ProductKeys`). Anything else is passed as a
    list (Pyomo then builds a ``Set`` of it, element by element, which costs about ten times
    more for a year of hours).
    """
    hours = getattr(block.model(), "T", None)
    if not isinstance(keys, (range, np.ndarray)):
        keys = list(keys)
    n = len(keys)
    if n == 0:
        return list(keys), list(keys)
    first = keys[0]
    if isinstance(first, (int, np.integer)) and not isinstance(first, bool):
        arr = np.asarray(keys)
        if arr.dtype.kind in "iu" and arr.ndim == 1 and (n == 1 or bool(np.all(np.diff(arr) == 1))):
            a = int(arr[0])
            if hours is not None and a == 0 and n == len(hours):
                return hours, range(n)
            return pyo.RangeSet(a, a + n - 1), range(a, a + n)
        keys = list(keys)
    elif type(first) is tuple and len(first) == 2 and hours is not None:
        names = list(dict.fromkeys(map(itemgetter(0), keys)))
        nh = len(hours)
        if len(names) * nh == n and all(map(eq, keys, product(names, range(nh)))):
            return pyo.Set(initialize=names, ordered=True) * hours, ProductKeys(names, nh)
    keys = list(keys)
    return keys, keys


class Registry:
    """What components register; kept on the model as ``m.dispatch``.

    Attributes
    ----------
    scenario
        The scenario the model was built from.
    n
        Number of hours.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.n = scenario.hours
        self.vars: list[VarInfo] = []
        self.rows: list[RowBlock] = []
        self.terms: list[Term] = []
        self.loads: list[LoadDraw] = []
        self.balance_lins: list[Lin] = []
        self.supply = np.zeros(self.n)
        self.reporters: list[Callable[[Any], dict[str, np.ndarray]]] = []
        self.objective_expr: Any = None
        self.components: list[Any] = []

    # -- variables ------------------------------------------------------------------------
    def add_var(
        self, block: Any, name: str, keys: Sequence, ub: np.ndarray | float | None, doc: str = ""
    ) -> Any:
        """Add a non-negative variable indexed by ``keys`` with upper bounds ``ub``. [MW]"""
        index, keys = _index_set(block, keys)
        var = LazyVar(index, domain=pyo.NonNegativeReals, dense=False, doc=doc)
        block.add_component(name, var)
        n = len(keys)
        ub_arr = np.full(n, np.inf) if ub is None else np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy()

        def fill(data: dict) -> None:
            # Pyomo's own dense construction, without iterating a Pyomo Set: the first element is
            # made (and validated) by Pyomo, the others are copies of it (VarData.copy).
            if not n:
                return
            ubs = [None] * n if ub is None else ub_arr.tolist()
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
        self.vars.append(VarInfo(var, keys, ub_arr))
        return var

    def info(self, var: Any) -> VarInfo:
        for v in self.vars:
            if v.component is var:
                return v
        raise KeyError(f"{var.name} was not registered")

    # -- constraints ----------------------------------------------------------------------
    def add_rows(
        self,
        block: Any,
        name: str,
        keys: Sequence,
        lins: Sequence[Lin],
        lower: np.ndarray | float | None,
        upper: np.ndarray | float | None,
        family: str,
        doc: str = "",
    ) -> Any:
        """Add ``lower <= sum(lins) <= upper``, one row per key (``None``: no bound).

        The rows are Pyomo ``ConstraintData`` whose expressions are made on first use
        (:class:`LazyRowData`): reading or editing ``m.balance[t]`` works as for any Pyomo
        constraint, and a model that is only solved never pays for the expressions.
        """
        index, keys = _index_set(block, keys)
        if isinstance(keys, ProductKeys):
            # row keys are read by others (results' dual series: a list is 3x faster for pandas)
            keys = list(keys)
        n = len(keys)
        lo = np.full(n, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (n,)).copy()
        up = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (n,)).copy()
        con = LazyRows(index, doc=doc)
        block.add_component(name, con)
        blk = RowBlock(name, con, keys, list(lins), lo, up, family, registry=self)
        con._dispatch_rows = blk

        def fill(data: dict) -> None:
            ref = weakref_ref(con)
            new = LazyRowData.__new__
            for k in keys:
                d = new(LazyRowData)
                d._component = ref
                d._active = True
                d._index = k
                d._lazy = None
                d._edited = False
                data[k] = d

        con._dispatch_defer(fill)
        self.rows.append(blk)
        return con

    # -- the balance and the objective ------------------------------------------------------
    def add_load(self, kind: str, fleet: str, lin: Lin) -> None:
        """Register a fleet's draw at the meter (``lin.row`` = hour). [MW]"""
        self.loads.append(LoadDraw(kind, fleet, lin))

    def add_balance(self, lin: Lin) -> None:
        """Register a non-load term of the balance (+ draws power, - supplies it). [MW]"""
        self.balance_lins.append(lin)

    def add_supply(self, mw: np.ndarray | float) -> None:
        """Register power delivered to the site whatever happens (a PPA). [MW]"""
        self.supply = self.supply + np.broadcast_to(np.asarray(mw, float), (self.n,))

    def add_term(
        self,
        name: str,
        kind: Literal["revenue", "cost"],
        lins: Sequence[Lin] = (),
        hourly_constant: np.ndarray | float | None = None,
        allocate: Callable[[Any], list[np.ndarray]] | None = None,
    ) -> Term:
        """Register a named revenue or cost stream built from arrays."""
        if any(t.name == name and t.kind == kind for t in self.terms):
            raise ValueError(f"a {kind} stream named '{name}' is already registered")
        hc = None
        if hourly_constant is not None:
            hc = np.broadcast_to(np.asarray(hourly_constant, float), (self.n,)).copy()
        term = Term(name, kind, list(lins), hc, allocate)
        self.terms.append(term)
        return term

    def load_lins(self, kinds: Sequence[str] | None = None) -> list[Lin]:
        """The registered draws of the given fleet kinds (all when ``None``)."""
        return [d.lin for d in self.loads if kinds is None or d.kind in kinds]

    def add_reporter(self, fn: Callable[[Any], dict[str, np.ndarray]]) -> None:
        """Register a function of the solution returning hourly ``dispatch.csv`` columns."""
        self.reporters.append(fn)


def term_expression(reg: Registry, term: Term) -> Any:
    """The Pyomo expression of a registered term (dollars, positive as named)."""
    if term.expr is not None:
        return term.expr
    const = float(term.hourly_constant.sum()) if term.hourly_constant is not None else 0.0
    if not term.lins:
        return LinearExpression(constant=const, linear_coefs=[], linear_vars=[])
    coefs: list = []
    vs: list = []
    for l in term.lins:
        datas = reg.info(l.var).datas
        coefs.extend(l.coef.tolist())
        vs.extend([datas[p] for p in l.pos.tolist()])
    return LinearExpression(constant=const, linear_coefs=coefs, linear_vars=vs)


def write_objective(m: Any) -> None:
    """(Re)write ``m.objective`` as the sum of the registered streams."""
    reg: Registry = m.dispatch
    rev = [m.revenue[t.name] for t in reg.terms if t.kind == "revenue"]
    cost = [m.cost[t.name] for t in reg.terms if t.kind == "cost"]
    expr = sum(rev) - sum(cost)
    if hasattr(m, "objective"):
        m.objective.expr = expr
    else:
        m.objective = pyo.Objective(expr=expr, sense=pyo.maximize)
    reg.objective_expr = m.objective.expr


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the garbage collector (building many small Pyomo objects is 2-5x faster)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build(scenario: Scenario, components: Sequence[Any] | None = None) -> pyo.ConcreteModel:
    """Build the Pyomo model of a scenario (no solve).

    Parameters
    ----------
    scenario
        A loaded scenario (:func:`optimiser.load_scenario`).
    components
        The components to build, in order; default :func:`optimiser.model.default_components`.

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``m.T`` (hours 0..n-1), one block per component (``m.asic``, ``m.gpu``, ``m.site``,
        ...), ``m.site_load[t]``, ``m.balance[t]``, the stream expressions ``m.revenue[name]`` / ``m.cost[name]``,
        ``m.objective`` (maximised, dollars) and the registry ``m.dispatch``. Add variables,
        constraints and terms (:func:`optimiser.add_revenue`) before :func:`optimiser.solve`.
    """
    from . import default_components

    comps = list(default_components(scenario) if components is None else components)
    with gc_paused():
        m = pyo.ConcreteModel(name=scenario.config.name)
        reg = Registry(scenario)
        m.dispatch = reg
        m.T = pyo.RangeSet(0, reg.n - 1, doc="Hours of the horizon (0 = first hour)")
        for comp in comps:
            comp.build(m, reg)
            reg.components.append(comp)
        hours = np.arange(reg.n)
        load_lins = reg.load_lins()
        load_rows: list[_Rows] = []

        def site_load(t: Any) -> Any:
            if not load_rows:
                load_rows.append(_Rows(reg, reg.n, load_lins))
            return load_rows[0].expression(int(t))

        m.site_load = LazyExpressions(m.T, doc="Site load at the meter [MW]")
        m.site_load._dispatch_make = site_load
        m.site_load.add_lazy(range(reg.n))
        reg.add_rows(
            m, "balance", hours, load_lins + reg.balance_lins, reg.supply, reg.supply, family="balance",
            doc="load + export - import = PPA volume, each hour [MW]",
        )
        for kind in ("revenue", "cost"):
            named = {t.name: t for t in reg.terms if t.kind == kind}
            comp = LazyExpressions(pyo.Any, doc=f"{kind.capitalize()} streams [$]")
            comp._dispatch_make = lambda name, named=named: term_expression(reg, named[name])
            m.add_component(kind, comp)
            comp.add_lazy(list(named))
        write_objective(m)
    return m


def add_term(m: Any, name: str, expr: Any, kind: Literal["revenue", "cost"]) -> None:
    """Add a user's revenue or cost stream (any linear Pyomo expression, in dollars).

    ``expr`` may be a dict ``{t: expr}``: the stream is then booked hour by hour in
    ``dispatch.csv``'s ``profit_usd``; otherwise it appears in the summary only.
    """
    reg: Registry = m.dispatch
    if any(t.name == name and t.kind == kind for t in reg.terms):
        raise ValueError(f"a {kind} stream named '{name}' is already registered")
    by_hour = None
    if isinstance(expr, dict):
        by_hour = dict(expr)
        expr = sum(by_hour.values())
    reg.terms.append(Term(name, kind, expr=expr, by_hour=by_hour))
    (m.revenue if kind == "revenue" else m.cost)[name] = expr
    write_objective(m)


def add_revenue(m: Any, name: str, expr: Any) -> None:
    """Add a revenue stream to a built model: it reaches the objective and the summary.

    Parameters
    ----------
    m
        A model from :func:`optimiser.build`.
    name
        The stream's name in ``summary.json`` (``revenue_usd``).
    expr
        A linear Pyomo expression in dollars; or a dict ``{t: expr}`` over hours, which also
        books it hour by hour in ``dispatch.csv``'s ``profit_usd``.
    """
    add_term(m, name, expr, "revenue")


def add_cost(m: Any, name: str, expr: Any) -> None:
    """Add a cost stream (dollars, positive as a cost); see :func:`add_revenue`."""
    add_term(m, name, expr, "cost")
