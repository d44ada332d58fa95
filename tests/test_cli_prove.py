"""`derive prove`: exit codes, formats, files, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main
from derive.errors import VerificationError


@pytest.mark.parametrize(
    "argv",
    [
        ["prove", "iaf"],
        ["prove", "iaf", "--dim", "3", "--steps", "2", "--format", "markdown"],
        ["prove", "iaf-stable", "--format", "text"],
        ["prove", "iaf-inverse", "--dim", "2"],
        ["prove", "batchnorm", "--affine", "--standalone"],
        ["prove", "batchnorm", "--mode", "train", "--format", "text"],
        ["prove", "batchnorm", "--direction", "generative", "--dim", "2"],
    ],
    ids=lambda a: " ".join(a[1:]),
)
def test_prove_exit_zero(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize(
    "argv",
    [
        ["prove", "nope"],
        ["prove", "iaf", "--dim", "3"],
        ["prove", "iaf", "--dim", "0", "--steps", "1"],
        ["prove", "iaf", "--affine"],
        ["prove", "batchnorm", "--steps", "2"],
        ["prove", "batchnorm", "--format", "pdf"],
        ["prove", "iaf", "--standalone", "--format", "text"],
        ["prove", "batchnorm", "--mode", "train", "--affine"],
        [],
    ],
    ids=lambda a: " ".join(a) or "empty",
)
def test_bad_arguments_exit_two_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("derive: error:") and "\n" not in err and "Traceback" not in err


def test_failed_verification_exits_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import derive.derivations.iaf as iaf

    def broken() -> None:
        raise VerificationError("main: step 3 (substitute): not an identity")

    monkeypatch.setattr(iaf, "iaf_general_proof", broken)
    assert main(["prove", "iaf"]) == 1
    assert "step 3" in capsys.readouterr().err


def test_output_file_is_written(tmp_path: Path) -> None:
    out = tmp_path / "q1.tex"
    assert main(["prove", "iaf", "--standalone", "-o", str(out)]) == 0
    assert out.read_text().startswith(r"\documentclass")


def test_unwritable_output_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "iaf", "-o", "/nonexistent-dir/q1.tex"]) == 2


def test_python_dash_m() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "derive", "prove", "batchnorm", "--format", "text"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "log|det dy/dx|" in run.stdout
