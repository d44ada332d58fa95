"""Submissions from directories, id/answer CSVs and the sample platform exports in tests/data/grade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from derive.errors import UsageError
from derive.grade import detect_format, load_submissions
from derive.grade._inputs import html_text, read_csv_text

DATA = Path(__file__).parent / "data" / "grade"
RIGHT = r"-\frac{1}{2}\sum_{i=1}^{D}\log(\tilde{\sigma}_i^2+\epsilon)"


@pytest.mark.parametrize(
    ("name", "fmt", "ids"),
    [
        ("ps2_submissions_for_manual_grading.csv", "prairielearn", ["42983", "42984", "42985", "42986"]),
        (
            "moodle_grading_worksheet.csv",
            "moodle",
            ["Participant 1201", "Participant 1202", "Participant 1203"],
        ),
        ("canvas_quiz_student_analysis.csv", "canvas", ["90211", "90212", "90213"]),
        ("answers.csv", "csv", ["alice", "bob", "carol"]),
    ],
    ids=["prairielearn", "moodle", "canvas", "csv"],
)
def test_sample_exports_are_detected_and_read(name, fmt, ids):
    got_fmt, subs, _ = load_submissions(DATA / name)
    assert got_fmt == fmt
    assert [s.id for s in subs] == ids
    assert RIGHT in (subs[0].text or "")  # the first sample of each is the reference, as typed


def test_prairielearn_answer_is_the_json_string_and_keeps_the_keys():
    _, subs, _ = load_submissions(DATA / "ps2_submissions_for_manual_grading.csv")
    assert subs[0].meta == {"uid": "student1@example.com", "qid": "batchnormLogdet", "submission_id": "42983"}


def test_moodle_online_text_is_the_visible_text_of_its_html():
    _, subs, _ = load_submissions(DATA / "moodle_grading_worksheet.csv")
    assert subs[1].text == "The log-det is\n" + r"\[-\sum_i \log(\tilde\sigma_i^2+\epsilon)\]"
    assert subs[0].meta["Last modified (grade)"] == "-"


def test_canvas_keeps_identity_and_points_possible():
    _, subs, _ = load_submissions(DATA / "canvas_quiz_student_analysis.csv")
    assert subs[2].meta == {
        "name": "Barbara Liskov",
        "id": "90213",
        "sis_id": "s1003",
        "section": "CS6202 L1",
        "points_possible": "2.0",
    }


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        (["uid", "qid", "submission_id", "submitted_answer"], "prairielearn"),
        (["Identifier", "Full name", "Online text", "Grade"], "moodle"),
        (["name", "id", "sis_id", "section", "7: Q?", "1.0"], "canvas"),
        (["id", "answer"], "csv"),
        (["Student", "ID", "SIS User ID"], None),
        (["name", "id", "sis_id"], None),
    ],
    ids=[
        "prairielearn",
        "moodle",
        "canvas",
        "csv",
        "canvas-gradebook-has-no-answers",
        "canvas-without-question",
    ],
)
def test_detect_format(header, fmt):
    assert detect_format(header) == fmt


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,answer\na,x\na,y\n", "more than once"),
        ("id,answer\n,x\n", "empty id"),
        ("who,what\na,b\n", "cannot tell the format"),
        ("", "empty CSV"),
        ("name,id,sis_id,section,1: a,1.0,2: b,1.0\nx,1,s,S,a,0,b,0\n", "one question column"),
    ],
    ids=["duplicate-id", "empty-id", "unknown-header", "empty-file", "canvas-two-questions"],
)
def test_bad_csv_is_a_usage_error(text, message):
    with pytest.raises(UsageError, match=message):
        read_csv_text(text)


def test_missing_columns_for_a_forced_format():
    with pytest.raises(UsageError, match="missing column 'Online text'"):
        read_csv_text("Identifier,Grade,Last modified (grade)\nP 1,,-\n", "moodle")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"a": "x", "b": "y"}), "2 text fields"),
        (json.dumps([1, 2]), "not a JSON object"),
        ("[" * 100_000, "not valid JSON"),
    ],
    ids=["not-json", "two-fields", "array", "deep-json"],
)
def test_unusable_prairielearn_answer_is_a_per_submission_problem(raw, problem):
    header = "uid,qid,submission_id,submitted_answer\n"
    subs, _ = read_csv_text(header + f'u@x,q,7,"{raw.replace(chr(34), chr(34) * 2)}"\n')
    assert subs[0].text is None and problem in subs[0].problem


def test_megabyte_answer_in_a_csv_is_data_not_an_error():
    subs, _ = read_csv_text("id,answer\nbig," + "x" * 2_000_000 + "\n")
    assert len(subs[0].text or "") == 2_000_000


def test_html_text_drops_tags_and_decodes_entities():
    assert html_text("<p>a &lt; b</p><script>x</script>") == "a < bx"


def test_directory_reading(tmp_path):
    (tmp_path / "a.tex").write_text("x")
    (tmp_path / "b.TXT").write_text("y")
    (tmp_path / "c.json").write_text("{}")
    (tmp_path / "big.md").write_bytes(b"x" * (4 * 2**20 + 1))
    fmt, subs, notes = load_submissions(tmp_path)
    assert fmt == "dir" and [s.id for s in subs] == ["a", "b", "big"]
    assert subs[2].text is None and "too large" in subs[2].problem
    assert notes == ["skipped c.json: not .tex, .md or .txt"]


def test_duplicate_stems_in_a_directory(tmp_path):
    (tmp_path / "a.tex").write_text("x")
    (tmp_path / "a.md").write_text("y")
    with pytest.raises(UsageError, match="more than once"):
        load_submissions(tmp_path)
