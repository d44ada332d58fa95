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
implementation). ``derive.__version__`` is the installed package's version:

>>> import importlib.metadata
>>> __version__ == importlib.metadata.version("derive")
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("derive")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
