r"""Jacobians with their structure: detected from the map, proved, and used for the determinant.

Structure is *derived*, never assumed: an entry :math:`\partial y_r/\partial x_c` is proved zero
when :math:`x_c` is not among the free symbols of :math:`y_r` (sound: derivatives of SymPy
expressions, including undefined functions of explicit arguments, vanish in a variable they do
not contain). This dependency analysis costs :math:`O(D^2)` set look-ups instead of :math:`D^2`
symbolic derivatives, and the determinant then follows from the structure:

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

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import sympy as sp

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
            return sp.Add(*[sp.log(sp.Abs(d)) for d in self.diagonal])
        if self.structure.is_block:
            return sp.Add(*[sp.log(sp.Abs(self.block(a, b).det())) for a, b in self.blocks])
        return sp.log(sp.Abs(self.det()))


def _dependency_pattern(outputs: Sequence[sp.Expr], inputs: Sequence[sp.Expr]) -> tuple[frozenset[int], ...]:
    position = {x: c for c, x in enumerate(inputs)}
    rows = []
    for y in outputs:
        free = as_expr(y).free_symbols
        rows.append(frozenset(position[s] for s in free if s in position))
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


def structural_diff(y: sp.Expr, x: sp.Expr) -> sp.Expr:
    r""":math:`\partial y/\partial x`, differentiating only the parts of ``y`` that contain ``x``.

    Sums and products are split (linearity, product rule) and a part whose free symbols do not
    contain ``x`` contributes 0 without being differentiated — the same dependency argument as the
    zero pattern. What contains ``x`` goes to ``sympy.diff``. Equal to ``sympy.diff(y, x)`` (tested).

    >>> a, b = sp.symbols("a b", real=True)
    >>> f = sp.Function("f", positive=True)
    >>> structural_diff(f(a) + f(a) * b + b**2, b)
    2*b + f(a)
    """
    if x not in y.free_symbols:
        return sp.Integer(0)
    if y == x:
        return sp.Integer(1)
    if isinstance(y, sp.Add):
        return sp.Add(*[structural_diff(a, x) for a in y.args])
    if isinstance(y, sp.Mul):
        factors = y.args
        terms = []
        for k, f in enumerate(factors):
            if x in f.free_symbols:
                terms.append(sp.Mul(*factors[:k], structural_diff(f, x), *factors[k + 1 :]))
        return sp.Add(*terms)
    return sp.diff(y, x)


def jacobian(outputs: Sequence[sp.Expr], inputs: Sequence[sp.Expr]) -> StructuredJacobian:
    """Jacobian of ``outputs`` with respect to ``inputs``, with proved structure."""
    outputs, inputs = tuple(as_expr(o) for o in outputs), tuple(inputs)
    if len(outputs) != len(inputs):
        raise ValueError(
            f"a flow layer's Jacobian must be square: {len(outputs)} outputs, {len(inputs)} inputs"
        )
    depends = _dependency_pattern(outputs, inputs)
    structure, blocks = _classify(depends)
    diagonal = tuple(
        structural_diff(y, x) if r in depends[r] else sp.Integer(0)
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
