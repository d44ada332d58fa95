r"""LaTeX for the step checker's messages: SymPy's printer, with multi-index sums written nested.

>>> import sympy as sp
>>> i, t, D, T = sp.symbols("i t D T", integer=True)
>>> latex(sp.Sum(sp.log(sp.IndexedBase("sigma")[t, i]), (t, 1, T), (i, 1, D)))
'\\sum_{i=1}^{D} \\sum_{t=1}^{T} \\log{\\left({\\sigma}_{t,i} \\right)}'
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = ["latex"]


class _Printer(LatexPrinter):
    def _print_Sum(self, expr: sp.Sum) -> str:
        if len(expr.limits) == 1:
            return str(super()._print_Sum(expr))
        inner: Any = sp.Sum(expr.function, expr.limits[0])
        for limit in expr.limits[1:-1]:
            inner = sp.Sum(inner, limit)
        var, lo, hi = expr.limits[-1]
        return rf"\sum_{{{self._print(var)}={self._print(lo)}}}^{{{self._print(hi)}}} {self._print(inner)}"


def latex(expr: sp.Basic) -> str:
    """``expr`` as LaTeX, nested sums one ``\\sum`` each."""
    return str(_Printer().doprint(expr))
