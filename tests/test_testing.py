"""derive.testing: correct layers pass, wrong log-dets fail with a shrunk, readable counterexample."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from derive import kernels  # noqa: E402
from derive.errors import UsageError  # noqa: E402
from derive.testing import (  # noqa: E402
    assert_inverse_roundtrip,
    assert_logdet_matches,
    inputs,
    log_scales,
    scales,
    signed_scales,
    stability_constants,
)
from derive.torch import BatchNormFlow, IAFStep  # noqa: E402

F64 = torch.float64
DIM = 3
FAST = 15  # max_examples: enough to catch the deliberate bugs, quick to shrink


# --- layers under test: (forward, claimed log-det, params) -----------------------------------------


def affine(x, a, b):
    return a * x + b


def affine_logdet(x, a, b):
    return torch.log(torch.abs(a)).sum(-1)


def batchnorm_eval(x, mean, var, eps, gamma):
    return gamma * (x - mean) / torch.sqrt(var + eps)


def batchnorm_eval_logdet(x, mean, var, eps, gamma):
    return -0.5 * torch.log(var + eps).sum(-1) + torch.log(torch.abs(gamma)).sum(-1)


def batchnorm_eval_logdet_missing_half(x, mean, var, eps, gamma):
    return -torch.log(var + eps).sum(-1) + torch.log(torch.abs(gamma)).sum(-1)


AFFINE_PARAMS = {"a": signed_scales(DIM), "b": inputs(DIM)}
BN_PARAMS = {
    "mean": inputs(DIM),
    "var": scales(DIM),
    "eps": stability_constants(),
    "gamma": signed_scales(DIM),
}


def _iaf_step(stable: bool):
    torch.manual_seed(0)
    return IAFStep(DIM, hidden=(16,), stable=stable).to(F64).requires_grad_(False)


def _bn_module():
    layer = BatchNormFlow(DIM, eps=1e-5, affine=True).to(F64).requires_grad_(False).eval()
    layer.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0], dtype=F64))
    layer.running_var.copy_(torch.tensor([1e-6, 1.0, 1e4], dtype=F64))
    assert layer.weight is not None
    layer.weight.copy_(torch.tensor([2.0, -0.5, 1.0], dtype=F64))
    return layer


def _correct_cases():
    step, stable, bn = _iaf_step(False), _iaf_step(True), _bn_module()
    return [
        pytest.param(affine, affine_logdet, {"params": AFFINE_PARAMS}, id="affine"),
        pytest.param(
            affine, affine_logdet, {"params": AFFINE_PARAMS, "batch_shape": (4,)}, id="affine-batched"
        ),
        pytest.param(
            lambda z: step(z).z,
            lambda z: step(z).log_sigma.sum(-1),
            {"batch_shape": (2,)},
            id="iaf-step-plain",
        ),
        pytest.param(lambda z: stable(z).z, lambda z: stable(z).log_sigma.sum(-1), {}, id="iaf-step-stable"),
        pytest.param(
            batchnorm_eval, batchnorm_eval_logdet, {"params": BN_PARAMS}, id="batchnorm-eval-functional"
        ),
        pytest.param(
            lambda x: bn(x)[0], lambda x: bn(x)[1], {"batch_shape": (3,)}, id="batchnorm-eval-module"
        ),
        pytest.param(
            batchnorm_eval,
            lambda x, mean, var, eps, gamma: kernels.batchnorm_logdet(var.numpy(), eps, gamma.numpy()),
            {"params": BN_PARAMS},
            id="batchnorm-eval-generated-kernel",
        ),
        pytest.param(
            lambda z: step(z).z,
            lambda z: kernels.iaf_step_logdet(torch.exp(step(z).log_sigma).numpy()),
            {"batch_shape": (2,)},
            id="iaf-step-generated-kernel",
        ),
        pytest.param(
            torch.tanh,
            lambda x: torch.log1p(-(torch.tanh(x) ** 2)).sum(-1),
            {"domain": (-3.0, 3.0)},
            id="tanh",
        ),
        pytest.param(
            torch.sigmoid,
            lambda x: (torch.nn.functional.logsigmoid(x) + torch.nn.functional.logsigmoid(-x)).sum(-1),
            {"domain": "real"},
            id="sigmoid",
        ),
        pytest.param(
            torch.log, lambda x: -torch.log(x).sum(-1), {"domain": "positive"}, id="log-positive-domain"
        ),
    ]


@pytest.mark.parametrize(("forward", "logdet", "kwargs"), _correct_cases())
def test_correct_layer_passes(forward, logdet, kwargs) -> None:
    assert_logdet_matches(forward, logdet, dim=DIM, **kwargs, max_examples=FAST)


WRONG = [
    pytest.param(
        affine, lambda x, a, b: -affine_logdet(x, a, b), AFFINE_PARAMS, "autograd (slogdet):", id="sign-error"
    ),
    pytest.param(batchnorm_eval, batchnorm_eval_logdet_missing_half, BN_PARAMS, "var = ", id="missing-half"),
]


@pytest.mark.parametrize(("forward", "logdet", "params", "shown"), WRONG)
def test_wrong_logdet_fails_with_a_shrunk_report(forward, logdet, params, shown) -> None:
    with pytest.raises(AssertionError) as info:
        assert_logdet_matches(forward, logdet, dim=DIM, params=params, max_examples=FAST)
    message = str(info.value)
    assert message.startswith("log|det J| mismatch at the minimal failing example")
    assert "x = [0.0, 0.0, 0.0]" in message  # the claim is wrong for every x: shrinks to zero
    assert "claimed (logdet_fn):" in message and "difference:" in message and shown in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_shrinking_finds_the_boundary_of_a_wrong_region() -> None:
    """Cubic map with a claim that is wrong only where some x_i > 1.5: the report isolates one coordinate."""

    def claim(x):
        return torch.where(x > 1.5, 0.0, torch.log1p(x**2)).sum(-1)

    with pytest.raises(AssertionError) as info:
        assert_logdet_matches(lambda x: x**3 / 3 + x, claim, dim=DIM, max_examples=50)
    x = eval_list(str(info.value))
    assert sum(v != 0 for v in x) == 1 and 1.5 < max(x) <= 3.0


def eval_list(message: str) -> list[float]:
    match = re.search(r"^  x = \[(.*)\]$", message, re.MULTILINE)
    assert match is not None, message
    return [float(v) for v in match.group(1).split(",")]


def test_batched_failure_names_the_sample() -> None:
    with pytest.raises(AssertionError, match=r"\(sample \(\d+,\); \d+ of 4 samples fail\)"):
        assert_logdet_matches(
            affine,
            lambda x, a, b: -affine_logdet(x, a, b).expand(x.shape[:-1]),
            dim=2,
            batch_shape=(4,),
            params={"a": signed_scales(2), "b": inputs(2)},
            max_examples=FAST,
        )


def test_singular_jacobian_is_reported() -> None:
    with pytest.raises(AssertionError, match="J is singular"):
        assert_logdet_matches(lambda x: x * 0.0, lambda x: x.sum(-1) * 0.0, dim=2, max_examples=FAST)


def test_seeded_runs_are_reproducible() -> None:
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as info:
            assert_logdet_matches(
                affine,
                lambda x, a, b: -affine_logdet(x, a, b),
                dim=DIM,
                params=AFFINE_PARAMS,
                seed=1234,
                max_examples=FAST,
            )
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# --- numpy backend -----------------------------------------------------------------------------------


def np_forward(x, a):
    return a * np.sinh(x)


def np_logdet(x, a):
    return np.sum(np.log(a) + np.log(np.cosh(x)), axis=-1)


NP_PARAMS = {"a": scales(DIM, min_value=1e-3, max_value=1e3)}


def test_numpy_forward_with_finite_differences_passes() -> None:
    assert_logdet_matches(
        np_forward,
        np_logdet,
        dim=DIM,
        backend="numpy",
        params=NP_PARAMS,
        domain=(-3.0, 3.0),
        max_examples=FAST,
    )


def test_numpy_forward_with_finite_differences_catches_a_missing_term() -> None:
    with pytest.raises(AssertionError, match="finite differences:"):
        assert_logdet_matches(
            np_forward,
            lambda x, a: np.sum(np.log(a), axis=-1),
            dim=DIM,
            backend="numpy",
            params=NP_PARAMS,
            max_examples=FAST,
        )


def test_numpy_forward_with_exact_jacobian_fn() -> None:
    def jac(x, a):
        return np.vectorize(np.diag, signature="(n)->(n,n)")(a * np.cosh(x))

    assert_logdet_matches(
        np_forward,
        np_logdet,
        dim=DIM,
        batch_shape=(2,),
        backend="numpy",
        jacobian_fn=jac,
        params=NP_PARAMS,
        max_examples=FAST,
    )


# --- inverse round trip -------------------------------------------------------------------------------


def test_roundtrip_passes_for_iaf_step_and_batchnorm() -> None:
    step, bn = _iaf_step(True), _bn_module()
    assert_inverse_roundtrip(lambda z: step(z).z, step.inverse, dim=DIM, batch_shape=(2,), max_examples=FAST)
    assert_inverse_roundtrip(lambda x: bn(x)[0], bn.inverse, dim=DIM, rtol=1e-6, max_examples=FAST)


def test_roundtrip_passes_with_params() -> None:
    assert_inverse_roundtrip(
        affine,
        lambda y, a, b: (y - b) / a,
        dim=DIM,
        params={"a": log_scales(DIM, bound=5.0).map(np.exp), "b": inputs(DIM)},
        max_examples=FAST,
    )


def test_wrong_inverse_fails_with_a_report() -> None:
    with pytest.raises(AssertionError) as info:
        assert_inverse_roundtrip(lambda x: 2 * x + 1, lambda y: (y + 1) / 2, dim=2, max_examples=FAST)
    message = str(info.value)
    assert message.startswith("inverse round trip failed at the minimal failing example")
    assert "x = [0.0, 0.0]" in message and "inverse(forward(x)) = [1.0, 1.0]" in message


# --- usage errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"backend": "jax"}, {"jacobian_fn": lambda x: x}, {"dtype": "not-a-dtype"}],
    ids=["unknown-backend", "jacobian-fn-with-torch", "bad-dtype"],
)
def test_usage_errors(kwargs) -> None:
    with pytest.raises(UsageError):
        assert_logdet_matches(torch.sinh, lambda x: x.sum(-1), dim=2, **kwargs, max_examples=FAST)


@pytest.mark.parametrize("dim", [0, -1, 2.0, True, None], ids=["zero", "negative", "float", "bool", "none"])
@pytest.mark.parametrize(
    "check", [assert_logdet_matches, assert_inverse_roundtrip], ids=["logdet", "roundtrip"]
)
def test_bad_dim_is_a_clear_value_error(check, dim) -> None:
    """Not a torch RuntimeError from deep inside jacrev (what ``dim=0`` gave before)."""
    with pytest.raises(ValueError, match=r"dim must be a positive integer .* got"):
        check(torch.sinh, lambda x: x.sum(-1), dim=dim, max_examples=FAST)


def test_non_square_map_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="R\\^2 to R\\^2"):
        assert_logdet_matches(lambda x: torch.cat([x, x]), lambda x: x.sum(-1), dim=2, max_examples=FAST)


# --- strategies ------------------------------------------------------------------------------------------


@given(scales(4), stability_constants(), inputs(2, batch_shape=(3,), domain="unit_interval"))
def test_strategies_respect_their_ranges(sigma, eps, u) -> None:
    assert sigma.shape == (4,) and np.all((sigma >= 1e-6 * (1 - 1e-12)) & (sigma <= 1e6 * (1 + 1e-12)))
    assert 1e-12 * (1 - 1e-9) <= eps <= 1e-1 * (1 + 1e-9)
    assert u.shape == (3, 2) and np.all((u > 0) & (u < 1))


@given(signed_scales(8))
def test_signed_scales_are_nonzero(gamma) -> None:
    assert np.all(gamma != 0) and np.all(np.isfinite(np.log(np.abs(gamma))))


def test_scales_reach_both_tails() -> None:
    from hypothesis import find

    assert find(scales(1), lambda a: a[0] < 1e-5)[0] < 1e-5
    assert find(scales(1), lambda a: a[0] > 1e5)[0] > 1e5


def test_unknown_domain_raises() -> None:
    with pytest.raises(ValueError, match="unknown domain"):
        inputs(2, domain="complex")  # type: ignore[arg-type]


def test_domain_strategy_is_used_per_coordinate() -> None:
    from hypothesis import find

    assert np.all(find(inputs(3, domain=st.just(math.pi)), lambda a: True) == math.pi)


def test_importing_derive_and_derive_testing_does_not_import_torch() -> None:
    code = "import sys, derive, derive.kernels, derive.testing; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
