r"""Benchmark derive grade: a class of typical submissions, as ratios measured in the same run.

Builds ``--n`` submissions (default 1000) from the checker's corpus (``tests/corpus/<problem>.toml``),
each text made unique by trailing spaces so no cache keyed on the text (nor the run's
de-duplication of identical texts) helps. ``--mix typical`` (default, batchnorm-logdet): what a
class hands in — 60 % right answers in their common spellings, 30 % the common mistakes (missing
1/2, wrong sign, epsilon dropped, log of the sum, ...), 10 % LaTeX slips; ``--mix corpus``: the
whole corpus cycled, edge cases included (answers off by 10^-60, which take the checker 1-2 s
each to leave undecided). Then:

1. ``derive grade PROBLEM DIR --out R --jobs 2`` (a CLI subprocess, start-up included); target:
   under 20 s for 1000 submissions;
2. the same with ``--jobs 1``; target: ``--jobs 2`` at least 1.7x faster on the checking itself,
   the pool phase each run reports ("checked N distinct texts in X s"; needs 2 idle cores: on a
   shared machine the ratio is what the other processes leave; printed with a control, plain CPU
   loops in 2 processes vs 1, measured in the same run). The whole-command ratio is printed too,
   with the Amdahl bound its fixed part (start-up, warm-up, I/O: about a second) puts on it — at a
   few ms per typical answer that fixed part is a large share of a 1000-submission run;
3. ``derive check PROBLEM --file F`` once per submission for a sample of ``--cli-sample`` of them
   (the one-by-one way, start-up included), extrapolated; target: ``grade --jobs 2`` at least 5x
   the throughput;
4. diagnostic: the same answers through one forked child each (``run_limited``, what
   ``check_answer`` did) and through one persistent pool worker (``WorkerPool``), in process.

Usage: ``python scripts/bench_grade.py [--n N] [--problem ID] [--mix typical|corpus] [--cli-sample K]``. Prints the
ratios and PASS/MISS per target; always exits 0 (speed is reported, never asserted in tests).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
from derive.check import check_answer_unlimited
from derive.grade._runner import _warm
from derive.sandbox import WorkerPool, run_limited

ROOT = Path(__file__).resolve().parents[1]

CORPUS = {"batchnorm-logdet": "batchnorm_logdet.toml", "iaf-logq": "iaf_logq.toml"}


def answers(problem: str) -> list[str]:
    with open(ROOT / "tests" / "corpus" / CORPUS[problem], "rb") as fh:
        return [a["latex"] for a in tomllib.load(fh)["answer"]]


#: Corpus indices of common answers (batchnorm-logdet): right spellings, usual mistakes, LaTeX slips.
TYPICAL = {
    "right": [0, 1, 2, 5, 6, 11, 16, 17, 18, 20],
    "wrong": [33, 34, 35, 37, 40, 45, 47, 49, 50, 51],
    "slip": [59, 60, 65, 69],
}
SHARES = {"right": 6, "wrong": 3, "slip": 1}


def pick(problem: str, mix: str) -> list[str]:
    """One cycle of answers: the whole corpus, or the typical mix in its shares."""
    corpus = answers(problem)
    if mix == "corpus" or problem != "batchnorm-logdet":
        return corpus
    cycle = []
    for kind, share in SHARES.items():
        chosen = [corpus[k] for k in TYPICAL[kind]]
        cycle += (chosen * (share * 10 // len(chosen) + 1))[: share * 10]
    return cycle


def make_class(directory: Path, problem: str, n: int, mix: str) -> list[Path]:
    cycle = pick(problem, mix)
    paths = []
    for k in range(n):
        path = directory / f"s{k:05d}.tex"
        path.write_text(cycle[k % len(cycle)] + " " * (1 + k // len(cycle)))
        paths.append(path)
    return paths


def run_grade(problem: str, subs: Path, out: Path, jobs: int) -> tuple[float, float, Counter[str]]:
    """Whole command (start-up included) and its pool phase (the "checked ... in X s" summary line)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "derive", "grade", problem, str(subs), "--out", str(out), "--jobs", str(jobs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"derive grade failed ({done.returncode}): {done.stderr}")
    statuses = Counter(json.loads(line)["status"] for line in out.read_text().splitlines())
    found = re.search(r"^checked \d+ distinct texts in ([0-9.]+) s", done.stderr, re.MULTILINE)
    return seconds, float(found[1]) if found else 0.0, statuses


def run_cli_one_by_one(problem: str, paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        subprocess.run(
            [sys.executable, "-m", "derive", "check", problem, "--file", str(path)],
            capture_output=True,
            cwd=ROOT,
        )
    return (time.perf_counter() - start) / len(paths)


def in_process(problem: str, texts: list[str]) -> tuple[float, float]:
    _warm(problem, "answer")
    start = time.perf_counter()
    for text in texts:
        run_limited(check_answer_unlimited, problem, text)
    fork_each = (time.perf_counter() - start) / len(texts)
    with WorkerPool(1) as pool:
        pool.run(check_answer_unlimited, problem, "0")  # the worker exists before the clock starts
        start = time.perf_counter()
        for text in texts:
            pool.run(check_answer_unlimited, problem, text)
        pooled = (time.perf_counter() - start) / len(texts)
    return fork_each, pooled


def _burn(n: int) -> int:
    total = 0
    for k in range(n):
        total += k
    return total


def machine_parallelism(n: int = 4_000_000) -> float:
    """Control: the same pure-Python loops in 1 process vs 2 (what 2 cores give right now)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    times = []
    for workers in (1, 2):
        start = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=context) as ex:
            list(ex.map(_burn, [n] * 4))
        times.append(time.perf_counter() - start)
    return times[0] / times[1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark 'derive grade': a class of typical submissions, as ratios measured in the same run."
    )
    parser.add_argument("--n", type=int, default=1000, help="submissions (default 1000)")
    parser.add_argument(
        "--problem",
        default="batchnorm-logdet",
        choices=sorted(CORPUS),
        help="problem id (default batchnorm-logdet)",
    )
    parser.add_argument(
        "--mix",
        choices=("typical", "corpus"),
        default="typical",
        help="typical: common answers in class-like shares (default); corpus: the checker's edge cases",
    )
    parser.add_argument(
        "--cli-sample", type=int, default=10, help="submissions checked one by one (default 10)"
    )
    parser.add_argument("--diagnostic", type=int, default=200, help="answers for the fork-vs-pool comparison")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        paths = make_class(subs, args.problem, args.n, args.mix)
        cycle = len(pick(args.problem, args.mix))
        print(f"{args.n} submissions for {args.problem}, mix {args.mix!r} ({cycle} answers, cycled)")

        two, two_pool, statuses = run_grade(args.problem, subs, Path(tmp) / "r2.jsonl", 2)
        print(
            f"grade --jobs 2: {two:.1f} s, {args.n / two:.1f} submissions/s (pool phase {two_pool:.2f} s); "
            f"statuses {dict(sorted(statuses.items()))}"
        )
        one, one_pool, _ = run_grade(args.problem, subs, Path(tmp) / "r1.jsonl", 1)
        control = machine_parallelism()
        print(f"grade --jobs 1: {one:.1f} s, {args.n / one:.1f} submissions/s (pool phase {one_pool:.2f} s)")
        empty = Path(tmp) / "empty"
        empty.mkdir()
        startup, _, _ = run_grade(args.problem, empty, Path(tmp) / "r0.jsonl", 2)
        print(f"grade on an empty directory (start-up only): {startup:.1f} s")
        per_cli = run_cli_one_by_one(args.problem, paths[: args.cli_sample])
        print(
            f"derive check one by one: {per_cli:.2f} s per submission ({args.cli_sample} timed, start-up included)"
        )
        fork_each, pooled = in_process(args.problem, [p.read_text() for p in paths[: args.diagnostic]])

    budget = 20.0 * args.n / 1000
    print()
    print(f"[{verdict(two < budget)}] 1000-scale run with --jobs 2: {two:.1f} s (target < {budget:.0f} s)")
    ratio_cli = (args.n / two) / (1 / per_cli)
    print(f"[{verdict(ratio_cli >= 5)}] throughput vs one-by-one CLI: {ratio_cli:.1f}x (target >= 5x)")
    ratio_pool = one_pool / two_pool if two_pool else 0.0
    print(
        f"[{verdict(ratio_pool >= 1.7)}] --jobs 2 vs --jobs 1, the checking (pool phase): {ratio_pool:.2f}x "
        "(target >= 1.7x)"
    )
    print(f"control: plain CPU loops in 2 processes vs 1 on this machine right now: {control:.2f}x")
    fixed = max(one - one_pool, 0.0)
    print(
        f"whole command: --jobs 2 vs --jobs 1 {one / two:.2f}x; the part --jobs cannot speed up (interpreter, "
        f"imports, the parent's warm-up, reading and writing) is {fixed:.1f} s of {one:.1f} s, which bounds it "
        f"at {one / (fixed + one_pool / 2):.2f}x (Amdahl)"
    )
    print(
        f"diagnostic: fork per answer {1000 * fork_each:.1f} ms, pooled worker {1000 * pooled:.1f} ms "
        f"-> {fork_each / pooled:.1f}x ({args.diagnostic} answers, in process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
