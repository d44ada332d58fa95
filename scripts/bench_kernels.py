r"""Benchmark the generated kernels (derive.kernels) against hand-written NumPy and torch autograd.

For each kernel: best-of-N wall time (``time.perf_counter``) of the public, generated kernel, of
a hand-written NumPy expression of the same formula, of the *reference path* (the kernel's plain
lowering without the speed-only rewrites and without batch chunking: the previous implementation,
``KernelFunction.reference()``) and of the *bandwidth bound* — streaming the same input arrays once
(``np.add.reduce`` over each), i.e. bytes read / the streaming read rate measured right there —
all in the same run on the same arrays, calls interleaved. Printed: the ratios generated/hand
(and the median of the per-repeat ratios, "paired", robust to a machine whose load changes during
the run), generated/reference and generated/bound. Goal for ``iaf_log_q`` at B=200000, D=32, T=8:
at most 0.5x hand-written NumPy and at most 5x the bound. Then the per-sample cost of
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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Case:
    """One kernel on fixed arrays: the public (generated) call, the reference path, hand-written NumPy."""

    name: str
    kernel: kernels.KernelFunction
    arrays: tuple[Any, ...]
    hand_fn: Callable[..., Any]

    def generated(self) -> Any:
        return self.kernel(*self.arrays)

    def reference(self) -> Any:
        return self.kernel.reference()(*(np.asarray(a) for a in self.arrays))  # raw: no conversion

    def hand(self) -> Any:
        return self.hand_fn(*self.arrays)

    def stream(self) -> float:
        """Read every input once: the bandwidth bound of a kernel that reads them."""
        return sum(float(np.add.reduce(a, axis=None)) for a in self.arrays if isinstance(a, np.ndarray))


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

    sigma0, sigma1 = np.ascontiguousarray(sigma[..., 0, :]), np.ascontiguousarray(sigma[..., 1, :])
    cases: list[Case] = [
        Case("iaf_log_q", kernels.iaf_log_q, (eps, sigma), hand_iaf_log_q),
        Case(
            "iaf_log_q_from_log_sigma",
            kernels.iaf_log_q_from_log_sigma,
            (eps, log_sigma),
            hand_from_log_sigma,
        ),
        Case("iaf_stable_log_q", kernels.iaf_stable_log_q, (eps, sigma0, s), hand_stable),
        Case("iaf_step_logdet", kernels.iaf_step_logdet, (sigma1,), hand_step),
        Case("batchnorm_logdet", kernels.batchnorm_logdet, (var, 1e-5), hand_bn),
        Case(f"batchnorm_train_logdet (N={samples})", kernels.batchnorm_train_logdet, (x, 1e-5), hand_train),
    ]
    print(
        f"B={b}, D={d}, T={steps}, float64, best of {repeats}; bound = streaming the inputs once (np.add.reduce)"
    )
    head = f"{'kernel':<34}{'generated ms':>13}{'hand ms':>9}{'ratio':>7}{'paired':>7}"
    print(f"{head}{'ref ms':>9}{'gen/ref':>8}{'bound ms':>9}{'gen/bound':>10}  max |diff|")
    goal: tuple[float, float] | None = None
    rate = 0.0
    for case in cases:
        diff = float(np.max(np.abs(case.generated() - case.hand())))  # also warms up (generation, caches)
        diff = max(diff, float(np.max(np.abs(case.reference() - case.hand()))))
        times = timings(repeats, case.generated, case.hand, case.reference, case.stream)
        t_gen, t_hand, t_ref, t_bound = times.min(axis=0)
        paired = float(np.median(times[:, 0] / times[:, 1]))
        row = f"{case.name:<34}{1e3 * t_gen:>13.2f}{1e3 * t_hand:>9.2f}{t_gen / t_hand:>7.2f}{paired:>7.2f}"
        row += f"{1e3 * t_ref:>9.2f}{t_gen / t_ref:>8.2f}{1e3 * t_bound:>9.2f}{t_gen / t_bound:>10.2f}"
        print(f"{row}  {diff:.1e}")
        if case.name == "iaf_log_q":
            goal = (t_gen / t_hand, t_gen / t_bound)
            rate = sum(np.asarray(a).nbytes for a in case.arrays) / t_bound / 1e9
    if goal is not None:
        ok = "met" if goal[0] <= 0.5 and goal[1] <= 5 else "NOT met"
        print(
            f"goal iaf_log_q: {goal[0]:.2f}x hand-written NumPy (target <= 0.5), {goal[1]:.2f}x the bandwidth "
            f"bound (target <= 5; streaming read rate {rate:.1f} GB/s): {ok}"
        )

    t_kernel = timings(repeats, cases[0].generated).min() / b
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
