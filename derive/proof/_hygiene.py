r"""Bound-variable hygiene: canonical alpha-renaming of summation and product indices.

Before the kernel simplifies anything, every index bound by a ``Sum`` or ``Product`` is renamed to a
*reserved* symbol named by its binding depth (``ι0`` for the outermost binder, ``ι1`` inside it, ...).
Reserved names never occur free (:func:`canonical` refuses an expression in which one does), so

* a free symbol can never be captured by a binder (``ε_i Σ_i log σ_i`` keeps its free ``i`` apart
  from the bound one, so SymPy's ``sum_simplify`` cannot move it inside), and
* two alpha-equivalent sums become structurally equal (``Σ_i f_i`` and ``Σ_k f_k`` agree).

Renaming is meaning-preserving, so an identity proved between the canonical forms is one between
the originals. :func:`canonical` also checks that every range is well formed: ``upper - lower + 1``
must be provably ``>= 0`` (SymPy reads sums with symbolic bounds in Karr's convention, which agrees
with the ordinary one exactly when the range has at least zero terms).

>>> import sympy as sp
>>> from derive.symbols import D, i, epsilon, sigma
>>> k = sp.Symbol("k", integer=True, positive=True)
>>> canonical(sp.Sum(sigma[k], (k, 1, D))) == canonical(sp.Sum(sigma[i], (i, 1, D)))
True
>>> canonical(epsilon[i] * sp.Sum(sigma[i], (i, 1, D)))
epsilon[i]*Sum(sigma[ι0], (ι0, 1, D))
"""

from __future__ import annotations

import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits

from derive.errors import VerificationError

__all__ = ["RESERVED_PREFIX", "bound_symbols", "canonical", "reserved"]

RESERVED_PREFIX = "ι"


def reserved(depth: int) -> sp.Symbol:
    """The reserved name of the index bound at ``depth`` (integer-valued, no other assumption)."""
    return sp.Symbol(f"{RESERVED_PREFIX}{depth}", integer=True)


def _range_ok(lower: sp.Expr, upper: sp.Expr) -> bool:
    size = sp.expand(upper - lower + 1)
    return bool(size.is_nonnegative) or (size.is_Integer and size >= 0)


def _canon(
    e: sp.Basic, env: dict[sp.Basic, sp.Basic], ranges: dict[sp.Basic, sp.Basic], depth: int
) -> sp.Basic:
    if isinstance(e, sp.Symbol) and e in env:
        return env[e]
    if isinstance(e, (sp.Sum, sp.Product)):
        inner_env, inner_ranges, new_limits = dict(env), dict(ranges), []
        d = depth
        for limit in reversed(e.limits):  # outermost first
            if len(limit) != 3:
                raise VerificationError(f"a sum or product needs explicit bounds: {sp.sstr(e)}")
            k, a, b = limit
            a2, b2 = _canon(a, inner_env, inner_ranges, d), _canon(b, inner_env, inner_ranges, d)
            # Range check with every enclosing index k' replaced by (its lower bound + a nonnegative κ).
            lo, hi = a.xreplace(inner_ranges), b.xreplace(inner_ranges)
            if not _range_ok(lo, hi):
                raise VerificationError(
                    f"cannot establish that the range {sp.sstr(a)}..{sp.sstr(b)} of {sp.sstr(k)} has at least "
                    "zero terms (upper >= lower - 1)"
                )
            new = reserved(d)
            inner_env[k] = new
            inner_ranges[k] = lo + sp.Dummy(f"kappa{d}", integer=True, nonnegative=True)
            new_limits.append((new, a2, b2))
            d += 1
        body = _canon(e.function, inner_env, inner_ranges, d)
        return type(e)(body, *reversed(new_limits))
    if isinstance(e, ExprWithLimits):
        raise VerificationError(f"unsupported binder {type(e).__name__} in {sp.sstr(e)}")
    if not e.args:
        return e
    args = [_canon(a, env, ranges, depth) for a in e.args]
    if all(x is y for x, y in zip(args, e.args, strict=True)):
        return e
    return e.func(*args)


def canonical(e: sp.Basic) -> sp.Basic:
    """``e`` with every bound index renamed to its reserved name by depth; refuses reserved free names."""
    for s in e.free_symbols:
        if isinstance(s, sp.Symbol) and s.name.startswith(RESERVED_PREFIX):
            raise VerificationError(f"the name {s.name} is reserved for bound indices")
    return _canon(e, {}, {}, 0)


def bound_symbols(e: sp.Basic) -> set[sp.Basic]:
    """Every index bound somewhere in ``e``."""
    out: set[sp.Basic] = set()
    for node in sp.preorder_traversal(e):
        if isinstance(node, (sp.Sum, sp.Product)):
            out.update(limit[0] for limit in node.limits)
    return out
