r"""Lemmas shared by the derivations, each checked by computer algebra.

* triangular determinant: :math:`\det L = \prod_k L_{kk}` — checked on generic symbolic n×n
  lower- and upper-triangular matrices, n = 1..6 (the general case is the cofactor induction);
* multiplicativity: :math:`\det(AB) = \det A\,\det B` — checked on generic symbolic 3×3 matrices,
  which with the chain rule gives :math:`\log|\det\partial\mathbf{z}_T/\partial\boldsymbol\epsilon|
  = \sum_t \log|\det J_t|`.

>>> triangular_lemma_holds(), product_lemma_holds()
(True, True)
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.jacobian import triangular_det_lemma

__all__ = ["TRIANGULAR_LEMMA_MAX_N", "product_lemma_holds", "triangular_lemma_holds"]

TRIANGULAR_LEMMA_MAX_N = 6


@cache
def triangular_lemma_holds(max_n: int = TRIANGULAR_LEMMA_MAX_N) -> bool:
    """det of a generic triangular n×n matrix equals the product of its diagonal, n = 1..max_n."""
    return all(
        sp.expand(triangular_det_lemma(n, lower)) == 0 for n in range(1, max_n + 1) for lower in (True, False)
    )


@cache
def product_lemma_holds(n: int = 3) -> bool:
    """det(AB) = det(A) det(B) for generic symbolic n×n matrices."""
    a, b = sp.IndexedBase("a"), sp.IndexedBase("b")
    A = sp.Matrix(n, n, lambda r, c: a[r, c])
    B = sp.Matrix(n, n, lambda r, c: b[r, c])
    return bool(
        sp.expand((A * B).det(method="berkowitz") - A.det(method="berkowitz") * B.det(method="berkowitz"))
        == 0
    )
