r"""The work one pool worker does for one submission: check it, word the feedback, render the maths.

:func:`grade_one` runs inside a sandboxed worker (:class:`derive.sandbox.WorkerPool`); its result
is a plain dict (it crosses a pipe). The parent turns worker failures into the statuses
``timeout`` and ``resource-limit`` (:func:`failure`).

>>> r = grade_one("batchnorm-logdet", r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i^2+\epsilon)", "answer")
>>> r["status"], r["math"][0].startswith("<math")
('equivalent', True)
"""

from __future__ import annotations

import re
from typing import Any

from derive.errors import DeriveError, ResourceLimitError
from derive.grade._feedback import answer_feedback, steps_feedback

__all__ = ["failure", "grade_one", "render_math"]

#: Longest MathML kept for the HTML report, per formula (beyond it the LaTeX source is shown).
MAX_MATHML = 100_000


_GREEK = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
]
_LETTERS = dict(
    zip(
        _GREEK,
        "αβγδεεζηθϑικλμνξπρστυφφχψωΓΔΘΛΞΠΣΦΨΩ",
        strict=True,
    )
)
_ACCENTS = {"tilde": "\u0303", "hat": "\u0302", "bar": "\u0304", "overline": "\u0305", "dot": "\u0307"}
_ACCENTED = re.compile(r"^\\(tilde|hat|bar|overline|dot|mathbf|boldsymbol|mathrm)\{(.+)\}$")


def display_name(name: str) -> str:
    r"""A LaTeX symbol name as the letters a reader sees: ``\tilde{\sigma}`` -> σ̃, ``\mu`` -> μ."""
    match = _ACCENTED.match(name)
    if match:
        inner = display_name(match.group(2))
        return inner + _ACCENTS.get(match.group(1), "")
    if name.startswith("\\"):
        return _LETTERS.get(name[1:], name[1:])
    return name


def _readable(expr: Any) -> Any:
    """``expr`` with LaTeX-named symbols and indexed bases renamed for display (rendering only)."""
    import sympy as sp

    swap: dict[Any, Any] = {}
    for atom in expr.atoms(sp.Symbol, sp.IndexedBase):
        name = str(atom.label) if isinstance(atom, sp.IndexedBase) else atom.name
        shown = display_name(name)
        if shown != name:
            swap[atom] = sp.IndexedBase(shown) if isinstance(atom, sp.IndexedBase) else sp.Symbol(shown)
    return expr.xreplace(swap) if swap else expr


def _mathml(expr: Any, prefix: str = "") -> str | None:
    from sympy.printing.mathml import mathml

    try:
        body = mathml(_readable(expr), printer="presentation")
    except Exception:
        return None
    if len(body) > MAX_MATHML:
        return None
    return f'<math display="block">{prefix}{body}</math>'


def render_math(problem_id: str, text: str, mode: str) -> list[str]:
    """MathML (Core, presentation) of the parsed answer, or of each line of a derivation; [] if unreadable.

    The lines of a derivation are shown as a chain (``= E_k``); the problem's own quantity
    (``log|det dy/dx|``) is shown by its name.
    """
    import sympy as sp

    from derive.latex import parse_derivation, parse_expression
    from derive.problems import get_problem

    problem = get_problem(problem_id)
    try:
        if mode == "steps":
            lines = [line.expr for line in parse_derivation(text, problem.notation).lines]
        else:
            lines = [parse_expression(text, problem.notation).expr]
    except DeriveError:
        return []
    named = {problem.target: sp.Symbol(str(problem.target))}
    shown = (_mathml(e.xreplace(named), "<mo>=</mo>" if k else "") for k, e in enumerate(lines))
    return [m for m in shown if m is not None]


def grade_one(problem_id: str, text: str, mode: str, render: bool = True) -> dict[str, Any]:
    """Check ``text`` (a final answer, or a derivation when ``mode == "steps"``) and describe the verdict."""
    if mode == "steps":
        from derive.steps import check_steps_unlimited

        steps = check_steps_unlimited(problem_id, text).to_dict()
        first = next((s for s in steps["steps"] if s["status"] == "invalid"), None)
        out = {
            "status": steps["status"],
            "message": steps.get("message") or _steps_message(steps),
            "feedback": steps_feedback(steps),
            "counterexample": first.get("counterexample") if first else None,
            "warnings": list(steps.get("warnings", ())),
            "steps": steps["steps"],
            "reaches_reference": bool(steps["reaches_reference"]),
            "first_invalid": steps["first_invalid"],
        }
    else:
        from derive.check import check_answer_unlimited

        result = check_answer_unlimited(problem_id, text)
        out = {
            "status": result.status,
            "message": result.message,
            "feedback": answer_feedback(result.status, result.message, result.counterexample, result.column),
            "counterexample": result.counterexample,
            "warnings": list(result.warnings),
        }
    out["math"] = render_math(problem_id, text, mode) if render else []
    return out


def _steps_message(steps: dict[str, Any]) -> str:
    bad = [str(s["step"]) for s in steps["steps"] if s["status"] == "invalid"]
    head = "reaches the reference" if steps["reaches_reference"] else "does not reach the reference"
    return f"{head}; invalid steps: {', '.join(bad)}" if bad else head


def failure(error: BaseException, timeout: float, memory_mb: int) -> dict[str, Any]:
    """The record fields for a submission whose worker failed (``error`` as the pool reports it)."""
    if isinstance(error, ResourceLimitError) and error.kind == "memory":
        status = "resource-limit"
        message = f"gave up: the check exceeded its memory limit of {memory_mb} MiB ({error.one_line()})"
    elif isinstance(error, ResourceLimitError):
        status = "timeout"
        message = f"gave up: the check exceeded its time limit of {timeout:g} s"
    else:
        status = "undecided"
        message = f"could not decide: internal error ({error})"
    return {
        "status": status,
        "message": message,
        "feedback": answer_feedback(status, message, None, None),
        "counterexample": None,
        "warnings": [],
        "math": [],
    }
