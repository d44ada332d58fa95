"""Shared checks for the torch reference layers: brute-force log-det (``jacrev`` + ``slogdet``) and inverse.

Imported only by tests that have already done ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import torch

from derive.torch._catalog import REFERENCE_LAYERS, UNIT_INTERVAL_LAYERS, reference_layer

F64 = torch.float64
ATOL = 1e-10
SHAPES = {n: s for n, _, s in (*REFERENCE_LAYERS, *UNIT_INTERVAL_LAYERS)}


def inputs(shape: tuple[int, ...], unit: bool = False) -> torch.Tensor:
    """Five seeded samples: both signs and spline tails, or inside (0, 1) for ``unit`` layers."""
    gen = torch.Generator().manual_seed(7)
    if unit:
        return torch.rand(5, *shape, generator=gen, dtype=F64) * 0.98 + 0.01
    return torch.randn(5, *shape, generator=gen, dtype=F64) * 3


def assert_logdet_matches_jacrev_slogdet(name: str) -> None:
    layer, shape = reference_layer(name), SHAPES[name]
    x = inputs(shape, unit=name == "logit")
    _, logdet = layer(x)
    for n in range(x.shape[0]):
        J = torch.func.jacrev(lambda v: layer(v.reshape(1, *shape))[0].reshape(-1))(x[n].reshape(-1))
        assert abs(float(logdet.reshape(-1)[n]) - float(torch.linalg.slogdet(J)[1])) < ATOL, n


def assert_inverse_round_trips_and_logdet_cancels(name: str) -> None:
    layer, shape = reference_layer(name), SHAPES[name]
    x = inputs(shape, unit=name == "logit")
    y, logdet = layer(x)
    x_back, logdet_inverse = layer.inverse(y)
    assert torch.allclose(x_back, x, atol=1e-8)
    assert torch.allclose(logdet + logdet_inverse, torch.zeros_like(logdet), atol=1e-8)
