r"""Grade a whole class: ``derive grade PROBLEM INPUT --out REPORT.jsonl``.

Submissions come from a directory, an ``id,answer`` CSV or a course platform's export
(:mod:`derive.grade._inputs`); each is checked in a persistent sandboxed worker
(:class:`derive.sandbox.WorkerPool`) with a hard time and memory limit; one JSON line per
submission is appended to a resumable report (:mod:`derive.grade._report`); scores come from a
rubric (:mod:`derive.grade._rubric`); the platform's import file (:mod:`derive.grade._export`)
and a self-contained HTML report (:mod:`derive.grade._html`) are written at the end.

>>> from derive.grade import Rubric
>>> Rubric.default().score("answer", "not-equivalent")
0.0
"""

from derive.grade._check import grade_one
from derive.grade._export import export_grades
from derive.grade._html import render_html, safe_mathml
from derive.grade._inputs import FORMATS, Submission, detect_format, load_submissions
from derive.grade._report import KEYS, Report, read_records
from derive.grade._rubric import DEFAULT_RUBRIC, Rubric
from derive.grade._runner import GradeRun, Interrupted, grade

__all__ = [
    "DEFAULT_RUBRIC",
    "FORMATS",
    "KEYS",
    "GradeRun",
    "Interrupted",
    "Report",
    "Rubric",
    "Submission",
    "detect_format",
    "export_grades",
    "grade",
    "grade_one",
    "load_submissions",
    "read_records",
    "render_html",
    "safe_mathml",
]
