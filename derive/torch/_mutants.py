r"""Seeded bugs in derive's own torch reference layers: the mutation benchmark's catalogue.

Each mutant is a subclass overriding one small method of a reference layer with a bug of a class
that shipped in a released library (issue 11): the planar flow's :math:`\hat u` divided by
:math:`\lVert w\rVert` (Pyro), a leaky-ReLU log-det wrong on the negative branch (flowjax), a
missing spatial factor :math:`HW` (TFP batch norm, 1×1 convolutions), per-:math:`(C,H,W)` ActNorm
parameters (FrEIA), sign errors (normflows, flowjax, flowtorch), a missing :math:`|\cdot|` (aeppl),
and wrong derivative formulas. ``scripts/bench_mutants.py`` runs the checkers on all of them;
``tests/test_mutants.py`` requires :func:`derive.testing.assert_transform_logdet` to kill every
one with no false alarm on :data:`derive.torch._catalog.REFERENCE_LAYERS`.

>>> len(MUTANTS) >= 25
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from derive.torch._batchnorm import BatchNormFlow
from derive.torch._catalog import _batchnorm, planar_with_negative_wu
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

__all__ = ["MUTANTS", "Mutant"]


class Mutant(NamedTuple):
    name: str
    bug_class: str
    factory: Callable[[], nn.Module]
    event_shape: tuple[int, ...]
    unit_interval: bool = False


# --- planar / radial / Householder / Sylvester ------------------------------------------------------


class _PlanarNormNotSquared(PlanarFlow):
    def u_hat(self) -> Tensor:
        wu = self.w @ self.u
        return self.u + (-1 + F.softplus(wu) - wu) * self.w / torch.linalg.vector_norm(self.w)


class _PlanarNoAbs(PlanarFlow):
    def log_abs_det(self, z: Tensor) -> Tensor:
        return torch.log(1 + self.psi(z) @ self.u_hat())


class _PlanarPsiUsesH(PlanarFlow):
    def psi(self, z: Tensor) -> Tensor:
        return torch.tanh(z @ self.w + self.b).unsqueeze(-1) * self.w


class _PlanarSign(PlanarFlow):
    def log_abs_det(self, z: Tensor) -> Tensor:
        return -super().log_abs_det(z)


class _RadialExponent(RadialFlow):
    def log_abs_det(self, z: Tensor) -> Tensor:
        alpha, beta = self.params()
        r = torch.linalg.vector_norm(z - self.z0, dim=-1)
        h = 1 / (alpha + r)
        return self.dim * torch.log(torch.abs(1 + beta * h)) + torch.log(
            torch.abs(1 + beta * h - beta * r * h**2)
        )


class _RadialHPrimeSign(RadialFlow):
    def log_abs_det(self, z: Tensor) -> Tensor:
        alpha, beta = self.params()
        r = torch.linalg.vector_norm(z - self.z0, dim=-1)
        h = 1 / (alpha + r)
        return (self.dim - 1) * torch.log(torch.abs(1 + beta * h)) + torch.log(
            torch.abs(1 + beta * h + beta * r * h**2)
        )


class _HouseholderUnnormalized(HouseholderFlow):
    def reflect(self, z: Tensor) -> Tensor:
        v = self.v
        return z - 2 * (z @ v).unsqueeze(-1) * v / torch.linalg.vector_norm(v)


class _SylvesterUsesH(SylvesterFlow):
    def h_prime(self, z: Tensor) -> Tensor:
        return torch.tanh(z @ self.B.T + self.b)


# --- coupling / MAF ---------------------------------------------------------------------------------


class _CouplingSumsAll(AffineCouplingFlow):
    def log_abs_det(self, log_scale: Tensor) -> Tensor:
        return log_scale.sum(-1)


class _CouplingSign(AffineCouplingFlow):
    def log_abs_det(self, log_scale: Tensor) -> Tensor:
        return -super().log_abs_det(log_scale)


class _CouplingWrongHalf(AffineCouplingFlow):
    def log_abs_det(self, log_scale: Tensor) -> Tensor:
        return (self.mask * log_scale).sum(-1)


class _MAFSign(MAFStep):
    def log_abs_det(self, alpha: Tensor) -> Tensor:
        return alpha.sum(-1)


# --- Glow image layers --------------------------------------------------------------------------------


class _ActNormNoSpatial(ActNormFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.log(torch.abs(self.scale)).sum().expand(x.shape[:-3])


class _ActNormPerCHW(ActNormFlow):
    """FrEIA's bug: parameters per (C, H, W), log-det still ``H·W·Σ log|s|`` over all of them."""

    def __init__(self, channels: int, height: int = 2, width: int = 2) -> None:
        super().__init__(channels)
        gen = torch.Generator().manual_seed(3)
        self.scale = nn.Parameter(torch.exp(0.3 * torch.randn(channels, height, width, generator=gen)))
        self.shift = nn.Parameter(torch.randn(channels, height, width, generator=gen))

    def log_abs_det(self, x: Tensor) -> Tensor:
        spatial = x.shape[-1] * x.shape[-2]
        return (spatial * torch.log(torch.abs(self.scale)).sum()).expand(x.shape[:-3])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.scale * x + self.shift, self.log_abs_det(x)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return (y - self.shift) / self.scale, -self.log_abs_det(y)


class _ConvNoSpatial(InvConv1x1):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.linalg.slogdet(self.matrix())[1].expand(x.shape[:-3])


class _ConvNoAbs(InvConv1x1):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (x.shape[-1] * x.shape[-2] * torch.logdet(self.matrix())).expand(x.shape[:-3])


def _conv_negative_det() -> InvConv1x1:
    layer = _ConvNoAbs(3)
    with torch.no_grad():
        if torch.linalg.det(layer.weight) > 0:
            layer.weight[0].neg_()
    return layer


class _ConvLUSumsS(InvConv1x1):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (x.shape[-1] * x.shape[-2] * self.s().sum()).expand(x.shape[:-3])


class _ConvLUNoSpatial(InvConv1x1):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.log(torch.abs(self.s())).sum().expand(x.shape[:-3])


# --- batch norm -------------------------------------------------------------------------------------


def _bn_mutant(method: Callable[..., tuple[Tensor, Tensor]], affine: bool = False) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        base = _batchnorm(affine)
        cls = type("BatchNormMutant", (BatchNormFlow,), {"forward": method})
        base.__class__ = cls
        return base

    return make


def _bn_eval_formula_in_train(self: BatchNormFlow, x: Tensor) -> tuple[Tensor, Tensor]:
    """Train mode normalises with batch statistics but reports the eval-mode log-det of them."""
    y, _ = BatchNormFlow.forward(self, x)
    if not self.training:
        return BatchNormFlow.forward(self, x)
    var = x.var(-2, unbiased=False, keepdim=True)
    logdet = (-0.5 * torch.log(var + self.eps)).sum(-1).expand(x.shape[:-1])
    return y, logdet


def _bn_no_eps(self: BatchNormFlow, x: Tensor) -> tuple[Tensor, Tensor]:
    y, logdet = BatchNormFlow.forward(self, x)
    if self.training:
        return y, logdet
    return y, logdet + 0.5 * torch.log1p(self.eps / self.running_var).sum()


def _bn_eps_squared(self: BatchNormFlow, x: Tensor) -> tuple[Tensor, Tensor]:
    """eps entered as eps**2 in the eval-mode log-det: off by ~eps/(2 var), below 1e-4 at eps = 1e-5."""
    y, logdet = BatchNormFlow.forward(self, x)
    if self.training:
        return y, logdet
    wrong = -0.5 * torch.log(self.running_var + self.eps**2) + 0.5 * torch.log(self.running_var + self.eps)
    return y, logdet + wrong.sum()


def _small_eps(make: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        layer = make()
        layer.eps = 1e-5  # type: ignore[assignment]
        return layer

    return build


def _bn_gamma_no_abs(self: BatchNormFlow, x: Tensor) -> tuple[Tensor, Tensor]:
    y, logdet = BatchNormFlow.forward(self, x)
    assert self.weight is not None
    return y, logdet - torch.log(torch.abs(self.weight)).sum() + torch.log(self.weight).sum()


def _bn_unbiased_factor(self: BatchNormFlow, x: Tensor) -> tuple[Tensor, Tensor]:
    """Biased normalisation, but the unbiased correction c = N/(N-1) in the train-mode log-det."""
    y, logdet = BatchNormFlow.forward(self, x)
    if not self.training:
        return y, logdet
    N = x.shape[-2]
    mean, var = x.mean(-2, keepdim=True), x.var(-2, unbiased=False, keepdim=True)
    yhat = (x - mean) / torch.sqrt(var + self.eps)
    wrong = torch.log(torch.abs(1 - (1 + N / (N - 1) * yhat**2) / N)) - torch.log(
        torch.abs(1 - (1 + yhat**2) / N)
    )
    return y, logdet + wrong.sum(-1)


# --- elementwise and spline -----------------------------------------------------------------------------


class _LeakyNegativeSign(LeakyReLUFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.where(x < 0, torch.full_like(x, -math.log(self.alpha)), torch.zeros_like(x)).sum(-1)


class _LeakyBranchThreshold(LeakyReLUFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.where(x < -1, torch.full_like(x, math.log(self.alpha)), torch.zeros_like(x)).sum(-1)


class _LeakyForgetsFarBranch(LeakyReLUFlow):
    """Right near 0, wrong far out (x < -2.5): a single randn point rarely gets there."""

    def log_abs_det(self, x: Tensor) -> Tensor:
        near = (x < 0) & (x >= -2.5)
        return torch.where(near, torch.full_like(x, math.log(self.alpha)), torch.zeros_like(x)).sum(-1)


class _SigmoidMissingFactor(SigmoidFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x).sum(-1)


class _TanhStableSign(TanhFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (2 * (math.log(2.0) - x - F.softplus(2 * x))).sum(-1)


class _SoftplusSign(SoftplusFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (-F.softplus(x)).sum(-1)


class _LogitSign(LogitFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return (torch.log(x) + torch.log1p(-x)).sum(-1)


class _AffineNoAbs(AffineFlow):
    def log_abs_det(self, x: Tensor) -> Tensor:
        return torch.log(self.a).sum().expand(x.shape[:-1])


class _SplineDeltaSwap(RQSplineFlow):
    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        y, _ = super().forward(x)
        return y, self._log_derivative(x, swap=True)

    def _log_derivative(self, x: Tensor, swap: bool = False, square: bool = True, s2: bool = True) -> Tensor:
        B = self.bound
        inside = (x >= -B) & (x <= B)
        xc = x.clamp(-B, B)
        xk, _, w, h, d = RQSplineFlow.knots(self)
        oh = self._bin_onehot(xc, xk)
        x0, wk, hk = self._select(xk[:, :-1], oh), self._select(w, oh), self._select(h, oh)
        dk, dk1 = self._select(d[:, :-1], oh), self._select(d[:, 1:], oh)
        if swap:
            dk, dk1 = dk1, dk
        xi, sk = (xc - x0) / wk, hk / wk
        den = sk + (dk1 + dk - 2 * sk) * xi * (1 - xi)
        num = (sk**2 if s2 else sk) * (dk1 * xi**2 + 2 * sk * xi * (1 - xi) + dk * (1 - xi) ** 2)
        out = torch.log(num) - (2 if square else 1) * torch.log(den)
        return torch.where(inside, out, torch.zeros_like(out)).sum(-1)


class _SplineDenNotSquared(_SplineDeltaSwap):
    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        y, _ = RQSplineFlow.forward(self, x)
        return y, self._log_derivative(x, square=False)


class _SplineMissingS2(_SplineDeltaSwap):
    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        y, _ = RQSplineFlow.forward(self, x)
        return y, self._log_derivative(x, s2=False)


def _f(make: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    return lambda: make().double().requires_grad_(False)


#: Every mutant: (name, bug class, factory, event shape, inputs on (0, 1)?).
MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "planar-u-hat-norm-not-squared",
        "reparametrisation (Pyro)",
        _f(lambda: planar_with_negative_wu(_PlanarNormNotSquared)),
        (3,),
    ),
    Mutant(
        "planar-no-abs",
        "missing |.| (aeppl)",
        _f(lambda: planar_with_negative_wu(_PlanarNoAbs, reparametrize=False)),
        (3,),
    ),
    Mutant(
        "planar-psi-uses-h", "wrong derivative", _f(lambda: planar_with_negative_wu(_PlanarPsiUsesH)), (3,)
    ),
    Mutant("planar-sign", "sign error", _f(lambda: planar_with_negative_wu(_PlanarSign)), (3,)),
    Mutant("radial-exponent-D", "wrong exponent", _f(lambda: _RadialExponent(3)), (3,)),
    Mutant("radial-h-prime-sign", "sign error", _f(lambda: _RadialHPrimeSign(3)), (3,)),
    Mutant(
        "householder-norm-not-squared", "not volume preserving", _f(lambda: _HouseholderUnnormalized(3)), (3,)
    ),
    Mutant("sylvester-h-for-h-prime", "wrong derivative", _f(lambda: _SylvesterUsesH(3, hidden=2)), (3,)),
    Mutant("coupling-sums-all-dims", "mask ignored", _f(lambda: _CouplingSumsAll(4)), (4,)),
    Mutant("coupling-sign", "sign error (normflows)", _f(lambda: _CouplingSign(4)), (4,)),
    Mutant("coupling-wrong-half", "mask inverted", _f(lambda: _CouplingWrongHalf(4)), (4,)),
    Mutant("maf-sign", "sign error (direction)", _f(lambda: _MAFSign(3)), (3,)),
    Mutant("actnorm-no-spatial", "missing H*W", _f(lambda: _ActNormNoSpatial(2)), (2, 2, 2)),
    Mutant("actnorm-per-chw", "per-(C,H,W) parameters (FrEIA)", _f(lambda: _ActNormPerCHW(2)), (2, 2, 2)),
    Mutant("conv1x1-no-spatial", "missing H*W", _f(lambda: _ConvNoSpatial(3)), (3, 2, 2)),
    Mutant("conv1x1-no-abs", "missing |.|", _f(_conv_negative_det), (3, 2, 2)),
    Mutant("conv1x1-lu-sums-s", "log missing", _f(lambda: _ConvLUSumsS(3, lu=True)), (3, 2, 2)),
    Mutant("conv1x1-lu-no-spatial", "missing H*W", _f(lambda: _ConvLUNoSpatial(3, lu=True)), (3, 2, 2)),
    Mutant(
        "batchnorm-train-eval-formula", "batch-norm mode", _f(_bn_mutant(_bn_eval_formula_in_train)), (3,)
    ),
    Mutant("batchnorm-train-unbiased-factor", "batch-norm mode", _f(_bn_mutant(_bn_unbiased_factor)), (3,)),
    Mutant("batchnorm-eval-no-eps", "missing constant", _f(_bn_mutant(_bn_no_eps)), (3,)),
    Mutant(
        "batchnorm-eval-eps-squared", "tiny constant error", _f(_small_eps(_bn_mutant(_bn_eps_squared))), (3,)
    ),
    Mutant("batchnorm-gamma-no-abs", "missing |.|", _f(_bn_mutant(_bn_gamma_no_abs, affine=True)), (3,)),
    Mutant(
        "leaky-relu-negative-sign", "negative branch (flowjax)", _f(lambda: _LeakyNegativeSign(0.1)), (3,)
    ),
    Mutant(
        "leaky-relu-branch-threshold",
        "negative branch (flowjax)",
        _f(lambda: _LeakyBranchThreshold(0.1)),
        (3,),
    ),
    Mutant(
        "leaky-relu-forgets-far-branch",
        "branch never reached (flowjax)",
        _f(lambda: _LeakyForgetsFarBranch(0.1)),
        (3,),
    ),
    Mutant("sigmoid-missing-factor", "wrong derivative", _f(_SigmoidMissingFactor), (3,)),
    Mutant("tanh-stable-form-sign", "sign error (flowtorch)", _f(_TanhStableSign), (3,)),
    Mutant("softplus-sign", "sign error", _f(_SoftplusSign), (3,)),
    Mutant("logit-sign", "sign error", _f(_LogitSign), (3,), unit_interval=True),
    Mutant("affine-no-abs", "missing |.| (aeppl)", _f(lambda: _AffineNoAbs(3)), (3,)),
    Mutant("spline-delta-swap", "spline derivative", _f(lambda: _SplineDeltaSwap(3)), (3,)),
    Mutant("spline-den-not-squared", "spline derivative", _f(lambda: _SplineDenNotSquared(3)), (3,)),
    Mutant("spline-missing-s-squared", "spline derivative", _f(lambda: _SplineMissingS2(3)), (3,)),
)
