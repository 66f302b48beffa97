"""Stopping cleanly on Ctrl-C (SIGINT) and SIGTERM, also in the middle of a HiGHS solve.

Python runs a signal's handler between two steps of Python code. During a solve the main
thread is inside HiGHS, so a handler that raises would either wait for the solve to end or,
if it ran inside one of HiGHS's callbacks, throw an exception through the solver (the run then
ended as a "solver error"). Instead, while HiGHS runs (:func:`deferred`):

1. SIGINT and SIGTERM only note the signal (whatever handler was set before is kept aside);
2. HiGHS's interrupt callbacks (simplex, interior point, MIP: :func:`install_callbacks`) see
   the note and ask HiGHS to stop (``data_in.user_interrupt = True``); HiGHS returns within an
   iteration, leaving the ``Highs`` object in a sound state;
3. the handlers in force before are put back and the signal is raised again, so the program
   reacts as it would have to the signal (``KeyboardInterrupt`` by default; the ``dispatch``
   command ends with exit code 130, writing nothing).

The callbacks use highspy's raw ``setCallback``/``startCallback``, which every highspy from
1.8 to 1.16 has; a highspy without callbacks solves to the end and the signal is delivered then.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: The signals that stop a run.
SIGNALS = (signal.SIGINT, signal.SIGTERM)

_pending: list[int] = []  # signals received inside deferred(), first first
_depth = 0


def pending() -> int | None:
    """The first signal received while deferred and not yet delivered, or None."""
    return _pending[0] if _pending else None


def _should_stop() -> bool:
    """What HiGHS's interrupt callbacks ask at each iteration: has a signal been noted?"""
    return bool(_pending)


def _note(signum: int, frame: Any) -> None:
    if signum not in _pending:
        _pending.append(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block SIGINT and SIGTERM are noted, not acted on; on leaving it they are raised.

    Use it around code that must not be cut short by an exception (a solver run); let that code
    poll :func:`pending` (the HiGHS callbacks do) to stop early. Signals whose handler is
    ``SIG_IGN`` stay ignored. Outside the main thread (where Python cannot set handlers) the
    block runs as it is.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    previous: dict[int, Any] = {}
    for sig in SIGNALS:
        old = signal.getsignal(sig)
        if old is not signal.SIG_IGN and old is not None:
            previous[sig] = signal.signal(sig, _note)
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        for sig, old in previous.items():
            signal.signal(sig, old)
        got = list(_pending)
        _pending.clear()
        for sig in got:
            signal.raise_signal(sig)  # the handler in force before now acts on it


def install_callbacks(h: Any, on_log: Callable[[str], None] | None = None) -> bool:
    """Give a ``highspy.Highs`` one callback that stops it on a pending signal (and logs).

    highspy holds a single Python callback per ``Highs`` object, so the log capture and the
    interrupt share it.

    Parameters
    ----------
    h
        The ``highspy.Highs`` object about to run.
    on_log
        Called with each line of HiGHS's log, if given (logging callbacks are started).

    Returns
    -------
    bool
        False if this highspy has no callbacks (the solve then cannot be stopped early).
    """
    import highspy

    kinds = highspy.cb.HighsCallbackType
    log_kind = kinds.kCallbackLogging
    stops = [getattr(kinds, k) for k in ("kCallbackSimplexInterrupt", "kCallbackIpmInterrupt",
                                         "kCallbackMipInterrupt") if hasattr(kinds, k)]

    def callback(kind: Any, message: str, _out: Any, data_in: Any, _user: Any) -> None:
        if kind == log_kind:
            if on_log is not None:
                on_log(message)
        elif data_in is not None and _should_stop():
            data_in.user_interrupt = True

    try:
        h.setCallback(callback, None)
        for kind in ([log_kind] if on_log is not None else []) + stops:
            h.startCallback(kind)
    except (AttributeError, TypeError):
        return False
    return True


def run_highs(h: Any) -> Any:
    """``h.run()``, stopped early by SIGINT or SIGTERM, which are then raised (see the module).

    ``h`` must have had :func:`install_callbacks` for the stop to be early.

    Returns
    -------
    highspy.HighsStatus
        What ``h.run()`` returned (when no signal came).
    """
    with deferred():
        return h.run()
