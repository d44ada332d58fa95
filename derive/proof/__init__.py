r"""Machine-checked proofs on a small trusted kernel: theorems, steps, chains, sections, renderers.

* :mod:`derive.proof.kernel` — the only code that makes a :class:`Theorem` (LCF style);
* :mod:`derive.proof.axioms` — the declared, cited trusted base;
* :mod:`derive.proof.checks` — small check objects that prove a step through the kernel;
* ``Proof`` / ``Chain`` / ``ChainBuilder`` — proofs whose statement *is* a kernel theorem;
* :mod:`derive.proof.render` — LaTeX, Markdown, plain text and JSON (rendering checks nothing).

See ``docs/kernel.md`` for the rules, the axioms and what is trusted.
"""

from __future__ import annotations

from derive.proof._proof import Chain, ChainBuilder, Proof, Section, Step
from derive.proof.axioms import AXIOMS, Axiom
from derive.proof.checks import (
    ChainRule,
    ChangeOfVariables,
    Check,
    Differentiate,
    FromJacobian,
    Identity,
    Induction,
    InverseFunction,
    PeelLastTerm,
    Rewrite,
    StandardNormal,
    SummandIdentity,
    UsingFacts,
)
from derive.proof.kernel import KernelError, Theorem

__all__ = [
    "AXIOMS",
    "Axiom",
    "Chain",
    "ChainBuilder",
    "ChainRule",
    "ChangeOfVariables",
    "Check",
    "Differentiate",
    "FromJacobian",
    "Identity",
    "Induction",
    "InverseFunction",
    "KernelError",
    "PeelLastTerm",
    "Proof",
    "Rewrite",
    "Section",
    "StandardNormal",
    "Step",
    "SummandIdentity",
    "Theorem",
    "UsingFacts",
]
