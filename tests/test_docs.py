"""Generated documentation is current: docs/proofs/*.md equal what the proofs render to now."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
