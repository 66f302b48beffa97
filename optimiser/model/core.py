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
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

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
    """A registered variable: its Pyomo component and its elements in a fixed order."""

    component: Any
    datas: list
    keys: list


@dataclass
class RowBlock:
    """A registered family of constraints ``lower <= sum(lins) <= upper``."""

    name: str
    component: Any
    keys: list
    lins: list[Lin]
    lower: np.ndarray
    upper: np.ndarray
    family: str
    exprs: list = field(default_factory=list, repr=False)

    def intact(self) -> bool:
        """True when no row was edited, removed or deactivated since the build."""
        comp = self.component
        if not comp.active or len(comp) != len(self.exprs):
            return False
        for d, e in zip(comp.values(), self.exprs):
            if d._expr is not e or not d._active:
                return False
        return True


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
        keys = list(keys)
        var = pyo.Var(keys, domain=pyo.NonNegativeReals, dense=True, doc=doc)
        block.add_component(name, var)
        datas = list(var.values())
        if ub is not None:
            ubs = np.broadcast_to(np.asarray(ub, dtype=float), (len(keys),)).tolist()
            for d, u in zip(datas, ubs):
                d._ub = u
        self.vars.append(VarInfo(var, datas, keys))
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
        """Add ``lower <= sum(lins) <= upper``, one row per key (``None``: no bound)."""
        keys = list(keys)
        n = len(keys)
        lo = np.full(n, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (n,)).copy()
        up = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (n,)).copy()
        exprs = self.linear_exprs(n, lins)
        los = [None if not np.isfinite(x) else float(x) for x in lo]
        ups = [None if not np.isfinite(x) else float(x) for x in up]
        rows = {}
        for k, e, a, b in zip(keys, exprs, los, ups):
            if a is not None and a == b:
                rows[k] = e == a
            elif a is None:
                rows[k] = e <= b
            elif b is None:
                rows[k] = e >= a
            else:
                rows[k] = (a, e, b)
        con = pyo.Constraint(keys, rule=lambda _b, *k: rows[k[0] if len(k) == 1 else k], doc=doc)
        block.add_component(name, con)
        blk = RowBlock(name, con, keys, list(lins), lo, up, family)
        blk.exprs = [d._expr for d in con.values()]
        self.rows.append(blk)
        return con

    def linear_exprs(self, n: int, lins: Sequence[Lin]) -> list:
        """One Pyomo ``LinearExpression`` per row from blocks of terms."""
        if not lins:
            return [LinearExpression(constant=0.0, linear_coefs=[], linear_vars=[]) for _ in range(n)]
        row = np.concatenate([l.row for l in lins])
        coef = np.concatenate([l.coef for l in lins])
        vds: list = []
        for l in lins:
            datas = self.info(l.var).datas
            vds.extend([datas[p] for p in l.pos.tolist()])
        order = np.argsort(row, kind="stable")
        bounds = np.searchsorted(row[order], np.arange(n + 1)).tolist()
        coefs = coef[order].tolist()
        vs = [vds[i] for i in order.tolist()]
        return [
            LinearExpression(constant=0.0, linear_coefs=coefs[a:b], linear_vars=vs[a:b])
            for a, b in zip(bounds[:-1], bounds[1:])
        ]

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
        lins = reg.load_lins() + reg.balance_lins
        load_exprs = reg.linear_exprs(reg.n, reg.load_lins())
        m.site_load = pyo.Expression(m.T, initialize=dict(zip(range(reg.n), load_exprs)), doc="Site load at the meter [MW]")
        reg.add_rows(
            m, "balance", hours, lins, reg.supply, reg.supply, family="balance",
            doc="load + export - import = PPA volume, each hour [MW]",
        )
        m.revenue = pyo.Expression(pyo.Any, doc="Revenue streams [$]")
        m.cost = pyo.Expression(pyo.Any, doc="Cost streams [$]")
        for term in reg.terms:
            (m.revenue if term.kind == "revenue" else m.cost)[term.name] = term_expression(reg, term)
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
