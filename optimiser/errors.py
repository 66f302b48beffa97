"""Exceptions raised by the optimiser.

Every error the library raises on purpose derives from :class:`DispatchError`, so a caller
(the CLI, a batch script) can catch one type. Errors about input carry a list of
:class:`Problem` records so that *every* problem is reported at once, each naming the file,
the row and the column (or the scenario key) at fault.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Parameters
    ----------
    message
        What is wrong, in words a planner can act on.
    file
        The file at fault (as the user named it), if any.
    row
        The 1-based line number in ``file`` (the header is line 1), if any.
    column
        The CSV column, if any.
    key
        The scenario key at fault, dotted (``gpu[0].contract_mw``), if any.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        return (", ".join(where) + ": " if where else "") + self.message


class DispatchError(Exception):
    """Base class of every error the optimiser raises on purpose."""


class InputError(DispatchError):
    """Bad input: a scenario file or a CSV. Holds every problem found, not just the first.

    Parameters
    ----------
    problems
        The problems found; at least one.
    """

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (str, Problem)):
            problems = [problems if isinstance(problems, Problem) else Problem(problems)]
        self.problems: list[Problem] = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        super().__init__("\n".join([head] + [f"  - {p}" for p in self.problems]))

    def __reduce__(self) -> tuple:
        # rebuilt from its problems (the default would wrap the message in a second problem),
        # so that it crosses to a parent process as it was raised in a worker
        return (type(self), (self.problems,), dict(self.__dict__))


class InfeasibleError(DispatchError):
    """The scenario cannot be met: names the constraint (family, hour or period) at fault."""


class SolverError(DispatchError):
    """The solver ended without an optimal answer (time limit, unbounded, numerical trouble)."""
