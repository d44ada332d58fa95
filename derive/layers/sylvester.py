r"""Sylvester normalizing flow (van den Berg et al. 2018, "Sylvester Normalizing Flows for Variational Inference").

:math:`f(\mathbf{z}) = \mathbf{z} + A\,h(B\mathbf{z} + \mathbf{b})`, :math:`A \in \mathbb{R}^{D\times M}`,
:math:`B \in \mathbb{R}^{M\times D}`, :math:`h = \tanh` elementwise. The Jacobian
:math:`I_D + A\,\operatorname{diag}(h'(B\mathbf{z}+\mathbf{b}))\,B` is full; Sylvester's
determinant identity :math:`\det(I_D + AB') = \det(I_M + B'A)` (paper eq. 9) reduces it to an
:math:`M \times M` determinant:

.. math:: \log|\det J| = \log\big|\det\big(I_M + \operatorname{diag}(h'(B\mathbf{z}+\mathbf{b}))\,B A\big)\big|.

With the paper's :math:`A = QR`, :math:`B = \tilde R Q^\top` (:math:`Q` orthonormal columns,
:math:`R, \tilde R` upper triangular) this becomes :math:`\sum_m \log|1 + \tilde R_{mm}R_{mm}h'_m|`
(eq. 13); the orthogonality of :math:`Q` is the part this model leaves to the general identity.

``derive prove sylvester`` (no ``--dim``) proves the M = 2 claim for every D: the kernel's
:func:`~derive.proof.kernel.low_rank_logdet` splits :math:`J - I` into one product per hidden unit
from :class:`~derive.layers.generic.GenericSylvester` and cites Sylvester's identity; with ``--dim``
the concrete full determinant is computed.

>>> Sylvester(2, hidden=1).jacobian().structure.value
'full'
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["Sylvester"]

z = sp.IndexedBase("z", real=True)
A = sp.IndexedBase("A", real=True)
B = sp.IndexedBase("B", real=True)
bias = sp.IndexedBase("b", real=True)


class Sylvester(FlowLayer):
    r""":math:`\mathbf{z} + A\tanh(B\mathbf{z} + \mathbf{b})` with ``hidden`` = :math:`M` units."""

    name: ClassVar[str] = "sylvester"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL
    has_closed_form_inverse: ClassVar[bool] = False

    def __init__(self, dim: int, hidden: int = 1) -> None:
        super().__init__(dim)
        if not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"Sylvester: hidden must be a positive integer, got {hidden!r}")
        self.hidden = hidden

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(z[k] for k in range(1, self.dim + 1))

    def pre_activation(self, m: int) -> sp.Expr:
        return sp.Add(*[B[m, k] * z[k] for k in range(1, self.dim + 1)]) + bias[m]

    def forward(self) -> tuple[sp.Expr, ...]:
        hs = [sp.tanh(self.pre_activation(m)) for m in range(1, self.hidden + 1)]
        return tuple(
            z[k] + sp.Add(*[A[k, m] * hs[m - 1] for m in range(1, self.hidden + 1)])
            for k in range(1, self.dim + 1)
        )

    def claimed_logdet(self) -> sp.Expr:
        M = self.hidden
        hp = [1 - sp.tanh(self.pre_activation(m)) ** 2 for m in range(1, M + 1)]
        BA = sp.Matrix(
            M, M, lambda r, c: sp.Add(*[B[r + 1, k] * A[k, c + 1] for k in range(1, self.dim + 1)])
        )
        small = sp.eye(M) + sp.diag(*hp) * BA
        return sp.log(sp.Abs(small.det(method="berkowitz")))

    def assumptions(self) -> tuple[str, ...]:
        return (r"h = \tanh", f"M = {self.hidden}", r"\det(I_D + XY) = \det(I_M + YX)")

    def __repr__(self) -> str:
        return f"Sylvester(dim={self.dim}, hidden={self.hidden})"
