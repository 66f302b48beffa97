"""Batteries: tiny cases whose optimum is derived by hand.

Unless a case says otherwise: one battery 'b' of 1 MW / 2 MWh with a round-trip efficiency of
0.81, so 0.9 each way (1 MWh charged at the meter stores 0.9 MWh; 1 MWh discharged at the meter
takes 1/0.9 MWh from storage: 1 MWh bought sells 0.81 MWh), no other load, import and export
of 1 MW, prices 10, 20, 100, 80 $/MWh.
"""

from __future__ import annotations

import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI (a dependency there)
    import tomli as tomllib
from pathlib import Path

import numpy as np
import pytest

import optimiser
from optimiser.errors import InfeasibleError, InputError
from optimiser.model import State, Window, state_after
from optimiser.scenario import parse_config
from tests.test_tiny import tiny

PRICES = [10.0, 20.0, 100.0, 80.0]
SITE = {"import_mw": 1, "export_mw": 1}


def battery(**kw) -> dict:
    return {"name": "b", "power_mw": 1, "energy_mwh": 2, "round_trip_efficiency": 0.81, **kw}


def solve(sc) -> optimiser.Results:
    return optimiser.solve(optimiser.build(sc))


def column(res: optimiser.Results, what: str) -> list[float]:
    return res.dispatch[f"battery_b_{what}"].tolist()


def never_both(res: optimiser.Results) -> None:
    """No hour both charges and discharges (it would burn energy that is worth something)."""
    both = np.minimum(res.dispatch["battery_b_charge_mw"], res.dispatch["battery_b_discharge_mw"])
    assert both.max() == pytest.approx(0.0, abs=1e-9)


def test_arbitrage_from_empty():
    """Start empty, cyclic end (back to >= 0 MWh: no constraint).

    Charge 1 MW in hour 0 (10) and hour 1 (20): a MWh bought at 20 sells 0.81 MWh at 80 or more
    (64.8 > 20), so both pay; 1.8 MWh stored (<= 2). Hour 2 (100): discharge 1 MW, taking 10/9 MWh,
    leaving 1.8 - 10/9 = 31/45 MWh; hour 3 (80): discharge what is left, 0.9 * 31/45 = 0.62 MW.
    Objective: 100 + 0.62 * 80 - 10 - 20 = 119.6.
    """
    res = solve(tiny({"site": SITE, "battery": [battery(initial_soc=0)]}, PRICES))
    assert res.objective_usd == pytest.approx(119.6)
    assert column(res, "charge_mw") == pytest.approx([1, 1, 0, 0])
    assert column(res, "discharge_mw") == pytest.approx([0, 0, 1, 0.62])
    assert column(res, "soc_mwh") == pytest.approx([0.9, 1.8, 31 / 45, 0], abs=1e-9)
    # (import and export at one price are interchangeable: only their net is determined)
    assert res.summary["revenue_usd"]["energy_sales"] - res.summary["cost_usd"]["energy_purchases"] == \
        pytest.approx(119.6)
    # charging is site load at the meter; discharging is supply
    assert res.dispatch["load_mw"].tolist() == pytest.approx([1, 1, 0, 0])
    assert res.dispatch["export_mw"].tolist() == pytest.approx([0, 0, 1, 0.62])
    energy = res.summary["energy_mwh"]
    assert energy["battery_b_charge"] == pytest.approx(2.0)
    assert energy["battery_b_discharge"] == pytest.approx(1.62)
    assert energy["battery_b_losses"] == pytest.approx(2.0 - 1.62)  # empty again: all the rest was lost
    assert res.summary["battery"]["b"] == pytest.approx(
        {"soc_start_mwh": 0.0, "soc_end_mwh": 0.0, "full_cycles": 0.9})  # 1.8 MWh drawn / 2 MWh
    never_both(res)


def test_cyclic_end_is_refilled_at_a_price():
    """Start half full (1 MWh), cyclic end: at least 1 MWh stored after hour 3.

    Hours 0-1 fill the battery from 1 to 2 MWh: 1 MW at 10 (1.9 MWh), then 1/9 MW at 20 (2 MWh).
    Hour 2 discharges 1 MW (8/9 MWh left). Hour 3 must refill 1/9 MWh of storage: 10/81 MW at 80.
    It pays: each MW sold at 100 costs 80 / 0.81 = 98.77 to put back. Objective:
    100 - 10 - 20/9 - 80 * 10/81 = 6310/81 = 77.90.
    """
    res = solve(tiny({"site": SITE, "battery": [battery()]}, PRICES))
    assert res.objective_usd == pytest.approx(6310 / 81)
    assert column(res, "charge_mw") == pytest.approx([1, 1 / 9, 0, 10 / 81])
    assert column(res, "discharge_mw") == pytest.approx([0, 0, 1, 0])
    assert column(res, "soc_mwh") == pytest.approx([1.9, 2.0, 8 / 9, 1.0])
    assert res.duals["battery.end"].index.tolist() == ["b"]
    never_both(res)


def test_valued_end_keeps_what_is_worth_more_than_selling():
    """Start half full (1 MWh), stored energy at the end worth 75 $/MWh, no cyclic end.

    Sold in hour 3 a stored MWh brings 0.9 * 80 = 72 < 75: it stays; sold in hour 2 it brings 90:
    hour 2 discharges fully. Refilling in hour 3 costs 80 / 0.9 = 88.9 per stored MWh (> 75): no.
    Hours 0-2 as in the cyclic case, and 8/9 MWh is kept. Objective:
    100 - 10 - 20/9 + 75 * 8/9 = 1390/9 = 154.44.
    """
    res = solve(tiny({"site": SITE, "battery": [battery(end_value_usd_per_mwh=75)]}, PRICES))
    assert res.objective_usd == pytest.approx(1390 / 9)
    assert column(res, "charge_mw") == pytest.approx([1, 1 / 9, 0, 0])
    assert column(res, "soc_mwh") == pytest.approx([1.9, 2.0, 8 / 9, 8 / 9])
    assert res.summary["revenue_usd"]["battery_b_end_value"] == pytest.approx(600 / 9)
    assert res.dispatch["profit_usd"].iloc[-1] == pytest.approx(600 / 9)  # booked to the last hour
    assert "battery.end" not in res.duals
    never_both(res)


def test_state_of_charge_carried_into_a_window():
    """Valued end (75 $/MWh); the window is hours 2-3 (prices 100, 80) and starts full (2 MWh).

    Hour 2 discharges 1 MW (8/9 MWh left), which is kept (as above). Objective:
    100 + 75 * 8/9 = 1500/9 = 166.67. Without the state it starts at initial_soc (1 MWh):
    0.9 MW sold at 100, nothing kept: 90. With the state the whole-horizon optimum reaches at the
    split (2 MWh), hours 0-1 (-10 - 20/9) plus this window give that optimum, 1390/9.
    """
    sc = tiny({"site": SITE, "battery": [battery(end_value_usd_per_mwh=75)]}, PRICES)
    w = Window(sc, 2, 4, State(soc_mwh={"b": 2.0}))
    m = optimiser.build(w)
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(1500 / 9)
    assert column(res, "discharge_mw") == pytest.approx([1, 0])
    assert res.summary["battery"]["b"]["soc_start_mwh"] == 2.0
    assert -10 - 20 / 9 + res.objective_usd == pytest.approx(solve(sc).objective_usd)
    assert solve(Window(sc, 2, 4)).objective_usd == pytest.approx(90.0)
    # the state handed on; the last hour alone keeps its 8/9 MWh: 75 * 8/9
    after = state_after(m, res)
    assert after.soc_mwh["b"] == pytest.approx(8 / 9)
    assert solve(Window(sc, 3, 4, after)).objective_usd == pytest.approx(600 / 9)


def test_battery_backs_a_reserve():
    """One hour at 10 $/MWh; rrs pays 60 $/MW/h, up to 10 MW, backed by batteries only.

    Half full (1 MWh): on call the battery stops charging and discharges up to 1 MW, for the hour,
    from the 1 MWh it held at the hour's start (0.9 MW at the meter): reserve <= charge + min(1,
    0.9). Charging 1 MW costs 10 and adds 60 of reserve: offer 1.9 MW. Objective: 1.9 * 60 - 10 = 104.
    Empty: nothing to discharge; the charge it can stop backs it: 1 * 60 - 10 = 50.
    """
    rrs = {"product": "rrs", "price_column": "rrs", "max_mw": 10, "eligible": ["battery"]}
    for initial, objective, offer in ((0.5, 104.0, 1.9), (0.0, 50.0, 1.0)):
        res = solve(tiny({"site": SITE, "battery": [battery(initial_soc=initial)], "reserve": [rrs]}, [10.0],
                         rrs=[60.0]))
        assert res.objective_usd == pytest.approx(objective)
        assert res.dispatch["reserve_rrs_mw"].tolist() == pytest.approx([offer])
        assert column(res, "reserve_mw") == pytest.approx([offer])
        assert column(res, "charge_mw") == pytest.approx([1.0])


def test_charging_is_ramped_load_discharging_is_not():
    """Ramp 0.3 MW/h from a load of 0 before the window.

    Prices 10, 10; empty; stored energy worth 50 $/MWh at the end (45 per MWh charged): charge as
    much as the ramp allows, 0.3 then 0.6 MW: 0.81 MWh stored. Objective: -9 + 50 * 0.81 = 31.5.
    Prices 100, 90; full (2 MWh), worthless at the end: discharging is supply, not load, so the
    ramp does not hold it back: 1 MW, then the 2 - 10/9 MWh left (0.8 MW). Objective:
    100 + 0.8 x 90 = 172.
    """
    site = {**SITE, "ramp_mw_per_h": 0.3}
    sc = tiny({"site": site, "battery": [battery(initial_soc=0, end_value_usd_per_mwh=50)]}, [10.0, 10.0])
    res = solve(Window(sc, state=State(load_mw=0.0)))
    assert res.objective_usd == pytest.approx(31.5)
    assert column(res, "charge_mw") == pytest.approx([0.3, 0.6])
    sc = tiny({"site": site, "battery": [battery(initial_soc=1, end_value_usd_per_mwh=0)]}, [100.0, 90.0])
    res = solve(Window(sc, state=State(load_mw=0.0)))
    assert res.objective_usd == pytest.approx(172.0)
    assert column(res, "discharge_mw") == pytest.approx([1.0, 0.8])


def test_charging_and_discharging_at_once_only_where_burning_energy_pays():
    """One hour at -50 $/MWh (the site is paid to take power); full (2 MWh), cyclic end.

    Full, it can take power only by losing it: charge 1 MW and discharge 0.81 MW in the same hour
    (stored energy unchanged), a net draw of 0.19 MW: 0.19 * 50 = 9.5. With O&M of 20 $/MWh on
    discharge the cycle costs 16.2 more than it earns: the battery stays idle, objective 0.
    """
    res = solve(tiny({"site": SITE, "battery": [battery(initial_soc=1)]}, [-50.0]))
    assert res.objective_usd == pytest.approx(9.5)
    assert column(res, "charge_mw") == pytest.approx([1.0])
    assert column(res, "discharge_mw") == pytest.approx([0.81])
    res = solve(tiny({"site": SITE, "battery": [battery(initial_soc=1, om_usd_per_mwh=20)]}, [-50.0]))
    assert res.objective_usd == pytest.approx(0.0, abs=1e-9)
    assert column(res, "discharge_mw") == pytest.approx([0.0])
    assert res.summary["cost_usd"]["battery_b_om"] == pytest.approx(0.0, abs=1e-9)


def test_below_the_floor_with_no_way_to_charge_is_infeasible():
    """min_soc 0.5 (1 MWh) but it starts at 0.2 (0.4 MWh), and nothing can charge it (no import,
    no PPA): the first hour's energy balance cannot reach the floor. The message names it."""
    sc = tiny({"site": {"import_mw": 0, "export_mw": 1}, "battery": [battery(initial_soc=0.2, min_soc=0.5)]},
              [10.0, 10.0])
    with pytest.raises(InfeasibleError) as err:
        solve(sc)
    msg = str(err.value)
    assert "the energy balance of battery 'b' in 2025-01-01T00:00Z, starting from 0.4 MWh" in msg
    assert "the minimum state of charge of battery 'b' (1 MWh)" in msg
    # with import it recovers: 0.6 / 0.9 MW charged in the first hour at 10
    sc = tiny({"site": SITE, "battery": [battery(initial_soc=0.2, min_soc=0.5, end_value_usd_per_mwh=0)]},
              [10.0, 10.0])
    res = solve(sc)
    assert res.objective_usd == pytest.approx(-10 * 0.6 / 0.9)
    assert column(res, "soc_mwh") == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("bad, key", [
    ({"round_trip_efficiency": 0}, "battery[0].round_trip_efficiency"),
    ({"round_trip_efficiency": 1.1}, "battery[0].round_trip_efficiency"),
    ({"power_mw": -1}, "battery[0].power_mw"),
    ({"min_soc": 0.6, "max_soc": 0.5}, "battery[0].max_soc"),
    ({"end": "valued"}, "battery[0].end_value_usd_per_mwh"),
    ({"end": "cyclic", "end_value_usd_per_mwh": 30}, "battery[0].end_value_usd_per_mwh"),
    ({"capacity_mw": 1}, "battery[0].capacity_mw"),
])
def test_bad_battery_keys_are_named(bad, key):
    with pytest.raises(InputError, match=key.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        tiny({"site": SITE, "battery": [battery(**bad)]}, PRICES)


def test_battery_names_are_unique():
    with pytest.raises(InputError, match=r"battery name 'b' is used twice \(battery\[0\] and battery\[1\]\)"):
        tiny({"site": SITE, "battery": [battery(), battery()]}, PRICES)


def test_the_documented_example_parses():
    """The ``[[battery]]`` snippet of docs/scenario.md is a valid scenario part."""
    doc = (Path(__file__).parent.parent / "docs" / "scenario.md").read_text(encoding="utf-8")
    snippet = next(b for b in re.findall(r"```toml\n(.*?)```", doc, re.S) if "[[battery]]" in b)
    cfg = parse_config({"site": {"import_mw": 100}, **tomllib.loads(snippet)})
    (b,) = cfg.battery
    assert (b.power_mw, b.energy_mwh, b.end_value_usd_per_mwh, b.cyclic) == (20, 80, 35.0, False)
    assert cfg.reserve[0].eligible == ("asic", "battery")
