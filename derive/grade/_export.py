r"""The grades file a course platform imports (``--csv``), one row per submission in input order.

* ``prairielearn`` — the manual-grading upload: ``uid``, ``qid``, ``submission_id``, ``score_perc``
  (0-100), ``feedback`` (Markdown, with ``<>&`` as entities); a blank ``score_perc`` leaves the score
  unchanged.
* ``moodle`` — the offline grading worksheet as downloaded, with ``Grade`` (score x ``Maximum
  Grade``) and, when the worksheet has the column, ``Feedback comments`` filled in; ``Identifier``
  and ``Last modified (grade)`` are kept as they were (Moodle's importer matches on the first and
  refuses rows whose grade changed in Moodle after the second).
* ``canvas`` — a gradebook import: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section`` and one assignment column (``--assignment``, e.g. ``PS2 Q2 (12345)``; a name without
  ``(id)`` makes Canvas create the assignment), then the ``Points Possible`` row.
* ``dir``/``csv`` — ``id``, ``score`` (0-1), ``status``, ``feedback``.

A submission that needs a human (score ``None``) gets a blank grade, never a zero.

>>> import io
>>> from derive.grade._inputs import Submission
>>> out = io.StringIO()
>>> write_grades(out, "csv", [Submission("a", "x", "0", 1)], {"a": {"score": 1.0, "status": "equivalent", "feedback": "ok"}})
>>> out.getvalue().splitlines()
['id,score,status,feedback', 'a,1,equivalent,ok']
"""

from __future__ import annotations

import contextlib
import csv
import html
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from derive.errors import UsageError
from derive.grade._inputs import Submission

__all__ = ["export_grades", "write_grades"]


def _markup_safe(text: str) -> str:
    """Feedback for a platform that renders it (PrairieLearn: Markdown, Moodle: HTML).

    It quotes the student's LaTeX, so ``<``, ``>`` and ``&`` become entity references: they show
    as typed and cannot become markup in the student's browser.
    """
    return html.escape(str(text), quote=False)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _scaled(score: Any, full: str) -> str:
    if score is None:
        return ""
    try:
        maximum = float(full) if full.strip() else 1.0
    except ValueError:
        maximum = 1.0
    return _number(float(score) * maximum)


def write_grades(
    out: IO[str], fmt: str, subs: list[Submission], records: dict[str, dict[str, Any]], assignment: str = ""
) -> None:
    """Write the grades CSV for ``fmt`` to ``out``."""
    writer = csv.writer(out, lineterminator="\n")
    rows = [(s, records[s.id]) for s in subs if s.id in records]
    if fmt == "prairielearn":
        writer.writerow(["uid", "qid", "submission_id", "score_perc", "feedback"])
        for sub, rec in rows:
            perc = "" if rec.get("score") is None else _number(100 * float(rec["score"]))
            meta = sub.meta
            writer.writerow(
                [
                    meta.get("uid", ""),
                    meta.get("qid", ""),
                    meta.get("submission_id", ""),
                    perc,
                    _markup_safe(rec.get("feedback", "")),
                ]
            )
    elif fmt == "moodle":
        header = list(subs[0].meta) if subs else ["Identifier", "Grade", "Last modified (grade)"]
        writer.writerow(header)
        for sub, rec in rows:
            row = dict(sub.meta)
            if rec.get("score") is not None:
                row["Grade"] = _scaled(rec["score"], row.get("Maximum Grade", ""))
            if "Feedback comments" in row:
                row["Feedback comments"] = _markup_safe(rec.get("feedback", ""))
            writer.writerow([row.get(h, "") for h in header])
    elif fmt == "canvas":
        column = assignment or "derive grade"
        points = next((s.meta.get("points_possible", "") for s in subs if s.meta.get("points_possible")), "")
        points = points if _is_number(points) else "1"
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["    Points Possible", "", "", "", "", _number(float(points))])
        for sub, rec in rows:
            meta = sub.meta
            writer.writerow(
                [
                    meta.get("name", ""),
                    meta.get("id", ""),
                    meta.get("sis_id", ""),
                    "",
                    meta.get("section", ""),
                    _scaled(rec.get("score"), points),
                ]
            )
    else:
        writer.writerow(["id", "score", "status", "feedback"])
        for sub, rec in rows:
            score = rec.get("score")
            writer.writerow(
                [
                    sub.id,
                    "" if score is None else _number(float(score)),
                    rec.get("status", ""),
                    rec.get("feedback", ""),
                ]
            )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def export_grades(
    path: str | Path,
    fmt: str,
    subs: list[Submission],
    records: dict[str, dict[str, Any]],
    assignment: str = "",
) -> None:
    """Write the grades CSV atomically to ``path`` (a failure never leaves half a file)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write_grades(fh, fmt, subs, records, assignment)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
