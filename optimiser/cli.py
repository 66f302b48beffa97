"""The ``dispatch`` command: argument parsing, printing and exit codes; nothing else.

Exit codes: 0 success; 2 bad input (scenario, CSV, arguments); 3 infeasible scenario;
4 solver failure or non-optimal answer; 130 interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Sequence

EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER, EXIT_INTERRUPTED = 2, 3, 4, 130

FORMS = "a date (2025-03-02), a local time (2025-03-02T06:00) or a time with an offset (2025-03-02T06:00-06:00)"
MAX_INPUT_HELP = ("refuse input files larger than this many MiB (default 2048, or $DISPATCH_MAX_INPUT_MB); "
                  "inputs must be regular files")


def _option(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"'{text}' is not key=value")
    key, val = text.split("=", 1)
    for conv in (int, float):
        try:
            return key.strip(), conv(val)
        except ValueError:
            pass
    low = val.strip().lower()
    if low in ("true", "false"):
        return key.strip(), low == "true"
    return key.strip(), val.strip()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dispatch",
        description="Hour by hour: run ASICs, run GPUs, or give the megawatts back.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="solve a scenario and write its results folder")
    r.add_argument("scenario", type=Path, help="scenario folder (holding scenario.toml)")
    r.add_argument("--out", type=Path, required=True,
                   help="results folder: new, empty, or one dispatch wrote (replaced whole); any other is refused")
    r.add_argument("--start", help=f"override the horizon start: {FORMS}; dates and local times are in the "
                                   "scenario's time zone")
    r.add_argument("--end", help="override the horizon end, exclusive (the same forms)")
    r.add_argument("--solver-option", "-O", action="append", type=_option, default=[], metavar="KEY=VALUE",
                   help="a HiGHS option, e.g. solver=ipm (repeatable)")
    r.add_argument("--time-limit", type=float, help="seconds HiGHS may run")
    r.add_argument("--rel-gap", type=float, help="relative optimality gap (for integer models)")
    r.add_argument("--allow-nonoptimal", action="store_true", help="write a non-optimal answer instead of failing")
    r.add_argument("--solver-log", action="store_true", help="show HiGHS's log")
    r.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    r.add_argument("--max-input-mb", help=MAX_INPUT_HELP)
    r.add_argument("--extra", action="append", default=[], metavar="MODULE:FUNCTION",
                   help="call FUNCTION(m) on the built model before solving, to add constraints or terms; "
                        "MODULE is a dotted importable module or a path/to/file.py (repeatable)")
    pol = r.add_argument_group("operating policy (docs/operations.md)")
    pol.add_argument("--policy", default="optimal",
                     choices=["optimal", "always-on", "strike", "breakeven", "merit", "rolling"],
                     help="optimal (default: perfect foresight, an upper bound), a baseline rule, or a rolling "
                          "horizon on forecasts; the decisions are settled with the same accounting")
    pol.add_argument("--strike-n", type=int, metavar="N", help="strike: hours above the strike price that stop "
                                                                 "a fleet (default 2)")
    pol.add_argument("--strike-m", type=int, metavar="M", help="strike: hours at or below it that restart it "
                                                                 "(default 4)")
    pol.add_argument("--target-mw", metavar="MW|COLUMN", help="merit: the load to fill at the meter, MW or an "
                                                               "input column")
    pol.add_argument("--window-h", type=int, metavar="H", help="rolling: hours each plan covers (default 48)")
    pol.add_argument("--keep-h", type=int, metavar="H", help="rolling: hours of each plan kept (default 24)")
    pol.add_argument("--forecast", metavar="COLUMN|naive",
                     help="rolling: the input column forecasting the price (e.g. a day-ahead price), or naive "
                          "(the same hour a week earlier; default)")
    pol.add_argument("--cp-alert", metavar="COLUMN", help="rolling: an input column of coincident-peak alerts "
                                                           "(probability 0..1 each hour)")
    sw = sub.add_parser("sweep", help="solve many variants of a scenario (a grid and a list of cases), warm-started; "
                                      "run it again to finish an interrupted sweep")
    sw.add_argument("spec", type=Path, help="the sweep spec (TOML: base, [grid], [[case]]; docs/sweeps.md)")
    sw.add_argument("--out", type=Path, required=True,
                    help="sweep folder: new, empty, or a sweep folder (the sweep resumes there); any other is refused")
    sw.add_argument("--workers", type=_positive_int, metavar="N",
                    help="local worker processes (default: one per core this process may use)")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="a Dask distributed scheduler, e.g. tcp://10.0.0.5:8786, instead of local workers")
    sw.add_argument("--cold", action="store_true", help="solve every case from scratch (no warm starts)")
    sw.add_argument("--keep-cases", action="store_true",
                    help="also write each case's results folder, cases/<case>/ (dispatch.csv, summary.json); "
                         "implied by --report")
    sw.add_argument("--no-plots", action="store_true", help="do not write plots/*.png")
    sw.add_argument("--quiet", "-q", action="store_true", help="no progress and no table; errors only")
    add_report_option(sw)
    sw.add_argument("--max-input-mb", help=MAX_INPUT_HELP)
    add_report_option(r)
    st = sub.add_parser("stochastic", help="choose capacities for several weighted futures (a two-stage stochastic "
                                           "program; docs/investment.md)")
    st.add_argument("futures", type=Path, help="a folder holding futures.csv (name, probability) and one scenario "
                                               "folder per future, as optimiser.futures.write_futures writes it")
    st.add_argument("--out", type=Path, required=True,
                    help="results folder: stochastic.json and future-<name>/ each; new, empty, or one dispatch wrote")
    st.add_argument("--method", choices=["extensive", "benders"], default="extensive",
                    help="one LP holding every future (default), or Benders decomposition (long horizons)")
    st.add_argument("--risk-weight", type=float, default=0.0, metavar="W",
                    help="weight of CVaR against the expected profit, 0 (default, risk-neutral) .. 1")
    st.add_argument("--alpha", type=float, default=0.95, help="CVaR level: the mean of the worst 1 - alpha (default 0.95)")
    st.add_argument("--value-of-information", action="store_true",
                    help="also solve each future alone and the mean future: EVPI and VSS in stochastic.json")
    st.add_argument("--solver-option", "-O", action="append", type=_option, default=[], metavar="KEY=VALUE",
                    help="a HiGHS option (repeatable)")
    st.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    st.add_argument("--max-input-mb", help=MAX_INPUT_HELP)
    rp = sub.add_parser("report", help="write report.html and figures/ for a results folder; with several "
                                       "folders, comparison.html (the first is the reference)")
    rp.add_argument("folders", type=Path, nargs="+", metavar="RESULTS_DIR",
                    help="results folders (dispatch run --out); a sweep folder holding cases.parquet stands for "
                         "its case folders")
    rp.add_argument("--out", type=Path,
                    help="folder to write into (default the first results folder): a results folder, new or empty")
    rp.add_argument("--label", action="append", metavar="NAME",
                    help="name of each run in a comparison, in order (default the folders' names; repeatable)")
    rp.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    rp.add_argument("--max-input-mb", help=MAX_INPUT_HELP)
    v = sub.add_parser("validate", help="check a scenario and its inputs without solving")
    v.add_argument("scenario", type=Path)
    v.add_argument("--start", help="check this horizon start instead of the scenario's (as for run)")
    v.add_argument("--end", help="check this horizon end instead of the scenario's (as for run)")
    v.add_argument("--max-input-mb", help=MAX_INPUT_HELP)
    im = sub.add_parser("import", help="convert a native market file into a standard CSV (UTC timestamps)")
    im.add_argument("format", choices=["ercot-dam-spp", "ercot-rtm-spp", "local-time"], help="the file's layout")
    im.add_argument("file", type=Path, help="the native file")
    im.add_argument("--out", type=Path, required=True, help="the standard CSV to write (replaced whole)")
    im.add_argument("--settlement-point", help="ERCOT: the Settlement Point Name to take (e.g. HB_WEST)")
    im.add_argument("--timezone", help="local-time: the IANA zone of the timestamps (e.g. America/Chicago)")
    im.add_argument("--column", help="ERCOT: name of the price column written (default price_usd_per_mwh)")
    im.add_argument("--max-input-mb", help=MAX_INPUT_HELP)
    mo = sub.add_parser("models", help="list the machine catalogue")
    mo.add_argument("--dir", type=Path, help="catalogue folder (default models/ or DISPATCH_MODELS)")
    mo.add_argument("--json", action="store_true", help="print JSON")
    return p


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is not at least 1")
    return n
def add_report_option(parser: argparse.ArgumentParser) -> None:
    """Give a command that writes results folders the ``--report`` flag (``run`` has it; a ``sweep``
    adds it the same way and calls :func:`report_after` with its folders)."""
    parser.add_argument("--report", action="store_true",
                        help="also write report.html and figures/ (PNG and SVG) into the results folder")


def report_after(args: argparse.Namespace, folders: Sequence[Path], out: Path | None = None) -> Path | None:
    """Write the report of ``folders`` into ``out`` (default the first) if ``args.report`` asks for one;
    print where, unless ``args.quiet``. With several folders it is their comparison (the first the
    reference): what a sweep passes is its base case and its cases.

    Returns
    -------
    pathlib.Path or None
        The page written, or None without ``--report``.
    """
    if not getattr(args, "report", False):
        return None
    from .report import write_report
    from .safety import escape

    page = write_report(list(folders), out=out)
    if not getattr(args, "quiet", False):
        print(f"report: {escape(page)} (figures in {escape(page.parent / 'figures')})")
    return page


def _money(x: float) -> str:
    return f"{x:>16,.0f}"


def format_summary(summary: dict[str, Any], timings: dict[str, float]) -> str:
    """The short table ``dispatch run`` prints."""
    from .safety import escape

    lines = [f"{escape(summary['scenario'])}: {summary['hours']} h, {summary['start']} .. {summary['end']}"]
    a = summary.get("assumptions", {})
    policy = summary.get("policy", {}).get("name", "optimal")
    if a.get("foresight", "perfect") == "perfect":
        if a:
            lines.append(f"assumes {a['foresight']} foresight (every price, Bitcoin input and coincident-peak hour "
                         "known in")
            lines.append(f"advance): the objective is an upper bound; metering: {a['metering']}")
    else:
        lines += _policy_lines(summary["policy"], a)
    lines.append("")
    lines.append(f"{'profit by stream':<34}{'USD':>16}")
    for k, v in summary["revenue_usd"].items():
        lines.append(f"  + {escape(k):<30}{_money(v)}")
    for k, v in summary["cost_usd"].items():
        lines.append(f"  - {escape(k):<30}{_money(v)}")
    lines.append(f"  = {'objective':<30}{_money(summary['objective_usd'])}")
    lines.append("")
    lines.append(f"{'energy by use':<34}{'MWh':>16}")
    for k, v in summary["energy_mwh"].items():
        lines.append(f"    {k:<30}{v:>16,.0f}")
    if summary["gpu_availability"]:
        lines.append("")
        lines.append("GPU availability achieved (horizon; worst billing period)")
        for k, v in summary["gpu_availability"].items():
            worst = min(summary["gpu_availability_by_period"][k].values())
            lines.append(f"    {k:<30}{v:>11.4%}   {worst:.4%}")
    inv = summary.get("investment") or {}
    decided = {k: v for k, v in (inv.get("fleets") or {}).items() if v.get("decided")}
    if decided or inv.get("capex_usd"):
        lines.append("")
        lines.append(f"{'capacity (IT)':<34}{'MW':>16}")
        for k, v in inv["fleets"].items():
            what = f"chosen in {v['min_mw']:g}..{v['max_mw']:g}" if v.get("decided") else "fixed"
            lines.append(f"    {escape(k):<30}{v['capacity_mw']:>16,.1f}   {what}")
        npv = inv.get("npv_usd")
        pay = inv.get("payback_years")
        lines.append(f"capex {_money(inv['capex_usd']).strip()} USD; operating profit "
                     f"{_money(inv['operating_profit_usd_per_year']).strip()} USD/yr; NPV "
                     + (f"{_money(npv).strip()} USD over {inv['npv_years']:g} yr" if npv is not None else "-")
                     + "; payback " + (f"{pay:.1f} yr" if pay is not None else "never"))
    s = summary["solver"]
    lines.append("")
    lines.append(
        f"solver: {s['termination']}, {s['iterations']} iterations, {s['rows']} rows x {s['columns']} columns; "
        + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    )
    for w in summary.get("warnings", []):
        lines.append(f"warning: {escape(w)}")
    return "\n".join(lines)


def _policy_lines(policy: dict[str, Any], assumptions: dict[str, Any]) -> list[str]:
    """What a policy run prints under its title: the policy, what it knew, what it did."""
    settings = {k: v for k, v in policy.items() if k in ("strike_n", "strike_m", "target_mw", "window_h", "keep_h",
                                                           "forecast", "cp_alert") and v is not None}
    head = f"policy: {policy['name']}" + (" (" + ", ".join(f"{k} {v}" for k, v in settings.items()) + ")"
                                          if settings else "")
    lines = [head, f"assumes {assumptions.get('meaning', '')}; metering: {assumptions.get('metering', '')}"]
    if "plans" in policy:
        p = policy["plans"]
        err = policy["forecast_error_usd_per_mwh"]
        t = policy["timing_s"]
        lines.append(f"{policy['windows']} plans ({p['warm']} solved warm), forecast error {err['mean_absolute']:,.2f} "
                     f"$/MWh mean absolute; planning {t['plans']:.2f} s, settlement {t['settlement']:.2f} s")
    repairs = {k: v for k, v in policy.get("repairs", {}).items() if v > 1e-6}
    if repairs:
        lines.append("changed to respect the site's limits: " + ", ".join(f"{k} {v:,.0f}" for k, v in repairs.items()))
    return lines


#: Longest line of an error message printed; longer ones are cut (a value quoted whole by mistake).
MAX_MESSAGE_LINE = 1000


def _clean(text: str) -> str:
    """A message as printed: control characters escaped (newlines kept), each line at most
    :data:`MAX_MESSAGE_LINE` characters."""
    from .safety import escape_lines

    out = []
    for line in escape_lines(text).split("\n"):
        if len(line) > MAX_MESSAGE_LINE:
            line = line[:MAX_MESSAGE_LINE] + f"... (line cut: {len(line)} characters)"
        out.append(line)
    return "\n".join(out)


def _fail(code: int, kind: str, err: BaseException) -> int:
    text = _clean(str(err))
    first, _, rest = text.partition("\n")
    # wrapped at spaces only: a path or a key stays whole, to be copied
    wrapped = textwrap.wrap(first, 100, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)
    print(f"dispatch: {kind}: " + "\n".join(wrapped), file=sys.stderr)
    if rest:
        print(rest, file=sys.stderr)
    return code


class _Terminated(BaseException):
    pass


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


class _Run:
    """What the interrupt message needs to know: where results would go, and this run's id."""

    out: Path | None = None
    run_id: str | None = None

    def written(self) -> bool:
        """True if the results folder holds this run's results (the signal came after the swap)."""
        import json

        if self.out is None or self.run_id is None:
            return False
        try:
            summary = json.loads((self.out / "summary.json").read_text(encoding="utf-8"))
            return summary["provenance"]["run_id"] == self.run_id
        except (OSError, ValueError, KeyError, TypeError):
            return False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dispatch`` command; returns the exit code.

    SIGINT (Ctrl-C) and SIGTERM end any phase (reading, building, solving, writing) with exit
    code 130 and nothing written; a solve in progress is stopped through HiGHS's callbacks
    (:mod:`optimiser.interrupt`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    state = _Run()
    try:
        return _main(argv, state)
    except (KeyboardInterrupt, _Terminated):
        if state.written():
            print(f"dispatch: interrupted after the results were written; {_clean(str(state.out))} is complete",
                  file=sys.stderr)
        else:
            print("dispatch: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str], state: _Run) -> int:
    args = _parser().parse_args(argv)
    from .errors import DispatchError, InfeasibleError, InputError, SolverError
    from .outdir import ResultsFolderError
    from .safety import input_limit, parse_max_input_mb

    try:
        limit = None if getattr(args, "max_input_mb", None) is None else parse_max_input_mb(args.max_input_mb)
        with input_limit(limit):
            return _command(args, argv, state)
    except ResultsFolderError as err:
        return _fail(EXIT_INPUT, "results folder", err)
    except InputError as err:
        return _fail(EXIT_INPUT, "bad input", err)
    except InfeasibleError as err:
        return _fail(EXIT_INFEASIBLE, "infeasible scenario", err)
    except SolverError as err:
        return _fail(EXIT_SOLVER, "solver", err)
    except DispatchError as err:
        return _fail(EXIT_INPUT, "error", err)


def _command(args: argparse.Namespace, argv: list[str], state: _Run) -> int:
    from . import build, load_scenario, solve
    from .catalogue import load_catalogue
    from .errors import DispatchError, InputError
    from .options import check_options
    from .outdir import check_results_folder
    from .provenance import input_files
    from .safety import check_input_file, escape

    if args.command == "models":
        cat = load_catalogue(args.dir)
        frame = cat.to_frame()
        if args.json:
            print(frame.to_json(orient="records", indent=2))
        else:
            cols = [c for c in ("id", "kind", "name", "power_kw", "hashrate_th_per_s", "efficiency_j_per_th",
                                "gpus_per_unit") if c in frame.columns]
            print(frame[cols].to_string(index=False, na_rep="-"))
        return 0
    if args.command == "import":
        from .markets import convert, write_standard_csv

        if args.out.resolve() == args.file.resolve():
            raise InputError(f"--out {args.out} is the file being converted; write elsewhere")
        check_input_file(args.file)
        frame = convert(args.format, args.file, settlement_point=args.settlement_point,
                        timezone=args.timezone, column=args.column)
        try:
            write_standard_csv(frame, args.out)
        except OSError as err:
            return _fail(EXIT_INPUT, "cannot write --out", err)
        if len(frame):
            print(f"{escape(args.out)}: {len(frame)} rows, {frame.index[0]:%Y-%m-%dT%H:%MZ} .. "
                  f"{frame.index[-1]:%Y-%m-%dT%H:%MZ} (UTC), columns timestamp, {escape(', '.join(frame.columns))}")
        return 0
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "stochastic":
        return _stochastic(args, argv, state)
    if args.command == "report":
        from .report import write_report

        page = write_report(args.folders, out=args.out, labels=args.label)
        if not args.quiet:
            print(f"report: {escape(page)} (figures in {escape(page.parent / 'figures')})")
        return 0
    if args.command == "validate":
        sc = load_scenario(args.scenario, start=args.start, end=args.end)
        print(f"{escape(args.scenario)}: OK: {sc.hours} hours from {sc.timestamps[0]} to {sc.timestamps[-1]}, "
              f"{len(sc.config.fleets())} fleet(s), inputs {escape(', '.join(map(str, sc.config.inputs)))}")
        for w in sc.warnings:
            print(f"warning: {escape(w)}")
        return 0
    # run: everything that can be checked without reading the scenario is checked first
    from .extra import resolve_extras

    policy_options = _policy_options(args)
    extras = resolve_extras(args.extra)  # a bad --extra fails before anything is read
    out = check_results_folder(args.out)
    options = check_options(dict(args.solver_option))  # values of HiGHS's types ("1" -> true for a switch)
    check_options({**({} if args.time_limit is None else {"time_limit": args.time_limit}),
                   **({} if args.rel_gap is None else {"mip_rel_gap": args.rel_gap})})
    t0 = time.perf_counter()
    sc = load_scenario(args.scenario, start=args.start, end=args.end,
                       extra_columns=policy_options.columns(args.policy))
    input_files(sc)  # hash the inputs now, as read (provenance.py remembers the hashes)
    t1 = time.perf_counter()
    if args.policy != "optimal":
        from .policies import run_policy

        res = run_policy(sc, args.policy, settings=policy_options, options=options, time_limit=args.time_limit,
                         rel_gap=args.rel_gap, allow_nonoptimal=args.allow_nonoptimal, log=args.solver_log)
        t3 = time.perf_counter()
        steps = {"read": t1 - t0, "policy": res.summary["policy"]["wall_s"]}
    else:
        m = build(sc)
        for spec, fn in zip(args.extra, extras):
            try:
                fn(m)
            except DispatchError:
                raise
            except Exception as err:  # the user's code failed: name it, no traceback
                raise InputError(f"--extra {spec} raised {type(err).__name__}: {err}") from err
        t2 = time.perf_counter()
        res = solve(m, options=options, time_limit=args.time_limit, rel_gap=args.rel_gap,
                    allow_nonoptimal=args.allow_nonoptimal, load_solution=False, log=args.solver_log)
        t3 = time.perf_counter()
        steps = {"read": t1 - t0, "build": t2 - t1, "hand-over": res.summary["solver"]["handover_s"],
                 "solve": res.summary["solver"]["solve_s"]}
    res.summary["solver"]["read_s"] = t1 - t0
    res.summary["provenance"]["command"] = ["dispatch", *argv]
    state.out, state.run_id = out, res.summary["provenance"]["run_id"]
    res.write(out)
    t4 = time.perf_counter()
    if not args.quiet:
        print(format_summary(res.summary, {**steps, "write": t4 - t3}))
        print(f"results: {escape(args.out)}/dispatch.csv, {escape(args.out)}/summary.json")
    report_after(args, [out])
    # The process is about to exit: move the model's objects out of the collector's reach so
    # interpreter shutdown does not walk them (measured: ~0.1 s a year; docs/performance.md).
    import gc

    gc.freeze()
    return 0


def _stochastic(args: argparse.Namespace, argv: list[str], state: "_Run") -> int:
    """``dispatch stochastic``: capacities for several weighted futures; the answer on stdout."""
    from .errors import InputError
    from .options import check_options
    from .outdir import check_results_folder
    from .safety import escape
    from .stochastic import check_futures, read_futures, run_stochastic, value_of_information

    out = check_results_folder(args.out)
    options = check_options(dict(args.solver_option))
    if not 0.0 <= args.risk_weight <= 1.0:
        raise InputError(f"--risk-weight must be within 0 .. 1, not {args.risk_weight}")
    if not 0.0 <= args.alpha < 1.0:
        raise InputError(f"--alpha must be within 0 (inclusive) and 1 (exclusive), not {args.alpha}")
    t0 = time.perf_counter()
    futs = read_futures(args.futures)
    try:
        check_futures(futs, args.risk_weight, args.alpha)
    except ValueError as err:  # futures that cannot make one program
        raise InputError(f"{escape(args.futures)}: {err}") from None
    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    extra = {"progress": say} if args.method == "benders" else {}
    res = run_stochastic(futs, risk_weight=args.risk_weight, alpha=args.alpha, options=options or None,
                         method=args.method, **extra)
    if args.value_of_information:
        res.summary["value_of_information"] = value_of_information(
            futs, options=options or None, recourse=res if args.risk_weight == 0 else None, progress=say,
            method=args.method)
    res.summary["command"] = ["dispatch", *argv]
    state.out = out
    res.write(out)
    if not args.quiet:
        s = res.summary
        print(f"capacities [MW]: " + ", ".join(f"{k} {v:,.1f}" for k, v in s["capacity_mw"].items()))
        print(f"expected profit [$]: {s['expected_profit_usd']:,.0f}; CVaR at {s['alpha']:g} [$]: {s['cvar_usd']:,.0f}"
              f"; objective [$]: {s['objective_usd']:,.0f} (risk weight {s['risk_weight']:g}, {s['method']})")
        for name, p in s["probability"].items():
            print(f"  {name}: p {p:.4g}, profit [$] {s['profit_usd'][name]:,.0f}")
        voi = s.get("value_of_information")
        if voi:
            print(f"EVPI [$]: {voi['evpi_usd']:,.0f}; VSS [$]: {voi['vss_usd']:,.0f}")
        print(f"solved in {time.perf_counter() - t0:.1f} s; results: {escape(args.out)}/stochastic.json, "
              f"{escape(args.out)}/future-<name>/")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """``dispatch sweep``: the progress bar on stderr, the best and worst cases on stdout."""
    from .progress import ProgressBar
    from .safety import escape
    from .sweeps import sweep
    from .sweeps.folder import SweepFolderError, check_sweep_folder
    from .sweeps.table import best_and_worst

    bar = None if args.quiet else ProgressBar(sys.stderr)
    out = args.out
    try:
        out = check_sweep_folder(args.out)
        res = sweep(args.spec, out, workers=args.workers, scheduler=args.scheduler, cold=args.cold,
                    keep_cases=args.keep_cases or args.report, plots=not args.no_plots, progress=bar)
    except (KeyboardInterrupt, _Terminated):
        print(f"dispatch: interrupted; the cases finished so far are kept in {escape(out)} "
              "(cases.parquet lists them); run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepFolderError as err:
        return _fail(EXIT_INPUT, "cannot use the sweep folder", err)
    except OSError as err:  # a scheduler that cannot be reached
        if args.scheduler is None:
            raise
        return _fail(EXIT_INPUT, "cannot reach the Dask scheduler", f"{args.scheduler}: {err}")
    if not args.quiet:
        t = res.table
        print(f"{escape(res.spec.name)}: {len(t)} cases, {int((t['status'] == 'ok').sum())} solved, "
              f"{res.failed} failed, {res.reused} already done; {res.engine} with {res.workers} worker(s), "
              f"{res.wall_s:.1f} s")
        print()
        print(best_and_worst(t, res.spec.keys))
        print()
        print(f"table: {escape(out)}/cases.parquet, {escape(out)}/cases.csv"
              + (f"; plots: {escape(out)}/plots/" if res.plots else ""))
    if res.not_run:
        print(f"dispatch: {res.not_run} case(s) not run (a worker was lost); run the same command again to "
              "finish them", file=sys.stderr)
        return EXIT_SOLVER
    if getattr(args, "report", False):  # the cases compared, in the table's order (--report keeps their folders)
        cases = [out / "cases" / str(c) for c in res.table["case"] if (out / "cases" / str(c) / "summary.json").exists()]
        if cases:
            report_after(args, cases, out=out / "report")
    return 0


_POLICY_FLAGS = {"strike_n": "strike", "strike_m": "strike", "target_mw": "merit", "window_h": "rolling",
                 "keep_h": "rolling", "forecast": "rolling", "cp_alert": "rolling"}


def _policy_options(args: argparse.Namespace) -> Any:
    """The policy's settings from the command line; a setting given for another policy, or
    ``--extra`` with a policy other than ``optimal``, is bad input naming the flag."""
    from .errors import InputError, Problem
    from .policies import PolicyOptions

    problems = []
    given = {k: getattr(args, k) for k in _POLICY_FLAGS if getattr(args, k) is not None}
    for k in given:
        if _POLICY_FLAGS[k] != args.policy:
            problems.append(Problem(f"--{k.replace('_', '-')} applies to --policy {_POLICY_FLAGS[k]}, not "
                                    f"{args.policy}"))
    if args.extra and args.policy != "optimal":
        problems.append(Problem(f"--extra applies to --policy optimal only (the {args.policy} policy's decisions "
                                "are its own)"))
    if problems:
        raise InputError(problems)
    if "target_mw" in given:
        try:
            given["target_mw"] = float(given["target_mw"])
        except ValueError:
            pass  # a column name
    try:
        return PolicyOptions(**given)
    except InputError as err:
        raise InputError([Problem(p.message.replace("must be", f"--{p.key.replace('_', '-')} must be", 1)
                                  if p.key else p.message) for p in err.problems]) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
