r"""One-line readable text for expressions in kernel messages: ``σ_t,i`` rather than ``sigma[t, i]``.

>>> from derive.symbols import sigma, bn_std, t, i
>>> show(sigma[t, i] + bn_std[i] ** 2)
'σ̃_i**2 + σ_t,i'
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

__all__ = ["NAMES", "show"]

NAMES = {
    "sigma": "σ",
    "mu": "μ",
    "epsilon": "ε",
    "gamma": "γ",
    "beta": "β",
    r"\tilde{\sigma}": "σ̃",
    r"\tilde{\mu}": "μ̃",
    r"\hat{y}": "ŷ",
    r"\log\sigma": "logσ",
}


class _Printer(StrPrinter):
    def _print(self, expr: Any, **kwargs: Any) -> str:
        if isinstance(expr, sp.Indexed):  # Indexed has its own _sympystr, which would win
            return self._print_Indexed(expr)
        return str(super()._print(expr, **kwargs))

    def _print_Indexed(self, e: sp.Indexed) -> str:
        name = NAMES.get(str(e.base.label), str(e.base.label))
        idx = [s if (s := sp.sstr(a)).isalnum() else f"({s})" for a in e.indices]
        return f"{name}_{','.join(idx)}"

    def _print_Symbol(self, e: sp.Symbol) -> str:
        return NAMES.get(e.name, "ε" if e.name == "epsilon" else e.name)

    def _print_Dummy(self, e: Any) -> str:
        return str(e.name)


def show(e: sp.Basic) -> str:
    """``e`` on one line, indexed symbols as ``σ_t,i``."""
    return str(_Printer().doprint(e))
