r"""Planar flow (Rezende & Mohamed 2015, "Variational Inference with Normalizing Flows", eq. 10–12, app. A.1).

Generative direction :math:`f(\mathbf{z}) = \mathbf{z} + \mathbf{u}\,h(\mathbf{w}^\top\mathbf{z} + b)`,
:math:`h = \tanh`. With :math:`\psi(\mathbf{z}) = h'(\mathbf{w}^\top\mathbf{z} + b)\,\mathbf{w}` the
Jacobian is the rank-one update :math:`I + \mathbf{u}\psi(\mathbf{z})^\top`, so by the matrix
determinant lemma (:math:`\det(I + \mathbf{a}\mathbf{b}^\top) = 1 + \mathbf{b}^\top\mathbf{a}`)

.. math:: \log|\det J| = \log|1 + \mathbf{u}^\top\psi(\mathbf{z})| \quad \text{(paper eq. 12)}.

The Jacobian is *full*: every output depends on every input.

Invertibility (appendix A.1) needs :math:`\mathbf{w}^\top\mathbf{u} \ge -1`; the paper enforces it by
the reparametrisation

.. math:: \hat{\mathbf{u}} = \mathbf{u} + \big(m(\mathbf{w}^\top\mathbf{u}) - \mathbf{w}^\top\mathbf{u}\big)
          \frac{\mathbf{w}}{\lVert\mathbf{w}\rVert^2}, \qquad m(x) = -1 + \log(1 + e^x),

for which :math:`\mathbf{w}^\top\hat{\mathbf{u}} = m(\mathbf{w}^\top\mathbf{u}) > -1`
(:func:`w_dot_u_hat_identity` states it; ``tests/test_layers_planar.py`` proves it exactly).
Dividing by :math:`\lVert\mathbf{w}\rVert` instead of :math:`\lVert\mathbf{w}\rVert^2` — a bug
that shipped in Pyro — breaks that identity.

>>> import sympy as sp
>>> layer = Planar(1)
>>> layer.jacobian().structure.value
'diagonal'
>>> layer.claimed_logdet() == sp.log(sp.Abs(1 + u[1] * (1 - sp.tanh(w[1] * z[1] + b) ** 2) * w[1]))
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

if TYPE_CHECKING:
    from derive.proof.kernel import Theorem

__all__ = [
    "Planar",
    "PlanarReparametrized",
    "m_planar",
    "u_hat",
    "w_dot_u_hat_identity",
    "w_dot_u_hat_theorem",
]

z = sp.IndexedBase("z", real=True)
u = sp.IndexedBase("u", real=True)
w = sp.IndexedBase("w", real=True)
b = sp.Symbol("b", real=True)


def m_planar(v: sp.Expr) -> sp.Expr:
    r""":math:`m(x) = -1 + \operatorname{softplus}(x) = -1 + \log(1 + e^x)`, which is :math:`> -1`."""
    return -1 + sp.log(1 + sp.exp(v))


def u_hat(dim: int, *, norm_power: int = 2) -> tuple[sp.Expr, ...]:
    r""":math:`\hat u_i = u_i + (m(\mathbf{w}^\top\mathbf{u}) - \mathbf{w}^\top\mathbf{u})\,w_i/\lVert\mathbf{w}\rVert^{p}`.

    ``norm_power=2`` is the paper's; ``norm_power=1`` is the shipped bug (kept so the attack test can
    show the identity fails for it).
    """
    wu = sp.Add(*[w[k] * u[k] for k in range(1, dim + 1)])
    norm2 = sp.Add(*[w[k] ** 2 for k in range(1, dim + 1)])
    denom = norm2 if norm_power == 2 else sp.sqrt(norm2) ** norm_power
    return tuple(u[k] + (m_planar(wu) - wu) * w[k] / denom for k in range(1, dim + 1))


def w_dot_u_hat_identity(dim: int, *, norm_power: int = 2) -> tuple[sp.Expr, sp.Expr]:
    r"""``(lhs, rhs)`` of the claim :math:`\mathbf{w}^\top\hat{\mathbf{u}} = m(\mathbf{w}^\top\mathbf{u})`."""
    uh = u_hat(dim, norm_power=norm_power)
    lhs = sp.Add(*[w[k] * uh[k - 1] for k in range(1, dim + 1)])
    return lhs, m_planar(sp.Add(*[w[k] * u[k] for k in range(1, dim + 1)]))


def w_dot_u_hat_theorem(target: sp.Expr | None = None, dim: sp.Expr | None = None) -> Theorem:
    r"""The kernel theorem :math:`\sum_{i=1}^{D} w_i\hat u_i = m(\mathbf{w}^\top\mathbf{u})` at symbolic D.

    ``target`` is the sum as it occurs in a proof (any summand equal to :math:`w_i\hat u_i`; default
    :math:`\sum_i w_i\hat u_i` of :class:`~derive.layers.generic.GenericPlanar`). Linearity is proved
    with :math:`C = m - \mathbf{w}^\top\mathbf{u}` and :math:`S = \lVert\mathbf{w}\rVert^2` as
    variables and then instantiated, so the sums inside them never meet a binder.

    >>> w_dot_u_hat_theorem().rhs
    log(exp(Sum(u[k]*w[k], (k, 1, D))) + 1) - 1
    """
    from derive.layers.generic import GenericPlanar, _k
    from derive.proof import kernel as K
    from derive.symbols import D
    from derive.symbols import i as idx

    dim = D if dim is None else dim
    model = GenericPlanar(dim, reparametrized=True)
    if target is None:
        target = sp.Sum(w[idx] * model.u_component(idx), (idx, 1, dim))
    C, S = sp.Symbol("C", real=True), sp.Symbol("S", real=True)
    split = K.algebra(
        sp.Sum(u[idx] * w[idx] + C * w[idx] ** 2 / S, (idx, 1, dim)),
        sp.Sum(u[idx] * w[idx], (idx, 1, dim)) + C * sp.Sum(w[idx] ** 2, (idx, 1, dim)) / S,
    )
    wu = sp.Sum(w[_k] * u[_k], (_k, 1, dim))
    split = K.inst(split, {S: sp.Sum(w[_k] ** 2, (_k, 1, dim)), C: m_planar(wu) - wu})
    split = K.trans(split, K.algebra(split.rhs, m_planar(wu)))
    return K.trans(K.sum_congruence(target, split.lhs), split)


class Planar(FlowLayer):
    r""":math:`f(\mathbf{z}) = \mathbf{z} + \mathbf{u}\tanh(\mathbf{w}^\top\mathbf{z} + b)` with free :math:`\mathbf{u}`."""

    name: ClassVar[str] = "planar"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL
    #: The Jacobian has no closed-form inverse (the paper inverts numerically along w).
    has_closed_form_inverse: ClassVar[bool] = False

    def u_vector(self) -> tuple[sp.Expr, ...]:
        return tuple(u[k] for k in range(1, self.dim + 1))

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(z[k] for k in range(1, self.dim + 1))

    def pre_activation(self) -> sp.Expr:
        r""":math:`a = \mathbf{w}^\top\mathbf{z} + b`."""
        return sp.Add(*[w[k] * z[k] for k in range(1, self.dim + 1)]) + b

    def forward(self) -> tuple[sp.Expr, ...]:
        a, uu = self.pre_activation(), self.u_vector()
        return tuple(z[k] + uu[k - 1] * sp.tanh(a) for k in range(1, self.dim + 1))

    def psi(self) -> tuple[sp.Expr, ...]:
        r""":math:`\psi(\mathbf{z}) = h'(a)\,\mathbf{w}`, :math:`h'(a) = 1 - \tanh^2 a`."""
        hp = 1 - sp.tanh(self.pre_activation()) ** 2
        return tuple(hp * w[k] for k in range(1, self.dim + 1))

    def claimed_logdet(self) -> sp.Expr:
        uu, psi = self.u_vector(), self.psi()
        return sp.log(sp.Abs(1 + sp.Add(*[a * p for a, p in zip(uu, psi, strict=True)])))

    def assumptions(self) -> tuple[str, ...]:
        return (r"h = \tanh", r"\mathbf{w}^\top\mathbf{u} \ge -1 \text{ for invertibility}")


class PlanarReparametrized(Planar):
    r"""The invertible planar flow: :math:`\mathbf{u}` replaced by :math:`\hat{\mathbf{u}}` (appendix A.1)."""

    name: ClassVar[str] = "planar-reparametrized"

    def u_vector(self) -> tuple[sp.Expr, ...]:
        return self._cached("u_hat", lambda: u_hat(self.dim))

    def claimed_logdet(self) -> sp.Expr:
        r""":math:`\log|1 + \hat{\mathbf{u}}^\top\psi| = \log|1 + h'(a)\,m(\mathbf{w}^\top\mathbf{u})|`
        (eq. 12 with :math:`\mathbf{w}^\top\hat{\mathbf{u}} = m(\mathbf{w}^\top\mathbf{u})`); the argument is
        :math:`> 0` because :math:`0 < h' \le 1` and :math:`m > -1`."""
        hp = 1 - sp.tanh(self.pre_activation()) ** 2
        wu = sp.Add(*[w[k] * u[k] for k in range(1, self.dim + 1)])
        return sp.log(sp.Abs(1 + hp * m_planar(wu)))

    def assumptions(self) -> tuple[str, ...]:
        return (
            r"h = \tanh",
            r"\mathbf{w} \neq \mathbf{0}",
            r"\hat{\mathbf{u}} = \mathbf{u} + (m(\mathbf{w}^\top\mathbf{u}) - \mathbf{w}^\top\mathbf{u})"
            r"\mathbf{w}/\lVert\mathbf{w}\rVert^2,\ m(x) = -1 + \log(1+e^x)",
        )
