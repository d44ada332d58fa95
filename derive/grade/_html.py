r"""The HTML report: one self-contained file, readable without network or JavaScript.

A summary (counts per status, a score histogram as inline SVG), then one entry per submission:
its answer as MathML (SymPy's presentation printer on the *parsed* answer — MathML Core, which
current browsers lay out natively; the LaTeX source is shown as text when it could not be
parsed), the verdict and score, the flagged steps of a derivation, and the feedback. Every
string from a submission is escaped; the MathML is re-checked against a whitelist of MathML
elements and attributes before it is embedded; a Content-Security-Policy forbids scripts and
any network access.

>>> safe_mathml('<math display="block"><mi>x</mi></math>')
'<math display="block"><mi>x</mi></math>'
>>> safe_mathml('<math><script>alert(1)</script></math>') is None
True
"""

from __future__ import annotations

import contextlib
import html
import os
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from derive.errors import UsageError
from derive.grade._report import score_bins

if TYPE_CHECKING:
    from derive.grade._runner import GradeRun

__all__ = ["render_html", "safe_mathml", "write_html"]

_ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "mtext",
        "ms",
        "mspace",
        "mfrac",
        "msqrt",
        "mroot",
        "msub",
        "msup",
        "msubsup",
        "munder",
        "mover",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "menclose",
        "mfenced",
        "mstyle",
        "mpadded",
        "mphantom",
        "semantics",
        "annotation",
    ]
)
_ATTRIBUTES = frozenset(
    [
        "display",
        "mathvariant",
        "linethickness",
        "bevelled",
        "notation",
        "open",
        "close",
        "separators",
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "columnalign",
        "form",
        "accent",
    ]
)
_COLOURS = {
    "equivalent": "#1a7f37",
    "valid": "#1a7f37",
    "not-equivalent": "#cf222e",
    "invalid": "#cf222e",
    "parse-error": "#9a6700",
    "undecided": "#6e7781",
    "timeout": "#6e7781",
    "resource-limit": "#6e7781",
}

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1f2328;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin:0}
.summary{display:flex;gap:2rem;flex-wrap:wrap;align-items:flex-start}
table.counts td{padding:.1rem .8rem .1rem 0}
.sub{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.verdict{display:inline-block;color:#fff;border-radius:4px;padding:0 .5rem;font-weight:600}
.answer{overflow-x:auto;overflow-y:hidden;margin:.5rem 0;padding:.3rem 0;font-size:1.15rem}
pre.source{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5rem;max-height:12rem;overflow:auto}
.steps li.bad{color:#cf222e}.steps li.open{color:#6e7781}
.feedback{background:#fff8c5;padding:.4rem .6rem;border-radius:4px}
.meta{color:#6e7781;font-size:.85rem}
"""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.ok = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ELEMENTS or any(name not in _ATTRIBUTES for name, _ in attrs):
            self.ok = False

    def handle_endtag(self, tag: str) -> None:
        if tag not in _ELEMENTS:
            self.ok = False

    def handle_comment(self, data: str) -> None:
        self.ok = False

    def handle_decl(self, decl: str) -> None:
        self.ok = False

    def handle_pi(self, data: str) -> None:
        self.ok = False

    def unknown_decl(self, data: str) -> None:
        self.ok = False


def safe_mathml(fragment: str) -> str | None:
    """``fragment`` if it is only whitelisted MathML elements and attributes, else ``None``."""
    if not fragment.startswith("<math"):
        return None
    checker = _Checker()
    try:
        checker.feed(fragment)
        checker.close()
    except Exception:
        return None
    return fragment if checker.ok else None


def _histogram(records: list[dict[str, Any]]) -> str:
    bins = score_bins(records)
    peak = max((n for _, n in bins), default=0) or 1
    width, height, bar = 420, 160, 52
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
        f'aria-label="score histogram"><title>Scores</title>'
    ]
    for k, (label, n) in enumerate(bins):
        h = round(height * n / peak)
        x = 8 + k * (bar + 6)
        colour = "#6e7781" if label == "manual" else "#0969da"
        parts.append(
            f'<rect class="bin" x="{x}" y="{height - h + 14}" width="{bar}" height="{h}" fill="{colour}">'
            f"<title>{html.escape(label)}: {n}</title></rect>"
            f'<text x="{x + bar / 2}" y="{height - h + 10}" font-size="11" text-anchor="middle">{n}</text>'
            f'<text x="{x + bar / 2}" y="{height + 30}" font-size="10" text-anchor="middle">{html.escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _steps(record: dict[str, Any]) -> str:
    items = []
    for step in record.get("steps") or []:
        status = str(step.get("status"))
        cls = "bad" if status in ("invalid", "parse-error") else "open" if status != "valid" else "ok"
        text = f"step {step.get('step')}: {status}"
        if step.get("line"):
            text += f" (line {step['line']})"
        if status != "valid":
            text += f" — {step.get('from', '')} → {step.get('to', '')}"
            if step.get("message"):
                text += f": {step['message']}"
        items.append(f'<li class="{cls}">{html.escape(text)}</li>')
    return f'<ol class="steps">{"".join(items)}</ol>' if items else ""


def _entry(record: dict[str, Any], text: str | None, maths: list[str]) -> str:
    status = str(record.get("status"))
    colour = _COLOURS.get(status, "#6e7781")
    score = record.get("score")
    shown = "needs a grader" if score is None else f"score {score:g}"
    safe = [m for m in (safe_mathml(x) for x in maths) if m is not None]
    if safe:
        answer = "".join(safe)
    elif text is None:
        answer = '<p class="meta">(no readable text)</p>'
    else:
        answer = f'<pre class="source">{html.escape(text[:5000])}</pre>'
    extra = "".join(
        f'<p class="meta">warning: {html.escape(str(w))}</p>' for w in (record.get("warnings") or [])[:5]
    )
    return (
        f'<section class="sub" id="sub-{html.escape(str(record["id"]), quote=True)}">'
        f'<h2>{html.escape(str(record["id"]))} <span class="verdict" style="background:{colour}">'
        f'{html.escape(status)}</span> <span class="meta">{shown}, {record.get("seconds", 0):.2f} s</span></h2>'
        f'<div class="answer">{answer}</div>'
        f"{_steps(record)}"
        f'<p class="feedback">{html.escape(str(record.get("feedback", "")))}</p>'
        f'<p class="meta">{html.escape(str(record.get("message", "")))}</p>{extra}</section>'
    )


def render_html(problem_id: str, mode: str, run: GradeRun) -> str:
    """The whole page as a string."""
    from collections import Counter

    counts = Counter(str(r.get("status")) for r in run.records)
    rows = "".join(
        f'<tr><td><span class="verdict" style="background:{_COLOURS.get(s, "#6e7781")}">{html.escape(s)}</span></td>'
        f'<td class="count">{n}</td></tr>'
        for s, n in sorted(counts.items())
    )
    texts = {s.id: s.text for s in run.submissions}
    entries = "".join(_entry(r, texts.get(r["id"]), run.math.get(r["id"], [])) for r in run.records)
    what = "derivations (--steps)" if mode == "steps" else "final answers"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>derive grade: {html.escape(problem_id)}</title><style>{_CSS}</style></head><body>"
        f"<h1>derive grade — {html.escape(problem_id)}, {len(run.records)} {what}</h1>"
        f'<div class="summary"><table class="counts">{rows}</table>{_histogram(run.records)}</div>'
        f"{entries}</body></html>\n"
    )


def write_html(path: str | Path, problem_id: str, mode: str, run: GradeRun) -> None:
    """Write the page atomically."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render_html(problem_id, mode, run))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
