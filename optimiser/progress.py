"""Progress of a long run: the events the library reports, and how the command line shows them.

Library code never prints. A function that runs for long (:func:`optimiser.sweep`) takes a
``progress`` callback and calls it with a :class:`Progress` at the start, after each case, on a
warning, and at the end. The command line passes a :class:`ProgressBar`: a bar redrawn in place
on a terminal, plain lines otherwise (a log file, CI), nothing with ``--quiet``.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from typing import IO, Literal


@dataclass(frozen=True)
class Progress:
    """Where a run stands.

    Attributes
    ----------
    event
        ``"start"``, ``"case"`` (one finished), ``"warning"`` or ``"end"``.
    total
        Cases in the sweep.
    done
        Cases with an answer or a final failure, those of earlier runs included.
    failed
        Of ``done``, those that failed (bad input, infeasible, solver error, error).
    reused
        Of ``done``, those complete before this run started (not solved again).
    elapsed_s
        Since this run started. [s]
    case, status
        The case just finished and its status (``"case"`` events).
    message
        A warning's text (``"warning"`` events).
    """

    event: Literal["start", "case", "warning", "end"]
    total: int
    done: int
    failed: int = 0
    reused: int = 0
    elapsed_s: float = 0.0
    case: str | None = None
    status: str | None = None
    message: str | None = None

    @property
    def rate_per_s(self) -> float:
        """Cases solved by this run per second. [1/s]"""
        solved = self.done - self.reused
        return solved / self.elapsed_s if self.elapsed_s > 0 and solved > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at this run's rate, or None before the first case. [s]"""
        rate = self.rate_per_s
        return (self.total - self.done) / rate if rate > 0 else None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """Draws :class:`Progress` events on a stream (default ``stderr``).

    On a terminal, one line redrawn in place at most every ``interval`` seconds::

        [##########..........]  52/100 done, 1 failed, 4.1 cases/s, ETA 00:12

    Otherwise plain lines: one every 5 % of the cases (and at least every ``every_s`` seconds
    while cases finish), one for each failure and warning, and one at the end.
    """

    def __init__(self, stream: IO[str] | None = None, *, tty: bool | None = None, width: int = 24,
                 interval: float = 0.1, every_s: float = 30.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.width = width
        self.interval = interval
        self.every_s = every_s
        self._last_draw = 0.0
        self._last_line = 0.0
        self._last_step = -1
        self._drawn = False

    def __call__(self, p: Progress) -> None:
        from .safety import escape

        if p.event == "warning":
            self._line(f"warning: {escape(p.message)}")
            return
        if p.event == "start":
            again = f" ({p.reused} already done)" if p.reused else ""
            self._line(f"sweep: {p.total} cases{again}")
            if not self.tty:
                return
        if self.tty:
            now = time.monotonic()
            if p.event == "case" and p.status not in (None, "ok"):
                self._line(f"{escape(p.case)}: {p.status}")
            if p.event == "end" or now - self._last_draw >= self.interval:
                self._draw(p)
                self._last_draw = now
            if p.event == "end":
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False
            return
        if p.event == "case" and p.status not in (None, "ok"):
            self._line(f"{escape(p.case)}: {p.status}")
        step = p.done * 20 // max(p.total, 1)
        now = time.monotonic()
        if p.event == "end" or step > self._last_step or now - self._last_line >= self.every_s:
            self._last_step = step
            self._line(self._text(p))

    def _text(self, p: Progress) -> str:
        failed = f", {p.failed} failed" if p.failed else ""
        rate = p.rate_per_s
        tail = (f", {rate:.2f} cases/s, ETA {_clock(p.eta_s)}" if p.event != "end" and rate else
                f", {p.elapsed_s:.1f} s" if p.event == "end" else "")
        return f"{p.done:>{len(str(p.total))}}/{p.total} done{failed}{tail}"

    def _draw(self, p: Progress) -> None:
        filled = self.width * p.done // max(p.total, 1)
        bar = "[" + "#" * filled + "." * (self.width - filled) + "]  "
        text = bar + self._text(p)
        cols = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r" + text[: cols - 1].ljust(min(cols - 1, len(text) + 2)))
        self.stream.flush()
        self._drawn = True

    def _line(self, text: str) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_line = time.monotonic()
        self._drawn = False
