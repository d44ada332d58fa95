"""Lowering indexed sums to NumPy: values against direct NumPy, emitted code, rejections, LogSigmoid."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from derive.codegen import (
    LOG_SIGMOID_RULES,
    Axis,
    LogSigmoid,
    RewriteRule,
    generate,
    lower,
    rewrite_log_sigmoid,
)
from derive.errors import VerificationError
from derive.symbols import D, N, T, bn_eps, epsilon, i, j, mu, n, s, sigma, t, z
from tests.helpers import assert_close

k = sp.Symbol("k", integer=True, positive=True)
xb = sp.IndexedBase("x", real=True)
RNG = np.random.default_rng(0)
EPS = RNG.normal(size=(2, 4))  # (B, D)
SIG = RNG.uniform(0.2, 3.0, size=(2, 3, 4))  # (B, T+1, D)
X = RNG.normal(size=(2, 5, 4))  # (B, N, D)
SIGMA_EPS = {sigma: ("sigma", (t, i)), epsilon: ("eps", (i,))}

BOTH = {"eps": EPS, "sigma": SIG}


def case(
    id: str,
    expr: sp.Expr,
    numpy_fn: Callable[..., Any],
    binding: Any = SIGMA_EPS,
    free: tuple = (),
    **arrays: Any,
) -> Any:
    """``expr`` lowered over ``arrays`` (default: ``eps``, ``sigma``) must equal ``numpy_fn(**arrays)``."""
    return pytest.param(expr, binding, free, arrays or BOTH, numpy_fn, id=id)


X_BINDING = {xb: ("x", (Axis(n, 1, N), i))}
LOWERINGS = [
    case("sum-sq", sp.Sum(epsilon[i] ** 2, (i, 1, D)), lambda eps, sigma: (eps**2).sum(-1)),
    case(
        "nested-full",
        sp.Sum(sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        lambda eps, sigma: np.log(sigma).sum((-2, -1)),
    ),
    case(
        "slice-t-from-1",
        sp.Sum(sp.log(sigma[t, i]), (t, 1, T), (i, 1, D)),
        lambda eps, sigma: np.log(sigma[..., 1:, :]).sum((-2, -1)),
    ),
    case(
        "slice-t-to-T-1",
        sp.Sum(sigma[t, i], (t, 0, T - 1), (i, 1, D)),
        lambda eps, sigma: sigma[..., :-1, :].sum((-2, -1)),
    ),
    case(
        "take-first-and-last",
        sp.Sum(sigma[0, i] * sigma[T, i], (i, 1, D)),
        lambda eps, sigma: (sigma[..., 0, :] * sigma[..., -1, :]).sum(-1),
    ),
    case(
        "offset-index",
        sp.Sum(sigma[t, i] - sigma[t - 1, i], (t, 1, T), (i, 1, D)),
        lambda eps, sigma: (sigma[..., -1, :] - sigma[..., 0, :]).sum(-1),
    ),
    case(
        "mixed-index-sets",
        sp.Sum(epsilon[i] * sp.Sum(sigma[t, i], (t, 0, T)), (i, 1, D)),
        lambda eps, sigma: (eps * sigma.sum(-2)).sum(-1),
    ),
    case(
        "unused-index-counts",
        sp.Sum(sp.pi + epsilon[i], (i, 1, D), (t, 0, T)),
        lambda eps, sigma: 3 * (4 * np.pi + eps.sum(-1)),
    ),
    case("size-symbols", D * T + sp.Sum(epsilon[i], (i, 1, D)), lambda eps, sigma: 4 * 2 + eps.sum(-1)),
    case("product", sp.Product(sigma[t, i], (t, 0, T), (i, 1, D)), lambda eps, sigma: sigma.prod((-2, -1))),
    case(
        "conflicting-axis-orders",
        sp.Sum(z[i, j] * z[j, i], (i, 1, D), (j, 1, D)),
        lambda z: np.einsum("bij,bji->b", z, z),
        {z: ("z", (i, j))},
        z=RNG.normal(size=(2, 4, 4)),
    ),
    case(
        "free-axes",
        sp.log(sigma[t, i]) + epsilon[i],
        lambda eps, sigma: np.log(sigma) + eps[..., None, :],
        free=(t, i),
    ),
    case("free-axes-reordered", sigma[t, i], lambda eps, sigma: np.swapaxes(sigma, -1, -2), free=(i, t)),
    case(
        "shadowed-index",
        sp.Sum((xb[k, i] - sp.Sum(xb[k, i], (k, 1, N)) / N) ** 2, (k, 1, N), (i, 1, D)),
        lambda x: (x.var(-2) * 5).sum(-1),
        X_BINDING,
        x=X,
    ),
    case(
        "sample-and-batch-sum",
        sp.Sum(xb[n, i] * sp.Sum(xb[k, i], (k, 1, N)), (i, 1, D)),
        lambda x: (x * x.sum(-2, keepdims=True)).sum(-1),
        X_BINDING,
        (n,),
        x=X,
    ),
    case(
        "per-batch-scalar",
        sp.Sum(sp.log(sigma[t, i] ** 2 + bn_eps), (t, 0, T), (i, 1, D)),
        lambda sigma, e: np.log(sigma**2 + e[:, None, None]).sum((-2, -1)),
        {sigma: ("sigma", (t, i)), bn_eps: "e"},
        sigma=SIG,
        e=np.array([0.1, 0.2]),
    ),
    case(
        "dropped-free-index",
        sp.Sum(sp.log(sigma[t, i]), (i, 1, D)),
        lambda sig_t: np.log(sig_t).sum(-1),
        {sigma: ("sig_t", (None, i))},
        sig_t=SIG[:, 0],
    ),
    case(
        "held-at-zero",
        sp.Sum(sp.log(sigma[0, i]), (i, 1, D)),
        lambda sigma0: np.log(sigma0).sum(-1),
        {sigma: ("sigma0", (0, i))},
        sigma0=SIG[:, 0],
    ),
    case(
        "axis-from-1",
        sp.Sum(s[t, i], (t, 1, T), (i, 1, D)),
        lambda s: s.sum((-2, -1)),
        {s: ("s", (Axis(t, 1, T), i))},
        s=SIG[:, 1:],
    ),
    case(
        "two-indices-same-range",
        sp.Sum(epsilon[i] * epsilon[j], (i, 1, D), (j, 1, D)),
        lambda eps: eps.sum(-1) ** 2,
        {epsilon: ("eps", (i,))},
        eps=EPS,
    ),
]


@pytest.mark.parametrize(("expr", "binding", "free", "arrays", "numpy_fn"), LOWERINGS)
def test_lowered_kernel_matches_numpy(
    expr: sp.Expr,
    binding: Any,
    free: tuple,
    arrays: dict[str, np.ndarray],
    numpy_fn: Callable[..., np.ndarray],
) -> None:
    kernel = generate(expr, binding, free=free)
    got = kernel(*[arrays[a] for a in kernel.args])
    want = numpy_fn(**arrays)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_kernel_keeps_expression_and_lambdify_source() -> None:
    expr = sp.Sum(epsilon[i] ** 2, (i, 1, D))
    kernel = generate(expr, SIGMA_EPS, args=("sigma", "eps"))
    assert kernel.expr is expr
    assert kernel.args == ("sigma", "eps")
    assert kernel.source.startswith("def _lambdifygenerated(sigma, eps):")


def test_nested_sums_become_one_reduction_over_both_axes() -> None:
    kernel = generate(-sp.Sum(sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)), SIGMA_EPS)
    assert "sum(log(sigma), axis=(-2, -1), keepdims=True)" in kernel.source


def test_irrational_constants_become_python_floats_so_float32_stays_float32() -> None:
    expr = sp.Sum(sp.log(2 * sp.pi) / 2 + sp.exp(1) * epsilon[i] ** 2, (i, 1, D))
    kernel = generate(expr, SIGMA_EPS, args=("eps", "sigma"))
    assert "pi" not in kernel.source and "exp(1)" not in kernel.source
    got = kernel(EPS.astype(np.float32), SIG.astype(np.float32))
    assert got.dtype == np.float32
    want = 4 * np.log(2 * np.pi) / 2 + np.e * (EPS**2).sum(-1)
    assert_close(got, want, dtype=np.float32)


REJECTED = [
    ("unbound-base", sp.Sum(mu[t, i], (t, 0, T), (i, 1, D)), SIGMA_EPS, (), "mu is not bound"),
    ("index-as-value", sp.Sum(i * epsilon[i], (i, 1, D)), SIGMA_EPS, (), "used as a value"),
    ("outside-axis", sp.Sum(s[t, i], (t, 0, T), (i, 1, D)), {s: ("s", (Axis(t, 1, T), i))}, (), "t = 1..T"),
    ("not-a-fixed-slice", sp.Sum(sigma[t, i], (t, 0, D), (i, 1, D)), SIGMA_EPS, (), "not a fixed slice"),
    ("piecewise", sp.Piecewise((epsilon[i], epsilon[i] > 0), (0, True)), SIGMA_EPS, (i,), "Piecewise"),
    ("free-not-listed", epsilon[i], SIGMA_EPS, (), "not listed in free"),
    ("repeated-index", sp.Sum(z[i, i], (i, 1, D)), {z: ("z", (i, j))}, (), "repeated index"),
    ("wrong-arity", sp.Sum(epsilon[i], (i, 1, D)), {epsilon: ("eps", (t, i))}, (), "has 2 indices"),
    ("no-array", sp.Integer(3) * D, SIGMA_EPS, (), "no array|reads no array"),
    ("dependent-bounds", sp.Sum(sigma[t, i], (t, 0, i), (i, 1, D)), SIGMA_EPS, (), "depend on another index"),
    (
        "summed-dropped-index",
        sp.Sum(sigma[t, i], (t, 0, T), (i, 1, D)),
        {sigma: ("s", (None, i))},
        (),
        "must be a free index",
    ),
    ("held-index-mismatch", sp.Sum(sigma[1, i], (i, 1, D)), {sigma: ("sigma0", (0, i))}, (), "only index 0"),
    ("unknown-default-range", epsilon[k], {epsilon: ("eps", (k,))}, (k,), "no default range"),
]


@pytest.mark.parametrize(
    ("expr", "binding", "free", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_unlowerable_expressions_raise_value_error(
    expr: sp.Expr, binding: Any, free: tuple, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        lower(expr, binding, free=free)


def test_argument_names_must_match_the_binding() -> None:
    with pytest.raises(ValueError, match="must name the bound arrays"):
        generate(sp.Sum(epsilon[i], (i, 1, D)), SIGMA_EPS, args=("eps",))


# --------------------------------------------------------------------------- LogSigmoid
x = sp.Symbol("x", real=True)


def test_log_sigmoid_rewrites_and_derivative() -> None:
    assert LogSigmoid(x).rewrite(sp.log) == sp.log(1 / (1 + sp.exp(-x)))
    assert LogSigmoid(x).rewrite(sp.exp) == sp.log(1 / (1 + sp.exp(-x)))
    assert sp.simplify(LogSigmoid(x).diff(x) - LogSigmoid(x).rewrite(sp.log).diff(x)) == 0


@pytest.mark.parametrize("value", [-800.0, -30.0, -1.0, 0.0, 2.5, 40.0, 800.0])
def test_log_sigmoid_numpy_is_stable_and_exact(value: float) -> None:
    f = sp.lambdify(x, LogSigmoid(x), modules="numpy")
    got = f(np.array(value))
    want = float(sp.log(1 / (1 + sp.exp(-sp.Float(value, 50)))).evalf(50))
    assert np.isfinite(got)
    assert_close(got, want, dtype=np.float64)
    assert_close(LogSigmoid(sp.Float(value, 50)).evalf(30), want, dtype=np.float64)


def test_log_sigmoid_prints_logaddexp_and_keeps_float32() -> None:
    f = sp.lambdify(x, LogSigmoid(x), modules="numpy")
    assert "(-logaddexp(0, -x))" in inspect.getsource(f)
    assert f(np.array([800.0, -800.0], np.float32)).dtype == np.float32


REWRITES = [
    ("log-one-over", sp.log(1 / (1 + sp.exp(-s[t, i]))), LogSigmoid(s[t, i])),
    ("log-one-over-plus", sp.log(1 / (1 + sp.exp(s[t, i]))), LogSigmoid(-s[t, i])),
    ("log-exp-ratio", sp.log(sp.exp(s[t, i]) / (1 + sp.exp(s[t, i]))), LogSigmoid(s[t, i])),
    ("log-one-plus", sp.log(1 + sp.exp(-s[t, i])), -LogSigmoid(s[t, i])),
    (
        "inside-sum",
        sp.Sum(sp.log(1 / (1 + sp.exp(-s[t, i]))), (t, 1, T)),
        sp.Sum(LogSigmoid(s[t, i]), (t, 1, T)),
    ),
    ("untouched", sp.log(sigma[t, i]) + sp.exp(-s[t, i]), sp.log(sigma[t, i]) + sp.exp(-s[t, i])),
]


@pytest.mark.parametrize(("before", "after"), [r[1:] for r in REWRITES], ids=[r[0] for r in REWRITES])
def test_log_sigmoid_rewrite(before: sp.Expr, after: sp.Expr) -> None:
    out = rewrite_log_sigmoid(before)
    assert out == after
    assert sp.simplify(sp.expand_log(out.rewrite(sp.log) - before)) == 0


def test_log_sigmoid_rewrite_is_checked_not_trusted() -> None:
    w = LOG_SIGMOID_RULES[0].pattern.atoms(sp.Wild).pop()
    wrong = RewriteRule(
        "log(1/(1+exp(w))) = LogSigmoid(w)  (sign error)", LOG_SIGMOID_RULES[0].pattern, LogSigmoid
    )
    assert wrong.pattern.has(w)
    with pytest.raises(VerificationError, match="sign error"):
        rewrite_log_sigmoid(sp.log(1 / (1 + sp.exp(-s[t, i]))), rules=(wrong,))


def test_stable_lowering_is_finite_at_800() -> None:
    expr = rewrite_log_sigmoid(sp.Sum(sp.log(1 / (1 + sp.exp(-s[t, i]))), (t, 1, T), (i, 1, D)))
    kernel = generate(expr, {s: ("s", (Axis(t, 1, T), i))})
    got = kernel(np.array([[800.0, -800.0]]))
    np.testing.assert_allclose(got, -800.0, rtol=1e-15)
