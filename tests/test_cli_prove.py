"""`derive prove`: exit codes, formats, files, and one-line errors."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import derive
from derive import cli
from derive.cli import main
from derive.errors import VerificationError


def assert_cli_error(err: str) -> str:
    """git/pip style: optionally the usage of the subcommand, then ONE ``derive: error:`` line."""
    lines = err.rstrip("\n").split("\n")
    assert lines[-1].startswith("derive: error: "), err
    assert err.count("derive: error:") == 1 and "error: derive:" not in err, err
    assert "Traceback" not in err
    if len(lines) > 1:
        assert lines[0].startswith("usage: derive"), err
    return lines[-1]


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
    out, err = capsys.readouterr()
    assert out == ""
    assert_cli_error(err)


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        pytest.param([], "usage: derive [", id="no-command"),
        pytest.param(["prove"], "usage: derive prove [", id="no-target"),
        pytest.param(["prove", "iaf", "--dim", "x"], "usage: derive prove [", id="dim-not-int"),
        pytest.param(["problems", "extra"], "usage: derive [", id="unrecognized"),
    ],
)
def test_argparse_errors_show_the_usage_then_one_error_line(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not ``derive: error: derive: the following arguments ...`` (the doubled prefix of old)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    line = assert_cli_error(err)
    assert not line.startswith("derive: error: derive")


def test_no_command_names_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    line = assert_cli_error(capsys.readouterr().err)
    assert line == "derive: error: the following arguments are required: COMMAND"


@pytest.mark.parametrize("batch", [0, 1, -3], ids=["zero", "one", "negative"])
def test_batch_below_two_has_one_rule_and_one_message(batch: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "batchnorm", "--mode", "train", "--batch", str(batch)]) == 2
    line = assert_cli_error(capsys.readouterr().err)
    assert line == f"derive: error: --batch must be an integer >= 2, got {batch}"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    expected = importlib.metadata.version("derive")
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"derive {expected}\n"
    assert derive.__version__ == expected


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
    assert_cli_error(capsys.readouterr().err)


def test_output_to_a_directory_is_one_line_exit_two_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prove", "batchnorm", "--format", "text", "-o", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert assert_cli_error(err) == f"derive: error: cannot write {tmp_path}: is a directory"
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(src: str, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.os, "replace", refuse)
    assert main(["prove", "batchnorm", "--format", "text", "-o", str(tmp_path / "q2.txt")]) == 2
    assert "Permission denied" in assert_cli_error(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_dash_output_is_standard_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # a file named "-" would land here
    assert main(["prove", "batchnorm", "--format", "text", "-o", "-"]) == 0
    assert "log|det ∂y/∂x|" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)], ids=oct)
def test_output_file_mode_respects_the_umask(tmp_path: Path, umask: None, mask: int, mode: int) -> None:
    os.umask(mask)
    out = tmp_path / "q2.txt"
    assert main(["prove", "batchnorm", "--format", "text", "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode


def test_overwritten_file_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "q2.txt"
    out.write_text("old")
    out.chmod(0o640)
    assert main(["prove", "batchnorm", "--format", "text", "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert "log|det ∂y/∂x|" in out.read_text()


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli._build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **action.choices}


@pytest.mark.parametrize("command", sorted(_subparsers()), ids=lambda c: c or "derive")
def test_every_subcommand_and_option_has_help(command: str) -> None:
    parser = _subparsers()[command]
    assert parser.description, command
    for action in parser._actions:
        assert action.help and action.help != argparse.SUPPRESS, (command, action.dest)


def test_prove_help_lists_targets_one_line_each_and_ends_with_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prove", "--help"]) == 0
    out = capsys.readouterr().out
    block = out.split("targets:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split()[0] for line in block] == [*cli.PROVE_TARGETS, "LAYER"]
    assert all(len(line.split()) > 2 for line in block)
    assert " ".join(out.rstrip().split("exit codes:")[-1].split()) == (
        "0 every step verified 1 a step did not verify (the failing step is named on stderr) 2 bad arguments"
    )


def test_problems_help_says_what_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["problems", "--help"]) == 0
    assert "one line per problem" in capsys.readouterr().out


def test_python_dash_m() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "derive", "prove", "batchnorm", "--format", "text"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "log|det ∂y/∂x|" in run.stdout


def test_prove_help_lists_exactly_the_layers_with_a_general_proof() -> None:
    """The help text names the layers that `derive prove LAYER` proves for every size (it is typed in the
    CLI, which must not import the proofs to print its help)."""
    import re

    from derive.cli import _PROVE_EPILOG
    from derive.derivations.layer import BLOCK_GENERAL, GENERAL

    listed = re.search(r"general proof exists \(([^)]*)\)", _PROVE_EPILOG)
    assert listed is not None
    assert set(listed[1].split(", ")) == set(GENERAL) | set(BLOCK_GENERAL)
