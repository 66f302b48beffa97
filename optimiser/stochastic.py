"""Capacity under uncertainty: a two-stage stochastic linear program (docs/investment.md).

First stage: the capacities every future shares, ``m.capacity_mw[k]`` for each fleet whose
``capacity_mw`` is ``{ min, max }`` (bounds from the first future). Second stage: one whole
dispatch model per weighted future (:func:`optimiser.build_into` under ``m.future[s]``), its
own capacity variables tied to the first stage by ``m.nonanticipativity[s, k]``. The objective,
maximised::

    (1 - w) sum_s p_s profit_s  +  w CVaR_alpha(profit)

``profit_s`` is future ``s``'s revenue less its costs, the capital charges of its capacities
included (:mod:`optimiser.model.investment`). ``CVaR_alpha`` is the mean profit of the worst
``1 - alpha`` of probability, in the Rockafellar-Uryasev form (as mpi-sppy writes it for
costs)::

    CVaR = eta - 1 / (1 - alpha) sum_s p_s shortfall_s,   shortfall_s >= eta - profit_s,  >= 0

with ``eta`` free (at the optimum, the value-at-risk). ``w = 0`` (default) is the risk-neutral
operator.

:func:`value_of_information` adds the classic measures (Birge and Louveaux, ch. 4), on the
risk-neutral expected profit: the wait-and-see value ``WS`` (each future solved with its own
capacities), the recourse problem ``RP`` (the stochastic solution), the expected result of the
mean-value solution ``EEV`` (capacities chosen on the probability-weighted mean of the
futures' hourly inputs, then dispatched in every future); ``EVPI = WS - RP`` and
``VSS = RP - EEV``, both >= 0.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyomo.core as pyo

from .errors import DispatchError
from .scenario import Scenario


#: HiGHS options of the extensive form, under the caller's: dual simplex with presolve (the
#: project's default turns presolve off, best for one dispatch year; on three coupled futures of
#: a year it is 3.6x slower: docs/investment.md, "Speed").
EXTENSIVE_OPTIONS: dict[str, Any] = {"solver": "simplex", "presolve": "on"}


@dataclass(frozen=True)
class Future:
    """One weighted future: a scenario (its hourly inputs; the same site) and its probability.

    Parameters
    ----------
    name
        Names its block ``m.future[name]`` and its results (letters, digits, ``_-.``).
    probability
        Its weight; the futures' weights add up to 1. [-]
    scenario
        The scenario of that future.
    """

    name: str
    probability: float
    scenario: Scenario


def decisions(scenario: Scenario) -> list[tuple[str, Any]]:
    """The fleets whose capacity is a decision, then the batteries whose power is, as ``(kind, table)``."""
    cfg = scenario.config
    return ([(k, f) for k, f in cfg.fleets() if f.capacity_is_decision]
            + [("battery", b) for b in cfg.battery if b.capacity_is_decision])


def check_futures(futures: Sequence[Future], risk_weight: float = 0.0, alpha: float = 0.95) -> None:
    """Refuse futures that cannot make one stochastic program, naming what is wrong.

    Raises
    ------
    ValueError
        Probabilities not positive or not adding up to 1, repeated or unusable names, futures
        choosing different capacities, a risk weight outside 0..1 or ``alpha`` outside 0..1.
    """
    if not futures:
        raise ValueError("give at least one future")
    if not 0.0 <= float(risk_weight) <= 1.0:
        raise ValueError(f"risk_weight must be within 0..1, not {risk_weight}")
    if not 0.0 <= float(alpha) < 1.0:
        raise ValueError(f"alpha must be within 0 (inclusive) and 1 (exclusive), not {alpha}")
    names = [f.name for f in futures]
    for n in names:
        if not isinstance(n, str) or not n or not all(c.isalnum() or c in "_-." for c in n):
            raise ValueError(f"future name {n!r} is not usable: letters, digits, '_', '-', '.'")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"future name '{twice[0]}' is used twice")
    for f in futures:
        if not (isinstance(f.probability, (int, float)) and math.isfinite(f.probability) and f.probability > 0):
            raise ValueError(f"future '{f.name}': probability must be a positive number, not {f.probability!r}")
    total = sum(f.probability for f in futures)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"the futures' probabilities add up to {total:.12g}, not 1")
    first = [(k, f.name, f.capacity_range) for k, f in decisions(futures[0].scenario)]
    if not first:
        raise ValueError(f"future '{futures[0].name}' chooses no capacity: give a fleet capacity_mw = "
                         "{ min = 0, max = ... } or a battery power_mw = { min = 0, max = ... } (docs/investment.md)")
    for fut in futures[1:]:
        other = [(k, f.name, f.capacity_range) for k, f in decisions(fut.scenario)]
        if other != first:
            raise ValueError(f"future '{fut.name}' chooses other capacities than '{futures[0].name}' "
                             f"({_names(other)} vs {_names(first)}): the futures share one set of capacities")


def _names(d: list) -> str:
    return ", ".join(f"{k} {n} {r.min:g}..{r.max:g} MW" for k, n, r in d) or "none"


def build_stochastic(
    futures: Sequence[Future], *, risk_weight: float = 0.0, alpha: float = 0.95,
    fixed_capacity_mw: dict[str, float] | None = None,
) -> pyo.ConcreteModel:
    """Build the two-stage stochastic program (see the module docstring); no solve.

    Parameters
    ----------
    futures
        The weighted futures (:class:`Future`).
    risk_weight
        ``w``: the weight of CVaR against the expected profit, 0 (risk-neutral) .. 1. [-]
    alpha
        The CVaR's level: the mean of the worst ``1 - alpha`` of probability. [-]
    fixed_capacity_mw
        Fix first-stage capacities (fleet name -> MW), e.g. to evaluate a plan in every future.

    Returns
    -------
    pyomo.core.ConcreteModel
        ``m.capacity_mw[k]``, ``m.future[s]`` (each a whole dispatch model with its ``profit``),
        ``m.nonanticipativity[s, k]``, ``m.expected_profit``, with CVaR ``m.eta``,
        ``m.shortfall[s]``, ``m.cvar_rows[s]`` and ``m.cvar``; ``m.objective``. Edit it as any
        Pyomo model and solve it with :func:`solve_stochastic`.
    """
    from .model.core import build_into
    from .model.investment import capacity_var

    check_futures(futures, risk_weight, alpha)
    dec = decisions(futures[0].scenario)
    m = pyo.ConcreteModel(name="stochastic")
    m.S = pyo.Set(initialize=[f.name for f in futures], ordered=True, doc="Futures")
    m.K = pyo.Set(initialize=[f.name for _, f in dec], ordered=True,
                  doc="Fleets whose capacity is chosen, batteries whose power is")
    m.probability = pyo.Param(m.S, initialize={f.name: float(f.probability) for f in futures}, doc="[-]")
    bounds = {f.name: (f.capacity_range.min, f.capacity_range.max) for _, f in dec}
    m.capacity_mw = pyo.Var(m.K, bounds=lambda _m, k: bounds[k],
                            doc="IT capacity (a battery's power) chosen, shared by every future [MW]")
    for k, v in (fixed_capacity_mw or {}).items():
        if k not in bounds:
            raise ValueError(f"fixed_capacity_mw names '{k}', which is not a fleet whose capacity is chosen "
                             f"({', '.join(bounds)})")
        lo, hi = bounds[k]
        tol = 1e-9 * max(1.0, abs(hi))
        if not lo - tol <= float(v) <= hi + tol:
            raise ValueError(f"fixed_capacity_mw['{k}'] = {v:g} is outside its range {lo:g} .. {hi:g} MW")
        m.capacity_mw[k].fix(min(max(float(v), lo), hi))  # a solver's 1e-14 beyond a bound is the bound
    m.future = pyo.Block(m.S)
    for f in futures:
        build_into(m.future[f.name], f.scenario)
    kind_of = {f.name: k for k, f in dec}
    m.nonanticipativity = pyo.Constraint(
        m.S, m.K, rule=lambda _m, s, k: capacity_var(_m.future[s], kind_of[k])[k] == _m.capacity_mw[k],
        doc="Every future builds the first stage's capacity [MW]")
    m.expected_profit = pyo.Expression(expr=sum(m.probability[s] * m.future[s].profit for s in m.S),
                                       doc="Probability-weighted profit [$]")
    w = float(risk_weight)
    if w > 0:
        m.eta = pyo.Var(domain=pyo.Reals, doc="Value-at-risk at the optimum [$]")
        m.shortfall = pyo.Var(m.S, domain=pyo.NonNegativeReals, doc="Profit below eta in future s [$]")
        m.cvar_rows = pyo.Constraint(m.S, rule=lambda _m, s: _m.shortfall[s] >= _m.eta - _m.future[s].profit,
                                     doc="shortfall[s] >= eta - profit[s] [$]")
        m.cvar = pyo.Expression(expr=m.eta - sum(m.probability[s] * m.shortfall[s] for s in m.S) / (1.0 - alpha),
                                doc="Conditional value-at-risk of the profit (Rockafellar-Uryasev) [$]")
        m.objective = pyo.Objective(expr=(1.0 - w) * m.expected_profit + w * m.cvar, sense=pyo.maximize)
    else:
        m.objective = pyo.Objective(expr=m.expected_profit, sense=pyo.maximize)
    m.risk = {"risk_weight": w, "alpha": float(alpha)}
    return m


def cvar(profits: Sequence[float], probabilities: Sequence[float], alpha: float) -> float:
    """The mean profit over the worst ``1 - alpha`` of probability of a discrete distribution.
    [$]"""
    p = np.asarray(probabilities, float)
    x = np.asarray(profits, float)
    order = np.argsort(x)
    tail = 1.0 - alpha
    if tail <= 0:
        return float(x.min())
    left, total = tail, 0.0
    for i in order:
        take = min(p[i], left)
        total += take * x[i]
        left -= take
        if left <= 1e-15:
            break
    return total / tail


@dataclass
class StochasticResults:
    """The answer of a stochastic program.

    Attributes
    ----------
    capacity_mw
        The capacities chosen, by fleet. [MW]
    futures
        Each future's :class:`~optimiser.results.Results` (its dispatch and summary), by name.
    probability
        Each future's probability. [-]
    summary
        ``objective_usd``, ``expected_profit_usd``, ``cvar_usd`` (at ``alpha``), ``risk_weight``,
        ``alpha``, ``capacity_mw``, ``profit_usd`` by future, ``solve_s``, ``build_s``, the
        solver's status and iterations, and, when computed, ``value_of_information``.
    """

    capacity_mw: dict[str, float]
    futures: dict[str, Any]
    probability: dict[str, float]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def expected_profit_usd(self) -> float:
        """Probability-weighted profit. [$]"""
        return float(self.summary["expected_profit_usd"])

    def write(self, out_dir: str | Path) -> Path:
        """Write ``stochastic.json`` (the summary) and each future's results folder
        ``future-<name>/`` (``dispatch.csv``, ``summary.json``) into ``out_dir``, whole or not at
        all, as :meth:`optimiser.Results.write` writes one results folder."""
        from .results import summary_json, write_folder, write_results_files

        top = summary_json(self.summary)  # strict JSON, checked before anything is written
        texts = {name: summary_json(r.summary) for name, r in self.futures.items()}

        def fill(tmp: Path) -> tuple[list[str], dict[str, list[str]]]:
            (tmp / "stochastic.json").write_text(top, encoding="utf-8")
            folders = {}
            for name, res in self.futures.items():
                sub = tmp / f"future-{name}"
                sub.mkdir()
                write_results_files(res, sub, texts[name])
                folders[sub.name] = ["dispatch.csv", "summary.json"]
            return ["stochastic.json"], folders

        return write_folder(out_dir, fill)


def solve_stochastic(m: Any, *, options: dict[str, Any] | None = None, time_limit: float | None = None,
                     log: bool = False, build_s: float = 0.0) -> StochasticResults:
    """Solve a model from :func:`build_stochastic` (with any edits) and gather its answer.

    Parameters
    ----------
    options
        HiGHS options over :data:`EXTENSIVE_OPTIONS` (docs/investment.md, "Speed").

    Raises
    ------
    InfeasibleError, SolverError, DispatchError
    """
    from .solve import solve_blocks

    t0 = time.perf_counter()
    # presolve on unless told otherwise: 3.6x faster on a year x three futures (30 s -> 8.3 s)
    opts = {**EXTENSIVE_OPTIONS, **(options or {})}
    blocks = solve_blocks(m, options=opts, time_limit=time_limit, log=log)
    solve_s = time.perf_counter() - t0
    names = list(m.S)
    by_name = {}
    for s in names:
        key = next((k for k in blocks if k == m.future[s].name), None)
        if key is None:
            raise DispatchError(f"no results for future '{s}'")
        by_name[s] = blocks[key]
    prob = {s: float(pyo.value(m.probability[s])) for s in names}
    profits = {s: by_name[s].objective_usd for s in names}
    caps = {k: float(pyo.value(m.capacity_mw[k])) for k in m.K}
    caps = {k: (0.0 if abs(v) < 1e-9 else v) for k, v in caps.items()}
    risk = getattr(m, "risk", {"risk_weight": 0.0, "alpha": 0.95})
    first = by_name[names[0]].summary
    expected = sum(prob[s] * profits[s] for s in names)
    summary = {
        "objective_usd": float(first["solver"]["model_objective_usd"]),
        "expected_profit_usd": expected,
        "cvar_usd": cvar(list(profits.values()), list(prob.values()), risk["alpha"]),
        "risk_weight": risk["risk_weight"],
        "alpha": risk["alpha"],
        "capacity_mw": caps,
        "profit_usd": profits,
        "probability": prob,
        "investment": {s: by_name[s].summary.get("investment") for s in names},
        "build_s": build_s,
        "solve_s": solve_s,
        "method": "extensive",
        "solver": {k: first["solver"].get(k) for k in ("status", "termination", "iterations", "rows", "columns",
                                                       "nonzeros", "options")},
    }
    return StochasticResults(caps, by_name, prob, summary)


def run_stochastic(futures: Sequence[Future], *, risk_weight: float = 0.0, alpha: float = 0.95,
                   options: dict[str, Any] | None = None, time_limit: float | None = None,
                   extra: Callable[[Any], None] | None = None,
                   fixed_capacity_mw: dict[str, float] | None = None,
                   method: str = "extensive", **benders: Any) -> StochasticResults:
    """Build and solve the stochastic program.

    ``method="extensive"`` (default): one LP holding every future (:func:`build_stochastic`,
    then ``extra(m)`` on the whole model if given, then :func:`solve_stochastic`).
    ``method="benders"``: Benders decomposition (:func:`optimiser.benders.solve_benders`,
    ``extra`` applied to each future's model; ``benders`` passes ``rel_gap``, ``threads``,
    ``max_iterations``, ``progress``), for multi-year horizons (docs/investment.md, "Speed").
    """
    if method == "benders":
        from .benders import solve_benders

        if fixed_capacity_mw is not None or time_limit is not None:
            raise ValueError("method='benders' takes neither fixed_capacity_mw nor time_limit")
        return solve_benders(futures, risk_weight=risk_weight, alpha=alpha, options=options, extra=extra, **benders)
    if method != "extensive":
        raise ValueError(f"method must be 'extensive' or 'benders', not {method!r}")
    if benders:
        raise ValueError(f"unknown arguments for method='extensive': {', '.join(sorted(benders))}")
    t0 = time.perf_counter()
    m = build_stochastic(futures, risk_weight=risk_weight, alpha=alpha, fixed_capacity_mw=fixed_capacity_mw)
    if extra is not None:
        extra(m)
    return solve_stochastic(m, options=options, time_limit=time_limit, build_s=time.perf_counter() - t0)


def read_futures(folder: str | Path, **load_options: Any) -> list[Future]:
    """The futures in a folder: ``futures.csv`` (columns ``name`` and ``probability``, one row a
    future, as :func:`optimiser.futures.write_futures` writes it) and one scenario folder per
    name beside it.

    Raises
    ------
    InputError
        Naming the file, the row and the column: no ``futures.csv``, a missing column, a name
        without its folder, a probability that is not a positive number, or probabilities not
        adding up to 1.
    """
    import pandas as pd

    from .errors import InputError, Problem
    from .scenario import load_scenario

    folder = Path(folder)
    table_path = folder / "futures.csv"
    if not table_path.is_file():
        raise InputError(Problem(f"no futures.csv in {folder}: a table of name and probability, one row a future",
                                 file=str(table_path)))
    table = pd.read_csv(table_path, dtype={"name": str})
    problems = [Problem(f"column '{c}' is missing", file=str(table_path), column=c)
                for c in ("name", "probability") if c not in table.columns]
    if problems:
        raise InputError(problems)
    for i, row in table.iterrows():
        p = pd.to_numeric(row["probability"], errors="coerce")
        if not (isinstance(p, float) and math.isfinite(p) and p > 0):
            problems.append(Problem(f"{row['probability']!r} is not a positive probability", file=str(table_path),
                                    row=int(i) + 2, column="probability"))
        if not (folder / str(row["name"])).is_dir():
            problems.append(Problem(f"no scenario folder {folder / str(row['name'])} for this future",
                                    file=str(table_path), row=int(i) + 2, column="name"))
    if not problems:
        total = float(table["probability"].astype(float).sum())
        if abs(total - 1.0) > 1e-9:
            problems.append(Problem(f"the probabilities add up to {total:.12g}, not 1", file=str(table_path),
                                    column="probability"))
    if problems:
        raise InputError(problems)
    return [Future(str(row["name"]), float(row["probability"]), load_scenario(folder / str(row["name"]), **load_options))
            for _, row in table.iterrows()]


def mean_future(futures: Sequence[Future], name: str = "mean") -> Future:
    """The expected-value future: the first future's site with each hourly input the
    probability-weighted mean of the futures' (every future must cover the same hours).

    Raises
    ------
    ValueError
        If the futures' hours or columns differ.
    """
    base = futures[0].scenario
    idx = base.data.index
    cols = [c for c in base.data.columns if pd.api.types.is_numeric_dtype(base.data[c])]
    mean = {c: np.zeros(len(idx)) for c in cols}
    for f in futures:
        d = f.scenario.data
        if not d.index.equals(idx):
            raise ValueError(f"future '{f.name}' covers other hours than '{futures[0].name}': the mean future needs "
                             "the same hours")
        missing = [c for c in cols if c not in d.columns]
        if missing:
            raise ValueError(f"future '{f.name}' has no column {missing[0]!r}")
        for c in cols:
            mean[c] += f.probability * d[c].to_numpy(float)
    return Future(name, 1.0, base.with_series(**mean))


def value_of_information(futures: Sequence[Future], *, options: dict[str, Any] | None = None,
                         time_limit: float | None = None, recourse: StochasticResults | None = None,
                         progress: Callable[[str], None] | None = None, method: str = "extensive",
                         ) -> dict[str, Any]:
    """EVPI and VSS of the risk-neutral problem (see the module docstring).

    Parameters
    ----------
    recourse
        The risk-neutral stochastic solution if already solved (else it is solved here).
    progress
        Called with a line of text before each solve (the CLI prints it).
    method
        How the two stochastic programs (the recourse problem when not given, and the mean-value
        capacities in every future) are solved: ``"extensive"`` or ``"benders"``.

    Returns
    -------
    dict
        ``ws_usd``, ``rp_usd``, ``eev_usd``, ``evpi_usd``, ``vss_usd``, the wait-and-see
        capacities by future (``ws_capacity_mw``) and the mean-value capacities
        (``ev_capacity_mw``). [$, MW]
    """
    import optimiser

    say = progress or (lambda _line: None)
    if recourse is None or recourse.summary.get("risk_weight", 0.0) != 0.0:
        say("recourse problem (risk-neutral)")
        recourse = _run(futures, method, options, time_limit)
    ws, ws_caps = 0.0, {}
    for f in futures:
        say(f"wait-and-see: {f.name}")
        res = optimiser.solve(optimiser.build(f.scenario), options=options, time_limit=time_limit)
        ws += f.probability * res.objective_usd
        ws_caps[f.name] = {k: v for k, v in res.summary["capacity_mw"].items()
                           if k in recourse.capacity_mw}
    say("mean-value problem")
    ev = mean_future(futures)
    ev_res = optimiser.solve(optimiser.build(ev.scenario), options=options, time_limit=time_limit)
    ev_caps = {k: v for k, v in ev_res.summary["capacity_mw"].items() if k in recourse.capacity_mw}
    say("mean-value capacities in every future")
    if method == "benders":  # the capacities fixed: each future alone
        eev_value = 0.0
        for f in futures:
            sc = f.scenario.replace(**{f"{kind}.{fl.name}.{fl.capacity_key}": float(np.clip(
                ev_caps[fl.name], fl.capacity_range.min, fl.capacity_range.max)) for kind, fl in decisions(f.scenario)})
            eev_value += f.probability * optimiser.solve(optimiser.build(sc), options=options,
                                                         time_limit=time_limit).objective_usd
    else:
        eev_value = run_stochastic(futures, options=options, time_limit=time_limit,
                                   fixed_capacity_mw=ev_caps).expected_profit_usd
    rp = recourse.expected_profit_usd
    return {"ws_usd": ws, "rp_usd": rp, "eev_usd": eev_value, "evpi_usd": ws - rp,
            "vss_usd": rp - eev_value, "ws_capacity_mw": ws_caps, "ev_capacity_mw": ev_caps,
            "ev_objective_usd": ev_res.objective_usd}


def _run(futures: Sequence[Future], method: str, options: dict[str, Any] | None,
         time_limit: float | None) -> StochasticResults:
    if method == "benders":
        return run_stochastic(futures, options=options, method="benders")
    return run_stochastic(futures, options=options, time_limit=time_limit)
