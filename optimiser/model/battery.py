"""Batteries behind the meter: charged from the site's power, discharged into it.

The whole story of a battery is here: its variables, its state-of-charge rows, its draw on the
power balance, its O&M and end value, the reserve it can back, its state handed to the next
window, its columns and its words for infeasibility messages. See docs/model.md, "Batteries".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.core as pyo

from ..errors import InputError, Problem
from .core import Lin, ProductKeys, Registry
from .investment import add_fleet_capacity, capacity_rows


def one_way_efficiency(round_trip_efficiency: float) -> float:
    """The efficiency of each way, charging and discharging: the square root of the round trip. [-]"""
    return float(np.sqrt(round_trip_efficiency))


class Batteries:
    """Batteries ``b``: ``m.battery.charge[b, t]`` and ``m.battery.discharge[b, t]`` (MW at the
    meter, each ``<= power_mw``) and ``m.battery.soc[b, t]`` (MWh stored at the END of hour t,
    ``<= max_soc * energy_mwh``).

    Rows, with ``eta = sqrt(round_trip_efficiency)`` each way and 1-hour steps:

    - ``m.battery.energy[b, t]``: ``soc[t] = soc[t-1] + eta * charge[t] - discharge[t] / eta``,
      where ``soc[-1]`` is the window's state (``State.soc_mwh[b]``), else
      ``initial_soc * energy_mwh``;
    - ``m.battery.min_soc[b, t]``: ``soc[t] >= min_soc * energy_mwh`` (when ``min_soc > 0``);
    - ``m.battery.end[b]`` (a cyclic end): ``soc[last] >= min(soc[-1], max_soc * energy_mwh)``;
    - with a reserve or capacity product eligible for ``"battery"``, ``m.battery.reserve[b, t]``, the MW the
      battery can deliver on call for a whole hour, capped by power
      (``m.battery.reserve_power[b, t]``: ``reserve <= charge + power_mw - discharge``) and by
      stored energy (``m.battery.reserve_energy[b, t]``:
      ``reserve <= charge + eta * (soc[t-1] - min_soc * energy_mwh) - discharge``).

    On the balance, charging is a draw of kind ``"battery_charge"`` (site load: the ramp and
    ``load_mw`` see it) and discharging is supply, like import. Streams: cost
    ``battery_<b>_om`` (O&M per MWh discharged) and, with a valued end, revenue
    ``battery_<b>_end_value`` (the energy stored at the end, booked to the last hour).

    **Power as a decision** (``power_mw = { min, max }``, ``duration_h = D``; docs/investment.md):
    ``m.battery.power_mw[b]`` (``P``, bounds ``0 .. max``; ``m.battery.capacity_min[b]`` when
    ``min > 0``; capital streams ``battery_<b>_capital`` and ``battery_<b>_fixed_om``) and every
    constant above becomes linear in ``P``, with ``energy_mwh = D P``:
    ``m.battery.charge_within_power[b, t]`` (``charge <= P``),
    ``m.battery.discharge_within_power[b, t]`` (``discharge <= P``),
    ``m.battery.soc_within_energy[b, t]`` (``soc <= max_soc D P``), the first hour's energy
    balance starting from ``initial_soc D P``, ``min_soc[b, t]``: ``soc >= min_soc D P``, the
    cyclic end ``soc[last] >= min(initial_soc, max_soc) D P``, and the reserve rows with ``P``
    and ``min_soc D P``. The bounds stay at the most (``max``, ``max_soc D max``). A window
    that inherits a stored energy (``State.soc_mwh``) is refused with a decision: the start
    would be a number, not a share of the power chosen.
    """

    name = "battery"

    def build(self, m: Any, reg: Registry) -> None:
        """Variables, state-of-charge rows, draws, streams and the reserve capability."""
        cfg = reg.window.config
        bats = cfg.battery
        n = reg.n
        names = [b.name for b in bats]
        keys = ProductKeys(names, n)
        hours = np.arange(n)
        held = reg.window.state.soc_mwh
        refused = [Problem(f"battery '{b.name}' has a power decision (power_mw = {{ min, max }}), and this window "
                           f"starts from a stored energy handed over ({held[b.name]:g} MWh), which is not a share of "
                           "the power chosen: give power_mw as a number", key=f"battery.{b.name}.power_mw")
                   for b in bats if b.capacity_is_decision and b.name in held]
        if refused:
            raise InputError(refused)
        #: stored energy before the window's first hour, by battery (with a decision: at the most power) [MWh]
        self.start_mwh = {b.name: float(held.get(b.name, b.initial_soc * b.energy_mwh)) for b in bats}
        self.eta = {b.name: one_way_efficiency(b.round_trip_efficiency) for b in bats}
        power = np.repeat([b.power_mw for b in bats], n)
        m.battery = pyo.Block(doc="Batteries")
        m.battery.B = pyo.Set(initialize=names, ordered=True)
        charge = reg.add_var(m.battery, "charge", keys, power, doc="Charging power at the meter [MW]")
        discharge = reg.add_var(m.battery, "discharge", keys, power, doc="Discharging power at the meter [MW]")
        soc = reg.add_var(m.battery, "soc", keys, np.repeat([b.max_soc * b.energy_mwh for b in bats], n),
                          doc="Energy stored at the end of the hour [MWh]")
        # power as a decision: P_b, and the rows that the bounds above are for a fixed battery
        self.chosen = chosen = add_fleet_capacity(m.battery, reg, "battery", bats)
        decided = [b for b in bats if b.capacity_is_decision]
        capacity_rows(m.battery, reg, "charge_within_power", charge, [(chosen[b.name], 1.0) for b in decided],
                      doc="Charging power <= the power chosen [MW]")
        capacity_rows(m.battery, reg, "discharge_within_power", discharge, [(chosen[b.name], 1.0) for b in decided],
                      doc="Discharging power <= the power chosen [MW]")
        capacity_rows(m.battery, reg, "soc_within_energy", soc,
                      [(chosen[b.name], b.max_soc * b.duration_h) for b in decided],
                      doc="Stored energy <= max_soc x duration_h x the power chosen [MWh]")

        energy: list[Lin] = []
        start = np.zeros(len(bats) * n)
        floor_keys: list[tuple[str, int]] = []
        floor_lins: list[Lin] = []
        floor_lo: list[np.ndarray] = []
        end_keys: list[str] = []
        end_lins: list[Lin] = []
        end_lo: list[float] = []
        for i, b in enumerate(bats):
            pos = i * n + hours
            eta = self.eta[b.name]
            s0 = self.start_mwh[b.name]
            e = chosen[b.name]
            energy += [Lin(soc, pos, 1.0, pos), Lin(soc, pos[:-1], -1.0, pos[1:]),
                       Lin(charge, pos, -eta, pos), Lin(discharge, pos, 1.0 / eta, pos)]
            if e.decided:  # soc[0] - ... - initial_soc D P = 0
                energy.append(e.lin(-b.initial_soc * b.duration_h, i * n))
            else:
                start[i * n] = s0
            if b.min_soc * b.energy_mwh > 0:
                rows = len(floor_keys) + hours
                floor_lins.append(Lin(soc, pos, 1.0, rows))
                floor_keys += [(b.name, t) for t in range(n)]
                if e.decided:  # soc - min_soc D P >= 0
                    floor_lins.append(e.lin(-b.min_soc * b.duration_h, rows))
                    floor_lo.append(np.zeros(n))
                else:
                    floor_lo.append(np.full(n, b.min_soc * b.energy_mwh))
            if b.cyclic:
                end_lins.append(Lin(soc, [pos[-1]], 1.0, [len(end_keys)]))
                if e.decided:  # soc[last] - min(initial_soc, max_soc) D P >= 0
                    end_lins.append(e.lin(-min(b.initial_soc, b.max_soc) * b.duration_h, len(end_keys)))
                    end_lo.append(0.0)
                else:
                    end_lo.append(self.end_target(b, s0))
                end_keys.append(b.name)
            else:
                reg.add_term(f"battery_{b.name}_end_value", "revenue",
                             [Lin(soc, [pos[-1]], b.end_value_usd_per_mwh, [n - 1])])
            reg.add_load("battery_charge", b.name, Lin(charge, pos, 1.0, hours))
            reg.add_balance(Lin(discharge, pos, -1.0, hours))
            if b.om_usd_per_mwh:
                reg.add_term(f"battery_{b.name}_om", "cost", [Lin(discharge, pos, b.om_usd_per_mwh, hours)])
        reg.add_rows(m.battery, "energy", keys, energy, start, start, family="battery_energy",
                     doc="soc[t] - soc[t-1] - eta charge[t] + discharge[t] / eta = 0 (soc[-1]: the start) [MWh]")
        if floor_keys:
            reg.add_rows(m.battery, "min_soc", floor_keys, floor_lins, np.concatenate(floor_lo), None,
                         family="battery_min_soc", doc="soc[t] >= min_soc x energy_mwh (D P with a decision) [MWh]")
        if end_keys:
            reg.add_rows(m.battery, "end", end_keys, end_lins, np.array(end_lo), None, family="battery_end",
                         doc="soc[last] >= the energy stored at the start (at most max_soc x energy_mwh) [MWh]")
        reserve = None
        if any("battery" in r.eligible for r in (*cfg.reserve, *cfg.capacity_product)):
            reserve = self._reserve(m, reg, keys, charge, discharge, soc)

        def report(sol: Any) -> dict[str, np.ndarray]:
            c, d, s = (sol.value(v).reshape(len(bats), n) for v in (charge, discharge, soc))
            r = sol.value(reserve).reshape(len(bats), n) if reserve is not None else None
            cols: dict[str, np.ndarray] = {}
            for i, b in enumerate(bats):
                cols[f"battery_{b.name}_charge_mw"] = c[i]
                cols[f"battery_{b.name}_discharge_mw"] = d[i]
                cols[f"battery_{b.name}_soc_mwh"] = s[i]
                if r is not None:
                    cols[f"battery_{b.name}_reserve_mw"] = r[i]
            return cols

        reg.add_reporter(report)

    @staticmethod
    def end_target(battery: Any, start_mwh: float) -> float:
        """The least energy a cyclic battery stores after the window's last hour: what it held
        before the first, at most ``max_soc x energy_mwh`` (a plan on forecasts asks otherwise:
        :class:`~optimiser.model.planning.PlanBatteries`). [MWh]"""
        return min(start_mwh, battery.max_soc * battery.energy_mwh)

    def _reserve(self, m: Any, reg: Registry, keys: list, charge: Any, discharge: Any, soc: Any) -> Any:
        """``m.battery.reserve[b, t]``: what the battery can deliver on call for the whole hour,
        registered as reserve capability of kind ``"battery"``. [MW]

        On call the battery stops charging and discharges up to ``power_mw``: ``charge + power_mw
        - discharge`` MW. Sustained for the hour, that discharge must come from the energy stored
        at the hour's start, down to the floor: ``reserve <= charge + eta * (soc[t-1] - floor)
        - discharge``. Both right-hand sides are >= 0 whenever the dispatch itself is feasible,
        so offering nothing is always possible. With a power decision ``P``: ``power_mw`` is ``P``,
        the floor ``min_soc D P`` and the first hour's start ``initial_soc D P``.
        """
        bats = reg.window.config.battery
        n = reg.n
        hours = np.arange(n)
        reserve = reg.add_var(m.battery, "reserve", keys, np.repeat([2.0 * b.power_mw for b in bats], n),
                              doc="Reserve the battery can deliver for the hour on call [MW]")
        power_lins: list[Lin] = []
        energy_lins: list[Lin] = []
        energy_up = np.zeros(len(bats) * n)
        power_up = np.repeat([b.power_mw for b in bats], n).astype(float)
        for i, b in enumerate(bats):
            pos = i * n + hours
            eta = self.eta[b.name]
            common = [Lin(reserve, pos, 1.0, pos), Lin(charge, pos, -1.0, pos), Lin(discharge, pos, 1.0, pos)]
            power_lins += common
            energy_lins += common + [Lin(soc, pos[:-1], -eta, pos[1:])]
            e = self.chosen[b.name]
            if e.decided:  # reserve - c + d - P <= 0; ... - eta (soc[t-1] - min_soc D P) <= 0, soc[-1] = initial_soc D P
                power_lins.append(e.lin(-1.0, pos))
                coef = np.full(n, eta * b.min_soc * b.duration_h)
                coef[0] = -eta * (b.initial_soc - b.min_soc) * b.duration_h
                energy_lins.append(e.lin(coef, pos))
                power_up[pos] = 0.0
            else:
                floor = b.min_soc * b.energy_mwh
                energy_up[pos] = -eta * floor
                energy_up[pos[0]] = eta * (self.start_mwh[b.name] - floor)
            reg.add_backing("battery", b.name, Lin(reserve, pos, 1.0, hours))
        reg.add_rows(m.battery, "reserve_power", keys, power_lins, None, power_up,
                     family="battery_reserve", doc="reserve - charge + discharge <= power_mw [MW]")
        reg.add_rows(m.battery, "reserve_energy", keys, energy_lins, None, energy_up, family="battery_reserve",
                     doc="reserve - charge + discharge <= eta (soc[t-1] - min_soc x energy_mwh) [MW]")
        return reserve

    @staticmethod
    def energy(reg: Registry, frame: Any) -> dict[str, float]:
        """Energy by use: each battery's charge and discharge at the meter and its losses. [MWh]"""
        out: dict[str, float] = {}
        for b in reg.window.config.battery:
            eta = one_way_efficiency(b.round_trip_efficiency)
            c = float(frame[f"battery_{b.name}_charge_mw"].sum())
            d = float(frame[f"battery_{b.name}_discharge_mw"].sum())
            out[f"battery_{b.name}_charge"] = c
            out[f"battery_{b.name}_discharge"] = d
            out[f"battery_{b.name}_losses"] = c * (1.0 - eta) + d * (1.0 / eta - 1.0)
        return out

    def results_summary(self, reg: Registry, frame: Any, sol: Any) -> dict[str, Any]:
        """Each battery's stored energy at the start and end [MWh] and its full cycles (energy
        taken from storage by discharging, over ``energy_mwh``: ``duration_h`` x the power
        chosen with a decision). [-]"""
        out: dict[str, dict[str, float]] = {}
        for b in reg.window.config.battery:
            drawn = float(frame[f"battery_{b.name}_discharge_mw"].sum()) / self.eta[b.name]
            start, size = self.start_mwh[b.name], b.energy_mwh
            if b.capacity_is_decision:
                size = b.duration_h * max(0.0, self.chosen[b.name].value(sol))
                start = b.initial_soc * size
            out[b.name] = {
                "soc_start_mwh": start,
                "soc_end_mwh": float(frame[f"battery_{b.name}_soc_mwh"].iloc[-1]),
                "full_cycles": drawn / size if size > 1e-9 else 0.0,
            }
        return {"battery": out}

    @staticmethod
    def handover(reg: Registry, res: Any) -> dict[str, Any]:
        """The state the next window inherits: each battery's stored energy after the last hour. [MWh]"""
        out = dict(reg.window.state.soc_mwh)
        for b in reg.window.config.battery:
            out[b.name] = max(0.0, float(res.dispatch[f"battery_{b.name}_soc_mwh"].iloc[-1]))
        return {"soc_mwh": out}

    def describe(self, reg: Registry, family: str, key: Any, ref: str, hour_text: Any) -> str | None:
        """A row of this component in words, for infeasibility messages."""
        if not family.startswith("battery_"):
            return None
        name, t = (key if isinstance(key, tuple) else (key, None))
        b = next((b for b in reg.window.config.battery if b.name == name), None)
        if b is None:
            return None
        first = isinstance(t, (int, np.integer)) and int(t) == 0
        when = hour_text(int(t)) if t is not None else ""

        def mwh(share: float, fixed: float) -> str:  # an energy: a number, or a share of the power chosen
            if b.capacity_is_decision:
                return f"{share * b.duration_h:g} MWh per MW of the power chosen"
            return f"{fixed:g} MWh"

        s0 = mwh(b.initial_soc, self.start_mwh[b.name])
        if family == "battery_energy":
            start = f", starting from {s0}" if first else ""
            return f"the energy balance of battery '{name}' in {when}{start} ({ref})"
        if family == "battery_min_soc":
            start = f", starting from {s0}" if first else ""
            return (f"the minimum state of charge of battery '{name}' ({mwh(b.min_soc, b.min_soc * b.energy_mwh)}) "
                    f"at the end of {when}{start} ({ref})")
        if family == "battery_end":
            target = mwh(min(b.initial_soc, b.max_soc), self.end_target(b, self.start_mwh[b.name]))
            return (f"the cyclic end of battery '{name}': at least {target} stored at the end, what it "
                    f"started with ({ref})")
        if family == "battery_reserve":
            return f"the reserve battery '{name}' can back in {when} ({ref})"
        return None
