r"""The step checker's verdicts: one :class:`StepResult` per step, one :class:`StepsResult` per file.

Step k is :math:`E_{k-1} \to E_k`. Its status is ``valid`` (proved symbolically, ``method`` says
how), ``invalid`` (``counterexample``: concrete sizes and values satisfying the problem's
definitions where the two sides differ, re-checked independently), ``undecided``, ``timeout`` (the
step hit its time or memory limit) or ``parse-error``. The file's status is ``invalid`` if some
step is, else ``parse-error`` if some step could not be read, else ``undecided`` if some step is
undecided or timed out, else ``valid``.

>>> s = StepResult(1, "valid", "a", "b", "", method="symbolic")
>>> r = StepsResult("iaf-logq", (s,), reaches_reference=True)
>>> r.status, r.exit_code, r.first_invalid
('valid', 0, None)
>>> sorted(r.to_dict())
['first_invalid', 'message', 'problem', 'reaches_reference', 'status', 'steps', 'warnings']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["EXIT_CODES", "FileStatus", "StepResult", "StepStatus", "StepsResult"]

StepStatus = Literal["valid", "invalid", "undecided", "timeout", "parse-error"]
FileStatus = Literal["valid", "invalid", "undecided", "parse-error"]

#: ``derive check-steps`` exit codes, by file status.
EXIT_CODES: dict[str, int] = {"valid": 0, "invalid": 1, "parse-error": 2, "undecided": 3}

_MARK = {"valid": "✓", "invalid": "✗", "undecided": "?", "timeout": "?", "parse-error": "!"}


@dataclass(frozen=True)
class StepResult:
    r"""The verdict on one step :math:`E_{k-1} \to E_k` (``source`` is E_{k-1}, ``target`` E_k, as LaTeX)."""

    step: int
    status: StepStatus
    source: str
    target: str
    justification: str
    method: str = ""
    message: str = ""
    difference: str | None = None
    slip: str | None = None
    counterexample: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    line: int | None = None

    @property
    def mark(self) -> str:
        """✓ valid, ✗ invalid, ? undecided or timeout, ! parse error."""
        return _MARK[self.status]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of one step (``derive check-steps --json``)."""
        return {
            "step": self.step,
            "status": self.status,
            "from": self.source,
            "to": self.target,
            "justification": self.justification,
            "difference": self.difference,
            "slip": self.slip,
            "counterexample": self.counterexample,
            "warnings": list(self.warnings),
            "method": self.method,
            "message": self.message,
            "line": self.line,
        }


@dataclass(frozen=True)
class StepsResult:
    r"""The verdict on a whole derivation file; ``to_dict()`` is the ``--json`` output."""

    problem: str
    steps: tuple[StepResult, ...]
    reaches_reference: bool = False
    warnings: tuple[str, ...] = ()
    message: str = ""

    @property
    def status(self) -> FileStatus:
        """``invalid`` > ``parse-error`` > ``undecided`` (incl. timeout) > ``valid``."""
        found = {s.status for s in self.steps}
        if "invalid" in found:
            return "invalid"
        if "parse-error" in found or not self.steps:
            return "parse-error"
        if found & {"undecided", "timeout"}:
            return "undecided"
        return "valid"

    @property
    def exit_code(self) -> int:
        """0 all steps valid, 1 some step invalid, 2 parse error / unknown problem, 3 undecided."""
        return EXIT_CODES[self.status]

    @property
    def first_invalid(self) -> int | None:
        """The number of the first invalid step, or ``None``."""
        return next((s.step for s in self.steps if s.status == "invalid"), None)

    @property
    def invalid_steps(self) -> tuple[int, ...]:
        """The numbers of all invalid steps."""
        return tuple(s.step for s in self.steps if s.status == "invalid")

    def verdict(self) -> str:
        """One sentence: e.g. ``"right result, invalid steps 3 and 5"``."""
        bad = [str(k) for k in self.invalid_steps]
        listed = bad[0] if len(bad) == 1 else ", ".join(bad[:-1]) + " and " + bad[-1] if bad else ""
        steps = f"invalid step{'s' if len(bad) > 1 else ''} {listed}"
        if self.status == "parse-error" and not self.steps:
            return f"parse error: {self.message}" if self.message else "no derivation found"
        head = "right result" if self.reaches_reference else "does not reach the reference result"
        if bad:
            return f"{head}, {steps}"
        if self.status == "valid":
            return (
                f"{head}, every step valid" if self.reaches_reference else f"every step valid, but it {head}"
            )
        open_ = [str(s.step) for s in self.steps if s.status != "valid"]
        return f"{head}; steps {', '.join(open_)} not decided ({self.status})"

    def summary(self) -> str:
        """A short text: the verdict, then one line per step that is not valid."""
        lines = [f"{self.status}: {self.verdict()}"]
        for s in self.steps:
            if s.status == "valid":
                continue
            what = f" ({s.slip})" if s.slip else ""
            lines.append(f"  step {s.step} {s.mark} {s.status}{what}: {s.message}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``derive check-steps --json``."""
        return {
            "problem": self.problem,
            "status": self.status,
            "reaches_reference": self.reaches_reference,
            "first_invalid": self.first_invalid,
            "steps": [s.to_dict() for s in self.steps],
            "warnings": list(self.warnings),
            "message": self.message,
        }
