"""Pictures and a report a planner can send: ``dispatch report OUT_DIR``.

:func:`write_report` reads one or more results folders and writes into a results folder

* ``report.html`` (one run) or ``comparison.html`` (several, the first the reference): one
  self-contained page, figures embedded as PNG, nothing fetched from a network;
* ``figures/NAME.png`` and ``figures/NAME.svg``: each figure on its own.

The files are added to the folder's marker (``.dispatch-results``), so the folder stays the
tool's own: the next ``dispatch run --out`` into it replaces them with the rest. The figures
are also functions for notebooks (:mod:`optimiser.report.figures`), and the numbers behind
them are in :mod:`optimiser.report.data`::

    import optimiser
    from optimiser import report
    rr = optimiser.read_results("out/example")
    report.plot_price_duration(rr)
    report.write_report(["out/example"])             # out/example/report.html
    report.write_report(["out/optimum", "out/baseline"], out="out/compare")

A sweep (or any batch) hands its case folders to :func:`write_report` as they are; a folder
holding ``cases.parquet`` and case sub-folders can be given whole (:func:`expand_folders`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..readback import read_results
from ..safety import escape
from .data import report_data
from .figures import (
    plot_breakeven,
    plot_dispatch_week,
    plot_energy_by_use,
    plot_gpu_availability,
    plot_marginal_value_heatmap,
    plot_monthly_profit,
    plot_price_duration,
    plot_stream_differences,
    plot_streams_by_use,
    plot_weeks_compared,
)

__all__ = [
    "FIGURES_DIR", "expand_folders", "plot_breakeven", "plot_dispatch_week", "plot_energy_by_use",
    "plot_gpu_availability", "plot_marginal_value_heatmap", "plot_monthly_profit", "plot_price_duration",
    "plot_stream_differences", "plot_streams_by_use", "plot_weeks_compared", "report_data", "write_report",
]

#: The sub-folder of a results folder that holds the report's figures.
FIGURES_DIR = "figures"


def expand_folders(folders: Sequence[str | Path]) -> list[Path]:
    """The results folders to report on: each folder as given, except that a folder which is not
    itself a results folder but holds ``cases.parquet`` (a sweep) stands for its sub-folders that
    are results folders (those holding ``summary.json``), in name order.

    Raises
    ------
    InputError
        If a sweep folder holds no results folder.
    """
    out: list[Path] = []
    for f in folders:
        p = Path(f)
        if not (p / "summary.json").exists() and (p / "cases.parquet").exists():
            cases = sorted(c for c in p.iterdir() if c.is_dir() and (c / "summary.json").is_file())
            if not cases:
                raise InputError(f"{escape(p)} holds cases.parquet but no results folder (no sub-folder with "
                                 "summary.json)")
            out.extend(cases)
        else:
            out.append(p)
    return out


def write_report(
    folders: Sequence[str | Path],
    out: str | Path | None = None,
    labels: Sequence[str] | None = None,
    generated: str | None = None,
) -> Path:
    """Write the report of one results folder, or the comparison of several.

    Parameters
    ----------
    folders
        Results folders (:func:`expand_folders` applies); with several, the first is the
        reference the others are compared with.
    out
        The folder to write into: default the first results folder. It must be a results folder,
        new, or empty (:func:`optimiser.outdir.check_results_folder`): nothing of anyone else's is
        overwritten.
    labels
        Names of the runs in a comparison; default the folders' names.
    generated
        The time shown as when the report was made; default now.

    Returns
    -------
    pathlib.Path
        The page written: ``OUT/report.html`` or ``OUT/comparison.html``.

    Raises
    ------
    InputError
        A folder is not a results folder, or ``labels`` does not match the folders.
    ResultsFolderError
        ``out`` may not be written.
    """
    from ..outdir import check_results_folder
    from .html import comparison_report, single_report

    paths = expand_folders(folders)
    if not paths:
        raise InputError("no results folder to report on")
    if labels is not None and len(labels) != len(paths):
        raise InputError(f"{len(labels)} labels for {len(paths)} results folders")
    runs = [read_results(p) for p in paths]
    target = check_results_folder(paths[0] if out is None else out)
    if len(runs) == 1:
        page, figs, _ = single_report(runs[0], generated=generated)
        name = "report.html"
    else:
        page, figs, _ = comparison_report(runs, labels, generated=generated)
        name = "comparison.html"
    files = {f"{f.name}.png": f.png for f in figs} | {f"{f.name}.svg": f.svg for f in figs}
    _install(target, name, page.encode("utf-8"), files)
    return target / name


def _install(out: Path, page_name: str, page: bytes, figures: dict[str, bytes]) -> None:
    """Write the page and the figures into ``out``, each file whole, and list them in the marker.

    Everything is first written to a temporary folder beside ``out`` (named as the results'
    temporary folders are, so one a killed process leaves is removed by the next write). The
    marker is then rewritten to list the new files (listing a file before it exists is
    harmless), and each file is moved into place with one rename, the page last.
    """
    from ..outdir import MARKER, follow_umask, marker_text, read_marker, read_marker_folders

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-report-", dir=out.parent))
    try:
        follow_umask(tmp)
        for name, blob in figures.items():
            (tmp / name).write_bytes(blob)
        (tmp / page_name).write_bytes(page)
        out.mkdir(exist_ok=True)
        listed = read_marker(out)
        if listed is None:  # new, empty, or a results folder from before markers: what it holds is ours
            listed = {p.name for p in out.iterdir() if p.is_file() and p.name != MARKER}
        folders = read_marker_folders(out)
        folders[FIGURES_DIR] = set(folders.get(FIGURES_DIR, set())) | set(figures)
        (tmp / MARKER).write_text(marker_text(listed | {page_name}, folders), encoding="utf-8")
        os.replace(tmp / MARKER, out / MARKER)
        fig_dir = out / FIGURES_DIR
        fig_dir.mkdir(exist_ok=True)
        for name in figures:
            os.replace(tmp / name, fig_dir / name)
        os.replace(tmp / page_name, out / page_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
