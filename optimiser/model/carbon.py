"""Carbon: the site's emissions from the grid's hourly carbon intensity, a carbon price and a cap.

The whole story of carbon is here (docs/operations.md, "Carbon"). From ``[carbon]``:

- **Emissions** of hour ``t`` are those of the power the site takes:
  ``E[t] = I[t] x import[t] + k x (ppa[t] - export[t])`` [kg], ``I`` the grid intensity of the
  ``basis`` (average or marginal, kg/MWh) and ``k`` the PPA's (``ppa_kg_per_mwh``, default 0):
  power sold back is taken from the PPA first, and the PPA power used on site carries its own
  intensity.
- **Price** (``price_usd_per_t``): cost ``carbon`` = ``price / 1000 x E[t]`` each hour.
- **Cap** (``cap_t`` per ``cap_period``): ``m.carbon.cap[period]``: the period's emissions in
  the window <= ``1000 x cap_t`` less what earlier windows emitted (``State.emissions_kg``). Its
  dual is the carbon price the cap implies ($ per kg; :attr:`optimiser.Results.duals`
  ``"carbon.cap"``).
- **Reporting** (``summary.json`` ``carbon``, columns ``carbon_emissions_kg`` and, with a
  marginal intensity, ``carbon_avoided_kg``): emissions on each intensity given; attributed to
  each use in proportion to its draw at the meter each hour (average intensity when given); per
  BTC mined and per GPU MWh (IT); and the emissions **avoided** by the power handed back, at the
  marginal intensity: ``M[t] x (usable[t] - load[t])``, ``usable`` being what the site could
  draw that hour (its fleets' available capacity at the meter, within the import limit plus the
  PPA, nothing in a grid outage).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from ..bitcoin import asic_revenue_usd_per_mwh
from .availability import fleet_share, grid_outage
from .core import Lin, Registry

KG_PER_T = 1000.0
"""Kilograms in a tonne. [kg/t]"""


def usable_mw(window: Any) -> np.ndarray:
    """What the site could draw in each hour: its fleets' available capacity at the meter, within
    the import limit plus the PPA; nothing in a grid outage. [MW]"""
    cfg = window.config
    fleets = sum((f.pue * f.capacity_mw * fleet_share(window, f) for _, f in cfg.fleets()), np.zeros(window.hours))
    supply = np.where(grid_outage(window), 0.0, cfg.site.import_mw + cfg.ppa_mw)
    return np.minimum(fleets, supply)


def use_draws_mw(config: Any, frame: Any) -> dict[str, np.ndarray]:
    """Each use's draw at the meter, hour by hour, from the columns of ``dispatch.csv``: ``asic``,
    ``gpu`` (firm and spot), ``flex`` (each fleet's IT power x its PUE) and ``battery``
    (charging). [MW]"""
    n = len(frame)
    out: dict[str, np.ndarray] = {}
    for kind, fleets, parts in (("asic", config.asic, ("",)), ("gpu", config.gpu, ("_firm", "_spot")),
                                ("flex", config.flex, ("",))):
        if fleets:
            out[kind] = sum((f.pue * frame[f"{kind}_{f.name}{p}_mw"].to_numpy(float) for f in fleets for p in parts),
                            np.zeros(n))
    if config.battery:
        out["battery"] = sum((frame[f"battery_{b.name}_charge_mw"].to_numpy(float) for b in config.battery),
                             np.zeros(n))
    return out


class Carbon:
    """Emissions, a carbon price and an emissions cap (see the module docstring).

    Registers cost ``carbon`` (with a price), rows ``m.carbon.cap[period]`` (with a cap),
    columns ``carbon_emissions_kg`` (on the ``basis`` intensity) and ``carbon_avoided_kg`` (with
    a marginal intensity), ``summary.json`` ``carbon``, and hands on ``State.emissions_kg``.
    """

    name = "carbon"

    def build(self, m: Any, reg: Registry) -> None:
        """Nothing before the site has made its import and export: see :meth:`link`."""

    def link(self, m: Any, reg: Registry) -> None:
        """The stream, the cap rows and the columns: they read the site's import and export."""
        w = reg.window
        cfg = w.config.carbon
        n = reg.n
        hours = np.arange(n)
        intensity = w.data[cfg.basis_column].to_numpy(float)
        k = cfg.ppa_kg_per_mwh
        ppa = np.asarray(reg.supply, float)  # the PPA delivered (none in a grid outage)
        imp, exp = m.site.grid_import, m.site.grid_export
        m.carbon = pyo.Block(doc="Carbon emissions")

        def lins(scale: float, row: np.ndarray) -> list[Lin]:
            out = [Lin(imp, hours, scale * intensity, row)]
            if k:
                out.append(Lin(exp, hours, -scale * k, row))
            return out

        if cfg.price_usd_per_t:
            price = cfg.price_usd_per_t / KG_PER_T
            reg.add_term("carbon", "cost", lins(price, hours), hourly_constant=price * k * ppa if k else None)
        if cfg.cap_t is not None:
            labels, period, _ = w.periods(cfg.cap_period)
            used = np.array([w.state.emissions_kg.get(lab, 0.0) for lab in labels])
            fixed = np.bincount(period, weights=k * ppa, minlength=len(labels))
            reg.add_rows(m.carbon, "cap", labels, lins(1.0, period), None, cfg.cap_t * KG_PER_T - used - fixed,
                         family="carbon_cap",
                         doc="emissions of the period in the window <= the cap less what was emitted before [kg]")
        marginal = w.data[cfg.marginal_column].to_numpy(float) if cfg.marginal_column is not None else None
        usable = usable_mw(w) if marginal is not None else None

        def report(sol: Any) -> dict[str, np.ndarray]:
            cols = {"carbon_emissions_kg": intensity * sol.value(imp) + k * (ppa - sol.value(exp))}
            if marginal is not None:
                load = np.zeros(n)
                for lin in reg.load_lins():
                    np.add.at(load, lin.row, lin.coef * sol.value(lin.var)[lin.pos])
                cols["carbon_avoided_kg"] = marginal * np.maximum(usable - load, 0.0)
            return cols

        reg.add_reporter(report)

    @staticmethod
    def summary(reg: Registry, frame: Any) -> dict[str, Any]:
        """``carbon``: emissions [t] on each intensity given and on the basis, by use, per BTC
        [kg/BTC] and per GPU MWh [kg/MWh], and the avoided emissions of the power handed back [t]."""
        w = reg.window
        cfg = w.config.carbon
        imp = frame["import_mw"].to_numpy(float)
        exp = frame["export_mw"].to_numpy(float)
        ppa_used = cfg.ppa_kg_per_mwh * (np.asarray(reg.supply, float) - exp)
        out: dict[str, Any] = {"basis": cfg.basis_in_force, "price_usd_per_t": cfg.price_usd_per_t,
                               "cap_t": cfg.cap_t, "cap_period": cfg.cap_period,
                               "emissions_t": float(frame["carbon_emissions_kg"].sum()) / KG_PER_T}
        hourly: dict[str, np.ndarray] = {}
        for kind in ("average", "marginal"):
            col = getattr(cfg, f"{kind}_column")
            if col is not None:
                hourly[kind] = w.data[col].to_numpy(float) * imp + ppa_used
                out[f"emissions_{kind}_t"] = float(hourly[kind].sum()) / KG_PER_T
        attributed = hourly.get("average", hourly.get("marginal"))
        draws = use_draws_mw(w.config, frame)
        total = sum(draws.values(), np.zeros(len(frame)))
        share = {u: np.divide(d, total, out=np.zeros_like(d), where=total > 1e-9) for u, d in draws.items()}
        by_use = {u: float((s * attributed).sum()) for u, s in share.items()}
        out["by_use_t"] = {u: v / KG_PER_T for u, v in by_use.items()}
        out["attributed_on"] = "average" if "average" in hourly else "marginal"
        if w.config.asic:
            d = w.data
            btc = sum((frame[f"asic_{f.name}_mw"].to_numpy(float) * asic_revenue_usd_per_mwh(
                f.efficiency_j_per_th, d["difficulty"].to_numpy(float), d["subsidy_btc"].to_numpy(float),
                d["fees_btc_per_block"].to_numpy(float), 1.0) for f in w.config.asic), np.zeros(len(frame)))
            mined = float(btc.sum())
            out["btc_mined"] = mined
            out["kg_per_btc"] = by_use["asic"] / mined if mined > 0 else None
        if w.config.gpu:
            gpu_mwh = float(sum((frame[f"gpu_{g.name}_{p}_mw"].sum() for g in w.config.gpu for p in ("firm", "spot")),
                                0.0))
            out["kg_per_gpu_mwh"] = by_use["gpu"] / gpu_mwh if gpu_mwh > 0 else None
        if "carbon_avoided_kg" in frame:
            marginal = w.data[cfg.marginal_column].to_numpy(float)
            avoided = frame["carbon_avoided_kg"].to_numpy(float)
            out["handed_back_mwh"] = float(np.divide(avoided, marginal, out=np.zeros_like(avoided),
                                                     where=marginal > 0).sum())
            out["avoided_t"] = float(avoided.sum()) / KG_PER_T
        return {"carbon": out}

    @staticmethod
    def handover(reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: emissions so far in each cap period. [kg]"""
        w = reg.window
        cfg = w.config.carbon
        out = dict(w.state.emissions_kg)
        labels, period, _ = w.periods(cfg.cap_period)
        emitted = np.bincount(period, weights=res.dispatch["carbon_emissions_kg"].to_numpy(float),
                              minlength=len(labels))
        for lab, v in zip(labels, emitted):
            out[lab] = max(0.0, out.get(lab, 0.0) + float(v))
        return {"emissions_kg": out}

    @staticmethod
    def describe(reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        if family == "carbon_cap":
            cap = reg.window.config.carbon.cap_t
            return f"the emissions cap of {cap:g} t CO2 in period {key} ({ref})"
        return None
