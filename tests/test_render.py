"""Renderers show what was checked; the standalone LaTeX compiles with pdflatex."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from derive.derivations.batchnorm import batchnorm_eval_proof, batchnorm_train_proof
from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
from derive.derivations.iaf_variants import iaf_inverse_proof
from derive.errors import UsageError
from derive.proof import Proof
from derive.proof.render import render

PROOFS = {
    "iaf-general": iaf_general_proof,
    "iaf-concrete": lambda: iaf_concrete_proof(3, 2),
    "iaf-inverse": iaf_inverse_proof,
    "batchnorm-eval": batchnorm_eval_proof,
    "batchnorm-train": batchnorm_train_proof,
}


@pytest.fixture(params=list(PROOFS), ids=list(PROOFS))
def proof(request: pytest.FixtureRequest) -> Proof:
    return PROOFS[request.param]()


@pytest.mark.parametrize("fmt", ["latex", "markdown", "text"])
def test_every_step_appears_with_its_verification(proof: Proof, fmt: str) -> None:
    out = render(proof, fmt)
    assert out.count("erified:") == len(proof.steps)
    for k in range(1, len(proof.steps) + 1):
        assert f"({k})" in out or f"{k}. " in out


def test_markdown_uses_display_math(proof: Proof) -> None:
    assert render(proof, "markdown").count("$$") == 2 * sum(len(s.chains) for s in proof.sections)


def test_notebook_repr(proof: Proof) -> None:
    assert r"\begin{align*}" in proof._repr_latex_()


def test_unknown_format() -> None:
    with pytest.raises(UsageError):
        render(iaf_general_proof(), "html")


def _pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing in CI: scripts/test.sh installs it")
        pytest.skip("pdflatex not installed (scripts/test.sh installs it)")
    return exe


@pytest.mark.pdflatex
def test_standalone_latex_compiles(proof: Proof, tmp_path: Path) -> None:
    exe = _pdflatex()
    tex = tmp_path / "proof.tex"
    tex.write_text(render(proof, "latex", standalone=True))
    run = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "proof.pdf").stat().st_size > 1000
