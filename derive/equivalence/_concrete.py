r"""Concrete expansion: prove ``answer == reference`` at given sizes by writing the sums out.

At each size combination the sums and products are expanded (``doit``) and the difference is
reduced to 0 by the zero tests. This is a symbolic proof *for those sizes only*.

>>> import sympy as sp
>>> from derive.symbols import D, i, sigma
>>> lhs = sp.Sum(sp.log(sigma[0, i]), (i, 1, D))
>>> rhs = sp.log(sp.Product(sigma[0, i], (i, 1, D)))
>>> prove_at_sizes(lhs, rhs, [{D: 1}, {D: 3}]).proved
[{'D': 1}, {'D': 3}]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from derive.equivalence._rewrite import split_logs
from derive.equivalence._zero import is_zero

__all__ = ["ConcreteProof", "prove_at_sizes"]


@dataclass
class ConcreteProof:
    """Which size combinations were proved, which failed first, and by which zero test."""

    proved: list[dict[str, int]] = field(default_factory=list)
    failed: dict[str, int] | None = None
    methods: list[str] = field(default_factory=list)


#: Sums or products with more terms than this are not written out.
MAX_TERMS = 2_000


def _too_long(expr: sp.Expr) -> bool:
    """Some sum or product has numeric bounds spanning more than ``MAX_TERMS`` terms."""
    for node in expr.atoms(sp.Sum, sp.Product):
        span = 1
        for _, lo, hi in node.limits:
            if lo.is_Integer and hi.is_Integer:
                span *= abs(int(hi) - int(lo)) + 1
        if span > MAX_TERMS:
            return True
    return False


def prove_at_sizes(
    answer: sp.Expr, reference: sp.Expr, combos: Sequence[dict[sp.Symbol, int]], *, strong: bool = True
) -> ConcreteProof:
    """Try each size combination in turn; stop at the first that cannot be proved."""
    out = ConcreteProof()
    for combo in combos:
        subs = {k: sp.Integer(v) for k, v in combo.items()}
        if _too_long(answer.xreplace(subs)) or _too_long(reference.xreplace(subs)):
            out.failed = {str(k): v for k, v in combo.items()}
            return out
        diff = split_logs(answer.xreplace(subs).doit(deep=True)) - split_logs(
            reference.xreplace(subs).doit(deep=True)
        )
        how = is_zero(diff, strong=strong)
        shown = {str(k): v for k, v in combo.items()}
        if how is None:
            out.failed = shown
            return out
        out.proved.append(shown)
        if how not in out.methods:
            out.methods.append(how)
    return out
