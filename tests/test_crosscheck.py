"""Three-way cross-check, under hypothesis: proved expression (50-digit mpmath) = NumPy kernel = torch autograd.

For every layer family the same concrete numbers go through three independent routes: the symbolic
result of :mod:`derive.results` evaluated exactly (:func:`tests.helpers.exact_value`), the generated
kernel of :mod:`derive.kernels`, and the brute-force log-determinant of the torch reference model
(``torch.func.jacrev`` of the whole map + ``torch.linalg.slogdet``, float64).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from derive import kernels, results  # noqa: E402
from derive.symbols import D, N, T, bn_eps, epsilon, gamma, n, s, sigma  # noqa: E402
from derive.torch import IAF, BatchNormFlow, GaussianEncoder, IAFStep  # noqa: E402
from tests.helpers import REFERENCE_DIGITS, assert_close, exact_value  # noqa: E402

F64 = torch.float64
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
X_FEATURES, CONTEXT = 3, 2

#: Autograd against the exact value, relative to the scale of the terms. jacrev builds the Jacobian
#: of the whole map by the chain rule through T MADE networks (each entry a sum of products, a few
#: ulps each), and slogdet's partially pivoted LU may pivot on an off-diagonal entry larger than
#: the diagonal, so its error grows with the Jacobian's conditioning rather than staying at the
#: kernel's ~1e-12 (:data:`tests.helpers.RTOL`); 1e-9 is still ~10^7 ulps below any formula error.
AUTOGRAD_RTOL = 1e-9

EXAMPLES = settings(max_examples=15, deadline=None)
#: Train mode costs a 50-digit reference per sample of every example. Its kernel is also held
#: against autograd per sample in tests/test_torch_batchnorm.py and against the exact expression
#: in tests/test_kernels.py, so a smaller budget here loses no property.
TRAIN_EXAMPLES = settings(max_examples=8, deadline=None)


def _assert_autograd_close(got: Any, want: Any, scale: Any) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    bound = AUTOGRAD_RTOL * np.maximum(np.abs(want), scale)
    assert np.all(np.abs(got - want) <= bound), f"autograd {got}, exact {want}, allowed {bound}"


def _base(expr: sp.Expr, name: str) -> sp.IndexedBase:
    (base,) = [b for b in expr.atoms(sp.IndexedBase) if b.label.name == name]
    return base


def _log_uniform(draw: Any, size: int, lo: float, hi: float, signed: bool = False) -> np.ndarray:
    """``size`` values 10^u, u uniform in [lo, hi] (random signs if ``signed``)."""
    out = 10.0 ** np.asarray(draw(st.lists(st.floats(lo, hi), min_size=size, max_size=size)))
    if signed:
        out *= np.asarray(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size)))
    return out


# --------------------------------------------------------------------------- IAF
def _iaf_scale(eps: np.ndarray, log_sigma: np.ndarray) -> float:
    return eps.size * HALF_LOG_2PI + float(np.sum(eps**2)) / 2 + float(np.sum(np.abs(log_sigma)))


@pytest.mark.parametrize("stable", [False, True], ids=["plain", "stable"])
@EXAMPLES
@given(
    d=st.integers(1, 4),
    steps=st.integers(0, 3),
    seed=st.integers(0, 2**16),
    offset=st.floats(-6.0, 6.0),
    batch=st.integers(1, 3),
)
def test_iaf_exact_kernel_autograd_agree(
    stable: bool, d: int, steps: int, seed: int, offset: float, batch: int
) -> None:
    torch.manual_seed(seed)
    flow = IAF(d, X_FEATURES, context=CONTEXT, steps=steps, hidden=(8, 8), stable=stable).to(F64)
    encoder = flow.encoder
    assert isinstance(encoder, GaussianEncoder)
    last = encoder.net[-1]
    assert isinstance(last, torch.nn.Linear)
    with torch.no_grad():  # shift log σ_0 of the encoder: σ_0 from ~e^-7 to ~e^7
        last.bias[d : 2 * d] += offset
    flow.requires_grad_(False)
    eps = torch.randn(batch, d, dtype=F64)
    x = torch.randn(batch, X_FEATURES, dtype=F64)
    out = flow(eps, x)

    # (a) autograd: log N(ε) - log|det ∂z_T/∂ε| of the whole map, per sample
    jac = torch.func.vmap(torch.func.jacrev(lambda e, xi: flow(e, xi).z))(eps, x)
    sign, logabsdet = torch.linalg.slogdet(jac)
    # An untrained MADE fed z_0 ~ σ_0 ε with σ_0 ~ e^6 can output log σ_t ~ -1900: σ_t (and the
    # Jacobian's entries) underflow in float64 and no float64 brute force exists to compare with.
    # Only such examples are skipped; the log σ kernel's behaviour there is covered in test_kernels.
    assume(bool(torch.isfinite(jac).all()) and bool((sign != 0).all()))
    brute = (-0.5 * (eps**2).sum(-1) - d * HALF_LOG_2PI - logabsdet).numpy()

    # (b) kernels on the σ's (and, stable, the pre-sigmoid s) the module produced
    e_np, sig, log_sig = eps.numpy(), out.sigma.numpy(), out.log_sigma.numpy()
    from_sigma = kernels.iaf_log_q(e_np, sig)
    from_log_sigma = kernels.iaf_log_q_from_log_sigma(e_np, log_sig)
    if stable:
        mu0, log_sigma0, h = encoder(x)
        z, s_rows = mu0 + torch.exp(log_sigma0) * eps, []
        for step in flow.steps:
            assert isinstance(step, IAFStep)
            s_rows.append(step.made(z, h)[..., 1, :])
            z = step(z, h).z
        s_np = torch.stack(s_rows, dim=-2).numpy() if steps else np.zeros((batch, 0, d))
        sigma0 = torch.exp(log_sigma0).numpy()
        from_s = kernels.iaf_stable_log_q(e_np, sigma0, s_np)

    for b in range(batch):
        sizes = {D: d, T: steps}
        # (c) the proved expression at 50 digits on the same numbers
        want = exact_value(results.iaf_log_q(), sizes, {epsilon: (e_np[b], (1,)), sigma: (sig[b], (0, 1))})
        scale = _iaf_scale(e_np[b], log_sig[b])
        assert_close(from_sigma[b], want, dtype=np.float64, scale=scale)
        assert_close(from_log_sigma[b], want, dtype=np.float64, scale=scale)
        _assert_autograd_close(brute[b], want, scale)
        if stable:
            arrays = {epsilon: (e_np[b], (1,)), sigma: (sigma0[b][None, :], (0, 1)), s: (s_np[b], (1, 1))}
            want_s = exact_value(results.iaf_stable_log_q(), sizes, arrays)
            scale_s = _iaf_scale(e_np[b], np.log(sigma0[b])) + float(np.sum(np.abs(s_np[b]) + 1))
            assert_close(from_s[b], want_s, dtype=np.float64, scale=scale_s)
            _assert_autograd_close(brute[b], want_s, scale_s)
            # the module's sigmoid(s) and the exact sigmoid(s) agree to rounding
            assert_close(want, want_s, dtype=np.float64, scale=scale_s)


# --------------------------------------------------------------------------- batch norm, eval mode
@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@EXAMPLES
@given(data=st.data(), d=st.integers(1, 4), log_eps=st.floats(-12.0, -2.0), batch=st.integers(1, 3))
def test_batchnorm_eval_exact_kernel_autograd_agree(
    affine: bool, data: st.DataObject, d: int, log_eps: float, batch: int
) -> None:
    var = _log_uniform(data.draw, d, -6.0, 6.0)
    g = _log_uniform(data.draw, d, -3.0, 3.0, signed=True) if affine else None
    bn_e = 10.0**log_eps
    layer = BatchNormFlow(d, eps=bn_e, affine=affine, track_running_stats=False).to(F64)
    gen = torch.Generator().manual_seed(d * 10 + batch)
    with torch.no_grad():
        layer.running_mean.copy_(torch.randn(d, generator=gen, dtype=F64))
        layer.running_var.copy_(torch.from_numpy(var))
        if g is not None:
            assert layer.weight is not None
            layer.weight.copy_(torch.from_numpy(g))
    layer = layer.requires_grad_(False).eval()
    X = torch.randn(batch, d, generator=gen, dtype=F64) * torch.from_numpy(np.sqrt(var))

    _, logdet = layer(X)
    sign, logabsdet = torch.linalg.slogdet(torch.func.vmap(torch.func.jacrev(lambda v: layer(v)[0]))(X))
    assert torch.all(sign != 0)
    kernel = kernels.batchnorm_logdet(var, bn_e, gamma=g)

    expr = kernels.batchnorm_logdet.generated(affine=affine).expr  # σ̃² → var, a checked substitution
    arrays = {_base(expr, "var"): (var, (1,)), **({gamma: (g, (1,))} if g is not None else {})}
    want = exact_value(expr, {D: d}, arrays, {bn_eps: bn_e})
    # log(v + ε) of a rounded sum: ~1 ulp absolute even where the log is ~0
    scale = float(np.sum(np.abs(np.log(var + bn_e)) + 1)) / 2
    scale += float(np.sum(np.abs(np.log(np.abs(g))))) if g is not None else 0.0
    assert_close(kernel, want, dtype=np.float64, scale=scale)
    _assert_autograd_close(logabsdet.numpy(), np.full(batch, want), scale)
    _assert_autograd_close(logdet.numpy(), np.full(batch, want), scale)


# --------------------------------------------------------------------------- batch norm, train mode
@cache
def _train_expr(unbiased: bool, samples: int, d: int) -> sp.Expr:
    """The proved train-mode expression at N = ``samples``, D = ``d``, sums expanded (n left free).

    Expanding once per size instead of once per sample keeps the 50-digit reference affordable.
    """
    expr = results.batchnorm_train_logdet(unbiased).subs({N: samples, D: d}).doit()
    assert not expr.has(sp.Sum)
    return expr


def _train_exact(expr: sp.Expr, xs: np.ndarray, k: int, bn_e: float) -> float:
    """:func:`tests.helpers.exact_value` of the train-mode expression at sample n = k + 1.

    Every atom is replaced by its value at once (``x[n, i]`` by row ``k``), so the symbolic
    expression is never rebuilt per sample: rebuilding it with n fixed (SymPy re-deciding the signs
    inside every ``Abs``) cost more than evaluating it, at the same 50 digits.
    """
    repl: dict[sp.Basic, sp.Basic] = {bn_eps: sp.Float(float(bn_e), REFERENCE_DIGITS)}
    for atom in expr.atoms(sp.Indexed):
        row, col = atom.indices
        repl[atom] = sp.Float(float(xs[k if row == n else int(row) - 1, int(col) - 1]), REFERENCE_DIGITS)
    value = expr.xreplace(repl).evalf(REFERENCE_DIGITS)
    assert value.is_number and not value.free_symbols, value
    return float(value)


def _train_scale(xs: np.ndarray, bn_e: float, unbiased: bool) -> np.ndarray:
    """Forward-error scale per sample: |terms| plus the conditioning of log|1 - (1 + c ŷ²)/N|."""
    samples = xs.shape[0]
    c = samples / (samples - 1) if unbiased else 1.0
    var = xs.var(axis=0, ddof=1 if unbiased else 0)
    y2 = (xs - xs.mean(axis=0)) ** 2 / (var + bn_e)
    arg = np.abs(1 - (1 + c * y2) / samples)
    m2 = np.max(xs**2, axis=0) / (var + bn_e)
    cond = (1 + c * y2) * (1 + m2) / (samples * arg)
    return np.sum(np.abs(np.log(var + bn_e)) / 2 + np.abs(np.log(arg)) + 10 * cond + m2, axis=-1)


@pytest.mark.parametrize("unbiased", [False, True], ids=["biased", "unbiased"])
@TRAIN_EXAMPLES
@given(
    data=st.data(),
    samples=st.integers(2, 4),
    d=st.integers(1, 3),
    log_scale=st.floats(-3.0, 3.0),
    log_eps=st.floats(-3.0, -1.0),
)
def test_batchnorm_train_exact_kernel_autograd_agree(
    unbiased: bool, data: st.DataObject, samples: int, d: int, log_scale: float, log_eps: float
) -> None:
    size = samples * d
    xs = np.asarray(data.draw(st.lists(st.floats(-3.0, 3.0), min_size=size, max_size=size)))
    xs = xs.reshape(samples, d) * 10.0**log_scale
    bn_e = 10.0**log_eps * 10.0 ** (2 * log_scale)  # ε relative to the data's variance
    layer = BatchNormFlow(d, eps=bn_e, unbiased=unbiased, track_running_stats=False).to(F64)
    layer = layer.requires_grad_(False).train()
    X = torch.from_numpy(xs)

    _, logdet = layer(X)
    kernel = kernels.batchnorm_train_logdet(xs, bn_e, unbiased=unbiased)
    expr = _train_expr(unbiased, samples, d)
    scale = _train_scale(xs, bn_e, unbiased)
    for k in range(samples):
        onehot = torch.zeros(samples, 1, dtype=F64)
        onehot[k] = 1.0
        # d y_k / d x_k with the other samples fixed, through the batch statistics
        J = torch.func.jacrev(lambda xk, k=k, onehot=onehot: layer(X + onehot * (xk - X[k]))[0][k])(X[k])
        sign, logabsdet = torch.linalg.slogdet(J)
        assert sign != 0
        want = _train_exact(expr, xs, k, bn_e)
        assert_close(kernel[k], want, dtype=np.float64, scale=scale[k])
        _assert_autograd_close(float(logabsdet), want, scale[k])
        _assert_autograd_close(float(logdet[k]), want, scale[k])


# --------------------------------------------------------------------------- float32 kernels
DTYPE_CASES = ["iaf_log_q", "stable", "bn", "bn-train"]


@pytest.mark.parametrize("case", DTYPE_CASES, ids=DTYPE_CASES)
@EXAMPLES
@given(data=st.data(), d=st.integers(1, 4), steps=st.integers(0, 3), samples=st.integers(2, 4))
def test_float32_kernels_match_exact_value(
    case: str, data: st.DataObject, d: int, steps: int, samples: int
) -> None:
    f32 = np.float32

    def floats(shape: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
        size = int(np.prod(shape))
        return np.asarray(data.draw(st.lists(st.floats(lo, hi), min_size=size, max_size=size)), f32).reshape(
            shape
        )

    # float32 inputs enter the exact evaluation exactly (as float64), so only the kernel rounds
    want: Any
    scale: Any
    if case == "iaf_log_q":
        e, sig = floats((d,), -5, 5), (10.0 ** floats((steps + 1, d), -30, 30)).astype(f32)
        got = kernels.iaf_log_q(e, sig)
        arrays = {epsilon: (e, (1,)), sigma: (sig, (0, 1))}
        want = exact_value(results.iaf_log_q(), {D: d, T: steps}, arrays)
        scale = _iaf_scale(e.astype(np.float64), np.log(sig.astype(np.float64)))
    elif case == "stable":
        e, sig0, s_v = (
            floats((d,), -5, 5),
            (10.0 ** floats((d,), -30, 30)).astype(f32),
            floats((steps, d), -50, 50),
        )
        got = kernels.iaf_stable_log_q(e, sig0, s_v)
        arrays = {epsilon: (e, (1,)), sigma: (sig0[None, :], (0, 1)), s: (s_v, (1, 1))}
        want = exact_value(results.iaf_stable_log_q(), {D: d, T: steps}, arrays)
        scale = _iaf_scale(e.astype(np.float64), np.log(sig0.astype(np.float64)))
        scale += float(np.sum(np.abs(s_v.astype(np.float64)) + 1))
    elif case == "bn":
        var, bn_e = (10.0 ** floats((d,), -6, 6)).astype(f32), f32(10.0 ** data.draw(st.floats(-12, -2)))
        g = floats((d,), 0.01, 100) * f32(data.draw(st.sampled_from([-1.0, 1.0])))
        got = kernels.batchnorm_logdet(var, bn_e, gamma=g)
        expr = kernels.batchnorm_logdet.generated(affine=True).expr
        want = exact_value(
            expr, {D: d}, {_base(expr, "var"): (var, (1,)), gamma: (g, (1,))}, {bn_eps: float(bn_e)}
        )
        var64, g64 = var.astype(np.float64), g.astype(np.float64)
        scale = float(np.sum(np.abs(np.log(var64 + float(bn_e))) + 1)) / 2
        scale += float(np.sum(np.abs(np.log(np.abs(g64)))))
    else:
        xs, bn_e = floats((samples, d), -3, 3), f32(10.0 ** data.draw(st.floats(-2, 0)))
        got = kernels.batchnorm_train_logdet(xs, bn_e)
        expr = _train_expr(False, samples, d)
        want = np.array([_train_exact(expr, xs, k, float(bn_e)) for k in range(samples)])
        scale = _train_scale(xs.astype(np.float64), float(bn_e), unbiased=False)
    assert np.result_type(got) == np.float32
    assert_close(got, want, dtype=np.float32, scale=scale)
