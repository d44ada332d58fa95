"""The docs: generated proofs are current, the site builds in strict mode, the example notebook runs."""

from __future__ import annotations

import argparse
import doctest
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("render_docs", ROOT / "scripts" / "render_docs.py")
assert _spec is not None and _spec.loader is not None
render_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_docs)


@pytest.mark.parametrize("name", sorted(render_docs.PAGES))
def test_rendered_proof_is_current(name: str) -> None:
    path = ROOT / "docs" / "proofs" / name
    assert path.exists(), f"{name} missing: run python scripts/render_docs.py"
    assert path.read_text() == render_docs.rendered()[name], (
        f"{name} is stale: run python scripts/render_docs.py"
    )


def test_architecture_page_names_every_pipeline_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    for module in (
        "derive/layers",
        "derive/jacobian.py",
        "derive/proof",
        "derive/derivations",
        "derive/kernels.py",
    ):
        assert module in text


# ----------------------------------------------------------------------------- the documentation site


def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link, a page missing from the nav or a bad reference fails."""
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    site = tmp_path / "site"
    for name in render_docs.PAGES:
        assert (site / "proofs" / name.removesuffix(".md") / "index.html").exists(), name
    api = (site / "api" / "index.html").read_text()
    assert "derive.check.check_answer" in api and "derive.kernels.batchnorm_logdet" in api
    # Docstrings are reST: the griffe hook (docs/hooks/griffe_rst.py) turns their roles into maths
    # MathJax typesets (arithmatex spans) and code, so none is printed raw.
    assert api.count('class="arithmatex"') >= 20
    for raw in (":math:", ".. math::", ":func:", ":class:", ":mod:"):
        assert raw not in api, raw
    assert not (site / "hooks").exists()
    assert (site / "examples" / "derive.ipynb").exists()


def test_rst_hook_rewrites_roles_and_math_blocks() -> None:
    spec = importlib.util.spec_from_file_location("griffe_rst", ROOT / "docs" / "hooks" / "griffe_rst.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    failures, tried = doctest.testmod(module)
    assert tried >= 2 and failures == 0
    indented = module.rst_to_markdown(
        "x\n\n.. math::\n\n    a_i = b\n\nafter :class:`derive.errors.UsageError`"
    )
    assert indented.split("\n")[3:6] == ["$$", "a_i = b", "$$"] and "`derive.errors.UsageError`" in indented


def test_every_proof_page_and_every_command_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for name in render_docs.PAGES:
        assert f"proofs/{name}" in nav, name
    for page in ("kernel.md", "conventions.md", "getting-started.md", "api.md"):
        assert page in nav, page
    from derive.cli import _build_parser

    parser = _build_parser()
    (commands,) = (a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in commands:
        assert f"commands/{command}.md" in nav, f"derive {command} has no page on the site"


# ----------------------------------------------------------------------------- the example notebook

NOTEBOOK = ROOT / "docs" / "examples" / "derive.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:40]


def test_notebook_runs_and_shows_a_proof_a_kernel_check_and_two_answers() -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
    latex = [o["data"]["text/latex"] for o in outputs if "text/latex" in o.get("data", {})]
    assert len(latex) == 1 and latex[0].strip()
    text = "".join(o.get("text", "") for o in outputs)
    assert "kernel" in text and "autograd" in text
    assert "equivalent: " in text and "not-equivalent: " in text and "sigma~[" in text
