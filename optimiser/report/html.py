"""The report as one self-contained HTML page, and its figures as PNG and SVG files.

Nothing is fetched when the page is opened: the figures are embedded as base64 PNG, the style
is inline, and the one script (a self-check that marks each figure as loaded, for the browser
test) is inline too. The numbers each figure shows are embedded as JSON
(``<script type="application/json" id="report-data">``, :func:`optimiser.report.data.report_data`),
so what the page shows can be checked against the results.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pandas as pd

from ..readback import as_results
from . import data as D
from . import figures as F

#: Resolution of the PNG figures (embedded and written). [dots per inch]
PNG_DPI = 150

#: Matplotlib settings every report figure is drawn with: text readable on A4.
RC = {
    "font.size": 8.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "legend.fontsize": 7.5,
    "svg.hashsalt": "dispatch-report",  # the same figure gives the same SVG
    "svg.fonttype": "path",
    "savefig.dpi": PNG_DPI,  # rasterised parts of an SVG (heat map cells) at the PNG's resolution
}


@dataclass
class Figure:
    """One figure of a report: its file name (no extension), caption, and the rendered files."""

    name: str
    title: str
    caption: str
    png: bytes
    svg: bytes


def render(name: str, title: str, caption: str, draw: Callable[[Any], Any], size: tuple[float, float]) -> Figure:
    """Draw a figure on a fresh matplotlib Figure (no pyplot) and render it as PNG and SVG."""
    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    with matplotlib.rc_context(RC):
        fig = MplFigure(figsize=size, layout="constrained")
        draw(fig)
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=PNG_DPI)
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return Figure(name, title, caption, png.getvalue(), svg.getvalue())


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _musd(x: float) -> str:
    v = round(float(x) / 1e6, 2)
    return f"{v + 0.0:,.2f}"  # no "-0.00"


def _num(x: Any, fmt: str = "{:,.0f}") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    return "–" if not math.isfinite(v) else fmt.format(v)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "", right_from: int = 1) -> str:
    """An HTML table; cells are escaped text; columns from ``right_from`` on are right-aligned."""
    head = "".join(f"<th{' class=r' if i >= right_from else ''}>{_e(h)}</th>" for i, h in enumerate(header))
    head = f"<thead><tr>{head}</tr></thead>" if any(header) else ""
    body = "".join(
        "<tr>" + "".join(f"<td{' class=r' if i >= right_from else ''}>{_e(c)}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f'<table class="{cls}">{head}<tbody>{body}</tbody></table>'


def _figure_html(f: Figure) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    return (f'<figure id="fig-{_e(f.name)}"><img class="figure" data-figure="{_e(f.name)}" alt="{_e(f.title)}" '
            f'src="data:image/png;base64,{data}"><figcaption><b>{_e(f.title)}.</b> {_e(f.caption)} '
            f'<span class="files">figures/{_e(f.name)}.png, .svg</span></figcaption></figure>')


def _json_block(data: Any) -> str:
    text = json.dumps(data, allow_nan=False, sort_keys=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="report-data">{text}</script>'


STYLE = """
@page { size: A4; margin: 14mm 12mm; }
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10.5pt;
       color: #1a1a1a; max-width: 186mm; margin: 0 auto; padding: 8px 12px 24px; line-height: 1.35; }
h1 { font-size: 17pt; margin: 6px 0 2px; }
h2 { font-size: 13pt; margin: 20px 0 6px; border-bottom: 1px solid #ccc; padding-bottom: 2px; }
h3 { font-size: 11pt; margin: 12px 0 4px; }
p.sub { color: #555; margin: 0 0 8px; }
.cards { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: 5px 8px; min-width: 31%; flex: 1 1 31%;
        box-sizing: border-box; }
.card .v { font-size: 14pt; font-weight: bold; }
.card .k { color: #555; font-size: 8.5pt; }
table { border-collapse: collapse; margin: 4px 0 10px; font-size: 8.5pt; width: 100%; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
table.kv td:first-child { width: 28%; color: #444; }
table.months td:first-child { white-space: nowrap; }
table.kv td { word-break: break-word; }
figure { margin: 10px 0 14px; page-break-inside: avoid; break-inside: avoid; }
img.figure { width: 100%; height: auto; display: block; }
figcaption { font-size: 8.5pt; color: #333; margin-top: 3px; }
figcaption .files { color: #888; }
.warn { background: #fff4e5; border-left: 3px solid #f0a020; padding: 4px 8px; margin: 6px 0; }
.swatch { display: inline-block; width: 9px; height: 9px; margin-right: 4px; vertical-align: baseline; }
code { font-size: 8.5pt; }
"""

#: Marks each embedded figure as loaded or broken, and reports the count on <body>: the browser
#: test reads it (nothing is fetched; the page works the same without it).
CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img.figure"), ok = 0;
  imgs.forEach(function (img) {
    var good = img.complete && img.naturalWidth > 0 && img.naturalHeight > 0;
    img.setAttribute("data-loaded", good ? "yes" : "no");
    if (good) { ok += 1; } else { console.error("figure did not load: " + img.getAttribute("data-figure")); }
  });
  document.body.setAttribute("data-figures", imgs.length);
  document.body.setAttribute("data-figures-loaded", ok);
  console.log("report figures loaded: " + ok + " of " + imgs.length);
});
</script>
"""


def _page(title: str, body: str, data: Any) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            f'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n{_json_block(data)}\n"
            f"{CHECK_SCRIPT}</body></html>\n")


def _local(ts: Any, tz: str) -> str:
    if ts is None:
        return "?"
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    return f"{t.tz_convert(tz):%Y-%m-%d %H:%M}"


# ------------------------------------------------------------------------------------------------
# One run
# ------------------------------------------------------------------------------------------------


def single_figures(rr: Any) -> list[Figure]:
    """Render every figure of a one-run report."""
    weeks = D.weeks(rr)
    tz = D._tz(rr)
    hi, typ = weeks["highest_price"], weeks["typical"]
    out = [
        render("streams", "Revenue and cost by stream",
               "Each stream of the objective over the horizon, coloured by the use it belongs to.",
               lambda fig: F.plot_streams_by_use(rr, fig=fig), (F.WIDTH_IN, max(2.0, 0.2 * len(D.stream_groups(rr)) + 0.9))),
        render("energy-by-use", "Energy by use",
               "Where the site's energy went, at the meter (fleets' IT energy times their PUE).",
               lambda fig: F.plot_energy_by_use(rr, fig=fig), F.FIGURE_SIZES["energy"]),
    ]
    if not D.gpu_availability(rr).empty:
        out.append(render("gpu-availability", "GPU availability against the SLA",
                          "Delivered share of each GPU contract in each billing period; the dashed line is the SLA.",
                          lambda fig: F.plot_gpu_availability(rr, fig=fig), F.FIGURE_SIZES["gpu_availability"]))
    out += [
        render("dispatch-highest-price-week", "Dispatch in the week of the highest price",
               f"Power at the meter by use, hour by hour, {_local(hi['start'], tz)} to {_local(hi['end'], tz)} "
               f"({tz}); the week around the highest-price hour ({hi['max_price_usd_per_mwh']:,.0f} $/MWh). "
               "Reserves are capacity held ready within the load, not energy; the black line is the energy price.",
               lambda fig: F.plot_dispatch_week(rr, "highest_price", fig=fig), F.FIGURE_SIZES["dispatch_week"]),
    ]
    if typ["start"] != hi["start"]:  # a horizon of one week has no other
        out.append(render(
            "dispatch-typical-week", "Dispatch in a typical week",
            f"Of the horizon's whole weeks away from the highest-price week, the one whose mean price "
            f"({typ['mean_price_usd_per_mwh']:,.1f} $/MWh) is nearest the median of their mean prices, "
            f"{_local(typ['start'], tz)} to {_local(typ['end'], tz)} ({tz}).",
            lambda fig: F.plot_dispatch_week(rr, "typical", fig=fig), F.FIGURE_SIZES["dispatch_week"]))
    out += [
        render("price-duration", "Price-duration curve",
               "Every hour sorted by energy price, highest first, coloured by what the site did (the first that "
               "applies: GPU contract short, selling to the grid, load curtailed, every fleet at full power); "
               "below, the power by use in the same order (running mean over 1 % of the hours).",
               lambda fig: F.plot_price_duration(rr, fig=fig), F.FIGURE_SIZES["price_duration"]),
        render("monthly-profit", "Monthly profit by stream",
               "Each calendar month's revenue (above zero) and cost (below) by use; the black marks are the "
               "month's profit, the sum of its segments (the table below gives the numbers).",
               lambda fig: F.plot_monthly_profit(rr, fig=fig), F.FIGURE_SIZES["monthly_profit"]),
        render("marginal-value-heatmap", "Marginal value of site power",
               "What one more MW at the site was worth in each hour (the dual of the power balance), by day and "
               "hour of day in the site's time zone.",
               lambda fig: F.plot_marginal_value_heatmap(rr, fig=fig), F.FIGURE_SIZES["heatmap"]),
    ]
    if len(D.breakeven_usd_per_mwh(rr).columns):
        out.append(render("breakeven", "Hashprice and break-even power prices",
                          "Each ASIC fleet's break-even power price at the meter, (hashprice x 1000 / efficiency / "
                          "24 x (1 - pool fee) - O&M) / PUE, against the energy price: below its line a fleet earns "
                          "more mining than the power costs.",
                          lambda fig: F.plot_breakeven(rr, fig=fig), F.FIGURE_SIZES["breakeven"]))
    return out


def _headline(rr: Any, data: dict[str, Any]) -> str:
    s = rr.summary
    tz = data["timezone"]
    revenue = sum(s.get("revenue_usd", {}).values())
    cost = sum(s.get("cost_usd", {}).values())
    hb = data["handed_back"]
    av = D.gpu_availability(rr)
    cards = [
        ("profit", f"{_musd(rr.objective_usd)} M$", "objective over the horizon"),
        ("revenue", f"{_musd(revenue)} M$", "all revenue streams"),
        ("cost", f"{_musd(cost)} M$", "all cost streams"),
        ("hours selling to the grid", f"{hb['hours_exporting']:,} h",
         f"{hb['mwh_exported']:,.0f} MWh sold, of {hb['hours']:,} h"),
        ("hours with load curtailed", f"{hb['hours_curtailed']:,} h",
         f"{hb['mwh_curtailed']:,.0f} MWh the fleets did not draw"),
    ]
    if not av.empty:
        worst = av.loc[av["availability"].idxmin()]
        sla = "" if pd.isna(worst["sla"]) else f" (SLA {100 * worst['sla']:.2f} %)"
        cards.append(("worst GPU billing period", f"{100 * worst['availability']:.3f} %",
                      f"{worst['fleet']} {worst['period']}{sla}"))
    out = ['<div class="cards">'] + [
        f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div><div class="k">{_e(n)}</div></div>'
        for k, v, n in cards] + ["</div>"]
    for w in s.get("warnings", []) or []:
        out.append(f'<div class="warn">warning: {_e(w)}</div>')
    groups = D.stream_groups(rr)
    rows = [(r.stream, r.kind, r.group, _musd(r.signed_usd)) for r in groups.itertuples()]
    rows.append(("profit", "", "", _musd(rr.objective_usd)))
    out.append("<h3>Revenue and cost by stream</h3>")
    out.append(_table(["stream", "kind", "use", "M$ (cost < 0)"], rows, right_from=3))
    energy = s.get("energy_mwh", {})
    out.append("<h3>Energy by use</h3>")
    out.append(_table(["use (summary.json energy_mwh)", "MWh"], [(k, _num(v)) for k, v in energy.items()]))
    real = D.realised_usd_per_mwh(rr)
    out.append("<h3>Realised value per MWh</h3>")
    out.append(_table(
        ["use", "energy", "unit", "revenue M$", "cost M$", "net M$", "net $ per unit"],
        [(u, _num(r.energy), r.unit, _musd(r.revenue_usd), _musd(r.cost_usd), _musd(r.net_usd),
          _num(r.net_usd_per_unit, "{:,.2f}")) for u, r in real.iterrows()], right_from=1))
    out.append('<p class="sub">Fleets per IT MWh (revenue less their own costs: pool fee, O&amp;M, SLA credits); '
               "energy sold per MWh exported; energy bought per MWh imported (adder included); PPA per MWh "
               "delivered; reserves per MW offered for an hour.</p>")
    if not av.empty:
        out.append("<h3>GPU availability by billing period</h3>")
        out.append(_table(["tenant", "period", "delivered", "SLA", "met"],
                          [(r.fleet, r.period, f"{100 * r.availability:.3f} %",
                            "–" if pd.isna(r.sla) else f"{100 * r.sla:.3f} %", "yes" if r.met else "NO")
                           for r in av.itertuples()], right_from=2))
    out.append("<h3>Power handed back</h3>")
    out.append(_table(["", "hours", "MWh"], [
        ("selling to the grid (export > 0)", f"{hb['hours_exporting']:,}", _num(hb["mwh_exported"])),
        ("fleets below what they could draw (curtailed or selling)", f"{hb['hours_curtailed']:,}",
         _num(hb["mwh_curtailed"])),
        ("GPU contract power not delivered", f"{hb['hours_gpu_short']:,}", ""),
        ("hours in the horizon", f"{hb['hours']:,}", ""),
    ]))
    out.append("<h3>Assumptions</h3>")
    out.append(_table(["", ""], list(data["assumptions"].items()), cls="kv", right_from=9))
    return "\n".join(out)


def _brief(assumptions: dict[str, str], most: int = 60) -> str:
    """The foresight and policy entries, shortened (each up to its first colon)."""
    keep = [f"{k}: {v.split(':', 1)[0]}" for k, v in assumptions.items() if k != "metering"]
    text = "; ".join(keep)
    return text if len(text) <= most else text[: most - 1] + "…"


def _provenance(rr: Any) -> str:
    s = rr.summary
    p = s.get("provenance") or {}
    if not p:
        return "<p>No provenance in summary.json (results written before it was recorded).</p>"
    sc = p.get("scenario") or {}
    hz = p.get("horizon") or {}
    solver = s.get("solver") or {}
    rows = [
        ("run id", p.get("run_id", "?")),
        ("results assembled (UTC)", p.get("created_utc", "?")),
        ("tool", f"{(p.get('tool') or {}).get('name', '?')} {(p.get('tool') or {}).get('version', '?')}"),
        ("scenario", sc.get("name", s.get("scenario", "?"))),
        ("scenario folder", sc.get("folder") or "(made in Python)"),
        ("scenario.toml SHA-256", sc.get("scenario_toml_sha256") or "–"),
        ("configuration SHA-256", sc.get("config_sha256", "?")),
        ("hourly data SHA-256", p.get("data_sha256", "?")),
        ("horizon", f"{hz.get('start', s.get('start', '?'))} to {hz.get('end', s.get('end', '?'))} (UTC, end "
                    f"exclusive), {hz.get('hours', s.get('hours', '?'))} h, {hz.get('timezone', s.get('timezone', '?'))}"),
        ("solver", f"HiGHS {(p.get('packages') or {}).get('highs', '?')}: {solver.get('termination', '?')} "
                   f"({solver.get('status', '?')}), {solver.get('iterations', '?')} iterations"),
        ("solver options", ", ".join(f"{k}={v}" for k, v in (p.get("solver_options") or {}).items()) or "defaults"),
        ("command", " ".join(map(str, p["command"])) if p.get("command") else "(from Python)"),
        ("Python, platform", f"{p.get('python', '?')}, {p.get('platform', '?')}"),
        ("packages", ", ".join(f"{k} {v}" for k, v in (p.get("packages") or {}).items())),
    ]
    for f in p.get("inputs") or []:
        rows.append((f"input {f.get('file', '?')}", f"{f.get('format', '?')}, {f.get('bytes', '?')} bytes, "
                                                   f"SHA-256 {f.get('sha256', '?')}, {f.get('path', '')}"))
    return _table(["", ""], rows, cls="kv", right_from=9)


def _monthly_table(rr: Any) -> str:
    frame, _ = D.monthly_profit(rr)
    cols = [c for c in frame.columns if (frame[c].abs() > 0).any()]
    rows = [[m] + [_musd(v) for v in row[cols]] + [_musd(row.sum())] for m, row in frame.iterrows()]
    rows.append(["total"] + [_musd(frame[c].sum()) for c in cols] + [_musd(frame.to_numpy().sum())])
    return _table(["month"] + cols + ["profit"], rows, cls="months") + \
        '<p class="sub">M$ per calendar month in the site\'s time zone, by use (cost negative).</p>'


def single_report(results: Any, generated: str | None = None) -> tuple[str, list[Figure], dict[str, Any]]:
    """The report of one run: the page, its figures, and the data they show.

    Parameters
    ----------
    results
        Results, a results folder read back, or its path.
    generated
        When the report was made (shown on the page); default now (UTC).

    Returns
    -------
    tuple
        ``(html, figures, report_data)``.
    """
    rr = as_results(results)
    s = rr.summary
    data = D.report_data(rr)
    figs = single_figures(rr)
    by_name = {f.name: f for f in figs}
    tz = data["timezone"]
    generated = generated or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Dispatch report: {s.get('scenario', getattr(rr, 'label', 'results'))}"
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(getattr(rr, "label", ""))}: {data["hours"]:,} h from {_e(_local(s.get("start"), tz))} to '
        f'{_e(_local(s.get("end"), tz))} ({_e(tz)}); report made {_e(generated)}</p>',
        "<h2>Headline</h2>",
        _headline(rr, data),
        "<h2>Figures</h2>",
    ]
    for name in ("streams", "energy-by-use", "gpu-availability", "dispatch-highest-price-week",
                 "dispatch-typical-week", "price-duration", "monthly-profit"):
        if name in by_name:
            parts.append(_figure_html(by_name[name]))
    parts.append("<h3>Profit by month</h3>")
    parts.append(_monthly_table(rr))
    for name in ("marginal-value-heatmap", "breakeven"):
        if name in by_name:
            parts.append(_figure_html(by_name[name]))
    fl = D.fleets(rr)
    if len(fl):
        parts.append("<h3>Fleets</h3>")
        src = "summary.json" if (fl["source"] == "summary").all() else \
            "inferred from the streams and the columns (summary.json has no fleets block)"
        parts.append(_table(["fleet", "kind", "capacity MW (IT)", "PUE", "O&M $/MWh", "J/TH", "pool fee",
                             "contract MW", "SLA"],
                            [(n, r.kind, _num(r.capacity_mw, "{:,.1f}"), _num(r.pue, "{:.3f}"),
                              _num(r.om_usd_per_mwh, "{:,.2f}"), _num(r.efficiency_j_per_th, "{:,.2f}"),
                              _num(r.pool_fee, "{:.3f}"), _num(r.contract_mw, "{:,.1f}"),
                              _num(r.availability, "{:.4f}")) for n, r in fl.iterrows()], right_from=2))
        parts.append(f'<p class="sub">Source: {_e(src)}.</p>')
    parts.append("<h2>Provenance</h2>")
    parts.append(_provenance(rr))
    data["figures"] = [f.name for f in figs]
    return _page(title, "\n".join(parts), data), figs, data


# ------------------------------------------------------------------------------------------------
# Several runs
# ------------------------------------------------------------------------------------------------


def comparison_report(runs: Sequence[Any], labels: Sequence[str] | None = None,
                      generated: str | None = None) -> tuple[str, list[Figure], dict[str, Any]]:
    """The comparison of several runs, the first the reference: differences by stream (table and
    bars), the same week side by side, and each run's headline numbers, assumptions and provenance.

    Returns
    -------
    tuple
        ``(html, figures, data)``; ``data["runs"]`` holds :func:`~optimiser.report.data.report_data`
        of each run, ``data["differences_usd"]`` ``{group: {run: $ minus the reference's}}``.
    """
    rs = [as_results(r) for r in runs]
    labels = list(labels) if labels is not None else F._labels(rs)
    diff = F._group_differences(rs, labels)
    shown = min(len(rs), 4)
    figs = [
        render("comparison-streams", f"Profit by stream: each run minus {labels[0]}",
               "Differences over the horizon by use (a fleet's revenue less its own costs is one group).",
               lambda fig: F.plot_stream_differences(rs, labels, fig=fig), F.FIGURE_SIZES["differences"]),
        render("comparison-week", "The same week in each run",
               f"The week of {labels[0]}'s highest price in each run" + (
                   f" (the first {shown} runs of {len(rs)})" if shown < len(rs) else "") + "; same scales.",
               lambda fig: F.plot_weeks_compared(rs, "highest_price", labels=labels, fig=fig),
               (F.WIDTH_IN, F.FIGURE_SIZES["weeks_compared"][1] * shown + 0.8)),
    ]
    generated = generated or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Dispatch comparison: {len(rs)} runs against {labels[0]}"
    parts = [f"<h1>{_e(title)}</h1>", f'<p class="sub">report made {_e(generated)}</p>', "<h2>Runs</h2>"]
    rows = []
    for r, lab in zip(rs, labels):
        s = r.summary
        hb = D.handed_back(r)
        rows.append((lab, s.get("scenario", ""), f"{s.get('start', '?')} to {s.get('end', '?')}",
                     _brief(D.assumptions(r)), _musd(r.objective_usd), _musd(r.objective_usd - rs[0].objective_usd),
                     f"{hb['hours_exporting']:,}"))
    parts.append(_table(["run", "scenario", "horizon (UTC)", "foresight / policy", "profit M$",
                         "minus reference M$", "hours selling"], rows, right_from=4))
    parts.append("<h2>Differences by stream</h2>")
    others = labels[1:]
    cols = [labels[0]] + others
    table_rows = [[g] + [_musd(diff.loc[g, labels[0]])] + [_musd(diff.loc[g, o]) for o in others]
                  for g in diff.index]
    if len(others) <= 6:
        parts.append(_table(["use", f"{labels[0]} M$"] + [f"{o} minus {labels[0]} M$" for o in others], table_rows))
    else:
        t = diff[cols].T
        parts.append(_table(["run"] + list(t.columns),
                            [[lab] + [_musd(v) for v in row] for lab, row in t.iterrows()]))
        parts.append(f'<p class="sub">The first row is {_e(labels[0])} itself; the others its difference.</p>')
    for f in figs:
        parts.append(_figure_html(f))
    parts.append("<h2>Provenance of each run</h2>")
    for r, lab in zip(rs, labels):
        parts.append(f"<h3>{_e(lab)}</h3>")
        if getattr(r, "path", None) is not None:
            parts.append(f'<p class="sub">folder {_e(r.path)}</p>')
        parts.append(_table(["", ""], list(D.assumptions(r).items()), cls="kv", right_from=9))
        parts.append(_provenance(r))
    data = {
        "labels": labels,
        "runs": [D.report_data(r) for r in rs],
        "differences_usd": {g: {c: float(diff.loc[g, c]) for c in cols} for g in diff.index},
        "figures": [f.name for f in figs],
    }
    data = D._jsonable(data)
    return _page(title, "\n".join(parts), data), figs, data
