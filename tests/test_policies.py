"""The operators' own rules as baselines (docs/operations.md, "Baselines"), each on a tiny case
derived by hand, and settled with the model's accounting. ASICs earn R = 100 $/MWh at 20 J/TH
(tests/test_tiny.py), no pool fee or O&M, PUE 1: their strike price is 100 $/MWh."""

from __future__ import annotations

import numpy as np
import pytest

import optimiser
from optimiser.policies import (
    PolicyOptions,
    baseline_decisions,
    compare,
    decisions_from,
    evaluate,
    run_policy,
    strike_on,
    strike_prices,
)
from tests.test_tiny import asic, tiny

SPIKE = [20, 200, 200, 200, 20, 20, 20, 20, 20]


def test_strike_controller_states():
    """Strike 100, N = 2, M = 4: the controller sees hours already past. Hours 1 and 2 are above,
    so it stops from hour 3; hours 4-7 are below, so it restarts in hour 8."""
    on = strike_on(np.array(SPIKE, float), np.full(9, 100.0), 2, 4)
    assert on.astype(int).tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 1]
    # N = 1, M = 1: one hour late each way
    on = strike_on(np.array(SPIKE, float), np.full(9, 100.0), 1, 1)
    assert on.astype(int).tolist() == [1, 1, 0, 0, 0, 1, 1, 1, 1]


def test_strike_policy_settled():
    """ASIC 10 MW on in hours 0, 1, 2 and 8 (see above): 2 x 800 at 20, and 2 x (100 - 200) x 10
    = -2,000 in the first two spike hours, which the controller pays before it reacts: -400."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, SPIKE)
    res = run_policy(sc, "strike")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10, 10, 0, 0, 0, 0, 0, 10])
    assert res.objective_usd == pytest.approx(-400.0)
    assert res.summary["policy"]["name"] == "strike"
    assert res.summary["policy"]["strike_n"] == 2 and res.summary["policy"]["strike_m"] == 4
    assert res.summary["assumptions"]["foresight"] == "none"
    assert res.summary["policy"]["hours_on"] == {"a": 4}


def test_strike_price_is_the_revenue_at_the_meter_net_of_fee_and_om():
    """R 100, pool fee 10 %, O&M 5, PUE 1.25: (100 x 0.9 - 5) / 1.25 = 68 $/MWh at the meter."""
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10, pool_fee=0.1, om_usd_per_mwh=5, pue=1.25)]}, [20])
    assert strike_prices(sc)["a"].tolist() == pytest.approx([68.0])


def test_breakeven_knows_the_current_hour_and_counts_the_adder():
    """Adder 5 $/MWh. Breakeven runs when 100 > price + 5: hours at 20 run (75 a MWh), the
    spike hours and the 97 hour do not. Prices 20, 200, 97, 20: 2 x 750 = 1,500. The strike
    controller (no adder, a lag) runs all of hours 0-2: 750 - 1,050 - 20 + 750 = 430 (hour 3:
    hours 1 and 2 are not both above 100, so it is still on)."""
    cfg = {"site": {"import_mw": 10, "energy_adder_usd_per_mwh": 5}, "asic": [asic("a", 10)]}
    sc = tiny(cfg, [20, 200, 97, 20])
    res = run_policy(sc, "breakeven")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 0, 0, 10])
    assert res.objective_usd == pytest.approx(1500.0)
    assert res.summary["assumptions"]["foresight"] == "current hour"
    assert run_policy(sc, "strike").objective_usd == pytest.approx(750 - 1050 - 20 + 750)


def test_always_on_runs_through_the_spike_gpu_at_contract_no_reserves():
    """ASIC 10 MW and a GPU tenant of 4 MW (6 MW of machines: 2 MW spot at 150 $/MWh) with an RRS
    product at 5 $/MW/h; prices 20, 1,000. Always-on: the ASICs run both hours: 800 - 9,000;
    GPU firm at contract (4 MW: 2 x 4 x 300 contract - 20 x 4 - 1,000 x 4); no spot, no reserve.
    Objective -8,200 + 2,400 - 4,080 = -9,880."""
    gpu = {"name": "g", "capacity_mw": 6, "contract_mw": 4, "contract_usd_per_mw_per_h": 300,
           "spot_usd_per_mwh": 150}
    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 10)], "gpu": [gpu],
               "reserve": [{"product": "rrs", "price_column": "rrs", "max_mw": 10, "eligible": ["asic", "gpu"]}]},
              [20, 1000], rrs=[5.0, 5.0])
    res = run_policy(sc, "always-on")
    d = res.dispatch
    assert d["asic_a_mw"].tolist() == pytest.approx([10, 10])
    assert d["gpu_g_firm_mw"].tolist() == pytest.approx([4, 4])
    assert d["gpu_g_spot_mw"].tolist() == pytest.approx([0, 0])
    assert d["reserve_rrs_mw"].tolist() == pytest.approx([0, 0])
    assert res.objective_usd == pytest.approx(-9880.0)
    assert res.summary["policy"]["reserves"] == "none offered"
    # the optimum stops both in the spike and sells reserve and spot power in hour 0
    assert optimiser.run(sc).objective_usd > res.objective_usd


def test_merit_fills_the_target_most_efficient_first():
    """Target 10 MW at the meter; a GPU tenant of 3 MW firm comes first, then fleet A (20 J/TH,
    R 100) takes 7 MW and fleet B (40 J/TH, R 50) nothing: the least efficient is curtailed
    first. Price 20: GPU contract 3 x 100 - 3 x 20 = 240, A 7 x 80 = 560: 800."""
    gpu = {"name": "g", "capacity_mw": 3, "contract_mw": 3, "contract_usd_per_mw_per_h": 100}
    sc = tiny({"site": {"import_mw": 30}, "asic": [asic("b", 8, 40.0), asic("a", 8, 20.0)], "gpu": [gpu]}, [20])
    res = run_policy(sc, "merit", settings=PolicyOptions(target_mw=10))
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([7])
    assert res.dispatch["asic_b_mw"].tolist() == pytest.approx([0])
    assert res.objective_usd == pytest.approx(800.0)
    # a target column: 14 MW then 20 MW: A 8 and B 3, then A 8 and B 8
    sc2 = tiny({"site": {"import_mw": 30}, "asic": [asic("b", 8, 40.0), asic("a", 8, 20.0)], "gpu": [gpu]},
               [20, 20], target=[14.0, 20.0])
    res = run_policy(sc2, "merit", settings=PolicyOptions(target_mw="target"))
    assert res.dispatch["asic_b_mw"].tolist() == pytest.approx([3, 8])
    with pytest.raises(optimiser.InputError, match="target"):
        run_policy(sc, "merit")


def test_wishes_beyond_the_import_limit_are_cut_least_efficient_first():
    """Import 10 MW; fleets A (20 J/TH) and B (40 J/TH) of 8 MW each, always on: B is cut to 2 MW.
    Margins 80 and 30: 8 x 80 + 2 x 30 = 700; 6 MWh cut to the supply."""
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 8, 20.0), asic("b", 8, 40.0)]}, [20])
    res = run_policy(sc, "always-on")
    assert res.dispatch["asic_b_mw"].tolist() == pytest.approx([2])
    assert res.objective_usd == pytest.approx(700.0)
    assert res.summary["policy"]["repairs"]["supply_mwh"] == pytest.approx(6.0)


def test_baselines_follow_the_ramp_limit():
    """Ramp 4 MW/h; breakeven wants 10, 0, 10 MW (a spike of 200 in hour 1): it can only ramp
    down to 6 and back to 10. 800 - 600 + 800 = 1,000; 6 MWh changed for the ramp."""
    sc = tiny({"site": {"import_mw": 10, "ramp_mw_per_h": 4}, "asic": [asic("a", 10)]}, [20, 200, 20])
    res = run_policy(sc, "breakeven")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 6, 10])
    assert res.objective_usd == pytest.approx(1000.0)
    assert res.summary["policy"]["repairs"]["ramp_mwh"] == pytest.approx(6.0)


def test_must_take_ppa_keeps_fleets_running():
    """PPA 10 MW at 30 and no export: the site must take it. Breakeven would stop the ASICs at a
    price of 200; they are kept at 10 MW (10 MWh raised). Mining 1,000 a hour, PPA 300 a hour:
    objective 1,400."""
    sc = tiny({"site": {"import_mw": 10, "export_mw": 0}, "ppa": {"volume_mw": 10, "price_usd_per_mwh": 30},
               "asic": [asic("a", 10)]}, [20, 200])
    res = run_policy(sc, "breakeven")
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([10, 10])
    assert res.objective_usd == pytest.approx(1400.0)
    assert res.summary["policy"]["repairs"]["must_take_mwh"] == pytest.approx(10.0)


def test_outage_hours_stop_every_baseline():
    """The grid is down in hour 1: always-on draws nothing then; the GPU's 10 MWh short use its
    whole budget (SLA 0.5 over two hours). Contract 2 x 10 x 100 - credit 0 - 20 x 10 = 1,800,
    plus the ASIC's 800 in hour 0: 2,600."""
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 100,
           "availability": 0.5, "billing_period": "horizon"}
    sc = tiny({"site": {"import_mw": 30, "outage_column": "down"}, "asic": [asic("a", 10)], "gpu": [gpu]},
              [20, 20], down=[0, 1])
    res = run_policy(sc, "always-on")
    assert res.dispatch["load_mw"].tolist() == pytest.approx([20, 0])
    assert res.objective_usd == pytest.approx(2600.0)


def test_decisions_that_break_the_sla_are_reported_by_policy_and_row():
    """GPU firm 0 in both hours under a 0.75 SLA: the settlement is infeasible and says so."""
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 100,
           "availability": 0.75, "billing_period": "horizon"}
    sc = tiny({"site": {"import_mw": 30}, "gpu": [gpu]}, [20, 20])
    with pytest.raises(optimiser.InfeasibleError, match="decisions of the mine policy.*SLA of GPU fleet 'g'"):
        evaluate(sc, {"gpu.firm": np.zeros((1, 2)), "gpu.spot": np.zeros((1, 2))}, policy="mine")


def test_settling_the_optimum_gives_the_optimum(example_dir):
    """The optimum's own decisions, fixed and settled, earn exactly the optimum: the accounting
    is the model's (a fortnight of the example, with reserves, a demand charge and a ramp)."""
    sc = optimiser.load_scenario(example_dir, start="2025-07-01T00:00:00-05:00", end="2025-07-15T00:00:00-05:00")
    m = optimiser.build(sc)
    best = optimiser.solve(m)
    settled = evaluate(sc, decisions_from(m, best.solution))
    assert settled.objective_usd == pytest.approx(best.objective_usd, rel=1e-9)
    for kind in ("revenue_usd", "cost_usd"):
        for k, v in best.summary[kind].items():
            assert settled.summary[kind][k] == pytest.approx(v, rel=1e-7, abs=1e-3)


def test_baselines_never_beat_the_optimum_on_the_example(example_dir):
    """A month of the example: the optimum (perfect foresight) bounds every rule from above."""
    sc = optimiser.load_scenario(example_dir, start="2025-08-01T00:00:00-05:00", end="2025-09-01T00:00:00-05:00")
    best = run_policy(sc, "optimal")
    assert best.summary["policy"]["name"] == "optimal"
    assert best.summary["assumptions"]["foresight"] == "perfect"
    for policy in ("always-on", "strike", "breakeven"):
        res = run_policy(sc, policy)
        assert res.objective_usd <= best.objective_usd * (1 + 1e-9)
        total = sum(res.summary["revenue_usd"].values()) - sum(res.summary["cost_usd"].values())
        assert total == pytest.approx(res.objective_usd)


def test_baseline_decisions_shape_and_unknown_policy():
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [20, 20, 20])
    decisions, info = baseline_decisions(sc, "always-on")
    assert set(decisions) == {"asic.power"} and decisions["asic.power"].shape == (1, 3)
    with pytest.raises(optimiser.InputError, match="unknown policy 'nope'"):
        run_policy(sc, "nope")
    with pytest.raises(optimiser.InputError, match="strike_n"):
        PolicyOptions(strike_n=0)
    with pytest.raises(optimiser.InputError, match="keep_h"):
        PolicyOptions(window_h=24, keep_h=48)


# ------------------------------------------------------------------------------------------------
# the command line: dispatch run --policy ...
# ------------------------------------------------------------------------------------------------

TWO_WEEKS = ["--start", "2025-08-01", "--end", "2025-08-15"]


def _cli(*args: str) -> int:
    from optimiser.cli import main

    return main([str(a) for a in args])


def test_cli_writes_each_policy_in_the_results_format(example_dir, tmp_path, capsys):
    import json

    for policy in ("always-on", "strike", "breakeven", "rolling"):
        out = tmp_path / policy
        assert _cli("run", example_dir, "--out", out, "--policy", policy, *TWO_WEEKS, "--quiet") == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["policy"]["name"] == policy
        total = sum(summary["revenue_usd"].values()) - sum(summary["cost_usd"].values())
        assert total == pytest.approx(summary["objective_usd"])
        frame = __import__("pandas").read_csv(out / "dispatch.csv")
        assert len(frame) == 14 * 24
        assert frame["profit_usd"].sum() == pytest.approx(summary["objective_usd"], rel=1e-9)
    assert _cli("run", example_dir, "--out", tmp_path / "merit", "--policy", "merit", "--target-mw", "150",
                *TWO_WEEKS) == 0
    printed = capsys.readouterr().out
    assert "policy: merit (target_mw 150.0)" in printed and "no foresight" in printed


def test_cli_rolling_on_a_forecast_column(tmp_path):
    """A scenario folder with a forecast column: dispatch run --policy rolling --forecast COLUMN
    reads it (and the alert column) with the scenario."""
    import json

    from optimiser.realdata import write_scenario_folder

    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [20, 200, 20, 20], fc=[20, 20, 20, 20])
    folder = write_scenario_folder(sc, tmp_path / "scen")
    out = tmp_path / "out"
    assert _cli("run", folder, "--out", out, "--policy", "rolling", "--forecast", "fc", "--window-h", "2",
                "--keep-h", "1", "--quiet") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective_usd"] == pytest.approx(1400.0)  # tests/test_rolling.py, the missed spike
    assert summary["policy"]["forecast"] == "fc" and summary["policy"]["windows"] == 4


@pytest.mark.parametrize("args, message", [
    (["--policy", "merit", "--strike-n", "3"], "--strike-n applies to --policy strike"),
    (["--policy", "merit"], "needs a target load"),
    (["--policy", "strike", "--strike-n", "0"], "--strike-n must be"),
    (["--policy", "rolling", "--window-h", "24", "--keep-h", "48"], "keep_h"),
    (["--policy", "rolling", "--forecast", "nothere"], "nothere"),
    (["--policy", "always-on", "--extra", "x.py:f"], "--extra applies to --policy optimal"),
])
def test_cli_bad_policy_settings_are_bad_input(example_dir, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert _cli("run", example_dir, "--out", out, *TWO_WEEKS, *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_compare_tabulates_profit_and_stream_groups(example_dir):
    """compare(): one row a policy; the stream groups add up to the profit; the optimum's share is 1."""
    sc = optimiser.load_scenario(example_dir, start="2025-08-01T00:00:00-05:00", end="2025-08-08T00:00:00-05:00")
    table = compare(sc, ("optimal", "breakeven", "always-on"))
    assert list(table.index) == ["optimal", "breakeven", "always-on"]
    assert table.loc["optimal", "of_optimal"] == pytest.approx(1.0)
    groups = [c for c in table.columns if c not in ("profit_usd", "of_optimal", "foresight")]
    assert table[groups].sum(axis=1).to_numpy() == pytest.approx(table["profit_usd"].to_numpy())
    assert (table["profit_usd"] <= table.loc["optimal", "profit_usd"] * (1 + 1e-9)).all()
    assert table.loc["always-on", "reserves"] == 0.0
    assert list(table["foresight"]) == ["perfect", "current hour", "none"]


def test_a_policy_refuses_what_it_cannot_decide():
    """A capacity product's commitment and a time-basis SLA are decisions no baseline or plan
    makes: a policy run refuses them, naming the keys, instead of settling them with hindsight."""
    from optimiser.policies import run_policy

    sc = optimiser.load_scenario("scenarios/example", start="2025-07-01T00:00:00-05:00",
                                 end="2025-07-02T00:00:00-05:00")
    timed = sc.replace(**{"gpu.tenant-a.availability_basis": "time"})
    with pytest.raises(optimiser.InputError, match=r"gpu\[0\]"):
        run_policy(timed, "strike")
    with pytest.raises(optimiser.InputError, match="time-basis SLA"):
        run_policy(timed, "rolling")
    assert run_policy(sc, "strike").objective_usd < run_policy(sc, "optimal").objective_usd
