"""The scenario: a site, its fleets, its contracts, and the hourly series they need.

A scenario is a folder holding ``scenario.toml`` and the CSV files it names
(see ``docs/scenario.md``). :func:`load_scenario` reads and checks it all and returns a
:class:`Scenario`: a frozen, fully resolved configuration (machines looked up in the
catalogue, unit counts turned into MW) and one hourly UTC frame of inputs.

Every configuration table is a frozen pydantic model that rejects unknown keys. Problems are
collected, not raised one at a time: a bad scenario fails once, listing everything wrong with
it (keys, files, rows and columns).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI, a dependency there
    import tomli as tomllib

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .bitcoin import DEFAULT_HALVING_DATES
from .errors import InputError, Problem
from .markets import InputEntry

FleetKind = Literal["asic", "gpu", "flex"]
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SCENARIO_FILE = "scenario.toml"


def parse_timestamp(text: str | pd.Timestamp) -> pd.Timestamp:
    """Parse an ISO 8601 timestamp that carries an offset (or ``Z``) into UTC.

    Raises
    ------
    ValueError
        If the text does not parse or has no offset.
    """
    ts = pd.Timestamp(text)
    if ts.tzinfo is None:
        raise ValueError(f"timestamp '{text}' has no UTC offset (write e.g. '-06:00' or 'Z')")
    return ts.tz_convert("UTC")


class _Table(BaseModel):
    """Base of every configuration table: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_name(v: str) -> str:
    if not _NAME_RE.match(v):
        raise ValueError(
            f"'{v}' is not a usable name: letters, digits, '_', '-', '.', starting with a letter or digit"
        )
    return v


class Site(_Table):
    """The grid connection at the meter."""

    import_mw: float = Field(ge=0, description="Grid import limit at the meter. [MW]")
    export_mw: float | None = Field(
        default=None, ge=0, description="Sell-back limit; default the PPA volume (0 without a PPA). [MW]"
    )
    energy_adder_usd_per_mwh: float = Field(
        default=0.0, ge=0, description="Transmission/delivery adders paid on imported energy. [$/MWh]"
    )
    ramp_mw_per_h: float | None = Field(
        default=None, gt=0, description="Limit on the hour-to-hour change of site load. [MW/h]"
    )


class PPA(_Table):
    """A fixed-price, must-take block of power delivered every hour."""

    volume_mw: float = Field(ge=0, description="Power delivered every hour. [MW]")
    price_usd_per_mwh: float = Field(description="Fixed price paid for it. [$/MWh]")


class _Fleet(_Table):
    name: str
    model: str | None = Field(default=None, description="A machine id in the catalogue.")
    capacity_mw: float | None = Field(default=None, ge=0, description="IT power of the fleet. [MW]")
    units: int | None = Field(default=None, ge=0, description="Number of machines (needs `model`). [-]")
    om_usd_per_mwh: float = Field(default=0.0, description="Variable O&M on IT energy. [$/MWh]")
    pue: float = Field(default=1.0, ge=1.0, description="Facility MW per IT MW. [-]")

    _check = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @model_validator(mode="after")
    def _size(self) -> "_Fleet":
        if (self.capacity_mw is None) == (self.units is None):
            raise ValueError("give exactly one of 'capacity_mw' and 'units'")
        if self.units is not None and self.model is None:
            raise ValueError("'units' needs 'model' (the machine whose power a unit draws)")
        return self


class AsicFleet(_Fleet):
    """A fleet of Bitcoin ASIC miners: flexible load paid per hash."""

    efficiency_j_per_th: float | None = Field(
        default=None, gt=0, description="Energy per terahash; default from `model`. [J/TH]"
    )
    pool_fee: float = Field(default=0.0, ge=0, lt=1, description="Share of mining revenue kept by the pool. [-]")

    @model_validator(mode="after")
    def _efficiency(self) -> "AsicFleet":
        if self.model is None and self.efficiency_j_per_th is None:
            raise ValueError("give 'model' (a catalogue id) or 'efficiency_j_per_th'")
        return self


class GpuFleet(_Fleet):
    """GPU hosting: a firm contract under an availability SLA, plus spot above it."""

    contract_mw: float = Field(ge=0, description="Firm capacity sold to the tenant. [MW]")
    contract_usd_per_mw_per_h: float = Field(
        ge=0, description="Paid per contracted MW per hour, whatever is delivered. [$/MW/h]"
    )
    availability: float = Field(
        default=1.0, ge=0, le=1, description="Minimum delivered share of contract energy per billing period. [-]"
    )
    billing_period: Literal["month", "year", "horizon"] = "month"
    sla_credit_usd_per_mwh: float = Field(default=0.0, ge=0, description="Credit owed per MWh of shortfall. [$/MWh]")
    spot_usd_per_mwh: float | str = Field(
        default=0.0, description="Earned on power above contract: a number or a column name. [$/MWh]"
    )

    @model_validator(mode="after")
    def _contract(self) -> "GpuFleet":
        if self.capacity_mw is not None and self.contract_mw > self.capacity_mw + 1e-9:
            raise ValueError(
                f"contract_mw ({self.contract_mw}) is larger than capacity_mw ({self.capacity_mw})"
            )
        return self


class FlexLoad(_Table):
    """Any other interruptible load with a revenue per MWh."""

    name: str
    capacity_mw: float = Field(ge=0, description="IT power. [MW]")
    revenue_usd_per_mwh: float | str = Field(description="A number or a column name. [$/MWh]")
    om_usd_per_mwh: float = 0.0
    pue: float = Field(default=1.0, ge=1.0)

    _check = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))


class Reserve(_Table):
    """An ancillary-service capacity product sold from interruptible load."""

    product: str
    price_column: str = Field(description="Column holding the capacity price. [$/MW/h]")
    max_mw: float = Field(ge=0, description="Most that may be offered in an hour. [MW]")
    eligible: tuple[FleetKind, ...] = Field(
        default=("asic", "flex"), min_length=1, description="Fleet kinds whose load may back it."
    )

    _check = field_validator("product")(classmethod(lambda cls, v: _check_name(v)))


class DemandCharge(_Table):
    """A charge on each billing month's peak import (months in the site timezone)."""

    usd_per_mw_month: float = Field(ge=0, description="[$/MW-month]")


class CoincidentPeak(_Table):
    """A transmission charge on import during listed system-peak hours (e.g. ERCOT 4CP)."""

    usd_per_mw_year: float = Field(ge=0, description="[$/MW-year], split evenly across the intervals.")
    intervals: tuple[str, ...] = Field(min_length=1, description="Hour starts, ISO 8601 with offsets.")

    @field_validator("intervals")
    @classmethod
    def _parse(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            ts = parse_timestamp(s)
            if ts != ts.floor("h"):
                raise ValueError(f"interval '{s}' is not the start of an hour")
        return v


class BitcoinConfig(_Table):
    """Block-subsidy schedule, used when no `subsidy_btc` column is given."""

    halving_dates: tuple[str, ...] = DEFAULT_HALVING_DATES

    @field_validator("halving_dates")
    @classmethod
    def _parse(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            parse_timestamp(s)
        return v


class ScenarioConfig(_Table):
    """The whole of ``scenario.toml``."""

    name: str = "scenario"
    timezone: str = "UTC"
    start: str | None = None
    end: str | None = None
    inputs: tuple[InputEntry, ...] = ()  # a file name, or a table {file, format, ...}: see markets.InputSpec
    catalogue: str | None = Field(default=None, description="Folder of machine files; default models/.")
    site: Site
    ppa: PPA | None = None
    asic: tuple[AsicFleet, ...] = ()
    gpu: tuple[GpuFleet, ...] = ()
    flex: tuple[FlexLoad, ...] = ()
    reserve: tuple[Reserve, ...] = ()
    demand_charge: DemandCharge | None = None
    coincident_peak: CoincidentPeak | None = None
    bitcoin: BitcoinConfig = BitcoinConfig()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not an IANA time zone name (e.g. 'America/Chicago')") from None
        return v

    @field_validator("start", "end")
    @classmethod
    def _ts(cls, v: str | None) -> str | None:
        if v is not None:
            ts = parse_timestamp(v)
            if ts != ts.floor("h"):
                raise ValueError(f"'{v}' is not on a whole hour")
        return v

    # --- derived, read-only views ------------------------------------------------------
    @property
    def export_mw(self) -> float:
        """Sell-back limit in force. [MW]"""
        if self.site.export_mw is not None:
            return self.site.export_mw
        return self.ppa.volume_mw if self.ppa is not None else 0.0

    @property
    def ppa_mw(self) -> float:
        """PPA volume, 0 without a PPA. [MW]"""
        return self.ppa.volume_mw if self.ppa is not None else 0.0

    def fleets(self) -> list[tuple[str, Any]]:
        """Every fleet as ``(kind, table)``, ASICs first, then GPUs, then flex loads."""
        return (
            [("asic", f) for f in self.asic] + [("gpu", f) for f in self.gpu] + [("flex", f) for f in self.flex]
        )

    def hourly_columns(self) -> list[str]:
        """Every hourly column the scenario needs: the price and every column it names."""
        cols = ["price_usd_per_mwh"]
        for g in self.gpu:
            if isinstance(g.spot_usd_per_mwh, str):
                cols.append(g.spot_usd_per_mwh)
        for f in self.flex:
            if isinstance(f.revenue_usd_per_mwh, str):
                cols.append(f.revenue_usd_per_mwh)
        cols += [r.price_column for r in self.reserve]
        return list(dict.fromkeys(cols))

    def step_columns(self) -> list[str]:
        """Step series the scenario needs (the Bitcoin economics, when there are ASICs)."""
        return ["difficulty", "btc_usd"] if self.asic else []

    def optional_step_columns(self) -> list[str]:
        """Step series used when present."""
        return ["fees_btc_per_block", "subsidy_btc"] if self.asic else []


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: resolved configuration plus one hourly frame of inputs.

    Attributes
    ----------
    config
        The configuration, resolved: every fleet has ``capacity_mw`` and every ASIC fleet its
        ``efficiency_j_per_th``.
    data
        Hourly inputs indexed by hour start (tz-aware UTC), contiguous, no gaps: the columns
        ``config.hourly_columns()``, ``difficulty``, ``btc_usd``, ``fees_btc_per_block`` and
        ``subsidy_btc`` (the last two filled in: fees default 0, subsidy from the halving dates).
    folder
        The folder it was read from, if any.
    warnings
        Things worth knowing that did not stop the run (e.g. a coincident-peak interval outside
        the horizon).
    """

    config: ScenarioConfig
    data: pd.DataFrame
    folder: Path | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def timestamps(self) -> pd.DatetimeIndex:
        """Hour starts of the horizon. [UTC]"""
        return self.data.index  # type: ignore[return-value]

    @property
    def hours(self) -> int:
        """Number of hours in the horizon."""
        return len(self.data)

    def local_timestamps(self) -> pd.DatetimeIndex:
        """Hour starts in the site timezone."""
        return self.timestamps.tz_convert(self.config.timezone)

    def series(self, value: float | str) -> np.ndarray:
        """An hourly array for a setting given as a number or a column name."""
        if isinstance(value, str):
            return self.data[value].to_numpy(dtype=float)
        return np.full(self.hours, float(value))

    def with_series(self, **columns: Any) -> "Scenario":
        """A copy with hourly columns replaced or added (validated again), e.g. for a sweep.

        Each value is what :meth:`pandas.DataFrame.assign` takes: an array or Series of one value
        an hour, a scalar, or a function of the current frame, e.g.
        ``sc.with_series(btc_usd=lambda d: 1.2 * d["btc_usd"])``.
        """
        return from_config(self.config, self.data.assign(**columns), folder=self.folder)

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with configuration keys changed (validated again), e.g. for a sweep.

        Keys are top-level config fields (``ppa=...``) or dotted paths into tables and fleets,
        ``"site.import_mw"`` or ``"gpu.tenant-a.contract_usd_per_mw_per_h"``.
        """
        raw = self.config.model_dump(mode="json", exclude_none=True)
        for key, value in changes.items():
            _set_dotted(raw, key.replace("__", "."), value)
        return from_config(raw, self.data, folder=self.folder)


def _set_dotted(raw: dict, key: str, value: Any) -> None:
    """Set ``raw[a][b]...`` from ``"a.b"``; inside a list of tables, a part names a fleet/product."""
    parts = key.split(".")
    node: Any = raw
    for p in parts[:-1]:
        if isinstance(node, list):
            match = [x for x in node if p in (x.get("name"), x.get("product"))]
            if not match:
                raise InputError(Problem(f"no fleet or product named '{p}'", key=key))
            node = match[0]
        else:
            node = node.setdefault(p, {})
    node[parts[-1]] = value


# ----------------------------------------------------------------------------------------
# loading and checking
# ----------------------------------------------------------------------------------------


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _pydantic_problems(err: ValidationError, file: str) -> list[Problem]:
    problems = []
    for e in err.errors(include_url=False):
        key = _loc(tuple(e["loc"]))
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/scenario.md)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if "input" in e and not isinstance(e["input"], (dict, list)) and repr(e["input"]) not in msg:
                msg += f" (got {e['input']!r})"
        problems.append(Problem(msg, file=file, key=key or None))
    return problems


def parse_config(raw: Mapping[str, Any], file: str = SCENARIO_FILE) -> ScenarioConfig:
    """Validate a raw configuration mapping (as read from TOML).

    Raises
    ------
    InputError
        Listing every key that is unknown, missing or out of range.
    """
    try:
        return ScenarioConfig.model_validate(dict(raw))
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, file)) from None


def resolve_machines(config: ScenarioConfig, catalogue: Any, file: str = SCENARIO_FILE) -> ScenarioConfig:
    """Fill in ``capacity_mw`` from ``units`` and ``efficiency_j_per_th`` from ``model``.

    Also checks names: fleet names unique across kinds, products unique.

    Raises
    ------
    InputError
        Listing every unknown machine, wrong-kind machine and duplicate name.
    """
    problems: list[Problem] = []
    new: dict[str, list] = {"asic": [], "gpu": [], "flex": list(config.flex)}
    for kind in ("asic", "gpu"):
        for i, fleet in enumerate(getattr(config, kind)):
            update: dict[str, Any] = {}
            machine = None
            if fleet.model is not None:
                try:
                    machine = catalogue.get(fleet.model, kind)
                except InputError as err:
                    problems += [Problem(p.message, file=file, key=f"{kind}[{i}].model") for p in err.problems]
            if machine is not None:
                if fleet.units is not None:
                    update["capacity_mw"] = fleet.units * machine.power_kw / 1000.0
                if kind == "asic" and fleet.efficiency_j_per_th is None:
                    update["efficiency_j_per_th"] = machine.efficiency_j_per_th
            fleet = fleet.model_copy(update=update)
            if kind == "gpu" and fleet.capacity_mw is not None and fleet.contract_mw > fleet.capacity_mw + 1e-9:
                problems.append(
                    Problem(
                        f"contract_mw ({fleet.contract_mw}) is larger than the fleet's capacity "
                        f"({fleet.capacity_mw:.3f} MW)",
                        file=file,
                        key=f"gpu[{i}].contract_mw",
                    )
                )
            new[kind].append(fleet)
    seen: dict[str, str] = {}
    for kind in ("asic", "gpu", "flex"):
        for i, fleet in enumerate(getattr(config, kind)):
            where = f"{kind}[{i}].name"
            if fleet.name in seen:
                problems.append(
                    Problem(f"fleet name '{fleet.name}' is used twice ({seen[fleet.name]} and {where}): names "
                            "must be unique across all fleets (they name the output columns)", file=file, key=where)
                )
            seen.setdefault(fleet.name, where)
    products = [r.product for r in config.reserve]
    for p in {p for p in products if products.count(p) > 1}:
        problems.append(Problem(f"reserve product '{p}' is listed twice", file=file, key="reserve.product"))
    if problems:
        raise InputError(problems)
    return config.model_copy(update={"asic": tuple(new["asic"]), "gpu": tuple(new["gpu"])})


#: Largest magnitude accepted for any price or revenue per MWh (or per MW-h): about a hundred
#: times the highest price caps of real markets. Beyond it a value is a wrong unit or a
#: corrupted number, and it would wreck the LP's numerics. [$/MWh]
PLAUSIBLE_USD_PER_MWH = 1e6


def check_config(
    config: ScenarioConfig,
    file: str = SCENARIO_FILE,
    index: pd.DatetimeIndex | None = None,
    data: pd.DataFrame | None = None,
) -> list[Problem]:
    """Cheap checks that a resolved configuration can be met at all (no solve).

    Returns every problem found: an SLA that needs more power than the grid connection and PPA
    can bring, a must-take PPA that load plus export cannot absorb, a reserve product that no
    fleet can back, and (given the hours of the data, ``index``) a ``start`` or ``end`` outside
    the hours the data cover. Given the hourly ``data``: a price, a named column or an ASIC
    revenue per MWh beyond :data:`PLAUSIBLE_USD_PER_MWH`, and a difficulty below 1 (Bitcoin's
    minimum), each naming the column and the first hour.
    """
    problems: list[Problem] = []
    if data is not None:
        problems += _check_magnitudes(config, data)
    if isinstance(index, pd.DatetimeIndex) and len(index) and index.tz is not None:
        first, stop = index[0], index[-1] + pd.Timedelta(hours=1)
        span = f"{first.tz_convert('UTC'):%Y-%m-%dT%H:%MZ} .. {stop.tz_convert('UTC'):%Y-%m-%dT%H:%MZ}"
        if config.start is not None and parse_timestamp(config.start) < first:
            problems.append(Problem(f"the horizon starts at {config.start}, before the data, which cover {span}",
                                    file=file, key="start"))
        if config.end is not None and parse_timestamp(config.end) > stop:
            problems.append(Problem(f"the horizon ends at {config.end}, after the data, which cover {span}",
                                    file=file, key="end"))
    supply = config.site.import_mw + config.ppa_mw
    firm_need = 0.0
    for i, g in enumerate(config.gpu):
        need = g.pue * g.availability * g.contract_mw
        firm_need += need
        if need > supply + 1e-9:
            problems.append(
                Problem(
                    f"the SLA of GPU fleet '{g.name}' needs {need:.3f} MW at the meter on average "
                    f"(availability {g.availability} x contract {g.contract_mw} MW x pue {g.pue}), more than "
                    f"import_mw + PPA volume = {supply:.3f} MW can ever supply",
                    file=file,
                    key=f"gpu[{i}].availability",
                )
            )
    if firm_need > supply + 1e-9 and len(config.gpu) > 1:
        problems.append(
            Problem(
                f"the GPU SLAs together need {firm_need:.3f} MW at the meter, more than import_mw + PPA volume = "
                f"{supply:.3f} MW",
                file=file,
                key="site.import_mw",
            )
        )
    if config.ppa is not None:
        max_load = sum(f.pue * f.capacity_mw for _, f in config.fleets())
        if config.ppa.volume_mw > max_load + config.export_mw + 1e-9:
            problems.append(
                Problem(
                    f"the must-take PPA volume ({config.ppa.volume_mw} MW) is more than the site can absorb: "
                    f"all fleets at full load draw {max_load:.3f} MW and export_mw is {config.export_mw} MW",
                    file=file,
                    key="ppa.volume_mw",
                )
            )
    kinds = {k for k, f in config.fleets() if f.capacity_mw > 0}
    for i, r in enumerate(config.reserve):
        if not kinds & set(r.eligible) and r.max_mw > 0:
            problems.append(
                Problem(
                    f"reserve product '{r.product}' can be backed only by {list(r.eligible)} fleets and the "
                    "scenario has none with capacity",
                    file=file,
                    key=f"reserve[{i}].eligible",
                )
            )
    return problems


def _check_magnitudes(config: ScenarioConfig, data: pd.DataFrame) -> list[Problem]:
    """Values no market or network produces: wrong units or corrupted numbers."""
    problems: list[Problem] = []
    idx = data.index

    def at(i: int) -> str:
        t = idx[i]
        return t.strftime("%Y-%m-%dT%H:%MZ") if isinstance(t, pd.Timestamp) and t.tzinfo is not None else str(t)

    for col in config.hourly_columns():
        if col not in data:
            continue
        v = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.abs(v) > PLAUSIBLE_USD_PER_MWH)
        if len(bad):
            problems.append(Problem(
                f"{v[bad[0]]:g} at {at(bad[0])} ({len(bad)} value(s) beyond +-{PLAUSIBLE_USD_PER_MWH:g}) is no "
                "price: a wrong unit or a corrupted number?", column=col))
    if not config.asic or not {"difficulty", "btc_usd"} <= set(data.columns):
        return problems
    d = pd.to_numeric(data["difficulty"], errors="coerce").to_numpy(dtype=float)
    low = np.flatnonzero(d < 1.0)
    if len(low):
        problems.append(Problem(f"{d[low[0]]:g} at {at(low[0])} is below 1, the least difficulty Bitcoin allows",
                                column="difficulty"))
        return problems
    from .bitcoin import asic_revenue_usd_per_mwh, subsidy_btc

    s = (data["subsidy_btc"].to_numpy(dtype=float) if "subsidy_btc" in data
         else subsidy_btc(idx, config.bitcoin.halving_dates) if isinstance(idx, pd.DatetimeIndex) else None)
    f = data["fees_btc_per_block"].to_numpy(dtype=float) if "fees_btc_per_block" in data else 0.0
    p = pd.to_numeric(data["btc_usd"], errors="coerce").to_numpy(dtype=float)
    if s is None or not (np.all(d > 0) and np.all(np.isfinite(p))):
        return problems  # reported elsewhere (_check_frame)
    for fleet in config.asic:
        with np.errstate(over="ignore", invalid="ignore"):
            r = asic_revenue_usd_per_mwh(fleet.efficiency_j_per_th, d, s, f, p)
        bad = np.flatnonzero(~(np.abs(r) <= PLAUSIBLE_USD_PER_MWH))
        if len(bad):
            i = bad[0]
            problems.append(Problem(
                f"ASIC fleet '{fleet.name}' would earn {r[i]:.3g} $/MWh at {at(i)} (difficulty {d[i]:g}, "
                f"btc_usd {p[i]:g}, subsidy + fees {np.broadcast_to(s, d.shape)[i] + np.broadcast_to(f, d.shape)[i]:g} "
                f"BTC): beyond +-{PLAUSIBLE_USD_PER_MWH:g} $/MWh; check those columns for a wrong unit or a "
                "corrupted number", column="difficulty, btc_usd, fees_btc_per_block"))
    return problems


def _complete_bitcoin(config: ScenarioConfig, data: pd.DataFrame) -> pd.DataFrame:
    """Add defaults: fees 0 and the subsidy from the halving schedule."""
    from .bitcoin import subsidy_btc

    if not config.asic:
        return data
    data = data.copy()
    if "fees_btc_per_block" not in data:
        data["fees_btc_per_block"] = 0.0
    if "subsidy_btc" not in data:
        data["subsidy_btc"] = subsidy_btc(data.index, config.bitcoin.halving_dates)
    return data


def _check_frame(config: ScenarioConfig, data: pd.DataFrame, source: str) -> list[Problem]:
    problems: list[Problem] = []
    idx = data.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        return [Problem("the data must be indexed by tz-aware hour starts", file=source)]
    if len(idx) == 0:
        return [Problem("the horizon has no hours", file=source)]
    if len(idx) > 1 and ((idx[1:] - idx[:-1]) != pd.Timedelta(hours=1)).any():
        problems.append(Problem("the hours are not contiguous (one row per hour, no gaps)", file=source))
    need = config.hourly_columns() + config.step_columns()
    for col in need:
        if col not in data:
            problems.append(Problem("column missing", file=source, column=col))
            continue
        vals = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(vals))
        if len(bad):
            problems.append(
                Problem(f"{len(bad)} missing or non-numeric value(s), first at {idx[bad[0]]}", file=source, column=col)
            )
    for col in ("difficulty", "btc_usd"):
        if col in data and config.asic:
            vals = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero(vals <= 0)
            if len(bad):
                problems.append(
                    Problem(f"must be positive, got {vals[bad[0]]} at {idx[bad[0]]}", file=source, column=col)
                )
    return problems


def _horizon_warnings(config: ScenarioConfig, index: pd.DatetimeIndex) -> tuple[str, ...]:
    warnings = []
    if config.coincident_peak is not None:
        for s in config.coincident_peak.intervals:
            if parse_timestamp(s) not in index:
                warnings.append(
                    f"coincident-peak interval {s} is outside the horizon: it counts in n_intervals but adds nothing"
                )
    return tuple(warnings)


def from_config(
    config: Mapping[str, Any] | ScenarioConfig,
    data: pd.DataFrame,
    *,
    catalogue: Any = None,
    folder: Path | None = None,
) -> Scenario:
    """Build a :class:`Scenario` from Python objects rather than a folder.

    Parameters
    ----------
    config
        A mapping with the keys of ``scenario.toml`` (``inputs`` is ignored), or a
        :class:`ScenarioConfig`.
    data
        Hourly inputs indexed by tz-aware hour starts, contiguous: ``price_usd_per_mwh``,
        every column the configuration names, and for ASICs ``difficulty`` and ``btc_usd``
        (optionally ``fees_btc_per_block``, ``subsidy_btc``), already hourly.
    catalogue
        A machine catalogue; default :func:`optimiser.catalogue.load_catalogue`.

    Raises
    ------
    InputError
        Listing every problem.
    """
    if isinstance(config, ScenarioConfig):
        cfg = config
    else:
        cfg = parse_config(config, "config")
    if catalogue is None and any(getattr(f, "model", None) is not None for _, f in cfg.fleets()):
        from .catalogue import load_catalogue

        catalogue = load_catalogue(_catalogue_dir(cfg, folder))
    cfg = resolve_machines(cfg, catalogue, "config")
    problems = _check_frame(cfg, data, "data")
    problems += check_config(cfg, "config", index=data.index if isinstance(data.index, pd.DatetimeIndex) else None,
                             data=data if not problems else None)
    if problems:
        raise InputError(problems)
    data = data.copy()
    data.index = data.index.tz_convert("UTC").rename("timestamp")
    if cfg.start is not None or cfg.end is not None:
        lo = parse_timestamp(cfg.start) if cfg.start else data.index[0]
        hi = parse_timestamp(cfg.end) if cfg.end else data.index[-1] + pd.Timedelta(hours=1)
        data = data.loc[(data.index >= lo) & (data.index < hi)]
        if len(data) == 0:
            raise InputError(Problem("the horizon start..end holds no hour of the data", key="start"))
    keep = cfg.hourly_columns() + cfg.step_columns() + [
        c for c in cfg.optional_step_columns() if c in data
    ]
    extra = [c for c in data.columns if c not in keep]
    data = data[keep + extra].astype({c: float for c in keep})
    data = _complete_bitcoin(cfg, data)
    return Scenario(cfg, data, folder, _horizon_warnings(cfg, data.index))


def _catalogue_dir(cfg: ScenarioConfig, folder: Path | None) -> Path | None:
    if cfg.catalogue is None:
        return None
    p = Path(cfg.catalogue)
    return p if p.is_absolute() or folder is None else folder / p


def read_config(folder: str | Path) -> ScenarioConfig:
    """Read and validate ``scenario.toml`` in ``folder`` (no CSV is read)."""
    folder = Path(folder)
    path = folder / SCENARIO_FILE
    if not folder.is_dir():
        raise InputError(Problem("scenario folder not found", file=str(folder)))
    if not path.is_file():
        raise InputError(Problem("no scenario.toml in the scenario folder", file=str(path)))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(Problem(f"not valid TOML: {err}", file=str(path))) from None
    return parse_config(raw, str(path))


def load_scenario(
    folder: str | Path,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    catalogue: Any = None,
    extra_columns: Sequence[str] = (),
) -> Scenario:
    """Read a scenario folder: ``scenario.toml`` and the CSV files it names.

    Parameters
    ----------
    folder
        The scenario folder.
    start, end
        Override the horizon (inclusive start, exclusive end; ISO 8601 with offsets).
    catalogue
        A machine catalogue; default the one named in the scenario, else ``models/``.
    extra_columns
        Further hourly columns to read from the inputs (checked like the others) and keep in
        ``Scenario.data``, for a user's own constraints or terms (``["carbon_kg_per_mwh"]``).

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        Listing every problem in the configuration and the CSV files at once, each naming the
        file, the line and the column (or the key).
    """
    from .catalogue import load_catalogue
    from .inputs import read_inputs

    folder = Path(folder)
    cfg = read_config(folder)
    file = str(folder / SCENARIO_FILE)
    problems: list[Problem] = []
    if catalogue is None and any(getattr(f, "model", None) is not None for _, f in cfg.fleets()):
        try:
            catalogue = load_catalogue(_catalogue_dir(cfg, folder))
        except InputError as err:
            problems += err.problems
    if not problems:
        try:
            cfg = resolve_machines(cfg, catalogue, file)
        except InputError as err:
            problems += err.problems
    if not cfg.inputs:
        problems.append(Problem("no input files listed", file=file, key="inputs"))
    lo = parse_timestamp(start) if start is not None else (parse_timestamp(cfg.start) if cfg.start else None)
    hi = parse_timestamp(end) if end is not None else (parse_timestamp(cfg.end) if cfg.end else None)
    data = None
    if cfg.inputs:
        try:
            data = read_inputs(
                list(cfg.inputs),
                base_dir=folder,
                hourly_columns=list(dict.fromkeys([*cfg.hourly_columns(), *extra_columns])),
                step_columns=cfg.step_columns(),
                optional_step_columns=cfg.optional_step_columns(),
                start=lo,
                end=hi,
                timezone=cfg.timezone if "timezone" in cfg.model_fields_set else None,
            )
        except InputError as err:
            problems += err.problems
    if not problems:
        problems += check_config(cfg, file, data=data)
        if data is not None and cfg.asic:
            problems += _check_frame(cfg, data, "inputs")
    if problems:
        raise InputError(problems)
    assert data is not None
    data = _complete_bitcoin(cfg, data)
    # the configuration records the horizon actually used (a --start/--end override included),
    # so that Scenario.replace() re-validates against the same hours
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    cfg = cfg.model_copy(update={"start": data.index[0].strftime(fmt),
                                 "end": (data.index[-1] + pd.Timedelta(hours=1)).strftime(fmt)})
    return Scenario(cfg, data, folder, _horizon_warnings(cfg, data.index))


def validate_scenario(folder: str | Path) -> Scenario:
    """All the checks of :func:`load_scenario`; an alias that reads well in scripts."""
    return load_scenario(folder)


def config_to_toml_dict(config: ScenarioConfig) -> dict[str, Any]:
    """The configuration as plain data (for writing back or for the summary)."""
    return config.model_dump(mode="json", exclude_none=True)

