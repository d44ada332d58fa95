r"""Machine-checked proofs: steps, checks, chains, sections, and renderers.

Deriving and checking (``checks``, ``_proof``) is separate from rendering (``render``).
"""

from __future__ import annotations

from derive.proof._proof import Chain, ChainBuilder, Proof, Section, Step
from derive.proof.checks import (
    Check,
    Fact,
    Identity,
    Instance,
    PeelLastTerm,
    Recomputed,
    SummandIdentity,
    UsingFacts,
    Verification,
)

__all__ = [
    "Chain",
    "ChainBuilder",
    "Check",
    "Fact",
    "Identity",
    "Instance",
    "PeelLastTerm",
    "Proof",
    "Recomputed",
    "Section",
    "Step",
    "SummandIdentity",
    "UsingFacts",
    "Verification",
]
