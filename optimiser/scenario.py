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

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI, a dependency there
    import tomli as tomllib

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from .bitcoin import DEFAULT_HALVING_DATES, GENESIS_BLOCK_TIME, KNOWN_HALVING_DATES
from .errors import InputError, Problem
from .inputs import FillRule, ValueRange, format_number
from .markets import ERCOT_FORMATS, InputEntry
from .safety import check_input_file, excerpt

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


class _KeyError(ValueError):
    """A problem a table's validator finds with one of its keys (``key``), named in the error."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def _check_name(v: str) -> str:
    if not _NAME_RE.match(v):
        raise ValueError(
            f"{excerpt(v)} is not a usable name: letters, digits, '_', '-', '.', starting with a letter or digit"
        )
    return v


# ----------------------------------------------------------------------------------------
# plausible ranges (docs/scenario.md, "Ranges")
# ----------------------------------------------------------------------------------------

MAX_MW = 100_000.0
"""Largest power any setting may name: more than any grid connection or fleet on Earth. [MW]"""

PRICE_RANGE_USD_PER_MWH = (-20_000.0, 100_000.0)
"""Energy prices: wider than every market's floor and cap (ERCOT's 5,000 $/MWh offer cap plus
adders, the NEM's cap near 20,000 AUD/MWh, Europe's intraday limits of -9,999 and 9,999 EUR/MWh).
Beyond it a value is a wrong unit or a corrupted number. [$/MWh]"""

PLAUSIBLE_USD_PER_MWH = PRICE_RANGE_USD_PER_MWH[1]

CARBON_MAX_KG_PER_MWH = 5_000.0
"""Largest grid carbon intensity accepted: several times a lignite plant's (~1,100). [kg CO2/MWh]"""
"""Largest magnitude accepted for any price or revenue per MWh (or per MW-h), and for the ASIC
revenue per MWh the Bitcoin columns imply. [$/MWh]"""


def _in_range(lo: float, hi: float, unit: str, *, lo_open: bool = False) -> Any:
    """A validator: the number lies in [lo, hi] (or (lo, hi] with ``lo_open``), else a message
    naming the value, the range and the unit."""

    def check(v: float) -> float:
        if v < lo or v > hi or (lo_open and v == lo):
            low = f"> {format_number(lo)}" if lo_open else f">= {format_number(lo)}"
            raise ValueError(f"{v:g} is out of range: it must be {low} and <= {format_number(hi)} {unit} "
                             "(plausible ranges: docs/scenario.md)")
        return v

    return AfterValidator(check)


def _number(lo: float, hi: float, unit: str, *, lo_open: bool = False) -> Any:
    """A finite number (an integer or a float, never a boolean) in a plausible range."""
    return Annotated[float, Strict(), AllowInfNan(False), _in_range(lo, hi, unit, lo_open=lo_open)]


def _count(lo: int, hi: int, unit: str) -> Any:
    """A whole number (never a boolean or a float) in a plausible range."""
    return Annotated[int, Strict(), _in_range(lo, hi, unit)]


def _number_or_column(lo: float, hi: float, unit: str) -> Any:
    """A finite number in a plausible range, or the name of an input column."""
    in_range = _in_range(lo, hi, unit).func

    def check(v: Any) -> float | str:
        if isinstance(v, bool):
            raise ValueError(f"{str(v).lower()} is a boolean: give a number [{unit}] or a column name")
        if isinstance(v, str):
            v = v.strip()
            if not v:
                raise ValueError("an empty column name")
            return v
        if isinstance(v, (int, float)):
            if not np.isfinite(v):
                raise ValueError(f"{v} is not a finite number")
            return in_range(float(v))
        raise ValueError(f"give a number [{unit}] or a column name, not {type(v).__name__}")

    return Annotated[float | str, PlainValidator(check)]


def _check_column(v: str | None) -> str | None:
    if v is not None and not v.strip():
        raise ValueError("an empty column name")
    return v if v is None else v.strip()


_COLUMN = Annotated[str | None, AfterValidator(_check_column)]
"""An optional input column's name (stripped, not empty)."""

_MW = _number(0.0, MAX_MW, "MW")
_MW_PER_H = _number(0.0, MAX_MW, "MW/h", lo_open=True)
_PRICE = _number(*PRICE_RANGE_USD_PER_MWH, "$/MWh")
_COST_PER_MWH = _number(0.0, 10_000.0, "$/MWh")
_REVENUE_OR_COLUMN = _number_or_column(0.0, PLAUSIBLE_USD_PER_MWH, "$/MWh")
_PRICE_OR_COLUMN = _number_or_column(*PRICE_RANGE_USD_PER_MWH, "$/MWh")
_SHARE = _number(0.0, 1.0, "(a share)")
_PUE = _number(1.0, 3.0, "MW/MW")
_UNITS = _count(0, 100_000_000, "machines")
_J_PER_TH = _number(1.0, 1_000.0, "J/TH")


class Site(_Table):
    """The grid connection at the meter."""

    import_mw: _MW = Field(description="Grid import limit at the meter. [MW]")
    export_mw: _MW | None = Field(
        default=None, description="Sell-back limit; default the PPA volume (0 without a PPA). [MW]"
    )
    metering: Literal["load", "net"] = Field(
        default="load",
        description='What the utility meter bills: "load" (default), the site\'s whole draw (the PPA is '
        'delivered through the grid), or "net", the net import only (the PPA is generation behind the '
        "meter). The energy adder, the demand charge and the coincident peak are billed on it.",
    )
    energy_adder_usd_per_mwh: _COST_PER_MWH = Field(
        default=0.0, description="Transmission/delivery adders paid on each metered MWh. [$/MWh]"
    )
    ramp_mw_per_h: _MW_PER_H | None = Field(
        default=None, description="Limit on the hour-to-hour change of site load. [MW/h]"
    )
    outage_column: _COLUMN = Field(
        default=None, description="A 0/1 column: 1 in hours the grid connection is down (no import, no export, "
        "the PPA not delivered; docs/operations.md). [-]"
    )
    floor_mw: _MW | None = Field(
        default=None, description="Cooled floor: the most IT capacity all fleets together may have, fixed and "
        "chosen (docs/investment.md). [MW]"
    )


class PPA(_Table):
    """A fixed-price, must-take block of power delivered every hour."""

    volume_mw: _MW = Field(description="Power delivered every hour. [MW]")
    price_usd_per_mwh: _PRICE = Field(description="Fixed price paid for it. [$/MWh]")


class CapacityRange(_Table):
    """A capacity the optimiser chooses, ``capacity_mw = { min = 0, max = 200 }``
    (docs/investment.md). [MW]"""

    min: _MW = Field(default=0.0, description="Least capacity to build. [MW]")
    max: _MW = Field(description="Most capacity to build. [MW]")

    @model_validator(mode="after")
    def _order(self) -> "CapacityRange":
        if self.max < self.min:
            raise ValueError(f"max ({self.max:g}) is below min ({self.min:g})")
        return self


_CAPEX = _number(0.0, 1e9, "$/MW")
_FIXED_OM = _number(0.0, 1e8, "$/MW-year")


class _Investable(_Table):
    """What a fleet's (or a battery's) capacity costs to build and keep (docs/investment.md).

    The capacity key (:attr:`capacity_key`: ``capacity_mw`` for fleets, ``power_mw`` for
    batteries) is a number (a fixed capacity) or ``{ min, max }``: a decision of the linear
    program, kept in :attr:`capacity_range`; the key then reads as the most it may be.
    """

    #: the key holding the capacity, a number or ``{ min, max }``
    capacity_key: ClassVar[str] = "capacity_mw"

    capacity_range: CapacityRange | None = Field(
        default=None, description="Set by capacity_mw = { min, max }: the capacity is a decision. [MW]"
    )
    capex_usd_per_mw: _CAPEX = Field(
        default=0.0, description="Investment per MW of IT capacity, charged as an annuity. [$/MW]"
    )
    lifetime_years: _number(0.0, 100.0, "years", lo_open=True) | None = Field(
        default=None, description="Economic life of the investment: the annuity's term. [years]"
    )
    fixed_om_usd_per_mw_year: _FIXED_OM = Field(
        default=0.0, description="Fixed O&M per MW of capacity per year, run or not. [$/MW-year]"
    )

    @model_validator(mode="before")
    @classmethod
    def _range(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        key = cls.capacity_key
        if "capacity_range" in data:
            raise _KeyError("capacity_range", "unknown key: a capacity decision is written "
                            f"{key} = {{ min = 0, max = 200 }}")
        rng = data.get(key)
        if not isinstance(rng, Mapping):
            return cls._derive(data, None)
        try:
            parsed = CapacityRange.model_validate(dict(rng))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise _KeyError(key + (f".{where}" if where else ""),
                            f"a capacity decision is {{ min = <MW>, max = <MW> }}: {first['msg']}") from None
        return cls._derive({**data, key: parsed.max, "capacity_range": parsed}, parsed)

    @classmethod
    def _derive(cls, data: Mapping, rng: CapacityRange | None) -> Mapping:
        """Keys that follow from the capacity (a battery's energy); ``rng`` when it is a decision."""
        return data

    def _derived_keys(self) -> tuple[str, ...]:
        """Keys :meth:`_derive` filled in, left out when the table is written back."""
        return ()

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> Any:
        # written back as the scenario writes it: capacity_mw = { min, max }
        d = handler(self)
        rng = d.pop("capacity_range", None)
        if rng is not None:
            d[self.capacity_key] = rng
        for k in self._derived_keys():
            d.pop(k, None)
        if d.get("contract_share") is not None:  # a GPU contract given as a share: contract_mw follows it
            d.pop("contract_mw", None)
        return d

    @model_validator(mode="after")
    def _annuity(self) -> "_Investable":
        if self.capex_usd_per_mw > 0 and self.lifetime_years is None:
            raise _KeyError("lifetime_years", "capex_usd_per_mw needs lifetime_years (the annuity's term)")
        if self.capacity_range is not None and getattr(self, "availability_column", None) is not None:
            raise _KeyError("availability_column", "a capacity decision (capacity_mw = { min, max }) does not take "
                            "an availability column yet: give a fixed capacity_mw, or leave the column out")
        return self

    @property
    def capacity_is_decision(self) -> bool:
        """True when the linear program chooses the capacity (``capacity_mw = { min, max }``)."""
        return self.capacity_range is not None

    @property
    def fixed_capacity_mw(self) -> float:
        """The capacity key's number: the capacity, or the most it may be when it is a decision. [MW]"""
        return float(getattr(self, self.capacity_key) or 0.0)


class _Fleet(_Investable):
    name: str
    model: str | None = Field(default=None, description="A machine id in the catalogue.")
    capacity_mw: _MW | None = Field(default=None, description="IT power of the fleet; or { min, max }: a "
                                    "decision (docs/investment.md). [MW]")
    units: _UNITS | None = Field(default=None, description="Number of machines (needs `model`). [-]")
    om_usd_per_mwh: _COST_PER_MWH = Field(default=0.0, description="Variable O&M on IT energy. [$/MWh]")
    pue: _PUE = Field(default=1.0, description="Facility MW per IT MW. [-]")
    availability_column: _COLUMN = Field(
        default=None, description="A column of the share (0..1) of the fleet's capacity available each hour "
        "(maintenance, curtailment orders, machines arriving); default 1 (docs/operations.md). [-]"
    )

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

    efficiency_j_per_th: _J_PER_TH | None = Field(
        default=None, description="Energy per terahash; default from `model`. [J/TH]"
    )
    pool_fee: _SHARE = Field(
        default=0.0, description="Share of mining revenue kept by the pool. [-]"
    )

    @field_validator("pool_fee")
    @classmethod
    def _fee_below_one(cls, v: float) -> float:
        if v >= 1.0:
            raise ValueError(f"{v:g} is out of range: a pool fee is a share below 1 (0.02 for 2 %)")
        return v

    @model_validator(mode="after")
    def _efficiency(self) -> "AsicFleet":
        if self.model is None and self.efficiency_j_per_th is None:
            raise ValueError("give 'model' (a catalogue id) or 'efficiency_j_per_th'")
        return self


class SlaTier(_Table):
    """A service-credit tier of a GPU SLA: availability below ``below`` owes ``credit`` of the
    billing period's fee (the lowest tier the availability falls into applies)."""

    below: _number(0.0, 1.0, "(a share)", lo_open=True) = Field(
        description="The tier applies when the period's availability is below this share. [-]"
    )
    credit: _SHARE = Field(description="Credit owed, a share of the billing period's fee. [-]")


class GpuFleet(_Fleet):
    """GPU hosting: a firm contract under an availability SLA, plus spot above it.

    ``availability_basis`` says what availability counts: ``"energy"`` (firm energy delivered
    over contract energy, the default) or ``"time"`` (hours in which the whole contract is
    delivered, over the period's hours: a MIP). ``sla_credit_tiers`` prices availability
    below the SLA with step credits on the period's fee; ``availability`` is then the hard
    floor below every tier (default 0 with tiers: none).
    """

    contract_mw: _MW = Field(description="Firm capacity sold to the tenant; with contract_share, that share of "
                             "the capacity (with a capacity decision, of its most). [MW]")
    contract_share: _SHARE | None = Field(
        default=None, description="The contract as a share of the fleet's capacity instead of contract_mw: it "
        "scales with a capacity decision (docs/investment.md). [-]"
    )
    contract_usd_per_mw_per_h: _number(0.0, PLAUSIBLE_USD_PER_MWH, "$/MW/h") = Field(
        description="Paid per contracted MW per hour, whatever is delivered. [$/MW/h]"
    )
    availability: _SHARE = Field(
        default=1.0, description="Minimum delivered share of contract energy per billing period. [-]"
    )
    billing_period: Literal["month", "year", "horizon"] = "month"
    sla_credit_usd_per_mwh: _number(0.0, 1_000_000.0, "$/MWh") = Field(
        default=0.0, description="Credit owed per MWh of shortfall. [$/MWh]"
    )
    spot_usd_per_mwh: _REVENUE_OR_COLUMN = Field(
        default=0.0, description="Earned on power above contract: a number or a column name. [$/MWh]"
    )
    power_passthrough_usd_per_mwh: _REVENUE_OR_COLUMN = Field(
        default=0.0,
        description="Paid by the tenant for each MWh its fleet draws at the meter, pue x (firm + spot): a "
        "number or a column name (which may follow the energy price below zero); 0: the host pays the "
        "power. [$/MWh]",
    )
    availability_basis: Literal["energy", "time"] = Field(
        default="energy", description='What availability counts: "energy" (MWh delivered) or "time" (hours '
        "delivering the whole contract)."
    )
    sla_credit_tiers: tuple[SlaTier, ...] = Field(
        default=(), description="Service credits, a share of the period's fee, by availability tier."
    )

    @model_validator(mode="before")
    @classmethod
    def _share(cls, data: Any) -> Any:
        # contract_share: the contract is that share of the capacity (resolved here when the
        # capacity is given in MW, from units in resolve_machines)
        if not isinstance(data, Mapping) or data.get("contract_share") is None:
            return data
        if data.get("contract_mw") is not None:
            raise _KeyError("contract_share", "give contract_mw or contract_share, not both")
        share, cap = data["contract_share"], data.get("capacity_mw")
        if isinstance(cap, Mapping):
            cap = cap.get("max")
        if isinstance(share, (int, float)) and not isinstance(share, bool) and isinstance(cap, (int, float)) \
                and not isinstance(cap, bool):
            return {**data, "contract_mw": float(share) * float(cap)}
        return {**data, "contract_mw": 0.0}  # resolved from units later, or the share's own error is named

    @property
    def contract_scales(self) -> bool:
        """True when the contract is a share of a capacity the linear program chooses."""
        return self.capacity_range is not None and self.contract_share is not None

    @model_validator(mode="after")
    def _decision(self) -> "GpuFleet":
        rng = self.capacity_range
        if rng is not None and self.contract_share is None and rng.min < self.contract_mw - 1e-9:
            raise _KeyError("capacity_mw.min", f"a hall with a fixed contract_mw of {self.contract_mw:g} MW needs at "
                            f"least that capacity: give min >= {self.contract_mw:g} (not {rng.min:g}), or "
                            "contract_share to scale the contract with the capacity")
        if self.contract_scales and (self.availability_basis == "time" or self.sla_credit_tiers):
            raise _KeyError("contract_share", "a contract that scales with a capacity decision takes an energy-basis "
                            "SLA without credit tiers (a time basis or tiers with a chosen contract is not linear): "
                            "give contract_mw, or a fixed capacity_mw")
        return self

    @model_validator(mode="before")
    @classmethod
    def _floor_with_tiers(cls, data: Any) -> Any:
        # with credit tiers the SLA is priced, not a hard floor: availability defaults to 0
        if isinstance(data, Mapping) and data.get("sla_credit_tiers") and "availability" not in data:
            data = {**data, "availability": 0.0}
        return data

    @model_validator(mode="after")
    def _contract(self) -> "GpuFleet":
        if self.capacity_mw is not None and self.contract_mw > self.capacity_mw + 1e-9:
            raise ValueError(
                f"contract_mw ({self.contract_mw}) is larger than capacity_mw ({self.capacity_mw})"
            )
        return self

    @model_validator(mode="after")
    def _tiers(self) -> "GpuFleet":
        tiers = self.sla_credit_tiers
        if not tiers:
            return self
        if self.sla_credit_usd_per_mwh:
            raise _KeyError("sla_credit_tiers", "give sla_credit_usd_per_mwh or sla_credit_tiers, not both: both "
                            "are the credit owed on the same shortfall")
        below = [t.below for t in tiers]
        twice = sorted({b for b in below if below.count(b) > 1})
        if twice:
            raise _KeyError("sla_credit_tiers", f"two tiers start below {twice[0]:g}: each tier needs its own "
                            "threshold")
        ordered = sorted(tiers, key=lambda t: -t.below)
        for upper, lower in zip(ordered, ordered[1:]):
            if lower.credit < upper.credit:
                raise _KeyError("sla_credit_tiers", f"the tier below {lower.below:g} owes {lower.credit:g}, less than "
                                f"the tier below {upper.below:g} ({upper.credit:g}): a lower availability owes at "
                                "least as much")
        if self.availability >= ordered[0].below:
            raise _KeyError("availability", f"{self.availability:g} is the hard floor with sla_credit_tiers and must be "
                            f"below the highest tier's threshold ({ordered[0].below:g}), or no tier could ever apply "
                            "(leave availability out for no floor)")
        return self

    @property
    def tiers(self) -> tuple[SlaTier, ...]:
        """The credit tiers that can apply, highest threshold first (a tier whose threshold is at
        or below the floor ``availability`` never applies and is left out)."""
        return tuple(t for t in sorted(self.sla_credit_tiers, key=lambda t: -t.below) if t.below > self.availability)


class FlexLoad(_Investable):
    """Any other interruptible load with a revenue per MWh."""

    name: str
    capacity_mw: _MW = Field(description="IT power; or { min, max }: a decision (docs/investment.md). [MW]")
    revenue_usd_per_mwh: _PRICE_OR_COLUMN = Field(
        description="A number or a column name; may be negative (a load that costs to run may still back "
        "a reserve). [$/MWh]"
    )
    om_usd_per_mwh: _COST_PER_MWH = Field(default=0.0, description="Variable O&M on IT energy. [$/MWh]")
    pue: _PUE = Field(default=1.0, description="Facility MW per IT MW. [-]")
    availability_column: _COLUMN = Field(
        default=None, description="A column of the share (0..1) of the fleet's capacity available each hour "
        "(maintenance, curtailment orders, machines arriving); default 1 (docs/operations.md). [-]"
    )

    _check = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))


class Reserve(_Table):
    """An ancillary-service capacity product sold from interruptible load."""

    product: str
    price_column: str = Field(min_length=1, description="Column holding the capacity price. [$/MW/h]")
    max_mw: _MW = Field(description="Most that may be offered in an hour. [MW]")
    eligible: tuple[FleetKind | Literal["battery"], ...] = Field(
        default=("asic", "flex"), min_length=1, description="Fleet kinds (or batteries) that may back it."
    )

    _check = field_validator("product")(classmethod(lambda cls, v: _check_name(v)))


class Battery(_Investable):
    """A battery behind the meter: charged from the site's power, discharged into it.

    Power is at the meter; the round-trip efficiency is split evenly, ``sqrt(eta)`` on the way
    in and on the way out. At the end of the horizon (or window) the stored energy is either
    back to at least what it started with (``end = "cyclic"``) or valued at
    ``end_value_usd_per_mwh`` (``end = "valued"``; given that value alone implies it).

    ``energy_mwh`` may be given as ``duration_h`` (``energy_mwh = duration_h x power_mw``).
    ``power_mw = { min, max }`` makes the power a decision of the linear program, its energy
    chosen with it (``duration_h`` required, ``energy_mwh`` not given; docs/investment.md);
    ``capex_usd_per_mw`` is then per MW of power, its energy included.
    """

    capacity_key: ClassVar[str] = "power_mw"

    name: str
    power_mw: float = Field(ge=0, allow_inf_nan=False, description="Charge and discharge limit at the meter; "
                            "{ min, max } for a decision (the most it may be). [MW]")
    energy_mwh: float = Field(ge=0, allow_inf_nan=False, description="Energy it stores when full (with a power "
                              "decision: duration_h x the most power). [MWh]")
    duration_h: float | None = Field(
        default=None, gt=0, allow_inf_nan=False,
        description="Hours at full power from full: energy_mwh = duration_h x power_mw (required with a power "
        "decision). [h]",
    )
    capacity_range: CapacityRange | None = Field(
        default=None, description="Set by power_mw = { min, max }: the power (and energy) is a decision. [MW]"
    )
    capex_usd_per_mw: _CAPEX = Field(
        default=0.0, description="Investment per MW of power, its energy included, charged as an annuity. [$/MW]"
    )
    round_trip_efficiency: float = Field(
        gt=0, le=1, description="Energy out per energy in, at the meter; sqrt of it each way. [-]"
    )
    min_soc: float = Field(default=0.0, ge=0, le=1, description="Least stored energy, a share of energy_mwh. [-]")
    max_soc: float = Field(default=1.0, ge=0, le=1, description="Most stored energy, a share of energy_mwh. [-]")
    initial_soc: float = Field(
        default=0.5, ge=0, le=1, description="Stored energy before the first hour, a share of energy_mwh. [-]"
    )
    end: Literal["cyclic", "valued"] | None = Field(
        default=None, description='"cyclic" (default) or "valued" (default when end_value_usd_per_mwh is given).'
    )
    end_value_usd_per_mwh: float | None = Field(
        default=None, allow_inf_nan=False, validate_default=True,
        description="Worth of each MWh stored at the end, with end = 'valued'. [$/MWh]",
    )
    om_usd_per_mwh: float = Field(
        default=0.0, ge=0, allow_inf_nan=False, description="Variable O&M on discharged energy at the meter. [$/MWh]"
    )

    _check = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @classmethod
    def _derive(cls, data: Mapping, rng: CapacityRange | None) -> Mapping:
        """``energy_mwh`` from ``duration_h``: refused with a decision, required otherwise (one of
        the two), and the two must agree when both are given."""
        energy, duration, power = data.get("energy_mwh"), data.get("duration_h"), data.get("power_mw")
        if rng is not None:
            if energy is not None:
                raise _KeyError("energy_mwh", "a power decision (power_mw = { min, max }) chooses the energy with "
                                "the power: give duration_h (energy_mwh = duration_h x power), not energy_mwh")
            if duration is None:
                raise _KeyError("duration_h", "a power decision (power_mw = { min, max }) needs duration_h, the "
                                "hours at full power (energy_mwh = duration_h x power)")
        elif duration is None:
            if energy is None:
                raise _KeyError("energy_mwh", "give energy_mwh, or duration_h (energy_mwh = duration_h x power_mw)")
            return data
        try:
            d, p = float(duration), float(power)
        except (TypeError, ValueError):
            return data  # the fields' own validation names the key
        if energy is not None:
            try:
                e = float(energy)
            except (TypeError, ValueError):
                return data
            if abs(e - d * p) > 1e-9 * max(1.0, abs(e)):
                raise _KeyError("duration_h", f"energy_mwh ({e:g}) is not duration_h x power_mw ({d:g} x {p:g}): "
                                "give one of the two")
            return data
        return {**data, "energy_mwh": d * p}

    def _derived_keys(self) -> tuple[str, ...]:
        # with duration_h the energy follows the power (a sweep that replaces power_mw scales it)
        return ("energy_mwh",) if self.duration_h is not None else ()

    @field_validator("max_soc")
    @classmethod
    def _band(cls, v: float, info: ValidationInfo) -> float:
        low = info.data.get("min_soc")
        if low is not None and v < low:
            raise ValueError(f"max_soc ({v}) is below min_soc ({low})")
        return v

    @field_validator("end_value_usd_per_mwh")
    @classmethod
    def _end(cls, v: float | None, info: ValidationInfo) -> float | None:
        end = info.data.get("end")
        if end == "valued" and v is None:
            raise ValueError('end = "valued" needs end_value_usd_per_mwh')
        if end == "cyclic" and v is not None:
            raise ValueError('end = "cyclic" takes no end value: remove it, or set end = "valued"')
        return v

    @property
    def cyclic(self) -> bool:
        """True when the stored energy must end at least where it started."""
        return self.end_value_usd_per_mwh is None


class ContractPeriod(_Table):
    """A contract period of a capacity product: ``start`` (inclusive) to ``end`` (exclusive),
    ISO 8601 with offsets, whole hours."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hour(cls, v: str) -> str:
        ts = parse_timestamp(v)
        if ts != ts.floor("h"):
            raise ValueError(f"'{v}' is not on a whole hour")
        return v

    @model_validator(mode="after")
    def _order(self) -> "ContractPeriod":
        if parse_timestamp(self.end) <= parse_timestamp(self.start):
            raise _KeyError("end", f"the period ends ({self.end}) at or before it starts ({self.start})")
        return self

    @property
    def bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Start (inclusive) and end (exclusive). [UTC]"""
        return parse_timestamp(self.start), parse_timestamp(self.end)

    @property
    def hours(self) -> int:
        """Hours from start to end. [h]"""
        lo, hi = self.bounds
        return int((hi - lo) / pd.Timedelta(hours=1))

    @property
    def label(self) -> str:
        """The period's name in results: its start, UTC (``"2025-06-01T05:00Z"``)."""
        return self.bounds[0].strftime("%Y-%m-%dT%H:%MZ")


class CapacityProduct(_Table):
    """A contract-period capacity product (e.g. ERCOT's Emergency Response Service): MW committed
    for a contract period, paid ``usd_per_mw`` per MW, backed in every designated hour by
    curtailable load of the ``eligible`` fleet kinds."""

    name: str
    usd_per_mw: _number(0.0, 10_000_000.0, "$/MW") = Field(
        description="Paid per MW committed, for each contract period. [$/MW]"
    )
    max_mw: _MW = Field(description="Most that may be committed in a contract period. [MW]")
    eligible: tuple[FleetKind | Literal["battery"], ...] = Field(
        default=("asic", "flex"), min_length=1, description="Fleet kinds (or batteries) whose load may back it."
    )
    periods: tuple[ContractPeriod, ...] = Field(
        default=(), description="Contract periods; default one, the whole horizon."
    )
    designated_hours_column: str | None = Field(
        default=None, min_length=1, description="Column flagging the designated hours (1) of each period; "
        "default every hour of a period."
    )

    _check = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @model_validator(mode="after")
    def _disjoint(self) -> "CapacityProduct":
        ordered = sorted(self.periods, key=lambda p: p.bounds[0])
        for a, b in zip(ordered, ordered[1:]):
            if b.bounds[0] < a.bounds[1]:
                raise _KeyError("periods", f"the contract periods {a.start} .. {a.end} and {b.start} .. {b.end} "
                                "overlap: an hour belongs to one contract period")
        return self


def _unique_names(table: str, what: str) -> Any:
    """A validator: the tables of a list ``table`` have distinct ``name`` (they name output
    columns); the error names both places."""

    def check(v: tuple) -> tuple:
        names = [x.name for x in v]
        for name in dict.fromkeys(n for n in names if names.count(n) > 1):
            where = " and ".join(f"{table}[{i}]" for i, n in enumerate(names) if n == name)
            raise ValueError(f"{what} name '{name}' is used twice ({where}): names must be unique (they name the "
                             "output columns)")
        return v

    return AfterValidator(check)


class Carbon(_Table):
    """Grid carbon intensity and what the site does with it (docs/operations.md, "Carbon").

    Emissions are counted on the power the site takes: ``intensity[t] x import[t]`` plus
    ``ppa_kg_per_mwh`` on the PPA power used on site. ``basis`` names the intensity the carbon
    price and the cap read; the average intensity attributes emissions (by use, per BTC, per GPU
    MWh), the marginal one values the power handed back (avoided emissions).
    """

    average_column: _COLUMN = Field(default=None, description="Average grid intensity. [kg CO2/MWh]")
    marginal_column: _COLUMN = Field(default=None, description="Marginal grid intensity. [kg CO2/MWh]")
    ppa_kg_per_mwh: _number(0.0, CARBON_MAX_KG_PER_MWH, "kg CO2/MWh") = Field(
        default=0.0, description="Intensity of the PPA's power (0: a wind or solar PPA). [kg CO2/MWh]"
    )
    basis: Literal["average", "marginal"] | None = Field(
        default=None, description='The intensity the price and the cap read: "average" (default when '
        'average_column is given) or "marginal".'
    )
    price_usd_per_t: _number(0.0, 100_000.0, "$/t") = Field(
        default=0.0, description="Carbon price on the site's emissions, a cost stream. [$/t CO2]"
    )
    cap_t: _number(0.0, 1e9, "t") | None = Field(
        default=None, description="Most the site may emit in each cap period. [t CO2]"
    )
    cap_period: Literal["horizon", "year", "month"] = Field(
        default="horizon", description="What the cap is per: the whole horizon, each calendar year or month."
    )

    @model_validator(mode="after")
    def _columns_given(self) -> "Carbon":
        if self.average_column is None and self.marginal_column is None:
            raise ValueError("give average_column or marginal_column (or both)")
        if self.basis is not None and getattr(self, f"{self.basis}_column") is None:
            raise _KeyError("basis", f"basis = \"{self.basis}\" needs {self.basis}_column")
        return self

    @property
    def basis_in_force(self) -> str:
        """``basis``, or by default ``"average"`` when the average column is given, else ``"marginal"``."""
        return self.basis or ("average" if self.average_column is not None else "marginal")

    @property
    def basis_column(self) -> str:
        """The column the price and the cap read."""
        return self.average_column if self.basis_in_force == "average" else self.marginal_column  # type: ignore


class DemandCharge(_Table):
    """A charge on each billing month's peak metered draw (months in the site timezone); a month
    the horizon covers in part pays its share of hours."""

    usd_per_mw_month: _number(0.0, 1_000_000.0, "$/MW-month") = Field(description="[$/MW-month]")


class CoincidentPeak(_Table):
    """A transmission charge on the metered draw during listed system-peak hours (e.g. ERCOT
    4CP): each calendar year (site timezone) its own charge over its own listed intervals."""

    usd_per_mw_year: _number(0.0, 1_000_000.0, "$/MW-year") = Field(
        description="[$/MW-year], each calendar year's split evenly across that year's listed intervals."
    )
    intervals: tuple[str, ...] = Field(min_length=1, description="Hour starts, ISO 8601 with offsets.")

    @field_validator("intervals")
    @classmethod
    def _parse(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            ts = parse_timestamp(s)
            if ts != ts.floor("h"):
                raise ValueError(f"interval '{s}' is not the start of an hour")
        return v


_SAME_HALVING_S = 86_400.0
"""Two halving dates closer than this are the same halving (a date written in local time, or
rounded to the hour, still matches the known one). [s]"""


class BitcoinConfig(_Table):
    """Block-subsidy schedule, used when no `subsidy_btc` column is given.

    ``halving_dates_mode`` says what ``halving_dates`` is: unset, the whole schedule, which must
    then hold every halving that has happened (:data:`~optimiser.bitcoin.KNOWN_HALVING_DATES`);
    ``"add"``, halvings to come, added to the known ones; ``"replace"``, the whole schedule as
    given, past halvings left out on purpose (a counterfactual).
    """

    halving_dates: tuple[str, ...] = DEFAULT_HALVING_DATES
    halving_dates_mode: Literal["add", "replace"] | None = None

    @field_validator("halving_dates")
    @classmethod
    def _parse(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        genesis = parse_timestamp(GENESIS_BLOCK_TIME)
        moments = [parse_timestamp(s) for s in v]
        for s, t in zip(v, moments):
            if t < genesis:
                raise ValueError(f"'{s}' is before Bitcoin's first block ({GENESIS_BLOCK_TIME})")
        for i, (s, t) in enumerate(zip(v, moments)):
            for s2, t2 in zip(v[i + 1:], moments[i + 1:]):
                if abs((t2 - t).total_seconds()) < _SAME_HALVING_S:
                    raise ValueError(f"'{s}' and '{s2}' are the same halving listed twice (the subsidy "
                                     "would be halved twice)")
        return v

    @model_validator(mode="after")
    def _mode(self) -> "BitcoinConfig":
        given = "halving_dates" in self.model_fields_set
        if self.halving_dates_mode is not None and not given:
            raise _KeyError("halving_dates_mode",
                            f"'halving_dates_mode = \"{self.halving_dates_mode}\"' needs 'halving_dates'")
        if not given or self.halving_dates_mode == "replace":
            return self
        listed = [parse_timestamp(s) for s in self.halving_dates]

        def listed_near(known: str) -> str | None:
            t = parse_timestamp(known)
            near = [s for s, u in zip(self.halving_dates, listed) if abs((u - t).total_seconds()) < _SAME_HALVING_S]
            return near[0] if near else None

        if self.halving_dates_mode == "add":
            twice = [(k, listed_near(k)) for k in KNOWN_HALVING_DATES if listed_near(k) is not None]
            if twice:
                raise _KeyError(
                    "halving_dates",
                    "with halving_dates_mode = \"add\" the dates are added to the known halvings, and "
                    + ", ".join(f"'{s}'" for _, s in twice) + " is already one of them ("
                    + ", ".join(k for k, _ in twice) + "): it would halve the subsidy twice")
            return self
        omitted = [k for k in KNOWN_HALVING_DATES if listed_near(k) is None]
        if omitted:
            raise _KeyError(
                "halving_dates",
                f"the list leaves out the past halving{'s' if len(omitted) > 1 else ''} of {', '.join(omitted)}, "
                f"so the subsidy would be {2 ** len(omitted)} times too large. List every halving, or set "
                "halving_dates_mode = \"add\" (the dates listed are added to the past halvings) or "
                "\"replace\" (the list is the whole schedule, on purpose)")
        return self

    @property
    def schedule(self) -> tuple[str, ...]:
        """The halving moments in force: the known ones plus the list (mode ``add``), else the list. [UTC]"""
        if self.halving_dates_mode == "add":
            return KNOWN_HALVING_DATES + tuple(self.halving_dates)
        return self.halving_dates


class ScenarioConfig(_Table):
    """The whole of ``scenario.toml``."""

    name: str = "scenario"
    timezone: str = "UTC"
    start: str | None = None
    end: str | None = None
    inputs: tuple[InputEntry, ...] = ()  # a file name, or a table {file, format, ...}: see markets.InputSpec
    catalogue: str | None = Field(default=None, description="Folder of machine files; default models/.")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Column read -> its name in an input file: read a standard file's column under "
        "another name.",
    )
    fill: dict[str, FillRule] = Field(
        default_factory=dict, description="Column read -> how its gaps are filled (see FillRule)."
    )
    site: Site
    ppa: PPA | None = None
    asic: tuple[AsicFleet, ...] = ()
    gpu: tuple[GpuFleet, ...] = ()
    flex: tuple[FlexLoad, ...] = ()
    reserve: tuple[Reserve, ...] = ()
    battery: Annotated[tuple[Battery, ...], _unique_names("battery", "battery")] = ()
    capacity_product: Annotated[tuple[CapacityProduct, ...], _unique_names("capacity_product", "capacity product")] = ()
    demand_charge: DemandCharge | None = None
    coincident_peak: CoincidentPeak | None = None
    carbon: Carbon | None = None
    bitcoin: BitcoinConfig = BitcoinConfig()
    discount_rate: _number(0.0, 1.0, "(a share a year)") | None = Field(
        default=None, description="Real discount rate of the capacity annuities and the NPV (docs/investment.md). "
        "[1/year]"
    )

    @model_validator(mode="after")
    def _investment(self) -> "ScenarioConfig":
        kinds = [("asic", f) for f in self.asic] + [("gpu", f) for f in self.gpu] + [("flex", f) for f in self.flex]
        if self.discount_rate is None:
            for kind, f in kinds + [("battery", b) for b in self.battery]:
                if f.capex_usd_per_mw > 0:
                    what = "battery" if kind == "battery" else f"{kind} fleet"
                    raise _KeyError("discount_rate", f"{what} '{f.name}' has capex_usd_per_mw: give the "
                                    "scenario's discount_rate (e.g. 0.08) for its annuity")
        fleet_names = {f.name for _, f in kinds}
        for i, b in enumerate(self.battery):
            if b.name in fleet_names and (b.capacity_is_decision or b.capex_usd_per_mw > 0
                                          or b.fixed_om_usd_per_mw_year > 0):
                raise _KeyError(f"battery[{i}].name", f"battery '{b.name}' has the name of a fleet: a battery with "
                                "a power decision or capital charges is reported by name beside the fleets "
                                "(summary.json capacity_mw), so give it its own name")
        if self.site.outage_column is not None:
            for f in self.gpu:
                if f.contract_scales:
                    raise _KeyError("site.outage_column", f"GPU fleet '{f.name}' has a contract that scales with a "
                                    "capacity decision, which does not take a grid outage column yet")
        if self.site.floor_mw is not None:
            fixed = sum(f.capacity_range.min if f.capacity_is_decision else (f.capacity_mw or 0.0) for _, f in kinds)
            if fixed > self.site.floor_mw + 1e-9:
                raise _KeyError("site.floor_mw", f"the fleets' fixed and least capacities add up to {fixed:g} MW, more "
                                f"than the cooled floor ({self.site.floor_mw:g} MW)")
        return self

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: dict[str, str]) -> dict[str, str]:
        for k, name in v.items():
            if not k.strip() or not name.strip():
                raise ValueError("a column name is empty")
        return {k.strip(): name.strip() for k, name in v.items()}

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{excerpt(v)} is not an IANA time zone name (e.g. 'America/Chicago')") from None
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
            for v in (g.spot_usd_per_mwh, g.power_passthrough_usd_per_mwh):
                if isinstance(v, str):
                    cols.append(v)
        for f in self.flex:
            if isinstance(f.revenue_usd_per_mwh, str):
                cols.append(f.revenue_usd_per_mwh)
        cols += [r.price_column for r in self.reserve]
        cols += [p.designated_hours_column for p in self.capacity_product if p.designated_hours_column]
        cols += self.operations_columns()
        return list(dict.fromkeys(cols))

    def operations_columns(self) -> list[str]:
        """The optional columns of operations (docs/operations.md): fleets' availability, the grid
        outage and the carbon intensities."""
        cols = [f.availability_column for _, f in self.fleets() if f.availability_column is not None]
        if self.site.outage_column is not None:
            cols.append(self.site.outage_column)
        if self.carbon is not None:
            cols += [c for c in (self.carbon.average_column, self.carbon.marginal_column) if c is not None]
        return cols

    def step_columns(self) -> list[str]:
        """Step series the scenario needs (the Bitcoin economics, when there are ASICs)."""
        return ["difficulty", "btc_usd"] if self.asic else []

    def optional_step_columns(self) -> list[str]:
        """Step series used when present."""
        return ["fees_btc_per_block", "subsidy_btc"] if self.asic else []

    def column_ranges(self) -> dict[str, ValueRange]:
        """The plausible range of every column the scenario reads (docs/scenario.md, "Ranges").

        Energy prices, flex revenues and GPU power pass-through prices may be negative; a GPU
        spot price, a capacity price, fees and the subsidy may not; the Bitcoin price is positive
        and the difficulty at least 1. A column given two roles keeps the stricter range.
        """
        out: dict[str, ValueRange] = {}
        revenue = ValueRange(0.0, PLAUSIBLE_USD_PER_MWH, "$/MWh",
                             "a revenue per MWh is not negative, nor beyond any market's price cap")
        for g in self.gpu:
            if isinstance(g.spot_usd_per_mwh, str):
                out[g.spot_usd_per_mwh] = revenue
        for g in self.gpu:  # a pass-through indexed to the energy price follows it below zero
            if isinstance(g.power_passthrough_usd_per_mwh, str):
                out.setdefault(g.power_passthrough_usd_per_mwh, ValueRange(
                    *PRICE_RANGE_USD_PER_MWH, "$/MWh", "beyond every market's floor and cap"))
        for f in self.flex:
            if isinstance(f.revenue_usd_per_mwh, str):  # may be negative: a load that costs to run
                out[f.revenue_usd_per_mwh] = ValueRange(  # may still back a reserve
                    *PRICE_RANGE_USD_PER_MWH, "$/MWh", "beyond every market's floor and cap")
        for r in self.reserve:
            out[r.price_column] = ValueRange(0.0, PLAUSIBLE_USD_PER_MWH, "$/MW/h",
                                             "a capacity price is not negative, nor beyond any market's cap")
        for p in self.capacity_product:
            if p.designated_hours_column:
                out[p.designated_hours_column] = ValueRange(0.0, 1.0, "", "1 flags a designated hour, 0 any other")
        out["price_usd_per_mwh"] = ValueRange(
            *PRICE_RANGE_USD_PER_MWH, "$/MWh",
            "beyond every market's floor and cap: a wrong unit or a corrupted number?")
        for _, f in self.fleets():
            if f.availability_column is not None:
                out.setdefault(f.availability_column, ValueRange(
                    0.0, 1.0, "", "an availability is a share of the fleet's capacity, 0 .. 1"))
        if self.site.outage_column is not None:
            out.setdefault(self.site.outage_column, ValueRange(0.0, 1.0, "", "a grid outage is 0 or 1"))
        if self.carbon is not None:
            for c in (self.carbon.average_column, self.carbon.marginal_column):
                if c is not None:
                    out.setdefault(c, ValueRange(0.0, CARBON_MAX_KG_PER_MWH, "kg CO2/MWh",
                                                 "a grid's carbon intensity is not negative, nor beyond "
                                                 "several times a lignite plant's"))
        if self.asic:
            out["difficulty"] = ValueRange(1.0, np.inf, "", "the least difficulty Bitcoin allows is 1")
            out["btc_usd"] = ValueRange(0.0, np.inf, "$/BTC", "a price of Bitcoin must be positive", lo_open=True)
            out["fees_btc_per_block"] = ValueRange(
                0.0, 50.0, "BTC/block", "fees per block are not negative, and more than 50 BTC a block is a "
                "wrong unit (BTC a day?)")
            out["subsidy_btc"] = ValueRange(0.0, 50.0, "BTC/block",
                                            "the block subsidy is 50 BTC halved at every halving")
        return out


class HourlyInputs:
    """What a scenario and a window of it share: reading hourly inputs from ``data`` (indexed by
    hour start, UTC) with the site's ``config``."""

    data: pd.DataFrame
    config: Any

    @property
    def timestamps(self) -> pd.DatetimeIndex:
        """Hour starts. [UTC]"""
        return self.data.index  # type: ignore[return-value]

    def local_timestamps(self) -> pd.DatetimeIndex:
        """Hour starts in the site timezone."""
        return self.timestamps.tz_convert(self.config.timezone)

    def series(self, value: float | str) -> np.ndarray:
        """An hourly array for a setting given as a number or a column name."""
        if isinstance(value, str):
            return self.data[value].to_numpy(dtype=float)
        return np.full(len(self.data), float(value))


@dataclass(frozen=True)
class Scenario(HourlyInputs):
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
    catalogue: Any = field(default=None, compare=False, repr=False)
    """The machine catalogue the configuration was resolved with (reused by :meth:`with_series`
    and :meth:`replace`, which need not read it again)."""

    @property
    def hours(self) -> int:
        """Number of hours in the horizon."""
        return len(self.data)

    def with_series(self, **columns: Any) -> "Scenario":
        """A copy with hourly columns replaced or added (validated again), e.g. for a sweep.

        Each value is what :meth:`pandas.DataFrame.assign` takes: an array or Series of one value
        an hour, a scalar, or a function of the current frame, e.g.
        ``sc.with_series(btc_usd=lambda d: 1.2 * d["btc_usd"])``. The warnings about the inputs
        (filled gaps, mapped columns) are kept, except those about a column replaced.
        """
        new = from_config(self.config, self.data.assign(**columns), folder=self.folder, catalogue=self.catalogue)
        return self._keep_input_warnings(new, replaced=columns)

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with configuration keys changed (validated again), e.g. for a sweep.

        Keys are top-level config fields (``ppa=...``) or dotted paths into tables and fleets,
        ``"site.import_mw"`` or ``"gpu.tenant-a.contract_usd_per_mw_per_h"``. The warnings about
        the inputs (filled gaps, mapped columns) are kept.
        """
        raw = self.config.model_dump(mode="json", exclude_none=True)
        for key, value in changes.items():
            _set_dotted(raw, key.replace("__", "."), value)
        return self._keep_input_warnings(from_config(raw, self.data, folder=self.folder, catalogue=self.catalogue))

    def _keep_input_warnings(self, new: "Scenario", replaced: Mapping[str, Any] = {}) -> "Scenario":
        """``new`` with this scenario's warnings about its data (those the configuration does not
        make again), less those naming a column in ``replaced``."""
        own = set(_config_warnings(self.config, self.data))
        kept = tuple(w for w in self.warnings
                     if w not in own and not any(f"'{c}'" in w for c in replaced))
        return dataclasses.replace(new, warnings=kept + new.warnings)


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
        given = e.get("input")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/scenario.md)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] in ("float_type", "int_type") and isinstance(given, bool):
            msg = f"{str(given).lower()} is a boolean, not a number"
        elif e["type"] in ("float_type", "int_type") and isinstance(given, str):
            msg = f"{given!r} is text, not a number (write it without quotes)"
        elif e["type"] == "int_type" and isinstance(given, float):
            msg = f"{given:g} is not a whole number"
        elif e["type"] == "finite_number":
            msg = f"{given} is not a finite number"
        else:
            msg = e["msg"].removeprefix("Value error, ")
            error = (e.get("ctx") or {}).get("error")
            if isinstance(error, _KeyError):
                key = f"{key}.{error.key}" if key else error.key
            if ("input" in e and not isinstance(e["input"], (dict, list)) and repr(e["input"]) not in msg
                    and "out of range" not in msg and "is a boolean" not in msg):
                msg += f" (got {excerpt(e['input'])})"
        problems.append(Problem(msg, file=file, key=key or None))
    return problems


def parse_config(raw: Mapping[str, Any], file: str = SCENARIO_FILE) -> ScenarioConfig:
    """Validate a raw configuration mapping (as read from TOML).

    Raises
    ------
    InputError
        Listing every key that is unknown, missing, of the wrong type (a boolean is not a
        number), not finite or out of its plausible range, and every column given two roles.
    """
    problems = _role_problems(raw, file)
    try:
        cfg = ScenarioConfig.model_validate(dict(raw))
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, file) + problems) from None
    if problems:
        raise InputError(problems)
    return cfg


_TIME_COLUMN = "timestamp"

_BITCOIN_COLUMNS: dict[str, str] = {
    "difficulty": "the network difficulty",
    "btc_usd": "the price of Bitcoin",
    "fees_btc_per_block": "the fees per block",
    "subsidy_btc": "the block subsidy",
}
"""The contract's Bitcoin columns: step series, each with its one role."""


def _named_columns(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every column the raw configuration names, as ``(key, column)``: GPU spot prices, flex
    revenues, reserve prices and ERCOT inputs' columns (malformed tables are skipped: the
    validation reports them)."""

    def tables(name: str) -> list[tuple[int, Mapping[str, Any]]]:
        v = raw.get(name)
        items = v if isinstance(v, (list, tuple)) else []
        return [(i, t) for i, t in enumerate(items) if isinstance(t, Mapping)]

    out = []
    for kind, key in (("gpu", "spot_usd_per_mwh"), ("gpu", "power_passthrough_usd_per_mwh"),
                      ("flex", "revenue_usd_per_mwh"), ("reserve", "price_column"),
                      ("capacity_product", "designated_hours_column"), ("inputs", "column"),
                      ("asic", "availability_column"), ("gpu", "availability_column"),
                      ("flex", "availability_column")):
        for i, t in tables(kind):
            if isinstance(t.get(key), str) and (kind != "inputs" or t.get("format") in ERCOT_FORMATS):
                out.append((f"{kind}[{i}].{key}", t[key].strip()))
    for table, key in (("site", "outage_column"), ("carbon", "average_column"), ("carbon", "marginal_column")):
        t = raw.get(table)
        if isinstance(t, Mapping) and isinstance(t.get(key), str):
            out.append((f"{table}.{key}", t[key].strip()))
    return out


def _role_problems(raw: Mapping[str, Any], file: str) -> list[Problem]:
    """Columns given two roles: a named column that is the time column or one of the Bitcoin
    columns, and ``[columns]`` mappings that read one file column as two columns. Each problem
    names both keys (or the key and the contract column)."""
    problems: list[Problem] = []
    named = _named_columns(raw)
    for key, col in named:
        if col == _TIME_COLUMN:
            problems.append(Problem(f"names the time column '{col}'; name a column of values", file=file, key=key))
        elif col in _BITCOIN_COLUMNS:
            problems.append(Problem(
                f"names the column '{col}', which is {_BITCOIN_COLUMNS[col]} (a contract column: a step series "
                "carried forward for the ASIC revenue); a column has one role, so name another (or read "
                "another file column under a new name with [columns])", file=file, key=key))
    mapping = raw.get("columns")
    if not isinstance(mapping, Mapping):
        return problems
    pairs = [(k.strip(), v.strip()) for k, v in mapping.items() if isinstance(k, str) and isinstance(v, str)]
    mapped = {k for k, _ in pairs}
    itself: dict[str, str] = {c: f"the contract column '{c}'" for c in ["price_usd_per_mwh", *_BITCOIN_COLUMNS]}
    itself |= {col: f"key '{key}'" for key, col in named}
    itself = {c: who for c, who in itself.items() if c not in mapped}  # a mapped column is read from elsewhere
    seen: dict[str, str] = {}
    for k, v in pairs:
        key = f"columns.{k}"
        if _TIME_COLUMN in (k, v):
            problems.append(Problem(f"the time column '{_TIME_COLUMN}' cannot be mapped", file=file, key=key))
        elif v in seen:
            problems.append(Problem(f"maps the file column '{v}', which key '{seen[v]}' maps too: one file column "
                                    "cannot be read as two columns", file=file, key=key))
        elif v != k and v in itself:
            problems.append(Problem(f"maps the file column '{v}' onto '{k}', but '{v}' is read as itself "
                                    f"({itself[v]}): a column has one role", file=file, key=key))
        seen.setdefault(v, key)
    return problems


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
                    if kind == "gpu" and fleet.contract_share is not None:
                        update["contract_mw"] = fleet.contract_share * update["capacity_mw"]
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
        problems += _check_outage(config, data)
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
        # a contract that scales with a capacity decision needs what its least capacity asks
        contract = g.contract_share * g.capacity_range.min if g.contract_scales else g.contract_mw
        need = g.pue * g.availability * contract
        firm_need += need
        if need > supply + 1e-9:
            problems.append(
                Problem(
                    f"the SLA of GPU fleet '{g.name}' needs {need:.3f} MW at the meter on average "
                    f"(availability {g.availability} x contract {contract} MW x pue {g.pue}), more than "
                    f"import_mw + PPA volume = {supply:.3f} MW can ever supply",
                    file=file,
                    key=f"gpu[{i}].availability",
                )
            )
        elif g.availability_basis == "time" and g.availability > 0 and g.pue * g.contract_mw > supply + 1e-9:
            problems.append(Problem(
                f"the SLA of GPU fleet '{g.name}' counts time: an hour counts only when the whole contract "
                f"({g.contract_mw} MW x pue {g.pue} = {g.pue * g.contract_mw:.3f} MW at the meter) is delivered, "
                f"more than import_mw + PPA volume = {supply:.3f} MW can ever supply", file=file,
                key=f"gpu[{i}].availability_basis"))
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
    kinds = {k for k, f in config.fleets() if f.capacity_mw > 0} | {"battery" for b in config.battery if b.power_mw > 0}
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
    for i, p in enumerate(config.capacity_product):
        if not kinds & set(p.eligible) and p.max_mw > 0:
            problems.append(Problem(f"capacity product '{p.name}' can be backed only by {list(p.eligible)} and the "
                                    "scenario has none with capacity", file=file, key=f"capacity_product[{i}].eligible"))
        col = p.designated_hours_column
        if data is not None and col and col in data:
            v = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero(np.isfinite(v) & (v != 0) & (v != 1))
            if len(bad):
                problems.append(Problem(f"{v[bad[0]]:g} at {data.index[bad[0]]} is neither 0 nor 1: the column flags "
                                        f"the designated hours of capacity product '{p.name}'", column=col))
    return problems


def _check_magnitudes(config: ScenarioConfig, data: pd.DataFrame) -> list[Problem]:
    """Values no market or network produces: wrong units or corrupted numbers (each column
    against :meth:`ScenarioConfig.column_ranges`, then the ASIC revenue they imply)."""
    problems: list[Problem] = []
    idx = data.index

    def at(i: int) -> str:
        t = idx[i]
        return t.strftime("%Y-%m-%dT%H:%MZ") if isinstance(t, pd.Timestamp) and t.tzinfo is not None else str(t)

    for col, value_range in config.column_ranges().items():
        if col not in data:
            continue
        v = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(value_range.bad(v))
        if len(bad):
            more = f" ({len(bad)} values out of range)" if len(bad) > 1 else ""
            problems.append(Problem(value_range.describe(float(v[bad[0]]), at(bad[0])) + more, column=col))
    if problems or not config.asic or not {"difficulty", "btc_usd"} <= set(data.columns):
        return problems
    d = pd.to_numeric(data["difficulty"], errors="coerce").to_numpy(dtype=float)
    from .bitcoin import asic_revenue_usd_per_mwh, subsidy_btc

    s = (data["subsidy_btc"].to_numpy(dtype=float) if "subsidy_btc" in data
         else subsidy_btc(idx, config.bitcoin.schedule) if isinstance(idx, pd.DatetimeIndex) else None)
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


def _check_outage(config: ScenarioConfig, data: pd.DataFrame) -> list[Problem]:
    """The grid-outage column holds 0 (connected) or 1 (down) only."""
    col = config.site.outage_column
    if col is None or col not in data:
        return []
    v = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isfinite(v) & (v != 0.0) & (v != 1.0))
    if not len(bad):
        return []
    at = data.index[bad[0]]
    at = at.strftime("%Y-%m-%dT%H:%MZ") if isinstance(at, pd.Timestamp) else str(at)
    return [Problem(f"{v[bad[0]]:g} at {at} is not 0 or 1: a grid outage column says 1 in the "
                    f"hours the connection is down, 0 otherwise ({len(bad)} such values)", column=col,
                    key="site.outage_column")]


def _complete_bitcoin(config: ScenarioConfig, data: pd.DataFrame) -> pd.DataFrame:
    """Add defaults: fees 0 and the subsidy from the halving schedule."""
    from .bitcoin import subsidy_btc

    if not config.asic:
        return data
    data = data.copy()
    if "fees_btc_per_block" not in data:
        data["fees_btc_per_block"] = 0.0
    if "subsidy_btc" not in data:
        data["subsidy_btc"] = subsidy_btc(data.index, config.bitcoin.schedule)
    return data


def _halving_warnings(config: ScenarioConfig, data: pd.DataFrame) -> tuple[str, ...]:
    """With ``halving_dates_mode = "replace"``: where the subsidy used departs from the known
    halvings (a counterfactual is stated in the results, not left to be noticed)."""
    from .bitcoin import DEFAULT_HALVING_DATES, subsidy_btc

    if not config.asic or config.bitcoin.halving_dates_mode != "replace" or "subsidy_btc" not in data:
        return ()
    used = data["subsidy_btc"].to_numpy(dtype=float)
    if not np.array_equal(used, subsidy_btc(data.index, config.bitcoin.schedule)):
        return ()  # the subsidy comes from an input column
    known = subsidy_btc(data.index, DEFAULT_HALVING_DATES)
    differ = np.flatnonzero(used != known)
    if not len(differ):
        return ()
    i = differ[0]
    return (f"bitcoin.halving_dates_mode = \"replace\": the block subsidy is {used[i]:g} BTC at "
            f"{data.index[i]:%Y-%m-%dT%H:%MZ} ({len(differ)} hours differ), where the known halvings give "
            f"{known[i]:g} BTC",)


def _config_warnings(config: ScenarioConfig, data: pd.DataFrame) -> tuple[str, ...]:
    """The warnings the configuration makes about the hours (made again by every copy)."""
    return _horizon_warnings(config, data.index) + _halving_warnings(config, data) + _capacity_warnings(config, data)


def _capacity_warnings(config: ScenarioConfig, data: pd.DataFrame) -> tuple[str, ...]:
    """A contract period of a capacity product holding no designated hour of the horizon: a
    commitment there is paid and never called on."""
    out = []
    idx = data.index
    for p in config.capacity_product:
        col = p.designated_hours_column
        if not col or col not in data or not len(idx):
            continue
        flag = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float) == 1
        spans = [(c.bounds, f"the contract period {c.start} .. {c.end}") for c in p.periods] or [
            ((idx[0], idx[-1] + pd.Timedelta(hours=1)), "the horizon")]
        for (lo, hi), what in spans:
            inside = (idx >= lo) & (idx < hi)
            if inside.any() and not flag[inside].any():
                out.append(f"capacity product '{p.name}': column '{col}' flags no designated hour in {what} within "
                           "the horizon: a commitment there is paid and never tested")
    return tuple(out)


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
        cp = config.coincident_peak
        years = [parse_timestamp(s).tz_convert(config.timezone).year for s in cp.intervals]
        for s, y in zip(cp.intervals, years):
            if parse_timestamp(s) not in index:
                warnings.append(
                    f"coincident-peak interval {s} is outside the horizon: it adds nothing, and still counts in "
                    f"n_y, the {years.count(y)} listed in {y} (each bills 1/{years.count(y)} of that year's rate)"
                )
    if len(index):
        first, stop = index[0], index[-1] + pd.Timedelta(hours=1)
        for p in config.capacity_product:
            for c in p.periods:
                lo, hi = c.bounds
                inside = (min(hi, stop) - max(lo, first)) / pd.Timedelta(hours=1)
                if inside <= 0:
                    warnings.append(f"capacity product '{p.name}': the contract period {c.start} .. {c.end} is outside "
                                    "the horizon: nothing is committed or paid for it")
                elif inside < c.hours:
                    warnings.append(f"capacity product '{p.name}': the horizon holds {inside:g} of the {c.hours} hours "
                                    f"of the contract period {c.start} .. {c.end}: it is paid that share of "
                                    "usd_per_mw per MW committed")
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
    return Scenario(cfg, data, folder, _config_warnings(cfg, data), catalogue)


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
    check_input_file(path)  # a folder, a FIFO, a link to a device or a huge file is not read
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
        Override the horizon (inclusive start, exclusive end): a date (``2025-03-02``) or a
        local time (``2025-03-02T06:00``), both in the scenario's time zone, or a time with
        an offset (see :func:`optimiser.times.parse_bound`).
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
    from .times import horizon_bounds

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
    lo, hi = horizon_bounds(start, end, cfg.timezone, default=(cfg.start, cfg.end))  # dates, local times too
    data = None
    notes: list[str] = []
    if cfg.inputs:
        step = cfg.step_columns() + cfg.optional_step_columns()
        extra = [c for c in extra_columns if c not in step]  # a Bitcoin column is read in its own role
        if _TIME_COLUMN in extra:
            problems.append(Problem(f"'{_TIME_COLUMN}' is the time column, not a column of values",
                                    key="extra_columns"))
            extra.remove(_TIME_COLUMN)
        try:
            data = read_inputs(
                list(cfg.inputs),
                base_dir=folder,
                hourly_columns=list(dict.fromkeys([*cfg.hourly_columns(), *extra])),
                step_columns=cfg.step_columns(),
                optional_step_columns=cfg.optional_step_columns(),
                start=lo,
                end=hi,
                timezone=cfg.timezone if "timezone" in cfg.model_fields_set else None,
                rename=cfg.columns,
                fill=cfg.fill,
                ranges=cfg.column_ranges(),
                notes=notes,
            )
        except InputError as err:
            problems += [_with_file(p, file) for p in err.problems]
    if data is not None and cfg.asic and "subsidy_btc" in data and "halving_dates" in cfg.bitcoin.model_fields_set:
        problems.append(Problem(
            "the inputs give a subsidy_btc column, which the ASIC revenue uses instead of the halving dates: "
            "remove [bitcoin].halving_dates, or the column", file=file, key="bitcoin.halving_dates"))
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
    return Scenario(cfg, data, folder, tuple(notes) + _config_warnings(cfg, data), catalogue)


def _with_file(problem: Problem, file: str) -> Problem:
    """A problem about a scenario key (``columns.x``, ``fill.x``) found while reading the inputs,
    named in ``scenario.toml`` when it names no file of its own."""
    if problem.key is not None and problem.file is None and problem.key.split(".")[0] in ("columns", "fill"):
        return Problem(problem.message, file=file, row=problem.row, column=problem.column, key=problem.key)
    return problem


def validate_scenario(folder: str | Path) -> Scenario:
    """All the checks of :func:`load_scenario`; an alias that reads well in scripts."""
    return load_scenario(folder)


def config_to_toml_dict(config: ScenarioConfig) -> dict[str, Any]:
    """The configuration as plain data (for writing back or for the summary); empty
    ``[columns]`` and ``[fill]`` tables are left out."""
    doc = config.model_dump(mode="json", exclude_none=True)
    for key in ("columns", "fill"):
        if not doc.get(key):
            doc.pop(key, None)
    return doc

