"""The report (issue 15): figures and numbers checked against the results, and the page as a person sees it.

Fast: the example scenario over two weeks across a month's end (20 Aug to 3 Sep 2025, the
summer's highest price included), solved once. One test opens the report in headless Chromium
(Debian package ``chromium``; ``make test`` installs it when missing and apt-get works): it takes
a screenshot, checks every figure loaded, the console holds nothing but the page's own line, and
the page fetched nothing from a network. Without Chromium that test is skipped, saying so.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser import report
from optimiser.cli import main
from optimiser.outdir import MARKER, ResultsFolderError, check_results_folder
from optimiser.plots import USE_COLOURS
from optimiser.report import data as D

START, END = "2025-08-20T00:00:00-05:00", "2025-09-03T00:00:00-05:00"


@pytest.fixture(scope="module")
def solved(example_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[optimiser.Scenario, Any, Path]:
    """Two weeks of the example solved once and written: ``(scenario, results, folder)``."""
    sc = optimiser.load_scenario(example_dir, start=START, end=END)
    out = tmp_path_factory.mktemp("report") / "two-weeks"
    res = optimiser.run(sc, out=out)
    return sc, res, out


@pytest.fixture()
def folder(solved: tuple[Any, Any, Path], tmp_path: Path) -> Path:
    """A fresh copy of the written results folder (tests may add a report to it)."""
    dst = tmp_path / "results"
    shutil.copytree(solved[2], dst)
    return dst


@pytest.fixture(scope="module")
def written(solved: tuple[Any, Any, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder with its report written (shared by the read-only checks)."""
    dst = tmp_path_factory.mktemp("written") / "results"
    shutil.copytree(solved[2], dst)
    report.write_report([dst], generated="test")
    return dst


def local_month(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    local = index.tz_convert(tz)
    return np.array([f"{t.year:04d}-{t.month:02d}" for t in local])


# ------------------------------------------------------------------------------------------------
# reading back
# ------------------------------------------------------------------------------------------------


def test_read_results_gives_back_what_was_written(solved: tuple[Any, Any, Path]) -> None:
    _, res, out = solved
    rr = optimiser.read_results(out)
    assert isinstance(rr.dispatch.index, pd.DatetimeIndex) and str(rr.dispatch.index.tz) == "UTC"
    assert list(rr.dispatch.columns) == list(res.dispatch.columns)
    assert (rr.dispatch.index == res.dispatch.index).all()
    np.testing.assert_allclose(rr.dispatch.to_numpy(), res.dispatch.to_numpy(), rtol=1e-9, atol=1e-6, equal_nan=True)
    assert rr.summary["objective_usd"] == pytest.approx(res.objective_usd, rel=1e-12)
    assert rr.objective_usd == pytest.approx(res.objective_usd, rel=1e-12)
    pd.testing.assert_frame_equal(rr.streams(), res.streams())
    assert rr.duals["balance"].to_numpy() == pytest.approx(res.dispatch["marginal_value_usd_per_mwh"].to_numpy())


def test_read_results_refuses_a_folder_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(optimiser.InputError, match="has no dispatch.csv"):
        optimiser.read_results(tmp_path)
    with pytest.raises(optimiser.InputError, match="does not exist"):
        optimiser.read_results(tmp_path / "missing")
    (tmp_path / "dispatch.csv").write_text("a,b\n1,2\n")
    (tmp_path / "summary.json").write_text("[1, 2]")
    with pytest.raises(optimiser.InputError, match="not a JSON object"):
        optimiser.read_results(tmp_path)
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(optimiser.InputError, match="no 'timestamp' column"):
        optimiser.read_results(tmp_path)


# ------------------------------------------------------------------------------------------------
# the summary's new blocks and the numbers behind the figures
# ------------------------------------------------------------------------------------------------


def test_profit_by_month_adds_up_to_the_hours_and_the_streams(solved: tuple[Any, Any, Path]) -> None:
    sc, res, _ = solved
    s = res.summary
    by_month = s["profit_by_month_usd"]
    assert list(by_month) == ["2025-08", "2025-09"]
    hourly = res.dispatch["profit_usd"].groupby(local_month(res.dispatch.index, sc.config.timezone)).sum()
    for month, streams in by_month.items():
        assert sum(streams.values()) == pytest.approx(hourly[month], rel=1e-9, abs=1e-3)
    for stream, usd in s["revenue_usd"].items():
        assert sum(m[stream] for m in by_month.values()) == pytest.approx(usd, rel=1e-9, abs=1e-3)
    for stream, usd in s["cost_usd"].items():
        assert sum(m[stream] for m in by_month.values()) == pytest.approx(-usd, rel=1e-9, abs=1e-3)


def test_fleets_and_site_blocks_record_the_configuration(solved: tuple[Any, Any, Path]) -> None:
    sc, res, _ = solved
    fleets = res.summary["fleets"]
    for f in sc.config.asic:
        assert fleets[f.name] == pytest.approx({"kind": "asic", "capacity_mw": f.capacity_mw, "pue": f.pue,
                                                "om_usd_per_mwh": f.om_usd_per_mwh, "model": f.model,
                                                "efficiency_j_per_th": f.efficiency_j_per_th,
                                                "pool_fee": f.pool_fee})
    g = sc.config.gpu[0]
    assert fleets[g.name]["availability"] == g.availability and fleets[g.name]["contract_mw"] == g.contract_mw
    assert res.summary["site"]["import_mw"] == sc.config.site.import_mw
    assert res.summary["site"]["ppa_mw"] == sc.config.ppa_mw


def test_fleets_inferred_from_an_older_folder_match_the_recorded_ones(folder: Path) -> None:
    recorded = D.fleets(optimiser.read_results(folder))
    summary = json.loads((folder / "summary.json").read_text())
    for key in ("fleets", "site", "profit_by_month_usd"):
        del summary[key]
    (folder / "summary.json").write_text(json.dumps(summary))
    rr = optimiser.read_results(folder)
    inferred = D.fleets(rr)
    assert (inferred["source"] == "inferred").all() and (recorded["source"] == "summary").all()
    for col in ("pue", "om_usd_per_mwh", "efficiency_j_per_th", "pool_fee", "contract_mw"):
        np.testing.assert_allclose(inferred[col].astype(float), recorded[col].astype(float), rtol=1e-6,
                                   equal_nan=True, err_msg=col)
    assert D.site(rr)["ppa_mw"] == pytest.approx(250.0)
    # the monthly profit falls back to the hours' profit, one segment a month
    frame, _ = D.monthly_profit(rr)
    assert list(frame.columns) == ["profit (streams not recorded)"]
    assert frame.to_numpy().sum() == pytest.approx(rr.objective_usd, rel=1e-9)
    assert report.write_report([folder]).is_file()  # the whole report from an older folder


def test_breakeven_is_the_fleets_mining_margin_at_the_meter(solved: tuple[Any, Any, Path]) -> None:
    sc, res, _ = solved
    be = D.breakeven_usd_per_mwh(res)
    hp = res.dispatch["hashprice_usd_per_ph_day"]
    for f in sc.config.asic:
        expect = (hp * 1000 / f.efficiency_j_per_th / 24 * (1 - f.pool_fee) - f.om_usd_per_mwh) / f.pue
        np.testing.assert_allclose(be[f.name], expect, rtol=1e-12)
    # the model's own mining revenue: sum(hashprice x MW) x 1000 / e / 24
    for f in sc.config.asic:
        mined = (hp * res.dispatch[f"asic_{f.name}_mw"]).sum() * 1000 / f.efficiency_j_per_th / 24
        assert mined == pytest.approx(res.summary["revenue_usd"][f"asic_{f.name}_mining"], rel=1e-9)


def test_weeks_follow_their_definitions(solved: tuple[Any, Any, Path]) -> None:
    _, res, _ = solved
    price = res.dispatch["price_usd_per_mwh"]
    w = D.weeks(res)
    hi, typ = w["highest_price"], w["typical"]
    assert hi["start"] <= price.idxmax() < hi["end"]
    assert hi["end"] - hi["start"] == pd.Timedelta(days=7)
    assert hi["max_price_usd_per_mwh"] == price.max()
    starts = [res.dispatch.index[0], res.dispatch.index[0] + pd.Timedelta(days=7)]  # two whole weeks, no DST
    apart = [t for t in starts if t + pd.Timedelta(days=7) <= hi["start"] or t >= hi["end"]]
    assert apart == [starts[1]]  # the first week overlaps the spike's: the typical week is the other
    assert typ["start"] == starts[1] and typ["end"] == starts[1] + pd.Timedelta(days=7)
    assert typ["mean_price_usd_per_mwh"] == pytest.approx(price[starts[1]:].mean())
    assert typ["mean_price_usd_per_mwh"] < hi["mean_price_usd_per_mwh"]


def test_hour_states_and_power_handed_back(solved: tuple[Any, Any, Path]) -> None:
    _, res, _ = solved
    d = res.dispatch
    states = D.hour_states(res)
    assert len(states) == len(d) and states.notna().all()
    labels = list(D.HOUR_STATES)
    short = d["gpu_tenant-a_shortfall_mw"] > D.TOL_MW
    assert (states[short] == labels[0]).all()
    assert (states[~short & (d["export_mw"] > D.TOL_MW)] == labels[1]).all()
    hb = D.handed_back(res)
    assert hb["hours_exporting"] == int((d["export_mw"] > D.TOL_MW).sum()) > 0
    assert hb["mwh_exported"] == pytest.approx(res.summary["energy_mwh"]["export"])
    assert hb["hours_gpu_short"] == int(short.sum())
    # the meter: every use plus the export equals PPA plus import (no battery here)
    total = sum(s for _, s, _ in D.power_at_meter(res))
    np.testing.assert_allclose(total, 250.0 + d["import_mw"], atol=1e-6)


def test_realised_value_per_mwh(solved: tuple[Any, Any, Path]) -> None:
    _, res, _ = solved
    s = res.summary
    real = D.realised_usd_per_mwh(res)
    net = s["revenue_usd"]["asic_s21_mining"] - s["cost_usd"]["asic_s21_pool_fee"] - s["cost_usd"]["asic_s21_om"]
    assert real.loc["ASIC s21", "net_usd_per_unit"] == pytest.approx(net / s["energy_mwh"]["asic_s21"])
    assert real.loc["energy sold", "net_usd_per_unit"] == pytest.approx(
        s["revenue_usd"]["energy_sales"] / s["energy_mwh"]["export"])
    # the table leaves out the charges on the month's and the system's peaks (no per-MWh use pays
    # them): it adds up to the objective plus those two (here 1.9 M$, under load metering)
    charges = s["cost_usd"]["demand_charge"] + s["cost_usd"]["coincident_peak"]
    assert charges > 1e5
    assert real["net_usd"].sum() - s["objective_usd"] == pytest.approx(charges, abs=1e-3)


def test_assumptions_default_to_perfect_foresight_and_read_a_policy(folder: Path) -> None:
    rr = optimiser.read_results(folder)
    a = D.assumptions(rr)
    assert a["foresight"].startswith("perfect") and "metering" in a
    rr.summary["policy"] = {"name": "rolling horizon", "window_h": 48, "step_h": 24}
    rr.summary["assumptions"] = {"foresight": "48 h of forecast prices", "metering": "15-minute"}
    a = D.assumptions(rr)
    assert a["foresight"] == "48 h of forecast prices" and a["metering"] == "15-minute"
    assert a["policy name"] == "rolling horizon" and a["policy window_h"] == "48"


# ------------------------------------------------------------------------------------------------
# the figures, as drawn
# ------------------------------------------------------------------------------------------------


def test_monthly_bars_add_up_to_the_profit(solved: tuple[Any, Any, Path]) -> None:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    _, res, out = solved
    fig = report.plot_monthly_profit(out, fig=Figure())
    ax = fig.axes[0]
    heights: dict[float, float] = {}
    for p in ax.patches:
        if isinstance(p, Rectangle):
            x = round(p.get_x() + p.get_width() / 2, 6)
            heights[x] = heights.get(x, 0.0) + p.get_height()
    months = res.summary["profit_by_month_usd"]
    assert sorted(heights) == list(range(len(months)))
    for x, (month, streams) in enumerate(months.items()):
        assert heights[x] == pytest.approx(sum(streams.values()) / 1e6, rel=1e-9, abs=1e-9), month
    assert sum(heights.values()) == pytest.approx(res.objective_usd / 1e6, rel=1e-9)
    profit_line = [ln for ln in ax.lines if ln.get_label() == "profit"][0]
    np.testing.assert_allclose(profit_line.get_ydata(), [sum(m.values()) / 1e6 for m in months.values()])


def test_every_figure_function_draws_with_pyplot_too(solved: tuple[Any, Any, Path]) -> None:
    """In a notebook the functions make their own figures (pyplot), with a unit on every axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, res, out = solved
    rr = optimiser.read_results(out)
    for fn in (report.plot_streams_by_use, report.plot_energy_by_use, report.plot_gpu_availability,
               report.plot_dispatch_week, report.plot_price_duration, report.plot_monthly_profit,
               report.plot_marginal_value_heatmap, report.plot_breakeven):
        for source in (res, rr):
            fig = fn(source)
            try:
                for ax in fig.axes:
                    if not ax.get_visible() or not ax.axison or ax.get_label() == "<colorbar>":
                        continue
                    for label in (ax.get_ylabel(),) + ((ax.get_xlabel(),) if ax.get_xlabel() else ()):
                        if label:
                            assert re.search(r"\[[^\]]+\]", label), f"{fn.__name__}: no unit in {label!r}"
            finally:
                plt.close(fig)
    for fn in (report.plot_stream_differences, report.plot_weeks_compared):
        plt.close(fn([res, rr]))


def test_one_colour_per_use_across_figures(solved: tuple[Any, Any, Path]) -> None:
    """A use has the same colour in the dispatch, the price-duration curve and the monthly bars."""
    from matplotlib.colors import to_hex

    _, res, _ = solved
    meter = {label: to_hex(c) for label, _, c in D.power_at_meter(res)}
    _, monthly = D.monthly_profit(res)
    groups = {k: to_hex(v) for k, v in monthly.items()}
    assert meter["ASIC s21"] == groups["ASIC s21"] == USE_COLOURS["asic"]
    assert meter["GPU tenant-a firm"] == groups["GPU tenant-a"] == USE_COLOURS["gpu"]
    assert meter["sold to the grid"] == groups["energy sold"] == USE_COLOURS["handed_back"]
    assert meter["GPU tenant-a spot"] == USE_COLOURS["gpu_spot"]
    assert D.HOUR_STATES["selling power to the grid"] == USE_COLOURS["handed_back"]


# ------------------------------------------------------------------------------------------------
# the report folder
# ------------------------------------------------------------------------------------------------


class _Refs(HTMLParser):
    """Every URL a page refers to (src, href, srcset, url(...) in style) and its images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        for k in ("src", "href", "srcset", "poster", "data", "action"):
            if a.get(k):
                self.urls.append(str(a[k]))
        for m in re.finditer(r"url\(([^)]*)\)", a.get("style") or ""):
            self.urls.append(m.group(1))


def report_json(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m, "no report-data block"
    return json.loads(m.group(1))


def test_report_folder_is_self_contained_and_stays_the_tools(written: Path) -> None:
    page = (written / "report.html").read_text(encoding="utf-8")
    data = report_json(page)
    names = data["figures"]
    assert {"streams", "energy-by-use", "gpu-availability", "dispatch-highest-price-week", "dispatch-typical-week",
            "price-duration", "monthly-profit", "marginal-value-heatmap", "breakeven"} <= set(names)
    for n in names:
        for ext in ("png", "svg"):
            f = written / "figures" / f"{n}.{ext}"
            assert f.is_file() and f.stat().st_size > 5000, f
        assert (written / "figures" / f"{n}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (written / "figures" / f"{n}.svg").read_bytes()[:2000]
    refs = _Refs()
    refs.feed(page)
    assert all(u.startswith("data:") or u.startswith("#") for u in refs.urls), refs.urls
    assert not {"link", "iframe", "object", "embed"} & refs.tags
    assert not re.search(r"<script[^>]+src=", page) and "@import" not in page
    assert sorted(i["data-figure"] for i in refs.imgs) == sorted(names)
    assert all(str(i["src"]).startswith("data:image/png;base64,") and i.get("alt") for i in refs.imgs)
    marker = json.loads((written / MARKER).read_text())
    assert "report.html" in marker["files"]
    assert sorted(marker["folders"]["figures"]) == sorted(f"{n}.{e}" for n in names for e in ("png", "svg"))
    assert check_results_folder(written) == written.resolve()  # still a results folder a run may replace


def test_report_data_matches_the_results(written: Path) -> None:
    rr = optimiser.read_results(written)
    data = report_json((written / "report.html").read_text(encoding="utf-8"))
    s = rr.summary
    assert data["objective_usd"] == pytest.approx(s["objective_usd"])
    monthly = data["monthly_profit_usd"]
    total = sum(sum(v for v in groups.values()) for groups in monthly.values())
    assert total == pytest.approx(s["objective_usd"] - s["profit_not_in_hours_usd"], rel=1e-9)
    hourly = rr.dispatch["profit_usd"].groupby(local_month(rr.dispatch.index, s["timezone"])).sum()
    for month, groups in monthly.items():
        assert sum(groups.values()) == pytest.approx(hourly[month], rel=1e-9, abs=1e-3)
    streams = {r["stream"]: r["signed_usd"] for r in data["streams"]}
    assert streams == pytest.approx({**s["revenue_usd"], **{k: -v for k, v in s["cost_usd"].items()}})
    assert sum(data["hours_by_state"].values()) == s["hours"]
    by_period = {(r["fleet"], r["period"]): r["availability"] for r in data["gpu_availability"]}
    assert by_period == pytest.approx({(g, p): v for g, ps in s["gpu_availability_by_period"].items()
                                       for p, v in ps.items()})
    assert all(r["met"] for r in data["gpu_availability"])
    assert data["assumptions"]["foresight"].startswith("perfect")


def test_a_file_of_the_users_in_figures_makes_the_folder_not_the_tools(folder: Path) -> None:
    report.write_report([folder])
    (folder / "figures" / "thesis.docx").write_text("mine")
    with pytest.raises(ResultsFolderError, match="figures/thesis.docx"):
        check_results_folder(folder)


def test_a_new_run_replaces_the_report_with_the_rest(folder: Path, example_dir: Path) -> None:
    report.write_report([folder])
    sc = optimiser.load_scenario(example_dir, start="2025-08-20T00:00:00-05:00", end="2025-08-21T00:00:00-05:00")
    optimiser.run(sc, out=folder)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "dispatch.csv", "summary.json"]


def test_write_report_refuses_a_folder_of_the_users(folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ResultsFolderError, match="not a results folder"):
        report.write_report([folder], out=mine)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


# ------------------------------------------------------------------------------------------------
# the command line and comparisons
# ------------------------------------------------------------------------------------------------


def test_cli_report_and_comparison(folder: Path, tmp_path: Path, example_dir: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(folder)]) == 0
    assert "report.html" in capsys.readouterr().out
    other = tmp_path / "s21-capped"
    extra = tmp_path / "extra.py"
    extra.write_text("import pyomo.environ as pyo\n\ndef cap_s21(m):\n"
                     "    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.asic.power['s21', t] <= 100)\n")
    assert main(["run", str(example_dir), "--out", str(other), "--start", START, "--end", END, "--report", "-q",
                 "--extra", f"{extra}:cap_s21"]) == 0
    assert capsys.readouterr().out == ""
    assert (other / "report.html").is_file()
    cmp_dir = tmp_path / "compare"
    assert main(["report", str(folder), str(other), "--out", str(cmp_dir), "--label", "optimum",
                 "--label", "s21 capped"]) == 0
    page = (cmp_dir / "comparison.html").read_text(encoding="utf-8")
    data = report_json(page)
    assert data["labels"] == ["optimum", "s21 capped"]
    a, b = (optimiser.read_results(p) for p in (folder, other))
    diff = data["differences_usd"]
    assert diff["profit"]["s21 capped"] == pytest.approx(b.objective_usd - a.objective_usd, rel=1e-9)
    assert diff["profit"]["optimum"] == pytest.approx(a.objective_usd)
    assert sum(v["s21 capped"] for k, v in diff.items() if k != "profit") == pytest.approx(
        b.objective_usd - a.objective_usd, rel=1e-6)
    assert diff["ASIC s21"]["s21 capped"] < 0
    assert (cmp_dir / "figures" / "comparison-week.svg").is_file()
    assert main(["report", str(folder), str(other), "--label", "one"]) == 2
    assert "1 labels for 2 results folders" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nowhere")]) == 2


def test_a_sweep_folder_stands_for_its_cases(folder: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "cases.parquet").write_bytes(b"")
    for name in ("case-000", "case-001"):
        shutil.copytree(folder, sweep / name)
    assert report.expand_folders([sweep]) == [sweep / "case-000", sweep / "case-001"]
    page = report.write_report([sweep], out=tmp_path / "sweep-report")
    assert page.name == "comparison.html"


# ------------------------------------------------------------------------------------------------
# as a person sees it: headless Chromium
# ------------------------------------------------------------------------------------------------

#: Chromium flags: no sandbox (root), nothing of the browser's own on the network, and every host
#: name resolving to nothing, so the page could not fetch anything even if it tried.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
]

#: A4 at 96 dpi: the width a planner reads the page at. [px]
A4_WIDTH_PX = 794


def chromium() -> str | None:
    """The Chromium binary: $DISPATCH_CHROMIUM, else chromium / chromium-browser on the PATH."""
    given = os.environ.get("DISPATCH_CHROMIUM")
    if given:
        return given
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(binary: str, args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(tmp)}  # its profile and crash files stay in the test's folder
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=180, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_report_in_a_browser(written: Path, tmp_path: Path) -> None:
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'; make test installs it with apt-get "
                    "where it can): the report was not opened in a browser")
    page = (written / "report.html").resolve()
    url = page.as_uri()
    figures = report_json(page.read_text(encoding="utf-8"))["figures"]

    # 1. the page after its load event: each figure decoded, the console quiet, nothing fetched
    netlog = tmp_path / "net.json"
    r = run_chromium(binary, ["--enable-logging=stderr", "--v=0", "--dump-dom", f"--log-net-log={netlog}", url],
                     tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", r.stdout)
    assert body, r.stdout[:500]
    assert f'data-figures="{len(figures)}"' in body.group(1)
    assert f'data-figures-loaded="{len(figures)}"' in body.group(1), body.group(1)
    dom = _Refs()
    dom.feed(r.stdout)
    shown = {i["data-figure"]: i.get("data-loaded") for i in dom.imgs}
    assert shown == {n: "yes" for n in figures}
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    assert len(console) == 1 and f'"report figures loaded: {len(figures)} of {len(figures)}"' in console[0], console
    events = json.loads(netlog.read_text())
    page_requests = [e["params"]["url"] for e in events["events"]
                     if "file://" in str(e.get("params", {}).get("network_isolation_key", ""))
                     and "url" in e.get("params", {}) and not str(e["params"]["url"]).startswith(("file:", "data:"))]
    assert page_requests == [], f"the page asked the network for {page_requests}"

    # 2. a screenshot at A4 width, long enough for the whole page: figures painted in the use colours
    shot = tmp_path / "report.png"
    r = run_chromium(binary, [f"--screenshot={shot}", f"--window-size={A4_WIDTH_PX},9000", url], tmp_path)
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    from matplotlib.image import imread

    img = imread(shot)[..., :3]
    assert img.shape[1] == A4_WIDTH_PX
    assert img.std() > 0.1, "the screenshot is blank"
    for use in ("asic", "gpu", "handed_back"):
        rgb = np.array([int(USE_COLOURS[use][i:i + 2], 16) / 255 for i in (1, 3, 5)])
        near = (np.abs(img - rgb).max(axis=2) < 0.03).sum()
        assert near > 2000, f"hardly any {use} colour in the screenshot ({near} px): figures not painted?"
    keep = os.environ.get("DISPATCH_REPORT_SCREENSHOT")
    if keep:  # for a person to look at
        shutil.copy(shot, keep)
    assert math.isfinite(float(img.mean()))
