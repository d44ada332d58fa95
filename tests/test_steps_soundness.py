r"""Soundness of single steps against the answer checker's corpus, whose verdicts were set by hand.

A step from the proved reference to an answer the corpus records as *not equivalent* must never
be "valid"; a step to an answer recorded as *equivalent* must never be "invalid". Every step goes
through :func:`derive.steps.decide_step` (the engine, the independent re-check and the slip
catalogue), without the sandbox.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from derive.errors import ParseError
from derive.latex import parse_derivation
from derive.problems import get_problem
from derive.steps import decide_step

CORPUS = Path(__file__).parent / "corpus"


def _single(problem_id: str, latex: str) -> bool:
    """Whether ``latex`` reads as one formula (parse errors and chains are the answer checker's tests)."""
    try:
        return len(parse_derivation(latex, get_problem(problem_id).notation).lines) == 1
    except ParseError:
        return False


def _entries() -> list[Any]:
    params = []
    for name in ("iaf_logq.toml", "batchnorm_logdet.toml"):
        data = tomllib.loads((CORPUS / name).read_text())
        for k, entry in enumerate(data["answer"]):
            if entry["expected"] in ("equivalent", "not-equivalent") and _single(
                data["problem"], entry["latex"]
            ):
                params.append(
                    pytest.param(data["problem"], entry, id=f"{data['problem']}-{k:02d}-{entry['expected']}")
                )
    return params


@pytest.mark.parametrize(("problem_id", "entry"), _entries())
def test_a_step_to_a_known_answer_never_contradicts_the_truth(problem_id: str, entry: dict[str, Any]) -> None:
    problem = get_problem(problem_id)
    (line,) = parse_derivation(entry["latex"], problem.notation).lines
    fields = decide_step(problem_id, problem.target, line.expr)
    forbidden = "valid" if entry["expected"] == "not-equivalent" else "invalid"
    assert fields["status"] != forbidden, (
        f"{fields}\n  why the corpus says {entry['expected']}: {entry['why']}"
    )
    if fields["status"] == "invalid":
        assert fields.get("counterexample") and fields.get("difference")
