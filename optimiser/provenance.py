"""What made a result: the ``provenance`` block of ``summary.json``.

It records the input files with their SHA-256, the scenario (the hash of ``scenario.toml`` as
a file and of the configuration as solved), a hash of the hourly data the model was built
from, the versions of the package, Python, Pyomo, highspy and HiGHS, the solver options, the
horizon, and (from the command line) the command. See ``docs/outputs.md``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import platform
import sys
import threading
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256
_cache_lock = threading.Lock()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex; remembered while its size and modification time stay."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _cache_lock:
        _cache[key] = digest
    return digest


def data_sha256(data: pd.DataFrame) -> str:
    """SHA-256 of an hourly frame: its column names, UTC hour starts and float64 values (little-endian)."""
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in data.columns]).encode())
    h.update(np.asarray(data.index.asi8, dtype="<i8").tobytes())
    for c in data.columns:
        h.update(np.ascontiguousarray(data[c].to_numpy(dtype="<f8")).tobytes())
    return h.hexdigest()


def config_sha256(config: Any) -> str:
    """SHA-256 of a configuration as solved: its JSON with sorted keys (machines resolved, horizon set)."""
    from .scenario import config_to_toml_dict

    text = json.dumps(config_to_toml_dict(config), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def input_files(scenario: Any) -> list[dict[str, Any]]:
    """The input files of a scenario read from a folder: name as written, absolute path, bytes, SHA-256.

    A file that can no longer be read is listed with ``sha256`` null and the reason in ``error``.
    A scenario made in Python (no folder) has none.
    """
    from .markets import as_spec

    folder = getattr(scenario, "folder", None)
    if folder is None:
        return []
    out = []
    for entry in scenario.config.inputs:
        spec = as_spec(entry)
        path = Path(spec.file)
        if not path.is_absolute():
            path = Path(folder) / path
        row: dict[str, Any] = {"file": spec.file, "format": spec.format, "path": str(path.resolve())}
        try:
            row["bytes"] = path.stat().st_size
            row["sha256"] = file_sha256(path)
        except OSError as err:
            row.update(bytes=None, sha256=None, error=err.strerror or str(err))
        out.append(row)
    return out


@functools.lru_cache(maxsize=None)  # an installed package's version does not change while it runs
def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _highs_version() -> str | None:
    from .options import highs_version

    try:
        return highs_version()
    except Exception:  # noqa: BLE001 - a provenance field, never a reason to fail a run
        return None


def collect(scenario: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``provenance`` block for a solve of ``scenario`` with HiGHS ``options``.

    Parameters
    ----------
    scenario
        The :class:`~optimiser.scenario.Scenario` solved.
    options
        The HiGHS options the solve used (defaults included).

    Returns
    -------
    dict
        Plain JSON data; ``command`` is added by the command line (:func:`optimiser.cli.main`).
    """
    from .outdir import TOOL, tool_version

    folder = getattr(scenario, "folder", None)
    toml = Path(folder) / "scenario.toml" if folder is not None else None
    toml_sha = None
    if toml is not None:
        try:
            toml_sha = file_sha256(toml)
        except OSError:
            pass
    idx = scenario.data.index
    return {
        "run_id": uuid.uuid4().hex,
        "created_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tool": {"name": TOOL, "version": tool_version()},
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "packages": {
            "pyomo": _version("pyomo"),
            "highspy": _version("highspy"),
            "highs": _highs_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pydantic": _version("pydantic"),
        },
        "scenario": {
            "name": scenario.config.name,
            "folder": str(Path(folder).resolve()) if folder is not None else None,
            "scenario_toml_sha256": toml_sha,
            "config_sha256": config_sha256(scenario.config),
        },
        "inputs": input_files(scenario),
        "data_sha256": data_sha256(scenario.data),
        "solver_options": dict(options or {}),
        "horizon": {
            "start": idx[0].strftime("%Y-%m-%dT%H:%M:%SZ") if len(idx) else None,
            "end": (idx[-1] + pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ") if len(idx) else None,
            "hours": int(len(idx)),
            "timezone": scenario.config.timezone,
        },
    }
