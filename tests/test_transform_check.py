"""assert_transform_logdet: every accepted protocol, both module modes, and attacks that must fail."""

from __future__ import annotations

import math
import re

import pytest

torch = pytest.importorskip("torch")

from hypothesis import strategies as st  # noqa: E402

from derive.errors import UsageError  # noqa: E402
from derive.testing import assert_transform_logdet  # noqa: E402
from derive.torch import BatchNormFlow, LeakyReLUFlow, PlanarFlow  # noqa: E402
from derive.torch._catalog import planar_with_negative_wu  # noqa: E402

F64 = torch.float64
SCALE = torch.tensor([2.0, -0.5, 3.0], dtype=F64)


def _logdet(x):  # the correct log|det| of x -> SCALE * x
    return torch.log(SCALE.abs()).sum().expand(x.shape[:-1])


class _ZukoStyle:
    """zuko's protocol: ``call_and_ladj(x) -> (y, ladj)``."""

    def __init__(self, wrong: bool = False) -> None:
        self.wrong = wrong

    def call_and_ladj(self, x):
        y = torch.tanh(x)
        ladj = torch.log1p(-(y**2))
        return y, (torch.log1p(-y) if self.wrong else ladj).sum(-1)


class _NflowsStyle(torch.nn.Module):
    """nflows' protocol: ``forward(x) -> (y, logabsdet)``, wrong on the negative branch if asked."""

    def __init__(self, wrong: bool = False) -> None:
        super().__init__()
        self.wrong = wrong

    def forward(self, x):
        y = torch.where(x >= 0, x, 0.2 * x)
        neg = torch.full_like(x, math.log(0.2))
        if self.wrong:  # flowjax-style: the negative branch's log-det below -1 only
            neg = torch.where(x < -1, neg, torch.zeros_like(x))
        return y, torch.where(x >= 0, torch.zeros_like(x), neg).sum(-1)


CORRECT = [
    pytest.param(((lambda x: SCALE * x), _logdet), (3,), id="pair"),
    pytest.param(_ZukoStyle(), (3,), id="zuko-call_and_ladj"),
    pytest.param(torch.distributions.transforms.TanhTransform(), (3,), id="torch-Transform-elementwise"),
    pytest.param(
        torch.distributions.transforms.AffineTransform(0.5, SCALE, event_dim=1),
        (3,),
        id="torch-Transform-event",
    ),
    pytest.param(_NflowsStyle(), (3,), id="nflows-forward"),
    pytest.param(LeakyReLUFlow(0.1), (3,), id="derive-module"),
]

WRONG = [
    pytest.param(
        ((lambda x: SCALE * x), (lambda x: torch.log(SCALE).sum().expand(x.shape[:-1]))), id="missing-abs"
    ),
    pytest.param(((lambda x: SCALE * x), (lambda x: -_logdet(x))), id="sign"),
    pytest.param(_ZukoStyle(wrong=True), id="zuko-missing-square"),
    pytest.param(_NflowsStyle(wrong=True), id="nflows-negative-branch-threshold"),
    pytest.param(
        torch.distributions.transforms.ExpTransform().inv, id="torch-Transform-log-outside-its-domain"
    ),
]


@pytest.mark.parametrize(("transform", "shape"), CORRECT)
def test_correct_transforms_pass(transform, shape) -> None:
    assert_transform_logdet(transform, shape, max_examples=10)


@pytest.mark.parametrize("transform", WRONG)
def test_attack_wrong_log_dets_fail_with_the_input(transform) -> None:
    with pytest.raises(AssertionError, match=r"x\[\d\] = \["):
        assert_transform_logdet(transform, (3,), max_examples=10)


def test_failure_is_shrunk_when_not_a_fixed_example() -> None:
    """A bug only for x_i < -7: no fixed example reaches it, Hypothesis finds and shrinks it."""

    def logdet(x):
        return torch.where(x < -7, torch.ones_like(x), torch.zeros_like(x)).sum(-1)

    with pytest.raises(AssertionError, match=r"\(shrunk\)") as info:
        assert_transform_logdet((lambda x: x, logdet), (2,), max_examples=200)
    row = [float(v) for v in re.search(r"x\[\d\] = \[([^\]]*)\]", str(info.value)).group(1).split(",")]  # type: ignore[union-attr]
    assert min(row) < -7 and max(row) == 0.0, row  # shrunk: one coordinate past -7, the other at 0


def test_attack_planar_with_the_pyro_u_hat_is_not_invertible() -> None:
    class Pyro(PlanarFlow):
        def u_hat(self):
            wu = self.w @ self.u
            return self.u + (-1 + torch.nn.functional.softplus(wu) - wu) * self.w / torch.linalg.vector_norm(
                self.w
            )

    flow = planar_with_negative_wu(Pyro)
    with pytest.raises(AssertionError, match="changes sign"):
        assert_transform_logdet(flow, (3,), max_examples=10)
    assert_transform_logdet(planar_with_negative_wu(), (3,), max_examples=10)  # the paper's u_hat is fine


def test_both_batch_norm_modes_are_checked() -> None:
    """A log-det right in eval mode but wrong in train mode is caught (train mode is checked too)."""

    class EvalFormulaEverywhere(BatchNormFlow):
        def forward(self, x):
            y, _ = super().forward(x)
            var = x.var(-2, unbiased=False, keepdim=True) if self.training else self.running_var
            return y, (-0.5 * torch.log(var + self.eps)).sum(-1).expand(y.shape[:-1])

    good = BatchNormFlow(3, eps=1e-2, track_running_stats=False)
    assert_transform_logdet(good, (3,), max_examples=10)
    bad = EvalFormulaEverywhere(3, eps=1e-2, track_running_stats=False)
    assert_transform_logdet(bad, (3,), modes=("eval",), max_examples=10)  # eval alone cannot see it
    with pytest.raises(AssertionError, match="mode: train"):
        assert_transform_logdet(bad, (3,), max_examples=10)


def test_the_users_module_is_not_modified() -> None:
    layer = BatchNormFlow(3).float().eval()
    assert_transform_logdet(layer, (3,), max_examples=3)
    assert not layer.training and layer.running_mean.dtype == torch.float32


def test_custom_domain_and_bad_arguments() -> None:
    logit = torch.distributions.transforms.SigmoidTransform().inv
    assert_transform_logdet(logit, (2,), elements=st.floats(1e-3, 1 - 1e-3), max_examples=10)
    with pytest.raises(UsageError, match="forward_fn, logdet_fn"):
        assert_transform_logdet((lambda x: x,), (2,))
    with pytest.raises(UsageError, match="not a transform"):
        assert_transform_logdet(42, (2,))
    with pytest.raises(UsageError, match="must return"):
        assert_transform_logdet(lambda x: x, (2,), max_examples=2)
    with pytest.raises(UsageError, match="batch_size"):
        assert_transform_logdet(_ZukoStyle(), (0,))
