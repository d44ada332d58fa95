"""Torch reference elementwise layers against brute force: ``torch.func.jacrev`` + ``slogdet`` in float64."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from derive.torch._catalog import reference_layer  # noqa: E402
from tests.torch_reference import (  # noqa: E402
    F64,
    assert_inverse_round_trips_and_logdet_cancels,
    assert_logdet_matches_jacrev_slogdet,
)

NAMES = ["leaky-relu", "sigmoid", "tanh", "softplus", "affine", "rq-spline", "logit"]
INVERTIBLE = ["leaky-relu", "sigmoid", "tanh", "softplus", "affine", "rq-spline", "logit"]


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_jacrev_slogdet(name: str) -> None:
    assert_logdet_matches_jacrev_slogdet(name)


@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_round_trips_and_its_logdet_cancels(name: str) -> None:
    assert_inverse_round_trips_and_logdet_cancels(name)


def test_leaky_relu_negative_branch() -> None:
    layer = reference_layer("leaky-relu")
    _, logdet = layer(torch.tensor([-1.0, -2.0, 3.0], dtype=F64))
    assert abs(float(logdet) - 2 * math.log(0.1)) < 1e-12


def test_spline_tails_are_the_identity() -> None:
    layer = reference_layer("rq-spline")
    x = torch.tensor([[-7.0, 3.5, 9.0]], dtype=F64)
    y, logdet = layer(x)
    assert torch.equal(y, x) and float(logdet) == 0.0
