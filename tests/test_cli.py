"""The ``dispatch`` command on broken scenarios: one test per class of bad input.

Each case copies ``scenarios/example`` to a temporary folder, breaks one thing and runs
``dispatch run`` in-process on one week (``--start``/``--end``). Every case must end with the
right exit code (2 bad input, 3 infeasible), a message on stderr naming the file and the line
and column (or the scenario key), nothing on stdout, and nothing written: the ``--out`` folder
does not appear, and a results folder that was already there is left exactly as it was.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyomo.environ as pyo
import pytest

import optimiser
from optimiser.cli import EXIT_INFEASIBLE, EXIT_INPUT, main
from optimiser.outdir import MARKER, marker_text

WEEK = ["--start", "2025-03-03T00:00:00-06:00", "--end", "2025-03-10T00:00:00-06:00"]
HOUR = "2025-03-04T12:00:00Z"  # the row broken in the CSV cases (inside the week)
DAY = "2025-03-04T00:00:00Z"  # the row broken in bitcoin.csv
TWO_DAYS = ["--start", "2025-07-01T00:00:00-05:00", "--end", "2025-07-03T00:00:00-05:00"]


# ------------------------------------------------------------------------------------------------
# breaking a copy of the example
# ------------------------------------------------------------------------------------------------


def dispatch_command() -> list[str]:
    """The installed ``dispatch`` script beside this Python, else ``python -m optimiser``."""
    script = Path(sys.executable).with_name("dispatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "optimiser"]


def copy_example(example_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    return folder


def line_of(path: Path, timestamp: str) -> int:
    """1-based line number of the row starting with ``timestamp`` (the header is line 1)."""
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith(timestamp + ","):
            return i
    raise AssertionError(f"{timestamp} not in {path}")


def edit_line(path: Path, timestamp: str, edit: Callable[[str], str | list[str]]) -> int:
    """Replace the row starting with ``timestamp`` by ``edit(row)`` (a list: several rows)."""
    lines = path.read_text().splitlines()
    n = line_of(path, timestamp)
    new = edit(lines[n - 1])
    lines[n - 1 : n] = new if isinstance(new, list) else [new]
    path.write_text("\n".join(lines) + "\n")
    return n


def set_field(path: Path, timestamp: str, column: str, value: str) -> int:
    """Set one field of the row starting with ``timestamp``; return its line number."""
    header = path.read_text().splitlines()[0].split(",")
    k = header.index(column)

    def edit(row: str) -> str:
        fields = row.split(",")
        fields[k] = value
        return ",".join(fields)

    return edit_line(path, timestamp, edit)


def edit_toml(folder: Path, old: str, new: str, count: int = 1) -> None:
    path = folder / "scenario.toml"
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} not in scenario.toml"
    path.write_text(text.replace(old, new, count))


def drop_column(path: Path, column: str) -> None:
    rows = [r.split(",") for r in path.read_text().splitlines()]
    k = rows[0].index(column)
    path.write_text("\n".join(",".join(r[:k] + r[k + 1 :]) for r in rows) + "\n")


# Each breaker breaks the folder and returns the substrings the message must contain.


def missing_hour(f: Path) -> list[str]:
    edit_line(f / "prices.csv", HOUR, lambda row: [])
    return ["prices.csv", "column 'price_usd_per_mwh'", "2025-03-04T12:00Z", "missing"]


def duplicate_timestamp(f: Path) -> list[str]:
    n = edit_line(f / "prices.csv", HOUR, lambda row: [row, row])
    return ["prices.csv", f"line {n + 1}", "column 'timestamp'", "duplicate"]


def naive_timestamp(f: Path) -> list[str]:
    n = edit_line(f / "prices.csv", HOUR, lambda row: row.replace("Z,", ",", 1))
    return ["prices.csv", f"line {n}", "column 'timestamp'", "no UTC offset"]


def nan_value(f: Path) -> list[str]:
    n = set_field(f / "prices.csv", HOUR, "price_usd_per_mwh", "NaN")
    return ["prices.csv", f"line {n}", "column 'price_usd_per_mwh'", "'NaN'"]


def text_value(f: Path) -> list[str]:
    n = set_field(f / "bitcoin.csv", DAY, "btc_usd", "ninety thousand")
    return ["bitcoin.csv", f"line {n}", "column 'btc_usd'", "'ninety thousand'"]


def unknown_machine(f: Path) -> list[str]:
    edit_toml(f, 'model = "antminer-s21"', 'model = "antminer-s99"')
    return ["scenario.toml", "key 'asic[0].model'", "antminer-s99"]


def unknown_key(f: Path) -> list[str]:
    edit_toml(f, "import_mw = 300", "import_mw = 300\nimport_limit_mw = 280")
    return ["scenario.toml", "key 'site.import_limit_mw'", "unknown key"]


def negative_capacity(f: Path) -> list[str]:
    edit_toml(f, "capacity_mw = 150", "capacity_mw = -150")
    return ["scenario.toml", "key 'asic[0].capacity_mw'", "-150"]


def sla_cannot_be_met(f: Path) -> list[str]:
    # 500 MW firm x pue 1.3 x 0.999 = 649 MW at the meter > import 300 + PPA 250.
    edit_toml(f, "capacity_mw = 60\ncontract_mw = 50", "capacity_mw = 600\ncontract_mw = 500")
    return ["scenario.toml", "key 'gpu[0].availability'", "SLA", "tenant-a"]


def ppa_cannot_be_met(f: Path) -> list[str]:
    # Must-take 1000 MW > full load 300.3 MW + export 250 MW.
    edit_toml(f, "volume_mw = 250", "volume_mw = 1000")
    return ["scenario.toml", "key 'ppa.volume_mw'", "PPA", "1000"]


def missing_file(f: Path) -> list[str]:
    (f / "bitcoin.csv").unlink()
    return ["bitcoin.csv", "file not found"]


def missing_column(f: Path) -> list[str]:
    drop_column(f / "prices.csv", "ecrs_usd_per_mw_per_h")
    return ["column 'ecrs_usd_per_mw_per_h'", "prices.csv", "bitcoin.csv", "not found"]


def bad_toml(f: Path) -> list[str]:
    edit_toml(f, "export_mw = 250", "export_mw = = 250")
    n = next(i for i, l in enumerate((f / "scenario.toml").read_text().splitlines(), 1) if "= =" in l)
    return ["scenario.toml", "not valid TOML", f"line {n}"]


def contract_above_capacity(f: Path) -> list[str]:
    edit_toml(f, "contract_mw = 50", "contract_mw = 70")
    return ["scenario.toml", "key 'gpu[0]", "contract_mw (70", "capacity"]


def unknown_timezone(f: Path) -> list[str]:
    edit_toml(f, 'timezone = "America/Chicago"', 'timezone = "America/Houston"')
    return ["scenario.toml", "key 'timezone'", "America/Houston"]


def duplicate_fleet_names(f: Path) -> list[str]:
    edit_toml(f, 'name = "s19jpro"', 'name = "s21"')
    return ["scenario.toml", "key 'asic[1].name'", "'s21'", "twice"]


def reserve_nobody_can_back(f: Path) -> list[str]:
    edit_toml(f, 'max_mw = 60\neligible = ["asic"]', 'max_mw = 60\neligible = ["flex"]')
    return ["scenario.toml", "key 'reserve[1].eligible'", "ecrs"]


def capacity_and_units(f: Path) -> list[str]:
    edit_toml(f, "capacity_mw = 150", "capacity_mw = 150\nunits = 40000")
    return ["scenario.toml", "key 'asic[0]'", "capacity_mw", "units"]


def start_not_on_the_hour(f: Path) -> list[str]:
    edit_toml(f, 'start = "2025-01-01T00:00:00-06:00"', 'start = "2025-01-01T00:30:00-06:00"')
    return ["scenario.toml", "key 'start'", "whole hour"]


def empty_csv(f: Path) -> list[str]:
    (f / "bitcoin.csv").write_text("")
    return ["bitcoin.csv", "empty"]


@dataclass(frozen=True)
class Case:
    breaker: Callable[[Path], list[str]]
    code: int = EXIT_INPUT
    args: tuple[str, ...] = tuple(WEEK)


CASES: dict[str, Case] = {
    "missing_hour": Case(missing_hour),
    "duplicate_timestamp": Case(duplicate_timestamp),
    "naive_timestamp": Case(naive_timestamp),
    "nan_value": Case(nan_value),
    "text_value": Case(text_value),
    "unknown_machine": Case(unknown_machine),
    "unknown_key": Case(unknown_key),
    "negative_capacity": Case(negative_capacity),
    "sla_cannot_be_met": Case(sla_cannot_be_met),
    "ppa_cannot_be_met": Case(ppa_cannot_be_met),
    "missing_file": Case(missing_file),
    "missing_column": Case(missing_column),
    "bad_toml": Case(bad_toml),
    "contract_above_capacity": Case(contract_above_capacity),
    "unknown_timezone": Case(unknown_timezone),
    "duplicate_fleet_names": Case(duplicate_fleet_names),
    "reserve_nobody_can_back": Case(reserve_nobody_can_back),
    "capacity_and_units": Case(capacity_and_units),
    "start_not_on_the_hour": Case(start_not_on_the_hour),
    "start_flag_not_on_the_hour": Case(
        lambda f: ["key 'start'", "whole hour"],
        args=("--start", "2025-03-03T00:30:00-06:00", "--end", "2025-03-10T00:00:00-06:00"),
    ),
    "empty_csv": Case(empty_csv),
}


def run(capsys: pytest.CaptureFixture[str], folder: Path, out: Path, *args: str) -> tuple[int, str, str]:
    code = main(["run", str(folder), "--out", str(out), *args])
    got = capsys.readouterr()
    return code, got.out, got.err


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (recursively) with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    folder = copy_example(example_dir, tmp_path)
    expected = case.breaker(folder)
    out = tmp_path / "results"

    code, stdout, stderr = run(capsys, folder, out, *case.args)
    assert code == case.code, stderr
    assert stderr.startswith("dispatch: bad input:"), stderr
    for text in expected:
        assert text in stderr, f"{text!r} not in:\n{stderr}"
    assert stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]  # no temporary folder either

    # Results already there stay exactly as they were.
    out.mkdir()
    (out / "dispatch.csv").write_text("earlier results\n")
    (out / "summary.json").write_text("{}\n")
    (out / MARKER).write_text(marker_text(["dispatch.csv", "summary.json"]))
    before = snapshot(out)
    code2, _, stderr2 = run(capsys, folder, out, *case.args)
    assert (code2, stderr2) == (code, stderr)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "scenario"]


def test_every_problem_class_has_a_case() -> None:
    """The classes named in the contract and the issue, each with its own case."""
    assert len(CASES) == 21
    assert len({c.breaker for c in CASES.values()}) == len(CASES)


# ------------------------------------------------------------------------------------------------
# infeasible: passes every cheap check, fails in HiGHS
# ------------------------------------------------------------------------------------------------


def test_infeasible_in_highs_exits_3_naming_the_sla(
    example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load cap added to the model between build and solve (a curtailment order: site load
    <= 60 MW all week) leaves the GPU tenant's firm load at most 60 / 1.3 = 46.2 MW, below the
    49.95 MW average its SLA needs (0.999 x 50 MW). The scenario passes every cheap check (they
    see only scenario.toml), so HiGHS finds it infeasible, and the elastic diagnosis blames the
    SLA row: relaxing it costs (49.95 - 46.15) x 168 = 638 MWh, less than relaxing the 168
    load caps (1.3 x 3.8 x 168 = 830 MW·h).

    A scenario.toml alone cannot get this far: its bounds are the same every hour, so a
    constant schedule meets the ramp limit whenever the per-hour checks pass, and those are
    what the cheap checks test (SLA <= import + PPA, PPA <= full load + export).
    """
    real_build = optimiser.build

    def build_with_curtailment(scenario, components=None):
        m = real_build(scenario, components)
        m.curtailment = pyo.Constraint(m.T, rule=lambda m, t: m.site_load[t] <= 60.0)
        return m

    monkeypatch.setattr(optimiser, "build", build_with_curtailment)
    folder = copy_example(example_dir, tmp_path)
    out = tmp_path / "results"
    code, stdout, stderr = run(capsys, folder, out, *WEEK)
    assert code == EXIT_INFEASIBLE, stderr
    assert stderr.startswith("dispatch: infeasible scenario:")
    message = " ".join(stderr.split())
    assert "The constraint family that cannot hold: sla" in message
    assert "sla[tenant-a, 2025-03]" in message
    assert stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]


def test_infeasible_through_the_api_raises_naming_the_sla(example_dir: Path) -> None:
    sc = optimiser.load_scenario(example_dir, start="2025-03-03T00:00:00-06:00", end="2025-03-10T00:00:00-06:00")
    m = optimiser.build(sc)
    m.curtailment = pyo.Constraint(m.T, rule=lambda m, t: m.site_load[t] <= 60.0)
    with pytest.raises(optimiser.InfeasibleError, match="sla"):
        optimiser.solve(m)


# ------------------------------------------------------------------------------------------------
# validate, models, a good run, and one real subprocess
# ------------------------------------------------------------------------------------------------


def test_validate_lists_every_problem_at_once(
    example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_example(example_dir, tmp_path)
    want = unknown_machine(folder) + nan_value(folder) + text_value(folder)
    code = main(["validate", str(folder)])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "3 problems in the input" in err
    for text in want:
        assert text in err, f"{text!r} not in:\n{err}"


def test_validate_ok(example_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(example_dir)])
    got = capsys.readouterr()
    assert code == 0, got.err
    assert "OK: 8760 hours" in got.out


def test_models_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("asic") >= 8
    assert kinds.count("gpu") >= 4
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "antminer-s21" in text and "dgx-h100" in text


def test_run_one_week_writes_results_replacing_old_ones(
    example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "dispatch.csv").write_text("old\n")
    (out / MARKER).write_text(marker_text(["dispatch.csv", "summary.json"]))
    code, stdout, stderr = run(capsys, example_dir, out, *WEEK)
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "dispatch.csv", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["hours"] == 168
    assert f"{summary['objective_usd']:,.0f}" in stdout
    assert "profit by stream" in stdout and "energy by use" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_subprocess_exit_code_and_message(example_dir: Path, tmp_path: Path) -> None:
    """The installed command (not just main()) exits 2 and says which file is missing."""
    folder = copy_example(example_dir, tmp_path)
    (folder / "prices.csv").unlink()
    out = tmp_path / "results"
    proc = subprocess.run([*dispatch_command(), "run", str(folder), "--out", str(out), *WEEK],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    assert "prices.csv" in proc.stderr and "file not found" in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_quiet_run_prints_nothing(example_dir: Path, tmp_path: Path) -> None:
    """``dispatch run -q`` in a fresh process writes not a byte to stdout: highspy 1.16's banner,
    written to file descriptor 1 at the first ``Highs()`` of a process, is kept off it."""
    out = tmp_path / "results"
    proc = subprocess.run([*dispatch_command(), "run", str(example_dir), "--out", str(out), "-q", *TWO_DAYS],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert json.loads((out / "summary.json").read_text())["hours"] == 48


def test_solver_log_is_shown_when_asked(example_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.run([*dispatch_command(), "run", str(example_dir), "--out", str(tmp_path / "results"),
                           "-q", "--solver-log", *TWO_DAYS], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "rows" in proc.stdout and "nonzeros" in proc.stdout  # HiGHS's "LP has ... rows; ... nonzeros"


def test_new_highs_prints_nothing() -> None:
    code = "from optimiser.solve import new_highs; new_highs(); new_highs()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout == ""
