"""``scripts/*.py --help``: every script answers, in plain text (no reST markup), each option explained."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("*.py"))
#: reST/Sphinx markup that reads as noise in a terminal.
REST = re.compile(r"``|:(func|mod|class|meth|math|data|attr):`")


def _help(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``python scripts/NAME --help`` prints (run in-process with runpy: the imports are warm)."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(sys, "argv", [name, "--help"])
    monkeypatch.setattr(sys, "path", list(sys.path))  # scripts prepend the checkout
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "scripts" / name), run_name="__main__")
    assert done.value.code in (0, None)
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _options(text: str) -> list[tuple[str, str]]:
    """(flags, help) for each entry of the ``options:`` section (help may wrap onto the next line)."""
    section = text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    entries: list[tuple[str, str]] = []
    for line in section:
        if line.startswith("  -"):
            flags, _, rest = line.strip().partition("  ")
            entries.append((flags, rest.strip()))
        elif entries and line.startswith(" " * 6):
            flags, rest = entries[-1]
            entries[-1] = (flags, (rest + " " + line.strip()).strip())
    return entries


def test_every_script_is_covered() -> None:
    assert len(SCRIPTS) >= 8 and "render_readme.py" in SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS, ids=SCRIPTS)
def test_help_is_plain_text_and_explains_every_option(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (ROOT / "scripts" / name).read_text()
    assert "ArgumentParser(" in source, f"{name} has no argument parser: --help would run it"
    text = _help(name, capsys, monkeypatch)
    assert text.startswith(f"usage: {name}")
    assert not REST.search(text), REST.search(text)
    for flags, description in _options(text):
        assert description, f"{name}: {flags} has no help text"
