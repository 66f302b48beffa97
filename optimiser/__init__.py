"""Hour-by-hour dispatch of a compute site: run ASICs, run GPUs, or give the megawatts back.

The four steps, each a function a notebook can stop after::

    sc = optimiser.load_scenario("scenarios/example")   # files -> checked inputs
    m = optimiser.build(sc)                              # -> a Pyomo model: edit it here
    res = optimiser.solve(m)                             # -> HiGHS -> Results
    res.write("out/example")                             # -> dispatch.csv, summary.json

:func:`run` does all four.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DispatchError, InfeasibleError, InputError, Problem, SolverError
from .model import add_cost, add_revenue
from .model.core import build as _build
from .model.core import build_into
from .readback import ResultsFolder, read_results
from .results import Results
from .scenario import Scenario, ScenarioConfig, from_config, load_scenario
from .solve import solve, solve_blocks
from .warm import WarmSolver

if TYPE_CHECKING:  # pragma: no cover
    from .extra import Extra

__all__ = [
    "DispatchError", "InfeasibleError", "InputError", "Problem", "Results", "ResultsFolder", "Scenario",
    "ScenarioConfig", "SolverError", "WarmSolver", "add_cost", "add_revenue", "build", "build_into", "from_config",
    "load_scenario", "read_results", "run", "solve", "solve_blocks", "sweep",
]
__version__ = "0.1.0"


def build(scenario: Scenario, components: Any = None, **kwargs: Any) -> Any:
    """Build the Pyomo model of a scenario or window (see :func:`optimiser.model.core.build`)."""
    t0 = time.perf_counter()
    m = _build(scenario, components, **kwargs)
    m.dispatch.build_s = time.perf_counter() - t0
    return m


def run(
    scenario: str | Path | Scenario,
    out: str | Path | None = None,
    *,
    extra: "Extra | None" = None,
    policy: str = "optimal",
    **solve_options: Any,
) -> Results:
    """Load (if given a folder), build, apply ``extra``, solve and, if ``out`` is given, write the
    results.

    Parameters
    ----------
    scenario
        A scenario folder or a :class:`Scenario`.
    out
        The results folder to write (see :meth:`Results.write`), if any; checked before anything
        is read or solved: it must be new, empty or a results folder
        (:func:`optimiser.outdir.check_results_folder`).
    extra
        An extension hook, ``fn(m) -> None``, called on the built model before the solve (it may
        add constraints, variables and terms with Pyomo and :func:`add_revenue` /
        :func:`add_cost`), or its name ``"module:function"`` / ``"path/file.py:function"``, or a
        list of them, called in order. See :mod:`optimiser.extra`.
    policy
        ``"optimal"`` (default: the LP's own decisions, perfect foresight), a baseline
        (``"always-on"``, ``"strike"``, ``"breakeven"``, ``"merit"``) or ``"rolling"`` (plans on
        forecasts): see :func:`optimiser.policies.run_policy`, which takes the policy's settings
        (``strike_n=3``, ``forecast="dam_price"``...) among ``solve_options``.
    **solve_options
        For :func:`solve` (``options``, ``time_limit``, ``allow_nonoptimal``, ...).

    Returns
    -------
    Results
        Picklable: a worker process can send it back.
    """
    from .extra import apply_extras, resolve_extras

    if policy != "optimal":
        from .policies import run_policy

        return run_policy(scenario, policy, out, extra=extra, **solve_options)
    fns = resolve_extras(extra)  # a bad name fails before anything is read
    if out is not None:
        from .outdir import check_results_folder

        check_results_folder(out)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    m = build(sc)
    apply_extras(m, fns)
    solve_options.setdefault("load_solution", False)
    res = solve(m, **solve_options)
    if out is not None:
        res.write(out)
    return res


def sweep(spec: Any, out: str | Path, **options: Any) -> Any:
    """Solve every case of a sweep spec (a base scenario, a grid and a list of cases), warm-started
    and resumable, on local worker processes or a Dask cluster; write the table ``cases.parquet``
    / ``cases.csv`` and plots into ``out``. See :func:`optimiser.sweeps.sweep` (options
    ``workers``, ``scheduler``, ``cold``, ``keep_cases``, ``plots``, ``progress``) and docs/sweeps.md.

    Returns
    -------
    optimiser.sweeps.SweepResult
    """
    from .sweeps import sweep as _sweep

    return _sweep(spec, out, **options)
