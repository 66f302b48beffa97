"""``make bench``: how long ``dispatch run`` takes, step by step, against the yardstick.

Modes (combinable; none given = ``--main --edits --scale --warm --sweep --rolling --invest``, what
``make bench`` runs, about seventeen minutes):

``--main``
    The default year (``scenarios/example``) and a five-year horizon (the year's inputs tiled)
    as whole processes (``dispatch run`` vs ``benchmarks/yardstick.py``: wall time, median of
    ``--repeat`` runs, alternating, and the peak resident memory of the child) and in-process,
    split into import, read, build, hand-over (compile + ``passModel``), solve, results
    (assembling :class:`optimiser.Results`) and write. Prints the ratio ours / yardstick.
    Targets: each horizon within 1.5x of the yardstick as a whole process; the year's peak memory
    at most 250 MB.
``--scale``
    Time and memory per step from one week to one, two and five years, and with 1 to 20 ASIC
    fleets on the year; per-hour cost of each step and its growth against linear (target: every
    step but the solve within 1.3x of linear). The yardstick solves each case once, for its
    objective.
``--edits``
    The year edited after ``optimiser.build`` as users do (:data:`EDITS`): the README's edit (a
    cap on every hour and a heat revenue; target: build + edit + hand-over + solve within 2x of the
    unedited year's) and one row of a family read or rewritten (``balance``, ``gpu.sla``; target:
    hand-over within 1.5x of the unedited hand-over). In-process, fresh processes taking turns.
``--solvers``
    HiGHS dual and primal simplex, interior point with and without crossover, PDLP (and
    HiPDLP) on the year and the five years: solve time, iterations, status, objective and
    duals against dual simplex. Each solve runs in a fresh process (HiGHS fixes its threads at
    the first solve of a process).
``--sweep``
    100 one-year variants of the default scenario through ``dispatch sweep`` (a 10 x 10 grid of
    Bitcoin- and energy-price multipliers): local engine warm and cold, Dask with two local
    workers; wall and CPU time, scenario-years a minute, warm speed-up per case
    (``benchmarks/sweep_bench.py``; targets 12 s and 3x).
``--whatif``
    The year as a whole process as it is and with small changes to files outside the speed task
    (:data:`WHATIF`), applied to a copy of the package in a temporary folder.
``--warm``
    Re-solves of the year with :class:`optimiser.WarmSolver` against cold solves, in one fresh
    process: 20 seeded variants each of the BTC price, the energy price and both (multipliers
    U(0.8, 1.2)), the BTC variants also as a sorted sweep; median re-solve time (build + compile +
    update or pass + solve, and with the results made), speed-up and iterations; every objective
    asserted equal to the cold one (relative 1e-7). Then a 48-hour window cut from the example
    built, solved and its results made (median of 30), cold and warm over consecutive windows.

``--rolling``
    A rolling-horizon year (``dispatch run --policy rolling``: 365 daily plans with a 48-hour
    look-ahead on the naive forecast, then the settlement) against the perfect-foresight year,
    in-process in fresh processes taking turns (read, then planning and settlement, or build,
    solve and results) and as whole ``dispatch run`` processes; with the real data, also the
    ERCOT 2024 year (:func:`optimiser.realdata.ercot_scenario`). Target: the rolling year
    within 3x the perfect-foresight year, in-process and as a whole process.

``--invest``
    The capacity problem under uncertainty: five years x three futures by Benders decomposition
    (target: at most 60 s as a whole process on two cores) and by the extensive form (dual
    simplex, interior point; stopped at 60 s), and one year x three futures by each, answers
    compared (``benchmarks/invest_bench.py``).

Every measurement runs in a fresh child process; nothing is timed inside this one. Figures go
to stdout as tables and, with ``--json FILE``, as JSON. See docs/performance.md.

Every objective the timed cases find (each run's) is checked against the yardstick's on the same
case within a relative :data:`OBJECTIVE_RTOL`; if any differs, the run ends with a list of them
and exit status 1: the two sides solved different LPs and the times do not compare. Targets print
``PASS`` or ``FAIL`` after their table and again in a summary at the end; a missed target does not
change the exit status.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI, a dependency there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"
YARDSTICK = ROOT / "benchmarks" / "yardstick.py"
HOUR_NS = 3_600_000_000_000

#: HiGHS configurations compared by ``--solvers`` (name -> options). ``simplex_strategy``, as
#: HiGHS's option file names it: 1 dual (serial), 2 dual SIP, 3 dual PAMI, 4 primal.
SOLVERS: dict[str, dict[str, Any]] = {
    "dual simplex, presolve off (default)": {"solver": "simplex", "simplex_strategy": 1, "presolve": "off"},
    "dual simplex, presolve on": {"solver": "simplex", "simplex_strategy": 1, "presolve": "on"},
    "dual simplex SIP": {"solver": "simplex", "simplex_strategy": 2, "presolve": "off"},
    "dual simplex PAMI": {"solver": "simplex", "simplex_strategy": 3, "presolve": "off"},
    "primal simplex": {"solver": "simplex", "simplex_strategy": 4, "presolve": "off"},
    "IPM + crossover": {"solver": "ipm", "run_crossover": "on", "presolve": "on"},
    "IPM, no crossover": {"solver": "ipm", "run_crossover": "off", "presolve": "on"},
    "PDLP": {"solver": "pdlp", "presolve": "on"},
    "HiPDLP": {"solver": "hipdlp", "presolve": "on"},
}


# ---------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def write_toml(cfg: dict, path: Path) -> None:
    """Write a scenario configuration (scalars, tables, arrays of tables) as TOML."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in cfg.items() if not isinstance(v, (dict, list)) or
             (isinstance(v, list) and not (v and isinstance(v[0], dict)))]
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                lines += ["", f"[[{k}]]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in item.items()]
    path.write_text("\n".join(lines) + "\n")


def tiled_scenario(src: Path, dst: Path, years: int) -> Path:
    """Copy a one-year scenario with every input CSV repeated ``years`` times, each copy shifted
    by the source horizon's length (8,760 h for 2025), and the horizon stretched to match."""
    import pandas as pd

    cfg = tomllib.loads((src / "scenario.toml").read_text())
    start, end = pd.Timestamp(cfg["start"]), pd.Timestamp(cfg["end"])
    period = end - start
    dst.mkdir(parents=True, exist_ok=True)
    for name in cfg["inputs"]:
        raw = pd.read_csv(src / name, dtype={"timestamp": str})
        ts = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
        tiles = []
        for k in range(years):
            tile = raw.copy()
            tile["timestamp"] = (ts + k * period).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            tiles.append(tile)
        out = pd.concat(tiles).drop_duplicates("timestamp", keep="last").sort_values("timestamp")
        out.to_csv(dst / name, index=False, lineterminator="\n")
    cfg["end"] = (start + years * period).isoformat()
    cfg["name"] = f"{cfg.get('name', 'scenario')} (tiled x{years})"
    write_toml(cfg, dst / "scenario.toml")
    return dst


def fleet_scenario(src: Path, dst: Path, fleets: int) -> Path:
    """The scenario with its ASIC capacity split over ``fleets`` fleets of catalogue machines."""
    cfg = tomllib.loads((src / "scenario.toml").read_text())
    models = sorted(p.stem for p in (ROOT / "models" / "asic").glob("*.toml"))
    total = sum(f["capacity_mw"] for f in cfg["asic"])
    cfg["asic"] = [{"name": f"fleet{i:02d}", "model": models[i % len(models)], "capacity_mw": total / fleets,
                    "pool_fee": 0.02, "om_usd_per_mwh": 2.0 + 0.1 * i, "pue": 1.05}
                   for i in range(fleets)]
    dst.mkdir(parents=True, exist_ok=True)
    for name in cfg["inputs"]:
        shutil.copy(src / name, dst / name)
    cfg["catalogue"] = str(ROOT / "models")
    write_toml(cfg, dst / "scenario.toml")
    return dst


# ---------------------------------------------------------------------------------------------
# child processes
# ---------------------------------------------------------------------------------------------


def _run_child(cmd: list[str], timeout: float | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; wall time [s], peak resident memory [MB] and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            raise
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0, text


def _dispatch_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "dispatch"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "optimiser"]


def child_ours(folder: str, out: str, start: str | None, end: str | None, options: dict) -> dict:
    """In a fresh process: import, read, build, hand-over, solve, results, write. [s]"""
    t0 = time.perf_counter()
    import optimiser

    t1 = time.perf_counter()
    sc = optimiser.load_scenario(folder, start=start, end=end)
    t2 = time.perf_counter()
    m = optimiser.build(sc)
    t3 = time.perf_counter()
    res = optimiser.solve(m, options=options or None, load_solution=False)
    t4 = time.perf_counter()
    res.write(out)
    t5 = time.perf_counter()
    s = res.summary["solver"]
    return {"import_s": t1 - t0, "read_s": t2 - t1, "build_s": t3 - t2, "handover_s": s["handover_s"],
            "solve_s": s["solve_s"], "results_s": (t4 - t3) - s["handover_s"] - s["solve_s"], "write_s": t5 - t4,
            "objective_usd": res.objective_usd, "rows": s["rows"], "columns": s["columns"],
            "nonzeros": s["nonzeros"], "hours": res.summary["hours"], "iterations": s["iterations"]}


def child_yardstick(folder: str, out: str, start: str | None, end: str | None, options: dict,
                    case: str = "unedited") -> dict:
    """In a fresh process: the yardstick's steps [s]; ``case`` as in :data:`EDITS` (its LP's arrays
    edited by :data:`YARDSTICK_EDITS`, if it changes the optimum)."""
    t0 = time.perf_counter()
    sys.path.insert(0, str(YARDSTICK.parent))
    import yardstick

    t1 = time.perf_counter()
    res = yardstick.run(folder, out, start, end, options or None, edit=YARDSTICK_EDITS.get(case))
    res["import_s"] = t1 - t0
    res["results_s"] = 0.0
    return res


#: The s21 fleet's cap and heat revenue of the README's "From Python" edit. [MW], [$/MWh]
README_CAP_MW = 120.0
README_HEAT_USD_PER_MWH = 3.0

#: The hour whose ``balance`` row the touched-row cases read or rewrite (as in the issue).
TOUCHED_HOUR = 100


def readme_edit(m: Any) -> None:
    """The README's "From Python" edit, line for line: the s21 fleet capped at
    :data:`README_CAP_MW` every hour (a user constraint), and a heat revenue of
    :data:`README_HEAT_USD_PER_MWH` per MWh it draws (``optimiser.add_revenue``)."""
    import pyomo.environ as pyo

    import optimiser

    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power["s21", t] <= README_CAP_MW)
    optimiser.add_revenue(m, "heat", {t: README_HEAT_USD_PER_MWH * m.asic.power["s21", t] for t in m.T})


def readme_edit_arrays(lp: dict) -> None:
    """:func:`readme_edit` on the yardstick's arrays (``yardstick.build``): the cap as the s21
    columns' upper bound, the heat revenue on their cost. Another LP with the same optimum."""
    import numpy as np

    col = dict(lp["out"]["asic"])["s21"]
    hours = slice(col, col + lp["n"])
    lp["col_hi"][hours] = np.minimum(lp["col_hi"][hours], README_CAP_MW)
    lp["c"][hours] += README_HEAT_USD_PER_MWH
    lp["c_parts"][col] = lp["c_parts"][col] + README_HEAT_USD_PER_MWH


def read_balance_row(m: Any) -> None:
    """Read one balance row as text, as printing it in a notebook does: its expression is made,
    nothing is changed."""
    str(m.balance[TOUCHED_HOUR].expr)


def rewrite_balance_row(m: Any) -> None:
    """Set one balance row to its own expression (``set_value``): the LP stays the same."""
    row = m.balance[TOUCHED_HOUR]
    row.set_value(row.body == row.upper)


def rewrite_sla_row(m: Any) -> None:
    """Set the first GPU SLA row to its own expression (``set_value``): the LP stays the same."""
    row = m.gpu.sla[next(iter(m.gpu.sla))]
    row.set_value(row.body >= row.lower)


#: The cases ``--edits`` times on the default year: name -> what is done to the built model.
EDITS: dict[str, tuple[Callable[[Any], None], ...]] = {
    "unedited": (),
    "README edit": (readme_edit,),
    f"read balance[{TOUCHED_HOUR}]": (read_balance_row,),
    f"rewrite balance[{TOUCHED_HOUR}]": (rewrite_balance_row,),
    "rewrite a gpu.sla row": (rewrite_sla_row,),
    f"rewrite balance[{TOUCHED_HOUR}] and a gpu.sla row": (rewrite_balance_row, rewrite_sla_row),
}

#: The touched-row cases of :data:`EDITS`: their LP is the unedited one.
TOUCHED = [k for k in EDITS if k not in ("unedited", "README edit")]

#: What the yardstick does to its arrays for the cases of :data:`EDITS` that change the optimum.
YARDSTICK_EDITS: dict[str, Callable[[dict], None]] = {"README edit": readme_edit_arrays}


def child_edit(folder: str, case: str, options: dict) -> dict:
    """In a fresh process: read, build, the edits of ``EDITS[case]``, solve. [s]

    The solve is ``optimiser.solve(m, load_solution=False)``, as for the unedited year elsewhere;
    hand-over and solve are the solver's split (``summary["solver"]``), results the rest of it.
    """
    import pyomo.environ  # noqa: F401  (the README's import; not timed)

    import optimiser

    sc = optimiser.load_scenario(folder)
    t0 = time.perf_counter()
    m = optimiser.build(sc)
    t1 = time.perf_counter()
    for edit in EDITS[case]:
        edit(m)
    t2 = time.perf_counter()
    res = optimiser.solve(m, options=options or None, load_solution=False)
    t3 = time.perf_counter()
    s = res.summary["solver"]
    return {"build_s": t1 - t0, "edit_s": t2 - t1, "handover_s": s["handover_s"], "solve_s": s["solve_s"],
            "results_s": (t3 - t2) - s["handover_s"] - s["solve_s"], "objective_usd": res.objective_usd,
            "rows": s["rows"], "iterations": s["iterations"]}


def child_solver(folder: str, start: str | None, end: str | None, options: dict, time_limit: float) -> dict:
    """Compile the model once, then solve it with ``options``; report what HiGHS did."""
    import numpy as np

    import optimiser
    from optimiser.errors import DispatchError
    from optimiser.lp import compile_lp
    from optimiser.solve import solve_lp

    sc = optimiser.load_scenario(folder, start=start, end=end)
    m = optimiser.build(sc)
    lp = compile_lp(m)
    row = next(s for blk, s in lp.blocks if blk.name == "balance")
    try:
        sol = solve_lp(lp, options=options, time_limit=time_limit, allow_nonoptimal=True)
    except DispatchError as err:
        return {"status": f"failed: {str(err)[:80]}"}
    info = sol.info
    return {"solve_s": info.solve_s, "iterations": info.iterations, "status": info.termination,
            "objective_usd": sol.objective, "duals_valid": bool(np.isfinite(sol.duals).all()),
            "marginal": sol.duals[row : row + sc.hours].tolist()}


#: Variants per sequence and their seed for ``--warm``.
WARM_VARIANTS, WARM_SEED = 20, 2025

#: The 48-hour windows of ``--warm``: the first starts here; the next ones a day apart.
WINDOW_START, WINDOW_HOURS, WINDOWS = "2025-07-14T00:00:00-05:00", 48, 30


def _resolve_times(res: Any, wall: float, cpu: float) -> dict:
    s = res.summary["solver"]
    build = s["build_s"] or 0.0
    return {"wall_s": wall, "cpu_s": cpu, "build_s": build, "handover_s": s["handover_s"], "solve_s": s["solve_s"],
            "results_s": wall - build - s["handover_s"] - s["solve_s"],
            "resolve_s": build + s["handover_s"] + s["solve_s"], "iterations": s["iterations"],
            "objective_usd": res.objective_usd}


def child_warm(folder: str) -> dict:
    """In one fresh process: warm and cold re-solves of seeded variants of the year, and 48-hour
    windows. Asserts every warm objective equals the cold one (relative 1e-7)."""
    import numpy as np
    import pandas as pd

    import optimiser

    sc = optimiser.load_scenario(folder)
    rng = np.random.default_rng(WARM_SEED)
    kb = rng.uniform(0.8, 1.2, WARM_VARIANTS)
    ke = rng.uniform(0.8, 1.2, WARM_VARIANTS)
    contract = rng.uniform(150.0, 300.0, WARM_VARIANTS)
    ramp = rng.uniform(20.0, 250.0, WARM_VARIANTS)

    def prices(b: float, e: float) -> "optimiser.Scenario":
        return sc.with_series(btc_usd=lambda d: b * d["btc_usd"], price_usd_per_mwh=lambda d: e * d["price_usd_per_mwh"])

    sequences: dict[str, list] = {
        "BTC price": [lambda b=b: prices(b, 1.0) for b in kb],
        "energy price": [lambda e=e: prices(1.0, e) for e in ke],
        "both": [lambda b=b, e=e: prices(b, e) for b, e in zip(kb, ke)],
        "BTC price, sorted sweep": [lambda b=b: prices(b, 1.0) for b in np.sort(kb)],
        "energy price, sorted sweep": [lambda e=e: prices(1.0, e) for e in np.sort(ke)],
        "GPU contract price": [lambda v=v: sc.replace(**{"gpu.tenant-a.contract_usd_per_mw_per_h": float(v)})
                               for v in contract],
        "ramp limit": [lambda v=v: sc.replace(**{"site.ramp_mw_per_h": float(v)}) for v in ramp],
    }
    report: dict[str, Any] = {}
    for name, makers in sequences.items():
        ws = optimiser.WarmSolver(check_cold_every=0)  # every variant is solved cold below anyway
        ws.solve(optimiser.build(sc), load_solution=False)
        rows = []
        for i, make in enumerate(makers):
            t0 = time.perf_counter()
            v = make()
            rec: dict[str, Any] = {"variant_s": time.perf_counter() - t0}
            answers = {}
            for side in (("warm", "cold") if i % 2 == 0 else ("cold", "warm")):
                t0, c0 = time.perf_counter(), time.process_time()
                m = optimiser.build(v)
                res = ws.solve(m, load_solution=False) if side == "warm" else optimiser.solve(m, load_solution=False)
                rec[side] = _resolve_times(res, time.perf_counter() - t0, time.process_time() - c0)
                answers[side] = (res.dispatch.filter(regex="_mw$").to_numpy(),
                                 res.dispatch["marginal_value_usd_per_mwh"].to_numpy())
                if side == "warm":
                    assert res.summary["solver"]["warm"]["warm"], res.summary["solver"]["warm"]
            w, c = rec["warm"]["objective_usd"], rec["cold"]["objective_usd"]
            rec["rel_diff"] = abs(w - c) / max(1.0, abs(w), abs(c))
            assert rec["rel_diff"] <= 1e-7, (name, i, w, c)
            # the same optimum, but not always the same vertex: where the optimum is not unique
            # (dispatch) or sits on a kink (marginal value), warm and cold may answer differently
            dmw = np.abs(answers["warm"][0] - answers["cold"][0])
            dlam = np.abs(answers["warm"][1] - answers["cold"][1])
            rec["dispatch_max_diff_mw"] = float(dmw.max())
            rec["marginal_max_diff"] = float(dlam.max())
            rec["marginal_hours_differing"] = int((dlam > 1e-6).sum())
            rows.append(rec)
        report[name] = rows

    start = pd.Timestamp(WINDOW_START)
    windows = [optimiser.load_scenario(folder, start=(start + pd.Timedelta(days=k)).isoformat(),
                                       end=(start + pd.Timedelta(days=k, hours=WINDOW_HOURS)).isoformat())
               for k in range(WINDOWS)]
    one = []
    for _ in range(WINDOWS):  # the same window again and again: build + solve + results
        t0, c0 = time.perf_counter(), time.process_time()
        res = optimiser.solve(optimiser.build(windows[0]), load_solution=False)
        one.append(_resolve_times(res, time.perf_counter() - t0, time.process_time() - c0))
    rolling: dict[str, list] = {"cold": [], "warm": []}
    ws = optimiser.WarmSolver()
    for w in windows:  # consecutive windows a day apart (each checked against cold below)
        for side in ("cold", "warm"):
            t0, c0 = time.perf_counter(), time.process_time()
            m = optimiser.build(w)
            res = ws.solve(m, load_solution=False) if side == "warm" else optimiser.solve(m, load_solution=False)
            rec = _resolve_times(res, time.perf_counter() - t0, time.process_time() - c0)
            if side == "warm":
                rec["warm"] = res.summary["solver"]["warm"]["warm"]
            rolling[side].append(rec)
    for c, w in zip(rolling["cold"], rolling["warm"]):
        assert abs(c["objective_usd"] - w["objective_usd"]) <= 1e-7 * max(1.0, abs(c["objective_usd"]))
    report["window"] = {"hours": windows[0].hours, "same": one, "rolling": rolling}
    return report


ROLLING_WINDOW_H, ROLLING_KEEP_H = 48, 24


def child_rolling(folder: str, first: str) -> dict:
    """In one fresh process: the perfect-foresight year and the rolling-horizon year, ``first``
    first. ``folder`` is a scenario folder, or ``ercot-2024`` for the real-data year."""
    import optimiser
    from optimiser.policies import PolicyOptions
    from optimiser.rolling import run_rolling

    def scenario() -> "optimiser.Scenario":
        if folder == "ercot-2024":
            from optimiser.realdata import ercot_scenario

            return ercot_scenario(year=2024)
        return optimiser.load_scenario(folder)

    out: dict[str, Any] = {}
    order = ["perfect", "rolling"] if first == "perfect" else ["rolling", "perfect"]
    for side in order:
        t0, c0 = time.perf_counter(), time.process_time()
        sc = scenario()
        t1 = time.perf_counter()
        if side == "perfect":
            res = optimiser.solve(optimiser.build(sc), load_solution=False)
            extra = {"build_s": res.summary["solver"]["build_s"], "solve_s": res.summary["solver"]["solve_s"],
                     "iterations": res.summary["solver"]["iterations"]}
        else:
            res = run_rolling(sc, PolicyOptions(window_h=ROLLING_WINDOW_H, keep_h=ROLLING_KEEP_H))
            p = res.summary["policy"]
            extra = {"plans_s": p["timing_s"]["plans"], "settlement_s": p["timing_s"]["settlement"],
                     "windows": p["windows"], "warm": p["plans"]["warm"], "cold": p["plans"]["cold"]}
        out[side] = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "read_s": t1 - t0,
                     "objective_usd": res.objective_usd, "hours": sc.hours, **extra}
    return out


def rolling_table(work: Path, repeat: int, verdicts: Verdicts, data: bool) -> dict:
    """``--rolling``: the rolling-horizon year against the perfect-foresight year (medians)."""
    med = statistics.median
    report: dict[str, Any] = {}
    cases = [("example year", str(EXAMPLE))] + ([("ERCOT 2024 (real data)", "ercot-2024")] if data else [])
    print(f"\n== rolling horizon: {ROLLING_WINDOW_H}-hour plans keeping {ROLLING_KEEP_H} h, naive forecast, then "
          f"the settlement; against the perfect-foresight year; medians of {repeat} fresh processes each ==",
          flush=True)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for label, folder in cases:
        runs = []
        for i in range(repeat):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "rolling", folder, "--out",
                   str(work / "unused"), "--case", "perfect" if i % 2 == 0 else "rolling"]
            _, _, text = _run_child(cmd)
            runs.append(json.loads(text.strip().splitlines()[-1]))
        pf = {k: med(r["perfect"][k] for r in runs) for k in ("wall_s", "cpu_s", "read_s", "build_s", "solve_s")}
        rh = {k: med(r["rolling"][k] for r in runs) for k in ("wall_s", "cpu_s", "read_s", "plans_s", "settlement_s")}
        r0 = runs[0]["rolling"]
        rows = [["perfect foresight (one solve)", pf["read_s"], pf["wall_s"] - pf["read_s"], pf["wall_s"], pf["cpu_s"],
                 runs[0]["perfect"]["objective_usd"] / 1e6],
                ["rolling horizon (plans + settlement)", rh["read_s"], rh["wall_s"] - rh["read_s"], rh["wall_s"],
                 rh["cpu_s"], r0["objective_usd"] / 1e6],
                ["ratio rolling / perfect", rh["read_s"] / pf["read_s"], (rh["wall_s"] - rh["read_s"])
                 / (pf["wall_s"] - pf["read_s"]), rh["wall_s"] / pf["wall_s"], rh["cpu_s"] / pf["cpu_s"], ""]]
        print(f"\n{label}: {r0['hours']} h; rolling: {r0['windows']} plans ({r0['warm']} warm, {r0['cold']} cold), "
              f"planning {rh['plans_s']:.2f} s ({1000 * rh['plans_s'] / r0['windows']:.1f} ms a plan), settlement "
              f"{rh['settlement_s']:.2f} s")
        print(_fmt_table(["", "read", "after reading", "in-process", "CPU time", "objective M$"], rows))
        verdicts.target(f"{label}: rolling-horizon year / perfect-foresight year, in-process",
                        rh["wall_s"] / pf["wall_s"], 3.0)
        report[label] = {"runs": runs, "perfect": pf, "rolling": rh}
    out = work / "rolling-whole"
    whole = _alternating({
        "perfect": _dispatch_cmd() + ["run", str(EXAMPLE), "--out", str(out / "pf"), "-q"],
        "rolling": _dispatch_cmd() + ["run", str(EXAMPLE), "--out", str(out / "rh"), "-q", "--policy", "rolling"],
    }, repeat)
    print(f"\nwhole processes (dispatch run, example year): perfect foresight {whole['perfect']['wall_s']:.2f} s, "
          f"rolling {whole['rolling']['wall_s']:.2f} s (peak {whole['rolling']['peak_mb']:.0f} MB)")
    verdicts.target("example year: dispatch run --policy rolling / dispatch run, whole process",
                    whole["rolling"]["wall_s"] / whole["perfect"]["wall_s"], 3.0)
    report["whole"] = whole
    report["load_average"] = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in report['load_average'])}")
    return report


# ---------------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------------


def _child_cmd(kind: str, folder: Path, out: Path, start: str | None = None, end: str | None = None,
               options: dict | None = None, time_limit: float | None = None, case: str | None = None) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(folder), "--out", str(out),
           "--options", json.dumps(options or {})]
    if start:
        cmd += ["--start", start]
    if end:
        cmd += ["--end", end]
    if time_limit:
        cmd += ["--time-limit", str(time_limit)]
    if case:
        cmd += ["--case", case]
    return cmd


def _child_result(cmd: list[str]) -> dict:
    """Run a ``--child`` command: the figures it printed, with its peak memory (``peak_mb``)."""
    _, peak, text = _run_child(cmd)
    r = json.loads(text.strip().splitlines()[-1])
    r["peak_mb"] = peak
    return r


def _median_dicts(runs: list[dict]) -> dict:
    """The first run's figures with every time and memory the median over ``runs``, and the
    objective of each run (``objectives``)."""
    out = dict(runs[0])
    for k, v in runs[0].items():
        if k.endswith("_s") or k in ("wall_s", "peak_mb"):
            out[k] = statistics.median(r[k] for r in runs)
    out["objectives"] = [r["objective_usd"] for r in runs]
    return out


def measure_split(kind: str, folder: Path, work: Path, repeat: int, start: str | None = None,
                  end: str | None = None, options: dict | None = None, case: str | None = None) -> dict:
    """Median in-process split of ``repeat`` fresh processes, with their peak memory."""
    return _median_dicts([_child_result(_child_cmd(kind, folder, work / f"{kind}-split-{i}", start, end, options,
                                                   case=case)) for i in range(repeat)])


def _alternating(cmds: dict[str, list[str]], repeat: int) -> dict[str, dict]:
    """Run whole processes ``repeat`` times each, alternating their order.

    Parameters
    ----------
    cmds
        Name -> command; each command has ``--out DIR`` and writes ``DIR/summary.json``.
    repeat
        Runs of each command.

    Returns
    -------
    dict
        Name -> median wall time (``wall_s``), every wall time (``wall_all_s``), the largest peak
        memory (``peak_mb``) and the objective each run wrote (``objectives``).
    """
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    peaks: dict[str, list[float]] = {k: [] for k in cmds}
    objectives: dict[str, list[float]] = {k: [] for k in cmds}
    for i in range(repeat):
        for k in (list(cmds) if i % 2 == 0 else list(cmds)[::-1]):
            wall, peak, _ = _run_child(cmds[k])
            walls[k].append(wall)
            peaks[k].append(peak)
            summary = Path(cmds[k][cmds[k].index("--out") + 1]) / "summary.json"
            objectives[k].append(json.loads(summary.read_text())["objective_usd"])
    return {k: {"wall_s": statistics.median(walls[k]), "wall_all_s": walls[k], "peak_mb": max(peaks[k]),
                "objectives": objectives[k]} for k in cmds}


def measure_whole(folder: Path, work: Path, repeat: int, options: dict) -> dict[str, dict]:
    """``dispatch run`` and the yardstick as whole processes, alternating (:func:`_alternating`)."""
    opt_args = [a for k, v in options.items() for a in ("-O", f"{k}={v}")]
    return _alternating({
        "ours": _dispatch_cmd() + ["run", str(folder), "--out", str(work / "ours-whole"), "-q"] + opt_args,
        "yardstick": [sys.executable, str(YARDSTICK), str(folder), "--out", str(work / "ys-whole")] + opt_args,
    }, repeat)


#: Largest relative difference allowed between an objective and its reference (the yardstick's). [-]
OBJECTIVE_RTOL = 1e-9


class Verdicts:
    """The targets met or missed and the objective checks of one bench run.

    A missed target is reported (``FAIL``) and does not fail the run. An objective that differs
    from its reference does: the two sides then solved different LPs, and their times do not compare.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.mismatches: list[str] = []
        self.checked = 0

    def target(self, what: str, value: float, limit: float, unit: str = "x") -> None:
        """Print and keep a ``PASS``/``FAIL`` line: is ``value`` at most ``limit``?"""
        line = f"{'PASS' if value <= limit else 'FAIL'}  {what}: {value:.2f}{unit} (target at most {limit:g}{unit})"
        print(line, flush=True)
        self.lines.append(line)

    def target_at_least(self, what: str, value: float, limit: float, unit: str = "x") -> None:
        """Print and keep a ``PASS``/``FAIL`` line: is ``value`` at least ``limit``?"""
        line = f"{'PASS' if value >= limit else 'FAIL'}  {what}: {value:.2f}{unit} (target at least {limit:g}{unit})"
        print(line, flush=True)
        self.lines.append(line)

    def objectives(self, case: str, reference: float, found: dict[str, list[float]]) -> None:
        """Check every objective of ``found`` (where it came from -> one per run) against
        ``reference`` within :data:`OBJECTIVE_RTOL`; print a mismatch at once."""
        for source, values in found.items():
            for value in values:
                self.checked += 1
                if not abs(value - reference) <= OBJECTIVE_RTOL * abs(reference):  # NaN fails too
                    msg = (f"{case}, {source}: objective {value:,.6f} USD, reference {reference:,.6f} "
                           f"(relative difference {abs(value - reference) / abs(reference):.1e})")
                    print(f"OBJECTIVE MISMATCH  {msg}", flush=True)
                    self.mismatches.append(msg)

    def report(self) -> int:
        """Print the summary of targets and objective checks.

        Returns
        -------
        int
            The exit status: 1 if any objective differed from its reference, else 0.
        """
        print("\n== summary ==")
        print("\n".join(self.lines))
        if not self.mismatches:
            print(f"PASS  objectives: all {self.checked} within {OBJECTIVE_RTOL:g} of the yardstick's")
            return 0
        print(f"FAIL  objectives: {len(self.mismatches)} of {self.checked} differ from the yardstick's by more "
              f"than {OBJECTIVE_RTOL:g} (relative): the timings compare different LPs")
        print("\n".join(f"  {m}" for m in self.mismatches))
        print(f"benchmarks/run.py: {len(self.mismatches)} objective mismatches; see the summary above",
              file=sys.stderr)
        return 1


STEPS = ["import_s", "read_s", "build_s", "handover_s", "solve_s", "results_s", "write_s"]


def _fmt_table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[c if isinstance(c, str) else f"{c:.3f}" if isinstance(c, float)
                                           else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa
    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


#: Changes outside this task's files that the whole-process figures depend on, measured by
#: ``--whatif`` on a patched copy of the package (the repository is not touched).
WHATIF: dict[str, list[tuple[str, str, str]]] = {
    "components import pyomo.core": [
        (f"model/{f}.py", "import pyomo.environ as pyo\n", "import pyomo.core as pyo\n")
        for f in ("fleets", "site", "reserves", "tariffs")],
    "+ CLI gc.freeze() after writing": [
        (f"model/{f}.py", "import pyomo.environ as pyo\n", "import pyomo.core as pyo\n")
        for f in ("fleets", "site", "reserves", "tariffs")] + [
        ("cli.py", '            print(f"results: {args.out}/dispatch.csv, {args.out}/summary.json")\n        return 0\n',
         '            print(f"results: {args.out}/dispatch.csv, {args.out}/summary.json")\n'
         '        import gc\n\n        gc.freeze()  # nothing left to collect: skip the exit-time collection\n'
         '        return 0\n')],
}


def whatif_table(work: Path, repeat: int, options: dict, verdicts: Verdicts) -> dict:
    """``dispatch run`` on the year as it is and with the :data:`WHATIF` patches, against the yardstick."""
    opt_args = [a for k, v in options.items() for a in ("-O", f"{k}={v}")]
    variants: dict[str, list[str]] = {"as is": _dispatch_cmd()}
    for name, patches in WHATIF.items():
        root = work / f"whatif-{len(variants)}"
        shutil.copytree(ROOT / "optimiser", root / "optimiser", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "models", root / "models")
        applied = True
        for rel, old, new in patches:
            f = root / "optimiser" / rel
            text = f.read_text()
            applied &= old in text
            f.write_text(text.replace(old, new))
        if not applied:
            print(f"  (what-if '{name}': a patch no longer applies; the file changed)")
        variants[name] = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(root)!r}); "
                          "from optimiser.cli import main; sys.exit(main(sys.argv[1:]))"]
    cmds = {k: v + ["run", str(EXAMPLE), "--out", str(work / "whatif-out"), "-q"] + opt_args
            for k, v in variants.items()}
    cmds["yardstick"] = [sys.executable, str(YARDSTICK), str(EXAMPLE), "--out", str(work / "ys-whatif")] + opt_args
    found = _alternating(cmds, repeat)
    ys = found["yardstick"]["wall_s"]
    print(f"\n== what if: dispatch run on the year, whole process, medians of {repeat} ==")
    print(_fmt_table(["variant", "wall s", "ratio to yardstick"], [[k, r["wall_s"], r["wall_s"] / ys]
                                                                   for k, r in found.items()]))
    verdicts.objectives("what if", found["yardstick"]["objectives"][0], {k: r["objectives"] for k, r in found.items()})
    return found


def main_table(work: Path, repeat: int, options: dict, verdicts: Verdicts) -> dict:
    five = tiled_scenario(EXAMPLE, work / "five-years", 5)
    report: dict[str, Any] = {}
    for label, folder in (("1 year", EXAMPLE), ("5 years", five)):
        print(f"\n== {label}: {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder} ==", flush=True)
        whole = measure_whole(folder, work, repeat, options)
        split = {k: measure_split(k, folder, work, repeat, options=options) for k in ("ours", "yardstick")}
        rows = []
        for k in ("ours", "yardstick"):
            s = split[k]
            total = sum(s[x] for x in STEPS if x != "import_s")
            rows.append([k] + [s[x] for x in STEPS] + [total, whole[k]["wall_s"], round(whole[k]["peak_mb"])])
        o, y = split["ours"], split["yardstick"]
        in_o = sum(o[x] for x in STEPS if x != "import_s")
        in_y = sum(y[x] for x in STEPS if x != "import_s")
        rows.append(["ratio ours/yardstick"] + [(o[x] / y[x] if y[x] > 0 else float("nan")) for x in STEPS]
                    + [in_o / in_y, whole["ours"]["wall_s"] / whole["yardstick"]["wall_s"],
                       f"{whole['ours']['peak_mb'] / whole['yardstick']['peak_mb']:.2f}"])
        print(f"{o['hours']} h, {o['rows']} rows x {o['columns']} columns, {o['nonzeros']} nonzeros; objective "
              f"{o['objective_usd']:,.2f} (yardstick {y['objective_usd']:,.2f}, rel. diff "
              f"{abs(o['objective_usd'] - y['objective_usd']) / abs(y['objective_usd']):.1e}); medians of {repeat}")
        print(_fmt_table(["", "import", "read", "build", "hand-over", "solve", "results", "write", "in-process",
                          "whole process", "peak MB"], rows))
        print("whole-process walls [s]: ours " + ", ".join(f"{w:.2f}" for w in whole["ours"]["wall_all_s"])
              + "; yardstick " + ", ".join(f"{w:.2f}" for w in whole["yardstick"]["wall_all_s"]))
        verdicts.objectives(label, y["objective_usd"], {
            "dispatch run": whole["ours"]["objectives"], "yardstick.py": whole["yardstick"]["objectives"],
            "in-process": o["objectives"], "yardstick in-process": y["objectives"]})
        verdicts.target(f"{label}: dispatch run / yardstick, whole process",
                        whole["ours"]["wall_s"] / whole["yardstick"]["wall_s"], 1.5)
        report[label] = {"whole": whole, "split": split}
    verdicts.target("1 year: peak memory of dispatch run", report["1 year"]["whole"]["ours"]["peak_mb"], 250, " MB")
    return report


def scale_table(work: Path, repeat: int, options: dict, verdicts: Verdicts) -> dict:
    five = tiled_scenario(EXAMPLE, work / "five-years", 5)
    cfg = tomllib.loads((EXAMPLE / "scenario.toml").read_text())
    import pandas as pd

    start = pd.Timestamp(cfg["start"])
    cases = [("1 week", EXAMPLE, cfg["start"], (start + pd.Timedelta(days=7)).isoformat()),
             ("1 year", EXAMPLE, None, None),
             ("2 years", tiled_scenario(EXAMPLE, work / "two-years", 2), None, None),
             ("5 years", five, None, None)]
    fleets = [1, 2, 5, 10, 20]
    for n in fleets:
        cases.append((f"{n} ASIC fleets, 1 year", fleet_scenario(EXAMPLE, work / f"fleets-{n}", n), None, None))
    print(f"\n== scaling: dispatch in-process steps, medians of {repeat} fresh processes ==", flush=True)
    rows, report = [], {}
    for label, folder, s, e in cases:
        r = measure_split("ours", folder, work, repeat, s, e, options)
        reference = measure_split("yardstick", folder, work, 1, s, e, options)["objective_usd"]
        verdicts.objectives(f"scale, {label}", reference, {"in-process": r["objectives"]})
        report[label] = r
        rows.append([label, r["hours"], r["columns"], r["nonzeros"]] + [r[x] for x in STEPS[1:]]
                    + [round(r["peak_mb"])])
    print(_fmt_table(["case", "hours", "columns", "nonzeros", "read", "build", "hand-over", "solve", "results",
                      "write", "peak MB"], rows))
    # growth against linear: (time ratio) / (size ratio); 1.00 = linear. Memory: the peak above
    # the one-week run (the interpreter and libraries), same ratio.
    base_mb = report["1 week"]["peak_mb"]
    growth = []
    pairs = (("1 year", "2 years", "hours"), ("1 year", "5 years", "hours"),
             ("1 ASIC fleets, 1 year", "20 ASIC fleets, 1 year", "nonzeros"))
    worst = 0.0
    for a, b, size in pairs:
        ra, rb = report[a], report[b]
        k = rb[size] / ra[size]
        ratios = [(rb[x] / ra[x]) / k if ra[x] > 0 else float("nan") for x in STEPS[1:]]
        mem = (rb["peak_mb"] - base_mb) / max(ra["peak_mb"] - base_mb, 1e-9) / k
        worst = max([worst, mem] + [r for x, r in zip(STEPS[1:], ratios) if x != "solve_s"])
        growth.append([f"{a} -> {b} (x{k:.2f} {size})"] + ratios + [mem])
    print(f"\ngrowth against linear: (time ratio) / (size ratio); 1.00 = linear, above 1 = faster than linear; "
          f"memory: peak above the one-week run ({base_mb:.0f} MB)")
    print(_fmt_table(["", "read", "build", "hand-over", "solve", "results", "write", "memory"], growth))
    per_hour = [[label, r["hours"]] + [1e6 * r[x] / r["hours"] for x in STEPS[1:] if x != "solve_s"]
                + [(r["peak_mb"] - base_mb) * 1024 / r["hours"]]
                for label, r in report.items() if not label.endswith("fleets, 1 year") and label != "1 week"]
    print("\nper hour of horizon (us/h; memory kB/h above the one-week run)")
    print(_fmt_table(["case", "hours", "read", "build", "hand-over", "results", "write", "memory"], per_hour))
    verdicts.target("scale: every step but the solve, worst growth against linear (1.3 = noise allowance)",
                    worst, 1.3)
    report["growth"] = growth
    report["linear"] = worst <= 1.3
    return report


def edits_table(work: Path, repeat: int, options: dict, verdicts: Verdicts) -> dict:
    """The default year edited as a user does (:data:`EDITS`) against the unedited year.

    In-process split of fresh processes, medians of ``repeat`` with the cases taking turns. Targets:
    the README's edit costs at most 2x the unedited build + hand-over + solve; touching one row
    (reading or rewriting it) costs at most 1.5x the unedited hand-over.
    """
    runs: dict[str, list[dict]] = {k: [] for k in EDITS}
    print(f"\n== edits: the default year edited after build, in-process, medians of {repeat} fresh processes ==",
          flush=True)
    for i in range(repeat):
        for case in EDITS:
            runs[case].append(_child_result(_child_cmd("edit", EXAMPLE, work / "unused", options=options, case=case)))
    med = {k: _median_dicts(v) for k, v in runs.items()}
    ys = {c: measure_split("yardstick", EXAMPLE, work, 1, options=options, case=c)["objective_usd"]
          for c in ["unedited", *YARDSTICK_EDITS]}
    steps = ["build_s", "edit_s", "handover_s", "solve_s"]
    base = med["unedited"]
    base_total = sum(base[x] for x in steps)
    rows = []
    for case, r in med.items():
        total = sum(r[x] for x in steps)
        rows.append([case, r["rows"]] + [r[x] for x in steps] + [r["results_s"], total, total / base_total,
                                                                   r["handover_s"] / base["handover_s"],
                                                                   round(r["peak_mb"])])
        verdicts.objectives(f"edits, {case}", ys[case if case in YARDSTICK_EDITS else "unedited"],
                            {"in-process": r["objectives"]})
    print(_fmt_table(["case", "rows", "build", "edit", "hand-over", "solve", "results", "build..solve",
                      "ratio", "hand-over ratio", "peak MB"], rows))
    print("build..solve: build + edit + hand-over + solve [s]; ratios to the unedited year's")
    total = sum(med["README edit"][x] for x in steps)
    verdicts.target("README edit: build + edit + hand-over + solve / unedited", total / base_total, 2.0)
    for case in TOUCHED:
        verdicts.target(f"{case}: hand-over / unedited hand-over", med[case]["handover_s"] / base["handover_s"], 1.5)
    return med


def solver_table(work: Path, time_limit: float, which: list[str] | None, repeat: int = 3) -> dict:
    five = tiled_scenario(EXAMPLE, work / "five-years", 5)
    report: dict[str, Any] = {}
    for label, folder in (("1 year", EXAMPLE), ("5 years", five)):
        print(f"\n== HiGHS options, {label} (a fresh process per solve; median of {repeat} for solves under 10 s; "
              f"time limit {time_limit:.0f} s) ==", flush=True)
        rows, ref, ref_marginal = [], None, None
        for name, opts in SOLVERS.items():
            if which and name not in which:
                continue
            cmd = _child_cmd("solver", folder, work / "unused", options=opts, time_limit=time_limit)
            _, peak, text = _run_child(cmd)
            r = json.loads(text.strip().splitlines()[-1])
            times = [r.get("solve_s", float("nan"))]
            while len(times) < repeat and times[0] < 10.0:
                _, p2, t2 = _run_child(cmd)
                times.append(json.loads(t2.strip().splitlines()[-1])["solve_s"])
                peak = max(peak, p2)
            r["solve_s"] = statistics.median(times)
            r["solve_all_s"] = times
            r["peak_mb"] = peak
            marginal = r.pop("marginal", None)
            if ref is None and r.get("status") == "Optimal":
                ref, ref_marginal = r, marginal
            rel = (abs(r["objective_usd"] - ref["objective_usd"]) / abs(ref["objective_usd"])
                   if ref and "objective_usd" in r and r["objective_usd"] == r["objective_usd"] else float("nan"))
            dual = (max(abs(a - b) for a, b in zip(marginal, ref_marginal))
                    if ref and r.get("duals_valid") else float("nan"))
            rows.append([name, r.get("solve_s", float("nan")), r.get("iterations", 0), r["status"],
                         f"{rel:.1e}", f"{dual:.3g}", round(peak)])
            report.setdefault(label, {})[name] = r
            print(f"  {name}: {r.get('solve_s', float('nan')):.2f} s, {r['status']}", flush=True)
        print(_fmt_table(["HiGHS options", "solve s", "iterations", "status", "objective rel. diff",
                          "max |marginal value diff| $/MWh", "peak MB"], rows))
    return report


WARM_SEQUENCES = ("BTC price", "energy price", "both", "BTC price, sorted sweep", "energy price, sorted sweep",
                  "GPU contract price", "ramp limit")


def warm_table(work: Path, repeat: int, verdicts: "Verdicts | None" = None) -> dict:
    """``--warm``: ``repeat`` fresh processes running :func:`child_warm`; prints the tables
    (medians over every variant of every process)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "warm", str(EXAMPLE), "--out", str(work / "unused")]
    print(f"\n== warm re-solves of the year: {WARM_VARIANTS} seeded variants a sequence, each solved warm "
          f"(WarmSolver, from the previous variant) and cold, alternating; medians over {repeat} fresh "
          "process(es) ==", flush=True)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    runs, peak = [], 0.0
    for _ in range(repeat):
        _, p, text = _run_child(cmd)
        runs.append(json.loads(text.strip().splitlines()[-1]))
        peak = max(peak, p)
    report = {k: [r for run in runs for r in run[k]] for k in WARM_SEQUENCES}
    report["window"] = {"hours": runs[0]["window"]["hours"],
                        "same": [r for run in runs for r in run["window"]["same"]],
                        "rolling": {side: [r for run in runs for r in run["window"]["rolling"][side]]
                                    for side in ("cold", "warm")}}
    med = statistics.median
    rows, diff = [], []
    for name in WARM_SEQUENCES:
        recs = report[name]
        w = {k: med(r["warm"][k] for r in recs) for k in ("resolve_s", "wall_s", "solve_s", "handover_s", "build_s",
                                                          "results_s", "iterations")}
        c = {k: med(r["cold"][k] for r in recs) for k in ("resolve_s", "wall_s", "solve_s", "iterations")}
        speed = med(r["cold"]["resolve_s"] / r["warm"]["resolve_s"] for r in recs)
        cpu = med(r["cold"]["cpu_s"] for r in recs) / med(r["warm"]["cpu_s"] for r in recs)
        amortised = c["resolve_s"] / (w["resolve_s"] + c["resolve_s"] / 10)
        worst = max(r["rel_diff"] for r in recs)
        rows.append([name, c["resolve_s"], w["resolve_s"], c["resolve_s"] / w["resolve_s"], speed, amortised,
                     c["wall_s"] / w["wall_s"], cpu, round(c["iterations"]), round(w["iterations"]), w["build_s"],
                     w["handover_s"], w["solve_s"], w["results_s"], f"{worst:.1e}"])
        diff.append([name, max(r["dispatch_max_diff_mw"] for r in recs), max(r["marginal_max_diff"] for r in recs),
                     round(med(r["marginal_hours_differing"] for r in recs))])
    print(_fmt_table(["variants", "cold s", "warm s", "speed-up", "median of ratios",
                      "with 1-in-10 cold check", "speed-up with results", "same, CPU time", "cold it.", "warm it.",
                      "warm: build", "compile+update", "solve", "results", "max rel. diff"], rows))
    print("BTC and energy price: multipliers U(0.8, 1.2); GPU contract price U(150, 300) $/MW/h (the objective's "
          "constant only); ramp limit U(20, 250) MW/h (row bounds only).\n"
          "re-solve = build + compile + update (warm) or pass (cold) + solve; 'with results' adds making Results; "
          "'with 1-in-10 cold check' adds a tenth of a cold re-solve to the warm one (the default check_cold_every). "
          f"Making each variant (sc.with_series, checks): {med(r['variant_s'] for r in report['BTC price']):.3f} s "
          "on either side, not counted.")
    print("\nsame objective, other vertex: warm against cold answers of the same variant (alternative optima "
          "and kinks of the marginal value)")
    print(_fmt_table(["variants", "max |dispatch diff| MW", "max |marginal value diff| $/MWh",
                      "hours with another marginal value (median)"], diff))
    if verdicts is not None:
        # a sweep solves its variants in order (dispatch sweep chains them so): the target is on that;
        # the random-order rows above show what a scattered sequence gets
        price = [r for name in ("BTC price, sorted sweep", "energy price, sorted sweep") for r in report[name]]
        verdicts.target_at_least("price-only warm re-solve of the year vs cold (median over 20 BTC and 20 energy "
                                 "price variants, in sweep order)", med(r["cold"]["resolve_s"] / r["warm"]["resolve_s"]
                                                                        for r in price), 3.0)
    win = report["window"]
    same = win["same"]
    roll_c, roll_w = win["rolling"]["cold"], win["rolling"]["warm"]
    wrows = [["one window, again and again (cold)", med(r["wall_s"] for r in same), med(r["cpu_s"] for r in same),
              med(r["build_s"] for r in same),
              med(r["handover_s"] for r in same), med(r["solve_s"] for r in same), med(r["results_s"] for r in same),
              round(med(r["iterations"] for r in same))]]
    for label, recs in (("consecutive windows, cold", roll_c), ("consecutive windows, WarmSolver", roll_w)):
        wrows.append([label, med(r["wall_s"] for r in recs), med(r["cpu_s"] for r in recs), med(r["build_s"] for r in recs),
                      med(r["handover_s"] for r in recs), med(r["solve_s"] for r in recs),
                      med(r["results_s"] for r in recs), round(med(r["iterations"] for r in recs))])
    print(f"\n{win['hours']}-hour windows from {WINDOW_START} (consecutive: {WINDOWS}, a day apart): "
          "build, solve and results made, medians [s]")
    print(_fmt_table(["", "total", "CPU time", "build", "hand-over", "solve", "results", "iterations"], wrows))
    if verdicts is not None:
        verdicts.target("48-hour window built, solved and results made (median, cold)",
                        med(r["wall_s"] for r in same) * 1000, 20.0, " ms")
    n_warm = sum(1 for r in roll_w if r.get("warm"))
    print(f"consecutive windows solved warm: {n_warm} of {len(roll_w)} (a window crossing a month boundary has "
          f"another SLA row: handed over whole); peak memory {peak:.0f} MB")
    report["peak_mb"] = peak
    report["load_average"] = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in report['load_average'])} (on {os.cpu_count()} cores: "
          "other jobs on a shared machine lengthen wall times; CPU time is less affected)")
    return report


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import highspy  # noqa: F401
    import numpy
    import pandas
    import pyomo.version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {"cpu": cpu, "nproc": str(os.cpu_count()), "python": platform.python_version(),
            "pyomo": pyomo.version.version, "highspy": version("highspy"), "numpy": numpy.__version__,
            "pandas": pandas.__version__, "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark dispatch run against the numpy/highspy yardstick.")
    p.add_argument("--main", action="store_true", help="one and five years vs the yardstick")
    p.add_argument("--scale", action="store_true", help="growth with hours and fleets")
    p.add_argument("--solvers", action="store_true", help="compare HiGHS solvers")
    p.add_argument("--whatif", action="store_true", help="the year with proposed changes to other files")
    p.add_argument("--edits", action="store_true", help="the year edited as the README and notebooks do")
    p.add_argument("--warm", action="store_true", help="warm re-solves of variants against cold ones; 48-hour windows")
    p.add_argument("--sweep", action="store_true", help="100 one-year variants through dispatch sweep")
    p.add_argument("--rolling", action="store_true", help="a rolling-horizon year against the perfect-foresight year")
    p.add_argument("--invest", action="store_true", help="capacity under uncertainty: 5 years x 3 futures")
    p.add_argument("--only", action="append", help="with --solvers: only this configuration (repeatable)")
    p.add_argument("--repeat", type=int, default=5, help="runs per measurement (median; default 5)")
    p.add_argument("--time-limit", type=float, default=600.0, help="per solve with --solvers [s]")
    p.add_argument("-O", "--solver-option", action="append", default=[], metavar="KEY=VALUE",
                   help="HiGHS option for --main/--scale runs (both ours and the yardstick)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--child", choices=["ours", "yardstick", "solver", "edit", "warm", "rolling"],
                   help=argparse.SUPPRESS)
    p.add_argument("--case", choices=[*EDITS, "perfect", "rolling"], default="unedited", help=argparse.SUPPRESS)
    p.add_argument("scenario", nargs="?", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--start", help=argparse.SUPPRESS)
    p.add_argument("--end", help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        opts = json.loads(args.options)
        if args.child == "ours":
            res = child_ours(args.scenario, args.out, args.start, args.end, opts)
        elif args.child == "warm":
            res = child_warm(args.scenario)
        elif args.child == "rolling":
            res = child_rolling(args.scenario, args.case)
        elif args.child == "yardstick":
            res = child_yardstick(args.scenario, args.out, args.start, args.end, opts, args.case)
        elif args.child == "edit":
            res = child_edit(args.scenario, args.case, opts)
        else:
            res = child_solver(args.scenario, args.start, args.end, opts, args.time_limit)
        print(json.dumps(res))
        return 0

    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    sys.path.insert(0, str(ROOT))
    from optimiser.cli import _option
    from optimiser.solve import DEFAULT_OPTIONS

    options = dict(DEFAULT_OPTIONS)
    options.update(dict(_option(o) for o in args.solver_option))
    info = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"HiGHS options: {options}")
    report: dict[str, Any] = {"machine": info, "options": options}
    if not (args.main or args.scale or args.solvers or args.whatif or args.edits or args.warm or args.sweep
            or args.rolling or args.invest):
        args.main = args.scale = args.edits = args.warm = args.sweep = args.rolling = args.invest = True
    verdicts = Verdicts()
    with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as tmp:
        work = Path(tmp)
        if args.main:
            report["main"] = main_table(work, args.repeat, options, verdicts)
        if args.edits:
            report["edits"] = edits_table(work, args.repeat, options, verdicts)
        if args.scale:
            report["scale"] = scale_table(work, max(1, min(args.repeat, 3)), options, verdicts)
        if args.solvers:
            report["solvers"] = solver_table(work, args.time_limit, args.only, args.repeat)
        if args.whatif:
            report["whatif"] = whatif_table(work, args.repeat, options, verdicts)
        if args.warm:
            report["warm"] = warm_table(work, max(1, min(args.repeat, 3)), verdicts)
        if args.sweep:
            from sweep_bench import sweep_table

            report["sweep"] = sweep_table(work / "sweep", verdicts)
        if args.rolling:
            from optimiser.realdata import default_data_dir

            data = (default_data_dir() / "ercot_rtm_spp_hourly_HB_WEST.csv").is_file()
            report["rolling"] = rolling_table(work, max(1, min(args.repeat, 3)), verdicts, data)
        if args.invest:
            from invest_bench import invest_table

            report["invest"] = invest_table(verdicts)
    report["targets"] = verdicts.lines
    report["objective_mismatches"] = verdicts.mismatches
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return verdicts.report()


if __name__ == "__main__":
    sys.exit(main())
