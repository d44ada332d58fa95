"""The JSONL report: whole lines, one per id, repaired and filtered on resume."""

from __future__ import annotations

import json

from derive.grade import Report, read_records
from derive.grade._report import encode, score_bins, summary_lines


def _open(path, wanted):
    rep = Report(path)
    done, stale = rep.open(wanted)
    return rep, done, stale


def test_append_is_one_line_per_record_even_with_newlines_in_text(tmp_path):
    path = tmp_path / "r.jsonl"
    rep, *_ = _open(path, {})
    rep.append({"id": "a\nb", "feedback": "line1\nline2\u2028", "sha256": "1"})
    rep.close()
    data = path.read_bytes()
    assert data.count(b"\n") == 1 and data.isascii()
    assert read_records(path)[0]["feedback"] == "line1\nline2\u2028"


def test_resume_keeps_matching_drops_stale_and_torn_keeps_foreign(tmp_path):
    path = tmp_path / "r.jsonl"
    lines = [
        encode({"id": "same", "sha256": "s", "problem": "p", "mode": "answer"}),
        encode({"id": "changed", "sha256": "old", "problem": "p", "mode": "answer"}),
        encode({"id": "not-in-input", "sha256": "x", "problem": "p", "mode": "answer"}),
        b'{"id": "torn", "sha',
    ]
    path.write_bytes(b"".join(lines))
    wanted = {"same": ("s", "p", "answer"), "changed": ("new", "p", "answer"), "torn": ("t", "p", "answer")}
    rep, done, stale = _open(path, wanted)
    rep.close()
    assert list(done) == ["same"] and list(stale) == ["changed"] and rep.dropped_torn == 1
    assert [r["id"] for r in read_records(path)] == ["same", "not-in-input"]
    assert path.read_bytes().endswith(b"\n")


def test_duplicate_ids_in_a_report_are_collapsed_to_the_last(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(encode({"id": "a", "sha256": "1"}) + encode({"id": "a", "sha256": "2"}))
    rep, done, _ = _open(path, {"a": ("2", None, None)})
    rep.close()
    assert done["a"]["sha256"] == "2"
    assert len(path.read_text().splitlines()) == 1


def test_garbage_lines_are_not_records(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"[1,2]\nnot json\n" + encode({"id": "a"}) + b'{"id": 5}\n')
    assert [r["id"] for r in read_records(path)] == ["a"]


def test_score_bins_and_summary():
    records = [
        {"id": "a", "status": "equivalent", "score": 1.0, "seconds": 0.5},
        {"id": "b", "status": "not-equivalent", "score": 0.0, "seconds": 2.0},
        {"id": "c", "status": "undecided", "score": None, "seconds": 1.0},
        {"id": "d", "status": "invalid", "score": 0.5, "seconds": 0.1},
    ]
    assert dict(score_bins(records)) == {
        "0": 1,
        "(0, 0.25]": 0,
        "(0.25, 0.5]": 1,
        "(0.5, 0.75]": 0,
        "(0.75, 1)": 0,
        "1": 1,
        "manual": 1,
    }
    lines = summary_lines(records, slowest=2)
    assert lines[0] == "4 submissions: equivalent 1, invalid 1, not-equivalent 1, undecided 1"
    assert lines[2] == "slowest: b 2.00 s, c 1.00 s"
    assert json.loads(encode(records[0])) == records[0]
