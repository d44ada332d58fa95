"""Generated layer kernels: their expressions are the proved claims, their values match the torch
reference layers' autograd-checked log-dets (an independent implementation)."""

from __future__ import annotations

import numpy as np
import pytest

from derive import layer_kernels as lk
from derive.layers import (
    ActNorm,
    Conv1x1,
    ElementwiseAffine,
    Householder,
    LeakyReLU,
    Logit,
    MAFStep,
    PlanarReparametrized,
    Radial,
    Sigmoid,
    Softplus,
    Sylvester,
    Tanh,
)

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
    assert lk._radial(3).expr == Radial(3).claimed_logdet()
    assert lk._sylvester(3, 2).expr == Sylvester(3, hidden=2).claimed_logdet()
    assert lk._householder(3).expr == Householder(3).claimed_logdet()
    assert lk._elementwise_affine(3).expr == ElementwiseAffine(3).claimed_logdet()
    for name, cls in (("sigmoid", Sigmoid), ("logit", Logit), ("tanh", Tanh), ("softplus", Softplus)):
        assert lk._elementwise(name, 3).expr == cls(3).claimed_logdet(), name


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


def _radial_args(flow: torch.nn.Module) -> tuple[np.ndarray, float, float]:
    alpha, beta = flow.params()
    return flow.z0.numpy(), float(alpha), float(beta)


def _sylvester_args(flow: torch.nn.Module) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return flow.A.numpy(), flow.B.numpy(), flow.b.numpy()


def test_residual_kernels_match_the_reference() -> None:
    z = _x(6, 3)
    radial = reference_layer("radial")
    np.testing.assert_allclose(
        lk.radial_logdet(z, *_radial_args(radial)), radial(torch.as_tensor(z))[1].numpy(), atol=ATOL
    )
    sylvester = reference_layer("sylvester")
    np.testing.assert_allclose(
        lk.sylvester_logdet(z, *_sylvester_args(sylvester)),
        sylvester(torch.as_tensor(z))[1].numpy(),
        atol=ATOL,
    )


def test_householder_kernel_is_the_volume_its_reflection_preserves() -> None:
    """The reference's log-det is typed zeros, so the kernel is also compared with ``slogdet`` of the
    Jacobian of the reference *map*, which must be a reflection (sign -1)."""
    z = _x(4, 3)
    flow = reference_layer("householder")
    got = lk.householder_logdet(z, flow.v.numpy())
    assert got.shape == (4,)
    np.testing.assert_allclose(got, flow(torch.as_tensor(z))[1].numpy(), atol=ATOL)
    for n in range(z.shape[0]):
        J = torch.autograd.functional.jacobian(lambda v: flow(v)[0], torch.as_tensor(z[n]))
        sign, logabs = torch.linalg.slogdet(J)
        assert float(sign) == -1.0
        assert abs(float(got[n]) - float(logabs)) < ATOL


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "logit"])
def test_smooth_elementwise_kernels_match_the_reference(name: str) -> None:
    # tanh: |x| <= 4.5, where log(1 - tanh^2 x) as claimed keeps 1e-10 (the module note)
    x = {
        "logit": np.random.default_rng(3).uniform(0.01, 0.99, (7, 3)),
        "tanh": np.clip(_x(7, 3), -4.5, 4.5),
    }.get(name, _x(7, 3))
    kernel = {"sigmoid": lk.sigmoid_logdet, "tanh": lk.tanh_logdet, "softplus": lk.softplus_logdet}.get(
        name, lk.logit_logdet
    )
    np.testing.assert_allclose(kernel(x), reference_layer(name)(torch.as_tensor(x))[1].numpy(), atol=ATOL)


def test_elementwise_affine_kernel_matches_the_reference_with_signed_scales() -> None:
    flow = reference_layer("affine")
    a = flow.a.numpy()
    assert (a < 0).any() and (a > 0).any()
    x = torch.as_tensor(_x(5, 3))
    np.testing.assert_allclose(lk.elementwise_affine_logdet(a), flow(x)[1].numpy(), atol=ATOL)


def test_logit_kernel_is_nan_off_the_unit_interval() -> None:
    got = lk.logit_logdet(np.array([[0.2, 0.5], [0.2, 1.5], [-0.1, 0.5], [0.0, 0.5]]))
    assert np.isfinite(got[0]) and np.isnan(got[1:]).all()


def test_the_comparisons_refuse_a_kernel_of_a_wrong_claim() -> None:
    """Sharpness of the reference comparison: a radial claim missing the (D - 1) factor, a Sylvester
    claim missing diag(h'), and a sigmoid claim with one softplus instead of two all disagree with torch."""
    import sympy as sp

    from derive.layers.elementwise import x as xs
    from derive.layers.radial import alpha, beta, z0
    from derive.layers.radial import z as zr
    from derive.layers.sylvester import A, B, bias
    from derive.layers.sylvester import z as zs

    z = _x(6, 3)
    r = Radial(3).radius()
    h = 1 / (alpha + r)
    missing_factor = lk._Generated(
        sp.log(sp.Abs(1 + beta * h)) + sp.log(sp.Abs(1 + beta * h - beta * r / (alpha + r) ** 2)),
        [[zr[k] for k in (1, 2, 3)], [z0[k] for k in (1, 2, 3)], [alpha], [beta]],
    )
    radial = reference_layer("radial")
    z0v, av, bv = _radial_args(radial)
    assert not np.allclose(
        missing_factor(z, z0v, [av], [bv]), radial(torch.as_tensor(z))[1].numpy(), atol=1e-6
    )

    BA = sp.Matrix(2, 2, lambda i, j: sp.Add(*[B[i + 1, k] * A[k, j + 1] for k in (1, 2, 3)]))
    no_hprime = lk._Generated(
        sp.log(sp.Abs((sp.eye(2) + BA).det())),
        [
            [zs[k] for k in (1, 2, 3)],
            [A[k, m] for k in (1, 2, 3) for m in (1, 2)],
            [B[m, k] for m in (1, 2) for k in (1, 2, 3)],
            [bias[m] for m in (1, 2)],
        ],
    )
    sylvester = reference_layer("sylvester")
    Av, Bv, bv2 = _sylvester_args(sylvester)
    assert not np.allclose(
        no_hprime(z, Av.reshape(6), Bv.reshape(6), bv2), sylvester(torch.as_tensor(z))[1].numpy(), atol=1e-6
    )

    one_softplus = lk._Generated(
        sp.Add(*[-xs[k] - sp.log(1 + sp.exp(-xs[k])) for k in (1, 2, 3)]), [[xs[k] for k in (1, 2, 3)]]
    )
    assert not np.allclose(
        one_softplus(z), reference_layer("sigmoid")(torch.as_tensor(z))[1].numpy(), atol=1e-6
    )


def test_a_claim_with_a_symbol_that_is_no_argument_is_refused() -> None:
    """The radial claim written with the abbreviation r (no kernel argument) must not become a kernel."""
    from derive.layers.radial import R, alpha, beta, z, z0

    with pytest.raises(ValueError, match=r"no kernel argument: \['r'\]"):
        lk._Generated(
            Radial(2).claimed_logdet().xreplace({Radial(2).radius(): R}),
            [[z[1], z[2]], [z0[1], z0[2]], [alpha], [beta]],
        )


def test_bad_sylvester_shapes() -> None:
    with pytest.raises(ValueError, match=r"B \(\.\.\., M, D\)"):
        lk.sylvester_logdet(np.ones((2, 3)), np.ones((3, 2)), np.ones((3, 2)), np.ones(2))


def test_bad_conv_weight_shape() -> None:
    with pytest.raises(ValueError, match=r"\(\.\.\., C, C\)"):
        lk.conv1x1_logdet(np.ones((2, 3)), height=1, width=1)
