"""Reliability: pre-solve checks, diagnosis of infeasible and unbounded models, time limits and
non-optimal answers, and numerics (coefficient ranges, HiGHS's scaling warnings).

Infeasibility needs something that changes over time (every limit in ``scenario.toml`` is
constant, and :func:`optimiser.scenario.check_config` rejects the constant conflicts before a
solve), so the diagnosis cases edit the built model as a planner would in a notebook: a grid
outage or a maintenance window as a variable bound, or an added constraint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.cli import EXIT_INFEASIBLE, EXIT_SOLVER, main
from optimiser.errors import InfeasibleError, InputError, SolverError
from optimiser.scenario import check_config, parse_config
from optimiser.solve import MATRIX_RANGE_WARN, scaling_warnings

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example"
DATA_DIR = Path(os.environ.get("DISPATCH_DATA", REPO.parent / "shared" / "data"))


def frame(start: str, hours: int, seed: int = 0, price: float = 30.0) -> pd.DataFrame:
    """Hourly inputs: a noisy price, difficulty 1.1e14, BTC at 95,000 $."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=hours, freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame({"price_usd_per_mwh": price + 10 * rng.standard_normal(hours),
                         "difficulty": 1.1e14, "btc_usd": 95000.0}, index=idx)


def asic(name: str = "s", mw: float = 20.0) -> dict:
    return {"name": name, "capacity_mw": mw, "efficiency_j_per_th": 17.5}


def infeasible_message(m) -> str:
    with pytest.raises(InfeasibleError) as err:
        optimiser.solve(m)
    return str(err.value)


# ---------------------------------------------------------------------------------------------
# pre-solve checks
# ---------------------------------------------------------------------------------------------


def _problems(cfg: dict, index: pd.DatetimeIndex | None = None) -> list:
    return check_config(parse_config({"name": "c", **cfg}, "scenario.toml"), "scenario.toml", index=index)


def test_check_config_sla_above_supply_names_the_key():
    ps = _problems({"site": {"import_mw": 40},
                    "gpu": [{"name": "t", "capacity_mw": 50, "contract_mw": 50, "contract_usd_per_mw_per_h": 1,
                             "availability": 0.9, "pue": 1.2}]})
    assert [p.key for p in ps] == ["gpu[0].availability"]
    assert "54.000 MW" in ps[0].message  # 0.9 x 50 x 1.2


def test_check_config_two_slas_together_above_supply():
    gpu = {"capacity_mw": 30, "contract_mw": 30, "contract_usd_per_mw_per_h": 1, "availability": 1.0}
    ps = _problems({"site": {"import_mw": 40}, "gpu": [{"name": "a", **gpu}, {"name": "b", **gpu}]})
    assert [p.key for p in ps] == ["site.import_mw"]
    assert "60.000 MW" in ps[0].message


def test_check_config_ppa_above_load_plus_export():
    ps = _problems({"site": {"import_mw": 10, "export_mw": 20}, "ppa": {"volume_mw": 100, "price_usd_per_mwh": 30},
                    "asic": [asic(mw=50)]})
    assert [p.key for p in ps] == ["ppa.volume_mw"]


def test_check_config_reserve_nothing_can_back():
    ps = _problems({"site": {"import_mw": 10}, "asic": [asic()],
                    "reserve": [{"product": "rrs", "price_column": "rrs", "max_mw": 5, "eligible": ["flex"]}]})
    assert [p.key for p in ps] == ["reserve[0].eligible"]


def test_check_config_a_valid_site_has_no_problem():
    assert _problems({"site": {"import_mw": 100, "export_mw": 50}, "ppa": {"volume_mw": 60, "price_usd_per_mwh": 30},
                      "asic": [asic(mw=50)]}) == []


def test_horizon_outside_the_data_is_refused_not_truncated():
    """from_config used to cut the horizon silently to the data it was given."""
    data = frame("2025-01-01T00:00Z", 48)
    cfg = {"name": "h", "site": {"import_mw": 10}, "asic": [asic()],
           "start": "2025-01-01T00:00:00Z", "end": "2025-01-05T00:00:00Z"}
    with pytest.raises(InputError) as err:
        optimiser.from_config(cfg, data)
    assert [p.key for p in err.value.problems] == ["end"]
    assert "2025-01-01T00:00Z .. 2025-01-03T00:00Z" in str(err.value)
    cfg.update(start="2024-12-31T23:00:00Z", end="2025-01-02T00:00:00Z")
    with pytest.raises(InputError) as err:
        optimiser.from_config(cfg, data)
    assert [p.key for p in err.value.problems] == ["start"]
    cfg.update(start="2025-01-01T05:00:00Z", end="2025-01-02T00:00:00Z")
    assert optimiser.from_config(cfg, data).hours == 19


def test_infeasible_sla_stops_before_the_solve_in_a_scenario_folder(tmp_path: Path):
    folder = tmp_path / "s"
    folder.mkdir()
    for f in ("prices.csv", "bitcoin.csv"):
        (folder / f).write_bytes((EXAMPLE / f).read_bytes())
    text = (EXAMPLE / "scenario.toml").read_text().replace("import_mw = 300", "import_mw = 10")
    text = text.replace("volume_mw = 250", "volume_mw = 30")
    (folder / "scenario.toml").write_text(text)
    with pytest.raises(InputError) as err:
        optimiser.load_scenario(folder)
    assert [p.key for p in err.value.problems] == ["gpu[0].availability"]
    assert "scenario.toml" in str(err.value)


# ---------------------------------------------------------------------------------------------
# diagnosis of infeasible models
# ---------------------------------------------------------------------------------------------


def sla_outage_model():
    """January and February 2025 (Chicago), a 50 MW tenant at 99 % monthly availability, a 60 MW
    grid connection, and a 100-hour grid outage in February (import bound 0).

    February has 672 hours: the SLA needs 0.99 x 50 x 672 = 33,264 MWh; the tenant can get at
    most 50 MW in the 572 hours with grid, 28,600 MWh: 4,664 MWh short. January is fine.
    """
    data = frame("2025-01-01T06:00Z", 24 * 59)
    cfg = {"name": "a", "timezone": "America/Chicago", "site": {"import_mw": 60},
           "gpu": [{"name": "t", "capacity_mw": 50, "contract_mw": 50, "contract_usd_per_mw_per_h": 100,
                    "availability": 0.99}],
           "asic": [asic()]}
    sc = optimiser.from_config(cfg, data)
    m = optimiser.build(sc)
    feb = np.flatnonzero(sc.local_timestamps().month == 2)
    assert len(feb) == 672
    for t in feb[:100]:
        m.site.grid_import[t].setub(0.0)
    return m


def test_diagnosis_sla_the_import_limit_cannot_carry_in_one_month():
    msg = infeasible_message(sla_outage_model())
    assert msg.startswith("HiGHS reports the scenario infeasible.")
    assert "The constraint family that cannot hold: sla " in msg
    assert "the SLA of GPU fleet 't' in billing period 2025-02 (gpu.sla[t, 2025-02]) falls short by 4,664 MWh" in msg
    assert "2025-01" not in msg.split("It conflicts with")[0]  # January is not blamed
    # HiGHS's infeasible subsystem names the outage: the import bound of 0 MW in February
    assert "the upper bound of site.grid_import (0 MW)" in msg
    assert "the upper bound of gpu.firm (50 MW)" in msg


def test_diagnosis_ramp_limit_with_a_ppa_must_take():
    """48 hours, a 250 MW must-take PPA, a 100 MW/h ramp limit. Hours 10-19: the ASIC fleet is
    in maintenance down to 50 MW (the PPA goes out on the 250 MW export line); hours 20-29: the
    export line is out, so load must take the whole PPA (>= 250 MW). From 50 MW to 250 MW in an
    hour is 200 MW/h: the ramp row of hour 20 is over its limit by 100 MW; nothing else is."""
    data = frame("2025-01-01T06:00Z", 48)
    cfg = {"name": "b", "site": {"import_mw": 100, "export_mw": 250, "ramp_mw_per_h": 100},
           "ppa": {"volume_mw": 250, "price_usd_per_mwh": 30}, "asic": [asic(mw=300)]}
    m = optimiser.build(optimiser.from_config(cfg, data))
    for t in range(10, 20):
        m.asic.power["s", t].setub(50.0)
    for t in range(20, 30):
        m.site.grid_export[t].setub(0.0)
    msg = infeasible_message(m)
    assert "The constraint family that cannot hold: ramp " in msg
    assert ("the ramp limit of 100 MW/h between 2025-01-02T01:00Z and 2025-01-02T02:00Z "
            "(site.ramp[2025-01-02T02:00Z]) would have to let load rise 100 MW faster") in msg
    assert "(and" not in msg  # one row only
    assert "the upper bound of asic.power (50 MW) at 2025-01-02T01:00Z" in msg
    assert "the upper bound of site.grid_export (0 MW) at 2025-01-02T02:00Z" in msg


def test_diagnosis_user_constraint_that_contradicts_the_model():
    """A user asks for 120 MW of load in hour 7 of a site with a 100 MW grid connection."""
    data = frame("2025-01-01T06:00Z", 48)
    m = optimiser.build(optimiser.from_config({"name": "c", "site": {"import_mw": 100}, "asic": [asic(mw=150)]}, data))
    m.min_load = pyo.Constraint(expr=m.site_load[7] >= 120)
    msg = infeasible_message(m)
    assert "The constraint family that cannot hold: user " in msg
    assert "the added constraint 'min_load' would need its lower side lowered by 20" in msg
    assert "the upper bound of site.grid_import (100 MW) at 2025-01-01T13:00Z" in msg


def test_diagnosis_balance_when_the_ppa_has_nowhere_to_go():
    """A 250 MW PPA, 200 MW of ASICs, and the export line out in hours 5-6: 50 MW too many."""
    data = frame("2025-01-01T00:00Z", 12)
    cfg = {"name": "d", "site": {"import_mw": 10, "export_mw": 100},
           "ppa": {"volume_mw": 250, "price_usd_per_mwh": 30}, "asic": [asic(mw=200)]}
    m = optimiser.build(optimiser.from_config(cfg, data))
    for t in (5, 6):
        m.site.grid_export[t].setub(0.0)
    msg = infeasible_message(m)
    assert "The constraint family that cannot hold: balance " in msg
    assert "the power balance at 2025-01-01T05:00Z (balance[2025-01-01T05:00Z]) has 50 MW of power with nowhere" in msg
    assert "balance[2025-01-01T06:00Z]" in msg
    assert "balance[2025-01-01T04:00Z]" not in msg


def test_diagnosis_of_contradictory_bounds():
    data = frame("2025-01-01T00:00Z", 4)
    m = optimiser.build(optimiser.from_config({"name": "e", "site": {"import_mw": 100}, "asic": [asic()]}, data))
    m.asic.power["s", 2].setlb(30.0)  # above its 20 MW capacity
    with pytest.raises((InfeasibleError, SolverError)) as err:
        optimiser.solve(m)
    assert "asic.power[('s', 2)] has lower bound 30 above its upper bound 20" in str(err.value)


def test_diagnosis_of_an_unbounded_model_names_the_variable():
    data = frame("2025-01-01T00:00Z", 4)
    m = optimiser.build(optimiser.from_config({"name": "f", "site": {"import_mw": 100}, "asic": [asic()]}, data))
    m.bet = pyo.Var()
    optimiser.add_revenue(m, "bet", 3.0 * m.bet)
    with pytest.raises(SolverError) as err:
        optimiser.solve(m)
    msg = str(err.value)
    assert "unbounded" in msg and "along bet:" in msg
    assert err.value.solver["termination"] == "Unbounded"


def test_cli_exit_code_on_an_infeasible_scenario(tmp_path: Path, capsys):
    """A scenario folder whose SLA the grid cannot carry (caught before the solve) exits 2 with
    the key; the CLI exit code for a model HiGHS finds infeasible is 3."""
    folder = tmp_path / "s"
    folder.mkdir()
    for f in ("prices.csv", "bitcoin.csv"):
        (folder / f).write_bytes((EXAMPLE / f).read_bytes())
    (folder / "scenario.toml").write_text(
        (EXAMPLE / "scenario.toml").read_text().replace("import_mw = 300", "import_mw = 10").replace(
            "volume_mw = 250", "volume_mw = 30"))
    out = tmp_path / "out"
    assert main(["run", str(folder), "--out", str(out), "-q"]) == 2
    assert "gpu[0].availability" in capsys.readouterr().err
    assert not out.exists()
    assert EXIT_INFEASIBLE == 3


# ---------------------------------------------------------------------------------------------
# time limits and non-optimal answers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_year():
    sc = optimiser.load_scenario(EXAMPLE)
    return sc, optimiser.build(sc)


def test_tiny_time_limit_on_the_default_year_is_an_error(default_year):
    _, m = default_year
    for allow in (False, True):
        with pytest.raises(SolverError) as err:
            optimiser.solve(m, time_limit=1e-3, allow_nonoptimal=allow, load_solution=False)
        assert "Time limit reached" in str(err.value)
        assert err.value.solver["termination"] == "Time limit reached"
        assert err.value.solver["status"] == "warning"
        assert err.value.solver["options"]["time_limit"] == 1e-3
    # HiGHS stopped before it had any feasible point: even when allowed there is nothing to return
    assert "without a feasible point" in str(err.value)


def test_cli_time_limit_exits_4_and_writes_nothing(tmp_path: Path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(EXAMPLE), "--out", str(out), "--time-limit", "0.001", "-q"])
    assert code == EXIT_SOLVER == 4
    assert "Time limit reached" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _no_ppa_two_weeks():
    """Two weeks, no PPA, no SLA: zero load is feasible, so primal simplex never loses feasibility."""
    data = frame("2025-03-01T00:00Z", 336, seed=3, price=40.0)
    cfg = {"name": "g", "site": {"import_mw": 80, "export_mw": 0},
           "asic": [asic("a", 30), {"name": "b", "capacity_mw": 40, "efficiency_j_per_th": 30.0}]}
    return optimiser.from_config(cfg, data)


def test_nonoptimal_answer_is_an_error_unless_allowed_and_the_summary_records_it(tmp_path: Path):
    """An iteration limit (deterministic, unlike a time limit) on primal simplex, which keeps a
    feasible point: refused by default; accepted with allow_nonoptimal, and then the summary (and
    summary.json) say how the solve ended. The optimum is recorded as Optimal."""
    sc = _no_ppa_two_weeks()
    opts = {"simplex_strategy": 4, "presolve": "off", "simplex_iteration_limit": 400}
    with pytest.raises(SolverError) as err:
        optimiser.solve(optimiser.build(sc), options=opts)
    assert "Iteration limit reached" in str(err.value) and "allow_nonoptimal" in str(err.value)

    res = optimiser.solve(optimiser.build(sc), options=opts, allow_nonoptimal=True)
    best = optimiser.solve(optimiser.build(sc))
    assert res.summary["solver"]["termination"] == "Iteration limit reached"
    assert res.summary["solver"]["status"] == "warning"
    assert best.summary["solver"]["termination"] == "Optimal" and best.summary["solver"]["status"] == "ok"
    assert 0 < res.objective_usd < best.objective_usd - 1.0
    # the non-optimal point is still feasible and its books still add up
    d = res.dispatch
    assert (d["import_mw"] <= 80 + 1e-6).all() and (d["load_mw"] - d["import_mw"]).abs().max() < 1e-6
    s = res.summary
    assert sum(s["revenue_usd"].values()) - sum(s["cost_usd"].values()) == pytest.approx(res.objective_usd)
    res.write(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["solver"]["termination"] == "Iteration limit reached"


def test_rel_gap_and_time_limit_reach_highs():
    sc = _no_ppa_two_weeks()
    res = optimiser.solve(optimiser.build(sc), time_limit=60, rel_gap=1e-3)
    assert res.summary["solver"]["options"]["time_limit"] == 60.0
    assert res.summary["solver"]["options"]["mip_rel_gap"] == 1e-3
    assert res.summary["solver"]["termination"] == "Optimal"


# ---------------------------------------------------------------------------------------------
# numerics
# ---------------------------------------------------------------------------------------------


def test_default_year_numerics(default_year):
    """Revenue per MWh is computed before it reaches the model (difficulty 1e14 never does):
    the matrix holds only 1 and the PUEs, and HiGHS logs no scaling warning."""
    sc, m = default_year
    res = optimiser.solve(m, load_solution=False)
    solver = res.summary["solver"]
    rng = solver["coefficient_ranges"]
    assert rng["matrix"] == [1.0, 1.3]  # balance/ramp/reserve 1 and pue; the largest pue is 1.3
    # the demand-charge peak of the whole draw (load metering): at most import + PPA, 300 + 250
    assert rng["bound"][1] == 550.0
    lo, hi = rng["cost"]
    assert 1e-3 < lo and hi < 1e5  # $/MWh and $/MW-month: no 1e14 in sight
    assert scaling_warnings(solver["highs_warnings"]) == []
    assert not any("HiGHS" in w or "matrix" in w for w in res.summary["warnings"])
    # nothing else either, but for the notice that a zero integrality array was passed
    assert set(solver["highs_warnings"]) <= {"No semi-integer/integer variables in model with non-empty integrality"}


def test_scaling_trouble_is_seen():
    """The log capture is not vacuous: a badly scaled user edit is reported."""
    data = frame("2025-01-01T00:00Z", 6)
    sc = optimiser.from_config({"name": "n", "site": {"import_mw": 100}, "asic": [asic()]}, data)
    m = optimiser.build(sc)
    # a constraint written in W and MW at once: matrix range 1e6 / 1e-4 = 1e10
    m.mixed = pyo.Constraint(expr=1e6 * m.site.grid_import[0] + 1e-4 * m.asic.power["s", 1] <= 1e9)
    res = optimiser.solve(m)
    assert res.summary["solver"]["coefficient_ranges"]["matrix"] == [1e-4, 1e6]
    assert any("constraint matrix spans" in w and "1e+10" in w for w in res.summary["warnings"])
    assert 1e10 > MATRIX_RANGE_WARN
    # a revenue of 1e12 $ per MW: HiGHS warns about excessively large costs, and so do we
    m2 = optimiser.build(sc)
    optimiser.add_revenue(m2, "huge", 1e12 * m2.asic.power["s", 0])
    res2 = optimiser.solve(m2)
    assert scaling_warnings(res2.summary["solver"]["highs_warnings"])
    assert any(w.startswith("HiGHS:") and "cost" in w for w in res2.summary["warnings"])


def test_a_coefficient_highs_would_drop_is_refused():
    data = frame("2025-01-01T00:00Z", 3)
    m = optimiser.build(optimiser.from_config({"name": "n", "site": {"import_mw": 100}, "asic": [asic()]}, data))
    m.tiny = pyo.Constraint(expr=1e-11 * m.asic.power["s", 0] + m.site.grid_import[1] <= 50)
    with pytest.raises(SolverError) as err:
        optimiser.solve(m)
    assert "HiGHS ignores values below 1e-09" in str(err.value)


def _ercot_2024(data_dir: Path) -> optimiser.Scenario:
    """The example site on ERCOT HB_WEST real-time prices and the real 2024 Bitcoin series
    (ancillary prices: gaps in the source filled with 0 $/MW/h, i.e. no reserve income)."""
    idx = pd.date_range("2024-01-01T06:00Z", "2025-01-01T05:00Z", freq="h", tz="UTC", name="timestamp")

    def read(name: str) -> pd.DataFrame:
        f = pd.read_csv(data_dir / name)
        f.index = pd.to_datetime(f.pop("timestamp"), utc=True)
        return f

    price = read("ercot_rtm_spp_hourly_HB_WEST.csv")["price_usd_per_mwh"].reindex(idx)
    assert price.notna().all()
    anc = read("ercot_dam_as_mcpc_hourly.csv").reindex(idx).fillna(0.0)
    daily = pd.concat([read("btc_usd_daily_newhedge.csv")["btc_usd"],
                       read("btc_difficulty_daily_newhedge.csv")["difficulty"]], axis=1)
    fees = read("btc_fees_daily.csv")
    daily["fees_btc_per_block"] = fees["fees_btc_per_day"] / fees["blocks_mined"]
    daily = daily.reindex(idx, method="ffill")
    data = pd.DataFrame({"price_usd_per_mwh": price, "rrs_usd_per_mw_per_h": anc["rrs_usd_per_mw_per_h"],
                         "ecrs_usd_per_mw_per_h": anc["ecrs_usd_per_mw_per_h"], "gpu_spot_usd_per_mwh": 120.0},
                        index=idx).join(daily)
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    cfg = tomllib.loads((EXAMPLE / "scenario.toml").read_text())
    cfg.pop("inputs")
    cfg.update(name="ERCOT HB_WEST 2024", start="2024-01-01T00:00:00-06:00", end="2025-01-01T00:00:00-06:00")
    cfg["coincident_peak"]["intervals"] = ["2024-06-30T16:00:00-05:00", "2024-07-01T17:00:00-05:00",
                                           "2024-08-20T17:00:00-05:00"]
    return optimiser.from_config(cfg, data, folder=EXAMPLE)


@pytest.mark.skipif(not (DATA_DIR / "ercot_rtm_spp_hourly_HB_WEST.csv").is_file(), reason="shared data not available")
def test_real_2024_year_has_no_scaling_warnings():
    sc = _ercot_2024(DATA_DIR)
    assert sc.hours == 8784
    assert sc.data["price_usd_per_mwh"].min() < -30 and sc.data["price_usd_per_mwh"].max() > 3000
    assert sc.data["difficulty"].max() > 1e14
    res = optimiser.solve(optimiser.build(sc), load_solution=False)
    solver = res.summary["solver"]
    assert solver["termination"] == "Optimal"
    assert solver["coefficient_ranges"]["matrix"] == [1.0, 1.3]
    assert solver["coefficient_ranges"]["cost"][1] < 1e5  # spikes of 3,038 $/MWh, x pue at most
    assert scaling_warnings(solver["highs_warnings"]) == []
    s = res.summary
    assert sum(s["revenue_usd"].values()) - sum(s["cost_usd"].values()) == pytest.approx(res.objective_usd, rel=1e-9)


def test_an_objective_coefficient_highs_takes_for_infinite_is_refused():
    data = frame("2025-01-01T00:00Z", 3)
    m = optimiser.build(optimiser.from_config({"name": "n", "site": {"import_mw": 100}, "asic": [asic()]}, data))
    optimiser.add_revenue(m, "absurd", 3e22 * m.asic.power["s", 1])
    with pytest.raises(SolverError) as err:
        optimiser.solve(m)
    assert "asic.power[('s', 1)] a coefficient of 3e+22" in str(err.value)


def test_implausible_input_values_are_refused_before_the_solve():
    """A difficulty below 1 (a corrupted '1.1e14' -> '1.1e-4') would make mining worth 1e22 $/MWh;
    a price of 3e7 $/MWh is a unit slip. Both are InputErrors naming the column and the hour."""
    data = frame("2025-01-01T00:00Z", 24)
    cfg = {"name": "p", "site": {"import_mw": 100}, "asic": [asic()]}
    bad = data.copy()
    bad.iloc[5, bad.columns.get_loc("difficulty")] = 1.1e-4
    with pytest.raises(InputError) as err:
        optimiser.from_config(cfg, bad)
    assert [p.column for p in err.value.problems] == ["difficulty"]
    assert "0.00011 at 2025-01-01T05:00Z is below 1" in str(err.value)
    bad = data.copy()
    bad.iloc[7, bad.columns.get_loc("btc_usd")] = 9.5e13  # 'e' slipped into 95000 -> 95000e9
    with pytest.raises(InputError) as err:
        optimiser.from_config(cfg, bad)
    assert "ASIC fleet 's' would earn" in str(err.value) and "at 2025-01-01T07:00Z" in str(err.value)
    bad = data.copy()
    bad.iloc[3, bad.columns.get_loc("price_usd_per_mwh")] = 3e7
    with pytest.raises(InputError) as err:
        optimiser.from_config(cfg, bad)
    assert [p.column for p in err.value.problems] == ["price_usd_per_mwh"]
    assert "3e+07 at 2025-01-01T03:00Z" in str(err.value)
    assert optimiser.from_config(cfg, data).hours == 24  # the real values pass


def test_horizon_not_covered_by_a_step_series_is_refused(tmp_path: Path):
    """Daily Bitcoin rows up to 2025-01-03 cannot stand for 2025-01-09: the horizon ends six days
    (six median spacings) after the last row; the error names the file and the column."""
    (tmp_path / "scenario.toml").write_text(
        'name = "h"\ninputs = ["prices.csv", "bitcoin.csv"]\nstart = "2025-01-01T00:00:00Z"\n'
        'end = "2025-01-10T00:00:00Z"\n[site]\nimport_mw = 50\n'
        '[[asic]]\nname = "s"\ncapacity_mw = 20\nefficiency_j_per_th = 17.5\n')
    idx = pd.date_range("2025-01-01", periods=24 * 9, freq="h", tz="UTC")
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), "price_usd_per_mwh": 30.0}).to_csv(
        tmp_path / "prices.csv", index=False)
    (tmp_path / "bitcoin.csv").write_text("timestamp,btc_usd,difficulty\n2025-01-01T00:00:00Z,95000,1.1e14\n"
                                          "2025-01-02T00:00:00Z,95000,1.1e14\n2025-01-03T00:00:00Z,96000,1.1e14\n")
    with pytest.raises(InputError) as err:
        optimiser.load_scenario(tmp_path)
    assert any(p.file == "bitcoin.csv" and p.column in ("btc_usd", "difficulty") for p in err.value.problems)
