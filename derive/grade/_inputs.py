r"""Where submissions come from: a directory, an ``id,answer`` CSV, or a course platform's export.

Every reader returns :class:`Submission` objects in input order, with the raw bytes hashed
(``sha256``) and the text decoded strictly as UTF-8 (``text is None`` when it is not). Nothing in
a submission is interpreted here: answers are handed to the checker as text.

Formats (detected from the header, or chosen with ``fmt``):

* ``dir`` — every ``.tex``/``.md``/``.txt`` file directly in the directory is one submission, id =
  file stem; symbolic links and other files are skipped (and listed in the notes).
* ``csv`` — columns ``id,answer``.
* ``prairielearn`` — the manual-grading download ``<assessment>_submissions_for_manual_grading.csv``
  (``uid``, ``qid``, ``submission_id``, ``submitted_answer`` as JSON, ...); id = ``submission_id``.
* ``moodle`` — the assignment's offline grading worksheet with online-text submissions
  (``Identifier``, ``Full name``, ..., ``Online text`` as HTML, ...); id = ``Identifier``.
* ``canvas`` — a Classic Quizzes "Student Analysis" report (``name``, ``id``, ``sis_id``,
  ``section``, ..., one ``<question id>: <question text>`` column); id = the Canvas user ``id``.

>>> import io
>>> subs, notes = read_csv_text("id,answer\nalice,-\\frac12\\sum_i \\log(x_i)\n")
>>> subs[0].id, subs[0].text
('alice', '-\\frac12\\sum_i \\log(x_i)')
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from derive.errors import UsageError

__all__ = ["FORMATS", "Submission", "detect_format", "load_submissions", "read_csv_text"]

FORMATS = ("dir", "csv", "prairielearn", "moodle", "canvas")
SUFFIXES = (".tex", ".md", ".txt")

#: Largest submission read; a bigger file is recorded as a parse error without being read whole.
MAX_BYTES = 4 * 2**20
#: Largest input CSV accepted.
MAX_CSV_BYTES = 256 * 2**20

_CANVAS_QUESTION = re.compile(r"^\d+: ")


@dataclass(frozen=True)
class Submission:
    """One submission: its id, its text (``None`` if not UTF-8), the sha256 of its bytes, and platform fields."""

    id: str
    text: str | None
    sha256: str
    size: int
    meta: dict[str, str] = field(default_factory=dict, compare=False)
    problem: str = ""  # why it cannot be checked at all (too large, not UTF-8), else ""


def _make(
    sub_id: str, data: bytes, meta: dict[str, str] | None = None, *, size: int | None = None
) -> Submission:
    digest = hashlib.sha256(data).hexdigest()
    size = len(data) if size is None else size
    try:
        text: str | None = data.decode("utf-8")
        problem = ""
    except UnicodeDecodeError as err:
        text, problem = None, f"the submission is not UTF-8 text (byte {err.start})"
    return Submission(sub_id, text, digest, size, dict(meta or {}), problem)


def _read_file(path: Path, sub_id: str) -> Submission:
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
        if len(data) <= MAX_BYTES:
            return _make(sub_id, data)
        digest = hashlib.sha256(data)
        size = len(data)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    limit = f"{MAX_BYTES // 2**20} MiB"
    return Submission(
        sub_id,
        None,
        digest.hexdigest(),
        size,
        {},
        f"the submission is too large ({size} bytes; the limit is {limit})",
    )


def _read_dir(path: Path) -> tuple[list[Submission], list[str]]:
    subs: list[Submission] = []
    notes: list[str] = []
    for entry in sorted(path.iterdir()):
        if entry.is_symlink():
            notes.append(f"skipped {entry.name}: a symbolic link")
        elif not entry.is_file():
            continue
        elif entry.suffix.lower() not in SUFFIXES:
            notes.append(f"skipped {entry.name}: not .tex, .md or .txt")
        else:
            subs.append(_read_file(entry, entry.stem))
    return subs, notes


def _rows(text: str, source: str) -> tuple[list[str], list[dict[str, str]]]:
    csv.field_size_limit(max(csv.field_size_limit(), 2 * MAX_BYTES))  # megabyte answers are data, not errors
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            raise UsageError(f"{source}: empty CSV file")
        header = [h.strip().lstrip("\ufeff") for h in header]
        rows = [dict(zip(header, row, strict=False)) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as err:
        raise UsageError(f"{source}: not a readable CSV file ({err})") from None
    return header, rows


def detect_format(header: list[str]) -> str | None:
    """The export format a CSV header belongs to, or ``None``."""
    names = set(header)
    if {"submission_id", "submitted_answer", "qid"} <= names:
        return "prairielearn"
    if {"Identifier", "Online text"} <= names:
        return "moodle"
    if {"name", "id", "sis_id"} <= names and any(_CANVAS_QUESTION.match(h) for h in header):
        return "canvas"
    if {"id", "answer"} <= names:
        return "csv"
    return None


class _Text(HTMLParser):
    """Visible text of an HTML fragment (Moodle's online text); tags dropped, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("p", "br", "div", "li"):
            self.parts.append("\n")


def html_text(fragment: str) -> str:
    """Moodle stores online text as HTML; the answer is its visible text."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return html.unescape("".join(parser.parts)).strip()


def _answer_from_json(raw: str) -> tuple[str | None, str]:
    """PrairieLearn's ``submitted_answer``: a JSON object; the answer is its one string value."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        return None, "submitted_answer is not valid JSON"
    if isinstance(value, str):
        return value, ""
    if not isinstance(value, dict):
        return None, "submitted_answer is not a JSON object"
    strings = [v for v in value.values() if isinstance(v, str)]
    if len(strings) != 1:
        return None, f"submitted_answer has {len(strings)} text fields; expected exactly one"
    return strings[0], ""


def _unique(subs: list[Submission], source: str) -> list[Submission]:
    seen: set[str] = set()
    for sub in subs:
        if sub.id in seen:
            raise UsageError(f"{source}: submission id {sub.id!r} appears more than once")
        if not sub.id.strip():
            raise UsageError(f"{source}: a submission has an empty id")
        seen.add(sub.id)
    return subs


def read_csv_text(
    text: str, fmt: str | None = None, source: str = "input"
) -> tuple[list[Submission], list[str]]:
    """Submissions from CSV text in ``fmt`` (detected from the header when ``None``)."""
    header, rows = _rows(text, source)
    detected = detect_format(header)
    fmt = fmt or detected
    if fmt is None:
        raise UsageError(
            f"{source}: cannot tell the format from its header; use --format ({', '.join(FORMATS)})"
        )
    subs: list[Submission] = []
    notes: list[str] = []
    if fmt == "csv":
        _require(header, ("id", "answer"), source, fmt)
        subs = [_make(r["id"], r.get("answer", "").encode()) for r in rows]
    elif fmt == "prairielearn":
        _require(header, ("uid", "qid", "submission_id", "submitted_answer"), source, fmt)
        for r in rows:
            answer, problem = _answer_from_json(r.get("submitted_answer", ""))
            meta: dict[str, str] = {
                k: r.get(k, "") for k in ("uid", "qid", "submission_id", "instance") if k in r
            }
            sub = _make(r["submission_id"] or f"{r['uid']}/{r['qid']}", (answer or "").encode(), meta)
            subs.append(
                sub
                if not problem
                else Submission(
                    sub.id,
                    None,
                    hashlib.sha256(r.get("submitted_answer", "").encode()).hexdigest(),
                    sub.size,
                    meta,
                    problem,
                )
            )
    elif fmt == "moodle":
        _require(header, ("Identifier", "Grade", "Last modified (grade)", "Online text"), source, fmt)
        for r in rows:
            meta = {k: r.get(k, "") for k in header}
            subs.append(_make(r["Identifier"], html_text(r.get("Online text", "")).encode(), meta))
    elif fmt == "canvas":
        _require(header, ("name", "id", "sis_id", "section"), source, fmt)
        questions = [h for h in header if _CANVAS_QUESTION.match(h)]
        if len(questions) != 1:
            raise UsageError(
                f"{source}: expected one question column ('<id>: <text>'), found {len(questions)}"
            )
        column = questions[0]
        index = header.index(column)
        points = header[index + 1] if index + 1 < len(header) else ""
        for r in rows:
            meta = {
                "name": r["name"],
                "id": r["id"],
                "sis_id": r.get("sis_id", ""),
                "section": r.get("section", ""),
                "points_possible": points,
            }
            subs.append(_make(r["id"], html_text(r.get(column, "")).encode(), meta))
    else:
        raise UsageError(f"--format {fmt} does not apply to a CSV file")
    return _unique(subs, source), notes


def _require(header: list[str], columns: tuple[str, ...], source: str, fmt: str) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise UsageError(f"{source}: not a {fmt} export (missing column {', '.join(map(repr, missing))})")


def load_submissions(path: str | Path, fmt: str | None = None) -> tuple[str, list[Submission], list[str]]:
    """(format, submissions, notes) for a directory or CSV file at ``path``."""
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}; known: {', '.join(FORMATS)}")
    if path.is_dir():
        if fmt not in (None, "dir"):
            raise UsageError(f"{path} is a directory; --format {fmt} needs a CSV file")
        subs, notes = _read_dir(path)
        return "dir", _unique(subs, str(path)), notes
    if fmt == "dir":
        raise UsageError(f"{path} is not a directory")
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise UsageError(f"{path}: too large for an input CSV ({size} bytes)")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    header, _ = _rows(text, str(path))
    chosen = fmt or detect_format(header)
    subs, notes = read_csv_text(text, chosen, str(path))
    return chosen or "csv", subs, notes
