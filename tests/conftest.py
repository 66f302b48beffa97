"""Shared fixtures: paths, the data folder, one solve of each full-year scenario, and the
property checks that every solved year must pass (used by test_year.py and test_realdata.py).

The solves are session-scoped: the default year is solved once however many tests read it.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.bitcoin import asic_revenue_usd_per_mwh, hashprice_usd_per_ph_day
from optimiser.model.fleets import billing_periods
from optimiser.scenario import parse_timestamp

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example"

#: Absolute tolerance on MW quantities (HiGHS's feasibility tolerance is 1e-7). [MW]
TOL_MW = 1e-6


@pytest.fixture(scope="session")
def example_dir() -> Path:
    """The default scenario folder (never modified: copy it to break it)."""
    return EXAMPLE


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real-data folder ($DISPATCH_DATA or <repo>/../shared/data); skip if absent."""
    from optimiser.realdata import default_data_dir

    d = default_data_dir()
    if not (d / "ercot_rtm_spp_hourly_HB_WEST.csv").is_file():
        pytest.skip(f"real data not found in {d} (set DISPATCH_DATA)")
    return d


def _solve(sc: optimiser.Scenario) -> tuple[optimiser.Scenario, Any, optimiser.Results]:
    m = optimiser.build(sc)
    res = optimiser.solve(m, load_solution=False)
    return sc, m, res


@pytest.fixture(scope="session")
def example_solved() -> tuple[optimiser.Scenario, Any, optimiser.Results]:
    """The default scenario solved once: ``(scenario, model, results)``. Do not edit the model."""
    return _solve(optimiser.load_scenario(EXAMPLE))


@pytest.fixture(scope="session")
def ercot_solved(data_dir: Path) -> tuple[optimiser.Scenario, Any, optimiser.Results]:
    """The 2024 ERCOT real-data scenario solved once: ``(scenario, model, results)``."""
    from optimiser.realdata import ercot_2024_scenario

    return _solve(ercot_2024_scenario(data_dir))


# ------------------------------------------------------------------------------------------------
# Property checks on a solved scenario. Each takes (scenario, model, results) and asserts.
# ------------------------------------------------------------------------------------------------


def _load_by_fleet(sc: optimiser.Scenario, d: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each fleet's draw at the meter, pue x IT power, from the dispatch columns. [MW]"""
    cfg = sc.config
    out = {}
    for f in cfg.asic:
        out[f.name] = f.pue * d[f"asic_{f.name}_mw"].to_numpy()
    for g in cfg.gpu:
        out[g.name] = g.pue * (d[f"gpu_{g.name}_firm_mw"].to_numpy() + d[f"gpu_{g.name}_spot_mw"].to_numpy())
    for f in cfg.flex:
        out[f.name] = f.pue * d[f"flex_{f.name}_mw"].to_numpy()
    return out


def check_balance(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """load_mw = sum of pue x fleet columns, and load + export - import = PPA volume, each hour."""
    d = res.dispatch
    load = sum(_load_by_fleet(sc, d).values())
    np.testing.assert_allclose(d["load_mw"].to_numpy(), load, rtol=0, atol=TOL_MW)
    lhs = d["load_mw"] + d["export_mw"] - d["import_mw"]
    np.testing.assert_allclose(lhs.to_numpy(), sc.config.ppa_mw, rtol=0, atol=TOL_MW)


def check_bounds(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """Every column within its bounds; reserves within max_mw and within the eligible load."""
    d, cfg, tol = res.dispatch, sc.config, TOL_MW
    assert (d.filter(regex="_mw$").to_numpy() >= -tol).all(), "a MW column is negative"
    for f in cfg.asic:
        assert d[f"asic_{f.name}_mw"].max() <= f.capacity_mw + tol
    for f in cfg.flex:
        assert d[f"flex_{f.name}_mw"].max() <= f.capacity_mw + tol
    for g in cfg.gpu:
        firm, spot = d[f"gpu_{g.name}_firm_mw"], d[f"gpu_{g.name}_spot_mw"]
        assert firm.max() <= g.contract_mw + tol
        assert spot.max() <= g.capacity_mw - g.contract_mw + tol
        assert (firm + spot).max() <= g.capacity_mw + tol
        np.testing.assert_allclose(d[f"gpu_{g.name}_shortfall_mw"], g.contract_mw - firm, atol=tol)
    assert d["import_mw"].max() <= cfg.site.import_mw + tol
    assert d["export_mw"].max() <= cfg.export_mw + tol
    # Eligible load: "asic"/"flex" fleets whole, "gpu" fleets' spot load only (firm is sold).
    eligible: dict[str, np.ndarray] = {
        "asic": sum((f.pue * d[f"asic_{f.name}_mw"].to_numpy() for f in cfg.asic), np.zeros(len(d))),
        "flex": sum((f.pue * d[f"flex_{f.name}_mw"].to_numpy() for f in cfg.flex), np.zeros(len(d))),
        "gpu": sum((g.pue * d[f"gpu_{g.name}_spot_mw"].to_numpy() for g in cfg.gpu), np.zeros(len(d))),
    }
    total = np.zeros(len(d))
    for r in cfg.reserve:
        x = d[f"reserve_{r.product}_mw"].to_numpy()
        total += x
        assert x.max() <= r.max_mw + tol
        backing = sum(eligible[k] for k in set(r.eligible))
        assert (x <= backing + tol).all(), f"reserve {r.product} above its eligible load"
    if cfg.reserve:
        any_kind = sum(eligible[k] for k in {k for r in cfg.reserve for k in r.eligible})
        assert (total <= any_kind + tol).all(), "reserves together above the eligible load"


def check_import_export(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """Import and export never both > 0 in an hour, in the report and in the LP's own solution.

    With a positive energy adder, importing and exporting at once loses the adder on every MW,
    so the optimum never does it; the reported columns are the net of the raw ones.
    """
    d = res.dispatch
    assert not ((d["import_mw"] > 0) & (d["export_mw"] > 0)).any()
    imp = res.solution.value(m.site.grid_import)
    exp = res.solution.value(m.site.grid_export)
    np.testing.assert_allclose(d["import_mw"] - d["export_mw"], imp - exp, atol=TOL_MW)
    if sc.config.site.energy_adder_usd_per_mwh > 0:
        assert not ((imp > TOL_MW) & (exp > TOL_MW)).any()


def check_sla(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """Delivered firm energy >= availability x contract x hours in each billing period."""
    d = res.dispatch
    local = sc.local_timestamps()
    for g in sc.config.gpu:
        labels, period = billing_periods(local, g.billing_period)
        if g.billing_period == "month":  # the labels are the local calendar months
            assert labels == sorted({f"{t.year:04d}-{t.month:02d}" for t in local})
        firm = d[f"gpu_{g.name}_firm_mw"].to_numpy()
        delivered = np.bincount(period, weights=firm, minlength=len(labels))
        need = g.availability * g.contract_mw * np.bincount(period, minlength=len(labels))
        assert (delivered >= need - 1e-6 * need.max()).all(), dict(zip(labels, delivered - need))
        reported = res.summary["gpu_availability_by_period"][g.name]
        assert list(reported) == labels
        assert min(reported.values()) >= g.availability - 1e-9


def metered_from_dispatch(sc: optimiser.Scenario, d: pd.DataFrame) -> np.ndarray:
    """The draw the meter bills (CONTRACT.md section 3): ``load_mw`` under load metering (less
    battery discharge, at least 0), ``import_mw`` under net metering. [MW]"""
    if sc.config.site.metering == "net":
        return d["import_mw"].to_numpy()
    load = d["load_mw"].to_numpy().copy()
    for b in sc.config.battery:
        load -= d[f"battery_{b.name}_discharge_mw"].to_numpy()
    return np.maximum(load, 0.0)


def month_share(sc: optimiser.Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Each hour's billing month (position) and each month's share: its hours in the horizon over
    the hours of the calendar month in the site timezone (a pandas hourly range over it). [-]"""
    labels, month = billing_periods(sc.local_timestamps(), "month")
    tz = sc.config.timezone
    whole = np.array([len(pd.date_range(pd.Timestamp(f"{lab}-01", tz=tz),
                                        pd.Timestamp(f"{lab}-01", tz=tz) + pd.offsets.MonthBegin(1),
                                        freq="h", inclusive="left")) for lab in labels])
    return month, np.bincount(month, minlength=len(labels)) / whole


def coincident_rates(sc: optimiser.Scenario) -> np.ndarray:
    """The coincident-peak rate on each hour: usd_per_mw_year / n_y for each listed interval in
    it, n_y the intervals listed in its calendar year (site timezone). [$/MW]"""
    cp = sc.config.coincident_peak
    rate = np.zeros(sc.hours)
    stamps = [parse_timestamp(s) for s in cp.intervals]
    years = [t.tz_convert(sc.config.timezone).year for t in stamps]
    for t, y in zip(stamps, years):
        if t in sc.timestamps:
            rate[sc.timestamps.get_loc(t)] += cp.usd_per_mw_year / years.count(y)
    return rate


def objective_from_dispatch(sc: optimiser.Scenario, d: pd.DataFrame) -> dict[str, float]:
    """Every term of the contract's objective, recomputed from the inputs and the dispatch. [$]"""
    cfg, data, n = sc.config, sc.data, len(d)
    D, S, F, P = (data[c].to_numpy(float) for c in ("difficulty", "subsidy_btc", "fees_btc_per_block", "btc_usd")) \
        if cfg.asic else (None,) * 4
    price = data["price_usd_per_mwh"].to_numpy(float)
    terms: dict[str, float] = {}
    for f in cfg.asic:
        x = d[f"asic_{f.name}_mw"].to_numpy()
        r = asic_revenue_usd_per_mwh(f.efficiency_j_per_th, D, S, F, P) * (1 - f.pool_fee)
        terms[f"asic_{f.name}"] = float(((r - f.om_usd_per_mwh) * x).sum())
    for g in cfg.gpu:
        firm, spot = d[f"gpu_{g.name}_firm_mw"].to_numpy(), d[f"gpu_{g.name}_spot_mw"].to_numpy()
        terms[f"gpu_{g.name}"] = float(
            g.contract_usd_per_mw_per_h * g.contract_mw * n
            - g.sla_credit_usd_per_mwh * (g.contract_mw - firm).sum()
            + (sc.series(g.spot_usd_per_mwh) * spot).sum()
            - g.om_usd_per_mwh * (firm + spot).sum()
            + (sc.series(g.power_passthrough_usd_per_mwh) * g.pue * (firm + spot)).sum()
        )
    for f in cfg.flex:
        x = d[f"flex_{f.name}_mw"].to_numpy()
        terms[f"flex_{f.name}"] = float(((sc.series(f.revenue_usd_per_mwh) - f.om_usd_per_mwh) * x).sum())
    for r in cfg.reserve:
        terms[f"reserve_{r.product}"] = float((sc.series(r.price_column) * d[f"reserve_{r.product}_mw"]).sum())
    imp, exp = d["import_mw"].to_numpy(), d["export_mw"].to_numpy()
    metered = metered_from_dispatch(sc, d)
    terms["energy"] = float((price * exp).sum() - (price * imp).sum())
    terms["energy_adder"] = -cfg.site.energy_adder_usd_per_mwh * float(metered.sum())
    terms["ppa"] = -(cfg.ppa.price_usd_per_mwh * cfg.ppa.volume_mw * n if cfg.ppa else 0.0)
    if cfg.demand_charge is not None:
        month, share = month_share(sc)
        peaks = pd.Series(metered).groupby(month).max().to_numpy()
        terms["demand_charge"] = -cfg.demand_charge.usd_per_mw_month * float((share * peaks).sum())
    if cfg.coincident_peak is not None:
        terms["coincident_peak"] = -float((coincident_rates(sc) * metered).sum())
    return terms


def check_objective(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """revenue - cost = objective = sum(profit_usd) = the contract's objective recomputed."""
    s = res.summary
    obj = s["objective_usd"]
    assert obj == pytest.approx(sum(s["revenue_usd"].values()) - sum(s["cost_usd"].values()), rel=1e-6)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(obj, rel=1e-6)
    assert sum(objective_from_dispatch(sc, res.dispatch).values()) == pytest.approx(obj, rel=1e-6)
    assert all(v >= 0 for v in s["revenue_usd"].values()) and all(v >= -1e-6 for v in s["cost_usd"].values())


def check_hashprice(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """The hashprice column is 86400e15 / (D 2^32) (S + F) P, from the scenario's inputs."""
    data = sc.data
    expect = 86400e15 / (data["difficulty"] * 2.0**32) * (data["subsidy_btc"] + data["fees_btc_per_block"]) \
        * data["btc_usd"]
    np.testing.assert_allclose(res.dispatch["hashprice_usd_per_ph_day"], expect, rtol=1e-12)
    np.testing.assert_allclose(
        hashprice_usd_per_ph_day(*(data[c].to_numpy() for c in ("difficulty", "subsidy_btc",
                                                                 "fees_btc_per_block", "btc_usd"))),
        expect, rtol=1e-12)


def check_duals(sc: optimiser.Scenario, m: Any, res: optimiser.Results) -> None:
    """The balance dual (marginal value of one more MW at the site, lambda) has the right sign.

    The balance reads load + export - import = PPA, so lambda = d(objective)/d(PPA volume). From
    the reduced costs of the two grid columns (export earns p; import costs p + adder, plus the
    coincident-peak rate cp in a 4CP hour, plus any demand-charge shadow price; under load
    metering the adder and cp bill the load, not the import, and drop out):

    * export < export_mw  =>  lambda >= p      (the extra MW could be sold)
    * export > 0          =>  lambda <= p      (selling one MW less is always possible)
    * import > 0          =>  lambda >= p + adder + cp   (one MW less bought saves at least that)

    So at a spike hour (p > 1000) with 0 < export < export_mw, lambda = p exactly; and
    lambda >= 0 whenever p >= 0 and export < export_mw, or p + adder >= 0 and import > 0.
    The other families: relaxing a ``>=`` row (SLA, peak) never helps (dual <= 0), relaxing a
    ``<=`` row (reserve backing) never hurts (dual >= 0), and a row with slack has dual 0.
    """
    d, cfg = res.dispatch, sc.config
    lam = d["marginal_value_usd_per_mwh"].to_numpy()
    p = d["price_usd_per_mwh"].to_numpy()
    exp, imp = d["export_mw"].to_numpy(), d["import_mw"].to_numpy()
    adder = cfg.site.energy_adder_usd_per_mwh
    cp = coincident_rates(sc) if cfg.coincident_peak is not None else np.zeros(len(d))
    if cfg.site.metering == "load":
        adder, cp = 0.0, np.zeros(len(d))
    tol = 1e-6 * np.maximum(1.0, np.abs(p))
    assert np.isfinite(lam).all()
    below_cap = exp < cfg.export_mw - TOL_MW
    assert (lam[below_cap] >= p[below_cap] - tol[below_cap]).all()
    assert (lam[exp > 0] <= p[exp > 0] + tol[exp > 0]).all()
    importing = imp > 0
    assert (lam[importing] >= (p + adder + cp)[importing] - tol[importing]).all()
    assert (lam[(p >= 0) & below_cap] >= 0).all()
    assert (lam[(p + adder >= 0) & importing] >= 0).all()

    spike = (p > 1000) & below_cap
    assert spike.sum() >= 1, "no spike hour below the export limit: the check would be empty"
    np.testing.assert_allclose(lam[spike], p[spike], rtol=0, atol=1e-6)

    duals = res.duals
    for name, series in duals.items():
        assert np.isfinite(series.to_numpy()).all(), name
    if "gpu.sla" in duals:
        y = duals["gpu.sla"]
        assert (y <= 1e-6).all()
        local = sc.local_timestamps()
        for g in cfg.gpu:
            labels, period = billing_periods(local, g.billing_period)
            firm = d[f"gpu_{g.name}_firm_mw"].to_numpy()
            slack = np.bincount(period, weights=firm, minlength=len(labels)) - g.availability * g.contract_mw * \
                np.bincount(period, minlength=len(labels))
            yg = y.loc[g.name].reindex(labels).to_numpy()
            assert (np.abs(yg[slack > 1e-3]) <= 1e-6).all(), "an SLA with slack has a non-zero dual"
    for name in ("reserves.backing", "reserves.total"):
        if name in duals:
            assert (duals[name] >= -1e-6).all(), name
    if "demand_charge.above_metered" in duals:
        assert (duals["demand_charge.above_metered"] <= 1e-6).all()


PROPERTY_CHECKS = {
    "balance": check_balance,
    "bounds": check_bounds,
    "import_export": check_import_export,
    "sla": check_sla,
    "objective": check_objective,
    "hashprice": check_hashprice,
    "duals": check_duals,
}


@pytest.fixture(scope="session")
def checks() -> types.SimpleNamespace:
    """The property checks, by name: ``checks.balance(scenario, model, results)``."""
    return types.SimpleNamespace(names=tuple(PROPERTY_CHECKS), **PROPERTY_CHECKS)
