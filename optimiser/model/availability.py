"""Availability: how much of each fleet can run in each hour, and when the grid connection is down.

The rules (docs/operations.md, "Availability"):

- **A fleet's availability** (``availability_column`` on an ASIC, GPU or flex fleet, a share
  0..1 each hour) scales its capacity: maintenance, a curtailment order, a region banning mining
  from a date (0 from then on), machines arriving mid-year (0 before). An ASIC or flex fleet may
  run up to ``share x capacity_mw``; a GPU fleet's firm power up to
  ``min(contract_mw, share x capacity_mw)`` and its spot power the rest of ``share x
  capacity_mw`` above the contract. Firm power the fleet cannot deliver is shortfall: it counts
  against the SLA (its credit is owed, it uses the billing period's downtime budget).
- **A grid outage** (``site.outage_column``, 1 in the hours the connection is down): no import,
  no export, and the PPA's volume is not delivered (its price is still paid: the PPA is take or
  pay). Only a battery can then supply the site. The ramp limit does not hold into an outage hour
  (the load is dropped, not ramped down); it holds again from the outage's last hour on. Outage
  hours count against the GPU SLA like any other shortfall: the site has no backup supply, and
  the tenant's SLA covers its power.
- **Known in advance.** Outages and availability are schedules the model knows (a rolling
  horizon's plans too): a window keeps the downtime budget that the period's later outages will
  use (:func:`sla_floor`).
- **Unavoidable shortfall.** Where outages and fleet availability alone leave a GPU fleet more
  shortfall in a billing period than its downtime budget, the SLA row would be infeasible; it
  then asks for every hour the fleet can run in the window (no curtailment by choice in that
  period), the credit is owed on all of it, and the summary reports the breach
  (``summary.json`` ``availability.gpu_sla_breached``).

This module holds the rules; the components apply them (:class:`~optimiser.model.fleets.AsicFleets`
and the others read :func:`fleet_share`, :class:`~optimiser.model.site.Site` reads
:func:`grid_outage`), and :class:`Availability` reports what they cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Registry
from .window import scenario_periods


def fleet_share(window: Any, fleet: Any) -> np.ndarray:
    """The share of ``fleet``'s capacity available in each hour of ``window`` (1 without an
    ``availability_column``). [-]"""
    col = getattr(fleet, "availability_column", None)
    if col is None:
        return np.ones(window.hours)
    return np.clip(window.data[col].to_numpy(float), 0.0, 1.0)


def grid_outage(window: Any) -> np.ndarray:
    """True in the hours of ``window`` when the grid connection is down (``site.outage_column``)."""
    col = window.config.site.outage_column
    if col is None:
        return np.zeros(window.hours, dtype=bool)
    return window.data[col].to_numpy(float) > 0.5


def gpu_firm_limit_mw(window: Any, fleet: Any) -> np.ndarray:
    """The most firm power a GPU fleet's machines can run in each hour: ``min(contract_mw, share x
    capacity_mw)``. [MW]"""
    return np.minimum(fleet.contract_mw, fleet_share(window, fleet) * fleet.capacity_mw)


def gpu_deliverable_mw(window: Any, fleet: Any) -> np.ndarray:
    """Firm power a GPU fleet can deliver in each hour without a battery: its machines' limit,
    and nothing in a grid outage. [MW]"""
    return np.where(grid_outage(window), 0.0, gpu_firm_limit_mw(window, fleet))


def gpu_unavoidable_mwh(window: Any, fleet: Any, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Firm energy a GPU fleet cannot deliver because of outages and its availability, by the
    billing periods the window touches (in the order of :meth:`Window.periods`).

    Returns
    -------
    in_window
        In the window's hours of each period. [MWh]
    in_period
        In all the period's hours of the scenario's horizon (before, in and after the window). [MWh]
    after
        In the period's hours after the window. [MWh]
    """
    from .window import Window

    sc = window.scenario
    labels, of_hour, _ = scenario_periods(sc, kind)
    short = fleet.contract_mw - gpu_deliverable_mw(Window(sc), fleet)
    per_period = np.bincount(of_hour, weights=short, minlength=len(labels))
    after = np.bincount(of_hour[window.stop :], weights=short[window.stop :], minlength=len(labels))
    used, inv = np.unique(of_hour[window.start : window.stop], return_inverse=True)
    in_window = np.bincount(inv, weights=short[window.start : window.stop], minlength=len(used))
    return in_window, per_period[used], after[used]


def sla_floor(window: Any, fleet: Any, required: np.ndarray, hours_in_window: np.ndarray) -> np.ndarray:
    """The SLA row's right-hand side with outages and availability: the downtime they will take
    later in the period is kept for them, and no more is asked than the window can deliver.

    Outages and availability are known in advance (scheduled). The window's row asks
    ``required + after``: the hours after the window can deliver ``after`` less than their
    contract, so the window may use only the downtime budget they leave. Where the period's
    unavoidable shortfall exceeds its budget (the SLA cannot be met), it asks for every hour the
    window can run instead, ``contract x hours - unavoidable in the window``: no curtailment by
    choice in that period. A whole horizon (nothing after, nothing before) asks
    ``min(availability x contract x hours, contract x hours - unavoidable)``, and windows chained
    through :class:`~optimiser.model.State` meet it.

    Parameters
    ----------
    window
        The model's window.
    fleet
        A GPU fleet.
    required
        The firm energy each period's row asks of the window, as the SLA has it. [MWh]
    hours_in_window
        The window's hours in each period. [h]

    Returns
    -------
    numpy.ndarray
        The rows' right-hand sides. [MWh]
    """
    if fleet.availability_column is None and window.config.site.outage_column is None:
        return required
    in_window, in_period, after = gpu_unavoidable_mwh(window, fleet, fleet.billing_period)
    can = fleet.contract_mw * hours_in_window - in_window
    return np.where(in_period > 1e-9, np.minimum(required + after, can), required)


class Availability:
    """What availability and outages cost, in ``summary.json`` ``availability`` (no variables or
    rows: the fleets and the site apply the rules, see the module docstring).

    Reports the outage hours in the window, each fleet's energy unavailable
    (``(1 - share) x capacity`` summed, IT MWh), and each GPU fleet's billing periods whose
    unavoidable shortfall exceeds the downtime budget (``gpu_sla_breached``: period -> MWh
    beyond the budget).
    """

    name = "availability"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing to add: the fleets and the site read the rules."""

    @staticmethod
    def summary(reg: Registry, frame: Any) -> dict[str, Any]:
        """Outage hours, energy unavailable by fleet and SLA breaches. [h, MWh]"""
        w = reg.window
        out: dict[str, Any] = {"outage_hours": int(grid_outage(w).sum()), "unavailable_mwh": {}}
        for _, f in w.config.fleets():
            if f.availability_column is not None:
                out["unavailable_mwh"][f.name] = float(((1.0 - fleet_share(w, f)) * f.capacity_mw).sum())
        breached: dict[str, dict[str, float]] = {}
        for g in w.config.gpu:
            labels, _, hours = w.periods(g.billing_period)
            _, in_period, _ = gpu_unavoidable_mwh(w, g, g.billing_period)
            over = in_period - (1.0 - g.availability) * g.contract_mw * hours
            hit = {lab: float(v) for lab, v in zip(labels, over) if v > 1e-6}
            if hit:
                breached[g.name] = hit
        out["gpu_sla_breached"] = breached
        return {"availability": out}
