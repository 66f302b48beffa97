"""A simplex basis as plain numpy arrays, to keep, pickle or send to another process.

HiGHS's ``HighsBasis`` does not pickle; two ``int8`` arrays do (120 kB for a year). Each entry is
a ``highspy.HighsBasisStatus`` value: 0 at lower bound, 1 basic, 2 at upper bound, 3 free at
zero, 4 nonbasic. Column statuses follow the LP's columns, row statuses its rows
(:func:`optimiser.lp.compile_lp`); the statuses do not depend on the objective's sense.
"""

from __future__ import annotations

from operator import attrgetter

import highspy
import numpy as np

from .errors import DispatchError

#: The statuses by value: ``STATUSES[1] is highspy.HighsBasisStatus.kBasic``.
STATUSES: tuple = tuple(sorted(highspy.HighsBasisStatus.__members__.values(), key=int))

_VALUE = attrgetter("value")


def get_basis(h: highspy.Highs) -> tuple[np.ndarray, np.ndarray]:
    """The basis ``h`` holds, as ``(col_status, row_status)`` int8 arrays.

    Raises
    ------
    DispatchError
        If ``h`` holds no valid basis (nothing solved yet, or the last solve did not end with one).
    """
    b = h.getBasis()
    if not b.valid:
        raise DispatchError("HiGHS holds no valid basis: solve first")
    cols, rows = b.col_status, b.row_status
    return (np.fromiter(map(_VALUE, cols), np.int8, len(cols)),
            np.fromiter(map(_VALUE, rows), np.int8, len(rows)))


def set_basis(h: highspy.Highs, col_status: np.ndarray, row_status: np.ndarray) -> None:
    """Give ``h`` (holding a model) a basis to start its next solve from.

    Parameters
    ----------
    h
        Holding a model of ``len(col_status)`` columns and ``len(row_status)`` rows.
    col_status, row_status
        Integer statuses (:data:`STATUSES`), as from :func:`get_basis`.

    Raises
    ------
    DispatchError
        If the sizes do not fit the model, a status is not one of HiGHS's, or HiGHS rejects the
        basis (its number of basic variables is not the number of rows).
    """
    cols = np.asarray(col_status)
    rows = np.asarray(row_status)
    n_col, n_row = h.getNumCol(), h.getNumRow()
    if cols.shape != (n_col,) or rows.shape != (n_row,):
        raise DispatchError(
            f"the basis has {cols.size} column and {rows.size} row statuses but the model has "
            f"{n_col} columns and {n_row} rows: it is the basis of another model"
        )
    for a in (cols, rows):
        if a.size and (a.min() < 0 or a.max() >= len(STATUSES)):
            raise DispatchError(f"a basis status must be 0..{len(STATUSES) - 1} (highspy.HighsBasisStatus)")
    b = highspy.HighsBasis()
    b.col_status = list(map(STATUSES.__getitem__, cols.tolist()))
    b.row_status = list(map(STATUSES.__getitem__, rows.tolist()))
    b.valid = True
    b.alien = False  # as HiGHS left it: checked (one basic per row) and taken as is, no repair (0.03 s)
    if h.setBasis(b) == highspy.HighsStatus.kError:
        raise DispatchError(
            f"HiGHS rejected the basis ({int(np.count_nonzero(cols == 1) + np.count_nonzero(rows == 1))} "
            f"basic statuses for {n_row} rows)"
        )
