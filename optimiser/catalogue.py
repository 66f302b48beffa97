"""The machine catalogue: one TOML file per ASIC miner or GPU system.

A catalogue directory holds two folders, ``asic/`` and ``gpu/``, each with one
``<id>.toml`` file per machine. The id is the file stem (lowercase letters, digits and
hyphens, e.g. ``antminer-s21``). Files with another suffix are ignored.

ASIC file keys
--------------
name : str
    Display name.
manufacturer : str
    Maker, e.g. ``"Bitmain"``.
kind : str
    Must be ``"asic"``.
hashrate_th_per_s : float
    Nominal hashrate of one unit. [TH/s]
power_w : float
    Nominal power drawn by one unit at the wall. [W]
efficiency_j_per_th : float
    Published efficiency; must equal ``power_w / hashrate_th_per_s`` within 2 %. [J/TH]
cooling : str
    ``"air"``, ``"hydro"`` or ``"immersion"``.
released : int
    Year the model was launched.
source : str
    The public document the figures come from, with its URL.
note : str, optional
    Caveats, e.g. which hashrate bin the figures describe.

GPU file keys
-------------
name, manufacturer, released, source, note
    As for ASICs.
kind : str
    Must be ``"gpu"``.
power_kw : float
    Maximum system power of one unit (a server or a rack). [kW]
gpus_per_unit : int
    GPUs in one unit.
gpu : str
    GPU chip name, e.g. ``"H100 SXM5"``.
cooling : str, optional
    ``"air"``, ``"liquid"`` or ``"immersion"``.

Loading validates every file and reports every problem at once in one
:class:`~optimiser.errors.InputError`. Nothing is cached here; a caller may cache the
:class:`Catalogue` it gets from :func:`load_catalogue`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

from optimiser.errors import InputError, Problem
from optimiser.safety import input_file_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    try:
        import tomli as tomllib
    except ImportError as exc:  # pragma: no cover
        raise ImportError("Python 3.10 needs the 'tomli' package to read the machine catalogue") from exc

__all__ = [
    "ENV_VAR",
    "KINDS",
    "EFFICIENCY_TOLERANCE",
    "Machine",
    "Catalogue",
    "default_catalogue_dir",
    "load_catalogue",
]

ENV_VAR = "DISPATCH_MODELS"
"""Environment variable naming a catalogue directory that replaces the shipped one."""

KINDS: tuple[str, ...] = ("asic", "gpu")
"""Machine kinds, which are also the catalogue's folder names."""

EFFICIENCY_TOLERANCE = 0.02
"""Largest relative gap allowed between ``efficiency_j_per_th`` and ``power_w / hashrate``. [-]"""

_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_COOLING: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"asic": ("air", "hydro", "immersion"), "gpu": ("air", "liquid", "immersion")}
)

# key -> expected type ("str", "number", "int"), per kind.
_REQUIRED: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "asic": MappingProxyType(
            {
                "name": "str",
                "manufacturer": "str",
                "kind": "str",
                "hashrate_th_per_s": "number",
                "power_w": "number",
                "efficiency_j_per_th": "number",
                "cooling": "str",
                "released": "int",
                "source": "str",
            }
        ),
        "gpu": MappingProxyType(
            {
                "name": "str",
                "manufacturer": "str",
                "kind": "str",
                "power_kw": "number",
                "gpus_per_unit": "int",
                "gpu": "str",
                "released": "int",
                "source": "str",
            }
        ),
    }
)
_OPTIONAL: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "asic": MappingProxyType({"note": "str"}),
        "gpu": MappingProxyType({"note": "str", "cooling": "str"}),
    }
)
_POSITIVE_INT_KEYS = frozenset({"gpus_per_unit"})
_YEAR_RANGE = (2009, 2100)


@dataclass(frozen=True)
class Machine:
    """One machine model from the catalogue.

    Parameters
    ----------
    id
        Catalogue id: the file stem, e.g. ``"antminer-s21"``.
    kind
        ``"asic"`` (a Bitcoin miner) or ``"gpu"`` (a GPU server or rack).
    name
        Display name.
    manufacturer
        Maker.
    power_kw
        Power drawn by one unit: nominal at the wall for an ASIC, system maximum for a
        GPU unit. [kW]
    hashrate_th_per_s
        Nominal hashrate of one unit; ``None`` for GPUs. [TH/s]
    efficiency_j_per_th
        Energy per terahash, computed as power / hashrate; ``None`` for GPUs. [J/TH]
    source
        The public document the figures come from, with its URL.
    cooling
        ``"air"``, ``"hydro"``, ``"liquid"`` or ``"immersion"``; ``None`` if not given.
    gpus_per_unit
        GPUs in one unit; ``None`` for ASICs.
    released
        Year the model was launched, if known.
    note
        Caveats about the figures, if any.
    path
        The TOML file the machine was read from.
    gpu
        GPU chip name (e.g. ``"H100 SXM5"``); ``None`` for ASICs.
    """

    id: str
    kind: Literal["asic", "gpu"]
    name: str
    manufacturer: str
    power_kw: float
    hashrate_th_per_s: float | None
    efficiency_j_per_th: float | None
    source: str
    cooling: str | None
    gpus_per_unit: int | None
    released: int | None
    note: str | None
    path: Path
    gpu: str | None = None

    @property
    def power_w(self) -> float:
        """Power drawn by one unit. [W]"""
        return self.power_kw * 1000.0


class Catalogue(Mapping[str, Machine]):
    """A read-only mapping from machine id to :class:`Machine`.

    Iteration yields ids sorted by kind (ASICs first) then id.

    Parameters
    ----------
    machines
        The machines; ids must be unique.
    directory
        The directory the machines were read from, if any.

    Raises
    ------
    ValueError
        If two machines share an id.
    """

    def __init__(self, machines: Iterable[Machine], directory: Path | None = None) -> None:
        by_id: dict[str, Machine] = {}
        for machine in sorted(machines, key=lambda m: (KINDS.index(m.kind), m.id)):
            if machine.id in by_id:
                raise ValueError(f"duplicate machine id '{machine.id}'")
            by_id[machine.id] = machine
        self._machines: Mapping[str, Machine] = MappingProxyType(by_id)
        self.directory: Path | None = directory

    def __reduce__(self) -> tuple:
        # pickled (a scenario sent to a worker process keeps its catalogue) as its machines
        return (Catalogue, (list(self._machines.values()), self.directory))

    def __getitem__(self, machine_id: str) -> Machine:
        return self._machines[machine_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._machines)

    def __len__(self) -> int:
        return len(self._machines)

    def __repr__(self) -> str:
        where = f" from {self.directory}" if self.directory is not None else ""
        return f"<Catalogue of {len(self.asics())} ASICs and {len(self.gpus())} GPU units{where}>"

    def ids(self, kind: str | None = None) -> list[str]:
        """Machine ids, optionally of one kind only.

        Parameters
        ----------
        kind
            ``"asic"``, ``"gpu"`` or ``None`` for all.

        Returns
        -------
        list of str
            The ids, ASICs first, each kind sorted.
        """
        return [mid for mid, m in self._machines.items() if kind is None or m.kind == kind]

    def suggest(self, machine_id: str, kind: str | None = None, n: int = 3) -> list[str]:
        """Ids close to a (probably mistyped) id.

        Parameters
        ----------
        machine_id
            The id asked for.
        kind
            Only suggest machines of this kind, if given.
        n
            Most suggestions to return.

        Returns
        -------
        list of str
            Close ids, best first; may be empty.
        """
        candidates = self.ids(kind)
        wanted = machine_id.strip().lower().replace("_", "-").replace(" ", "-")
        close = difflib.get_close_matches(wanted, candidates, n=n, cutoff=0.6)
        if len(close) < n and wanted:
            close += [c for c in candidates if wanted in c and c not in close]
        return close[:n]

    def check(
        self,
        machine_id: str,
        kind: str | None = None,
        *,
        file: str | None = None,
        key: str | None = None,
    ) -> Problem | None:
        """What is wrong with asking for ``machine_id``, without raising.

        Lets a scenario loader collect every problem before raising.

        Parameters
        ----------
        machine_id
            The id asked for.
        kind
            The kind the caller needs (``"asic"`` or ``"gpu"``), if any.
        file
            The file the id came from, to name in the problem.
        key
            The scenario key the id came from, to name in the problem.

        Returns
        -------
        Problem or None
            ``None`` if the id exists and is of the right kind.
        """
        if kind is not None and kind not in KINDS:
            return Problem(f"unknown machine kind '{kind}'; expected one of {', '.join(KINDS)}", file=file, key=key)
        machine = self._machines.get(machine_id) if isinstance(machine_id, str) else None
        if machine is None:
            what = f"{kind} machine" if kind else "machine"
            message = f"unknown {what} '{machine_id}'"
            close = self.suggest(str(machine_id), kind)
            if close:
                message += "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
            else:
                message += f"; known {what}s: {', '.join(self.ids(kind))}"
            return Problem(message, file=file, key=key)
        if kind is not None and machine.kind != kind:
            message = (
                f"'{machine_id}' is {_article(machine.kind)} {machine.kind} machine, "
                f"but {_article(kind)} {kind} machine is needed"
            )
            close = self.suggest(machine_id, kind)
            if close:
                message += "; e.g. " + " or ".join(f"'{c}'" for c in close)
            return Problem(message, file=file, key=key)
        return None

    def get(  # type: ignore[override]
        self,
        machine_id: str,
        kind: str | None = None,
        *,
        file: str | None = None,
        key: str | None = None,
    ) -> Machine:
        """The machine with this id, checked to be of the kind wanted.

        Unlike :meth:`dict.get` this never returns a default: an unknown id is an error.

        Parameters
        ----------
        machine_id
            Catalogue id, e.g. ``"antminer-s21"``.
        kind
            ``"asic"`` or ``"gpu"`` to insist on a kind; ``None`` for any.
        file
            The file the id came from, to name in an error.
        key
            The scenario key the id came from, to name in an error.

        Returns
        -------
        Machine
            The machine.

        Raises
        ------
        InputError
            If the id is unknown (naming it and suggesting close ids) or of another kind.
        """
        problem = self.check(machine_id, kind, file=file, key=key)
        if problem is not None:
            raise InputError(problem)
        return self._machines[machine_id]

    def asics(self) -> list[Machine]:
        """The ASIC miners, sorted by id.

        Returns
        -------
        list of Machine
        """
        return [m for m in self._machines.values() if m.kind == "asic"]

    def gpus(self) -> list[Machine]:
        """The GPU units, sorted by id.

        Returns
        -------
        list of Machine
        """
        return [m for m in self._machines.values() if m.kind == "gpu"]

    def to_frame(self) -> pd.DataFrame:
        """The catalogue as a table, one row a machine (ASICs first).

        Returns
        -------
        pandas.DataFrame
            Columns ``id``, ``kind``, ``name``, ``manufacturer``, ``power_kw`` [kW],
            ``hashrate_th_per_s`` [TH/s], ``efficiency_j_per_th`` [J/TH],
            ``gpus_per_unit``, ``gpu``, ``cooling``, ``released``, ``source``, ``note``.
            Fields that do not apply to a kind are missing values.
        """
        columns = [
            "id",
            "kind",
            "name",
            "manufacturer",
            "power_kw",
            "hashrate_th_per_s",
            "efficiency_j_per_th",
            "gpus_per_unit",
            "gpu",
            "cooling",
            "released",
            "source",
            "note",
        ]
        rows = [{c: asdict(m)[c] for c in columns} for m in self._machines.values()]
        frame = pd.DataFrame(rows, columns=columns)
        frame["power_kw"] = frame["power_kw"].astype(float)
        frame["hashrate_th_per_s"] = frame["hashrate_th_per_s"].astype(float)
        frame["efficiency_j_per_th"] = frame["efficiency_j_per_th"].astype(float)
        frame["gpus_per_unit"] = frame["gpus_per_unit"].astype("Int64")
        frame["released"] = frame["released"].astype("Int64")
        return frame


def default_catalogue_dir() -> Path:
    """The catalogue directory to use when none is given.

    Returns
    -------
    Path
        ``$DISPATCH_MODELS`` if that is set and not empty, else the ``models/`` folder
        of the repository.
    """
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[1] / "models"


def load_catalogue(directory: str | Path | None = None) -> Catalogue:
    """Read and validate every machine file in a catalogue directory.

    Parameters
    ----------
    directory
        Folder holding ``asic/*.toml`` and ``gpu/*.toml``; defaults to
        :func:`default_catalogue_dir`.

    Returns
    -------
    Catalogue
        Every machine found.

    Raises
    ------
    InputError
        Listing every problem in every file (unreadable TOML, unknown or missing keys,
        wrong types, non-positive numbers, a ``kind`` that does not match the folder, an
        efficiency that does not match power / hashrate, duplicate ids), each naming the
        file and the key.
    """
    root = Path(directory) if directory is not None else default_catalogue_dir()
    if not root.is_dir():
        raise InputError(Problem("machine catalogue directory not found", file=str(root)))

    problems: list[Problem] = []
    machines: list[Machine] = []
    seen: dict[str, Path] = {}
    for kind in KINDS:
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            machine = _read_machine(path, kind, problems)
            if machine is None:
                continue
            if machine.id in seen:
                problems.append(
                    Problem(f"machine id '{machine.id}' is also defined in {seen[machine.id]}", file=str(path))
                )
                continue
            seen[machine.id] = path
            machines.append(machine)

    if not machines and not problems:
        problems.append(
            Problem("no machine files found (expected asic/*.toml and/or gpu/*.toml)", file=str(root))
        )
    if problems:
        raise InputError(problems)
    return Catalogue(machines, directory=root)


def _read_machine(path: Path, folder_kind: str, problems: list[Problem]) -> Machine | None:
    """Parse and validate one file; append its problems; return the machine if it is sound."""
    file = str(path)
    start = len(problems)

    machine_id = path.stem
    if not _ID_PATTERN.match(machine_id):
        problems.append(
            Problem(
                f"file name '{path.name}' is not a valid machine id "
                "(use lowercase letters, digits and single hyphens, e.g. 'antminer-s21.toml')",
                file=file,
            )
        )

    unsafe = input_file_problem(path)  # a FIFO or a device named *.toml is not opened
    if unsafe is not None:
        problems.append(unsafe)
        return None
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(f"not valid TOML: {exc}", file=file))
        return None
    except OSError as exc:
        problems.append(Problem(f"cannot read file: {exc.strerror or exc}", file=file))
        return None

    required = _REQUIRED[folder_kind]
    optional = _OPTIONAL[folder_kind]
    allowed = {**required, **optional}

    for key in data:
        if key not in allowed:
            message = f"unknown key in {_article(folder_kind)} {folder_kind} file"
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            if close:
                message += f"; did you mean '{close[0]}'?"
            else:
                message += f"; allowed keys: {', '.join(allowed)}"
            problems.append(Problem(message, file=file, key=key))
    for key in required:
        if key not in data:
            problems.append(Problem(f"missing required key ({_describe(required[key])})", file=file, key=key))

    values: dict[str, Any] = {}
    for key, expected in allowed.items():
        if key not in data:
            continue
        value = _check_value(data[key], expected, key, file, problems)
        if value is not None:
            values[key] = value

    kind = values.get("kind")
    if kind is not None and kind != folder_kind:
        problems.append(
            Problem(
                f"kind is '{kind}' but the file is in the '{folder_kind}/' folder; "
                f"set kind = \"{folder_kind}\" or move the file",
                file=file,
                key="kind",
            )
        )

    cooling = values.get("cooling")
    if cooling is not None and cooling not in _COOLING[folder_kind]:
        problems.append(
            Problem(
                f"unknown cooling '{cooling}'; expected one of {', '.join(_COOLING[folder_kind])}",
                file=file,
                key="cooling",
            )
        )

    released = values.get("released")
    if released is not None and not (_YEAR_RANGE[0] <= released <= _YEAR_RANGE[1]):
        problems.append(
            Problem(
                f"released must be a year between {_YEAR_RANGE[0]} and {_YEAR_RANGE[1]}, got {released}",
                file=file,
                key="released",
            )
        )

    efficiency: float | None = None
    if folder_kind == "asic":
        power_w = values.get("power_w")
        hashrate = values.get("hashrate_th_per_s")
        stated = values.get("efficiency_j_per_th")
        if power_w is not None and hashrate is not None:
            efficiency = power_w / hashrate
            if stated is not None and abs(stated - efficiency) > EFFICIENCY_TOLERANCE * efficiency:
                problems.append(
                    Problem(
                        f"efficiency_j_per_th = {stated:g} J/TH does not match power_w / hashrate_th_per_s "
                        f"= {power_w:g} W / {hashrate:g} TH/s = {efficiency:.2f} J/TH "
                        f"(tolerance {EFFICIENCY_TOLERANCE:.0%})",
                        file=file,
                        key="efficiency_j_per_th",
                    )
                )

    if len(problems) > start:
        return None

    if folder_kind == "asic":
        return Machine(
            id=machine_id,
            kind="asic",
            name=values["name"],
            manufacturer=values["manufacturer"],
            power_kw=values["power_w"] / 1000.0,
            hashrate_th_per_s=values["hashrate_th_per_s"],
            efficiency_j_per_th=efficiency,
            source=values["source"],
            cooling=values["cooling"],
            gpus_per_unit=None,
            released=values["released"],
            note=values.get("note"),
            path=path,
            gpu=None,
        )
    return Machine(
        id=machine_id,
        kind="gpu",
        name=values["name"],
        manufacturer=values["manufacturer"],
        power_kw=values["power_kw"],
        hashrate_th_per_s=None,
        efficiency_j_per_th=None,
        source=values["source"],
        cooling=values.get("cooling"),
        gpus_per_unit=values["gpus_per_unit"],
        released=values["released"],
        note=values.get("note"),
        path=path,
        gpu=values["gpu"],
    )


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _describe(expected: str) -> str:
    return {"str": "a string", "number": "a positive number", "int": "a whole number"}[expected]


def _check_value(value: Any, expected: str, key: str, file: str, problems: list[Problem]) -> Any:
    """Check one value's type and sign; append a problem and return ``None`` if it is bad."""
    if expected == "str":
        if not isinstance(value, str):
            problems.append(Problem(f"must be a string, got {value!r}", file=file, key=key))
            return None
        if not value.strip():
            problems.append(Problem("must not be empty", file=file, key=key))
            return None
        return value.strip()
    if expected == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(f"must be a whole number, got {value!r}", file=file, key=key))
            return None
        if key in _POSITIVE_INT_KEYS and value <= 0:
            problems.append(Problem(f"must be positive, got {value}", file=file, key=key))
            return None
        return value
    # a positive, finite number
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem(f"must be a number, got {value!r}", file=file, key=key))
        return None
    if not math.isfinite(value):
        problems.append(Problem(f"must be finite, got {value}", file=file, key=key))
        return None
    if value <= 0:
        problems.append(Problem(f"must be positive, got {value:g}", file=file, key=key))
        return None
    return float(value)
