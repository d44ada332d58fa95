"""Torch reference glow layers against brute force: ``torch.func.jacrev`` + ``slogdet`` in float64."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from derive.torch._catalog import REFERENCE_LAYERS, UNIT_INTERVAL_LAYERS, reference_layer  # noqa: E402

F64 = torch.float64
ATOL = 1e-10
NAMES = ["actnorm", "conv1x1", "conv1x1-lu"]
INVERTIBLE = ["actnorm", "conv1x1", "conv1x1-lu"]
SHAPES = {n: s for n, _, s in (*REFERENCE_LAYERS, *UNIT_INTERVAL_LAYERS)}


def _inputs(shape: tuple[int, ...], unit: bool = False) -> torch.Tensor:
    gen = torch.Generator().manual_seed(7)
    if unit:
        return torch.rand(5, *shape, generator=gen, dtype=F64) * 0.98 + 0.01
    return torch.randn(5, *shape, generator=gen, dtype=F64) * 3  # both signs, spline tails


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_jacrev_slogdet(name: str) -> None:
    layer, shape = reference_layer(name), SHAPES[name]
    x = _inputs(shape, unit=name == "logit")
    _, logdet = layer(x)
    for n in range(x.shape[0]):
        J = torch.func.jacrev(lambda v: layer(v.reshape(1, *shape))[0].reshape(-1))(x[n].reshape(-1))
        assert abs(float(logdet.reshape(-1)[n]) - float(torch.linalg.slogdet(J)[1])) < ATOL, n


@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_round_trips_and_its_logdet_cancels(name: str) -> None:
    layer, shape = reference_layer(name), SHAPES[name]
    x = _inputs(shape, unit=name == "logit")
    y, logdet = layer(x)
    x_back, logdet_inverse = layer.inverse(y)
    assert torch.allclose(x_back, x, atol=1e-8)
    assert torch.allclose(logdet + logdet_inverse, torch.zeros_like(logdet), atol=1e-8)


@pytest.mark.parametrize("name", ["actnorm", "conv1x1", "conv1x1-lu"])
def test_the_spatial_factor_scales_with_h_times_w(name: str) -> None:
    layer = reference_layer(name)
    small = layer(torch.zeros(3 if "conv" in name else 2, 1, 1, dtype=F64))[1]
    large = layer(torch.zeros(3 if "conv" in name else 2, 3, 5, dtype=F64))[1]
    assert torch.allclose(large, 15 * small, atol=ATOL)
