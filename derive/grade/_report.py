r"""The report: one JSON line per submission, appended and flushed as each finishes, resumable.

A record is written with one ``write(2)`` on a descriptor opened with ``O_APPEND``, so after
``SIGINT`` or ``SIGKILL`` the file holds whole lines, except at worst a torn last line if the
process died inside that call; :meth:`Report.open` drops such a line, and every record of a
submission whose text changed (other ``sha256``) or that was graded for another problem or mode,
by rewriting the file atomically (temporary file, ``fsync``, ``rename``). Records of ids not in
the current input are kept as they are. Re-running with the same report therefore skips what is
done, re-grades what changed (the new record has ``"regraded": true`` and a warning saying so),
and never holds an id twice.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
>>> with Report(path) as rep:
...     _ = rep.open({})
...     rep.append({"id": "a", "status": "equivalent", "sha256": "x"})
>>> [r["id"] for r in read_records(path)]
['a']
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from derive.errors import UsageError

__all__ = ["KEYS", "Report", "read_records", "summary_lines"]

#: The keys every record has, in this order (more may follow: problem, mode, regraded, steps, ...).
KEYS = ("id", "status", "score", "message", "feedback", "counterexample", "warnings", "seconds", "sha256")


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    return record


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The whole records in a report (a torn or foreign line is skipped); last record per id wins."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise UsageError(f"cannot read the report {path}: {err.strerror}") from None
    records: dict[str, dict[str, Any]] = {}
    for line in data.split(b"\n"):
        record = _parse(line) if line.strip() else None
        if record is not None:
            records.pop(record["id"], None)
            records[record["id"]] = record
    return list(records.values())


def encode(record: dict[str, Any]) -> bytes:
    """One line: the record as compact JSON (ASCII-safe, so no byte of it is a raw newline)."""
    return (json.dumps(record, ensure_ascii=True, separators=(",", ":"), default=str) + "\n").encode()


class Report:
    """An append-only JSONL report at ``path`` (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self.dropped_torn = 0

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(
        self, wanted: dict[str, tuple[str, str, str]]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Prepare for appending. ``wanted`` maps id -> (sha256, problem, mode) of this run's submissions.

        Returns ``(done, stale)``: records that match and are skipped, and old records of
        submissions to re-grade (dropped from the file).
        """
        if self.path.is_dir():
            raise UsageError(f"--out {self.path} is a directory")
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as err:
            raise UsageError(f"cannot read the report {self.path}: {err.strerror}") from None
        kept: dict[str, dict[str, Any]] = {}
        stale: dict[str, dict[str, Any]] = {}
        lines = data.split(b"\n")
        torn = 0
        for k, line in enumerate(lines):
            if not line.strip():
                continue
            record = _parse(line)
            if record is None or (k == len(lines) - 1 and not data.endswith(b"\n")):
                torn += 1
                continue
            kept.pop(record["id"], None)
            kept[record["id"]] = record
        done: dict[str, dict[str, Any]] = {}
        for rid, record in list(kept.items()):
            if rid not in wanted:
                continue
            key = (record.get("sha256"), record.get("problem"), record.get("mode"))
            if key == wanted[rid]:
                done[rid] = record
            else:
                stale[rid] = kept.pop(rid)
        self.dropped_torn = torn
        rewrite = torn or stale or len(kept) != sum(1 for line in lines if line.strip())
        if rewrite:
            self._rewrite(kept.values())
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            raise UsageError(f"cannot write the report {self.path}: {err.strerror}") from None
        return done, stale

    def _rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        directory = self.path.parent if str(self.path.parent) else Path(".")
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.")
        except OSError as err:
            raise UsageError(f"cannot write the report {self.path}: {err.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                for record in records:
                    fh.write(encode(record))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, in one system call (no buffering in this process)."""
        if self._fd is None:
            raise RuntimeError("Report.open() first")
        data = encode(record)
        written = os.write(self._fd, data)
        if written != len(data):  # pragma: no cover — a full disk; never leave a torn line behind
            raise UsageError(f"short write to the report {self.path} (disk full?)")

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


BINS = ("0", "(0, 0.25]", "(0.25, 0.5]", "(0.5, 0.75]", "(0.75, 1)", "1", "manual")


def _bin(score: float | None) -> str:
    if score is None:
        return "manual"
    if score <= 0:
        return "0"
    if score >= 1:
        return "1"
    return BINS[1 + min(3, int((score - 1e-12) / 0.25))]


def score_bins(records: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    """Counts of scores in the bins of :data:`BINS` ("manual": no score, a grader decides)."""
    counts = Counter(_bin(r.get("score")) for r in records)
    return [(label, counts[label]) for label in BINS]


def summary_lines(records: list[dict[str, Any]], *, slowest: int = 5) -> list[str]:
    """The summary printed on stderr: counts per status, score distribution, slowest submissions."""
    statuses = Counter(str(r.get("status")) for r in records)
    lines = [f"{len(records)} submissions: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))]
    lines.append("scores: " + ", ".join(f"{label} {n}" for label, n in score_bins(records) if n))
    timed = sorted(
        (r for r in records if isinstance(r.get("seconds"), int | float)), key=lambda r: -r["seconds"]
    )
    if timed:
        lines.append("slowest: " + ", ".join(f"{r['id']} {r['seconds']:.2f} s" for r in timed[:slowest]))
    return lines
