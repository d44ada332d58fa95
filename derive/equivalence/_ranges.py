r"""Which summation convention applies: a guard that makes the Karr-based proofs sound.

A human reads :math:`\sum_{k=a}^{b}` with :math:`b < a` as an empty sum (0; an empty product is 1).
SymPy's ``Sum``/``Product`` follow Karr's convention instead, :math:`\sum_{k=a}^{b} = -\sum_{k=b+1}^{a-1}`,
under which linearity and range splitting hold unconditionally; the symbolic and concrete proofs
rely on it. The two conventions agree whenever :math:`b \ge a - 1`. So before any proof,
:func:`reversed_range` checks that every range in the expression satisfies :math:`b \ge a - 1` for
all admissible sizes (each size at least its minimum, each enclosing index at least its lower
bound); if that cannot be shown, no proof is attempted and only a counterexample (evaluated with
the empty-sum convention) can decide.

>>> import sympy as sp
>>> from derive.symbols import T, t, sigma
>>> from derive.equivalence._types import SizeVar
>>> sizes = (SizeVar(T, 0, (0, 1)),)
>>> reversed_range(sp.Sum(sp.log(sigma[t, 1]), (t, 1, T)), sizes) is None
True
>>> reversed_range(sp.Sum(sp.log(sigma[t, 1]), (t, 2, T)), sizes)
'the range t = 2..T may be reversed'
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import sympy as sp

from derive.equivalence._types import SizeVar

__all__ = ["reversed_range"]


_FREE: dict[int, sp.Dummy] = {}


def _free(n: int) -> sp.Dummy:
    """The ``n``-th shared nonnegative integer dummy (an arbitrary excess over a lower bound)."""
    if n not in _FREE:
        _FREE[n] = sp.Dummy(f"m{n}", integer=True, nonnegative=True)
    return _FREE[n]


def _nonnegative(e: sp.Expr) -> bool:
    """``e >= 0`` provably: a polynomial with nonnegative coefficients in nonnegative dummies, or
    SymPy's assumptions say so."""
    e = sp.expand(e)
    if e.is_Number:
        return bool(e >= 0)
    dummies = sorted(e.free_symbols & set(_FREE.values()), key=str)
    if dummies and e.free_symbols == set(dummies):
        poly = sp.Poly(e, *dummies)
        if all(c.is_Number and c >= 0 for c in poly.coeffs()):
            return True
    return bool(e.is_nonnegative)


def _walk(e: sp.Basic, ctx: Mapping[sp.Symbol, sp.Expr]) -> str | None:
    if isinstance(e, sp.Sum | sp.Product):
        inner = dict(ctx)
        for k, a, b in reversed(e.limits):  # outermost first
            lo, hi = a.xreplace(inner), b.xreplace(inner)
            if not _nonnegative(hi - lo + 1):
                return f"the range {k} = {a}..{b} may be reversed"
            inner[k] = lo + _free(len(inner))
        return _walk(e.function, inner)
    for arg in e.args:
        found = _walk(arg, ctx)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=512)
def reversed_range(expr: sp.Expr, sizes: tuple[SizeVar, ...]) -> str | None:
    """A description of a range that may have :math:`b < a - 1` for admissible sizes, else ``None``."""
    if not expr.has(sp.Sum, sp.Product):
        return None
    ctx = {s.symbol: s.minimum + _free(n) for n, s in enumerate(sizes)}
    return _walk(expr, ctx)
