r"""Zero tests: is an expression identically 0 under the atoms' assumptions?

Each strategy is a named, sound rewrite (SymPy's, with ``force=False`` wherever SymPy offers it),
collected in plain tuples and tried cheapest first; a strategy *proves* zero only when its output
is exactly ``0``. ``CHEAP`` runs on every answer; ``STRONG`` only when the cheap ones fail and no
counterexample was found, and a blind ``simplify`` only on small expressions.

>>> import sympy as sp
>>> from derive.symbols import sigma, i
>>> is_zero(sp.log(sigma[0, i] ** 2) - 2 * sp.log(sigma[0, i]))
'expand + split logs'
>>> is_zero(sp.sin(sigma[0, i]) ** 2 + sp.cos(sigma[0, i]) ** 2 - 1) is None
True
>>> is_zero(sp.sin(sigma[0, i]) ** 2 + sp.cos(sigma[0, i]) ** 2 - 1, strong=True)
'trigsimp'
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derive.equivalence._rewrite import split_logs

__all__ = ["CHEAP", "CHEAP_MAX_NODES", "SIMPLIFY_MAX_OPS", "STRONG", "is_zero"]

Strategy = tuple[str, Callable[[sp.Expr], sp.Expr]]

#: A blind ``simplify`` only below this many operations (it can take minutes on large input).
SIMPLIFY_MAX_OPS = 120
#: The cheap pass expands only expressions up to this many nodes (expanding powers of nested sums
#: can take seconds); larger ones wait for the strong pass, after the counterexample search.
CHEAP_MAX_NODES = 200


def _expand_logs(e: sp.Expr) -> sp.Expr:
    return sp.expand(split_logs(sp.expand(e)))


def _rational(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(_expand_logs(e)))


def _powers(e: sp.Expr) -> sp.Expr:
    return _expand_logs(sp.powsimp(sp.powdenest(e, force=False), force=False))


def _radicals(e: sp.Expr) -> sp.Expr:
    return sp.expand(sp.radsimp(sp.sqrtdenest(_expand_logs(e))))


def _simplify(e: sp.Expr) -> sp.Expr:
    e = _expand_logs(e)
    if sp.count_ops(e) > SIMPLIFY_MAX_OPS:
        return e
    return sp.simplify(e)


CHEAP: tuple[Strategy, ...] = (
    ("structural", lambda e: e),
    ("expand + split logs", _expand_logs),
)

STRONG: tuple[Strategy, ...] = (
    ("together + cancel", _rational),
    ("powdenest + powsimp", _powers),
    ("radsimp + sqrtdenest", _radicals),
    ("trigsimp", lambda e: sp.trigsimp(_expand_logs(e))),
    ("simplify (small expressions only)", _simplify),
)


def is_zero(expr: sp.Expr, *, strong: bool = False) -> str | None:
    """The name of the first strategy that turns ``expr`` into exactly 0, else ``None``."""
    if expr == 0:
        return "structural"
    if not strong and sum(1 for _ in sp.preorder_traversal(expr)) > CHEAP_MAX_NODES:
        return None
    strategies = CHEAP + STRONG if strong else CHEAP
    for name, fn in strategies:
        if fn(expr) == 0:
            return name
    return None
