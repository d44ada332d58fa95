r"""The one place derive converts a value to a SymPy expression — and it never accepts text.

``sympy.sympify`` on a string parses (and can execute) Python; derive reads user text only with its
LaTeX grammar (:mod:`derive.latex`). :func:`as_expr` uses ``strict=True``, which converts numbers
and SymPy objects but refuses strings.

>>> as_expr(2)
2
>>> as_expr("__import__('os')")
Traceback (most recent call last):
...
TypeError: derive never converts text to an expression (got str); use derive.latex to parse LaTeX
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["as_expr"]


def as_expr(value: Any) -> Any:
    """``value`` as a SymPy object (numbers, SymPy objects); strings are refused."""
    if isinstance(value, str | bytes):
        raise TypeError(
            f"derive never converts text to an expression (got {type(value).__name__}); use derive.latex to parse LaTeX"
        )
    return sp.sympify(value, strict=True)
