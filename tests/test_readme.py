"""README.md tells the truth: generated outputs are current, its commands parse, its extras and paths exist."""

from __future__ import annotations

import importlib.util
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from derive.cli import _answers_after_double_dash, _build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_spec = importlib.util.spec_from_file_location("render_readme", ROOT / "scripts" / "render_readme.py")
assert _spec is not None and _spec.loader is not None
render_readme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_readme)


def test_the_readme_has_generated_examples() -> None:
    assert len(render_readme.BLOCK.findall(README)) >= 5


@pytest.mark.parametrize("path", render_readme.files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_example_outputs_are_current(path: Path) -> None:
    """What README.md and docs/commands/ show is what the program prints now."""
    text = path.read_text()
    assert render_readme.BLOCK.search(text), f"{path.name} has no generated example"
    assert render_readme.rendered(text) == text, f"{path.name} is stale: run python scripts/render_readme.py"


def test_the_renderer_replaces_a_stale_block() -> None:
    stale = "<!-- output: derive problems -->\n```console\n$ derive problems\nold\n```\n<!-- /output -->"
    fresh = render_readme.rendered(stale)
    assert "old" not in fresh and "iaf-logq" in fresh and "batchnorm-logdet" in fresh


def _bash_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command.startswith("derive "):
                commands.append(command)
    return commands


@pytest.mark.parametrize("command", _bash_commands(), ids=lambda c: c[:40])
def test_every_derive_command_in_the_readme_parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    _build_parser().parse_args(_answers_after_double_dash(argv))


def test_no_typed_timing_figures() -> None:
    """Timings come from the benchmarks (as ratios), never typed into the README."""
    assert not re.search(r"~\s*\d+(\.\d+)?\s*(s|ms|seconds)\b", README)


@pytest.mark.parametrize("extra", sorted(set(re.findall(r"derive\[([a-z,]+)\]", README))))
def test_every_extra_the_readme_names_exists(extra: str) -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    for name in extra.split(","):
        assert name in extras, name


def test_testing_extra_has_hypothesis_and_the_same_torch_pin() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert any(req.startswith("hypothesis") for req in extras["testing"])
    torch_pin = [req for req in extras["torch"] if req.startswith("torch")]
    assert torch_pin and set(torch_pin) <= set(extras["testing"])


def test_every_declared_marker_is_used_and_every_named_script_exists() -> None:
    options = PYPROJECT["tool"]["pytest"]["ini_options"]
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").glob("*.py"))
    for marker in options["markers"]:
        name, _, note = marker.partition(":")
        assert f"mark.{name}" in sources, f"marker {name!r} is declared but never used"
        for script in re.findall(r"scripts/[\w.-]+", note):
            assert (ROOT / script).exists(), script
    assert "--durations=10" in options["addopts"]


@pytest.mark.parametrize("doc", ["README.md", "DEVELOPERS.md"])
def test_every_path_named_in_the_docs_exists(doc: str) -> None:
    text = (ROOT / doc).read_text()
    for path in sorted(set(re.findall(r"\b((?:scripts|docs|tests|derive)/[\w./-]*\w)(?![\w<*])", text))):
        assert (ROOT / path).exists(), f"{doc} names {path}, which does not exist"


WALL_CLOCK = re.compile(r"perf_counter|monotonic|time\.time\(|elapsed|timeit")


@pytest.mark.parametrize("path", sorted((ROOT / "tests").glob("test_*.py")), ids=lambda p: p.name)
def test_no_test_asserts_how_long_something_took(path: Path) -> None:
    """DEVELOPERS.md's rule: speed targets live in scripts/bench_*.py, never in an assertion.

    Polling loops with a deadline (``while ... and time.monotonic() < deadline``) are allowed.
    """
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        if "assert" in code and WALL_CLOCK.search(code):
            pytest.fail(f"{path.name}:{number} asserts a wall-clock time: {line.strip()}")
