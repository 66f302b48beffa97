"""The report's figures as matplotlib functions, for notebooks as much as for the report.

Each takes :class:`optimiser.Results`, a results folder read back
(:func:`optimiser.read_results`) or its path, draws one figure and returns it; nothing is
solved again. With ``fig=None`` the figure is made with ``matplotlib.pyplot`` (so a notebook
shows it); the report passes a ``matplotlib.figure.Figure`` of its own and never imports pyplot.
Colours are :data:`optimiser.plots.USE_COLOURS`: one colour per use in every figure.
Every axis carries its unit; sizes suit an A4 page (7.2 inches wide)::

    import optimiser
    from optimiser import report
    rr = optimiser.read_results("out/example")
    report.plot_dispatch_week(rr, "typical")
    report.plot_monthly_profit(rr)
"""

from __future__ import annotations

import re
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..plots import USE_COLOURS, _shade
from ..readback import as_results
from . import data as D

__all__ = [
    "FIGURE_SIZES", "plot_breakeven", "plot_dispatch_week", "plot_energy_by_use", "plot_gpu_availability",
    "plot_marginal_value_heatmap", "plot_monthly_profit", "plot_price_duration", "plot_stream_differences",
    "plot_streams_by_use", "plot_weeks_compared",
]

#: Width of every figure: an A4 page less its margins. [in]
WIDTH_IN = 7.2

#: Each figure's size. [in]
FIGURE_SIZES: dict[str, tuple[float, float]] = {
    "streams": (WIDTH_IN, 4.2),
    "energy": (WIDTH_IN, 2.8),
    "gpu_availability": (WIDTH_IN, 2.6),
    "dispatch_week": (WIDTH_IN, 3.9),
    "price_duration": (WIDTH_IN, 4.6),
    "monthly_profit": (WIDTH_IN, 3.9),
    "heatmap": (WIDTH_IN, 3.0),
    "breakeven": (WIDTH_IN, 4.4),
    "differences": (WIDTH_IN, 3.6),
    "weeks_compared": (WIDTH_IN, 2.3),
}

#: Price axes switch to a logarithmic scale above this when a price exceeds three times it. [$/MWh]
LINTHRESH = 100.0

_HATCHES = ("", "////", "....", "xxxx", "\\\\\\\\", "++")


def _figure(fig: Any, size: tuple[float, float]) -> Any:
    if fig is not None:
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size, layout="constrained")


def _tidy(ax: Any) -> None:
    ax.grid(True, color="0.88", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _price_scale(ax: Any, values: Any) -> str:
    """A price axis: linear up to :data:`LINTHRESH`, logarithmic above when the prices spike (the
    linear part keeps most of the height: most hours are there); returns the label's note."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    values = np.asarray(values, dtype=float)
    top = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    if top > 3 * LINTHRESH:
        ax.set_yscale("symlog", linthresh=LINTHRESH, linscale=2.5)
        lo = float(np.nanmin(values))
        ticks = [t for t in (-1000, -300, -100, -50, 0, 50, 100, 300, 1000, 3000, 10000, 30000)
                 if lo - 1e-9 <= t <= top * 1.05 or t == 0]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        return f", log scale above {LINTHRESH:.0f}"
    return ""


def _month_labels(periods: Sequence[str]) -> list[str]:
    """``"2025-01"`` -> ``"Jan\n2025"`` for the first and each January, ``"Feb"`` for the rest;
    other labels (``"2025"``, ``"horizon"``) as they are."""
    if not all(re.fullmatch(r"\d{4}-\d{2}", str(p)) for p in periods):
        return [str(p) for p in periods]
    return [pd.Timestamp(f"{m}-01").strftime("%b\n%Y" if i == 0 or m.endswith("-01") else "%b")
            for i, m in enumerate(periods)]


def _plain_ticks(ax: Any, candidates: Sequence[float]) -> None:
    """Y ticks at the candidates within the axis's limits, written as plain numbers (no 10^x)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    lo, hi = ax.get_ylim()
    ticks = [t for t in candidates if lo <= t <= hi]
    if len(ticks) > 6:
        ticks = ticks[:: (len(ticks) + 5) // 6]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _date_axis(ax: Any, tz: str, span_days: float) -> None:
    import matplotlib.dates as mdates

    zone = ZoneInfo(tz)
    if span_days <= 10:
        ax.xaxis.set_major_locator(mdates.DayLocator(tz=zone))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a\n%d %b", tz=zone))
    elif span_days <= 70:
        ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=0, tz=zone))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b", tz=zone))
    else:
        ax.xaxis.set_major_locator(mdates.MonthLocator(tz=zone))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y" if span_days > 400 else "%b", tz=zone))


def _week(rr: Any, week: Any, days: int) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """The UTC start and end of the week to draw, and its name."""
    if isinstance(week, str) and week in ("highest_price", "typical"):
        w = D.weeks(rr, days)[week]
        name = "week of the highest price" if week == "highest_price" else "a typical week"
        return w["start"], w["end"], name
    t0 = pd.Timestamp(week)
    t0 = t0.tz_localize(D._tz(rr)) if t0.tzinfo is None else t0
    t0 = t0.tz_convert("UTC")
    return t0, t0 + pd.Timedelta(days=days), f"{days} days from {t0.tz_convert(D._tz(rr)):%Y-%m-%d}"


def _draw_dispatch(ax: Any, rr: Any, t0: pd.Timestamp, t1: pd.Timestamp, short: bool = False) -> tuple[Any, list]:
    """Stacked power at the meter, reserves and the price on a twin axis; returns (twin, handles)."""
    from matplotlib.patches import Patch

    d = rr.dispatch
    keep = (d.index >= t0) & (d.index < t1)
    tz = D._tz(rr)
    idx = d.index[keep]
    if len(idx) == 0:  # a run whose horizon misses the week: an empty panel that says so
        ax.text(0.5, 0.5, "no hours of this week in these results", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_xlim(t0.tz_convert(tz), t1.tz_convert(tz))
        _date_axis(ax, tz, (t1 - t0) / pd.Timedelta(days=1))
        return ax.twinx(), []
    x = idx.append(pd.DatetimeIndex([idx[-1] + pd.Timedelta(hours=1)])).tz_convert(tz)

    def ext(s: pd.Series) -> np.ndarray:
        v = s[keep].to_numpy(dtype=float)
        return np.append(v, v[-1])

    handles = []
    parts = [(label, ext(s), c) for label, s, c in D.power_at_meter(rr)]
    up = [(label, v, c) for label, v, c in parts if (v >= 0).all() and v.any()]
    down = [(label, v, c) for label, v, c in parts if (v < 0).any()]
    base = np.zeros(len(x))
    for label, v, c in up:
        ax.fill_between(x, base, base + v, step="post", color=c, lw=0)
        base = base + v
        handles.append(Patch(color=c, label=label))
    low = np.zeros(len(x))
    for label, v, c in down:
        ax.fill_between(x, low + v, low, step="post", color=c, lw=0, hatch="///", edgecolor="white")
        low = low + v
        handles.append(Patch(facecolor=c, hatch="///", edgecolor="white", label=label))
    reserves = [c for c in d.columns if c.startswith("reserve_") and c.endswith("_mw")]
    if reserves:
        total = ext(d[reserves].sum(axis=1))
        (line,) = ax.step(x, total, where="post", color=USE_COLOURS["reserve"], lw=1.3, ls="--",
                          label="reserves offered (MW held ready)")
        handles.append(line)
    ax.set_ylabel("power at the\nmeter [MW]" if short else "power at the meter [MW]")
    ax.set_xlim(t0.tz_convert(tz), t1.tz_convert(tz))
    _tidy(ax)
    _date_axis(ax, tz, (t1 - t0) / pd.Timedelta(days=1))
    twin = ax.twinx()
    price = ext(d["price_usd_per_mwh"])
    note = _price_scale(twin, price)
    (pl,) = twin.step(x, price, where="post", color="black", lw=1.0, label="energy price (right axis)")
    handles.append(pl)
    twin.set_ylabel("price [$/MWh]" if short else f"energy price [$/MWh{note}]")
    twin.spines["top"].set_visible(False)
    return twin, handles


def plot_dispatch_week(results: Any, week: Any = "highest_price", days: int = 7, fig: Any = None) -> Any:
    """A week of dispatch: where the site's power went each hour, with the energy price.

    Stacked at the meter (each fleet's IT power times its PUE): every ASIC fleet, each GPU
    tenant's firm and spot power, flex loads, batteries' charging and the power sold to the grid
    (discharging drawn below zero, hatched); the reserves offered as a dashed line (capacity held
    ready within the load, not energy); the energy price on the right axis.

    Parameters
    ----------
    results
        Results, a results folder read back, or its path.
    week
        ``"highest_price"`` or ``"typical"`` (:func:`optimiser.report.data.weeks`), or the first
        day to show (a string without an offset is read in the site's time zone).
    days
        How many days. [d]
    fig
        A matplotlib Figure to draw on; default a new one.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    t0, t1, name = _week(rr, week, days)
    fig = _figure(fig, FIGURE_SIZES["dispatch_week"])
    ax = fig.add_subplot(1, 1, 1)
    _, handles = _draw_dispatch(ax, rr, t0, t1)
    tz = D._tz(rr)
    ax.set_title(f"Dispatch, {name}: {t0.tz_convert(tz):%d %b} to "
                 f"{(t1 - pd.Timedelta(hours=1)).tz_convert(tz):%d %b %Y} ({tz})", loc="left")
    fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False, fontsize="small")
    return fig


def plot_price_duration(results: Any, fig: Any = None) -> Any:
    """The price-duration curve, coloured by what the site did in each hour.

    Top: every hour's energy price, highest first, coloured by :func:`~optimiser.report.data.hour_states`
    (GPU contract short, selling to the grid, load curtailed, every fleet at full power). Bottom:
    where the power went at the meter in those same hours (a running mean over 1 % of them).

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    d = rr.dispatch
    fig = _figure(fig, FIGURE_SIZES["price_duration"])
    ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    order = np.argsort(-d["price_usd_per_mwh"].to_numpy(), kind="stable")
    n = len(order)
    x = (np.arange(n) + 0.5) / n * 100
    price = d["price_usd_per_mwh"].to_numpy()[order]
    states = D.hour_states(rr).to_numpy()[order]
    base = min(0.0, float(price.min()))
    _state_bars(ax, price, states, base)
    ax.plot(x, price, color="black", lw=0.8)
    note = _price_scale(ax, price)
    top = max(12, int(np.ceil(0.03 * n)))
    if n >= 200 and price[0] > 3 * LINTHRESH:  # the dearest hours, where the site's choices change, enlarged
        inset = ax.inset_axes([0.13, 0.40, 0.34, 0.53])
        _state_bars(inset, price[:top], states[:top], min(0.0, float(price[top - 1])), legend=False,
                    scale=100 * top / n)
        inset.set_yscale("log" if price[top - 1] > 0 else "symlog")
        inset.set_xlim(0, 100 * top / n)
        inset.set_ylim(max(1.0, float(price[top - 1])) * 0.8, float(price[0]) * 1.3)
        _plain_ticks(inset, [30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000])
        inset.set_title(f"the dearest {top:,} hours [$/MWh, log scale]", fontsize="x-small")
        inset.tick_params(labelsize="x-small")
        inset.set_xlabel("[% of hours]", fontsize="x-small", labelpad=1)
    ax.set_ylabel(f"energy price [$/MWh{note}]")
    ax.set_title("Price-duration curve: every hour by price, coloured by what the site did", loc="left")
    _tidy(ax)
    window = max(1, n // 100)
    lower = np.zeros(n)
    for label, s, c in D.power_at_meter(rr):
        v = pd.Series(s.to_numpy()[order]).rolling(window, center=True, min_periods=1).mean().to_numpy()
        if (v >= 0).all():
            if v.any():
                ax2.fill_between(x, lower, lower + v, color=c, lw=0, label=label, rasterized=n > 2000)
                lower = lower + v
        else:
            ax2.fill_between(x, v, 0, color=c, lw=0, hatch="///", edgecolor="white", label=label,
                             rasterized=n > 2000)
    ax2.set_ylabel("power at the\nmeter [MW]")
    ax2.set_xlabel("hours, highest price first [% of hours]")
    ax2.set_xlim(0, 100)
    ax2.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="x-small")
    _tidy(ax2)
    return fig


def _state_bars(ax: Any, price: np.ndarray, states: np.ndarray, base: float, legend: bool = True,
                scale: float = 100.0) -> None:
    """Each hour a bar from ``base`` to its price, coloured by its state, over ``[0, scale]``; runs
    of one state are one polygon (no seams between neighbouring hours)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    n = len(price)
    edges = np.arange(n + 1) / n * scale
    cut = np.flatnonzero(states[1:] != states[:-1]) + 1
    starts, stops = np.r_[0, cut], np.r_[cut, n]
    polys, colours = [], []
    for a, b in zip(starts, stops):
        xs = np.repeat(edges[a:b + 1], 2)[1:-1]
        ys = np.repeat(price[a:b], 2)
        polys.append(np.column_stack([np.r_[edges[a], xs, edges[b]], np.r_[base, ys, base]]))
        colours.append(D.HOUR_STATES[states[a]])
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="none", linewidths=0, rasterized=True))
    if not legend:
        return
    handles = [Patch(color=c, label=f"{label} ({int((states == label).sum()):,} h)")
               for label, c in D.HOUR_STATES.items() if (states == label).any()]
    ax.legend(handles=handles, loc="upper right", frameon=False, fontsize="small")


def plot_monthly_profit(results: Any, fig: Any = None) -> Any:
    """Profit by calendar month, stacked by stream (revenue up, cost down), and the month's profit.

    Streams are grouped by use (:func:`optimiser.report.data.stream_group`: a fleet's revenue
    less its pool fee, O&M and SLA credits is one bar segment). The black marks are each month's
    profit: the sum of its segments.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    frame, colours = D.monthly_profit(rr)
    fig = _figure(fig, FIGURE_SIZES["monthly_profit"])
    ax = fig.add_subplot(1, 1, 1)
    musd = frame / 1e6
    x = np.arange(len(musd))
    pos, neg = np.zeros(len(x)), np.zeros(len(x))
    for g in musd.columns:
        v = musd[g].to_numpy()
        if not np.any(np.abs(v) > 0):
            continue
        up, down = np.clip(v, 0, None), np.clip(v, None, 0)
        ax.bar(x, up, bottom=pos, color=colours[g], width=0.75, label=g)
        ax.bar(x, down, bottom=neg, color=colours[g], width=0.75)
        pos, neg = pos + up, neg + down
    total = musd.sum(axis=1).to_numpy()
    ax.plot(x, total, color="black", marker="D", ms=4, lw=1.0, label="profit")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, _month_labels(list(musd.index)))
    ax.set_ylabel("profit by stream [M$ per month]")
    ax.set_title("Monthly profit by stream (revenue above zero, cost below)", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="x-small")
    _tidy(ax)
    return fig


def plot_marginal_value_heatmap(results: Any, fig: Any = None) -> Any:
    """The marginal value of site power, day of year by hour of day (site's local time).

    ``marginal_value_usd_per_mwh``: what one more MW at the site would have earned that hour
    (the dual of the power balance). The colour scale runs from the 1st percentile to the 99th or
    to the median plus five interquartile ranges, whichever is lower, so that price spikes do not
    wash out the ordinary hours; hours beyond it take its end colours (the colour bar's arrows)
    and the label counts the hours at the top colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    d = rr.dispatch
    tz = D._tz(rr)
    fig = _figure(fig, FIGURE_SIZES["heatmap"])
    ax = fig.add_subplot(1, 1, 1)
    mv = d.get("marginal_value_usd_per_mwh")
    if mv is None or mv.isna().all():
        ax.text(0.5, 0.5, "no marginal values in these results", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    local = d.index.tz_convert(tz)
    frame = pd.DataFrame({"v": mv.to_numpy(), "day": local.normalize().tz_localize(None), "hour": local.hour})
    grid = frame.pivot_table(index="hour", columns="day", values="v", aggfunc="mean").reindex(range(24))
    days = pd.DatetimeIndex(grid.columns)
    edges = days.append(pd.DatetimeIndex([days[-1] + pd.Timedelta(days=1)]))
    values = mv.to_numpy(dtype=float)
    p1, q1, med, q3, p99 = np.nanpercentile(values, [1, 25, 50, 75, 99])
    lo, hi = float(p1), float(min(p99, med + 5 * (q3 - q1)))  # spikes take the top colour, not the scale
    hi = max(hi, lo + 1.0)
    mesh = ax.pcolormesh(edges, np.arange(25), grid.to_numpy(), cmap="viridis", vmin=lo, vmax=hi, shading="flat",
                         rasterized=True)  # an image inside the SVG: one cell a path would make it megabytes
    bar = fig.colorbar(mesh, ax=ax, extend="both", pad=0.01)
    above = int((values > hi).sum())
    bar.set_label(f"marginal value [$/MWh]\n(top colour: {hi:,.0f} or more, {above:,} h)", fontsize="small")
    ax.set_yticks([0, 6, 12, 18, 24])
    ax.set_ylabel(f"hour of day [h, {tz}]")
    ax.set_xlabel(f"day [date, {tz}]")
    _date_axis(ax, "UTC", len(days))
    ax.set_title("Marginal value of site power, by day and hour", loc="left")
    return fig


def plot_breakeven(results: Any, fig: Any = None) -> Any:
    """Hashprice, and each ASIC fleet's break-even power price against the energy price.

    Top: the hashprice. Bottom: the energy price (daily mean, with the day's lowest to highest
    hour shaded; hourly for horizons of three weeks or less) and each fleet's break-even price
    at the meter (:func:`optimiser.report.data.breakeven_usd_per_mwh`). The legend counts the
    hours the price was above each break-even.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    d = rr.dispatch
    tz = D._tz(rr)
    be = D.breakeven_usd_per_mwh(rr)
    fig = _figure(fig, FIGURE_SIZES["breakeven"])
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[1, 2])
    local = d.tz_convert(tz)
    daily = len(d) > 21 * 24
    span = len(d) / 24

    def resample(s: pd.Series, how: str = "mean") -> pd.Series:
        s = s.tz_convert(tz) if s.index.tz is not None else s
        return getattr(s.resample("D"), how)() if daily else s

    hp = local.get("hashprice_usd_per_ph_day")
    if hp is not None and hp.notna().any():
        h = resample(hp)
        ax1.step(h.index, h.to_numpy(), where="post", color=USE_COLOURS["asic"], lw=1.3)
    else:
        ax1.text(0.5, 0.5, "no hashprice: no ASIC fleets", ha="center", va="center", transform=ax1.transAxes)
    ax1.set_ylabel("hashprice\n[$/PH/day]")
    ax1.set_title("Hashprice, and each ASIC fleet's break-even power price", loc="left")
    _tidy(ax1)
    price = local["price_usd_per_mwh"]
    if daily:
        lo, hi = resample(price, "min"), resample(price, "max")
        ax2.fill_between(lo.index, lo.to_numpy(), hi.to_numpy(), step="post", color="0.85", lw=0,
                         label="energy price, lowest to highest hour of the day")
    p = resample(price)
    ax2.step(p.index, p.to_numpy(), where="post", color="black", lw=1.0,
             label="energy price" + (", daily mean" if daily else ""))
    n = len(d)
    for i, (name, s) in enumerate(be.items()):
        b = resample(s.tz_convert(tz))
        above = int((d["price_usd_per_mwh"] > s).sum())
        ax2.step(b.index, b.to_numpy(), where="post", color=_shade(USE_COLOURS["asic"], i), lw=1.8,
                 label=f"break-even of ASIC {name} (price above it {above:,} of {n:,} h)")
    # the break-evens and the usual price decide the scale; price spikes are cut off (and said so)
    tops = [float(np.nanpercentile(p.to_numpy(), 95))] + [float(resample(s.tz_convert(tz)).max()) for _, s in be.items()]
    bottoms = [float(p.min())] + [float(resample(s.tz_convert(tz)).min()) for _, s in be.items()]
    top = 1.6 * max(tops)
    ax2.set_ylim(min(0.0, min(bottoms) * 1.1), top)
    ax2.set_ylabel("[$/MWh at the meter]")
    cut = float(p.max()) > top
    ax2.legend(loc="upper left", frameon=True, framealpha=0.9, edgecolor="none", fontsize="x-small", ncol=1,
               title=f"axis cut at {top:,.0f} $/MWh: the price's spikes go beyond it" if cut else None,
               title_fontsize="x-small")
    _tidy(ax2)
    _date_axis(ax2, tz, span)
    return fig


def plot_streams_by_use(results: Any, fig: Any = None) -> Any:
    """Revenue (right of zero) and cost (left) by stream, coloured by the use each belongs to.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    s = D.stream_groups(rr)
    s = s[s["usd"].abs() > 0]
    fig = _figure(fig, (WIDTH_IN, max(2.0, 0.2 * len(s) + 0.9)))
    ax = fig.add_subplot(1, 1, 1)
    _labelled_bars(ax, list(s["stream"]), (s["signed_usd"] / 1e6).to_numpy(), list(s["colour"]))
    ax.axvline(0, color="black", lw=0.8)
    lim = float(np.abs(s["signed_usd"]).max() / 1e6) if len(s) else 1.0
    ax.set_xlim(-1.2 * lim, 1.2 * lim)
    ax.set_xlabel("[M$ over the horizon] (revenue > 0, cost < 0)")
    ax.set_title(f"Revenue and cost by stream: profit {rr.objective_usd / 1e6:,.2f} M$", loc="left")
    return fig


def _labelled_bars(ax: Any, labels: Sequence[str], values: np.ndarray, colours: Sequence[Any]) -> None:
    """Horizontal bars, first at the top, each with its value written at its end."""
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=list(colours), edgecolor="white", lw=0.4)
    for yi, v in zip(y, values):
        ax.annotate(f"{v:,.1f}", (v, yi), xytext=(3 if v >= 0 else -3, 0), textcoords="offset points",
                    ha="left" if v >= 0 else "right", va="center", fontsize="x-small")
    ax.set_yticks(y, list(labels), fontsize="small")
    _tidy(ax)


def plot_energy_by_use(results: Any, fig: Any = None) -> Any:
    """Where the site's energy went over the horizon, at the meter, by use.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    parts = [(label, float(s.sum()) / 1e3, c) for label, s, c in D.power_at_meter(rr)]
    parts = [p for p in parts if abs(p[1]) > 0]
    fig = _figure(fig, FIGURE_SIZES["energy"])
    ax = fig.add_subplot(1, 1, 1)
    values = np.array([abs(p[1]) for p in parts])
    _labelled_bars(ax, [p[0] for p in parts], values, [p[2] for p in parts])
    ax.set_xlabel("energy at the meter [GWh over the horizon]")
    ax.set_xlim(0, 1.15 * max(list(values) + [1e-9]))
    ax.set_title("Where the site's energy went", loc="left")
    return fig


def plot_gpu_availability(results: Any, fig: Any = None) -> Any:
    """Each GPU contract's delivered share by billing period against its SLA (dashed line).

    Returns
    -------
    matplotlib.figure.Figure
    """
    rr = as_results(results)
    av = D.gpu_availability(rr)
    fig = _figure(fig, FIGURE_SIZES["gpu_availability"])
    ax = fig.add_subplot(1, 1, 1)
    if av.empty:
        ax.text(0.5, 0.5, "no GPU tenants", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    fleets_ = list(dict.fromkeys(av["fleet"]))
    periods = list(dict.fromkeys(av["period"]))
    width = 0.8 / len(fleets_)
    floor = min(float(av["availability"].min()), float(np.nanmin(av["sla"].to_numpy(dtype=float)))
                if av["sla"].notna().any() else 1.0)
    bottom = 100 * floor - max(0.02, 0.25 * (100 - 100 * floor))
    for i, g in enumerate(fleets_):
        sub = av[av["fleet"] == g].set_index("period").reindex(periods)
        x = np.arange(len(periods)) + (i - (len(fleets_) - 1) / 2) * width
        pct = 100 * sub["availability"].to_numpy(dtype=float)
        ax.bar(x, pct - bottom, bottom=bottom, width=width * 0.9, color=_shade(USE_COLOURS["gpu"], i),
               label=f"GPU {g} delivered")
        sla = sub["sla"].iloc[0]
        if pd.notna(sla):
            ax.hlines(100 * sla, x[0] - width / 2, x[-1] + width / 2, colors=USE_COLOURS["shortfall"], lw=1.2,
                      linestyles="--", label=f"SLA {g}: {100 * sla:.2f} %")
    ax.set_ylim(bottom, 100 + 0.15 * (100 - bottom))
    ax.set_xticks(np.arange(len(periods)), _month_labels(periods), fontsize="small")
    ax.set_ylabel("availability [%]")
    kinds = D.fleets(rr)["billing_period"].dropna().unique() if "billing_period" in D.fleets(rr) else []
    ax.set_xlabel(f"billing period [{kinds[0] if len(kinds) == 1 else 'period'}]")
    ax.set_title("GPU availability against the SLA, by billing period", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="x-small")
    _tidy(ax)
    return fig


# ------------------------------------------------------------------------------------------------
# Comparisons: the first run is the reference
# ------------------------------------------------------------------------------------------------


def _labels(runs: Sequence[Any]) -> list[str]:
    labels = [getattr(r, "label", None) or str(r.summary.get("scenario", f"run {i + 1}")) for i, r in enumerate(runs)]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


def plot_stream_differences(runs: Sequence[Any], labels: Sequence[str] | None = None, fig: Any = None) -> Any:
    """How each run's profit differs from the first's, by stream group (bars in M$).

    With up to four runs compared, one bar per run and group, coloured by the group's use and
    hatched per run; with more (a sweep's cases), one bar per run: its profit minus the first's.

    Parameters
    ----------
    runs
        Results, results folders read back, or paths; the first is the reference.
    labels
        Names of the runs; default the folders' names.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    rs = [as_results(r) for r in runs]
    labels = list(labels) if labels is not None else _labels(rs)
    diff = _group_differences(rs, labels)
    fig = _figure(fig, FIGURE_SIZES["differences"])
    ax = fig.add_subplot(1, 1, 1)
    others = labels[1:]
    if len(others) <= 4:
        groups = [g for g in diff.index if g != "profit" and (diff.loc[g, others].abs() > 0).any()] + ["profit"]
        colours = dict(zip(diff.index, diff["colour"]))
        colours["profit"] = "#333333"
        h = 0.8 / max(1, len(others))
        y0 = np.arange(len(groups))[::-1]
        for j, lab in enumerate(others):
            y = y0 + (len(others) - 1) / 2 * h - j * h
            ax.barh(y, diff.loc[groups, lab].to_numpy() / 1e6, height=h * 0.92,
                    color=[colours[g] for g in groups], hatch=_HATCHES[j % len(_HATCHES)], edgecolor="white", lw=0.3)
        ax.set_yticks(y0, groups, fontsize="small")
        if len(others) > 1:
            ax.legend(handles=[Patch(facecolor="0.6", hatch=_HATCHES[j], edgecolor="white", label=lab)
                               for j, lab in enumerate(others)], loc="lower right", frameon=False, fontsize="x-small")
    else:
        y = np.arange(len(others))[::-1]
        ax.barh(y, diff.loc["profit", others].to_numpy() / 1e6, color="#333333")
        ax.set_yticks(y, others, fontsize="x-small")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"difference from {labels[0]} [M$ over the horizon]")
    ax.set_title(f"Profit by stream: each run minus {labels[0]}", loc="left")
    _tidy(ax)
    return fig


def _group_differences(rs: Sequence[Any], labels: Sequence[str]) -> pd.DataFrame:
    """Signed $ by stream group for each run, minus the first's (the first's column holds its values)."""
    frames = []
    colours: dict[str, Any] = {}
    for r, lab in zip(rs, labels):
        g = D.stream_groups(r)
        colours.update(dict(zip(g["group"], g["colour"])))
        frames.append(g.groupby("group", sort=False)["signed_usd"].sum().rename(lab))
    table = pd.concat(frames, axis=1).fillna(0.0)
    table.loc["profit"] = [r.objective_usd for r in rs]
    out = table.sub(table[labels[0]], axis=0)
    out[labels[0]] = table[labels[0]]
    out["colour"] = [colours.get(g, USE_COLOURS["other"]) for g in out.index]
    return out


def plot_weeks_compared(runs: Sequence[Any], week: Any = "highest_price", days: int = 7,
                        labels: Sequence[str] | None = None, most: int = 4, fig: Any = None) -> Any:
    """The same week of dispatch in each run, one above the other (same scales).

    The week is chosen in the first run (``"highest_price"``, ``"typical"`` or a first day);
    at most ``most`` runs are drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rs = [as_results(r) for r in runs][:most]
    labels = (list(labels) if labels is not None else _labels(rs))[: len(rs)]
    t0, t1, name = _week(rs[0], week, days)
    w, h = FIGURE_SIZES["weeks_compared"]
    fig = _figure(fig, (w, h * len(rs) + 0.8))
    axes = np.atleast_1d(fig.subplots(len(rs), 1, sharex=True, sharey=True))
    handles: dict[str, Any] = {}
    twins = []
    for ax, r, lab in zip(axes, rs, labels):
        twin, hs = _draw_dispatch(ax, r, t0, t1, short=True)
        twins.append(twin)
        for hnd in hs:
            handles.setdefault(hnd.get_label(), hnd)
        ax.set_title(lab, loc="left", fontsize="medium")
    lo = min(t.get_ylim()[0] for t in twins)
    hi = max(t.get_ylim()[1] for t in twins)
    for t in twins:
        t.set_ylim(lo, hi)
    axes[-1].set_xlim(t0.tz_convert(tz := D._tz(rs[0])), t1.tz_convert(tz))
    fig.suptitle(f"The same week in each run: {name} of {labels[0]}, from {t0.tz_convert(tz):%d %b %Y}",
                 x=0.01, ha="left", fontsize="medium")
    fig.legend(handles=list(handles.values()), loc="outside lower center", ncol=4, frameon=False, fontsize="small")
    return fig
