r"""Read students' LaTeX into SymPy with a real grammar (lark, LALR), never with ``eval``.

SymPy's ``parse_latex`` cannot read ``\log\sigma_{t,i}``, ``\sum_i`` or ``\mathbf{z}`` and silently
turns ``-\frac{1}{2}\sum_{i=1}^{D}\log(\tilde{\sigma}_i^2+\epsilon)`` into ``-1/2``; latex2sympy reads
``\log`` as base 10. Here every construct is in ``grammar.lark`` and every SymPy object is built
by a constructor, under a problem's :class:`Notation`.

What is read: ``\frac \tfrac \dfrac`` (also ``\frac12``), ``\sqrt{}``, ``\sqrt[n]{}``, ``^``/``_``
with or without braces, ``\log``/``\ln`` (natural), ``\log_b``, ``\log^k``, ``\exp``, ``e^{x}``,
``\pi``, ``\infty``, ``\left \right \big \Big ...``, ``|x|``, ``\sum``/``\prod`` with or without
bounds (``\sum_i``, ``\sum_{t,i}`` use the notation's default ranges), ``\cdot \times * /``,
implicit multiplication, decimals (exact), fonts and accents (``\mathbf{z}`` -> ``z``,
``\tilde\sigma`` -> ``\tilde{\sigma}``), spacing and ``\text{}`` prose, ``$``/``$$``/``\[``/``\(``
delimiters (prose around them is ignored), Unicode Greek letters and ``∑ ∏ √ ∞ · × −``,
``=`` chains and ``aligned``/``align*``/``equation`` rows with annotations, and the notation's
named quantities (``\log q(\mathbf{z}_0|\mathbf{x})``, ``\log\det|dz_t/dz_{t-1}|``).
Upright names (``\mathrm{log}``, ``\operatorname{ln}``, ``\operatorname{det}``) are the functions,
and an unknown multi-letter one is an error, never a product of letters; ``\tag{}``/``\label{}``
are dropped; ``&&`` and ``\dots\text{}`` start a row's justification.

Reading rules worth knowing: an undelimited function argument is the product that follows
(``\log 2\pi x`` = ``log(2*pi*x)``) while a delimited one stands alone (``\log(2\pi) x``); a sum
without parentheses extends over later terms that still use its index, with a warning (the
*sum-extension rule*, see ``_rewrite``); ``name(a|b)`` or ``name(a, b)`` is a function
application and must be a named quantity, while ``c(x)`` is a product. Lenient readings, each
with a warning: inside a sum over the dimension index, a vector symbol stands for its component
(``\mathbf{z}_0`` is :math:`z_{0,i}`); ``\frac{\partial}{\partial x} f`` differentiates; ``\det(v)``
of an expression in the problem's vectors is the determinant of the diagonal matrix, the product
of its components (a feature-by-feature map). Errors with the column: ``&`` inside parentheses,
braces or ``\left...\right``, and an environment without its ``\end``.

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
