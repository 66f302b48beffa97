"""``make test-compat``: does the package work across the versions ``pyproject.toml`` admits?

Two kinds of check, each in a throwaway venv under ``.compat/`` (removed and made anew each run):

Pythons
    For each of Python 3.10-3.13 that can be found, ``make venv`` into ``.compat/py3.X``: the
    same install from ``requirements.lock`` that ``make test`` does. Then ``dispatch run
    scenarios/example -q`` solves the default year and the test suite runs; it passes if the
    solve exits 0, prints nothing on stdout and finds the objective the other Pythons find (to
    1e-6, relative), and the tests pass.
Pyomo x highspy
    In the venv of the Python running this script, Pyomo and highspy are replaced (``pip install
    --upgrade``, which moves other packages only where these need it; then ``pip check``): for
    each minor of Pyomo the bounds admit, its first release with the oldest highspy admitted and
    its last release with the newest. The test suite runs on each.

``--quick`` leaves out the tests marked slow.

The bounds are read from ``pyproject.toml`` (``pyomo>=A.B,<C.D``, ``highspy>=E.F,<G.H``), so the
combinations follow them. A Python is looked for as ``--python 3.X=PATH``, then ``python3.X`` on
the PATH, then the newest ``~/.pyenv/versions/3.X.*``; one not found is reported, not failed.
Prints a table at the end; exits 1 if any check failed.

Run: ``python tools/compat.py [--quick] [--only pythons|combos] [--python 3.X=PATH ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI, a dependency there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".compat"
LOGS = WORK / "logs"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
#: Seconds one install or one test run may take before it counts as failed.
TIMEOUT_S = 1800
#: Relative difference in objective between Pythons taken as the same answer. [-]
OBJECTIVE_RTOL = 1e-6


@dataclass
class Check:
    """One row of the table."""

    name: str
    installed: str = ""
    ok: bool | None = None
    """True passed, False failed, None not run (the Python was not found)."""
    detail: str = ""
    seconds: float = 0.0
    objective: float | None = None
    """Of the default year, for the Python checks. [USD]"""


def log(message: str) -> None:
    print(f"[compat] {message}", flush=True)


def run(cmd: list[str], out: Path, err: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``cmd`` from the repository root, its stdout to the file ``out`` and its stderr to
    ``err`` (to ``out`` too if not given)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as handle, (err.open("w") if err else contextlib.nullcontext(subprocess.STDOUT)) as to:
        try:
            return subprocess.run(cmd, cwd=ROOT, stdout=handle, stderr=to, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            handle.write(f"\n[compat] timed out after {TIMEOUT_S} s\n")
            return subprocess.CompletedProcess(cmd, 124)


def tail(path: Path, lines: int = 1) -> str:
    """The last non-empty lines of a log (without pip's notes on this machine's file indexes)."""
    text = [ln for ln in path.read_text(errors="replace").splitlines()
            if ln.strip() and not ln.startswith("WARNING: Location")]
    return " | ".join(text[-lines:])


# ------------------------------------------------------------------------------------------------
# what to test
# ------------------------------------------------------------------------------------------------


def bounds(package: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The ``>=A.B`` and ``<C.D`` of ``package`` in pyproject.toml's dependencies."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if re.match(rf"{package}\s*[<>=!~]", d, re.I))
    lo = re.search(r">=\s*(\d+)\.(\d+)", spec)
    hi = re.search(r"<\s*(\d+)\.(\d+)", spec)
    if not (lo and hi):
        raise SystemExit(f"pyproject.toml: {spec!r} needs a '>=A.B' and a '<C.D' bound for test-compat")
    return (int(lo[1]), int(lo[2])), (int(hi[1]), int(hi[2]))


def minors(lo: tuple[int, int], hi: tuple[int, int]) -> list[str]:
    """The minors from ``lo`` up to, not including, ``hi`` (within one major)."""
    if lo[0] != hi[0]:
        raise SystemExit(f"test-compat handles bounds within one major, not {lo} .. {hi}")
    return [f"{lo[0]}.{m}" for m in range(lo[1], hi[1])]


def lowest(package: str) -> str:
    """The lowest version the ``>=`` bound of ``package`` admits: ``A.B.C`` as written, else ``A.B.0``."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if re.match(rf"{package}\s*[<>=!~]", d, re.I))
    lo = re.search(r">=\s*(\d+)\.(\d+)(?:\.(\d+))?", spec)
    return f"{lo[1]}.{lo[2]}.{lo[3] or 0}"


def combos() -> list[tuple[str, str]]:
    """(pyomo, highspy) pip specifiers: per Pyomo minor, its first release with the oldest
    highspy the bound admits, and its newest release with the newest highspy."""
    pyomo = minors(*bounds("pyomo"))
    highspy = minors(*bounds("highspy"))
    oldest, newest = lowest("highspy"), f"{highspy[-1]}.*"
    out = []
    for minor in pyomo:
        out += [(f"{minor}.0", oldest), (f"{minor}.*", newest)]
    return out


def find_python(version: str, given: dict[str, str]) -> str | None:
    """A Python ``version`` (``"3.12"``) that runs, or None."""
    home = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(home.glob(f"{version}.*/bin/python"),
                   key=lambda p: [int(x) if x.isdigit() else -1 for x in p.parts[-3].split(".")])
    candidates = [given.get(version), shutil.which(f"python{version}"), *map(str, reversed(found))]
    for cand in filter(None, candidates):
        try:
            got = subprocess.run([cand, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=60)
        except OSError:
            continue
        if got.returncode == 0 and got.stdout.strip() == version:
            return cand
    return None


# ------------------------------------------------------------------------------------------------
# the checks
# ------------------------------------------------------------------------------------------------


def versions(venv: Path) -> str:
    code = ("import sys, importlib.metadata as m; print('python %d.%d.%d' % sys.version_info[:3], "
            "'pyomo', m.version('pyomo'), 'highspy', m.version('highspy'))")
    got = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    return got.stdout.strip() if got.returncode == 0 else "?"


def make_venv(venv: Path, python: str) -> tuple[subprocess.CompletedProcess, Path]:
    """``make venv`` into ``venv`` with ``python`` (the install ``make test`` does), and its log."""
    out = LOGS / f"{venv.name}.install.log"
    cmd = ["make", "--no-print-directory", "venv", f"VENV={venv.relative_to(ROOT)}", f"PYTHON={python}"]
    return run(cmd, out), out


def run_suite(venv: Path, tag: str, quick: bool) -> tuple[bool, str]:
    """Run the test suite in ``venv``: passed or not, and the counts (and the first failure)."""
    junit, out = LOGS / f"{tag}.junit.xml", LOGS / f"{tag}.pytest.log"
    cmd = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    ok = run([*cmd, *(["-m", "not slow"] if quick else [])], out).returncode == 0
    if not junit.is_file():  # pytest stopped before collecting (a broken conftest import, say)
        return False, f"pytest: {tail(out, 2)}"
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    n = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
    detail = f"{passed} passed, {n['failures']} failed, {n['errors']} errors, {n['skipped']} skipped"
    return ok, detail if ok else f"{detail}; first: {first_failure(junit) or tail(out)}"


def check_python(version: str, python: str | None, quick: bool) -> tuple[Check, Path | None]:
    """Install from the lock with Python ``version``, solve the default year quietly, run the tests."""
    check = Check(f"python {version}: lock, year, tests")
    if python is None:
        check.detail = "not found (give --python 3.X=PATH)"
        return check, None
    t0 = time.perf_counter()
    venv = WORK / f"py{version}"
    log(f"python {version} ({python}): installing from the lock into {venv.relative_to(ROOT)}")
    made, install_log = make_venv(venv, python)
    if made.returncode != 0:
        check.ok, check.detail = False, f"install failed: {tail(install_log)}"
        check.seconds = time.perf_counter() - t0
        return check, None
    check.installed = versions(venv)
    out, stdout, stderr = venv / "out", LOGS / f"{venv.name}.run.out", LOGS / f"{venv.name}.run.err"
    solved = run([str(venv / "bin" / "dispatch"), "run", "scenarios/example", "--out", str(out), "-q"], stdout, stderr)
    check.seconds = time.perf_counter() - t0
    if solved.returncode != 0:
        check.ok, check.detail = False, f"dispatch run exit {solved.returncode}: {tail(stderr)}"
        return check, venv
    check.objective = json.loads((out / "summary.json").read_text())["objective_usd"]
    solve = f"objective {check.objective:,.2f} USD"
    if stdout.stat().st_size:
        check.ok, check.detail = False, f"{solve}; but -q printed: {tail(stdout)}"
        return check, venv
    log(f"python {version}: the test suite")
    check.ok, suite = run_suite(venv, venv.name, quick)
    check.seconds = time.perf_counter() - t0
    check.detail = f"{solve}; {suite}"
    return check, venv


def first_failure(junit: Path) -> str:
    """``test id: message`` of the first failed or erroring test in a JUnit XML report."""
    for case in ET.parse(junit).getroot().iter("testcase"):
        for kind in ("failure", "error"):
            bad = case.find(kind)
            if bad is not None:
                message = (bad.get("message") or bad.text or "").strip().splitlines()
                where = f"{case.get('classname', '')}::{case.get('name', '')}"
                return f"{where}: {message[0][:160] if message else kind}"
    return ""


def check_combo(venv: Path, pyomo: str, highspy: str, quick: bool) -> Check:
    check = Check(f"pyomo {pyomo} + highspy {highspy}: tests")
    t0 = time.perf_counter()
    tag = f"pyomo{pyomo}-highspy{highspy}".replace("*", "x")
    log(f"{check.name}")
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    step_log = LOGS / f"{tag}.install.log"
    # --upgrade so that 6.8.* moves to the last 6.8; dependencies move only where these need it
    # (Pyomo before 6.10 needs ply, for one), so the rest stays as locked
    swapped = run([*pip, "install", "--quiet", "--upgrade", f"pyomo=={pyomo}", f"highspy=={highspy}"], step_log)
    if swapped.returncode == 0:
        step_log = LOGS / f"{tag}.check.log"
        swapped = run([*pip, "check"], step_log)
    check.installed = versions(venv)
    if swapped.returncode != 0:
        check.ok, check.detail = False, f"install failed: {tail(step_log)}"
        check.seconds = time.perf_counter() - t0
        return check
    check.ok, check.detail = run_suite(venv, tag, quick)
    check.seconds = time.perf_counter() - t0
    return check


# ------------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------------


def table(checks: list[Check]) -> str:
    head = ("check", "installed", "result", "s", "detail")
    rows = [(c.name, c.installed, {True: "passed", False: "FAILED", None: "skipped"}[c.ok],
             f"{c.seconds:.0f}", c.detail) for c in checks]
    width = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r[:4], width)) + "  " + r[4] for r in [head, *rows]]
    lines.insert(1, "-" * min(max(map(len, lines)), 160))
    done = [c for c in checks if c.ok is not None]
    lines.append(f"{sum(c.ok for c in done)} of {len(done)} checks passed"
                 + (f", {len(checks) - len(done)} skipped" if len(done) < len(checks) else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="leave out the tests marked slow")
    p.add_argument("--only", choices=("pythons", "combos"), help="run one kind of check only")
    p.add_argument("--python", action="append", default=[], metavar="3.X=PATH", help="where Python 3.X is")
    args = p.parse_args(argv)
    given = dict(s.split("=", 1) for s in args.python)
    shutil.rmtree(WORK, ignore_errors=True)
    LOGS.mkdir(parents=True)
    here = "%d.%d" % sys.version_info[:2]
    checks: list[Check] = []
    venvs: dict[str, Path] = {}
    if args.only != "combos":
        for version in PYTHONS:
            check, venv = check_python(version, find_python(version, given), args.quick)
            checks.append(check)
            if venv is not None:
                venvs[version] = venv
        first = next((c for c in checks if c.objective is not None), None)
        for c in checks:
            if c.objective is not None and abs(c.objective - first.objective) > OBJECTIVE_RTOL * abs(first.objective):
                c.ok, c.detail = False, c.detail + f"; differs from {first.name.split(':')[0]}'s"
    if args.only != "pythons":
        venv = venvs.get(here)
        if venv is None:  # this Python's venv was not made above
            venv = WORK / f"py{here}"
            log(f"python {here}: installing from the lock into {venv.relative_to(ROOT)} for the combinations")
            made, install_log = make_venv(venv, sys.executable)
            if made.returncode != 0:
                log(f"install failed: {tail(install_log)}")
                return 1
        log(f"combinations in {venv.relative_to(ROOT)} (Python {here}); logs in {LOGS.relative_to(ROOT)}")
        for pyomo, highspy in combos():
            checks.append(check_combo(venv, pyomo, highspy, args.quick))
    print()
    print(table(checks))
    return 0 if all(c.ok is not False for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
