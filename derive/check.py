r"""The homework answer checker: a LaTeX answer in, a sound verdict out.

``check_answer(problem_id, latex)`` parses the answer with the problem's notation
(:mod:`derive.latex`, a lark grammar — never ``eval``/``sympify``), then decides whether it equals
the problem's *proved* reference (:mod:`derive.equivalence`). The whole check runs in a forked
child under a time and memory limit (:mod:`derive.sandbox`), so hostile input (``10^{10^{10}}``,
thousands of nested brackets) ends as ``"timeout"`` or ``"parse-error"``, never as a hang or a
crash of the caller.

Statuses and exit codes: ``equivalent`` 0 (with how it was proved), ``not-equivalent`` 1 (with a
counterexample confirmed in high precision), ``parse-error`` 2 (with the column), ``undecided`` 3
(with the numeric evidence), ``timeout`` 3. A chain ``L = E_1 = ... = E_n`` is right only when
every member equals the reference; the first one that does not is named with its counterexample.

``check_steps(problem_id, text)`` (from :mod:`derive.steps`) checks a whole derivation step by
step instead: which line does not follow, why, and a counterexample.

>>> r = check_answer("batchnorm-logdet", r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i^2+\epsilon)")
>>> r.status, r.exit_code
('equivalent', 0)
>>> check_answer("batchnorm-logdet", r"-\sum_i \log(\tilde\sigma_i^2+\epsilon)").status
'not-equivalent'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import sympy as sp

from derive.equivalence import decide
from derive.errors import ParseError, ResourceLimitError
from derive.latex import parse_derivation, parse_expression
from derive.problems import Problem, get_problem
from derive.sandbox import run_pooled

if TYPE_CHECKING:
    from derive.steps import StepResult, StepsResult, check_steps

#: Re-exported from :mod:`derive.steps`, imported on first use (a one-shot answer check never needs them).
_FROM_STEPS = ("StepResult", "StepsResult", "check_steps")


def __getattr__(name: str) -> Any:
    if name in _FROM_STEPS:
        import derive.steps

        value = getattr(derive.steps, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "CheckResult",
    "StepResult",
    "StepsResult",
    "check_answer",
    "check_answer_unlimited",
    "check_steps",
]

Status = Literal["equivalent", "not-equivalent", "parse-error", "undecided", "timeout"]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY_MB = 2048

_EXIT = {"equivalent": 0, "not-equivalent": 1, "parse-error": 2, "undecided": 3, "timeout": 3}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer. ``to_dict()`` gives the JSON the CLI prints (``--json``)."""

    problem: str
    status: Status
    message: str
    method: str = ""
    counterexample: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    column: int | None = None
    answer: str = ""

    @property
    def exit_code(self) -> int:
        return _EXIT[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "status": self.status,
            "message": self.message,
            "method": self.method,
            "counterexample": self.counterexample,
            "warnings": list(self.warnings),
            "evidence": self.evidence,
            "column": self.column,
            "answer": self.answer,
        }

    def summary(self) -> str:
        """Human-readable lines: the verdict, then how, then warnings."""
        lines = [f"{self.status}: {self.message}"]
        if self.method:
            lines.append(f"  method: {self.method}")
        if self.counterexample:
            shown = ", ".join(f"{k} = {v}" for k, v in self.counterexample.items())
            lines.append(f"  counterexample: {shown}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@cache
def _reference(problem_id: str) -> sp.Expr:
    """The problem's proved reference, with the parser's and the equivalence engine's caches warmed.

    Done once per process, in the parent: every forked child then starts with the lark parser
    built and the named quantities parsed (rebuilding them cost ~60 ms per check).
    """
    problem = get_problem(problem_id)
    ref = problem.proved_reference()  # from the cache of proved references when it has it
    parse_expression(problem.target_latex, problem.notation)
    decide(ref, ref, problem.domain)
    return ref


def _exempt_lhs(problem: Problem, lhs: sp.Expr) -> bool:
    """A left-hand side that only names the answer: the problem's quantity or a new symbol (``y = ...``).

    A symbol of the problem (``D = ...``) is a claim like any other member, so it is checked.
    """
    known = {*problem.notation.scalars.values(), *(r[0] for r in problem.notation.index_ranges.values())}
    return bool(lhs == problem.target or (isinstance(lhs, sp.Symbol) and lhs not in known))


def _refused(problem: Problem, member: sp.Expr, reference: sp.Expr, cex: dict[str, Any]) -> str | None:
    """Why an engine counterexample fails the independent re-check (``None``: it stands)."""
    from derive.steps._recheck import recheck

    minimums = {s.symbol: s.minimum for s in problem.domain.sizes}
    return recheck(reference, member, cex, problem.domain.definitions, minimums)


def check_answer_unlimited(problem_id: str, latex: str, *, strict: bool = True) -> CheckResult:
    r""":func:`check_answer` without the sandbox (for trusted input, tests and profiling).

    A chain ``L = E_1 = \dots = E_n`` is right only if *every* member after the left-hand side
    equals the reference (and the left-hand side too, unless it merely names the quantity); the
    first member that does not is named, with its counterexample.
    """
    problem = get_problem(problem_id)
    reference = _reference(problem_id)
    try:
        derivation = parse_derivation(latex, problem.notation)
    except ParseError as err:
        return CheckResult(problem_id, "parse-error", err.one_line(), column=err.column, answer=latex)
    warnings = derivation.warnings
    lines = derivation.lines
    if len(lines) > 1 and _exempt_lhs(problem, lines[0].expr):
        lines = lines[1:]
    verdicts: list[tuple[int, Any]] = []
    for k, line in enumerate(lines):
        where = f"member {k + 1} of the chain (column {line.column})" if len(lines) > 1 else "the answer"
        if line.expr.has(problem.target):
            return CheckResult(
                problem_id,
                "not-equivalent",
                f"{where} is written in terms of ${problem.target_latex}$ itself",
                warnings=warnings,
                answer=latex,
                column=line.column if len(lines) > 1 else None,
            )
        verdict = decide(line.expr, reference, problem.domain, accept_concrete=not strict)
        if verdict.status == "not-equivalent":
            refused = _refused(problem, line.expr, reference, dict(verdict.counterexample or {}))
            if refused is not None:
                verdict = replace(
                    verdict,
                    status="undecided",
                    message=f"Could not decide: a counterexample was refused on independent re-check ({refused}).",
                    counterexample=None,
                )
        verdicts.append((k, verdict))
        if verdict.status == "not-equivalent":
            message = (
                verdict.message
                if len(lines) == 1
                else f"{where} is not equal to the reference: "
                + verdict.message.removeprefix("The answer is not equivalent to the reference: ")
            )
            return CheckResult(
                problem_id,
                "not-equivalent",
                message,
                method=verdict.method,
                counterexample=verdict.counterexample,
                warnings=warnings,
                evidence=verdict.evidence,
                column=line.column if len(lines) > 1 else None,
                answer=latex,
            )
    open_ = [(k, v) for k, v in verdicts if v.status != "equivalent"]
    k, verdict = open_[0] if open_ else verdicts[-1]
    message = verdict.message
    if open_ and len(lines) > 1:
        message = f"member {k + 1} of the chain: {verdict.message}"
    return CheckResult(
        problem_id,
        verdict.status,
        message,
        method=verdict.method,
        counterexample=verdict.counterexample,
        warnings=warnings,
        evidence=verdict.evidence,
        answer=latex,
    )


def check_answer(
    problem_id: str,
    latex: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    strict: bool = True,
) -> CheckResult:
    r"""Check ``latex`` against problem ``problem_id`` under a time and memory limit.

    ``strict`` (default): "equivalent" only with a proof for all sizes; with ``strict=False`` an
    identity proved at every trial size (D, T) is also accepted (the method says which sizes).
    Raises :class:`~derive.errors.UnknownProblemError` for an unknown id.
    """
    get_problem(problem_id)  # unknown ids fail here, in the caller's process
    _reference(problem_id)  # warm the parent so the sandboxed worker starts with the caches
    try:
        return run_pooled(  # one persistent sandboxed worker, reused by repeated calls
            check_answer_unlimited, problem_id, latex, strict=strict, timeout=timeout, memory_mb=memory_mb
        )
    except ResourceLimitError as err:
        what = "memory" if err.kind == "memory" else "time"
        return CheckResult(
            problem_id,
            "timeout",
            f"gave up: the check exceeded its {what} limit ({err.one_line()})",
            evidence={"limit": err.kind, "timeout_s": timeout, "memory_mb": memory_mb},
            answer=latex,
        )
    except RuntimeError as err:
        return CheckResult(problem_id, "undecided", f"could not decide: internal error ({err})", answer=latex)
