r"""Inverse Autoregressive Flow (IAF): the reference implementation the symbolic result is checked against.

Base (from an encoder of :math:`\mathbf{x}`): :math:`\mathbf{z}_0 = \boldsymbol\mu_0 +
\boldsymbol\sigma_0 \odot \boldsymbol\epsilon`, :math:`\boldsymbol\epsilon \sim \mathcal N(0, I)`.
Step :math:`t = 1..T` (plain): :math:`[\boldsymbol\mu_t, \log\boldsymbol\sigma_t] =
\mathrm{MADE}(\mathbf{z}_{t-1}, \mathbf{h})`, :math:`\mathbf{z}_t = \boldsymbol\mu_t +
\boldsymbol\sigma_t \odot \mathbf{z}_{t-1}`; (stable, LSTM-type) :math:`[\mathbf{m}_t, \mathbf{s}_t]
= \mathrm{MADE}(\mathbf{z}_{t-1}, \mathbf{h})`, :math:`\boldsymbol\sigma_t = \mathrm{sigmoid}(\mathbf{s}_t)`,
:math:`\mathbf{z}_t = \boldsymbol\sigma_t \odot \mathbf{z}_{t-1} + (1 - \boldsymbol\sigma_t) \odot
\mathbf{m}_t`. Each step's Jacobian is lower triangular with diagonal :math:`\boldsymbol\sigma_t`, so

.. math::
    \log q(\mathbf{z}_T|\mathbf{x}) = -\sum_{i=1}^{D}\Big(\tfrac12\log 2\pi + \tfrac12\epsilon_i^2
    + \sum_{t=0}^{T}\log\sigma_{t,i}\Big).

No permutation between steps: the torch model is exactly the symbolic one (a fixed permutation
would be volume preserving and leave the formula unchanged, but change the model).

Reference: Kingma et al. 2016, "Improved Variational Inference with Inverse Autoregressive Flow",
eq. 10–11 and §A (the LSTM-type update).

>>> import torch
>>> _ = torch.manual_seed(0)
>>> flow = IAF(features=2, x_features=3, context=4, steps=2, hidden=(8,)).double()
>>> out = flow(torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64))
>>> out.z.shape, out.sigma.shape, out.log_q.shape
(torch.Size([5, 2]), torch.Size([5, 3, 2]), torch.Size([5]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from derive.torch._made import MADE

__all__ = ["IAF", "EncoderOutput", "GaussianEncoder", "IAFOutput", "IAFStep", "IAFStepOutput"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class EncoderOutput(NamedTuple):
    """What the encoder gives the flow: base mean, base log-scale and context."""

    mu: Tensor
    log_sigma: Tensor
    h: Tensor | None


class IAFStepOutput(NamedTuple):
    r""":math:`\mathbf{z}_t` and :math:`\log\boldsymbol\sigma_t` (the step's log-det is the latter's sum)."""

    z: Tensor
    log_sigma: Tensor


class IAFOutput(NamedTuple):
    r"""The last iterate, the scales and :math:`\log q(\mathbf{z}_T|\mathbf{x})`.

    ``sigma`` and ``log_sigma`` have shape ``(..., T+1, D)``, :math:`\sigma_0` (the encoder's) first.
    """

    z: Tensor
    sigma: Tensor
    log_sigma: Tensor
    log_q: Tensor


class GaussianEncoder(nn.Module):
    r"""A small MLP :math:`\mathbf{x} \mapsto (\boldsymbol\mu_0, \log\boldsymbol\sigma_0, \mathbf{h})`.

    >>> enc = GaussianEncoder(3, features=2, context=4).double()
    >>> [tuple(v.shape) for v in enc(torch.zeros(3, dtype=torch.float64))]
    [(2,), (2,), (4,)]
    """

    def __init__(
        self, x_features: int, features: int, context: int = 0, hidden: Sequence[int] = (32,)
    ) -> None:
        super().__init__()
        self.features, self.context = features, context
        widths = [x_features, *hidden]
        layers: list[nn.Module] = []
        for a, b in pairwise(widths):
            layers += [nn.Linear(a, b), nn.ELU()]
        layers.append(nn.Linear(widths[-1], 2 * features + context))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> EncoderOutput:
        out = self.net(x)
        mu, log_sigma, h = out.split((self.features, self.features, self.context), dim=-1)
        return EncoderOutput(mu, log_sigma, h if self.context > 0 else None)


class IAFStep(nn.Module):
    r"""One IAF step :math:`\mathbf{z}_{t-1} \mapsto \mathbf{z}_t` (generative direction).

    Plain: :math:`\mathbf{z}_t = \boldsymbol\mu_t + \boldsymbol\sigma_t \odot \mathbf{z}_{t-1}`
    with :math:`\boldsymbol\sigma_t = \exp(\log\boldsymbol\sigma_t)`. Stable (``stable=True``):
    :math:`\boldsymbol\sigma_t = \mathrm{sigmoid}(\mathbf{s}_t)`, :math:`\mathbf{z}_t =
    \boldsymbol\sigma_t \odot \mathbf{z}_{t-1} + (1-\boldsymbol\sigma_t) \odot \mathbf{m}_t`,
    i.e. :math:`\boldsymbol\mu_t = (1-\boldsymbol\sigma_t)\odot\mathbf{m}_t`. Either way
    :math:`\log|\det \partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}| = \sum_i \log\sigma_{t,i}`.

    ``forget_bias`` initialises the bias of :math:`\mathbf{s}_t` (stable) so that
    :math:`\sigma_t \approx \mathrm{sigmoid}(b)` at the start, as in Kingma et al. 2016, §A.

    >>> step = IAFStep(3, stable=True).double()
    >>> z = torch.zeros(3, dtype=torch.float64)
    >>> torch.allclose(step.inverse(step(z).z), z)
    True
    """

    def __init__(
        self,
        features: int,
        context: int = 0,
        hidden: Sequence[int] = (32, 32),
        stable: bool = False,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        self.stable = stable
        self.made = MADE(features, context, hidden, outputs_per_feature=2)
        if stable:
            last = self.made.net[-1]
            assert isinstance(last, nn.Linear) and last.bias is not None
            with torch.no_grad():
                last.bias[features:] += forget_bias

    def scale_shift(self, z: Tensor, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        r"""The step's :math:`(\boldsymbol\mu_t, \log\boldsymbol\sigma_t)` at :math:`\mathbf{z}_{t-1}`."""
        a, b = self.made(z, h).unbind(-2)
        if self.stable:
            log_sigma = F.logsigmoid(b)
            return (1 - torch.sigmoid(b)) * a, log_sigma
        return a, b

    def forward(self, z: Tensor, h: Tensor | None = None) -> IAFStepOutput:
        if self.stable:
            m, s = self.made(z, h).unbind(-2)
            sigma = torch.sigmoid(s)
            return IAFStepOutput(sigma * z + (1 - sigma) * m, F.logsigmoid(s))
        mu, log_sigma = self.made(z, h).unbind(-2)
        return IAFStepOutput(mu + torch.exp(log_sigma) * z, log_sigma)

    def inverse(self, z: Tensor, h: Tensor | None = None) -> Tensor:
        r""":math:`\mathbf{z}_{t-1} = (\mathbf{z}_t - \boldsymbol\mu_t)/\boldsymbol\sigma_t`, by ``D`` sweeps.

        Sweep :math:`k` fixes coordinate :math:`k` exactly (it depends on coordinates :math:`<k`
        only), so after :math:`D` sweeps the result is exact. Out of place (``torch.func`` safe).
        """
        prev = torch.zeros_like(z)
        for _ in range(z.shape[-1]):
            mu, log_sigma = self.scale_shift(prev, h)
            prev = (z - mu) * torch.exp(-log_sigma)
        return prev


class IAF(nn.Module):
    r"""Encoder, Gaussian base and ``steps`` IAF steps; ``forward(eps, x)`` returns an :class:`IAFOutput`.

    Arguments:
        features: :math:`D`.
        x_features: size of the datapoint :math:`\mathbf{x}`.
        context: size of :math:`\mathbf{h}` (0: none).
        steps: :math:`T \ge 0`.
        hidden: MADE hidden widths.
        stable: use the LSTM-type step.
        encoder: replaces the default :class:`GaussianEncoder`.
    """

    def __init__(
        self,
        features: int,
        x_features: int,
        context: int = 0,
        steps: int = 1,
        hidden: Sequence[int] = (32, 32),
        stable: bool = False,
        encoder: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if steps < 0:
            raise ValueError(f"IAF: steps must be >= 0, got {steps}")
        self.encoder = encoder if encoder is not None else GaussianEncoder(x_features, features, context)
        self.steps = nn.ModuleList(IAFStep(features, context, hidden, stable) for _ in range(steps))

    def forward(self, eps: Tensor, x: Tensor) -> IAFOutput:
        mu0, log_sigma0, h = self.encoder(x)
        z = mu0 + torch.exp(log_sigma0) * eps
        log_sigmas = [log_sigma0.expand_as(z)]
        for step in self.steps:
            z, log_sigma = step(z, h)
            log_sigmas.append(log_sigma)
        log_sigma = torch.stack(log_sigmas, dim=-2)
        log_q = -(_HALF_LOG_2PI + 0.5 * eps**2 + log_sigma.sum(-2)).sum(-1)
        return IAFOutput(z, torch.exp(log_sigma), log_sigma, log_q)
