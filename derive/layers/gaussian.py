r"""The diagonal Gaussian base of IAF: :math:`\mathbf{z}_0 = \boldsymbol\mu_0 + \boldsymbol\sigma_0\odot\boldsymbol\epsilon`.

:math:`\boldsymbol\mu_0, \boldsymbol\sigma_0` come from the encoder of :math:`\mathbf{x}` and are
constant with respect to :math:`\boldsymbol\epsilon \sim \mathcal{N}(\mathbf{0}, \mathbf{I})`
(Kingma et al. 2016, eq. 10). Generative direction: noise → sample.

>>> GaussianBase(2).derived_logdet()
log(sigma[0, 1]) + log(sigma[0, 2])
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer
from derive.symbols import epsilon, mu, sigma, z

__all__ = ["GaussianBase", "log_normal_pdf", "log_std_normal_pdf"]


def log_std_normal_pdf(values: tuple[sp.Expr, ...]) -> sp.Expr:
    r""":math:`\log\mathcal{N}(\mathbf{v};\mathbf{0},\mathbf{I}) = \sum_i(-\tfrac12\log 2\pi - \tfrac12 v_i^2)`."""
    return sp.Add(*[-sp.log(2 * sp.pi) / 2 - v**2 / 2 for v in values])


def log_normal_pdf(
    values: tuple[sp.Expr, ...], means: tuple[sp.Expr, ...], stds: tuple[sp.Expr, ...]
) -> sp.Expr:
    r"""Diagonal Gaussian: :math:`\sum_i(-\tfrac12\log 2\pi - \log\sigma_i - (v_i-\mu_i)^2/(2\sigma_i^2))`."""
    return sp.Add(
        *[
            -sp.log(2 * sp.pi) / 2 - sp.log(s) - (v - m) ** 2 / (2 * s**2)
            for v, m, s in zip(values, means, stds, strict=True)
        ]
    )


class GaussianBase(FlowLayer):
    r""":math:`z_{0,i} = \mu_{0,i} + \sigma_{0,i}\,\epsilon_i`; :math:`\log|\det J| = \sum_i \log\sigma_{0,i}`."""

    name: ClassVar[str] = "gaussian-base"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL
    latex_io: ClassVar[tuple[str, str]] = (r"\mathbf{z}_{0}", r"\boldsymbol{\epsilon}")
    text_io: ClassVar[tuple[str, str]] = ("z_0", "ε")

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(epsilon[k] for k in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(mu[0, k] + sigma[0, k] * epsilon[k] for k in range(1, self.dim + 1))

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return tuple(z[0, k] for k in range(1, self.dim + 1))

    def inverse(self) -> tuple[sp.Expr, ...]:
        y = self.output_symbols()
        return tuple((y[k - 1] - mu[0, k]) / sigma[0, k] for k in range(1, self.dim + 1))

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[sp.log(sigma[0, k]) for k in range(1, self.dim + 1)])

    def assumptions(self) -> tuple[str, ...]:
        return (r"\sigma_{0,i} > 0", r"\mu_{0,i} \in \mathbb{R}", r"\epsilon_i \in \mathbb{R}")
