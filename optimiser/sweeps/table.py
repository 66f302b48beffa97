"""The sweep's table: one tidy row per case, assembled from the row files.

Columns, in order:

``case``
    The case id (rows are sorted by it).
one column per varied key, named as in the spec
    The case's value (the base scenario's where the case does not set the key; 1.0 for a
    ``series.`` multiplier not given; a replacement file by its name as written).
``status``, ``error``
    ``ok``, ``bad input``, ``infeasible``, ``solver error`` or ``error`` (an unexpected failure,
    solved again by the next run), ``not run`` (the sweep was stopped before it); the message.
``objective_usd``, ``revenue_usd``, ``cost_usd``
    The objective and the totals. [$]
``asic_profit_usd``, ``gpu_profit_usd``, ``flex_profit_usd``, ``battery_profit_usd``, ``giveback_usd``
    The split the plots show: each kind of fleet's revenue less its own costs (pool fee, O&M,
    SLA credits), and the revenue of giving power back (``energy_sales`` and ``reserve_*``). [$]
``revenue_usd.<stream>``, ``cost_usd.<stream>``
    Every stream of ``summary.json``. [$]
``energy_mwh.<use>``, ``asic_mwh``, ``gpu_mwh``
    Energy by use, and the IT energy of all ASIC and of all GPU fleets. [MWh]
``gpu_availability.<fleet>``
    Availability achieved over the horizon. [-]
``hours``, ``warm``, ``cold_check_rel_diff``, ``iterations``, ``solve_s``, ``case_s``, ``case_cpu_s``
    The horizon; whether the case was solved warm; the relative difference of the objective to a
    cold solve of the same case where one was made; HiGHS's iterations and seconds; the case's
    wall and CPU time from its changes to its row (a cold check included). [h, -, -, -, s, s, s]
``warnings``, ``key``
    The case's warnings joined by `` | ``; the hash of its inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: The streams of giving power back to the grid.
GIVEBACK_PREFIXES = ("energy_sales", "reserve_")

#: Fleet kinds split out in the table and the plots, by the prefix of their stream names.
KINDS = ("asic", "gpu", "flex", "battery")


def row_from_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The table's values of one solved case, from its ``summary.json`` content."""
    rev = summary["revenue_usd"]
    cost = summary["cost_usd"]
    row: dict[str, Any] = {
        "objective_usd": float(summary["objective_usd"]),
        "revenue_usd": float(sum(rev.values())),
        "cost_usd": float(sum(cost.values())),
    }
    for kind in KINDS:
        p = f"{kind}_"
        row[f"{kind}_profit_usd"] = float(sum(v for k, v in rev.items() if k.startswith(p))
                                          - sum(v for k, v in cost.items() if k.startswith(p)))
    row["giveback_usd"] = float(sum(v for k, v in rev.items() if k.startswith(GIVEBACK_PREFIXES)))
    row.update({f"revenue_usd.{k}": float(v) for k, v in rev.items()})
    row.update({f"cost_usd.{k}": float(v) for k, v in cost.items()})
    energy = summary["energy_mwh"]
    row.update({f"energy_mwh.{k}": float(v) for k, v in energy.items()})
    row["asic_mwh"] = float(sum(v for k, v in energy.items() if k.startswith("asic_")))
    row["gpu_mwh"] = float(sum(v for k, v in energy.items() if k.startswith("gpu_")))
    row.update({f"gpu_availability.{k}": float(v) for k, v in summary.get("gpu_availability", {}).items()})
    row.update({f"capacity_mw.{k}": float(v) for k, v in summary.get("capacity_mw", {}).items()})
    inv = summary.get("investment") or {}
    if inv.get("capex_usd"):
        row.update(capex_usd=float(inv["capex_usd"]), npv_usd=inv.get("npv_usd"), payback_years=inv.get("payback_years"))
    s = summary["solver"]
    row.update(hours=int(summary["hours"]), iterations=int(s["iterations"]), solve_s=float(s["solve_s"]))
    row["warnings"] = " | ".join(summary.get("warnings", []))
    return row


_HEAD = ("case",)
_STATUS = ("status", "error", "objective_usd", "revenue_usd", "cost_usd",
           "asic_profit_usd", "gpu_profit_usd", "flex_profit_usd", "battery_profit_usd", "giveback_usd")
_TAIL = ("hours", "warm", "cold_check_rel_diff", "iterations", "solve_s", "case_s", "case_cpu_s", "warnings", "key")


def assemble(spec: Any, rows: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The table of every case of ``spec`` (rows by case id; a case without one is ``not run``)."""
    values = {c.id: spec.values(c) for c in spec.cases}
    records = []
    for c in spec.cases:
        r = rows.get(c.id)
        rec: dict[str, Any] = {"case": c.id, **values[c.id]}
        if r is None:
            rec.update(status="not run", error="the sweep stopped before this case; run it again to finish")
        else:
            rec.update({k: v for k, v in r.items() if k not in ("summary", "traceback", "chain", "folder",
                                                                 "cold_fallback", "case")})
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    streams = [c for c in frame.columns if c.startswith(("revenue_usd.", "cost_usd.", "energy_mwh."))]
    streams = [c for p in ("revenue_usd.", "cost_usd.", "energy_mwh.") for c in streams if c.startswith(p)]
    energy_totals = ("asic_mwh", "gpu_mwh")
    avail = [c for c in frame.columns if c.startswith("gpu_availability.")]
    order = [*_HEAD, *spec.keys, *_STATUS, *streams, *energy_totals, *avail, *_TAIL]
    for col in order:
        if col not in frame.columns:
            frame[col] = np.nan
    rest = [c for c in frame.columns if c not in order]
    frame = frame[order + rest]
    for key in spec.keys:  # a key with numbers and text (a multiplier and a file) is text
        col = frame[key]
        kinds = {type(v) for v in col if v is not None}
        if str in kinds and len(kinds) > 1:
            frame[key] = col.map(lambda v: None if v is None else str(v))
        elif kinds <= {int, float} and kinds:
            frame[key] = col.astype(float)
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    frame["warm"] = frame["warm"].astype("boolean")
    frame["iterations"] = frame["iterations"].astype("Int64")
    frame["hours"] = frame["hours"].astype("Int64")
    return frame.sort_values("case", kind="stable").reset_index(drop=True)


def _fastparquet() -> Any:
    """fastparquet, imported quietly: it reads a pandas option pandas 3 deprecates.

    Parquet is written and read with fastparquet's own API, not pyarrow: pandas imports pyarrow
    at start-up whenever it is installed, which would cost every ``dispatch run`` about 75 MB.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*infer_string.*")
        import fastparquet
    return fastparquet


def read_table(folder: str | Path) -> pd.DataFrame:
    """The sweep's table, ``cases.parquet`` of a sweep folder, as a DataFrame (one row a case)."""
    return _fastparquet().ParquetFile(str(Path(folder) / "cases.parquet")).to_pandas()


def write_table(frame: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """Write ``cases.parquet`` and ``cases.csv`` atomically (temporary name, then rename)."""
    import os

    fp = _fastparquet()
    out = []
    for name, write in (("cases.parquet", lambda p: fp.write(str(p), frame, write_index=False)),
                        ("cases.csv", lambda p: frame.to_csv(p, index=False, float_format="%.10g",
                                                              lineterminator="\n"))):
        path = folder / name
        tmp = folder / f".{name}.tmp-{os.getpid()}"
        write(tmp)
        os.replace(tmp, path)
        out.append(path)
    return out[0], out[1]


def best_and_worst(frame: pd.DataFrame, keys: tuple[str, ...], n: int = 5) -> str:
    """A short text table of the ``n`` best and ``n`` worst cases by objective, and the failures."""
    from ..safety import escape

    ok = frame[frame["status"] == "ok"].sort_values(["objective_usd", "case"], ascending=[False, True])
    cols = list(keys)
    lines = []

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.6g}"
        return escape(v)

    widths = [max([len("case")] + [len(escape(c)) for c in frame["case"]])]
    widths += [max(len(escape(k)), *(len(fmt(v)) for v in frame[k])) for k in cols]
    head = "  ".join(h.ljust(w) for h, w in zip(["case", *map(escape, cols)], widths)) + f"  {'objective USD':>16}"

    def line(r: pd.Series) -> str:
        cells = [escape(r["case"]).ljust(widths[0])] + [fmt(r[k]).ljust(w) for k, w in zip(cols, widths[1:])]
        return "  ".join(cells) + f"  {r['objective_usd']:>16,.0f}"

    if len(ok):
        if len(ok) <= 2 * n:
            lines += [f"cases by objective ({len(ok)})", head] + [line(r) for _, r in ok.iterrows()]
        else:
            lines += [f"best {n} of {len(ok)} cases", head] + [line(r) for _, r in ok.head(n).iterrows()]
            lines += ["", f"worst {n}", head] + [line(r) for _, r in ok.tail(n).iloc[::-1].iterrows()]
    bad = frame[frame["status"] != "ok"]
    if len(bad):
        lines.append("")
        lines.append(f"{len(bad)} case{'s' if len(bad) != 1 else ''} without an answer:")
        for _, r in bad.head(10).iterrows():
            err = escape(r["error"] or "")
            lines.append(f"  {escape(r['case'])}: {r['status']}: {err[:200]}{'...' if len(err) > 200 else ''}")
        if len(bad) > 10:
            lines.append(f"  ... and {len(bad) - 10} more (column 'error' of the table)")
    return "\n".join(lines)
