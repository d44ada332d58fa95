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

Issue 12: every derive timing is also taken on the *reference path* (the implementation before the
fast paths: dependency by ``free_symbols``, the previous structural derivative, SymPy's ``Abs``,
sums expanded without the summand memo, ``IAFStep.forward`` through ``concrete_ar``), selected by
``DERIVE_JACOBIAN_REFERENCE=1`` / ``derive.jacobian._reference_path()``, and printed as the ratio
reference/fast. Not switched (so the ratio understates the gain): the kernel checking only the
abbreviations it applies, and IAF inputs shared with the functions' arguments. The three CLI
targets of the issue (``--dim 32 --steps 8`` < 1.5 s, ``--dim 64 --steps 8`` < 2.5 s,
``--dim 128 --steps 16`` < 5 s, CPU time of the whole process) are run on both paths, with
PASS/MISS, and the two paths' outputs are compared byte for byte.

Usage: ``python scripts/bench_prove.py [--quick] [--naive-timeout SECONDS]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import sympy as sp
from sympy.core.cache import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
from derive.jacobian import _reference_path
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
def _clear_caches() -> None:
    """Every cache a concrete proof fills (derive's and SymPy's), so no run reuses another's work."""
    from derive.layers import _base, flow, generic
    from derive.proof import _algebra

    for cache in (
        iaf_concrete_proof,
        _base._shared_jacobian,
        flow._step,
        generic._concrete_ar,
        generic._ar_arguments,
    ):
        cache.cache_clear()  # type: ignore[attr-defined]
    _algebra._INSTANCES.clear()
    clear_cache()


def best_derive(dim: int, steps: int, repeats: int, reference: bool = False) -> float:
    """Best wall-clock seconds of the full verified proof (``reference``: on the reference path)."""
    best = float("inf")
    for _ in range(repeats):
        with _reference_path(reference):
            _clear_caches()
            start = time.perf_counter()
            iaf_concrete_proof(dim, steps)
            best = min(best, time.perf_counter() - start)
    _clear_caches()
    return best


def time_cli(dim: int, steps: int, repeats: int) -> list[float]:
    return [wall for wall, _, _ in (run_cli(dim, steps) for _ in range(repeats))]


def run_cli(dim: int, steps: int, reference: bool = False) -> tuple[float, float, bytes]:
    """One ``derive prove iaf`` process: (wall seconds, CPU seconds user+sys, its LaTeX output)."""
    cmd = [sys.executable, "-m", "derive", "prove", "iaf", "--dim", str(dim), "--steps", str(steps)]
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    env["DERIVE_JACOBIAN_REFERENCE"] = "1" if reference else ""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, env=env, cwd=root, stdout=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


#: The issue's targets: (dim, steps, CPU seconds of the whole process).
CLI_TARGETS = ((32, 8, 1.5), (64, 8, 2.5), (128, 16, 5.0))


def cli_targets(targets: tuple[tuple[int, int, float], ...]) -> bool:
    """Each target on the fast and the reference path; PASS/MISS on the fast path's CPU time."""
    print(
        f"{'CLI target':>34} | {'fast cpu/wall s':>15} | {'reference cpu/wall s':>20} | {'ref/fast':>8} | same output | verdict"
    )
    ok = True
    for dim, steps, target in targets:
        fast = run_cli(dim, steps)
        ref = run_cli(dim, steps, reference=True)
        same = fast[2] == ref[2]
        verdict = "PASS" if fast[1] < target else "MISS"
        ok = ok and same
        print(
            f"{f'derive prove iaf --dim {dim} --steps {steps}':>34} | {fast[1]:6.2f} / {fast[0]:6.2f} | "
            f"{ref[1]:9.2f} / {ref[0]:8.2f} | {ref[1] / fast[1]:7.1f}x | {'yes' if same else 'NO':>11} | "
            f"{verdict} (< {target:g} s CPU)",
            flush=True,
        )
    return ok


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

    header = (
        f"{'size (D,T)':>12} | {'naive s':>24} | {'derive s':>9} | {'naive/derive':>12} | "
        f"{'reference s':>11} | {'ref/fast':>8} | runs"
    )
    print(header)
    print("-" * len(header))
    results: dict[tuple[int, int], tuple[float | None, float]] = {}
    for dim, steps, naive, repeats in sizes:
        naive_s = best_naive(dim, steps, repeats, args.naive_timeout) if naive else None
        derive_s = best_derive(dim, steps, repeats)
        reference_s = best_derive(dim, steps, repeats, reference=True)
        results[(dim, steps)] = (naive_s, derive_s)
        if not naive:
            naive_txt, ratio = "not run", "-"
        elif naive_s is None:
            naive_txt, ratio = fmt(None, args.naive_timeout), f"> {args.naive_timeout / derive_s:.0f}x"
        else:
            naive_txt, ratio = fmt(naive_s), f"{naive_s / derive_s:.0f}x"
        runs = f"best of {repeats}" if repeats > 1 else "1"
        print(
            f"{f'({dim},{steps})':>12} | {naive_txt:>24} | {derive_s:>9.3f} | {ratio:>12} | "
            f"{reference_s:>11.3f} | {reference_s / derive_s:>7.1f}x | {runs}",
            flush=True,
        )

    print()
    cli = time_cli(CLI_DIM, CLI_STEPS, SMALL_REPEATS)
    verdict = "PASS" if max(cli) < CLI_TARGET_S else "FAIL"
    print(
        f"CLI `derive prove iaf --dim {CLI_DIM} --steps {CLI_STEPS}` end to end (incl. interpreter start-up): "
        f"best {min(cli):.3f} s, worst {max(cli):.3f} s of {len(cli)} -> {verdict} (target < {CLI_TARGET_S:g} s)"
    )
    print()
    same = cli_targets(CLI_TARGETS[:1] if args.quick else CLI_TARGETS)
    print(f"fast and reference paths print the same proof: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
