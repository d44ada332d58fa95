r"""Householder flow (Tomczak & Welling 2016, "Improving Variational Auto-Encoders using Householder Flow", eq. 6–8).

:math:`f(\mathbf{z}) = H\mathbf{z}`, :math:`H = I - 2\,\mathbf{v}\mathbf{v}^\top/\lVert\mathbf{v}\rVert^2`
(:math:`\mathbf{v} \neq \mathbf{0}`): a reflection, so :math:`H^{-1} = H^\top = H`,
:math:`\det H = -1` and :math:`\log|\det J| = 0` — volume preserving. The Jacobian is full.

>>> Householder(2).claimed_logdet()
0
>>> Householder(2).jacobian().det()
-1
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["Householder"]

z = sp.IndexedBase("z", real=True)
v = sp.IndexedBase("v", real=True)


class Householder(FlowLayer):
    r""":math:`\mathbf{z} \mapsto (I - 2\mathbf{v}\mathbf{v}^\top/\lVert\mathbf{v}\rVert^2)\,\mathbf{z}`."""

    name: ClassVar[str] = "householder"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(z[k] for k in range(1, self.dim + 1))

    def _reflect(self, xs: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
        norm2 = sp.Add(*[v[k] ** 2 for k in range(1, self.dim + 1)])
        vx = sp.Add(*[v[k] * xs[k - 1] for k in range(1, self.dim + 1)])
        return tuple(xs[k - 1] - 2 * v[k] * vx / norm2 for k in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return self._reflect(self.inputs())

    def inverse(self) -> tuple[sp.Expr, ...]:
        return self._reflect(self.output_symbols())

    def claimed_logdet(self) -> sp.Expr:
        return sp.Integer(0)

    def assumptions(self) -> tuple[str, ...]:
        return (r"\mathbf{v} \neq \mathbf{0}",)
