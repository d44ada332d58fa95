r"""PyTorch reference implementation of the flows derive reasons about (optional extra ``derive[torch]``).

``import derive`` never imports torch; only ``import derive.torch`` does. These modules exist so the
derived closed forms can be cross-checked against autograd (``torch.func.jacrev`` +
``torch.linalg.slogdet``) on real networks: MADE, IAF steps (plain and LSTM-type), the full IAF
with its Gaussian encoder, and batch normalisation in eval and train mode.

>>> import torch
>>> from derive.torch import IAFStep
>>> step = IAFStep(2).double()
>>> step(torch.zeros(2, dtype=torch.float64)).z.shape
torch.Size([2])
"""

from __future__ import annotations

from derive.torch._batchnorm import BatchNormFlow
from derive.torch._coupling import AffineCouplingFlow, MAFStep
from derive.torch._elementwise import (
    AffineFlow,
    LeakyReLUFlow,
    LogitFlow,
    SigmoidFlow,
    SoftplusFlow,
    TanhFlow,
)
from derive.torch._glow import ActNormFlow, InvConv1x1
from derive.torch._iaf import IAF, EncoderOutput, GaussianEncoder, IAFOutput, IAFStep, IAFStepOutput
from derive.torch._made import MADE, MaskedLinear
from derive.torch._residual import HouseholderFlow, PlanarFlow, RadialFlow, SylvesterFlow
from derive.torch._spline import RQSplineFlow

__all__ = [
    "IAF",
    "MADE",
    "ActNormFlow",
    "AffineCouplingFlow",
    "AffineFlow",
    "BatchNormFlow",
    "EncoderOutput",
    "GaussianEncoder",
    "HouseholderFlow",
    "IAFOutput",
    "IAFStep",
    "IAFStepOutput",
    "InvConv1x1",
    "LeakyReLUFlow",
    "LogitFlow",
    "MAFStep",
    "MaskedLinear",
    "PlanarFlow",
    "RQSplineFlow",
    "RadialFlow",
    "SigmoidFlow",
    "SoftplusFlow",
    "SylvesterFlow",
    "TanhFlow",
]
