r"""Flow-layer models (SymPy). One module per layer; :data:`LAYERS` is the registry.

A new layer is one module with one :class:`FlowLayer` subclass plus one entry in ``LAYERS``
(a factory taking ``dim``); the contract test (``tests/test_layers_contract.py``) picks it up.

Imports are lazy (PEP 562): ``from derive.layers import IAFStep`` loads only ``derive.layers.iaf``
(and what it needs), so a one-shot ``derive check`` never imports the image or spline models;
``LAYERS`` loads them all on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from derive.layers._base import Direction, FlowLayer
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

    LAYERS: tuple[tuple[str, Callable[[int], FlowLayer]], ...]

#: Public name -> the submodule that defines it.
_WHERE: dict[str, str] = {
    "ActNorm": "actnorm",
    "AffineCoupling": "coupling",
    "BatchNorm": "batchnorm",
    "BatchNormTrainSample": "batchnorm",
    "Conv1x1": "conv1x1",
    "Direction": "_base",
    "ElementwiseAffine": "elementwise",
    "FlowLayer": "_base",
    "GaussianBase": "gaussian",
    "Householder": "householder",
    "IAFInverse": "iaf",
    "IAFStableStep": "iaf",
    "IAFStep": "iaf",
    "LeakyReLU": "elementwise",
    "Logit": "elementwise",
    "MAFStep": "maf",
    "Planar": "planar",
    "PlanarReparametrized": "planar",
    "RQSpline": "spline",
    "Radial": "radial",
    "Sigmoid": "elementwise",
    "Softplus": "elementwise",
    "Sylvester": "sylvester",
    "Tanh": "elementwise",
    "LAYERS": "_registry",
}

__all__ = [
    "LAYERS",
    "ActNorm",
    "AffineCoupling",
    "BatchNorm",
    "BatchNormTrainSample",
    "Conv1x1",
    "Direction",
    "ElementwiseAffine",
    "FlowLayer",
    "GaussianBase",
    "Householder",
    "IAFInverse",
    "IAFStableStep",
    "IAFStep",
    "LeakyReLU",
    "Logit",
    "MAFStep",
    "Planar",
    "PlanarReparametrized",
    "RQSpline",
    "Radial",
    "Sigmoid",
    "Softplus",
    "Sylvester",
    "Tanh",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
