r"""Render a :class:`~derive.proof.Proof` as LaTeX, Markdown, plain text or JSON.

Rendering never checks anything: it only shows what the kernel certified. Every format says the same
things — the theorem (computed from the kernel theorem), assumptions, conventions, the model, each
step with its rule, justification and how it was certified (cited axioms named as such, never as
"verified"), and the trusted base the proof rests on.

>>> from derive.derivations.iaf import iaf_general_proof
>>> text = render(iaf_general_proof(), "text")
>>> "induction" in text and "Trusted base" in text and "Sum(" not in text
True
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import sympy as sp
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm

from derive.errors import UsageError
from derive.proof._proof import Chain, Proof, Step

__all__ = ["FORMATS", "render", "to_json", "to_latex", "to_markdown", "to_text"]

Format = Literal["latex", "markdown", "text", "json"]
FORMATS: tuple[str, ...] = ("latex", "markdown", "text", "json")

_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\title{%s}
\author{derive (every step certified by its trusted kernel)}
\date{}
\begin{document}
\maketitle
"""


_UNICODE_MATH = {
    "σ̃": r"\tilde\sigma",
    "μ̃": r"\tilde\mu",
    "ŷ": r"\hat y",
    "∂": r"\partial",
    "σ": r"\sigma",
    "μ": r"\mu",
    "ε": r"\epsilon",
    "γ": r"\gamma",
    "β": r"\beta",
    "⇒": r"\Rightarrow",
    "≥": r"\ge",
    "≤": r"\le",
    "≠": r"\ne",
    "ℕ": r"\mathbb{N}",
    "⁻¹": r"^{-1}",
    "↦": r"\mapsto",
    "·": r"\cdot",
    "√": r"\surd",
}


def _escape_text(s: str) -> str:
    """Plain text for a LaTeX text-mode context; $...$ math is kept, unicode maths becomes LaTeX."""
    out, math, k = [], False, 0
    while k < len(s):
        ch = s[k]
        if ch == "$":
            math = not math
            out.append(ch)
        elif not math and (two := s[k : k + 2]) in _UNICODE_MATH:
            out.append(f"${_UNICODE_MATH[two]}$")
            k += 1
        elif not math and ch in _UNICODE_MATH:
            out.append(f"${_UNICODE_MATH[ch]}$")
        elif not math and ch in "&%#_^":
            out.append("\\" + ch if ch != "^" else r"\^{}")
        elif not math and ch in "{}":
            out.append("\\" + ch)
        else:
            out.append(ch)
        k += 1
    return "".join(out)


def _how(step: Step, latex: bool) -> str:
    """How the step was certified: what it cites, the axioms it introduces, what was computed."""
    esc, em = (_escape_text, lambda w: rf"\emph{{{w}}}") if latex else ((lambda t: t), (lambda w: w))
    parts = []
    if step.cite:
        parts.append(f"{em('By')} {esc(step.cite)}.")
    for a in step.axioms:
        parts.append(f"{em('Axiom')} {esc(a.name)} (cited: {esc(a.citation)}).")
    comp = step.computations() + [
        f"side condition: {c.split('; ', 1)[1]}" for c in step.conditions() if "; " in c
    ]
    if comp:
        parts.append(f"{em('Computed:')} " + esc("; ".join(comp)) + ".")
    return " ".join(parts)


def _latex_chain(chain: Chain, number: list[int]) -> str:
    lines, notes = [], []
    for k, step in enumerate(chain.steps):
        number[0] += 1
        lhs = sp.latex(chain.lhs) if k == 0 else ""
        lines.append(rf"{lhs} &= {sp.latex(step.after)} && \text{{({number[0]}) {_escape_text(step.rule)}}}")
        why = f"{step.justification} " if step.justification else ""
        notes.append(rf"\item[({number[0]})] {_escape_text(why)}{_how(step, latex=True)}")
    return (
        "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}\n"
        "{\\small\\begin{itemize}\n" + "\n".join(notes) + "\n\\end{itemize}}\n"
    )


def _trusted_base_latex(proof: Proof) -> str:
    items = [
        rf"\item \textbf{{{_escape_text(a.name)}}}: ${a.statement}$. Cited: {_escape_text(a.citation)}."
        for a in proof.axioms_used()
    ]
    body = "\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}\n" if items else "No axioms.\n"
    return (
        r"\subsection*{Trusted base}" + "\n"
        "Axioms this proof rests on (declared once in derive.proof.axioms, never computed):\n"
        + body
        + "Everything else was computed by the kernel: SymPy algebra on alpha-renamed expressions, "
        "differentiation of the models, the dependency analysis of Jacobians.\n"
    )


def to_latex(proof: Proof, standalone: bool = False, notebook: bool = False) -> str:
    """LaTeX: one ``align*`` per chain, justifications listed under it, the trusted base at the end."""
    number = [0]
    parts = [_PREAMBLE % _escape_text(proof.title) if standalone else f"% {proof.title}\n"]
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
    parts.append(_trusted_base_latex(proof))
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
                lhs = sp.latex(chain.lhs) if k == 0 else ""
                rows.append(rf"{lhs} &= {sp.latex(step.after)} && \text{{({number}) {step.rule}}}")
                why = f"{step.justification} " if step.justification else ""
                notes.append(f"{number}. {why}{_how(step, latex=False)}")
            out += ["$$", "\\begin{aligned}", " \\\\\n".join(rows), "\\end{aligned}", "$$", "", *notes, ""]
        if sec.after_text:
            out += [sec.after_text, ""]
    out += ["## Trusted base", "", "Axioms this proof rests on (declared, cited, never computed):", ""]
    out += [f"* **{a.name}**: ${a.statement}$. Cited: {a.citation}." for a in proof.axioms_used()] or [
        "* none"
    ]
    out += ["", "Everything else was computed by the kernel (see the kernel documentation).", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------- text
_GREEK = {
    "sigma": "σ",
    "mu": "μ",
    "epsilon": "ε",
    "gamma": "γ",
    "beta": "β",
    r"\tilde{\sigma}": "σ̃",
    r"\tilde{\mu}": "μ̃",
    r"\hat{y}": "ŷ",
    r"\log\sigma": "logσ",
}


class _TextPrinter(PrettyPrinter):
    """SymPy's unicode pretty printer, with indexed symbols as ``σ_t,i`` and LaTeX-named bases readable."""

    def _print_Indexed(self, e: sp.Indexed) -> prettyForm:
        name = str(e.base.label)
        name = _GREEK.get(name, name)
        idx = []
        for a in e.indices:
            s = sp.sstr(a)
            idx.append(s if s.isalnum() else f"({s})")
        return prettyForm(f"{name}_{','.join(idx)}")

    def _print_Symbol(self, e: sp.Symbol, bold_name: bool = False) -> prettyForm:
        if e.name.startswith("\\"):
            return prettyForm(_latex_to_text(e.name))
        return super()._print_Symbol(e, bold_name)


def _pretty(e: sp.Expr) -> str:
    return str(_TextPrinter({"use_unicode": True, "wrap_line": False}).doprint(e))


_MACROS = [
    (r"\\mathbf\{([^{}]*)\}", r"\1"),
    (r"\\boldsymbol\{([^{}]*)\}", r"\1"),
    (r"\\boldsymbol", ""),
    (r"\\mathcal\{([^{}]*)\}", r"\1"),
    (r"\\mathbb\{R\}", "ℝ"),
    (r"\\operatorname\{([^{}]*)\}", r"\1"),
    (r"\\text\{([^{}]*)\}", r"\1"),
    (r"\\emph\{([^{}]*)\}", r"\1"),
    (r"\\tilde\{?(?:\\sigma|σ)\}?", "σ̃"),
    (r"\\tilde\{?(?:\\mu|μ)\}?", "μ̃"),
    (r"\\hat\{?y\}?", "ŷ"),
    (r"\\tfrac12|\\frac12|\\tfrac\{1\}\{2\}", "½"),
    (r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)"),
    (r"\\frac(\w)(\w)", r"\1/\2"),
    (r"\\hat\s*y", "ŷ"),
    (r"\\sqrt\{([^{}]*)\}", r"√(\1)"),
    (r"\\left|\\right|\\big|\\Big|\\displaystyle", ""),
]
_SYMBOLS = {
    r"\sigma": "σ",
    r"\mu": "μ",
    r"\epsilon": "ε",
    r"\gamma": "γ",
    r"\beta": "β",
    r"\partial": "∂",
    r"\sum": "Σ",
    r"\prod": "Π",
    r"\log": "log ",
    r"\tanh": "tanh",
    r"\top": "ᵀ",
    r"\operatorname": "",
    r"\sim": "~",
    r"\det": "det",
    r"\exp": "exp",
    r"\ge": "≥",
    r"\le": "≤",
    r"\ne": "≠",
    r"\neq": "≠",
    r"\in": "∈",
    r"\mapsto": "↦",
    r"\to": "→",
    r"\cdots": "⋯",
    r"\cdot": "·",
    r"\odot": "⊙",
    r"\infty": "∞",
    r"\pi": "π",
    r"\quad": " ",
    r"\qquad": "  ",
    r"\Rightarrow": "⇒",
    r"\wedge": "∧",
    r"\forall": "∀",
    r"\ldots": "…",
    r"\dots": "…",
    r"\,": " ",
    r"\;": " ",
    r"\ ": " ",
}


def _latex_to_text(s: str) -> str:
    """Prose with LaTeX fragments as readable plain text (no backslashes left for the common macros)."""
    s = s.replace("$", "")
    for macro in sorted(_SYMBOLS, key=len, reverse=True):
        s = re.sub(re.escape(macro) + r"(?![A-Za-z])", _SYMBOLS[macro], s)
    for pattern, repl in _MACROS:
        for _ in range(3):
            s = re.sub(pattern, repl, s)
    s = re.sub(r"_\{([^{}]*)\}", r"_\1", s)
    s = re.sub(r"\^\{([^{}]*)\}", r"^\1", s)
    return s.replace("{", "").replace("}", "")


def _indent(block: str, prefix: str) -> list[str]:
    return [prefix + line for line in block.splitlines()]


def to_text(proof: Proof) -> str:
    """Plain text: the same content as the LaTeX form, expressions by SymPy's unicode pretty printer."""
    number = 0
    out = [proof.title, "=" * len(proof.title), "", "Theorem:"]
    out += _indent(_pretty(sp.Eq(proof.lhs, proof.result, evaluate=False)), "    ")
    for v, vals in proof.theorem.domain:
        out.append(f"    (checked for {v} in {{{', '.join(map(str, vals))}}} only)")
    out.append("")
    if proof.assumptions:
        out += ["Assumptions: " + ", ".join(_latex_to_text(a) for a in proof.assumptions) + ".", ""]
    if proof.conventions:
        out += ["Conventions: " + _latex_to_text(proof.conventions), ""]
    for sec in proof.sections:
        out += [sec.title, "-" * len(sec.title)]
        if sec.text:
            out += [_latex_to_text(sec.text), ""]
        for chain in sec.chains:
            out += _indent(_pretty(chain.lhs), "  ")
            for step in chain.steps:
                number += 1
                block = _pretty(step.after).splitlines()
                out.append("    = " + block[0])
                out += ["      " + line for line in block[1:]]
                why = f" {_latex_to_text(step.justification)}" if step.justification else ""
                out.append(f"      ({number}) {step.rule}.{why} {_how(step, latex=False)}")
            out.append("")
        if sec.after_text:
            out += [_latex_to_text(sec.after_text), ""]
    out += ["Trusted base", "------------", "Axioms this proof rests on (declared, cited, never computed):"]
    out += [
        f"  * {a.name}: {_latex_to_text(a.statement)}. Cited: {a.citation}." for a in proof.axioms_used()
    ] or ["  * none"]
    out += ["Everything else was computed by the kernel.", ""]
    return "\n".join(out)


def to_json(proof: Proof) -> str:
    """The proof as JSON: statement, every step with its rule, axioms and computations, the axioms used."""
    data: dict[str, Any] = proof.to_dict()
    return json.dumps(data, indent=2, ensure_ascii=False)


def render(proof: Proof, fmt: str = "latex", standalone: bool = False) -> str:
    """Render in ``fmt`` (one of :data:`FORMATS`); ``standalone`` applies to LaTeX only."""
    if fmt == "latex":
        return to_latex(proof, standalone=standalone)
    if fmt == "markdown":
        return to_markdown(proof)
    if fmt == "text":
        return to_text(proof)
    if fmt == "json":
        return to_json(proof)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
