"""ActNorm and the 1x1 convolution on (C, H, W): the spatial factor H*W is proved, its omission refuted."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.layers.actnorm import ActNorm, scale
from derive.layers.conv1x1 import Conv1x1
from derive.layers.coupling import AffineCoupling, s
from derive.proof.checks import is_zero

SIZES = [pytest.param(c, hh, ww, id=f"C{c}-H{hh}-W{ww}") for c, hh, ww in ((1, 2, 2), (2, 1, 3), (2, 2, 2))]


@pytest.mark.parametrize(("c", "hh", "ww"), SIZES)
def test_actnorm_spatial_factor_is_proved_and_its_omission_refuted(c: int, hh: int, ww: int) -> None:
    layer = ActNorm(c, height=hh, width=ww)
    derived = layer.derived_logdet()
    assert (
        is_zero(derived - hh * ww * sp.Add(*[sp.log(sp.Abs(scale[k])) for k in range(1, c + 1)])) is not None
    )
    if hh * ww > 1:
        assert is_zero(derived - sp.Add(*[sp.log(sp.Abs(scale[k])) for k in range(1, c + 1)])) is None


@pytest.mark.parametrize(("c", "hh", "ww"), SIZES)
def test_conv1x1_spatial_factor_is_proved_and_its_omission_refuted(c: int, hh: int, ww: int) -> None:
    layer = Conv1x1(c, height=hh, width=ww)
    derived = layer.derived_logdet()
    per_pixel = sp.log(sp.Abs(layer.weight().det()))
    assert is_zero(derived - hh * ww * per_pixel) is not None
    if hh * ww > 1:
        assert is_zero(derived - per_pixel) is None


def test_conv1x1_lu_claim_and_attack() -> None:
    layer = Conv1x1(2, height=2, width=1, lu=True)
    assert is_zero(layer.derived_logdet() - layer.claimed_logdet()) is not None
    from derive.layers.conv1x1 import sb

    assert is_zero(layer.derived_logdet() - 2 * (sb[1] + sb[2])) is None


def test_coupling_attack_summing_every_coordinate_is_refuted() -> None:
    layer = AffineCoupling(3)
    assert is_zero(layer.derived_logdet() - (s[1] + s[2] + s[3])) is None
    assert is_zero(layer.derived_logdet() + layer.claimed_logdet()) is None  # the sign error


def test_image_layers_reject_bad_sizes() -> None:
    with pytest.raises(ValueError, match="height"):
        ActNorm(2, height=0)
    with pytest.raises(ValueError, match="channels"):
        Conv1x1(0)
