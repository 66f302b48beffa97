"""Explain an infeasible model: which constraint family, which hour or billing period.

An elastic re-solve: every row gets two non-negative slack columns (one each way) and HiGHS
minimises their sum. The rows whose slack is non-zero are the constraints that cannot all
hold together; they are reported by family and key, largest violation first.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from .lp import LP

_HOURLY = {"balance", "ramp", "reserve", "peak"}


def _label(m: Any, blk_name: str, family: str, key: Any) -> str:
    stamps = m.dispatch.scenario.timestamps

    def fmt(k: Any) -> str:
        if isinstance(k, (int, np.integer)) and family in _HOURLY and 0 <= k < len(stamps):
            return stamps[int(k)].strftime("%Y-%m-%dT%H:%MZ")
        return str(k)

    parts = key if isinstance(key, tuple) else (key,)
    return f"{blk_name}[{', '.join(fmt(k) for k in parts)}]"


def elastic_violations(lp: LP, tol: float = 1e-6) -> np.ndarray:
    """Per-row violation at the least total violation (``A x`` minus the nearest side)."""
    n_row, n_col = lp.A.shape
    eye = sp.identity(n_row, format="csc")
    A = sp.hstack([lp.A, eye, -eye], format="csc")
    cost = np.concatenate([np.zeros(n_col), np.ones(2 * n_row)])
    lo = np.concatenate([lp.col_lo, np.zeros(2 * n_row)])
    hi = np.concatenate([lp.col_hi, np.full(2 * n_row, np.inf)])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(A.shape[1], n_row, A.nnz, 1, 1, 0.0, cost, lo, hi, lp.row_lo, lp.row_hi,
                A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data, np.zeros(A.shape[1], np.int32))
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return np.zeros(n_row)
    x = np.asarray(h.getSolution().col_value)
    v = x[n_col : n_col + n_row] - x[n_col + n_row :]
    v[np.abs(v) < tol] = 0.0
    return v


def diagnose_infeasible(m: Any, lp: LP, most: int = 5) -> str:
    """A sentence naming the constraints that cannot hold, for an error message."""
    v = elastic_violations(lp)
    found = []
    for blk, start in lp.blocks:
        seg = v[start : start + len(blk.keys)]
        for i in np.flatnonzero(seg):
            found.append((abs(seg[i]), blk.family, _label(m, f"{blk.component.parent_block().name}.{blk.name}"
                                                          if blk.component.parent_block() is not m else blk.name,
                                                          blk.family, blk.keys[i]), seg[i]))
    for d, row in lp.user_rows:
        if v[row]:
            found.append((abs(v[row]), "user", d.name, v[row]))
    if not found:
        return ("The elastic re-solve found no single row to blame: check variable bounds and fixed "
                "variables (a column bound set below its lower bound, a fixed value out of range).")
    found.sort(key=lambda f: -f[0])
    fams = sorted({f[1] for f in found})
    lines = [f"{name} is off by {abs(val):.4g}" for _, _, name, val in found[:most]]
    more = f" (and {len(found) - most} more rows)" if len(found) > most else ""
    return (f"The constraint family that cannot hold: {', '.join(fams)}. Least total relaxation: "
            + "; ".join(lines) + more + ".")
