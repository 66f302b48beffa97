"""``make bench`` (``benchmarks/run.py --sweep``): a sweep of 100 one-year variants of the default
scenario, a 10 x 10 grid of Bitcoin-price and energy-price multipliers (0.80 to 1.25).

Measured, each as a fresh process:

- ``dispatch sweep`` with the local engine on every core, warm (the default) and ``--cold``:
  wall time, CPU time of the sweep and its workers (``getrusage`` of the children), scenario-years
  per minute, and per case the wall and CPU seconds (``case_s``, ``case_cpu_s`` of the table);
- the same sweep through Dask distributed on a ``LocalCluster`` of two worker processes started
  by the child (its start-up reported apart);
- what ``--keep-cases`` (a results folder a case) and the plots add, on a 10-case sweep.

Targets (issue 12): the 100 cases within 12 s on a 2-core machine (500 scenario-years a minute),
and warm cases at least 3x faster than cold ones. The machine may be shared: the load average
before and after is printed, and CPU seconds (which others' load hardly changes) beside the
wall times.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"

#: The grid's multipliers of both columns. [-]
MULTIPLIERS = [round(0.80 + 0.05 * i, 2) for i in range(10)]

#: Targets: wall time of the 100 cases [s]; warm speed-up per case [x].
WALL_TARGET_S = 12.0
SPEEDUP_TARGET = 3.0


def write_spec(folder: Path, btc: list[float], price: list[float]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[grid]\n"series.btc_usd" = {btc}\n"series.price_usd_per_mwh" = {price}\n')
    return path


def _dispatch() -> list[str]:
    exe = Path(sys.executable).parent / "dispatch"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "optimiser"]


def run_timed(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; its wall time, the CPU time of it and its children [s], and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def table_stats(folder: Path) -> dict[str, Any]:
    from optimiser.sweeps import read_table

    t = read_table(folder)
    if not (t["status"] == "ok").all():
        raise RuntimeError(f"cases failed in {folder}: {t.loc[t['status'] != 'ok', ['case', 'error']]}")
    warm = t[t["warm"].fillna(False)]
    return {
        "cases": len(t), "objectives": dict(zip(t["case"], t["objective_usd"])),
        "case_s_mean": float(t["case_s"].mean()), "case_cpu_s_mean": float(t["case_cpu_s"].mean()),
        "case_s_median": float(t["case_s"].median()), "case_cpu_s_median": float(t["case_cpu_s"].median()),
        "solve_s_mean": float(t["solve_s"].mean()), "iterations_mean": float(t["iterations"].mean()),
        "warm_cases": len(warm), "cold_checks": int(t["cold_check_rel_diff"].notna().sum()),
        "cold_check_max_rel_diff": float(t["cold_check_rel_diff"].max()) if t["cold_check_rel_diff"].notna().any()
        else None,
        "warm_only_case_cpu_s_median": float(warm.loc[warm["cold_check_rel_diff"].isna(), "case_cpu_s"].median())
        if len(warm) else None,
    }


def child_dask(spec: str, out: str) -> dict[str, Any]:
    """In a fresh process: a LocalCluster of two worker processes, then the sweep through it."""
    from distributed import LocalCluster

    import optimiser

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        t1 = time.perf_counter()
        res = optimiser.sweep(spec, out, scheduler=cluster.scheduler_address, plots=False)
        t2 = time.perf_counter()
    return {"cluster_start_s": t1 - t0, "wall_s": t2 - t1, "engine": res.engine, "workers": res.workers}


def child_plots(folder: str) -> dict[str, Any]:
    """In a fresh process: the time to draw the plots of a sweep's table."""
    from optimiser.sweep_plots import write_plots
    from optimiser.sweeps import read_table

    t = read_table(Path(folder))
    t0 = time.perf_counter()
    write_plots(t, ["series.btc_usd", "series.price_usd_per_mwh"], Path(folder) / "plots")
    return {"plots_s": time.perf_counter() - t0}


def _child(kind: str, *args: str) -> tuple[float, float, dict]:
    wall, cpu, text = run_timed([sys.executable, str(Path(__file__).resolve()), kind, *args])
    return wall, cpu, json.loads(text.strip().splitlines()[-1])


def sweep_table(work: Path, verdicts: Any = None) -> dict[str, Any]:
    """Run the measurements (see the module), print them and the targets; the figures."""
    from run import _fmt_table  # benchmarks/run.py, beside this file

    work.mkdir(parents=True, exist_ok=True)
    n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\n== sweep: 100 one-year variants (10 x 10 grid, BTC price x energy price multipliers "
          f"{MULTIPLIERS[0]}..{MULTIPLIERS[-1]}), {n_cores} cores ==", flush=True)
    load_before = os.getloadavg()
    spec = write_spec(work / "grid", MULTIPLIERS, MULTIPLIERS)
    report: dict[str, Any] = {"cores": n_cores, "load_before": load_before}
    for mode, extra in (("local, warm", []), ("local, cold", ["--cold"])):
        out = work / mode.replace(", ", "-")
        wall, cpu, _ = run_timed(_dispatch() + ["sweep", str(spec), "--out", str(out), "--no-plots", "--quiet",
                                                *extra])
        report[mode] = {"wall_s": wall, "cpu_s": cpu, **table_stats(out)}
        print(f"  {mode}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    wall, cpu, d = _child("dask", str(spec), str(work / "dask"))
    report["dask, 2 local workers"] = {**d, "child_wall_s": wall, "cpu_s": cpu, **table_stats(work / "dask")}
    print(f"  dask: {d['wall_s']:.1f} s wall (+ {d['cluster_start_s']:.1f} s to start the cluster)", flush=True)

    # what --keep-cases and the plots add: ten cases, with and without a results folder each
    small = write_spec(work / "small", MULTIPLIERS, [1.0])
    plain_wall, plain_cpu, _ = run_timed(_dispatch() + ["sweep", str(small), "--out", str(work / "small-plain"),
                                                        "--no-plots", "--quiet"])
    keep_wall, keep_cpu, _ = run_timed(_dispatch() + ["sweep", str(small), "--out", str(work / "small-keep"),
                                                      "--no-plots", "--quiet", "--keep-cases"])
    _, _, plots = _child("plots", str(work / "local-warm"))
    report["keep_cases_s_per_case"] = (keep_wall - plain_wall) / 10
    report["keep_cases_cpu_s_per_case"] = (keep_cpu - plain_cpu) / 10
    report["plots_s"] = plots["plots_s"]
    report["load_after"] = os.getloadavg()

    warm, cold = report["local, warm"], report["local, cold"]
    ref = cold["objectives"]
    worst = max(abs(v - ref[k]) / abs(ref[k]) for r in (warm, report["dask, 2 local workers"])
                for k, v in r["objectives"].items())
    report["max_rel_objective_diff_vs_cold"] = worst
    rows = []
    for mode in ("local, warm", "local, cold", "dask, 2 local workers"):
        r = report[mode]
        rows.append([mode, r["wall_s"], r["cpu_s"], 100 / r["wall_s"] * 60, r["case_s_mean"], r["case_cpu_s_mean"],
                     r["solve_s_mean"], round(r["iterations_mean"]), r["warm_cases"], r["cold_checks"]])
    print(_fmt_table(["run", "wall s", "CPU s", "scenario-years/min", "case s (mean)", "case CPU s (mean)",
                      "solve s (mean)", "iterations (mean)", "warm cases", "cold checks"], rows))
    speed_cpu = cold["case_cpu_s_mean"] / warm["case_cpu_s_mean"]
    speed_wall = cold["case_s_mean"] / warm["case_s_mean"]
    pure = (cold["case_cpu_s_median"] / warm["warm_only_case_cpu_s_median"]
            if warm["warm_only_case_cpu_s_median"] else float("nan"))
    report.update(speedup_case_cpu=speed_cpu, speedup_case_wall=speed_wall, speedup_warm_only_median_cpu=pure,
                  speedup_total_wall=cold["wall_s"] / warm["wall_s"])
    print(f"per case, warm over cold: {speed_cpu:.2f}x in CPU, {speed_wall:.2f}x in wall time (every case of the "
          f"warm sweep: chain starts and cold checks included); a warm case alone (median CPU): {pure:.2f}x; "
          f"the whole sweep: {cold['wall_s'] / warm['wall_s']:.2f}x")
    print(f"objectives: warm and Dask against cold, largest relative difference {worst:.1e}; cold checks in the warm "
          f"sweep: {warm['cold_checks']}, largest difference {warm['cold_check_max_rel_diff'] or 0:.1e}")
    print(f"--keep-cases adds {report['keep_cases_s_per_case']:.2f} s a case ({report['keep_cases_cpu_s_per_case']:.2f} "
          f"s CPU; a year's dispatch.csv and summary.json); the plots of two keys take {report['plots_s']:.2f} s")
    print(f"load average before {' '.join(f'{x:.1f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.1f}' for x in report['load_after'])} (on {os.cpu_count()} cores: above that, other "
          "processes shared the cores and wall times are longer than on an idle machine)")
    if verdicts is not None:
        verdicts.target("sweep: 100 one-year cases, local engine, wall", warm["wall_s"], WALL_TARGET_S, " s")
        at_least(verdicts, "sweep: warm over cold, CPU per case", speed_cpu, SPEEDUP_TARGET)
    return report


def at_least(verdicts: Any, what: str, value: float, limit: float, unit: str = "x") -> None:
    """A ``PASS``/``FAIL`` line of the bench's summary for a figure that must reach ``limit``."""
    line = f"{'PASS' if value >= limit else 'FAIL'}  {what}: {value:.2f}{unit} (target at least {limit:g}{unit})"
    print(line, flush=True)
    verdicts.lines.append(line)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "dask":
        print(json.dumps(child_dask(argv[1], argv[2])))
        return 0
    if argv and argv[0] == "plots":
        print(json.dumps(child_plots(argv[1])))
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    with tempfile.TemporaryDirectory(prefix="dispatch-sweep-bench-") as tmp:
        report = sweep_table(Path(tmp))
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, dict)}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
