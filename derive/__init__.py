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
implementation).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
