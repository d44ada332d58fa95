r"""Glow's image layers (Kingma & Dhariwal 2018, Table 1) on ``(..., C, H, W)`` inputs.

* :class:`ActNormFlow` — per-channel :math:`y = s_c x + b_c`, :math:`\log|\det J| = H W \sum_c \log|s_c|`;
* :class:`InvConv1x1` — :math:`\mathbf{y}_{:,h,w} = \mathbf{W}\mathbf{x}_{:,h,w}`,
  :math:`\log|\det J| = H W \log|\det\mathbf{W}|`; ``lu=True``:
  :math:`\mathbf{W} = P L (U + \operatorname{diag}(\mathbf{s}))`, :math:`\log|\det J| = H W \sum_c\log|s_c|`.

The spatial factor :math:`HW` is the classic omission (TFP's batch norm, several 1×1 convolutions).

>>> import torch
>>> layer = ActNormFlow(2).double()
>>> y, logdet = layer(torch.zeros(2, 3, 3, dtype=torch.float64))
>>> torch.allclose(logdet, 9 * torch.log(torch.abs(layer.scale)).sum())
True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ActNormFlow", "InvConv1x1"]


class ActNormFlow(nn.Module):
    r"""ActNorm with per-channel ``scale`` :math:`s_c \neq 0` and ``shift`` :math:`b_c`."""

    def __init__(self, channels: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.channels = channels
        self.scale = nn.Parameter(
            torch.exp(0.5 * torch.randn(channels, generator=gen))
            * torch.tensor(-1.0) ** torch.arange(channels)
        )
        self.shift = nn.Parameter(torch.randn(channels, generator=gen))

    def log_abs_det(self, x: Tensor) -> Tensor:
        spatial = x.shape[-1] * x.shape[-2]
        return (spatial * torch.log(torch.abs(self.scale)).sum()).expand(x.shape[:-3])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.scale[:, None, None] * x + self.shift[:, None, None], self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return (y - self.shift[:, None, None]) / self.scale[:, None, None], -self.log_abs_det(y)


class InvConv1x1(nn.Module):
    r"""Invertible 1×1 convolution; ``lu=True`` uses Glow's LU parametrisation."""

    perm: Tensor
    sign_s: Tensor

    def __init__(self, channels: int, lu: bool = False, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.channels, self.lu = channels, lu
        q, _ = torch.linalg.qr(torch.randn(channels, channels, generator=gen))
        if not lu:
            self.weight = nn.Parameter(q + 0.3 * torch.randn(channels, channels, generator=gen))
            return
        self.register_buffer("perm", torch.eye(channels).flip(0))
        self.lower = nn.Parameter(torch.randn(channels, channels, generator=gen) * 0.5)
        self.upper = nn.Parameter(torch.randn(channels, channels, generator=gen) * 0.5)
        self.log_s = nn.Parameter(torch.randn(channels, generator=gen) * 0.5)
        self.register_buffer("sign_s", torch.tensor(-1.0) ** torch.arange(channels))

    def s(self) -> Tensor:
        return self.sign_s * torch.exp(self.log_s)

    def matrix(self) -> Tensor:
        if not self.lu:
            return self.weight
        eye = torch.eye(self.channels, dtype=self.lower.dtype)
        L = torch.tril(self.lower, -1) + eye
        U = torch.triu(self.upper, 1) + torch.diag(self.s())
        return self.perm @ L @ U

    def log_abs_det(self, x: Tensor) -> Tensor:
        spatial = x.shape[-1] * x.shape[-2]
        per_pixel = (
            torch.log(torch.abs(self.s())).sum() if self.lu else torch.linalg.slogdet(self.matrix())[1]
        )
        return (spatial * per_pixel).expand(x.shape[:-3])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.einsum("ij,...jhw->...ihw", self.matrix(), x), self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return torch.einsum("ij,...jhw->...ihw", torch.linalg.inv(self.matrix()), y), -self.log_abs_det(y)
