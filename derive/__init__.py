r"""derive — a symbolic derivation verifier for normalizing flows.

The pipeline, one package each::

    derive.layers      flow-layer models (SymPy): forward map, parameters, direction, claimed log-det
    derive.jacobian    Jacobian with its proved structure -> log-determinant (chain rule for stacks)
    derive.proof       machine-checked proof steps, proofs, and renderers (LaTeX / Markdown / text)
    derive.derivations the problem-set results, derived and proved (IAF, batch norm)
    derive.results     the proved closed forms, consumed by
    derive.kernels     NumPy kernels generated (lambdified) from them, and
    derive.check       the homework answer checker (LaTeX front-end + equivalence engine)

``import derive`` is light: it never imports torch (``derive.torch`` is the optional reference
implementation), nor even :mod:`importlib.metadata` until ``derive.__version__`` is asked for
(the installed package's version, read on first use):

>>> import importlib.metadata, derive
>>> derive.__version__ == importlib.metadata.version("derive")
True
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["__version__"]

__version__: str  # set on first access, by __getattr__ below


def _installed_version() -> str:
    r"""The installed distribution's version, as :func:`importlib.metadata.version` finds it.

    Fast path (a one-shot CLI call pays ~20 ms for importing :mod:`importlib.metadata`): the
    first ``derive-<version>.dist-info/METADATA`` on ``sys.path`` and its ``Version:`` header —
    the same search importlib.metadata makes; anything unusual falls back to it.
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found = [
            n
            for n in names
            if n.lower().startswith(("derive-", "derive.")) and n.endswith((".dist-info", ".egg-info"))
        ]
        if len(found) != 1 or not found[0].endswith(".dist-info"):
            if found:
                break  # several or an egg-info: let importlib.metadata decide
            continue
        header: dict[str, str] = {}
        try:
            with open(os.path.join(entry or ".", found[0], "METADATA"), encoding="utf-8") as fh:
                for line in fh:  # the headers end at the first blank line (the description follows)
                    if not line.strip():
                        break
                    key, sep, value = line.rstrip("\n").partition(": ")
                    if sep and not line[0].isspace():
                        header.setdefault(key, value)
        except (OSError, UnicodeDecodeError):
            break
        if header.get("Name", "").lower() == "derive" and header.get("Version"):
            return header["Version"]
        break
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("derive")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = _installed_version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
