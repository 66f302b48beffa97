"""A second formulation as a check: without inter-temporal constraints (no SLA, no ramp limit,
no demand charge) the hours are independent, and each hour's optimum is the best use of each
MW at the meter. It is computed here greedily, in plain numpy, from the contract's formulas
(CONTRACT.md section 3), with nothing from the model code; the LP must match it hour by hour.

Each hour:

* every fleet is a block of MW at the meter worth ``(revenue - O&M) / pue`` per MW (an ASIC:
  ``R (1 - pool_fee) - om``; a GPU tenant without an SLA: firm load is worth the SLA credit it
  avoids, spot load its spot price; a flex load its revenue);
* reserves (all products backed by the same fleet kinds) add to the eligible blocks: the first
  ``max_mw`` of eligible MW earn the dearest product's price, the next ``max_mw`` the next
  dearest, ...; so the eligible blocks, best first, are cut where the reserve price steps down;
* the blocks are taken best first (a merit order) from the least load the site must take
  (``PPA - export_mw``) while a block is worth more than the MW costs at the meter: the price
  (export forgone) below the PPA volume, the price above it (import), up to
  ``PPA + import_mw``; plus the metered charges, ``adder + coincident-peak charge``, on every MW
  under load metering and above the PPA volume (on import) under net metering.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import optimiser
from optimiser.scenario import parse_timestamp

SETTINGS = dict(deadline=None, derandomize=not os.environ.get("DISPATCH_HYPOTHESIS_RANDOM"), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KINDS = ("asic", "gpu", "flex")


def greedy_hourly_profit(cfg: dict, data: pd.DataFrame) -> np.ndarray:
    """The best profit of each hour, by merit order. [$ per hour]"""
    n = len(data)
    price = data["price_usd_per_mwh"].to_numpy(float)
    site = cfg["site"]
    ppa = cfg.get("ppa", {"volume_mw": 0.0, "price_usd_per_mwh": 0.0})
    P = ppa["volume_mw"]
    E = site.get("export_mw", P)
    I = site["import_mw"]
    adder = site.get("energy_adder_usd_per_mwh", 0.0)
    cp_charge = np.zeros(n)
    if "coincident_peak" in cfg:
        cp = cfg["coincident_peak"]
        years = [parse_timestamp(s).tz_convert(cfg.get("timezone", "UTC")).year for s in cp["intervals"]]
        for s, y in zip(cp["intervals"], years):  # an hour listed twice is charged twice
            hit = np.flatnonzero(data.index == parse_timestamp(s))
            cp_charge[hit] += cp["usd_per_mw_year"] / years.count(y)  # each year's rate, its intervals
    # the metered charges per MW: on every MW drawn (load metering) or on each MW imported (net)
    load_metered = site.get("metering", "load") == "load"
    on_all = (adder + cp_charge) * load_metered
    on_import = (adder + cp_charge) * (not load_metered)
    reserves = cfg.get("reserve", [])
    eligible = set(reserves[0]["eligible"]) if reserves else set()

    # blocks: (value per MW at the meter [$/MWh], MW at the meter, may back reserves), per hour
    blocks: list[tuple[np.ndarray, float, bool]] = []
    constant = np.full(n, -P * ppa["price_usd_per_mwh"])
    D, Pb = data["difficulty"].to_numpy(float), data["btc_usd"].to_numpy(float)
    S = data["subsidy_btc"].to_numpy(float) if "subsidy_btc" in data else np.full(n, 3.125)
    F = data["fees_btc_per_block"].to_numpy(float) if "fees_btc_per_block" in data else np.zeros(n)
    for f in cfg.get("asic", []):
        R = 3.6e21 / (f["efficiency_j_per_th"] * D * 2**32) * (S + F) * Pb
        pue = f.get("pue", 1.0)
        value = (R * (1 - f.get("pool_fee", 0.0)) - f.get("om_usd_per_mwh", 0.0)) / pue
        blocks.append((value, pue * f["capacity_mw"], "asic" in eligible))
    for g in cfg.get("gpu", []):
        pue, om = g.get("pue", 1.0), g.get("om_usd_per_mwh", 0.0)
        credit = g.get("sla_credit_usd_per_mwh", 0.0)
        constant += g["contract_usd_per_mw_per_h"] * g["contract_mw"] - credit * g["contract_mw"]
        paid = g.get("power_passthrough_usd_per_mwh", 0.0)  # per MWh at the meter
        paid = data[paid].to_numpy(float) if isinstance(paid, str) else np.full(n, float(paid))
        blocks.append(((credit - om) / pue + paid, pue * g["contract_mw"], False))
        spot = g.get("spot_usd_per_mwh", 0.0)
        spot = data[spot].to_numpy(float) if isinstance(spot, str) else np.full(n, float(spot))
        blocks.append(((spot - om) / pue + paid, pue * (g["capacity_mw"] - g["contract_mw"]), "gpu" in eligible))
    for f in cfg.get("flex", []):
        pue = f.get("pue", 1.0)
        rev = f["revenue_usd_per_mwh"]
        rev = data[rev].to_numpy(float) if isinstance(rev, str) else np.full(n, float(rev))
        blocks.append(((rev - f.get("om_usd_per_mwh", 0.0)) / pue, pue * f["capacity_mw"], "flex" in eligible))

    profit = np.empty(n)
    for t in range(n):
        # reserve bonus on eligible MW, best product first
        steps = sorted(((float(data[r["price_column"]].iloc[t]), r["max_mw"]) for r in reserves), reverse=True)
        steps = [(p, mw) for p, mw in steps if p > 0 and mw > 0]
        elig = sorted(((float(v[t]), mw) for v, mw, e in blocks if e and mw > 0), reverse=True)
        other = [(float(v[t]), mw) for v, mw, e in blocks if not e and mw > 0]
        pieces = []
        k, left = 0, steps[0][1] if steps else 0.0
        for v, mw in elig:  # cut the eligible blocks where the bonus steps down
            while mw > 1e-12:
                if k < len(steps):
                    take = min(mw, left)
                    pieces.append((v + steps[k][0], take))
                    mw -= take
                    left -= take
                    if left <= 1e-12:
                        k += 1
                        left = steps[k][1] if k < len(steps) else 0.0
                else:
                    pieces.append((v, mw))
                    mw = 0.0
        pieces = sorted(((v - on_all[t], mw) for v, mw in pieces + other), reverse=True)
        lo, hi = max(0.0, P - E), P + I
        load, value = 0.0, 0.0
        for v, mw in pieces:  # the merit order
            if load >= hi - 1e-12:
                break
            take = min(mw, hi - load)
            forced = min(take, max(lo - load, 0.0))  # the site must take at least `lo`
            value += v * forced
            load += forced
            rest = take - forced
            if rest <= 0:
                continue
            # the rest only while it pays: below the PPA volume a MW costs the price (export
            # forgone), above it the price and, under net metering, the metered charges (import)
            if v <= price[t]:
                break
            below = min(rest, max(P - load, 0.0))
            value += v * below
            load += below
            above = rest - below
            if above > 0:
                if v <= price[t] + on_import[t]:
                    break
                value += v * above
                load += above
        assert load >= lo - 1e-9, "the case is infeasible: the site cannot take the PPA"
        energy = price[t] * (P - load) if load <= P else -(price[t] + on_import[t]) * (load - P)
        profit[t] = constant[t] + value + energy
    return profit


def r3(x: float) -> float:
    return float(round(x, 3))


def fl(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(r3)


@st.composite
def separable_cases(draw) -> tuple[dict, pd.DataFrame]:
    """Random scenarios with no SLA, ramp limit or demand charge."""
    n = draw(st.integers(1, 168))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    idx = pd.date_range(draw(st.sampled_from(["2025-01-31T20:00:00Z", "2024-04-19T18:00:00Z", "2025-07-01T00:00:00Z"])),
                        periods=n, freq="h", tz="UTC", name="timestamp")
    price = rng.normal(draw(fl(-10, 60)), draw(fl(0, 60)), n)
    price = np.where(rng.random(n) < 0.05, rng.uniform(300, 5000, n), price)
    price = np.where(rng.random(n) < 0.15, -rng.uniform(0, 50, n), price)
    data = pd.DataFrame({"price_usd_per_mwh": np.round(price, 2)}, index=idx)
    days = np.asarray((idx - idx[0]) // pd.Timedelta(days=1))
    data["difficulty"] = rng.uniform(6e13, 1.6e14, days.max() + 1)[days]
    data["btc_usd"] = rng.uniform(3e4, 1.2e5, days.max() + 1)[days]
    data["fees_btc_per_block"] = rng.uniform(0, 0.5, days.max() + 1)[days]

    def column(name: str, lo: float, hi: float) -> str:
        data[name] = np.round(rng.uniform(lo, hi, n), 2)
        return name

    cfg: dict = {"name": "greedy", "timezone": "America/Chicago"}
    cfg["asic"] = [{"name": f"a{i}", "capacity_mw": draw(fl(0, 120)), "efficiency_j_per_th": draw(fl(12, 45)),
                    "pool_fee": draw(fl(0, 0.05)), "om_usd_per_mwh": draw(fl(0, 8)), "pue": draw(fl(1, 1.3))}
                   for i in range(draw(st.integers(0, 3)))]
    gpus = []
    for i in range(draw(st.integers(0, 2))):
        cap = draw(fl(0.5, 60))
        gpus.append({"name": f"g{i}", "capacity_mw": cap, "contract_mw": r3(cap * draw(fl(0, 1))),
                     "contract_usd_per_mw_per_h": draw(fl(0, 300)), "availability": 0.0,
                     "sla_credit_usd_per_mwh": draw(fl(0, 300)),
                     "spot_usd_per_mwh": column(f"spot{i}", 0, 250) if draw(st.booleans()) else draw(fl(0, 150)),
                     "om_usd_per_mwh": draw(fl(0, 10)), "pue": draw(fl(1, 1.5))})
        if draw(st.booleans()):
            gpus[-1]["power_passthrough_usd_per_mwh"] = draw(st.just("price_usd_per_mwh") | fl(0, 120))
    cfg["gpu"] = gpus
    cfg["flex"] = [{"name": f"f{i}", "capacity_mw": draw(fl(0, 40)),
                    "revenue_usd_per_mwh": column(f"fr{i}", -20, 120) if draw(st.booleans()) else draw(fl(-10, 90)),
                    "om_usd_per_mwh": draw(fl(0, 5)), "pue": draw(fl(1, 1.2))} for i in range(draw(st.integers(0, 2)))]
    fleets = cfg["asic"] + cfg["gpu"] + cfg["flex"]
    if not fleets:
        cfg["asic"] = [{"name": "a0", "capacity_mw": 20.0, "efficiency_j_per_th": 20.0}]
        fleets = cfg["asic"]
    site = {"import_mw": draw(fl(0, 300)), "energy_adder_usd_per_mwh": draw(fl(0, 12)),
            "metering": draw(st.sampled_from(["load", "net"]))}
    if draw(st.booleans()):
        site["export_mw"] = draw(fl(0, 200))
    if draw(st.booleans()):
        cfg["ppa"] = {"volume_mw": draw(fl(0, 250)), "price_usd_per_mwh": draw(fl(0, 50))}
        max_load = sum(f.get("pue", 1.0) * f["capacity_mw"] for f in fleets)
        if cfg["ppa"]["volume_mw"] > max_load + site.get("export_mw", cfg["ppa"]["volume_mw"]):
            site["export_mw"] = r3(cfg["ppa"]["volume_mw"] - max_load + 1.0)
    cfg["site"] = site
    present = {k for k in KINDS if any(f["capacity_mw"] > 0 for f in cfg[k])}
    eligible = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True))
    if present & set(eligible):
        cfg["reserve"] = [{"product": p, "price_column": column(f"{p}_price", 0, 60), "max_mw": draw(fl(0, 80)),
                           "eligible": eligible}
                          for p in draw(st.lists(st.sampled_from(["rrs", "ecrs", "regup"]), max_size=3, unique=True))]
    if draw(st.booleans()):
        hours = draw(st.lists(st.integers(0, n + 2), min_size=1, max_size=4))
        cfg["coincident_peak"] = {"usd_per_mw_year": draw(fl(0, 80000)),
                                  "intervals": [(idx[0] + pd.Timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")
                                                for h in hours]}
    return cfg, data


@settings(max_examples=40, **SETTINGS)
@given(separable_cases())
def test_lp_matches_the_hour_by_hour_merit_order(case):
    cfg, data = case
    sc = optimiser.from_config(cfg, data)
    event("reserves" if cfg.get("reserve") else "no reserves")
    event("ppa" if "ppa" in cfg else "no ppa")
    res = optimiser.solve(optimiser.build(sc), load_solution=False)
    greedy = greedy_hourly_profit(cfg, sc.data)
    scale = 1.0 + np.abs(greedy).sum()
    assert res.objective_usd == pytest.approx(greedy.sum(), abs=1e-7 * scale)
    np.testing.assert_allclose(res.dispatch["profit_usd"].to_numpy(), greedy, atol=1e-7 * scale, rtol=1e-9)


@pytest.mark.parametrize("metering, profit, flex", [("net", 144.0, [8, 2, 0]), ("load", 100.0, [8, 0, 0])])
def test_greedy_on_a_case_worked_by_hand(metering, profit, flex):
    """One hour, price 20 $/MWh, adder 5, PPA 10 MW at 30 $/MWh, export 4 MW, import 6 MW.
    Fleets: ASIC-free; flex A 8 MW worth 50, flex B 10 MW worth 22, flex C 5 MW worth -3.
    The site must take at least 10 - 4 = 6 MW.

    Net metering (the adder on import only): A's 8 MW (50 > 20); B while it pays: up to the PPA
    volume (2 MW, 22 > 20), above it 22 < 25: stop. Load 10 MW.
    Profit: 8 x 50 + 2 x 22 - 10 x 30 = 144.

    Load metering (the adder on every MW drawn): A's 8 MW (50 - 5 > 20); B: 22 - 5 < 20, stop.
    Load 8 MW, 2 MW sold at 20. Profit: 8 x 45 + 2 x 20 - 300 = 100."""
    idx = pd.date_range("2025-01-01", periods=1, freq="h", tz="UTC", name="timestamp")
    data = pd.DataFrame({"price_usd_per_mwh": [20.0], "difficulty": [1e14], "btc_usd": [9e4]}, index=idx)
    cfg = {"name": "hand", "site": {"import_mw": 6, "export_mw": 4, "energy_adder_usd_per_mwh": 5,
                                    "metering": metering},
           "ppa": {"volume_mw": 10, "price_usd_per_mwh": 30},
           "flex": [{"name": "A", "capacity_mw": 8, "revenue_usd_per_mwh": 50},
                    {"name": "B", "capacity_mw": 10, "revenue_usd_per_mwh": 22},
                    {"name": "C", "capacity_mw": 5, "revenue_usd_per_mwh": -3}]}
    assert greedy_hourly_profit(cfg, data).tolist() == pytest.approx([profit])
    res = optimiser.solve(optimiser.build(optimiser.from_config(cfg, data)))
    assert res.objective_usd == pytest.approx(profit)
    assert res.dispatch[["flex_A_mw", "flex_B_mw", "flex_C_mw"]].iloc[0].tolist() == pytest.approx(flex)
