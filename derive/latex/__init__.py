r"""Read students' LaTeX into SymPy with a real grammar (lark, LALR), never with ``eval``.

>>> from derive.symbols import D, T, i, t, sigma
>>> n = Notation(scalars={"D": D, "T": T}, indexed={r"\sigma": sigma},
...              index_ranges={"i": (i, 1, D), "t": (t, 0, T)})
>>> parse_expression(r"\sum_{t=0}^T \log \sigma_{t,i}", n).expr
Sum(log(sigma[t, i]), (t, 0, T))
"""

from __future__ import annotations

from derive.latex._api import Derivation, Line, Parsed, parse_derivation, parse_expression
from derive.latex.notation import NamedQuantity, Notation

__all__ = [
    "Derivation",
    "Line",
    "NamedQuantity",
    "Notation",
    "Parsed",
    "parse_derivation",
    "parse_expression",
]
