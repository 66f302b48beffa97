"""Availability and grid outages: tiny cases derived by hand (docs/operations.md, "Availability").

ASICs earn R = 100 $/MWh (tests/test_tiny.py); every number below is worked out in the
docstring of its test.
"""

from __future__ import annotations

import pytest

import optimiser
from optimiser.model import State, Window, state_after
from tests.test_tiny import asic, solve, tiny


def test_asic_capacity_scaled_by_its_availability():
    """ASIC 10 MW, availability 1, 0.5, 0 (maintenance, then a ban): 10, 5 and 0 MW at a margin of
    100 - 20 = 80: objective 80 x 15 = 1,200; 15 MWh unavailable."""
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10, availability_column="a_avail")]},
              [20, 20, 20], a_avail=[1.0, 0.5, 0.0])
    res = solve(sc)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 5, 0])
    assert res.objective_usd == pytest.approx(1200.0)
    assert res.summary["availability"]["unavailable_mwh"] == {"a": pytest.approx(15.0)}


def test_gpu_availability_limits_firm_then_spot_and_counts_as_shortfall():
    """GPU 12 MW (contract 10 MW at 200 $/MW/h, spot 50 $/MWh above it), SLA 0.75 over the
    4-hour horizon (10 MWh of downtime), credit 100 $/MWh; availability 1, 1, 0.5, 1; prices
    10, 20, 20, 20. Running firm costs the price (<= 20) and saves the credit (100): it runs all
    it can. Hour 2: 0.5 x 12 = 6 MW, all firm (min(10, 6)), no spot; 4 MWh short.
    Contract 8,000 - credit 400 - firm energy (100 + 200 + 120 + 200) + spot 2 MW in hours 0, 1, 3
    at 50 - price (80 + 60 + 60) = 7,180."""
    gpu = {"name": "g", "capacity_mw": 12, "contract_mw": 10, "contract_usd_per_mw_per_h": 200,
           "availability": 0.75, "billing_period": "horizon", "sla_credit_usd_per_mwh": 100,
           "spot_usd_per_mwh": 50, "availability_column": "g_avail"}
    sc = tiny({"site": {"import_mw": 20}, "gpu": [gpu]}, [10, 20, 20, 20], g_avail=[1, 1, 0.5, 1])
    res = solve(sc)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 10, 6, 10])
    assert res.dispatch["gpu_g_spot_mw"].tolist() == pytest.approx([2, 2, 0, 2])
    assert res.dispatch["gpu_g_shortfall_mw"].tolist() == pytest.approx([0, 0, 4, 0])
    assert res.objective_usd == pytest.approx(7180.0)


OUTAGE_SITE = {"site": {"import_mw": 10, "export_mw": 5, "ramp_mw_per_h": 4, "outage_column": "down"},
               "ppa": {"volume_mw": 5, "price_usd_per_mwh": 30}, "asic": [asic("a", 10)]}


def test_grid_outage_stops_import_export_and_the_ppa_and_the_ramp_restarts_from_zero():
    """PPA 5 MW at 30 (export limit 5), ASIC 10 MW, import 10, ramp 4 MW/h, price 20, the grid
    down in hour 1. Hour 0: 10 MW (5 PPA + 5 imported): 1,000 - 100 = 900. Hour 1: nothing
    arrives, nothing runs (the load drops 10 MW at once: no ramp into an outage). Hour 2: the load
    ramps up from 0 to 4 MW, the PPA's other 1 MW sold at 20: 400 + 20. The PPA is paid in all
    three hours: 450. Objective 900 + 420 - 450 = 870 (without the outage: 3 x 900 - 450 = 2,250)."""
    res = solve(tiny(OUTAGE_SITE, [20, 20, 20], down=[0, 1, 0]))
    assert res.dispatch["load_mw"].tolist() == pytest.approx([10, 0, 4])
    assert res.dispatch["import_mw"].tolist() == pytest.approx([5, 0, 0])
    assert res.dispatch["export_mw"].tolist() == pytest.approx([0, 0, 1])
    assert res.objective_usd == pytest.approx(870.0)
    assert res.summary["cost_usd"]["ppa"] == pytest.approx(450.0)
    assert res.summary["availability"]["outage_hours"] == 1
    assert solve(tiny(OUTAGE_SITE, [20, 20, 20], down=[0, 0, 0])).objective_usd == pytest.approx(2250.0)


GPU = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 200, "availability": 0.75,
       "billing_period": "horizon", "sla_credit_usd_per_mwh": 100}


def test_outage_uses_the_sla_downtime_budget():
    """GPU 10 MW, SLA 0.75 over 4 hours: 10 MWh of downtime. Prices 10, 20, 500, 300; the grid
    is down in hour 1. Outages count against the SLA: the hour-1 outage uses the whole budget,
    so the 500 hour cannot be curtailed. Contract 8,000 - credit 1,000 - energy
    (10 + 500 + 300) x 10 = -1,100. Without the outage the 500 hour is curtailed instead:
    8,000 - 1,000 - (10 + 20 + 300) x 10 = 3,700."""
    sc = tiny({"site": {"import_mw": 10, "outage_column": "down"}, "gpu": [GPU]}, [10, 20, 500, 300],
              down=[0, 1, 0, 0])
    res = solve(sc)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 0, 10, 10])
    assert res.objective_usd == pytest.approx(-1100.0)
    assert res.summary["gpu_availability"]["g"] == pytest.approx(0.75)
    assert res.summary["availability"]["gpu_sla_breached"] == {}
    no_outage = sc.with_series(down=[0, 0, 0, 0])
    assert solve(no_outage).objective_usd == pytest.approx(3700.0)


def test_outages_beyond_the_budget_breach_the_sla_instead_of_being_infeasible():
    """The grid is down in hours 0 and 1: 20 MWh short, 10 beyond the 10 MWh budget. The SLA row
    then asks for every hour the fleet can run (hours 2 and 3), the credit is owed on all 20 MWh,
    and the summary reports the breach. Contract 8,000 - credit 2,000 - energy (500 + 300) x 10
    = -2,000."""
    sc = tiny({"site": {"import_mw": 10, "outage_column": "down"}, "gpu": [GPU]}, [10, 20, 500, 300],
              down=[1, 1, 0, 0])
    res = solve(sc)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([0, 0, 10, 10])
    assert res.objective_usd == pytest.approx(-2000.0)
    assert res.summary["availability"]["gpu_sla_breached"] == {"g": {"horizon": pytest.approx(10.0)}}
    # carried into a window of hours 2-3: the 20 MWh already short exceed the budget, and the
    # window may still run every hour (an overdrawn budget without outages stays infeasible:
    # tests/test_windows.py)
    w = solve(Window(sc, 2, 4, State(sla_shortfall_mwh={("g", "horizon"): 20.0})))
    assert w.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 10])
    assert w.objective_usd == pytest.approx(4000.0 - 8000.0)


def test_outage_state_carried_across_windows():
    """The grid down in hour 1 of the GPU case: the window of hours 0-1 hands on 10 MWh of
    shortfall (the whole budget), so the window of hours 2-3 must run both hours (500 and 300):
    4,000 - 8,000 = -4,000, and the two windows add up to the one-window -1,100."""
    sc = tiny({"site": {"import_mw": 10, "outage_column": "down"}, "gpu": [GPU]}, [10, 20, 500, 300],
              down=[0, 1, 0, 0])
    m1 = optimiser.build(Window(sc, 0, 2))
    r1 = optimiser.solve(m1)
    state = state_after(m1, r1)
    assert state.sla_shortfall_mwh[("g", "horizon")] == pytest.approx(10.0)
    r2 = solve(Window(sc, 2, 4, state))
    assert r2.objective_usd == pytest.approx(-4000.0)
    assert r1.objective_usd + r2.objective_usd == pytest.approx(-1100.0)


@pytest.mark.parametrize("config, data, match", [
    ({"site": {"import_mw": 10, "outage_column": "down"}}, {"down": [0, 0.5]}, "not 0 or 1"),
    ({"site": {"import_mw": 10}, "asic": [asic("a", 1, availability_column="av")]}, {"av": [1, 1.2]}, "above 1"),
    ({"site": {"import_mw": 10}, "asic": [asic("a", 1, availability_column="av")]}, {}, "av"),
    ({"site": {"import_mw": 10}, "asic": [asic("a", 1, availability_column="  ")]}, {}, "empty column"),
    ({"site": {"import_mw": 10, "outage_column": "difficulty"}}, {}, "site.outage_column"),
])
def test_bad_availability_inputs_name_the_column_or_key(config, data, match):
    with pytest.raises(optimiser.InputError, match=match):
        tiny(config, [20, 20], **data)


def test_a_window_keeps_the_budget_a_later_outage_needs():
    """The grid will be down in hour 3 (10 MWh: the whole budget). The window of hours 0-1 knows
    it and may not curtail the 500 hour: both hours run, 2 x 2,000 - (10 + 500) x 10 = -1,100;
    the window of hours 2-3 runs hour 2 and is down in hour 3: 4,000 - 1,000 - 200 = 2,800.
    Together 1,700, the one-window optimum (8,000 - 1,000 - 5,300)."""
    sc = tiny({"site": {"import_mw": 10, "outage_column": "down"}, "gpu": [GPU]}, [10, 500, 20, 300],
              down=[0, 0, 0, 1])
    assert solve(sc).objective_usd == pytest.approx(1700.0)
    m1 = optimiser.build(Window(sc, 0, 2))
    r1 = optimiser.solve(m1)
    assert r1.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 10])
    assert r1.objective_usd == pytest.approx(-1100.0)
    r2 = solve(Window(sc, 2, 4, state_after(m1, r1)))
    assert r2.objective_usd == pytest.approx(2800.0)
