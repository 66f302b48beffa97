"""Safe with a scenario from someone else: what may be read, and how values are quoted.

A scenario names its input files, and may name files outside its folder (an absolute path, or
``../``). That stays allowed, but every file is checked *before it is opened*: it must be a
regular file (not a folder, a FIFO, a device such as ``/dev/zero``, or a socket) no larger than
the input size limit. Error messages quote what a file holds only as a short excerpt with
control characters escaped, so a message never prints a file's content nor lets a string
(a scenario name, a file name, a value) send escape codes to the terminal.

The size limit is :data:`DEFAULT_MAX_INPUT_MB` megabytes (MiB), overridden by the environment
variable :data:`MAX_INPUT_ENV` or, for a block of code, by :func:`input_limit` (the command
line's ``--max-input-mb``).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, Problem

#: Largest input file read, unless overridden. [MiB]
DEFAULT_MAX_INPUT_MB = 2048.0

#: Environment variable that overrides :data:`DEFAULT_MAX_INPUT_MB`. [MiB]
MAX_INPUT_ENV = "DISPATCH_MAX_INPUT_MB"

#: How many characters of a value a message quotes at most.
EXCERPT_CHARS = 40

_MIB = 1024 * 1024
_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar("dispatch_max_input_mb", default=None)

# C0 and C1 control characters and DEL, escaped as \xNN (with the usual \t, \n, \r).
_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
_ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\"})
# Unicode characters that reorder or hide text on a terminal (bidi overrides, zero widths).
_ESCAPES.update({c: f"\\u{c:04x}" for c in [*range(0x200B, 0x2010), *range(0x202A, 0x202F),
                                            *range(0x2066, 0x206A), 0xFEFF]})


def escape(text: object) -> str:
    """``text`` as a string with control characters escaped (``\\x1b``, ``\\n``, ...).

    Backslashes are doubled, so the result is unambiguous. Printable characters, including
    non-ASCII letters, are kept as they are.
    """
    return str(text).translate(_ESCAPES)


def escape_lines(text: str) -> str:
    """As :func:`escape`, but newlines are kept (for a multi-line message) and backslashes too."""
    table = {k: v for k, v in _ESCAPES.items() if k not in (0x0A, 0x5C)}
    return str(text).translate(table)


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped, quoted excerpt of a value for an error message.

    Parameters
    ----------
    value
        What to quote (converted with ``str``).
    limit
        Characters of the value kept at most (before escaping); a longer value is cut and
        ends with ``...`` and its length.

    Returns
    -------
    str
        ``'text'``, or ``'first 40 characters...' (1234 characters)``.
    """
    s = str(value)
    if len(s) <= limit:
        return f"'{escape(s)}'"
    return f"'{escape(s[:limit])}...' ({len(s)} characters)"


def describe_header(names: list[str], most: int = 8) -> str:
    """A CSV header for an error message: at most ``most`` names, each a short excerpt."""
    shown = ", ".join(excerpt(n) for n in names[:most])
    more = f", ... ({len(names)} columns)" if len(names) > most else ""
    return shown + more


def max_input_mb() -> float:
    """The input size limit in force. [MiB]

    Raises
    ------
    InputError
        If :data:`MAX_INPUT_ENV` is set to something that is not a positive number.
    """
    mb = _limit.get()
    if mb is not None:
        return mb
    env = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not env:
        return DEFAULT_MAX_INPUT_MB
    return parse_max_input_mb(env, MAX_INPUT_ENV)


def parse_max_input_mb(text: str | float, name: str = "--max-input-mb") -> float:
    """Read a size limit given as text (a positive number of MiB). [MiB]

    Raises
    ------
    InputError
        Naming ``name`` if ``text`` is not a positive, finite number.
    """
    try:
        mb = float(text)
    except (TypeError, ValueError):
        mb = float("nan")
    if not (mb > 0 and mb != float("inf")):
        raise InputError(Problem(f"{name} must be a positive number of megabytes (MiB), got {excerpt(text)}"))
    return mb


@contextlib.contextmanager
def input_limit(mb: float | None) -> Iterator[None]:
    """Within the block, input files larger than ``mb`` MiB are refused (None: no change)."""
    if mb is None:
        yield
        return
    token = _limit.set(float(mb))
    try:
        yield
    finally:
        _limit.reset(token)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def input_file_problem(path: str | Path, label: str | None = None) -> Problem | None:
    """Why ``path`` must not be read as an input, or None if it may (or does not exist).

    The file is not opened: only its metadata is read (``os.stat``, following links), so a
    FIFO or a device is refused without blocking or reading from it.

    Parameters
    ----------
    path
        The file as it will be opened.
    label
        How the message names it (the file as the user wrote it); default ``path``.

    Returns
    -------
    Problem or None
        A problem naming the file if it is a folder, a FIFO, a device or a socket, or larger
        than :func:`max_input_mb`; None if it is a regular file within the limit, or missing
        (the reader reports a missing file in its own words).
    """
    label = str(path) if label is None else str(label)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return Problem(f"cannot read the file: {escape(err.strerror or err)}", file=label)
    if not stat.S_ISREG(st.st_mode):
        return Problem(f"is {_kind(st.st_mode)}, not a regular file: refusing to read it ({path})", file=label)
    limit = max_input_mb()
    if st.st_size > limit * _MIB:
        return Problem(
            f"is {st.st_size / _MIB:,.1f} MiB, above the input size limit of {limit:,.0f} MiB: not read "
            f"(raise the limit with --max-input-mb or {MAX_INPUT_ENV} if the file is meant)",
            file=label,
        )
    return None


def check_input_file(path: str | Path, label: str | None = None) -> None:
    """Raise if ``path`` must not be read (see :func:`input_file_problem`).

    Raises
    ------
    InputError
        Naming the file and why.
    """
    problem = input_file_problem(path, label)
    if problem is not None:
        raise InputError(problem)
