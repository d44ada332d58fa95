r"""Flow-layer models (SymPy). One module per layer; :data:`LAYERS` is the registry.

A new layer is one module with one :class:`FlowLayer` subclass plus one entry in ``LAYERS``
(a factory taking ``dim``); the contract test (``tests/test_layers_contract.py``) picks it up.
"""

from __future__ import annotations

from collections.abc import Callable

from derive.layers._base import Direction, FlowLayer
from derive.layers.batchnorm import BatchNorm, BatchNormTrainSample
from derive.layers.gaussian import GaussianBase
from derive.layers.iaf import IAFInverse, IAFStableStep, IAFStep

__all__ = [
    "LAYERS",
    "BatchNorm",
    "BatchNormTrainSample",
    "Direction",
    "FlowLayer",
    "GaussianBase",
    "IAFInverse",
    "IAFStableStep",
    "IAFStep",
]

#: Every layer the contract test walks: (id, factory(dim) -> FlowLayer).
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
)
