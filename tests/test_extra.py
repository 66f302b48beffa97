"""The extension hook: ``optimiser.run(sc, extra=fn)`` and ``dispatch run SCEN --extra module:function``.

On the tiny merit-order site of test_tiny.py, solved by hand: import limit 10 MW, two ASIC fleets
of 8 MW, A at 20 J/TH earning 100 $/MWh and B at 40 J/TH earning 50, energy at 20 $/MWh, two
hours. Margins 80 (A) and 30 (B) per MWh: A 8 MW + B 2 MW, 700 an hour, **1,400**.

- A capped at 5 MW: A 5 (400) + B 5 (150) = 550 an hour, **1,100**.
- and B capped at 1 MW: A 5 (400) + B 1 (30) = 430 an hour, **860**.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.cli import EXIT_INPUT, main
from optimiser.errors import InputError
from optimiser.realdata import write_scenario_folder

D = 1e14

EXTRAS = '''
import pyomo.environ as pyo

LIMIT = 5.0


def cap_a(m):
    """Fleet a at most LIMIT MW in every hour."""
    m.cap_a = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["a", t] <= LIMIT)


def cap_b(m):
    m.cap_b = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["b", t] <= 1.0)


def broken(m):
    return m.no_such_component
'''


def btc_price_for(revenue_usd_per_mwh: float, efficiency: float, subsidy: float = 3.125) -> float:
    """The BTC price at which an ASIC of ``efficiency`` J/TH earns ``revenue`` $/MWh (D = 1e14)."""
    return revenue_usd_per_mwh * efficiency * D * 2**32 / (3.6e21 * subsidy)


def merit() -> optimiser.Scenario:
    idx = pd.date_range("2025-01-01T00:00:00Z", periods=2, freq="h", tz="UTC")
    data = pd.DataFrame({"price_usd_per_mwh": [20.0, 20.0], "difficulty": D, "btc_usd": btc_price_for(100.0, 20.0),
                         "fees_btc_per_block": 0.0, "subsidy_btc": 3.125}, index=idx)
    cfg = {"name": "tiny", "timezone": "UTC", "site": {"import_mw": 10},
           "asic": [{"name": "a", "capacity_mw": 8, "efficiency_j_per_th": 20.0},
                    {"name": "b", "capacity_mw": 8, "efficiency_j_per_th": 40.0}]}
    return optimiser.from_config(cfg, data)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_scenario_folder(merit(), tmp_path / "tiny")


@pytest.fixture
def extras_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_extras.py"
    path.write_text(EXTRAS)
    return path


def objective(out: Path) -> float:
    return json.loads((out / "summary.json").read_text())["objective_usd"]


def test_cli_extra_from_a_file_and_a_module(folder, extras_file, tmp_path, monkeypatch, capsys):
    assert main(["run", str(folder), "--out", str(tmp_path / "plain"), "-q"]) == 0
    assert objective(tmp_path / "plain") == pytest.approx(1400.0)

    assert main(["run", str(folder), "--out", str(tmp_path / "a"), "-q", "--extra", f"{extras_file}:cap_a"]) == 0
    assert objective(tmp_path / "a") == pytest.approx(1100.0)
    dispatch = pd.read_csv(tmp_path / "a" / "dispatch.csv")
    assert dispatch["asic_a_mw"].tolist() == pytest.approx([5, 5])
    assert dispatch["asic_b_mw"].tolist() == pytest.approx([5, 5])

    monkeypatch.syspath_prepend(str(tmp_path))  # now importable as the module my_extras
    assert main(["run", str(folder), "--out", str(tmp_path / "ab"), "-q",
                 "--extra", "my_extras:cap_a", "--extra", "my_extras:cap_b"]) == 0
    assert objective(tmp_path / "ab") == pytest.approx(860.0)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("spec, words", [
    ("no_such_module_xyz:cap_a", ["no module named 'no_such_module_xyz'"]),
    ("{file}:nope", ["has no function 'nope'", "my_extras.py"]),
    ("{file}:LIMIT", ["'LIMIT'", "is a float, not a function"]),
    ("{dir}/missing.py:cap_a", ["missing.py does not exist"]),
    ("{file}", ["expected module:function"]),
    ("{file}:broken", ["raised AttributeError", "no_such_component"]),
])
def test_cli_bad_extra_is_bad_input(folder, extras_file, tmp_path, capsys, spec, words):
    spec = spec.format(file=extras_file, dir=tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(folder), "--out", str(out), "--extra", spec]) == EXIT_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dispatch: bad input:")
    for w in words:
        assert w in captured.err, captured.err
    assert not out.exists()


def test_run_with_extra_callable_or_name(extras_file):
    sc = merit()
    calls = []

    def cap_a(m):
        calls.append(len(m.T))
        m.cap_a = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["a", t] <= 5)

    assert optimiser.run(sc).objective_usd == pytest.approx(1400.0)
    assert optimiser.run(sc, extra=cap_a).objective_usd == pytest.approx(1100.0)
    assert calls == [2]
    assert optimiser.run(sc, extra=f"{extras_file}:cap_a").objective_usd == pytest.approx(1100.0)
    assert optimiser.run(sc, extra=[f"{extras_file}:cap_a", f"{extras_file}:cap_b"]).objective_usd \
        == pytest.approx(860.0)
    with pytest.raises(InputError, match="not a function"):
        optimiser.run(sc, extra=[42])
