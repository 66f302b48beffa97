"""Operating policies: the operators' own rules as baselines, scored with the model's accounting.

A policy decides, hour by hour, what every fleet draws (and what it offers as reserve, what a
battery does); the model then **settles** those decisions: it is built as for the optimum, every
decision variable is fixed to the policy's value (:func:`fix_decisions`) and HiGHS solves what
is left (import and export as the balance requires, the month's peak, the battery's charge).
So every stream, the balance, the SLA and the tariffs are counted by the same code as the
optimum's, and a decision that breaks a constraint is reported as infeasible, naming it.

========== =========================================================================================
policy     decisions (docs/operations.md defines each precisely)
========== =========================================================================================
optimal    the LP's own, with perfect foresight (an upper bound)
always-on  every ASIC and flex fleet at its available capacity
strike     an ASIC (or flex) fleet stops when the price has been above its strike for ``strike_n``
           consecutive hours, and restarts after ``strike_m`` hours at or below it (2 and 4)
breakeven  a fleet runs in an hour when its revenue per MWh at the meter beats the price plus the
           energy adder (perfect knowledge of the current hour only)
merit      fleets fill a target load at the meter, the most efficient first (``target_mw``: MW or a
           column name)
rolling    plans on forecasts, window by window (:mod:`optimiser.rolling`)
========== =========================================================================================

In every baseline, GPU firm power is the contract (as much of it as the machines and the grid
allow), GPU spot power is 0, no reserve is offered and batteries stay idle. The baselines
respect the site's limits by construction (:func:`make_feasible`): a wish above the import
limit plus the PPA is cut (least efficient fleet first), one below what the must-take PPA needs
is raised (most efficient first), and the ramp limit is followed; what this changed is
reported in ``summary.json`` ``policy.repairs``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .bitcoin import asic_revenue_usd_per_mwh
from .errors import DispatchError, InfeasibleError, InputError, Problem
from .model import _lazy
from .model.availability import fleet_share, gpu_firm_limit_mw, grid_outage
from .model.window import Window, as_window
from .scenario import Scenario

__all__ = [
    "BASELINES", "DECISION_VARIABLES", "POLICIES", "PolicyOptions", "baseline_decisions", "compare",
    "decisions_from", "evaluate", "fix_decisions", "make_feasible", "run_policy", "stream_groups", "strike_on",
    "strike_prices",
]

POLICIES = ("optimal", "always-on", "strike", "breakeven", "merit", "rolling")
"""Every policy :func:`run_policy` knows."""

BASELINES = ("always-on", "strike", "breakeven", "merit")
"""The rule-based policies (:func:`baseline_decisions`)."""

DECISION_VARIABLES: tuple[str, ...] = (
    "asic.power", "gpu.firm", "gpu.spot", "flex.power", "battery.charge", "battery.discharge", "reserves.offer",
)
"""The variables a policy decides (by their names in the model); everything else (import, export,
the month's peak, a battery's stored energy and reserve capability, the metered draw) follows
from them when they are fixed."""


@dataclass(frozen=True)
class PolicyOptions:
    """The settings of the policies (each is read by one policy only).

    Attributes
    ----------
    strike_n
        ``strike``: consecutive hours above the strike price that stop a fleet. [h]
    strike_m
        ``strike``: consecutive hours at or below it that restart it. [h]
    target_mw
        ``merit``: the load to fill at the meter, a number or an input column's name. [MW]
    window_h
        ``rolling``: hours each plan covers. [h]
    keep_h
        ``rolling``: hours of each plan kept (settled) before the next plan. [h]
    forecast
        ``rolling``: the column forecasting the price, or ``"naive"`` (the same hour a week
        earlier; see :func:`optimiser.rolling.naive_forecast`).
    cp_alert
        ``rolling``: a column of coincident-peak alerts (a probability, or 0/1, each hour); without
        it the plans do not see the coincident-peak charge at all.
    """

    strike_n: int = 2
    strike_m: int = 4
    target_mw: float | str | None = None
    window_h: int = 48
    keep_h: int = 24
    forecast: str = "naive"
    cp_alert: str | None = None

    def __post_init__(self) -> None:
        problems = []
        for key in ("strike_n", "strike_m", "window_h", "keep_h"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                problems.append(Problem(f"must be a whole number of hours >= 1, not {v!r}", key=key))
        if not problems and self.keep_h > self.window_h:
            problems.append(Problem(f"keep_h ({self.keep_h} h) is longer than window_h ({self.window_h} h): a plan "
                                    "cannot keep hours it did not plan", key="keep_h"))
        t = self.target_mw
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float, str))
                              or (isinstance(t, (int, float)) and not (np.isfinite(t) and t >= 0))
                              or (isinstance(t, str) and not t.strip())):
            problems.append(Problem(f"must be a load in MW (>= 0) or a column name, not {t!r}", key="target_mw"))
        if not isinstance(self.forecast, str) or not self.forecast.strip():
            problems.append(Problem(f"must be a column name or 'naive', not {self.forecast!r}", key="forecast"))
        if problems:
            raise InputError(problems)

    def columns(self, policy: str) -> list[str]:
        """The input columns ``policy`` reads with these options (to load with the scenario)."""
        if policy == "merit" and isinstance(self.target_mw, str):
            return [self.target_mw]
        if policy == "rolling":
            return [c for c in (None if self.forecast == "naive" else self.forecast, self.cp_alert) if c]
        return []


# ---------------------------------------------------------------------------------------------
# what each fleet is worth, and what the site can take
# ---------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    """A fleet a baseline switches: an ASIC or flex fleet."""

    kind: str
    name: str
    pue: float
    most_mw: np.ndarray
    """IT power available each hour (capacity x availability; 0 in an outage). [MW]"""
    margin: np.ndarray
    """Revenue net of pool fee and O&M per MWh at the meter (its strike price). [$/MWh]"""
    efficiency: float
    """J/TH for an ASIC fleet; ``inf`` for a flex load (switched after every ASIC). [J/TH]"""


def _units(w: Window) -> list[_Unit]:
    """The switchable fleets of a window, most efficient first (ASICs by J/TH, then flex loads)."""
    cfg = w.config
    d = w.data
    down = grid_outage(w)
    out = []
    for f in cfg.asic:
        gross = asic_revenue_usd_per_mwh(f.efficiency_j_per_th, d["difficulty"].to_numpy(float),
                                         d["subsidy_btc"].to_numpy(float), d["fees_btc_per_block"].to_numpy(float),
                                         d["btc_usd"].to_numpy(float))
        out.append(_Unit("asic", f.name, f.pue, np.where(down, 0.0, f.capacity_mw * fleet_share(w, f)),
                         (gross * (1.0 - f.pool_fee) - f.om_usd_per_mwh) / f.pue, float(f.efficiency_j_per_th)))
    for f in cfg.flex:
        out.append(_Unit("flex", f.name, f.pue, np.where(down, 0.0, f.capacity_mw * fleet_share(w, f)),
                         (w.series(f.revenue_usd_per_mwh) - f.om_usd_per_mwh) / f.pue, np.inf))
    return sorted(out, key=lambda u: u.efficiency)


def strike_prices(scenario: Scenario | Window) -> dict[str, np.ndarray]:
    """Each ASIC (and flex) fleet's strike price, hour by hour: its revenue net of pool fee and
    O&M per MWh at the meter, ``(R (1 - pool_fee) - om) / pue``, the price at which running
    breaks even (the energy adder left out, as controllers that trigger on the market price do). [$/MWh]"""
    return {u.name: u.margin for u in _units(as_window(scenario))}


# ---------------------------------------------------------------------------------------------
# the rules
# ---------------------------------------------------------------------------------------------


def strike_on(price: np.ndarray, strike: np.ndarray, n: int, m: int, on: bool = True) -> np.ndarray:
    """The strike controller's on/off state, hour by hour.

    At the start of each hour the controller looks at the hours already past (real-time prices
    are known after the fact): a fleet that is on stops when each of the last ``n`` hours was
    priced above its strike; one that is off restarts when each of the last ``m`` hours was at
    or below it.

    Parameters
    ----------
    price, strike
        Hourly price and strike price. [$/MWh]
    n, m
        Hours above the strike that stop the fleet, and at or below it that restart it. [h]
    on
        The state before the first hour.

    Returns
    -------
    numpy.ndarray
        True in the hours the fleet runs.

    Examples
    --------
    >>> strike_on(np.array([10, 50, 60, 10, 10, 10, 10, 10.]), np.full(8, 40.), 2, 4).tolist()
    [True, True, True, False, False, False, False, True]
    """
    above = np.asarray(price) > np.asarray(strike)
    out = np.empty(len(above), dtype=bool)
    run_above = run_below = 0
    for t in range(len(above)):
        out[t] = on
        run_above = run_above + 1 if above[t] else 0
        run_below = 0 if above[t] else run_below + 1
        if on and run_above >= n:
            on = False
        elif not on and run_below >= m:
            on = True
    return out


def _wishes(w: Window, policy: str, units: list[_Unit], options: PolicyOptions) -> dict[str, np.ndarray]:
    """IT power each switchable fleet would draw under ``policy``, before the site's limits. [MW]"""
    price = w.data["price_usd_per_mwh"].to_numpy(float)
    adder = w.config.site.energy_adder_usd_per_mwh
    if policy == "always-on":
        return {u.name: u.most_mw.copy() for u in units}
    if policy == "strike":
        return {u.name: np.where(strike_on(price, u.margin, options.strike_n, options.strike_m), u.most_mw, 0.0)
                for u in units}
    if policy == "breakeven":
        return {u.name: np.where(u.margin > price + adder, u.most_mw, 0.0) for u in units}
    if policy == "merit":
        if options.target_mw is None:
            raise InputError(Problem("the merit policy needs a target load: a number of MW or a column name "
                                     "(--target-mw)", key="target_mw"))
        target = w.series(options.target_mw) if isinstance(options.target_mw, str) else np.full(w.hours,
                                                                                                float(options.target_mw))
        room = np.maximum(target - _gpu_meter_mw(w, _gpu_firm(w)), 0.0)
        out = {}
        for u in units:  # the most efficient first: the least efficient are curtailed first
            take = np.minimum(u.pue * u.most_mw, room)
            out[u.name] = take / u.pue
            room = room - take
        return out
    raise InputError(Problem(f"'{policy}' is not a baseline policy; choose one of {', '.join(BASELINES)}",
                             key="policy"))


def _gpu_firm(w: Window) -> dict[str, np.ndarray]:
    """GPU firm power in the baselines: the contract, within the machines' availability; 0 in an
    outage. [MW]"""
    down = grid_outage(w)
    return {g.name: np.where(down, 0.0, gpu_firm_limit_mw(w, g)) for g in w.config.gpu}


def _gpu_meter_mw(w: Window, firm: Mapping[str, np.ndarray]) -> np.ndarray:
    return sum((g.pue * firm[g.name] for g in w.config.gpu), np.zeros(w.hours))


# ---------------------------------------------------------------------------------------------
# the site's limits, by construction
# ---------------------------------------------------------------------------------------------


def make_feasible(w: Window, units: list[_Unit], power: dict[str, np.ndarray], firm: dict[str, np.ndarray],
                  ) -> dict[str, float]:
    """Bring a baseline's wishes within the site's limits, in place; what it changed, by reason.

    In order: (1) the site load at the meter may not exceed what the grid connection and the PPA
    bring (``import_mw + ppa``; 0 in an outage): the least efficient fleet is cut first, GPU firm
    power last; (2) it may not be below what the must-take PPA needs (``ppa - export_mw``): the
    most efficient fleet is raised first; (3) with ``ramp_mw_per_h``, hour by hour from the
    first (or from ``State.load_mw``), the load stays within the ramp of the hour before (not
    into an outage hour), cutting or raising as above. A conflict left (a ramp too slow to follow
    an outage's end and the must-take PPA at once) is left to the settlement, which reports the
    row that cannot hold.

    Returns
    -------
    dict
        MWh changed: ``supply_mwh`` (cut to the supply), ``must_take_mwh`` (raised for the PPA),
        ``ramp_mwh`` (either way, for the ramp), ``gpu_curtailed_mwh`` (GPU firm cut, at the meter).
    """
    cfg = w.config
    down = grid_outage(w)
    supply = np.where(down, 0.0, cfg.ppa_mw)
    cap = np.where(down, 0.0, cfg.site.import_mw) + supply
    floor = np.maximum(supply - np.where(down, 0.0, cfg.export_mw), 0.0)
    changed = {"supply_mwh": 0.0, "must_take_mwh": 0.0, "ramp_mwh": 0.0, "gpu_curtailed_mwh": 0.0}

    def load(sl: Any = slice(None)) -> Any:
        """Site load at the meter in the hours ``sl`` (a slice, or one hour). [MW]"""
        fleets = sum((u.pue * power[u.name][sl] for u in units), 0.0)
        return fleets + sum((g.pue * firm[g.name][sl] for g in cfg.gpu), 0.0)

    def cut(excess: np.ndarray, sl: Any, why: str) -> np.ndarray:
        for u in reversed(units):
            take = np.minimum(excess, u.pue * power[u.name][sl])
            power[u.name][sl] = power[u.name][sl] - take / u.pue
            excess = excess - take
            changed[why] += float(np.sum(take))
        for g in cfg.gpu:
            take = np.minimum(excess, g.pue * firm[g.name][sl])
            firm[g.name][sl] = firm[g.name][sl] - take / g.pue
            excess = excess - take
            changed[why] += float(np.sum(take))
            changed["gpu_curtailed_mwh"] += float(np.sum(take))
        return excess

    def raise_(short: np.ndarray, sl: Any, why: str) -> np.ndarray:
        for u in units:
            give = np.minimum(short, u.pue * (u.most_mw[sl] - power[u.name][sl]))
            power[u.name][sl] = power[u.name][sl] + give / u.pue
            short = short - give
            changed[why] += float(np.sum(give))
        return short

    cut(np.maximum(load() - cap, 0.0), slice(None), "supply_mwh")
    raise_(np.maximum(floor - load(), 0.0), slice(None), "must_take_mwh")
    ramp = cfg.site.ramp_mw_per_h
    if ramp is None:
        return changed
    prev = w.state.load_mw
    for t in range(w.hours):
        now = float(load(t))
        if prev is not None and not down[t]:
            if now > prev + ramp + 1e-9:
                cut(np.array(now - prev - ramp), t, "ramp_mwh")
            elif now < prev - ramp - 1e-9:
                raise_(np.array(prev - ramp - now), t, "ramp_mwh")
            now = float(load(t))
        prev = now
    return changed


def baseline_decisions(scenario: Scenario | Window, policy: str, options: PolicyOptions | None = None,
                       ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A baseline policy's decisions over a scenario's (or window's) hours.

    Parameters
    ----------
    scenario
        The scenario, or a window of it (then its ``State.load_mw`` starts the ramp).
    policy
        One of :data:`BASELINES`.
    options
        The policies' settings (:class:`PolicyOptions`); defaults if ``None``.

    Returns
    -------
    decisions
        By variable name (:data:`DECISION_VARIABLES`), arrays of shape ``(fleets, hours)``. [MW]
    info
        ``repairs`` (:func:`make_feasible`'s MWh changed) and ``hours_on`` (hours each switchable
        fleet ran, at any load).

    Raises
    ------
    InputError
        An unknown policy, or ``merit`` without a target.
    """
    w = as_window(scenario)
    options = options or PolicyOptions()
    cfg = w.config
    units = _units(w)
    power = _wishes(w, policy, units, options)
    firm = _gpu_firm(w)
    repairs = make_feasible(w, units, power, firm)
    n = w.hours
    decisions: dict[str, np.ndarray] = {}
    if cfg.asic:
        decisions["asic.power"] = np.array([power[f.name] for f in cfg.asic])
    if cfg.flex:
        decisions["flex.power"] = np.array([power[f.name] for f in cfg.flex])
    if cfg.gpu:
        decisions["gpu.firm"] = np.array([firm[g.name] for g in cfg.gpu])
        decisions["gpu.spot"] = np.zeros((len(cfg.gpu), n))
    if cfg.battery:
        decisions["battery.charge"] = np.zeros((len(cfg.battery), n))
        decisions["battery.discharge"] = np.zeros((len(cfg.battery), n))
    if cfg.reserve:
        decisions["reserves.offer"] = np.zeros((len(cfg.reserve), n))
    info = {"repairs": repairs, "hours_on": {u.name: int(np.sum(power[u.name] > 1e-9)) for u in units}}
    return decisions, info


# ---------------------------------------------------------------------------------------------
# settling decisions with the model's accounting
# ---------------------------------------------------------------------------------------------


def decisions_from(m: Any, sol: Any, hours: int | None = None) -> dict[str, np.ndarray]:
    """The decision variables' values in a solution, as :func:`baseline_decisions` gives them.

    Parameters
    ----------
    m
        The solved model.
    sol
        Its :class:`~optimiser.solve.Solution` (``res.solution``).
    hours
        Keep the first ``hours`` hours only (a rolling plan's kept hours); default all.
    """
    reg = m.dispatch
    out: dict[str, np.ndarray] = {}
    for vi in reg.vars:
        name = vi.component.name
        if name in DECISION_VARIABLES:
            names = getattr(vi.keys, "names", None)
            rows = len(names) if names is not None else 1
            values = np.asarray(sol.value(vi.component), float).reshape(rows, reg.n)
            out[name] = values[:, : hours if hours is not None else reg.n].copy()
    return out


def fix_decisions(m: Any, decisions: Mapping[str, np.ndarray]) -> None:
    """Fix a built model's decision variables to the given values (its other variables stay free).

    Values are clipped into each variable's bounds (a plan's solver noise) and those within 1e-9
    of zero are set to zero.

    Raises
    ------
    DispatchError
        A decision the model does not have, or of the wrong shape (naming it).
    """
    reg = m.dispatch
    by_name = {vi.component.name: vi for vi in reg.vars}
    for name, values in decisions.items():
        vi = by_name.get(reg.qualified(name))
        if vi is None:
            raise DispatchError(f"the model has no variable '{name}' to fix (it has "
                                f"{', '.join(sorted(by_name))})")
        flat = np.asarray(values, float).ravel()
        if flat.size != vi.size:
            raise DispatchError(f"'{name}' needs {vi.size} values (its fleets x {reg.n} hours), not {flat.size}")
        flat = np.clip(flat, 0.0, vi.ub)
        flat[np.abs(flat) < 1e-9] = 0.0
        _lazy.fix_values(vi.component, vi.datas, flat.tolist(), vi.lazy)


FORESIGHT_OF = {
    "optimal": ("perfect", "perfect foresight: every price, Bitcoin input and coincident-peak hour is known in "
                           "advance, so the objective is an upper bound on what the site earns without hindsight"),
    "always-on": ("none", "no foresight: every fleet runs whatever the prices"),
    "strike": ("none", "no foresight: each fleet reacts to the prices of the hours already past"),
    "breakeven": ("current hour", "knowledge of the current hour's price only"),
    "merit": ("none", "no foresight: fleets follow the target load, whatever the prices"),
    "rolling": ("forecast", "plans on forecasts of the price, window by window; settled on actual prices"),
}
"""What each policy knows in advance: ``summary.json`` ``assumptions.foresight`` and ``.meaning``."""


def _check_decided(sc: Scenario, policy: str) -> None:
    """Refuse what a policy cannot decide: the settlement would choose it with hindsight.

    A policy fixes :data:`DECISION_VARIABLES`; a capacity product's commitment, a time-basis
    SLA's hours and credit tiers are further decisions, which no baseline or plan makes yet.

    Raises
    ------
    InputError
        Naming the keys.
    """
    problems = [Problem(f"capacity products are not decided by the {policy} policy (its settlement would choose the "
                        "commitment with hindsight): remove them or use --policy optimal", key=f"capacity_product[{i}]")
                for i, _ in enumerate(sc.config.capacity_product)]
    for i, g in enumerate(sc.config.gpu):
        if g.availability_basis == "time" or g.sla_credit_tiers:
            problems.append(Problem(f"a time-basis SLA or credit tiers are not decided by the {policy} policy: use "
                                    "--policy optimal, or the energy basis without tiers", key=f"gpu[{i}]"))
    for kind, f in sc.config.fleets():
        if f.capacity_is_decision:
            problems.append(Problem(f"a capacity decision (capacity_mw = {{ min, max }}) is not made by the {policy} "
                                    "policy (its settlement would choose the capacity with hindsight): give the "
                                    "capacity to score as a number, or use --policy optimal",
                                    key=f"{kind}.{f.name}.capacity_mw"))
    for b in sc.config.battery:
        if b.capacity_is_decision:
            problems.append(Problem(f"a battery's power decision (power_mw = {{ min, max }}) is not made by the "
                                    f"{policy} policy (its settlement would choose the power with hindsight): give "
                                    "the power to score as a number, or use --policy optimal",
                                    key=f"battery.{b.name}.power_mw"))
    if problems:
        raise InputError(problems)


def policy_summary(policy: str, options: PolicyOptions) -> dict[str, Any]:
    """``summary.json`` ``policy``: the policy's name, its settings, and what it does with GPUs,
    reserves and batteries."""
    out: dict[str, Any] = {"name": policy}
    if policy == "strike":
        out.update(strike_n=options.strike_n, strike_m=options.strike_m)
    elif policy == "merit":
        out["target_mw"] = options.target_mw
    elif policy == "rolling":
        out.update(window_h=options.window_h, keep_h=options.keep_h, forecast=options.forecast,
                   cp_alert=options.cp_alert)
    if policy in BASELINES:
        out.update(gpu="firm at contract (within availability), no spot", reserves="none offered",
                   battery="idle")
    elif policy == "rolling":
        out.update(gpu="as planned", reserves="as planned (offers fixed, paid at the actual prices)",
                   battery="as planned")
    return out


def _mark(res: Any, policy: str, options: PolicyOptions, extra: Mapping[str, Any] | None = None) -> None:
    foresight, meaning = FORESIGHT_OF[policy]
    res.summary["policy"] = {**policy_summary(policy, options), **(extra or {})}
    res.summary.setdefault("assumptions", {}).update(foresight=foresight, meaning=meaning)


SETTLE_OPTIONS: dict[str, Any] = {"presolve": "on"}
"""HiGHS options a settlement adds to :data:`optimiser.solve.DEFAULT_OPTIONS` (the caller's win)."""


def evaluate(scenario: Scenario | Window, decisions: Mapping[str, np.ndarray], *, policy: str = "given",
             components: Sequence[Any] | None = None, **solve_options: Any) -> Any:
    """Settle decisions with the model's accounting: build, fix the decisions, solve.

    Parameters
    ----------
    scenario
        The scenario (actual prices), or a window of it.
    decisions
        By variable name (:func:`baseline_decisions`, :func:`decisions_from`). [MW]
    policy
        Named in an infeasibility message.
    components
        The model's components; default those the scenario needs.
    **solve_options
        For :func:`optimiser.solve`; HiGHS's presolve is on (:data:`SETTLE_OPTIONS`) unless
        ``options`` says otherwise.

    Returns
    -------
    Results
        Every stream, the balance, the SLA and the tariffs as for the optimum.

    Raises
    ------
    InfeasibleError
        When the decisions break a constraint: the message names the policy and the row.
    """
    from . import build
    from .solve import solve

    m = build(scenario, components)
    fix_decisions(m, decisions)
    solve_options.setdefault("load_solution", False)
    # every decision is fixed: HiGHS's presolve removes them and what is left is near trivial
    # (a year settles in ~0.05 s instead of ~0.13 s of dual simplex); the caller's options win
    solve_options["options"] = {**SETTLE_OPTIONS, **(solve_options.get("options") or {})}
    try:
        return solve(m, **solve_options)
    except InfeasibleError as err:
        raise InfeasibleError(f"the decisions of the {policy} policy cannot be settled: {err}") from None


def run_policy(scenario: str | Path | Scenario, policy: str = "optimal", out: str | Path | None = None, *,
               settings: PolicyOptions | None = None, extra: Any = None, **kwargs: Any) -> Any:
    """Run a scenario under a policy and return (and, given ``out``, write) its results.

    Parameters
    ----------
    scenario
        A scenario folder or a :class:`~optimiser.Scenario` (holding any column the settings
        name: load it with ``extra_columns=settings.columns(policy)``).
    policy
        One of :data:`POLICIES`.
    out
        A results folder to write (checked first, as :func:`optimiser.run` does).
    settings
        The policies' settings (:class:`PolicyOptions`); its fields may also be given one by one
        (``strike_n=3``, ``target_mw="curtail_mw"``, ``forecast="dam_price"``...), over it.
    extra
        Extension hooks (:func:`optimiser.run`), for ``optimal`` only.
    **kwargs
        :class:`PolicyOptions` fields, then the options of :func:`optimiser.solve` (``options``,
        ``time_limit``, ...).

    Returns
    -------
    Results
        In the usual format; ``summary["policy"]`` says which policy and with what settings,
        ``summary["assumptions"]["foresight"]`` what it knew in advance.

    Raises
    ------
    InputError
        An unknown policy, bad settings, a column they name missing.
    InfeasibleError
        The policy's decisions break a constraint (naming it).

    Examples
    --------
    >>> res = run_policy(sc, "strike", strike_n=3)
    >>> res = run_policy(sc, "rolling", forecast="forecast_price_usd_per_mwh", out="out/rolling")
    """
    from . import load_scenario
    from . import run as run_optimal

    names = {f.name for f in fields(PolicyOptions)}
    given = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
    settings = replace(settings or PolicyOptions(), **given)
    solve_options = kwargs
    if policy not in POLICIES:
        raise InputError(Problem(f"unknown policy '{policy}'; choose one of {', '.join(POLICIES)}", key="policy"))
    if extra is not None and policy != "optimal":
        raise InputError(Problem("extension hooks (extra) apply to the optimal policy only", key="extra"))
    if out is not None:
        from .outdir import check_results_folder

        check_results_folder(out)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario,
                                                                       extra_columns=settings.columns(policy))
    missing = [c for c in settings.columns(policy) if c not in sc.data]
    if missing:
        raise InputError([Problem("column missing: the scenario was loaded without it (extra_columns=...)",
                                  column=c) for c in missing])
    if policy != "optimal":
        _check_decided(sc, policy)
    t0 = time.perf_counter()
    if policy == "optimal":
        res = run_optimal(sc, extra=extra, **solve_options)
        _mark(res, policy, settings)
    elif policy == "rolling":
        from .rolling import run_rolling

        res = run_rolling(sc, settings, **solve_options)
    else:
        decisions, info = baseline_decisions(sc, policy, settings)
        res = evaluate(sc, decisions, policy=policy, **solve_options)
        _mark(res, policy, settings, info)
    res.summary["policy"]["wall_s"] = time.perf_counter() - t0
    if out is not None:
        res.write(out)
    return res


#: The stream groups of :func:`stream_groups`, by the start of a stream's name.
GROUPS = (("asic_", "asic"), ("gpu_", "gpu"), ("flex_", "flex"), ("reserve_", "reserves"), ("energy_", "energy"),
          ("battery_", "battery"), ("ppa", "ppa"), ("demand_charge", "tariffs"), ("coincident_peak", "tariffs"),
          ("carbon", "carbon"))


def stream_groups(summary: Mapping[str, Any]) -> dict[str, float]:
    """A summary's streams summed by group, revenue less cost: ``asic`` (mining less pool fees and
    O&M), ``gpu``, ``flex``, ``reserves``, ``energy`` (sales less purchases and the adder),
    ``battery``, ``ppa``, ``tariffs`` (demand and coincident-peak charges), ``carbon``, ``other``.
    They add up to ``objective_usd``. [$]"""
    out: dict[str, float] = {}
    for kind, sign in (("revenue_usd", 1.0), ("cost_usd", -1.0)):
        for name, usd in summary[kind].items():
            group = next((g for prefix, g in GROUPS if name.startswith(prefix)), "other")
            out[group] = out.get(group, 0.0) + sign * usd
    return out


def compare(scenario: Scenario, policies: Sequence[str] = ("optimal", "rolling", "breakeven", "strike", "always-on"),
            *, settings: PolicyOptions | None = None, **kwargs: Any) -> Any:
    """Run one scenario under several policies and tabulate their profit.

    Parameters
    ----------
    scenario
        The scenario (holding the columns the settings name).
    policies
        Policies to run (:data:`POLICIES`).
    settings, **kwargs
        As :func:`run_policy` (each policy reads its own settings).

    Returns
    -------
    pandas.DataFrame
        One row a policy: ``profit_usd``, ``of_optimal`` (its share of the optimum's profit, when
        ``optimal`` is among the policies), ``foresight``, then the :func:`stream_groups`. [$]
    """
    import pandas as pd

    rows = {}
    for policy in policies:
        res = run_policy(scenario, policy, settings=settings, **kwargs)
        rows[policy] = {"profit_usd": res.objective_usd, "foresight": res.summary["assumptions"]["foresight"],
                        **stream_groups(res.summary)}
    table = pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)
    if "optimal" in rows:
        table.insert(1, "of_optimal", table["profit_usd"] / rows["optimal"]["profit_usd"])
    return table
