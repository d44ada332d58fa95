"""Torch reference residual layers against brute force: ``torch.func.jacrev`` + ``slogdet`` in float64."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from derive.torch._catalog import REFERENCE_LAYERS, UNIT_INTERVAL_LAYERS, reference_layer  # noqa: E402

F64 = torch.float64
ATOL = 1e-10
NAMES = ["planar", "planar-raw-u", "radial", "householder", "sylvester"]
INVERTIBLE = ["householder"]
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


def test_planar_u_hat_satisfies_the_invertibility_condition() -> None:
    """w^T u_hat = m(w^T u) > -1 although the raw w^T u = -4 (the exact proof is in test_layers_planar)."""
    flow = reference_layer("planar")
    assert float(flow.w @ flow.u) == -4.0
    wu_hat = float(flow.w @ flow.u_hat())
    assert wu_hat > -1
    assert abs(wu_hat - (-1 + math.log1p(math.exp(-4.0)))) < 1e-12


def test_householder_is_orthogonal() -> None:
    flow = reference_layer("householder")
    H = torch.func.jacrev(lambda z: flow(z)[0])(torch.zeros(3, dtype=F64))
    assert torch.allclose(H @ H.T, torch.eye(3, dtype=F64), atol=ATOL)
