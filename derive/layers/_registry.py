"""The :data:`LAYERS` registry (imported by ``derive.layers`` on first use of ``LAYERS``)."""

from __future__ import annotations

from collections.abc import Callable

from derive.layers._base import FlowLayer
from derive.layers.actnorm import ActNorm
from derive.layers.batchnorm import BatchNorm, BatchNormTrainSample
from derive.layers.conv1x1 import Conv1x1
from derive.layers.coupling import AffineCoupling
from derive.layers.elementwise import ElementwiseAffine, LeakyReLU, Logit, Sigmoid, Softplus, Tanh
from derive.layers.gaussian import GaussianBase
from derive.layers.householder import Householder
from derive.layers.iaf import IAFInverse, IAFStableStep, IAFStep
from derive.layers.maf import MAFStep
from derive.layers.planar import Planar, PlanarReparametrized
from derive.layers.radial import Radial
from derive.layers.spline import RQSpline
from derive.layers.sylvester import Sylvester

LAYERS: tuple[tuple[str, Callable[[int], FlowLayer]], ...] = (
    ("gaussian-base", GaussianBase),
    ("iaf-step", lambda d: IAFStep(d, t=1)),
    ("iaf-step-t3", lambda d: IAFStep(d, t=3)),
    ("iaf-stable-step", lambda d: IAFStableStep(d, t=1)),
    ("iaf-inverse", IAFInverse),
    ("batchnorm", BatchNorm),
    ("batchnorm-affine", lambda d: BatchNorm(d, affine=True)),
    ("batchnorm-unnormalize", lambda d: BatchNorm(d, affine=True, direction="generative")),
    ("batchnorm-train-biased", lambda d: BatchNormTrainSample(d, batch=3)),
    ("batchnorm-train-unbiased", lambda d: BatchNormTrainSample(d, batch=3, unbiased=True)),
    # Issue 11: the layers people use (image layers: d = channels, spatial size fixed and stated).
    ("planar", Planar),
    ("planar-reparametrized", PlanarReparametrized),
    ("householder", Householder),
    ("sylvester", lambda d: Sylvester(d, hidden=max(1, d - 1))),
    ("radial", Radial),
    ("maf-step", MAFStep),
    ("affine-coupling", AffineCoupling),
    ("affine-coupling-checkerboard", lambda d: AffineCoupling(d, mask=("10" * d)[:d])),
    ("affine-coupling-glow", lambda d: AffineCoupling(d, scale="sigmoid")),
    ("actnorm", lambda d: ActNorm(d, height=2, width=2)),
    ("conv1x1", lambda d: Conv1x1(d, height=2, width=1)),
    ("conv1x1-lu", lambda d: Conv1x1(d, height=2, width=1, lu=True)),
    ("leaky-relu", LeakyReLU),
    ("leaky-relu-positive-first", lambda d: LeakyReLU(d, branches=("+-" * d)[:d])),
    ("sigmoid", Sigmoid),
    ("logit", Logit),
    ("tanh", Tanh),
    ("softplus", Softplus),
    ("elementwise-affine", ElementwiseAffine),
    # Piecewise (Durkan et al. 2019): `derive prove rq-spline` proves every bin and both tails in one proof.
    ("rq-spline", lambda d: RQSpline(d, n_bins=2)),
)
