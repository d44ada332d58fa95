r"""How a proof step is justified: small check objects, each turning (before, after) into a theorem.

A check receives the step's own ``before`` and ``after`` and returns a kernel
:class:`~derive.proof.kernel.Theorem` stating exactly ``before = after`` — or raises
:class:`~derive.errors.VerificationError`. Checks hold no evidence of their own: they only call the
kernel's rules, so a check (even a user-written one) cannot make a false step pass, and
:class:`~derive.proof.ChainBuilder` refuses a theorem about anything but the step it certifies.

* :class:`Identity` — computer algebra (``expand_sums``: sums with concrete bounds term by term);
* :class:`SummandIdentity` — equal summands over the same range;
* :class:`PeelLastTerm` — the definition of a finite sum;
* :class:`Rewrite` — replace earlier kernel theorems' left sides (never a hand-made ``Fact``);
* :class:`ChangeOfVariables`, :class:`ChainRule`, :class:`StandardNormal`, :class:`InverseFunction`
  — instances of cited axioms, computed from the models the step's quantities are about;
* :class:`FromJacobian`, :class:`Differentiate` — log-determinants and entries computed from the model;
* :class:`RankOneUpdate` — the log-determinant of a layer at symbolic D whose Jacobian the kernel
  factors as :math:`sI + c\,\mathbf{a}\mathbf{b}^\top` (matrix determinant lemma, cited);
  :class:`LowRankUpdate` — the same for :math:`I + \sum_t c_t\mathbf{a}_t\mathbf{b}_t^\top` (Sylvester's identity).

>>> import sympy as sp
>>> from derive.symbols import sigma, i
>>> Identity().prove(sp.log(sigma[1, i] ** 2), 2 * sp.log(sigma[1, i])).detail
'expand'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from derive._expr import as_expr
from derive.errors import VerificationError
from derive.proof import kernel as K
from derive.proof._algebra import eliminate_radicals, is_zero
from derive.proof.kernel import Theorem

__all__ = [
    "ChainRule",
    "ChangeOfVariables",
    "Check",
    "Differentiate",
    "FromBlocks",
    "FromJacobian",
    "Identity",
    "Induction",
    "InverseFunction",
    "LowRankUpdate",
    "PeelLastTerm",
    "RankOneUpdate",
    "Rewrite",
    "StandardNormal",
    "SummandIdentity",
    "UsingFacts",
    "eliminate_radicals",
    "is_zero",
]


class Check(ABC):
    """A way of proving ``before = after`` through the kernel."""

    #: Theorems handed in by the caller (their axioms are not introduced by this step).
    cited: tuple[Theorem, ...] = ()

    @abstractmethod
    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        """A kernel theorem ``before = after``, or raise VerificationError."""


@dataclass(frozen=True)
class Identity(Check):
    """``before = after`` by computer algebra on hygienic forms."""

    expand_sums: bool = False

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        return K.algebra(before, after, self.expand_sums)


@dataclass(frozen=True)
class SummandIdentity(Check):
    r""":math:`\sum_{k=a}^{b} f_k = \sum_{k=a}^{b} g_k` because :math:`f_k = g_k` for every k in the range."""

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        return K.sum_congruence(before, after)


@dataclass(frozen=True)
class PeelLastTerm(Check):
    r"""Split the last (``first``: the first) term off every sum ending (starting) at ``bound``, on
    either side, then compare by algebra."""

    bound: sp.Expr
    first: bool = False

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        def peeled(e: sp.Expr) -> Theorem | None:
            try:
                return K.peel(e, self.bound, self.first)
            except VerificationError as err:
                if "to split" in str(err):
                    return None
                raise

        tb, ta = peeled(before), peeled(after)
        if tb is None and ta is None:
            which = "first" if self.first else "last"
            raise VerificationError(f"no sum with {which} index {sp.sstr(self.bound)} to split")
        left = tb if tb is not None else K.refl(before)
        right = ta if ta is not None else K.refl(after)
        return K.trans(left, K.trans(K.algebra(left.rhs, right.rhs), K.sym(right)))


def _rewrite_both(before: sp.Expr, after: sp.Expr, theorems: tuple[Theorem, ...], then: Check) -> Theorem:
    def apply(e: sp.Expr) -> tuple[Theorem, int]:
        th, used = K.refl(e), 0
        for t in theorems:
            try:
                step = K.rewrite(t, th.rhs)
            except VerificationError as err:
                if "does not occur" in str(err):
                    continue
                raise
            th, used = K.trans(th, step), used + 1
        return th, used

    tb, nb = apply(before)
    ta, na = apply(after)
    if nb + na == 0:
        raise VerificationError("none of the cited statements occurs in the step")
    return K.trans(tb, K.trans(then.prove(tb.rhs, ta.rhs), K.sym(ta)))


@dataclass(frozen=True)
class Rewrite(Check):
    """Replace the left side of each cited kernel theorem by its right side (both sides), then ``then``."""

    theorems: tuple[Theorem, ...]
    then: Check = field(default_factory=Identity)
    cite: str = ""

    def __post_init__(self) -> None:
        for th in self.theorems:
            if not isinstance(th, Theorem):
                raise VerificationError(
                    f"only kernel theorems can be cited, not {type(th).__name__} (a hand-made fact proves nothing)"
                )
        object.__setattr__(self, "cited", tuple(self.theorems))

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        return _rewrite_both(as_expr(before), as_expr(after), self.theorems, self.then)


#: The old name: it now takes kernel theorems only.
UsingFacts = Rewrite


def _instances(
    where: sp.Expr, kind: tuple[type, ...], make: Callable[[sp.Expr], Theorem]
) -> tuple[Theorem, ...]:
    found = sorted(as_expr(where).atoms(*kind), key=sp.default_sort_key)
    if not found:
        names = ", ".join(k.__name__ for k in kind)
        raise VerificationError(f"the step has no {names} to apply the rule to")
    return tuple(make(q) for q in found)


@dataclass(frozen=True)
class _ModelRule(Check):
    """Instances of one kernel rule for every matching quantity on the step's left side, then ``then``."""

    then: Check = field(default_factory=Identity)

    def _kinds(self) -> tuple[type, ...]:
        raise NotImplementedError

    def _make(self, q: sp.Expr) -> Theorem:
        raise NotImplementedError

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        before = as_expr(before)
        return _rewrite_both(before, as_expr(after), _instances(before, self._kinds(), self._make), self.then)


@dataclass(frozen=True)
class ChangeOfVariables(_ModelRule):
    """Axiom: the density of a bijection's output (``total``: the whole flow ε ↦ z_T at a concrete T).

    The instance is made for each output density on the step's left side (``side="after"``: on its
    right side, for a step that expresses an input's density through its output's).
    """

    total: bool = False
    side: str = "before"

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        before, after = as_expr(before), as_expr(after)
        where = after if self.side == "after" else before
        return _rewrite_both(before, after, _instances(where, self._kinds(), self._make), self.then)

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogQ, LogQOut

        return (LogQ, LogQOut)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.change_of_variables_total(q) if self.total else K.change_of_variables(q)


@dataclass(frozen=True)
class ChainRule(_ModelRule):
    """Axioms: chain rule and det(AB) = det A det B, for the whole flow's log-det."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogDetTotal

        return (LogDetTotal,)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.logdet_chain(q)


@dataclass(frozen=True)
class StandardNormal(_ModelRule):
    """Axiom: the standard normal log-density, in the flow's dimension."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogN, LogQOut

        return (LogN, LogQOut)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.gaussian(q)


@dataclass(frozen=True)
class FromJacobian(_ModelRule):
    """A log-determinant from the model's Jacobian (structure computed; triangular det: axiom)."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogDetMap, LogDetStep

        return (LogDetStep, LogDetMap)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.jacobian_logdet(q)


@dataclass(frozen=True)
class RankOneUpdate(_ModelRule):
    r"""A log-determinant at symbolic D from a Jacobian :math:`sI + c\,\mathbf{a}\mathbf{b}^\top` that the
    kernel computes and factors from the model (planar, radial); the determinant is the cited lemma."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogDetMap

        return (LogDetMap,)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.rank_one_logdet(q)


@dataclass(frozen=True)
class LowRankUpdate(_ModelRule):
    r"""A log-determinant at symbolic D from a Jacobian :math:`I + \sum_t c_t\,\mathbf{a}_t\mathbf{b}_t^\top` found
    by the kernel (Sylvester flows); Sylvester's determinant identity (cited) gives the small determinant."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogDetMap

        return (LogDetMap,)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.low_rank_logdet(q)


@dataclass(frozen=True)
class Differentiate(_ModelRule):
    """Jacobian entries differentiated from the model."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import JacEntry

        return (JacEntry,)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.jacobian_entry(q)


@dataclass(frozen=True)
class Induction(Check):
    """Axiom: induction on ℕ — ``lhs = rhs`` for all ``var`` from the base case and the step (matched
    against the motive by the kernel), then rewrite the step's left side with it."""

    var: sp.Symbol
    base: Theorem
    step: Theorem
    n: sp.Symbol

    def __post_init__(self) -> None:
        object.__setattr__(self, "cited", (self.base, self.step))

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        th = K.induction(self.var, as_expr(before), as_expr(after), self.base, self.step, self.n)
        return th


@dataclass(frozen=True)
class InverseFunction(Check):
    """Axiom: the inverse map's log-det is minus the forward map's (inverse checked on the models)."""

    forward: sp.Expr = field(default_factory=sp.Integer)
    then: Check = field(default_factory=Identity)

    def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
        from derive.quantities import LogDetMap

        before = as_expr(before)
        found = [q for q in before.atoms(LogDetMap) if q != self.forward]
        if len(found) != 1:
            raise VerificationError("the inverse-function rule needs one inverse map's log-det on the left")
        return _rewrite_both(before, as_expr(after), (K.inverse_logdet(found[0], self.forward),), self.then)


@dataclass(frozen=True)
class FromBlocks(_ModelRule):
    """A log-determinant at symbolic size from the model's block structure (issue 11): a coupling's row
    ranges, or an image layer's pixel blocks (entries differentiated; the spatial factor H·W computed)."""

    def _kinds(self) -> tuple[type, ...]:
        from derive.quantities import LogDetMap

        return (LogDetMap,)

    def _make(self, q: sp.Expr) -> Theorem:
        return K.block_logdet(q)
