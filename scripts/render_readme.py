#!/usr/bin/env python
r"""Regenerate the example outputs in README.md and docs/commands/*.md by running their commands.

Each example sits between two markers; the opening one names the command line:

    <!-- output: derive check batchnorm-logdet '-\frac12\sum_i\log(\tilde\sigma_i^2+\epsilon)' -->
    ```console
    $ derive check ...
    (what the command printed, standard output then standard error)
    ```
    <!-- /output -->

The command line is split like a shell would (shlex) and run in-process through derive.cli.main,
with help texts wrapped at 100 columns; the fenced block is replaced by what it printed.
tests/test_readme.py fails when one of these files is not current.

    python scripts/render_readme.py           rewrite README.md and docs/commands/*.md
    python scripts/render_readme.py --check   exit 1 if one of them is stale
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def files() -> list[Path]:
    """The files whose examples are generated: README.md, then the command pages of the docs site."""
    return [README, *sorted((ROOT / "docs" / "commands").glob("*.md"))]


COLUMNS = "100"
BLOCK = re.compile(r"(?P<open><!-- output: (?P<cmd>.*?) -->\n)(?P<body>.*?)(?P<close><!-- /output -->)", re.S)


def run(command: str) -> str:
    """The console transcript of one ``derive ...`` command line."""
    from derive.cli import main

    argv = shlex.split(command)
    if not argv or argv[0] != "derive":
        raise SystemExit(f"render_readme: an example must start with 'derive': {command!r}")
    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = COLUMNS  # argparse wraps help text at the terminal width
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(argv[1:])
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    printed = (out.getvalue() + err.getvalue()).rstrip("\n")
    return f"```console\n$ {command}\n{printed}\n```\n"


def rendered(text: str) -> str:
    """``text`` with every example block replaced by what its command prints now."""
    return BLOCK.sub(lambda m: m["open"] + run(m["cmd"]) + m["close"], text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate the example outputs of README.md and docs/commands/*.md by running their commands.",
        epilog="tests/test_readme.py fails when one of these files is stale.",
    )
    parser.add_argument("--check", action="store_true", help="only check: exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path in files():
        text = path.read_text()
        new = rendered(text)
        if new == text:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if not args.check:
            path.write_text(new)
    if args.check and stale:
        print(f"stale: {', '.join(stale)} (run python scripts/render_readme.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
