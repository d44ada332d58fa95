r"""``grade``: a whole class through the sandboxed pool, into a resumable report.

The parent process loads the submissions, warms the checker's caches once, forks ``jobs``
persistent workers (:class:`derive.sandbox.WorkerPool`) and appends one record per submission
to the report as each finishes. Submissions already in the report with the same ``sha256``,
problem and mode are skipped; a changed one is re-graded and its record says so. ``SIGINT`` or
``SIGTERM`` stops the run cleanly (workers killed, report closed, whole lines only) and raises
:class:`Interrupted`; a re-run picks up where it stopped.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> with open(os.path.join(d, "alice.tex"), "w") as fh:
...     _ = fh.write(r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i^2+\epsilon)")
>>> run = grade("batchnorm-logdet", d, os.path.join(d, "report.jsonl"), progress=False)
>>> [(r["id"], r["status"], r["score"]) for r in run.records]
[('alice', 'equivalent', 1.0)]
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from derive.errors import DeriveError
from derive.grade._check import failure, grade_one, render_math
from derive.grade._export import export_grades
from derive.grade._inputs import Submission, load_submissions
from derive.grade._progress import Progress
from derive.grade._report import Report, summary_lines
from derive.grade._rubric import Rubric
from derive.sandbox import WorkerPool

__all__ = ["GradeRun", "Interrupted", "grade"]


class Interrupted(DeriveError):
    """The run was stopped by SIGINT/SIGTERM; the report holds every submission finished so far."""

    exit_code = 130


@dataclass
class GradeRun:
    """What a run did: the input format, the records of this input's submissions (input order), counts."""

    fmt: str
    submissions: list[Submission]
    records: list[dict[str, Any]]
    graded: int = 0
    skipped: int = 0
    regraded: int = 0
    notes: list[str] = field(default_factory=list)
    math: dict[str, list[str]] = field(default_factory=dict)
    #: Distinct texts checked in the worker pool, its worker count, and the pool phase's wall time
    #: (start-up and the parent's warm-up excluded): what ``--jobs`` can speed up.
    checked: int = 0
    jobs: int = 1
    check_seconds: float = 0.0

    def summary(self) -> list[str]:
        head = f"graded {self.graded}, skipped {self.skipped} already in the report"
        if self.regraded:
            head += f", re-graded {self.regraded} changed"
        lines = [head, *summary_lines(self.records), *self.notes]
        if self.checked:
            worker = "worker" if self.jobs == 1 else "workers"
            lines.append(
                f"checked {self.checked} distinct texts in {self.check_seconds:.2f} s with {self.jobs} {worker}"
            )
        return lines


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _warm(problem_id: str, mode: str) -> None:
    """Build the parser and the checker's caches once, in the parent, on a fixed trusted answer."""
    from derive.problems import get_problem

    problem = get_problem(problem_id)
    try:
        if mode == "steps":
            grade_one(problem_id, f"$${problem.target_latex} = 0 = 0$$", mode)
        grade_one(problem_id, "0", "answer")
    except Exception:  # only an optimisation: each worker meets the same error, per submission
        pass


def _score(rubric: Rubric, mode: str, fields: dict[str, Any]) -> float | None:
    status = fields["status"]
    if mode == "steps" and status in ("valid", "invalid"):
        return rubric.score_steps(status, reaches_reference=bool(fields.get("reaches_reference")))
    return rubric.score(mode, status)


def _compact_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("step", "status", "line", "from", "to", "slip", "message", "counterexample")
    return [{k: s.get(k) for k in keys} for s in steps]


def _record(
    sub: Submission,
    fields: dict[str, Any],
    seconds: float,
    problem_id: str,
    mode: str,
    rubric: Rubric,
    old: dict[str, Any] | None,
) -> dict[str, Any]:
    warnings = [str(w) for w in fields.get("warnings", ())]
    if old is not None:
        if old.get("sha256") != sub.sha256:
            warnings.append(
                f"the submission changed since it was last graded (sha256 {str(old.get('sha256'))[:12]}... -> "
                f"{sub.sha256[:12]}...); re-graded"
            )
        else:
            warnings.append(
                f"last graded as problem {old.get('problem')!r} mode {old.get('mode')!r}; re-graded"
            )
    record: dict[str, Any] = {
        "id": sub.id,
        "status": fields["status"],
        "score": _score(rubric, mode, fields),
        "message": fields["message"],
        "feedback": fields["feedback"],
        "counterexample": fields.get("counterexample"),
        "warnings": warnings,
        "seconds": round(seconds, 4),
        "sha256": sub.sha256,
        "problem": problem_id,
        "mode": mode,
        "regraded": old is not None,
    }
    if mode == "steps":
        record["reaches_reference"] = bool(fields.get("reaches_reference"))
        record["first_invalid"] = fields.get("first_invalid")
        record["steps"] = _compact_steps(fields.get("steps", []))
    return record


def _unreadable(sub: Submission) -> dict[str, Any]:
    from derive.grade._feedback import answer_feedback

    return {
        "status": "parse-error",
        "message": sub.problem,
        "feedback": answer_feedback("parse-error", sub.problem, None, None),
        "counterexample": None,
        "warnings": [],
    }


def _check_writable(flag: str, path: Path) -> None:
    from derive.errors import UsageError

    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a directory")
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise UsageError(f"{flag} {path}: cannot write in {directory}")


def grade(
    problem_id: str,
    source: str | Path,
    out: str | Path,
    *,
    jobs: int = 1,
    timeout: float = 10.0,
    memory_mb: int = 2048,
    steps: bool = False,
    rubric: Rubric | None = None,
    fmt: str | None = None,
    html: str | Path | None = None,
    csv: str | Path | None = None,
    assignment: str = "",
    progress: bool | None = None,
    stream: TextIO | None = None,
) -> GradeRun:
    r"""Grade every submission in ``source`` for ``problem_id``; append records to the report ``out``.

    ``progress``: a bar on ``stream`` (default stderr) — ``None`` means only when it is a TTY.
    Raises :class:`~derive.errors.UsageError` (bad input, exit 2) or :class:`Interrupted`.
    """
    from derive.problems import get_problem

    get_problem(problem_id)
    for flag, target in (("--html", html), ("--csv", csv)):
        if target is not None:
            _check_writable(flag, Path(target))  # fail before the work, not after it
    mode = "steps" if steps else "answer"
    rubric = rubric or Rubric.default()
    stream = stream or sys.stderr
    fmt, subs, notes = load_submissions(source, fmt)
    by_id = {s.id: s for s in subs}
    report = Report(out)
    run = GradeRun(fmt, subs, [], notes=list(notes))
    with report, _sigterm_as_interrupt():
        done, stale = report.open({s.id: (s.sha256, problem_id, mode) for s in subs})
        if report.dropped_torn:
            run.notes.append(f"dropped {report.dropped_torn} incomplete line(s) from the report")
        records: dict[str, dict[str, Any]] = dict(done)
        todo = [s for s in subs if s.id not in done]
        run.skipped = len(done)
        bar = Progress(len(todo), stream) if progress is not False else Progress(0, stream)
        if progress is True:
            bar.active = len(todo) > 0
        try:
            for sub in [s for s in todo if s.text is None]:
                records[sub.id] = _record(
                    sub, _unreadable(sub), 0.0, problem_id, mode, rubric, stale.get(sub.id)
                )
                report.append(records[sub.id])
                bar.update()
            # Identical texts are checked once and get the same verdict (same answer, same grade).
            same_text: dict[str, list[Submission]] = {}
            for s in todo:
                if s.text is not None:
                    same_text.setdefault(s.text, []).append(s)
            work = [
                (group[0].id, (problem_id, text, mode, html is not None)) for text, group in same_text.items()
            ]
            if work:
                _warm(problem_id, mode)
                run.checked, run.jobs, started = len(work), jobs, time.perf_counter()
                with WorkerPool(jobs, timeout=timeout, memory_mb=memory_mb) as pool:
                    for result in pool.imap_unordered(grade_one, work):
                        first = by_id[result.key]
                        if result.error is not None:
                            fields = failure(result.error, timeout, memory_mb)
                        else:
                            fields = result.value
                        for sub in same_text[first.text or ""]:
                            run.math[sub.id] = fields.get("math", [])
                            records[sub.id] = _record(
                                sub, fields, result.seconds, problem_id, mode, rubric, stale.get(sub.id)
                            )
                            report.append(records[sub.id])
                            bar.update()
                run.check_seconds = time.perf_counter() - started
        except KeyboardInterrupt:
            bar.close()
            left = len(subs) - len(records)
            raise Interrupted(
                f"interrupted: {len(records)} of {len(subs)} submissions are in {out}; "
                f"{left} left (re-run the same command to resume)"
            ) from None
        finally:
            bar.close()
    run.graded = len(todo)
    run.regraded = sum(1 for s in todo if s.id in stale)
    run.records = [records[s.id] for s in subs if s.id in records]
    if html is not None:
        missing = [s for s in subs if s.id not in run.math and s.text is not None]
        if missing:
            with WorkerPool(jobs, timeout=timeout, memory_mb=memory_mb) as pool:
                for result in pool.imap_unordered(
                    render_math, [(s.id, (problem_id, s.text, mode)) for s in missing]
                ):
                    run.math[result.key] = result.value if result.error is None else []
        from derive.grade._html import write_html

        write_html(html, problem_id, mode, run)
    if csv is not None:
        export_grades(csv, fmt, subs, records, assignment)
    return run
