#!/usr/bin/env bash
# Install what the tests need and run them all (the README's test command; .ci/run calls it).
#   - pdflatex (Debian texlive) where apt is available, so the standalone-LaTeX test really compiles;
#   - the package with its [test] and [docs] extras (torch pinned to the CPU build 2.13.0; mkdocs,
#     nbclient + ipykernel for the docs site and the example notebook);
#   - ruff, mypy, then pytest on every core (pytest-xdist: -n auto, work stealing): unit tests, property tests, doctests, the docs site built with
#     `mkdocs build --strict` and docs/examples/derive.ipynb executed (tests/test_docs.py); the ten
#     slowest tests are printed at the end (--durations=10 in pyproject's addopts).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pdflatex >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    texlive-latex-base texlive-latex-recommended >/dev/null
fi
# chromium (Debian's): tests/test_grade_html.py loads the HTML report headless and checks the maths layout.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

PY="${PYTHON:-python3}"
"$PY" -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"

echo "== ruff"
"$PY" -m ruff check derive tests scripts
"$PY" -m ruff format --check derive tests scripts
echo "== mypy"
"$PY" -m mypy derive
echo "== pytest"
"$PY" -m pytest -n auto --dist worksteal "$@"
