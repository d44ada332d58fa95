r"""Benchmark ``derive prove iaf`` against the naive SymPy composite Jacobian + determinant.

The naive baseline is what a SymPy user would write: build the composite map
:math:`\boldsymbol\epsilon\mapsto\mathbf z_T` by substituting each layer's outputs into the next
(``GaussianBase`` then ``IAFStep(dim, t)`` for ``t = 1..T``, inputs ``z[t-1, j]`` replaced with
``xreplace``), then ``sympy.Matrix(z_T).jacobian(eps)``, ``.det()`` (default method) and
:math:`\log|\det|`. It runs in a separate process (``multiprocessing``, spawn) under a wall-clock
limit (``--naive-timeout``, default 120 s) and is reported as "did not finish in X s" when it
does not.

The derive way is the *full* verified proof ``iaf_concrete_proof(dim, steps)`` (per-step structured
Jacobians, chain rule, every step checked, cross-checked against the general theorem). Its cache
is cleared before each timing (and SymPy's global cache too, so no run reuses another's work);
the general proof ``iaf_general_proof()`` it cross-checks against is warmed up once beforehand
and reported separately. The CLI end-to-end ``derive prove iaf --dim 32 --steps 8`` is timed as a
subprocess, interpreter start-up included, against the 5 s target.

Times are wall-clock (``time.perf_counter``): best of 3 at the small sizes, a single run at the
large ones. At D=4, T=2 the script also checks that the naive determinant equals the product of
the per-step Jacobian diagonals (the sigma function applications along the flow) that derive uses.

Usage: ``python scripts/bench_prove.py [--quick] [--naive-timeout SECONDS]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import sympy as sp
from sympy.core.cache import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
from derive.layers import GaussianBase, IAFStep

CLI_TARGET_S = 5.0
CLI_DIM, CLI_STEPS = 32, 8
SMALL_REPEATS = 3


# --------------------------------------------------------------------------- naive baseline
def naive_composite(dim: int, steps: int) -> tuple[list[sp.Expr], tuple[sp.Expr, ...], list[IAFStep]]:
    """``z_T`` as expressions in ``eps`` (each step's inputs replaced by the previous outputs)."""
    base = GaussianBase(dim)
    eps = base.inputs()
    current = list(base.forward())
    layers = [IAFStep(dim, t=k) for k in range(1, steps + 1)]
    for layer in layers:
        sub = dict(zip(layer.inputs(), current, strict=True))
        current = [out.xreplace(sub) for out in layer.forward()]
    return current, eps, layers


def naive_logdet(dim: int, steps: int) -> tuple[sp.Expr, sp.Expr]:
    """The plain SymPy way: composite, full Jacobian, default ``det``, ``log|det|``."""
    z_t, eps, _ = naive_composite(dim, steps)
    det = sp.Matrix(z_t).jacobian(sp.Matrix(eps)).det()
    return det, sp.log(sp.Abs(det))


def _naive_worker(dim: int, steps: int, conn: Connection) -> None:
    clear_cache()
    start = time.perf_counter()
    naive_logdet(dim, steps)
    conn.send(time.perf_counter() - start)
    conn.close()


def time_naive(dim: int, steps: int, timeout: float) -> float | None:
    """Seconds for one naive run in a fresh process, or ``None`` if it did not finish in ``timeout``."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_naive_worker, args=(dim, steps, send), daemon=True)
    proc.start()
    send.close()
    elapsed = recv.recv() if recv.poll(timeout) else None
    if elapsed is None:
        proc.terminate()
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return elapsed


def best_naive(dim: int, steps: int, repeats: int, timeout: float) -> float | None:
    best: float | None = None
    for _ in range(repeats):
        elapsed = time_naive(dim, steps, timeout)
        if elapsed is None:
            return None
        best = elapsed if best is None else min(best, elapsed)
    return best


# --------------------------------------------------------------------------- derive
def best_derive(dim: int, steps: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        iaf_concrete_proof.cache_clear()
        clear_cache()
        start = time.perf_counter()
        iaf_concrete_proof(dim, steps)
        best = min(best, time.perf_counter() - start)
    return best


def time_cli(dim: int, steps: int, repeats: int) -> list[float]:
    cmd = [sys.executable, "-m", "derive", "prove", "iaf", "--dim", str(dim), "--steps", str(steps)]
    cmd += ["-o", os.devnull]
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, cwd=root, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - start)
    return out


# --------------------------------------------------------------------------- sanity check
def naive_agrees(dim: int, steps: int) -> bool:
    """Naive det == product of the per-step Jacobian diagonals (sigma applications) along the flow."""
    det, _ = naive_logdet(dim, steps)
    base = GaussianBase(dim)
    current = list(base.forward())
    product = sp.Mul(*base.jacobian().diagonal)
    for layer in (IAFStep(dim, t=k) for k in range(1, steps + 1)):
        sub = dict(zip(layer.inputs(), current, strict=True))
        product *= sp.Mul(*(d.xreplace(sub) for d in layer.jacobian().diagonal))
        current = [out.xreplace(sub) for out in layer.forward()]
    diff = (det.doit() - product).doit()
    return sp.expand(diff) == 0 or sp.simplify(diff) == 0


# --------------------------------------------------------------------------- report
def fmt(seconds: float | None, timeout: float | None = None) -> str:
    if seconds is None:
        return f"did not finish in {timeout:g} s" if timeout is not None else "-"
    return f"{seconds:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark 'derive prove iaf' against the naive SymPy composite Jacobian + determinant.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="(4,2) and (8,2) naive + derive, (32,8) derive and CLI only; well under a minute",
    )
    parser.add_argument(
        "--naive-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="wall-clock limit per naive run (default 120)",
    )
    args = parser.parse_args(argv)

    # (dim, steps, run naive?, repeats)
    if args.quick:
        sizes = [(4, 2, True, SMALL_REPEATS), (8, 2, True, SMALL_REPEATS), (32, 8, False, 1)]
    else:
        sizes = [
            (4, 2, True, SMALL_REPEATS),
            (8, 4, True, SMALL_REPEATS),
            (16, 4, True, 1),
            (32, 8, False, 1),
            (128, 16, False, 1),
        ]

    print(f"python {sys.version.split()[0]}, sympy {sp.__version__}; naive timeout {args.naive_timeout:g} s")
    clear_cache()
    start = time.perf_counter()
    iaf_general_proof()
    print(
        f"warm-up: iaf_general_proof() (cached, reused by every concrete proof) {time.perf_counter() - start:.3f} s"
    )

    agree = naive_agrees(4, 2)
    print(f"naive and derive agree at D=4,T=2: {'yes' if agree else 'no'}")
    print()

    header = f"{'size (D,T)':>12} | {'naive s':>24} | {'derive s':>9} | {'naive/derive':>12} | runs"
    print(header)
    print("-" * len(header))
    results: dict[tuple[int, int], tuple[float | None, float]] = {}
    for dim, steps, naive, repeats in sizes:
        naive_s = best_naive(dim, steps, repeats, args.naive_timeout) if naive else None
        derive_s = best_derive(dim, steps, repeats)
        results[(dim, steps)] = (naive_s, derive_s)
        if not naive:
            naive_txt, ratio = "not run", "-"
        elif naive_s is None:
            naive_txt, ratio = fmt(None, args.naive_timeout), f"> {args.naive_timeout / derive_s:.0f}x"
        else:
            naive_txt, ratio = fmt(naive_s), f"{naive_s / derive_s:.0f}x"
        runs = f"best of {repeats}" if repeats > 1 else "1"
        print(
            f"{f'({dim},{steps})':>12} | {naive_txt:>24} | {derive_s:>9.3f} | {ratio:>12} | {runs}",
            flush=True,
        )

    print()
    cli = time_cli(CLI_DIM, CLI_STEPS, SMALL_REPEATS)
    verdict = "PASS" if max(cli) < CLI_TARGET_S else "FAIL"
    print(
        f"CLI `derive prove iaf --dim {CLI_DIM} --steps {CLI_STEPS}` end to end (incl. interpreter start-up): "
        f"best {min(cli):.3f} s, worst {max(cli):.3f} s of {len(cli)} -> {verdict} (target < {CLI_TARGET_S:g} s)"
    )
    if (128, 16) in results:
        print(f"D=128, T=16: full verified proof completes in {results[(128, 16)][1]:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
