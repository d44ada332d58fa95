r"""What a problem is: a small declarative spec the answer checker reads.

A :class:`Problem` names its symbols' notation (which LaTeX spellings mean which SymPy atoms),
the sizes and their ranges, definitions (e.g. :math:`z_{0,i} = \mu_{0,i} + \sigma_{0,i}\epsilon_i`),
the quantity the answer is about, and its reference answer — a function returning the *proved*
result from :mod:`derive.results`, never a typed-in formula. :meth:`Problem.proved_reference` is
that result read from derive's on-disk cache of proved references when the cache holds it for
the current sources (:mod:`derive._cache`), else proved by ``reference()`` and stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

import sympy as sp

from derive._cache import cached
from derive.equivalence import Domain
from derive.latex import Notation

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """One homework problem derive can check answers to."""

    id: str
    title: str
    statement: str
    notation: Notation
    domain: Domain
    reference: Callable[[], sp.Expr]
    target: sp.Expr
    target_latex: str
    definitions_text: Mapping[str, str] = field(default_factory=dict)
    #: Caveats the step checker reports with every derivation for this problem.
    notes: tuple[str, ...] = ()

    def proved_reference(self) -> sp.Expr:
        """``reference()``, from the cache of proved references when it holds it (once per process)."""
        return _proved_reference(self.id, self.reference)


@cache
def _proved_reference(problem_id: str, reference: Callable[[], sp.Expr]) -> sp.Expr:
    name = reference_entry(problem_id, reference)
    return reference() if name is None else cached(name, reference, valid=lambda v: isinstance(v, sp.Expr))


def reference_entry(problem_id: str, reference: Callable[[], sp.Expr]) -> str | None:
    """The cache entry of a problem's reference, or ``None`` when it is not cached.

    Keyed by the function that proves it, not only the id (a Problem built elsewhere with the same
    id must never read this one's entry); only a named function of derive's own sources is cached,
    as only those are covered by the cache key's source hash.
    """
    module, name = getattr(reference, "__module__", None) or "", getattr(reference, "__qualname__", "<?>")
    if not module.startswith("derive.") or "<" in name:
        return None
    return f"reference-{problem_id}-{module}.{name}"
