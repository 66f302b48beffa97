"""GPU SLAs as written (time basis, credit tiers: MIPs) and contract-period capacity products:
tiny cases whose optimum is derived by hand.

Unless said otherwise: a GPU fleet of 10 MW, all of it contracted at 200 $/MW/h (pue 1, no
O&M), so the contract pays 2,000 $ an hour whatever is delivered and each MWh delivered costs
the hour's price; the ASIC of tests.test_tiny earns 100 $/MWh.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimiser
from optimiser.errors import InputError
from optimiser.model import State, Window, state_after
from tests.test_tiny import asic, tiny


def solve(sc_or_m) -> optimiser.Results:
    m = sc_or_m if hasattr(sc_or_m, "dispatch") else optimiser.build(sc_or_m)
    return optimiser.solve(m, rel_gap=0.0)


def gpu(**kw) -> dict:
    return {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 200,
            "billing_period": "horizon", **kw}


# ------------------------------------------------------------------------------------------------
# availability_basis = "time"
# ------------------------------------------------------------------------------------------------


def test_partial_hour_counts_under_energy_not_under_time():
    """Availability 0.75 over 4 hours; half the fleet is out in hour 0 (firm <= 5 MW there).
    Prices 10, 500, 400, 20; revenue 4 x 2,000 = 8,000.

    Energy basis: a budget of 0.25 x 40 = 10 MWh of shortfall. Hour 0 is short 5 MWh whatever
    happens; the other 5 MWh go in the dearest hour (500): firm 5, 5, 10, 10, energy
    10 x 5 + 500 x 5 + 400 x 10 + 20 x 10 = 6,750, objective 1,250.

    Time basis: a budget of floor(0.25 x 4) = 1 hour. Hour 0 cannot deliver the whole contract,
    so it is that hour; every other hour must deliver all 10 MW, and hour 0, down anyway, is
    best at 0 MW: firm 0, 10, 10, 10, energy 5,000 + 4,000 + 200 = 9,200, objective -1,200.
    """
    cfg = {"site": {"import_mw": 10}, "gpu": [gpu(availability=0.75)]}
    prices = [10, 500, 400, 20]
    m = optimiser.build(tiny(cfg, prices))
    m.gpu.firm["g", 0].setub(5)
    res = solve(m)
    assert res.objective_usd == pytest.approx(1250.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([5, 5, 10, 10])
    assert res.summary["gpu_availability"]["g"] == pytest.approx(0.75)

    cfg["gpu"] = [gpu(availability=0.75, availability_basis="time")]
    m = optimiser.build(tiny(cfg, prices))
    m.gpu.firm["g", 0].setub(5)
    res = solve(m)
    assert res.objective_usd == pytest.approx(-1200.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([0, 10, 10, 10])
    assert res.summary["gpu_availability"]["g"] == pytest.approx(0.75)  # 3 of 4 hours whole
    assert res.summary["gpu_availability_basis"] == {"g": "time"}
    assert res.summary["solver"]["termination"] == "Optimal"


def test_relaxing_the_binaries_is_a_users_edit():
    """The case above with the time basis and ``m.gpu.up`` made continuous (the LP relaxation):
    up may be 0.5 where firm is 5 MW, so it is the energy basis again: 1,250."""
    import pyomo.environ as pyo

    sc = tiny({"site": {"import_mw": 10}, "gpu": [gpu(availability=0.75, availability_basis="time")]},
              [10, 500, 400, 20])
    m = optimiser.build(sc)
    m.gpu.firm["g", 0].setub(5)
    m.gpu.up.domain = pyo.NonNegativeReals
    res = solve(m)
    assert res.solution.lp.integrality is None or not res.solution.lp.integrality.any()
    assert res.objective_usd == pytest.approx(1250.0)


def test_time_basis_takes_whole_hours_only():
    """Availability 0.625 over 4 hours, prices 10, 500, 400, 20, no outage.

    Energy: a budget of 15 MWh: all 10 of the 500 hour and 5 of the 400 hour: energy
    100 + 0 + 2,000 + 200 = 2,300, objective 5,700.
    Time: floor(0.375 x 4) = 1 whole hour (1.5 rounds down): the 500 hour; energy
    100 + 4,000 + 200 = 4,300, objective 3,700.
    """
    prices = [10, 500, 400, 20]
    energy = solve(tiny({"site": {"import_mw": 10}, "gpu": [gpu(availability=0.625)]}, prices))
    assert energy.objective_usd == pytest.approx(5700.0)
    assert energy.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 0, 5, 10])
    timed = solve(tiny({"site": {"import_mw": 10}, "gpu": [gpu(availability=0.625, availability_basis="time")]},
                       prices))
    assert timed.objective_usd == pytest.approx(3700.0)
    assert timed.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 0, 10, 10])


def test_time_basis_model_is_a_mip_of_registered_binaries():
    sc = tiny({"site": {"import_mw": 10}, "gpu": [gpu(availability=0.75, availability_basis="time")]},
              [10, 500, 400, 20])
    m = optimiser.build(sc)
    from optimiser.lp import compile_lp

    lp = compile_lp(m)
    start, size = lp.var_names["gpu.up"]
    assert size == 4 and lp.integrality[start : start + size].tolist() == [1, 1, 1, 1]
    assert lp.integrality.sum() == 4  # nothing else is integer
    # Pyomo sees the same domain (the model of record), and reading it changes nothing
    import pyomo.environ as pyo

    assert m.gpu.up["g", 0].domain is pyo.NonNegativeIntegers and m.gpu.up["g", 0].ub == 1
    lp2 = compile_lp(m)
    assert lp2.integrality.tolist() == lp.integrality.tolist()
    # the MIP defaults, recorded: presolve on, HiGHS's own LP choice, a relative gap of 1e-4
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(8000 - (10 * 10 + 400 * 10 + 20 * 10))  # the 500 hour off
    opts = res.summary["solver"]["options"]
    assert (opts["presolve"], opts["solver"], opts["mip_rel_gap"]) == ("on", "choose", 1e-4)
    assert not any("not available for MIP" in w for w in res.summary["solver"]["highs_warnings"])
    # a MIP's duals are those of the LP with its integers fixed at the answer: the price where the
    # site imports; 0 where the GPU is off and the MW could go nowhere (no export)
    assert res.dispatch["marginal_value_usd_per_mwh"].tolist() == pytest.approx([10, 0, 400, 20])


def test_time_basis_down_hours_carried_into_the_window():
    """Availability 0.5 over 4 hours (time): 2 hours may be down. One was used before the
    window (hours 2-3, prices 300 and 200): only the 300 hour may still be down. Objective
    2 x 2,000 - 200 x 10 = 2,000; the state handed on counts 2 down hours."""
    sc = tiny({"site": {"import_mw": 10}, "gpu": [gpu(availability=0.5, availability_basis="time")]},
              [10, 20, 300, 200])
    w = Window(sc, 2, 4, State(sla_down_hours={("g", "horizon"): 1.0}))
    m = optimiser.build(w)
    res = solve(m)
    assert res.objective_usd == pytest.approx(2000.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([0, 10])
    after = state_after(m, res)
    assert after.sla_down_hours[("g", "horizon")] == pytest.approx(2.0)
    assert after.sla_shortfall_mwh[("g", "horizon")] == pytest.approx(10.0)
    with pytest.raises(optimiser.InfeasibleError, match="counted in hours"):
        solve(Window(sc, 2, 4, State(sla_down_hours={("g", "horizon"): 3.0})))


# ------------------------------------------------------------------------------------------------
# sla_credit_tiers
# ------------------------------------------------------------------------------------------------

TEN_HOURS = [10, 1000, 300, 10, 10, 10, 10, 10, 10, 10]


@pytest.mark.parametrize("basis", ["energy", "time"])
def test_paying_the_ten_percent_tier_beats_meeting_the_sla(basis):
    """10 hours, contract revenue 10 x 2,000 = 20,000; tier: below 0.9 owes 10 % of the
    period's fee 200 x 10 x 10 = 20,000, i.e. 2,000; floor 0.8.

    Energy of a full delivery: 10 x (8 x 10 + 1,000 + 300) = 13,800. The free budget (10 MWh,
    or 1 hour) goes on the 1,000 hour: 3,800, objective 16,200. Taking the 300 hour off too
    (availability 0.8, in the tier) saves 3,000 for a credit of 2,000: 800 + 2,000 = 2,800,
    objective 17,200, the optimum.
    """
    g = gpu(availability=0.8, availability_basis=basis, sla_credit_tiers=[{"below": 0.9, "credit": 0.1}])
    res = solve(tiny({"site": {"import_mw": 10}, "gpu": [g]}, TEN_HOURS))
    assert res.objective_usd == pytest.approx(17200.0)
    assert res.summary["cost_usd"]["gpu_g_sla_credit"] == pytest.approx(2000.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist()[:3] == pytest.approx([10, 0, 0])
    assert res.summary["gpu_sla_credit_share_by_period"] == {"g": {"horizon": pytest.approx(0.1)}}
    assert res.summary["gpu_availability_by_period"]["g"]["horizon"] == pytest.approx(0.8)
    # the credit is booked to the period's last hour: profit_usd still adds up
    assert res.dispatch["profit_usd"].sum() == pytest.approx(17200.0)


@pytest.mark.parametrize("basis", ["energy", "time"])
def test_meeting_the_sla_beats_paying_the_tier(basis):
    """As above with the second spike at 150: taking it off saves 1,500 < 2,000. Full energy
    12,300; meeting the SLA: 2,300, objective 17,700 (paying: 800 + 2,000 = 2,800, 17,200)."""
    prices = TEN_HOURS[:2] + [150] + TEN_HOURS[3:]
    g = gpu(availability=0.8, availability_basis=basis, sla_credit_tiers=[{"below": 0.9, "credit": 0.1}])
    res = solve(tiny({"site": {"import_mw": 10}, "gpu": [g]}, prices))
    assert res.objective_usd == pytest.approx(17700.0)
    assert res.summary["cost_usd"].get("gpu_g_sla_credit", 0.0) == pytest.approx(0.0, abs=1e-6)
    assert res.dispatch["gpu_g_firm_mw"].tolist()[:3] == pytest.approx([10, 0, 10])
    assert res.summary["gpu_sla_credit_share_by_period"]["g"]["horizon"] == 0.0


def test_the_deepest_tier_worth_paying_is_chosen():
    """Tiers below 0.9 (10 %: 2,000) and below 0.8 (25 %: 5,000), no floor. Prices: 1,000,
    900, 800 and 10 elsewhere. Each further hour off saves its price x 10:
    - no credit (1 hour off): saves 10,000;
    - 10 % (down to 0.8: 2 hours off): saves 19,000 - 2,000 = 17,000;
    - 25 % (below 0.8: every hour off): saves all 10 hours' energy 27,700 - 5,000 = 22,700.
    So the whole period goes dark and pays 25 %: objective 20,000 - 5,000 = 15,000.
    """
    prices = [1000, 900, 800] + [10] * 7
    tiers = [{"below": 0.8, "credit": 0.25}, {"below": 0.9, "credit": 0.1}]  # any order
    res = solve(tiny({"site": {"import_mw": 10}, "gpu": [gpu(sla_credit_tiers=tiers)]}, prices))
    assert res.objective_usd == pytest.approx(15000.0)
    assert res.summary["cost_usd"]["gpu_g_sla_credit"] == pytest.approx(5000.0)
    assert res.dispatch["gpu_g_firm_mw"].sum() == pytest.approx(0.0, abs=1e-6)
    # with a floor of 0.7 the 25 % tier covers 0.7 .. 0.8: 3 hours off, saving 27,000 - 5,000 =
    # 22,000 > 17,000: energy 7 x 100 = 700, objective 20,000 - 700 - 5,000 = 14,300
    res = solve(tiny({"site": {"import_mw": 10}, "gpu": [gpu(availability=0.7, sla_credit_tiers=tiers)]}, prices))
    assert res.objective_usd == pytest.approx(14300.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist()[:4] == pytest.approx([0, 0, 0, 10])


def test_tier_already_owed_is_not_charged_again_in_a_later_window():
    """The first 8 hours of TEN_HOURS used 20 MWh of shortfall (availability 0.8 so far, the
    10 % tier: 2,000 owed already). The window (2 hours at 10) may not go below the floor 0.8
    and owes nothing more: objective 2 x 2,000 - 2 x 10 x 10 = 3,800."""
    g = gpu(availability=0.8, sla_credit_tiers=[{"below": 0.9, "credit": 0.1}])
    sc = tiny({"site": {"import_mw": 10}, "gpu": [g]}, TEN_HOURS)
    res = solve(Window(sc, 8, 10, State(sla_shortfall_mwh={("g", "horizon"): 20.0})))
    assert res.objective_usd == pytest.approx(3800.0)
    assert res.summary["cost_usd"].get("gpu_g_sla_credit", 0.0) == pytest.approx(0.0, abs=1e-6)
    assert res.summary["gpu_sla_credit_share_by_period"]["g"]["horizon"] == pytest.approx(0.1)


@pytest.mark.parametrize("basis", ["energy", "time"])
def test_a_credit_is_paid_once_however_the_period_is_split(basis):
    """TEN_HOURS in two windows of 5 hours. The first sees the 1,000 and 300 hours and takes both
    off, paying the 10 % tier: 5 x 2,000 - 3 x 100 - 2,000 = 7,700. The second inherits 20 MWh
    (2 hours) of downtime, at the floor, with the tier already owed: 5 x 2,000 - 5 x 100 =
    9,500. Together 17,200, the one-window optimum."""
    g = gpu(availability=0.8, availability_basis=basis, sla_credit_tiers=[{"below": 0.9, "credit": 0.1}])
    sc = tiny({"site": {"import_mw": 10}, "gpu": [g]}, TEN_HOURS)
    m1 = optimiser.build(Window(sc, 0, 5))
    r1 = solve(m1)
    assert r1.objective_usd == pytest.approx(7700.0)
    r2 = solve(Window(sc, 5, 10, state_after(m1, r1)))
    assert r2.objective_usd == pytest.approx(9500.0)
    assert r2.summary["cost_usd"].get("gpu_g_sla_credit", 0.0) == pytest.approx(0.0, abs=1e-6)
    assert r2.summary["gpu_sla_credit_share_by_period"]["g"]["horizon"] == pytest.approx(0.1)


def test_tiers_are_checked_naming_the_key():
    base = {"site": {"import_mw": 10}}
    tiers = [{"below": 0.9, "credit": 0.1}]
    cases = [
        (gpu(sla_credit_tiers=tiers, sla_credit_usd_per_mwh=100), "gpu[0].sla_credit_tiers", "not both"),
        (gpu(sla_credit_tiers=tiers, availability=0.95), "gpu[0].availability", "hard floor"),
        (gpu(sla_credit_tiers=[{"below": 0.9, "credit": 0.3}, {"below": 0.8, "credit": 0.1}]),
         "gpu[0].sla_credit_tiers", "at least as much"),
        (gpu(sla_credit_tiers=[{"below": 0.9, "credit": 0.1}, {"below": 0.9, "credit": 0.2}]),
         "gpu[0].sla_credit_tiers", "own threshold"),
        (gpu(sla_credit_tiers=[{"below": 0.0, "credit": 0.1}]), "gpu[0].sla_credit_tiers[0].below", "out of range"),
        (gpu(sla_credit_tiers=[{"below": 0.9, "credit": 1.5}]), "gpu[0].sla_credit_tiers[0].credit", "out of range"),
        (gpu(sla_credit_tiers=[{"below": 0.9, "credit": 0.1, "credt": 1}]), "gpu[0].sla_credit_tiers[0].credt",
         "unknown key"),
        (gpu(availability_basis="hours"), "gpu[0].availability_basis", "energy"),
    ]
    for g, key, words in cases:
        with pytest.raises(InputError) as err:
            tiny({**base, "gpu": [g]}, [10])
        assert any(p.key == key and words in p.message for p in err.value.problems), (key, err.value.problems)


def test_a_tier_below_the_floor_never_applies():
    """Floor 0.85: the tier below 0.8 is left out; the one below 0.9 covers 0.85 .. 0.9."""
    from optimiser.scenario import GpuFleet

    g = GpuFleet(**gpu(availability=0.85, sla_credit_tiers=[{"below": 0.9, "credit": 0.1},
                                                           {"below": 0.8, "credit": 0.5}]))
    assert [t.below for t in g.tiers] == [0.9]


# ------------------------------------------------------------------------------------------------
# capacity products
# ------------------------------------------------------------------------------------------------


def ers(**kw) -> dict:
    return {"name": "ers", "usd_per_mw": 80.0, "max_mw": 8, "designated_hours_column": "ers_hours", **kw}


def test_capacity_product_paid_when_standing_ready_is_worth_it():
    """ASIC 10 MW (R 100), prices 20, 20, 150, 20: without the product it runs in hours 0, 1, 3
    (80 x 10 x 3 = 2,400) and stops at 150. Designated hours 1 and 2: each MW committed must run
    in hour 2 too, losing 50. At 80 $/MW it pays 30 a MW: 8 MW (max_mw), objective
    2,400 + 8 x 30 = 2,640. At 30 $/MW it does not: nothing committed, 2,400."""
    cfg = {"site": {"import_mw": 10}, "asic": [asic("a", 10)], "capacity_product": [ers()]}
    flags = [0, 1, 1, 0]
    res = solve(tiny(cfg, [20, 20, 150, 20], ers_hours=flags))
    assert res.objective_usd == pytest.approx(2640.0)
    assert res.summary["revenue_usd"]["capacity_ers"] == pytest.approx(640.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10, 8, 10])
    assert res.dispatch["capacity_ers_mw"].tolist() == pytest.approx([8, 8, 8, 8])
    assert res.summary["capacity_product"] == {"ers": {"horizon": {"committed_mw": pytest.approx(8.0),
                                                                   "designated_hours": 2, "paid_share": 1.0}}}
    assert res.summary["energy_mwh"]["capacity_ers_committed"] == pytest.approx(16.0)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(2640.0)

    cfg["capacity_product"] = [ers(usd_per_mw=30.0)]
    res = solve(tiny(cfg, [20, 20, 150, 20], ers_hours=flags))
    assert res.objective_usd == pytest.approx(2400.0)
    assert res.dispatch["capacity_ers_mw"].tolist() == pytest.approx([0, 0, 0, 0])


def test_capacity_product_periods_and_proration():
    """Two contract periods: hours 0-1 and hours 2-5, the horizon holding only hours 0-3 (so the
    second period is half in it, paid half). Every hour of a period is designated. ASIC 10 MW
    (R 100) at prices 20, 150, 20, 150: a MW committed runs at a loss of 50 in hour 1 (first
    period) and in hour 3 (second). At 80 $/MW: the first period earns 80 - 50 = 30 a MW
    (commit 8); the second 40 - 50 < 0 (commit 0). Objective: ASIC 80 x 10 x 2 (hours 0, 2) + 8 x 30
    = 1,840."""
    periods = [{"start": "2025-01-01T00:00:00Z", "end": "2025-01-01T02:00:00Z"},
               {"start": "2025-01-01T02:00:00Z", "end": "2025-01-01T06:00:00Z"}]
    cfg = {"site": {"import_mw": 10}, "asic": [asic("a", 10)],
           "capacity_product": [ers(designated_hours_column=None, periods=periods)]}
    sc = tiny(cfg, [20, 150, 20, 150])
    assert any("2 of the 4 hours" in w for w in sc.warnings)
    res = solve(sc)
    assert res.objective_usd == pytest.approx(1840.0)
    assert res.dispatch["capacity_ers_mw"].tolist() == pytest.approx([8, 8, 0, 0])
    summ = res.summary["capacity_product"]["ers"]
    assert summ["2025-01-01T00:00Z"]["committed_mw"] == pytest.approx(8.0)
    assert summ["2025-01-01T02:00Z"]["paid_share"] == pytest.approx(0.5)


def test_capacity_product_and_reserves_share_the_curtailable_load():
    """ASIC 10 MW (R 100), price 20 every hour: it runs flat out. RRS pays 3 $/MW/h on up to
    10 MW; ERS (designated hour 1 only) pays X per MW for the horizon. One MW of curtailable
    load is sold once: in hour 1 ERS and RRS share the 10 MW.
    X = 2: RRS everywhere (4 x 3 x 10 = 120), no ERS: 3,200 + 120 = 3,320.
    X = 5: ERS 10 MW (50) and RRS only in the other three hours (90): 3,200 + 140 = 3,340."""
    cfg = {"site": {"import_mw": 10}, "asic": [asic("a", 10)],
           "reserve": [{"product": "rrs", "price_column": "rrs", "max_mw": 10, "eligible": ["asic"]}],
           "capacity_product": [ers(usd_per_mw=2.0, max_mw=10, eligible=["asic"])]}
    kw = {"rrs": [3.0] * 4, "ers_hours": [0, 1, 0, 0]}
    res = solve(tiny(cfg, [20] * 4, **kw))
    assert res.objective_usd == pytest.approx(3320.0)
    assert res.dispatch["reserve_rrs_mw"].tolist() == pytest.approx([10] * 4)
    cfg["capacity_product"] = [ers(usd_per_mw=5.0, max_mw=10, eligible=["asic"])]
    res = solve(tiny(cfg, [20] * 4, **kw))
    assert res.objective_usd == pytest.approx(3340.0)
    assert res.dispatch["reserve_rrs_mw"].tolist() == pytest.approx([10, 0, 10, 10])
    assert res.dispatch["capacity_ers_mw"].tolist() == pytest.approx([10] * 4)


def test_capacity_product_backed_by_a_battery():
    """A battery (5 MW, 10 MWh, lossless, 5 MWh stored, the end worth nothing) alone backs ERS
    (80 $/MW, every hour of two, price 20). On call it can stop charging and discharge 5 MW from
    what it held at the hour's start: C <= charge_0 + 5 and C <= charge_1 + (5 + charge_0).
    Charging C - 5 in each hour, the store reaches 2C - 5 <= 10 MWh: C = 7.5, charged 2.5 MW
    twice (100). Objective 80 x 7.5 - 100 = 500."""
    cfg = {"site": {"import_mw": 10},
           "battery": [{"name": "b", "power_mw": 5, "energy_mwh": 10, "round_trip_efficiency": 1.0,
                        "end_value_usd_per_mwh": 0.0}],
           "capacity_product": [ers(designated_hours_column=None, eligible=["battery"])]}
    res = solve(tiny(cfg, [20, 20]))
    assert res.objective_usd == pytest.approx(500.0)
    assert res.dispatch["capacity_ers_mw"].tolist() == pytest.approx([7.5, 7.5])
    assert res.dispatch["battery_b_charge_mw"].tolist() == pytest.approx([2.5, 2.5])


def test_capacity_commitment_carried_into_the_window():
    """A window over hours 2-3 of the first test's scenario, with 8 MW committed before it: the
    ASIC must run 8 MW at 150 in hour 2 (-400) and 10 MW at 20 in hour 3 (800); the window
    earns half the payment (2 of 4 hours): 8 x 80 / 2 = 320. Objective 720. A commitment the
    eligible load cannot carry is infeasible, naming the product."""
    cfg = {"site": {"import_mw": 10}, "asic": [asic("a", 10)], "capacity_product": [ers()]}
    sc = tiny(cfg, [20, 20, 150, 20], ers_hours=[0, 1, 1, 0])
    w = Window(sc, 2, 4, State(capacity_mw={("ers", "horizon"): 8.0}))
    m = optimiser.build(w)
    res = solve(m)
    assert res.objective_usd == pytest.approx(720.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([8, 10])
    assert state_after(m, res).capacity_mw[("ers", "horizon")] == pytest.approx(8.0)
    sc_small = tiny({**cfg, "capacity_product": [ers(max_mw=20)]}, [20, 20, 150, 20], ers_hours=[0, 1, 1, 0])
    with pytest.raises(optimiser.InfeasibleError, match="capacity product 'ers'"):
        solve(Window(sc_small, 2, 4, State(capacity_mw={("ers", "horizon"): 12.0})))


def test_capacity_product_config_is_checked_naming_the_key():
    base = {"site": {"import_mw": 10}, "asic": [asic("a", 10)]}
    periods = [{"start": "2025-01-01T00:00:00Z", "end": "2025-01-01T03:00:00Z"},
               {"start": "2025-01-01T02:00:00Z", "end": "2025-01-01T04:00:00Z"}]
    cases = [
        ({"capacity_product": [ers(periods=periods)]}, "capacity_product[0].periods", "overlap"),
        ({"capacity_product": [ers(periods=[{"start": "2025-01-01T02:00:00Z", "end": "2025-01-01T01:00:00Z"}])]},
         "capacity_product[0].periods[0].end", "before it starts"),
        ({"capacity_product": [ers(usd_per_mw=-1.0)]}, "capacity_product[0].usd_per_mw", "out of range"),
        ({"capacity_product": [ers(eligible=["gpu"])]}, "capacity_product[0].eligible", "none with capacity"),
        ({"capacity_product": [ers(), ers()]}, "capacity_product", "used twice"),
        ({"capacity_product": [ers(designated_hours_column="btc_usd")]},
         "capacity_product[0].designated_hours_column", "one role"),
        ({"capacity_product": [ers(max_mw=5, maxmw=3)]}, "capacity_product[0].maxmw", "unknown key"),
    ]
    for extra, key, words in cases:
        with pytest.raises(InputError) as err:
            tiny({**base, **extra}, [20, 20], ers_hours=[0, 1])
        assert any(p.key == key and words in p.message for p in err.value.problems), (key, err.value.problems)
    with pytest.raises(InputError) as err:
        tiny({**base, "capacity_product": [ers()]}, [20, 20], ers_hours=[0, 0.5])
    assert any(p.column == "ers_hours" and "neither 0 nor 1" in p.message for p in err.value.problems)
    sc = tiny({**base, "capacity_product": [ers()]}, [20, 20], ers_hours=[0, 0])
    assert any("flags no designated hour" in w for w in sc.warnings)


def test_the_documented_examples_parse():
    """The ``[[gpu]]`` tiers and ``[[capacity_product]]`` snippets of docs/scenario.md are valid."""
    import re
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from optimiser.scenario import parse_config

    doc = (Path(__file__).parent.parent / "docs" / "scenario.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", doc, re.S)
    tiers = next(b for b in blocks if "sla_credit_tiers" in b)
    (g,) = parse_config({"site": {"import_mw": 100}, **tomllib.loads(tiers)}).gpu
    assert (g.availability_basis, g.availability, [t.below for t in g.tiers]) == ("time", 0.95, [0.999, 0.995, 0.99])
    product = next(b for b in blocks if "[[capacity_product]]" in b)
    (p,) = parse_config({"site": {"import_mw": 100}, **tomllib.loads(product)}).capacity_product
    assert (p.name, p.usd_per_mw, p.periods[0].hours) == ("ers", 6000.0, 122 * 24)
