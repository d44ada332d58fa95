r"""Show a :class:`StepsResult`: plain text with ✓/✗/? marks, or an annotated LaTeX document.

``render_latex`` re-emits the derivation as an ``align*`` display, one row per member, each row
marked :math:`\checkmark` (valid), :math:`\times` (invalid) or ``?``, followed by the reasons and
counterexamples; the document compiles with pdflatex (``amsmath``, ``amssymb``).

>>> from derive.steps._types import StepResult, StepsResult
>>> r = StepsResult("p", (StepResult(1, "valid", "a", "b", "by hand"),), True)
>>> print(render_text(r))
valid: right result, every step valid
      a
  ✓ 1 = b    [by hand]
"""

from __future__ import annotations

from derive.steps._types import StepResult, StepsResult

__all__ = ["render_latex", "render_text"]


def _point(cex: dict[str, object]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in cex.items() if k not in ("digits",))


def render_text(result: StepsResult) -> str:
    """One line per member with the step's mark, then the why for every step that is not valid."""
    lines = [f"{result.status}: {result.verdict()}"]
    if result.message and not result.steps:
        lines.append(f"  {result.message}")
    previous = None
    for s in result.steps:
        if s.source != previous:
            lines.append(f"      {s.source}")
        reason = f"    [{s.justification}]" if s.justification else ""
        where = f" (line {s.line})" if s.line is not None else ""
        lines.append(f"  {s.mark} {s.step} = {s.target}{reason}")
        if s.status != "valid":
            lines.append(f"      {s.status}{where}: {s.message}")
            if s.slip:
                lines.append(f"      slip: {s.slip}")
            if s.difference:
                lines.append(f"      difference (this line - previous): {s.difference}")
            if s.counterexample:
                lines.append(f"      counterexample: {_point(s.counterexample)}")
        lines += [f"      warning: {w}" for w in s.warnings]
        previous = s.target
    lines += [f"  warning: {w}" for w in result.warnings]
    return "\n".join(lines)


_SPECIAL = {
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "~": r"\~{}",
    "$": r"\$",
}


def _escape(text: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in text).replace("✓", "").replace("✗", "")


def _prose(text: str) -> str:
    """Escape text, keeping ``$...$`` spans (SymPy's LaTeX) as maths."""
    parts = text.split("$")
    if len(parts) % 2 == 0:  # unbalanced: no maths at all
        return _escape(text)
    return "".join(f"${p}$" if k % 2 else _escape(p) for k, p in enumerate(parts))


_LATEX_MARK = {
    "valid": r"\checkmark",
    "invalid": r"\times",
    "undecided": "?",
    "timeout": "?",
    "parse-error": "!",
}


def _row(s: StepResult) -> str:
    mark = _LATEX_MARK[s.status]
    note = rf"\text{{{_escape(s.justification)}}}\quad" if s.justification else ""
    return rf"  &= {s.target} && {note}{mark}\ \text{{({s.step})}} \\"


def render_latex(result: StepsResult, *, title: str = "") -> str:
    """A standalone LaTeX document: the derivation annotated with each step's verdict."""
    out = [
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=1.5cm,landscape]{geometry}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        rf"\section*{{{_escape(title or 'Step check: ' + result.problem)}}}",
        rf"\textbf{{{_escape(result.status)}}}: {_escape(result.verdict())}",
    ]
    previous = None
    rows: list[str] = []
    for s in result.steps:
        if s.status == "parse-error":
            continue
        if s.source != previous:
            if rows:
                out += [r"\begin{align*}", *rows, r"\end{align*}"]
            rows = [rf"  {s.source} \\"]
        rows.append(_row(s))
        previous = s.target
    if rows:
        out += [r"\begin{align*}", *rows, r"\end{align*}"]
    notes = [s for s in result.steps if s.status != "valid" or s.warnings]
    if notes:
        out.append(r"\begin{itemize}")
        for s in notes:
            out.append(rf"\item Step {s.step} ({_escape(s.status)}): {_prose(s.message)}")
            if s.slip:
                out.append(rf"\\ slip: \texttt{{{_escape(s.slip)}}}")
            if s.difference:
                out.append(rf"\\ difference (this line $-$ previous): ${s.difference}$")
            if s.counterexample:
                out.append(rf"\\ counterexample: \texttt{{{_escape(_point(s.counterexample))}}}")
            for w in s.warnings:
                out.append(rf"\\ warning: {_escape(w)}")
        out.append(r"\end{itemize}")
    for w in result.warnings:
        out.append(rf"\par\noindent warning: {_escape(w)}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
