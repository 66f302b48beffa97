"""Explain an infeasible or unbounded model: which constraint family, which hour or billing period.

Two tools, used together on an infeasible model:

* **An elastic re-solve.** Every row gets two non-negative slack columns (one each way) and
  HiGHS minimises their weighted sum. The rows whose slack is non-zero are the ones to relax,
  and the slack says by how much (MWh of SLA energy, MW of ramp). The power balance is a law,
  not a promise: its slacks cost :data:`BALANCE_WEIGHT` times more, so a contract, a limit or a
  user's constraint is blamed before the balance is, and the balance only when nothing else can
  give (a must-take PPA with nowhere to go in some hour).
* **HiGHS's irreducible infeasible subsystem** (``Highs.getIis``): the smallest set of rows and
  variable bounds that cannot hold together. It names what the culprit conflicts with, the
  variable bounds included (a grid outage or a maintenance window a user set as a bound).

On an unbounded model, :func:`diagnose_unbounded` re-solves with every infinite bound replaced
by a large finite one and names the variables that run to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from ._highs import new_highs
from .lp import LP

#: Cost of one unit of power-balance slack, relative to one unit of slack on any other row. [-]
BALANCE_WEIGHT = 100.0

#: Time HiGHS may spend on the irreducible infeasible subsystem. [s]
IIS_TIME_LIMIT_S = 30.0

#: The bound given to unbounded directions when looking for what makes a model unbounded.
UNBOUNDED_PROBE_BOUND = 1e7

#: Short names of the families, for lists.
FAMILY_SHORT: dict[str, str] = {
    "balance": "the power balance", "sla": "the GPU SLA", "ramp": "the ramp limit",
    "reserve": "reserve backing", "peak": "the demand-charge peak", "user": "added constraints",
    "sla_hours": "the GPU SLA (hours)", "sla_up": "whole GPU hours", "sla_tier": "the SLA credit tier",
    "capacity_product": "capacity-product backing", "capacity_carried": "capacity commitments carried",
}

#: What each registered family is, for messages: (words, unit of its rows).
FAMILY_WORDS: dict[str, tuple[str, str]] = {
    "balance": ("the power balance (load + export - import = PPA volume)", "MW"),
    "sla": ("the GPU availability SLA", "MWh"),
    "ramp": ("the ramp limit on site load", "MW"),
    "reserve": ("reserve backing (offer <= eligible load)", "MW"),
    "peak": ("the demand-charge peak", "MW"),
    "sla_hours": ("the GPU availability SLA, counted in hours delivering the whole contract", "h"),
    "sla_up": ("an hour counting as available only with the whole GPU contract delivered", "MW"),
    "sla_tier": ("one SLA credit tier per billing period", ""),
    "capacity_product": ("capacity-product backing (commitment <= eligible load)", "MW"),
    "capacity_carried": ("a capacity commitment made before the window", "MW"),
    "user": ("a constraint added to the model", ""),
}


@dataclass(frozen=True)
class RowInfo:
    """What one row of the LP is."""

    family: str
    """Registered family (``balance``, ``sla``, ``ramp``, ...) or ``user``."""
    name: str
    """The Pyomo component, dotted (``gpu.sla``)."""
    key: Any
    """The row's index in its component (``("tenant-a", "2025-02")``, an hour, ...)."""


def _hour_text(m: Any, t: int) -> str:
    """An hour of the horizon in UTC and in the site timezone."""
    sc = m.dispatch.scenario
    stamps = sc.timestamps
    if not 0 <= t < len(stamps):
        return f"hour {t}"
    utc = stamps[t].strftime("%Y-%m-%dT%H:%MZ")
    tz = sc.config.timezone
    if tz == "UTC":
        return utc
    local = stamps[t].tz_convert(tz)
    return f"{utc} ({local.strftime('%Y-%m-%d %H:%M')} {tz})"


def _hourly_key(family: str) -> bool:
    return family in ("balance", "ramp", "reserve", "peak")


def _key_text(m: Any, family: str, key: Any) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for k in parts:
        if isinstance(k, (int, np.integer)) and _hourly_key(family):
            out.append(_hour_text(m, int(k)))
        else:
            out.append(str(k))
    return ", ".join(out)


def _component_name(m: Any, component: Any) -> str:
    parent = component.parent_block()
    if parent is None or parent is m:
        return component.local_name
    return f"{parent.local_name}.{component.local_name}"


def row_infos(m: Any, lp: LP) -> list[RowInfo | None]:
    """What each row of ``lp`` is (``None`` for a row no block claims)."""
    infos: list[RowInfo | None] = [None] * lp.shape[0]
    for blk, start in lp.blocks:
        name = _component_name(m, blk.component)
        for i, k in enumerate(blk.keys):
            infos[start + i] = RowInfo(blk.family, name, k)
    for d, row in lp.user_rows:
        infos[row] = RowInfo("user", d.name, None)
    return infos


def describe_row(m: Any, info: RowInfo | None, row: int) -> str:
    """A row in words: ``the SLA of GPU fleet 'a' in billing period 2025-02 (gpu.sla[a, 2025-02])``."""
    if info is None:
        return f"row {row}"
    f, k = info.family, info.key
    ref = f"{info.name}[{_key_text(m, f, k)}]" if k is not None else info.name
    reg = m.dispatch
    for comp in reg.components:  # each component words its own rows
        describe = getattr(comp, "describe", None)
        text = describe(reg, f, k, ref, lambda t: _hour_text(m, t)) if describe is not None else None
        if text is not None:
            return text
    if f == "balance" and isinstance(k, (int, np.integer)):
        return f"the power balance at {_hour_text(m, int(k))} ({ref})"
    if f == "user":
        return f"the added constraint '{info.name}'"
    return f"{f} ({ref})"


def _col_owner(m: Any, lp: LP) -> tuple[np.ndarray, list[tuple[str, list]]]:
    """For each column, the index of its variable in the returned list of (name, keys)."""
    reg = m.dispatch
    owners: list[tuple[str, list]] = []
    n_col = lp.shape[1]
    which = np.full(n_col, -1, dtype=np.int64)
    for vi in reg.vars:
        s = lp.var_start[id(vi.component)]
        which[s : s + vi.size] = len(owners)
        owners.append((_component_name(m, vi.component), list(vi.keys)))
    n_reg = sum(vi.size for vi in reg.vars)
    for i, v in enumerate(lp.user_cols):
        which[n_reg + i] = len(owners)
        owners.append((v.name, [None]))
    return which, owners


def _col_position(m: Any, lp: LP, col: int, which: np.ndarray, owners: list) -> Any:
    """The key of a column within its variable."""
    reg = m.dispatch
    n_reg = sum(vi.size for vi in reg.vars)
    if col >= n_reg:
        return None
    vi = reg.vars[int(which[col])]
    return vi.keys[col - lp.var_start[id(vi.component)]]


def column_name(m: Any, lp: LP, col: int) -> str:
    """A column of ``lp`` as the Pyomo variable it is: ``asic.power[('s21', 5)]`` (hour 5)."""
    which, owners = _col_owner(m, lp)
    name = owners[int(which[col])][0]
    key = _col_position(m, lp, col, which, owners)
    return f"{name}[{key!r}]" if key is not None else name


def _hours_of(keys: list) -> list[int]:
    hours = []
    for k in keys:
        parts = k if isinstance(k, tuple) else (k,)
        ints = [int(p) for p in parts if isinstance(p, (int, np.integer))]
        if ints:
            hours.append(ints[-1])
    return sorted(set(hours))


def _span(m: Any, hours: list[int]) -> str:
    stamps = m.dispatch.scenario.timestamps
    fmt = lambda t: stamps[t].strftime("%Y-%m-%dT%H:%MZ") if 0 <= t < len(stamps) else f"hour {t}"  # noqa: E731
    if len(hours) == 1:
        return fmt(hours[0])
    return f"{len(hours)} hours, {fmt(hours[0])} .. {fmt(hours[-1])}"


def _describe_bounds(m: Any, lp: LP, cols: np.ndarray, sides: np.ndarray) -> list[str]:
    """Group conflicting column bounds by variable and side: 'the upper bound of site.grid_import in ...'."""
    which, owners = _col_owner(m, lp)
    groups: dict[tuple[int, str], list] = {}
    for c, s in zip(cols.tolist(), sides.tolist()):
        if s not in (2, 3, 4):
            continue  # free or dropped: the column is in the subsystem, none of its bounds is
        side = {2: "lower", 3: "upper"}.get(int(s), "")
        if side == "":
            lo, hi = lp.col_lo[c], lp.col_hi[c]
            side = "upper" if np.isfinite(hi) and (lo == 0 or not np.isfinite(lo)) else "lower"
        groups.setdefault((int(which[c]), side), []).append(c)
    out = []
    for (w, side), cs in groups.items():
        name, _ = owners[w]
        keys = [_col_position(m, lp, c, which, owners) for c in cs]
        hours = _hours_of([k for k in keys if k is not None])
        vals = lp.col_hi[cs] if side == "upper" else lp.col_lo[cs]
        vals = vals[np.isfinite(vals)]
        val = ""
        unit = "" if lp.integrality is not None and lp.integrality[cs].all() else " MW"  # a count or a binary
        if len(vals):
            lo, hi = float(vals.min()), float(vals.max())
            val = f" ({lo:g}{unit})" if lo == hi else f" ({lo:g} .. {hi:g}{unit})"
        where = (f" in {_span(m, hours)}" if len(hours) > 1 else f" at {_span(m, hours)}") if hours else ""
        if not hours:
            labels = sorted({str(k) for k in keys if k is not None})
            if labels:
                where = f" [{', '.join(labels[:5])}{', ...' if len(labels) > 5 else ''}]"
        out.append(f"the {side} bound of {name}{val}{where}")
    return out


# --------------------------------------------------------------------------------------------
# the two tools
# --------------------------------------------------------------------------------------------


def _weights(m: Any, lp: LP) -> np.ndarray:
    w = np.ones(lp.shape[0])
    for blk, start in lp.blocks:
        if blk.family == "balance":
            w[start : start + len(blk.keys)] = BALANCE_WEIGHT
    return w


def elastic_violations(lp: LP, tol: float = 1e-6, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-row violation at the least weighted total violation (``A x`` minus the nearest side).

    Parameters
    ----------
    lp
        The compiled model.
    tol
        Violations smaller than this are reported as 0. [row units]
    weights
        Cost of a unit of slack on each row; default 1 everywhere.

    Returns
    -------
    numpy.ndarray
        One value per row: positive where the row's body must exceed its upper side, negative
        where it must fall below its lower side, 0 where the row holds. All zero if the elastic
        problem cannot be solved (the infeasibility is in the variable bounds alone).
    """
    n_row, n_col = lp.shape
    w = np.ones(n_row) if weights is None else np.asarray(weights, float)
    eye = sp.identity(n_row, format="csc")
    A = sp.hstack([lp.A, eye, -eye], format="csc")
    cost = np.concatenate([np.zeros(n_col), w, w])
    lo = np.concatenate([lp.col_lo, np.zeros(2 * n_row)])
    hi = np.concatenate([lp.col_hi, np.full(2 * n_row, np.inf)])
    h = new_highs()
    h.passModel(A.shape[1], n_row, A.nnz, 1, 1, 0.0, cost, lo, hi, lp.row_lo, lp.row_hi,
                A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data, np.zeros(A.shape[1], np.int32))
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return np.zeros(n_row)
    x = np.asarray(h.getSolution().col_value)
    # slack s+ lowers the body's need (A x + s+ - s- is what must sit in [lo, hi]):
    # the row as written is off by -(s+ - s-).
    v = -(x[n_col : n_col + n_row] - x[n_col + n_row :])
    v[np.abs(v) < tol] = 0.0
    return v


@dataclass
class Iis:
    """An irreducible infeasible subsystem: rows and column bounds that cannot all hold."""

    rows: np.ndarray
    cols: np.ndarray
    col_sides: np.ndarray
    """Which bound of each column is in it (HiGHS ``IisBoundStatus``: 2 lower, 3 upper, 4 both)."""


def infeasible_subsystem(lp: LP, time_limit: float = IIS_TIME_LIMIT_S) -> Iis | None:
    """HiGHS's irreducible infeasible subsystem of ``lp``; ``None`` if HiGHS cannot give one."""
    if not hasattr(highspy.Highs, "getIis"):
        return None
    n_row, n_col = lp.shape
    A = lp.A
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.passModel(n_col, n_row, A.nnz, 1, 1, 0.0, np.zeros(n_col), lp.col_lo, lp.col_hi, lp.row_lo, lp.row_hi,
                A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data, np.zeros(n_col, np.int32))
    # from the LP, then made irreducible (deletion filter)
    for strategy in (6, 2):
        if h.setOptionValue("iis_strategy", strategy) != highspy.HighsStatus.kOk:
            continue
        try:
            status, iis = h.getIis()
        except Exception:  # noqa: BLE001 - an optional facility; the elastic re-solve remains
            return None
        if status == highspy.HighsStatus.kOk and iis.valid_ and (len(iis.row_index_) or len(iis.col_index_)):
            return Iis(np.asarray(iis.row_index_, dtype=np.int64), np.asarray(iis.col_index_, dtype=np.int64),
                       np.asarray(iis.col_bound_, dtype=np.int64))
    return None


# --------------------------------------------------------------------------------------------
# the messages
# --------------------------------------------------------------------------------------------


def _bound_conflicts(m: Any, lp: LP) -> list[str]:
    bad = np.flatnonzero(lp.col_lo > lp.col_hi + 1e-9)
    if not len(bad):
        return []
    which, owners = _col_owner(m, lp)
    out = []
    for c in bad[:5].tolist():
        name = owners[int(which[c])][0]
        key = _col_position(m, lp, c, which, owners)
        out.append(f"{name}[{key}] has lower bound {lp.col_lo[c]:g} above its upper bound {lp.col_hi[c]:g}"
                   if key is not None else
                   f"{name} has lower bound {lp.col_lo[c]:g} above its upper bound {lp.col_hi[c]:g}")
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return ["; ".join(out) + more]


def _shortfall(info: RowInfo | None, v: float) -> str:
    """How a row must give: ``v`` < 0 where its body must fall below its lower side."""
    fam = info.family if info else ""
    unit = FAMILY_WORDS.get(fam, ("", ""))[1]
    amount = f"{abs(v):,.6g}{' ' + unit if unit else ''}"
    if fam == "balance":
        if v < 0:
            return f"has {amount} of power with nowhere to go (load, export and their limits cannot absorb it)"
        return f"lacks {amount} of supply (load cannot fall that far within its limits, nor import grow)"
    if fam == "sla":
        return f"falls short by {amount}"
    if fam == "ramp":
        if v < 0:
            return f"would have to let load fall {amount} faster than the limit allows"
        return f"would have to let load rise {amount} faster than the limit allows"
    if v < 0:
        return f"would need its lower side lowered by {amount}"
    return f"would need its upper side raised by {amount}"


def diagnose_infeasible(m: Any, lp: LP, most: int = 5) -> str:
    """Sentences naming the constraints that cannot hold, for an error message.

    Names the constraint family, the row (billing period, hour in UTC and in the site timezone)
    and by how much it must give at least; then what it conflicts with (HiGHS's irreducible
    infeasible subsystem: other rows and the variable bounds involved).

    Parameters
    ----------
    m
        The built model.
    lp
        Its compiled LP (:func:`optimiser.lp.compile_lp`).
    most
        How many rows to list one by one.
    """
    conflicts = _bound_conflicts(m, lp)
    if conflicts:
        return "A variable's bounds contradict each other: " + conflicts[0] + "."
    infos = row_infos(m, lp)
    v = elastic_violations(lp, weights=_weights(m, lp))
    rows = np.flatnonzero(v)
    rows = rows[np.argsort(-np.abs(v[rows]), kind="stable")]
    iis = infeasible_subsystem(lp)

    parts: list[str] = []
    if len(rows):
        fams = list(dict.fromkeys(infos[r].family if infos[r] else "?" for r in rows))
        words = [FAMILY_WORDS.get(f, (f, ""))[0] for f in fams]
        parts.append(
            f"The constraint family that cannot hold: {', '.join(fams)} ({'; '.join(words)})."
        )
        lines = []
        for r in rows[:most].tolist():
            info = infos[r]
            lines.append(f"{describe_row(m, info, r)} {_shortfall(info, float(v[r]))}")
        more = f" (and {len(rows) - most} more rows)" if len(rows) > most else ""
        parts.append("Least relaxation that would make the scenario feasible: " + "; ".join(lines) + more + ".")
    if iis is not None:
        blamed = set(rows.tolist())
        others = [r for r in iis.rows.tolist() if r not in blamed]
        groups: dict[tuple[str, str], list[int]] = {}
        for r in others:
            info = infos[r]
            key = (info.family, info.name) if info else ("?", f"row {r}")
            groups.setdefault(key, []).append(r)
        with_rows = []
        for (fam, name), rs in groups.items():
            if len(rs) == 1:
                with_rows.append(describe_row(m, infos[rs[0]], rs[0]))
            else:
                keys = [infos[r].key for r in rs if infos[r] is not None]
                hours = _hours_of(keys) if _hourly_key(fam) else []
                where = _span(m, hours) if hours else ", ".join(str(k) for k in keys[:most])
                with_rows.append(f"{FAMILY_SHORT.get(fam, fam)} ({name}) in {where}")
        bounds = _describe_bounds(m, lp, iis.cols, iis.col_sides) if len(iis.cols) else []
        items = with_rows + bounds
        if items:
            lead = "It conflicts with" if len(rows) else "What cannot all hold together"
            parts.append(f"{lead} (an irreducible infeasible subset from HiGHS; relaxing any one item "
                         "of it would make that subset feasible): " + "; ".join(items) + ".")
        if not len(rows) and iis.rows.size:
            fams = sorted({infos[r].family for r in iis.rows.tolist() if infos[r] is not None})
            parts.insert(0, f"The constraint family that cannot hold: {', '.join(fams)}.")
    if not parts:
        return ("Neither the elastic re-solve nor HiGHS's infeasible subsystem found a row to blame: "
                "check variable bounds and fixed variables set by hand.")
    return " ".join(parts)


def diagnose_unbounded(m: Any, lp: LP, most: int = 5) -> str:
    """A sentence naming the variables along which the objective grows without limit."""
    big = UNBOUNDED_PROBE_BOUND
    lo = np.where(np.isfinite(lp.col_lo), lp.col_lo, -big)
    hi = np.where(np.isfinite(lp.col_hi), lp.col_hi, big)
    n_row, n_col = lp.shape
    A = lp.A
    h = new_highs()
    cost = -lp.c if lp.maximize else lp.c
    h.passModel(n_col, n_row, A.nnz, 1, 1, 0.0, cost, lo, hi, lp.row_lo, lp.row_hi,
                A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data, np.zeros(n_col, np.int32))
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return "Could not tell which variable is unbounded: give every variable you add a finite bound."
    x = np.asarray(h.getSolution().col_value)
    free = (~np.isfinite(lp.col_lo)) | (~np.isfinite(lp.col_hi))
    at = np.flatnonzero(free & (np.abs(x) >= 0.5 * big))
    if not len(at):
        return "Could not tell which variable is unbounded: give every variable you add a finite bound."
    which, owners = _col_owner(m, lp)
    names = []
    for c in at[:most].tolist():
        name = owners[int(which[c])][0]
        key = _col_position(m, lp, c, which, owners)
        names.append(f"{name}[{key}]" if key is not None else name)
    more = f" (and {len(at) - most} more)" if len(at) > most else ""
    return ("The objective grows without limit along " + ", ".join(names) + more
            + ": these variables have no finite bound in the direction that pays. Give them one.")
