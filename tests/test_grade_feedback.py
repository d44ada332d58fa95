"""Feedback a student can act on, and no more than the verdict proved."""

from __future__ import annotations

import pytest

from derive.grade._feedback import answer_feedback, counterexample_in_words, steps_feedback


def test_counterexample_sentence_has_point_values_and_difference():
    ce = {
        "D": 2,
        "epsilon": "0.5",
        "answer": "1.000000001",
        "reference": "1",
        "difference": "1e-9",
        "digits": 100,
    }
    words = counterexample_in_words(ce)
    assert words.startswith("with D = 2, epsilon = 0.5 your answer gives 1")
    assert "a difference of 1e-9" in words  # a tiny difference is still shown, not rounded away


@pytest.mark.parametrize(
    ("status", "must", "must_not"),
    [
        ("equivalent", "Correct", "grader"),
        ("not-equivalent", "Not correct", "Correct:"),
        ("undecided", "grader", "Correct"),
        ("timeout", "too long", "Correct"),
        ("resource-limit", "memory", "Correct"),
        ("parse-error", "could not be read", "Correct"),
    ],
    ids=["equivalent", "not-equivalent", "undecided", "timeout", "resource-limit", "parse-error"],
)
def test_answer_feedback_claims_only_the_verdict(status, must, must_not):
    text = answer_feedback(status, "msg", None, 3)
    assert must in text and must_not not in text


def test_steps_feedback_names_each_bad_step():
    result = {
        "status": "invalid",
        "reaches_reference": True,
        "steps": [
            {"step": 1, "status": "valid"},
            {
                "step": 2,
                "status": "invalid",
                "line": 4,
                "from": "a",
                "to": "b",
                "counterexample": {"D": 1, "this line": "1", "previous line": "2"},
            },
            {"step": 3, "status": "undecided", "from": "b", "to": "c"},
        ],
    }
    text = steps_feedback(result)
    assert "final result is correct" in text
    assert (
        "Step 2 (line 4) does not follow: from a to b; with D = 1 this line gives 1 but the previous line gives 2"
        in text
    )
    assert "Step 3 could not be decided" in text and "Step 1" not in text


def test_feedback_is_bounded():
    assert len(answer_feedback("not-equivalent", "x" * 10_000, None, None)) <= 2000
