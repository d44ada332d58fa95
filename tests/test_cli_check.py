r"""``derive check``: exit codes, ``--json``, ``--file``, standard input, and one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main
from derive.problems import _MODULES as _PROBLEM_MODULES

RIGHT_BN = r"-\frac12\sum_i\log(\tilde\sigma_i^2+\epsilon)"
WRONG_BN = r"-\sum_i\log(\tilde\sigma_i^2+\epsilon)"
RIGHT_IAF = r"-\sum_{i=1}^D \left(\frac{1}{2} \log(2\pi) + \frac{1}{2} \epsilon_i^2 + \sum_{t=0}^T \log \sigma_{t,i} \right)"
#: No sigma at all, so not equivalent, but too many terms to evaluate: the engine says "undecided".
UNDECIDABLE_BN = r"\sum_{i=1}^{10^{9}} \log\epsilon"
#: Too big to finish within a one-second budget.
SLOW_IAF = (
    r"-\sum_{i=1}^{10^{9}} \left(\frac12\log(2\pi)+\frac12\epsilon_i^2+\sum_{t=0}^T\log\sigma_{t,i}\right)"
)
JSON_KEYS = {
    "problem",
    "status",
    "message",
    "method",
    "counterexample",
    "warnings",
    "evidence",
    "column",
    "answer",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str) -> str:
    """git/pip style: optionally the usage of ``derive check``, then ONE ``derive: error:`` line."""
    lines = err.rstrip("\n").split("\n")
    assert lines[-1].startswith("derive: error: "), err
    assert err.count("derive: error:") == 1 and "error: derive" not in err, err
    assert "Traceback" not in err
    if len(lines) > 1:
        assert lines[0].startswith("usage: derive check"), err
    return lines[-1]


@pytest.mark.parametrize(
    ("argv", "code", "status"),
    [
        pytest.param(("batchnorm-logdet", RIGHT_BN), 0, "equivalent", id="equivalent-0"),
        pytest.param(("iaf-logq", RIGHT_IAF), 0, "equivalent", id="equivalent-iaf-0"),
        pytest.param(("batchnorm-logdet", WRONG_BN), 1, "not-equivalent", id="not-equivalent-1"),
        pytest.param(("batchnorm-logdet", r"\frac{1}{"), 2, "parse-error", id="parse-error-2"),
        pytest.param(("batchnorm-logdet", UNDECIDABLE_BN), 3, "undecided", id="undecided-3"),
        pytest.param(("iaf-logq", SLOW_IAF, "--timeout", "1"), 3, "timeout", id="timeout-3"),
    ],
)
def test_exit_codes_and_text(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], code: int, status: str
) -> None:
    got, out, err = run(capsys, "check", *argv)
    assert got == code, out + err
    assert out.startswith(f"{status}: "), out
    assert err == ""


@pytest.mark.parametrize(
    ("argv", "code", "status"),
    [
        pytest.param(("batchnorm-logdet", RIGHT_BN), 0, "equivalent", id="equivalent"),
        pytest.param(("batchnorm-logdet", WRONG_BN), 1, "not-equivalent", id="not-equivalent"),
        pytest.param(("batchnorm-logdet", r"\foo"), 2, "parse-error", id="parse-error"),
    ],
)
def test_json(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], code: int, status: str) -> None:
    got, out, _ = run(capsys, "check", "--json", *argv)
    assert got == code
    data = json.loads(out)
    assert set(data) == JSON_KEYS
    assert data["status"] == status
    assert data["problem"] == argv[0]
    assert data["answer"] == argv[1]
    if status == "not-equivalent":
        assert data["counterexample"]["D"] >= 1
    if status == "equivalent":
        assert data["method"]
    if status == "parse-error":
        assert isinstance(data["column"], int)


def test_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    answer = tmp_path / "answer.tex"
    answer.write_text(RIGHT_BN + "\n")
    code, out, _ = run(capsys, "check", "batchnorm-logdet", "--file", str(answer))
    assert code == 0, out


def test_file_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", "batchnorm-logdet", "--file", str(tmp_path / "nope.tex"))
    assert code == 2
    assert_one_line_error(err)


def test_file_and_argument_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    answer = tmp_path / "answer.tex"
    answer.write_text(RIGHT_BN)
    code, _, err = run(capsys, "check", "batchnorm-logdet", "x", "--file", str(answer))
    assert code == 2
    assert_one_line_error(err)


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(WRONG_BN + "\n"))
    code, out, _ = run(capsys, "check", "batchnorm-logdet", "-", "--json")
    assert code == 1
    assert json.loads(out)["status"] == "not-equivalent"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("check", "batchnorm-logdet", RIGHT_BN), id="after-problem"),
        pytest.param(("check", "--json", "batchnorm-logdet", RIGHT_BN), id="after-json"),
        pytest.param(("check", "batchnorm-logdet", RIGHT_BN, "--json"), id="before-json"),
        pytest.param(("check", "batchnorm-logdet", RIGHT_BN, "--timeout", "5"), id="before-timeout"),
        pytest.param(("check", "batchnorm-logdet", "--", RIGHT_BN), id="after-double-dash"),
    ],
)
def test_answer_starting_with_minus(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 0, out + err
    assert err == ""


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("check", "batchnorm-logdet", RIGHT_BN, "--timeout", "0"), id="timeout-0"),
        pytest.param(("check", "batchnorm-logdet", "--timeout=0", RIGHT_BN), id="timeout=0"),
        pytest.param(("check", "batchnorm-logdet", "x", "--timeout", "-1"), id="timeout-negative"),
        pytest.param(("check", "batchnorm-logdet", "x", "--timeout", "nan"), id="timeout-nan"),
        pytest.param(("check", "batchnorm-logdet", "x", "--timeout", "soon"), id="timeout-not-a-number"),
        pytest.param(("check", "batchnorm-logdet"), id="no-answer"),
        pytest.param(("check", "nope", RIGHT_BN), id="unknown-problem"),
        pytest.param(("check", "nope", "x", "--json"), id="unknown-problem-json"),
        pytest.param(("check",), id="no-problem"),
    ],
)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("check", "batchnorm-logdet", "--file"), id="file-last"),
        pytest.param(("check", "--file"), id="file-alone"),
        pytest.param(("check", "batchnorm-logdet", "--file", "--json"), id="file-then-json"),
        pytest.param(("check", "batchnorm-logdet", "x", "--timeout"), id="timeout-last"),
        pytest.param(("check", "batchnorm-logdet", "--timeout"), id="timeout-after-problem"),
        pytest.param(("check", "batchnorm-logdet", "--timeout", "--", RIGHT_BN), id="timeout-then-dash"),
    ],
)
def test_missing_option_value_reads_like_argparse(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    """Not ``cannot read : Is a directory`` or ``invalid float value: ''`` (the argv rewriting of old)."""
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    option = next(a for a in argv if a in ("--file", "--timeout"))
    assert assert_one_line_error(err) == f"derive: error: argument {option}: expected one argument"


def test_empty_file_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "batchnorm-logdet", "--file=")
    assert code == 2
    assert "expected a file name" in assert_one_line_error(err)


BINARY = b"\xff\xfe\x00-\\frac12\x80"


@pytest.mark.parametrize("json_flag", [True, False], ids=["json", "text"])
def test_binary_file_is_a_parse_error_reported_in_every_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, json_flag: bool
) -> None:
    answer = tmp_path / "answer.bin"
    answer.write_bytes(BINARY)
    argv = ("check", "batchnorm-logdet", "--file", str(answer), *(("--json",) if json_flag else ()))
    code, out, err = run(capsys, *argv)
    assert code == 2 and err == ""
    if json_flag:
        data = json.loads(out)
        assert set(data) == JSON_KEYS
        assert (data["status"], data["message"], data["problem"]) == (
            "parse-error",
            "not UTF-8 text",
            "batchnorm-logdet",
        )
    else:
        assert out == "parse-error: not UTF-8 text\n"


def test_binary_standard_input_is_a_parse_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BINARY)))
    code, out, _ = run(capsys, "check", "batchnorm-logdet", "-", "--json")
    assert code == 2
    assert json.loads(out)["message"] == "not UTF-8 text"


def test_undecodable_argument_is_a_parse_error(capsys: pytest.CaptureFixture[str]) -> None:
    answer = BINARY.decode("utf-8", "surrogateescape")  # how Python hands over non-UTF-8 argv bytes
    code, out, _ = run(capsys, "check", "batchnorm-logdet", answer, "--json")
    assert code == 2
    assert json.loads(out)["status"] == "parse-error"


def test_check_help_ends_with_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    tail = capsys.readouterr().out.rstrip().split("exit codes:")[-1]
    assert [line.split()[0] for line in tail.strip().splitlines()] == ["0", "1", "2", "3"]


def test_unknown_problem_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(capsys, "check", "nope", "x")
    assert "unknown problem 'nope'" in err
    assert "iaf-logq" in err and "batchnorm-logdet" in err


def test_subprocess() -> None:
    """The real entry point: ``python -m derive check`` with an answer that starts with '-'."""
    proc = subprocess.run(
        [sys.executable, "-m", "derive", "check", "batchnorm-logdet", WRONG_BN, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["status"] == "not-equivalent"
    assert proc.stderr == ""


# ----------------------------------------------------------------------------- counterexample notation


def test_counterexample_keys_are_one_readable_notation_in_json_and_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``sigma~[1]`` for the batch-norm scale, the same key in ``--json`` and in the text; no LaTeX."""
    _, out, _ = run(capsys, "check", "batchnorm-logdet", WRONG_BN, "--json")
    cex = json.loads(out)["counterexample"]
    atoms = {k for k in cex if k not in {"D", "answer", "reference", "difference", "digits", "note"}}
    assert atoms == {"epsilon", *(f"sigma~[{k}]" for k in range(1, cex["D"] + 1))}
    assert not any("\\" in k or "{" in k for k in cex)
    _, text, _ = run(capsys, "check", "batchnorm-logdet", WRONG_BN)
    (line,) = (ln for ln in text.splitlines() if ln.startswith("  counterexample: "))
    pairs = dict(item.split(" = ") for item in line.removeprefix("  counterexample: ").split(", "))
    assert pairs == {k: str(v) for k, v in cex.items()}


def test_counterexample_values_are_where_the_answer_really_differs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Read the keys back: at those values (plain SymPy, no engine) the answer and the reference differ."""
    import sympy as sp

    _, out, _ = run(capsys, "check", "batchnorm-logdet", WRONG_BN, "--json")
    cex = json.loads(out)["counterexample"]
    eps = sp.Rational(cex["epsilon"])
    variances = [sp.Rational(cex[f"sigma~[{k}]"]) ** 2 for k in range(1, cex["D"] + 1)]
    answer = -sum(sp.log(v + eps) for v in variances)  # WRONG_BN
    reference = -sum(sp.log(v + eps) for v in variances) / 2
    assert abs(sp.N(answer - reference - sp.Rational(cex["difference"]), 50)) < sp.Rational(1, 10**25)
    assert answer != reference


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (r"\tilde{\sigma}", "sigma~"),
        (r"\tilde{\mu}", "mu~"),
        (r"\log\sigma", "log_sigma"),
        (r"\hat{y}", "y^"),
        ("epsilon", "epsilon"),
        (r"\alpha", "alpha"),
    ],
    ids=["sigma-tilde", "mu-tilde", "log-sigma", "y-hat", "plain", "command"],
)
def test_readable_name(name: str, shown: str) -> None:
    from derive.equivalence._evaluate import readable_name

    assert readable_name(name) == shown


# ----------------------------------------------------------------------------- one-shot start-up (issue 12)
#: What a one-shot answer check must not import when the cache holds the proved references.
HEAVY = (
    *("torch", "derive.proof", "derive.derivations", "derive.results", "derive.grade", "derive.steps"),
    # the registries are lazy: only the problem asked for, and only the layers it is built on
    *(f"derive.problems.{m}" for m in _PROBLEM_MODULES.values() if m != "iaf_logq"),
    *(f"derive.layers.{m}" for m in ("_registry", "conv1x1", "spline", "coupling", "planar", "sylvester")),
)
#: ``derive ARGS``, then the modules it loaded that start with one of HEAVY, written to the file REPORT.
_WARM_RUN = """
import json, os, sys
from derive.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.startswith(HEAVY) or m.startswith("sympy.physics"))
with open(os.environ["REPORT"], "w") as fh:
    json.dump({"code": code, "heavy": heavy}, fh)
"""


def test_cold_cache_proves_then_writes_and_warm_cache_imports_no_proof_machinery(tmp_path: Path) -> None:
    env = {**os.environ, "DERIVE_CACHE_DIR": str(tmp_path / "cache"), "REPORT": str(tmp_path / "report.json")}
    env.pop("DERIVE_NO_CACHE", None)
    argv = ["check", "iaf-logq", RIGHT_IAF, "--json"]
    cold = subprocess.run(
        [sys.executable, "-m", "derive", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert cold.returncode == 0, cold.stderr
    assert json.loads(cold.stdout)["status"] == "equivalent"
    written = sorted(p.name for p in (tmp_path / "cache").glob("*/*.pickle"))
    assert any(name.startswith("reference-iaf-logq-") for name in written), written
    assert "iaf-logq-named.pickle" in written and "lark-parser.pickle" in written
    script = _WARM_RUN.replace("HEAVY", repr(HEAVY))
    warm = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert warm.returncode == 0, warm.stderr
    assert json.loads(warm.stdout)["status"] == "equivalent"
    assert json.loads((tmp_path / "report.json").read_text()) == {"code": 0, "heavy": []}
