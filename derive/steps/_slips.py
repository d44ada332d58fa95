r"""A small, open catalogue of slips: why an invalid step is wrong, when a rule recognises it.

Each rule is one small object with a ``name`` and ``candidates(before, after)``: expressions that
the *later* line would equal had the writer made exactly that slip on the earlier one (a sign
flipped on one term, a bound moved by one, a factor :math:`\tfrac12` or :math:`D` lost or gained,
:math:`\sigma` written for :math:`\sigma^2`, :math:`\log(a+b)` split as :math:`\log a + \log b`,
the inverse step's log-det used for the forward one). A rule *names* the slip only when the later
line is **proved** equal to its candidate (same engine as the steps), after a cheap numeric screen
at the counterexample; otherwise no name is given. The registry :data:`SLIPS` is a plain tuple:
adding a rule is one class and one entry.

>>> import sympy as sp

from derive.steps._latex import latex
>>> from derive.symbols import D, i, sigma
>>> s = sp.Sum(sp.log(sigma[0, i]), (i, 1, D))
>>> [str(c) for c, _ in SignFlip().candidates(1 + s, 1 - s)][:2]
['Sum(log(sigma[0, i]), (i, 1, D)) - 1', '1 - Sum(log(sigma[0, i]), (i, 1, D))']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sympy as sp

from derive.steps._latex import latex

__all__ = [
    "SLIPS",
    "BoundOffByOne",
    "Factor",
    "InverseLogDet",
    "LogOfSumSplit",
    "SigmaForSigmaSquared",
    "SignFlip",
    "Slip",
    "additive_terms",
]

Candidate = tuple[sp.Expr, str]

#: At most this many candidates per rule and step (the screen is cheap, proofs are not).
MAX_CANDIDATES = 40


def additive_terms(expr: sp.Expr) -> list[sp.Expr]:
    r"""The additive terms of ``expr``, looking through sums: :math:`\sum_i (a_i + b_i)` gives
    :math:`\sum_i a_i` and :math:`\sum_i b_i` (and the sum itself)."""
    out: list[sp.Expr] = []
    for term in sp.Add.make_args(expr):
        out.append(term)
        coeff, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.Sum) and isinstance(rest.function, sp.Add):
            for inner in additive_terms(rest.function):
                if inner != rest.function:
                    out.append(coeff * sp.Sum(inner, *rest.limits))
    unique: list[sp.Expr] = []
    for term in out:
        if term not in unique:
            unique.append(term)
    return unique


class Slip:
    """One kind of slip; subclasses set ``name``/``description`` and yield candidates."""

    name = ""
    description = ""

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        raise NotImplementedError


@dataclass(frozen=True)
class SignFlip(Slip):
    r"""One term of the earlier line (or of the later one) changed sign."""

    name = "sign-flip"
    description = "the sign of one term was flipped"

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        for term in additive_terms(before):
            yield before - 2 * term, f"the sign of ${latex(term)}$ was flipped"


@dataclass(frozen=True)
class InverseLogDet(Slip):
    r"""The forward step's log-det :math:`\sum_i\log\sigma_{t,i}` replaced by the inverse step's (its negative).

    ``forward`` is the proved forward log-det over ``(t, i)``; ``steps`` the range of t it is summed over.
    """

    forward: sp.Expr
    t: sp.Symbol
    big_t: sp.Symbol
    name = "inverse-logdet"
    description = "the inverse step's log-det was used for the forward step"

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        whole = sp.Sum(self.forward, (self.t, 1, self.big_t))
        steps = {
            x for x in (before.free_symbols | after.free_symbols) if x.is_integer and x.name == self.t.name
        }
        singles = [self.forward.xreplace({self.t: x}) for x in steps]  # one step t, as the line names it
        for value in (whole, self.forward, *singles):
            for sign in (1, -1):
                yield (
                    before + 2 * sign * value,
                    (
                        f"${latex(sign * value)}$ (the forward log-det) became its negative "
                        "(the inverse step's log-det)"
                    ),
                )


@dataclass(frozen=True)
class BoundOffByOne(Slip):
    r"""A summation bound moved by one (:math:`\sum_{t=1}^{T}` written :math:`\sum_{t=0}^{T}` ...)."""

    name = "bound-off-by-one"
    description = "a summation bound is off by one"

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        for s in before.atoms(sp.Sum):
            for k, (var, lo, hi) in enumerate(s.limits):
                for new, what in (
                    ((var, lo - 1, hi), f"lower bound {lo} became {lo - 1}"),
                    ((var, lo + 1, hi), f"lower bound {lo} became {lo + 1}"),
                    ((var, lo, hi + 1), f"upper bound {hi} became {hi + 1}"),
                    ((var, lo, hi - 1), f"upper bound {hi} became {hi - 1}"),
                ):
                    limits = list(s.limits)
                    limits[k] = new
                    yield before.xreplace({s: sp.Sum(s.function, *limits)}), f"in the sum over {var}: {what}"


@dataclass(frozen=True)
class Factor(Slip):
    r"""A factor lost or gained on one term: ``factor`` is the multiplier (2: a ½ lost, ½: a ½ gained)."""

    factor: sp.Expr
    name: str = "factor"
    what: str = ""
    #: Only terms that carry this factor can lose it (``1/2`` for a lost ½, ``D`` for a lost D).
    carried: sp.Expr | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.what

    def _carries(self, term: sp.Expr) -> bool:
        if self.carried is None:
            return True
        if self.carried.is_Rational:  # a 1/2 somewhere in it (a coefficient, a square root's exponent)
            q = sp.Rational(self.carried).q
            return any(r.q % q == 0 for r in term.atoms(sp.Rational))
        return bool(term.has(self.carried))

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        for term in additive_terms(before):
            if self._carries(term):
                yield before + (self.factor - 1) * term, f"${latex(term)}$ {self.what}"


@dataclass(frozen=True)
class SigmaForSigmaSquared(Slip):
    r""":math:`\sigma` written for :math:`\sigma^2` (or the other way round)."""

    name = "sigma-for-sigma-squared"
    description = "a square was dropped or added (sigma for sigma^2)"

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        for p in before.atoms(sp.Pow):
            if p.exp in (2, -2) and p.base.atoms(sp.Indexed):
                yield (
                    before.xreplace({p: p.base ** sp.sign(p.exp)}),
                    f"${latex(p)}$ became ${latex(p.base)}$",
                )
        for atom in before.atoms(sp.Indexed):
            if atom.is_positive:
                yield before.xreplace({atom: atom**2}), f"${latex(atom)}$ became ${latex(atom**2)}$"


@dataclass(frozen=True)
class LogOfSumSplit(Slip):
    r""":math:`\log(a+b)` rewritten as :math:`\log a + \log b`."""

    name = "log-of-sum-split"
    description = "the log of a sum was split as a sum of logs"

    def candidates(self, before: sp.Expr, after: sp.Expr) -> Iterator[Candidate]:
        for f in before.atoms(sp.log):
            if isinstance(f.args[0], sp.Add):
                split = sp.Add(*(sp.log(a) for a in f.args[0].args))
                yield before.xreplace({f: split}), f"${latex(f)}$ was split as ${latex(split)}$"


def catalogue(forward: sp.Expr | None, t: sp.Symbol, big_t: sp.Symbol, size: sp.Symbol) -> tuple[Slip, ...]:
    r"""The rules for one problem (the log-det rule only where there is a forward step log-det)."""
    rules: list[Slip] = []
    if forward is not None:
        rules.append(InverseLogDet(forward, t, big_t))
    rules += [
        SignFlip(),
        BoundOffByOne(),
        Factor(sp.Integer(2), "factor-half", "lost a factor 1/2", sp.Rational(1, 2)),
        Factor(sp.Rational(1, 2), "factor-half", "gained a factor 1/2"),
        Factor(size, "factor-D", f"gained a factor {size}"),
        Factor(1 / size, "factor-D", f"lost a factor {size}", size),
        Factor(sp.Integer(0), "term-dropped", "was dropped"),
        SigmaForSigmaSquared(),
        LogOfSumSplit(),
    ]
    return tuple(rules)


#: The rule kinds, in the order they are tried (see :func:`catalogue` for a problem's instances).
SLIPS: tuple[type[Slip], ...] = (
    InverseLogDet,
    SignFlip,
    BoundOffByOne,
    Factor,
    SigmaForSigmaSquared,
    LogOfSumSplit,
)
