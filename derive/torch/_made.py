r"""MADE: a masked autoencoder whose output :math:`i` depends only on inputs :math:`1..i-1`.

Every unit gets a *degree*. Inputs have degrees :math:`1..D`; a hidden unit of degree
:math:`m` may see inputs of degree :math:`\le m` (and hidden units of the previous layer with
degree :math:`\le m`); output :math:`i` may see hidden units of degree :math:`< i` only (strict).
Composing the masks, :math:`\partial\,\mathrm{out}_i/\partial x_j = 0` unless :math:`j < i`: the
Jacobian is *strictly* lower triangular. Hidden degrees cycle through :math:`0..D-1`; degree-0
units see no input at all, only the context :math:`\mathbf{h}`, which feeds every unit of the
first hidden layer unmasked — so even output 1 is a function of :math:`\mathbf{h}`.

Reference: Germain et al. 2015, "MADE: Masked Autoencoder for Distribution Estimation";
Kingma et al. 2016, "Improved Variational Inference with Inverse Autoregressive Flow", §4.

>>> import torch
>>> made = MADE(3, context=2, hidden=(8,), outputs_per_feature=2).double()
>>> made(torch.zeros(3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)).shape
torch.Size([2, 3])
>>> made.connectivity().int()  # [i, j]: may output i see input j? (strictly lower triangular)
tensor([[0, 0, 0],
        [1, 0, 0],
        [1, 1, 0]], dtype=torch.int32)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MADE", "MaskedLinear"]


class MaskedLinear(nn.Linear):
    r"""A linear layer :math:`\mathbf{y} = (W \odot M)\mathbf{x} + \mathbf{b}` with a fixed 0/1 mask.

    The mask is a buffer (moves with ``.to()``, is not trained). No in-place operation, so the
    layer works under ``torch.func.jacrev`` / ``vmap``.

    >>> layer = MaskedLinear(torch.tensor([[1.0, 0.0]]))
    >>> layer.weight.shape, layer.mask.tolist()
    (torch.Size([1, 2]), [[1.0, 0.0]])
    """

    mask: Tensor

    def __init__(self, mask: Tensor, bias: bool = True) -> None:
        out_features, in_features = mask.shape
        super().__init__(in_features, out_features, bias=bias)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    r"""Masked autoregressive network :math:`(\mathbf{x}, \mathbf{h}) \mapsto` ``(outputs_per_feature, D)``.

    Row ``k`` of the output is the ``k``-th autoregressive parameter vector, e.g. ``(mu, log_sigma)``:
    entry :math:`i` of every row depends on :math:`x_{1..i-1}` and :math:`\mathbf{h}` only.

    Arguments:
        features: :math:`D`, the number of inputs (and outputs per row).
        context: size of the context :math:`\mathbf{h}` (0: no context).
        hidden: hidden layer widths (at least one layer).
        outputs_per_feature: number of output rows.
        activation: factory of the nonlinearity between layers.

    >>> made = MADE(4, hidden=(16, 16)).double()
    >>> made(torch.zeros(5, 4, dtype=torch.float64)).shape
    torch.Size([5, 2, 4])
    """

    def __init__(
        self,
        features: int,
        context: int = 0,
        hidden: Sequence[int] = (32, 32),
        outputs_per_feature: int = 2,
        activation: Callable[[], nn.Module] = nn.ELU,
    ) -> None:
        super().__init__()
        if features < 1 or context < 0 or outputs_per_feature < 1 or len(hidden) < 1:
            raise ValueError(
                f"MADE: need features >= 1, context >= 0, outputs_per_feature >= 1 and a hidden layer; "
                f"got features={features}, context={context}, outputs_per_feature={outputs_per_feature}, "
                f"hidden={tuple(hidden)}"
            )
        self.features = features
        self.context = context
        self.outputs_per_feature = outputs_per_feature

        in_degrees = torch.arange(1, features + 1)
        degrees = [in_degrees]
        for width in hidden:
            degrees.append(torch.arange(width) % features)  # 0..D-1; 0 = context only
        out_degrees = in_degrees.repeat(outputs_per_feature)

        layers: list[nn.Module] = []
        for k, (d_in, d_out) in enumerate(pairwise(degrees)):
            if k > 0:
                layers.append(activation())
            layers.append(MaskedLinear((d_out[:, None] >= d_in[None, :]).double()))
        layers.append(activation())
        layers.append(MaskedLinear((out_degrees[:, None] > degrees[-1][None, :]).double()))
        self.net = nn.Sequential(*layers)
        first = layers[0]
        assert isinstance(first, MaskedLinear)
        self.context_linear = nn.Linear(context, first.out_features, bias=False) if context > 0 else None

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        if (h is None) != (self.context_linear is None):
            got = "None" if h is None else f"a tensor of shape {tuple(h.shape)}"
            raise ValueError(f"MADE: context of size {self.context} expected, got h = {got}")
        first, *rest = self.net
        a = first(x)
        if self.context_linear is not None and h is not None:
            a = a + self.context_linear(h)
        for layer in rest:
            a = layer(a)
        return a.unflatten(-1, (self.outputs_per_feature, self.features))

    def connectivity(self) -> Tensor:
        r"""Boolean ``(D, D)``: entry ``[i, j]`` is True iff some path links input ``j`` to output ``i``.

        Computed from the masks alone (product of the 0/1 matrices); the autoregressive property is
        that this is strictly lower triangular.
        """
        masks = [m.mask for m in self.net if isinstance(m, MaskedLinear)]
        path = masks[0]
        for mask in masks[1:]:
            path = mask @ path
        return (path.unflatten(0, (self.outputs_per_feature, self.features)).sum(0) > 0).cpu()
