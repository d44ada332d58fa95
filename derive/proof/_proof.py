r"""Proofs: chains of kernel-certified steps, grouped in sections.

A :class:`Chain` is ``lhs = e_1 = e_2 = ...``; each ``=`` is a :class:`Step` carrying the kernel
:class:`~derive.proof.kernel.Theorem` that certifies exactly ``before = after``. :class:`ChainBuilder`
asks the step's check for that theorem and refuses one about anything else, so a proof object cannot
hold an unchecked step. A :class:`Proof`'s statement *is* its theorem (no typed-in statement), which
must have no open hypotheses; the proof lists every axiom its steps used.

>>> import sympy as sp
>>> from derive.proof.checks import Identity
>>> x = sp.Symbol("x", positive=True)
>>> c = ChainBuilder(sp.log(x**2)).step(2 * sp.log(x), Identity(), "log of a power").build()
>>> c.result, c.theorem
(2*log(x), ⊢ log(x**2) = 2*log(x))
>>> ChainBuilder(sp.log(x**2)).step(sp.log(x), Identity(), "wrong")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derive.errors.VerificationError: step 1 (wrong): not an identity: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derive._expr import as_expr
from derive.errors import VerificationError
from derive.proof import axioms as ax
from derive.proof import kernel as K
from derive.proof.checks import Check
from derive.proof.kernel import Theorem

__all__ = ["Chain", "ChainBuilder", "Proof", "Section", "Step"]

_SKIP = {"transitivity", "symmetry", "reflexivity", "rewrite"}


def _leaves(th: Theorem, stop: set[int], out: list[tuple[str, str]]) -> None:
    if id(th) in stop:
        return
    if th.rule not in _SKIP:
        out.append((th.rule, th.detail))
        if th.rule in ("induction", "finite cases", "instantiation"):
            return
    for p in th.premises:
        _leaves(p, stop, out)


@dataclass(frozen=True)
class Step:
    """One ``= after`` of a chain: the rule's name, the justification, and the certifying theorem."""

    before: sp.Expr
    after: sp.Expr
    rule: str
    justification: str
    theorem: Theorem
    cited: tuple[Theorem, ...] = ()
    cite: str = ""

    def __post_init__(self) -> None:
        # A step is only ever shown with the theorem that certifies exactly it.
        if not isinstance(self.theorem, Theorem) or (self.theorem.lhs, self.theorem.rhs) != (
            self.before,
            self.after,
        ):
            raise VerificationError(f"step {self.rule!r}: its theorem does not state this step")

    @property
    def axioms(self) -> tuple[ax.Axiom, ...]:
        """The axioms this step introduces (not those inside the theorems it cites)."""
        inherited = set().union(*(t.axioms for t in self.cited)) if self.cited else set()
        return tuple(a for a in ax.AXIOMS if a.name in self.theorem.axioms - inherited)

    def computations(self) -> list[str]:
        """What the kernel computed for this step, in order (no duplicates)."""
        out: list[tuple[str, str]] = []
        _leaves(self.theorem, {id(t) for t in self.cited}, out)
        seen, texts = {"structural equality"}, []
        for rule, detail in out:
            if rule == "axiom":
                continue
            text = detail if rule in ("algebra", "jacobian", "differentiation") else f"{rule}: {detail}"
            if text and text not in seen:
                seen.add(text)
                texts.append(text)
        return texts or ["the two sides are identical"]

    def conditions(self) -> list[str]:
        out: list[tuple[str, str]] = []
        _leaves(self.theorem, {id(t) for t in self.cited}, out)
        return sorted({detail for rule, detail in out if rule == "axiom"})

    def describe(self) -> str:
        """One line: the cited axioms (if any), then what was computed."""
        parts = []
        if self.cite:
            parts.append(f"by {self.cite}")
        for a in self.axioms:
            parts.append(f"axiom {a.name} (cited: {a.citation})")
        conds = [c.split("; ", 1)[1] for c in self.conditions() if "; " in c]
        comp = self.computations() + [f"side condition computed: {c}" for c in conds]
        if comp:
            parts.append(("then computed: " if parts else "computed: ") + "; ".join(comp))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "from": sp.latex(self.before),
            "to": sp.latex(self.after),
            "justification": self.justification,
            "axioms": [a.name for a in self.axioms],
            "computed": self.computations(),
            "cites": self.cite or None,
        }


@dataclass(frozen=True)
class Chain:
    """``lhs = steps[0].after = ...``; ``theorem`` is ``lhs = result`` (transitivity of the steps)."""

    lhs: sp.Expr
    steps: tuple[Step, ...]
    theorem: Theorem
    label: str = ""

    def __post_init__(self) -> None:
        ends = [self.lhs] + [s.after for s in self.steps]
        linked = all(s.before == e for s, e in zip(self.steps, ends, strict=False))
        if (
            not isinstance(self.theorem, Theorem)
            or not linked
            or (self.theorem.lhs, self.theorem.rhs) != (self.lhs, ends[-1])
        ):
            raise VerificationError(f"chain {self.label!r}: its steps and theorem do not match")

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1].after if self.steps else self.lhs


class ChainBuilder:
    """Build a :class:`Chain`, certifying each step through the kernel as it is added."""

    def __init__(self, lhs: sp.Expr, label: str = "") -> None:
        self._lhs = as_expr(lhs)
        self._steps: list[Step] = []
        self._label = label
        self._theorem = K.refl(self._lhs)

    @property
    def current(self) -> sp.Expr:
        return self._steps[-1].after if self._steps else self._lhs

    def _fail(self, rule: str, err: Exception) -> VerificationError:
        where = f"{self._label}: " if self._label else ""
        return VerificationError(f"{where}step {len(self._steps) + 1} ({rule}): {err}")

    def step(
        self, after: sp.Expr, check: Check, rule: str, justification: str = "", cite: str = ""
    ) -> ChainBuilder:
        before, after = self.current, as_expr(after)
        try:
            th = check.prove(before, after)
            if not isinstance(th, Theorem):
                raise VerificationError(f"the check returned {type(th).__name__}, not a kernel theorem")
            if th.lhs != before or th.rhs != after:
                raise VerificationError(
                    f"the check certified {sp.sstr(th.lhs)} = {sp.sstr(th.rhs)}, not this step"
                )
            self._theorem = K.trans(self._theorem, th)
        except VerificationError as err:
            raise self._fail(rule, err) from None
        self._steps.append(Step(before, after, rule, justification, th, tuple(check.cited), cite))
        return self

    def build(self) -> Chain:
        return Chain(self._lhs, tuple(self._steps), self._theorem, self._label)


@dataclass(frozen=True)
class Section:
    """A titled part of a proof: prose (LaTeX allowed) and verified chains."""

    title: str
    text: str = ""
    chains: tuple[Chain, ...] = ()
    after_text: str = ""


def _domain_text(th: Theorem) -> str:
    return "".join(
        rf"\quad(\text{{checked for }} {sp.latex(v)} \in \{{{', '.join(map(str, vals))}\}}\text{{ only}})"
        for v, vals in th.domain
    )


@dataclass(frozen=True)
class Proof:
    r"""A complete derivation whose statement is ``theorem`` (closed: no open hypotheses).

    ``sections`` hold the model, lemmas and sub-derivations in reading order. Display with
    :func:`derive.proof.render.render` or in a notebook (``_repr_latex_``).
    """

    title: str
    theorem: Theorem
    sections: tuple[Section, ...]
    assumptions: tuple[str, ...] = ()
    conventions: str = ""
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.theorem, Theorem):
            raise VerificationError("a proof's statement must be a kernel theorem")
        if not self.theorem.closed:
            raise VerificationError(f"the proof's theorem still has open hypotheses: {self.theorem!r}")

    @property
    def lhs(self) -> sp.Expr:
        return self.theorem.lhs

    @property
    def result(self) -> sp.Expr:
        return self.theorem.rhs

    @property
    def statement(self) -> str:
        """The theorem in LaTeX (computed from the theorem, never typed in)."""
        return f"{sp.latex(self.lhs)} = {sp.latex(self.result)}{_domain_text(self.theorem)}"

    @property
    def chains(self) -> tuple[Chain, ...]:
        return tuple(c for sec in self.sections for c in sec.chains)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for c in self.chains for s in c.steps)

    def axioms_used(self) -> tuple[ax.Axiom, ...]:
        """The trusted base of the whole proof: every axiom any of its steps or its theorem rests on."""
        names = set(self.theorem.axioms).union(*(c.theorem.axioms for c in self.chains))
        return tuple(a for a in ax.AXIOMS if a.name in names)

    def chain(self, label: str) -> Chain:
        """The chain with this label (e.g. a lemma whose theorem other code reuses)."""
        for c in self.chains:
            if c.label == label:
                return c
        known = ", ".join(c.label for c in self.chains)
        raise KeyError(f"no chain labelled {label!r} in {self.title!r}; labels: {known}")

    def to_dict(self) -> dict[str, Any]:
        """The proof as JSON-ready data: statement, steps with their rules, and the axioms used."""
        number = 0
        sections = []
        for sec in self.sections:
            chains = []
            for c in sec.chains:
                steps = []
                for s in c.steps:
                    number += 1
                    steps.append({"step": number, **s.to_dict()})
                chains.append({"label": c.label, "lhs": sp.latex(c.lhs), "steps": steps})
            sections.append({"title": sec.title, "chains": chains})
        return {
            "title": self.title,
            "statement": self.statement,
            "lhs": sp.latex(self.lhs),
            "result": sp.latex(self.result),
            "domain": {sp.sstr(v): list(vals) for v, vals in self.theorem.domain},
            "assumptions": list(self.assumptions),
            "sections": sections,
            "axioms": [
                {"name": a.name, "statement": a.statement, "citation": a.citation} for a in self.axioms_used()
            ],
            "meta": {
                k: (v if isinstance(v, (int, str, bool, type(None))) else str(v))
                for k, v in self.meta.items()
            },
        }

    def _repr_latex_(self) -> str:
        from derive.proof.render import to_latex

        return to_latex(self, notebook=True)
