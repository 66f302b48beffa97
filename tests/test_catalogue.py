"""Tests of the machine catalogue: the shipped TOML files and the loader's validation."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

# The package is not necessarily installed in the venv: make the repo importable.
_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from optimiser.catalogue import (  # noqa: E402
    ENV_VAR,
    Catalogue,
    Machine,
    default_catalogue_dir,
    load_catalogue,
)
from optimiser.errors import InputError  # noqa: E402

REPO_MODELS = _REPO / "models"

GOOD_ASIC = """\
name = "Test Miner"
manufacturer = "Acme"
kind = "asic"
hashrate_th_per_s = 100
power_w = 2000
efficiency_j_per_th = 20.0
cooling = "air"
released = 2024
source = "Acme spec sheet, https://example.com/miner"
"""

GOOD_GPU = """\
name = "Test GPU box"
manufacturer = "Acme"
kind = "gpu"
power_kw = 5.0
gpus_per_unit = 4
gpu = "X1"
released = 2024
source = "Acme spec sheet, https://example.com/gpu"
"""


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(REPO_MODELS)


def _write(root: Path, kind: str, machine_id: str, text: str) -> Path:
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{machine_id}.toml"
    path.write_text(text)
    return path


# --- the shipped catalogue -------------------------------------------------------------


def test_shipped_catalogue_loads_with_enough_machines(shipped: Catalogue) -> None:
    assert len(shipped.asics()) >= 8
    assert len(shipped.gpus()) >= 4
    assert len(shipped) == len(shipped.asics()) + len(shipped.gpus())
    for machine in shipped.values():
        assert isinstance(machine, Machine)
        assert machine.power_kw > 0
        assert machine.source.strip()
        assert "http" in machine.source, f"{machine.id}: source should carry a URL"
        assert machine.path.stem == machine.id


def test_required_machines_are_present(shipped: Catalogue) -> None:
    for machine_id in [
        "antminer-s19j-pro",
        "antminer-s19-xp",
        "antminer-s21",
        "antminer-s21-pro",
        "antminer-s21-xp",
        "antminer-s21-plus-hydro",
        "antminer-s21-xp-hydro",
        "whatsminer-m30s-plus-plus",
        "whatsminer-m50s",
        "whatsminer-m60s",
        "whatsminer-m63s-hydro",
    ]:
        assert shipped.get(machine_id, "asic").kind == "asic"
    for machine_id in ["dgx-h100", "hgx-h200", "dgx-b200", "gb200-nvl72"]:
        assert shipped.get(machine_id, "gpu").kind == "gpu"


def test_every_efficiency_matches_power_over_hashrate(shipped: Catalogue) -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    for machine in shipped.asics():
        assert machine.hashrate_th_per_s is not None and machine.efficiency_j_per_th is not None
        computed = machine.power_kw * 1000 / machine.hashrate_th_per_s
        assert machine.efficiency_j_per_th == pytest.approx(computed)
        stated = tomllib.loads(machine.path.read_text())["efficiency_j_per_th"]
        assert stated == pytest.approx(computed, rel=0.02), machine.id
        assert machine.gpus_per_unit is None
    for machine in shipped.gpus():
        assert machine.hashrate_th_per_s is None and machine.efficiency_j_per_th is None
        assert machine.gpus_per_unit and machine.gpus_per_unit > 0


def test_s21_is_17_5_j_per_th(shipped: Catalogue) -> None:
    s21 = shipped.get("antminer-s21")
    assert s21.efficiency_j_per_th == pytest.approx(17.5)
    assert s21.hashrate_th_per_s == pytest.approx(200)
    assert s21.power_kw == pytest.approx(3.5)
    assert s21.cooling == "air"


def test_key_figures(shipped: Catalogue) -> None:
    assert shipped["antminer-s19j-pro"].power_kw == pytest.approx(3.068)
    assert shipped["antminer-s19-xp"].efficiency_j_per_th == pytest.approx(21.5)
    assert shipped["antminer-s21-pro"].efficiency_j_per_th == pytest.approx(15.0)
    assert shipped["antminer-s21-xp"].efficiency_j_per_th == pytest.approx(13.5)
    assert shipped["antminer-s21-plus-hydro"].cooling == "hydro"
    assert shipped["dgx-h100"].power_kw == pytest.approx(10.2)
    assert shipped["dgx-b200"].gpus_per_unit == 8
    assert 120 <= shipped["gb200-nvl72"].power_kw <= 132


def test_to_frame_has_one_row_a_machine(shipped: Catalogue) -> None:
    frame = shipped.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(shipped)
    assert list(frame["id"]) == list(shipped)
    assert {"power_kw", "hashrate_th_per_s", "efficiency_j_per_th", "kind", "name"} <= set(frame.columns)
    row = frame.set_index("id").loc["antminer-s21"]
    assert row["efficiency_j_per_th"] == pytest.approx(17.5)
    assert pd.isna(frame.set_index("id").loc["dgx-h100", "hashrate_th_per_s"])


def test_catalogue_is_read_only(shipped: Catalogue) -> None:
    with pytest.raises(TypeError):
        shipped["x"] = shipped["antminer-s21"]  # type: ignore[index]
    with pytest.raises(Exception):
        shipped["antminer-s21"].power_kw = 1.0  # type: ignore[misc]


# --- lookups -----------------------------------------------------------------------------


def test_unknown_id_names_it_and_suggests_a_close_one(shipped: Catalogue) -> None:
    with pytest.raises(InputError) as info:
        shipped.get("antminer-s12")
    message = str(info.value)
    assert "antminer-s12" in message
    assert "antminer-s21" in message
    assert len(info.value.problems) == 1


def test_wrong_kind_is_an_error(shipped: Catalogue) -> None:
    with pytest.raises(InputError) as info:
        shipped.get("dgx-h100", kind="asic")
    message = str(info.value)
    assert "dgx-h100" in message and "gpu" in message and "asic" in message


def test_lookup_error_carries_scenario_location(shipped: Catalogue) -> None:
    with pytest.raises(InputError) as info:
        shipped.get("dgx-h10O", "gpu", file="site.toml", key="gpu[0].model")
    problem = info.value.problems[0]
    assert problem.file == "site.toml" and problem.key == "gpu[0].model"
    assert "dgx-h100" in problem.message
    assert shipped.check("dgx-h100", "gpu") is None


# --- validation --------------------------------------------------------------------------


def test_bad_catalogue_reports_all_four_problems_at_once(tmp_path: Path) -> None:
    unknown = _write(tmp_path, "asic", "unknown-key", GOOD_ASIC + 'colour = "blue"\n')
    negative = _write(tmp_path, "gpu", "negative-power", GOOD_GPU.replace("power_kw = 5.0", "power_kw = -5.0"))
    missing = _write(
        tmp_path,
        "asic",
        "missing-hashrate",
        GOOD_ASIC.replace("hashrate_th_per_s = 100\n", ""),
    )
    mismatch = _write(
        tmp_path,
        "asic",
        "bad-efficiency",
        GOOD_ASIC.replace("efficiency_j_per_th = 20.0", "efficiency_j_per_th = 15.0"),
    )
    _write(tmp_path, "asic", "fine", GOOD_ASIC)

    with pytest.raises(InputError) as info:
        load_catalogue(tmp_path)

    problems = info.value.problems
    assert len(problems) == 4, str(info.value)
    found = {(Path(p.file).name, p.key) for p in problems if p.file is not None}
    assert found == {
        (unknown.name, "colour"),
        (negative.name, "power_kw"),
        (missing.name, "hashrate_th_per_s"),
        (mismatch.name, "efficiency_j_per_th"),
    }
    text = str(info.value)
    assert text.startswith("4 problems")
    for path in (unknown, negative, missing, mismatch):
        assert str(path) in text


def test_kind_mismatch_with_folder(tmp_path: Path) -> None:
    _write(tmp_path, "gpu", "misfiled", GOOD_GPU.replace('kind = "gpu"', 'kind = "asic"'))
    with pytest.raises(InputError) as info:
        load_catalogue(tmp_path)
    [problem] = info.value.problems
    assert problem.key == "kind" and "gpu/" in problem.message


def test_invalid_toml_and_wrong_types_are_collected(tmp_path: Path) -> None:
    _write(tmp_path, "asic", "broken", "name = \n")
    _write(tmp_path, "gpu", "typed", GOOD_GPU.replace("gpus_per_unit = 4", 'gpus_per_unit = "four"'))
    with pytest.raises(InputError) as info:
        load_catalogue(tmp_path)
    problems = info.value.problems
    assert len(problems) == 2
    assert any("TOML" in p.message and p.file.endswith("broken.toml") for p in problems)
    assert any(p.key == "gpus_per_unit" for p in problems)


def test_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_catalogue(tmp_path / "nowhere")


def test_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "asic", "only-miner", GOOD_ASIC)
    _write(tmp_path, "gpu", "only-gpu", GOOD_GPU)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_catalogue_dir() == tmp_path
    catalogue = load_catalogue()
    assert sorted(catalogue) == ["only-gpu", "only-miner"]
    assert catalogue.get("only-miner", "asic").efficiency_j_per_th == pytest.approx(20.0)
    assert catalogue.directory == tmp_path


def test_default_dir_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_catalogue_dir() == REPO_MODELS
