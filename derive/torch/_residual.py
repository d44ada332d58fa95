r"""Residual-type flows with full Jacobians: planar, radial, Householder, Sylvester (reference, float64-ready).

``forward(z) -> (f(z), log|det ∂f/∂z|)`` over the last axis; parameters are ``nn.Parameter``
initialised from a seeded generator.

* :class:`PlanarFlow` — Rezende & Mohamed 2015, eq. 10–12 and app. A.1: :math:`f = z + \hat u\tanh(w^\top z + b)`,
  :math:`\log|\det J| = \log|1 + \hat u^\top\psi(z)|`, :math:`\hat u = u + (m(w^\top u) - w^\top u)\,w/\lVert w\rVert^2`;
* :class:`RadialFlow` — eq. 14: :math:`f = z + \beta h(\alpha, r)(z - z_0)`,
  :math:`\log|\det J| = (D-1)\log|1 + \beta h| + \log|1 + \beta h + \beta h'(\alpha, r) r|`,
  :math:`\beta = -\alpha + \operatorname{softplus}(\hat\beta)` (invertibility :math:`\beta \ge -\alpha`);
* :class:`HouseholderFlow` — Tomczak & Welling 2016: :math:`f = (I - 2vv^\top/\lVert v\rVert^2)z`, log-det 0;
* :class:`SylvesterFlow` — van den Berg et al. 2018: :math:`f = z + A\tanh(Bz + b)`,
  :math:`\log|\det J| = \log|\det(I_M + \operatorname{diag}(h')BA)|`.

>>> import torch
>>> flow = PlanarFlow(3).double()
>>> y, logdet = flow(torch.zeros(2, 3, dtype=torch.float64))
>>> y.shape, logdet.shape
(torch.Size([2, 3]), torch.Size([2]))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["HouseholderFlow", "PlanarFlow", "RadialFlow", "SylvesterFlow"]


def _randn(*shape: int, seed: int, scale: float = 1.0) -> nn.Parameter:
    gen = torch.Generator().manual_seed(seed)
    return nn.Parameter(torch.randn(*shape, generator=gen) * scale)


class PlanarFlow(nn.Module):
    r"""Planar flow with the invertibility reparametrisation (``reparametrize=False``: raw :math:`u`)."""

    def __init__(self, dim: int, reparametrize: bool = True, seed: int = 0) -> None:
        super().__init__()
        self.dim, self.reparametrize = dim, reparametrize
        self.u, self.w = _randn(dim, seed=seed), _randn(dim, seed=seed + 1)
        self.b = _randn(1, seed=seed + 2)

    def u_hat(self) -> Tensor:
        if not self.reparametrize:
            return self.u
        wu = self.w @ self.u
        m = -1 + F.softplus(wu)
        return self.u + (m - wu) * self.w / (self.w @ self.w)

    def psi(self, z: Tensor) -> Tensor:
        a = z @ self.w + self.b
        return (1 - torch.tanh(a) ** 2).unsqueeze(-1) * self.w

    def log_abs_det(self, z: Tensor) -> Tensor:
        return torch.log(torch.abs(1 + self.psi(z) @ self.u_hat()))

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        a = z @ self.w + self.b
        return z + self.u_hat() * torch.tanh(a).unsqueeze(-1), self.log_abs_det(z)


class RadialFlow(nn.Module):
    r"""Radial flow around :math:`z_0` with :math:`\alpha = \operatorname{softplus}(\hat\alpha) > 0`."""

    def __init__(self, dim: int, seed: int = 0) -> None:
        super().__init__()
        self.dim = dim
        self.z0 = _randn(dim, seed=seed)
        self.alpha_raw, self.beta_raw = _randn(1, seed=seed + 1), _randn(1, seed=seed + 2)

    def params(self) -> tuple[Tensor, Tensor]:
        alpha = F.softplus(self.alpha_raw)
        return alpha, -alpha + F.softplus(self.beta_raw)

    def log_abs_det(self, z: Tensor) -> Tensor:
        alpha, beta = self.params()
        r = torch.linalg.vector_norm(z - self.z0, dim=-1)
        h = 1 / (alpha + r)
        h_prime = -1 / (alpha + r) ** 2
        return (self.dim - 1) * torch.log(torch.abs(1 + beta * h)) + torch.log(
            torch.abs(1 + beta * h + beta * h_prime * r)
        )

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        alpha, beta = self.params()
        r = torch.linalg.vector_norm(z - self.z0, dim=-1, keepdim=True)
        return z + beta * (z - self.z0) / (alpha + r), self.log_abs_det(z)


class HouseholderFlow(nn.Module):
    r"""One Householder reflection; self-inverse, volume preserving."""

    def __init__(self, dim: int, seed: int = 0) -> None:
        super().__init__()
        self.dim = dim
        self.v = _randn(dim, seed=seed)

    def reflect(self, z: Tensor) -> Tensor:
        v = self.v
        return z - 2 * (z @ v).unsqueeze(-1) * v / (v @ v)

    def log_abs_det(self, z: Tensor) -> Tensor:
        return torch.zeros(z.shape[:-1], dtype=z.dtype)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return self.reflect(z), self.log_abs_det(z)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return self.reflect(y), self.log_abs_det(y)


class SylvesterFlow(nn.Module):
    r""":math:`z + A\tanh(Bz + b)` with :math:`M` = ``hidden`` units (general :math:`A, B`)."""

    def __init__(self, dim: int, hidden: int = 2, seed: int = 0) -> None:
        super().__init__()
        self.dim, self.hidden = dim, hidden
        self.A = _randn(dim, hidden, seed=seed, scale=0.5)
        self.B = _randn(hidden, dim, seed=seed + 1, scale=0.5)
        self.b = _randn(hidden, seed=seed + 2)

    def h_prime(self, z: Tensor) -> Tensor:
        return 1 - torch.tanh(z @ self.B.T + self.b) ** 2

    def log_abs_det(self, z: Tensor) -> Tensor:
        small = torch.eye(self.hidden, dtype=z.dtype) + self.h_prime(z).unsqueeze(-1) * (self.B @ self.A)
        return torch.linalg.slogdet(small)[1]

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return z + torch.tanh(z @ self.B.T + self.b) @ self.A.T, self.log_abs_det(z)
