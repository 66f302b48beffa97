"""What the fast build must not change: the lazy Pyomo rows and expressions behave like plain
Pyomo ones, edits reach HiGHS, and the yardstick (benchmarks/yardstick.py, a plain numpy/scipy
formulation of the same LP) finds the same optimum as the model.

Speed itself is measured by ``make bench``, never here.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.lp import compile_lp
from optimiser.model import _lazy
from optimiser.model._lazy import LazyExpressionData, LazyRowData

lazy_only = pytest.mark.skipif(not _lazy.LAZY, reason="this Pyomo builds eagerly (optimiser.model._lazy)")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"
TWO_WEEKS = {"start": "2025-07-01T00:00:00-05:00", "end": "2025-07-15T00:00:00-05:00"}


@pytest.fixture(scope="module")
def scenario() -> optimiser.Scenario:
    return optimiser.load_scenario(EXAMPLE, **TWO_WEEKS)


def _benchmark_module(name: str):
    """``benchmarks/<name>.py`` imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _yardstick():
    return _benchmark_module("yardstick")


@lazy_only
def test_nothing_is_made_until_read(scenario):
    """Solving from the arrays makes no Pyomo element; the first read makes them all, and a
    bound changed on one reaches HiGHS."""
    m = optimiser.build(scenario)
    assert all(vi.touched() is None for vi in m.dispatch.vars)
    assert all(blk.touched() is None for blk in m.dispatch.rows)
    base = optimiser.solve(m, load_solution=False)
    assert all(vi.touched() is None for vi in m.dispatch.vars)
    assert len(m.asic.power) == 2 * scenario.hours
    assert m.dispatch.info(m.asic.power).touched() is not None
    assert m.asic.power["s21", 7].ub == 150.0 and m.asic.power["s21", 7].lb == 0
    assert base.dispatch["asic_s21_mw"].iloc[7] > 20.0
    m.asic.power["s21", 7].setub(20.0)
    res = optimiser.solve(m, load_solution=False)
    assert res.dispatch["asic_s21_mw"].iloc[7] == pytest.approx(20.0)


@lazy_only
def test_rows_are_built_only_when_read(scenario):
    m = optimiser.build(scenario)
    rows = list(m.balance.values())
    assert len(rows) == scenario.hours == 336
    assert all(type(d) is LazyRowData and d._lazy is None for d in rows)
    # reading a row makes its expression (and it is the registered one) without marking it edited
    e = m.balance[3].expr
    assert m.balance[3]._lazy is e and not m.balance[3]._edited
    assert m.balance[3].lb == m.balance[3].ub == pytest.approx(250.0)
    assert sum(d._lazy is not None for d in rows) == 1
    assert all(blk.touched() is None for blk in m.dispatch.rows)
    assert type(m.site_load[0]) is LazyExpressionData


def test_lazy_expressions_agree_with_the_solution(scenario):
    m = optimiser.build(scenario)
    res = optimiser.solve(m)  # loads the values onto the Pyomo variables
    assert pyo.value(m.objective) == pytest.approx(res.objective_usd, rel=1e-9)
    for name, usd in res.summary["revenue_usd"].items():
        assert pyo.value(m.revenue[name]) == pytest.approx(usd, rel=1e-9, abs=1e-6)
    for name, usd in res.summary["cost_usd"].items():
        assert pyo.value(m.cost[name]) == pytest.approx(usd, rel=1e-9, abs=1e-6)
    load = np.array([pyo.value(m.site_load[t]) for t in m.T])
    assert load == pytest.approx(res.dispatch["load_mw"].to_numpy(), abs=1e-6)
    # every registered row holds at the solution, read through Pyomo
    for blk in m.dispatch.rows:
        for d in blk.component.values():
            body = pyo.value(d.body)
            assert (d.lb is None or body >= d.lb - 1e-6) and (d.ub is None or body <= d.ub + 1e-6)


def test_edited_row_reaches_the_solver(scenario):
    """Pin hour 5's import - export to 10 MW by rewriting its balance row: the family is then
    compiled from Pyomo and the answer obeys the new row."""
    m = optimiser.build(scenario)
    m.balance[5].set_value(m.site_load[5] + m.site.grid_export[5] - m.site.grid_import[5] == 240.0)
    keep, other = m.dispatch.rows[-1].touched()
    assert not keep[5] and keep.sum() == len(keep) - 1 and other[0][1] is m.balance[5]
    lp = compile_lp(m)
    # the family stays in the LP from its arrays; only the edited row is compiled from Pyomo, in place
    start, n = lp.families["balance"]
    assert n == scenario.hours and [row for _, row in lp.user_rows] == [start + 5]
    assert lp.row_lo[start + 5] == lp.row_hi[start + 5] == pytest.approx(240.0 - 250.0 + 250.0)
    res = optimiser.solve(m)
    d = res.dispatch.iloc[5]
    assert d["load_mw"] - d["import_mw"] + d["export_mw"] == pytest.approx(240.0, abs=1e-6)
    base = optimiser.solve(optimiser.build(scenario))
    assert res.objective_usd < base.objective_usd


def test_row_replaced_by_assignment_and_deleted_row(scenario):
    m = optimiser.build(scenario)
    m.site.ramp[10] = (-1.0, m.site_load[10] - m.site_load[9], 1.0)
    res = optimiser.solve(m)
    load = res.dispatch["load_mw"].to_numpy()
    assert abs(load[10] - load[9]) <= 1.0 + 1e-6
    m2 = optimiser.build(scenario)
    del m2.site.ramp[10]
    assert not m2.dispatch.rows[1].touched()[0][9]
    lp2 = compile_lp(m2)
    start, _ = lp2.families["site.ramp"]
    # the deleted row is left free and empty (its place keeps the family's duals aligned)
    assert lp2.row_lo[start + 9] == -np.inf and lp2.row_hi[start + 9] == np.inf
    assert lp2.matrix.to_scipy().tocsr()[[start + 9]].nnz == 0
    assert lp2.shape == compile_lp(optimiser.build(scenario)).shape


def test_lp_file_writer_sees_the_rows(scenario, tmp_path):
    m = optimiser.build(scenario)
    m.write(str(tmp_path / "m.lp"), io_options={"symbolic_solver_labels": True})
    text = (tmp_path / "m.lp").read_text()
    assert text.count("c_e_balance(") == scenario.hours
    assert "r_l_site_ramp(1)_" in text or "r_u_site_ramp(1)_" in text


def test_solving_never_imports_scipy():
    code = (
        "import sys, optimiser; "
        f"sc = optimiser.load_scenario({str(EXAMPLE)!r}, start={TWO_WEEKS['start']!r}, end={TWO_WEEKS['end']!r}); "
        "optimiser.run(sc); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_csc_matches_scipy(scenario):
    import scipy.sparse as sp

    lp = compile_lp(optimiser.build(scenario))
    a = lp.A
    rows, cols = a.nonzero()
    coo = sp.coo_array((np.asarray(a[rows, cols]).ravel(), (rows, cols)), shape=a.shape)
    assert a.has_sorted_indices
    assert abs(a - coo.tocsc()).max() == 0.0
    assert lp.matrix.nnz == a.nnz > 0


def test_yardstick_objective_equals_the_model(scenario, tmp_path):
    ys = _yardstick()
    out = ys.run(EXAMPLE, tmp_path / "ys", **TWO_WEEKS)
    res = optimiser.run(scenario, tmp_path / "model")
    assert out["objective_usd"] == pytest.approx(res.objective_usd, rel=1e-9)
    assert out["rows"] == res.summary["solver"]["rows"]
    assert out["columns"] == res.summary["solver"]["columns"]
    ours = pd.read_csv(tmp_path / "model" / "dispatch.csv")
    theirs = pd.read_csv(tmp_path / "ys" / "dispatch.csv")
    assert list(theirs.columns) == list(ours.columns)
    assert (theirs["timestamp"] == ours["timestamp"]).all()
    for col in ("price_usd_per_mwh", "hashprice_usd_per_ph_day"):
        assert theirs[col].to_numpy() == pytest.approx(ours[col].to_numpy(), rel=1e-9)
    assert theirs["profit_usd"].sum() == pytest.approx(res.objective_usd, rel=1e-6)


def test_yardstick_resolves_catalogue_fleets_like_the_scenario(tmp_path):
    """One fleet of every catalogue ASIC (``make bench``'s fleet cases are made the same way): the
    yardstick's efficiency is the loaded Scenario's, exactly (power over hashrate, not the stated
    figure), and its objective the model's."""
    ys = _yardstick()
    n_models = len(list((ROOT / "models" / "asic").glob("*.toml")))
    folder = _benchmark_module("run").fleet_scenario(EXAMPLE, tmp_path / "fleets", n_models)
    sc = optimiser.load_scenario(folder, **TWO_WEEKS)
    cfg, _ = ys.read(folder, **TWO_WEEKS)
    assert [f["efficiency_j_per_th"] for f in cfg["asic"]] == [f.efficiency_j_per_th for f in sc.config.asic]
    out = ys.run(folder, tmp_path / "ys", **TWO_WEEKS)
    assert out["objective_usd"] == pytest.approx(optimiser.solve(optimiser.build(sc), load_solution=False).objective_usd,
                                                 rel=1e-9)


@pytest.mark.parametrize("options", [
    {"solver": "ipm", "run_crossover": "off"},
    {"solver": "ipm"},
    {"solver": "simplex", "simplex_strategy": 4},
    {"presolve": "on"},
])
def test_other_solvers_reach_the_same_optimum(scenario, options):
    """The defaults (dual simplex, presolve off) are a measured choice; every alternative a user
    may pass (``--solver-option``) reaches HiGHS and finds the same optimum with valid duals."""
    base = optimiser.solve(optimiser.build(scenario), load_solution=False)
    assert base.summary["solver"]["options"]["presolve"] == "off"
    res = optimiser.solve(optimiser.build(scenario), options=options, load_solution=False)
    for k, v in options.items():
        assert res.summary["solver"]["options"][k] == v
    assert res.summary["solver"]["termination"] == "Optimal"
    assert res.objective_usd == pytest.approx(base.objective_usd, rel=1e-7)
    assert np.isfinite(res.dispatch["marginal_value_usd_per_mwh"]).all()


def test_presolve_is_on_for_a_model_made_integer(scenario):
    """A user who adds an integer variable gets presolve back (branch and bound needs it)."""
    m = optimiser.build(scenario)
    m.units_on = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 3))
    m.cap = pyo.Constraint(expr=m.asic.power["s21", 0] <= 40.0 * m.units_on)
    res = optimiser.solve(m)
    assert res.summary["solver"]["options"]["presolve"] == "on"
    assert pyo.value(m.units_on) == pytest.approx(round(pyo.value(m.units_on)))


def test_product_keys_behave_like_the_list_of_pairs():
    from optimiser.model.core import ProductKeys

    keys = ProductKeys(["s21", "s19"], 3)
    pairs = [("s21", 0), ("s21", 1), ("s21", 2), ("s19", 0), ("s19", 1), ("s19", 2)]
    assert list(keys) == pairs and keys == pairs and len(keys) == 6
    assert [keys[i] for i in range(-6, 6)] == pairs + pairs
    assert keys[2:5] == pairs[2:5]
    assert [keys.index(p) for p in pairs] == list(range(6))
    assert ("s19", 2) in keys and ("s19", 3) not in keys and ("x", 0) not in keys and 5 not in keys
    with pytest.raises(IndexError):
        keys[6]
    with pytest.raises(ValueError):
        keys.index(("s21", -1))


def test_solver_options_from_the_command_line(tmp_path):
    """``dispatch run -O key=value`` reaches HiGHS with the right types (int, string)."""
    import json

    from optimiser.cli import main

    out = tmp_path / "ipm"
    code = main(["run", str(EXAMPLE), "--out", str(out), "--start", TWO_WEEKS["start"], "--end", TWO_WEEKS["end"],
                 "-q", "-O", "solver=ipm", "-O", "run_crossover=off", "-O", "ipm_iteration_limit=500"])
    assert code == 0
    solver = json.loads((out / "summary.json").read_text())["solver"]
    assert solver["options"]["solver"] == "ipm" and solver["options"]["run_crossover"] == "off"
    assert solver["options"]["ipm_iteration_limit"] == 500
    assert solver["termination"] == "Optimal"
