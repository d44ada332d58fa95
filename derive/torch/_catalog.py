r"""The torch reference layers at fixed, seeded parameters: one catalogue for the tests and the benchmarks.

Each entry is ``(name, factory, event_shape)``; ``factory()`` returns a float64 module whose
``forward(x) -> (y, log|det J|)``. Parameters are chosen so that every branch is live on inputs in
:math:`[-10, 10]` (the planar flow has :math:`\mathbf{w}^\top\mathbf{u} < -1` before the
reparametrisation, the spline's bound 3 leaves tails on both sides).

>>> [name for name, _, _ in REFERENCE_LAYERS][:3]
['planar', 'planar-raw-u', 'radial']
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

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
from derive.torch._residual import HouseholderFlow, PlanarFlow, RadialFlow, SylvesterFlow
from derive.torch._spline import RQSplineFlow

__all__ = ["REFERENCE_LAYERS", "Factory", "planar_with_negative_wu", "reference_layer"]

Factory = Callable[[], nn.Module]


def planar_with_negative_wu(cls: type[PlanarFlow] = PlanarFlow, reparametrize: bool = True) -> PlanarFlow:
    r"""A planar flow with raw :math:`\mathbf{w}^\top\mathbf{u} = -4` and :math:`\lVert\mathbf{w}\rVert = 1/2`: only a
    correct :math:`\hat{\mathbf{u}}` keeps it invertible (dividing by :math:`\lVert\mathbf{w}\rVert` gives
    :math:`\mathbf{w}^\top\hat{\mathbf{u}} \approx -2.49 < -1`)."""
    flow = cls(3, reparametrize=reparametrize).double()
    with torch.no_grad():
        flow.w.copy_(torch.tensor([0.5, 0.0, 0.0], dtype=torch.float64))
        flow.u.copy_(torch.tensor([-8.0, 0.7, -0.3], dtype=torch.float64))
        flow.b.fill_(0.3)
    return flow.requires_grad_(False)


def _batchnorm(affine: bool) -> BatchNormFlow:
    layer = BatchNormFlow(3, eps=1e-3, affine=affine, track_running_stats=False).double()
    with torch.no_grad():
        layer.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
        layer.running_var.copy_(torch.tensor([0.3, 1.0, 4.0], dtype=torch.float64))
        if affine and layer.weight is not None:
            layer.weight.copy_(torch.tensor([0.5, -2.0, 3.0], dtype=torch.float64))
    return layer


def _frozen(make: Factory) -> Factory:
    return lambda: make().double().requires_grad_(False)


#: (name, factory, event_shape) for every torch reference layer.
REFERENCE_LAYERS: tuple[tuple[str, Factory, tuple[int, ...]], ...] = (
    ("planar", _frozen(planar_with_negative_wu), (3,)),
    ("planar-raw-u", _frozen(lambda: PlanarFlow(3, reparametrize=False, seed=4)), (3,)),
    ("radial", _frozen(lambda: RadialFlow(3)), (3,)),
    ("householder", _frozen(lambda: HouseholderFlow(3)), (3,)),
    ("sylvester", _frozen(lambda: SylvesterFlow(3, hidden=2)), (3,)),
    ("affine-coupling", _frozen(lambda: AffineCouplingFlow(4)), (4,)),
    ("affine-coupling-glow", _frozen(lambda: AffineCouplingFlow(4, scale="sigmoid", seed=1)), (4,)),
    ("maf-step", _frozen(lambda: MAFStep(3)), (3,)),
    ("actnorm", _frozen(lambda: ActNormFlow(2)), (2, 2, 2)),
    ("conv1x1", _frozen(lambda: InvConv1x1(3)), (3, 2, 2)),
    ("conv1x1-lu", _frozen(lambda: InvConv1x1(3, lu=True)), (3, 2, 2)),
    ("batchnorm", _frozen(lambda: _batchnorm(affine=False)), (3,)),
    ("batchnorm-affine", _frozen(lambda: _batchnorm(affine=True)), (3,)),
    ("leaky-relu", _frozen(lambda: LeakyReLUFlow(0.1)), (3,)),
    ("sigmoid", _frozen(SigmoidFlow), (3,)),
    ("tanh", _frozen(TanhFlow), (3,)),
    ("softplus", _frozen(SoftplusFlow), (3,)),
    ("affine", _frozen(lambda: AffineFlow(3)), (3,)),
    ("rq-spline", _frozen(lambda: RQSplineFlow(3)), (3,)),
)

#: The logit acts on (0, 1) only; it is checked with inputs drawn there.
UNIT_INTERVAL_LAYERS: tuple[tuple[str, Factory, tuple[int, ...]], ...] = (
    ("logit", _frozen(LogitFlow), (3,)),
)


def reference_layer(name: str) -> nn.Module:
    """A fresh instance of the catalogued layer ``name``."""
    for entry, factory, _ in (*REFERENCE_LAYERS, *UNIT_INTERVAL_LAYERS):
        if entry == name:
            return factory()
    raise KeyError(name)
