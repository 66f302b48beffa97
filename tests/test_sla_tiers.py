"""GPU SLAs as written (time basis, credit tiers: MIPs): tiny cases whose optimum is derived by
hand.

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
    assert solve(m).objective_usd == pytest.approx(8000 - (10 * 10 + 400 * 10 + 20 * 10))


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
