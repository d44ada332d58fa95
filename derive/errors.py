r"""Typed errors, one place. The CLI maps each to a one-line message and an exit code.

Exit codes (stable, scripted against):

* ``0`` — success (every proof step verified / answer equivalent)
* ``1`` — a proof step failed to verify / answer not equivalent
* ``2`` — bad input: bad arguments, unknown problem, LaTeX parse error
* ``3`` — could not decide: undecided or a resource limit (time, memory) was hit

>>> ParseError("expected '}'", text=r"\frac{1}{2", column=11).exit_code
2
"""

from __future__ import annotations


class DeriveError(Exception):
    """Base class of every error derive raises on purpose."""

    exit_code: int = 2

    def one_line(self) -> str:
        """The message a user sees: one line, no traceback."""
        return " ".join(str(self).split())


class UsageError(DeriveError):
    """Bad arguments or options (CLI or API)."""

    exit_code = 2


class UnknownProblemError(UsageError):
    """A problem id that is not registered."""


class DirectionError(UsageError, ValueError):
    """A direction word that is neither ``"normalizing"`` nor ``"generative"`` (also a ``ValueError``)."""


class ParseError(DeriveError):
    """LaTeX that the grammar does not accept; points at the column."""

    exit_code = 2

    def __init__(self, message: str, *, text: str = "", column: int | None = None) -> None:
        self.text = text
        self.column = column
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"{message}{where}")


class VerificationError(DeriveError):
    """A proof step whose claimed identity the computer algebra could not confirm."""

    exit_code = 1


class ResourceLimitError(DeriveError):
    """A computation exceeded its time or memory budget."""

    exit_code = 3

    def __init__(self, message: str, *, kind: str = "timeout") -> None:
        self.kind = kind
        super().__init__(message)
