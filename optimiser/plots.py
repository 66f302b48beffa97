"""Figures and small tables for notebooks: the inputs, a week of dispatch, the streams.

Nothing here is needed to solve a scenario; it reads a :class:`~optimiser.Scenario` or a
:class:`~optimiser.Results` and draws with matplotlib (imported when a function is called,
so ``import optimiser`` stays light)::

    from optimiser import plots
    plots.plot_inputs(sc)
    plots.plot_week(res, "2025-08-20")
    plots.plot_streams(res)
    plots.use_split_mw(res, sc).sum()      # MWh that went to ASICs, GPUs, or back to the grid

Every function returns what it drew on (a matplotlib ``Axes`` or ``Figure``) and prints nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .bitcoin import hashprice_usd_per_ph_day

if TYPE_CHECKING:  # pragma: no cover
    from .results import Results
    from .scenario import Scenario

__all__ = ["fleet_columns", "plot_inputs", "plot_streams", "plot_week", "use_split_mw"]

#: Colours by use, shared by every figure (these and :mod:`optimiser.report`'s) so a notebook and
#: a report read consistently: ``asic``, ``gpu`` (firm), ``gpu_spot``, ``flex`` fleets;
#: ``handed_back`` (power sold to the grid, and what the fleets could have drawn but did not);
#: ``curtailed`` (an hour whose load was cut, in the price-duration curve); ``shortfall`` (GPU
#: contract not delivered); ``battery``; ``reserve`` (capacity offered); ``import`` (energy
#: bought); ``ppa``; ``grid_charges`` (demand and coincident-peak charges); ``running`` (an hour
#: with every fleet at full power); ``other`` (a stream of no use above).
USE_COLOURS: dict[str, str] = {
    "asic": "#f2a900",
    "gpu": "#76b900",
    "gpu_spot": "#b5e06a",
    "flex": "#8c6bb1",
    "handed_back": "#4a90d9",
    "curtailed": "#a6cbe8",
    "shortfall": "#d62728",
    "battery": "#17becf",
    "reserve": "#e377c2",
    "import": "#8c8c8c",
    "ppa": "#4d4d4d",
    "grid_charges": "#a0522d",
    "running": "#f7d070",
    "other": "#bcbd22",
}


def fleet_columns(dispatch: pd.DataFrame) -> dict[str, list[str]]:
    """The ``dispatch`` columns holding fleet power, by use.

    Returns
    -------
    dict
        ``{"asic": [...], "gpu": [...firm and spot...], "flex": [...]}``: IT power columns. [MW]
    """
    cols = list(dispatch.columns)
    return {
        "asic": [c for c in cols if c.startswith("asic_") and c.endswith("_mw")],
        "gpu": [c for c in cols if c.startswith("gpu_") and c.endswith(("_firm_mw", "_spot_mw"))],
        "flex": [c for c in cols if c.startswith("flex_") and c.endswith("_mw")],
    }


def use_split_mw(results: "Results", scenario: "Scenario") -> pd.DataFrame:
    """Hour by hour, where the site's power went: ASICs, GPUs, other flexible load, or the grid.

    Power is counted at the meter (IT power times the fleet's PUE). What the fleets could have
    drawn but did not is ``handed_back_mw``: the site's usable power, the smaller of what all
    fleets draw at full load and what the grid connection plus the PPA can supply, less the
    load. So the four columns add up to the usable power every hour.

    Parameters
    ----------
    results
        From :func:`optimiser.solve` or :func:`optimiser.run`.
    scenario
        The scenario that was solved (for the PUEs and limits).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``results.dispatch``; columns ``asic_mw``, ``gpu_mw``, ``flex_mw``,
        ``handed_back_mw``. [MW]; ``.sum()`` gives energy. [MWh]
    """
    cfg = scenario.config
    d = results.dispatch
    usable = min(sum(f.pue * f.capacity_mw for _, f in cfg.fleets()), cfg.site.import_mw + cfg.ppa_mw)
    if getattr(results, "uses_mw", None) is not None:  # what each component drew, by use
        out = results.uses_mw.copy()
        for c in ("asic_mw", "gpu_mw", "flex_mw"):
            if c not in out:
                out[c] = 0.0
        out["handed_back_mw"] = (usable - out.sum(axis=1)).clip(lower=0.0)
        return out
    out = pd.DataFrame(index=d.index)
    out["asic_mw"] = sum((f.pue * d[f"asic_{f.name}_mw"] for f in cfg.asic), start=pd.Series(0.0, index=d.index))
    out["gpu_mw"] = sum(
        (g.pue * (d[f"gpu_{g.name}_firm_mw"] + d[f"gpu_{g.name}_spot_mw"]) for g in cfg.gpu),
        start=pd.Series(0.0, index=d.index),
    )
    out["flex_mw"] = sum((f.pue * d[f"flex_{f.name}_mw"] for f in cfg.flex), start=pd.Series(0.0, index=d.index))
    load = out[["asic_mw", "gpu_mw", "flex_mw"]].sum(axis=1)
    out["handed_back_mw"] = (usable - load).clip(lower=0.0)
    return out


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


def plot_inputs(scenario: "Scenario", axes: Any = None) -> Any:
    """Energy price and hashprice over the horizon (hourly, with a daily mean).

    Parameters
    ----------
    scenario
        A loaded scenario; the hashprice is computed from its Bitcoin columns (if it has ASICs).
    axes
        Two matplotlib Axes to draw on; default a new figure.

    Returns
    -------
    numpy.ndarray
        The two Axes (price [$/MWh], hashprice [$/PH/day]).
    """
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True)
    d = scenario.data.tz_convert(scenario.config.timezone)
    ax = axes[0]
    price = d["price_usd_per_mwh"]
    ax.plot(price.index, price.to_numpy(), lw=0.4, color="0.6", label="hourly")
    daily = price.resample("D").mean()
    ax.plot(daily.index, daily.to_numpy(), lw=1.5, color="k", label="daily mean")
    ax.set_yscale("symlog", linthresh=100)
    ax.set_ylabel("energy price [$/MWh]")
    ax.legend(loc="upper left", frameon=False)
    ax = axes[1]
    if {"difficulty", "btc_usd", "subsidy_btc", "fees_btc_per_block"} <= set(d.columns):
        hp = hashprice_usd_per_ph_day(d["difficulty"], d["subsidy_btc"], d["fees_btc_per_block"], d["btc_usd"])
        ax.plot(d.index, hp, lw=1.0, color=USE_COLOURS["asic"])
    ax.set_ylabel("hashprice [$/PH/day]")
    ax.set_xlabel(f"time [{scenario.config.timezone}]")
    ax.figure.autofmt_xdate()
    return axes


def plot_week(
    results: "Results",
    start: str | pd.Timestamp,
    days: float = 7,
    timezone: str | None = None,
    axes: Any = None,
) -> Any:
    """A stretch of the hourly dispatch: fleet power stacked, GPU shortfall, price and marginal value.

    Parameters
    ----------
    results
        A solved scenario.
    start
        First hour shown; a string without an offset is read in ``timezone``.
    days
        How many days to show. [d]
    timezone
        Time zone of the axis; default the scenario's (``results.summary["timezone"]``).
    axes
        Two matplotlib Axes to draw on; default a new figure.

    Returns
    -------
    numpy.ndarray
        The two Axes (IT power [MW]; price and marginal value [$/MWh]).
    """
    plt = _plt()
    tz = timezone or results.summary.get("timezone", "UTC")
    t0 = pd.Timestamp(start)
    t0 = t0.tz_localize(tz) if t0.tzinfo is None else t0
    t1 = t0 + pd.Timedelta(days=days)
    d = results.dispatch.tz_convert(tz)
    d = d.loc[(d.index >= t0) & (d.index < t1)]
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(11, 6), sharex=True, height_ratios=[3, 2])
    ax = axes[0]
    cols = fleet_columns(d)
    series, labels, colours = [], [], []
    for use in ("gpu", "asic", "flex"):
        for i, c in enumerate(cols[use]):
            series.append(d[c].to_numpy())
            labels.append(c.removesuffix("_mw"))
            base = USE_COLOURS["gpu_spot"] if c.endswith("_spot_mw") else USE_COLOURS[use]
            colours.append(_shade(base, i if use != "gpu" else i // 2))
    if series:
        ax.stackplot(d.index, *series, labels=labels, colors=colours, step="post", alpha=0.9)
    for c in [c for c in d.columns if c.endswith("_shortfall_mw")]:
        if (d[c] > 0).any():
            firm = d[c.replace("_shortfall_mw", "_firm_mw")]
            ax.bar(d.index, d[c], bottom=firm, width=1 / 24, align="edge", color="none",
                   edgecolor=USE_COLOURS["shortfall"], hatch="////", lw=0.8, label=c.removesuffix("_mw"))
    ax.step(d.index, d["load_mw"], where="post", color="k", lw=1, label="load at the meter")
    ax.set_ylabel("power [MW] (fleets: IT)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax = axes[1]
    ax.step(d.index, d["price_usd_per_mwh"], where="post", color="k", lw=1, label="energy price")
    ax.step(d.index, d["marginal_value_usd_per_mwh"], where="post", color=USE_COLOURS["handed_back"], lw=1,
            ls="--", label="marginal value of site power")
    ax.set_yscale("symlog", linthresh=100)
    ax.set_ylabel("[$/MWh]")
    ax.set_xlabel(f"time [{tz}]")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.figure.autofmt_xdate()
    return axes


def _shade(colour: str, i: int) -> Any:
    """The ``i``-th shade of a colour: 0 is the colour itself, then darker, lighter, darker..."""
    from matplotlib.colors import to_rgb

    rgb = np.array(to_rgb(colour))
    if i == 0:
        return tuple(rgb)
    k = (i + 1) // 2 * 0.25
    return tuple(rgb * (1 - k)) if i % 2 else tuple(rgb + (1 - rgb) * k)


def plot_streams(results: "Results", ax: Any = None) -> Any:
    """Revenue (right) and cost (left) streams of the objective, in millions of dollars, each in
    the colour of its use (``asic_s21_mining`` and ``asic_s21_om`` both ASIC; see
    :func:`optimiser.report.data.stream_group`).

    Parameters
    ----------
    results
        A solved scenario.
    ax
        A matplotlib Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .report.data import stream_groups

    plt = _plt()
    s = stream_groups(results)  # each stream with the colour of its use (USE_COLOURS)
    s = s.assign(musd=s["signed_usd"] / 1e6)
    s = s[s["usd"].abs() > 0].sort_values("musd")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.32 * len(s) + 1.2))
    ax.barh(s["stream"], s["musd"], color=list(s["colour"]))
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("[M$] (revenue > 0, cost < 0)")
    ax.set_title(f"objective {results.objective_usd / 1e6:,.2f} M$")
    return ax
