r"""Render a verified :class:`~derive.proof.Proof` as LaTeX, Markdown or plain text.

Rendering never checks anything: it only shows what was checked. Every step is displayed with its
rule, its justification, and how the computer algebra verified it.

>>> from derive.derivations.iaf import iaf_general_proof
>>> text = render(iaf_general_proof(), "text")
>>> "induction" in text and "verified:" in text
True
"""

from __future__ import annotations

from typing import Literal

import sympy as sp

from derive.errors import UsageError
from derive.proof._proof import Chain, Proof

__all__ = ["FORMATS", "render", "to_latex", "to_markdown", "to_text"]

Format = Literal["latex", "markdown", "text"]
FORMATS: tuple[str, ...] = ("latex", "markdown", "text")

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\title{%s}
\author{derive (every step machine-checked)}
\date{}
\begin{document}
\maketitle
"""


def _tex(e: sp.Expr) -> str:
    return sp.latex(e)


def _escape_text(s: str) -> str:
    """Plain text for a LaTeX text-mode context; $...$ math is kept."""
    out, math = [], False
    for ch in s:
        if ch == "$":
            math = not math
            out.append(ch)
        elif not math and ch in "&%#_":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _latex_chain(chain: Chain, number: list[int]) -> str:
    lines, notes = [], []
    for k, step in enumerate(chain.steps):
        number[0] += 1
        lhs = _tex(chain.lhs) if k == 0 else ""
        lines.append(rf"{lhs} &= {_tex(step.after)} && \text{{({number[0]}) {_escape_text(step.rule)}}}")
        why = f"{step.justification} " if step.justification else ""
        notes.append(
            rf"\item[({number[0]})] {_escape_text(why)}\emph{{Verified:}} {_escape_text(step.verification.describe())}"
        )
    body = " \\\\\n".join(lines)
    return (
        "\\begin{align*}\n" + body + "\n\\end{align*}\n"
        "{\\small\\begin{itemize}\n" + "\n".join(notes) + "\n\\end{itemize}}\n"
    )


def to_latex(proof: Proof, standalone: bool = False, notebook: bool = False) -> str:
    """LaTeX: one ``align*`` per chain, justifications and verifications listed under it."""
    number = [0]
    parts = []
    if standalone:
        parts.append(_PREAMBLE % _escape_text(proof.title))
    else:
        parts.append(f"% {proof.title}\n")
    parts.append(rf"\noindent\textbf{{Theorem.}} $\displaystyle {proof.statement}$" + "\n\n")
    if proof.assumptions:
        parts.append(r"\noindent\textbf{Assumptions.} $" + "$, $".join(proof.assumptions) + "$.\n\n")
    if proof.conventions:
        parts.append(r"\noindent\textbf{Conventions.} " + _escape_text(proof.conventions) + "\n\n")
    for sec in proof.sections:
        parts.append(rf"\subsection*{{{_escape_text(sec.title)}}}" + "\n")
        if sec.text:
            parts.append(_escape_text(sec.text) + "\n")
        for chain in sec.chains:
            parts.append(_latex_chain(chain, number))
        if sec.after_text:
            parts.append(_escape_text(sec.after_text) + "\n")
    parts.append(r"\hfill$\blacksquare$" + "\n")
    if standalone:
        parts.append("\\end{document}\n")
    out = "\n".join(parts)
    if notebook:
        return out.replace(r"\subsection*", r"\textbf").replace(r"\hfill$\blacksquare$", "")
    return out


def to_markdown(proof: Proof) -> str:
    """Markdown with ``$$`` display math (GitHub, Jupyter, MkDocs + MathJax)."""
    number = 0
    out = [f"# {proof.title}", "", f"**Theorem.** $\\displaystyle {proof.statement}$", ""]
    if proof.assumptions:
        out += ["**Assumptions.** " + ", ".join(f"${a}$" for a in proof.assumptions) + ".", ""]
    if proof.conventions:
        out += [f"**Conventions.** {proof.conventions}", ""]
    for sec in proof.sections:
        out += [f"## {sec.title}", ""]
        if sec.text:
            out += [sec.text, ""]
        for chain in sec.chains:
            rows, notes = [], []
            for k, step in enumerate(chain.steps):
                number += 1
                lhs = _tex(chain.lhs) if k == 0 else ""
                rows.append(rf"{lhs} &= {_tex(step.after)} && \text{{({number}) {step.rule}}}")
                why = f"{step.justification} " if step.justification else ""
                notes.append(f"{number}. {why}*Verified:* {step.verification.describe()}")
            out += ["$$", "\\begin{aligned}", " \\\\\n".join(rows), "\\end{aligned}", "$$", "", *notes, ""]
        if sec.after_text:
            out += [sec.after_text, ""]
    return "\n".join(out)


def to_text(proof: Proof) -> str:
    """Plain text (SymPy's string printer), one step per line."""
    number = 0
    out = [
        proof.title,
        "=" * len(proof.title),
        "",
        f"Theorem: {sp.sstr(proof.lhs)} = {sp.sstr(proof.result)}",
        "",
    ]
    for sec in proof.sections:
        out += [sec.title, "-" * len(sec.title)]
        for chain in sec.chains:
            out.append(f"  {sp.sstr(chain.lhs)}")
            for step in chain.steps:
                number += 1
                out.append(f"    = {sp.sstr(step.after)}")
                out.append(f"      ({number}) {step.rule}. verified: {step.verification.describe()}")
        out.append("")
    return "\n".join(out)


def render(proof: Proof, fmt: str = "latex", standalone: bool = False) -> str:
    """Render in ``fmt`` (one of :data:`FORMATS`); ``standalone`` applies to LaTeX only."""
    if fmt == "latex":
        return to_latex(proof, standalone=standalone)
    if fmt == "markdown":
        return to_markdown(proof)
    if fmt == "text":
        return to_text(proof)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
