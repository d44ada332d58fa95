r"""Score the step checker on its corpus, in ProcessBench's terms, and time it.

Loads ``tests/corpus/steps/truth.toml`` (ground truth worked out by hand) and runs
:func:`derive.check.check_steps` (sandboxed, one forked child per step: the real path) on every
derivation. Prints:

* **first-error accuracy**: derivations whose first flagged step is the true first wrong step
  (``None`` for a correct derivation);
* **F1 in ProcessBench's sense**: the harmonic mean of the accuracy on flawed derivations (first
  error found exactly) and on correct ones (no step flagged);
* **false "invalid" flags**: right steps called wrong (must be 0) and **false "valid"**: wrong
  steps called right (must be 0); wrong steps left undecided are counted apart;
* **seconds per step**, and the 10-step derivation's time against the 5 s target, both also as a
  ratio to a baseline measured in the same run (one sandboxed ``check_answer`` of the problem's
  final formula).

For scale, ProcessBench (Zheng et al. 2024, 3,400 competition-maths solutions): best process
reward model F1 78.3, o1-mini 87.9.

Usage: ``python scripts/bench_steps.py``. Exits 1 if any false flag is seen, else 0.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
from derive.check import check_answer, check_steps

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "steps"
TEN_STEPS = "iaf_correct_ten_steps.tex"
TARGET_TEN_STEPS_S = 5.0
BASELINE_ANSWER = (
    "iaf-logq",
    r"-\sum_{i=1}^D\left(\frac12\log(2\pi) + \frac12\epsilon_i^2 + \sum_{t=0}^T\log\sigma_{t,i}\right)",
)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Score the step checker on its corpus (tests/corpus/steps/truth.toml), in ProcessBench's "
        "terms, and time it against a sandboxed check_answer measured in the same run.",
        epilog="Exits 1 if any false flag is seen, else 0.",
    ).parse_args(argv)
    truth = tomllib.loads((CORPUS / "truth.toml").read_text())["derivation"]
    check_answer(*BASELINE_ANSWER)  # warm the parent (parser, references) for both paths
    for problem in {e["problem"] for e in truth}:
        check_steps(problem, "$$0 = 0$$")
    start = time.perf_counter()
    check_answer(*BASELINE_ANSWER)
    baseline = time.perf_counter() - start

    first_right = flawed = flawed_right = correct = correct_right = 0
    false_invalid = false_valid = undecided_wrong = steps_total = 0
    seconds = 0.0
    ten_steps_s = None
    for entry in truth:
        text = (CORPUS / entry["file"]).read_text()
        start = time.perf_counter()
        result = check_steps(entry["problem"], text)
        elapsed = time.perf_counter() - start
        seconds += elapsed
        steps_total += len(result.steps)
        if entry["file"] == TEN_STEPS:
            ten_steps_s = elapsed
        wrong = set(entry["invalid"])
        true_first = min(wrong) if wrong else None
        ok = result.first_invalid == true_first
        first_right += ok
        if wrong:
            flawed += 1
            flawed_right += ok
        else:
            correct += 1
            correct_right += result.first_invalid is None
        notes = []
        for step in result.steps:
            if step.status == "invalid" and step.step not in wrong:
                false_invalid += 1
                notes.append(f"FALSE INVALID at step {step.step}")
            elif step.status == "valid" and step.step in wrong:
                false_valid += 1
                notes.append(f"FALSE VALID at step {step.step}")
            elif step.step in wrong and step.status != "invalid":
                undecided_wrong += 1
                notes.append(f"wrong step {step.step} left {step.status}")
        mark = "ok " if ok and not notes else "BAD"
        print(
            f"  {mark} {entry['file']:34s} first invalid {result.first_invalid!s:>4} (truth {true_first!s:>4})"
            f"  {len(result.steps):2d} steps  {elapsed:5.2f} s  {'; '.join(notes)}"
        )

    n = len(truth)
    acc_flawed = flawed_right / flawed if flawed else 1.0
    acc_correct = correct_right / correct if correct else 1.0
    f1 = 2 * acc_flawed * acc_correct / (acc_flawed + acc_correct) if acc_flawed + acc_correct else 0.0
    per_step = seconds / max(steps_total, 1)
    print(f"derivations: {n} ({flawed} flawed, {correct} correct), steps: {steps_total}")
    print(f"first-error accuracy: {first_right}/{n} = {first_right / n:.3f}")
    print(
        f"accuracy on flawed: {acc_flawed:.3f}, on correct: {acc_correct:.3f}, "
        f"F1 (ProcessBench): {100 * f1:.1f}  [best PRM 78.3, o1-mini 87.9 on ProcessBench]"
    )
    print(f"false 'invalid' flags (must be 0): {false_invalid}")
    print(f"false 'valid' verdicts on wrong steps (must be 0): {false_valid}")
    print(f"wrong steps left undecided: {undecided_wrong}")
    print(
        f"seconds per step: {per_step:.3f} s "
        f"({per_step / baseline:.2f}x one sandboxed check_answer, {baseline:.3f} s, measured in this run)"
    )
    if ten_steps_s is not None:
        print(
            f"10-step derivation: {ten_steps_s:.2f} s (target {TARGET_TEN_STEPS_S:.0f} s: "
            f"{ten_steps_s / TARGET_TEN_STEPS_S:.2f} of the budget; {ten_steps_s / baseline:.1f}x the baseline)"
        )
    return 1 if false_invalid or false_valid else 0


if __name__ == "__main__":
    raise SystemExit(main())
