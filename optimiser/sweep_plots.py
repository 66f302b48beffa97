"""Plots of a sweep's table: the objective and the ASIC / GPU / give-back split against each
varied key.

Every function takes the table (``cases.parquet`` as a DataFrame, or
:attr:`optimiser.sweeps.SweepResult.table`) and a key (a column named as in the spec), plots
the cases that solved, and returns a :class:`matplotlib.figure.Figure` (made without pyplot:
safe in scripts, threads and notebooks alike). Where other keys vary too, the line is the mean
over their values at each value of ``key`` and the band spans the lowest to the highest case.

::

    import pandas as pd
    from optimiser import sweep_plots
    table = optimiser.sweeps.read_table("out/sweep")
    sweep_plots.plot_objective(table, "series.btc_usd").savefig("objective.png")
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

#: The split plotted by :func:`plot_split`: (column, label), profit [$] then energy [MWh].
PROFIT_SPLIT = (("asic_profit_usd", "ASIC mining, net of pool fee and O&M"),
                ("gpu_profit_usd", "GPU hosting, net of SLA credits and O&M"),
                ("giveback_usd", "give-back: energy sales and reserves"))
ENERGY_SPLIT = (("asic_mwh", "ASIC"), ("gpu_mwh", "GPU"), ("energy_mwh.export", "sold back (export)"))

_UNITS = (  # suffix of a scenario key -> unit, longest first
    ("_usd_per_mw_per_h", "$/MW/h"), ("_usd_per_mw_month", "$/MW-month"), ("_usd_per_mw_year", "$/MW-year"),
    ("_usd_per_mwh", "$/MWh"), ("_mw_per_h", "MW/h"), ("_j_per_th", "J/TH"), ("_mwh", "MWh"), ("_mw", "MW"),
    ("_h", "h"), ("_s", "s"),
)
_SHARES = ("availability", "pool_fee", "round_trip_efficiency", "min_soc", "max_soc", "initial_soc")


def key_label(key: str, values: Sequence[Any] = ()) -> str:
    """An axis label for a varied key, with its unit: ``contract_usd_per_mw_per_h [$/MW/h]``,
    ``btc_usd x base [-]`` for a ``series.`` multiplier."""
    if key.startswith("series."):
        col = key[len("series."):]
        if any(isinstance(v, str) for v in values):
            return f"{col}: multiplier of the base [-] or replacement file"
        return f"{col}: multiplier of the base column [-]"
    last = key.rsplit(".", 1)[-1]
    unit = next((u for s, u in _UNITS if last.endswith(s)), None)
    if last in _SHARES:
        unit = "-"
    elif last == "pue":
        unit = "MW/MW"
    elif last == "units":
        unit = "machines"
    return f"{key} [{unit}]" if unit else key


def _ok(table: pd.DataFrame, key: str) -> pd.DataFrame:
    if key not in table.columns:
        raise KeyError(f"the table has no column {key!r}; varied keys are the columns after 'case'")
    return table[table["status"] == "ok"]


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _by_x(ok: pd.DataFrame, key: str, column: str) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    """x positions, the mean / min / max of ``column`` at each value of ``key``, and tick labels."""
    stats = ok.groupby(key, sort=True)[column].agg(["mean", "min", "max"])
    if _numeric(ok[key]):
        return stats.index.to_numpy(dtype=float), stats, []
    labels = [str(v) for v in stats.index]
    return np.arange(len(stats)), stats, labels


def _frame(ax: Any, figsize: tuple[float, float] = (6.4, 4.0)) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_objective(table: pd.DataFrame, key: str, ax: Any = None) -> Any:
    """The objective against ``key``: one point a value, the mean over the other keys' values,
    the band from the lowest to the highest case.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ok = _ok(table, key)
    fig, ax = _frame(ax)
    if ok.empty:
        ax.text(0.5, 0.5, "no case solved", ha="center", va="center", transform=ax.transAxes)
        return fig
    x, st, labels = _by_x(ok, key, "objective_usd")
    scale = 1e6
    ax.plot(x, st["mean"] / scale, marker="o", color="C0", label="objective (mean)")
    if (st["max"] > st["min"]).any():
        ax.fill_between(x, st["min"] / scale, st["max"] / scale, color="C0", alpha=0.2,
                        label="lowest to highest case")
        ax.legend(loc="best", fontsize="small")
    if labels:
        ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_xlabel(key_label(key, list(ok[key])))
    ax.set_ylabel("objective (profit) [million USD]")
    ax.set_title(f"objective against {key}", fontsize="medium")
    ax.grid(alpha=0.3)
    return fig


def plot_split(table: pd.DataFrame, key: str, axes: Sequence[Any] | None = None) -> Any:
    """The ASIC / GPU / give-back split against ``key``: profit by kind [million USD] (left) and
    energy by use [GWh] (right), means over the other keys' values.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    ok = _ok(table, key)
    if axes is None:
        fig = Figure(figsize=(11.0, 4.0), layout="constrained")
        axes = fig.subplots(1, 2)
    else:
        fig = axes[0].figure
    for ax, split, scale, unit in ((axes[0], PROFIT_SPLIT, 1e6, "million USD"), (axes[1], ENERGY_SPLIT, 1e3, "GWh")):
        drawn = False
        labels: list[str] = []
        for i, (col, label) in enumerate(split):
            if col not in ok.columns or ok.empty or ok[col].isna().all():
                continue
            x, st, labels = _by_x(ok, key, col)
            ax.plot(x, st["mean"] / scale, marker="o", color=f"C{i}", label=label)
            if (st["max"] > st["min"]).any():
                ax.fill_between(x, st["min"] / scale, st["max"] / scale, color=f"C{i}", alpha=0.15)
            drawn = True
        if not drawn:
            ax.text(0.5, 0.5, "no case solved", ha="center", va="center", transform=ax.transAxes)
            continue
        if labels:
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_xlabel(key_label(key, list(ok[key])))
        ax.set_ylabel(f"{'profit' if unit != 'GWh' else 'energy'} [{unit}]")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    axes[0].set_title("profit by kind", fontsize="medium")
    axes[1].set_title("energy by use", fontsize="medium")
    return fig


def slug(key: str) -> str:
    """A file name part for a key."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("._") or "key"


def write_plots(table: pd.DataFrame, keys: Sequence[str], folder: str | Path, *, dpi: int = 110) -> list[Path]:
    """Write ``objective_<key>.png`` and ``split_<key>.png`` for every key into ``folder``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import os

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in keys:
        for kind, fn in (("objective", plot_objective), ("split", plot_split)):
            fig = fn(table, key)
            path = out / f"{kind}_{slug(key)}.png"
            tmp = out / f".{path.name}.tmp-{os.getpid()}.png"
            fig.savefig(tmp, dpi=dpi)
            os.replace(tmp, path)
            paths.append(path)
    return paths
