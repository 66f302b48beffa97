"""The core of the model: the hour set, the registry components write into, the power
balance and the objective.

Every component (ASIC fleets, GPU fleets, the site, reserves, tariffs) adds to a Pyomo
``ConcreteModel`` through a :class:`Registry`: its variables, its constraints, its draw on the
site's power balance and its named revenue and cost terms. The core then writes the balance
(one row an hour) and the objective (the sum of what was registered). Nothing in the core
knows what an ASIC is.

Building is in two passes: every component's ``build`` (variables, draws, terms), then every
component's ``link`` (rows that read the draws of all fleets: the ramp, reserve backing, peak
charges), so the order in which components are listed never changes the model.

Each registered constraint and term is kept twice: as Pyomo objects (which a researcher sees,
edits and extends) and as coefficient arrays. The model of record is the Pyomo model:
:mod:`optimiser.lp` takes a registered family from its arrays only where the Pyomo rows are
still exactly what was registered, and compiles everything else from Pyomo. The Pyomo side is
lazy where Pyomo allows it (:mod:`optimiser.model._lazy`, the only module that touches Pyomo
internals): elements and expressions are made the first time anything reads them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import product
from operator import eq, itemgetter
from typing import Any, Iterator, Literal

import numpy as np
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.relational_expr import inequality

from ..scenario import Scenario
from . import _lazy
from .window import Window, as_window


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
        self.coef = _own(self.coef, n, np.float64)
        self.row = _own(self.row, n, np.int64)


def _own(values: Any, n: int, dtype: Any) -> np.ndarray:
    """``values`` as a new array of ``n`` entries of ``dtype`` (a scalar repeated), never a view of
    the caller's (a model builds dozens: the common case, an array of the right shape, is copied
    without ``np.broadcast_to``)."""
    a = np.asarray(values, dtype=dtype)
    if a.shape == (n,):
        return a.copy()
    return np.broadcast_to(a, (n,)).copy()


@dataclass
class VarInfo:
    """A registered variable: its Pyomo component, its keys in registration order, its upper
    bounds as registered (``inf``: no bound) [MW] and whether it is integer."""

    component: Any
    keys: Sequence
    ub: np.ndarray
    lazy: bool = True
    integer: bool = False
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
            if self.lazy:
                len(self.component)  # makes the elements
            self._datas = _lazy.vars_touched(self.component, self.keys, self.lazy)
        return self._datas

    def touched(self) -> list | None:
        """``None`` while nobody has read the elements (bounds and domain as registered);
        otherwise the ``VarData`` in registration order."""
        if self._datas is not None:
            return self._datas
        return _lazy.vars_touched(self.component, self.keys, self.lazy)

    def position(self, key: Any) -> int:
        """Position of ``key`` in registration order."""
        if isinstance(self.keys, (range, ProductKeys)):
            return self.keys.index(key)
        if self._position is None:
            self._position = {k: i for i, k in enumerate(self.keys)}
        return self._position[key]


@dataclass
class RowBlock:
    """A registered family of constraints ``lower <= sum(lins) <= upper``, one row per key.

    Its Pyomo rows make their expressions from the arrays on first use; :meth:`touched` tells
    which rows are still as registered.
    """

    name: str
    component: Any
    keys: Sequence
    lins: list[Lin]
    lower: np.ndarray
    upper: np.ndarray
    family: str
    registry: Any = field(default=None, repr=False)
    token: Any = field(default=None, repr=False)
    _rows: "_Rows | None" = field(default=None, repr=False)

    def touched(self) -> tuple[np.ndarray, list] | None:
        """``None`` when every row is as registered, active and present; otherwise
        ``(keep, other)``: see :func:`optimiser.model._lazy.rows_touched`."""
        return _lazy.rows_touched(self.component, self.keys, self.token)

    def expression(self, i: int) -> Any:
        """The relational expression of the row at position ``i``, made from the arrays."""
        if self._rows is None:
            self._rows = _Rows(self.registry, len(self.keys), self.lins)
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


def _index_set(hours: Any, keys: Sequence) -> tuple[Any, Sequence]:
    """A cheap Pyomo index for ``keys`` and the keys as a compact sequence of plain values.

    Hours ``0..n-1`` are the model's ``T`` (keys: a ``range``); other runs of integers a
    ``RangeSet`` (a ``range``); pairs ``(name, hour)`` covering names x hours in that order the
    product of a small ``Set`` and ``T`` (:class:`ProductKeys`). Anything else is passed as a
    list (Pyomo then builds a ``Set`` of it, element by element, which costs about ten times
    more for a year of hours).
    """
    if isinstance(keys, ProductKeys) and len(keys) and hours is not None and keys.hours == len(hours):
        return pyo.Set(initialize=list(keys.names), ordered=True) * hours, keys
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
    window
        The hours the model covers and the state before them (:class:`~optimiser.model.window.Window`).
    scenario
        The same window (it reads like a scenario restricted to its hours): what components read.
    n
        Number of hours.
    lazy
        Whether registered components are made on first use (:data:`optimiser.model._lazy.LAZY`).
    """

    def __init__(self, scenario: Scenario | Window, lazy: bool | None = None):
        self.window = as_window(scenario)
        self.scenario = self.window
        self.n = self.window.hours
        self.lazy = _lazy.LAZY if lazy is None else bool(lazy and _lazy.LAZY)
        self.vars: list[VarInfo] = []
        self.rows: list[RowBlock] = []
        self.terms: list[Term] = []
        self.loads: list[LoadDraw] = []
        self.backing: list[LoadDraw] = []
        self.balance_lins: list[Lin] = []
        self.supply = np.zeros(self.n)
        self.reporters: list[Callable[[Any], dict[str, np.ndarray]]] = []
        self.capacities: list[Any] = []  # each fleet's capacity, fixed or chosen (model/investment.py)
        self.components: list[Any] = []
        self.objective_component: Any = None
        self.objective_expr: Any = None
        self.objective_parts: list[tuple[Term, Any]] = []
        self.profit_component: Any = None  # build_into's block.profit, and its expression as built
        self.profit_expr: Any = None
        self.stream_tokens: dict[str, Any] = {}
        self.T: Any = None
        self.prefix = ""
        self._var_ids: dict[int, VarInfo] = {}
        self._row_ids: dict[int, RowBlock] = {}

    # -- variables ------------------------------------------------------------------------
    def add_var(
        self, block: Any, name: str, keys: Sequence, ub: np.ndarray | float | None, doc: str = "",
        *, integer: bool = False,
    ) -> Any:
        """Add a non-negative variable ``block.<name>`` indexed by ``keys`` with upper bounds
        ``ub`` (``None``: unbounded). [MW]

        With ``integer`` its domain is ``NonNegativeIntegers`` (a binary: ``ub`` 1) and the model
        becomes a MIP; its integrality is compiled from the registration, like its bounds, until
        a user touches its elements (then from Pyomo, as for any variable).
        """
        index, keys = _index_set(self.T, keys)
        n = len(keys)
        ub_arr = np.full(n, np.inf) if ub is None else np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy()
        var = _lazy.make_var(block, name, index, keys, None if ub is None else ub_arr, doc, self.lazy, integer)
        vi = VarInfo(var, keys, ub_arr, self.lazy, integer)
        self.vars.append(vi)
        self._var_ids[id(var)] = vi
        return var

    def info(self, var: Any) -> VarInfo:
        """The registration of a variable component."""
        vi = self.registered(var)
        if vi is None:
            raise KeyError(f"{var.name} was not registered")
        return vi

    def qualified(self, local_name: str) -> str:
        """The full Pyomo name of a component ``local_name`` of this dispatch model (``balance``,
        ``gpu.sla``): prefixed by the block it was built into, if any."""
        return f"{self.prefix}.{local_name}" if self.prefix else local_name

    def registered(self, var: Any) -> VarInfo | None:
        """The registration of a variable component, or ``None``."""
        self._var_ids = _current(self._var_ids, self.vars)
        vi = self._var_ids.get(id(var))
        return vi if vi is not None and vi.component is var else None

    def family(self, con: Any) -> RowBlock | None:
        """The registered family of a constraint component, or ``None``."""
        self._row_ids = _current(self._row_ids, self.rows)
        blk = self._row_ids.get(id(con))
        return blk if blk is not None and blk.component is con else None

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

        The rows are ordinary Pyomo ``ConstraintData``: reading or editing ``m.balance[t]``
        works as for any Pyomo constraint (and what is edited is what is solved).
        """
        index, keys = _index_set(self.T, keys)
        if isinstance(keys, ProductKeys):
            # row keys are read by others (results' dual series: a list is 3x faster for pandas)
            keys = list(keys)
        n = len(keys)
        lo = np.full(n, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (n,)).copy()
        up = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (n,)).copy()
        blk = RowBlock(name, None, keys, list(lins), lo, up, family, registry=self)
        blk.component, blk.token = _lazy.make_rows(block, name, index, keys, blk.expression, doc, self.lazy)
        self.rows.append(blk)
        self._row_ids[id(blk.component)] = blk
        return blk.component

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

    def add_backing(self, kind: str, fleet: str, lin: Lin) -> None:
        """Register reserve capability that is not a draw to curtail (``lin.row`` = hour). [MW]

        A reserve product eligible for ``kind`` counts it as it counts that kind's draws: MW by
        which the component can lower its net draw at the meter on call (a battery's charge it
        can stop plus the discharge it can add, within its stored energy).
        """
        self.backing.append(LoadDraw(kind, fleet, lin))

    def backing_lins(self, kinds: Sequence[str]) -> list[Lin]:
        """What may back reserves of the given kinds: their draws and their registered capability."""
        return self.load_lins(kinds) + [d.lin for d in self.backing if d.kind in kinds]

    def add_reporter(self, fn: Callable[[Any], dict[str, np.ndarray]]) -> None:
        """Register a function of the solution returning hourly ``dispatch.csv`` columns."""
        self.reporters.append(fn)


def add_capacity_rows(m: Any, reg: Registry, block: Any, var: Any, names: Sequence[str],
                      capacity: dict[str, Any]) -> None:
    """Limit fleets' power by capacities that are model expressions.

    For each fleet ``k`` in ``capacity`` (a function ``fn(m)`` returning a linear Pyomo
    expression, e.g. a capacity decision ``m.invest.capacity["s21"]``), add
    ``var[k, t] <= fn(m)`` for every hour, as the registered family ``<block>.capacity``
    (keys ``(k, t)``, :func:`add_limit_rows`) when the expression is linear in registered
    variables, else as a Pyomo constraint ``<block>.capacity_<k>``. Call it from a component's
    ``link`` (every variable of pass one exists then). [MW]
    """
    from pyomo.repn import generate_standard_repn

    limits = {}
    for k, fn in capacity.items():
        expr = fn(m)
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        parts = [(reg.registered(v.parent_component()), v, c) for v, c in zip(repn.linear_vars, repn.linear_coefs)]
        if repn.nonlinear_expr is not None or any(p[0] is None for p in parts):
            block.add_component(f"capacity_{k}", pyo.Constraint(m.T, rule=lambda _m, t, k=k, e=expr: var[k, t] <= e,
                                                                 doc=f"IT power of {k} <= its capacity [MW]"))
            continue
        limits[k] = ([(info, info.position(v.index()), c) for info, v, c in parts], float(pyo.value(repn.constant)))
    add_limit_rows(block, reg, "capacity", var, limits, doc="IT power <= the fleet's capacity (a model expression) [MW]")


def add_limit_rows(block: Any, reg: Registry, name: str, var: Any,
                   limits: dict[str, tuple[list[tuple[VarInfo, int, float]], float]], doc: str) -> None:
    """Keep ``var[k, t] <= sum_j c_j x_j + constant_k`` every hour, for each fleet ``k`` of
    ``limits`` (``k -> ([(registration of x_j, position of x_j, c_j), ...], constant_k)``; the
    ``x_j`` are single columns, a capacity), as the registered family ``<block>.<name>`` (keys
    ``(k, t)``, family ``capacity``). ``var`` is registered with keys ``(fleet, hour)``. [MW]
    """
    if not limits:
        return
    n = reg.n
    hours = np.arange(n)
    vi = reg.info(var)
    keys, lins, rhs = [], [], []
    for k, (parts, constant) in limits.items():
        rows = len(keys) + hours
        keys += [(k, t) for t in range(n)]
        lins.append(Lin(var, vi.position((k, 0)) + hours, 1.0, rows))
        lins += [Lin(info.component, np.full(n, pos), -float(c), rows) for info, pos, c in parts]
        rhs.append(np.full(n, float(constant)))
    reg.add_rows(block, name, keys, lins, None, np.concatenate(rhs), family="capacity", doc=doc)


def _current(by_id: dict[int, Any], items: list) -> dict[int, Any]:
    """``by_id`` (id of each item's component -> item) if it still matches ``items``, else made
    anew: a clone's registry holds copies of the components, under other ids."""
    if len(by_id) == len(items) and all(by_id.get(id(x.component)) is x for x in (items[:1] + items[-1:])):
        return by_id
    return {id(x.component): x for x in items}


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
    """(Re)write ``m.objective`` as the sum of the registered streams.

    A model whose objective a user replaced or edited keeps the user's objective.
    """
    reg: Registry = m.dispatch
    parts, expr = _profit(m, reg)
    obj = getattr(m, "objective", None)
    if obj is None:
        m.objective = pyo.Objective(expr=expr, sense=pyo.maximize)
    elif obj is reg.objective_component and obj.expr is reg.objective_expr:
        obj.expr = expr
    else:
        reg.objective_parts = parts  # the streams are still reported; the user's objective stays
        return
    reg.objective_component = m.objective
    reg.objective_expr = m.objective.expr
    reg.objective_parts = parts


def _profit(m: Any, reg: "Registry") -> tuple[list[tuple[Term, Any]], Any]:
    """Each registered stream with its named expression (``m.revenue[...]``, ``m.cost[...]``),
    and revenue less cost as one expression. [$]"""
    parts = [(t, (m.revenue if t.kind == "revenue" else m.cost)[t.name]) for t in reg.terms]
    return parts, sum(d for t, d in parts if t.kind == "revenue") - sum(d for t, d in parts if t.kind == "cost")


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


def build(scenario: Scenario | Window, components: Sequence[Any] | None = None, *,
          lazy: bool | None = None) -> pyo.ConcreteModel:
    """Build the Pyomo model of a scenario, or of a window of its hours (no solve).

    Parameters
    ----------
    scenario
        A loaded scenario (:func:`optimiser.load_scenario`), or a
        :class:`~optimiser.model.window.Window`: some of its hours and the state before them.
    components
        The components to build; default :func:`optimiser.model.default_components`. Their
        order does not matter: every ``build`` runs before any ``link``.
    lazy
        Make registered Pyomo elements on first use (default, where this Pyomo allows it) or
        all at once (``False``: Pyomo's public API only; slower, the same model).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``m.T`` (hours 0..n-1), one block per component (``m.asic``, ``m.gpu``, ``m.site``,
        ...), ``m.site_load[t]``, ``m.balance[t]``, the stream expressions ``m.revenue[name]`` /
        ``m.cost[name]``, ``m.objective`` (maximised, dollars) and the registry ``m.dispatch``.
        Edit it with Pyomo's API or :func:`optimiser.add_revenue` before :func:`optimiser.solve`.
    """
    with gc_paused():
        m = pyo.ConcreteModel(name=as_window(scenario).config.name)
        _build_into(m, scenario, components, lazy)
        write_objective(m)
    return m


def build_into(block: Any, scenario: Scenario | Window, components: Sequence[Any] | None = None, *,
               lazy: bool | None = None) -> "Registry":
    """Build a dispatch model under ``block``, a block of a larger model (no objective).

    Everything :func:`build` puts on the model goes on ``block`` (``block.T``, ``block.asic``,
    ``block.balance``, ``block.revenue``, ``block.cost``, the registry ``block.dispatch``),
    and ``block.profit`` is its revenue less its costs. [$] Several dispatch models (price or
    BTC futures, windows) can so live in one Pyomo model and share first-stage variables (a
    capacity: ``AsicFleets(capacity={name: fn})``); the caller writes the objective, e.g. a
    probability-weighted sum of the blocks' ``profit``, and solves with
    :func:`optimiser.solve_blocks`.

    Returns
    -------
    Registry
        ``block.dispatch``.
    """
    with gc_paused():
        reg = _build_into(block, scenario, components, lazy)
        reg.objective_parts, expr = _profit(block, reg)
        block.profit = pyo.Expression(expr=expr, doc="Revenue less costs of this dispatch model [$]")
        reg.profit_component = block.profit
        reg.profit_expr = block.profit.expr
    return reg


def _build_into(m: Any, scenario: Scenario | Window, components: Sequence[Any] | None, lazy: bool | None) -> "Registry":
    from . import default_components

    comps = list(default_components(as_window(scenario).scenario) if components is None else components)
    reg = Registry(scenario, lazy)
    m.dispatch = reg
    reg.prefix = "" if m.parent_block() is None else m.name
    m.T = pyo.RangeSet(0, reg.n - 1, doc="Hours of the horizon (0 = first hour)")
    reg.T = m.T
    run_components(m, reg, comps)
    hours = np.arange(reg.n)
    load_lins = reg.load_lins()
    load_rows: list[_Rows] = []

    def site_load(t: Any) -> Any:
        if not load_rows:
            load_rows.append(_Rows(reg, reg.n, load_lins))
        return load_rows[0].expression(int(t))

    _lazy.make_expressions(m, "site_load", m.T, range(reg.n), site_load, "Site load at the meter [MW]", reg.lazy)
    reg.add_rows(
        m, "balance", hours, load_lins + reg.balance_lins, reg.supply, reg.supply, family="balance",
        doc="load + export - import = PPA volume, each hour [MW]",
    )
    for kind in ("revenue", "cost"):
        named = {t.name: t for t in reg.terms if t.kind == kind}
        _comp, reg.stream_tokens[kind] = _lazy.make_expressions(
            m, kind, pyo.Any, list(named), lambda name, named=named: term_expression(reg, named[name]),
            f"{kind.capitalize()} streams [$]", reg.lazy)
    return reg


def run_components(m: Any, reg: "Registry", components: Sequence[Any]) -> None:
    """Every component's ``build`` on ``m`` (kept in ``reg.components``), then every component's
    ``link``: so the order in which they are given never changes the model."""
    for comp in components:
        comp.build(m, reg)
        reg.components.append(comp)
    for comp in components:
        link = getattr(comp, "link", None)
        if link is not None:
            link(m, reg)


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
    comp = m.revenue if kind == "revenue" else m.cost
    comp[name] = expr
    reg.terms.append(Term(name, kind, expr=comp[name].expr, by_hour=by_hour))
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


def registries(m: Any) -> list["Registry"]:
    """The dispatch models in ``m``: its own registry (``m.dispatch``, from :func:`build`) and those
    of active blocks a dispatch model was built into (:func:`build_into`)."""
    out = []
    for blk in m.block_data_objects(active=True, descend_into=True):
        reg = blk.__dict__.get("dispatch")
        if isinstance(reg, Registry):
            out.append(reg)
    return out
