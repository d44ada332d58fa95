"""IAF in torch against autograd (brute force) and against the generated kernels (derive.kernels).

Brute force: :math:`\\log q(\\mathbf z_T|\\mathbf x) = \\log\\mathcal N(\\boldsymbol\\epsilon; 0, I)
- \\log|\\det \\partial\\mathbf z_T/\\partial\\boldsymbol\\epsilon|` with the Jacobian of the whole
map :math:`\\boldsymbol\\epsilon \\mapsto \\mathbf z_T` from ``torch.func.jacrev``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from derive import kernels  # noqa: E402
from derive.torch import IAF, GaussianEncoder, IAFStep  # noqa: E402

F64 = torch.float64
ATOL = 1e-10
BATCH, X_FEATURES, CONTEXT = 3, 3, 4

CASES = [(d, steps, stable) for stable in (False, True) for d in (1, 2, 5) for steps in (0, 1, 3)]
CASE_IDS = [f"{'stable' if st else 'plain'}-D{d}-T{steps}" for d, steps, st in CASES]


def _flow(features: int, steps: int, stable: bool, context: int = CONTEXT):
    torch.manual_seed(features * 100 + steps * 10 + stable)
    return IAF(features, X_FEATURES, context=context, steps=steps, hidden=(16, 16), stable=stable).to(F64)


def _data(features: int):
    gen = torch.Generator().manual_seed(7)
    return torch.randn(BATCH, features, generator=gen, dtype=F64), torch.randn(
        BATCH, X_FEATURES, generator=gen, dtype=F64
    )


def _brute_force_log_q(flow, eps, x):
    jac = torch.func.vmap(torch.func.jacrev(lambda e, xi: flow(e, xi).z))(eps, x)  # (B, D, D)
    sign, logabsdet = torch.linalg.slogdet(jac)
    assert torch.all(sign != 0)
    log_normal = -0.5 * (eps**2).sum(-1) - 0.5 * eps.shape[-1] * math.log(2 * math.pi)
    return log_normal - logabsdet


@pytest.mark.parametrize(("features", "steps", "stable"), CASES, ids=CASE_IDS)
def test_log_q_matches_brute_force(features: int, steps: int, stable: bool) -> None:
    flow = _flow(features, steps, stable)
    eps, x = _data(features)
    out = flow(eps, x)
    torch.testing.assert_close(out.log_q, _brute_force_log_q(flow, eps, x), rtol=0, atol=ATOL)


@pytest.mark.parametrize(("features", "steps", "stable"), CASES, ids=CASE_IDS)
def test_generated_kernel_matches_brute_force(features: int, steps: int, stable: bool) -> None:
    flow = _flow(features, steps, stable)
    eps, x = _data(features)
    out = flow(eps, x)
    brute = _brute_force_log_q(flow, eps, x).detach().numpy()
    sigma, log_sigma = out.sigma.detach().numpy(), out.log_sigma.detach().numpy()
    np.testing.assert_allclose(kernels.iaf_log_q(eps.numpy(), sigma), brute, rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        kernels.iaf_log_q_from_log_sigma(eps.numpy(), log_sigma), brute, rtol=0, atol=ATOL
    )


@pytest.mark.parametrize(("features", "steps"), [(1, 1), (2, 0), (5, 3)], ids=["D1-T1", "D2-T0", "D5-T3"])
def test_stable_kernel_in_s_matches_brute_force(features: int, steps: int) -> None:
    """``iaf_stable_log_q`` takes the pre-sigmoid ``s`` of steps 1..T: read it straight off the MADEs."""
    flow = _flow(features, steps, stable=True)
    eps, x = _data(features)
    with torch.no_grad():
        mu0, log_sigma0, h = flow.encoder(x)
        z, s_rows = mu0 + torch.exp(log_sigma0) * eps, []
        for step in flow.steps:
            s_rows.append(step.made(z, h)[..., 1, :])
            z = step(z, h).z
    s = torch.stack(s_rows, dim=-2).numpy() if steps else np.zeros((BATCH, 0, features))
    brute = _brute_force_log_q(flow, eps, x).detach().numpy()
    got = kernels.iaf_stable_log_q(eps.numpy(), torch.exp(log_sigma0).numpy(), s)
    np.testing.assert_allclose(got, brute, rtol=0, atol=ATOL)


@pytest.mark.parametrize("stable", [False, True], ids=["plain", "stable"])
def test_step_logdet_kernel_matches_autograd(stable: bool) -> None:
    torch.manual_seed(5)
    step = IAFStep(4, context=2, hidden=(16,), stable=stable).to(F64).requires_grad_(False)
    z, h = torch.randn(6, 4, dtype=F64), torch.randn(6, 2, dtype=F64)
    _, logabsdet = torch.linalg.slogdet(torch.func.vmap(torch.func.jacrev(lambda v, c: step(v, c).z))(z, h))
    sigma = torch.exp(step(z, h).log_sigma).numpy()
    np.testing.assert_allclose(kernels.iaf_step_logdet(sigma), logabsdet.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        kernels.iaf_step_logdet(sigma, direction="normalizing"), -logabsdet.numpy(), rtol=0, atol=ATOL
    )


def test_outputs_shapes_and_sigma_zero_is_the_encoders() -> None:
    flow = _flow(2, 3, stable=False)
    eps, x = _data(2)
    out = flow(eps, x)
    assert out.z.shape == (BATCH, 2) and out.log_q.shape == (BATCH,)
    assert out.sigma.shape == out.log_sigma.shape == (BATCH, 4, 2)
    torch.testing.assert_close(out.sigma[:, 0], torch.exp(flow.encoder(x).log_sigma), rtol=0, atol=0)
    torch.testing.assert_close(out.sigma, torch.exp(out.log_sigma), rtol=0, atol=0)


def test_single_sample_without_batch_axis() -> None:
    flow = _flow(2, 1, stable=True)
    eps, x = _data(2)
    torch.testing.assert_close(flow(eps[0], x[0]).log_q, flow(eps, x).log_q[0], rtol=0, atol=1e-14)


def test_without_context() -> None:
    flow = _flow(3, 2, stable=False, context=0)
    eps, x = _data(3)
    torch.testing.assert_close(flow(eps, x).log_q, _brute_force_log_q(flow, eps, x), rtol=0, atol=ATOL)


def test_stable_scales_lie_in_the_unit_interval() -> None:
    flow = _flow(5, 3, stable=True)
    out = flow(*_data(5))
    assert torch.all((out.sigma[:, 1:] > 0) & (out.sigma[:, 1:] < 1))


@pytest.mark.parametrize("stable", [False, True], ids=["plain", "stable"])
def test_step_jacobian_is_lower_triangular_with_diagonal_sigma(stable: bool) -> None:
    torch.manual_seed(3)
    step = IAFStep(4, context=2, hidden=(16,), stable=stable).to(F64)
    z, h = torch.randn(4, dtype=F64), torch.randn(2, dtype=F64)
    J = torch.func.jacrev(lambda v: step(v, h).z)(z)
    assert torch.all(torch.triu(J, diagonal=1) == 0)
    torch.testing.assert_close(torch.diagonal(J), torch.exp(step(z, h).log_sigma), rtol=0, atol=1e-14)


@pytest.mark.parametrize("stable", [False, True], ids=["plain", "stable"])
def test_step_inverse_roundtrip(stable: bool) -> None:
    torch.manual_seed(4)
    step = IAFStep(5, context=2, hidden=(16,), stable=stable).to(F64)
    z, h = torch.randn(6, 5, dtype=F64), torch.randn(6, 2, dtype=F64)
    torch.testing.assert_close(step.inverse(step(z, h).z, h), z, rtol=0, atol=ATOL)


def test_encoder_without_context_returns_none() -> None:
    enc = GaussianEncoder(3, features=2).to(F64)
    assert enc(torch.zeros(3, dtype=F64)).h is None


def test_negative_steps_raise() -> None:
    with pytest.raises(ValueError, match="steps"):
        IAF(2, 3, steps=-1)
