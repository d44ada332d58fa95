r"""How a proof step is verified: small check objects, each turning (before, after) into evidence.

A check either returns a :class:`Verification` (what was done, under which assumptions) or raises
:class:`~derive.errors.VerificationError`. Nothing is taken on trust: an ``Identity`` is confirmed
by computer algebra, a ``Recomputed`` value is recomputed, a ``PeelLastTerm`` is matched
structurally against the definition of a finite sum.

The algebraic strategies are tried cheapest first and collected in a plain tuple, so adding one is
one line (the sympy.codegen ``optims_c99`` habit).

>>> from derive.symbols import sigma, i
>>> import sympy as sp
>>> Identity().verify(sp.log(sigma[1, i] ** 2), 2 * sp.log(sigma[1, i])).method
'expand'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.simplify.simplify import sum_simplify

from derive._expr import as_expr
from derive.errors import VerificationError

__all__ = [
    "Check",
    "Condition",
    "Fact",
    "Identity",
    "Instance",
    "PeelLastTerm",
    "Recomputed",
    "SummandIdentity",
    "UsingFacts",
    "Verification",
    "assumptions_used",
    "is_zero",
]


@dataclass(frozen=True)
class Verification:
    """Evidence that a step holds: the method that confirmed it and the assumptions it needed."""

    method: str
    assumptions: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        extra = f"; {self.detail}" if self.detail else ""
        if self.assumptions:
            return f"{self.method} under {', '.join(f'${a}$' for a in self.assumptions)}{extra}"
        return f"{self.method}{extra}"


def _positive_atoms(expr: sp.Expr) -> tuple[str, ...]:
    names = set()
    labels = {b.label for b in expr.atoms(sp.IndexedBase)}
    for a in expr.atoms(sp.Indexed, sp.Symbol, AppliedUndef):
        if not a.is_positive or a.is_integer or a in labels:
            continue
        if isinstance(a, sp.Indexed):
            names.add(f"{sp.latex(a.base.label)}_{{\\cdot}} > 0")
        else:
            names.add(f"{sp.latex(a)} > 0")
    return tuple(sorted(names))


def assumptions_used(*exprs: sp.Expr) -> tuple[str, ...]:
    """The positivity assumptions (from SymPy assumptions) of the atoms in ``exprs``, as text."""
    out: set[str] = set()
    for e in exprs:
        out.update(_positive_atoms(as_expr(e)))
    return tuple(sorted(out))


def _expand_all_logs(e: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(sp.expand(e), force=False))


def _sqrt_abs(e: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(sp.powsimp(sp.powdenest(sp.refine(e), force=False)), force=False))


def eliminate_radicals(e: sp.Expr) -> sp.Expr:
    r"""Rationalise square roots: :math:`\sqrt{a} \to S > 0` and an atom :math:`u` linear in :math:`a`
    by :math:`(S^2 - r)/c` (where :math:`a = c\,u + r`), then ``cancel``.

    A change of variables :math:`u \leftrightarrow S`, bijective where :math:`a > 0`, so an identity
    in the new variables is one in the old. Square roots with no linear atom are left alone.
    """
    e = as_expr(e)
    for k, root in enumerate(sorted(e.atoms(sp.Pow), key=sp.default_sort_key)):
        if root.exp != sp.Rational(1, 2) or not root.base.is_positive:
            continue
        a = root.base
        for u in sorted(a.free_symbols, key=sp.default_sort_key):
            poly = sp.Poly(sp.expand(a), u) if a.is_polynomial(u) else None
            if poly is None or poly.degree() != 1:
                continue
            c, r = poly.all_coeffs()
            S = sp.Dummy(f"S{k}", positive=True)
            e = e.subs(root, S).subs(u, (S**2 - r) / c)
            break
    return sp.cancel(sp.together(e))


def _log_arguments(e: sp.Expr) -> sp.Expr:
    """``sum c_k log a_k`` with every ``a_k >= 0``: compare ``prod a_k^(2 c_k)`` with 1 (logs of
    positive reals agree iff their arguments do)."""
    e = sp.expand_log(e, force=False)
    terms = sp.Add.make_args(e)
    num, den = sp.Integer(1), sp.Integer(1)
    for term in terms:
        c, rest = term.as_coeff_Mul()
        if not isinstance(rest, sp.log) or not c.is_Rational or not rest.args[0].is_nonnegative:
            return e
        arg = rest.args[0] ** (2 * abs(c))
        if c > 0:
            num *= arg
        else:
            den *= arg
    return eliminate_radicals(num - den)


# (name, transformation) — tried in order on before - after until one gives exactly 0.
STRATEGIES: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
    ("structural equality", lambda e: e),
    ("expand", sp.expand),
    ("linearity of sums (sum_simplify)", lambda e: sum_simplify(sp.expand(e))),
    ("expand_log (assumptions: positive atoms)", _expand_all_logs),
    ("radicals eliminated, cancel", eliminate_radicals),
    ("logs of nonnegative arguments compared, radicals eliminated", _log_arguments),
    ("refine + powdenest + expand_log", _sqrt_abs),
    ("simplify", sp.simplify),
)


def is_zero(expr: sp.Expr) -> str | None:
    """Name of the first strategy that reduces ``expr`` to exactly 0, else ``None``."""
    expr = as_expr(expr)
    for name, fn in STRATEGIES:
        if fn(expr) == 0:
            return name
    return None


class Check(ABC):
    """A way of confirming ``before = after``."""

    @abstractmethod
    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        """Return evidence, or raise VerificationError."""


@dataclass(frozen=True)
class Identity(Check):
    r"""``before - after`` reduces to 0 by algebra, with sums expanded first when ``expand_sums``.

    Symbolic-bound sums are compared as they stand (use :class:`SummandIdentity` to compare
    summands); concrete-bound sums are expanded with ``doit()`` when ``expand_sums`` is set.
    """

    expand_sums: bool = False

    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        diff = as_expr(before) - as_expr(after)
        if self.expand_sums:
            diff = diff.doit()
        method = is_zero(diff)
        if method is None:
            raise VerificationError(f"not an identity: before - after = {sp.sstr(sp.simplify(diff))}")
        if self.expand_sums:
            method = f"sums expanded, {method}"
        return Verification(method, assumptions_used(before, after))


def _as_single_sum(e: sp.Expr) -> tuple[sp.Expr, sp.Expr, tuple] | None:
    """``c * Sum(f, limits)`` → (c, f, limits), with c free of the summation index."""
    coeff, rest = as_expr(e).as_coeff_Mul()
    if isinstance(rest, sp.Sum):
        return coeff, rest.function, rest.limits
    if isinstance(rest, sp.Mul):
        sums = [a for a in rest.args if isinstance(a, sp.Sum)]
        if len(sums) == 1:
            other = sp.Mul(*[a for a in rest.args if a is not sums[0]])
            return coeff * other, sums[0].function, sums[0].limits
    return None


@dataclass(frozen=True)
class SummandIdentity(Check):
    r"""Both sides are single sums with identical limits whose summands are identical.

    :math:`\sum_{k=a}^{b} f_k = \sum_{k=a}^{b} g_k` for *all* bounds when :math:`f_k = g_k`
    identically; this is how identities with a symbolic number of terms (D, T) are proved.
    """

    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        lhs, rhs = _as_single_sum(before), _as_single_sum(after)
        if lhs is None or rhs is None:
            raise VerificationError("summand identity needs a single sum on each side")
        if lhs[2] != rhs[2]:
            raise VerificationError(f"sum limits differ: {lhs[2]} vs {rhs[2]}")
        method = is_zero((lhs[0] * lhs[1] - rhs[0] * rhs[1]).doit())
        if method is None:
            raise VerificationError("summands differ")
        bounds = ", ".join(f"{sp.sstr(k)}={sp.sstr(a)}..{sp.sstr(b)}" for k, a, b in lhs[2])
        return Verification(
            f"summands equal ({method}), so the sums agree for all bounds ({bounds})",
            assumptions_used(before, after),
        )


@dataclass(frozen=True)
class PeelLastTerm(Check):
    r"""The definition of a finite sum: :math:`\sum_{k=a}^{b} f_k = \sum_{k=a}^{b-1} f_k + f_b`.

    Every ``Sum(f, (k, a, bound))`` on either side is replaced by ``Sum(f, (k, a, bound - 1)) +
    f(bound)`` (``first=True``: every ``Sum(f, (k, bound, b))`` by ``f(bound) + Sum(f, (k, bound + 1,
    b))``); the two peeled sides must then agree by algebra.
    """

    bound: sp.Expr
    first: bool = False

    def _peel(self, e: sp.Basic) -> sp.Basic:
        if isinstance(e, sp.Sum) and len(e.limits) == 1:
            k, a, b = e.limits[0]
            f = self._peel(e.function)
            if not self.first and b == self.bound:
                return sp.Sum(f, (k, a, b - 1)) + f.subs(k, b)
            if self.first and a == self.bound:
                return f.subs(k, a) + sp.Sum(f, (k, a + 1, b))
        if not e.args:
            return e
        return e.func(*[self._peel(a) for a in e.args])

    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        before, after = as_expr(before), as_expr(after)
        peeled_before, peeled_after = self._peel(before), self._peel(after)
        which = "first" if self.first else "last"
        if peeled_before == before and peeled_after == after:
            raise VerificationError(f"no sum with {which} index {self.bound} to peel")
        method = is_zero(peeled_before - peeled_after)
        if method is None:
            raise VerificationError(f"the sides differ after splitting off the {which} term")
        return Verification(f"definition of a finite sum ({which} term split off), then {method}")


@dataclass(frozen=True)
class Recomputed(Check):
    """``after`` equals a value recomputed from the model (e.g. a derivative), and ``before`` names it."""

    compute: Callable[[], sp.Expr]
    how: str
    expand_sums: bool = False

    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        value = self.compute()
        target = as_expr(after).doit() if self.expand_sums else after
        method = is_zero(value - target)
        if method is None:
            raise VerificationError(f"recomputed value differs from the claim: {self.how}")
        return Verification(f"recomputed: {self.how}; agrees ({method})", assumptions_used(after))


@dataclass(frozen=True)
class Fact:
    """An established equality ``lhs = rhs`` (a lemma's result or an earlier chain), reusable by steps."""

    lhs: sp.Expr
    rhs: sp.Expr
    source: str

    @staticmethod
    def of(chain: object, source: str) -> Fact:
        """The fact proved by a :class:`~derive.proof.Chain` (its lhs equals its result)."""
        return Fact(chain.lhs, chain.result, source)  # type: ignore[attr-defined]

    def instantiate(self, old: sp.Expr, new: sp.Expr) -> Fact:
        """The fact with a universally quantified index ``old`` set to ``new``."""
        return Fact(self.lhs.subs(old, new), self.rhs.subs(old, new), self.source)


@dataclass(frozen=True)
class UsingFacts(Check):
    """Replace established facts' left sides by their right sides on both sides, then run ``then``."""

    facts: tuple[Fact, ...]
    then: Check = Identity()

    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        mapping = {f.lhs: f.rhs for f in self.facts}
        b, a = as_expr(before).xreplace(mapping), as_expr(after).xreplace(mapping)
        if b == before and a == after:
            raise VerificationError("none of the cited facts occurs in the step")
        inner = self.then.verify(b, a)
        used = "; ".join(f.source for f in self.facts)
        return Verification(f"by {used}, then {inner.method}", inner.assumptions, inner.detail)


#: A side condition of a theorem instance: what it says, and the computation that must return True.
Condition = tuple[str, Callable[[], bool]]


@dataclass(frozen=True)
class Instance(Check):
    r"""``before = after`` is an instance of a named theorem whose side conditions are checked here.

    The instance itself is built by the code from the model (never typed in), and every side
    condition is a computation that must return True: e.g. the change-of-variables formula needs
    an invertible map, checked as "triangular Jacobian with positive diagonal".
    """

    theorem: str
    conditions: tuple[Condition, ...] = ()
    form: Callable[[sp.Expr], sp.Expr] | None = None

    def verify(self, before: sp.Expr, after: sp.Expr) -> Verification:
        for text, cond in self.conditions:
            if not cond():
                raise VerificationError(f"side condition of {self.theorem} fails: {text}")
        if self.form is not None and is_zero(self.form(before) - after) is None:
            raise VerificationError(f"the step is not of the form of {self.theorem}")
        checked = "; ".join(text for text, _ in self.conditions)
        detail = f"side conditions checked: {checked}" if checked else ""
        return Verification(f"instance of {self.theorem}", (), detail)
