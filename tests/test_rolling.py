"""Rolling horizon (docs/operations.md, "Rolling horizon"): plans on forecasts, the state carried
from window to window (SLA budget, ramp, month-to-date peak), settlement on actual prices. Each
tiny case is derived by hand; ASICs earn R = 100 $/MWh (tests/test_tiny.py)."""

from __future__ import annotations

import numpy as np
import pytest

import optimiser
from optimiser.model import State, Window
from optimiser.model.planning import ProRataDemandCharge
from optimiser.policies import PolicyOptions, evaluate, run_policy
from optimiser.rolling import naive_forecast
from tests.test_tiny import asic, tiny


def rolling(sc, **options):
    return run_policy(sc, "rolling", settings=PolicyOptions(**options))


def test_naive_forecast():
    p = np.arange(400.0)
    assert naive_forecast(p, 200, 203).tolist() == [32.0, 33.0, 34.0]       # a week earlier
    assert naive_forecast(p, 48, 51).tolist() == [24.0, 25.0, 26.0]         # the day before, same hours
    assert naive_forecast(p, 30, 56).tolist()[:2] == [6.0, 7.0]             # the last whole day seen
    assert naive_forecast(p, 0, 3).tolist() == [0.0, 1.0, 2.0]              # nothing seen yet: actual


def test_one_window_with_a_perfect_forecast_is_the_optimum():
    """A window covering the horizon, planned on the actual price, settles to the optimum."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [20, 200, 20, 20], fc=[20, 200, 20, 20])
    res = rolling(sc, window_h=4, keep_h=4, forecast="fc")
    assert res.objective_usd == pytest.approx(optimiser.run(sc).objective_usd)
    assert res.objective_usd == pytest.approx(2400.0)


def test_a_missed_spike_is_paid_at_the_actual_price():
    """Forecast 20 every hour, actual 20, 200, 20, 20; windows of 2 hours keeping 1. Every plan
    runs the 10 MW ASIC; the settlement pays the spike: 3 x 800 + (100 - 200) x 10 = 1,400
    (perfect foresight: 2,400). Mean absolute forecast error 180 / 4 = 45 $/MWh."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [20, 200, 20, 20], fc=[20, 20, 20, 20])
    res = rolling(sc, window_h=2, keep_h=1, forecast="fc")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10, 10, 10])
    assert res.objective_usd == pytest.approx(1400.0)
    p = res.summary["policy"]
    assert p["windows"] == 4
    assert p["forecast_error_usd_per_mwh"]["mean_absolute"] == pytest.approx(45.0)
    assert res.summary["assumptions"]["foresight"] == "forecast"
    assert len(res.dispatch) == 4 and sum(res.dispatch["profit_usd"]) == pytest.approx(1400.0)


GPU = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 200, "availability": 0.75,
       "billing_period": "horizon", "sla_credit_usd_per_mwh": 100}


def test_sla_budget_carried_from_plan_to_plan():
    """GPU 10 MW, SLA 0.75 over 4 hours: 10 MWh of downtime. The forecast puts the spike in
    hour 1 (10, 500, 20, 300), the actual in hour 3 (10, 20, 20, 500); windows of 2 hours keeping
    1. The plans made at hours 0 and 1 curtail hour 1 (forecast 500): the whole budget. The
    plans at hours 2 and 3 inherit it used up and must run the real spike.
    Settled: 8,000 - 1,000 credit - (100 + 0 + 200 + 5,000) = 1,700 (hindsight curtails hour 3:
    8,000 - 1,000 - 500 = 6,500)."""
    sc = tiny({"site": {"import_mw": 10}, "gpu": [GPU]}, [10, 20, 20, 500], fc=[10, 500, 20, 300])
    res = rolling(sc, window_h=2, keep_h=1, forecast="fc")
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 0, 10, 10])
    assert res.objective_usd == pytest.approx(1700.0)
    assert optimiser.run(sc).objective_usd == pytest.approx(6500.0)


def test_ramp_carried_from_plan_to_plan():
    """ASIC 10 MW, ramp 4 MW/h; the forecast (wrongly) puts 1,000 in hour 2, the actual is 20
    throughout; windows of 2 hours keeping 1. Plan at 0: 10 MW. Plan at 1 (from 10 MW): hour 1 at
    6 and hour 2 at 2 (losing 4 x 80 beats 900 a MWh on 4 more). Plan at 2 (from 6): 2 MW. Plan at
    3 (from 2): up to 6. Settled at 20: (10 + 6 + 2 + 6) x 80 = 1,920."""
    sc = tiny({"site": {"import_mw": 10, "ramp_mw_per_h": 4}, "asic": [asic("a", 10)]}, [20, 20, 20, 20],
              fc=[20, 20, 1000, 20])
    res = rolling(sc, window_h=2, keep_h=1, forecast="fc")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 6, 2, 6])
    assert res.objective_usd == pytest.approx(1920.0)


def test_month_to_date_peak_carried_and_the_demand_charge_pro_rata():
    """ASIC 10 MW earning 80 an hour; a demand charge that bills the 4-hour horizon 300 $/MW of
    its peak (55,800 $/MW-month x 4 / 744 h of January). Windows of 2 hours keeping 1.
    The plan at hour 0 weighs the peak at 2 / 4 of the month's rest: 150 $/MW against 160 of
    margin: it runs, and the 10 MW peak is handed on. The later plans run up to it for nothing
    (without the carried peak the plan at hour 2, weighing all of what is left, 300 $/MW, would
    stop). Settled: 4 x 800 - 300 x 10 = 200, the optimum's."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)], "demand_charge": {"usd_per_mw_month": 55800}},
              [20, 20, 20, 20], fc=[20, 20, 20, 20])
    res = rolling(sc, window_h=2, keep_h=1, forecast="fc")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10, 10, 10])
    assert res.summary["cost_usd"]["demand_charge"] == pytest.approx(3000.0)
    assert res.objective_usd == pytest.approx(200.0)
    # the weights: 2 / 4 at hour 0, 2 / 2 at hour 2
    for start, weight in ((0, 0.5), (2, 1.0)):
        m = optimiser.build(Window(sc, start, start + 2), [*optimiser.model.default_components(sc)[:-1],
                                                            ProRataDemandCharge()])
        term = next(t for t in m.dispatch.terms if t.name == "demand_charge")
        assert term.lins[0].coef.tolist() == pytest.approx([300.0 * weight])
    # the plan at hour 2 without the carried peak would stop
    alone = optimiser.solve(optimiser.build(Window(sc, 2, 4), [*optimiser.model.default_components(sc)[:-1],
                                                               ProRataDemandCharge()]))
    assert alone.dispatch["asic_a_mw"].tolist() == pytest.approx([0, 0])
    with_peak = optimiser.solve(optimiser.build(Window(sc, 2, 4, State(peak_mw={"2025-01": 10.0})),
                                                [*optimiser.model.default_components(sc)[:-1], ProRataDemandCharge()]))
    assert with_peak.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10])


CP = {"usd_per_mw_year": 4000, "intervals": ["2025-01-01T01:00:00Z", "2025-06-01T00:00:00Z",
                                             "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z"]}


def test_coincident_peak_alerts():
    """4 intervals in 2025 at 4,000 $/MW-year: 1,000 $/MW each; hour 1 is one. With an alert of
    0.5 in hour 1 the plan expects 500 $/MW there, more than the 80 of margin: it stops, and the
    settlement bills nothing: 800. Without the alert column it runs and pays 1,000 x 10:
    1,600 - 10,000 = -8,400."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)], "coincident_peak": CP}, [20, 20],
              fc=[20, 20], alert=[0.0, 0.5])
    res = rolling(sc, window_h=2, keep_h=2, forecast="fc", cp_alert="alert")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 0])
    assert res.objective_usd == pytest.approx(800.0)
    blind = rolling(sc, window_h=2, keep_h=2, forecast="fc")
    assert blind.objective_usd == pytest.approx(-8400.0)
    assert any("coincident-peak alert" in w for w in blind.summary["warnings"])


def test_forecast_and_alert_columns_are_checked():
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [20, 20], alert=[0.0, 1.5])
    with pytest.raises(optimiser.InputError, match="column 'nope'"):
        rolling(sc, forecast="nope")
    with pytest.raises(optimiser.InputError, match="column 'alert'.*probability"):
        rolling(sc, cp_alert="alert")


@pytest.fixture(scope="module")
def fortnight(example_dir):
    return optimiser.load_scenario(example_dir, start="2025-07-28T00:00:00-05:00", end="2025-08-11T00:00:00-05:00")


def test_settling_window_by_window_adds_up_to_the_settlement(fortnight):
    """The settlement of the whole horizon (all decisions fixed, actual prices) is the sum of
    settling each kept day in turn from the state the previous one left (across a month
    boundary, with the demand charge, the coincident peak, reserves and the SLA)."""
    res = rolling(fortnight)
    decisions = {k: np.array(v) for k, v in _decisions(res, fortnight).items()}
    state, total = State(), 0.0
    for s in range(0, fortnight.hours, 24):
        w = Window(fortnight, s, s + 24, state)
        m = optimiser.build(w)
        from optimiser.policies import fix_decisions

        fix_decisions(m, {k: v[:, s : s + 24] for k, v in decisions.items()})
        day = optimiser.solve(m)
        total += day.objective_usd
        state = optimiser.model.state_after(m, day)
    assert total == pytest.approx(res.objective_usd, rel=1e-9)
    # consecutive plans of one shape are solved warm: 8 of the 14 here; a plan is handed over whole
    # when the month-to-date peak first appears in its state (one more row), when it crosses into
    # August (one more SLA row and peak), at August's first plan and at the last, shorter, plan
    plans = res.summary["policy"]["plans"]
    assert plans["warm"] == 8 and plans["why_cold"] == {"first solve": 1, "shape changed": 5}
    # and hindsight bounds it
    assert res.objective_usd <= optimiser.run(fortnight).objective_usd


def _decisions(res, sc):
    """The decisions a results frame holds, as arrays (fleets x hours)."""
    d = res.dispatch
    cfg = sc.config
    return {"asic.power": [d[f"asic_{f.name}_mw"] for f in cfg.asic],
            "gpu.firm": [d[f"gpu_{g.name}_firm_mw"] for g in cfg.gpu],
            "gpu.spot": [d[f"gpu_{g.name}_spot_mw"] for g in cfg.gpu],
            "reserves.offer": [d[f"reserve_{r.product}_mw"] for r in cfg.reserve]}


def test_settlement_of_the_whole_horizon_is_evaluate(fortnight):
    res = rolling(fortnight)
    again = evaluate(fortnight, {k: np.array(v) for k, v in _decisions(res, fortnight).items()})
    assert again.objective_usd == pytest.approx(res.objective_usd, rel=1e-9)


def test_models_updated_in_place_compile_to_fresh_builds(fortnight):
    """Every plan of a fortnight (across a month boundary): the template updated in place compiles
    to the LP a fresh build of the same window compiles to, number for number."""
    from optimiser.lp import compile_lp
    from optimiser.model.reuse import WindowModels
    from optimiser.rolling import _PlanWindow, plan_components

    price = fortnight.data["price_usd_per_mwh"].to_numpy()
    models = WindowModels(lambda w: plan_components(w, None))
    state = State(load_mw=150.0, peak_mw={"2025-07": 200.0}, sla_shortfall_mwh={("tenant-a", "2025-07"): 10.0})
    for s in range(0, fortnight.hours - 24, 24):
        w = _PlanWindow(fortnight, s, s + 48, state, 0.9 * price[s : s + 48] + s)
        m, reg = models.model(w)
        a = compile_lp(m)
        b = compile_lp(optimiser.build(w, plan_components(w, None)))
        assert a.shape == b.shape
        for field in ("c", "row_lo", "row_hi", "col_lo", "col_hi"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (s, field)
        assert a.offset == pytest.approx(b.offset, rel=1e-12)
        assert np.array_equal(a.matrix.indices, b.matrix.indices) and np.array_equal(a.matrix.data, b.matrix.data)
    from optimiser.model import _lazy

    if _lazy.LAZY:  # on Pyomo's public-API route every window is built
        assert models.updated >= 7 and models.built >= 2  # a new template after the month boundary


def test_day_ahead_forecast_column_from_the_real_data(data_dir):
    """with_day_ahead_forecast adds the published day-ahead price of each hour (first hour of the
    CPT year 2024: 2024-01-01T06Z, the day-ahead file's value for that hour)."""
    import pandas as pd

    from optimiser.realdata import FORECAST_COLUMN, ercot_scenario, with_day_ahead_forecast

    sc = with_day_ahead_forecast(ercot_scenario(data_dir, year=2024, end="2024-01-08T06:00:00Z"), data_dir)
    dam = pd.read_csv(data_dir / "ercot_dam_spp_hourly_HB_WEST.csv", index_col="timestamp")
    assert sc.data[FORECAST_COLUMN].iloc[0] == pytest.approx(dam.loc["2024-01-01T06:00:00Z", "price_usd_per_mwh"])
    res = rolling(sc, forecast=FORECAST_COLUMN)
    assert res.summary["policy"]["windows"] == 7
    assert res.objective_usd <= optimiser.run(sc).objective_usd


def test_rolling_with_a_battery_and_an_emissions_cap():
    """A battery (cyclic at each plan's end) and a 12 t cap over the horizon, carried from plan to
    plan in State.emissions_kg: the settled horizon keeps the cap and the battery's end, and its
    streams add up."""
    battery = {"name": "b", "power_mw": 5, "energy_mwh": 10, "round_trip_efficiency": 0.81}
    price = [20, 80, 20, 300, 20, 20, 500, 20]
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10)], "battery": [battery],
               "carbon": {"average_column": "avg", "cap_t": 12.0}}, price, fc=price, avg=[400] * 8)
    res = rolling(sc, window_h=4, keep_h=2, forecast="fc")
    assert res.summary["carbon"]["emissions_t"] <= 12.0 + 1e-6
    assert res.dispatch["battery_b_soc_mwh"].iloc[-1] >= 5.0 - 1e-6
    total = sum(res.summary["revenue_usd"].values()) - sum(res.summary["cost_usd"].values())
    assert total == pytest.approx(res.objective_usd)
    assert res.objective_usd <= optimiser.run(sc).objective_usd + 1e-6
