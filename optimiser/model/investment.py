"""Capacity as a decision: what each fleet's capacity costs, and the capacity the LP chooses.

A fleet (ASIC, GPU or flex) gives ``capacity_mw = { min = 0, max = 200 }`` to let the linear
program choose its IT capacity ``C_k`` with the hourly dispatch (docs/investment.md); a battery
gives ``power_mw = { min, max }`` and ``duration_h`` (its power ``P_b``, the energy
``duration_h x P_b`` chosen with it: :mod:`optimiser.model.battery`). Each MW of
capacity, chosen or fixed, is charged for the hours it stands:

    capital    = capex_usd_per_mw x annuity(discount_rate, lifetime_years) / 8760 per MW-hour
    fixed O&M  = fixed_om_usd_per_mw_year / 8760 per MW-hour

``annuity(r, n) = r / (1 - (1 + r)^-n)`` (``1 / n`` at ``r = 0``): the horizon bears its share of
the years, ``hours / 8760``, as PyPSA charges annualised capital costs over the snapshots'
weightings. The streams are ``<kind>_<name>_capital`` and ``<kind>_<name>_fixed_om`` (costs),
booked evenly to every hour.

The fleets' components call :func:`add_fleet_capacity` from their ``build``: it makes the
variable ``m.<kind>.capacity_mw[k]`` (bounds ``0 .. max``, and the row
``m.<kind>.capacity_min[k]`` when ``min > 0``) and registers the costs; the fleets then keep their
hourly power within it. :class:`Investment` adds the cooled-floor row ``m.investment.floor``
(the fleets' IT capacity, fixed plus chosen, within ``site.floor_mw``) and reports the
capacities, the capital, the NPV and the payback in ``summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.core as pyo

from .core import Lin, Registry, add_limit_rows

#: Hours in the year of the annuities. [h]
HOURS_PER_YEAR = 8760.0


def annuity_factor(rate: float, years: float) -> float:
    """The annuity that repays 1 $ over ``years`` at ``rate``: ``r / (1 - (1 + r)^-n)``.

    Parameters
    ----------
    rate
        Discount rate. [1/year]
    years
        Term. [years]

    Returns
    -------
    float
        Payment a year per dollar invested (``1 / years`` at ``rate = 0``). [1/year]
    """
    if years <= 0:
        raise ValueError(f"years must be positive, not {years}")
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def present_value_factor(rate: float, years: float) -> float:
    """What 1 $ a year for ``years`` years is worth today: ``(1 - (1 + r)^-n) / r`` (``n`` at
    ``r = 0``). [years]"""
    return 1.0 / annuity_factor(rate, years)


def capital_usd_per_mw_year(fleet: Any, rate: float | None) -> tuple[float, float]:
    """A fleet's yearly charges per MW: the capex annuity and the fixed O&M. [$/MW-year]"""
    capex = 0.0
    if fleet.capex_usd_per_mw > 0:
        capex = fleet.capex_usd_per_mw * annuity_factor(float(rate or 0.0), float(fleet.lifetime_years))
    return capex, float(fleet.fixed_om_usd_per_mw_year)


@dataclass
class CapacityEntry:
    """A fleet's capacity in the model: a column of ``var`` (a decision) or a number. [MW]"""

    kind: str
    name: str
    fleet: Any
    var: Any = None
    pos: int = -1
    fixed_mw: float = 0.0

    @property
    def decided(self) -> bool:
        """True when the LP chooses it."""
        return self.var is not None

    def lin(self, coef: Any, row: Any) -> Lin:
        """``coef x capacity`` on rows (or hours) ``row`` (a decision only)."""
        row = np.atleast_1d(np.asarray(row, dtype=np.int64))
        return Lin(self.var, np.full(len(row), self.pos), coef, row)

    def value(self, sol: Any) -> float:
        """The capacity in a solution. [MW]"""
        if not self.decided:
            return self.fixed_mw
        return float(sol.value(self.var)[self.pos])


#: the name of each kind's capacity variable on its block, when it is not ``capacity_mw``
CAPACITY_VAR = {"battery": "power_mw"}


def capacity_var(model: Any, kind: str) -> Any:
    """The variable of the capacities chosen for ``kind`` in a dispatch model: ``model.<kind>.capacity_mw``,
    ``model.battery.power_mw`` for batteries."""
    return getattr(getattr(model, kind), CAPACITY_VAR.get(kind, "capacity_mw"))


def add_fleet_capacity(block: Any, reg: Registry, kind: str, fleets: Any) -> dict[str, CapacityEntry]:
    """Register the capacities of one kind of fleet: the decisions' variable and rows, and every
    fleet's capital and fixed O&M streams. Call it from the fleets' ``build``.

    Parameters
    ----------
    block
        The fleets' block (``m.asic``): receives ``capacity_mw`` and ``capacity_min``.
    reg
        The registry.
    kind
        ``"asic"``, ``"gpu"``, ``"flex"`` or ``"battery"`` (the streams' prefix). A battery's
        variable is ``m.battery.power_mw[b]`` (:data:`CAPACITY_VAR`), its power.
    fleets
        The fleets' (batteries') tables.

    Returns
    -------
    dict
        Fleet name -> :class:`CapacityEntry`.
    """
    n = reg.n
    hours = np.arange(n)
    decided = [f for f in fleets if f.capacity_is_decision]
    var = None
    if decided:
        names = [f.name for f in decided]
        var = reg.add_var(block, CAPACITY_VAR.get(kind, "capacity_mw"), names,
                          np.array([f.capacity_range.max for f in decided]),
                          doc="Power of battery b, chosen (its energy: duration_h x it) [MW]" if kind == "battery"
                          else f"IT capacity of {kind} fleet k, chosen [MW]")
        low = [(j, f.capacity_range.min) for j, f in enumerate(decided) if f.capacity_range.min > 0]
        if low:
            pos = np.array([j for j, _ in low])
            reg.add_rows(block, "capacity_min", [names[j] for j, _ in low],
                         [Lin(var, pos, 1.0, np.arange(len(low)))], np.array([v for _, v in low]), None,
                         family="capacity_min", doc="Chosen capacity >= its min [MW]")
    out: dict[str, CapacityEntry] = {}
    rate = reg.window.config.discount_rate
    for f in fleets:
        if f.capacity_is_decision:
            e = CapacityEntry(kind, f.name, f, var, decided.index(f))
        else:
            e = CapacityEntry(kind, f.name, f, fixed_mw=f.fixed_capacity_mw)
        out[f.name] = e
        reg.capacities.append(e)
        for part, per_year in zip(("capital", "fixed_om"), capital_usd_per_mw_year(f, rate)):
            if per_year <= 0:
                continue
            per_h = per_year / HOURS_PER_YEAR
            if e.decided:
                reg.add_term(f"{kind}_{f.name}_{part}", "cost", [e.lin(per_h, hours)])
            else:
                reg.add_term(f"{kind}_{f.name}_{part}", "cost", hourly_constant=per_h * e.fixed_mw)
    return out


def capacity_rows(block: Any, reg: Registry, name: str, var: Any, entries: list[tuple[CapacityEntry, float]],
                  doc: str, offsets: list[float] | None = None) -> None:
    """Keep ``var[k, t] <= share x C_k - offset_k`` each hour, as the family ``<block>.<name>``
    (keys ``(k, t)``, :func:`~optimiser.model.core.add_limit_rows`), for chosen capacities ``C_k``.

    Parameters
    ----------
    entries
        ``(capacity, share)`` per fleet, whose ``var`` keys are ``(fleet name, hour)``.
    offsets
        MW taken off each fleet's limit (default none). [MW]
    """
    limits = {e.name: ([(reg.info(e.var), e.pos, float(share))], -(offsets[i] if offsets else 0.0))
              for i, (e, share) in enumerate(entries)}
    add_limit_rows(block, reg, name, var, limits, doc)


class Investment:
    """The site's side of the capacity decisions: the cooled floor, and what ``summary.json``
    says of capacities and capital (see the module docstring).

    ``m.investment.floor``: ``sum_k C_k <= site.floor_mw`` over every fleet's IT capacity
    (chosen or fixed; batteries are not IT), when the site gives ``floor_mw`` and some fleet
    capacity is chosen.
    """

    name = "investment"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing in pass one: the fleets register their capacities."""

    def link(self, m: Any, reg: Registry) -> None:
        floor = reg.window.config.site.floor_mw
        it = [e for e in reg.capacities if e.kind != "battery"]  # the cooled floor holds IT, not batteries
        decided = [e for e in it if e.decided]
        if floor is None or not decided:
            return
        m.investment = pyo.Block(doc="Capacity decisions")
        fixed = sum(e.fixed_mw for e in it if not e.decided)
        reg.add_rows(m.investment, "floor", ["floor"], [e.lin(1.0, 0) for e in decided], None, floor - fixed,
                     family="floor", doc="IT capacity of all fleets <= the cooled floor [MW]")

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        if family == "floor":
            return f"the cooled floor ({reg.window.config.site.floor_mw:g} MW of IT capacity, {ref})"
        if family == "capacity_min":
            return f"the least capacity of fleet '{key}' ({ref})"
        return None

    @staticmethod
    def results_summary(reg: Registry, frame: Any, sol: Any) -> dict[str, Any]:
        """``capacity_mw`` (by fleet name) and ``investment`` (see docs/investment.md)."""
        return investment_summary(reg, sol)


def _payback(capex: float, operating: float, life: float | None) -> float | None:
    """Simple payback, capex over the yearly operating profit [years]; ``None`` without capex, or
    when it does not pay back within the longest lifetime (``life``)."""
    if capex <= 0 or operating <= 0:
        return None
    years = capex / operating
    return years if life is None or years <= life else None


def investment_summary(reg: Registry, sol: Any) -> dict[str, Any]:
    """The capacities in a solution and what they cost.

    Returns ``{"capacity_mw": {fleet: MW}, "investment": {...}}`` (batteries by name: their power,
    and their energy in ``investment.fleets``); ``investment`` holds, by
    fleet, whether the capacity was chosen, its capex, its yearly annuity and fixed O&M, and for
    the site: the capex, the yearly operating profit before capital charges
    (``operating_profit_usd_per_year``: the objective plus the capital streams, per year of the
    horizon), the equivalent annual profit after them, the NPV over the longest lifetime (the
    horizon's average year repeated, shorter-lived assets renewed at the same cost) and the simple
    payback (capex over the yearly operating profit; ``None`` when it does not pay back within the
    longest lifetime).
    """
    cfg = reg.window.config
    rate = float(cfg.discount_rate or 0.0)
    years = reg.n / HOURS_PER_YEAR
    caps: dict[str, float] = {}
    fleets: dict[str, Any] = {}
    capex_total = annuity_total = fom_total = 0.0
    lifetimes = []
    for e in reg.capacities:
        if e.kind == "battery" and e.name in caps:  # a free battery named as a fleet: the fleet's
            continue
        mw = e.value(sol)
        mw = 0.0 if abs(mw) < 1e-9 else mw
        caps[e.name] = mw
        ann, fom = capital_usd_per_mw_year(e.fleet, rate)
        capex = e.fleet.capex_usd_per_mw * mw
        capex_total += capex
        annuity_total += ann * mw
        fom_total += fom * mw
        if capex > 0:
            lifetimes.append(float(e.fleet.lifetime_years))
        entry: dict[str, Any] = {"kind": e.kind, "decided": e.decided, "capacity_mw": mw, "capex_usd": capex,
                                 "annuity_usd_per_year": ann * mw, "fixed_om_usd_per_year": fom * mw}
        if e.decided:
            entry["min_mw"] = e.fleet.capacity_range.min
            entry["max_mw"] = e.fleet.capacity_range.max
        if e.kind == "battery":  # its energy, chosen with the power
            entry["energy_mwh"] = (e.fleet.duration_h * mw if e.decided else float(e.fleet.energy_mwh))
        if e.kind == "gpu":
            entry["contract_mw"] = (e.fleet.contract_share * mw if e.fleet.contract_share is not None
                                    else float(e.fleet.contract_mw))
        fleets[e.name] = entry
    objective = float(sol.objective)
    eap = objective / years if years > 0 else 0.0  # equivalent annual profit, after capital charges
    operating = eap + annuity_total  # before the capex annuity, after fixed O&M
    life = max(lifetimes) if lifetimes else None
    inv: dict[str, Any] = {
        "discount_rate": cfg.discount_rate,
        "horizon_years": years,
        "fleets": fleets,
        "capex_usd": capex_total,
        "annuity_usd_per_year": annuity_total,
        "fixed_om_usd_per_year": fom_total,
        "operating_profit_usd_per_year": operating,
        "equivalent_annual_profit_usd": eap,
        "npv_years": life,
        "npv_usd": eap * present_value_factor(rate, life) if life else None,
        "payback_years": _payback(capex_total, operating, life),
    }
    return {"capacity_mw": caps, "investment": inv}
