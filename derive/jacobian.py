r"""Jacobians with their structure: detected from the map, proved, and used for the determinant.

Structure is *derived*, never assumed: an entry :math:`\partial y_r/\partial x_c` is proved zero
when :math:`x_c` does not occur in :math:`y_r` and :math:`y_r` is built by sums, products, powers
and functions whose derivative is the chain rule over their arguments (exp, log, undefined
functions of explicit arguments): such an expression does not change with a variable it does not
contain. An output of any other shape (a sum binding an index, a derivative, a symbolic index, a
function with a derivative of its own) is differentiated by ``sympy.diff`` in every input instead.
This dependency analysis costs :math:`O(D^2)` set look-ups instead of :math:`D^2` symbolic
derivatives, and the determinant then follows from the structure:

* diagonal or triangular: :math:`\det J = \prod_r J_{rr}` (only the D diagonal entries are
  differentiated);
* block triangular (contiguous blocks, e.g. coupling layers or per-feature blocks):
  :math:`\det J = \prod_b \det J_{bb}` (only the diagonal blocks are differentiated);
* otherwise: the full matrix and SymPy's determinant (small D only).

For T stacked layers use :func:`log_abs_det_chain` (chain rule; det of a product is the product of
dets) rather than differentiating the composite.

>>> import sympy as sp
>>> a, b = sp.symbols("a b", real=True)
>>> s = sp.Function("s", positive=True)
>>> J = jacobian((a, s(a) * b + a), (a, b))
>>> J.structure.value, J.diagonal
('lower-triangular', (1, s(a)))
>>> J.log_abs_det()
log(s(a))
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive._expr import as_expr

__all__ = [
    "Structure",
    "StructuredJacobian",
    "jacobian",
    "log_abs_det_chain",
    "structural_diff",
    "triangular_det_lemma",
]


class Structure(Enum):
    """Sparsity structures the determinant can exploit."""

    DIAGONAL = "diagonal"
    LOWER_TRIANGULAR = "lower-triangular"
    UPPER_TRIANGULAR = "upper-triangular"
    BLOCK_LOWER_TRIANGULAR = "block-lower-triangular"
    BLOCK_UPPER_TRIANGULAR = "block-upper-triangular"
    FULL = "full"

    @property
    def is_triangular(self) -> bool:
        """Diagonal or (element-wise) triangular: det is the product of the diagonal."""
        return self in (Structure.DIAGONAL, Structure.LOWER_TRIANGULAR, Structure.UPPER_TRIANGULAR)

    @property
    def is_block(self) -> bool:
        return self in (Structure.BLOCK_LOWER_TRIANGULAR, Structure.BLOCK_UPPER_TRIANGULAR)


@dataclass(frozen=True)
class StructuredJacobian:
    r"""The Jacobian :math:`\partial y/\partial x` of a map, with its proved zero pattern.

    ``depends[r]`` is the set of input positions that output ``r`` depends on; every other entry
    of row ``r`` is zero by the dependency argument. ``diagonal`` holds the derivatives
    :math:`\partial y_r/\partial x_r`; ``full`` the whole matrix when the structure is FULL;
    ``blocks`` the ``[start, stop)`` ranges of the diagonal blocks of a block-triangular Jacobian.
    """

    outputs: tuple[sp.Expr, ...]
    inputs: tuple[sp.Expr, ...]
    depends: tuple[frozenset[int], ...]
    structure: Structure
    diagonal: tuple[sp.Expr, ...]
    full: sp.Matrix | None = None
    blocks: tuple[tuple[int, int], ...] = ()

    @property
    def dim(self) -> int:
        return len(self.inputs)

    def zero_entries(self) -> int:
        """How many entries the dependency analysis proved zero."""
        return sum(self.dim - len(d) for d in self.depends)

    def entry(self, r: int, c: int) -> sp.Expr:
        """:math:`\\partial y_r / \\partial x_c` (zero by dependency when proved so)."""
        if c not in self.depends[r]:
            return sp.Integer(0)
        return sp.diff(self.outputs[r], self.inputs[c])

    def matrix(self) -> sp.Matrix:
        return self.full if self.full is not None else sp.Matrix(self.dim, self.dim, self.entry)

    def block(self, start: int, stop: int) -> sp.Matrix:
        """The diagonal block ``[start, stop)`` (only its entries are differentiated)."""
        return sp.Matrix(stop - start, stop - start, lambda r, c: self.entry(start + r, start + c))

    def det(self) -> sp.Expr:
        if self.structure.is_triangular:
            return sp.Mul(*self.diagonal)
        if self.structure.is_block:
            return sp.Mul(*[self.block(a, b).det() for a, b in self.blocks])
        assert self.full is not None
        return self.full.det()

    def log_abs_det(self) -> sp.Expr:
        r""":math:`\log|\det J|`; triangular: :math:`\sum_r \log|J_{rr}|`; block: :math:`\sum_b \log|\det J_{bb}|`."""
        if self.structure.is_triangular:
            return sp.Add(*[sp.log(_abs(d)) for d in self.diagonal])
        if self.structure.is_block:
            return sp.Add(*[sp.log(sp.Abs(self.block(a, b).det())) for a, b in self.blocks])
        return sp.log(sp.Abs(self.det()))


# --------------------------------------------------------------------------- the fast path
# The reference path is the implementation before issue 12's second round: dependency by
# ``free_symbols``, the diagonal by the first structural derivative, ``Abs`` by SymPy. Only the
# benchmark and the equivalence tests select it (``DERIVE_JACOBIAN_REFERENCE=1`` or
# :func:`_reference_path`); both paths share the soundness guards (:func:`_atoms`).
_REFERENCE = [os.environ.get("DERIVE_JACOBIAN_REFERENCE", "") == "1"]


def _reference_mode() -> bool:
    return _REFERENCE[0]


@contextmanager
def _reference_path(enabled: bool = True) -> Iterator[None]:
    """Select the reference implementation (benchmark and equivalence tests only)."""
    before, _REFERENCE[0] = _REFERENCE[0], enabled
    try:
        yield
    finally:
        _REFERENCE[0] = before


_EMPTY: frozenset[sp.Basic] = frozenset()
_MISSING = object()


def _transparent_function(cls: type) -> bool:
    """A function whose derivative is SymPy's chain rule over its arguments (e.g. exp, log, f(x, y)).

    A subclass that defines its own derivative (``ARApply``, ``Abs``, ``Piecewise``) may depend on
    more than its arguments show, so it is not transparent.
    """
    return (
        issubclass(cls, sp.Function)
        and getattr(cls, "_eval_derivative", None) is sp.Function._eval_derivative
        and getattr(cls, "_eval_derivative_n_times", None) is sp.Basic._eval_derivative_n_times
    )


def _plain_atom(e: sp.Basic) -> bool:
    """A variable SymPy differentiates as an independent atom: a symbol, or an integer-indexed ``Indexed``."""
    if isinstance(e, sp.Symbol):
        return True
    return isinstance(e, sp.Indexed) and all(isinstance(k, sp.Integer) for k in e.indices)


def _atoms(e: sp.Basic, memo: dict[sp.Basic, Any]) -> frozenset[sp.Basic] | None:
    r"""The variables occurring in ``e``, or ``None`` when ``e`` is not of a shape this module understands.

    Understood: numbers, plain atoms (:func:`_plain_atom`), ``Add``, ``Mul``, ``Pow`` and
    transparent functions of understood arguments. For those, :math:`\partial e/\partial x = 0`
    whenever ``x`` is a plain atom not in the set: ``e`` is built from its arguments only. ``None``
    (anything else: a sum or product binding an index, a derivative, ``Subs``, a symbolic index, a
    function with its own derivative) sends the caller to ``sympy.diff``. ``memo`` is shared within
    one Jacobian, so each distinct subexpression is visited once.
    """
    got = memo.get(e, _MISSING)
    if got is not _MISSING:
        return got
    out: frozenset[sp.Basic] | None
    if _plain_atom(e):
        out = frozenset((e,))
    elif isinstance(e, (sp.Number, sp.NumberSymbol)) or e is sp.I:
        out = _EMPTY
    elif isinstance(e, (sp.Add, sp.Mul, sp.Pow)) or _transparent_function(type(e)):
        acc: set[sp.Basic] = set()
        for a in e.args:
            if _plain_atom(a):  # the common case (a function of D variables), without the memo
                acc.add(a)
                continue
            sub = _atoms(a, memo)
            if sub is None:
                acc = None  # type: ignore[assignment]
                break
            acc |= sub
        out = None if acc is None else frozenset(acc)
    else:
        out = None
    memo[e] = out
    return out


def _dependency_pattern(
    outputs: Sequence[sp.Expr], inputs: Sequence[sp.Expr], memo: dict[sp.Basic, Any] | None = None
) -> tuple[frozenset[int], ...]:
    """``depends[r]``: the inputs output r may depend on (a superset; every other entry is zero).

    A row of understood shape (:func:`_atoms`) depends on the inputs occurring in it; any other row
    is differentiated by ``sympy.diff`` in every input and depends on those whose derivative is not
    identically 0.
    """
    memo = {} if memo is None else memo
    position = {x: c for c, x in enumerate(inputs)}
    by_id = {id(x): c for c, x in enumerate(inputs)}  # the same object: no structural comparison
    plain = all(_plain_atom(x) for x in inputs)
    rows = []
    for y in outputs:
        found = _atoms(y, memo) if plain else None
        if found is None:
            rows.append(frozenset(c for c, x in enumerate(inputs) if sp.diff(y, x) != 0))
        elif _reference_mode():
            free = as_expr(y).free_symbols
            rows.append(frozenset(position[s] for s in free if s in position))
        else:
            row = set()
            for a in found:
                c = by_id.get(id(a))
                if c is None:
                    c = position.get(a)
                if c is not None:
                    row.add(c)
            rows.append(frozenset(row))
    return tuple(rows)


def _lower_cuts(depends: Sequence[frozenset[int]]) -> list[int]:
    """Positions k where rows < k use only columns < k: block-lower-triangular cut points."""
    cuts, reach = [], -1
    for r, d in enumerate(depends):
        reach = max(reach, max(d, default=-1))
        if reach <= r:
            cuts.append(r + 1)
    return cuts


def _blocks(depends: Sequence[frozenset[int]]) -> tuple[Structure, tuple[tuple[int, int], ...]]:
    """Finest contiguous block-triangular partition (lower first, then upper via reversal)."""
    n = len(depends)
    lower = _lower_cuts(depends)
    flipped = [frozenset(n - 1 - c for c in depends[n - 1 - r]) for r in range(n)]
    upper = [*[n - k for k in reversed(_lower_cuts(flipped))][1:], n]
    for structure, cuts in (
        (Structure.BLOCK_LOWER_TRIANGULAR, lower),
        (Structure.BLOCK_UPPER_TRIANGULAR, upper),
    ):
        if len(cuts) > 1:
            starts = [0, *cuts[:-1]]
            return structure, tuple(zip(starts, cuts, strict=True))
    return Structure.FULL, ()


def _classify(depends: Sequence[frozenset[int]]) -> tuple[Structure, tuple[tuple[int, int], ...]]:
    if all(d <= {r} for r, d in enumerate(depends)):
        return Structure.DIAGONAL, ()
    if all(not d or max(d) <= r for r, d in enumerate(depends)):
        return Structure.LOWER_TRIANGULAR, ()
    if all(not d or min(d) >= r for r, d in enumerate(depends)):
        return Structure.UPPER_TRIANGULAR, ()
    return _blocks(depends)


def structural_diff(y: sp.Expr, x: sp.Expr, _memo: dict[sp.Basic, Any] | None = None) -> sp.Expr:
    r""":math:`\partial y/\partial x`, differentiating only the parts of ``y`` that contain ``x``.

    Sums and products are split (linearity, product rule) and a part in which ``x`` does not occur
    contributes 0 without being differentiated — the same dependency argument as the zero pattern.
    What contains ``x``, and anything not of a shape :func:`_atoms` understands, goes to
    ``sympy.diff``. Equal to ``sympy.diff(y, x)`` (tested on every layer and on adversarial
    expressions).

    >>> a, b = sp.symbols("a b", real=True)
    >>> f = sp.Function("f", positive=True)
    >>> structural_diff(f(a) + f(a) * b + b**2, b)
    2*b + f(a)
    """
    if not _plain_atom(x):
        return sp.diff(y, x)
    memo = {} if _memo is None else _memo
    if _reference_mode():
        return _structural_diff_reference(y, x) if _atoms(y, memo) is not None else sp.diff(y, x)
    return _structural_diff(y, x, memo)


def _structural_diff(y: sp.Expr, x: sp.Expr, memo: dict[sp.Basic, Any]) -> sp.Expr:
    found = _atoms(y, memo)
    if found is None:
        return sp.diff(y, x)
    if x not in found:
        return sp.Integer(0)
    if y == x:
        return sp.Integer(1)
    if isinstance(y, sp.Add):
        return sp.Add(*[_structural_diff(a, x, memo) for a in y.args])
    if isinstance(y, sp.Mul):
        factors = y.args
        terms = []
        for k, f in enumerate(factors):
            d = _structural_diff(f, x, memo)
            if d != 0:
                terms.append(sp.Mul(*factors[:k], d, *factors[k + 1 :]))
        return sp.Add(*terms)
    return sp.diff(y, x)


def _structural_diff_reference(y: sp.Expr, x: sp.Expr) -> sp.Expr:
    """The previous structural derivative (free symbols at every node), for the reference path."""
    if x not in y.free_symbols:
        return sp.Integer(0)
    if y == x:
        return sp.Integer(1)
    if isinstance(y, sp.Add):
        return sp.Add(*[_structural_diff_reference(a, x) for a in y.args])
    if isinstance(y, sp.Mul):
        factors = y.args
        terms = []
        for k, f in enumerate(factors):
            if x in f.free_symbols:
                terms.append(sp.Mul(*factors[:k], _structural_diff_reference(f, x), *factors[k + 1 :]))
        return sp.Add(*terms)
    return sp.diff(y, x)


def _abs(d: sp.Expr) -> sp.Expr:
    r""":math:`|d|`: ``d`` itself for a positive symbol or undefined function of atoms, else ``sympy.Abs``.

    :math:`|d| = d` for :math:`d > 0`; SymPy's ``Abs`` returns the same object after a
    sign-normalisation pass over the arguments (which leaves atoms alone, and costs
    :math:`O(\text{size})` on a function of D arguments).
    """
    if (
        not _reference_mode()
        and d.is_positive is True
        and (
            _plain_atom(d)
            or (
                isinstance(d, AppliedUndef)
                and _transparent_function(type(d))
                and all(_plain_atom(a) for a in d.args)
            )
        )
    ):
        return d
    return sp.Abs(d)


def jacobian(outputs: Sequence[sp.Expr], inputs: Sequence[sp.Expr]) -> StructuredJacobian:
    """Jacobian of ``outputs`` with respect to ``inputs``, with proved structure."""
    outputs, inputs = tuple(as_expr(o) for o in outputs), tuple(inputs)
    if len(outputs) != len(inputs):
        raise ValueError(
            f"a flow layer's Jacobian must be square: {len(outputs)} outputs, {len(inputs)} inputs"
        )
    if len(set(inputs)) != len(inputs):
        raise ValueError(
            "a flow layer's inputs must be distinct variables (a repeated input has no Jacobian)"
        )
    memo: dict[sp.Basic, Any] = {}
    depends = _dependency_pattern(outputs, inputs, memo)
    structure, blocks = _classify(depends)
    diagonal = tuple(
        structural_diff(y, x, memo) if r in depends[r] else sp.Integer(0)
        for r, (y, x) in enumerate(zip(outputs, inputs, strict=True))
    )
    full = None
    if structure is Structure.FULL:
        full = sp.Matrix(len(outputs), len(inputs), lambda r, c: sp.diff(outputs[r], inputs[c]))
    return StructuredJacobian(outputs, inputs, depends, structure, diagonal, full, blocks)


def log_abs_det_chain(jacobians: Sequence[StructuredJacobian]) -> sp.Expr:
    r"""Chain rule: :math:`\log|\det(J_T\cdots J_0)| = \sum_t \log|\det J_t|`."""
    return sp.Add(*[J.log_abs_det() for J in jacobians])


def triangular_det_lemma(n: int, lower: bool = True) -> sp.Expr:
    r"""``det(L) - prod(diag L)`` for a generic n×n triangular matrix with symbolic entries; expands to 0.

    >>> [sp.expand(triangular_det_lemma(n)) for n in range(1, 5)]
    [0, 0, 0, 0]
    """
    a = sp.IndexedBase("a")

    def entry(r: int, c: int) -> sp.Expr:
        return a[r + 1, c + 1] if (c <= r if lower else c >= r) else sp.Integer(0)

    M = sp.Matrix(n, n, entry)
    return M.det(method="berkowitz") - sp.Mul(*[M[k, k] for k in range(n)])
