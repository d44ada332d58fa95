r"""The notation of one problem: which LaTeX names mean which SymPy objects.

A student's ``\sigma_{t,i}`` only means ``sigma[t, i]`` because the problem says so; the same
``\epsilon`` is the IAF noise ``epsilon[i]`` in one problem and the batch-norm constant
``bn_eps`` in another. A :class:`Notation` says it once, for the parser:

>>> from derive.symbols import D, T, i, t, sigma, epsilon
>>> iaf = Notation(
...     scalars={"D": D, "T": T},
...     indexed={r"\sigma": sigma, r"\epsilon": epsilon},
...     index_ranges={"i": (i, 1, D), "t": (t, 0, T)},
...     arity={r"\sigma": 2},
... )
>>> iaf.canonical(r"\varepsilon")
'\\epsilon'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy

from derive.latex._lex import BUILTIN_ALIASES


@dataclass(frozen=True)
class NamedQuantity:
    r"""A quantity the problem writes as a whole, e.g. :math:`\log q(\mathbf{z}_0|\mathbf{x})`.

    ``latex`` is parsed with the same grammar and matched against the student's formula up to
    ``\left``/``\right``, size commands, fonts, spacing and ``d`` versus ``\partial``; letters in
    ``params`` are pattern variables bound to whatever index expression the student wrote there
    (``t``, ``1``, ``t+1``, ``T`` ...) and substituted into ``value``.
    """

    latex: str
    value: sympy.Expr
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notation:
    r"""Canonical LaTeX names -> SymPy objects, index ranges, named quantities and aliases.

    ``scalars`` are bare names (``D``, ``T``, the batch-norm ``\epsilon``); ``indexed`` are bases
    that take subscripts (``\sigma_{t,i}`` -> ``sigma[t, i]``); ``index_ranges`` give each index
    letter its symbol and the default bounds of ``\sum_i``; ``aliases`` map extra spellings to
    canonical ones on top of the built-in ones (``\varepsilon`` -> ``\epsilon``, ``\ln`` ->
    ``\log``); ``arity`` optionally fixes how many indices a base takes.
    """

    scalars: Mapping[str, sympy.Expr]
    indexed: Mapping[str, sympy.IndexedBase]
    index_ranges: Mapping[str, tuple[sympy.Symbol, sympy.Expr, sympy.Expr]]
    named: Sequence[NamedQuantity] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    arity: Mapping[str, int] = field(default_factory=dict)

    def canonical(self, name: str) -> str:
        r"""The canonical spelling of a symbol name (notation aliases, then built-in ones)."""
        name = self.aliases.get(name, name)
        if name.startswith("\\") and name[1:] in BUILTIN_ALIASES:
            return "\\" + BUILTIN_ALIASES[name[1:]]
        return name
