"""The explicit inputs of a model: which hours it covers and what it inherits from before them.

A component models the hours and the state it is given, never a global scenario: it reads its
inputs from a :class:`Window` (hours ``start..stop-1`` of a scenario) and starts from a
:class:`State` (the previous hour's load for the ramp, the SLA downtime already used in each
billing period, the month-to-date peak, a battery's charge). After a solve, every component
hands its part of the state on (``handover``), so a rolling horizon or a day-by-day operation
chains windows: see :func:`optimiser.model.state_after`.

A :class:`Window` reads like a :class:`~optimiser.scenario.Scenario` (``config``, ``data``,
``timestamps``, ``hours``, ``series``, ``local_timestamps``, ``warnings``), restricted to its hours.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..scenario import HourlyInputs, Scenario


def _frozen(d: Mapping | None) -> Mapping:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class State:
    """What a window inherits from the hours before it (all optional; empty: a fresh start).

    Attributes
    ----------
    load_mw
        Site load at the meter in the hour before the window; the ramp limit then also holds
        between that hour and the window's first. [MW]
    sla_shortfall_mwh
        Firm GPU energy already short of contract, by ``(fleet, billing period)``: it uses up
        that period's downtime budget. [MWh]
    peak_mw
        Highest metered draw so far in each billing month (``"2025-07"``; the load, or the
        import under net metering): the demand charge is owed on it already, so the window pays
        only for a higher peak. [MW]
    soc_mwh
        Stored energy of each battery at the start of the window. [MWh]
    sla_down_hours
        Hours a GPU fleet whose SLA counts time (``availability_basis = "time"``) already failed
        to deliver its whole contract, by ``(fleet, billing period)``: they use up that
        period's downtime budget in hours. [h]
    capacity_mw
        MW already committed to a capacity product for a contract period, by ``(product,
        period)``: the window keeps that commitment. [MW]
    emissions_kg
        Emissions so far in each carbon-cap period (``"horizon"``, ``"2025"``, ``"2025-07"``): the
        window may emit only what is left of the cap (:class:`~optimiser.model.carbon.Carbon`). [kg CO2]
    """

    load_mw: float | None = None
    sla_shortfall_mwh: Mapping[tuple[str, str], float] = field(default_factory=dict)
    peak_mw: Mapping[str, float] = field(default_factory=dict)
    soc_mwh: Mapping[str, float] = field(default_factory=dict)
    sla_down_hours: Mapping[tuple[str, str], float] = field(default_factory=dict)
    capacity_mw: Mapping[tuple[str, str], float] = field(default_factory=dict)
    emissions_kg: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self._MAPPINGS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for name in self._MAPPINGS:
            for k, v in getattr(self, name).items():
                if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v) and v >= 0):
                    raise ValueError(f"State.{name}[{k!r}] must be a finite number >= 0, not {v!r}")
        if self.load_mw is not None and not np.isfinite(self.load_mw):
            raise ValueError(f"State.load_mw must be finite, not {self.load_mw!r}")

    #: The fields that are mappings (frozen, values finite and >= 0).
    _MAPPINGS = ("sla_shortfall_mwh", "peak_mw", "soc_mwh", "sla_down_hours", "capacity_mw", "emissions_kg")

    def merged(self, **parts: Any) -> "State":
        """A copy with the given fields replaced."""
        fields: dict[str, Any] = {"load_mw": self.load_mw}
        fields.update({name: dict(getattr(self, name)) for name in self._MAPPINGS})
        fields.update(parts)
        return State(**fields)

    def __reduce__(self) -> Any:  # MappingProxyType does not pickle
        return (State, (self.load_mw, *(dict(getattr(self, name)) for name in self._MAPPINGS)))


@dataclass(frozen=True, eq=False)
class Window(HourlyInputs):
    """Hours ``start .. stop-1`` of a scenario (0 = its first hour) and the state before them.

    Parameters
    ----------
    scenario
        The whole scenario (billing periods are counted over its whole horizon).
    start, stop
        The hours the model covers; ``stop=None``: to the end.
    state
        What the window inherits (:class:`State`).
    """

    scenario: Scenario
    start: int = 0
    stop: int | None = None
    state: State = field(default_factory=State)

    def __post_init__(self) -> None:
        n = self.scenario.hours
        stop = n if self.stop is None else int(self.stop)
        if not (0 <= int(self.start) < stop <= n):
            raise ValueError(f"a window must lie within hours 0..{n} of the scenario and hold at least one "
                             f"hour; got {self.start}..{self.stop}")
        object.__setattr__(self, "start", int(self.start))
        object.__setattr__(self, "stop", stop)

    # -- reads like a Scenario ------------------------------------------------------------------
    @property
    def config(self) -> Any:
        return self.scenario.config

    @property
    def folder(self) -> Any:
        return self.scenario.folder

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.scenario.warnings

    @cached_property
    def data(self) -> pd.DataFrame:
        """The window's hourly inputs."""
        if self.start == 0 and self.stop == self.scenario.hours:
            return self.scenario.data
        return self.scenario.data.iloc[self.start : self.stop]

    @property
    def hours(self) -> int:
        """Number of hours in the window."""
        return self.stop - self.start

    @property
    def whole(self) -> bool:
        """True when the window is the whole scenario and starts from nothing."""
        return self.start == 0 and self.stop == self.scenario.hours and self.state == State()

    # -- billing periods over the whole horizon -----------------------------------------------
    def periods(self, kind: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Billing periods of the window's hours.

        Returns
        -------
        labels
            The periods the window touches, in order (``"2025-07"``, ``"2025"``, ``"horizon"``).
        period_of_hour
            For each hour of the window, the position of its period in ``labels``.
        hours_in_period
            For each label, its number of hours in the whole scenario's horizon. [h]
        """
        all_labels, all_of_hour, total = scenario_periods(self.scenario, kind)
        mine = all_of_hour[self.start : self.stop]
        used, inv = np.unique(mine, return_inverse=True)
        return [all_labels[i] for i in used], inv.astype(np.int64), total[used]

    def __reduce__(self) -> Any:
        return (Window, (self.scenario, self.start, self.stop, self.state))


_PERIODS: dict[tuple[int, str], tuple[list[str], np.ndarray, np.ndarray]] = {}


def scenario_periods(scenario: Scenario, kind: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Billing periods of every hour of a scenario: ``(labels, period_of_hour, hours_in_period)``
    (see :meth:`Window.periods`). Kept while the scenario lives: windows of one scenario (a
    rolling horizon builds hundreds) label its hours once, not once per window."""
    from .fleets import billing_periods

    key = (id(scenario), kind)
    got = _PERIODS.get(key)
    if got is None:
        labels, of_hour = billing_periods(scenario.local_timestamps(), kind)
        got = (labels, of_hour, np.bincount(of_hour, minlength=len(labels)))
        if not any(k[0] == key[0] for k in _PERIODS):
            weakref.finalize(scenario, _forget_periods, key[0])
        _PERIODS[key] = got
    return got


def _forget_periods(ident: int) -> None:
    for k in [k for k in _PERIODS if k[0] == ident]:
        del _PERIODS[k]


def as_window(scenario: Scenario | Window) -> Window:
    """A window over the whole scenario, or the window given."""
    return scenario if isinstance(scenario, Window) else Window(scenario)
