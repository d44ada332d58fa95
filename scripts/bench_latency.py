r"""Benchmark the latencies that tests used to assert with a wall clock.

Each figure is printed against a baseline measured in the same run (parsing the one-letter
answer ``x``; ``import sympy`` for the import time), so it reads the same on a fast or a loaded
machine, next to the target it used to be held to:

* parsing a typical IAF answer (target: well under 10 ms) and the bare LALR parse (5 ms);
* deciding the typical answers of the equivalence tests (target: 20 answers/s, i.e. 50 ms);
* a 10^9-term sum reaching "undecided" (target: under 5 s);
* hostile LaTeX refused or read (target: under 5 s each);
* ``import derive.kernels`` in a fresh interpreter (target: under 1 s), against ``import sympy``.

Usage: python scripts/bench_latency.py [--repeat N]. Always exits 0.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
import sympy as sp

from derive.check import check_answer_unlimited
from derive.problems import get_problem

TYPICAL = r"-\sum_{i=1}^D \left(\frac{1}{2} \log(2\pi) + \frac{1}{2} \epsilon_i^2 + \sum_{t=0}^T \log \sigma_{t,i} \right)"
HOSTILE = (
    r"10^{10^{10}}",
    r"\sqrt[10^{99}]{2}",
    "(" * 3000 + "x" + ")" * 3000,
    r"\sigma_{" + "i," * 3000 + "i}",
)


def per_call(fn: Callable[[], object], repeat: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def fresh_import(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Parse, decide and import latencies, against their targets.")
    parser.add_argument("--repeat", type=int, default=20, help="repetitions per measurement (default 20)")
    args = parser.parse_args(argv)

    from derive.latex import parse_expression

    notation = get_problem("iaf-logq").notation
    baseline = per_call(lambda: parse_expression("x", notation), args.repeat)
    print(f"baseline: parsing 'x' {baseline * 1e3:.2f} ms")
    typical = per_call(lambda: parse_expression(TYPICAL, notation), args.repeat)
    print(
        f"parse a typical IAF answer: {typical * 1e3:7.2f} ms = {typical / baseline:5.1f} x baseline (target 10 ms)"
    )

    check = per_call(lambda: check_answer_unlimited("iaf-logq", TYPICAL), max(1, args.repeat // 4))
    print(
        f"parse + decide it (warm):   {check * 1e3:7.2f} ms = {check / baseline:5.1f} x baseline (target 50 ms)"
    )

    from derive.equivalence import decide

    problem = get_problem("iaf-logq")
    ref = problem.reference()
    i = sp.Symbol("i", integer=True, positive=True)
    huge = sp.Sum(sp.log(sp.Symbol("s", positive=True) + i), (i, 1, 10**9))
    start = time.perf_counter()
    decide(huge, ref, problem.domain)
    print(f"10^9-term sum to a verdict:  {time.perf_counter() - start:7.2f} s (target 5 s)")

    for text in HOSTILE:
        start = time.perf_counter()
        check_answer_unlimited("iaf-logq", text)
        print(f"hostile {text[:20]!r:26s} {time.perf_counter() - start:7.2f} s (target 5 s)")

    sympy_import = fresh_import("sympy")
    kernels_import = fresh_import("derive.kernels")
    print(
        f"import derive.kernels: {kernels_import:.2f} s = {kernels_import / sympy_import:.2f} x import sympy"
        " (target 1 s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
