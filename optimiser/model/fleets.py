"""Fleets: ASIC miners, GPU tenants and other flexible loads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from ..bitcoin import asic_revenue_usd_per_mwh, hashprice_usd_per_ph_day
from . import sla
from .availability import fleet_share, gpu_firm_limit_mw
from .core import Lin, ProductKeys, Registry, add_capacity_rows
from .investment import add_fleet_capacity, capacity_rows


def _keys(names: list[str], n: int) -> "ProductKeys":
    """The keys ``(name, hour)`` of a fleet variable, without making the tuples."""
    return ProductKeys(names, n)


class AsicFleets:
    """ASIC fleets: ``m.asic.power[k, t]`` IT MW, paid the expected block reward per hash.

    Registers, per fleet ``k``: its draw ``pue_k * power`` on the balance; revenue
    ``asic_<k>_mining`` (before the pool fee); costs ``asic_<k>_pool_fee`` and ``asic_<k>_om``.

    Parameters
    ----------
    capacity
        Fleets whose capacity is a model expression instead of ``capacity_mw``: ``{name:
        fn(m)}``, ``fn`` returning a linear Pyomo expression (e.g. a capacity decision another
        component made); ``m.asic.capacity[k, t]`` then keeps ``power <= fn(m)``. [MW]
    """

    name = "asic"

    def __init__(self, capacity: dict[str, Any] | None = None):
        self.capacity = dict(capacity or {})

    def link(self, m: Any, reg: Registry) -> None:
        """Rows for capacities given as model expressions (see ``capacity``)."""
        if self.capacity:
            add_capacity_rows(m, reg, m.asic, m.asic.power, [f.name for f in reg.window.config.asic], self.capacity)

    def build(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        fleets = sc.config.asic
        n = reg.n
        d = sc.data
        D, S, F, P = (d[c].to_numpy(float) for c in ("difficulty", "subsidy_btc", "fees_btc_per_block", "btc_usd"))
        self.hashprice = hashprice_usd_per_ph_day(D, S, F, P)
        m.asic = pyo.Block(doc="ASIC fleets")
        m.asic.K = pyo.Set(initialize=[f.name for f in fleets], ordered=True)
        # a capacity given as a model expression is not scaled by the availability column
        caps = [np.full(n, np.inf) if f.name in self.capacity else f.capacity_mw * fleet_share(sc, f) for f in fleets]
        power = reg.add_var(m.asic, "power", _keys([f.name for f in fleets], n),
                            np.concatenate(caps) if caps else np.zeros(0),
                            doc="IT power of ASIC fleet k in hour t [MW]")
        chosen = add_fleet_capacity(m.asic, reg, "asic", fleets)
        capacity_rows(m.asic, reg, "within_capacity", power,
                      [(chosen[f.name], 1.0) for f in fleets if f.capacity_is_decision and f.name not in self.capacity],
                      doc="IT power <= the capacity chosen [MW]")
        hours = np.arange(n)
        self.revenue_usd_per_mwh: dict[str, np.ndarray] = {}
        for i, f in enumerate(fleets):
            pos = i * n + hours
            gross = asic_revenue_usd_per_mwh(f.efficiency_j_per_th, D, S, F, P)
            self.revenue_usd_per_mwh[f.name] = gross * (1 - f.pool_fee)
            reg.add_load("asic", f.name, Lin(power, pos, f.pue, hours))
            reg.add_term(f"asic_{f.name}_mining", "revenue", [Lin(power, pos, gross, hours)])
            if f.pool_fee:
                reg.add_term(f"asic_{f.name}_pool_fee", "cost", [Lin(power, pos, gross * f.pool_fee, hours)])
            if f.om_usd_per_mwh:
                reg.add_term(f"asic_{f.name}_om", "cost", [Lin(power, pos, f.om_usd_per_mwh, hours)])

        def report(sol: Any) -> dict[str, np.ndarray]:
            x = sol.value(power).reshape(len(fleets), n)
            cols = {"hashprice_usd_per_ph_day": self.hashprice}
            cols.update({f"asic_{f.name}_mw": x[i] for i, f in enumerate(fleets)})
            return cols

        reg.add_reporter(report)

    @staticmethod
    def energy(reg: Registry, frame: Any) -> dict[str, float]:
        """Energy by use: each fleet's IT energy. [MWh]"""
        return {f"asic_{f.name}": float(frame[f"asic_{f.name}_mw"].sum()) for f in reg.window.config.asic}


class GpuFleets:
    """GPU tenants: ``m.gpu.firm[g, t]`` (up to the contract) and ``m.gpu.spot[g, t]`` (above it).

    The contract pays ``contract_usd_per_mw_per_h * contract_mw`` every hour; the tenant pays
    ``power_passthrough_usd_per_mwh`` for each MWh its fleet draws at the meter,
    ``pue * (firm + spot)`` (revenue ``gpu_<g>_passthrough``); each MWh of firm
    shortfall owes ``sla_credit_usd_per_mwh``; ``m.gpu.sla[g, period]`` keeps delivered firm
    energy at least ``availability * contract_mw * hours(period)`` in each billing period.
    With ``availability_basis = "time"`` the SLA counts hours delivering the whole contract
    instead (``m.gpu.up[g, t]``, ``m.gpu.sla_hours[g, period]``); ``sla_credit_tiers`` price
    availability below the SLA (``m.gpu.tier``): both make the model a MIP
    (:mod:`optimiser.model.sla`).
    Spot load is interruptible (it may back reserves when ``"gpu"`` is eligible); firm is not.
    """

    name = "gpu"

    def build(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        fleets = sc.config.gpu
        n = reg.n
        names = [g.name for g in fleets]
        m.gpu = pyo.Block(doc="GPU fleets")
        m.gpu.G = pyo.Set(initialize=names, ordered=True)
        # each hour's machines (availability_column) limit firm power, then spot above it
        firm_ub = [gpu_firm_limit_mw(sc, g) for g in fleets]
        spot_ub = [fleet_share(sc, g) * g.capacity_mw - f for g, f in zip(fleets, firm_ub)]
        firm = reg.add_var(m.gpu, "firm", _keys(names, n), np.concatenate(firm_ub) if fleets else np.zeros(0),
                           doc="Firm (contracted) IT power of GPU fleet g in hour t [MW]")
        spot = reg.add_var(m.gpu, "spot", _keys(names, n), np.concatenate(spot_ub) if fleets else np.zeros(0),
                           doc="IT power above contract, sold at the spot price [MW]")
        hours = np.arange(n)
        # chosen capacities: firm <= share x C (a contract that scales) and spot <= C - contract
        chosen = add_fleet_capacity(m.gpu, reg, "gpu", fleets)
        capacity_rows(m.gpu, reg, "firm_within_contract", firm,
                      [(chosen[g.name], g.contract_share) for g in fleets if g.contract_scales],
                      doc="Firm IT power <= the contract, a share of the capacity chosen [MW]")
        spot_rows = [g for g in fleets if g.capacity_is_decision]
        capacity_rows(m.gpu, reg, "spot_within_capacity", spot,
                      [(chosen[g.name], 1.0 - g.contract_share if g.contract_scales else 1.0) for g in spot_rows],
                      offsets=[0.0 if g.contract_scales else float(g.contract_mw) for g in spot_rows],
                      doc="Spot IT power <= the capacity chosen less the contract [MW]")
        for i, g in enumerate(fleets):
            pos = i * n + hours
            reg.add_load("gpu_firm", g.name, Lin(firm, pos, g.pue, hours))
            reg.add_load("gpu", g.name, Lin(spot, pos, g.pue, hours))
            if g.contract_scales:  # the contract is a share of the capacity chosen
                reg.add_term(f"gpu_{g.name}_contract", "revenue",
                             [chosen[g.name].lin(g.contract_usd_per_mw_per_h * g.contract_share, hours)])
            else:
                reg.add_term(f"gpu_{g.name}_contract", "revenue",
                             hourly_constant=g.contract_usd_per_mw_per_h * g.contract_mw)
            spot_price = sc.series(g.spot_usd_per_mwh)
            if np.any(spot_price != 0):
                reg.add_term(f"gpu_{g.name}_spot", "revenue", [Lin(spot, pos, spot_price, hours)])
            passthrough = g.pue * sc.series(g.power_passthrough_usd_per_mwh)  # per IT MWh: its draw at the meter
            if np.any(passthrough != 0):
                reg.add_term(f"gpu_{g.name}_passthrough", "revenue",
                             [Lin(firm, pos, passthrough, hours), Lin(spot, pos, passthrough, hours)])
            if g.sla_credit_usd_per_mwh and g.contract_scales:
                reg.add_term(f"gpu_{g.name}_sla_credit", "cost",
                             [Lin(firm, pos, -g.sla_credit_usd_per_mwh, hours),
                              chosen[g.name].lin(g.sla_credit_usd_per_mwh * g.contract_share, hours)])
            elif g.sla_credit_usd_per_mwh:
                reg.add_term(f"gpu_{g.name}_sla_credit", "cost", [Lin(firm, pos, -g.sla_credit_usd_per_mwh, hours)],
                             hourly_constant=g.sla_credit_usd_per_mwh * g.contract_mw)
            if g.om_usd_per_mwh:
                reg.add_term(f"gpu_{g.name}_om", "cost", [Lin(firm, pos, g.om_usd_per_mwh, hours),
                                                        Lin(spot, pos, g.om_usd_per_mwh, hours)])
        # the SLA rows (energy or time basis) and the credit tiers: optimiser/model/sla.py
        sla.add_sla(m, reg, firm, chosen)

        def report(sol: Any) -> dict[str, np.ndarray]:
            xf = sol.value(firm).reshape(len(fleets), n)
            xs = sol.value(spot).reshape(len(fleets), n)
            cols = {}
            for i, g in enumerate(fleets):
                cols[f"gpu_{g.name}_firm_mw"] = xf[i]
                cols[f"gpu_{g.name}_spot_mw"] = xs[i]
                cols[f"gpu_{g.name}_shortfall_mw"] = np.maximum(contract_mw(g, chosen[g.name], sol) - xf[i], 0.0)
            return cols

        reg.add_reporter(report)

    @staticmethod
    def handover(reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: firm energy short of contract [MWh] and, on the
        time basis, hours short of the whole contract [h], so far, by ``(fleet, billing period)``."""
        return sla.handover(reg, res)

    @staticmethod
    def energy(reg: Registry, frame: Any) -> dict[str, float]:
        """Energy by use: each fleet's firm and spot IT energy. [MWh]"""
        return {f"gpu_{g.name}_{part}": float(frame[f"gpu_{g.name}_{part}_mw"].sum())
                for g in reg.window.config.gpu for part in ("firm", "spot")}

    @staticmethod
    def summary(reg: Registry, frame: Any) -> dict[str, Any]:
        """Availability achieved over the window and by billing period, by fleet, on each fleet's
        basis; with credit tiers, the credit share owed by period. [-]"""
        return sla.summary(reg, frame)

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        return sla.describe(reg, family, key, ref, hour_text)


def contract_mw(g: Any, capacity: Any, sol: Any) -> float:
    """A GPU fleet's contract in a solution: ``contract_share x`` the capacity chosen when it
    scales with it, else ``contract_mw``. [MW]"""
    if g.contract_scales:
        return g.contract_share * capacity.value(sol)
    return float(g.contract_mw)


def billing_periods(local: Any, period: str) -> tuple[list[str], np.ndarray]:
    """Label each hour with its billing period in the site timezone.

    Returns
    -------
    labels
        The periods in order (``"2025-01"`` for months, ``"2025"`` for years, ``"horizon"``).
    period_of_hour
        For each hour, the position of its period in ``labels``.
    """
    if period == "horizon":
        return ["horizon"], np.zeros(len(local), dtype=np.int64)
    if period == "year":
        code = np.asarray(local.year)
        fmt = lambda c: f"{c:04d}"  # noqa: E731
    else:
        code = np.asarray(local.year) * 100 + np.asarray(local.month)
        fmt = lambda c: f"{c // 100:04d}-{c % 100:02d}"  # noqa: E731
    uniq, inv = np.unique(code, return_inverse=True)
    return [fmt(int(c)) for c in uniq], inv.astype(np.int64)


class FlexLoads:
    """Other interruptible loads: ``m.flex.power[f, t]`` IT MW earning ``revenue_usd_per_mwh``."""

    name = "flex"

    def build(self, m: Any, reg: Registry) -> None:
        sc = reg.scenario
        fleets = sc.config.flex
        n = reg.n
        m.flex = pyo.Block(doc="Flexible loads")
        m.flex.F = pyo.Set(initialize=[f.name for f in fleets], ordered=True)
        power = reg.add_var(m.flex, "power", _keys([f.name for f in fleets], n),
                            np.concatenate([f.capacity_mw * fleet_share(sc, f) for f in fleets]) if fleets
                            else np.zeros(0), doc="IT power of flex load f [MW]")
        chosen = add_fleet_capacity(m.flex, reg, "flex", fleets)
        capacity_rows(m.flex, reg, "within_capacity", power,
                      [(chosen[f.name], 1.0) for f in fleets if f.capacity_is_decision],
                      doc="IT power <= the capacity chosen [MW]")
        hours = np.arange(n)
        for i, f in enumerate(fleets):
            pos = i * n + hours
            reg.add_load("flex", f.name, Lin(power, pos, f.pue, hours))
            reg.add_term(f"flex_{f.name}", "revenue", [Lin(power, pos, sc.series(f.revenue_usd_per_mwh), hours)])
            if f.om_usd_per_mwh:
                reg.add_term(f"flex_{f.name}_om", "cost", [Lin(power, pos, f.om_usd_per_mwh, hours)])

        def report(sol: Any) -> dict[str, np.ndarray]:
            x = sol.value(power).reshape(len(fleets), n)
            return {f"flex_{f.name}_mw": x[i] for i, f in enumerate(fleets)}

        reg.add_reporter(report)

    @staticmethod
    def energy(reg: Registry, frame: Any) -> dict[str, float]:
        """Energy by use: each load's IT energy. [MWh]"""
        return {f"flex_{f.name}": float(frame[f"flex_{f.name}_mw"].sum()) for f in reg.window.config.flex}
