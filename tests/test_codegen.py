"""Lowering indexed sums to NumPy: values against direct NumPy, emitted code, rejections, LogSigmoid,
the checked log-product rewrite, LogProd (grouped, guarded logs) and batch chunking."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.codegen import (
    LOG_PRODUCT_RULES,
    LOG_SIGMOID_RULES,
    Axis,
    LogSigmoid,
    ProposedRewrite,
    RewriteRule,
    chunked_call,
    generate,
    group_size,
    log_prod,
    lower,
    rewrite_log_products,
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


# --------------------------------------------------------------------------- sum of logs -> log of a product
pos = sp.IndexedBase("p", positive=True)
real = sp.IndexedBase("r", real=True)

LOG_PRODUCTS = [
    ("single-sum", sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), sp.log(sp.Product(sigma[t, i], (t, 0, T)))),
    (
        "nested-with-other-terms",
        sp.Sum(epsilon[i] ** 2 + sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        sp.Sum(epsilon[i] ** 2, (i, 1, D)) + sp.log(sp.Product(sigma[t, i], (t, 0, T), (i, 1, D))),
    ),
    (
        "two-logs",
        sp.Sum(sp.log(sigma[0, i]) + sp.log(pos[i]), (i, 1, D)),
        sp.log(sp.Product(sigma[0, i], (i, 1, D))) + sp.log(sp.Product(pos[i], (i, 1, D))),
    ),
    ("not-positive-untouched", sp.Sum(sp.log(real[t]), (t, 0, T)), sp.Sum(sp.log(real[t]), (t, 0, T))),
    (
        "log-not-depending-on-index-untouched",
        sp.Sum(epsilon[i] + sp.log(pos[1]), (i, 1, D)),
        sp.Sum(epsilon[i] + sp.log(pos[1]), (i, 1, D)),
    ),
]


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in LOG_PRODUCTS], ids=[c[0] for c in LOG_PRODUCTS])
def test_log_product_rewrite(before: sp.Expr, after: sp.Expr) -> None:
    out = rewrite_log_products(before)
    assert out == after
    assert sp.simplify(sp.expand_log(out) - sp.expand_log(before)) == 0  # independent of the engine's check


def _mutant(name: str, propose: Callable[[sp.Basic], Any]) -> ProposedRewrite:
    return ProposedRewrite(name, propose)


def _sum_log(node: sp.Basic) -> bool:
    return isinstance(node, sp.Sum) and isinstance(node.function, sp.log)


# Broken rules, each a plausible bug; the rewrite check must refuse every one (mutation tests).
MUTANTS = [
    (
        "drops-first-term",
        _mutant(
            "mutant: drops the first term",
            lambda e: (
                sp.log(sp.Product(e.function.args[0], (e.limits[0][0], e.limits[0][1] + 1, e.limits[0][2])))
                if _sum_log(e)
                else None
            ),
        ),
        sp.Sum(sp.log(sigma[t, i]), (t, 0, T)),
    ),
    (
        "ignores-positivity",
        _mutant(
            "mutant: ignores positivity",
            lambda e: sp.log(sp.Product(e.function.args[0], *e.limits)) if _sum_log(e) else None,
        ),
        sp.Sum(sp.log(real[t]), (t, 0, T)),  # log(r1 r2) != log r1 + log r2 for r1, r2 < 0
    ),
    (
        "log-of-sum",
        _mutant(
            "mutant: log of the sum",
            lambda e: sp.log(sp.Sum(e.function.args[0], *e.limits)) if _sum_log(e) else None,
        ),
        sp.Sum(sp.log(sigma[t, i]), (t, 0, T)),
    ),
    (
        "squares",
        _mutant(
            "mutant: squares the factors",
            lambda e: sp.log(sp.Product(e.function.args[0] ** 2, *e.limits)) if _sum_log(e) else None,
        ),
        sp.Sum(sp.log(sigma[t, i]), (t, 0, T)),
    ),
    (
        "split-loses-a-term",
        _mutant(
            "mutant: split loses the other terms",
            lambda e: (
                sp.Sum(e.function.args[-1], *e.limits)
                if isinstance(e, sp.Sum) and isinstance(e.function, sp.Add)
                else None
            ),
        ),
        sp.Sum(epsilon[i] ** 2 + sp.log(sigma[0, i]), (i, 1, D)),
    ),
]


@pytest.mark.parametrize(("rule", "expr"), [m[1:] for m in MUTANTS], ids=[m[0] for m in MUTANTS])
def test_broken_log_product_rule_is_refused(rule: ProposedRewrite, expr: sp.Expr) -> None:
    assert rule.propose(expr) is not None  # the mutant does fire on this expression
    with pytest.raises(VerificationError, match=re.escape(rule.name)):
        rewrite_log_products(expr, rules=(rule,))


def test_log_product_rules_are_a_tuple_of_small_objects() -> None:
    assert isinstance(LOG_PRODUCT_RULES, tuple) and len(LOG_PRODUCT_RULES) == 2
    assert all(isinstance(r, ProposedRewrite) for r in LOG_PRODUCT_RULES)


# --------------------------------------------------------------------------- LogProd: grouped, guarded
F64, F32 = np.dtype(np.float64), np.dtype(np.float32)


def _exact_sum_log(x: np.ndarray) -> np.ndarray:
    """Σ log x over the last axis at 50 digits (inputs enter exactly)."""
    mpmath.mp.dps = 50
    return np.array([float(mpmath.fsum(mpmath.log(mpmath.mpf(float(v))) for v in row)) for row in x])


def _log_prod_bound(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    r"""Forward-error bound of both paths against the exact Σ log x, per row (module ``_grouped_log``):
    a product of n factors is off by ≤ (n-1)u relative, i.e. ≤ (n-1)u in its log; each log and each
    addition adds ≤ u of its magnitude. Summed: ≤ u (L + 2 L Σ|log x|), doubled for margin."""
    u = float(np.finfo(dtype).eps) / 2
    width = x.shape[-1]
    return 2 * u * (width + 2 * width * np.sum(np.abs(np.log(x.astype(np.float64))), axis=-1))


LOG_PROD_DATA = [
    ("moderate", F64, lambda r: np.exp(0.3 * r.standard_normal((6, 288)))),
    ("wide", F64, lambda r: np.exp(r.uniform(-40, 40, (6, 288)))),
    ("tiny", F64, lambda r: r.uniform(0.5, 1, (6, 40)) * 1e-300),
    ("huge", F64, lambda r: r.uniform(0.5, 1, (6, 40)) * 1e300),
    # a running product through 1e-300 * 1e-20 = 1e-320 (subnormal: 4 digits left) and back up
    (
        "subnormal-on-the-way",
        F64,
        lambda r: np.tile([1e-300, 1e-20, 1e300, 2.0, 3.0, 0.5, 1e10, 1e-10, 7.0], (3, 4)),
    ),
    ("float32-moderate", F32, lambda r: np.exp(0.3 * r.standard_normal((6, 288)))),
    ("float32-extreme", F32, lambda r: 10.0 ** r.uniform(-37, 37, (6, 40))),
]


@pytest.mark.parametrize(("dtype", "make"), [d[1:] for d in LOG_PROD_DATA], ids=[d[0] for d in LOG_PROD_DATA])
def test_log_prod_matches_exact_sum_of_logs(dtype: np.dtype, make: Callable[[Any], np.ndarray]) -> None:
    x = make(np.random.default_rng(5)).astype(dtype)
    got = log_prod(x, -1)
    assert got.dtype == dtype and got.shape == (x.shape[0], 1)
    want = _exact_sum_log(x)
    err = np.abs(got[:, 0].astype(np.float64) - want)
    assert np.all(err <= _log_prod_bound(x, dtype)), (err, _log_prod_bound(x, dtype))
    reference = np.sum(np.log(x), axis=-1, keepdims=True)  # the plain lowering
    assert np.all(np.abs(got - reference)[:, 0] <= 2 * _log_prod_bound(x, dtype))


def test_naive_product_is_wrong_where_log_prod_is_right() -> None:
    """The guard matters: the plain running product passes 1e-320 (subnormal) and comes back to a
    normal, finite number with only ~4 correct digits, which no check of the final product can see."""
    x = np.array([[1e-300, 1e-20, 1e300, 2.0, 3.0, 0.5, 1e10, 1e-10, 7.0]])
    exact = _exact_sum_log(x)
    with np.errstate(under="ignore"):
        product = np.multiply.reduce(x, axis=-1)
    assert np.isfinite(product[0]) and product[0] >= np.finfo(np.float64).smallest_normal
    assert abs(np.log(product[0]) - exact[0]) > 1e-6
    assert abs(log_prod(x, -1)[0, 0] - exact[0]) <= _log_prod_bound(x, F64)[0]


NON_POSITIVE = [
    ("zero", 0.0),
    ("negative", -2.0),
    ("inf", np.inf),
    ("nan", np.nan),
    ("subnormal", 5e-324),
]


@pytest.mark.parametrize("bad", [b[1] for b in NON_POSITIVE], ids=[b[0] for b in NON_POSITIVE])
def test_log_prod_falls_back_to_exactly_the_plain_lowering(bad: float) -> None:
    x = np.exp(0.1 * np.random.default_rng(6).standard_normal((4, 3, 30)))
    x[2, 1, 7] = bad
    with np.errstate(divide="ignore", invalid="ignore"):
        got = log_prod(x, (-2, -1))
        want = np.sum(np.log(x), axis=(-2, -1), keepdims=True)
    np.testing.assert_array_equal(got, want)  # bit for bit, nan and -inf included


@pytest.mark.parametrize(
    "axis", [-1, -2, (-2, -1), (-3, -1)], ids=["last", "middle", "last-two", "outer-and-last"]
)
def test_log_prod_axes_and_keepdims(axis: Any) -> None:
    x = np.exp(0.5 * np.random.default_rng(7).standard_normal((3, 5, 4, 18)))
    got = log_prod(x, axis)
    want = np.sum(np.log(x), axis=axis, keepdims=True)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@given(st.floats(2.0**-1074, 2.0**1023), st.floats(1.0, 2.0**60))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_group_size_keeps_every_partial_product_normal(lo: float, spread: float) -> None:
    """``n = group_size(lo, hi)`` factors from [lo, hi] multiply to within the normal range (exactly)."""
    hi = min(lo * spread, float(np.finfo(np.float64).max))
    for dtype in (F64, F32):
        n = group_size(lo, hi, dtype)
        info = np.finfo(dtype)
        if n >= 1:  # lo**n >= smallest normal and hi**n <= max, compared as 50-digit logs
            mpmath.mp.dps = 50
            assert n * mpmath.log(mpmath.mpf(lo)) >= mpmath.log(mpmath.mpf(float(info.smallest_normal)))
            assert n * mpmath.log(mpmath.mpf(hi)) <= mpmath.log(mpmath.mpf(float(info.max)))


def test_group_size_refuses_non_positive_and_non_finite() -> None:
    assert [
        group_size(lo, hi, F64) for lo, hi in [(0.0, 1.0), (-1.0, 1.0), (1.0, np.inf), (np.nan, 1.0)]
    ] == [0] * 4


# --------------------------------------------------------------------------- lowering of log(prod)
def test_log_of_positive_product_lowers_to_one_log_prod() -> None:
    expr = sp.log(sp.Product(sigma[t, i], (t, 0, T), (i, 1, D)))
    kernel = generate(expr, SIGMA_EPS)
    assert "derive_log_prod(sigma, (-2, -1))" in kernel.source
    np.testing.assert_allclose(kernel(SIG, EPS), np.log(SIG).sum((-2, -1)), rtol=1e-14)


def test_log_of_real_product_is_not_a_sum_of_logs() -> None:
    """log(r1 r2) for negative r: the guarded sum of logs would be nan; the plain lowering is right."""
    kernel = generate(sp.log(sp.Product(real[t], (t, 0, T))), {real: ("r", (t,))})
    assert "derive_log_prod" not in kernel.source
    np.testing.assert_allclose(kernel(np.array([-2.0, -3.0])), np.log(6.0), rtol=1e-15)


def test_log_of_product_over_an_unused_index_counts() -> None:
    kernel = generate(sp.log(sp.Product(sigma[0, i], (i, 1, D), (t, 0, T))), SIGMA_EPS)
    np.testing.assert_allclose(kernel(SIG, EPS), 3 * np.log(SIG[:, 0]).sum(-1), rtol=1e-14)


# --------------------------------------------------------------------------- batch chunking
CHUNKED = [
    ("all-batched", (1, 2), lambda r: (r.normal(size=(50, 4)), r.uniform(0.5, 2, (50, 3, 4)))),
    ("broadcast-leading-1", (1, 2), lambda r: (r.normal(size=(1, 4)), r.uniform(0.5, 2, (50, 3, 4)))),
    ("unbatched-parameters", (1, 2), lambda r: (r.normal(size=(50, 4)), r.uniform(0.5, 2, (3, 4)))),
    ("two-batch-axes", (1, 2), lambda r: (r.normal(size=(20, 1, 4)), r.uniform(0.5, 2, (7, 3, 4)))),
]


@pytest.mark.parametrize(("core", "make"), [c[1:] for c in CHUNKED], ids=[c[0] for c in CHUNKED])
def test_chunked_call_equals_one_call(core: tuple[int, ...], make: Callable[[Any], tuple]) -> None:
    kernel = generate(sp.Sum(epsilon[i] ** 2 + sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)), SIGMA_EPS)
    eps, sig = make(np.random.default_rng(8))
    assert kernel.lowered.core == (2, 1) and kernel.args == ("sigma", "eps")
    whole = kernel.func(sig, eps)
    blocks = chunked_call(kernel.func, kernel.lowered.core, (sig, eps), chunk_bytes=200)
    assert blocks.shape == whole.shape
    np.testing.assert_array_equal(blocks, whole)


def test_chunked_call_keeps_a_result_that_does_not_follow_the_batch() -> None:
    got = chunked_call(lambda a: np.zeros(3), (1,), (np.ones((100, 2)),), chunk_bytes=64)
    np.testing.assert_array_equal(got, np.zeros(3))
