"""Consecutive windows of one shape: one model built, then updated in place.

A rolling horizon solves hundreds of windows whose models differ only in their numbers: the
prices and revenues in the objective, the right-hand sides the state sets (the SLA budget left,
the hour before's load, a carried peak), the bounds availability sets. :class:`WindowModels`
builds the Pyomo model of the first window of a shape (:func:`optimiser.build`: the model of
record), and for each later window runs the components on a **dry registry**
(:func:`dry_build`: the same component code, no Pyomo objects made) and, when what they
registered has the template's structure (the same variables with the same keys, the same row
families with the same keys and the same terms on the same variables, positions and rows), copies
the new numbers into the template's registry, in place: its bounds, row sides and coefficients
(the template's Pyomo elements are made from those arrays on first use, and a plan never reads
them, so the template is then the new window's model). Anything else is built anew and becomes
the template. The compiled LP is then what :func:`optimiser.lp.compile_lp` makes of the template,
exactly as for a fresh build (a test compares the two on every window of a fortnight).

Only on the lazy route (:data:`optimiser.model._lazy.LAZY`); on Pyomo's public-API route every
window is built.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pyomo.core as pyo

from .core import Lin, ProductKeys, Registry, RowBlock, VarInfo, run_components
from .window import Window


class _Stub:
    """Stands in for a Pyomo block in a dry build: keeps what components put on it, and turns a
    block assigned to it into another stub named after its place (``site``, ``gpu``)."""

    def __init__(self, name: str = ""):
        object.__setattr__(self, "_name", name)

    def __setattr__(self, key: str, value: Any) -> None:
        if isinstance(value, pyo.Block):
            value = _Stub(f"{self._name}.{key}" if self._name else key)
        object.__setattr__(self, key, value)

    def qualified(self, key: str) -> str:
        return f"{self._name}.{key}" if self._name else key


class _Named:
    """A dry variable or row family: its name as Pyomo would give it (``site.grid_import``)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class DryRegistry(Registry):
    """A registry that records variables and rows as arrays only (no Pyomo components)."""

    def add_var(self, block: Any, name: str, keys: Sequence, ub: np.ndarray | float | None, doc: str = "") -> Any:
        n = len(keys)
        ub_arr = np.full(n, np.inf) if ub is None else np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy()
        var = _Named(block.qualified(name))
        object.__setattr__(block, name, var)
        vi = VarInfo(var, keys, ub_arr, True)
        self.vars.append(vi)
        self._var_ids[id(var)] = vi
        return var

    def add_rows(self, block: Any, name: str, keys: Sequence, lins: Sequence[Lin], lower: Any, upper: Any,
                 family: str, doc: str = "") -> Any:
        n = len(keys)
        lo = np.full(n, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (n,)).copy()
        up = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (n,)).copy()
        rows = _Named(block.qualified(name))
        blk = RowBlock(name, rows, keys, list(lins), lo, up, family, registry=self)
        object.__setattr__(block, name, rows)
        self.rows.append(blk)
        self._row_ids[id(rows)] = blk
        return rows


def dry_build(window: Window, components: Sequence[Any]) -> DryRegistry:
    """Run the components' ``build`` and ``link`` on a :class:`DryRegistry` and add the balance,
    as :func:`optimiser.model.core.build` does, without making any Pyomo component."""
    reg = DryRegistry(window, lazy=True)
    m = _Stub()
    reg.T = range(reg.n)
    run_components(m, reg, components)
    hours = np.arange(reg.n)
    reg.add_rows(m, "balance", hours, reg.load_lins() + reg.balance_lins, reg.supply, reg.supply, family="balance")
    return reg


def _lins_shape(lins: Sequence[Lin], name_of: Callable[[Any], str]) -> tuple[list[str], list[int], np.ndarray]:
    """What a list of terms touches: each term block's variable name and length, and all their
    positions and rows, end to end."""
    if not lins:
        return [], [], np.zeros(0, np.int64)
    return ([name_of(l.var) for l in lins], [len(l.pos) for l in lins],
            np.concatenate([np.concatenate([l.pos, l.row]) for l in lins]))


def _same_lins(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])


def _keys(keys: Sequence) -> Any:
    """Keys in a form that compares by value: a run of hours from 0 as a ``range``, a
    :class:`~optimiser.model.core.ProductKeys` as itself, anything else as a list."""
    if isinstance(keys, (range, ProductKeys)):
        return keys
    if isinstance(keys, np.ndarray) and keys.ndim == 1 and keys.dtype.kind in "iu" and \
            np.array_equal(keys, np.arange(len(keys))):
        return range(len(keys))
    return list(keys)


class WindowModels:
    """The models of consecutive windows: built once per shape, updated in place otherwise.

    Parameters
    ----------
    components
        ``fn(window) -> list`` of fresh components for a window (each build needs its own).
    build
        ``fn(window, components) -> model``; default :func:`optimiser.build`.

    Attributes
    ----------
    built, updated
        How many windows were built anew, and how many were updated in place.
    """

    def __init__(self, components: Callable[[Window], list[Any]], build: Callable[..., Any] | None = None):
        if build is None:
            from .. import build as build_model

            build = build_model
        self.components = components
        self._build = build
        self.m: Any = None
        self.built = 0
        self.updated = 0
        self._shape: dict[str, Any] | None = None

    def model(self, window: Window, *, fresh: bool = False) -> tuple[Any, Registry]:
        """The model of ``window`` (the template, updated in place, or a new build) and the
        registry that describes the window (for its columns and the state it hands on: the dry
        registry when updated in place, else the model's own)."""
        if not fresh and self.m is not None and self.m.dispatch.lazy:
            dry = dry_build(window, self.components(window))
            if self._matches(dry):
                self._copy(dry)
                self.updated += 1
                return self.m, dry
        self.m = self._build(window, self.components(window))
        self._shape = self._shape_of(self.m.dispatch)
        self.built += 1
        return self.m, self.m.dispatch

    # -- the template's structure -----------------------------------------------------------------
    def _shape_of(self, reg: Registry) -> dict[str, Any]:
        names = {id(vi.component): vi.component.name for vi in reg.vars}
        name_of = lambda v: names[id(v)]  # noqa: E731
        return {
            "vars": [(names[id(vi.component)], vi.size, _keys(vi.keys)) for vi in reg.vars],
            "rows": [(blk.component.name, blk.family, _keys(blk.keys), _lins_shape(blk.lins, name_of))
                     for blk in reg.rows],
            "terms": [(t.name, t.kind, _lins_shape(t.lins, name_of), t.hourly_constant is None, t.expr is None)
                      for t in reg.terms],
        }

    def _matches(self, dry: DryRegistry) -> bool:
        shape = self._shape
        reg = self.m.dispatch
        if shape is None or len(dry.vars) != len(reg.vars) or len(dry.rows) != len(reg.rows) \
                or len(dry.terms) != len(reg.terms):
            return False
        name_of = lambda v: v.name  # noqa: E731
        for vi, (name, size, keys) in zip(dry.vars, shape["vars"]):
            if vi.component.name != name or vi.size != size or _keys(vi.keys) != keys:
                return False
        for blk, (name, family, keys, lins) in zip(dry.rows, shape["rows"]):
            if blk.component.name != name or blk.family != family or _keys(blk.keys) != keys \
                    or not _same_lins(_lins_shape(blk.lins, name_of), lins):
                return False
        for t, (name, kind, lins, no_constant, registered) in zip(dry.terms, shape["terms"]):
            if t.name != name or t.kind != kind or (t.hourly_constant is None) != no_constant or not registered \
                    or not _same_lins(_lins_shape(t.lins, name_of), lins):
                return False
        return True

    def _copy(self, dry: DryRegistry) -> None:
        """The dry registry's numbers into the template's arrays, in place."""
        reg = self.m.dispatch
        for a, b in zip(reg.vars, dry.vars):
            a.ub[...] = b.ub
        for a, b in zip(reg.rows, dry.rows):
            a.lower[...] = b.lower
            a.upper[...] = b.upper
            for la, lb in zip(a.lins, b.lins):
                la.coef[...] = lb.coef
        for a, b in zip(reg.terms, dry.terms):
            for la, lb in zip(a.lins, b.lins):
                la.coef[...] = lb.coef
            if a.hourly_constant is not None:
                a.hourly_constant[...] = b.hourly_constant
        reg.supply[...] = dry.supply
        reg.window = reg.scenario = dry.window
