"""Batch runs: scenario sweeps on one machine or a cluster, warm-started, resumable, with progress.

::

    import optimiser
    res = optimiser.sweep("sweep.toml", "out/sweep")        # every core; or workers=4,
    res.table                                                # or scheduler="tcp://host:8786"

- :mod:`.spec`: the spec file (a base scenario, a ``[grid]`` and ``[[case]]`` tables) and its checks;
- :mod:`.plan`: each case's key (a hash of its inputs), structure groups and chains;
- :mod:`.worker`: solving a chain with one :class:`optimiser.WarmSolver`, a row file a case;
- :mod:`.run`: the folder, the engines (in-process, local processes, Dask), the table;
- :mod:`.table`: the table's columns;
- :mod:`.folder`: the sweep folder guard.

See docs/sweeps.md.
"""

from __future__ import annotations

from .plan import plan
from .run import SweepResult, sweep
from .spec import Case, SweepSpec, load_spec, parse_spec
from .table import read_table

__all__ = ["Case", "SweepResult", "SweepSpec", "load_spec", "parse_spec", "plan", "read_table", "sweep"]
