"""derive grade end to end: hostile inputs, mixed directories, limits, resumability, --steps credit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.cli import main
from derive.errors import UsageError
from derive.grade import KEYS, Rubric, grade, grade_one, read_records

PROBLEM = "batchnorm-logdet"
RIGHT = r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i^2+\epsilon)"
RIGHT_TOO = r"\sum_i \log \left| \frac{1}{\sqrt{\tilde{\sigma}_i^2 + \epsilon}} \right|"
WRONG = r"-\sum_i \log(\tilde\sigma_i^2+\epsilon)"
CANARY = "/tmp/derive-grade-canary"

#: Inputs built to break a grader: each must end as a record that is not "equivalent", without
#: running code, reading files, hanging the run or hurting the other submissions.
HOSTILE: dict[str, bytes] = {
    "injection-python": f"__import__('os').system('touch {CANARY}')".encode(),
    "injection-latex-operatorname": rf"\operatorname{{__import__('os').system('touch {CANARY}')}}(x)".encode(),
    "injection-eval-call": b"eval(\"open('/etc/passwd').read()\")",
    "input-file": rb"\input{/etc/passwd}",
    "include-file": rb"\include{/etc/hostname} + \sum_i 1",
    "power-tower": rb"5^{5^{5^{5^{5}}}}",
    "huge-product": (r"\cdot".join(["10^{9999}"] * 400)).encode(),
    "deep-brackets": b"(" * 20_000 + b"x" + b")" * 20_000,
    "megabyte": (RIGHT + " + 0" * 300_000).encode(),
    "binary-junk": bytes(range(256)) * 64,
    "empty": b"",
    "nested-sums": (
        "".join(rf"\sum_{{i={k}}}^{{D}}" for k in range(30)) + r"\log(\tilde\sigma_i^2+\epsilon)"
    ).encode(),
    "nfkc-lookalike-fullwidth": "－½∑ｌｏｇ(σ̃ᵢ²＋ε)".encode(),
    "nfkc-lookalike-cyrillic": RIGHT.replace("e", "\u0435").encode(),  # Cyrillic е inside \epsilon
    "nfkc-lookalike-superscript": r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i²+\epsilon)".encode(),
}


def _write(directory: Path, files: dict[str, bytes | str], suffix: str = ".tex") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / f"{name}{suffix}").write_bytes(data if isinstance(data, bytes) else data.encode())
    return directory


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    if os.path.exists(CANARY):
        os.unlink(CANARY)
    subs = _write(tmp / "subs", {**HOSTILE, "good": RIGHT, "good-too": RIGHT_TOO, "wrong": WRONG})
    run = grade(PROBLEM, subs, tmp / "report.jsonl", jobs=2, timeout=5, memory_mb=512, html=tmp / "r.html")
    return run, tmp


@pytest.mark.parametrize("name", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_hostile_input_is_contained(hostile_run, name):
    run, tmp = hostile_run
    (record,) = [r for r in run.records if r["id"] == name]
    assert record["status"] in {"parse-error", "not-equivalent", "undecided", "timeout", "resource-limit"}
    assert record["score"] in (0.0, None)
    assert record["feedback"] and "\n" not in json.dumps(record)
    assert not os.path.exists(CANARY)
    assert "root:" not in (tmp / "report.jsonl").read_text()


def test_hostile_inputs_do_not_hurt_the_others(hostile_run):
    run, _ = hostile_run
    by_id = {r["id"]: r for r in run.records}
    assert by_id["good"]["status"] == by_id["good-too"]["status"] == "equivalent"
    assert by_id["wrong"]["status"] == "not-equivalent"
    assert len(by_id) == len(HOSTILE) + 3


def test_report_has_the_documented_keys_once_per_submission(hostile_run):
    run, tmp = hostile_run
    lines = (tmp / "report.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len({r["id"] for r in records}) == len(run.submissions)
    for record in records:
        assert list(record)[: len(KEYS)] == list(KEYS)


def test_counterexample_is_in_words_in_the_feedback(hostile_run):
    run, _ = hostile_run
    (wrong,) = [r for r in run.records if r["id"] == "wrong"]
    ce = wrong["counterexample"]
    assert ce["D"] == 1
    assert "your answer gives" in wrong["feedback"] and "D = 1" in wrong["feedback"]


def test_mixed_directory_skips_other_files_and_links(tmp_path):
    subs = _write(tmp_path / "subs", {"a": RIGHT, "b": WRONG})
    (subs / "c.md").write_text(f"My answer: $${RIGHT}$$")
    (subs / "d.txt").write_bytes(b"\x00\x9f\x92\x96")
    (subs / "notes.pdf").write_bytes(b"%PDF-1.4")
    (subs / "link.tex").symlink_to("/etc/passwd")
    (subs / "folder.tex").mkdir()
    run = grade(PROBLEM, subs, tmp_path / "r.jsonl")
    statuses = {r["id"]: r["status"] for r in run.records}
    assert statuses == {"a": "equivalent", "b": "not-equivalent", "c": "equivalent", "d": "parse-error"}
    assert any("link.tex" in n and "symbolic link" in n for n in run.notes)
    assert any("notes.pdf" in n for n in run.notes)


def test_identical_texts_get_identical_verdicts_and_one_record_each(tmp_path):
    subs = _write(tmp_path / "subs", {"a": WRONG, "b": WRONG, "c": WRONG + " ", "d": RIGHT})
    run = grade(PROBLEM, subs, tmp_path / "r.jsonl", jobs=2)
    by_id = {r["id"]: r for r in run.records}
    assert sorted(by_id) == ["a", "b", "c", "d"]
    assert by_id["a"]["sha256"] == by_id["b"]["sha256"] != by_id["c"]["sha256"]
    same = ("status", "score", "message", "feedback", "counterexample", "seconds")
    assert [by_id["a"][k] for k in same] == [by_id["b"][k] for k in same]
    assert by_id["c"]["status"] == "not-equivalent" and by_id["d"]["status"] == "equivalent"


def test_time_limit_gives_timeout(tmp_path):
    subs = _write(tmp_path / "subs", {"a": WRONG})
    (record,) = grade(PROBLEM, subs, tmp_path / "r.jsonl", timeout=0.001).records
    assert record["status"] == "timeout" and record["score"] is None


def _hog_or_grade(problem_id, text, mode, render=True):
    """A checker that exhausts memory on one submission (the real one for the others)."""
    if text == "HOG":
        return len(bytearray(8 * 2**30))
    return grade_one(problem_id, text, mode, render)


def test_memory_limit_gives_resource_limit_and_the_others_are_unaffected(tmp_path, monkeypatch):
    import derive.grade._runner as runner

    monkeypatch.setattr(runner, "grade_one", _hog_or_grade)
    subs = _write(tmp_path / "subs", {"a": RIGHT, "hog": "HOG", "b": WRONG})
    run = grade(PROBLEM, subs, tmp_path / "r.jsonl", memory_mb=256, jobs=2)
    by_id = {r["id"]: r for r in run.records}
    assert by_id["hog"]["status"] == "resource-limit" and by_id["hog"]["score"] is None
    assert "memory limit of 256 MiB" in by_id["hog"]["message"]
    assert (by_id["a"]["status"], by_id["b"]["status"]) == ("equivalent", "not-equivalent")


def test_changed_submission_is_regraded_and_said_so(tmp_path):
    subs = _write(tmp_path / "subs", {"a": RIGHT, "b": WRONG, "c": RIGHT_TOO})
    out = tmp_path / "r.jsonl"
    first = grade(PROBLEM, subs, out)
    assert first.graded == 3
    (subs / "b.tex").write_text(RIGHT)
    second = grade(PROBLEM, subs, out)
    assert (second.graded, second.skipped, second.regraded) == (1, 2, 1)
    records = read_records(out)
    assert sorted(r["id"] for r in records) == ["a", "b", "c"]
    (b,) = [r for r in records if r["id"] == "b"]
    assert b["status"] == "equivalent" and b["regraded"] is True
    assert any("changed since it was last graded" in w for w in b["warnings"])
    assert len(out.read_text().splitlines()) == 3


def test_other_problem_or_mode_is_not_skipped(tmp_path):
    subs = _write(tmp_path / "subs", {"a": RIGHT})
    out = tmp_path / "r.jsonl"
    grade(PROBLEM, subs, out)
    run = grade("iaf-logq", subs, out)
    assert run.graded == 1 and run.records[0]["problem"] == "iaf-logq"
    assert run.records[0]["status"] != "equivalent"


def test_torn_last_line_is_dropped_and_regraded(tmp_path):
    subs = _write(tmp_path / "subs", {"a": RIGHT, "b": WRONG})
    out = tmp_path / "r.jsonl"
    grade(PROBLEM, subs, out)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(lines[0] + lines[1][: len(lines[1]) // 2])  # died inside the second write
    run = grade(PROBLEM, subs, out)
    assert run.graded == 1
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == ["a", "b"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "derive", *args]


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"the run ended or stalled before {n} records (exit {proc.poll()})")


@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["sigkill", "sigint", "sigterm"]
)
def test_interrupted_run_resumes_with_every_id_once(tmp_path, sig):
    ids = [f"s{k:03d}" for k in range(80)]
    # distinct texts (trailing spaces), so each is checked on its own and the run takes a while
    subs = _write(tmp_path / "subs", {k: (RIGHT if n % 3 else WRONG) + " " * n for n, k in enumerate(ids)})
    out = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        _cli("grade", PROBLEM, str(subs), "--out", str(out), "--jobs", "2"), stderr=subprocess.PIPE
    )
    _wait_for_lines(out, 5, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130
        assert b"re-run the same command to resume" in err and b"Traceback" not in err
        assert out.read_bytes().endswith(b"\n")
    partial = [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]
    assert 5 <= len(partial) < len(ids) or sig == signal.SIGKILL
    done = subprocess.run(
        _cli("grade", PROBLEM, str(subs), "--out", str(out), "--jobs", "2"), capture_output=True
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ids
    assert {r["id"]: r["status"] for r in records} == {
        k: ("equivalent" if n % 3 else "not-equivalent") for n, k in enumerate(ids)
    }


def test_progress_bar_only_on_a_terminal(tmp_path):
    import pty

    subs = _write(tmp_path / "subs", {"a": RIGHT, "b": WRONG})
    piped = subprocess.run(
        _cli("grade", PROBLEM, str(subs), "--out", str(tmp_path / "p.jsonl")), capture_output=True
    )
    assert piped.returncode == 0 and b"[" not in piped.stderr.split(b"\n")[0] and b"\r" not in piped.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        _cli("grade", PROBLEM, str(subs), "--out", str(tmp_path / "t.jsonl")),
        stderr=follower,
        stdout=subprocess.DEVNULL,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    assert b"grading:" in seen and b"2/2" in seen  # tqdm's bar


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grade", "nope", "{subs}", "--out", "{out}"], "unknown problem"),
        (["grade", PROBLEM, "{missing}", "--out", "{out}"], "cannot read"),
        (["grade", PROBLEM, "{subs}", "--out", "{out}", "--jobs", "0"], "--jobs"),
        (["grade", PROBLEM, "{subs}", "--out", "{out}", "--format", "moodle"], "directory"),
        (["grade", PROBLEM, "{subs}", "--out", "{subs}"], "is a directory"),
        (["grade", PROBLEM, "{subs}", "--out", "{out}", "--rubric", "{missing}"], "cannot read rubric"),
        (["grade", PROBLEM, "{subs}"], "--out"),
        (["grade", PROBLEM, "{subs}", "--out", "{out}", "--html", "{missing}/r.html"], "cannot write"),
        (["grade", PROBLEM, "{subs}", "--out", "{out}", "--csv", "{subs}"], "is a directory"),
    ],
    ids=[
        "unknown-problem",
        "missing-input",
        "zero-jobs",
        "format-mismatch",
        "out-is-dir",
        "missing-rubric",
        "no-out",
        "html-dir-missing",
        "csv-is-dir",
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    subs = _write(tmp_path / "subs", {"a": RIGHT})
    names = {"subs": str(subs), "out": str(tmp_path / "r.jsonl"), "missing": str(tmp_path / "nope")}
    assert main([a.format(**names) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("derive: error:")


def test_cli_writes_report_summary_and_exit_0(tmp_path, capsys):
    subs = _write(tmp_path / "subs", {"a": RIGHT, "b": WRONG})
    assert main(["grade", PROBLEM, str(subs), "--out", str(tmp_path / "r.jsonl"), "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "equivalent 1" in err and "not-equivalent 1" in err and "slowest:" in err


# --steps -------------------------------------------------------------------------------------

TARGET = r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|"
DERIVATIONS = {
    "valid-reaches": (rf"$${TARGET} = {RIGHT_TOO} = {RIGHT}$$", "valid", True),
    "invalid-reaches": (rf"$${TARGET} = {WRONG} = {RIGHT}$$", "invalid", True),
    "invalid-wrong": (rf"$${TARGET} = {RIGHT_TOO} = {WRONG}$$", "invalid", False),
    "valid-wrong": (
        rf"$${WRONG} = -2 \cdot \frac12 \sum_i \log(\tilde\sigma_i^2+\epsilon)$$",
        "valid",
        False,
    ),
}


@pytest.fixture(scope="module")
def steps_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("steps")
    subs = _write(tmp / "subs", {k: v[0] for k, v in DERIVATIONS.items()}, suffix=".md")
    rubric = Rubric.from_mapping({"steps": {"invalid-reaches-reference": 0.4}})
    return grade(PROBLEM, subs, tmp / "r.jsonl", steps=True, rubric=rubric, jobs=2)


@pytest.mark.parametrize(
    ("name", "score"),
    [("valid-reaches", 1.0), ("invalid-reaches", 0.4), ("invalid-wrong", 0.0), ("valid-wrong", 0.25)],
    ids=[
        "valid-reaches-full",
        "right-result-invalid-steps-share",
        "wrong-result-invalid",
        "valid-steps-wrong-result",
    ],
)
def test_steps_partial_credit(steps_run, name, score):
    (record,) = [r for r in steps_run.records if r["id"] == name]
    _, status, reaches = DERIVATIONS[name]
    assert (record["status"], record["reaches_reference"], record["score"]) == (status, reaches, score)
    assert record["mode"] == "steps"


def test_steps_feedback_names_the_wrong_step(steps_run):
    (record,) = [r for r in steps_run.records if r["id"] == "invalid-reaches"]
    assert record["first_invalid"] == 1
    assert record["steps"][0]["status"] == "invalid"
    assert "Step 1" in record["feedback"] and "does not follow" in record["feedback"]


def test_usage_error_type_for_bad_rubric(tmp_path):
    bad = tmp_path / "r.toml"
    bad.write_text("[answer]\nequivalent = 2\n")
    with pytest.raises(UsageError, match=r"\[0, 1\]"):
        Rubric.load(bad)
