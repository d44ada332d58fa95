r"""Benchmark the generated kernels (derive.kernels) against hand-written NumPy and torch autograd.

For each kernel: best-of-N wall time (``time.perf_counter``) of the public, generated kernel and of
a hand-written NumPy expression of the same formula, in the same run on the same arrays (calls
interleaved), their ratio (target: at most 1.1), and the median of the per-repeat ratios
("paired", robust to a machine whose load changes during the run). Then the per-sample cost of
the brute-force alternative — the Jacobian of the whole IAF map :math:`\boldsymbol\epsilon
\mapsto \mathbf z_T` with ``torch.func.jacrev`` (vmapped over the batch) plus
``torch.linalg.slogdet`` — against the per-sample cost of ``iaf_log_q``. Torch is imported only
here, and skipped with a note if it is not installed.

Usage: ``python scripts/bench_kernels.py [--quick] [--repeats N]`` (default B=200000, D=32, T=8).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
from derive import kernels

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def timings(repeats: int, *fns: Callable[[], Any]) -> np.ndarray:
    """Wall times (seconds), shape ``(repeats, len(fns))``; calls interleave, so a change in machine
    load hits every function alike."""
    out = np.empty((repeats, len(fns)))
    for r in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            out[r, k] = time.perf_counter() - start
    return out


# --------------------------------------------------------------------------- hand-written NumPy
def hand_iaf_log_q(eps: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    d = eps.shape[-1]
    return -(d * HALF_LOG_2PI + 0.5 * np.sum(eps**2, axis=-1) + np.sum(np.log(sigma), axis=(-2, -1)))


def hand_from_log_sigma(eps: np.ndarray, log_sigma: np.ndarray) -> np.ndarray:
    d = eps.shape[-1]
    return -(d * HALF_LOG_2PI + 0.5 * np.sum(eps**2, axis=-1) + np.sum(log_sigma, axis=(-2, -1)))


def hand_stable(eps: np.ndarray, sigma0: np.ndarray, s: np.ndarray) -> np.ndarray:
    d = eps.shape[-1]
    log_sig = -np.logaddexp(0, -s)
    return -(
        d * HALF_LOG_2PI
        + 0.5 * np.sum(eps**2, axis=-1)
        + np.sum(np.log(sigma0), axis=-1)
        + np.sum(log_sig, axis=(-2, -1))
    )


def hand_step(sigma: np.ndarray) -> np.ndarray:
    return np.sum(np.log(sigma), axis=-1)


def hand_bn(var: np.ndarray, eps: float) -> np.ndarray:
    return -0.5 * np.sum(np.log(var + eps), axis=-1)


def hand_train(x: np.ndarray, eps: float) -> np.ndarray:
    n = x.shape[-2]
    centred = x - x.mean(axis=-2, keepdims=True)
    var = np.mean(centred**2, axis=-2, keepdims=True) + eps
    y2 = centred**2 / var
    return -0.5 * np.sum(np.log(var), axis=-1) + np.sum(np.log(np.abs(1 - (1 + y2) / n)), axis=-1)


# --------------------------------------------------------------------------- torch brute force
def torch_per_sample(d: int, steps: int, batch: int, repeats: int) -> tuple[float, float] | None:
    """Per-sample seconds of jacrev + slogdet over ε → z_T, and the max |log q| difference to the kernel."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    f64 = torch.float64
    mask = torch.tril(torch.ones(d, d, dtype=f64), diagonal=-1)  # autoregressive: z_i sees z_<i
    w_mu = [torch.randn(d, d, dtype=f64) * mask / math.sqrt(d) for _ in range(steps)]
    w_s = [torch.randn(d, d, dtype=f64) * mask / math.sqrt(d) for _ in range(steps)]
    mu0, log_sigma0 = torch.randn(d, dtype=f64), 0.1 * torch.randn(d, dtype=f64)

    def flow(eps: Any) -> tuple[Any, Any]:
        z = mu0 + torch.exp(log_sigma0) * eps
        log_sigmas = [log_sigma0]
        for wm, ws in zip(w_mu, w_s, strict=True):
            log_sigma = torch.tanh(ws @ z)
            z = wm @ z + torch.exp(log_sigma) * z
            log_sigmas.append(log_sigma)
        return z, torch.stack(log_sigmas)

    def log_q_autograd(eps: Any) -> Any:
        jac = torch.func.jacrev(lambda e: flow(e)[0])(eps)
        return -(d * HALF_LOG_2PI + 0.5 * (eps**2).sum()) - torch.linalg.slogdet(jac).logabsdet

    eps = torch.randn(batch, d, dtype=f64)
    batched = torch.func.vmap(log_q_autograd)
    brute = batched(eps)
    seconds = timings(repeats, lambda: batched(eps)).min()
    log_sigma = torch.func.vmap(lambda e: flow(e)[1])(eps).numpy()
    derived = kernels.iaf_log_q_from_log_sigma(eps.numpy(), log_sigma)
    return seconds / batch, float(np.max(np.abs(derived - brute.numpy())))


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (B=2000), for CI")
    parser.add_argument("--repeats", type=int, default=None, help="best of N (default 9, quick 5)")
    opts = parser.parse_args(argv)
    b, d, steps, samples = (2000, 8, 4, 10) if opts.quick else (200_000, 32, 8, 100)
    repeats = opts.repeats or (5 if opts.quick else 9)
    rng = np.random.default_rng(0)

    eps = rng.standard_normal((b, d))
    log_sigma = 0.3 * rng.standard_normal((b, steps + 1, d))
    sigma = np.exp(log_sigma)
    s = rng.standard_normal((b, steps, d))
    var = rng.uniform(0.1, 2.0, (b, d))
    x = rng.standard_normal((b // samples, samples, d))

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("iaf_log_q", lambda: kernels.iaf_log_q(eps, sigma), lambda: hand_iaf_log_q(eps, sigma)),
        (
            "iaf_log_q_from_log_sigma",
            lambda: kernels.iaf_log_q_from_log_sigma(eps, log_sigma),
            lambda: hand_from_log_sigma(eps, log_sigma),
        ),
        (
            "iaf_stable_log_q",
            lambda: kernels.iaf_stable_log_q(eps, sigma[..., 0, :], s),
            lambda: hand_stable(eps, sigma[..., 0, :], s),
        ),
        (
            "iaf_step_logdet",
            lambda: kernels.iaf_step_logdet(sigma[..., 1, :]),
            lambda: hand_step(sigma[..., 1, :]),
        ),
        ("batchnorm_logdet", lambda: kernels.batchnorm_logdet(var, 1e-5), lambda: hand_bn(var, 1e-5)),
        (
            f"batchnorm_train_logdet (N={samples})",
            lambda: kernels.batchnorm_train_logdet(x, 1e-5),
            lambda: hand_train(x, 1e-5),
        ),
    ]
    print(f"B={b}, D={d}, T={steps}, float64, best of {repeats}")
    print(f"{'kernel':<34}{'generated ms':>14}{'hand ms':>10}{'ratio':>8}{'paired':>9}  max |diff|")
    for name, generated, hand in cases:
        diff = float(np.max(np.abs(generated() - hand())))  # also warms up (generation, caches)
        times = timings(repeats, generated, hand)
        t_gen, t_hand = times.min(axis=0)
        paired = float(np.median(times[:, 0] / times[:, 1]))
        ms = f"{1e3 * t_gen:>14.2f}{1e3 * t_hand:>10.2f}"
        print(f"{name:<34}{ms}{t_gen / t_hand:>8.2f}{paired:>9.2f}  {diff:.1e}")

    t_kernel = timings(repeats, cases[0][1]).min() / b
    torch_batch = 64 if opts.quick else 512
    result = torch_per_sample(d, steps, torch_batch, max(1, repeats // 2))
    if result is None:
        print("torch not installed: skipped the autograd (jacrev + slogdet) comparison")
    else:
        per_sample, diff = result
        print(
            f"torch jacrev+slogdet over eps -> z_T (batch {torch_batch}): {1e6 * per_sample:.2f} us/sample; "
            f"iaf_log_q: {1e6 * t_kernel:.4f} us/sample; autograd/kernel = {per_sample / t_kernel:.0f}x "
            f"(max |log q difference| {diff:.1e})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
