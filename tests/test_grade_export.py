"""The grades files platforms import, from the sample exports in tests/data/grade (in and out)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from derive.grade import grade
from derive.grade._export import write_grades
from derive.grade._inputs import Submission

DATA = Path(__file__).parent / "data" / "grade"
PROBLEM = "batchnorm-logdet"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    out = {}
    for name in (
        "ps2_submissions_for_manual_grading",
        "moodle_grading_worksheet",
        "canvas_quiz_student_analysis",
        "answers",
    ):
        run = grade(
            PROBLEM,
            DATA / f"{name}.csv",
            tmp / f"{name}.jsonl",
            csv=tmp / f"{name}.out.csv",
            assignment="PS2 Q2 (7731)",
        )
        out[name] = (run, _rows(tmp / f"{name}.out.csv"))
    return out


def test_prairielearn_upload(exported):
    run, rows = exported["ps2_submissions_for_manual_grading"]
    assert rows[0] == ["uid", "qid", "submission_id", "score_perc", "feedback"]
    by_sid = {r[2]: r for r in rows[1:]}
    assert [r["status"] for r in run.records] == ["equivalent", "equivalent", "not-equivalent", "parse-error"]
    assert [by_sid[s][3] for s in ("42983", "42984", "42985", "42986")] == ["100", "100", "0", "0"]
    assert by_sid["42983"][:2] == ["student1@example.com", "batchnormLogdet"]
    assert by_sid["42985"][4] == run.records[2]["feedback"]


def test_moodle_worksheet_round_trip(exported):
    run, rows = exported["moodle_grading_worksheet"]
    original = _rows(DATA / "moodle_grading_worksheet.csv")
    assert rows[0] == original[0]
    col = {name: k for k, name in enumerate(rows[0])}
    for row, before, record in zip(rows[1:], original[1:], run.records, strict=True):
        assert row[col["Identifier"]] == before[col["Identifier"]] == record["id"]
        assert row[col["Last modified (grade)"]] == before[col["Last modified (grade)"]]
        assert float(row[col["Grade"]]) == record["score"] * float(before[col["Maximum Grade"]])
        assert row[col["Feedback comments"]] == record["feedback"]
    assert [r["status"] for r in run.records] == ["equivalent", "not-equivalent", "equivalent"]


def test_canvas_gradebook_import(exported):
    run, rows = exported["canvas_quiz_student_analysis"]
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "PS2 Q2 (7731)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "2"]
    assert [r[:3] for r in rows[2:]] == [
        ["Grace Hopper", "90211", "s1001"],
        ["Edsger Dijkstra", "90212", "s1002"],
        ["Barbara Liskov", "90213", "s1003"],
    ]
    assert [r[5] for r in rows[2:]] == ["2", "0", "2"]
    assert [r["score"] for r in run.records] == [1.0, 0.0, 1.0]


def test_plain_csv(exported):
    _, rows = exported["answers"]
    assert rows[0] == ["id", "score", "status", "feedback"]
    assert [r[:3] for r in rows[1:]] == [
        ["alice", "1", "equivalent"],
        ["bob", "0", "not-equivalent"],
        ["carol", "0", "parse-error"],
    ]


@pytest.mark.parametrize(
    "fmt", ["prairielearn", "moodle", "canvas", "csv"], ids=["prairielearn", "moodle", "canvas", "csv"]
)
def test_no_score_means_a_blank_grade_never_zero(fmt):
    meta = {
        "prairielearn": {"uid": "u", "qid": "q", "submission_id": "1"},
        "moodle": {
            "Identifier": "Participant 1",
            "Grade": "",
            "Maximum Grade": "10.00",
            "Last modified (grade)": "-",
        },
        "canvas": {"name": "n", "id": "1", "sis_id": "s", "section": "S", "points_possible": "2.0"},
        "csv": {},
    }[fmt]
    out = io.StringIO()
    write_grades(
        out,
        fmt,
        [Submission("1", "x", "0", 1, meta)],
        {"1": {"score": None, "status": "undecided", "feedback": "f"}},
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    header, last = rows[0], rows[-1]
    grade_column = {"prairielearn": "score_perc", "moodle": "Grade", "canvas": header[-1], "csv": "score"}[
        fmt
    ]
    assert last[header.index(grade_column)] == ""


@pytest.mark.parametrize(
    ("fmt", "column"),
    [("prairielearn", "feedback"), ("moodle", "Feedback comments")],
    ids=["prairielearn-markdown", "moodle-html"],
)
def test_feedback_quoting_student_text_cannot_become_markup(fmt, column):
    meta = {
        "prairielearn": {"uid": "u", "qid": "q", "submission_id": "1"},
        "moodle": {
            "Identifier": "Participant 1",
            "Grade": "",
            "Feedback comments": "",
            "Last modified (grade)": "-",
        },
    }[fmt]
    feedback = 'Step 1 does not follow: from <img src=x onerror="alert(1)"> & co'
    out = io.StringIO()
    write_grades(out, fmt, [Submission("1", "x", "0", 1, meta)], {"1": {"score": 0.0, "feedback": feedback}})
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    cell = rows[1][rows[0].index(column)]
    assert (
        "<" not in cell
        and cell == 'Step 1 does not follow: from &lt;img src=x onerror="alert(1)"&gt; &amp; co'
    )
