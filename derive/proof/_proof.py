r"""Proofs: immutable chains of checked steps, grouped in sections.

A :class:`Chain` is ``lhs = e_1 = e_2 = ...``; each ``=`` is a :class:`Step` whose
:class:`~derive.proof.checks.Verification` says how the computer algebra confirmed it.
:class:`ChainBuilder` runs every check as the step is added, so an unverifiable step raises
:class:`~derive.errors.VerificationError` at once: a proof object cannot hold an unchecked step.

>>> import sympy as sp
>>> from derive.proof.checks import Identity
>>> x = sp.Symbol("x", positive=True)
>>> c = ChainBuilder(sp.log(x**2)).step(2 * sp.log(x), Identity(), "log of a power").build()
>>> c.result
2*log(x)
>>> ChainBuilder(sp.log(x**2)).step(sp.log(x), Identity(), "wrong")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derive.errors.VerificationError: step 1 (wrong): not an identity: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from derive._expr import as_expr
from derive.errors import VerificationError
from derive.proof.checks import Check, Verification

__all__ = ["Chain", "ChainBuilder", "Proof", "Section", "Step"]


@dataclass(frozen=True)
class Step:
    """One ``= expr`` of a chain: the rule applied, why, and how it was verified."""

    before: sp.Expr
    after: sp.Expr
    rule: str
    justification: str
    verification: Verification


@dataclass(frozen=True)
class Chain:
    """``lhs = steps[0].after = steps[1].after = ...``, every link verified."""

    lhs: sp.Expr
    steps: tuple[Step, ...]
    label: str = ""

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1].after if self.steps else self.lhs


class ChainBuilder:
    """Build a :class:`Chain`, verifying each step as it is added."""

    def __init__(self, lhs: sp.Expr, label: str = "") -> None:
        self._lhs = as_expr(lhs)
        self._steps: list[Step] = []
        self._label = label

    @property
    def current(self) -> sp.Expr:
        return self._steps[-1].after if self._steps else self._lhs

    def step(self, after: sp.Expr, check: Check, rule: str, justification: str = "") -> ChainBuilder:
        before = self.current
        after = as_expr(after)
        try:
            verification = check.verify(before, after)
        except VerificationError as err:
            where = f"{self._label}: " if self._label else ""
            raise VerificationError(f"{where}step {len(self._steps) + 1} ({rule}): {err}") from None
        self._steps.append(Step(before, after, rule, justification, verification))
        return self

    def build(self) -> Chain:
        return Chain(self._lhs, tuple(self._steps), self._label)


@dataclass(frozen=True)
class Section:
    """A titled part of a proof: prose (LaTeX allowed) and verified chains."""

    title: str
    text: str = ""
    chains: tuple[Chain, ...] = ()
    after_text: str = ""


@dataclass(frozen=True)
class Proof:
    r"""A complete, verified derivation of ``lhs = result``.

    ``claim`` is the chain that ends in the result; ``sections`` hold lemmas and sub-derivations
    it relies on, in reading order. Display it with :func:`derive.proof.render` or in a notebook
    (``_repr_latex_``).
    """

    title: str
    statement: str
    lhs: sp.Expr
    result: sp.Expr
    sections: tuple[Section, ...]
    assumptions: tuple[str, ...] = ()
    conventions: str = ""
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for sec in self.sections for c in sec.chains for s in c.steps)

    def chain(self, label: str) -> Chain:
        """The chain with this label (e.g. a lemma whose result other code reuses)."""
        for sec in self.sections:
            for c in sec.chains:
                if c.label == label:
                    return c
        known = ", ".join(c.label for sec in self.sections for c in sec.chains)
        raise KeyError(f"no chain labelled {label!r} in {self.title!r}; labels: {known}")

    def _repr_latex_(self) -> str:
        from derive.proof.render import to_latex

        return to_latex(self, notebook=True)
