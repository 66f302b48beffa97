"""The notebooks: each runs top to bottom without an error, and is committed without outputs.

Each notebook is executed by nbclient in a fresh ``python3`` kernel (the venv's interpreter)
with ``notebooks/`` as its working directory, as a researcher would open it. Notebook 03 reads
the real data in ``$DISPATCH_DATA`` or ``../shared/data``; it is also run once with the data
made absent, where it must say so and skip its work cleanly.

To strip outputs after editing a notebook in Jupyter::

    .venv/bin/python tests/test_notebooks.py --strip
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ["01-quickstart", "02-custom-constraints", "03-real-ercot", "04-sensitivity", "05-operations", "06-conversion"]
#: Notebooks that need the real data: without it they say so and skip every later cell.
REAL_DATA_ONLY = ("03-real-ercot", "06-conversion")
#: Longest a single cell may run before the test fails. [s]
CELL_TIMEOUT_S = 300
#: Files notebook 03 reads; when one is missing it must skip its work.
REAL_DATA_FILES = (
    "ercot_rtm_spp_hourly_HB_WEST.csv", "ercot_dam_as_mcpc_hourly.csv", "btc_usd_daily_newhedge.csv",
    "btc_difficulty_daily_newhedge.csv", "btc_fees_daily.csv", "btc_miner_revenue_daily_newhedge.csv",
)
ABSENT_MESSAGE = "The real data are not here"


def execute(path: Path) -> "nbformat.NotebookNode":
    """Run a notebook top to bottom in a fresh kernel; raise on the first failing cell."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    client.execute()
    return nb


def code_cells(nb: "nbformat.NotebookNode") -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def text_of(cell: "nbformat.NotebookNode") -> str:
    """Everything a cell printed or displayed as text or markdown."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            data = out.get("data", {})
            parts.append(data.get("text/markdown", "") + data.get("text/plain", ""))
    return "\n".join(parts)


def has_image(cell: "nbformat.NotebookNode") -> bool:
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def real_data_present() -> bool:
    from optimiser.realdata import default_data_dir

    d = default_data_dir()
    return all((d / f).is_file() for f in REAL_DATA_FILES)


def strip(path: Path) -> bool:
    """Remove outputs and execution counts from a notebook in place; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in code_cells(nb):
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
        if cell.metadata.get("execution"):
            del cell.metadata["execution"]
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def test_the_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    cells = code_cells(nb)
    assert cells, "a notebook without code"
    for i, cell in enumerate(cells):
        assert cell.outputs == [], f"code cell {i} has outputs: run `python tests/test_notebooks.py --strip`"
        assert cell.execution_count is None, f"code cell {i} has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    nb = execute(path)  # raises CellExecutionError, naming the cell, on any error
    cells = code_cells(nb)
    assert all(c.execution_count is not None for c in cells)
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]
    text = "\n".join(text_of(c) for c in cells)
    if path.stem == "03-real-ercot":
        if real_data_present():
            assert ABSENT_MESSAGE not in text
            for line in ("pure ASIC profit [M$]", "hybrid profit [M$]", "break-even GPU contract", "Jan-Nov 2025"):
                assert line in text
            assert sum(has_image(c) for c in cells) >= 4
        else:
            assert ABSENT_MESSAGE in text
    elif path.stem == "06-conversion":
        if real_data_present():
            assert ABSENT_MESSAGE not in text
            for line in ("base case: ASIC", "expected profit [M$]", "EVPI [M$]", "VSS [M$]", "risk weight at BTC x1.3",
                         "five years at BTC x1.3", "Five years (2026-2030)"):
                assert line in text
            assert sum(has_image(c) for c in cells) >= 5
        else:
            assert ABSENT_MESSAGE in text
    else:
        # every notebook on the example draws and explains its answer in computed text
        assert any(has_image(c) for c in cells)
        assert "M$" in text
    if path.stem == "05-operations":
        assert "value of foresight in August" in text and "avoided by it [t]" in text
        if real_data_present():
            for line in ("HB_WEST 2024", "HB_WEST 2025", "value of optimisation", "more than the best rule"):
                assert line in text
        else:
            assert ABSENT_MESSAGE in text


@pytest.mark.slow
@pytest.mark.parametrize("stem", REAL_DATA_ONLY)
def test_real_data_notebook_stops_cleanly_without_data(stem: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_DATA", str(tmp_path))  # an empty folder: the kernel inherits it
    nb = execute(NOTEBOOK_DIR / f"{stem}.ipynb")
    cells = code_cells(nb)
    assert ABSENT_MESSAGE in text_of(cells[0])
    assert str(tmp_path) in text_of(cells[0])
    # the later cells ran (no error) but did no work: nothing printed, nothing drawn
    assert all(not c.outputs for c in cells[1:])


@pytest.mark.slow
def test_operations_notebook_without_data_runs_the_example_parts(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Notebook 05 without the real data: it says so, skips part 2 (no output there) and still
    runs parts 1 and 3 on the example."""
    monkeypatch.setenv("DISPATCH_DATA", str(tmp_path))
    nb = execute(NOTEBOOK_DIR / "05-operations.ipynb")
    cells = code_cells(nb)
    assert ABSENT_MESSAGE in text_of(cells[0])
    real = [c for c in cells if c.source.lstrip().startswith(("POLICIES", "if DATA"))]
    assert real and all(not c.outputs for c in real)
    text = "\n".join(text_of(c) for c in cells)
    assert "value of foresight in August" in text and sum(has_image(c) for c in cells) >= 3


def test_use_split_adds_up_to_the_usable_power() -> None:
    """The notebooks' split of the site's power (optimiser.plots.use_split_mw) is a true partition."""
    import optimiser
    from optimiser import plots

    sc = optimiser.load_scenario(REPO / "scenarios" / "example").replace(
        start="2025-08-01T00:00:00-05:00", end="2025-09-01T00:00:00-05:00"
    )
    res = optimiser.run(sc)
    split = plots.use_split_mw(res, sc)
    cfg = sc.config
    usable = min(sum(f.pue * f.capacity_mw for _, f in cfg.fleets()), cfg.site.import_mw + cfg.ppa_mw)
    assert list(split.columns) == ["asic_mw", "gpu_mw", "flex_mw", "handed_back_mw"]
    assert (split >= -1e-9).all().all()
    assert abs(split.sum(axis=1) - usable).max() < 1e-6
    # the fleets' part is the load at the meter that dispatch.csv reports
    assert abs(split[["asic_mw", "gpu_mw", "flex_mw"]].sum(axis=1) - res.dispatch["load_mw"]).max() < 1e-6
    # August has the spikes: some power was handed back, and the ASICs took most of the rest
    assert split["handed_back_mw"].sum() > 0
    assert split["asic_mw"].sum() > split["gpu_mw"].sum()


if __name__ == "__main__":
    if sys.argv[1:] != ["--strip"]:
        sys.exit("usage: python tests/test_notebooks.py --strip")
    for p in NOTEBOOKS:
        if strip(p):
            print(f"stripped {p.relative_to(REPO)}")
