"""MADE: the autoregressive property, checked with autograd, and the context wiring."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from derive.torch import MADE, MaskedLinear  # noqa: E402

F64 = torch.float64
SHAPES = [(1, 0, (8,)), (2, 3, (8,)), (5, 0, (16, 16)), (5, 3, (16, 16)), (7, 2, (5, 9))]
IDS = [f"D{d}-ctx{c}-hidden{'x'.join(map(str, h))}" for d, c, h in SHAPES]


def _made(features: int, context: int, hidden: tuple[int, ...], k: int = 2):
    torch.manual_seed(0)
    return MADE(features, context, hidden, outputs_per_feature=k).to(F64)


def _inputs(features: int, context: int):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(features, generator=gen, dtype=F64)
    h = torch.randn(context, generator=gen, dtype=F64) if context else None
    return x, h


@pytest.mark.parametrize(("features", "context", "hidden"), SHAPES, ids=IDS)
def test_jacobian_is_strictly_lower_triangular(features: int, context: int, hidden: tuple[int, ...]) -> None:
    made = _made(features, context, hidden, k=3)
    x, h = _inputs(features, context)
    J = torch.func.jacrev(lambda v: made(v, h))(x)  # (k, D, D): d out[k, i] / d x[j]
    assert J.shape == (3, features, features)
    upper = torch.triu(torch.ones(features, features, dtype=torch.bool))
    assert torch.all(J[:, upper] == 0)  # exactly zero on and above the diagonal


@pytest.mark.parametrize(("features", "context", "hidden"), SHAPES, ids=IDS)
def test_every_allowed_connection_is_used(features: int, context: int, hidden: tuple[int, ...]) -> None:
    made = _made(features, context, hidden)
    strict_lower = torch.tril(torch.ones(features, features, dtype=torch.bool), diagonal=-1)
    assert not torch.any(made.connectivity() & ~strict_lower)
    if min(hidden) >= features:  # every degree 0..D-1 present: the whole strict lower triangle is live
        assert torch.equal(made.connectivity(), strict_lower)
        x, h = _inputs(features, context)
        J = torch.func.jacrev(lambda v: made(v, h))(x)
        assert torch.all(J[:, strict_lower] != 0)


@pytest.mark.parametrize("features", [1, 3], ids=["D1", "D3"])
def test_every_output_depends_on_the_context(features: int) -> None:
    made = _made(features, 4, (8,))
    x, h = _inputs(features, 4)
    Jh = torch.func.jacrev(lambda c: made(x, c))(h)  # (k, D, context)
    assert torch.all(Jh.abs().sum(-1) > 0)


def test_batched_and_vmapped_agree() -> None:
    made = _made(3, 2, (8,))
    gen = torch.Generator().manual_seed(2)
    x, h = torch.randn(4, 3, generator=gen, dtype=F64), torch.randn(4, 2, generator=gen, dtype=F64)
    torch.testing.assert_close(made(x, h), torch.func.vmap(made)(x, h), rtol=0, atol=1e-14)
    assert made(x, h).shape == (4, 2, 3)


def test_masked_linear_ignores_masked_weights() -> None:
    layer = MaskedLinear(torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=F64)).to(F64)
    J = torch.func.jacrev(layer)(torch.ones(2, dtype=F64))
    assert J[0, 1] == 0 and torch.equal(J[1], layer.weight[1])


@pytest.mark.parametrize(
    "kwargs",
    [{"features": 0}, {"features": 2, "context": -1}, {"features": 2, "hidden": ()}],
    ids=["no-features", "negative-context", "no-hidden"],
)
def test_bad_arguments_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="MADE"):
        MADE(**kwargs)


@pytest.mark.parametrize("context", [0, 2], ids=["h-given-but-none-expected", "h-missing"])
def test_context_mismatch_raises(context: int) -> None:
    made = _made(2, context, (4,))
    h = None if context else torch.zeros(2, dtype=F64)
    with pytest.raises(ValueError, match="context"):
        made(torch.zeros(2, dtype=F64), h)
