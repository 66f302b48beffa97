"""GPU availability SLAs: the rows that keep each billing period's availability, on an energy or
a time basis, and the service-credit tiers that price availability below the SLA.

:class:`~optimiser.model.fleets.GpuFleets` calls :func:`add_sla` from its ``build`` and hands
its ``handover``, ``summary`` and ``describe`` to the functions here. See docs/model.md, "GPU
SLAs".

Two ways to count availability in a billing period ``p`` of ``H`` hours (its hours in the whole
horizon) for a fleet with contract ``c`` MW:

- ``availability_basis = "energy"`` (the default, the LP): firm energy delivered over
  ``c * H``. The downtime budget of a share ``a`` is ``(1 - a) * c * H`` MWh of shortfall.
- ``availability_basis = "time"`` (a MIP): hours in which the whole contract is delivered over
  ``H``. A binary ``up[g, t]`` may be 1 only when ``firm[g, t] >= c`` (``m.gpu.up_delivers``);
  the downtime budget of a share ``a`` is ``floor((1 - a) * H)`` whole hours (the model's
  resolution is an hour: 99.9 % of a 744-hour month leaves 0.744 h, so no whole hour).

With ``sla_credit_tiers`` (a MIP), a binary ``tier[g, p, below]`` per tier selects the tier the
period's availability falls into; the budget grows to the next tier's threshold (the last tier's
to the floor ``availability``) and the tier's credit, a share of the period's fee
``contract_usd_per_mw_per_h * c * H``, is owed. Downtime within the highest threshold's budget
owes nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .availability import sla_floor
from .core import Lin, Registry

#: Shortfall below this share of the contract still counts as the whole contract delivered in
#: an hour (solver tolerance), on the time basis. [-]
DOWN_TOL = 1e-6

#: Added before rounding a budget in hours down, so that 0.25 x 4 h gives 1 h, not 0.999... h. [h]
_ROUND_H = 1e-6


def budget_hours(share: float, hours: float) -> int:
    """Whole hours a period may be down while keeping an availability on the time basis.

    Parameters
    ----------
    share
        The availability to keep. [-]
    hours
        The period's hours in the horizon. [h]

    Returns
    -------
    int
        ``floor((1 - share) * hours)`` (0.25 x 4 h gives 1 h despite rounding). [h]
    """
    return int(math.floor((1.0 - share) * hours + _ROUND_H))


def budgets(g: Any, hours: float) -> tuple[float, list[float]]:
    """A fleet's downtime budgets for a period, in the units of its basis (MWh of firm shortfall
    on the energy basis, whole hours on the time basis).

    Parameters
    ----------
    g
        The fleet (:class:`~optimiser.scenario.GpuFleet`).
    hours
        The period's hours in the horizon. [h]

    Returns
    -------
    free
        Downtime owing no credit: the budget of the highest tier's threshold, or of the floor
        ``availability`` without tiers.
    tier_limits
        For each tier of :attr:`~optimiser.scenario.GpuFleet.tiers` (highest threshold first),
        the most downtime it covers: the budget of the next tier's threshold, the last tier's
        that of the floor.
    """
    shares = [t.below for t in g.tiers] + [g.availability]
    if g.availability_basis == "time":
        b = [float(budget_hours(s, hours)) for s in shares]
    else:
        b = [(1.0 - s) * g.contract_mw * hours for s in shares]
    return b[0], b[1:]


def tier_share(g: Any, down: float, hours: float) -> float:
    """The credit owed for a period's downtime, a share of the period's fee.

    Parameters
    ----------
    g
        The fleet (:class:`~optimiser.scenario.GpuFleet`).
    down
        Downtime in the period so far, in the units of :func:`budgets` (MWh or hours); a
        tolerance of 1e-6 (per MW of contract on the energy basis) absorbs solver noise.
    hours
        The period's hours in the horizon. [h]

    Returns
    -------
    float
        The credit of the lowest tier ``down`` reaches; 0 within the free budget or without
        tiers. [-]
    """
    if not g.tiers:
        return 0.0
    free, limits = budgets(g, hours)
    tol = 1e-6 * max(1.0, g.contract_mw) if g.availability_basis == "energy" else 1e-6
    share = 0.0
    for t, lo in zip(g.tiers, [free] + limits[:-1]):
        if down > lo + tol:
            share = t.credit
    return share


def _spent(reg: Registry, g: Any, labels: list[str]) -> np.ndarray:
    """Downtime earlier windows used, by period, in the units of the fleet's basis."""
    st = reg.window.state
    used = st.sla_down_hours if g.availability_basis == "time" else st.sla_shortfall_mwh
    return np.array([float(used.get((g.name, lab), 0.0)) for lab in labels])


def add_sla(m: Any, reg: Registry, firm: Any, chosen: dict[str, Any] | None = None) -> None:
    """Register the SLA of every GPU fleet on ``m.gpu`` (rows, binaries, credit streams).

    Per fleet ``g`` with a contract, for each billing period ``p`` the window touches (``n``
    hours of it in the window, ``H`` in the horizon, downtime ``s`` already used by earlier
    windows, ``F`` the free budget and ``L_k`` the tiers' limits from :func:`budgets`):

    - energy basis, ``m.gpu.sla[g, p]`` [MWh]:
      ``sum_t firm[g, t] + sum_k (L_k - F) tier[g, p, k] >= c n + s - F``;
    - time basis, ``m.gpu.up_delivers[g, t]``: ``firm[g, t] - c up[g, t] >= 0`` [MW] and
      ``m.gpu.sla_hours[g, p]`` [h]: ``sum_t up[g, t] + sum_k (L_k - F) tier[g, p, k] >= n + s - F``;
    - with tiers, ``m.gpu.tier_choice[g, p]``: ``sum_k tier[g, p, k] <= 1``, and the cost
      ``gpu_<g>_sla_credit``: ``sum_k (credit_k - paid) fee_p tier[g, p, k]`` booked to the
      period's last hour in the window, where ``paid`` is the share earlier windows already owe
      for the downtime ``s`` (a credit is owed once per period).

    Without tiers and with ``availability = 0`` there is no row: nothing is promised.

    Parameters
    ----------
    m
        The model; ``m.gpu`` (the fleets' block) receives the variables and rows.
    reg
        Its registry.
    firm
        ``m.gpu.firm``, registered with keys ``(fleet, hour)``. [MW]
    chosen
        Fleet name -> :class:`~optimiser.model.investment.CapacityEntry`. A fleet whose contract
        scales with a chosen capacity ``C`` (energy basis, no tiers) has the row
        ``sum_t firm[g, t] - share (n - (1 - a) H) C >= s``.
    """
    fleets = reg.window.config.gpu
    n = reg.n
    hours = np.arange(n)
    firm_vi = reg.info(firm)
    energy: dict[str, list] = {"keys": [], "lins": [], "rhs": []}
    timed: dict[str, list] = {"keys": [], "lins": [], "rhs": []}
    up_fleets = [g for g in fleets if g.contract_mw > 0 and g.availability_basis == "time"
                 and (g.availability > 0 or g.tiers)]
    up = None
    if up_fleets:
        names = [g.name for g in up_fleets]
        up = reg.add_var(m.gpu, "up", [(g, t) for g in names for t in range(n)], 1.0, integer=True,
                         doc="1 when GPU fleet g delivers its whole contract in hour t (time-basis SLA) [-]")
        lins = []
        for i, g in enumerate(up_fleets):
            rows = i * n + hours
            lins += [Lin(firm, firm_vi.position((g.name, 0)) + hours, 1.0, rows),
                     Lin(up, rows, -g.contract_mw, rows)]
        reg.add_rows(m.gpu, "up_delivers", [(g, t) for g in names for t in range(n)], lins, 0.0, None,
                     family="sla_up", doc="firm[g,t] >= contract x up[g,t]: an hour counts only if whole [MW]")
    tier_keys: list[tuple[str, str, float]] = []
    tier_of: list[tuple[Any, int, float, float, int]] = []  # (fleet, row of its rows, coefficient, fee, hour)
    tier_rows: list[tuple[Any, str, list[int]]] = []
    for g in fleets:
        if g.contract_mw <= 0 or not (g.availability > 0 or g.tiers):
            continue
        labels, period_of_hour, total = reg.window.periods(g.billing_period)
        counts = np.bincount(period_of_hour, minlength=len(labels))
        spent = _spent(reg, g, labels)
        target = timed if g.availability_basis == "time" else energy
        row0 = len(target["keys"])
        target["keys"] += [(g.name, lab) for lab in labels]
        if g.availability_basis == "time":
            i = up_fleets.index(g)
            target["lins"].append(Lin(up, i * n + hours, 1.0, row0 + period_of_hour))
            unit = 1.0
        else:
            target["lins"].append(Lin(firm, firm_vi.position((g.name, 0)) + hours, 1.0, row0 + period_of_hour))
            unit = g.contract_mw
        rhs = []
        for j, lab in enumerate(labels):
            free, limits = budgets(g, float(total[j]))
            rhs.append(unit * counts[j] + spent[j] - free)
            if g.tiers:
                paid = tier_share(g, spent[j], float(total[j]))
                fee = g.contract_usd_per_mw_per_h * g.contract_mw * float(total[j])
                last = int(np.flatnonzero(period_of_hour == j)[-1])
                mine = []
                for t, lim in zip(g.tiers, limits):
                    mine.append(len(tier_keys))
                    tier_keys.append((g.name, lab, t.below))
                    tier_of.append((g, row0 + j, lim - free, fee * max(0.0, t.credit - paid), last))
                tier_rows.append((g, lab, mine))
        if g.contract_scales:  # the contract is share x C: the rows' constant moves onto C
            assert chosen is not None
            per_mw = g.contract_share * (counts - (1.0 - g.availability) * np.asarray(total, float))
            target["lins"].append(chosen[g.name].lin(-per_mw, row0 + np.arange(len(labels))))
            rhs = list(spent)
        elif g.availability_basis == "energy" and not g.tiers:
            # outages and availability known in advance keep their share of the budget
            # (optimiser/model/availability.py)
            rhs = list(sla_floor(reg.window, g, np.array(rhs, float), counts))
        target["rhs"] += rhs
    tier = None
    if tier_keys:
        tier = reg.add_var(m.gpu, "tier", tier_keys, 1.0, integer=True,
                           doc="1 when GPU fleet g's availability in billing period p falls in the tier below "
                           "threshold k (owing its credit) [-]")
        pos = np.arange(len(tier_keys))
        for fam, basis in ((energy, "energy"), (timed, "time")):
            sel = [i for i, (g, *_rest) in enumerate(tier_of) if g.availability_basis == basis]
            if sel:
                fam["lins"].append(Lin(tier, pos[sel], [tier_of[i][2] for i in sel], [tier_of[i][1] for i in sel]))
        reg.add_rows(m.gpu, "tier_choice", [(g.name, lab) for g, lab, _ in tier_rows],
                     [Lin(tier, np.array(mine), 1.0, r) for r, (_, _, mine) in enumerate(tier_rows)], None, 1.0,
                     family="sla_tier", doc="at most one credit tier per fleet and billing period [-]")
        for g in dict.fromkeys(g for g, *_ in tier_of):
            sel = [i for i, e in enumerate(tier_of) if e[0] is g]
            reg.add_term(f"gpu_{g.name}_sla_credit", "cost",
                         [Lin(tier, pos[sel], [tier_of[i][3] for i in sel], [tier_of[i][4] for i in sel])])
    if energy["keys"]:
        reg.add_rows(m.gpu, "sla", energy["keys"], energy["lins"], np.array(energy["rhs"], float), None,
                     family="sla", doc="Firm energy >= contract x hours less the period's remaining downtime budget "
                     "(grown by the credit tier chosen) [MWh]")
    if timed["keys"]:
        reg.add_rows(m.gpu, "sla_hours", timed["keys"], timed["lins"], np.array(timed["rhs"], float), None,
                     family="sla_hours", doc="Hours delivering the whole contract >= hours less the period's remaining "
                     "downtime budget (grown by the credit tier chosen) [h]")


def down_hours(g: Any, frame: Any) -> np.ndarray:
    """Hours a fleet fails to deliver its whole contract (the time basis's downtime).

    Parameters
    ----------
    g
        The fleet (:class:`~optimiser.scenario.GpuFleet`).
    frame
        The dispatch, with column ``gpu_<name>_shortfall_mw``.

    Returns
    -------
    numpy.ndarray
        1.0 in each hour short by more than :data:`DOWN_TOL` of the contract, else 0.0. [h]
    """
    short = frame[f"gpu_{g.name}_shortfall_mw"].to_numpy()
    return (short > DOWN_TOL * max(1.0, g.contract_mw)).astype(float)


def handover(reg: Registry, res: Any) -> dict[str, Any]:
    """The state the next window inherits: firm energy short of contract [MWh] and, for fleets
    counting time, hours not delivering the whole contract [h], so far, by ``(fleet, period)``."""
    st = reg.window.state
    energy = dict(st.sla_shortfall_mwh)
    hours_down = dict(st.sla_down_hours)
    for g in reg.window.config.gpu:
        labels, per, _ = reg.window.periods(g.billing_period)
        short = np.bincount(per, weights=res.dispatch[f"gpu_{g.name}_shortfall_mw"].to_numpy(), minlength=len(labels))
        for lab, v in zip(labels, short):
            energy[(g.name, lab)] = energy.get((g.name, lab), 0.0) + float(v)
        if g.availability_basis == "time":
            down = np.bincount(per, weights=down_hours(g, res.dispatch), minlength=len(labels))
            for lab, v in zip(labels, down):
                hours_down[(g.name, lab)] = hours_down.get((g.name, lab), 0.0) + float(v)
    return {"sla_shortfall_mwh": energy, "sla_down_hours": hours_down}


def summary(reg: Registry, frame: Any) -> dict[str, Any]:
    """Availability achieved over the window and by billing period, on each fleet's basis [-];
    the basis by fleet; and, for fleets with credit tiers, the credit share owed by period (the
    downtime of earlier windows included) [-]."""
    availability: dict[str, float] = {}
    by_period: dict[str, dict[str, float]] = {}
    basis: dict[str, str] = {}
    credit: dict[str, dict[str, float]] = {}
    n = len(frame)
    for g in reg.window.config.gpu:
        basis[g.name] = g.availability_basis
        labels, per, total = reg.window.periods(g.billing_period)
        hours = np.bincount(per, minlength=len(labels))
        contract = g.contract_mw
        if g.contract_scales:  # the contract chosen: firm never exceeds it, so firm + shortfall
            contract = float((frame[f"gpu_{g.name}_firm_mw"] + frame[f"gpu_{g.name}_shortfall_mw"]).max())
        if contract <= 1e-9:
            availability[g.name] = 1.0
            by_period[g.name] = {lab: 1.0 for lab in labels}
            continue
        if g.availability_basis == "time":
            down = down_hours(g, frame)
            availability[g.name] = float(1.0 - down.sum() / n)
            down_p = np.bincount(per, weights=down, minlength=len(labels))
            by_period[g.name] = {lab: float(1.0 - d / h) for lab, d, h in zip(labels, down_p, hours)}
        else:
            firm = frame[f"gpu_{g.name}_firm_mw"].to_numpy()
            availability[g.name] = float(firm.sum() / (contract * n))
            delivered = np.bincount(per, weights=firm, minlength=len(labels))
            down_p = contract * hours - delivered
            by_period[g.name] = {lab: float(d / (contract * h)) for lab, d, h in zip(labels, delivered, hours)}
        if g.tiers:
            spent = _spent(reg, g, labels)
            credit[g.name] = {lab: tier_share(g, float(s + d), float(h))
                              for lab, s, d, h in zip(labels, spent, down_p, total)}
    out: dict[str, Any] = {"gpu_availability": availability, "gpu_availability_by_period": by_period,
                           "gpu_availability_basis": basis}
    if credit:
        out["gpu_sla_credit_share_by_period"] = credit
    return out


def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
    """An SLA row in words, for infeasibility messages."""
    if not (isinstance(key, tuple) and len(key) == 2):
        return None
    if family == "sla":
        return f"the SLA of GPU fleet '{key[0]}' in billing period {key[1]} ({ref})"
    if family == "sla_hours":
        return (f"the SLA of GPU fleet '{key[0]}' in billing period {key[1]}, counted in hours delivering the "
                f"whole contract ({ref})")
    if family == "sla_up":
        return f"GPU fleet '{key[0]}' delivering its whole contract in {hour_text(int(key[1]))} ({ref})"
    if family == "sla_tier":
        return f"the choice of one SLA credit tier of GPU fleet '{key[0]}' in billing period {key[1]} ({ref})"
    return None
