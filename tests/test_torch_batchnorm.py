"""BatchNormFlow against autograd, the generated kernels (derive.kernels) and ``torch.nn.BatchNorm1d``.

Train mode: the Jacobian of the whole batch map is singular (shifting every sample by the same
vector changes nothing), so the meaningful log-det is the per-sample one, with the other samples
held fixed but the batch statistics still depending on :math:`\\mathbf x_n`.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from derive import kernels  # noqa: E402
from derive.errors import UsageError  # noqa: E402
from derive.torch import BatchNormFlow  # noqa: E402

F64 = torch.float64
ATOL = 1e-10
N_SAMPLES, FEATURES, BN_EPS = 5, 3, 1e-3
AFFINE = [False, True]
AFFINE_IDS = ["plain", "affine"]


def _layer(affine: bool, unbiased: bool = False, eps: float = BN_EPS):
    layer = BatchNormFlow(FEATURES, eps=eps, affine=affine, unbiased=unbiased, track_running_stats=False).to(
        F64
    )
    gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        layer.running_mean.copy_(torch.randn(FEATURES, generator=gen, dtype=F64))
        layer.running_var.copy_(torch.tensor([1e-4, 1.0, 250.0], dtype=F64))
        if affine:
            assert layer.weight is not None and layer.bias is not None
            layer.weight.copy_(torch.tensor([0.5, -2.0, 3.0], dtype=F64))
            layer.bias.copy_(torch.randn(FEATURES, generator=gen, dtype=F64))
    return layer.requires_grad_(False)  # autograd w.r.t. the inputs only


def _batch():
    gen = torch.Generator().manual_seed(5)
    return torch.randn(N_SAMPLES, FEATURES, generator=gen, dtype=F64) * torch.tensor(
        [0.1, 1.0, 20.0], dtype=F64
    )


def _per_sample_jacobian(layer, X, n: int):
    """d y_n / d x_n with the other samples fixed, through the batch statistics."""
    onehot = torch.zeros(X.shape[0], 1, dtype=F64)
    onehot[n] = 1.0
    return torch.func.jacrev(lambda xn: layer(X + onehot * (xn - X[n]))[0][n])(X[n])


# --- eval mode -------------------------------------------------------------------------------------


@pytest.mark.parametrize("affine", AFFINE, ids=AFFINE_IDS)
def test_eval_logdet_matches_autograd_and_kernel(affine: bool) -> None:
    layer = _layer(affine).eval()
    X = _batch()
    _, logdet = layer(X)
    J = torch.func.vmap(torch.func.jacrev(lambda v: layer(v)[0]))(X)
    sign, logabsdet = torch.linalg.slogdet(J)
    assert torch.all(sign != 0)
    torch.testing.assert_close(logdet, logabsdet, rtol=0, atol=ATOL)
    gamma = layer.weight.numpy() if layer.weight is not None else None
    kernel = kernels.batchnorm_logdet(layer.running_var.numpy(), BN_EPS, gamma=gamma)
    np.testing.assert_allclose(logdet.numpy(), np.broadcast_to(kernel, logdet.shape), rtol=0, atol=ATOL)


@pytest.mark.parametrize("affine", AFFINE, ids=AFFINE_IDS)
def test_eval_inverse_roundtrip(affine: bool) -> None:
    layer = _layer(affine).eval()
    X = _batch()
    torch.testing.assert_close(layer.inverse(layer(X)[0]), X, rtol=0, atol=ATOL)


def test_inverse_in_train_mode_raises() -> None:
    with pytest.raises(UsageError, match="eval mode"):
        _layer(False).train().inverse(_batch())


# --- train mode ------------------------------------------------------------------------------------


@pytest.mark.parametrize("affine", AFFINE, ids=AFFINE_IDS)
def test_train_full_batch_jacobian_is_singular(affine: bool) -> None:
    layer = _layer(affine).train()
    X = _batch()
    J = torch.func.jacrev(lambda v: layer(v)[0])(X).reshape(N_SAMPLES * FEATURES, N_SAMPLES * FEATURES)
    for i in range(FEATURES):  # a constant shift of feature i over the batch is in the kernel
        shift = torch.zeros(N_SAMPLES, FEATURES, dtype=F64)
        shift[:, i] = 1.0
        torch.testing.assert_close(
            J @ shift.reshape(-1), torch.zeros(N_SAMPLES * FEATURES, dtype=F64), rtol=0, atol=ATOL
        )
    assert torch.linalg.matrix_rank(J) == N_SAMPLES * FEATURES - FEATURES
    assert abs(torch.linalg.det(J)) < ATOL


@pytest.mark.parametrize("unbiased", [False, True], ids=["biased", "unbiased"])
@pytest.mark.parametrize("affine", AFFINE, ids=AFFINE_IDS)
def test_train_per_sample_logdet_matches_autograd_and_kernel(affine: bool, unbiased: bool) -> None:
    layer = _layer(affine, unbiased).train()
    X = _batch()
    _, logdet = layer(X)
    gamma = layer.weight.numpy() if layer.weight is not None else None
    kernel = kernels.batchnorm_train_logdet(X.numpy(), BN_EPS, gamma=gamma, unbiased=unbiased)
    np.testing.assert_allclose(logdet.numpy(), kernel, rtol=0, atol=ATOL)
    for n in range(N_SAMPLES):
        J = _per_sample_jacobian(layer, X, n)
        assert torch.all(J - torch.diag(torch.diagonal(J)) == 0)  # diagonal: features do not mix
        sign, logabsdet = torch.linalg.slogdet(J)
        assert sign != 0
        assert float(logdet[n]) == pytest.approx(float(logabsdet), rel=0, abs=ATOL)


def test_train_mode_with_leading_batch_axes_matches_kernel() -> None:
    layer = _layer(True).train()
    X = torch.stack([_batch(), 2 * _batch() + 1])  # two independent batches, (2, N, D)
    y, logdet = layer(X)
    assert y.shape == X.shape and logdet.shape == (2, N_SAMPLES)
    assert layer.weight is not None
    kernel = kernels.batchnorm_train_logdet(X.numpy(), BN_EPS, gamma=layer.weight.numpy())
    np.testing.assert_allclose(logdet.numpy(), kernel, rtol=0, atol=ATOL)


def test_train_per_sample_logdet_differs_from_eval_formula_at_batch_statistics() -> None:
    layer = _layer(False).train()
    X = _batch()
    y, logdet = layer(X)
    var = X.var(0, correction=0)
    eval_formula = -0.5 * torch.log(var + BN_EPS).sum()
    correction = torch.log(torch.abs(1 - (1 + y**2) / N_SAMPLES)).sum(-1)  # the statistics' own dependence
    assert torch.all((logdet - eval_formula).abs() > 0.1)
    torch.testing.assert_close(logdet - eval_formula, correction, rtol=0, atol=ATOL)


def test_train_output_and_running_statistics_match_torch_batchnorm1d() -> None:
    ours = BatchNormFlow(FEATURES, eps=BN_EPS, momentum=0.3).to(F64)
    ref = torch.nn.BatchNorm1d(FEATURES, eps=BN_EPS, momentum=0.3, affine=False).to(F64)
    gen = torch.Generator().manual_seed(9)
    for _ in range(3):
        X = torch.randn(N_SAMPLES, FEATURES, generator=gen, dtype=F64) * 3 + 1
        torch.testing.assert_close(ours(X)[0], ref(X), rtol=0, atol=ATOL)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, rtol=0, atol=1e-14)
    torch.testing.assert_close(ours.running_var, ref.running_var, rtol=0, atol=1e-14)
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(X)[0], ref(X), rtol=0, atol=ATOL)


def test_train_mode_needs_two_samples() -> None:
    with pytest.raises(UsageError, match="N >= 2"):
        _layer(False).train()(torch.zeros(1, FEATURES, dtype=F64))


def test_eps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="eps"):
        BatchNormFlow(2, eps=0.0)
