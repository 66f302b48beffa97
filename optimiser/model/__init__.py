"""The dispatch LP as components: each adds its variables, constraints, draw on the power
balance and named revenue/cost terms to a Pyomo model through the :class:`Registry`."""

from __future__ import annotations

from typing import Any

from ..scenario import Scenario
from .core import Lin, Registry, Term, add_cost, add_revenue, build, write_objective
from .fleets import AsicFleets, FlexLoads, GpuFleets
from .reserves import Reserves
from .site import Site
from .tariffs import CoincidentPeak, DemandCharge

__all__ = [
    "AsicFleets", "CoincidentPeak", "DemandCharge", "FlexLoads", "GpuFleets", "Lin", "Registry",
    "Reserves", "Site", "Term", "add_cost", "add_revenue", "build", "default_components", "write_objective",
]


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
    comps.append(Site())
    if cfg.reserve:
        comps.append(Reserves())
    if cfg.demand_charge is not None:
        comps.append(DemandCharge())
    if cfg.coincident_peak is not None:
        comps.append(CoincidentPeak())
    return comps
