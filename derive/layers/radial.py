r"""Radial flow (Rezende & Mohamed 2015, "Variational Inference with Normalizing Flows", eq. 14, app. A.2).

Generative direction :math:`f(\mathbf{z}) = \mathbf{z} + \beta h(\alpha, r)(\mathbf{z} - \mathbf{z}_0)`,
:math:`r = \lVert\mathbf{z} - \mathbf{z}_0\rVert`, :math:`h(\alpha, r) = 1/(\alpha + r)`, :math:`\alpha > 0`;
invertible for :math:`\beta \ge -\alpha`. The Jacobian :math:`(1 + \beta h)I + \beta h'(r)\,
(\mathbf{z}-\mathbf{z}_0)(\mathbf{z}-\mathbf{z}_0)^\top/r` is full; by the matrix determinant lemma

.. math:: \log|\det J| = (D - 1)\log|1 + \beta h| + \log|1 + \beta h + \beta h'(\alpha, r)\,r|.

The dependency analysis sees a full Jacobian; the kernel's rank-one rule
(:func:`derive.proof.kernel.rank_one_logdet`) finds :math:`J = sI + c\,\mathbf{d}\mathbf{d}^\top`
(:math:`\mathbf{d} = \mathbf{z} - \mathbf{z}_0`) from the component-wise model
(:class:`~derive.layers.generic.GenericRadial`, checked to be this map), and the sum
:math:`\sum_i d_i^2` it leaves is literally the square of :math:`r`, so :math:`c\,\mathbf{d}^\top\mathbf{d}
= -\beta r/(\alpha + r)^2` by SymPy's power rules: no fact about :math:`r` is assumed. ``derive prove
radial`` proves it for every D; :func:`radius_substitution` is the older D = 1 change of variables.

>>> Radial(2).jacobian().structure.value
'full'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

if TYPE_CHECKING:
    from derive.layers.generic import GenericLayer

__all__ = ["Radial", "radius_substitution"]

z = sp.IndexedBase("z", real=True)
z0 = sp.IndexedBase("z_0", real=True)
alpha = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", real=True)
R = sp.Symbol("r", positive=True)


class Radial(FlowLayer):
    r""":math:`\mathbf{z} + \beta(\mathbf{z} - \mathbf{z}_0)/(\alpha + \lVert\mathbf{z} - \mathbf{z}_0\rVert)`."""

    name: ClassVar[str] = "radial"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL
    has_closed_form_inverse: ClassVar[bool] = False

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(z[k] for k in range(1, self.dim + 1))

    def radius(self) -> sp.Expr:
        return sp.sqrt(sp.Add(*[(z[k] - z0[k]) ** 2 for k in range(1, self.dim + 1)]))

    def generic_twin(self) -> GenericLayer:
        """The same map stated component-wise at this size (the kernel checks that it is the same map)."""
        from derive.layers.generic import GenericRadial

        return GenericRadial(sp.Integer(self.dim))

    def derived_logdet(self) -> sp.Expr:
        r""":math:`\log|\det J|` from the map by the kernel's rank-one rule (the structure
        :math:`sI + c\,\mathbf{d}\mathbf{d}^\top` that dependency analysis cannot see)."""
        from derive.proof.kernel import rank_one_logdet
        from derive.quantities import LogDetMap, ModelAtom

        return self._cached("rank_one", lambda: rank_one_logdet(LogDetMap(ModelAtom(self))).rhs)

    def forward(self) -> tuple[sp.Expr, ...]:
        r = self.radius()
        return tuple(z[k] + beta * (z[k] - z0[k]) / (alpha + r) for k in range(1, self.dim + 1))

    def claimed_det(self, r: sp.Expr | None = None) -> sp.Expr:
        r""":math:`(1 + \beta h)^{D-1}(1 + \beta h + \beta h' r)` (the determinant, before :math:`\log|\cdot|`)."""
        r = self.radius() if r is None else r
        h, h_prime = 1 / (alpha + r), -1 / (alpha + r) ** 2
        return (1 + beta * h) ** (self.dim - 1) * (1 + beta * h + beta * h_prime * r)

    def claimed_logdet(self) -> sp.Expr:
        r = self.radius()
        h, h_prime = 1 / (alpha + r), -1 / (alpha + r) ** 2
        return (self.dim - 1) * sp.log(sp.Abs(1 + beta * h)) + sp.log(
            sp.Abs(1 + beta * h + beta * h_prime * r)
        )

    def assumptions(self) -> tuple[str, ...]:
        return (
            r"\alpha > 0",
            r"\beta \ge -\alpha \text{ for invertibility}",
            r"\mathbf{z} \neq \mathbf{z}_0",
        )


def radius_substitution(dim: int, sign: int) -> dict[sp.Expr, sp.Expr]:
    r"""On the half-space :math:`\operatorname{sign}(z_1 - z_{0,1}) = ` ``sign``: :math:`z_1 = z_{0,1} \pm
    \sqrt{r^2 - \sum_{i\ge2}(z_i - z_{0,i})^2}` with :math:`r > 0` — a bijective change of variables
    :math:`z_1 \leftrightarrow r` there, after which :math:`\lVert\mathbf{z} - \mathbf{z}_0\rVert = r`."""
    rest = sp.Add(*[(z[k] - z0[k]) ** 2 for k in range(2, dim + 1)])
    return {z[1]: z0[1] + sign * sp.sqrt(R**2 - rest)}
