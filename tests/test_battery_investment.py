"""A battery's power as a decision (``power_mw = { min, max }`` with ``duration_h``), on tiny
cases whose optimum is derived by hand, plus the Pyomo LP writer as a second route and the
two-stage stochastic program (extensive form and Benders).

Unless a case says otherwise: one battery 'b' chosen within 0..10 MW, ``duration_h = 2`` (so
``energy_mwh = 2 P``), round trip 0.81 (0.9 each way: 1 MWh bought at the meter stores 0.9 MWh,
1 MWh sold at the meter takes 1/0.9 MWh from storage), ``initial_soc = 0.5`` (``P`` MWh stored
before the first hour), a cyclic end (at least ``min(initial_soc, max_soc) x 2P = P`` MWh
stored after the last hour), no other load, import and export of 20 MW (never binding), prices
10, 10, 100, 100 $/MWh.

Capital charges: with ``discount_rate = 0`` and ``lifetime_years = 1`` the annuity of a capex
``c`` is ``c`` a year, so a capex of ``8760 k`` costs ``k`` per MW of power per hour of the
horizon (``4k`` per MW over four hours).

**The operating profit per MW of power** (everything is linear in ``P``, so per MW it scales):
start with 1 MWh stored of 2. The two cheap hours fill it: 1 MWh more stored costs 1/0.9 MWh
bought at 10, ``100/9 = 11.11`` $ (within the 1 MW power: 1/0.9 = 1.11 MWh over two hours). The
two dear hours may take only what is above the cyclic end's 1 MWh: 1 MWh from storage, 0.9 MWh
sold (within 1 MW an hour) at the peak price ``p``. Charging at ``p`` to sell at ``p`` loses, so
the profit per MW is ``0.9 p - 100/9``: at ``p = 100``, ``90 - 100/9 = 710/9 = 78.89`` $.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.errors import InputError
from optimiser.model import State, Window
from optimiser.stochastic import Future, run_stochastic
from test_fidelity import reference_solve
from test_tiny import tiny

PRICES = [10.0, 10.0, 100.0, 100.0]
SITE = {"import_mw": 20, "export_mw": 20}
RATE0 = {"discount_rate": 0.0}


def per_hour(k: float) -> dict:
    """Investment keys charging ``k`` $ per MW of power per hour."""
    return {"capex_usd_per_mw": 8760.0 * k, "lifetime_years": 1.0}


def chosen(k: float, lo: float = 0.0, hi: float = 10.0, **kw) -> dict:
    """The battery 'b', its power chosen within lo..hi MW, charged k $/MW-h."""
    return {"name": "b", "power_mw": {"min": lo, "max": hi}, "duration_h": 2.0, "round_trip_efficiency": 0.81,
            **per_hour(k), **kw}


def scenario(bat: dict, prices: list[float] = PRICES, site: dict = SITE, **extra) -> optimiser.Scenario:
    return tiny({"site": site, "battery": [bat], **RATE0, **extra}, prices)


# ------------------------------------------------------------------------------------------------
# one future
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("k, built, objective", [(15.0, 10.0, 1700.0 / 9.0), (25.0, 0.0, 0.0)])
def test_battery_pays_back_only_when_the_spread_pays_its_capital(k, built, objective):
    """Per MW of power: operating profit 710/9 = 78.89 $ (module docstring) against a capital
    charge of 4k. k = 15: 60 < 78.89, build all 10 MW (20 MWh): objective 10 x (710/9 - 60) =
    1700/9 = 188.89; it buys 100/9 = 11.11 MWh at 10 (1.11 MW, then 10 MW: full at 20 MWh), sells
    9 MWh at 100 and ends with 10 MWh, what it started with. Capital 10 x 4 x 15 = 600. k = 25:
    100 > 78.89, build nothing: objective 0."""
    m = optimiser.build(scenario(chosen(k)))
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(objective, abs=1e-6)
    assert pyo.value(m.battery.power_mw["b"]) == pytest.approx(built, abs=1e-9)
    assert res.summary["capacity_mw"] == {"b": pytest.approx(built, abs=1e-9)}
    inv = res.summary["investment"]["fleets"]["b"]
    assert inv["kind"] == "battery" and inv["decided"] is True
    assert inv["capacity_mw"] == pytest.approx(built, abs=1e-9)
    assert inv["energy_mwh"] == pytest.approx(2.0 * built, abs=1e-9)
    assert (inv["min_mw"], inv["max_mw"]) == (0.0, 10.0)
    assert inv["capex_usd"] == pytest.approx(8760.0 * k * built)
    assert res.summary["cost_usd"].get("battery_b_capital", 0.0) == pytest.approx(4 * k * built)
    d = res.dispatch
    assert d["battery_b_charge_mw"].sum() == pytest.approx(built / 0.9, abs=1e-6)
    assert d["battery_b_discharge_mw"].sum() == pytest.approx(0.9 * built, abs=1e-6)
    assert d["battery_b_charge_mw"].max() <= built + 1e-6 and d["battery_b_discharge_mw"].max() <= built + 1e-6
    assert d["battery_b_soc_mwh"].max() <= 2.0 * built + 1e-6
    assert d["battery_b_soc_mwh"].iloc[-1] == pytest.approx(built, abs=1e-6)
    assert res.summary["battery"]["b"]["soc_start_mwh"] == pytest.approx(built, abs=1e-9)
    total = sum(res.summary["revenue_usd"].values()) - sum(res.summary["cost_usd"].values())
    assert total == pytest.approx(res.objective_usd, abs=1e-6)


def test_least_power_with_a_binding_min_soc():
    """min 4 MW, charged 25 $/MW-h (100 per MW over the horizon), ``min_soc = 0.6``: the floor is
    1.2 MWh per MW, above the 1 MWh it starts with, so the first hour must charge. Per MW: fill 1
    -> 2 MWh (100/9 = 11.11 $ at 10), then sell down to the floor, 0.8 MWh from storage, 0.72 MWh
    at 100 (72 $); the cyclic end (1 MWh) does not bind. Profit per MW 72 - 100/9 = 548/9 = 60.89
    < 100: build the least, 4 MW. Objective 4 x (548/9 - 100) = -1408/9 = -156.44."""
    m = optimiser.build(scenario(chosen(25.0, lo=4.0, min_soc=0.6)))
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(-1408.0 / 9.0, abs=1e-6)
    assert res.summary["capacity_mw"]["b"] == pytest.approx(4.0)
    assert "b" in m.battery.capacity_min
    soc = res.dispatch["battery_b_soc_mwh"]
    assert soc.min() == pytest.approx(0.6 * 2 * 4.0, abs=1e-6)
    assert soc.max() == pytest.approx(2 * 4.0, abs=1e-6)
    assert res.dispatch["battery_b_discharge_mw"].sum() == pytest.approx(0.72 * 4.0, abs=1e-6)


@pytest.mark.parametrize("initial, built, objective", [(0.5, 10.0, 240.0), (0.0, 0.0, 0.0)])
def test_chosen_power_backs_a_reserve(initial, built, objective):
    """One hour at 10 $/MWh; rrs pays 60 $/MW/h (up to 100 MW), batteries only; charged 80 $/MW-h.

    Per MW of power: on call the battery stops charging and discharges up to P for the hour, from
    what it held at the hour's start (``initial_soc x 2P``; 0.9 of it at the meter). Half full
    (1 MWh per MW): reserve <= charge + min(P, 0.9 P); charging P costs 10 and adds 60: offer
    1.9 P, profit per MW 1.9 x 60 - 10 = 104 > 80: build 10 MW, objective 10 x 24 = 240. Empty:
    only the charge it can stop: 60 - 10 = 50 < 80: build nothing."""
    rrs = {"product": "rrs", "price_column": "rrs", "max_mw": 100, "eligible": ["battery"]}
    sc = tiny({"site": SITE, "battery": [chosen(80.0, initial_soc=initial)], "reserve": [rrs], **RATE0}, [10.0],
              rrs=[60.0])
    res = optimiser.solve(optimiser.build(sc))
    assert res.objective_usd == pytest.approx(objective, abs=1e-6)
    assert res.summary["capacity_mw"]["b"] == pytest.approx(built, abs=1e-9)
    assert res.dispatch["battery_b_reserve_mw"].tolist() == pytest.approx([1.9 * built], abs=1e-6)
    ref = reference_solve(optimiser.build(sc))
    assert ref.objective == pytest.approx(res.objective_usd, abs=1e-6)


def test_the_pyomo_lp_writer_agrees():
    """Second route: the same model (min_soc and min power rows included) written by Pyomo's LP
    writer and read by HiGHS."""
    for bat, power in ((chosen(15.0), 10.0), (chosen(25.0, lo=4.0, min_soc=0.6), 4.0)):
        sc = scenario(bat)
        res = optimiser.solve(optimiser.build(sc))
        ref = reference_solve(optimiser.build(sc))
        assert ref.status == "Optimal"
        assert ref.objective == pytest.approx(res.objective_usd, rel=1e-9, abs=1e-9)
        assert ref.values["battery.power_mw[b]"] == pytest.approx(power)


def test_a_fixed_battery_is_as_before_and_pays_a_constant_annuity():
    """10 MW / 20 MWh fixed (given as energy_mwh, or as duration_h = 2): 10 x 710/9 = 7100/9 =
    788.89, as without any of this; with capex at 15 $/MW-h it also pays 10 x 4 x 15 = 600 as a
    constant and dispatches the same. Its power and energy are reported, not decided."""
    plain = {"name": "b", "power_mw": 10, "energy_mwh": 20, "round_trip_efficiency": 0.81}
    r0 = optimiser.solve(optimiser.build(scenario(plain)))
    assert r0.objective_usd == pytest.approx(7100.0 / 9.0)
    by_duration = {k: v for k, v in plain.items() if k != "energy_mwh"} | {"duration_h": 2.0}
    assert optimiser.solve(optimiser.build(scenario(by_duration))).objective_usd == pytest.approx(7100.0 / 9.0)
    r1 = optimiser.solve(optimiser.build(scenario({**plain, **per_hour(15.0)})))
    assert r1.objective_usd == pytest.approx(7100.0 / 9.0 - 600.0)
    assert r1.summary["cost_usd"]["battery_b_capital"] == pytest.approx(600.0)
    assert r1.dispatch["battery_b_charge_mw"].tolist() == pytest.approx(r0.dispatch["battery_b_charge_mw"].tolist())
    inv = r1.summary["investment"]["fleets"]["b"]
    assert inv["decided"] is False and inv["capacity_mw"] == 10.0 and inv["energy_mwh"] == 20.0
    assert r0.summary["capacity_mw"] == {"b": 10.0}


def test_power_decision_round_trips_through_replace():
    """Written back as power_mw = { min, max } with duration_h (no energy_mwh); replacing the power
    by a number fixes it, its energy following the duration."""
    sc = scenario(chosen(15.0, lo=1.0))
    dumped = sc.config.model_dump(mode="json", exclude_none=True)["battery"][0]
    assert dumped["power_mw"] == {"min": 1.0, "max": 10.0}
    assert "energy_mwh" not in dumped and dumped["duration_h"] == 2.0
    again = sc.replace(**{"site.import_mw": 30})
    assert again.config.battery[0].capacity_range.max == 10.0
    fixed = sc.replace(**{"battery.b.power_mw": 4.0})
    assert not fixed.config.battery[0].capacity_is_decision
    assert fixed.config.battery[0].energy_mwh == 8.0


# ------------------------------------------------------------------------------------------------
# what is refused, by name
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, key", [
    ({"energy_mwh": 20.0}, "energy_mwh"),
    ({"duration_h": None}, "duration_h"),
    ({"power_mw": {"min": 5, "max": 2}}, "power_mw"),
    ({"power_mw": {"min": 0}}, "power_mw"),
    ({"capacity_range": {"max": 3}}, "capacity_range"),
    ({"lifetime_years": None}, "lifetime_years"),
])
def test_bad_battery_keys_are_named(change, key):
    bat = {**chosen(1.0), **change}
    bat = {k: v for k, v in bat.items() if v is not None}
    with pytest.raises(InputError) as err:
        scenario(bat)
    assert key in str(err.value)


def test_fixed_battery_keys_are_checked():
    bat = {"name": "b", "power_mw": 5, "round_trip_efficiency": 0.81}
    with pytest.raises(InputError, match="energy_mwh"):
        scenario(bat)
    with pytest.raises(InputError, match="duration_h"):
        scenario({**bat, "energy_mwh": 9, "duration_h": 2})
    with pytest.raises(InputError, match="discount_rate"):
        tiny({"site": SITE, "battery": [chosen(1.0)]}, PRICES)
    with pytest.raises(InputError, match=r"battery\[0\].name"):
        tiny({"site": SITE, "battery": [chosen(1.0, name="a")], "flex": [{"name": "a", "capacity_mw": 1,
              "revenue_usd_per_mwh": 1.0}], **RATE0}, PRICES)


def test_policies_plans_and_handed_over_state_refuse_a_power_decision():
    """A baseline or a rolling plan would choose the power with hindsight (or again in every
    window); a window starting from a stored energy cannot read it as a share of the power."""
    from optimiser.rolling import run_rolling

    sc = scenario(chosen(15.0), prices=[10.0] * 30)
    with pytest.raises(InputError, match="battery.b.power_mw"):
        optimiser.run(sc, policy="always-on")
    with pytest.raises(InputError, match="battery.b.power_mw"):
        run_rolling(sc)
    with pytest.raises(InputError, match="battery.b.power_mw"):
        optimiser.build(Window(sc, 0, 4, State(soc_mwh={"b": 5.0})))


# ------------------------------------------------------------------------------------------------
# two futures: the spread decides
# ------------------------------------------------------------------------------------------------

def two_futures(peak: float) -> list[Future]:
    """p 0.5 each: the peak hours at ``peak`` or at 30 $/MWh; charged 10 $/MW-h (40 per MW)."""
    return [Future("wide", 0.5, scenario(chosen(10.0), prices=[10.0, 10.0, peak, peak])),
            Future("narrow", 0.5, scenario(chosen(10.0), prices=[10.0, 10.0, 30.0, 30.0]))]


@pytest.mark.parametrize("method", ["extensive", "benders"])
@pytest.mark.parametrize("peak, built, objective", [(100.0, 10.0, 665.0 / 9.0), (60.0, 0.0, 0.0)])
def test_two_futures_build_the_battery_only_for_a_wide_spread(method, peak, built, objective):
    """Per MW (module docstring) the profit is ``0.9 p - 100/9`` before capital: 710/9 at p = 100,
    386/9 at 60, 143/9 at 30 (still worth cycling). Expected, p 0.5 each: (710 + 143)/18 = 47.39
    > 40 with a wide spread: build 10 MW, objective 10 x (853/18 - 40) = 665/9 = 73.89 (profits:
    wide 10 x (710/9 - 40) = 3500/9, narrow 10 x (143/9 - 40) = -2170/9). With a peak of 60:
    (386 + 143)/18 = 29.39 < 40: build nothing. The extensive form and Benders agree."""
    res = run_stochastic(two_futures(peak), method=method)
    assert res.capacity_mw == {"b": pytest.approx(built, abs=1e-6)}
    assert res.summary["objective_usd"] == pytest.approx(objective, abs=1e-5)
    assert res.summary["profit_usd"] == {"wide": pytest.approx(built * (0.9 * peak - 100 / 9 - 40), abs=1e-5),
                                         "narrow": pytest.approx(built * (27 - 100 / 9 - 40), abs=1e-5)}
    assert res.futures["wide"].summary["capacity_mw"]["b"] == pytest.approx(built, abs=1e-6)
    assert res.futures["narrow"].dispatch["battery_b_soc_mwh"].max() <= 2 * built + 1e-6


def test_the_documented_decision_parses():
    """The power-decision ``[[battery]]`` snippets of docs/scenario.md and docs/investment.md
    are valid scenario parts."""
    import re
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    from optimiser.scenario import parse_config

    for doc in ("scenario.md", "investment.md"):
        text = (Path(__file__).parent.parent / "docs" / doc).read_text(encoding="utf-8")
        snippet = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S)
                       if "[[battery]]" in b and "power_mw = {" in b)
        cfg = parse_config({"site": {"import_mw": 100}, "discount_rate": 0.08, **tomllib.loads(snippet)})
        (b,) = cfg.battery
        assert b.capacity_is_decision and b.capacity_range.max == 100.0 and b.energy_mwh == 4 * 100.0
