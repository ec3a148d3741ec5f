"""Errors a user can act on.

Every `MigagentError` reaches the terminal as one line (problem, then fix) and
exit code 2; anything else is a bug and keeps its traceback under `--debug`.
"""

from __future__ import annotations


class MigagentError(Exception):
    """A problem with the user's input or environment, with what to do about it."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem.rstrip(".")
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        text = " ".join(self.problem.split())
        if not self.fix:
            return f"{text}."
        return f"{text}. {self.fix[:1].upper()}{self.fix[1:]}"


class UsageError(MigagentError):
    """Bad arguments, missing files, unparseable input."""


class DatabaseError(MigagentError):
    """A database could not be reached or refused what we asked of it."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (driver errors run to several)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
