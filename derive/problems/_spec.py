r"""What a problem is: a small declarative spec the answer checker reads.

A :class:`Problem` names its symbols' notation (which LaTeX spellings mean which SymPy atoms),
the sizes and their ranges, definitions (e.g. :math:`z_{0,i} = \mu_{0,i} + \sigma_{0,i}\epsilon_i`),
the quantity the answer is about, and its reference answer — a function returning the *proved*
result from :mod:`derive.results`, never a typed-in formula.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

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
