"""Results, the compiled LP, scenarios and errors cross process boundaries: a batch run solves in
worker processes (``concurrent.futures`` with the "spawn" context, as on macOS and Windows) and
sends :class:`optimiser.Results` back."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.errors import InputError
from optimiser.lp import compile_lp

TWO_WEEKS = {"start": "2025-03-03T00:00:00-06:00", "end": "2025-03-17T00:00:00-06:00"}

EXTRA = '''
import pyomo.environ as pyo


def cap(m):
    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["s21", t] <= 100)
'''


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as ex:
        yield ex


def test_results_come_back_from_a_spawned_worker(pool, example_dir, example_solved, tmp_path):
    """The year from a folder path, two weeks from a Scenario object (with an extra named by a
    string, which pickles where a notebook's function would not), and an error: each crosses back
    whole, and what the parent reads is what an in-process solve gives."""
    sc = optimiser.load_scenario(example_dir, **TWO_WEEKS)
    extra_file = tmp_path / "caps.py"
    extra_file.write_text(EXTRA)
    year = pool.submit(optimiser.run, str(example_dir))
    weeks = pool.submit(optimiser.run, sc, extra=f"{extra_file}:cap")
    missing = pool.submit(optimiser.run, str(tmp_path / "no-such-scenario"))

    _, m, local = example_solved
    res = year.result(timeout=300)
    assert res.summary["objective_usd"] == pytest.approx(local.summary["objective_usd"], rel=1e-12)
    assert res.dispatch.shape == local.dispatch.shape == (8760, local.dispatch.shape[1])
    np.testing.assert_allclose(res.dispatch.to_numpy(), local.dispatch.to_numpy(), rtol=1e-9, atol=1e-6)
    assert res.dispatch.index.equals(local.dispatch.index)
    assert res.duals["balance"].index.equals(local.duals["balance"].index)
    np.testing.assert_allclose(res.duals["balance"].to_numpy(), local.duals["balance"].to_numpy(), atol=1e-6)
    power = res.solution.value("asic.power")  # by name: the worker's model is not here
    assert power.shape == (2 * 8760,)
    np.testing.assert_allclose(power, local.solution.value(m.asic.power), atol=1e-6)
    np.testing.assert_allclose(res.solution.dual("balance"), local.solution.dual(m.balance), atol=1e-6)
    assert res.solution.dual("no.such.family") is None
    assert res.solution.registry is None and res.solution.lp.blocks == []

    capped = weeks.result(timeout=300)
    m2 = optimiser.build(sc)
    m2.cap = pyo.Constraint(m2.T, rule=lambda m, t: m.asic.power["s21", t] <= 100)
    ref = optimiser.solve(m2, load_solution=False)
    assert capped.objective_usd == pytest.approx(ref.objective_usd, rel=1e-9)
    assert capped.dispatch["asic_s21_mw"].max() == pytest.approx(100.0)
    assert capped.objective_usd < optimiser.run(sc).objective_usd - 1e3  # the cap binds

    with pytest.raises(InputError) as err:
        missing.result(timeout=300)
    with pytest.raises(InputError) as here:
        optimiser.run(str(tmp_path / "no-such-scenario"))
    assert str(err.value) == str(here.value)
    assert err.value.problems == here.value.problems


def test_scenario_lp_and_edited_results_pickle(example_dir):
    """A Scenario, the compiled LP of an edited model and its Results survive pickling with
    everything a caller reads; the Pyomo references are dropped, not pickled."""
    sc = optimiser.load_scenario(example_dir, **TWO_WEEKS)
    sc2 = pickle.loads(pickle.dumps(sc))
    assert sc2.config == sc.config and sc2.data.equals(sc.data) and sc2.warnings == sc.warnings
    assert optimiser.run(sc2).objective_usd == pytest.approx(optimiser.run(sc).objective_usd, rel=1e-12)

    m = optimiser.build(sc)
    m.heat = pyo.Var(m.T, bounds=(0, 5))  # a user's variable, row and stream
    m.heat_from_s21 = pyo.Constraint(m.T, rule=lambda m, t: m.heat[t] <= 0.1 * m.asic.power["s21", t])
    optimiser.add_revenue(m, "heat", {t: 12.0 * m.heat[t] for t in m.T})
    res = optimiser.solve(m)
    lp = compile_lp(m)
    lp2 = pickle.loads(pickle.dumps(lp))
    assert lp2.blocks == [] and lp2.user_rows == [] and lp2.user_cols == [] and lp2.var_start == {}
    assert lp2.families == lp.families and lp2.var_names == lp.var_names
    assert lp2.col_names == [v.name for v in lp.user_cols] and lp2.row_names == {r: d.name for d, r in lp.user_rows}
    for name in ("c", "row_lo", "row_hi", "col_lo", "col_hi"):
        np.testing.assert_array_equal(getattr(lp2, name), getattr(lp, name))
    np.testing.assert_array_equal(lp2.matrix.data, lp.matrix.data)

    back = pickle.loads(pickle.dumps(res))
    assert back.summary == res.summary
    assert back.summary["revenue_usd"]["heat"] == pytest.approx(12.0 * 5 * sc.hours, rel=1e-9)
    np.testing.assert_array_equal(back.solution.x, res.solution.x)
    np.testing.assert_array_equal(back.solution.value("asic.power"), res.solution.value(m.asic.power))
    assert back.streams().equals(res.streams())


def test_input_error_pickles_with_its_problems():
    err = InputError([optimiser.Problem("not a number", file="prices.csv", row=7, column="price_usd_per_mwh"),
                      optimiser.Problem("must be positive", key="site.import_mw")])
    err.solver = {"termination": "x"}  # attributes a caller may have set come along
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err)
    assert back.problems == err.problems
    assert back.solver == {"termination": "x"}
    assert str(back).count("problems in the input") == 1
