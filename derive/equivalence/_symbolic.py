r"""Symbolic proof for all sizes: compare the sum normal forms of both sides box by box.

Both sides are brought to the sum normal form (``_normal_form``), bounds aligned jointly, first by
peeling boundary terms and, if that fails, with every index shifted to start at 0. Then for every
index box the difference of the summands must be identically 0 (``_zero``); with ``strong``,
a difference that is a polynomial in the sizes is tested coefficient by coefficient, and a
non-sum residual may be spread over the one remaining box,
:math:`c = \sum_{k \in B} c/|B|`, when :math:`|B| > 0` for all admissible sizes.

>>> import sympy as sp
>>> from derive.symbols import D, i, epsilon
>>> from derive.equivalence._types import SizeVar
>>> lhs = sp.Sum(epsilon[i] ** 2 + 1, (i, 1, D))
>>> prove_for_all_sizes(lhs, D + sp.Sum(epsilon[i] ** 2, (i, 1, D)), (SizeVar(D, 1, (1,)),)).proved
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derive.equivalence._normal_form import (
    Key,
    box_difference_is_zero,
    canonical_dummy,
    is_nested,
    normal_form,
)
from derive.equivalence._types import SizeVar
from derive.equivalence._zero import is_zero

__all__ = ["SymbolicProof", "prove_for_all_sizes"]


@dataclass
class SymbolicProof:
    """Whether every box matched, how many boxes, the zero tests used, the boxes that did not."""

    proved: bool
    boxes: int = 0
    methods: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"boxes": self.boxes, "zero_tests": self.methods, "unproved_boxes": self.failed}


def _by_size_monomial(diff: sp.Expr, sizes: tuple[sp.Symbol, ...]) -> list[sp.Expr]:
    """The coefficients of ``diff`` as a polynomial in the sizes (each must vanish on its own)."""
    used = [s for s in sizes if s in diff.free_symbols]
    if not used:
        return [diff]
    return list(sp.collect(sp.expand(diff), used, evaluate=False).values())


def _zero_test(sizes: tuple[sp.Symbol, ...], strong: bool) -> Callable[[sp.Expr], str | None]:
    def test(e: sp.Expr) -> str | None:
        parts = _by_size_monomial(e, sizes) if strong else [e]
        names = [is_zero(p, strong=strong) for p in parts]
        if any(n is None for n in names):
            return None
        how = ", ".join(dict.fromkeys(n for n in names if n))
        return f"{how} (coefficient by coefficient in the sizes)" if parts != [e] else how

    return test


def _box_size(key: Key, sizes: tuple[SizeVar, ...]) -> sp.Expr | None:
    """The number of index tuples in a box, if it is provably positive for all admissible sizes."""
    if not key or is_nested(key):
        return None
    count = sp.Mul(*[hi - lo + 1 for lo, hi in key])
    shifted = {s.symbol: sp.Dummy(nonnegative=True, integer=True) + s.minimum for s in sizes}
    if count.free_symbols & {canonical_dummy(n) for n in range(len(key))}:
        return None
    return count if sp.expand(count.xreplace(shifted)).is_positive else None


def _compare(
    answer: sp.Expr, reference: sp.Expr, sizes: tuple[SizeVar, ...], *, strong: bool, shift: bool
) -> SymbolicProof:
    symbols = tuple(s.symbol for s in sizes)
    test = _zero_test(symbols, strong)
    nf_a, nf_r = normal_form([answer, reference], shift=shift)
    keys = sorted(set(nf_a) | set(nf_r), key=lambda k: (len(k), str(k)))
    out = SymbolicProof(proved=True, boxes=len(keys))
    failed: list[tuple[Key, sp.Expr]] = []
    for key in keys:
        diff = nf_a.get(key, sp.S.Zero) - nf_r.get(key, sp.S.Zero)
        how = box_difference_is_zero(key, diff, test)
        if how is None:
            failed.append((key, diff))
        elif how not in out.methods:
            out.methods.append(how)
    if strong and len(failed) == 2 and failed[0][0] == ():
        (_, residual), (key, diff) = failed
        count = _box_size(key, sizes)
        if count is not None:
            how = box_difference_is_zero(key, diff + residual / count, test)
            if how is not None:
                failed = []
                out.methods.append(f"{how} (non-sum part spread over the box {key})")
    if failed:
        out.proved = False
        out.failed = [str(k) if k else "non-sum part" for k, _ in failed]
    elif shift:
        out.methods.append("indices shifted to start at 0")
    return out


def prove_for_all_sizes(
    answer: sp.Expr, reference: sp.Expr, sizes: tuple[SizeVar, ...], *, strong: bool = False
) -> SymbolicProof:
    """Try the peeled alignment, then the shifted one; see the module docstring."""
    first = _compare(answer, reference, sizes, strong=strong, shift=False)
    if first.proved:
        return first
    second = _compare(answer, reference, sizes, strong=strong, shift=True)
    return second if second.proved else first
