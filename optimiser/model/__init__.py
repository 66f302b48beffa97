"""The dispatch LP as components: each adds its variables, constraints, draw on the power
balance and named revenue/cost terms to a Pyomo model through the :class:`Registry`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ..scenario import Scenario
from .availability import Availability
from .battery import Batteries
from .capacity_product import CapacityProducts
from .carbon import Carbon
from .core import Lin, Registry, Term, add_cost, add_revenue, build, write_objective
from .fleets import AsicFleets, FlexLoads, GpuFleets
from .investment import Investment
from .reserves import Reserves
from .site import Site
from .tariffs import CoincidentPeak, DemandCharge
from .window import State, Window

__all__ = [
    "AsicFleets", "Availability", "Batteries", "CapacityProducts", "Carbon", "CoincidentPeak", "DemandCharge",
    "FlexLoads", "GpuFleets", "Investment", "Lin", "Registry", "Reserves", "Site", "State", "Term", "Window", "add_cost",
    "add_revenue", "build", "default_components",
    "state_after", "write_objective",
]


def state_after(m: Any, res: Any, stop: int | None = None) -> State:
    """The state a window hands to the next: each component's part (``handover``) of the
    solution ``res`` of model ``m``, over the state ``m`` started from.

    Parameters
    ----------
    m
        A model built on a :class:`Window`.
    res
        Its results (anything with the ``dispatch`` frame of its hours).
    stop
        Hand on the state after the window's first ``stop`` hours instead of all of them (a
        rolling horizon keeps the first hours of each plan): the components read the window's
        first ``stop`` hours and ``res.dispatch``'s first ``stop`` rows.

    Examples
    --------
    >>> w1 = Window(sc, 0, 24)
    >>> m1 = build(w1); r1 = optimiser.solve(m1)
    >>> m2 = build(Window(sc, 24, 48, state_after(m1, r1)))
    """
    reg = m.dispatch
    view: Any = reg
    if stop is not None and int(stop) != reg.n:
        w = reg.window
        if not 0 < int(stop) <= reg.n:
            raise ValueError(f"stop must be within 1..{reg.n} (the window's hours), not {stop}")
        cut = Window(w.scenario, w.start, w.start + int(stop), w.state)
        view = SimpleNamespace(window=cut, scenario=cut, n=cut.hours)
        res = SimpleNamespace(dispatch=res.dispatch.iloc[: int(stop)])
    parts: dict[str, Any] = {}
    for comp in reg.components:
        handover = getattr(comp, "handover", None)
        if handover is not None:
            parts.update(handover(view, res))
    return reg.window.state.merged(**parts)


def default_components(scenario: Scenario) -> list[Any]:
    """The components a scenario needs, in build order (fleets first: others read their draws)."""
    cfg = scenario.config
    comps: list[Any] = []
    if cfg.asic:
        comps.append(AsicFleets())
    if cfg.gpu:
        comps.append(GpuFleets())
    if cfg.flex:
        comps.append(FlexLoads())
    if cfg.battery:
        comps.append(Batteries())
    comps.append(Site())
    comps.append(Investment())
    if cfg.reserve:
        comps.append(Reserves())
    if cfg.capacity_product:
        comps.append(CapacityProducts())
    if cfg.demand_charge is not None:
        comps.append(DemandCharge())
    if cfg.coincident_peak is not None:
        comps.append(CoincidentPeak())
    if cfg.carbon is not None:
        comps.append(Carbon())
    if cfg.site.outage_column is not None or any(f.availability_column is not None for _, f in cfg.fleets()):
        comps.append(Availability())
    return comps
