r"""Batch normalisation as a flow layer (normalizing direction), with its per-sample log-determinant.

.. math::
    y_{n,i} = \gamma_i\,\frac{x_{n,i} - \tilde\mu_i}{\sqrt{\tilde\sigma_i^2 + \epsilon}} + \beta_i .

*Eval mode* (:math:`\tilde\mu, \tilde\sigma^2` are the running statistics, constants):
:math:`\log|\det \partial\mathbf{y}/\partial\mathbf{x}| = \sum_i \log|\gamma_i| - \tfrac12\sum_i
\log(\tilde\sigma_i^2 + \epsilon)`.

*Train mode* (:math:`\tilde\mu, \tilde\sigma^2` are the batch's own mean and biased variance over
the :math:`N` samples, axis ``-2``): the statistics depend on :math:`\mathbf{x}_n` too, and with
the normalised value :math:`\hat y_{n,i} = (x_{n,i} - \tilde\mu_i)/\sqrt{\tilde\sigma_i^2+\epsilon}`
the per-sample Jacobian :math:`\partial\mathbf{y}_n/\partial\mathbf{x}_n` (other samples fixed) is
diagonal with entries :math:`\gamma_i(\tilde\sigma_i^2+\epsilon)^{-1/2}\,(1 - (1 + c\,\hat
y_{n,i}^2)/N)`, :math:`c = 1` (biased variance) or :math:`N/(N-1)` (``unbiased=True``). The
Jacobian of the whole batch map is singular (a constant shift of all samples is annihilated),
so the per-sample log-det is the only meaningful one.

Running statistics follow :class:`torch.nn.BatchNorm1d`: ``running = (1 - momentum) * running +
momentum * batch`` with the *unbiased* batch variance. That update is in place, which
``torch.func`` transforms reject (as for ``BatchNorm1d``): to differentiate the train-mode map
with ``jacrev``/``vmap``, build the layer with ``track_running_stats=False``.

References: Ioffe & Szegedy 2015, "Batch Normalization"; Dinh et al. 2017, "Density estimation
using Real NVP", §3.7 and App. E (batch normalisation as a bijection).

>>> import torch
>>> bn = BatchNormFlow(2, affine=True).double().eval()
>>> y, logdet = bn(torch.tensor([[0.5, -1.0]], dtype=torch.float64))
>>> torch.allclose(bn.inverse(y), torch.tensor([[0.5, -1.0]], dtype=torch.float64)), logdet.shape
(True, torch.Size([1]))
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from derive.errors import UsageError

__all__ = ["BatchNormFlow"]


class BatchNormFlow(nn.Module):
    r"""Batch normalisation :math:`\mathbf{x} \mapsto \mathbf{y}`; ``forward`` gives ``(y, logdet)``.

    Arguments:
        features: :math:`D`.
        eps: the stability constant :math:`\epsilon > 0`.
        momentum: running-statistics momentum (as in ``torch.nn.BatchNorm1d``).
        affine: learn :math:`\boldsymbol\gamma` (init 1) and :math:`\boldsymbol\beta` (init 0).
        unbiased: normalise with the unbiased batch variance (``BatchNorm1d`` uses the biased one).
        track_running_stats: update the running statistics in train mode.

    Shapes: eval mode ``x`` is ``(..., D)``; train mode ``x`` is ``(..., N, D)`` (statistics over
    axis ``-2``), ``logdet`` is ``(..., N)``.

    >>> bn = BatchNormFlow(3).double()
    >>> y, logdet = bn(torch.randn(8, 3, dtype=torch.float64))  # train mode
    >>> torch.allclose(y.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-12), logdet.shape
    (True, torch.Size([8]))
    """

    running_mean: Tensor
    running_var: Tensor

    def __init__(
        self,
        features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        unbiased: bool = False,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"BatchNormFlow: eps must be > 0, got {eps}")
        self.features, self.eps, self.momentum = features, eps, momentum
        self.unbiased, self.track_running_stats = unbiased, track_running_stats
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))
        self.weight = nn.Parameter(torch.ones(features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(features)) if affine else None

    def _affine(self, y: Tensor, logdet: Tensor) -> tuple[Tensor, Tensor]:
        if self.weight is None or self.bias is None:
            return y, logdet
        return self.weight * y + self.bias, logdet + torch.log(torch.abs(self.weight)).sum()

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if not self.training:
            std = torch.sqrt(self.running_var + self.eps)
            logdet = -torch.log(std).sum().expand(x.shape[:-1])
            return self._affine((x - self.running_mean) / std, logdet)

        n = x.shape[-2]
        if n < 2:
            raise UsageError(
                f"BatchNormFlow: train mode needs N >= 2 samples on axis -2, got shape {tuple(x.shape)}"
            )
        mean = x.mean(-2, keepdim=True)
        var = x.var(-2, keepdim=True, correction=1 if self.unbiased else 0)
        y = (x - mean) / torch.sqrt(var + self.eps)
        c = n / (n - 1) if self.unbiased else 1.0
        logdet = (-0.5 * torch.log(var + self.eps) + torch.log(torch.abs(1 - (1 + c * y**2) / n))).sum(-1)
        if self.track_running_stats:
            with torch.no_grad():
                batch_var = x.var(-2, correction=1).reshape(-1, self.features).mean(0)
                batch_mean = mean.reshape(-1, self.features).mean(0)
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * batch_mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * batch_var)
        return self._affine(y, logdet)

    def inverse(self, y: Tensor) -> Tensor:
        r"""The inverse map, eval mode only.

        .. math:: \mathbf{x} = \tilde{\boldsymbol\mu} + \sqrt{\tilde{\boldsymbol\sigma}^2+\epsilon}
                  \odot(\mathbf{y}-\boldsymbol\beta)/\boldsymbol\gamma
        """
        if self.training:
            raise UsageError("BatchNormFlow.inverse: only defined in eval mode (call .eval() first)")
        if self.weight is not None and self.bias is not None:
            y = (y - self.bias) / self.weight
        return self.running_mean + torch.sqrt(self.running_var + self.eps) * y
