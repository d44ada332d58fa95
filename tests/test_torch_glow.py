"""Torch reference glow layers against brute force: ``torch.func.jacrev`` + ``slogdet`` in float64."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from derive.torch._catalog import reference_layer  # noqa: E402
from tests.torch_reference import (  # noqa: E402
    ATOL,
    F64,
    assert_inverse_round_trips_and_logdet_cancels,
    assert_logdet_matches_jacrev_slogdet,
)

NAMES = ["actnorm", "conv1x1", "conv1x1-lu"]
INVERTIBLE = ["actnorm", "conv1x1", "conv1x1-lu"]


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_jacrev_slogdet(name: str) -> None:
    assert_logdet_matches_jacrev_slogdet(name)


@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_round_trips_and_its_logdet_cancels(name: str) -> None:
    assert_inverse_round_trips_and_logdet_cancels(name)


@pytest.mark.parametrize("name", ["actnorm", "conv1x1", "conv1x1-lu"])
def test_the_spatial_factor_scales_with_h_times_w(name: str) -> None:
    layer = reference_layer(name)
    small = layer(torch.zeros(3 if "conv" in name else 2, 1, 1, dtype=F64))[1]
    large = layer(torch.zeros(3 if "conv" in name else 2, 3, 5, dtype=F64))[1]
    assert torch.allclose(large, 15 * small, atol=ATOL)
