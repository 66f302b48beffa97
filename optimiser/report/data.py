"""The numbers behind the report's figures and tables, computed from a results folder alone.

Every function takes :class:`optimiser.Results`, a :class:`optimiser.readback.ResultsFolder` or
the path of a results folder, and reads ``dispatch`` and ``summary`` only, so a folder written by
``dispatch run``, a baseline or a sweep case is read the same way. What a results folder does not
hold is taken from ``summary.json``'s ``fleets`` and ``site`` blocks (written since the report
was added, docs/outputs.md) or, for an older folder, inferred from the streams and the columns:
see :func:`fleets`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..plots import USE_COLOURS, _shade
from ..readback import as_results

__all__ = [
    "HOUR_STATES", "assumptions", "breakeven_usd_per_mwh", "fleets", "gpu_availability", "handed_back",
    "hour_states", "monthly_profit", "monthly_profit_by_stream", "power_at_meter", "realised_usd_per_mwh",
    "report_data", "site", "stream_group", "stream_groups", "weeks",
]

#: Below this a power is taken as zero when an hour is classified. [MW]
TOL_MW = 1e-3

#: What the site did in an hour, in the order a figure lists them, with the colour of each.
#: An hour is the first that applies: GPU contract short, selling to the grid, load curtailed,
#: every fleet at full power.
HOUR_STATES: dict[str, str] = {
    "GPU contract short (SLA allowance used)": USE_COLOURS["shortfall"],
    "selling power to the grid": USE_COLOURS["handed_back"],
    "load curtailed (power not bought)": USE_COLOURS["curtailed"],
    "every fleet at full power": USE_COLOURS["running"],
}

_FLEET_KINDS = ("asic", "gpu", "flex")


def _tz(rr: Any) -> str:
    return str(rr.summary.get("timezone") or rr.summary.get("provenance", {}).get("horizon", {}).get("timezone")
               or "UTC")


def _col(d: pd.DataFrame, name: str) -> pd.Series:
    return d[name] if name in d else pd.Series(0.0, index=d.index)


def _names(d: pd.DataFrame, prefix: str, suffix: str) -> list[str]:
    return [c[len(prefix):-len(suffix)] for c in d.columns
            if c.startswith(prefix) and c.endswith(suffix) and len(c) > len(prefix) + len(suffix)]


def fleets(results: Any) -> pd.DataFrame:
    """Each fleet's parameters: from ``summary.json``'s ``fleets`` block, or inferred.

    Inference (a results folder written before the block existed) is exact where the streams
    allow it: an ASIC fleet's efficiency from its mining revenue and the hashprice column
    (``revenue = sum(hashprice x MW) x 1000 / e / 24``), its pool fee and any fleet's O&M from
    their cost streams, the PUEs from a least-squares fit of ``load_mw`` on the fleet columns
    (kept only if it reproduces ``load_mw`` to 1e-6 of the load; otherwise 1), a GPU contract
    from firm plus shortfall, and capacities as the largest power seen (a lower bound).

    Parameters
    ----------
    results
        Results, a results folder read back, or its path.

    Returns
    -------
    pandas.DataFrame
        Indexed by fleet name, in the order ASICs, GPUs, flex loads; columns ``kind``,
        ``capacity_mw``, ``pue``, ``om_usd_per_mwh``, ``efficiency_j_per_th``, ``pool_fee``,
        ``contract_mw``, ``availability``, ``billing_period`` (NaN or None where they do not
        apply) and ``source`` (``"summary"`` or ``"inferred"``). [MW, -, $/MWh, J/TH]
    """
    rr = as_results(results)
    cols = ["kind", "capacity_mw", "pue", "om_usd_per_mwh", "efficiency_j_per_th", "pool_fee", "contract_mw",
            "availability", "billing_period", "source"]
    block = rr.summary.get("fleets")
    if isinstance(block, dict) and block:
        rows = {k: {**{c: None for c in cols}, **v, "source": "summary"} for k, v in block.items()}
        frame = pd.DataFrame.from_dict(rows, orient="index")[cols]
        order = {k: i for i, k in enumerate(_FLEET_KINDS)}
        return frame.iloc[np.argsort([order.get(k, 9) for k in frame["kind"]], kind="stable")]
    return _infer_fleets(rr, cols)


def _infer_fleets(rr: Any, cols: list[str]) -> pd.DataFrame:
    d, s = rr.dispatch, rr.summary
    rev, cost = s.get("revenue_usd", {}), s.get("cost_usd", {})
    rows: dict[str, dict[str, Any]] = {}
    it: dict[str, pd.Series] = {}
    for k in _names(d, "asic_", "_mw"):
        x = d[f"asic_{k}_mw"]
        it[k] = x
        mined = rev.get(f"asic_{k}_mining", 0.0)
        hp = d.get("hashprice_usd_per_ph_day")
        eff = float((hp * x).sum() * 1000 / 24 / mined) if hp is not None and mined > 0 else math.nan
        rows[k] = {"kind": "asic", "capacity_mw": float(x.max()), "efficiency_j_per_th": eff,
                   "pool_fee": cost.get(f"asic_{k}_pool_fee", 0.0) / mined if mined > 0 else math.nan,
                   "om_usd_per_mwh": cost.get(f"asic_{k}_om", 0.0) / x.sum() if x.sum() > 0 else math.nan}
    for g in _names(d, "gpu_", "_firm_mw"):
        firm, spot, short = d[f"gpu_{g}_firm_mw"], _col(d, f"gpu_{g}_spot_mw"), _col(d, f"gpu_{g}_shortfall_mw")
        it[g] = firm + spot
        rows[g] = {"kind": "gpu", "capacity_mw": float((firm + spot).max()),
                   "contract_mw": float((firm + short).max()), "billing_period": "month",
                   "om_usd_per_mwh": cost.get(f"gpu_{g}_om", 0.0) / it[g].sum() if it[g].sum() > 0 else math.nan}
    for f in _names(d, "flex_", "_mw"):
        x = d[f"flex_{f}_mw"]
        it[f] = x
        rows[f] = {"kind": "flex", "capacity_mw": float(x.max()),
                   "om_usd_per_mwh": cost.get(f"flex_{f}_om", 0.0) / x.sum() if x.sum() > 0 else math.nan}
    pue = _fit_pue(d, it)
    for k in rows:
        rows[k]["pue"] = pue.get(k, 1.0)
        rows[k]["source"] = "inferred"
    frame = pd.DataFrame.from_dict(rows, orient="index") if rows else pd.DataFrame(columns=cols)
    for c in cols:
        if c not in frame:
            frame[c] = None
    return frame[cols]


def _fit_pue(d: pd.DataFrame, it: dict[str, pd.Series]) -> dict[str, float]:
    """PUEs fitted to ``load_mw`` (less batteries' charging); {} unless the fit is exact."""
    if not it or "load_mw" not in d:
        return {}
    charge = sum((d[c] for c in d.columns if c.startswith("battery_") and c.endswith("_charge_mw")),
                 start=pd.Series(0.0, index=d.index))
    y = (d["load_mw"] - charge).to_numpy()
    a = np.column_stack([v.to_numpy() for v in it.values()])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    if np.abs(a @ coef - y).max() > 1e-6 * max(1.0, np.abs(y).max()) or not ((coef >= 1 - 1e-6) & (coef <= 3)).all():
        return {}
    return {k: float(round(c, 9)) for k, c in zip(it, coef)}


def site(results: Any) -> dict[str, float | None]:
    """The grid connection and PPA: ``summary.json``'s ``site`` block, or what the columns imply.

    Returns
    -------
    dict
        ``import_mw``, ``export_mw`` (limits; None if unknown), ``ppa_mw`` (inferred from the
        balance ``load + export - import - discharge``), ``ppa_usd_per_mwh``,
        ``energy_adder_usd_per_mwh``. [MW, $/MWh]
    """
    rr = as_results(results)
    block = rr.summary.get("site")
    if isinstance(block, dict) and block:
        return dict(block)
    d = rr.dispatch
    discharge = sum((d[c] for c in d.columns if c.endswith("_discharge_mw")), start=pd.Series(0.0, index=d.index))
    ppa = float((_col(d, "load_mw") + _col(d, "export_mw") - _col(d, "import_mw") - discharge).median())
    return {"import_mw": None, "export_mw": None, "ppa_mw": ppa, "ppa_usd_per_mwh": None,
            "energy_adder_usd_per_mwh": None}


def power_at_meter(results: Any) -> list[tuple[str, pd.Series, Any]]:
    """Where the site's power went each hour, at the meter, in the order a stacked chart draws it.

    Each fleet's IT power times its PUE: every ASIC fleet, each GPU tenant's firm then spot
    power, flex loads; then batteries' charging and the export. Together they equal the PPA plus
    the import plus batteries' discharge (which is returned negative, as a source).

    Returns
    -------
    list of (label, pandas.Series, colour)
        MW at the meter, indexed like ``results.dispatch``. [MW]
    """
    rr = as_results(results)
    d, fl = rr.dispatch, fleets(rr)
    out: list[tuple[str, pd.Series, Any]] = []
    count = {k: 0 for k in _FLEET_KINDS}
    for name, f in fl.iterrows():
        kind, pue, i = f["kind"], float(f["pue"] if f["pue"] is not None else 1.0), count.get(f["kind"], 0)
        count[kind] = i + 1
        if kind == "asic":
            out.append((f"ASIC {name}", pue * _col(d, f"asic_{name}_mw"), _shade(USE_COLOURS["asic"], i)))
        elif kind == "gpu":
            out.append((f"GPU {name} firm", pue * _col(d, f"gpu_{name}_firm_mw"), _shade(USE_COLOURS["gpu"], i)))
            out.append((f"GPU {name} spot", pue * _col(d, f"gpu_{name}_spot_mw"),
                        _shade(USE_COLOURS["gpu_spot"], i)))
        elif kind == "flex":
            out.append((f"flex {name}", pue * _col(d, f"flex_{name}_mw"), _shade(USE_COLOURS["flex"], i)))
    for i, b in enumerate(_names(d, "battery_", "_charge_mw")):
        out.append((f"battery {b} charging", d[f"battery_{b}_charge_mw"], _shade(USE_COLOURS["battery"], i)))
    out.append(("sold to the grid", _col(d, "export_mw"), USE_COLOURS["handed_back"]))
    for i, b in enumerate(_names(d, "battery_", "_discharge_mw")):
        out.append((f"battery {b} discharging", -d[f"battery_{b}_discharge_mw"], _shade(USE_COLOURS["battery"], i)))
    return out


def _fleet_load(rr: Any) -> pd.Series:
    """Fleets' power at the meter (the load less batteries' charging). [MW]"""
    total = pd.Series(0.0, index=rr.dispatch.index)
    for label, series, _ in power_at_meter(rr):
        if label.startswith(("ASIC ", "GPU ", "flex ")):
            total = total + series
    return total


def usable_mw(results: Any) -> float:
    """What the fleets can draw at the meter at most: all at full power, within import plus PPA. [MW]"""
    rr = as_results(results)
    fl, st = fleets(rr), site(rr)
    full = float(sum(float(f["pue"] or 1.0) * float(f["capacity_mw"] or 0.0) for _, f in fl.iterrows()))
    if st.get("import_mw") is not None:
        full = min(full, float(st["import_mw"]) + float(st.get("ppa_mw") or 0.0))
    return full


def hour_states(results: Any) -> pd.Series:
    """What the site did in each hour: one of :data:`HOUR_STATES` (the first that applies).

    Returns
    -------
    pandas.Series
        Categorical, indexed like ``results.dispatch``.
    """
    rr = as_results(results)
    d = rr.dispatch
    labels = list(HOUR_STATES)
    short = sum((d[c] for c in d.columns if c.startswith("gpu_") and c.endswith("_shortfall_mw")),
                start=pd.Series(0.0, index=d.index))
    curtailed = _fleet_load(rr) < usable_mw(rr) - TOL_MW
    state = np.select([short > TOL_MW, _col(d, "export_mw") > TOL_MW, curtailed], labels[:3], labels[3])
    return pd.Series(pd.Categorical(state, categories=labels), index=d.index, name="state")


def weeks(results: Any, days: int = 7) -> dict[str, dict[str, Any]]:
    """The two weeks the dispatch chart shows: the highest-price week and a typical week.

    * ``highest_price``: ``days`` days from local midnight ``days // 2`` days before the hour of
      the highest price (moved to fit in the horizon);
    * ``typical``: the horizon cut into whole ``days``-day weeks from its start; of those that do
      not overlap the highest-price week (all of them if none is left), the week whose mean price
      is nearest the median of their mean prices (the earlier one on a tie).

    A horizon shorter than ``days`` is shown whole, as both.

    Returns
    -------
    dict
        ``{"highest_price": {...}, "typical": {...}}``, each with ``start`` and ``end`` (UTC
        ``pandas.Timestamp``, end exclusive), ``mean_price_usd_per_mwh`` and ``max_price_usd_per_mwh``.
    """
    rr = as_results(results)
    d = rr.dispatch
    tz = _tz(rr)
    price = d["price_usd_per_mwh"]
    first, end = d.index[0], d.index[-1] + pd.Timedelta(hours=1)

    def window(t0: pd.Timestamp) -> dict[str, Any]:
        t1 = min(end, (t0.tz_convert(tz) + pd.DateOffset(days=days)).tz_convert("UTC"))
        p = price[(price.index >= t0) & (price.index < t1)]
        return {"start": t0, "end": t1, "mean_price_usd_per_mwh": float(p.mean()),
                "max_price_usd_per_mwh": float(p.max())}

    span = pd.Timedelta(days=days)
    if end - first <= span:
        whole = window(first)
        return {"highest_price": whole, "typical": dict(whole)}
    spike = price.idxmax().tz_convert(tz).normalize() - pd.DateOffset(days=days // 2)
    t0 = min(max(spike.tz_convert("UTC"), first), end - span)
    highest = window(t0)
    starts = []
    t = first
    while (t.tz_convert(tz) + pd.DateOffset(days=days)).tz_convert("UTC") <= end:
        starts.append(t)
        t = (t.tz_convert(tz) + pd.DateOffset(days=days)).tz_convert("UTC")
    apart = [t for t in starts if window(t)["end"] <= highest["start"] or t >= highest["end"]]
    starts = apart or starts
    means = np.array([window(t)["mean_price_usd_per_mwh"] for t in starts])
    pick = int(np.argmin(np.abs(means - np.median(means))))
    return {"highest_price": highest, "typical": window(starts[pick])}


def stream_group(stream: str, fleet_table: pd.DataFrame | None = None) -> tuple[str, Any]:
    """The use a revenue or cost stream belongs to, and its colour.

    Fleet streams go to their fleet (``asic_s21_mining``, ``asic_s21_pool_fee`` and
    ``asic_s21_om`` to ``ASIC s21``), reserves to their product, ``energy_sales`` to ``energy
    sold``, ``energy_purchases`` and ``energy_adder`` to ``energy bought``, ``demand_charge`` and
    ``coincident_peak`` to ``grid charges``; anything else is its own group, coloured ``other``.

    Parameters
    ----------
    stream
        A key of ``revenue_usd`` or ``cost_usd``.
    fleet_table
        :func:`fleets` of the run (fleet names may hold ``_``: the longest matching name wins).
    """
    names = [] if fleet_table is None else list(fleet_table.index)
    kinds = {} if fleet_table is None else dict(fleet_table["kind"])
    best = None
    for n in names:
        k = kinds[n]
        if (stream.startswith(f"{k}_{n}_") or stream == f"{k}_{n}") and (best is None or len(n) > len(best)):
            best = n
    if best is not None:
        k = kinds[best]
        i = [n for n in names if kinds[n] == k].index(best)
        label = {"asic": "ASIC", "gpu": "GPU", "flex": "flex"}[k]
        return f"{label} {best}", _shade(USE_COLOURS[k], i)
    for prefix, key, label in (("asic_", "asic", "ASIC"), ("gpu_", "gpu", "GPU"), ("flex_", "flex", "flex")):
        if stream.startswith(prefix) and fleet_table is None:
            rest = stream[len(prefix):]
            for suffix in ("_mining", "_pool_fee", "_om", "_contract", "_spot", "_sla_credit"):
                rest = rest.removesuffix(suffix)
            return f"{label} {rest}", USE_COLOURS[key]
    if stream.startswith("battery_"):
        rest = stream[len("battery_"):].removesuffix("_om").removesuffix("_end_value")
        return f"battery {rest}", USE_COLOURS["battery"]
    if stream.startswith("reserve_"):
        return f"reserve {stream[len('reserve_'):]}", USE_COLOURS["reserve"]
    fixed = {
        "energy_sales": ("energy sold", USE_COLOURS["handed_back"]),
        "energy_purchases": ("energy bought", USE_COLOURS["import"]),
        "energy_adder": ("energy bought", USE_COLOURS["import"]),
        "ppa": ("PPA", USE_COLOURS["ppa"]),
        "demand_charge": ("grid charges", USE_COLOURS["grid_charges"]),
        "coincident_peak": ("grid charges", USE_COLOURS["grid_charges"]),
    }
    return fixed.get(stream, (stream, USE_COLOURS["other"]))


def stream_groups(results: Any) -> pd.DataFrame:
    """Revenue and cost by stream with each stream's group (:func:`stream_group`).

    Returns
    -------
    pandas.DataFrame
        Columns ``stream``, ``kind`` (``revenue``/``cost``), ``usd`` (positive), ``signed_usd``
        (cost negative), ``group``, ``colour``; revenue first, in the summary's order. [$]
    """
    rr = as_results(results)
    fl = fleets(rr)
    rows = []
    for kind, key, sign in (("revenue", "revenue_usd", 1.0), ("cost", "cost_usd", -1.0)):
        for k, v in rr.summary.get(key, {}).items():
            g, c = stream_group(k, fl)
            rows.append({"stream": k, "kind": kind, "usd": float(v), "signed_usd": sign * float(v), "group": g,
                         "colour": c})
    return pd.DataFrame(rows, columns=["stream", "kind", "usd", "signed_usd", "group", "colour"])


def monthly_profit_by_stream(results: Any) -> pd.DataFrame:
    """Profit booked to each calendar month (site time zone), by stream.

    From ``summary.json``'s ``profit_by_month_usd``; for a folder without it, one column
    ``profit (streams not recorded)`` holding ``profit_usd`` summed by month.

    Returns
    -------
    pandas.DataFrame
        Rows ``"2025-01"``..., columns streams, revenue positive and cost negative; every row adds
        up to that month's ``profit_usd``. [$]
    """
    rr = as_results(results)
    block = rr.summary.get("profit_by_month_usd")
    if isinstance(block, dict) and block:
        frame = pd.DataFrame.from_dict(block, orient="index").fillna(0.0)
        frame.index.name = "month"
        return frame
    local = rr.dispatch.index.tz_convert(_tz(rr))
    month = pd.Index([f"{t.year:04d}-{t.month:02d}" for t in local], name="month")
    total = rr.dispatch["profit_usd"].groupby(month.to_numpy()).sum()
    total.index.name = "month"
    return total.to_frame("profit (streams not recorded)")


def monthly_profit(results: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Profit by month and by stream group (what the monthly bars show).

    Returns
    -------
    pandas.DataFrame
        Rows months, columns groups (:func:`stream_group`) in the order of the summary's
        streams, values signed. [$]
    dict
        ``{group: colour}``.
    """
    rr = as_results(results)
    by_stream = monthly_profit_by_stream(rr)
    fl = fleets(rr)
    order = list(rr.summary.get("revenue_usd", {})) + list(rr.summary.get("cost_usd", {}))
    cols = [c for c in order if c in by_stream] + [c for c in by_stream if c not in order]
    groups: dict[str, list[str]] = {}
    colours: dict[str, Any] = {}
    for c in cols:
        g, colour = stream_group(c, fl)
        groups.setdefault(g, []).append(c)
        colours.setdefault(g, colour)
    frame = pd.DataFrame({g: by_stream[cs].sum(axis=1) for g, cs in groups.items()}, index=by_stream.index)
    return frame, colours


def realised_usd_per_mwh(results: Any) -> pd.DataFrame:
    """What each use earned or cost per MWh over the horizon.

    For each fleet: its energy (IT), revenue, cost and net per IT MWh (ASIC: mining less pool fee
    and O&M; GPU: contract and spot less SLA credits and O&M, per MWh delivered firm or spot;
    flex: its revenue less O&M); batteries per MWh discharged; energy sold per MWh exported,
    energy bought (with the adder) per MWh imported, the PPA per MWh delivered; a reserve per MW
    offered for an hour (its unit says so).

    Returns
    -------
    pandas.DataFrame
        Indexed by use; columns ``energy``, ``unit`` (``MWh`` or ``MW h``), ``revenue_usd``,
        ``cost_usd``, ``net_usd``, ``net_usd_per_unit``. [MWh, $, $/MWh]
    """
    rr = as_results(results)
    d, s, fl = rr.dispatch, rr.summary, fleets(rr)
    energy = s.get("energy_mwh", {})
    groups = stream_groups(rr)
    rows = {}

    def add(use: str, amount: float, unit: str, group: str) -> None:
        g = groups[groups["group"] == group]
        revenue = float(g.loc[g["kind"] == "revenue", "usd"].sum())
        cost = float(g.loc[g["kind"] == "cost", "usd"].sum())
        net = revenue - cost
        rows[use] = {"energy": amount, "unit": unit, "revenue_usd": revenue, "cost_usd": cost, "net_usd": net,
                     "net_usd_per_unit": net / amount if amount > 0 else math.nan}

    for name, f in fl.iterrows():
        kind = f["kind"]
        label = {"asic": "ASIC", "gpu": "GPU", "flex": "flex"}[kind]
        if kind == "gpu":
            mwh = energy.get(f"gpu_{name}_firm", float(_col(d, f"gpu_{name}_firm_mw").sum())) + \
                energy.get(f"gpu_{name}_spot", float(_col(d, f"gpu_{name}_spot_mw").sum()))
        else:
            mwh = energy.get(f"{kind}_{name}", float(_col(d, f"{kind}_{name}_mw").sum()))
        add(f"{label} {name}", mwh, "MWh", f"{label} {name}")
    for b in _names(d, "battery_", "_discharge_mw"):
        add(f"battery {b}", float(d[f"battery_{b}_discharge_mw"].sum()), "MWh", f"battery {b}")
    add("energy sold", energy.get("export", float(_col(d, "export_mw").sum())), "MWh", "energy sold")
    add("energy bought", energy.get("import", float(_col(d, "import_mw").sum())), "MWh", "energy bought")
    if "PPA" in set(groups["group"]):
        add("PPA", energy.get("ppa", 0.0), "MWh", "PPA")
    for a in _names(d, "reserve_", "_mw"):
        add(f"reserve {a}", float(d[f"reserve_{a}_mw"].sum()), "MW h", f"reserve {a}")
    return pd.DataFrame.from_dict(rows, orient="index")


def breakeven_usd_per_mwh(results: Any) -> pd.DataFrame:
    """Each ASIC fleet's break-even power price, hour by hour, at the meter.

    ``(hashprice x 1000 / e / 24 x (1 - pool fee) - O&M) / PUE``: the energy price at which a MWh
    at the meter earns as much mining as it costs (``e`` the fleet's efficiency [J/TH]; O&M per
    IT MWh). Below it a fleet pays its way; the dispatch also weighs reserves, the ramp and the
    demand charge, so it is a guide, not the rule the optimiser follows.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``results.dispatch``, one column per ASIC fleet. [$/MWh]
    """
    rr = as_results(results)
    d, fl = rr.dispatch, fleets(rr)
    hp = _col(d, "hashprice_usd_per_ph_day")
    out = {}
    for name, f in fl[fl["kind"] == "asic"].iterrows():
        e = float(f["efficiency_j_per_th"])
        fee = float(f["pool_fee"] or 0.0)
        om = float(f["om_usd_per_mwh"] or 0.0)
        pue = float(f["pue"] or 1.0)
        out[name] = (hp * 1000.0 / e / 24.0 * (1 - fee) - om) / pue
    return pd.DataFrame(out, index=d.index)


def gpu_availability(results: Any) -> pd.DataFrame:
    """Delivered share of each GPU contract by billing period, against its SLA.

    From ``summary.json``'s ``gpu_availability_by_period``; without it, firm / (firm +
    shortfall) by calendar month.

    Returns
    -------
    pandas.DataFrame
        Columns ``fleet``, ``period``, ``availability``, ``sla`` (NaN if unknown), ``met``. [-]
    """
    rr = as_results(results)
    fl = fleets(rr)
    by_period = rr.summary.get("gpu_availability_by_period")
    rows = []
    if not isinstance(by_period, dict) or not by_period:
        d = rr.dispatch
        local = d.index.tz_convert(_tz(rr))
        month = np.array([f"{t.year:04d}-{t.month:02d}" for t in local])
        by_period = {}
        for g in _names(d, "gpu_", "_firm_mw"):
            firm, short = d[f"gpu_{g}_firm_mw"], _col(d, f"gpu_{g}_shortfall_mw")
            contract = (firm + short).groupby(month).sum()
            by_period[g] = (firm.groupby(month).sum() / contract.where(contract > 0)).fillna(1.0).to_dict()
    for g, periods in by_period.items():
        sla = fl.loc[g, "availability"] if g in fl.index else None
        sla = math.nan if sla is None or pd.isna(sla) else float(sla)
        for p, v in periods.items():
            rows.append({"fleet": g, "period": p, "availability": float(v), "sla": sla,
                         "met": bool(math.isnan(sla) or v >= sla - 1e-9)})
    return pd.DataFrame(rows, columns=["fleet", "period", "availability", "sla", "met"])


def handed_back(results: Any) -> dict[str, float]:
    """How often and how much the site gave its power back.

    Returns
    -------
    dict
        ``hours_exporting`` and ``mwh_exported`` (sold to the grid), ``hours_curtailed`` and
        ``mwh_curtailed`` (fleets below what they could draw at the meter, :func:`usable_mw`:
        power not bought, or sold), ``hours_gpu_short`` (hours with GPU contract power not
        delivered), ``hours``. [h, MWh]
    """
    rr = as_results(results)
    d = rr.dispatch
    gap = (usable_mw(rr) - _fleet_load(rr)).clip(lower=0.0)
    short = sum((d[c] for c in d.columns if c.startswith("gpu_") and c.endswith("_shortfall_mw")),
                start=pd.Series(0.0, index=d.index))
    return {
        "hours": int(len(d)),
        "hours_exporting": int((_col(d, "export_mw") > TOL_MW).sum()),
        "mwh_exported": float(_col(d, "export_mw").sum()),
        "hours_curtailed": int((gap > TOL_MW).sum()),
        "mwh_curtailed": float(gap[gap > TOL_MW].sum()),
        "hours_gpu_short": int((short > TOL_MW).sum()),
    }


def assumptions(results: Any) -> dict[str, str]:
    """The assumptions a run was made under, in words.

    ``summary.json``'s ``assumptions`` (a mapping) and ``policy`` (a name or a mapping) keys are
    shown as they are, if present (a baseline or a rolling horizon writes them). Otherwise the
    run is the LP over the whole horizon: perfect foresight of every price.

    Returns
    -------
    dict
        ``{what: text}``: at least ``foresight`` and ``metering``.
    """
    rr = as_results(results)
    s = rr.summary
    out: dict[str, str] = {}
    given = s.get("assumptions")
    if isinstance(given, dict):
        out.update({str(k): _text(v) for k, v in given.items()})
    elif given is not None:
        out["assumptions"] = _text(given)
    policy = s.get("policy")
    if isinstance(policy, dict):
        out.update({f"policy {k}": _text(v) for k, v in policy.items()})
    elif policy is not None:
        out["policy"] = _text(policy)
    if not any("foresight" in k or k.startswith("policy") for k in out):
        out["foresight"] = ("perfect: one linear program over the whole horizon, every price, hashprice "
                            "and reserve price known in advance (an upper bound on what operation can earn)")
    out.setdefault("metering", "hourly, net at the site's meter: import and export settle at the hour's price; "
                               "fleets count at IT power x PUE")
    return out


def _text(v: Any) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_text(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v)
    return str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def report_data(results: Any) -> dict[str, Any]:
    """The numbers every figure and table of the report shows, as plain JSON-able values.

    The report embeds this as ``<script type="application/json" id="report-data">`` so what it
    shows can be checked against the results (a test reads it back).

    Returns
    -------
    dict
        ``objective_usd``, ``profit_not_in_hours_usd``, ``streams`` (rows of
        :func:`stream_groups`), ``monthly_profit_usd`` ({month: {group: $}}),
        ``energy_mwh``, ``realised`` ({use: {...}}), ``gpu_availability`` (rows),
        ``handed_back``, ``hours_by_state``, ``weeks``, ``breakeven`` ({fleet: mean $/MWh and the
        hours the price was above it}), ``marginal_value`` (mean, 1st and 99th percentile),
        ``assumptions``. [$, MWh, $/MWh, h]
    """
    rr = as_results(results)
    d, s = rr.dispatch, rr.summary
    monthly, _ = monthly_profit(rr)
    states = hour_states(rr).value_counts().reindex(list(HOUR_STATES), fill_value=0)
    be = breakeven_usd_per_mwh(rr)
    price = d["price_usd_per_mwh"]
    mv = d["marginal_value_usd_per_mwh"] if "marginal_value_usd_per_mwh" in d else pd.Series(dtype=float)
    data = {
        "label": getattr(rr, "label", s.get("scenario", "")),
        "scenario": s.get("scenario"),
        "start": s.get("start"), "end": s.get("end"), "hours": int(len(d)), "timezone": _tz(rr),
        "objective_usd": rr.objective_usd,
        "profit_not_in_hours_usd": float(s.get("profit_not_in_hours_usd", 0.0)),
        "streams": stream_groups(rr).drop(columns="colour").to_dict(orient="records"),
        "monthly_profit_usd": {m: row.to_dict() for m, row in monthly.iterrows()},
        "energy_mwh": s.get("energy_mwh", {}),
        "realised": realised_usd_per_mwh(rr).to_dict(orient="index"),
        "gpu_availability": gpu_availability(rr).to_dict(orient="records"),
        "handed_back": handed_back(rr),
        "hours_by_state": {k: int(v) for k, v in states.items()},
        "weeks": weeks(rr),
        "breakeven": {k: {"mean_usd_per_mwh": float(v.mean()), "hours_price_above": int((price > v).sum())}
                      for k, v in be.items()},
        "marginal_value": {"mean_usd_per_mwh": float(mv.mean()) if len(mv) else None,
                           "p01_usd_per_mwh": float(mv.quantile(0.01)) if len(mv) else None,
                           "p99_usd_per_mwh": float(mv.quantile(0.99)) if len(mv) else None},
        "assumptions": assumptions(rr),
    }
    return _jsonable(data)
