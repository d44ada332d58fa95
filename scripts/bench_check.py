r"""Benchmark the answer checker on the test corpora: answers per second against the 20/s target.

Loads ``tests/corpus/*.toml``, checks every answer once to warm up, then times ``--passes`` passes
of :func:`derive.check.check_answer` (sandboxed: one forked child per answer, the real path) and
of :func:`derive.check.check_answer_unlimited` (in process). Only answers whose status matches the
corpus expectation are counted; mismatches are printed.

The sandboxed passes run first, so their forked children inherit only what ``check_answer``
itself warms in the parent (the references). A diagnostic run then repeats them with the LaTeX
parser built once in the parent, to show what the children spend rebuilding it. The in-process passes then reuse the normal-form caches the warm-up filled for these
very answers, so they are optimistic; the cold warm-up pass is printed as well.

Usage: ``python scripts/bench_check.py [--passes N] [--timeout S]``. Always exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
from derive.check import CheckResult, check_answer, check_answer_unlimited
from derive.latex import parse_expression
from derive.problems import PROBLEMS

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "corpus"
TARGET = 20.0  # answers per second

Case = tuple[str, str, str, str]  # problem id, LaTeX, expected status, known-issue note ("" if none)


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.toml")):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        cases += [(data["problem"], a["latex"], a["expected"], a.get("xfail", "")) for a in data["answer"]]
    return cases


def one_pass(check: Callable[[str, str], CheckResult], cases: list[Case]) -> tuple[float, list[CheckResult]]:
    start = time.perf_counter()
    results = [check(problem, latex) for problem, latex, _, _ in cases]
    return time.perf_counter() - start, results


def bench(name: str, check: Callable[[str, str], CheckResult], cases: list[Case], passes: int) -> None:
    warm_time, warm = one_pass(check, cases)
    matching = [case for case, r in zip(cases, warm, strict=True) if r.status == case[2]]
    for (problem, latex, expected, known), r in zip(cases, warm, strict=True):
        if r.status != expected:
            tag = "known mismatch (xfail)" if known else "NEW MISMATCH"
            print(f"  {name} {tag} [{problem}] expected {expected}, got {r.status}: {latex}")
    counts = Counter(r.status for r in warm)
    times = [one_pass(check, matching)[0] for _ in range(passes)]
    best, mean = min(times), sum(times) / len(times)
    rate = len(matching) / mean if mean > 0 else float("inf")
    cold = len(cases) / warm_time if warm_time > 0 else float("inf")
    print(
        f"{name}: {rate:.1f} answers/s = {rate / TARGET:.1f}x the {TARGET:.0f}/s target "
        f"({len(matching)} answers, {passes} passes, mean {mean:.2f} s, best {best:.2f} s; "
        f"cold warm-up pass {cold:.1f} answers/s)"
    )
    print(f"  statuses: {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--timeout", type=float, default=10.0, help="sandbox time limit per answer (s)")
    args = parser.parse_args(argv)
    cases = load_cases()
    print(f"{len(cases)} answers from {CORPUS_DIR}")

    def sandboxed(problem: str, latex: str) -> CheckResult:
        return check_answer(problem, latex, timeout=args.timeout)

    passes = max(args.passes, 1)
    bench("sandboxed", sandboxed, cases, passes)
    # Diagnostic: check_answer warms only the equivalence engine in the parent, so every forked
    # child builds the LALR parser again (~60 ms). With the parser built once in the parent:
    for problem in PROBLEMS:
        parse_expression(problem.target_latex, problem.notation)
    bench("sandboxed, parser pre-built in the parent (diagnostic)", sandboxed, cases, passes)
    bench("unlimited", check_answer_unlimited, cases, passes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
