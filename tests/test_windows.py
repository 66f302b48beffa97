"""Windows with explicit state: a component models the hours and the state it is given.

Tiny cases are derived by hand; the two-window cases check the principle of optimality: given
the state the one-window optimum reaches at the split, the second window's optimum earns
exactly the one-window optimum's profit over its hours.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import optimiser
from optimiser.model import State, Window, state_after
from tests.test_tiny import asic, tiny


def solve(w) -> optimiser.Results:
    return optimiser.solve(optimiser.build(w))


def test_ramp_from_the_hour_before_the_window():
    """ASIC 10 MW (R 100), ramp 4 MW/h, price 20; the hour before the window drew 1 MW: the
    window's two hours can reach 5 and 9 MW. Objective 80 * (5 + 9) = 1,120."""
    sc = tiny({"site": {"import_mw": 10, "ramp_mw_per_h": 4}, "asic": [asic("a", 10)]}, [20, 20])
    res = solve(Window(sc, state=State(load_mw=1.0)))
    assert res.objective_usd == pytest.approx(1120.0)
    assert res.dispatch["load_mw"].tolist() == pytest.approx([5, 9])
    # without the state the window starts free: 2 x 800
    assert solve(sc).objective_usd == pytest.approx(1600.0)


def test_sla_budget_carried_into_the_window():
    """GPU 10 MW contract at 200 $/MW/h, availability 0.75 over the 4-hour horizon: a budget of
    10 MWh of downtime. The first two hours already used 5 MWh; the window is hours 2-3 (prices
    20 and 300, credit 100/MWh): only 5 MWh may still be off, in the 300 hour.
    Objective: 4,000 contract - 500 credit - 20 * 10 - 300 * 5 = 1,800."""
    gpu = {"name": "g", "capacity_mw": 10, "contract_mw": 10, "contract_usd_per_mw_per_h": 200,
           "availability": 0.75, "billing_period": "horizon", "sla_credit_usd_per_mwh": 100}
    sc = tiny({"site": {"import_mw": 10}, "gpu": [gpu]}, [10, 500, 20, 300])
    w = Window(sc, 2, 4, State(sla_shortfall_mwh={("g", "horizon"): 5.0}))
    res = solve(w)
    assert res.objective_usd == pytest.approx(1800.0)
    assert res.dispatch["gpu_g_firm_mw"].tolist() == pytest.approx([10, 5])
    # the state handed on adds the window's shortfall: the budget is used up exactly
    m = optimiser.build(w)
    after = state_after(m, optimiser.solve(m))
    assert after.sla_shortfall_mwh[("g", "horizon")] == pytest.approx(10.0)
    # a budget already overdrawn is infeasible, and says which SLA
    with pytest.raises(optimiser.InfeasibleError, match="SLA of GPU fleet 'g'"):
        solve(Window(sc, 2, 4, State(sla_shortfall_mwh={("g", "horizon"): 25.0})))


def test_month_to_date_peak_is_not_charged_again():
    """ASIC 10 MW (R 100), prices 20, 20; a demand charge of 150 $ per MW for the horizon (2 of
    January's 744 hours: 150 * 744 / 2 $/MW-month). With a peak of 10 MW already set this month,
    running flat out adds no charge: 2 * 800 = 1,600. Without it the window pays 1,500 for the
    peak: 100."""
    cfg = {"site": {"import_mw": 10}, "asic": [asic("a", 10)], "demand_charge": {"usd_per_mw_month": 150 * 744 / 2}}
    sc = tiny(cfg, [20, 20])
    assert solve(sc).objective_usd == pytest.approx(100.0)
    res = solve(Window(sc, state=State(peak_mw={"2025-01": 10.0})))
    assert res.objective_usd == pytest.approx(1600.0)
    assert res.summary["cost_usd"]["demand_charge"] == pytest.approx(0.0, abs=1e-6)
    # a carried peak of 4 MW: 6 more MW cost 900; still worth it: 1,600 - 900 = 700
    assert solve(Window(sc, state=State(peak_mw={"2025-01": 4.0}))).objective_usd == pytest.approx(700.0)


@pytest.fixture(scope="module")
def fortnight():
    sc = optimiser.load_scenario("scenarios/example", start="2025-07-01T00:00:00-05:00",
                                 end="2025-07-15T00:00:00-05:00")
    # hourly-additive accounting (no monthly charge booked to one hour), a binding ramp and a
    # weekly SLA whose budget the split cuts in two
    return sc.replace(**{"site.ramp_mw_per_h": 5.0, "gpu.tenant-a.billing_period": "horizon",
                         "gpu.tenant-a.availability": 0.9999}, demand_charge=None)


@pytest.mark.parametrize("split", [37, 168, 300])
def test_two_windows_with_carried_state_equal_one(fortnight, split):
    full_m = optimiser.build(fortnight)
    full = optimiser.solve(full_m)
    first_m = optimiser.build(Window(fortnight, 0, split))
    # the state the one-window optimum reaches at the split, as window 1 would hand it on
    state = state_after(first_m, _restricted(full, split))
    assert state.load_mw == pytest.approx(full.dispatch["load_mw"].iloc[split - 1])
    second = solve(Window(fortnight, split, None, state))
    tail = full.dispatch["profit_usd"].iloc[split:].sum()
    assert second.objective_usd == pytest.approx(tail, rel=1e-9)
    # the ramp holds across the seam, and the SLA budget is respected over both windows
    load = np.concatenate([full.dispatch["load_mw"].iloc[:split], second.dispatch["load_mw"]])
    assert np.abs(np.diff(load)).max() <= 5.0 + 1e-6
    short = np.concatenate([full.dispatch["gpu_tenant-a_shortfall_mw"].iloc[:split],
                            second.dispatch["gpu_tenant-a_shortfall_mw"]]).sum()
    assert short <= 1e-4 * 50 * fortnight.hours * (1 + 1e-9)


def _restricted(res: optimiser.Results, stop: int):
    """The one-window results cut to its first ``stop`` hours (what window 1 would report)."""
    cut = pickle.loads(pickle.dumps(res))
    cut.dispatch = res.dispatch.iloc[:stop]
    return cut


def test_windows_chain_day_by_day(fortnight):
    """Seven daily windows, each starting from the state the previous one handed on: every seam
    keeps the ramp, and the chain never beats the one-window optimum (hindsight is an upper bound)."""
    state, loads, profit = State(), [], 0.0
    for d in range(7):
        m = optimiser.build(Window(fortnight, 24 * d, 24 * (d + 1), state))
        res = optimiser.solve(m)
        state = state_after(m, res)
        loads.append(res.dispatch["load_mw"].to_numpy())
        profit += res.objective_usd
    load = np.concatenate(loads)
    assert np.abs(np.diff(load)).max() <= 5.0 + 1e-6
    week = solve(Window(fortnight, 0, 168))
    assert profit <= week.objective_usd * (1 + 1e-9)


def test_state_is_checked_and_pickles():
    with pytest.raises(ValueError, match="peak_mw"):
        State(peak_mw={"2025-01": -1.0})
    s = State(load_mw=3.0, sla_shortfall_mwh={("g", "2025-01"): 2.0})
    assert pickle.loads(pickle.dumps(s)) == s
    sc = tiny({"site": {"import_mw": 10}, "asic": [asic("a", 10)]}, [20, 20])
    with pytest.raises(ValueError, match="within hours 0..2"):
        Window(sc, 1, 5)


class _Invest:
    """A test component: a capacity decision for fleet 'a' (at most 10 MW), costing
    ``usd_per_mw`` over the horizon; ``registered`` makes it a registered variable (the family
    is then compiled from arrays), else a plain Pyomo Var (compiled from Pyomo)."""

    name = "invest"

    def __init__(self, usd_per_mw: float, registered: bool):
        self.usd_per_mw, self.registered = usd_per_mw, registered

    def build(self, m, reg):
        import pyomo.environ as pyo

        from optimiser.model import Lin

        m.invest = pyo.Block()
        if self.registered:
            cap = reg.add_var(m.invest, "cap", ["a"], 10.0)
            reg.add_term("invest_capex", "cost", [Lin(cap, [0], self.usd_per_mw, -1)])
        else:
            m.invest.cap = pyo.Var(["a"], bounds=(0, 10))

    def expr(self, m):
        return m.invest.cap["a"]


@pytest.mark.parametrize("registered", [True, False])
@pytest.mark.parametrize("capex, built, objective", [(100.0, 10.0, 600.0), (200.0, 0.0, 0.0)])
def test_capacity_as_a_model_expression(registered, capex, built, objective):
    """ASIC (R 100) at price 20 earns 80 per MW-hour: 160 per MW over two hours. Capacity is a
    decision costing ``capex`` per MW: at 100 build the whole 10 MW (10 * 160 - 1,000 = 600); at
    200 build nothing (0)."""
    from optimiser.model import AsicFleets, Site

    sc = tiny({"site": {"import_mw": 20}, "asic": [asic("a", 1.0)]}, [20, 20])
    inv = _Invest(capex, registered)
    m = optimiser.build(sc, [inv, AsicFleets(capacity={"a": inv.expr}), Site()])
    if not registered:
        optimiser.add_cost(m, "invest_capex", capex * m.invest.cap["a"])
    res = optimiser.solve(m)
    assert res.objective_usd == pytest.approx(objective, abs=1e-6)
    assert res.dispatch["asic_a_mw"].tolist() == pytest.approx([built, built])
    assert ("asic.capacity" in res.duals) == registered


def test_two_futures_in_one_model_share_a_capacity():
    """Room for a scenario index: two BTC futures (revenue 100 and 50 $/MWh at 20 $/MWh power,
    margins 80 and 30 per MW-hour, two hours each) built into one model with build_into, sharing
    one capacity decision (at most 10 MW, 100 $/MW). Expected profit with probabilities 0.5:
    per MW 0.5*160 + 0.5*60 - 100 = 10 > 0: build 10 MW; objective 100. With p(high) = 0.25:
    0.25*160 + 0.75*60 - 100 = -15: build nothing, objective 0."""
    import pyomo.environ as pyo

    from optimiser.model import AsicFleets, Site

    cfg = {"site": {"import_mw": 20}, "asic": [asic("a", 1.0)]}
    high = tiny(cfg, [20, 20])
    low = high.with_series(btc_usd=lambda d: 0.5 * d["btc_usd"])
    for p_high, built, objective in ((0.5, 10.0, 100.0), (0.25, 0.0, 0.0)):
        m = pyo.ConcreteModel()
        m.cap = pyo.Var(bounds=(0, 10))
        m.S = pyo.Set(initialize=["high", "low"])
        m.future = pyo.Block(m.S)
        for s, sc in (("high", high), ("low", low)):
            optimiser.build_into(m.future[s], sc, [AsicFleets(capacity={"a": lambda _b: m.cap}), Site()])
        prob = {"high": p_high, "low": 1 - p_high}
        m.objective = pyo.Objective(expr=sum(prob[s] * m.future[s].profit for s in m.S) - 100 * m.cap,
                                    sense=pyo.maximize)
        parts = optimiser.solve_blocks(m)
        assert set(parts) == {"future[high]", "future[low]"}
        assert pyo.value(m.cap) == pytest.approx(built)
        high_res, low_res = parts["future[high]"], parts["future[low]"]
        assert high_res.objective_usd == pytest.approx(160.0 * built)
        assert low_res.objective_usd == pytest.approx(60.0 * built)
        assert high_res.summary["solver"]["model_objective_usd"] == pytest.approx(objective, abs=1e-6)
        assert high_res.dispatch["asic_a_mw"].tolist() == pytest.approx([built, built])
        # each future's own balance duals: one more MW supplied saves its import at 20 $/MWh, weighted
        assert set(high_res.duals) == {"balance"} and high_res.duals["balance"].shape == (2,)
        assert high_res.duals["balance"].tolist() == pytest.approx([20.0 * p_high] * 2)
