"""Capacity as a decision, and the two-stage stochastic program (issue 14), on tiny cases whose
optimum is derived by hand, plus the Pyomo LP writer as a second route.

Capital charges: with ``discount_rate = 0`` and ``lifetime_years = 1`` the annuity of a capex
``c`` is ``c`` a year, so a capex of ``8760 k`` costs ``k`` per MW per hour of the horizon.
"""

from __future__ import annotations

import copy

import numpy as np
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.errors import InputError
from optimiser.model.investment import annuity_factor, present_value_factor
from optimiser.stochastic import (
    Future,
    build_stochastic,
    cvar,
    mean_future,
    run_stochastic,
    solve_stochastic,
    value_of_information,
)
from test_fidelity import reference_solve
from test_tiny import asic, btc_price_for, tiny

RATE0 = {"discount_rate": 0.0}


def per_hour(k: float) -> dict:
    """Investment keys charging ``k`` $ per MW of capacity per hour."""
    return {"capex_usd_per_mw": 8760.0 * k, "lifetime_years": 1.0}


def chosen(name: str, hi: float, k: float, lo: float = 0.0, eff: float = 20.0, **kw) -> dict:
    """An ASIC fleet whose capacity (lo..hi MW) is chosen, charged k $/MW-h."""
    return {**asic(name, 0.0, eff), "capacity_mw": {"min": lo, "max": hi}, **per_hour(k), **kw}


def btc_for(revenues: list[float]) -> list[float]:
    """BTC prices giving an ASIC of 20 J/TH these revenues per MWh (subsidy 3.125)."""
    return [btc_price_for(r, 20.0) for r in revenues]


# ------------------------------------------------------------------------------------------------
# the annuity
# ------------------------------------------------------------------------------------------------

def test_annuity_factor_by_hand():
    """8 % over 10 years: 0.08 / (1 - 1.08^-10) = 0.149029...; 0 % over 4 years: 0.25; the present
    value factor is its inverse (6.7101 years)."""
    assert annuity_factor(0.08, 10) == pytest.approx(0.08 / (1 - 1.08 ** -10))
    assert annuity_factor(0.08, 10) == pytest.approx(0.1490295, rel=1e-6)
    assert annuity_factor(0.0, 4) == 0.25
    assert present_value_factor(0.08, 10) == pytest.approx(6.710081, rel=1e-6)
    with pytest.raises(ValueError, match="years"):
        annuity_factor(0.08, 0)


# ------------------------------------------------------------------------------------------------
# capacity as a decision, one future
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spike, built, objective", [(60.0, 0.0, 0.0), (80.0, 10.0, 100.0)])
def test_fleet_pays_back_only_when_prices_spike_enough(spike, built, objective):
    """An ASIC fleet of 0..10 MW, charged 40 $/MW-h (160 over four hours); power is free (price
    0). It earns 30, 30, 30 and then ``spike`` $/MWh: per MW 90 + spike. A spike of 60 gives 150 <
    160: build nothing. A spike of 80 gives 170: build all 10 MW, profit 10 x (170 - 160) = 100.
    """
    sc = tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 10, 40.0)], **RATE0}, [0, 0, 0, 0],
              btc_usd=btc_for([30, 30, 30, spike]))
    m = optimiser.build(sc)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(objective, abs=1e-6)
    assert res.summary["capacity_mw"] == {"a": pytest.approx(built, abs=1e-9)}
    assert res.summary["cost_usd"].get("asic_a_capital", 0.0) == pytest.approx(160.0 * built)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([built] * 4)
    assert pyo.value(m.asic.capacity_mw["a"]) == pytest.approx(built, abs=1e-9)
    inv = res.summary["investment"]
    assert inv["fleets"]["a"]["decided"] is True
    assert inv["capex_usd"] == pytest.approx(8760 * 40 * built)
    if built:
        # a year of such hours: operating profit (170/4 per MW-h) pays the capex back in
        # 8760*40 / (8760*170/4) = 0.941 years; the NPV (rate 0, one year) is the profit after capital
        years = 4 / 8760
        assert inv["equivalent_annual_profit_usd"] == pytest.approx(100.0 / years)
        assert inv["payback_years"] == pytest.approx(160.0 / 170.0)
        assert inv["npv_usd"] == pytest.approx(100.0 / years)
    else:
        assert inv["payback_years"] is None
    # streams add up to the objective
    total = sum(res.summary["revenue_usd"].values()) - sum(res.summary["cost_usd"].values())
    assert total == pytest.approx(res.objective_usd, abs=1e-6)


def test_the_pyomo_lp_writer_agrees():
    """Second route: the same capacity model written by Pyomo's LP writer and read by HiGHS."""
    sc = tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 10, 40.0)], **RATE0}, [0, 5, 0, 0],
              btc_usd=btc_for([30, 30, 30, 80]))
    res = optimiser.solve(optimiser.build(sc))
    ref = reference_solve(optimiser.build(sc))
    assert ref.status == "Optimal"
    assert ref.objective == pytest.approx(res.objective_usd, rel=1e-9)
    assert ref.values["asic.capacity_mw[a]"] == pytest.approx(10.0)


def test_a_horizon_across_the_2028_halving():
    """Four hours, two before the projected halving (2028-04-15T00:00Z), two after: at a flat BTC
    price and difficulty the fleet earns 100 $/MWh, then 50 (the subsidy halves: no subsidy
    column, the default schedule). Per MW: 300 over the horizon. Charged 70 $/MW-h (280): build
    10 MW, profit 200; charged 80 (320): build nothing. Without the halving (1.5625 never comes)
    the same 80 would pay: 400 > 320."""
    cfg = {"site": {"import_mw": 20}, **RATE0}
    prices = [0, 0, 0, 0]
    start = "2028-04-14T22:00:00Z"
    for k, built in ((70.0, 10.0), (80.0, 0.0)):
        sc = tiny({**cfg, "asic": [chosen("a", 10, k)]}, prices, start=start, subsidy=None)
        res = optimiser.solve(optimiser.build(sc))
        assert res.summary["capacity_mw"]["a"] == pytest.approx(built, abs=1e-9)
        assert res.objective_usd == pytest.approx(built * (300 - 4 * k), abs=1e-6)
        hp = res.dispatch["hashprice_usd_per_ph_day"].to_numpy()
        assert hp[2] == pytest.approx(hp[1] / 2)
    flat = tiny({**cfg, "asic": [chosen("a", 10, 80.0)]}, prices, start=start, subsidy=3.125)
    assert optimiser.solve(optimiser.build(flat)).summary["capacity_mw"]["a"] == pytest.approx(10.0)


@pytest.mark.parametrize("k, built", [(60.0, 0.0), (30.0, 20.0)])
def test_gpu_contract_scales_with_the_capacity_chosen(k, built):
    """A GPU hall of 0..20 MW IT, half of it contracted (contract_share 0.5) at 100 $/MW/h, SLA
    100 %; the host pays the power, 30 $/MWh, pue 1; no spot price. Per MW of hall and hour:
    contract 50, power for the firm half 15, capital k. k = 60: -25, build nothing. k = 30: +5,
    build 20 MW (a 10 MW contract), profit 20 x 5 x 2 hours = 200."""
    gpu = {"name": "hall", "capacity_mw": {"max": 20}, "contract_share": 0.5, "contract_usd_per_mw_per_h": 100.0,
           "availability": 1.0, **per_hour(k)}
    sc = tiny({"site": {"import_mw": 50}, "gpu": [gpu], **RATE0}, [30, 30])
    res = optimiser.solve(optimiser.build(sc))
    assert res.summary["capacity_mw"]["hall"] == pytest.approx(built, abs=1e-9)
    assert res.objective_usd == pytest.approx(built * (50 - 15 - k) * 2 if built else 0.0, abs=1e-6)
    assert res.summary["revenue_usd"].get("gpu_hall_contract", 0.0) == pytest.approx(100 * 0.5 * built * 2)
    assert res.summary["investment"]["fleets"]["hall"]["contract_mw"] == pytest.approx(0.5 * built)
    assert res.dispatch["gpu_hall_firm_mw"].tolist() == pytest.approx([0.5 * built] * 2)
    assert res.dispatch["gpu_hall_shortfall_mw"].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)
    assert res.summary["gpu_availability"]["hall"] == pytest.approx(1.0)
    ref = reference_solve(optimiser.build(sc))
    assert ref.objective == pytest.approx(res.objective_usd, abs=1e-6)


def test_gpu_sla_scales_with_the_capacity():
    """The same hall (k = 30, contract share 0.5) with availability 0.5 over two hours (billing
    period the horizon) and prices 30 and 200: half the contract energy may be short, so the
    firm half runs in the cheap hour only (the SLA's row is share x (n - (1 - a) H) x C = 0.5 x 1
    x 20 = 10 MWh). Per hour: contract 2 x 50 x 20 = 2,000, power 10 x 30 = 300, capital 2 x 30 x
    20 = 1,200: profit 500."""
    gpu = {"name": "hall", "capacity_mw": {"max": 20}, "contract_share": 0.5, "contract_usd_per_mw_per_h": 100.0,
           "availability": 0.5, "billing_period": "horizon", **per_hour(30.0)}
    sc = tiny({"site": {"import_mw": 50, "export_mw": 0}, "gpu": [gpu], **RATE0}, [30, 200])
    res = optimiser.solve(optimiser.build(sc))
    assert res.summary["capacity_mw"]["hall"] == pytest.approx(20.0)
    assert res.objective_usd == pytest.approx(500.0, abs=1e-6)
    assert res.dispatch["gpu_hall_firm_mw"].tolist() == pytest.approx([10.0, 0.0], abs=1e-9)
    assert res.summary["gpu_availability"]["hall"] == pytest.approx(0.5)


def test_cooled_floor_and_least_capacity():
    """Two chosen fleets, both charged 10 $/MW-h, power free: ASIC a (0..20 MW) earns 100 $/MWh,
    ASIC b (3..20 MW, min 3) 50. A cooled floor of 15 MW IT: b must have 3, a takes the other 12.
    One hour: 12 x 90 + 3 x 40 = 1,200."""
    fleets = [chosen("a", 20, 10.0), chosen("b", 20, 10.0, lo=3.0, eff=40.0)]
    sc = tiny({"site": {"import_mw": 100, "floor_mw": 15}, "asic": fleets, **RATE0}, [0])
    m = optimiser.build(sc)
    res = optimiser.solve(m)
    assert res.summary["capacity_mw"] == {"a": pytest.approx(12.0), "b": pytest.approx(3.0)}
    assert res.objective_usd == pytest.approx(1200.0)
    # the floor's dual: one more MW of floor is worth a's margin less b's? no: b is at its min,
    # a more MW of floor goes to a: 90 $
    assert res.duals["investment.floor"].iloc[0] == pytest.approx(90.0)
    ref = reference_solve(optimiser.build(sc))
    assert ref.objective == pytest.approx(1200.0)


def test_fixed_capacity_with_capex_is_charged_and_reported():
    """A fixed 10 MW fleet with capex charges its annuity as a constant (same decisions), and
    reports its capacity; without capex it is as before."""
    base = {"site": {"import_mw": 20}, **RATE0}
    plain = tiny({**base, "asic": [asic("a", 10)]}, [20, 20])
    costed = tiny({**base, "asic": [{**asic("a", 10), **per_hour(5.0)}]}, [20, 20])
    r0 = optimiser.solve(optimiser.build(plain))
    r1 = optimiser.solve(optimiser.build(costed))
    assert r0.objective_usd == pytest.approx(1600.0)
    assert r1.objective_usd == pytest.approx(1600.0 - 100.0)
    assert r1.summary["cost_usd"]["asic_a_capital"] == pytest.approx(100.0)
    assert r0.summary["capacity_mw"] == {"a": 10.0}
    assert r1.summary["investment"]["fleets"]["a"]["decided"] is False


def test_capacity_decision_round_trips_through_replace():
    """The written configuration is capacity_mw = { min, max } again (a sweep's replace, the
    provenance), and replacing it by a number fixes the capacity."""
    sc = tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 10, 40.0, lo=1.0)], **RATE0}, [0])
    dumped = sc.config.model_dump(mode="json", exclude_none=True)
    assert dumped["asic"][0]["capacity_mw"] == {"min": 1.0, "max": 10.0}
    again = sc.replace(**{"site.import_mw": 30})
    assert again.config.asic[0].capacity_range.max == 10.0
    fixed = sc.replace(**{"asic.a.capacity_mw": 4.0})
    assert not fixed.config.asic[0].capacity_is_decision
    assert fixed.config.asic[0].capacity_mw == 4.0


@pytest.mark.parametrize("change, key", [
    ({"capacity_mw": {"min": 5, "max": 2}}, "capacity_mw"),
    ({"capacity_mw": {"min": 0}}, "capacity_mw"),
    ({"capacity_mw": {"max": 5, "most": 2}}, "capacity_mw"),
    ({"capex_usd_per_mw": 1e6, "lifetime_years": None}, "lifetime_years"),
    ({"capacity_range": {"max": 3}}, "capacity_range"),
    ({"availability_column": "avail"}, "availability_column"),
])
def test_bad_capacity_keys_are_named(change, key):
    fleet = {**chosen("a", 10, 1.0)}
    fleet.update(change)
    fleet = {k: v for k, v in fleet.items() if v is not None}
    with pytest.raises(InputError) as err:
        tiny({"site": {"import_mw": 20}, "asic": [fleet], **RATE0}, [0], avail=[1.0])
    assert key in str(err.value)


def test_capex_needs_a_discount_rate_and_floor_must_fit():
    with pytest.raises(InputError, match="discount_rate"):
        tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 10, 1.0)]}, [0])
    with pytest.raises(InputError, match="floor_mw"):
        tiny({"site": {"import_mw": 20, "floor_mw": 5}, "asic": [chosen("a", 10, 1.0, lo=6)], **RATE0}, [0])


def test_scaled_contract_refuses_a_time_basis():
    gpu = {"name": "hall", "capacity_mw": {"max": 20}, "contract_share": 0.5, "contract_usd_per_mw_per_h": 100.0,
           "availability": 0.9, "availability_basis": "time"}
    with pytest.raises(InputError, match="contract_share"):
        tiny({"site": {"import_mw": 50}, "gpu": [gpu]}, [30])
    with pytest.raises(InputError, match="contract_share"):
        tiny({"site": {"import_mw": 50}, "gpu": [{**gpu, "availability_basis": "energy", "contract_mw": 3}]}, [30])


# ------------------------------------------------------------------------------------------------
# several futures
# ------------------------------------------------------------------------------------------------

def two_futures(k: float, price: float, high: float, low: float, p_high: float = 0.5) -> list[Future]:
    """One hour, one ASIC fleet 0..10 MW charged k $/MW-h; the futures differ in BTC price."""
    cfg = {"site": {"import_mw": 20}, "asic": [chosen("a", 10, k)], **RATE0}
    return [Future("high", p_high, tiny(cfg, [price], btc_usd=btc_for([high]))),
            Future("low", 1 - p_high, tiny(cfg, [price], btc_usd=btc_for([low])))]


@pytest.mark.parametrize("w, built, objective", [(0.0, 10.0, 100.0), (0.2, 10.0, 20.0), (0.3, 0.0, 0.0)])
def test_capacity_changes_with_the_risk_weight(w, built, objective):
    """Power free, charged 50 $/MW-h; BTC futures earning 100 (p 0.5: +50 per MW) or 20 $/MWh
    (p 0.5: -30 per MW). Expected profit per MW: +10; CVaR at alpha 0.5 (the worst half): -30.
    Objective per MW: (1 - w) 10 - 30 w > 0 while w < 0.25: w = 0.2 builds 10 MW (objective
    10 x (8 - 6) = 20), w = 0.3 builds nothing."""
    futs = two_futures(50.0, 0.0, 100.0, 20.0)
    res = run_stochastic(futs, risk_weight=w, alpha=0.5)
    assert res.capacity_mw["a"] == pytest.approx(built, abs=1e-9)
    assert res.summary["objective_usd"] == pytest.approx(objective, abs=1e-6)
    assert res.summary["expected_profit_usd"] == pytest.approx(10.0 * built, abs=1e-6)
    assert res.summary["cvar_usd"] == pytest.approx(-30.0 * built, abs=1e-6)
    assert res.summary["profit_usd"] == {"high": pytest.approx(50 * built, abs=1e-6),
                                         "low": pytest.approx(-30 * built, abs=1e-6)}
    assert res.futures["high"].dispatch["asic_a_mw"].iloc[0] == pytest.approx(built, abs=1e-9)


def test_two_futures_evpi_and_vss_by_hand():
    """Power at 40 $/MWh, charged 5 $/MW-h; futures earning 60 (margin 20) or 10 (curtailed:
    margin 0), p 0.5 each. Per MW: E = 0.5 x 20 - 5 = 5 > 0, so RP builds 10 MW: RP = 50. Wait and
    see: build 10 in the high future (150), none in the low (0): WS = 75, EVPI = 25. The mean
    future earns 35 < 40: margin 0, build nothing, so EEV = 0 and VSS = 50."""
    futs = two_futures(5.0, 40.0, 60.0, 10.0)
    rp = run_stochastic(futs)
    assert rp.capacity_mw["a"] == pytest.approx(10.0)
    assert rp.expected_profit_usd == pytest.approx(50.0)
    v = value_of_information(futs, recourse=rp)
    assert v["ws_usd"] == pytest.approx(75.0)
    assert v["rp_usd"] == pytest.approx(50.0)
    assert v["eev_usd"] == pytest.approx(0.0, abs=1e-6)
    assert v["evpi_usd"] == pytest.approx(25.0)
    assert v["vss_usd"] == pytest.approx(50.0)
    assert v["ev_capacity_mw"]["a"] == pytest.approx(0.0, abs=1e-9)
    assert v["ws_capacity_mw"] == {"high": {"a": pytest.approx(10.0)}, "low": {"a": pytest.approx(0.0, abs=1e-9)}}


def test_stochastic_model_agrees_with_the_pyomo_lp_writer():
    """The whole two-stage model with CVaR (a model a researcher may edit) through Pyomo's writer."""
    futs = two_futures(50.0, 0.0, 100.0, 20.0)
    m = build_stochastic(futs, risk_weight=0.2, alpha=0.5)
    res = solve_stochastic(m)
    ref = reference_solve(build_stochastic(futs, risk_weight=0.2, alpha=0.5))
    assert ref.objective == pytest.approx(res.summary["objective_usd"], abs=1e-6)
    assert ref.values["capacity_mw[a]"] == pytest.approx(10.0)


def test_an_edit_to_the_stochastic_model_is_solved():
    """A researcher caps the first stage at 4 MW: the answer follows (4 x 10 = 40)."""
    futs = two_futures(50.0, 0.0, 100.0, 20.0)
    m = build_stochastic(futs)
    m.cap = pyo.Constraint(expr=m.capacity_mw["a"] <= 4)
    res = solve_stochastic(m)
    assert res.capacity_mw["a"] == pytest.approx(4.0)
    assert res.expected_profit_usd == pytest.approx(40.0)


def test_cvar_of_a_discrete_distribution():
    assert cvar([10, -30], [0.5, 0.5], 0.5) == pytest.approx(-30)
    assert cvar([10, -30, 50], [0.25, 0.25, 0.5], 0.5) == pytest.approx(-10)
    assert cvar([10, -30, 50], [0.25, 0.25, 0.5], 0.0) == pytest.approx(20)


def test_bad_futures_are_refused():
    futs = two_futures(50.0, 0.0, 100.0, 20.0)
    with pytest.raises(ValueError, match="add up"):
        build_stochastic([futs[0], Future("low", 0.2, futs[1].scenario)])
    with pytest.raises(ValueError, match="used twice"):
        build_stochastic([futs[0], Future("high", 0.5, futs[1].scenario)])
    with pytest.raises(ValueError, match="risk_weight"):
        build_stochastic(futs, risk_weight=1.5)
    with pytest.raises(ValueError, match="alpha"):
        build_stochastic(futs, alpha=1.0)
    other = tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 12, 1.0)], **RATE0}, [0])
    with pytest.raises(ValueError, match="other capacities"):
        build_stochastic([futs[0], Future("x", 0.5, other)])
    fixed = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10)]}, [0])
    with pytest.raises(ValueError, match="chooses no capacity"):
        build_stochastic([Future("only", 1.0, fixed)])


def test_mean_future_is_the_weighted_mean():
    futs = two_futures(5.0, 40.0, 60.0, 10.0, p_high=0.25)
    mean = mean_future(futs)
    expect = 0.25 * futs[0].scenario.data["btc_usd"].iloc[0] + 0.75 * futs[1].scenario.data["btc_usd"].iloc[0]
    assert mean.scenario.data["btc_usd"].iloc[0] == pytest.approx(expect)


def test_policies_and_rolling_refuse_a_capacity_decision():
    """A baseline or a rolling plan would choose the capacity with hindsight: refused by name."""
    from optimiser.rolling import run_rolling

    sc = tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 10, 40.0)], **RATE0}, [0] * 30)
    with pytest.raises(InputError, match="capacity decision"):
        optimiser.run(sc, policy="always-on")
    with pytest.raises(InputError, match="asic.a.capacity_mw"):
        run_rolling(sc)


# ------------------------------------------------------------------------------------------------
# Benders decomposition: the same answers as the extensive form
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("w", [0.0, 0.2, 0.3])
def test_benders_matches_the_hand_solved_risk_cases(w):
    futs = two_futures(50.0, 0.0, 100.0, 20.0)
    ext = run_stochastic(futs, risk_weight=w, alpha=0.5)
    ben = run_stochastic(futs, risk_weight=w, alpha=0.5, method="benders")
    assert ben.capacity_mw["a"] == pytest.approx(ext.capacity_mw["a"], abs=1e-9)
    assert ben.summary["objective_usd"] == pytest.approx(ext.summary["objective_usd"], abs=1e-6)
    assert ben.summary["profit_usd"] == pytest.approx(ext.summary["profit_usd"], abs=1e-6)
    d = ben.summary["decomposition"]
    assert d["gap"] <= 1e-6
    assert all(s["answer"].startswith("the subproblem") for s in d["subproblems"].values())


def week_futures(gpu_max: float, contract_usd_per_mw_per_h: float = 210.0) -> list[Future]:
    """A week of the example site choosing its s21 ASICs (0..300 MW) and a GPU hall (0..gpu_max,
    85 % contracted) under two BTC futures."""
    sc = optimiser.load_scenario("scenarios/example", end="2025-01-08T00:00:00-06:00")
    cfg = copy.deepcopy(sc.config.model_dump(mode="json", exclude_none=True))
    cfg["discount_rate"] = 0.10
    cfg["asic"][0].update(capacity_mw={"min": 0, "max": 300}, capex_usd_per_mw=1.2e6, lifetime_years=4)
    g = cfg["gpu"][0]
    g.pop("contract_mw")
    g.update(contract_share=0.85, capacity_mw={"max": gpu_max}, capex_usd_per_mw=4e6, lifetime_years=15,
             billing_period="horizon", contract_usd_per_mw_per_h=contract_usd_per_mw_per_h)
    cfg["site"]["floor_mw"] = gpu_max + 100
    base = optimiser.from_config(cfg, sc.data)
    return [Future("low", 0.4, base.with_series(btc_usd=lambda d: 0.6 * d["btc_usd"])),
            Future("high", 0.6, base.with_series(btc_usd=lambda d: 1.6 * d["btc_usd"]))]


@pytest.mark.parametrize("gpu_max, w, price", [(200.0, 0.0, 210.0), (200.0, 0.5, 210.0), (600.0, 0.0, 1000.0)])
def test_benders_matches_the_extensive_form_on_a_week(gpu_max, w, price):
    """A week of the example: Benders and the extensive form agree (1e-6 relative). With a hall of
    up to 600 MW at 1,000 $/MW/h, 85 % contracted at pue 1.3, the largest halls cannot be served
    by 550 MW of import and PPA: Benders steers away with feasibility cuts."""
    futs = week_futures(gpu_max, price)
    ext = run_stochastic(futs, risk_weight=w, alpha=0.5)
    lines: list[str] = []
    ben = run_stochastic(futs, risk_weight=w, alpha=0.5, method="benders", progress=lines.append)
    assert ben.summary["objective_usd"] == pytest.approx(ext.summary["objective_usd"], rel=1e-6)
    for k, v in ext.capacity_mw.items():
        assert ben.capacity_mw[k] == pytest.approx(v, rel=1e-5, abs=1e-4)
    assert ben.summary["expected_profit_usd"] == pytest.approx(ext.summary["expected_profit_usd"], rel=1e-6)
    assert ben.summary["decomposition"]["cold_check"]["profit_usd"] == pytest.approx(
        ben.summary["profit_usd"]["low"], rel=1e-7)
    assert len(lines) == ben.summary["decomposition"]["iterations"]
    if gpu_max == 600.0:
        assert any("feasibility cut" in line for line in lines)
        assert ext.capacity_mw["tenant-a"] < 600.0



def test_a_sweep_reports_the_capacities_chosen(tmp_path):
    """A sweep of the BTC price over the four-hour fleet of the spike test (spike 70: per MW 90 +
    70 = 160, its capital charge): x0.9 earns 144 < 160, build nothing; x1.1 earns 176, build
    10 MW, profit 10 x 16 = 160. The table holds each case's capacity and capex."""
    from optimiser.realdata import write_scenario_folder
    from optimiser.sweeps import read_table

    sc = tiny({"site": {"import_mw": 20}, "asic": [chosen("a", 10, 40.0)], **RATE0}, [0, 0, 0, 0],
              btc_usd=btc_for([30, 30, 30, 70]))
    folder = write_scenario_folder(sc, tmp_path / "base")
    spec = tmp_path / "sweep.toml"
    spec.write_text(f'base = "{folder}"\n[grid]\n"series.btc_usd" = [0.9, 1.1]\n')
    optimiser.sweep(spec, tmp_path / "out", workers=1, plots=False)
    t = read_table(tmp_path / "out").set_index("series.btc_usd")
    assert t.loc[0.9, "capacity_mw.a"] == pytest.approx(0.0, abs=1e-9)
    assert t.loc[1.1, "capacity_mw.a"] == pytest.approx(10.0)
    assert t.loc[1.1, "objective_usd"] == pytest.approx(160.0, abs=1e-6)
    assert t.loc[1.1, "capex_usd"] == pytest.approx(10 * 8760 * 40.0)


# ------------------------------------------------------------------------------------------------
# dispatch stochastic: the command line
# ------------------------------------------------------------------------------------------------

def futures_folder(tmp_path, futs: list[Future]):
    """A futures folder as optimiser.futures.write_futures writes one."""
    from optimiser.realdata import write_scenario_folder

    folder = tmp_path / "futures"
    for f in futs:
        write_scenario_folder(f.scenario, folder / f.name)
    (folder / "futures.csv").write_text("name,probability\n" + "".join(f"{f.name},{f.probability}\n" for f in futs))
    return folder


@pytest.mark.parametrize("method", ["extensive", "benders"])
def test_dispatch_stochastic_writes_the_answer(tmp_path, capsys, method):
    """The EVPI/VSS case of test_two_futures_evpi_and_vss_by_hand through the command line: 10 MW,
    expected profit 50, EVPI 25, VSS 50; stochastic.json and one results folder a future."""
    import json

    from optimiser.cli import main

    folder = futures_folder(tmp_path, two_futures(5.0, 40.0, 60.0, 10.0))
    out = tmp_path / "out"
    code = main(["stochastic", str(folder), "--out", str(out), "--method", method, "--value-of-information"])
    assert code == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "capacities [MW]: a 10.0" in text and "EVPI [$]: 25" in text and "VSS [$]: 50" in text
    summary = json.loads((out / "stochastic.json").read_text())
    assert summary["capacity_mw"]["a"] == pytest.approx(10.0)
    assert summary["expected_profit_usd"] == pytest.approx(50.0)
    assert summary["value_of_information"]["vss_usd"] == pytest.approx(50.0)
    for name, profit in (("high", 150.0), ("low", -50.0)):
        s = json.loads((out / f"future-{name}" / "summary.json").read_text())
        assert s["objective_usd"] == pytest.approx(profit)
        assert (out / f"future-{name}" / "dispatch.csv").is_file()
    # again into the same folder: replaced whole; a foreign file in it: refused, nothing touched
    assert main(["stochastic", str(folder), "--out", str(out), "-q"]) == 0
    (out / "notes.txt").write_text("mine")
    assert main(["stochastic", str(folder), "--out", str(out), "-q"]) == 2
    assert (out / "notes.txt").read_text() == "mine"


def test_dispatch_stochastic_names_bad_futures(tmp_path, capsys):
    from optimiser.cli import main

    folder = futures_folder(tmp_path, two_futures(5.0, 40.0, 60.0, 10.0))
    (folder / "futures.csv").write_text("name,probability\nhigh,0.5\nlow,0.6\n")
    assert main(["stochastic", str(folder), "--out", str(tmp_path / "o")]) == 2
    assert "add up to 1.1" in capsys.readouterr().err
    (folder / "futures.csv").write_text("name,probability\nhigh,0.5\nmissing,0.5\n")
    assert main(["stochastic", str(folder), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "futures.csv, line 3, column 'name': no scenario folder" in err
    (folder / "futures.csv").write_text("name,probability\nhigh,abc\nlow,0.5\n")
    assert main(["stochastic", str(folder), "--out", str(tmp_path / "o")]) == 2
    assert "probability" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_conversion_scenario_adds_up():
    """scenarios/conversion (the example site choosing its S21 and GPU capacities): capacities in
    their ranges and within the floor, the streams add up to the objective, and the investment
    summary follows from the capacities (capex, annuities, payback, NPV by their formulas)."""
    sc = optimiser.load_scenario("scenarios/conversion")
    res = optimiser.solve(optimiser.build(sc))
    caps = res.summary["capacity_mw"]
    assert set(caps) == {"s21", "tenant-a"}
    assert all(-1e-9 <= v <= 300 + 1e-9 for v in caps.values())
    assert sum(caps.values()) <= 300 + 1e-6
    s = res.summary
    assert sum(s["revenue_usd"].values()) - sum(s["cost_usd"].values()) == pytest.approx(s["objective_usd"], rel=1e-9)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(s["objective_usd"], rel=1e-9)
    inv = s["investment"]
    cfg = {f.name: f for _, f in sc.config.fleets()}
    capex = sum(cfg[k].capex_usd_per_mw * v for k, v in caps.items())
    annuity = sum(cfg[k].capex_usd_per_mw * annuity_factor(0.08, cfg[k].lifetime_years) * v for k, v in caps.items())
    assert inv["capex_usd"] == pytest.approx(capex)
    assert inv["annuity_usd_per_year"] == pytest.approx(annuity)
    years = sc.hours / 8760
    assert inv["equivalent_annual_profit_usd"] == pytest.approx(s["objective_usd"] / years)
    assert inv["operating_profit_usd_per_year"] == pytest.approx(s["objective_usd"] / years + annuity)
    if capex > 0 and inv["operating_profit_usd_per_year"] > 0:
        assert inv["payback_years"] == pytest.approx(capex / inv["operating_profit_usd_per_year"])
        life = max(cfg[k].lifetime_years for k, v in caps.items() if v > 0)
        assert inv["npv_usd"] == pytest.approx(s["objective_usd"] / years * present_value_factor(0.08, life))
    # the capital streams are the annuities and fixed O&M for the horizon's share of the years
    for k, v in caps.items():
        kind = "asic" if k == "s21" else "gpu"
        got = s["cost_usd"].get(f"{kind}_{k}_capital", 0.0)
        assert got == pytest.approx(cfg[k].capex_usd_per_mw * annuity_factor(0.08, cfg[k].lifetime_years) * v * years,
                                    rel=1e-9, abs=0.01)  # a cent: a capacity of 1e-12 MW at ~1e6 $/MW


# ------------------------------------------------------------------------------------------------
# found in review: what Benders must refuse or get through, and what the report reads
# ------------------------------------------------------------------------------------------------

def test_benders_refuses_integer_subproblems():
    """A time-basis SLA makes each future a MIP, whose value is not concave in the capacity and
    whose duals are no subgradient: Benders refuses it by name; the extensive form solves it."""
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 100.0,
           "availability": 0.5, "availability_basis": "time", "billing_period": "horizon"}
    cfg = {"site": {"import_mw": 25, "export_mw": 0}, "gpu": [gpu], "asic": [chosen("a", 20, 20.0)], **RATE0}
    futs = [Future("x", 0.5, tiny(cfg, [30, 90, 30, 90], btc_usd=btc_for([60, 60, 60, 60]))),
            Future("y", 0.5, tiny(cfg, [30, 200, 30, 200], btc_usd=btc_for([120, 20, 120, 20])))]
    with pytest.raises(optimiser.DispatchError, match="integer variables.*method='extensive'"):
        run_stochastic(futs, method="benders")
    assert run_stochastic(futs).summary["objective_usd"] == pytest.approx(4000.0)


def test_benders_finds_a_feasible_start():
    """A GPU hall of 0..20 MW, wholly contracted at 100 $/MW/h under a 100 % SLA, power 30 $/MWh,
    charged 10 $/MW-h: 60 $ a MW-hour. One future has 50 MW of import, the other 8 MW: a hall
    above 8 MW cannot be served there, which Benders learns by feasibility cuts when its master
    proposes more. Both methods: 8 MW, 2 hours x 8 MW x 60 = 960."""
    gpu = {"name": "hall", "capacity_mw": {"max": 20}, "contract_share": 1.0, "contract_usd_per_mw_per_h": 100.0,
           "availability": 1.0, **per_hour(10.0)}
    wide = tiny({"site": {"import_mw": 50}, "gpu": [gpu], **RATE0}, [30, 30])
    narrow = tiny({"site": {"import_mw": 8}, "gpu": [gpu], **RATE0}, [30, 30])
    futs = [Future("wide", 0.5, wide), Future("narrow", 0.5, narrow)]
    ext = run_stochastic(futs)
    lines: list[str] = []
    ben = run_stochastic(futs, method="benders", progress=lines.append)
    assert ext.capacity_mw["hall"] == pytest.approx(8.0)
    assert ben.capacity_mw["hall"] == pytest.approx(8.0)
    assert ben.summary["objective_usd"] == pytest.approx(ext.summary["objective_usd"]) == pytest.approx(2 * 8 * 60)


def test_benders_phase_one_when_the_least_capacities_fail():
    """A must-take PPA of 10 MW that the site may not export (export_mw 0) must be used on site:
    the least capacity (0 MW of ASICs) cannot take it, in either future. The fleet loses money
    (it earns 100 $/MWh, is charged 200 $/MW-h; power at 0), so the answer is the least that
    takes the PPA: 10 MW, -1,000 an hour, -2,000 over two. Benders starts at 0 MW, infeasible
    everywhere: its phase one steers by feasibility cuts until every future has a point."""
    cfg = {"site": {"import_mw": 50, "export_mw": 0}, "ppa": {"volume_mw": 10, "price_usd_per_mwh": 0.0},
           "asic": [chosen("a", 20, 200.0)], **RATE0}
    futs = [Future("x", 0.5, tiny(cfg, [0, 0], btc_usd=btc_for([100, 100]))),
            Future("y", 0.5, tiny(cfg, [5, 5], btc_usd=btc_for([100, 100])))]
    ext = run_stochastic(futs)
    lines: list[str] = []
    ben = run_stochastic(futs, method="benders", progress=lines.append)
    assert ext.capacity_mw["a"] == pytest.approx(10.0)
    assert ben.capacity_mw["a"] == pytest.approx(10.0)
    assert ben.summary["objective_usd"] == pytest.approx(ext.summary["objective_usd"]) == pytest.approx(-2000.0)
    assert "feasibility cut" in lines[0]


def test_a_gpu_with_a_fixed_contract_needs_that_capacity():
    gpu = {"name": "hall", "capacity_mw": {"max": 20}, "contract_mw": 10, "contract_usd_per_mw_per_h": 100.0}
    with pytest.raises(InputError, match="capacity_mw.min"):
        tiny({"site": {"import_mw": 50}, "gpu": [gpu], **RATE0}, [30])
    ok = tiny({"site": {"import_mw": 50}, "gpu": [{**gpu, "capacity_mw": {"min": 10, "max": 20}}], **RATE0}, [30])
    assert ok.config.gpu[0].capacity_range.min == 10


def test_payback_is_null_beyond_the_lifetime():
    """One hour of the risk case's low future (20 $/MWh, charged 50 $/MW-h, lifetime 1 year)
    with the capacity forced to 10 MW: it loses money, so it never pays back (null), and its NPV
    is negative; the high future (100 $/MWh) pays back: 50 x 8760 / (100 x 8760) = 0.5 years."""
    cfg = {"site": {"import_mw": 20}, "asic": [chosen("a", 10, 50.0, lo=10.0)], **RATE0}
    low = optimiser.solve(optimiser.build(tiny(cfg, [0], btc_usd=btc_for([20])))).summary["investment"]
    high = optimiser.solve(optimiser.build(tiny(cfg, [0], btc_usd=btc_for([100])))).summary["investment"]
    assert low["payback_years"] is None and low["npv_usd"] < 0
    assert high["payback_years"] == pytest.approx(0.5)
    # a profit that repays the capex only after the lifetime: 30 $/MWh earned, 50 charged over
    # 1 year: operating 30 x 8760 a year against 50 x 8760 of capex: 1.67 years > 1: null
    mid = optimiser.solve(optimiser.build(tiny(cfg, [0], btc_usd=btc_for([30])))).summary["investment"]
    assert mid["operating_profit_usd_per_year"] == pytest.approx(10 * 30 * 8760)
    assert mid["payback_years"] is None


def test_the_report_reads_the_capacity_chosen():
    """summary.json "fleets" (what the report draws the usable power and the curtailment from)
    holds the chosen capacity and the contract that follows, not the range's max."""
    from optimiser.report.data import usable_mw

    sc = tiny({"site": {"import_mw": 300}, "asic": [chosen("a", 100, 45.0)], **RATE0}, [0, 0, 0, 0],
              btc_usd=btc_for([30, 30, 30, 80]))
    res = optimiser.solve(optimiser.build(sc))
    assert res.summary["capacity_mw"]["a"] == pytest.approx(0.0, abs=1e-9)
    assert res.summary["fleets"]["a"]["capacity_mw"] == pytest.approx(0.0, abs=1e-9)
    assert float(np.max(usable_mw(res))) == pytest.approx(0.0, abs=1e-9)
    gpu = {"name": "hall", "capacity_mw": {"max": 20}, "contract_share": 0.5, "contract_usd_per_mw_per_h": 100.0,
           "availability": 1.0, **per_hour(30.0)}
    r2 = optimiser.solve(optimiser.build(tiny({"site": {"import_mw": 50}, "gpu": [gpu], **RATE0}, [30, 30])))
    assert r2.summary["fleets"]["hall"]["capacity_mw"] == pytest.approx(20.0)
    assert r2.summary["fleets"]["hall"]["contract_mw"] == pytest.approx(10.0)


def test_value_of_information_by_benders_matches():
    futs = two_futures(5.0, 40.0, 60.0, 10.0)
    v = value_of_information(futs, method="benders")
    assert (v["ws_usd"], v["rp_usd"], v["eev_usd"], v["evpi_usd"], v["vss_usd"]) == pytest.approx(
        (75.0, 50.0, 0.0, 25.0, 50.0), abs=1e-6)
