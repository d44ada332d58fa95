r"""The checked rewrite :math:`\sum_t \log a_t = \log \prod_t a_t` (positive :math:`a_t`), for fewer logarithms.

A kernel computing :math:`\sum_{i}\sum_{t}\log\sigma_{t,i}` spends nearly all its time in the
:math:`(T+1)D` logarithms. For positive factors the sum of logs is the log of the product, which
:class:`~derive.codegen.LogProd` evaluates with a few logarithms of grouped products, the groups
sized so that no partial product can leave the normal floating-point range (see
``_grouped_log``). The rewrite is two small rules, collected in a tuple
(:data:`LOG_PRODUCT_RULES`):

* ``split-log-terms``: :math:`\sum_L (r + \log g) = \sum_L r + \sum_L \log g` where :math:`g > 0`
  depends on the summed indices (linearity; it exposes the logs of a summand);
* ``log-sum-to-log-product``: :math:`\sum_L \log g = \log\prod_L g` for :math:`g > 0`.

Rules only *propose*; :func:`rewrite_log_products` checks every replacement and the whole result
symbolically (``expand_log`` under the atoms' assumptions, so a factor not known to be positive is
never combined) and raises :class:`~derive.errors.VerificationError` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from derive.errors import VerificationError

__all__ = ["LOG_PRODUCT_RULES", "ProposedRewrite", "rewrite_log_products"]

#: Rounds of rule application before giving up on reaching a fixed point (each round is checked).
_MAX_ROUNDS = 8


@dataclass(frozen=True)
class ProposedRewrite:
    """A rule: ``propose(node)`` returns a replacement for ``node`` or ``None``; never trusted."""

    name: str
    propose: Callable[[sp.Basic], sp.Expr | None]


def _summed(node: sp.Basic) -> set[sp.Symbol]:
    return set(node.variables) if isinstance(node, sp.Sum) else set()


def _positive_log(term: sp.Basic, names: set[sp.Symbol]) -> bool:
    """``log(g)`` with ``g`` known positive and depending on a summed index."""
    return isinstance(term, sp.log) and term.args[0].is_positive is True and bool(term.free_symbols & names)


def _split_log_terms(node: sp.Basic) -> sp.Expr | None:
    if not isinstance(node, sp.Sum) or not isinstance(node.function, sp.Add):
        return None
    names = _summed(node)
    logs = [a for a in node.function.args if _positive_log(a, names)]
    rest = [a for a in node.function.args if not _positive_log(a, names)]
    if not logs or (not rest and len(logs) == 1):
        return None
    kept = [sp.Sum(sp.Add(*rest), *node.limits)] if rest else []
    return sp.Add(*kept, *(sp.Sum(g, *node.limits) for g in logs))


def _log_sum_to_log_product(node: sp.Basic) -> sp.Expr | None:
    if isinstance(node, sp.Sum) and _positive_log(node.function, _summed(node)):
        return sp.log(sp.Product(node.function.args[0], *node.limits))
    return None


#: The rewrites, tried in order at every node until none applies (a registry is just a tuple).
LOG_PRODUCT_RULES: tuple[ProposedRewrite, ...] = (
    ProposedRewrite("split-log-terms: sum(r + log g) = sum(r) + sum(log g), g > 0", _split_log_terms),
    ProposedRewrite("log-sum-to-log-product: sum(log g) = log(prod g), g > 0", _log_sum_to_log_product),
)


def _flatten_sums(e: sp.Expr) -> sp.Expr:
    """``Sum(Sum(f, L1), L2)`` → ``Sum(f, L1, L2)``: the same object by the definition of a multiple sum."""
    return e.replace(
        lambda x: isinstance(x, sp.Sum) and isinstance(x.function, sp.Sum),
        lambda x: sp.Sum(x.function.function, *x.function.limits, *x.limits),
    )


def _canonical(e: sp.Expr) -> sp.Expr:
    # expand_log without force: log(prod g) -> sum(log g) only where g is known positive.
    return _flatten_sums(sp.expand(_flatten_sums(sp.expand_log(e))))


def equivalent(a: sp.Expr, b: sp.Expr) -> bool:
    """``a ≡ b``: equal canonical forms (``expand_log``, linearity, flat sums), else ``simplify(a - b) = 0``."""
    if a == b:
        return True
    ca, cb = _canonical(a), _canonical(b)
    return ca == cb or bool(sp.simplify(ca - cb) == 0)


def rewrite_log_products(expr: sp.Expr, rules: Sequence[ProposedRewrite] = LOG_PRODUCT_RULES) -> sp.Expr:
    r"""Turn sums of logs of positive terms into logs of products, every replacement checked.

    Raises ``VerificationError`` (naming the rule) when a proposed replacement, or the whole result,
    is not confirmed equal to what it replaces.

    >>> from derive.symbols import D, T, i, t, epsilon, sigma
    >>> out = rewrite_log_products(sp.Sum(epsilon[i] ** 2 + sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)))
    >>> out == sp.Sum(epsilon[i] ** 2, (i, 1, D)) + sp.log(sp.Product(sigma[t, i], (t, 0, T), (i, 1, D)))
    True
    >>> x = sp.IndexedBase("x", real=True)  # not known positive: log(x1 x2) != log x1 + log x2
    >>> rewrite_log_products(sp.Sum(sp.log(x[t]), (t, 0, T)))
    Sum(log(x[t]), (t, 0, T))
    """

    def round_(e: sp.Expr, rule: ProposedRewrite) -> sp.Expr:
        def value(node: sp.Basic) -> sp.Expr:
            new = rule.propose(node)
            assert new is not None
            if not equivalent(new, node):
                raise VerificationError(f"rewrite {rule.name} does not hold for {node}: proposed {new}")
            return new

        return e.replace(lambda node: rule.propose(node) is not None, value)

    out = expr
    for _ in range(_MAX_ROUNDS):
        before = out
        for rule in rules:
            out = round_(out, rule)
        if out == before:
            break
    if not equivalent(out, expr):
        raise VerificationError(f"log-product rewrite changed the expression: {out}")
    return out
