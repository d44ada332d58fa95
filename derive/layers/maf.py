r"""Masked Autoregressive Flow step (Papamakarios et al. 2017, eq. 3–5), the normalizing twin of IAF.

Density-evaluation direction :math:`u_i = (x_i - \mu_i(\mathbf{x}_{1:i-1}))\exp(-\alpha_i(\mathbf{x}_{1:i-1}))`;
the Jacobian is lower triangular with diagonal :math:`e^{-\alpha_i}`, so (eq. 5)

.. math:: \log|\det J| = -\sum_i \alpha_i.

The sampling direction :math:`x_i = u_i e^{\alpha_i} + \mu_i` is sequential in :math:`i` (IAF is
the reverse trade-off). :math:`\mu_i, \alpha_i` are undefined functions of exactly
:math:`x_{1:i-1}`, so the triangular structure is derived.

>>> MAFStep(2).derived_logdet()
-alpha[1] - alpha[2]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["MAFStep"]

x = sp.IndexedBase("x", real=True)
u = sp.IndexedBase("u", real=True)
mu = sp.IndexedBase("mu", real=True)
alpha = sp.IndexedBase("alpha", real=True)


class MAFStep(FlowLayer):
    r""":math:`u_i = (x_i - \mu_i)\,e^{-\alpha_i}`, :math:`\mu_i, \alpha_i` functions of :math:`x_{1:i-1}`."""

    name: ClassVar[str] = "maf-step"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(x[k] for k in range(1, self.dim + 1))

    def _fn(self, name: str, k: int) -> sp.Expr:
        return sp.Function(rf"{name}_{{{k}}}", real=True)(*self.inputs()[: k - 1])

    def mu(self, k: int) -> sp.Expr:
        return self._fn(r"\mu", k)

    def alpha(self, k: int) -> sp.Expr:
        return self._fn(r"\alpha", k)

    def forward(self) -> tuple[sp.Expr, ...]:
        xs = self.inputs()
        return tuple((xs[k - 1] - self.mu(k)) * sp.exp(-self.alpha(k)) for k in range(1, self.dim + 1))

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return tuple(u[k] for k in range(1, self.dim + 1))

    def inverse(self) -> tuple[sp.Expr, ...]:
        us = self.output_symbols()
        return tuple(us[k - 1] * sp.exp(self.alpha(k)) + self.mu(k) for k in range(1, self.dim + 1))

    def abbreviations(self) -> Mapping[sp.Expr, sp.Expr]:
        out: dict[sp.Expr, sp.Expr] = {}
        for k in range(1, self.dim + 1):
            out[self.mu(k)] = mu[k]
            out[self.alpha(k)] = alpha[k]
        return out

    def claimed_logdet(self) -> sp.Expr:
        return -sp.Add(*[alpha[k] for k in range(1, self.dim + 1)])

    def assumptions(self) -> tuple[str, ...]:
        return (r"\mu_i,\ \alpha_i \text{ depend on } x_{1:i-1} \text{ only}",)
