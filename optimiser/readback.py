"""Results read back from a results folder: ``dispatch.csv`` and ``summary.json`` as a solve left them.

A results folder (``dispatch run --out``, :meth:`optimiser.Results.write`, or any baseline or
sweep that writes the same files) holds everything the figures and the report need, so a
notebook can draw them without solving again::

    rr = optimiser.read_results("out/example")
    rr.dispatch            # hourly DataFrame, indexed by UTC hour starts (the columns of dispatch.csv)
    rr.summary             # dict (summary.json)
    report.plot_monthly_profit(rr)

:class:`ResultsFolder` reads like :class:`optimiser.Results` where a figure needs it
(``dispatch``, ``summary``, ``objective_usd``, ``streams()``); it has no solver solution and no
duals other than the balance's, which ``dispatch.csv`` holds as ``marginal_value_usd_per_mwh``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .safety import check_input_file, escape

__all__ = ["ResultsFolder", "read_results", "as_results"]


@dataclass
class ResultsFolder:
    """A results folder read back from disk.

    Attributes
    ----------
    dispatch
        One row an hour, indexed by hour start (UTC, ``DatetimeIndex`` named ``timestamp``): the
        columns of ``dispatch.csv``. [MW, $/MWh, $]
    summary
        The content of ``summary.json``.
    path
        The folder, absolute; None for results held in memory.
    uses_mw
        Always None: power by use is computed from the columns (see :mod:`optimiser.report`).
    """

    dispatch: pd.DataFrame
    summary: dict[str, Any]
    path: Path | None = None
    uses_mw: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def objective_usd(self) -> float:
        """The objective (profit) of the run. [$]"""
        return float(self.summary.get("objective_usd", self.dispatch["profit_usd"].sum()))

    @property
    def duals(self) -> dict[str, pd.Series]:
        """``{"balance": marginal value of site power}`` by hour, from ``dispatch.csv``. [$/MWh]"""
        if "marginal_value_usd_per_mwh" not in self.dispatch:
            return {}
        return {"balance": self.dispatch["marginal_value_usd_per_mwh"].rename("balance")}

    def streams(self) -> pd.DataFrame:
        """Revenue and cost streams as one table (``kind``, ``stream``, ``usd``)."""
        rows = [("revenue", k, v) for k, v in self.summary.get("revenue_usd", {}).items()]
        rows += [("cost", k, v) for k, v in self.summary.get("cost_usd", {}).items()]
        return pd.DataFrame(rows, columns=["kind", "stream", "usd"])

    @property
    def label(self) -> str:
        """A short name for figures and tables: the folder's name, else the scenario's."""
        if self.path is not None:
            return self.path.name
        return str(self.summary.get("scenario", "results"))


def read_results(folder: str | Path) -> ResultsFolder:
    """Read a results folder's ``dispatch.csv`` and ``summary.json``.

    Parameters
    ----------
    folder
        A folder written by ``dispatch run`` (or anything writing the same two files).

    Returns
    -------
    ResultsFolder
        ``.dispatch`` indexed by UTC timestamps, ``.summary`` as written.

    Raises
    ------
    InputError
        Naming the folder or file and why: not a folder, a file missing, not a regular file or
        above the input size limit, ``summary.json`` not a JSON object, ``dispatch.csv`` without
        a ``timestamp`` column of UTC hour starts or without ``profit_usd``.
    """
    path = Path(folder).resolve()
    if not path.is_dir():
        raise InputError(f"{escape(folder)} is not a results folder: "
                         + ("it does not exist" if not path.exists() else "it is not a folder"))
    files = {name: path / name for name in ("dispatch.csv", "summary.json")}
    for name, f in files.items():
        if not f.exists():
            raise InputError(f"{escape(path)} is not a results folder: it has no {name}")
        check_input_file(f)
    try:
        summary = json.loads(files["summary.json"].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"{escape(files['summary.json'])}: not readable as JSON ({escape(err)})") from None
    if not isinstance(summary, dict):
        raise InputError(f"{escape(files['summary.json'])}: not a JSON object")
    try:
        frame = pd.read_csv(files["dispatch.csv"])
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"{escape(files['dispatch.csv'])}: not readable as CSV ({escape(err)})") from None
    for col in ("timestamp", "profit_usd"):
        if col not in frame.columns:
            raise InputError(f"{escape(files['dispatch.csv'])}: no '{col}' column")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp"), utc=True, format="ISO8601"))
    except (ValueError, TypeError) as err:
        raise InputError(f"{escape(files['dispatch.csv'])}: the timestamps are not ISO 8601 ({escape(err)})") from None
    frame.index = index.rename("timestamp")
    frame = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    return ResultsFolder(frame, summary, path)


def as_results(results: Any) -> Any:
    """``results`` itself if it has ``dispatch`` and ``summary``; a folder read back otherwise.

    Parameters
    ----------
    results
        :class:`optimiser.Results`, :class:`ResultsFolder`, or the path of a results folder.
    """
    if hasattr(results, "dispatch") and hasattr(results, "summary"):
        return results
    return read_results(results)
