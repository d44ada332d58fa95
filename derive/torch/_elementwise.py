r"""Elementwise bijections with their log-determinants (reference): leaky ReLU, sigmoid, logit, tanh,
softplus, affine. ``forward(x) -> (y, logdet)`` summing over the last axis; ``inverse`` likewise.

* leaky ReLU: :math:`\log|\det J| = \sum_i [x_i < 0]\log\alpha` (both branches);
* sigmoid: :math:`\sum_i -x_i - 2\operatorname{softplus}(-x_i)`; logit: :math:`-\sum_i\log(x_i(1 - x_i))`;
* tanh: :math:`\sum_i 2(\log 2 - x_i - \operatorname{softplus}(-2x_i))` (stable form of :math:`\log(1-\tanh^2)`);
* softplus: :math:`\sum_i -\operatorname{softplus}(-x_i)`; affine: :math:`\sum_i\log|a_i|`.

>>> import torch
>>> y, logdet = LeakyReLUFlow(0.1)(torch.tensor([-1.0, 2.0], dtype=torch.float64))
>>> y.tolist(), round(float(logdet), 6)
([-0.1, 2.0], -2.302585)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["AffineFlow", "LeakyReLUFlow", "LogitFlow", "SigmoidFlow", "SoftplusFlow", "TanhFlow"]


class LeakyReLUFlow(nn.Module):
    r""":math:`y = x` (:math:`x \ge 0`), :math:`\alpha x` (:math:`x < 0`)."""

    def __init__(self, negative_slope: float = 0.1) -> None:
        super().__init__()
        if negative_slope <= 0:
            raise ValueError(f"LeakyReLUFlow: negative_slope must be > 0, got {negative_slope}")
        self.alpha = negative_slope

    def log_abs_det(self, x: Tensor) -> Tensor:
        log_alpha = torch.full_like(x, math.log(self.alpha))
        return torch.where(x < 0, log_alpha, torch.zeros_like(x)).sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.where(x >= 0, x, self.alpha * x), self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        x = torch.where(y >= 0, y, y / self.alpha)
        return x, -self.log_abs_det(x)


class SigmoidFlow(nn.Module):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (-x - 2 * F.softplus(-x)).sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.sigmoid(x), self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        x = torch.log(y) - torch.log1p(-y)
        return x, -self.log_abs_det(x)


class LogitFlow(nn.Module):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return -(torch.log(x) + torch.log1p(-x)).sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.log(x) - torch.log1p(-x), self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        x = torch.sigmoid(y)
        return x, -self.log_abs_det(x)


class TanhFlow(nn.Module):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (2 * (math.log(2.0) - x - F.softplus(-2 * x))).sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.tanh(x), self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        x = torch.atanh(y)
        return x, -self.log_abs_det(x)


class SoftplusFlow(nn.Module):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (-F.softplus(-x)).sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return F.softplus(x), self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        x = y + torch.log(-torch.expm1(-y))
        return x, -self.log_abs_det(x)


class AffineFlow(nn.Module):
    r""":math:`y = a \odot x + c` with signed :math:`a \neq 0`."""

    def __init__(self, dim: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.a = nn.Parameter(
            torch.exp(torch.randn(dim, generator=gen)) * torch.tensor(-1.0) ** torch.arange(dim)
        )
        self.c = nn.Parameter(torch.randn(dim, generator=gen))

    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.log(torch.abs(self.a)).sum().expand(x.shape[:-1])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.a * x + self.c, self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return (y - self.c) / self.a, -self.log_abs_det(y)
