r"""Benchmark the sandbox: what one ``run_limited`` call costs, and how close to its limit it stops.

The fork that isolates each check costs more as the parent grows (page tables are copied), so the
call is timed twice: in a bare process, and again after loading what a real checker holds (the
proofs, the answer checker's caches and, if installed, torch). Each figure is printed as a ratio
against a baseline measured in the same run — a bare ``os.fork()`` + ``waitpid`` of the same
parent — so the numbers mean the same on a fast or a loaded machine. The timeout figure is the
elapsed time over the requested limit (1.0 would be exact).

Usage: python scripts/bench_sandbox.py [--calls N]. Always exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
import contextlib

from derive.errors import ResourceLimitError
from derive.sandbox import run_limited


def _bare_fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _per_call(fn: object, calls: int) -> float:
    assert callable(fn)
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _loop() -> None:
    while True:
        pass


def measure(label: str, calls: int) -> None:
    fork = _per_call(_bare_fork, calls)
    call = _per_call(lambda: run_limited(int), calls)
    print(
        f"{label:32s} run_limited {call * 1e3:7.2f} ms = {call / fork:5.1f} x bare fork ({fork * 1e3:.2f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time one sandboxed call against a bare fork, before and after loading proofs and torch."
    )
    parser.add_argument("--calls", type=int, default=30, help="calls per measurement (default 30)")
    args = parser.parse_args(argv)

    measure("bare process", args.calls)
    from derive.check import check_answer_unlimited
    from derive.derivations.iaf import iaf_general_proof

    iaf_general_proof()
    check_answer_unlimited("iaf-logq", r"\epsilon_1")
    check_answer_unlimited("batchnorm-logdet", r"\epsilon")
    measure("after proofs + checker caches", args.calls)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch not installed: skipping the torch measurement")
    else:
        measure("after importing torch too", args.calls)

    for limit in (0.2, 0.5, 1.0):
        start = time.perf_counter()
        with contextlib.suppress(ResourceLimitError):
            run_limited(_loop, timeout=limit)
        elapsed = time.perf_counter() - start
        print(f"timeout {limit:.1f} s: stopped after {elapsed:.2f} s = {elapsed / limit:.2f} x the limit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
