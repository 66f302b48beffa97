"""Making a ``highspy.Highs`` without its banner on standard output.

A leaf module (it imports nothing of the package, nor Pyomo) so that ``benchmarks/yardstick.py``,
which must not pay for importing Pyomo, can load it by path. :mod:`optimiser.solve` re-exports
:func:`new_highs`.
"""

from __future__ import annotations

import os
import sys
import threading

import highspy

__all__ = ["new_highs"]

#: Held while file descriptor 1 is pointed away from the console (:func:`new_highs`).
_FD1_LOCK = threading.Lock()


def new_highs() -> highspy.Highs:
    """A new ``highspy.Highs`` that has written nothing to standard output.

    highspy 1.16 writes a two-line banner to file descriptor 1 when the first ``Highs`` of a
    process is made, before any option can be set (its ``__init__`` installs a log callback while
    ``output_flag`` is still true). The banner is written by the C++ library, not through
    ``sys.stdout``, so ``contextlib.redirect_stdout`` does not catch it: it would land in
    ``dispatch run -q``'s output or in a caller's piped results. So descriptor 1 points at
    ``os.devnull`` for the construction only and is restored afterwards, under a lock so that
    two threads cannot interleave the swap (what another thread writes to descriptor 1 in that
    instant is lost as well). Earlier highspy versions are silent; for them this costs a few
    ``dup`` calls.

    Returns
    -------
    highspy.Highs
        With ``output_flag`` false: the log appears only if the caller turns it on again
        (:func:`optimiser.solve.solve_lp` with ``log=True``, ``dispatch run --solver-log``).
    """
    with _FD1_LOCK:
        try:
            sys.stdout.flush()  # Python's buffered text must reach the console before fd 1 moves
        except (AttributeError, OSError, ValueError):  # no stdout, or it is closed
            pass
        try:
            saved = os.dup(1)
        except OSError:  # no descriptor 1 at all: nothing to protect
            h = highspy.Highs()
        else:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, 1)
                finally:
                    os.close(devnull)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
    h.setOptionValue("output_flag", False)
    return h
