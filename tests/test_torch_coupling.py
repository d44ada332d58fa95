"""Torch reference coupling layers against brute force: ``torch.func.jacrev`` + ``slogdet`` in float64."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from derive.torch._catalog import reference_layer  # noqa: E402
from tests.torch_reference import (  # noqa: E402
    assert_inverse_round_trips_and_logdet_cancels,
    assert_logdet_matches_jacrev_slogdet,
    inputs,
)

NAMES = ["affine-coupling", "affine-coupling-glow", "maf-step"]
INVERTIBLE = ["affine-coupling", "affine-coupling-glow", "maf-step"]


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_jacrev_slogdet(name: str) -> None:
    assert_logdet_matches_jacrev_slogdet(name)


@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_round_trips_and_its_logdet_cancels(name: str) -> None:
    assert_inverse_round_trips_and_logdet_cancels(name)


def test_coupling_passes_the_conditioner_through() -> None:
    layer = reference_layer("affine-coupling")
    x = inputs((4,))
    y, _ = layer(x)
    assert torch.equal(y[..., :2], x[..., :2])
