"""Carbon: emissions, a carbon price, an emissions cap, attribution and avoided emissions, each
derived by hand (docs/operations.md, "Carbon"). ASICs earn R = 100 $/MWh (tests/test_tiny.py)."""

from __future__ import annotations

import json

import pytest

import optimiser
from optimiser.model import State, Window, state_after
from tests.test_tiny import asic, btc_price_for, solve, tiny


def test_carbon_price_is_a_cost_on_imported_energy():
    """ASIC 10 MW, price 20, average intensity 400 kg/MWh, 50 $/t: each MWh costs 20 + 0.4 x 50 =
    40, the margin is 60: objective 600, cost 'carbon' 200, 4 t emitted; the balance's dual is 40."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "carbon": {"average_column": "avg", "price_usd_per_t": 50}}, [20], avg=[400])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(600.0)
    assert res.summary["cost_usd"]["carbon"] == pytest.approx(200.0)
    assert res.summary["carbon"]["emissions_t"] == pytest.approx(4.0)
    assert res.dispatch["carbon_emissions_kg"].tolist() == pytest.approx([4000.0])
    assert res.dispatch["marginal_value_usd_per_mwh"].iloc[0] == pytest.approx(40.0)


def test_carbon_price_turns_the_asics_off_in_dirty_hours():
    """Average intensity 400 then 1,000 kg/MWh at 100 $/t: 20 + 40 = 60 < 100 runs, 20 + 100 =
    120 > 100 stops. Objective 10 x 40 = 400."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "carbon": {"average_column": "avg", "price_usd_per_t": 100}}, [20, 20], avg=[400, 1000])
    res = solve(sc)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 0])
    assert res.objective_usd == pytest.approx(400.0)


CAP_SITE = {"site": {"import_mw": 10}, "asic": [asic("a", 10)],
            "carbon": {"average_column": "avg", "cap_t": 6.0}}


def test_emissions_cap_and_its_dual():
    """Margin 80 $/MWh both hours; 0.4 then 0.8 t/MWh; a cap of 6 t. The cleaner hour runs
    fully (4 t), the other 2 t buy 2.5 MWh: objective 80 x 12.5 = 1,000. One more kg of cap buys
    1/800 MWh worth 80: the cap's dual is 0.1 $/kg (100 $/t)."""
    res = solve(tiny(CAP_SITE, [20, 20], avg=[400, 800]))
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 2.5])
    assert res.objective_usd == pytest.approx(1000.0)
    assert res.summary["carbon"]["emissions_t"] == pytest.approx(6.0)
    assert res.duals["carbon.cap"].tolist() == pytest.approx([0.1])


def test_cap_carried_across_windows():
    """The window of hour 0 emits 4 t and hands it on; hour 1 then has 2 t left: 2.5 MWh. The two
    windows add up to the one-window 1,000 (the split falls where the optimum has it)."""
    sc = tiny(CAP_SITE, [20, 20], avg=[400, 800])
    m1 = optimiser.build(Window(sc, 0, 1))
    r1 = optimiser.solve(m1)
    state = state_after(m1, r1)
    assert state.emissions_kg == {"horizon": pytest.approx(4000.0)}
    r2 = solve(Window(sc, 1, 2, state))
    assert r2.dispatch["asic_a_mw"].tolist() == pytest.approx([2.5])
    assert r1.objective_usd + r2.objective_usd == pytest.approx(1000.0)
    # a cap already used up is infeasible where the load cannot stop, and says which cap
    gpu = {"name": "g", "capacity_mw": 1, "contract_mw": 1, "contract_usd_per_mw_per_h": 0}
    firm = tiny({"site": {"import_mw": 10}, "gpu": [gpu], "carbon": {"average_column": "avg", "cap_t": 1.0}},
                [20, 20], avg=[400, 800])
    with pytest.raises(optimiser.InfeasibleError, match="emissions cap of 1 t"):
        solve(Window(firm, 1, 2, State(emissions_kg={"horizon": 1000.0})))


def test_monthly_cap_periods():
    """A cap of 2 t per month over two hours in two months (Jan 31 23:00 and Feb 1 00:00 UTC) at
    0.4 t/MWh: 5 MWh each month: objective 80 x 10 = 800."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "carbon": {"average_column": "avg", "cap_t": 2.0, "cap_period": "month"}},
              [20, 20], start="2025-01-31T23:00:00Z", avg=[400, 400])
    res = solve(sc)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([5, 5])
    assert list(res.duals["carbon.cap"].index) == ["2025-01", "2025-02"]


def test_attribution_per_btc_per_gpu_mwh_and_avoided_emissions():
    """ASIC 10 MW (20 J/TH) and a GPU tenant of 5 MW (SLA 0.5 over the two hours, no credit);
    prices 20 then 1,000; average intensity 400, marginal 500 then 900 kg/MWh.
    Hour 0: both run, 15 MW imported: 6 t (average), 7.5 t (marginal); ASICs 4 t, GPUs 2 t.
    Hour 1: the spike: both stop (the SLA allows one hour off): 15 MW handed back at 900 kg/MWh:
    13.5 t avoided. 10 MWh mined at R = 100 $/MWh is 1,000 / P BTC (P the BTC price): 4 P kg per
    BTC; 2 t over 5 GPU MWh: 400 kg/MWh."""
    gpu = {"name": "g", "capacity_mw": 5, "contract_mw": 5, "contract_usd_per_mw_per_h": 200,
           "availability": 0.5, "billing_period": "horizon"}
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10)], "gpu": [gpu],
               "carbon": {"average_column": "avg", "marginal_column": "marg"}},
              [20, 1000], avg=[400, 400], marg=[500, 900])
    res = solve(sc)
    c = res.summary["carbon"]
    assert c["basis"] == "average"
    assert c["emissions_average_t"] == pytest.approx(6.0)
    assert c["emissions_marginal_t"] == pytest.approx(7.5)
    assert c["by_use_t"] == {"asic": pytest.approx(4.0), "gpu": pytest.approx(2.0)}
    assert c["btc_mined"] == pytest.approx(1000.0 / btc_price_for(100.0, 20.0))
    assert c["kg_per_btc"] == pytest.approx(4.0 * btc_price_for(100.0, 20.0))
    assert c["kg_per_gpu_mwh"] == pytest.approx(400.0)
    assert c["handed_back_mwh"] == pytest.approx(15.0)
    assert c["avoided_t"] == pytest.approx(13.5)
    assert res.dispatch["carbon_avoided_kg"].tolist() == pytest.approx([0.0, 13500.0])
    json.dumps(c)  # strict JSON


def test_ppa_power_carries_its_own_intensity():
    """PPA 10 MW at 30 with 100 kg/MWh, ASIC 10 MW, export limit 10. Price 20: the ASICs use the
    PPA: 1 t. Price 1,000: all 10 MW sold back, nothing used on site: 0 t."""
    sc = tiny({"site": {"import_mw": 10, "export_mw": 10}, "ppa": {"volume_mw": 10, "price_usd_per_mwh": 30},
               "asic": [asic("a", 10)], "carbon": {"average_column": "avg", "ppa_kg_per_mwh": 100}},
              [20, 1000], avg=[400, 400])
    res = solve(sc)
    assert res.dispatch["carbon_emissions_kg"].tolist() == pytest.approx([1000.0, 0.0])


@pytest.mark.parametrize("carbon, match", [
    ({}, "average_column or marginal_column"),
    ({"marginal_column": "avg", "basis": "average"}, "carbon.basis"),
    ({"average_column": "avg", "price": 5}, "carbon.price"),
    ({"average_column": "avg", "cap_t": -1}, "carbon.cap_t"),
])
def test_bad_carbon_keys_are_named(carbon, match):
    with pytest.raises(optimiser.InputError, match=match):
        tiny({"site": {"import_mw": 10}, "carbon": carbon}, [20], avg=[400])


def test_intensity_out_of_range_names_the_column():
    with pytest.raises(optimiser.InputError, match="column 'avg'.*not negative"):
        tiny({"site": {"import_mw": 10}, "carbon": {"average_column": "avg"}}, [20], avg=[-5])
