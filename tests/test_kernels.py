"""The public kernels: they are the lambdified proved expressions, and agree with them to 50 digits."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import kernels, results
from derive.codegen import LogSigmoid
from derive.errors import VerificationError
from derive.symbols import D, N, T, bn_eps, epsilon, gamma, log_sigma, n, s, sigma, t
from tests.helpers import REFERENCE_DIGITS, assert_close, exact_value

HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)
DTYPES = [np.float64, np.float32]
# Largest decimal exponent of a scale drawn for each dtype (σ from 10^-L to 10^L).
DECADES = {np.dtype(np.float64): 300, np.dtype(np.float32): 37}


@cache
def _x_base() -> sp.IndexedBase:
    (x,) = [b for b in results.batchnorm_train_logdet().atoms(sp.IndexedBase) if b.label.name == "x"]
    return x


@cache
def _var_base() -> sp.IndexedBase:
    (var,) = [b for b in kernels.batchnorm_logdet.kernel_expr.atoms(sp.IndexedBase) if b.label.name == "var"]
    return var


# --------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    """One kernel variant: how to call it, what it was derived from, its inputs and exact value."""

    id: str
    kernel: kernels.KernelFunction
    derived: Callable[[], sp.Expr]
    core: dict[str, int]  # argument → number of core (non-batch) axes
    variant: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)  # extra keyword arguments of the public call
    out_core: int = 0  # trailing output axes (train mode: the sample axis)

    def __call__(self, **arrays: Any) -> Any:
        return self.kernel(**arrays, **self.call)

    def generated(self) -> Any:
        return self.kernel.generated(**self.variant)


def _train(unbiased: bool, affine: bool) -> Callable[[], sp.Expr]:
    def derived() -> sp.Expr:
        expr = results.batchnorm_train_logdet(unbiased)
        affine_term = results.batchnorm_logdet(affine=True) - results.batchnorm_logdet(affine=False)
        return expr + affine_term if affine else expr

    return derived


CASES = [
    Case("iaf_log_q", kernels.iaf_log_q, results.iaf_log_q, {"eps": 1, "sigma": 2}),
    Case("from_log_sigma", kernels.iaf_log_q_from_log_sigma, results.iaf_log_q, {"eps": 1, "log_sigma": 2}),
    Case("stable", kernels.iaf_stable_log_q, results.iaf_stable_log_q, {"eps": 1, "sigma0": 1, "s": 2}),
    Case(
        "step-generative",
        kernels.iaf_step_logdet,
        lambda: results.iaf_step_logdet("generative"),
        {"sigma": 1},
    ),
    Case(
        "step-normalizing",
        kernels.iaf_step_logdet,
        lambda: results.iaf_step_logdet("normalizing"),
        {"sigma": 1},
        {"direction": "normalizing"},
        {"direction": "normalizing"},
    ),
    Case("bn", kernels.batchnorm_logdet, lambda: results.batchnorm_logdet(False), {"var": 1, "eps": 0}),
    Case(
        "bn-affine",
        kernels.batchnorm_logdet,
        lambda: results.batchnorm_logdet(True),
        {"var": 1, "eps": 0, "gamma": 1},
        {"affine": True},
    ),
    *[
        Case(
            f"train{'-unbiased' if u else ''}{'-affine' if a else ''}",
            kernels.batchnorm_train_logdet,
            _train(u, a),
            {"x": 2, "eps": 0, **({"gamma": 1} if a else {})},
            {"unbiased": u, "affine": a},
            {"unbiased": u},
            out_core=1,
        )
        for u in (False, True)
        for a in (False, True)
    ],
]
IDS = [c.id for c in CASES]


# --------------------------------------------------------------------------- inputs
def _log_uniform(draw: Any, shape: tuple[int, ...], decades: float, signed: bool = False) -> np.ndarray:
    size = int(np.prod(shape))
    u = draw(st.lists(st.floats(-decades, decades), min_size=size, max_size=size))
    out = 10.0 ** np.asarray(u, dtype=np.float64).reshape(shape)
    if signed:
        signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size))
        out = out * np.asarray(signs).reshape(shape)
    return out


def _uniform(draw: Any, shape: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
    size = int(np.prod(shape))
    return np.asarray(draw(st.lists(st.floats(lo, hi), min_size=size, max_size=size))).reshape(shape)


@st.composite
def instances(draw: Any, case: Case) -> tuple[dict[str, np.ndarray], Any]:
    """Inputs for ``case``: D in 1..6, T in 0..4 (N in 2..4), small broadcasting batch shapes, float32/64."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    big = DECADES[dtype]
    d = draw(st.integers(1, 6 if case.out_core == 0 else 3))
    steps = draw(st.integers(0, 4))
    samples = draw(st.integers(2, 4))
    batch = {name: draw(st.sampled_from([(), (2,), (1,), (2, 1)])) for name in case.core}
    core = {
        "eps": (d,),
        "sigma": (steps + 1, d) if case.kernel is not kernels.iaf_step_logdet else (d,),
        "log_sigma": (steps + 1, d),
        "sigma0": (d,),
        "s": (steps, d),
        "var": (d,),
        "gamma": (d,),
        "x": (samples, d),
    }
    arrays = {}
    for name in case.core:
        shape = batch[name] + (core[name] if case.core[name] else ())
        if name == "eps" and case.core["eps"] == 0:  # the batch-norm stability constant
            arrays[name] = _log_uniform(draw, shape, 2 if case.out_core else big)
            if case.out_core:
                arrays[name] = np.clip(arrays[name] * 1e-2, 1e-2, 1.0)
        elif name == "eps":
            arrays[name] = _log_uniform(draw, shape, 7, signed=True) * 1e-5  # 1e-12 .. 1e2
        elif name in ("sigma", "sigma0", "var"):
            arrays[name] = _log_uniform(draw, shape, big)
        elif name == "gamma":
            arrays[name] = _log_uniform(draw, shape, big // 10, signed=True)
        elif name in ("log_sigma", "s"):
            arrays[name] = _uniform(draw, shape, -800.0, 800.0)
        else:  # x
            arrays[name] = _uniform(draw, shape, -10.0, 10.0)
    return {k: v.astype(dtype) for k, v in arrays.items()}, dtype


# --------------------------------------------------------------------------- exact reference
@cache
def _expanded_part(part: str, unbiased: bool, samples: int, d: int) -> sp.Expr:
    """One term of a train-mode expression (``train`` or ``affine``) at N = samples, D = d, sums expanded."""
    if part == "train":
        expr = results.batchnorm_train_logdet(unbiased)
    else:
        expr = results.batchnorm_logdet(affine=True) - results.batchnorm_logdet(affine=False)
    return _expand_sums(expr.subs({N: samples, D: d})).doit()


def _expand_sums(expr: sp.Expr) -> sp.Expr:
    """Sums with integer bounds written out term by term, innermost first (``Sum.doit`` tries
    symbolic summation first, which is ~50x slower here)."""

    def terms(e: sp.Sum) -> sp.Expr:
        f = e.function
        for v, lo, hi in e.limits:
            f = sp.Add(*(f.xreplace({v: k}) for k in range(int(lo), int(hi) + 1)))
        return f

    def concrete(e: sp.Basic) -> bool:
        return isinstance(e, sp.Sum) and all(lim[1].is_Integer and lim[2].is_Integer for lim in e.limits)

    return expr.replace(concrete, terms)


@cache
def _train_reference(
    unbiased: bool, affine: bool, samples: int, d: int
) -> tuple[tuple[sp.Indexed, ...], Callable[..., Any]]:
    """The train-mode expression at N, D, expanded once per size (not once per sample and example:
    the expansion was most of these tests' time) and lambdified for mpmath over its atoms and ε.

    ``x[n, i]`` stays an atom of its own; the sample ``n = k`` is chosen by passing ``x[k, i]``'s value
    for it, which is the substitution ``n = k`` because ``n`` occurs nowhere else (asserted).
    """
    parts = ["train", "affine"] if affine else ["train"]
    expr = sp.Add(*(_expanded_part(p, unbiased, samples, d) for p in parts))
    atoms = tuple(sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key))
    holders = sp.symbols(f"a0:{len(atoms)}")
    body = expr.xreplace(dict(zip(atoms, holders, strict=True)))
    assert body.free_symbols <= {*holders, bn_eps}, body.free_symbols
    return atoms, sp.lambdify([*holders, bn_eps], body, modules="mpmath")


def _train_exact(case: Case, a: dict[str, np.ndarray], k: int) -> float:
    """Sample ``k``'s exact value: inputs enter exactly, evaluated with 20 guard digits beyond
    ``REFERENCE_DIGITS`` (a fixed working precision, where ``evalf`` would adapt to cancellation)."""
    samples, d = a["x"].shape
    atoms, fn = _train_reference(case.variant["unbiased"], case.variant["affine"], samples, d)
    values = []
    for atom in atoms:
        array, rows = (
            (a["x"], [k if ix == n else int(ix) for ix in atom.indices])
            if atom.base == _x_base()
            else (
                a["gamma"],
                [int(ix) for ix in atom.indices],
            )
        )
        values.append(mpmath.mpf(float(array[tuple(r - 1 for r in rows)])))
    with mpmath.workdps(REFERENCE_DIGITS + 20):
        return float(fn(*values, mpmath.mpf(float(a["eps"]))))


def _single(case: Case, a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Exact value(s) and tolerance scale of one unbatched instance (50 digits, inputs taken exactly)."""
    f64 = {k: np.asarray(v, dtype=np.float64) for k, v in a.items()}
    value: Any
    if case.id in ("iaf_log_q", "from_log_sigma"):
        d, steps = f64["eps"].shape[-1], f64[next(iter(set(a) - {"eps"}))].shape[0] - 1
        if case.id == "iaf_log_q":
            expr, arrays = case.derived(), {epsilon: (a["eps"], (1,)), sigma: (a["sigma"], (0, 1))}
            logs = np.log(f64["sigma"])
        else:  # the checked substitution's output: log σ enters as a number, σ = e^-800 never formed
            expr, arrays = (
                case.kernel.kernel_expr,
                {epsilon: (a["eps"], (1,)), log_sigma: (a["log_sigma"], (0, 1))},
            )
            logs = f64["log_sigma"]
        value = exact_value(expr, {D: d, T: steps}, arrays)
        scale = d * HALF_LOG_2PI + np.sum(f64["eps"] ** 2) / 2 + np.sum(np.abs(logs))
    elif case.id == "stable":
        d, steps = f64["eps"].shape[-1], f64["s"].shape[0]
        arrays = {epsilon: (a["eps"], (1,)), sigma: (a["sigma0"][None, :], (0, 1)), s: (a["s"], (1, 1))}
        value = exact_value(case.derived(), {D: d, T: steps}, arrays)
        logs = np.sum(np.abs(np.log(f64["sigma0"]))) + np.sum(np.abs(f64["s"]) + 1)
        scale = d * HALF_LOG_2PI + np.sum(f64["eps"] ** 2) / 2 + logs
    elif case.id.startswith("step"):
        d = f64["sigma"].shape[-1]
        value = exact_value(case.derived(), {D: d, t: 1}, {sigma: (a["sigma"][None, :], (1, 1))})
        scale = np.sum(np.abs(np.log(f64["sigma"])))
    elif case.id.startswith("bn"):
        d = f64["var"].shape[-1]
        arrays = {_var_base(): (a["var"], (1,)), **({gamma: (a["gamma"], (1,))} if "gamma" in a else {})}
        expr = case.kernel.generated(**case.variant).expr  # σ̃² → var, checked
        value = exact_value(expr, {D: d}, arrays, {bn_eps: float(a["eps"])})
        # log(v + ε) of a rounded sum: an absolute error of ~1 ulp even where the log is ~0.
        scale = np.sum(np.abs(np.log(f64["var"] + f64["eps"])) + 1) / 2
        scale += np.sum(np.abs(np.log(np.abs(f64["gamma"])))) if "gamma" in a else 0.0
    else:  # train mode: one value per sample n
        xs, e = f64["x"], f64["eps"]
        samples, d = xs.shape
        value = np.array([_train_exact(case, a, k + 1) for k in range(samples)])
        # Forward-error scale: |terms| plus the conditioning of log|1 - (1 + c y²)/N| (cancellation).
        c = samples / (samples - 1) if case.variant["unbiased"] else 1.0
        var = xs.var(axis=0, ddof=1 if case.variant["unbiased"] else 0)
        y2 = (xs - xs.mean(axis=0)) ** 2 / (var + e)
        arg = np.abs(1 - (1 + c * y2) / samples)
        m2 = np.max(xs**2, axis=0) / (var + e)
        cond = (1 + c * y2) * (1 + m2) / (samples * arg)
        scale = np.sum(np.abs(np.log(var + e)) / 2 + np.abs(np.log(arg)) + 10 * cond + m2, axis=-1)
        scale = scale + (np.sum(np.abs(np.log(np.abs(f64["gamma"])))) if "gamma" in a else 0.0)
    return np.asarray(value), np.asarray(scale)


def _exact(
    case: Case, arrays: dict[str, np.ndarray], batch: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    values, scales = [], []
    for index in np.ndindex(*batch):
        single = {
            k: np.broadcast_to(v, batch + v.shape[v.ndim - case.core[k] :])[index] for k, v in arrays.items()
        }
        value, scale = _single(case, single)
        values.append(value)
        scales.append(scale)
    shape = batch + np.shape(values[0])
    return np.reshape(values, shape), np.reshape(scales, shape)


def _batch(case: Case, arrays: dict[str, np.ndarray]) -> tuple[int, ...]:
    return np.broadcast_shapes(*(v.shape[: v.ndim - case.core[k]] for k, v in arrays.items()))


def _fixed(case: Case) -> dict[str, np.ndarray]:
    """Moderate float64 inputs (batch 3, D = 4, T = 2, N = 3), seeded."""
    rng = np.random.default_rng(0)
    shapes = {
        "eps": (3, 4),
        "sigma": (3, 4) if case.kernel is kernels.iaf_step_logdet else (3, 3, 4),
        "log_sigma": (3, 3, 4),
        "sigma0": (3, 4),
        "s": (3, 2, 4),
        "var": (3, 4),
        "gamma": (3, 4),
        "x": (3, 3, 4),
    }
    arrays = {}
    for k in case.core:
        if k == "eps" and case.core[k] == 0:
            arrays[k] = np.full(3, 0.1)
        elif k in ("sigma", "sigma0", "var"):
            arrays[k] = rng.uniform(0.5, 2.0, shapes[k])
        else:
            arrays[k] = rng.normal(size=shapes[k])
    return arrays


# --------------------------------------------------------------------------- provenance
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_expr_is_the_proved_result(case: Case) -> None:
    assert case.kernel.derived(**case.variant) == case.derived()


def test_iaf_log_q_expr_is_results_iaf_log_q() -> None:
    assert kernels.iaf_log_q.expr == results.iaf_log_q()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_source_is_lambdify_output(case: Case) -> None:
    gen = case.generated()
    assert "_lambdifygenerated" in gen.source
    assert inspect.getsource(gen.func) == gen.source


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_generator_on_expr_plus_one_differs_by_one(case: Case) -> None:
    arrays = _fixed(case)
    shifted = case.kernel.generate(case.derived() + 1, **case.variant)
    args = [arrays[k] for k in shifted.args]
    diff = np.asarray(shifted(*args)) - np.asarray(case.generated()(*args))
    np.testing.assert_allclose(diff, 1.0, rtol=0, atol=1e-12)


def test_stable_kernel_lowers_the_checked_log_sigmoid_rewrite() -> None:
    lowered = kernels.iaf_stable_log_q.kernel_expr
    assert lowered.has(LogSigmoid)
    assert lowered.rewrite(sp.log) == results.iaf_stable_log_q()
    assert "logaddexp" in kernels.iaf_stable_log_q.source


def test_from_log_sigma_substitution_removes_every_sigma() -> None:
    lowered = kernels.iaf_log_q_from_log_sigma.kernel_expr
    assert not [a for a in lowered.atoms(sp.Indexed) if a.base == sigma]
    with pytest.raises(VerificationError, match="left sigma"):
        kernels.iaf_log_q_from_log_sigma.generate(results.iaf_log_q() + sigma[0, 1])


def test_batchnorm_substitution_removes_every_bn_std() -> None:
    from derive.symbols import bn_std

    assert not kernels.batchnorm_logdet.kernel_expr.has(bn_std)
    with pytest.raises(VerificationError, match="left"):
        kernels.batchnorm_logdet.generate(results.batchnorm_logdet() + sp.log(bn_std[1]))


def test_import_is_lazy_and_fast() -> None:
    code = (
        "import sys; import derive.kernels as k; "
        "assert 'derive.codegen' not in sys.modules and 'derive.results' not in sys.modules; "
        "assert k._generated.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_exact_value_of_the_expression(case: Case) -> None:
    # train mode: 15 examples, and 5 for the affine variants, whose extra term is a plain
    # sum log|gamma| (checked against the non-affine kernel in test_affine_adds_sum_log_abs_gamma)
    examples = (5 if case.variant.get("affine") else 15) if case.out_core else 30

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None)
    @given(instances(case))
    def check(instance: tuple[dict[str, np.ndarray], np.dtype]) -> None:
        arrays, dtype = instance
        got = case(**arrays)
        want, scale = _exact(case, arrays, _batch(case, arrays))
        assert np.result_type(got) == dtype
        assert_close(got, want, dtype=dtype, scale=scale)

    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_from_log_sigma_is_finite_where_sigma_underflows(dtype: Any) -> None:
    eps, log_sig = np.zeros(2, dtype), np.full((3, 2), -800.0, dtype)
    got = kernels.iaf_log_q_from_log_sigma(eps, log_sig)
    assert np.isfinite(got) and got.dtype == dtype
    assert_close(got, 4800 - 2 * HALF_LOG_2PI, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_stable_is_finite_at_large_pre_sigmoid_outputs(dtype: Any) -> None:
    s_values = np.array([[800.0, -800.0], [-800.0, 800.0]], dtype)  # log σ = 0 or -800
    got = kernels.iaf_stable_log_q(np.zeros(2, dtype), np.ones(2, dtype), s_values)
    assert np.isfinite(got) and got.dtype == dtype
    assert_close(got, 1600 - 2 * HALF_LOG_2PI, dtype=dtype)


EXTREMES = [
    pytest.param(np.float64, 1e-300, 1e-12, id="float64-tiny-sigma"),
    pytest.param(np.float64, 1e300, 1e-12, id="float64-huge-sigma"),
    pytest.param(np.float32, 1e-37, 1e-12, id="float32-tiny-sigma"),
    pytest.param(np.float32, 1e37, 1e-12, id="float32-huge-sigma"),
]


@pytest.mark.parametrize(("dtype", "scale", "noise"), EXTREMES)
def test_extreme_scales_match_exact_value(dtype: Any, scale: float, noise: float) -> None:
    sig = np.array([[scale, 1.0], [0.5, scale]], dtype)
    eps = np.array([noise, -noise], dtype)
    case = CASES[0]
    want, tol_scale = _single(case, {"eps": eps, "sigma": sig})
    got = kernels.iaf_log_q(eps, sig)
    assert got.dtype == dtype
    assert_close(got, want, dtype=dtype, scale=tol_scale)


# --------------------------------------------------------------------------- dtype and broadcasting
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_in_float32_out(case: Case) -> None:
    arrays = _fixed(case)
    got = case(**{k: v.astype(np.float32) for k, v in arrays.items()})
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, case(**arrays), rtol=1e-5)


def test_python_scalar_eps_keeps_float32() -> None:
    var = np.full((2, 3), 2.0, np.float32)
    assert kernels.batchnorm_logdet(var, 1e-5).dtype == np.float32
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert kernels.batchnorm_train_logdet(x, 1e-5).dtype == np.float32


def test_integers_and_lists_give_float64() -> None:
    assert kernels.iaf_log_q([0, 1], [[1, 2], [3, 4]]).dtype == np.float64
    assert isinstance(kernels.iaf_step_logdet([1.0, 2.0]), np.float64)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batch_dims_broadcast_like_a_ufunc(case: Case) -> None:
    arrays = _fixed(case)  # batch 3 on every argument
    first = next(iter(arrays))
    spread = {k: (v[:2, None] if k == first else v) for k, v in arrays.items()}  # (2, 1) vs (3,)
    got = case(**spread)
    batch = _batch(case, spread)
    assert got.shape[: got.ndim - case.out_core] == batch == ((2, 3) if len(arrays) > 1 else (2, 1))
    for a in range(batch[0]):
        for b in range(batch[1]):
            single = {k: (v[a, 0] if k == first else v[b]) for k, v in spread.items()}
            np.testing.assert_allclose(got[a, b], case(**single), rtol=1e-13)


def test_unbatched_parameters_broadcast_against_batched_noise() -> None:
    rng = np.random.default_rng(1)
    eps, sig = rng.normal(size=(5, 3)), rng.uniform(0.5, 2, (4, 3))
    got = kernels.iaf_log_q(eps, sig)
    assert got.shape == (5,)
    np.testing.assert_allclose(got, [kernels.iaf_log_q(e, sig) for e in eps], rtol=1e-13)


# --------------------------------------------------------------------------- errors
BAD = [
    (
        "iaf-D",
        lambda: kernels.iaf_log_q(np.zeros((4, 3)), np.zeros((2, 5))),
        r"eps has shape \(4, 3\) but sigma has shape \(2, 5\)",
    ),
    (
        "iaf-batch",
        lambda: kernels.iaf_log_q(np.zeros((4, 3)), np.ones((5, 2, 3))),
        "batch shapes must broadcast",
    ),
    ("iaf-rank", lambda: kernels.iaf_log_q(np.zeros(3), np.ones(3)), r"sigma \(\.\.\., T\+1, D\)"),
    (
        "log-sigma-D",
        lambda: kernels.iaf_log_q_from_log_sigma(np.zeros(2), np.zeros((2, 3))),
        "log_sigma has shape",
    ),
    (
        "stable-D",
        lambda: kernels.iaf_stable_log_q(np.zeros(2), np.ones(2), np.zeros((3, 4))),
        r"s has shape \(3, 4\)",
    ),
    (
        "stable-rank",
        lambda: kernels.iaf_stable_log_q(np.zeros(2), np.ones(2), np.zeros(2)),
        r"s \(\.\.\., T, D\)",
    ),
    ("step-rank", lambda: kernels.iaf_step_logdet(np.float64(2.0)), r"sigma has shape \(\)"),
    (
        "step-direction",
        lambda: kernels.iaf_step_logdet(np.ones(2), direction="backward"),
        "direction must be",
    ),
    (
        "bn-gamma",
        lambda: kernels.batchnorm_logdet(np.ones(3), 1e-5, gamma=np.ones(2)),
        r"gamma has shape \(2,\)",
    ),
    ("bn-eps", lambda: kernels.batchnorm_logdet(np.ones((4, 3)), np.ones(3)), "batch shapes must broadcast"),
    ("train-N", lambda: kernels.batchnorm_train_logdet(np.ones((1, 3)), 1e-5), "N >= 2"),
    ("train-rank", lambda: kernels.batchnorm_train_logdet(np.ones(3), 1e-5), r"x has shape \(3,\)"),
    ("complex", lambda: kernels.iaf_step_logdet(np.ones(2, complex)), "real floating point"),
]


@pytest.mark.parametrize(("call", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inputs_raise_value_error_naming_the_shapes(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_unknown_variant_option_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        kernels.iaf_log_q.generated(affine=True)


# --------------------------------------------------------------------------- relations between kernels
def test_inverse_step_is_negative_forward() -> None:
    sig = np.random.default_rng(2).uniform(0.1, 3, (4, 5))
    fwd = kernels.iaf_step_logdet(sig)
    np.testing.assert_allclose(kernels.iaf_step_logdet(sig, direction="normalizing"), -fwd, rtol=0, atol=0)
    np.testing.assert_allclose(fwd, np.log(sig).sum(-1), rtol=1e-13)


def test_affine_adds_sum_log_abs_gamma() -> None:
    rng = np.random.default_rng(3)
    var, g, x = rng.uniform(0.1, 2, (4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 5, 3))
    extra = np.log(np.abs(g)).sum(-1)
    np.testing.assert_allclose(
        kernels.batchnorm_logdet(var, 0.1, gamma=g), kernels.batchnorm_logdet(var, 0.1) + extra, rtol=1e-13
    )
    np.testing.assert_allclose(
        kernels.batchnorm_train_logdet(x, 0.1, gamma=g),
        kernels.batchnorm_train_logdet(x, 0.1) + extra[:, None],
        rtol=1e-12,
    )


# --------------------------------------------------------------------------- fast path vs reference path
U64 = float(np.finfo(np.float64).eps) / 2


def _paths_bound(eps: np.ndarray, sig: np.ndarray) -> np.ndarray:
    r"""Worst-case |fast - reference| for ``iaf_log_q``, per batch row (float64).

    Both paths are compared with the exact value (``derive.codegen._grouped_log``): the reference
    sums L = (T+1)D rounded logs, error <= u |log σ| each plus <= L u Σ|log σ| for a running sum; the
    fast path's grouped products are off by <= L u in their logs altogether. The common terms
    (D log(2π)/2, Σ ε²/2) are computed alike; their additions cost <= 4 u of the total magnitude.
    """
    logs = np.abs(np.log(sig)).reshape(*sig.shape[:-2], -1)
    width = logs.shape[-1]
    magnitude = np.sum(logs, axis=-1) + np.sum(eps**2, axis=-1) / 2 + eps.shape[-1] * HALF_LOG_2PI
    return U64 * (width + 2 * (width + 1) * np.sum(logs, axis=-1) + 4 * magnitude)


def test_iaf_log_q_lowers_the_checked_log_product_rewrite() -> None:
    from derive.codegen import LogProd
    from derive.codegen._log_product import equivalent

    assert kernels.iaf_log_q.expr == results.iaf_log_q()  # the proved expression, untouched
    rewritten = kernels.iaf_log_q.kernel_expr
    assert rewritten.has(sp.Product) and equivalent(rewritten, results.iaf_log_q())
    assert sp.simplify(sp.expand_log(rewritten) - sp.expand_log(results.iaf_log_q())) == 0
    assert kernels.iaf_log_q.generated().lowered.expr.has(LogProd)
    assert "derive_log_prod(sigma, (-2, -1))" in kernels.iaf_log_q.source
    reference = kernels.iaf_log_q.reference()
    assert "log(sigma)" in reference.source and "derive_log_prod" not in reference.source
    assert reference.chunk_bytes is None


@st.composite
def iaf_batches(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """A batch of 1..40 rows, D in 1..12, T in 0..9, σ = 10^u with u uniform in ±decades for a drawn
    decades in {0.5, 5, 30, 300}: moderate data (the grouped path) to 1e±300 (the fallback)."""
    b, d, steps = draw(st.integers(1, 40)), draw(st.integers(1, 12)), draw(st.integers(0, 9))
    decades = draw(st.sampled_from([0.5, 5.0, 30.0, 300.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sig = 10.0 ** rng.uniform(-decades, decades, (b, steps + 1, d))
    if draw(st.booleans()):  # a few extreme rows among moderate ones
        rows = rng.integers(0, b, 2)
        sig[rows] = 10.0 ** rng.uniform(-300, 300, sig[rows].shape)
    return rng.standard_normal((b, d)), sig


@given(iaf_batches(), st.sampled_from([64, 1024, None]))
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
def test_iaf_log_q_fast_path_matches_reference_path(batch: tuple[np.ndarray, np.ndarray], chunk: Any) -> None:
    eps, sig = batch
    fast = dataclasses.replace(kernels.iaf_log_q.generated(), chunk_bytes=chunk)  # small blocks: many
    reference = kernels.iaf_log_q.reference()
    got, want = fast(eps, sig), reference(eps, sig)
    assert got.shape == want.shape == eps.shape[:-1]
    assert np.all(np.abs(got - want) <= _paths_bound(eps, sig))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_iaf_log_q_grouped_path_matches_exact_value(dtype: Any) -> None:
    """Sizes where the grouped products are really taken (D T large, σ moderate), against 50 digits."""
    rng = np.random.default_rng(11)
    eps, sig = (
        rng.standard_normal((3, 12)).astype(dtype),
        np.exp(rng.uniform(-3, 3, (3, 9, 12))).astype(dtype),
    )
    got = kernels.iaf_log_q(eps, sig)
    assert got.dtype == dtype
    for row in range(3):
        want, scale = _single(CASES[0], {"eps": eps[row], "sigma": sig[row]})
        assert_close(got[row], want, dtype=dtype, scale=scale)


def test_iaf_log_q_large_batch_is_chunked_and_matches_reference() -> None:
    rng = np.random.default_rng(12)
    eps, sig = rng.standard_normal((3000, 32)), np.exp(0.3 * rng.standard_normal((3000, 9, 32)))
    sig[17, 3, 5], sig[2900, 0, 0] = 1e-300, 1e300  # two blocks take the fallback
    kernel = kernels.iaf_log_q.generated()
    assert 3000 * sig[0].nbytes > kernel.chunk_bytes  # more than one block
    got, want = kernels.iaf_log_q(eps, sig), kernels.iaf_log_q.reference()(eps, sig)
    assert np.all(np.abs(got - want) <= _paths_bound(eps, sig))


@pytest.mark.parametrize("direction", ["generative", "normalizing"], ids=["generative", "normalizing"])
def test_step_logdet_fast_path_matches_reference_path(direction: str) -> None:
    rng = np.random.default_rng(13)
    sig = np.exp(rng.uniform(-5, 5, (5000, 32)))
    sig[4000, 3] = 1e-300  # its block takes the fallback
    got = kernels.iaf_step_logdet(sig, direction=direction)
    want = kernels.iaf_step_logdet.reference(direction=direction)(sig)
    assert "derive_log_prod" in kernels.iaf_step_logdet.generated(direction=direction).source
    bound = U64 * (32 + 2 * 33 * np.sum(np.abs(np.log(sig)), axis=-1))  # as in _paths_bound, no ε terms
    assert np.all(np.abs(got - want) <= bound)
