"""The HTML report: escaped, script-free, self-contained, and laid out as maths by a real browser.

The browser checks drive Debian's chromium (installed by scripts/test.sh) headless, both through
its command line (``--dump-dom``, ``--screenshot``) and through the DevTools protocol over
``--remote-debugging-pipe`` (NUL-separated JSON on file descriptors 3 and 4: no client library,
no browser download) to read element boxes. Under ``CI=true`` a missing chromium fails.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from derive.grade import grade, render_html, safe_mathml
from derive.grade._inputs import Submission
from derive.grade._runner import GradeRun

PROBLEM = "batchnorm-logdet"
RIGHT = r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i^2+\epsilon)"
WRONG = r"-\sum_i \log(\tilde\sigma_i^2+\epsilon)"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: scripts/test.sh installs it")
        pytest.skip("chromium not installed (scripts/test.sh installs it)")
    return exe


@pytest.mark.parametrize(
    "fragment",
    [
        "<math><script>alert(1)</script></math>",
        '<math><mi onclick="x()">a</mi></math>',
        '<math><mi href="https://example.com">a</mi></math>',
        "<math><!-- c --><mi>a</mi></math>",
        "<math><img src=x></math>",
        "<svg><math></math></svg>",
        "<math><mi>a</mi></math><style>*{}</style>",
    ],
    ids=["script", "event-attribute", "href", "comment", "img", "not-math-root", "trailing-style"],
)
def test_unsafe_mathml_is_refused(fragment):
    assert safe_mathml(fragment) is None


def _run(records: list[dict[str, Any]], texts: dict[str, str], math: dict[str, list[str]]) -> GradeRun:
    subs = [Submission(r["id"], texts.get(r["id"]), "0", 0) for r in records]
    return GradeRun("dir", subs, records, math=math)


def test_everything_from_a_submission_is_escaped():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    record = {
        "id": evil,
        "status": "parse-error",
        "score": 0.0,
        "message": evil,
        "feedback": evil,
        "warnings": [evil],
        "seconds": 0.1,
    }
    page = render_html(PROBLEM, "answer", _run([record], {evil: evil}, {evil: [f"<math>{evil}</math>"]}))
    assert (
        "<script" not in page
        and "<img" not in page
        and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    )
    assert "&lt;script&gt;" in page


def test_page_is_self_contained_and_script_free(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.tex").write_text(RIGHT)
    grade(PROBLEM, subs, tmp_path / "r.jsonl", html=tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page and " src=" not in page and " href=" not in page and "<link" not in page
    assert page.count("<math") == 1 and "<svg" in page


def test_steps_page_shows_the_chain_and_flags_the_bad_step(tmp_path):
    target = r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "d.md").write_text(f"$${target} = {WRONG} = {RIGHT}$$")
    grade(PROBLEM, subs, tmp_path / "r.jsonl", steps=True, html=tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert page.count("<math") == 3 and page.count("<mo>=</mo><mrow>") == 2
    assert page.count('<li class="bad">step') == 2 and "invalid" in page


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    subs = tmp / "subs"
    subs.mkdir()
    files = {"right": RIGHT, "wrong": WRONG, "broken": r"\frac{1}{2", "deriv": ""}
    for name, text in files.items():
        (subs / f"{name}.tex").write_text(text)
    run = grade(PROBLEM, subs, tmp / "r.jsonl", html=tmp / "report.html", jobs=2)
    return tmp / "report.html", run, tmp


def _browser(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    profile = tmp / f"profile-{time.monotonic_ns()}"
    return subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, timeout=120
    )


def test_dump_dom_has_the_maths_and_the_summary(report):
    path, run, tmp = report
    done = _browser(_chromium(), tmp, "--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout.decode()
    parsed = [r for r in run.records if r["status"] in ("equivalent", "not-equivalent")]
    assert dom.count("<math") == len(parsed) == 2
    assert dom.count('class="bin"') == 7 and dom.count('class="sub"') == len(run.records)


def _png_pixels_vary(data: bytes) -> bool:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat))) > 8


def test_screenshot_is_not_blank(report):
    path, _, tmp = report
    shot = tmp / "shot.png"
    done = _browser(_chromium(), tmp, f"--screenshot={shot}", "--window-size=1200,2000", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert _png_pixels_vary(shot.read_bytes())


class _DevTools:
    """The DevTools protocol over --remote-debugging-pipe (fd 3: to the browser, fd 4: from it)."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def wire() -> None:
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(to_r)
        os.close(from_w)
        self.buffer = b""
        self.next_id = 0

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    assert "error" not in reply, reply
                    return dict(reply["result"])
            ready, _, _ = select.select([self.from_r], [], [], 1.0)
            if ready:
                chunk = os.read(self.from_r, 1 << 20)
                assert chunk, "the browser closed the pipe"
                self.buffer += chunk
        raise AssertionError(f"no reply to {method}")

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_w)
        os.close(self.from_r)


_MEASURE = """JSON.stringify({
  maths: [...document.querySelectorAll('math')].map(m => {
    const r = m.getBoundingClientRect(); return [r.width, r.height, getComputedStyle(m).display];
  }),
  fractions: [...document.querySelectorAll('mfrac')].map(f => {
    const [num, den] = [...f.children].map(c => c.getBoundingClientRect());
    return [num.bottom, den.top, num.height, den.height];
  }),
  sums: [...document.querySelectorAll('munderover')].map(u => {
    const [base, under, over] = [...u.children].map(c => c.getBoundingClientRect());
    const mid = r => (r.top + r.bottom) / 2;
    return [mid(over), mid(base), mid(under)];
  }),
  bars: [...document.querySelectorAll('rect.bin')].map(r => r.getBoundingClientRect().width),
  lineHeight: parseFloat(getComputedStyle(document.body).lineHeight),
})"""


def test_maths_is_laid_out_by_the_browser(report):
    path, _, tmp = report
    devtools = _DevTools(_chromium(), tmp / "profile-cdp")
    try:
        target = devtools.call("Target.createTarget", {"url": path.as_uri()})["targetId"]
        session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for _ in range(200):
            probe = {"expression": "document.readyState + ' ' + location.href", "returnByValue": True}
            state = devtools.call("Runtime.evaluate", probe, session)
            if state["result"]["value"] == f"complete {path.as_uri()}":
                break
            time.sleep(0.05)
        value = devtools.call("Runtime.evaluate", {"expression": _MEASURE, "returnByValue": True}, session)
        assert "value" in value["result"], value
        layout = json.loads(value["result"]["value"])
        shot = devtools.call("Page.captureScreenshot", {"format": "png"}, session)
        assert _png_pixels_vary(base64.b64decode(shot["data"]))
    finally:
        devtools.close()
    assert len(layout["maths"]) == 2
    for width, height, display in layout["maths"]:
        assert width > 50 and height > layout["lineHeight"] * 0.8 and display == "block math"  # MathML Core
    # MathML Core layout, not inline text: a fraction's numerator sits above its denominator, and
    # a sum's limits above and below the sign.
    assert layout["fractions"] and all(
        num_bottom <= den_top + 1 for num_bottom, den_top, *_ in layout["fractions"]
    )
    assert layout["sums"] and all(over < base < under for over, base, under in layout["sums"])
    assert len(layout["bars"]) == 7 and all(w > 10 for w in layout["bars"])
