"""Tiny cases (1-4 hours), one per constraint family, whose optimum is derived by hand.

Every case fixes the ASIC revenue per MWh exactly by choosing the BTC price: with difficulty
D = 1e14, subsidy S and no fees, R = 3.6e21 / (e * D * 2**32) * S * P, so P = R e D 2**32 / (3.6e21 S).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.errors import InfeasibleError

D = 1e14


def btc_price_for(revenue_usd_per_mwh: float, efficiency: float, subsidy: float = 3.125) -> float:
    """The BTC price at which an ASIC of ``efficiency`` J/TH earns ``revenue`` $/MWh."""
    return revenue_usd_per_mwh * efficiency * D * 2**32 / (3.6e21 * subsidy)


def tiny(config: dict, price: list[float], start: str = "2025-01-01T00:00:00Z", btc_usd: float | None = None,
         subsidy: float | None = 3.125, **series: list[float]) -> optimiser.Scenario:
    """A scenario of len(price) hours from Python objects."""
    idx = pd.date_range(start, periods=len(price), freq="h", tz="UTC")
    data = pd.DataFrame({"price_usd_per_mwh": price}, index=idx)
    data["difficulty"] = D
    data["btc_usd"] = btc_usd if btc_usd is not None else btc_price_for(100.0, 20.0)
    data["fees_btc_per_block"] = 0.0
    if subsidy is not None:
        data["subsidy_btc"] = subsidy
    for k, v in series.items():
        data[k] = v
    cfg = {"name": "tiny", "timezone": "UTC", **config}
    return optimiser.from_config(cfg, data)


def solve(sc: optimiser.Scenario) -> optimiser.Results:
    return optimiser.solve(optimiser.build(sc))


def asic(name: str, mw: float, eff: float = 20.0, **kw) -> dict:
    return {"name": name, "capacity_mw": mw, "efficiency_j_per_th": eff, **kw}


def test_asic_merit_order_by_efficiency():
    """Import limit 10 MW, two fleets of 8 MW: A at 20 J/TH earns 100 $/MWh, B at 40 J/TH earns 50.

    Price 20: margins 80 and 30 per MWh. A runs 8 MW, B the remaining 2 MW:
    8*80 + 2*30 = 700 per hour, two hours: 1,400.
    """
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 8, 20.0), asic("b", 8, 40.0)]}, [20, 20])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(1400.0, abs=1e-6)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([8, 8])
    assert res.dispatch["asic_b_mw"].tolist() == pytest.approx([2, 2])
    assert res.summary["revenue_usd"]["asic_a_mining"] == pytest.approx(1600.0)
    assert res.summary["revenue_usd"]["asic_b_mining"] == pytest.approx(200.0)
    assert res.summary["cost_usd"]["energy_purchases"] == pytest.approx(400.0)


def test_pool_fee_and_om_and_pue():
    """One fleet, 10 MW IT, pue 1.25 so 12.5 MW at the meter; R = 100, pool fee 10 %, O&M 5.

    Margin per IT MWh: 100*0.9 - 5 - 1.25*20 = 60; 10 MW for one hour: 600.
    """
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10, pool_fee=0.1, om_usd_per_mwh=5, pue=1.25)]}, [20])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(600.0)
    assert res.dispatch["load_mw"].iloc[0] == pytest.approx(12.5)
    assert res.summary["cost_usd"]["asic_a_pool_fee"] == pytest.approx(100.0)
    assert res.summary["cost_usd"]["asic_a_om"] == pytest.approx(50.0)


def test_sla_allows_exactly_the_dearest_hours_off():
    """GPU 10 MW contract at 200 $/MW/h, availability 0.75 over 4 hours: 30 MWh must be delivered,
    so at most one hour off. Credit 100 $/MWh of shortfall. Prices 10, 500, 20, 300.

    Off in the 500 hour (saves 5,000 of energy, owes 1,000 of credit); the 300 hour would pay too,
    but the SLA forbids a second hour off. Objective: 8,000 contract - 1,000 credit
    - (10 + 20 + 300) * 10 energy = 3,700.
    """
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 200,
           "availability": 0.75, "billing_period": "horizon", "sla_credit_usd_per_mwh": 100}
    res = solve(tiny({"site": {"import_mw": 10}, "gpu": [gpu]}, [10, 500, 20, 300]))
    assert res.objective_usd == pytest.approx(3700.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 0, 10, 10])
    assert res.dispatch["gpu_g_shortfall_mw"].tolist() == pytest.approx([0, 10, 0, 0])
    assert res.summary["gpu_availability"]["g"] == pytest.approx(0.75)
    # the SLA row binds: one more MWh of required delivery costs the 300 hour's saving less the credit
    assert res.duals["gpu.sla"].iloc[0] == pytest.approx(-(300 - 100))


def test_sla_per_month_in_site_timezone():
    """Billing months in the site timezone: 2025-01-31T23:00-06:00 is January locally, February in UTC.

    Two hours: 2025-02-01T05:00Z (Jan 31, 23:00 CST) and 06:00Z (Feb 1, 00:00 CST), each alone in its
    month, availability 1: both must run. Prices 1000 and 1000, credit 0, contract 10 MW at 0 $/MW/h:
    objective -2 * 10 * 1000 = -20,000.
    """
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 0,
           "availability": 1.0, "billing_period": "month"}
    sc = tiny({"site": {"import_mw": 10}, "gpu": [gpu], "timezone": "America/Chicago"}, [1000, 1000],
              start="2025-02-01T05:00:00Z")
    res = solve(sc)
    assert res.objective_usd == pytest.approx(-20000.0)
    assert list(res.duals["gpu.sla"].index.get_level_values(1)) == ["2025-01", "2025-02"]


def test_sell_back_at_a_spike_and_marginal_value():
    """PPA 10 MW at 30; ASIC 10 MW earning 100; export limit 20. Prices 20 then 1,000.

    Hour 0: mine (100 > 20): 1,000. Hour 1: sell the 10 MW at 1,000: 10,000. PPA: 600.
    Objective 10,400. Marginal value of one more MW: hour 0 the ASIC is full, so it is sold at 20;
    hour 1 it is sold at 1,000.
    """
    sc = tiny({"site": {"import_mw": 10, "export_mw": 20}, "ppa": {"volume_mw": 10, "price_usd_per_mwh": 30},
               "asic": [asic("a", 10)]}, [20, 1000])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(10400.0)
    assert res.dispatch["export_mw"].tolist() == pytest.approx([0, 10])
    assert res.dispatch["marginal_value_usd_per_mwh"].tolist() == pytest.approx([20, 1000])
    assert res.dispatch["profit_usd"].tolist() == pytest.approx([1000 - 300, 10000 - 300])


def test_reserve_capped_by_curtailable_load():
    """ASIC 10 MW (R 100) backs reserves; a 5 MW flex load (revenue 50) is not eligible.
    rrs: max 8 MW at 5 $/MW/h, ecrs: max 8 MW at 3: each <= 10 MW of ASIC load, together <= 10.

    Energy: 10*(100-20) + 5*(50-20) = 950; reserves: 8*5 + 2*3 = 46. Objective 996.
    """
    sc = tiny(
        {"site": {"import_mw": 20}, "asic": [asic("a", 10)],
         "flex": [{"name": "f", "capacity_mw": 5, "revenue_usd_per_mwh": 50}],
         "reserve": [{"product": "rrs", "price_column": "rrs", "max_mw": 8, "eligible": ["asic"]},
                     {"product": "ecrs", "price_column": "ecrs", "max_mw": 8, "eligible": ["asic"]}]},
        [20], rrs=[5.0], ecrs=[3.0])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(996.0)
    assert res.dispatch["reserve_rrs_mw"].iloc[0] == pytest.approx(8)
    assert res.dispatch["reserve_ecrs_mw"].iloc[0] == pytest.approx(2)


def test_reserve_keeps_load_running_when_it_pays():
    """Mining alone loses 10 $/MWh (R 100, price 110), but rrs pays 15 $/MW/h for standing ready:
    running 10 MW earns -100 + 150 = 50. Objective 50."""
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10)],
               "reserve": [{"product": "rrs", "price_column": "rrs", "max_mw": 50}]}, [110], rrs=[15.0])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(50.0)
    assert res.dispatch["asic_a_mw"].iloc[0] == pytest.approx(10)


@pytest.mark.parametrize("rate, expected, peak", [(150.0, 200.0, 10.0), (300.0, 0.0, 0.0)])
def test_demand_charge_on_the_month_peak(rate, expected, peak):
    """ASIC 10 MW (R 100), prices 20, 20, 90: margins 80, 80, 10 per MW. One peak MW pays the
    charge once for all hours: at 150 $ per MW for the horizon, 80+80+10-150 = 20 > 0, run flat
    out: 10*170 - 1,500 = 200. At 300 the peak costs more than all three hours earn: stay off, 0.

    The horizon holds 3 of January's 744 hours, so it pays 3/744 of the monthly rate: 150 $ for
    the horizon is 150 * 744 / 3 = 37,200 $/MW-month."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "demand_charge": {"usd_per_mw_month": rate * 744 / 3}}, [20, 20, 90])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(expected, abs=1e-6)
    assert res.dispatch["import_mw"].max() == pytest.approx(peak)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(expected, abs=1e-6)


def test_coincident_peak_hour():
    """Two intervals listed (one outside the horizon): 500 $/MW-year / 2 = 250 per MW imported in
    hour 1. Mining earns 80 per MW there: stay off. Hour 0 runs: 800."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "coincident_peak": {"usd_per_mw_year": 500,
                                   "intervals": ["2025-01-01T01:00:00Z", "2025-07-01T17:00:00-05:00"]}}, [20, 20])
    assert any("outside the horizon" in w for w in sc.warnings)
    res = solve(sc)
    assert res.objective_usd == pytest.approx(800.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 0])


def test_ramp_limit():
    """ASIC 10 MW (R 100), ramp 4 MW/h, prices 20, 20, 1000, 20 (margins 80, 80, -900, 80).
    The load must come down before the spike and go back up after it: L = (8, 4, 0, 4).
    Objective 80*8 + 80*4 + 0 + 80*4 = 1,280."""
    sc = tiny({"site": {"import_mw": 10, "ramp_mw_per_h": 4}, "asic": [asic("a", 10)]}, [20, 20, 1000, 20])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(1280.0)
    assert res.dispatch["load_mw"].tolist() == pytest.approx([8, 4, 0, 4])


@pytest.mark.parametrize("metering, expected", [("net", -50.0), ("load", -70.0)])
def test_ppa_must_take_at_a_negative_price(metering, expected):
    """PPA 10 MW at 30, price -50, ASIC 5 MW (R 100), adder 4. The other 5 MW must go out at -50:
    500 - 250 - 300 = -50 with the PPA behind the meter (net metering: nothing imported, no
    adder); metered on load, the 5 MW mined also pay the adder: -50 - 5 * 4 = -70. (Importing
    more to export it would cost the adder on each MW under net metering, and is a wash under
    load metering: the answer nets it.)"""
    sc = tiny({"site": {"import_mw": 10, "export_mw": 10, "energy_adder_usd_per_mwh": 4, "metering": metering},
               "ppa": {"volume_mw": 10, "price_usd_per_mwh": 30}, "asic": [asic("a", 5)]}, [-50])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(expected)
    assert res.summary["cost_usd"]["energy_purchases"] == pytest.approx(0.0, abs=1e-9)
    assert res.dispatch["export_mw"].iloc[0] == pytest.approx(5)
    assert res.dispatch["import_mw"].iloc[0] == pytest.approx(0)


def test_halving_mid_horizon():
    """Halving at 2024-04-20T00:09:27Z: hours starting 22:00, 23:00 and 00:00 earn the 6.25 BTC
    subsidy (R 120), the 01:00 hour 3.125 (R 60). Price 80: run the first three hours only,
    3 * 10 * 40 = 1,200."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [80, 80, 80, 80],
              start="2024-04-19T22:00:00Z", btc_usd=btc_price_for(120.0, 20.0, 6.25), subsidy=None)
    res = solve(sc)
    assert sc.data["subsidy_btc"].tolist() == [6.25, 6.25, 6.25, 3.125]
    assert res.objective_usd == pytest.approx(1200.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10, 10, 0])


def test_gpu_spot_above_contract():
    """GPU 12 MW, contract 10 at 100 $/MW/h; spot pays 60 $/MWh above it; price 20, pue 1.
    Firm: contract 1,000 - energy 200 = 800; spot 2 MW: (60-20)*2 = 80. Objective 880."""
    gpu = {"name": "g", "capacity_mw": 12, "contract_mw": 10, "contract_usd_per_mw_per_h": 100,
           "spot_usd_per_mwh": 60}
    res = solve(tiny({"site": {"import_mw": 20}, "gpu": [gpu]}, [20]))
    assert res.objective_usd == pytest.approx(880.0)
    assert res.dispatch["gpu_g_spot_mw"].iloc[0] == pytest.approx(2)


# -- the API: edit between build and solve -------------------------------------------------

def _merit_scenario():
    return tiny({"site": {"import_mw": 10}, "asic": [asic("a", 8, 20.0), asic("b", 8, 40.0)]}, [20, 20])


def test_constraint_added_between_build_and_solve():
    """Cap fleet a at 3 MW in hour 0: hour 0 becomes 3*80 + 7*30 = 450; hour 1 stays 700: 1,150."""
    m = optimiser.build(_merit_scenario())
    m.cap = pyo.Constraint(expr=m.asic.power["a", 0] <= 3)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1150.0)
    assert pyo.value(m.asic.power["a", 0]) == pytest.approx(3)
    assert res.summary["revenue_usd"]["asic_a_mining"] == pytest.approx(1100.0)


def _with_sink(price_usd_per_mwh: float):
    """The merit-order site plus a user's 1 MW sink that takes site power and earns ``price``:
    the registered balance is replaced by one that includes the sink."""
    m = optimiser.build(_merit_scenario())
    m.sink = pyo.Var(m.T, bounds=(0, 1))
    m.balance.deactivate()
    m.balance_with_sink = pyo.Constraint(
        m.T, rule=lambda m, t: m.site_load[t] + m.sink[t] + m.site.grid_export[t] == m.site.grid_import[t])
    optimiser.add_revenue(m, "sink", sum(price_usd_per_mwh * m.sink[t] for t in m.T))
    return m


def test_revenue_and_variable_added_between_build_and_solve():
    """Heat sold at 10 $/MWh of fleet a's power (booked hour by hour) adds 8*10 per hour: 1,560.
    A sink paying 25 $/MWh (margin 5) loses to fleet b (margin 30) for the last MW of import: 0.
    At 60 $/MWh (margin 40) it takes 1 MW from b: +10 an hour, 1,420."""
    m = _with_sink(25.0)
    optimiser.add_revenue(m, "heat", {t: 10.0 * m.asic.power["a", t] for t in m.T})
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1560.0)
    assert res.summary["revenue_usd"]["heat"] == pytest.approx(160.0)
    assert res.summary["revenue_usd"]["sink"] == pytest.approx(0.0, abs=1e-9)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(1560.0)
    assert res.dispatch["marginal_value_usd_per_mwh"].isna().all()  # the registered balance is off

    res2 = optimiser.solve(_with_sink(60.0))
    assert res2.objective_usd == pytest.approx(1420.0)
    assert res2.summary["revenue_usd"]["sink"] == pytest.approx(120.0)
    assert res2.dispatch["asic_b_mw"].tolist() == pytest.approx([1, 1])


def test_objective_replaced_by_user():
    """A user objective (minimise import) replaces the registered one: the answer imports nothing and
    the summary books the difference as other_objective_terms so the streams still add up."""
    m = optimiser.build(_merit_scenario())
    m.objective.deactivate()
    m.min_import = pyo.Objective(expr=sum(m.site.grid_import[t] for t in m.T), sense=pyo.minimize)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(0.0)
    assert res.dispatch["import_mw"].sum() == pytest.approx(0.0)


def test_deactivated_registered_row_is_respected():
    """Deactivate hour 0's balance row and cap import at 0 via bounds: hour 0 is then unconstrained
    by the balance; fleet a (8 MW) and b (8 MW) both run at no energy cost: 8*100 + 8*50 = 1,200 in
    hour 0 (energy purchases 0), plus 700 in hour 1: 1,900."""
    m = optimiser.build(_merit_scenario())
    m.balance[0].deactivate()
    m.site.grid_import[0].setub(0)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1900.0)


def test_duals_loaded_into_a_dual_suffix():
    m = optimiser.build(_merit_scenario())
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    optimiser.solve(m)
    # one more MW at the site goes to fleet b: margin 50 (mining) - 0 (no import needed)
    assert m.dual[m.balance[0]] == pytest.approx(50.0)


def test_infeasible_sla_names_the_constraint():
    """A 10 MW contract at availability 1 over the horizon, and a user constraint holding the
    firm load to 5 MW in hour 1: the SLA cannot hold, and the message says which rows."""
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 0,
           "availability": 1.0, "billing_period": "horizon"}
    m = optimiser.build(tiny({"site": {"import_mw": 10}, "gpu": [gpu]}, [20, 20]))
    m.outage = pyo.Constraint(expr=m.gpu.firm["g", 1] <= 5)
    with pytest.raises(InfeasibleError) as err:
        optimiser.solve(m)
    assert "sla" in str(err.value) or "outage" in str(err.value)


def test_objective_matches_sum_of_hourly_profit_on_a_mixed_case():
    sc = tiny(
        {"site": {"import_mw": 30, "export_mw": 15, "energy_adder_usd_per_mwh": 2},
         "ppa": {"volume_mw": 15, "price_usd_per_mwh": 25},
         "asic": [asic("a", 10), asic("b", 10, 35.0)],
         "gpu": [{"name": "g", "capacity_mw": 6, "contract_mw": 5, "contract_usd_per_mw_per_h": 150,
                  "availability": 0.5, "sla_credit_usd_per_mwh": 300, "spot_usd_per_mwh": 90}],
         "reserve": [{"product": "rrs", "price_column": "rrs", "max_mw": 5}],
         "demand_charge": {"usd_per_mw_month": 100}},
        [10, -5, 400, 30], rrs=[1.0, 2.0, 50.0, 3.0])
    res = solve(sc)
    s = res.summary
    assert sum(s["revenue_usd"].values()) - sum(s["cost_usd"].values()) == pytest.approx(res.objective_usd)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(res.objective_usd)
    assert np.all((res.dispatch["import_mw"] == 0) | (res.dispatch["export_mw"] == 0))


# -- scenario API used by the notebooks ------------------------------------------------------

def test_extra_columns_are_read_checked_and_kept():
    """``extra_columns`` brings a column the model does not use into ``sc.data``, hour by hour;
    the first hour of 2025-07-01 CDT (05:00Z) equals the CSV's row."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "scenarios" / "example"
    sc = optimiser.load_scenario(folder, start="2025-07-01T00:00:00-05:00", end="2025-07-02T00:00:00-05:00",
                                 extra_columns=["carbon_kg_per_mwh"])
    raw = pd.read_csv(folder / "prices.csv", index_col="timestamp")
    assert sc.hours == 24
    assert sc.data["carbon_kg_per_mwh"].iloc[0] == raw.loc["2025-07-01T05:00:00Z", "carbon_kg_per_mwh"]
    with pytest.raises(optimiser.InputError, match="no_such_column"):
        optimiser.load_scenario(folder, start="2025-07-01T00:00:00-05:00", end="2025-07-02T00:00:00-05:00",
                                extra_columns=["no_such_column"])


def test_with_series_changes_the_answer_and_is_checked():
    """Doubling the BTC price doubles R: fleet a then earns 200 $/MWh, b 100; at price 20 the
    merit-order case earns 8*180 + 2*80 = 1,600 an hour, 3,200 for two hours."""
    sc = _merit_scenario()
    doubled = sc.with_series(btc_usd=lambda d: 2 * d["btc_usd"])
    assert solve(doubled).objective_usd == pytest.approx(3200.0)
    with pytest.raises(optimiser.InputError, match="btc_usd"):
        sc.with_series(btc_usd=np.nan)


def test_a_cloned_model_solves_like_the_original():
    """``m.clone()`` (e.g. to try an edit on a copy) solves to the same answer, and an edit on the
    clone does not touch the original: capping fleet a at 3 MW in hour 0 gives 1,150 (see above)."""
    m = optimiser.build(_merit_scenario())
    c = m.clone()
    c.cap = pyo.Constraint(expr=c.asic.power["a", 0] <= 3)
    assert optimiser.solve(c).objective_usd == pytest.approx(1150.0)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1400.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([8, 8])


def test_rows_on_one_variable_are_bounds_with_their_duals():
    """A user's rows on a single variable are handed to HiGHS as bounds; the answer, the rows'
    duals (from the column's reduced cost) and contradictions are as for rows. Merit case: capping
    fleet a at 3 MW in hour 0 gives 1,150 (fleet b takes 5 MW at margin 30: 3*80 + 5*30 + 700 + ...)."""
    m = optimiser.build(tiny({"site": {"import_mw": 10}, "asic": [asic("a", 8, 20.0), asic("b", 8, 40.0)]}, [20, 20]))
    m.cap = pyo.Constraint(expr=2 * m.asic.power["a", 0] <= 6)  # a coefficient: the bound is 3
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1150.0)
    assert res.solution.lp.shape[0] == optimiser.solve(optimiser.build(m.dispatch.scenario)).solution.lp.shape[0]
    # one more unit of the row's right-hand side lets a run 0.5 MW more, in place of b: (80 - 30) / 2
    assert m.dual[m.cap] == pytest.approx(25.0)
    m.floor = pyo.Constraint(expr=m.asic.power["a", 0] >= 5)
    with pytest.raises(InfeasibleError, match="cap|floor"):
        optimiser.solve(m)
