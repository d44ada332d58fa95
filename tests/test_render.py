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
from derive.proof.render import _escape_text, render

PROOFS = {
    "iaf-general": iaf_general_proof,
    "iaf-concrete": lambda: iaf_concrete_proof(3, 2),
    "iaf-inverse": iaf_inverse_proof,
    "batchnorm-eval": batchnorm_eval_proof,
    "batchnorm-generative": lambda: batchnorm_eval_proof(None, True, "generative"),
    "batchnorm-train": batchnorm_train_proof,
}


@pytest.fixture(params=list(PROOFS), ids=list(PROOFS))
def proof(request: pytest.FixtureRequest) -> Proof:
    return PROOFS[request.param]()


@pytest.mark.parametrize("fmt", ["latex", "markdown", "text"])
def test_every_step_appears_with_how_it_was_certified(proof: Proof, fmt: str) -> None:
    out = render(proof, fmt)
    assert "erified" not in out  # axioms are cited, computations are named: nothing is just "verified"
    assert out.count("omputed:") == len(proof.steps)
    for k in range(1, len(proof.steps) + 1):
        assert f"({k})" in out or f"{k}. " in out
    cited = sum(len(s.axioms) for s in proof.steps)
    assert out.count("(cited: ") == cited  # each cited axiom is named at the step that uses it
    assert {a.name for s in proof.steps for a in s.axioms} <= {a.name for a in proof.axioms_used()}


@pytest.mark.parametrize("fmt", ["latex", "markdown", "text"])
def test_every_format_ends_with_the_trusted_base(proof: Proof, fmt: str) -> None:
    out = render(proof, fmt)
    tail = out[out.index("Trusted base") :]
    for axiom in proof.axioms_used():
        citation = _escape_text(axiom.citation) if fmt == "latex" else axiom.citation
        assert axiom.name in tail and citation in tail


def test_text_has_no_raw_sympy_or_latex(proof: Proof) -> None:
    out = render(proof, "text")
    for raw in ("Sum(", "sigma[", "\\frac", "\\mathbf", "\\log", "\\tilde", "$"):
        assert raw not in out, raw
    assert proof.title in out and "Theorem:" in out and "Assumptions:" in out


def test_json_lists_steps_rules_and_axioms(proof: Proof) -> None:
    import json

    data = json.loads(render(proof, "json"))
    steps = [s for sec in data["sections"] for c in sec["chains"] for s in c["steps"]]
    assert len(steps) == len(proof.steps)
    assert {a["name"] for a in data["axioms"]} == {a.name for a in proof.axioms_used()}
    assert all(set(s) >= {"step", "rule", "from", "to", "axioms", "computed"} for s in steps)


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
