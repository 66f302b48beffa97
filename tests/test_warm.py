"""Warm re-solves (:class:`optimiser.WarmSolver`): the same answers as a cold solve, fewer
iterations, a cold hand-over when the structure changes, and a cold check that catches a kept
model gone wrong. On one month of the example (744 h), so that the 20 variants stay quick.

No test here times anything: speed is measured by ``make bench`` (``benchmarks/run.py --warm``).
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.errors import DispatchError, InfeasibleError, SolverError
from optimiser.warm import COLD_CHECK_RTOL, WarmSolver

MONTH = {"start": "2025-08-01T00:00:00-05:00", "end": "2025-09-01T00:00:00-05:00"}
RTOL = 1e-7


@pytest.fixture(scope="module")
def month(example_dir) -> optimiser.Scenario:
    return optimiser.load_scenario(example_dir, **MONTH)


def cold(sc: optimiser.Scenario, extra: Any = None) -> optimiser.Results:
    m = optimiser.build(sc)
    if extra is not None:
        extra(m)
    return optimiser.solve(m, load_solution=False)


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(a), abs(b))


def variants(sc: optimiser.Scenario, n: int = 20, seed: int = 7) -> list[tuple[str, optimiser.Scenario]]:
    """``n`` variants of ``sc``, cycling through BTC price x U(0.8, 1.2), energy price x U(0.8, 1.2),
    the GPU contract price U(150, 300) $/MW/h and the ramp limit U(20, 250) MW/h."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind = ("btc", "energy", "gpu", "ramp")[i % 4]
        if kind == "btc":
            k = rng.uniform(0.8, 1.2)
            out.append((kind, sc.with_series(btc_usd=lambda d, k=k: k * d["btc_usd"])))
        elif kind == "energy":
            k = rng.uniform(0.8, 1.2)
            out.append((kind, sc.with_series(price_usd_per_mwh=lambda d, k=k: k * d["price_usd_per_mwh"])))
        elif kind == "gpu":
            out.append((kind, sc.replace(**{"gpu.tenant-a.contract_usd_per_mw_per_h": float(rng.uniform(150, 300))})))
        else:
            out.append((kind, sc.replace(**{"site.ramp_mw_per_h": float(rng.uniform(20, 250))})))
    return out


def test_warm_equals_cold_on_random_variants(month, checks):
    """20 variants solved one after the other from the kept basis: every objective equals a cold
    solve's (relative 1e-7), the results pass the property checks, only what the variant touches
    is changed in HiGHS, and the warm solves take fewer iterations than the cold ones."""
    ws = WarmSolver(check_cold_every=0)  # no cold check: the warm answers must stand on their own
    first = ws.solve(optimiser.build(month), load_solution=False)
    assert first.summary["solver"]["warm"]["warm"] is False
    assert first.summary["solver"]["warm"]["reason"] == "first solve"
    warm_it, cold_it = [], []
    previous = month
    for kind, sc in variants(month):
        m = optimiser.build(sc)
        res = ws.solve(m, load_solution=False)
        ref = cold(sc)
        assert rel(res.objective_usd, ref.objective_usd) <= RTOL, kind
        rec = res.summary["solver"]["warm"]
        assert rec["warm"] is True and rec["reason"] is None, (kind, rec)
        changed = rec["changed"]
        # only what differs from the variant before (btc, energy, gpu, ramp, btc, ...) is changed
        assert changed["matrix_values"] == 0 and changed["column_bounds"] == 0
        if kind in ("btc", "energy", "gpu"):  # gpu follows energy: its costs go back to the base's
            assert changed["costs"] > 0
        if kind in ("gpu", "ramp"):  # the contract price is in the objective's constant
            assert changed["objective_offset"] is True
        if kind == "ramp":  # follows gpu (the base's data): the ramp rows' bounds only
            assert changed["costs"] == 0
            assert changed["row_bounds"] == sc.hours - 1  # one ramp row an hour but the first
        if kind in ("energy", "btc") and previous is not month:  # after a ramp variant, or undoing one
            assert changed["row_bounds"] == (sc.hours - 1 if kind == "btc" else 0)
        for name in ("balance", "bounds", "sla", "objective"):
            getattr(checks, name)(sc, m, res)
        warm_it.append(res.summary["solver"]["iterations"])
        cold_it.append(ref.summary["solver"]["iterations"])
        previous = sc
    assert ws.stats == {"solves": 21, "warm": 20, "cold": 1, "cold_checks": 0, "mismatches": 0}
    assert np.mean(warm_it) < 0.6 * np.mean(cold_it), (warm_it, cold_it)


def test_offset_only_change_needs_no_iteration(month):
    """A GPU contract price changes only the objective's constant: the kept basis is optimal."""
    ws = WarmSolver(check_cold_every=0)
    ws.solve(optimiser.build(month), load_solution=False)
    sc = month.replace(**{"gpu.tenant-a.contract_usd_per_mw_per_h": 260.0})
    res = ws.solve(optimiser.build(sc), load_solution=False)
    assert res.summary["solver"]["warm"]["changed"] == {
        "costs": 0, "column_bounds": 0, "row_bounds": 0, "matrix_values": 0, "objective_offset": True}
    assert res.summary["solver"]["iterations"] == 0
    # 50 MW contracted x 744 h x (260 - 210) $/MW/h more than the base
    assert res.objective_usd == pytest.approx(cold(month).objective_usd + 50 * 744 * 50.0, rel=1e-12)


def _cap(m: Any) -> None:
    """A row an hour on two fleets (a row on one variable would be passed as its bound)."""
    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["s21", t] + m.asic.power["s19jpro", t] <= 120)


def _cap_one(m: Any) -> None:
    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["s21", t] <= 120)


def test_structure_change_falls_back_to_cold(month):
    """A user constraint adds rows: the model is handed over whole (and gives the cold answer);
    the original model after it is a structure change again."""
    ws = WarmSolver(check_cold_every=0)
    base = ws.solve(optimiser.build(month), load_solution=False)
    m = optimiser.build(month)
    _cap(m)
    res = ws.solve(m)
    rec = res.summary["solver"]["warm"]
    rows, cols = res.summary["solver"]["rows"], res.summary["solver"]["columns"]
    assert rec["warm"] is False
    assert rec["reason"] == f"shape changed ({rows - 744} x {cols} -> {rows} x {cols})"  # one row an hour
    ref = cold(month, _cap)
    assert rel(res.objective_usd, ref.objective_usd) <= RTOL
    assert res.objective_usd < base.objective_usd - 1e3  # the cap binds
    assert max(pyo.value(m.asic.power["s21", t] + m.asic.power["s19jpro", t]) for t in m.T) <= 120 + 1e-6
    again = ws.solve(optimiser.build(month), load_solution=False)
    assert again.summary["solver"]["warm"]["warm"] is False
    assert again.summary["solver"]["warm"]["reason"].startswith("shape changed")
    assert rel(again.objective_usd, base.objective_usd) <= RTOL


def test_a_cap_on_one_variable_is_a_bound_change_solved_warm(month):
    """A user row on one variable is passed to HiGHS as that column's bound: the structure is
    unchanged, so the kept model is updated warm, and the answer is the cold one."""
    ws = WarmSolver(check_cold_every=0)
    base = ws.solve(optimiser.build(month), load_solution=False)
    m = optimiser.build(month)
    _cap_one(m)
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    res = ws.solve(m)
    rec = res.summary["solver"]["warm"]
    assert rec["warm"] is True and res.summary["solver"]["rows"] == base.summary["solver"]["rows"]
    ref = cold(month, _cap_one)
    assert rel(res.objective_usd, ref.objective_usd) <= RTOL and res.objective_usd < base.objective_usd - 1e3
    assert max(pyo.value(m.asic.power["s21", t]) for t in m.T) <= 120 + 1e-6
    # the rows' duals come from the column's reduced cost: binding hours have the mining margin
    duals = [m.dual[m.cap[t]] for t in m.T]
    binding = [t for t in m.T if abs(pyo.value(m.asic.power["s21", t]) - 120) < 1e-7]
    assert binding and all(duals[t] >= -1e-9 for t in m.T) and max(duals) > 1.0
    assert all(abs(duals[t]) < 1e-9 for t in m.T if t not in binding)


def test_a_model_with_integer_variables_is_always_handed_over_whole(month):
    """A user makes one hour of the S21 fleet integer: the model is a MIP, solved cold each time
    (no warm start, no cold check) and to the answer ``optimiser.solve`` gives."""
    def integer_hour(m: Any) -> None:
        m.asic.power["s21", 3].domain = pyo.Integers
        m.asic.power["s21", 3].setub(99.5)  # the LP optimum (150 or 99.5) is not the MIP's: 99

    ws = WarmSolver(check_cold_every=1)
    for _ in range(2):
        m = optimiser.build(month)
        integer_hour(m)
        res = ws.solve(m)
        rec = res.summary["solver"]["warm"]
        assert rec["warm"] is False and rec["cold_check"] is None
        assert pyo.value(m.asic.power["s21", 3]) == pytest.approx(99.0)
    assert rec["reason"] == "integer variables: a MIP is always handed over whole"
    assert rel(res.objective_usd, cold(month, integer_hour).objective_usd) <= RTOL
    assert ws.stats["warm"] == 0


def test_changed_matrix_values_warm_or_cold_by_count(month):
    """A fleet's PUE changes its draw on the balance, reserve, ramp and demand-charge rows, and
    (load metering) its cost per MW, the adder billed on its draw: one cost an hour. Over
    ``max_coeff_changes`` the model is handed over whole; under it, changed value by value."""
    sc = month.replace(**{"asic.s21.pue": 1.1})
    ref = cold(sc)
    for limit, warm in ((1000, False), (100_000, True)):
        ws = WarmSolver(check_cold_every=0, max_coeff_changes=limit)
        ws.solve(optimiser.build(month), load_solution=False)
        res = ws.solve(optimiser.build(sc), load_solution=False)
        rec = res.summary["solver"]["warm"]
        assert rec["warm"] is warm
        if warm:
            assert rec["changed"]["matrix_values"] > 1000 and rec["changed"]["costs"] == month.hours
        else:
            assert "matrix values changed (more than max_coeff_changes=1000)" in rec["reason"]
        assert rel(res.objective_usd, ref.objective_usd) <= RTOL


def _ramp(month: optimiser.Scenario) -> optimiser.Scenario:
    return month.replace(**{"site.ramp_mw_per_h": 15.0})


def test_cold_check_catches_a_corrupted_kept_model(month, monkeypatch):
    """HiGHS's kept model loses a change (row bounds not passed on): without the cold check the
    warm answer is wrong; with it, the wrong answer is caught, the cold one reported, a warning
    says so, and the next warm solve starts from the right model."""
    sc = _ramp(month)
    right = cold(sc).objective_usd
    monkeypatch.setattr(WarmSolver, "_change_row_bounds", lambda self, idx, lo, hi: True)

    unchecked = WarmSolver(check_cold_every=0)
    unchecked.solve(optimiser.build(month), load_solution=False)
    wrong = unchecked.solve(optimiser.build(sc), load_solution=False)
    assert rel(wrong.objective_usd, right) > 1e-4  # the corruption matters (the ramp binds)

    ws = WarmSolver(check_cold_every=1)
    ws.solve(optimiser.build(month), load_solution=False)
    res = ws.solve(optimiser.build(sc), load_solution=False)
    assert rel(res.objective_usd, right) <= RTOL
    rec = res.summary["solver"]["warm"]
    assert rec["cold_check"]["agrees"] is False
    assert rec["cold_check"]["rel_diff"] > COLD_CHECK_RTOL
    assert rec["cold_check"]["warm_objective_usd"] == pytest.approx(wrong.objective_usd, rel=1e-9)
    assert rec["fallback"]["why"] == "cold check"
    assert any("warm re-solve" in w and "cold answer is reported" in w for w in res.summary["warnings"])
    assert ws.stats["mismatches"] == 1
    # the fresh instance is kept: a BTC variant next is warm and right again
    sc2 = sc.with_series(btc_usd=lambda d: 1.05 * d["btc_usd"])
    res2 = ws.solve(optimiser.build(sc2), load_solution=False)
    assert res2.summary["solver"]["warm"]["warm"] is True
    assert res2.summary["solver"]["warm"]["cold_check"]["agrees"] is True
    assert rel(res2.objective_usd, cold(sc2).objective_usd) <= RTOL

    strict = WarmSolver(check_cold_every=1, on_mismatch="raise")
    strict.solve(optimiser.build(month), load_solution=False)
    with pytest.raises(SolverError, match="warm re-solve gave an objective"):
        strict.solve(optimiser.build(sc), load_solution=False)
    after = strict.solve(optimiser.build(sc), load_solution=False)  # a failed solve: the next is cold
    assert after.summary["solver"]["warm"]["reason"] == "the previous solve failed"
    assert rel(after.objective_usd, right) <= RTOL


def test_cold_check_every_nth_warm_solve(month):
    ws = WarmSolver(check_cold_every=3)
    ws.solve(optimiser.build(month), load_solution=False)
    checked = []
    for k in (0.9, 0.95, 1.05, 1.1, 1.15, 1.2, 0.85):
        sc = month.with_series(btc_usd=lambda d, k=k: k * d["btc_usd"])
        rec = ws.solve(optimiser.build(sc), load_solution=False).summary["solver"]["warm"]
        checked.append(rec["cold_check"] is not None)
        if rec["cold_check"] is not None:
            assert rec["cold_check"]["agrees"] is True and rec["cold_check"]["rel_diff"] <= COLD_CHECK_RTOL
    assert checked == [False, False, True, False, False, True, False]
    assert ws.stats["cold_checks"] == 2


def test_objective_check_failure_after_a_warm_start_falls_back(month, monkeypatch):
    """Costs not passed on: HiGHS's objective is not the model's at its point, which the
    post-solve objective check catches; the warm solver then solves cold and says so."""
    monkeypatch.setattr(WarmSolver, "_change_costs", lambda self, idx, values: True)
    ws = WarmSolver(check_cold_every=0)
    ws.solve(optimiser.build(month), load_solution=False)
    sc = month.with_series(btc_usd=lambda d: 1.15 * d["btc_usd"])
    res = ws.solve(optimiser.build(sc), load_solution=False)
    assert rel(res.objective_usd, cold(sc).objective_usd) <= RTOL
    assert res.summary["solver"]["warm"]["fallback"]["why"] == "objective check"
    assert any("failed the objective check" in w for w in res.summary["warnings"])
    assert ws.stats["mismatches"] == 1


def _no_room_for_the_ppa(m: Any) -> None:
    """No export and the S21 fleet capped at 50 MW: the site can draw at most about 195 MW of
    the 250 MW must-take PPA. Column bounds only: the structure is the model's."""
    for t in m.T:
        m.site.grid_export[t].setub(0)
        m.asic.power["s21", t].setub(50)


def test_failed_solve_makes_the_next_cold(month):
    """An infeasible variant with the kept structure is solved warm (column bounds changed) and
    raises with the same diagnosis as ``optimiser.solve``; the solver then hands the next model
    over whole."""
    with pytest.raises(InfeasibleError) as ref:
        cold(month, _no_room_for_the_ppa)
    ws = WarmSolver(check_cold_every=0)
    ws.solve(optimiser.build(month), load_solution=False)
    m = optimiser.build(month)
    _no_room_for_the_ppa(m)
    with pytest.raises(InfeasibleError) as err:
        ws.solve(m)
    assert "balance" in str(err.value)
    assert str(err.value) == str(ref.value)
    assert ws.stats["warm"] == 1
    res = ws.solve(optimiser.build(month), load_solution=False)
    assert res.summary["solver"]["warm"]["warm"] is False
    assert res.summary["solver"]["warm"]["reason"] == "the previous solve failed"


def test_basis_moves_to_a_fresh_solver_and_to_solve(month):
    """The basis as int8 arrays pickles; a fresh WarmSolver (and ``optimiser.solve(basis=...)``)
    started from it solves a variant in fewer iterations than cold, to the same objective."""
    ws = WarmSolver()
    ws.solve(optimiser.build(month), load_solution=False)
    col, row = ws.basis()
    assert col.dtype == np.int8 and row.dtype == np.int8
    first = ws.solve(optimiser.build(month), load_solution=False)
    assert (len(row), len(col)) == (first.summary["solver"]["rows"], first.summary["solver"]["columns"])
    assert np.count_nonzero(col == 1) + np.count_nonzero(row == 1) == len(row)  # basic: one per row
    col, row = pickle.loads(pickle.dumps((col, row)))

    sc = month.with_series(btc_usd=lambda d: 1.1 * d["btc_usd"])
    ref = cold(sc)
    fresh = WarmSolver()
    fresh.set_basis(col, row)
    res = fresh.solve(optimiser.build(sc), load_solution=False)
    rec = res.summary["solver"]["warm"]
    assert rec["basis_given"] is True and rec["reason"] == "first solve"
    assert rel(res.objective_usd, ref.objective_usd) <= RTOL
    assert res.summary["solver"]["iterations"] < 0.5 * ref.summary["solver"]["iterations"]

    res2 = optimiser.solve(optimiser.build(sc), basis=(col, row), load_solution=False)
    assert rel(res2.objective_usd, ref.objective_usd) <= RTOL
    assert res2.summary["solver"]["iterations"] < 0.5 * ref.summary["solver"]["iterations"]


def test_a_basis_of_another_model_is_refused(month, example_dir):
    ws = WarmSolver()
    ws.solve(optimiser.build(month), load_solution=False)
    col, row = ws.basis()
    week = optimiser.load_scenario(example_dir, start="2025-08-01T00:00:00-05:00", end="2025-08-08T00:00:00-05:00")
    with pytest.raises(DispatchError, match="basis of another model"):
        optimiser.solve(optimiser.build(week), basis=(col, row))
    with pytest.raises(DispatchError, match="basic statuses"):
        optimiser.solve(optimiser.build(month), basis=(np.full_like(col, 1), row))
    with pytest.raises(DispatchError, match="holds no basis"):
        WarmSolver().basis()


def test_solve_scenario_and_extra(month):
    """``solve_scenario`` builds, applies the extra and solves; the time limit is per solve."""
    ws = WarmSolver(time_limit=60)
    a = ws.solve_scenario(month)
    assert rel(a.objective_usd, cold(month).objective_usd) <= RTOL
    assert a.summary["solver"]["options"]["time_limit"] == 60.0
    # HiGHS counts its time limit from the instance's first run: each warm solve gets its own 60 s
    c = ws.solve_scenario(month.with_series(btc_usd=lambda d: 1.1 * d["btc_usd"]))
    assert c.summary["solver"]["warm"]["warm"] is True
    limit = ws._h.getOptionValue("time_limit")[1]
    assert 60.0 < limit <= 60.0 + ws._h.getRunTime()
    b = ws.solve_scenario(month, extra=_cap)
    assert rel(b.objective_usd, cold(month, _cap).objective_usd) <= RTOL
    assert b.dispatch["asic_s21_mw"].max() <= 120 + 1e-6
