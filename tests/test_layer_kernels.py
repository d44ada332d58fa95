"""Generated layer kernels: their expressions are the proved claims, their values match the torch
reference layers' autograd-checked log-dets (an independent implementation)."""

from __future__ import annotations

import numpy as np
import pytest

from derive import layer_kernels as lk
from derive.layers import ActNorm, Conv1x1, LeakyReLU, MAFStep, PlanarReparametrized

torch = pytest.importorskip("torch")

from derive.torch._catalog import reference_layer  # noqa: E402

ATOL = 1e-10


def _x(*shape: int) -> np.ndarray:
    return np.random.default_rng(3).normal(scale=3.0, size=shape)


def test_kernel_expressions_are_the_claims_the_contract_proves() -> None:
    assert lk._planar(3, True).expr == PlanarReparametrized(3).claimed_logdet()
    assert lk._actnorm(2, 3, 2).expr == ActNorm(2, 3, 2).claimed_logdet()
    assert lk._conv(2, 2, 1, False).expr == Conv1x1(2, 2, 1).claimed_logdet()
    assert lk._maf(3).expr == MAFStep(3).claimed_logdet()
    assert lk._leaky(2).expr.equals(LeakyReLU(2).piecewise_logdet())


@pytest.mark.parametrize("reparametrize", [True, False], ids=["u-hat", "raw-u"])
def test_planar_kernel_matches_the_reference(reparametrize: bool) -> None:
    flow = reference_layer("planar" if reparametrize else "planar-raw-u")
    z = _x(6, 3)
    want = flow(torch.as_tensor(z))[1].numpy()
    got = lk.planar_logdet(z, flow.u.numpy(), flow.w.numpy(), float(flow.b), reparametrize=reparametrize)
    np.testing.assert_allclose(got, want, atol=ATOL)


def test_image_kernels_match_the_reference() -> None:
    x = torch.as_tensor(_x(4, 3, 2, 3))
    act = reference_layer("actnorm")
    np.testing.assert_allclose(
        lk.actnorm_logdet(act.scale.numpy(), height=2, width=3), act(x[:, :2])[1][0].numpy(), atol=ATOL
    )
    conv = reference_layer("conv1x1")
    np.testing.assert_allclose(
        lk.conv1x1_logdet(conv.matrix().numpy(), height=2, width=3), conv(x)[1][0].numpy(), atol=ATOL
    )
    lu = reference_layer("conv1x1-lu")
    np.testing.assert_allclose(
        lk.conv1x1_lu_logdet(lu.s().numpy(), height=2, width=3), lu(x)[1][0].numpy(), atol=ATOL
    )


def test_autoregressive_and_coupling_kernels_match_the_reference() -> None:
    x = torch.as_tensor(_x(5, 3))
    maf = reference_layer("maf-step")
    np.testing.assert_allclose(lk.maf_logdet(maf.mu_alpha(x)[1].numpy()), maf(x)[1].numpy(), atol=ATOL)
    coupling = reference_layer("affine-coupling")
    x4 = torch.as_tensor(_x(5, 4))
    log_scale, _ = coupling.scale_shift(coupling.mask * x4)
    np.testing.assert_allclose(
        lk.coupling_logdet(log_scale.numpy(), coupling.mask.int().tolist()),
        coupling(x4)[1].numpy(),
        atol=ATOL,
    )


def test_elementwise_kernels_match_the_reference_on_both_branches_and_the_tails() -> None:
    x = _x(7, 3)
    assert (x < 0).any() and (x > 0).any() and (np.abs(x) > 3).any()
    leaky = reference_layer("leaky-relu")
    np.testing.assert_allclose(lk.leaky_relu_logdet(x, 0.1), leaky(torch.as_tensor(x))[1].numpy(), atol=ATOL)
    spline = reference_layer("rq-spline")
    xk, yk, _, _, d = (t.numpy() for t in spline.knots())
    np.testing.assert_allclose(
        lk.rq_spline_logdet(x, xk, yk, d), spline(torch.as_tensor(x))[1].numpy(), atol=ATOL
    )


def test_bad_conv_weight_shape() -> None:
    with pytest.raises(ValueError, match=r"\(\.\.\., C, C\)"):
        lk.conv1x1_logdet(np.ones((2, 3)), height=1, width=1)
