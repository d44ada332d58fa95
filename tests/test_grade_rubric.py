"""The rubric: documented defaults, TOML overrides, and errors for anything else."""

from __future__ import annotations

import pytest

from derive.errors import UsageError
from derive.grade import DEFAULT_RUBRIC, Rubric
from derive.grade import _rubric as module


def test_default_is_what_the_module_documents():
    doc = module.__doc__ or ""
    for table, values in DEFAULT_RUBRIC.items():
        for key, value in values.items():
            shown = '"manual"' if value is None else repr(value)
            assert f"{key} = {shown}" in doc, (table, key)


def test_no_verdict_no_score_by_default():
    rubric = Rubric.default()
    assert [rubric.score("answer", s) for s in ("undecided", "timeout", "resource-limit")] == [None] * 3


@pytest.mark.parametrize(
    ("status", "reaches", "score"),
    [("valid", True, 1.0), ("invalid", True, 0.5), ("valid", False, 0.25), ("invalid", False, 0.0)],
    ids=["valid-reaches", "invalid-reaches", "valid-wrong", "invalid-wrong"],
)
def test_steps_defaults(status, reaches, score):
    assert Rubric.default().score_steps(status, reaches_reference=reaches) == score


def test_file_overrides_keys(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(
        '[answer]\nundecided = 0.5\n[steps]\ninvalid-reaches-reference = 0.7\ntimeout = "manual"\n'
    )
    rubric = Rubric.load(path)
    assert rubric.score("answer", "undecided") == 0.5
    assert rubric.score_steps("invalid", reaches_reference=True) == 0.7
    assert rubric.score("answer", "equivalent") == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[answers]\nequivalent = 1\n", "unknown table"),
        ("[answer]\nright = 1\n", "unknown key"),
        ("[answer]\nequivalent = 1.5\n", r"\[0, 1\]"),
        ("[answer]\nequivalent = true\n", r"\[0, 1\]"),
        ('[answer]\nequivalent = "full"\n', r"\[0, 1\]"),
        ("answer = 1\n", "must be a table"),
        ("[answer\n", "not valid TOML"),
    ],
    ids=["unknown-table", "unknown-key", "above-one", "bool", "word", "not-a-table", "bad-toml"],
)
def test_bad_rubric(tmp_path, text, message):
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        Rubric.load(path)
