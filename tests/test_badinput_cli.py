"""Never silently wrong, never destructive: the ``dispatch`` command on bad input, one test per class.

Each case runs ``dispatch`` (in-process ``main([...])``, or a real subprocess where the run must
be signalled or could hang) and asserts the exit code, that the message names the folder, file,
key or option at fault, and that nothing was written: the ``--out`` folder is not created, a
folder that was there is left exactly as it was, and no temporary folder is left beside it.

The classes: the results folder guard (``--out`` on a user's folder, the scenario folder, a
file, a link, a results folder holding a foreign file, an unwritable parent, ...), signals in
each phase, bad solver options, bad ``--start``/``--end``, unsafe input files (FIFO,
``/dev/zero``, a folder, too large), quoting (escape codes, long values, a file's content), and
strict JSON. Horizons are one or two days so the file runs in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import optimiser
from optimiser.cli import EXIT_INPUT, EXIT_INTERRUPTED, main
from optimiser.errors import DispatchError
from optimiser.outdir import MARKER, ResultsFolderError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example"
DAY = ["--start", "2025-03-03T00:00:00-06:00", "--end", "2025-03-04T00:00:00-06:00"]
TWO_DAYS = ["--start", "2025-03-03", "--end", "2025-03-05"]

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files and signals")


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (recursively) with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def temp_leftovers(parent: Path) -> list[str]:
    """Temporary or moved-aside folders of a writer left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def copy_example(tmp_path: Path, name: str = "scenario") -> Path:
    folder = tmp_path / name
    shutil.copytree(EXAMPLE, folder)
    return folder


def edit_toml(folder: Path, old: str, new: str) -> None:
    path = folder / "scenario.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def one_line(text: str) -> str:
    """A message with its wrapping undone (the CLI wraps the first line at 100 columns, at spaces)."""
    return " ".join(text.split())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``dispatch ARGS`` in-process: exit code, stdout, and stderr on one line (wrapping undone)."""
    code = main([str(a) for a in args])
    got = capsys.readouterr()
    return code, got.out, one_line(got.err)


@pytest.fixture()
def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the scenario fails the test: the check must come before it."""

    def refuse(*a, **k):
        raise AssertionError("the scenario was read, though the check should have come first")

    monkeypatch.setattr(optimiser, "load_scenario", refuse)


@pytest.fixture(scope="module")
def results_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder written by ``dispatch run`` (one day); copy it before changing it."""
    out = tmp_path_factory.mktemp("prev") / "out"
    assert main(["run", str(EXAMPLE), "--out", str(out), "-q", *DAY]) == 0
    return out


def previous_results(results_folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(results_folder, out)
    return out


def dispatch_cmd() -> list[str]:
    script = Path(sys.executable).with_name("dispatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "optimiser"]


def run_process(*args: str | Path, timeout: float = 120, env: dict[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*dispatch_cmd(), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd)


# ------------------------------------------------------------------------------------------------
# 1. the results folder is the tool's own
# ------------------------------------------------------------------------------------------------


def test_out_holding_a_users_file_is_refused_before_reading(tmp_path, capsys, no_reading):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "thesis.docx").write_text("x\n")
    code, out, err = run(capsys, "run", EXAMPLE, "--out", docs, *DAY)
    assert code == EXIT_INPUT, err
    assert err.startswith("dispatch: results folder:")
    assert str(docs) in err and "thesis.docx" in err and "not a results folder" in err
    assert out == ""
    assert snapshot(docs) == {"thesis.docx": b"x\n"}
    assert temp_leftovers(tmp_path) == []


def test_out_on_the_scenario_folder_keeps_the_inputs(tmp_path, capsys, no_reading):
    folder = copy_example(tmp_path)
    before = snapshot(folder)
    code, _, err = run(capsys, "run", folder, "--out", folder, *DAY)
    assert code == EXIT_INPUT
    assert str(folder) in err and "scenario.toml" in err and "prices.csv" in err
    assert snapshot(folder) == before


def test_out_on_a_folder_of_input_csvs_outside_the_scenario_keeps_them(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    folder = copy_example(tmp_path)
    for f in ("prices.csv", "bitcoin.csv"):
        shutil.move(folder / f, data / f)
    edit_toml(folder, 'inputs = ["prices.csv", "bitcoin.csv"]', 'inputs = ["../data/prices.csv", "../data/bitcoin.csv"]')
    before = snapshot(data)
    code, _, err = run(capsys, "run", folder, "--out", data, *DAY)
    assert code == EXIT_INPUT
    assert str(data) in err and "bitcoin.csv" in err
    assert snapshot(data) == before
    # the same scenario runs when the results go elsewhere
    assert run(capsys, "run", folder, "--out", tmp_path / "results", "-q", *DAY)[0] == 0


def test_out_that_is_a_file_is_refused(tmp_path, capsys, no_reading):
    f = tmp_path / "report.txt"
    f.write_text("keep\n")
    code, _, err = run(capsys, "run", EXAMPLE, "--out", f, *DAY)
    assert code == EXIT_INPUT
    assert str(f) in err and "not a folder" in err
    assert f.read_text() == "keep\n"


@posix
def test_out_that_is_a_symbolic_link_is_refused(tmp_path, capsys, results_folder, no_reading):
    target = previous_results(results_folder, tmp_path)
    link = tmp_path / "link"
    link.symlink_to(target)
    before = snapshot(target)
    code, _, err = run(capsys, "run", EXAMPLE, "--out", link, *DAY)
    assert code == EXIT_INPUT
    assert str(link) in err and "symbolic link" in err
    assert link.is_symlink() and snapshot(target) == before


def test_results_folder_with_a_foreign_file_is_refused_and_the_file_kept(tmp_path, capsys, results_folder,
                                                                        no_reading):
    out = previous_results(results_folder, tmp_path)
    (out / "notes.txt").write_text("my notes\n")
    before = snapshot(out)
    code, _, err = run(capsys, "run", EXAMPLE, "--out", out, *DAY)
    assert code == EXIT_INPUT
    assert str(out) in err and "notes.txt" in err and "did not write" in err
    assert snapshot(out) == before
    assert temp_leftovers(tmp_path) == []


def test_results_folder_with_a_sub_folder_is_refused(tmp_path, capsys, results_folder, no_reading):
    out = previous_results(results_folder, tmp_path)
    (out / "plots").mkdir()
    (out / "plots" / "a.png").write_bytes(b"png")
    before = snapshot(out)
    code, _, err = run(capsys, "run", EXAMPLE, "--out", out, *DAY)
    assert code == EXIT_INPUT
    assert "plots" in err and str(out) in err
    assert snapshot(out) == before


def test_a_marker_dispatch_did_not_write_is_refused(tmp_path, capsys, no_reading):
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("I am not JSON\n")
    (out / "mine.csv").write_text("1,2\n")
    before = snapshot(out)
    code, _, err = run(capsys, "run", EXAMPLE, "--out", out, *DAY)
    assert code == EXIT_INPUT
    assert MARKER in err and "did not write" in err and str(out) in err
    assert snapshot(out) == before


def test_out_under_a_file_is_refused_before_reading(tmp_path, capsys, no_reading):
    f = tmp_path / "file.txt"
    f.write_text("keep\n")
    code, _, err = run(capsys, "run", EXAMPLE, "--out", f / "sub" / "out", *DAY)
    assert code == EXIT_INPUT
    assert str(f) in err and "not a folder" in err
    assert f.read_text() == "keep\n"


@posix
def test_out_in_an_unwritable_folder_is_refused_before_reading(tmp_path, capsys, no_reading):
    if os.geteuid() == 0:  # root writes anywhere a mode allows: use a file system that refuses
        parent = Path("/sys")
        if not parent.is_dir():
            pytest.skip("no /sys to stand for an unwritable folder")
    else:
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o555)
    out = parent / "dispatch-results-test"
    try:
        code, _, err = run(capsys, "run", EXAMPLE, "--out", out / "deeper", *DAY)
    finally:
        if parent != Path("/sys"):
            parent.chmod(0o755)
    assert code == EXIT_INPUT
    assert str(out / "deeper") in err and "cannot" in err and str(parent) in err
    assert not out.exists()


def test_out_on_the_working_folder_is_refused(tmp_path, capsys, monkeypatch, no_reading):
    (tmp_path / "thesis.docx").write_text("x")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "run", EXAMPLE, "--out", ".", *DAY)
    assert code == EXIT_INPUT
    assert "working or home folder" in err
    assert (tmp_path / "thesis.docx").read_text() == "x"


def test_results_write_refuses_a_users_folder(tmp_path):
    sc = optimiser.load_scenario(EXAMPLE, start="2025-03-03", end="2025-03-04")
    res = optimiser.solve(optimiser.build(sc), load_solution=False)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "thesis.docx").write_text("x")
    with pytest.raises(ResultsFolderError, match="thesis.docx"):
        res.write(docs)
    assert snapshot(docs) == {"thesis.docx": b"x"}
    with pytest.raises(ResultsFolderError, match="thesis.docx"):
        optimiser.run(EXAMPLE, out=docs)  # refused before the scenario is read or solved
    assert temp_leftovers(tmp_path) == []


# --- what may be written ------------------------------------------------------------------------


def test_an_empty_folder_a_results_folder_and_an_old_results_folder_are_replaced(tmp_path, capsys, results_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    marked = previous_results(results_folder, tmp_path)
    legacy = tmp_path / "legacy"  # written before markers existed: dispatch.csv and our summary.json
    legacy.mkdir()
    for f in ("dispatch.csv", "summary.json"):
        shutil.copy(results_folder / f, legacy / f)
    for out in (empty, marked, legacy):
        code, _, err = run(capsys, "run", EXAMPLE, "--out", out, "-q", *TWO_DAYS)
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == [MARKER, "dispatch.csv", "summary.json"]
        assert json.loads((out / "summary.json").read_text())["hours"] == 48
        marker = json.loads((out / MARKER).read_text())
        assert marker["tool"] == "dispatch-optimiser" and marker["files"] == ["dispatch.csv", "summary.json"]
    assert temp_leftovers(tmp_path) == []


@posix
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask(tmp_path, capsys, mask):
    old = os.umask(mask)
    try:
        out = tmp_path / "new" / "out"
        code, _, err = run(capsys, "run", EXAMPLE, "--out", out, "-q", *DAY)
    finally:
        os.umask(old)
    assert code == 0, err
    for folder in (out, out.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~mask, folder
    for f in out.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask, f


# ------------------------------------------------------------------------------------------------
# 2. signals in every phase, and solver options
# ------------------------------------------------------------------------------------------------

CHILD = r'''
import importlib, os, sys, time
from pathlib import Path
marker, phase = Path(sys.argv[1]), sys.argv[2]
it = importlib.import_module("optimiser.interrupt")

def hold():
    """Say we got here, then wait: in Python code, the signal raises out of the sleep."""
    marker.write_text(str(os.getpid()))
    time.sleep(120)

def hold_until_noted():
    """Where signals are deferred (HiGHS running, the swap): wait until the signal is noted."""
    if it._depth and not marker.exists():
        marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + 120
        while it.pending() is None and time.monotonic() < deadline:
            time.sleep(0.005)

def before(module, name, wait=hold, after=False):
    """Make module.name call wait() before (or after) doing its work."""
    mod = importlib.import_module(module)
    real = getattr(mod, name)
    def patched(*a, **k):
        if not after:
            wait()
        out = real(*a, **k)
        if after:
            wait()
        return out
    setattr(mod, name, patched)

if phase == "read":
    before("optimiser.inputs", "read_inputs")
elif phase == "build":
    before("optimiser", "_build")
elif phase == "solve":  # hold inside HiGHS's run (in its interrupt callback) until the signal is noted
    real_should_stop = it._should_stop
    def should_stop():
        hold_until_noted()
        return real_should_stop()
    it._should_stop = should_stop
    sv = importlib.import_module("optimiser.solve")
    real_run = sv.run_highs
    def run_highs(h):
        try:
            return real_run(h)
        finally:
            sys.stderr.write(f"child: HiGHS ended with '{h.modelStatusToString(h.getModelStatus())}'\n")
    sv.run_highs = run_highs
elif phase == "write":  # dispatch.csv written in the temporary folder, summary.json not yet
    before("optimiser.results", "_fmt_frame", after=True)
elif phase == "swap":  # inside the swap (signals deferred): the fsync of the parent folder
    before("optimiser.results", "_fsync", wait=hold_until_noted, after=True)
from optimiser.cli import main
sys.exit(main(sys.argv[3:]))
'''


def start_child(tmp_path: Path, phase: str, out: Path) -> subprocess.Popen[str]:
    """``dispatch run`` in a child that holds in ``phase`` once it gets there (marker file written)."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, str(script), str(marker), phase, "run", str(EXAMPLE), "--out", str(out),
                             "-q", *DAY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, f"the child ended before the {phase} phase: {proc.communicate()}"
        assert time.monotonic() < deadline, "the child never reached the phase"
        time.sleep(0.01)
    return proc


@posix
@pytest.mark.parametrize("phase", ["read", "build", "solve", "write"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_in_any_phase_exits_130_writing_nothing(tmp_path, phase, sig):
    out = tmp_path / "results" / "out"
    proc = start_child(tmp_path, phase, out)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, stderr
    assert "dispatch: interrupted; nothing was written" in stderr
    assert "Traceback" not in stderr
    if phase == "solve":  # HiGHS was stopped through its callback, not left to finish
        assert "child: HiGHS ended with 'Interrupted by user'" in stderr, stderr
    assert stdout == ""
    assert not out.exists()
    parent = out.parent
    assert not parent.exists() or temp_leftovers(parent) == []


@posix
def test_a_signal_during_the_swap_is_acted_on_after_it_and_says_the_results_are_complete(tmp_path):
    out = tmp_path / "out"
    proc = start_child(tmp_path, "swap", out)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, stderr
    assert f"interrupted after the results were written; {out} is complete" in stderr
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "dispatch.csv", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["hours"] == 24
    assert temp_leftovers(tmp_path) == []


def test_a_signal_during_a_solve_reaches_the_caller_as_keyboardinterrupt():
    """In a notebook: Ctrl-C in the middle of HiGHS stops it and raises KeyboardInterrupt."""
    import importlib
    import threading

    it, sv = importlib.import_module("optimiser.interrupt"), importlib.import_module("optimiser.solve")

    sc = optimiser.load_scenario(EXAMPLE, start="2025-03-03", end="2025-03-05")
    m = optimiser.build(sc)
    seen: list[str] = []
    real_run = sv.run_highs

    def run_highs(h):
        try:
            return real_run(h)
        finally:
            seen.append(h.modelStatusToString(h.getModelStatus()))

    real_should_stop = it._should_stop

    def should_stop():  # the first time HiGHS asks: send Ctrl-C, and wait until it is noted
        if not seen and it.pending() is None:
            threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT)).start()
            deadline = time.monotonic() + 30
            while it.pending() is None and time.monotonic() < deadline:
                time.sleep(0.005)
        return real_should_stop()

    sv.run_highs, it._should_stop = run_highs, should_stop
    try:
        with pytest.raises(KeyboardInterrupt):
            optimiser.solve(m)
    finally:
        sv.run_highs, it._should_stop = real_run, real_should_stop
    assert seen == ["Interrupted by user"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers put back
    assert optimiser.solve(m).summary["solver"]["termination"] == "Optimal"  # and the model still solves


OPTIONS = {
    "threads_above_the_cpus": (["-O", "threads=100000"], ["threads=100000", "CPU"]),
    "unknown_option": (["-O", "threadz=2"], ["threadz", "no option", "threads"]),
    "below_highs_range": (["-O", "time_limit=-1"], ["time_limit=-1", "HiGHS refuses"]),
    "not_one_of_the_choices": (["-O", "presolve=maybe"], ["presolve='maybe'", "HiGHS refuses"]),
    "wrong_type": (["-O", "threads=2.5"], ["threads=2.5", "whole number"]),
    "nan": (["-O", "mip_rel_gap=nan"], ["mip_rel_gap=nan", "finite number"]),
    "infinite": (["--time-limit", "inf"], ["time_limit=inf", "finite number"]),
    "file_option": (["-O", "solution_file=/tmp/x.sol"], ["solution_file", "files"]),
    "time_limit_flag_negative": (["--time-limit", "-5"], ["time_limit=-5", "HiGHS refuses"]),
    "no_name": (["-O", "=3"], ["no name"]),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_bad_solver_options_are_refused_before_reading(name, tmp_path, capsys, no_reading):
    args, needles = OPTIONS[name]
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "run", EXAMPLE, "--out", out, *args, *DAY)
    assert code == EXIT_INPUT, err
    assert err.startswith("dispatch: bad input:")
    for text in needles:
        assert text in err, f"{text!r} not in {err}"
    assert stdout == "" and not out.exists() and temp_leftovers(tmp_path) == []


def test_an_option_without_a_value_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(EXAMPLE), "--out", str(tmp_path / "out"), "-O", "threads"])
    assert exc.value.code == EXIT_INPUT
    assert "'threads' is not key=value" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_good_options_are_passed_with_highs_types(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "run", EXAMPLE, "--out", out, "-q", "-O", "simplex_iteration_limit=1e6",
                       "-O", "output_flag=1", "-O", "presolve=off", *DAY)
    assert code == 0, err
    opts = json.loads((out / "summary.json").read_text())["provenance"]["solver_options"]
    assert opts["simplex_iteration_limit"] == 1000000 and opts["presolve"] == "off"
    assert opts["output_flag"] is True


# ------------------------------------------------------------------------------------------------
# 3. times people type
# ------------------------------------------------------------------------------------------------

TIMES = {
    "nonexistent_local_time": (["--start", "2025-03-09T02:30", "--end", "2025-03-10"],
                               ["key 'start'", "2025-03-09T02:30", "does not exist", "America/Chicago"]),
    "ambiguous_local_time": (["--start", "2025-11-02T01:00", "--end", "2025-11-03"],
                             ["key 'start'", "occurs twice", "2025-11-02T01:00-05:00", "2025-11-02T01:00-06:00"]),
    "not_a_time": (["--start", "yesterday", "--end", "2025-03-04"], ["key 'start'", "'yesterday'", "a date"]),
    "impossible_date": (["--start", "2025-03-01", "--end", "2025-02-30"], ["key 'end'", "2025-02-30", "day"]),
    "local_time_off_the_hour": (["--start", "2025-03-03T06:30", "--end", "2025-03-04"],
                                ["key 'start'", "whole hour"]),
    "end_before_start": (["--start", "2025-03-04", "--end", "2025-03-03"], ["holds no hours"]),
    "escape_codes": (["--start", "2025-03-03\x1b[2J", "--end", "2025-03-04"], ["key 'start'", "\\x1b[2J"]),
    "outside_the_years": (["--start", "9999-01-01", "--end", "9999-01-02"], ["key 'start'", "9999-01-01"]),
}


@pytest.mark.parametrize("command", ["run", "validate"])
@pytest.mark.parametrize("name", list(TIMES))
def test_bad_start_and_end(name, command, tmp_path, capsys):
    args, needles = TIMES[name]
    out = tmp_path / "out"
    extra = ["--out", out] if command == "run" else []
    code, stdout, err = run(capsys, command, EXAMPLE, *extra, *args)
    assert code == EXIT_INPUT, err
    assert err.startswith("dispatch: bad input:"), err
    assert "\x1b" not in err
    for text in needles:
        assert text in err, f"{text!r} not in {err}"
    assert stdout == "" and not out.exists()


def test_dates_and_local_times_are_read_in_the_scenarios_time_zone(tmp_path, capsys):
    code, out, err = run(capsys, "validate", EXAMPLE, "--start", "2025-03-03", "--end", "2025-03-04T06:00")
    assert code == 0, err
    # Chicago is UTC-6 in early March: local midnight is 06:00Z; 30 hours to 06:00 local next day
    assert "OK: 30 hours from 2025-03-03 06:00:00+00:00" in out
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(capsys, "run", EXAMPLE, "--out", a, "-q", "--start", "2025-03-03", "--end", "2025-03-04")[0] == 0
    assert run(capsys, "run", EXAMPLE, "--out", b, "-q", *DAY)[0] == 0
    assert (a / "dispatch.csv").read_bytes() == (b / "dispatch.csv").read_bytes()
    summary = json.loads((a / "summary.json").read_text())
    assert (summary["start"], summary["end"]) == ("2025-03-03T06:00:00Z", "2025-03-04T06:00:00Z")


# ------------------------------------------------------------------------------------------------
# 4. safe with a scenario from someone else
# ------------------------------------------------------------------------------------------------


def scenario_with_input(tmp_path: Path, path: str) -> Path:
    """A copy of the example whose bitcoin series is read from ``path`` instead."""
    folder = copy_example(tmp_path)
    edit_toml(folder, 'inputs = ["prices.csv", "bitcoin.csv"]', f'inputs = ["prices.csv", {json.dumps(path)}]')
    return folder


@posix
def test_a_fifo_as_input_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "feed.csv"
    os.mkfifo(fifo)
    folder = scenario_with_input(tmp_path, str(fifo))
    out = tmp_path / "out"
    proc = run_process("run", folder, "--out", out, *DAY, timeout=60)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    err = one_line(proc.stderr)
    assert str(fifo) in err and "FIFO" in err and "not a regular file" in err
    assert not out.exists()


@posix
def test_dev_zero_as_input_is_refused_without_reading(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    folder = scenario_with_input(tmp_path, "/dev/zero")
    out = tmp_path / "out"
    proc = run_process("run", folder, "--out", out, *DAY, timeout=60)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    err = one_line(proc.stderr)
    assert "/dev/zero" in err and "character device" in err
    assert not out.exists()


@posix
def test_scenario_toml_linked_to_dev_zero_is_refused(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    folder = tmp_path / "scen"
    folder.mkdir()
    (folder / "scenario.toml").symlink_to("/dev/zero")
    proc = run_process("validate", folder, timeout=60)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    err = one_line(proc.stderr)
    assert "scenario.toml" in err and "character device" in err


@posix
def test_a_fifo_in_the_machine_catalogue_is_refused(tmp_path):
    folder = copy_example(tmp_path)
    cat = tmp_path / "cat"
    shutil.copytree(REPO / "models", cat)
    os.mkfifo(cat / "asic" / "trap.toml")
    edit_toml(folder, 'timezone = "America/Chicago"', f'timezone = "America/Chicago"\ncatalogue = "{cat}"')
    proc = run_process("validate", folder, timeout=60)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    err = one_line(proc.stderr)
    assert "trap.toml" in err and "FIFO" in err


@posix
def test_a_fifo_given_to_import_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "native.csv"
    os.mkfifo(fifo)
    out = tmp_path / "standard.csv"
    proc = run_process("import", "local-time", fifo, "--timezone", "America/Chicago", "--out", out, timeout=60)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    err = one_line(proc.stderr)
    assert str(fifo) in err and "FIFO" in err
    assert not out.exists()


def test_a_folder_as_input_is_refused(tmp_path, capsys):
    (tmp_path / "btc").mkdir()
    folder = scenario_with_input(tmp_path, "../btc")
    out = tmp_path / "out"
    code, _, err = run(capsys, "run", folder, "--out", out, *DAY)
    assert code == EXIT_INPUT
    assert "../btc" in err and "a folder, not a regular file" in err
    assert not out.exists()


def test_an_input_above_the_size_limit_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "run", EXAMPLE, "--out", out, "--max-input-mb", "0.1", *DAY)
    assert code == EXIT_INPUT
    assert "prices.csv: is 0.4 MiB, above the input size limit of 0 MiB" in err and "--max-input-mb" in err
    assert "bitcoin.csv:" not in err  # 20 kB: within the limit
    assert not out.exists()
    code, _, err = run(capsys, "validate", EXAMPLE, "--max-input-mb", "0.1")
    assert code == EXIT_INPUT and "prices.csv" in err
    assert run(capsys, "validate", EXAMPLE, "--max-input-mb", "1")[0] == 0


def test_the_size_limit_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DISPATCH_MAX_INPUT_MB", "0.01")
    code, _, err = run(capsys, "validate", EXAMPLE)
    assert code == EXIT_INPUT and "bitcoin.csv" in err and "DISPATCH_MAX_INPUT_MB" in err
    monkeypatch.setenv("DISPATCH_MAX_INPUT_MB", "plenty")
    code, _, err = run(capsys, "validate", EXAMPLE)
    assert code == EXIT_INPUT and "DISPATCH_MAX_INPUT_MB must be a positive number" in err
    assert run(capsys, "validate", EXAMPLE, "--max-input-mb", "5")[0] == 0  # the flag wins


@pytest.mark.parametrize("value", ["0", "-3", "lots", "nan", "inf"])
def test_a_bad_size_limit_is_refused(value, tmp_path, capsys, no_reading):
    code, _, err = run(capsys, "run", EXAMPLE, "--out", tmp_path / "out", f"--max-input-mb={value}", *DAY)
    assert code == EXIT_INPUT
    assert "--max-input-mb must be a positive number" in err
    assert not (tmp_path / "out").exists()


def test_a_secret_file_named_as_input_is_quoted_only_in_a_short_excerpt(tmp_path, capsys):
    secret = tmp_path / "shadow"
    line = "root:$6$saltsalt$" + "Q" * 80 + ":19000:0:99999:7:::"
    secret.write_text(line + "\ndaemon:*:19000:0:99999:7:::\n")
    folder = scenario_with_input(tmp_path, str(secret))
    code, _, err = run(capsys, "run", folder, "--out", tmp_path / "out", *DAY)
    assert code == EXIT_INPUT
    assert str(secret) in err and "no 'timestamp' column" in err
    assert line not in err and "Q" * 41 not in err and "daemon" not in err
    assert f"'{line[:40]}...' ({len(line)} characters)" in err


def test_escape_codes_in_the_scenario_name_are_printed_escaped(tmp_path, capsys):
    folder = copy_example(tmp_path)
    edit_toml(folder, 'name = "Example hybrid site', 'name = "\\u001b]0;pwned\\u0007\\u001b[31mExample hybrid site')
    code, out, err = run(capsys, "run", folder, "--out", tmp_path / "out", *DAY)
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert out.startswith("\\x1b]0;pwned\\x07\\x1b[31mExample hybrid site")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["scenario"].startswith("\x1b]0;pwned")  # the data keep the name as written


def test_escape_codes_in_an_input_file_name_are_printed_escaped(tmp_path, capsys):
    folder = scenario_with_input(tmp_path, "\x1b[2Jmissing.csv")
    code, _, err = run(capsys, "validate", folder)
    assert code == EXIT_INPUT
    assert "\x1b" not in err and "\\x1b[2Jmissing.csv" in err and "file not found" in err


def test_a_long_value_with_control_characters_is_quoted_short_and_escaped(tmp_path, capsys):
    folder = copy_example(tmp_path)
    path = folder / "bitcoin.csv"
    lines = path.read_text().splitlines()
    n = next(i for i, ln in enumerate(lines) if ln.startswith("2025-03-03T00:00:00Z"))
    fields = lines[n].split(",")
    fields[1] = "\x1b[31m" + "9" * 200
    lines[n] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "run", folder, "--out", tmp_path / "out", *DAY)
    assert code == EXIT_INPUT
    assert f"bitcoin.csv, line {n + 1}, column 'btc_usd'" in err
    assert "\x1b" not in err and "\\x1b[31m" in err and "9" * 41 not in err and "(205 characters)" in err


# ------------------------------------------------------------------------------------------------
# 5. strict JSON and provenance
# ------------------------------------------------------------------------------------------------


def strict_json(text: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} in summary.json")

    return json.loads(text, parse_constant=refuse)


def test_a_summary_with_a_nan_is_refused_naming_the_key(tmp_path):
    sc = optimiser.load_scenario(EXAMPLE, start="2025-03-03", end="2025-03-04")
    res = optimiser.solve(optimiser.build(sc), load_solution=False)
    out = tmp_path / "out"
    for where, value in ((["energy_mwh", "load"], float("nan")), (["solver", "coefficient_ranges", "matrix"],
                                                                   [1.0, np.inf])):
        saved = json.loads(json.dumps(res.summary, default=str))
        d = res.summary
        for k in where[:-1]:
            d = d[k]
        d[where[-1]] = value
        with pytest.raises(DispatchError, match=r"'(energy_mwh\.load|solver\.coefficient_ranges\.matrix\[1\])'"):
            res.write(out)
        assert not out.exists() and temp_leftovers(tmp_path) == []
        res.summary = saved


def test_summary_json_is_strict_and_records_its_provenance(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "run", EXAMPLE, "--out", out, "-q", "-O", "presolve=off", *DAY)
    assert code == 0, err
    summary = strict_json((out / "summary.json").read_text())
    prov = summary["provenance"]
    import hashlib

    for row, name in zip(prov["inputs"], ["prices.csv", "bitcoin.csv"]):
        assert row["file"] == name and row["bytes"] == (EXAMPLE / name).stat().st_size
        assert row["sha256"] == hashlib.sha256((EXAMPLE / name).read_bytes()).hexdigest()
    assert prov["scenario"]["scenario_toml_sha256"] == hashlib.sha256((EXAMPLE / "scenario.toml").read_bytes()).hexdigest()
    assert len(prov["scenario"]["config_sha256"]) == 64 and len(prov["data_sha256"]) == 64
    assert prov["tool"]["name"] == "dispatch-optimiser" and prov["tool"]["version"] == optimiser.__version__
    assert set(prov["packages"]) >= {"pyomo", "highspy", "highs"} and prov["python"].count(".") == 2
    assert prov["solver_options"]["presolve"] == "off" and prov["solver_options"]["solver"] == "simplex"
    assert prov["horizon"] == {"start": "2025-03-03T06:00:00Z", "end": "2025-03-04T06:00:00Z", "hours": 24,
                               "timezone": "America/Chicago"}
    assert prov["command"][:2] == ["dispatch", "run"] and "presolve=off" in prov["command"]


def test_provenance_tells_a_changed_input_from_the_same_one(tmp_path):
    """The same inputs give the same hashes; a changed value changes the data hash."""
    sc = optimiser.load_scenario(EXAMPLE, start="2025-03-03", end="2025-03-04")
    a = optimiser.solve(optimiser.build(sc), load_solution=False).summary["provenance"]
    b = optimiser.solve(optimiser.build(sc), load_solution=False).summary["provenance"]
    c = optimiser.solve(optimiser.build(sc.with_series(btc_usd=lambda d: 1.1 * d["btc_usd"])),
                        load_solution=False).summary["provenance"]
    assert a["inputs"] == b["inputs"] == c["inputs"] and a["data_sha256"] == b["data_sha256"]
    assert c["data_sha256"] != a["data_sha256"] and a["run_id"] != b["run_id"]


def test_every_class_has_a_test():
    """At least 30 classes of bad input handled here (counting parametrised cases)."""
    here = sys.modules[__name__]
    tests = [n for n in dir(here) if n.startswith("test_")]
    classes = len(tests) + len(OPTIONS) + len(TIMES) - 2
    assert classes >= 30
