"""Sweeps (issue 12): the spec and its errors, the engines (in-process, local processes, Dask),
resume after SIGKILL, failure isolation, warm/cold agreement, determinism, progress, plots.

Horizons are a week of the default scenario, so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.sweeps import read_table
import pytest

import optimiser
from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.outdir import ResultsFolderError
from optimiser.progress import Progress, ProgressBar
from optimiser.sweeps import load_spec, plan
from optimiser.sweeps.folder import open_sweep_folder
from optimiser.sweeps.worker import TIMING_COLUMNS

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example"

WEEK = 'start = "2025-03-17"\nend = "2025-03-24"\n'


def write_spec(folder: Path, body: str, *, base: str | None = None, horizon: str = WEEK, name: str = "spec.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'base = "{base or EXAMPLE}"\n{horizon}{body}')
    return path


GRID = '''
chain = 4
[grid]
"gpu.tenant-a.contract_usd_per_mw_per_h" = [180.0, 240.0]
"series.btc_usd" = [0.8, 1.0, 1.2]
"series.price_usd_per_mwh" = [0.9, 1.1]
[[case]]
name = "cheap-ppa-high-btc"
"ppa.price_usd_per_mwh" = 25.0
"series.btc_usd" = 1.5
'''

#: A case that is bad only as a combination (each value alone is fine), and one whose model edit
#: (the site may draw at most 60 MW) leaves the GPU tenant's SLA unmet: infeasible.
FAILING = '''
[[case]]
name = "contract-above-capacity"
"gpu.tenant-a.contract_mw" = 55.0
"gpu.tenant-a.capacity_mw" = 52.0
[[case]]
name = "no-power"
extra = "caps.py:cap_60"
'''

CAPS = '''
import pyomo.environ as pyo


def cap_60(m):
    m.curtailment = pyo.Constraint(m.T, rule=lambda m, t: m.site_load[t] <= 60.0)
'''


def comparable(folder: Path) -> pd.DataFrame:
    """The table as written, without the columns that measure time."""
    return read_table(folder).drop(columns=list(TIMING_COLUMNS))


# ------------------------------------------------------------------------------------------------
# the spec
# ------------------------------------------------------------------------------------------------


def test_spec_cases_ids_and_values(tmp_path):
    spec, base = load_spec(write_spec(tmp_path, GRID))
    assert base.hours == 7 * 24
    assert spec.keys == ("gpu.tenant-a.contract_usd_per_mw_per_h", "series.btc_usd", "series.price_usd_per_mwh",
                         "ppa.price_usd_per_mwh")
    ids = [c.id for c in spec.cases]
    assert ids == sorted(ids) and len(ids) == 2 * 3 * 2 + 1
    assert ids[0] == "cheap-ppa-high-btc" and ids[1] == "grid-000" and ids[-1] == "grid-011"
    by_id = {c.id: c for c in spec.cases}
    # the grid in the spec's order, the last key fastest
    assert by_id["grid-001"].values == {"gpu.tenant-a.contract_usd_per_mw_per_h": 180.0, "series.btc_usd": 0.8,
                                        "series.price_usd_per_mwh": 1.1}
    # a case that does not set a key has the base's value in the table
    assert spec.values(by_id["cheap-ppa-high-btc"]) == {
        "gpu.tenant-a.contract_usd_per_mw_per_h": 210.0, "series.btc_usd": 1.5, "series.price_usd_per_mwh": 1.0,
        "ppa.price_usd_per_mwh": 25.0}
    assert spec.values(by_id["grid-000"])["ppa.price_usd_per_mwh"] == 32.0
    keys, chains = plan(spec, base)
    assert len(set(keys.values())) == len(keys)  # every case its own inputs
    # all numbers over numbers: one structure, cut into chains of at most 4, every case once
    assert sorted(t.id for ch in chains for t in ch.tasks) == ids
    assert all(len(ch.tasks) <= 4 for ch in chains) and len(chains) == 4
    # the keys depend on the inputs only
    assert plan(*load_spec(write_spec(tmp_path / "again", GRID)))[0] == keys


def test_spec_unquoted_dotted_keys_and_replacement_file(tmp_path):
    base = optimiser.load_scenario(EXAMPLE, start="2025-03-17", end="2025-03-24")
    replacement = pd.DataFrame({"timestamp": base.timestamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "price_usd_per_mwh": 2 * base.data["price_usd_per_mwh"].to_numpy()})
    replacement.to_csv(tmp_path / "double.csv", index=False)
    path = write_spec(tmp_path, '''
[grid]
site.energy_adder_usd_per_mwh = [2.0, 6.0]
"series.price_usd_per_mwh" = [2.0, "double.csv"]
''')
    spec, sc = load_spec(path)
    assert spec.keys == ("site.energy_adder_usd_per_mwh", "series.price_usd_per_mwh")
    assert set(spec.series_files) == {"double.csv"}
    res = optimiser.sweep(path, tmp_path / "out", workers=1, plots=False)
    t = res.table.set_index("case")
    assert (t["status"] == "ok").all()
    # a multiplier of 2 and a file holding twice the column are the same scenario
    np.testing.assert_allclose(t.loc["grid-000", "objective_usd"], t.loc["grid-001", "objective_usd"], rtol=1e-9)
    assert t["series.price_usd_per_mwh"].tolist() == ["2.0", "double.csv", "2.0", "double.csv"]


def test_bad_spec_lists_every_problem_naming_its_key(tmp_path):
    path = write_spec(tmp_path, '''
chains = 3
[grid]
"gpu.tenant-a.contract_usd_per_mw_per_h" = []
"gpu.tenant-b.contract_mw" = [10.0]
"site.import_mwh" = [100.0]
"site.import_mw" = [100.0, "lots", true]
"series.btc_usdd" = [1.0]
"series.price_usd_per_mwh" = [1.0, 1.0, "missing.csv"]
"ppa.price_usd_per_mwh" = 30.0
[[case]]
name = "a"
[[case]]
name = "a"
''')
    with pytest.raises(InputError) as err:
        load_spec(path)
    by_key: dict[str, list[str]] = {}
    for p in err.value.problems:
        by_key.setdefault(p.key, []).append(p.message)
    assert "did you mean 'chain'" in by_key["chains"][0]
    assert "empty" in by_key["grid.gpu.tenant-a.contract_usd_per_mw_per_h"][0]
    assert "no gpu named 'tenant-b'" in by_key["grid.gpu.tenant-b.contract_mw"][0]
    assert "unknown key" in by_key["grid.site.import_mwh"][0] and "'import_mw'" in by_key["grid.site.import_mwh"][0]
    assert any("text, not a number" in m for m in by_key["grid.site.import_mw"])
    assert any("boolean" in m for m in by_key["grid.site.import_mw"])
    assert "no input column 'btc_usdd'" in by_key["grid.series.btc_usdd"][0]
    assert "'btc_usd'" in by_key["grid.series.btc_usdd"][0]
    assert any("listed twice" in m for m in by_key["grid.series.price_usd_per_mwh"])
    assert any("not found" in m for m in by_key["grid.series.price_usd_per_mwh"])
    assert "list of values" in by_key["grid.ppa.price_usd_per_mwh"][0]
    assert "duplicate case name 'a'" in by_key["case[1].name"][0]
    assert all(p.file == str(path) for p in err.value.problems)

    # out of range is known before anything is solved; so is a base that is not there
    for body, key, words in (('[grid]\n"ppa.price_usd_per_mwh" = [1e9]\n', "grid.ppa.price_usd_per_mwh", "out of range"),
                             ('[grid]\n"gpu.tenant-a.billing_period" = ["week"]\n',
                              "grid.gpu.tenant-a.billing_period", "'month'"),
                             ('[grid]\n"inputs" = [1.0]\n', "grid.inputs", "cannot be varied"),
                             ('nam = "x"\n', "grid", "varies nothing")):
        with pytest.raises(InputError) as e:
            load_spec(write_spec(tmp_path / key, body))
        assert any(p.key == key and words in p.message for p in e.value.problems), e.value
    with pytest.raises(InputError) as e:
        load_spec(write_spec(tmp_path / "nobase", '[grid]\n"series.btc_usd" = [1.0]\n', base="no/such/folder"))
    assert e.value.problems[0].key == "base" and "not found" in e.value.problems[0].message


def test_cli_bad_spec_and_foreign_folder_exit_2(tmp_path, capsys):
    bad = write_spec(tmp_path, '[grid]\n"series.btc_usdd" = [1.0]\n"site.nope" = [1.0]\n')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "series.btc_usdd" in err and "site.nope" in err and "2 problems" in err
    assert not (tmp_path / "out").exists()  # nothing written for a bad spec
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("x")
    good = write_spec(tmp_path / "g", '[grid]\n"series.btc_usd" = [1.0]\n')
    assert main(["sweep", str(good), "--out", str(foreign)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot use the sweep folder" in err and "not a sweep folder" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.docx"]


def test_one_sweep_writes_a_folder_at_a_time(tmp_path):
    out, lock = open_sweep_folder(tmp_path / "s")
    try:
        with pytest.raises(ResultsFolderError, match="another sweep is writing"):
            open_sweep_folder(tmp_path / "s")
    finally:
        lock.close()
    _, again = open_sweep_folder(tmp_path / "s")
    again.close()


# ------------------------------------------------------------------------------------------------
# engines, determinism, failures
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        yield cluster


def test_same_table_in_process_local_and_dask_with_failures_isolated(tmp_path, dask_cluster):
    """One worker, two local worker processes and a two-worker Dask cluster give the same table;
    an infeasible case and a bad-input case are rows with their errors, the others solve."""
    path = write_spec(tmp_path, GRID + FAILING, horizon='start = "2025-03-17"\nend = "2025-03-19"\n')
    (tmp_path / "caps.py").write_text(CAPS)
    seen: list[Progress] = []
    one = optimiser.sweep(path, tmp_path / "one", workers=1, plots=False, progress=seen.append)
    two = optimiser.sweep(path, tmp_path / "two", workers=2, plots=False)
    dask = optimiser.sweep(path, tmp_path / "dask", scheduler=dask_cluster.scheduler_address, plots=False)
    assert (one.engine, two.engine, dask.engine) == ("in-process", "local", "dask")
    assert (two.workers, dask.workers) == (2, 2)
    pd.testing.assert_frame_equal(comparable(tmp_path / "one"), comparable(tmp_path / "two"))
    pd.testing.assert_frame_equal(comparable(tmp_path / "one"), comparable(tmp_path / "dask"))

    t = one.table.set_index("case")
    assert len(t) == 15 and t.index.is_unique
    assert t.loc["no-power", "status"] == "infeasible" and "sla" in t.loc["no-power", "error"].lower()
    assert t.loc["no-power", "extra"] == "caps.py:cap_60" and t.loc["grid-000", "extra"] == ""
    assert t.loc["contract-above-capacity", "status"] == "bad input"
    assert "larger than capacity_mw" in t.loc["contract-above-capacity", "error"]
    ok = t[t["status"] == "ok"]
    assert len(ok) == 13 and ok["error"].isna().all()
    # the columns: values as varied, totals that add up, energy and availability
    np.testing.assert_allclose(ok["revenue_usd"] - ok["cost_usd"], ok["objective_usd"], rtol=1e-9)
    streams = [c for c in t.columns if c.startswith("revenue_usd.")]
    np.testing.assert_allclose(ok[streams].sum(axis=1), ok["revenue_usd"], rtol=1e-12)
    assert {"energy_mwh.asic_s21", "gpu_availability.tenant-a", "asic_profit_usd", "gpu_profit_usd", "giveback_usd",
            "iterations", "solve_s", "warm", "key"} <= set(t.columns)
    assert (ok["hours"] == 48).all() and (ok["gpu_availability.tenant-a"] >= 0.999 - 1e-9).all()
    # more BTC, more profit; a dearer contract, more profit
    g = ok.loc[[i for i in ok.index if i.startswith("grid-")]]
    by_btc = g.groupby("series.btc_usd")["objective_usd"].mean()
    assert by_btc.is_monotonic_increasing
    by_contract = g.groupby("gpu.tenant-a.contract_usd_per_mw_per_h")["objective_usd"].mean()
    assert by_contract.iloc[1] - by_contract.iloc[0] == pytest.approx(60.0 * 50 * 48, rel=1e-6)
    # the CSV holds the same table
    csv = pd.read_csv(tmp_path / "one" / "cases.csv")
    assert list(csv.columns) == list(one.table.columns) and csv["case"].tolist() == one.table["case"].tolist()
    # progress: a start, a case event per case with the count going up, an end
    events = [p.event for p in seen]
    assert events[0] == "start" and events[-1] == "end" and events.count("case") == 15
    assert [p.done for p in seen if p.event == "case"] == list(range(1, 16))
    assert seen[-1].failed == 2 and seen[-1].total == 15


def test_resume_after_sigkill_every_case_exactly_once(tmp_path):
    """A sweep killed with SIGKILL (the whole process group, workers too) and started again solves
    only the cases without a row; the table has every case once."""
    body = '''
chain = 3
[grid]
"series.btc_usd" = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
"series.price_usd_per_mwh" = [0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
'''
    # 48 cases: killed after the first 4 rows, most are left however loaded the machine is
    path = write_spec(tmp_path, body, horizon='start = "2025-03-10"\nend = "2025-03-24"\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "optimiser", "sweep", str(path), "--out", str(out), "--workers", "2", "--quiet",
           "--no-plots"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rows = out / "rows"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if rows.is_dir() and len([p for p in rows.glob("*.json")]) >= 4:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in rows.glob("*.json")}
    assert 4 <= len(before) < 48, "the sweep should have been killed part-way"
    res = optimiser.sweep(path, out, workers=2, plots=False)
    t = res.table
    assert len(t) == 48 and t["case"].is_unique and (t["status"] == "ok").all()
    assert res.reused == len(before) and res.solved == 48 - len(before)
    for name, mtime in before.items():  # not solved again
        assert (rows / name).stat().st_mtime_ns == mtime
    assert not list(rows.glob(".*"))  # the killed workers' temporary files are gone
    # a third run solves nothing
    again = optimiser.sweep(path, out, workers=2, plots=False)
    assert again.solved == 0 and again.reused == 48
    pd.testing.assert_frame_equal(again.table.drop(columns=list(TIMING_COLUMNS)),
                                  t.drop(columns=list(TIMING_COLUMNS)))


def test_sigterm_stops_the_workers_and_keeps_what_is_done(tmp_path):
    """SIGTERM to the command alone: exit 130, the workers stop at once, the table lists every
    case (those not reached as 'not run')."""
    body = '[grid]\n"series.btc_usd" = [0.7, 0.8, 0.9, 1.0, 1.1, 1.2]\n"series.price_usd_per_mwh" = [0.8, 0.9, 1.0, 1.1]\n'
    path = write_spec(tmp_path, "chain = 3\n" + body, horizon='start = "2025-03-10"\nend = "2025-03-31"\n')
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "optimiser", "sweep", str(path), "--out", str(out), "--workers", "2",
                             "--no-plots"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not (
            (out / "rows").is_dir() and len(list((out / "rows").glob("*.json"))) >= 2):
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to finish" in err
    time.sleep(1.0)
    rows = sorted(p.name for p in (out / "rows").glob("*.json"))
    time.sleep(1.0)
    assert sorted(p.name for p in (out / "rows").glob("*.json")) == rows  # no worker writes on
    t = read_table(out)
    assert len(t) == 24 and set(t["status"]) <= {"ok", "not run"}
    assert (t["status"] == "ok").sum() == len(rows) < 24


def test_warm_matches_cold_and_a_failed_cold_check_falls_back(tmp_path, monkeypatch):
    body = '''
[grid]
"series.btc_usd" = [0.8, 0.9, 1.0, 1.1, 1.2]
"series.price_usd_per_mwh" = [0.9, 1.0, 1.1]
'''
    path = write_spec(tmp_path, body)
    warm = optimiser.sweep(path, tmp_path / "warm", workers=1, plots=False, check_cold_every=4)
    cold = optimiser.sweep(path, tmp_path / "cold", workers=1, plots=False, cold=True)
    w, c = warm.table.set_index("case"), cold.table.set_index("case")
    assert w["warm"].sum() == 14 and not c["warm"].any()
    np.testing.assert_allclose(w["objective_usd"], c["objective_usd"], rtol=1e-7)
    checked = w["cold_check_rel_diff"].dropna()
    assert len(checked) == 3 and (checked <= 1e-7).all()
    assert w["iterations"].sum() < c["iterations"].sum() / 2

    from optimiser import warm as warm_module

    monkeypatch.setattr(warm_module, "COLD_CHECK_RTOL", -1.0)  # every cold check now disagrees
    seen: list[Progress] = []
    bad = optimiser.sweep(path, tmp_path / "mismatch", workers=1, plots=False, check_cold_every=4,
                          progress=seen.append)
    b = bad.table.set_index("case").loc[w.index]
    assert len(bad.warnings) == 1 and "disagreed" in bad.warnings[0]
    assert any(p.event == "warning" for p in seen)
    order = b["warm"].tolist()  # in solving order: warm until the 4th warm solve, cold after it
    assert sum(order) == 4
    np.testing.assert_allclose(b["objective_usd"], c["objective_usd"], rtol=1e-7)


def test_keep_cases_plots_and_cli_output(tmp_path, capsys):
    path = write_spec(tmp_path, '[grid]\n"series.btc_usd" = [0.9, 1.1]\n"site.ramp_mw_per_h" = [150.0, 200.0]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--keep-cases"]) == 0
    text = capsys.readouterr()
    assert "4 cases, 4 solved, 0 failed" in text.out and "grid-000" in text.out
    assert "4/4 done" in text.err  # not a terminal: plain lines
    summary = json.loads((out / "cases" / "grid-003" / "summary.json").read_text())
    t = read_table(out).set_index("case")
    assert summary["objective_usd"] == pytest.approx(t.loc["grid-003", "objective_usd"], rel=1e-12)
    assert (out / "cases" / "grid-003" / "dispatch.csv").is_file()
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert pngs == ["objective_series.btc_usd.png", "objective_site.ramp_mw_per_h.png",
                    "split_series.btc_usd.png", "split_site.ramp_mw_per_h.png"]
    assert all((out / "plots" / p).stat().st_size > 5000 for p in pngs)
    assert (out / "spec.toml").read_text() == path.read_text()
    # quiet: nothing on stdout or stderr; resumed: nothing solved again
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr()
    assert text.out == "" and text.err == ""


def test_sweep_report_compares_the_cases(tmp_path, capsys):
    """``dispatch sweep --report`` keeps every case's folder and writes their comparison (the
    first case the reference) into DIR/report; the page's numbers are the table's."""
    path = write_spec(tmp_path, '[grid]\n"series.btc_usd" = [0.8, 1.2]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plots", "--report"]) == 0
    assert "report: " in capsys.readouterr().out
    page = out / "report" / "comparison.html"
    text = page.read_text()
    t = read_table(out).set_index("case")
    for case in ("grid-000", "grid-001"):
        assert (out / "cases" / case / "summary.json").is_file() and case in text
        assert f" {t.loc[case, 'objective_usd'] / 1e6:.2f} " in text.replace('<', ' <').replace('>', '> ')  # M$
    assert "http://" not in text and "https://" not in text  # nothing fetched
    # run again: nothing solved, the report written anew beside the table
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--report"]) == 0
    assert page.is_file()


def test_plot_functions_label_units():
    from optimiser import sweep_plots

    table = pd.DataFrame({"case": ["a", "b", "c", "d"], "series.btc_usd": [0.8, 0.8, 1.2, 1.2],
                          "gpu.g.contract_usd_per_mw_per_h": [1.0, 2.0, 1.0, 2.0],
                          "status": ["ok", "ok", "ok", "infeasible"],
                          "objective_usd": [1e6, 2e6, 3e6, np.nan], "asic_profit_usd": [1.0, 2.0, 3.0, np.nan],
                          "gpu_profit_usd": [1.0, 1.0, 1.0, np.nan], "giveback_usd": [0.5, 0.5, 0.5, np.nan],
                          "asic_mwh": [10.0, 20.0, 30.0, np.nan], "gpu_mwh": [5.0, 5.0, 5.0, np.nan],
                          "energy_mwh.export": [1.0, 1.0, 1.0, np.nan]})
    fig = sweep_plots.plot_objective(table, "series.btc_usd")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "objective (profit) [million USD]" and "multiplier" in ax.get_xlabel()
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [1.5, 3.0])  # the mean over the other key's values
    split = sweep_plots.plot_split(table, "gpu.g.contract_usd_per_mw_per_h")
    assert [a.get_xlabel() for a in split.axes] == ["gpu.g.contract_usd_per_mw_per_h [$/MW/h]"] * 2
    assert split.axes[1].get_ylabel() == "energy [GWh]"
    with pytest.raises(KeyError):
        sweep_plots.plot_objective(table, "nope")


def test_progress_bar_terminal_and_plain():
    events = [Progress("start", 4, 0), Progress("case", 4, 1, 0, 0, 1.0, "a", "ok"),
              Progress("case", 4, 2, 1, 0, 2.0, "b", "infeasible"), Progress("warning", 4, 2, message="w\x1b[2J"),
              Progress("case", 4, 4, 1, 0, 4.0, "c", "ok"), Progress("end", 4, 4, 1, 0, 4.5)]
    plain, tty = io.StringIO(), io.StringIO()
    for sink, is_tty in ((plain, False), (tty, True)):
        bar = ProgressBar(sink, tty=is_tty, interval=0.0)
        for p in events:
            bar(p)
    lines = plain.getvalue().splitlines()
    assert lines[0] == "sweep: 4 cases" and "b: infeasible" in lines and "warning: w\\x1b[2J" in lines
    assert lines[-1] == "4/4 done, 1 failed, 4.5 s"
    assert "\r[" in tty.getvalue() and "cases/s, ETA" in tty.getvalue() and "\x1b[2J" not in tty.getvalue()
    assert events[1].rate_per_s == 1.0 and events[1].eta_s == 3.0
