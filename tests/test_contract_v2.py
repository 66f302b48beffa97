"""Contract v2, "bill what the meter bills": tiny cases derived by hand, one per new term.

- ``site.metering``: ``"load"`` (default) bills the energy adder, the demand charge and the
  coincident peak on the site's whole draw, ``"net"`` on the import (v1); energy bought and sold
  at the price stays on import and export under both.
- The demand charge bills each month's peak times the month's share of hours in the horizon.
- The coincident peak bills each calendar year's rate over that year's listed intervals.
- ``power_passthrough_usd_per_mwh``: the GPU tenant pays for what its fleet draws at the meter.
- Every run says it assumes perfect foresight.

As in tests/test_tiny.py, an ASIC at 20 J/TH earns R = 100 $/MWh.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import optimiser
from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.model import Window, state_after
from optimiser.model.tariffs import calendar_month_hours
from tests.test_tiny import asic, solve, tiny

#: A must-take PPA of 10 MW at 30 $/MWh, sold back up to 10 MW.
PPA_SITE = {"import_mw": 10, "export_mw": 10, "energy_adder_usd_per_mwh": 4}
PPA = {"volume_mw": 10, "price_usd_per_mwh": 30}


# -- metering: load against net ------------------------------------------------------------------


def metering_case(metering: str) -> optimiser.Scenario:
    """Two January hours (UTC) at 20 $/MWh; PPA 10 MW at 30; ASIC 8 MW (R 100); adder 4 $/MWh;
    a coincident peak of 80 $/MW-year on hour 0 (the one interval listed in 2025, so 80 $/MW);
    a demand charge of 3,720 $/MW-month (2 of January's 744 hours: 10 $/MW for the horizon)."""
    return tiny({"site": {**PPA_SITE, "metering": metering}, "ppa": PPA, "asic": [asic("a", 8)],
                 "demand_charge": {"usd_per_mw_month": 3720.0},
                 "coincident_peak": {"usd_per_mw_year": 80.0, "intervals": ["2025-01-01T00:00:00Z"]}},
                [20, 20])


def test_net_metering_bills_only_the_import():
    """The PPA covers the 8 MW load: nothing is imported, so nothing is metered. Each hour mines
    8 MW (800) and sells the 2 MW left at 20 (40); the PPA costs 2 x 300:
    2 x 840 - 600 = 1,080."""
    res = solve(metering_case("net"))
    assert res.objective_usd == pytest.approx(1080.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([8, 8])
    cost = res.summary["cost_usd"]
    assert cost["energy_adder"] == pytest.approx(0.0, abs=1e-9)
    assert cost["demand_charge"] == pytest.approx(0.0, abs=1e-9)
    assert cost["coincident_peak"] == pytest.approx(0.0, abs=1e-9)


def test_load_metering_bills_the_whole_draw():
    """Every MW drawn is metered. Hour 0 (the coincident peak): a MW mined earns 100 but pays the
    adder 4 and the 80 $/MW peak charge, 16 net, less than the 20 it sells for: the ASIC stops
    and the 10 MW are sold (200). Hour 1: 100 - 4 = 96 a MW, less 10 $/MW of demand charge on
    the month's 8 MW peak, beats 20: it mines 8 MW (800 - 32 adder) and sells 2 (40).
    200 + 808 - 80 demand charge - 600 PPA = 328."""
    res = solve(metering_case("load"))
    assert res.objective_usd == pytest.approx(328.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([0, 8])
    assert res.dispatch["export_mw"].tolist() == pytest.approx([10, 2])
    s = res.summary
    assert s["cost_usd"]["energy_adder"] == pytest.approx(32.0)
    assert s["cost_usd"]["demand_charge"] == pytest.approx(80.0)
    assert s["cost_usd"]["coincident_peak"] == pytest.approx(0.0, abs=1e-9)
    assert s["revenue_usd"]["energy_sales"] == pytest.approx(240.0)
    assert s["cost_usd"]["energy_purchases"] == pytest.approx(0.0, abs=1e-9)
    assert res.dispatch["profit_usd"].sum() == pytest.approx(328.0)


def test_the_default_is_load_metering():
    cfg = tiny({"site": PPA_SITE, "asic": [asic("a", 8)]}, [20]).config
    assert cfg.site.metering == "load"


@pytest.mark.parametrize("metering", ["load", "net"])
def test_without_a_ppa_load_and_import_are_the_same_meter(metering):
    """No PPA, no export: the import is the load. 8 MW mined at 20 with the adder 4:
    8 x (100 - 24) = 608 under either metering."""
    sc = tiny({"site": {"import_mw": 10, "energy_adder_usd_per_mwh": 4, "metering": metering},
               "asic": [asic("a", 8)]}, [20])
    assert solve(sc).objective_usd == pytest.approx(608.0)


def test_load_metering_nets_import_and_export_in_an_hour():
    """Under load metering buying and selling the same MW in one hour is a wash (the adder is on
    the load): the answer never reports both, and the energy streams are the net's. PPA 10 MW,
    ASIC 8 MW, price 20: 2 MW sold, nothing bought."""
    res = solve(metering_case("load"))
    assert res.solution.value("site.grid_import") == pytest.approx([0, 0], abs=1e-9)
    assert res.solution.value("site.grid_export") == pytest.approx([10, 2], abs=1e-9)


# -- batteries behind the meter under load metering --------------------------------------------------


def test_battery_discharge_lowers_the_metered_draw_but_never_below_zero():
    """Two January hours at 20 $/MWh, no PPA, export up to 10 MW; ASIC 10 MW (R 100); a battery
    of 5 MW / 5 MWh (round trip 1) holding 2.5 MWh, its end energy worth 0; a coincident peak of
    90 $/MW on hour 1, more than mining's 80 margin.

    Hour 0: mine 10 and charge 2.5 (import 12.5 at 20: 250). Hour 1: discharge 5 MW into 5 MW
    of mining; the other 5 MW of ASIC stop (each would pay 90 for 80). Metered: 12.5, then the
    load less the discharge, 5 - 5 = 0. Objective 1,000 + 500 - 250 = 1,250.

    Were a discharge beyond the load a credit on the meter, stopping all mining and exporting
    the 5 MW (100, and a 5 x 90 = 450 credit) would earn 1,300: the meter never runs below 0.
    """
    bat = {"name": "b", "power_mw": 5, "energy_mwh": 5, "round_trip_efficiency": 1.0, "initial_soc": 0.5,
           "end_value_usd_per_mwh": 0.0}
    sc = tiny({"site": {"import_mw": 20, "export_mw": 10}, "asic": [asic("a", 10)], "battery": [bat],
               "coincident_peak": {"usd_per_mw_year": 90.0, "intervals": ["2025-01-01T01:00:00Z"]}}, [20, 20])
    m = optimiser.build(sc)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1250.0)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 5])
    assert res.dispatch["battery_b_discharge_mw"].iloc[1] == pytest.approx(5.0)
    assert res.summary["cost_usd"]["coincident_peak"] == pytest.approx(0.0, abs=1e-9)
    metered = res.solution.value(m.site.metered)
    assert metered[0] >= 12.5 - 1e-9 and metered[1] == pytest.approx(0.0, abs=1e-9)


# -- the demand charge on each month's share -----------------------------------------------------------


@pytest.mark.parametrize("labels, timezone, hours", [
    (["2025-01", "2024-02", "2025-04"], "UTC", [744, 696, 720]),
    (["2025-03", "2025-11", "2025-07"], "America/Chicago", [743, 721, 744]),  # daylight saving
    (["2025-01"], "Asia/Kolkata", [744]),  # a month starting at 18:30 UTC
])
def test_calendar_month_hours(labels, timezone, hours):
    assert calendar_month_hours(labels, timezone).tolist() == hours


def test_a_partial_month_pays_its_share_of_hours():
    """Five hours inside January (744 h) at 20 $/MWh; ASIC 10 MW flat out, a 10 MW peak; demand
    charge 7,440 $/MW-month: 7,440 x 10 x 5/744 = 500. Objective 5 x 10 x 80 - 500 = 3,500."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)], "demand_charge": {"usd_per_mw_month": 7440.0}},
              [20] * 5, start="2025-01-10T08:00:00Z")
    res = solve(sc)
    assert res.summary["cost_usd"]["demand_charge"] == pytest.approx(500.0)
    assert res.objective_usd == pytest.approx(3500.0)


def test_a_whole_month_pays_the_full_rate():
    """All of March 2025 in America/Chicago: 743 hours (clocks spring forward), share 1. ASIC
    10 MW flat out at 20 $/MWh: 743 x 800 - 9,000 x 10 = 504,400."""
    sc = tiny({"timezone": "America/Chicago", "site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "demand_charge": {"usd_per_mw_month": 9000.0}}, [20] * 743, start="2025-03-01T06:00:00Z")
    assert sc.local_timestamps()[-1].strftime("%Y-%m-%d %H:%M") == "2025-03-31 23:00"
    res = solve(sc)
    assert res.summary["cost_usd"]["demand_charge"] == pytest.approx(90000.0)
    assert res.objective_usd == pytest.approx(743 * 800 - 90000.0)


def test_a_horizon_across_a_month_end_pays_each_month_its_share():
    """2025-01-31T22:00Z .. 2025-02-01T02:00Z (UTC): 2 hours of January (744 h), 2 of February
    (672 h). ASIC 10 MW at 20 $/MWh in January; in February the price is 95, so each MW earns 5
    an hour and 10 for the two hours. Demand charge 6,720 $/MW-month: in January 6,720 x 2/744
    = 18.06 $/MW against 160 earned: run 10 MW; in February 6,720 x 2/672 = 20 $/MW against 10:
    stay off. Objective 2 x 800 - 10 x 6,720 x 2/744 = 1,600 - 180.65 = 1,419.35."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)], "demand_charge": {"usd_per_mw_month": 6720.0}},
              [20, 20, 95, 95], start="2025-01-31T22:00:00Z")
    res = solve(sc)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10, 0, 0])
    assert res.objective_usd == pytest.approx(1600.0 - 10 * 6720.0 * 2 / 744)


def test_two_windows_bill_the_month_as_one():
    """The partial month above split into hours 0-1 and 2-4: the first window pays the share
    on the 10 MW peak (7,440 x 10 x 5/744 = 500: the share is of the whole scenario's hours),
    the second inherits the peak (State.peak_mw) and pays nothing more. The two objectives add
    up to the one-window 3,500."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)], "demand_charge": {"usd_per_mw_month": 7440.0}},
              [20] * 5, start="2025-01-10T08:00:00Z")
    m1 = optimiser.build(Window(sc, 0, 2))
    r1 = optimiser.solve(m1)
    assert r1.summary["cost_usd"]["demand_charge"] == pytest.approx(500.0)
    state = state_after(m1, r1)
    assert state.peak_mw == {"2025-01": pytest.approx(10.0)}
    r2 = optimiser.solve(optimiser.build(Window(sc, 2, 5, state)))
    assert r2.summary["cost_usd"]["demand_charge"] == pytest.approx(0.0, abs=1e-9)
    assert r1.objective_usd + r2.objective_usd == pytest.approx(solve(sc).objective_usd)


def test_the_carried_peak_is_the_metered_draw_under_load_metering():
    """With a PPA covering the load nothing is imported, yet the month-to-date peak handed on is
    the 8 MW metered under load metering (0 under net metering)."""
    for metering, peak in (("load", 8.0), ("net", 0.0)):
        sc = tiny({"site": {**PPA_SITE, "metering": metering}, "ppa": PPA, "asic": [asic("a", 8)],
                   "demand_charge": {"usd_per_mw_month": 1.0}}, [20, 20])
        m = optimiser.build(Window(sc, 0, 1))
        assert state_after(m, optimiser.solve(m)).peak_mw["2025-01"] == pytest.approx(peak)


# -- the coincident peak, year by year --------------------------------------------------------------------


def new_year_case() -> optimiser.Scenario:
    """2024-12-31T22:00 .. 2025-01-01T02:00 in America/Chicago (4 hours at 20 $/MWh); ASIC 10 MW.
    Intervals: 2024-12-31T23:00 (the one listed in 2024), 2025-01-01T00:00 and 2025-07-15T17:00
    (two listed in 2025, one outside the horizon); 90 $/MW-year."""
    cp = {"usd_per_mw_year": 90.0, "intervals": ["2024-12-31T23:00:00-06:00", "2025-01-01T00:00:00-06:00",
                                                  "2025-07-15T17:00:00-05:00"]}
    return tiny({"timezone": "America/Chicago", "site": {"import_mw": 10}, "asic": [asic("a", 10)],
                 "coincident_peak": cp}, [20] * 4, start="2025-01-01T04:00:00Z")


def test_each_year_pays_its_own_rate_over_its_own_intervals():
    """2024's one interval bills 90/1 = 90 $/MW, more than mining's 80: the ASIC stops. 2025's
    two intervals bill 90/2 = 45 each; the one in the horizon costs 45 x 10 = 450 and mining
    still earns 800 there. Objective 3 x 800 - 450 = 1,950.

    (v1 spread one rate over all three intervals, 30 $/MW each, and ran every hour:
    4 x 800 - 2 x 300 = 2,600.)"""
    sc = new_year_case()
    res = solve(sc)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 0, 10, 10])
    assert res.summary["cost_usd"]["coincident_peak"] == pytest.approx(450.0)
    assert res.objective_usd == pytest.approx(1950.0)


def test_an_interval_outside_the_horizon_warns_and_counts_in_its_year():
    (warning,) = [w for w in new_year_case().warnings if "coincident-peak" in w]
    assert "2025-07-15T17:00:00-05:00 is outside the horizon" in warning
    assert "the 2 listed in 2025" in warning and "1/2 of that year's rate" in warning


def test_twelve_intervals_a_year():
    """12CP: 12 intervals listed in 2025 (one a month), 1,200 $/MW-year: 100 $/MW in each, more
    than mining's 80, so the ASIC stops in the one inside this 3-hour horizon: 2 x 800 = 1,600."""
    intervals = [f"2025-{mo:02d}-01T01:00:00Z" for mo in range(1, 13)]
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)],
               "coincident_peak": {"usd_per_mw_year": 1200.0, "intervals": intervals}}, [20] * 3)
    res = solve(sc)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 0, 10])
    assert res.objective_usd == pytest.approx(1600.0)


# -- the GPU tenant pays its power -------------------------------------------------------------------------


def gpu(**kw) -> dict:
    """A GPU fleet of 12 MW IT (10 MW firm, held at 100 % over the horizon), PUE 1.2, paid
    nothing for its contract and nothing for spot: only the pass-through pays."""
    return {"name": "g", "capacity_mw": 12, "contract_mw": 10, "contract_usd_per_mw_per_h": 0.0,
            "availability": 1.0, "billing_period": "horizon", "pue": 1.2, **kw}


def test_passthrough_at_a_fixed_price():
    """Two hours at 30 $/MWh; the tenant pays 50 $ for each MWh drawn at the meter. Firm 10 MW
    must run; spot is worth running too (50 > 30 a MWh at the meter): 12 MW IT, 14.4 MW at the
    meter. Pass-through 50 x 14.4 x 2 = 1,440; power 30 x 14.4 x 2 = 864. Objective 576."""
    sc = tiny({"site": {"import_mw": 20}, "gpu": [gpu(power_passthrough_usd_per_mwh=50.0)]}, [30, 30])
    res = solve(sc)
    assert res.summary["revenue_usd"]["gpu_g_passthrough"] == pytest.approx(1440.0)
    assert res.summary["cost_usd"]["energy_purchases"] == pytest.approx(864.0)
    assert res.objective_usd == pytest.approx(576.0)


def test_passthrough_from_a_column():
    """Prices 30 and 20; the tenant pays 40 then 10 $/MWh (column ``tenant_power``). Hour 0:
    spot pays (40 > 30): 14.4 MW at the meter. Hour 1: spot does not (10 < 20): the firm 12 MW.
    Pass-through 40 x 14.4 + 10 x 12 = 696; power 30 x 14.4 + 20 x 12 = 672. Objective 24."""
    sc = tiny({"site": {"import_mw": 20}, "gpu": [gpu(power_passthrough_usd_per_mwh="tenant_power")]},
              [30, 20], tenant_power=[40.0, 10.0])
    res = solve(sc)
    assert res.dispatch["gpu_g_spot_mw"].tolist() == pytest.approx([2, 0])
    assert res.summary["revenue_usd"]["gpu_g_passthrough"] == pytest.approx(696.0)
    assert res.objective_usd == pytest.approx(24.0)


def test_passthrough_at_the_energy_price_may_be_negative():
    """Indexed to the energy price itself (-10 $/MWh): the firm 12 MW at the meter are paid
    10 x 12 = 120 to take power and pass -120 on to the tenant. Objective 0."""
    sc = tiny({"site": {"import_mw": 20}, "gpu": [gpu(capacity_mw=10, power_passthrough_usd_per_mwh="price_usd_per_mwh")]},
              [-10])
    res = solve(sc)
    assert res.summary["revenue_usd"]["gpu_g_passthrough"] == pytest.approx(-120.0)
    assert res.objective_usd == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("site, gpus, key", [
    ({"import_mw": 20, "metering": "gross"}, [], "site.metering"),
    ({"import_mw": 20}, [gpu(power_passthrough_usd_per_mwh=-5.0)], "gpu[0].power_passthrough_usd_per_mwh"),
    ({"import_mw": 20}, [gpu(power_passthrough_usd_per_mwh=True)], "gpu[0].power_passthrough_usd_per_mwh"),
    ({"import_mw": 20}, [gpu(power_passthrough_usd_per_mwh="btc_usd")], "gpu[0].power_passthrough_usd_per_mwh"),
    ({"import_mw": 20}, [gpu(power_passthrough_usd_per_mwh_typo=1.0)], "gpu[0].power_passthrough_usd_per_mwh_typo"),
])
def test_bad_v2_keys_are_named(site, gpus, key):
    with pytest.raises(InputError) as err:
        tiny({"site": site, "gpu": gpus, "asic": [asic("a", 1)]}, [20])
    assert key in [p.key for p in err.value.problems]


def test_a_passthrough_column_found_nowhere_is_named():
    with pytest.raises(InputError, match="tenant_power"):
        tiny({"site": {"import_mw": 20}, "gpu": [gpu(power_passthrough_usd_per_mwh="tenant_power")]}, [20])


# -- perfect foresight, said plainly ----------------------------------------------------------------------


def test_the_summary_states_its_assumptions():
    res = solve(metering_case("net"))
    assert res.summary["assumptions"]["foresight"] == "perfect"
    assert res.summary["assumptions"]["metering"] == "net"
    assert "upper bound" in res.summary["assumptions"]["meaning"]


def test_dispatch_run_prints_the_assumptions(tmp_path, capsys, example_dir):
    assert main(["run", str(example_dir), "--out", str(tmp_path / "out"), "--start", "2025-07-01",
                 "--end", "2025-07-02"]) == 0
    out = capsys.readouterr().out
    assert "perfect foresight" in out and "upper bound" in out and "metering: load" in out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["assumptions"]["foresight"] == "perfect"
    assert np.isfinite(summary["objective_usd"])
