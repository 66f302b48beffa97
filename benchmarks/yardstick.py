"""The yardstick: the dispatch LP written directly with numpy/scipy and handed to highspy.

No Pyomo, no validation, no extension points: read the scenario's TOML and CSVs with pandas,
compute the coefficients with numpy, assemble one sparse matrix, ``Highs.passModel``, solve,
write ``dispatch.csv`` (the same columns as ``dispatch run``) and a ``summary.json`` holding the
objective. It is the limit ``make bench`` measures ``dispatch run`` against.

It poses the *same* LP as :mod:`optimiser` (contract section 3): same columns and rows in the
same order, so HiGHS does the same work; ``tests/test_performance.py`` checks that both find the
same objective. It covers what the benchmark scenarios use (ASIC, GPU and flex fleets given in
MW, reserves, PPA, ramp, demand charge, coincident peak); it is not a second implementation of
the tool.

Run: ``python benchmarks/yardstick.py SCENARIO_DIR --out OUT [--start ..] [--end ..]
[-O key=value ...] [--json]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI, a dependency there
    import tomli as tomllib

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
HALVINGS = ("2012-11-28T15:24:38Z", "2016-07-09T16:46:13Z", "2020-05-11T19:23:43Z",
            "2024-04-20T00:09:27Z", "2028-04-15T00:00:00Z")
REVENUE_SCALE = 3.6e21 / 2.0**32
"""Joules per MWh times hashes per TH over 2**32: R = scale / (e D) (S + F) P. [-]"""
HASHPRICE_SCALE = 86400e15 / 2.0**32
"""Seconds per day times hashes per PH over 2**32. [-]"""


def _load_new_highs() -> Any:
    """``optimiser._highs.new_highs`` (a Highs without the 1.16 banner on stdout), loaded by path:
    importing it through the package would import Pyomo, which the yardstick must not pay for."""
    spec = importlib.util.spec_from_file_location("_dispatch_highs", ROOT / "optimiser" / "_highs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.new_highs


new_highs = _load_new_highs()


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def read(folder: Path, start: str | None = None, end: str | None = None) -> tuple[dict, pd.DataFrame]:
    """The scenario's configuration and its hourly inputs over the horizon (UTC index)."""
    cfg = tomllib.loads((folder / "scenario.toml").read_text())
    start = start or cfg.get("start")
    end = end or cfg.get("end")
    frames = []
    for name in cfg["inputs"]:
        df = pd.read_csv(folder / name)
        df.index = pd.to_datetime(df.pop("timestamp"), utc=True, format="ISO8601")
        frames.append(df)
    hourly_cols = ["price_usd_per_mwh"]
    hourly_cols += [g["spot_usd_per_mwh"] for g in cfg.get("gpu", []) if isinstance(g.get("spot_usd_per_mwh"), str)]
    hourly_cols += [f["revenue_usd_per_mwh"] for f in cfg.get("flex", []) if isinstance(f["revenue_usd_per_mwh"], str)]
    hourly_cols += [r["price_column"] for r in cfg.get("reserve", [])]
    step_cols = ["difficulty", "btc_usd", "fees_btc_per_block", "subsidy_btc"]
    hourly = [df[[c for c in df.columns if c in hourly_cols]] for df in frames]
    hourly = pd.concat([h.groupby(h.index.floor("h")).mean() for h in hourly if h.shape[1]], axis=1)
    lo = _utc(start) if start else hourly.index[0]
    hi = _utc(end) if end else hourly.index[-1] + pd.Timedelta(hours=1)
    hours = pd.date_range(lo, hi, freq="h", inclusive="left", name="timestamp")
    data = hourly.reindex(hours)
    for df in frames:
        for c in df.columns:
            if c in step_cols:
                s = df[c].dropna()
                pos = np.searchsorted(s.index.asi8, hours.asi8, side="right") - 1
                data[c] = s.to_numpy(float)[np.maximum(pos, 0)]
    if cfg.get("asic"):
        if "fees_btc_per_block" not in data:
            data["fees_btc_per_block"] = 0.0
        if "subsidy_btc" not in data:
            dates = cfg.get("bitcoin", {}).get("halving_dates", HALVINGS)
            moments = np.sort([_utc(d).as_unit("ns").value for d in dates])
            data["subsidy_btc"] = 50.0 * np.ldexp(1.0, -np.searchsorted(moments, hours.as_unit("ns").asi8, "right"))
        catalogue = catalogue_dir(cfg, folder)
        for f in cfg["asic"]:
            f["efficiency_j_per_th"] = efficiency(f, catalogue)
    return cfg, data


def catalogue_dir(cfg: dict, folder: Path) -> Path:
    """The machine catalogue :func:`optimiser.load_scenario` reads for this scenario.

    Parameters
    ----------
    cfg
        The scenario's configuration, as read from ``scenario.toml``.
    folder
        The scenario folder.

    Returns
    -------
    Path
        The scenario's ``catalogue`` (relative to ``folder`` unless absolute), else
        ``$DISPATCH_MODELS`` if set and not empty, else the repository's ``models/``.
    """
    if "catalogue" in cfg:
        named = Path(cfg["catalogue"])
        return named if named.is_absolute() else folder / named
    override = os.environ.get("DISPATCH_MODELS", "").strip()
    return Path(override).expanduser() if override else ROOT / "models"


def efficiency(fleet: dict, catalogue: Path) -> float:
    """An ASIC fleet's efficiency as the project resolves it. [J/TH]

    Parameters
    ----------
    fleet
        One ``[[asic]]`` table of ``scenario.toml``.
    catalogue
        The machine catalogue (:func:`catalogue_dir`).

    Returns
    -------
    float
        The fleet's own ``efficiency_j_per_th`` if it states one; else its catalogue machine's
        ``power_w / hashrate_th_per_s``, which is what :mod:`optimiser.catalogue` puts in
        ``Machine.efficiency_j_per_th`` (the file's stated efficiency may differ by up to 2 %).
    """
    if "efficiency_j_per_th" in fleet:
        return float(fleet["efficiency_j_per_th"])
    machine = tomllib.loads((catalogue / "asic" / f"{fleet['model']}.toml").read_text())
    return machine["power_w"] / machine["hashrate_th_per_s"]


def _months(local: pd.DatetimeIndex, period: str) -> tuple[int, np.ndarray]:
    if period == "horizon":
        return 1, np.zeros(len(local), dtype=np.int64)
    code = np.asarray(local.year) * (100 if period == "month" else 1)
    if period == "month":
        code = code + np.asarray(local.month)
    uniq, inv = np.unique(code, return_inverse=True)
    return len(uniq), inv.astype(np.int64)


def _month_share(local: pd.DatetimeIndex, month: np.ndarray) -> np.ndarray:
    """Each month's hours in the horizon over the hours of its calendar month (local time). [-]"""
    share = np.empty(month.max() + 1 if len(month) else 0)
    for j in range(len(share)):
        t = local[np.flatnonzero(month == j)[0]]
        first = pd.Timestamp(year=t.year, month=t.month, day=1).tz_localize(t.tz, nonexistent="shift_forward")
        share[j] = np.count_nonzero(month == j) / ((first + pd.offsets.MonthBegin(1) - first) / pd.Timedelta(hours=1))
    return share


class _LP:
    """Columns and triplets, appended block by block."""

    def __init__(self) -> None:
        self.n_col = 0
        self.ub: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.r: list[np.ndarray] = []
        self.k: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n_row = 0

    def cols(self, n: int, ub: Any) -> int:
        first = self.n_col
        self.n_col += n
        self.ub.append(np.broadcast_to(np.asarray(ub, float), (n,)))
        self.c.append(np.zeros(n))
        return first

    def rows(self, n: int, lo: Any, hi: Any) -> int:
        first = self.n_row
        self.n_row += n
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (n,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (n,)))
        return first

    def add(self, row: np.ndarray, col: np.ndarray, val: Any) -> None:
        self.r.append(np.asarray(row, np.int64))
        self.k.append(np.asarray(col, np.int64))
        self.v.append(np.broadcast_to(np.asarray(val, float), (len(row),)))


def build(cfg: dict, data: pd.DataFrame) -> dict:
    """The LP's arrays (maximise ``c.x + offset``) and what is needed to report the answer."""
    n = len(data)
    t = np.arange(n)
    local = data.index.tz_convert(cfg.get("timezone", "UTC"))
    price = data["price_usd_per_mwh"].to_numpy(float)
    site = cfg["site"]
    ppa = cfg.get("ppa")
    ppa_mw = ppa["volume_mw"] if ppa else 0.0
    export_mw = site.get("export_mw", ppa_mw)
    adder = site.get("energy_adder_usd_per_mwh", 0.0)

    def series(v: Any) -> np.ndarray:
        return data[v].to_numpy(float) if isinstance(v, str) else np.full(n, float(v))

    lp = _LP()
    c_parts: dict[int, np.ndarray] = {}
    offset = 0.0
    loads: list[tuple[str, int, float]] = []  # (kind, first column, pue)
    out: dict[str, Any] = {"asic": [], "gpu": [], "flex": []}
    hourly_const = np.zeros(n)

    asic = cfg.get("asic", [])
    if asic:
        D, S, F, P = (data[c].to_numpy(float) for c in ("difficulty", "subsidy_btc", "fees_btc_per_block", "btc_usd"))
        out["hashprice"] = HASHPRICE_SCALE / D * (S + F) * P
        first = lp.cols(len(asic) * n, np.repeat([f["capacity_mw"] for f in asic], n))
        for i, f in enumerate(asic):
            col = first + i * n
            gross = REVENUE_SCALE / f["efficiency_j_per_th"] / D * (S + F) * P
            c_parts[col] = gross - gross * f.get("pool_fee", 0.0) - f.get("om_usd_per_mwh", 0.0)
            loads.append(("asic", col, f.get("pue", 1.0)))
            out["asic"].append((f["name"], col))
    gpu = cfg.get("gpu", [])
    sla: list[tuple[int, np.ndarray, np.ndarray]] = []
    if gpu:
        firm0 = lp.cols(len(gpu) * n, np.repeat([g["contract_mw"] for g in gpu], n))
        spot0 = lp.cols(len(gpu) * n, np.repeat([g["capacity_mw"] - g["contract_mw"] for g in gpu], n))
        for i, g in enumerate(gpu):
            fc, sc_ = firm0 + i * n, spot0 + i * n
            credit, om = g.get("sla_credit_usd_per_mwh", 0.0), g.get("om_usd_per_mwh", 0.0)
            c_parts[fc] = np.full(n, credit - om)
            c_parts[sc_] = series(g.get("spot_usd_per_mwh", 0.0)) - om
            passthrough = g.get("pue", 1.0) * series(g.get("power_passthrough_usd_per_mwh", 0.0))
            c_parts[fc] = c_parts[fc] + passthrough
            c_parts[sc_] = c_parts[sc_] + passthrough
            hourly_const += g["contract_usd_per_mw_per_h"] * g["contract_mw"] - credit * g["contract_mw"]
            loads.append(("gpu_firm", fc, g.get("pue", 1.0)))
            loads.append(("gpu", sc_, g.get("pue", 1.0)))
            out["gpu"].append((g["name"], fc, sc_, g["contract_mw"]))
            avail = g.get("availability", 1.0)
            if avail > 0 and g["contract_mw"] > 0:
                n_per, per = _months(local, g.get("billing_period", "month"))
                sla.append((fc, per, avail * g["contract_mw"] * np.bincount(per, minlength=n_per)))
    flex = cfg.get("flex", [])
    if flex:
        first = lp.cols(len(flex) * n, np.repeat([f["capacity_mw"] for f in flex], n))
        for i, f in enumerate(flex):
            col = first + i * n
            c_parts[col] = series(f["revenue_usd_per_mwh"]) - f.get("om_usd_per_mwh", 0.0)
            loads.append(("flex", col, f.get("pue", 1.0)))
            out["flex"].append((f["name"], col))
    imp = lp.cols(n, site["import_mw"])
    exp = lp.cols(n, export_mw)
    c_parts[exp] = price.copy()
    c_parts[imp] = -price
    # what the meter bills: the load (each draw's column and pue) or the import
    metered = [(col, pue) for _, col, pue in loads] if site.get("metering", "load") == "load" else [(imp, 1.0)]
    for col, pue in metered:
        c_parts[col] = c_parts[col] - adder * pue
    if ppa:
        hourly_const -= ppa["volume_mw"] * ppa["price_usd_per_mwh"]
    reserve = cfg.get("reserve", [])
    if reserve:
        off0 = lp.cols(len(reserve) * n, np.repeat([r["max_mw"] for r in reserve], n))
        for i, r in enumerate(reserve):
            c_parts[off0 + i * n] = series(r["price_column"])
        out["reserve"] = (off0, [r["product"] for r in reserve])
    dc = cfg.get("demand_charge")
    if dc:
        n_month, month = _months(local, "month")
        peak0 = lp.cols(n_month, site["import_mw"] if site.get("metering", "load") == "net" else np.inf)
        c_parts[peak0] = -dc["usd_per_mw_month"] * _month_share(local, month)
        out["peak"] = (peak0, month)
    cp = cfg.get("coincident_peak")
    if cp:
        where = data.index.get_indexer([_utc(s) for s in cp["intervals"]])
        years = [_utc(s_).tz_convert(cfg.get("timezone", "UTC")).year for s_ in cp["intervals"]]
        cp_cost = np.zeros(n)
        for w, y in zip(where, years):  # each year's rate over that year's listed intervals
            if w >= 0:
                cp_cost[w] += cp["usd_per_mw_year"] / years.count(y)
        for col, pue in metered:
            c_parts[col] = c_parts[col] - cp_cost * pue

    # rows, in the order the model registers them
    for fc, per, rhs in sla:
        r0 = lp.rows(len(rhs), rhs, np.inf)
        lp.add(r0 + per, fc + t, 1.0)
    ramp = site.get("ramp_mw_per_h")
    if ramp is not None and n > 1:
        r0 = lp.rows(n - 1, -ramp, ramp)
        for _, col, pue in loads:
            lp.add(r0 + t[1:] - 1, col + t[1:], pue)
            lp.add(r0 + t[:-1], col + t[:-1], -pue)
    if reserve:
        r0 = lp.rows(len(reserve) * n, -np.inf, 0.0)
        for i, r in enumerate(reserve):
            lp.add(r0 + i * n + t, off0 + i * n + t, 1.0)
            for kind, col, pue in loads:
                if kind in r.get("eligible", ("asic", "flex")):
                    lp.add(r0 + i * n + t, col + t, -pue)
        if len(reserve) > 1:
            kinds = {k for r in reserve for k in r.get("eligible", ("asic", "flex"))}
            r0 = lp.rows(n, -np.inf, 0.0)
            lp.add(np.tile(r0 + t, len(reserve)), off0 + np.arange(len(reserve) * n), 1.0)
            for kind, col, pue in loads:
                if kind in kinds:
                    lp.add(r0 + t, col + t, -pue)
    if dc:
        r0 = lp.rows(n, 0.0, np.inf)
        lp.add(r0 + t, peak0 + month, 1.0)
        for col, pue in metered:
            lp.add(r0 + t, col + t, -pue)
    bal = lp.rows(n, ppa_mw, ppa_mw)
    for _, col, pue in loads:
        lp.add(bal + t, col + t, pue)
    lp.add(bal + t, exp + t, 1.0)
    lp.add(bal + t, imp + t, -1.0)

    c = np.concatenate(lp.c)
    for col, vals in c_parts.items():
        c[col : col + len(vals)] += vals
    offset = float(hourly_const.sum())
    A = sp.csc_array((np.concatenate(lp.v), (np.concatenate(lp.r), np.concatenate(lp.k))),
                     shape=(lp.n_row, lp.n_col))
    A.sum_duplicates()
    return {"c": c, "offset": offset, "A": A, "col_hi": np.concatenate(lp.ub), "row_lo": np.concatenate(lp.lo),
            "row_hi": np.concatenate(lp.hi), "balance": bal, "imp": imp, "exp": exp, "loads": loads,
            "price": price, "hourly_const": hourly_const, "out": out, "n": n, "c_parts": c_parts,
            "metered": metered}


def handover(lp: dict, options: dict[str, Any]) -> highspy.Highs:
    """Pass the LP to a new HiGHS instance (as a minimisation of ``-c``)."""
    h = new_highs()
    for k, v in options.items():
        if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS rejected option {k}={v!r}")
    A = lp["A"]
    n_row, n_col = A.shape
    h.passModel(n_col, n_row, A.nnz, 1, 1, -lp["offset"], -lp["c"], np.zeros(n_col), lp["col_hi"], lp["row_lo"],
                lp["row_hi"], A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data,
                np.zeros(n_col, dtype=np.int32))
    return h


def solve(h: highspy.Highs) -> tuple[str, float, np.ndarray, np.ndarray]:
    """Run HiGHS: status, objective (maximised), column values, row duals (of the maximisation)."""
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        raise RuntimeError(f"HiGHS ended with status {status}")
    sol = h.getSolution()
    return status, -float(h.getInfo().objective_function_value), np.asarray(sol.col_value), -np.asarray(sol.row_dual)


def write(out: Path, data: pd.DataFrame, lp: dict, x: np.ndarray, y: np.ndarray, objective: float) -> None:
    """Write ``dispatch.csv`` (the columns of ``dispatch run``) and ``summary.json``."""
    n, o = lp["n"], lp["out"]
    t = np.arange(n)
    cols: dict[str, np.ndarray] = {"price_usd_per_mwh": lp["price"],
                                   "hashprice_usd_per_ph_day": o.get("hashprice", np.full(n, np.nan))}
    for name, col in o["asic"]:
        cols[f"asic_{name}_mw"] = x[col : col + n]
    for name, fc, sc_, contract in o["gpu"]:
        cols[f"gpu_{name}_firm_mw"] = x[fc : fc + n]
        cols[f"gpu_{name}_spot_mw"] = x[sc_ : sc_ + n]
        cols[f"gpu_{name}_shortfall_mw"] = np.maximum(contract - x[fc : fc + n], 0.0)
    for name, col in o["flex"]:
        cols[f"flex_{name}_mw"] = x[col : col + n]
    if "reserve" in o:
        off0, names = o["reserve"]
        for i, a in enumerate(names):
            cols[f"reserve_{a}_mw"] = x[off0 + i * n : off0 + (i + 1) * n]
    load = np.zeros(n)
    for _, col, pue in lp["loads"]:
        load += pue * x[col : col + n]
    net = x[lp["imp"] : lp["imp"] + n] - x[lp["exp"] : lp["exp"] + n]
    cols["load_mw"] = load
    cols["import_mw"] = np.maximum(net, 0.0)
    cols["export_mw"] = np.maximum(-net, 0.0)
    cols["marginal_value_usd_per_mwh"] = y[lp["balance"] : lp["balance"] + n]
    profit = lp["hourly_const"].copy()
    for col, coef in lp["c_parts"].items():
        if "peak" in o and col == o["peak"][0]:
            continue
        profit += coef * x[col : col + n]
    if "peak" in o:
        peak0, month = o["peak"]
        metered = sum(pue * x[col : col + n] for col, pue in lp["metered"])
        for j in range(month.max() + 1 if len(month) else 0):
            hrs = np.flatnonzero(month == j)
            profit[hrs[np.argmax(metered[hrs])]] += lp["c_parts"][peak0][j] * x[peak0 + j]
    cols["profit_usd"] = profit
    frame = pd.DataFrame(cols, index=data.index.strftime("%Y-%m-%dT%H:%M:%SZ").rename("timestamp"))
    mw = [c for c in frame.columns if c.endswith("_mw")]
    vals = frame[mw].to_numpy(copy=True)
    vals[np.abs(vals) < 1e-7] = 0.0
    frame[mw] = vals
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "dispatch.csv", float_format="%.10g", lineterminator="\n")
    (out / "summary.json").write_text(json.dumps({"objective_usd": objective, "hours": n}, indent=2) + "\n")


def run(folder: str | Path, out: str | Path, start: str | None = None, end: str | None = None,
        options: dict[str, Any] | None = None, edit: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Read, build, hand over, solve and write.

    Parameters
    ----------
    folder, out
        The scenario folder and the folder to write ``dispatch.csv`` and ``summary.json`` to.
    start, end
        Override the horizon (ISO 8601).
    options
        HiGHS options; default dual simplex with presolve off (the project's default).
    edit
        Changes the LP's arrays (the dict :func:`build` returns) in place before the hand-over,
        e.g. to pose a user's edit of the model (``benchmarks/run.py --edits``); timed with the build.

    Returns
    -------
    dict
        The objective (``objective_usd``), HiGHS's status, the LP's size and the time of each step
        (``read_s``, ``build_s``, ``handover_s``, ``solve_s``, ``write_s``). [s]
    """
    t0 = time.perf_counter()
    cfg, data = read(Path(folder), start, end)
    t1 = time.perf_counter()
    lp = build(cfg, data)
    if edit is not None:
        edit(lp)
    t2 = time.perf_counter()
    h = handover(lp, dict(options or {"solver": "simplex", "simplex_strategy": 1, "presolve": "off"}))
    t3 = time.perf_counter()
    status, objective, x, y = solve(h)
    t4 = time.perf_counter()
    write(Path(out), data, lp, x, y, objective)
    t5 = time.perf_counter()
    return {"objective_usd": objective, "status": status, "rows": lp["A"].shape[0], "columns": lp["A"].shape[1],
            "nonzeros": int(lp["A"].nnz), "read_s": t1 - t0, "build_s": t2 - t1, "handover_s": t3 - t2,
            "solve_s": t4 - t3, "write_s": t5 - t4}


def _option(text: str) -> tuple[str, Any]:
    key, val = text.split("=", 1)
    for conv in (int, float):
        try:
            return key, conv(val)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(val.lower(), val)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument("-O", "--solver-option", action="append", type=_option, default=[])
    p.add_argument("--json", action="store_true", help="print the timings as JSON")
    args = p.parse_args(argv)
    res = run(args.scenario, args.out, args.start, args.end, dict(args.solver_option) or None)
    print(json.dumps(res) if args.json else f"objective {res['objective_usd']:.2f} USD, {res['rows']} rows x "
          f"{res['columns']} columns; " + ", ".join(f"{k[:-2]} {v:.3f} s" for k, v in res.items() if k.endswith("_s")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
