r"""Affine coupling (RealNVP / Glow) and the MAF step, reference implementations.

* :class:`AffineCouplingFlow` — Dinh et al. 2017, eq. 4–9: with a binary ``mask`` (1 = conditioner),
  :math:`y = b\odot x + (1-b)\odot(x\odot e^{s(b\odot x)} + t(b\odot x))`,
  :math:`\log|\det J| = \sum_j (1-b_j)\,s_j(b\odot x)`; ``scale="sigmoid"`` is Glow's
  :math:`\operatorname{sigmoid}(r + 2)` scale, :math:`\log|\det J| = \sum_j (1-b_j)\log\operatorname{sigmoid}(r_j + 2)`.
* :class:`MAFStep` — Papamakarios et al. 2017, eq. 3–5: :math:`u_i = (x_i - \mu_i)e^{-\alpha_i}` with
  :math:`\mu, \alpha` from a :class:`~derive.torch.MADE`; :math:`\log|\det J| = -\sum_i\alpha_i`.

``forward(x) -> (y, logdet)``, ``inverse(y) -> (x, logdet of the inverse)``.

>>> import torch
>>> layer = AffineCouplingFlow(4).double()
>>> x = torch.randn(3, 4, dtype=torch.float64)
>>> y, logdet = layer(x)
>>> torch.allclose(layer.inverse(y)[0], x)
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from derive.torch._made import MADE

__all__ = ["AffineCouplingFlow", "MAFStep"]


class AffineCouplingFlow(nn.Module):
    r"""Affine coupling with a small tanh MLP conditioner producing :math:`(s, t)`."""

    mask: Tensor

    def __init__(
        self, dim: int, mask: Tensor | None = None, hidden: int = 8, scale: str = "exp", seed: int = 0
    ) -> None:
        super().__init__()
        if scale not in ("exp", "sigmoid"):
            raise ValueError(f"AffineCouplingFlow: scale must be 'exp' or 'sigmoid', got {scale!r}")
        torch.manual_seed(seed)
        default = (torch.arange(dim) < (dim + 1) // 2).to(torch.get_default_dtype())
        self.register_buffer("mask", default if mask is None else mask.to(torch.get_default_dtype()))
        self.dim, self.scale = dim, scale
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 2 * dim))

    def scale_shift(self, x_cond: Tensor) -> tuple[Tensor, Tensor]:
        """``(log-scale, shift)`` from the conditioner input ``b ⊙ x``."""
        raw_s, t = self.net(x_cond).chunk(2, dim=-1)
        log_scale = torch.tanh(raw_s) if self.scale == "exp" else F.logsigmoid(raw_s + 2.0)
        return log_scale, t

    def log_abs_det(self, log_scale: Tensor) -> Tensor:
        return ((1 - self.mask) * log_scale).sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        b = self.mask
        log_scale, t = self.scale_shift(b * x)
        y = b * x + (1 - b) * (x * torch.exp(log_scale) + t)
        return y, self.log_abs_det(log_scale)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        b = self.mask
        log_scale, t = self.scale_shift(b * y)
        x = b * y + (1 - b) * (y - t) * torch.exp(-log_scale)
        return x, -self.log_abs_det(log_scale)


class MAFStep(nn.Module):
    r"""One MAF step in the density direction (data :math:`x` → noise :math:`u`)."""

    def __init__(self, dim: int, hidden: int = 16, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.dim = dim
        self.made = MADE(dim, hidden=(hidden,), outputs_per_feature=2)

    def mu_alpha(self, x: Tensor) -> tuple[Tensor, Tensor]:
        out = self.made(x)
        return out[..., 0, :], torch.tanh(out[..., 1, :])

    def log_abs_det(self, alpha: Tensor) -> Tensor:
        return -alpha.sum(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, alpha = self.mu_alpha(x)
        return (x - mu) * torch.exp(-alpha), self.log_abs_det(alpha)

    def inverse(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """Sequential in the dimension: D passes through the MADE."""
        x = torch.zeros_like(u)
        for _ in range(self.dim):
            mu, alpha = self.mu_alpha(x)
            x = u * torch.exp(alpha) + mu
        mu, alpha = self.mu_alpha(x)
        return x, -self.log_abs_det(alpha)
