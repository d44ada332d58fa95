r"""``derive check-steps``: exit codes, ``--json`` keys, the text marks and the annotated LaTeX (pdflatex)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from derive.cli import main

CORPUS = Path(__file__).parent / "corpus" / "steps"


@pytest.mark.parametrize(
    ("problem", "name", "code"),
    [
        ("iaf-logq", "iaf_correct_aligned.tex", 0),
        ("iaf-logq", "iaf_wrong_bound.tex", 1),
        ("batchnorm-logdet", "ps2_solution2.md", 0),
    ],
    ids=["valid", "invalid", "solution-2"],
)
def test_exit_codes_follow_the_verdict(
    problem: str, name: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-steps", problem, str(CORPUS / name)]) == code
    out = capsys.readouterr().out
    assert ("✗" in out) is (code == 1) and "✓" in out


def test_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-steps", "iaf-logq", str(CORPUS / "iaf_cancelling_errors.tex"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "invalid" and data["reaches_reference"] is True and data["first_invalid"] == 1
    step = data["steps"][0]
    assert set(step) >= {
        "step",
        "status",
        "from",
        "to",
        "justification",
        "difference",
        "slip",
        "counterexample",
        "warnings",
    }
    assert step["status"] == "invalid" and step["counterexample"] and step["difference"]


def test_parse_error_and_undecided_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.tex"
    broken.write_text(r"$$\log q(\mathbf{z}_T|\mathbf{x}) = \frac{1}{$$")
    assert main(["check-steps", "iaf-logq", str(broken)]) == 2
    assert "parse-error" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["check-steps", "nope", "x.tex"],
        ["check-steps", "iaf-logq", "/nonexistent/file.tex"],
        ["check-steps", "iaf-logq"],
    ],
    ids=["unknown-problem", "missing-file", "no-file"],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("derive: error:") and "Traceback" not in "\n".join(err)


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    text = (CORPUS / "bn_wrong_half.tex").read_text().encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text)))
    assert main(["check-steps", "batchnorm-logdet", "-"]) == 1
    assert "factor-half" in capsys.readouterr().out


def _pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing in CI: scripts/test.sh installs it")
        pytest.skip("pdflatex not installed (scripts/test.sh installs it)")
    return exe


@pytest.mark.pdflatex
@pytest.mark.parametrize(
    ("problem", "name"),
    [
        ("iaf-logq", "ps2_solution1.md"),
        ("batchnorm-logdet", "ps2_solution2.md"),
        ("iaf-logq", "iaf_wrong_sigma_for_square.tex"),
    ],
    ids=["solution-1", "solution-2", "sigma-for-square"],
)
def test_latex_output_compiles(
    problem: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exe = _pdflatex()
    main(["check-steps", problem, str(CORPUS / name), "--format", "latex"])
    tex = capsys.readouterr().out
    assert r"\times" in tex or name == "ps2_solution2.md"
    (tmp_path / "steps.tex").write_text(tex)
    run = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", "steps.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "steps.pdf").stat().st_size > 0
