"""Nothing half-written: a run killed while writing leaves the previous results untouched.

A child ``dispatch run`` is started from a small script that makes the writer stop in the
middle (after ``dispatch.csv`` is written into the temporary folder, before ``summary.json``,
or after the swap, before the old results are deleted) and says so through a marker file; the
test then sends SIGTERM, SIGINT or SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import optimiser
import optimiser.results as results_mod
from optimiser.cli import EXIT_INPUT, EXIT_INTERRUPTED, main
from optimiser.errors import DispatchError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example"
DAYS = ["--start", "2025-07-01T00:00:00-05:00", "--end", "2025-07-03T00:00:00-05:00"]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = r'''
import os, sys, time
import pandas as pd
import optimiser.results as r

marker, stage = sys.argv[1], sys.argv[2]
if stage == "csv":          # stop with dispatch.csv written in the temporary folder
    orig = pd.DataFrame.to_csv
    def to_csv(self, path, *a, **k):
        out = orig(self, path, *a, **k)
        if ".tmp-" in str(path):
            open(marker, "w").close()
            time.sleep(120)
        return out
    pd.DataFrame.to_csv = to_csv
elif stage == "swapped":    # stop after the swap, before the previous results are deleted
    orig_remove = r._remove
    def remove(path):
        open(marker, "w").close()
        time.sleep(120)
        orig_remove(path)
    r._remove = remove
from optimiser.cli import main
sys.exit(main(sys.argv[3:]))
'''


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(parent: Path, name: str = "out") -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


@pytest.fixture()
def previous(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A results folder from an earlier run (the first 48 hours of the example)."""
    out = tmp_path / "out"
    assert main(["run", str(EXAMPLE), "--out", str(out), "-q",
                 "--start", "2025-03-01T00:00:00-06:00", "--end", "2025-03-03T00:00:00-06:00"]) == 0
    snap = snapshot(out)
    assert set(snap) == {".dispatch-results", "dispatch.csv", "summary.json"}
    return out, snap


def start_child(tmp_path: Path, out: Path, stage: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    marker = tmp_path / f"marker-{stage}"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(marker), stage, "run", str(EXAMPLE), "--out", str(out), "-q", *DAYS],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child ended early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("child never reached the writer")
        time.sleep(0.02)
    return proc, marker


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_writing_leaves_previous_results_and_no_temp(tmp_path, previous, sig):
    out, snap = previous
    proc, _ = start_child(tmp_path, out, "csv")
    assert leftovers(tmp_path)  # the temporary folder is there, half-written
    tmp = tmp_path / leftovers(tmp_path)[0]
    assert (tmp / "dispatch.csv").exists() and not (tmp / "summary.json").exists()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "interrupted; nothing was written" in err
    assert snapshot(out) == snap
    assert leftovers(tmp_path) == []


def test_sigkill_while_writing_leaves_previous_results_and_the_next_run_cleans_up(tmp_path, previous):
    out, snap = previous
    proc, _ = start_child(tmp_path, out, "csv")
    proc.kill()
    proc.communicate(timeout=60)  # reaped: its pid is gone
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(out) == snap
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(f".out.tmp-{proc.pid}-")
    # the next write beside it removes the dead process's temporary folder
    assert main(["run", str(EXAMPLE), "--out", str(out), "-q", *DAYS]) == 0
    assert leftovers(tmp_path) == []
    assert json.loads((out / "summary.json").read_text())["hours"] == 48


def test_sigkill_after_the_swap_leaves_the_new_results_whole(tmp_path, previous):
    out, snap = previous
    proc, _ = start_child(tmp_path, out, "swapped")
    proc.kill()
    proc.communicate(timeout=60)
    new = snapshot(out)
    assert new != snap and set(new) == {".dispatch-results", "dispatch.csv", "summary.json"}
    assert json.loads(new["summary.json"])["hours"] == 48
    stale = leftovers(tmp_path)
    assert len(stale) == 1  # the previous results, moved aside
    assert snapshot(tmp_path / stale[0]) == snap
    assert results_mod.clean_stale(out) == [tmp_path / stale[0]]
    assert leftovers(tmp_path) == []


def test_a_live_writers_temp_folder_is_left_alone(tmp_path, previous):
    out, _ = previous
    mine = tmp_path / f".out.tmp-{os.getpid()}-abc"
    mine.mkdir()
    assert results_mod.clean_stale(out) == []
    assert mine.exists()


def test_fallback_without_exchange_restores_on_interrupt(tmp_path, previous, monkeypatch):
    """Where renameat2 is missing: two renames; an interrupt between them puts the old back."""
    out, snap = previous
    sc = optimiser.load_scenario(EXAMPLE, start="2025-07-01T00:00:00-05:00", end="2025-07-02T00:00:00-05:00")
    res = optimiser.solve(optimiser.build(sc), load_solution=False)
    monkeypatch.setattr(results_mod, "_exchange", lambda a, b: False)
    calls = []
    real_replace = os.replace

    def replace(a, b):
        calls.append((Path(a).name, Path(b).name))
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(a, b)

    monkeypatch.setattr(results_mod.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        res.write(out)
    monkeypatch.setattr(results_mod.os, "replace", real_replace)
    assert calls[0][0] == "out" and calls[0][1].startswith(f".out.old-{os.getpid()}-")
    assert snapshot(out) == snap
    assert leftovers(tmp_path) == []
    # a dead writer's moved-aside results come back when the results folder is missing
    real_replace(out, tmp_path / ".out.old-999999999-x")
    assert results_mod.clean_stale(out) == [tmp_path / ".out.old-999999999-x"]
    assert snapshot(out) == snap
    # and the fallback writes whole when nothing goes wrong
    res.write(out)
    assert json.loads((out / "summary.json").read_text())["hours"] == 24
    assert leftovers(tmp_path) == []


def test_bad_input_run_writes_nothing(tmp_path, previous, capsys):
    out, snap = previous
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "scenario.toml").write_bytes((EXAMPLE / "scenario.toml").read_bytes())
    (bad / "bitcoin.csv").write_bytes((EXAMPLE / "bitcoin.csv").read_bytes())
    lines = (EXAMPLE / "prices.csv").read_text().splitlines(keepends=True)
    lines[100] = lines[100].replace(",", ",abc", 1)  # a price that is not a number
    (bad / "prices.csv").write_text("".join(lines))
    assert main(["run", str(bad), "--out", str(out), "-q"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "prices.csv, line 101, column 'price_usd_per_mwh'" in err
    assert snapshot(out) == snap and leftovers(tmp_path) == []
    fresh = tmp_path / "fresh"
    assert main(["run", str(bad), "--out", str(fresh), "-q"]) == EXIT_INPUT
    assert not fresh.exists() and leftovers(tmp_path, "fresh") == []


def test_solver_error_run_writes_nothing(tmp_path, previous, capsys):
    out, snap = previous
    assert main(["run", str(EXAMPLE), "--out", str(out), "-q", "--time-limit", "0.001"]) == 4
    assert snapshot(out) == snap and leftovers(tmp_path) == []


def test_a_folder_that_is_not_a_results_folder_is_not_replaced(tmp_path, previous):
    out, _ = previous
    res_path = tmp_path / "project"
    (res_path / "src").mkdir(parents=True)
    (res_path / "src" / "keep.py").write_text("x = 1\n")
    sc = optimiser.load_scenario(EXAMPLE, start="2025-07-01T00:00:00-05:00", end="2025-07-01T03:00:00-05:00")
    res = optimiser.solve(optimiser.build(sc), load_solution=False)
    with pytest.raises(DispatchError, match="not a results folder"):
        res.write(res_path)
    assert (res_path / "src" / "keep.py").read_text() == "x = 1\n"
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "scenario.toml").write_text("name = 'x'\n")
    with pytest.raises(DispatchError, match="scenario.toml"):
        res.write(scen)
    f = tmp_path / "file.txt"
    f.write_text("keep\n")
    with pytest.raises(DispatchError, match="not a folder"):
        res.write(f)
    assert f.read_text() == "keep\n"
    assert leftovers(tmp_path, "project") == leftovers(tmp_path, "scen") == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_exchange_swaps_two_folders_atomically(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a")
    (b / "y").write_text("from b")
    if not results_mod._exchange(a, b):
        pytest.skip("this filesystem does not support RENAME_EXCHANGE (the two-rename fallback is tested above)")
    assert [p.name for p in a.iterdir()] == ["y"] and [p.name for p in b.iterdir()] == ["x"]
