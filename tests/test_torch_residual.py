"""Torch reference residual layers against brute force: ``torch.func.jacrev`` + ``slogdet`` in float64."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from derive.torch._catalog import reference_layer  # noqa: E402
from tests.torch_reference import (  # noqa: E402
    ATOL,
    F64,
    assert_inverse_round_trips_and_logdet_cancels,
    assert_logdet_matches_jacrev_slogdet,
)

NAMES = ["planar", "planar-raw-u", "radial", "householder", "sylvester"]
INVERTIBLE = ["householder"]


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_jacrev_slogdet(name: str) -> None:
    assert_logdet_matches_jacrev_slogdet(name)


@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_round_trips_and_its_logdet_cancels(name: str) -> None:
    assert_inverse_round_trips_and_logdet_cancels(name)


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
