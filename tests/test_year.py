"""Property checks on the default year (scenarios/example), solved once for the whole session,
and the results folder it writes (columns and keys of the contract, section 4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PROPERTIES = ["balance", "bounds", "import_export", "sla", "objective", "hashprice", "duals"]


def test_property_list_is_complete(checks) -> None:
    assert sorted(PROPERTIES) == sorted(checks.names)


@pytest.mark.parametrize("name", PROPERTIES)
def test_property(example_solved, checks, name: str) -> None:
    getattr(checks, name)(*example_solved)


def test_default_year_shape(example_solved) -> None:
    """The default year: 8,760 hours of local 2025, solved to optimality, with spikes to test."""
    sc, _, res = example_solved
    assert sc.hours == 8760 and res.summary["hours"] == 8760
    assert sc.timestamps[0] == pd.Timestamp("2025-01-01T06:00Z")
    assert res.summary["solver"]["termination"] == "Optimal"
    assert res.summary["solver"]["status"] == "ok"
    assert (res.dispatch["price_usd_per_mwh"] > 1000).sum() >= 5
    assert (res.dispatch["price_usd_per_mwh"] < 0).sum() >= 5


def expected_columns(sc) -> list[str]:
    """The contract's dispatch.csv columns for a scenario, in the contract's order."""
    cfg = sc.config
    cols = ["timestamp", "price_usd_per_mwh", "hashprice_usd_per_ph_day"]
    cols += [f"asic_{f.name}_mw" for f in cfg.asic]
    for g in cfg.gpu:
        cols += [f"gpu_{g.name}_firm_mw", f"gpu_{g.name}_spot_mw", f"gpu_{g.name}_shortfall_mw"]
    cols += [f"flex_{f.name}_mw" for f in cfg.flex]
    cols += [f"reserve_{r.product}_mw" for r in cfg.reserve]
    return cols + ["load_mw", "import_mw", "export_mw", "marginal_value_usd_per_mwh", "profit_usd"]


@pytest.fixture(scope="module")
def written(example_solved, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("results") / "example"
    example_solved[2].write(out)
    return out


def test_written_folder_holds_two_files(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == [".dispatch-results", "dispatch.csv", "summary.json"]
    assert [p.name for p in written.parent.iterdir()] == ["example"]  # no temporary folder left


def test_dispatch_csv_columns(example_solved, written: Path) -> None:
    sc, _, res = example_solved
    frame = pd.read_csv(written / "dispatch.csv")
    assert list(frame.columns) == expected_columns(sc)
    assert len(frame) == 8760
    assert frame["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z").all()
    assert (pd.to_datetime(frame["timestamp"], utc=True) == sc.timestamps).all()
    # Written to 6 significant digits: the totals survive.
    assert frame["profit_usd"].sum() == pytest.approx(res.objective_usd, rel=1e-5)
    np.testing.assert_allclose(frame["load_mw"], res.dispatch["load_mw"], rtol=1e-5, atol=1e-6)


def test_summary_json_keys(example_solved, written: Path) -> None:
    _, _, res = example_solved
    s = json.loads((written / "summary.json").read_text())
    for key in ("objective_usd", "revenue_usd", "cost_usd", "energy_mwh", "gpu_availability", "hours", "solver"):
        assert key in s, key
    for key in ("status", "build_s", "solve_s", "termination"):
        assert key in s["solver"], key
    assert s["objective_usd"] == pytest.approx(sum(s["revenue_usd"].values()) - sum(s["cost_usd"].values()),
                                               rel=1e-9)
    assert s["objective_usd"] == res.objective_usd
    assert s["hours"] == 8760
    assert set(s["gpu_availability"]) == {"tenant-a"}
    assert s["gpu_availability"]["tenant-a"] >= 0.999 - 1e-9
    assert {"asic_s21", "asic_s19jpro", "load", "import", "export", "ppa"} <= set(s["energy_mwh"])
    assert s["energy_mwh"]["ppa"] == pytest.approx(250 * 8760)
    assert s["solver"]["status"] == "ok" and s["solver"]["termination"] == "Optimal"
    assert s["solver"]["solve_s"] > 0 and s["solver"]["build_s"] > 0


def _tamper(res, column: str, rows, change):
    """A copy of the results with ``column`` changed at ``rows`` by ``change(values)``."""
    import dataclasses

    d = res.dispatch.copy()
    pos = d.index[rows]
    d.loc[pos, column] = change(d.loc[pos, column].to_numpy())
    return dataclasses.replace(res, dispatch=d)


def _spike_hour(res) -> int:
    d = res.dispatch
    return int(np.flatnonzero((d["price_usd_per_mwh"] > 1000) & (d["export_mw"] < 250 - 1e-6))[0])


def _import_hour(res) -> int:
    return int(np.flatnonzero(res.dispatch["import_mw"] > 1)[0])


TAMPERS = {
    "balance": lambda r: _tamper(r, "export_mw", [100], lambda v: v + 1e-4),
    "bounds": lambda r: _tamper(r, "reserve_rrs_mw", [_import_hour(r)], lambda v: v * 0 + 100.001),
    "import_export": lambda r: _tamper(r, "export_mw", [_import_hour(r)], lambda v: v + 0.5),
    "sla": lambda r: _tamper(r, "gpu_tenant-a_firm_mw", slice(0, 744), lambda v: v - 0.1),
    "objective": lambda r: _tamper(r, "profit_usd", [0], lambda v: v + 1000.0),
    "hashprice": lambda r: _tamper(r, "hashprice_usd_per_ph_day", [7], lambda v: v * 1.000001),
    "duals": lambda r: _tamper(r, "marginal_value_usd_per_mwh", [_spike_hour(r)], lambda v: v + 1e-3),
}


@pytest.mark.parametrize("name", PROPERTIES)
def test_checks_catch_a_wrong_answer(example_solved, checks, name: str) -> None:
    """Each property check fails on the solved year with one small thing changed."""
    sc, m, res = example_solved
    wrong = TAMPERS[name](res)
    with pytest.raises(AssertionError):
        getattr(checks, name)(sc, m, wrong)
