r"""Sound rewrites applied to both sides before comparing: exact numbers, definitions, logarithms.

Every rule here is an identity *under the SymPy assumptions of the atoms*, never a formal
manipulation that is only sometimes true:

* a ``Float`` becomes the exact decimal it prints as (``0.5 -> 1/2``; a decimal literal means that
  decimal);
* :math:`\log(ab) = \log a + \log b` only for :math:`a, b > 0`;
  :math:`\log a^r = r\log a` only for :math:`a > 0`, real :math:`r`;
  :math:`\log x^{2m} = 2m\log|x|` for real :math:`x \ne 0`;
  :math:`\log|ab| = \log|a| + \log|b|` for :math:`a, b \ne 0`; :math:`\log|a^r| = r\log|a|` for real
  :math:`r`, :math:`a \ne 0`; :math:`\log\prod_k f_k = \sum_k \log f_k` for :math:`f_k > 0`;
  :math:`\log e^y = y` for real :math:`y`; :math:`\log n = \sum_p e_p\log p` for an integer
  :math:`n = \prod_p p^{e_p}`;
* :math:`\sqrt{x^2}` is *not* :math:`x` (it stays :math:`|x|`), and :math:`\log|x| = \log x` only when
  :math:`x > 0` (SymPy already drops the bars then).

>>> import sympy as sp
>>> from derive.symbols import D, bn_eps, bn_std, i
>>> v = bn_std[i] ** 2 + bn_eps
>>> split_logs(sp.log(sp.Product(v ** sp.Rational(-1, 2), (i, 1, D))))
Sum(-log(epsilon + \tilde{\sigma}[i]**2)/2, (i, 1, D))
>>> split_logs(sp.log(4 * sp.pi))
log(pi) + 2*log(2)
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

__all__ = ["apply_definitions", "evaluated", "exact_numbers", "is_positive", "prepare", "split_logs"]

_MAX_FACTOR = 10**12


def evaluated(expr: sp.Basic) -> sp.Basic:
    """Rebuild unevaluated ``Add``/``Mul``/``Pow`` nodes (``evaluate=False``, as a parser may keep them).

    >>> import sympy as sp
    >>> evaluated(sp.Mul(sp.Rational(1, 2), sp.Mul(2, sp.Symbol("x"), evaluate=False), evaluate=False))
    x
    """
    if not expr.args or isinstance(expr, sp.Indexed | sp.IndexedBase):
        return expr
    args = [evaluated(a) for a in expr.args]
    if isinstance(expr, sp.Add | sp.Mul | sp.Pow) or any(
        new is not old for new, old in zip(args, expr.args, strict=True)
    ):
        return expr.func(*args)
    return expr


def exact_numbers(expr: sp.Expr) -> sp.Expr:
    """Replace every ``Float`` by the exact decimal it prints as."""
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.Rational(str(f)) for f in floats})


def apply_definitions(expr: sp.Expr, definitions: Mapping[sp.Expr, sp.Expr]) -> sp.Expr:
    r"""Substitute definitions; an ``Indexed`` key with symbol indices is a pattern.

    Symbol indices of a key are pattern variables (whatever index letter the expression uses),
    other indices must match literally: ``z[0, i]`` rewrites ``z[0, j]`` and ``z[0, 2]``, never
    ``z[1, j]``.

    >>> from derive.symbols import z, mu, sigma, epsilon, t, i
    >>> apply_definitions(z[2, 1], {z[t, i]: mu[t, i] + sigma[t, i]})
    mu[2, 1] + sigma[2, 1]
    >>> import sympy as sp
    >>> j = sp.Symbol("j", integer=True)
    >>> apply_definitions(z[0, j] + z[1, j], {z[0, i]: sigma[0, i] * epsilon[i]})
    epsilon[j]*sigma[0, j] + z[1, j]
    """
    plain: dict[sp.Expr, sp.Expr] = {}
    for key, value in definitions.items():
        idx = key.indices if isinstance(key, sp.Indexed) else ()
        variables = [x for x in idx if isinstance(x, sp.Symbol)]
        is_pattern = bool(variables) and len(set(variables)) == len(variables)
        if not is_pattern:
            plain[key] = value
            continue

        def matches(e: sp.Basic, key: sp.Indexed = key) -> bool:
            if not (isinstance(e, sp.Indexed) and e.base == key.base and len(e.indices) == len(key.indices)):
                return False
            return all(
                isinstance(k, sp.Symbol) or k == x for k, x in zip(key.indices, e.indices, strict=True)
            )

        def rule(e: sp.Basic, key: sp.Indexed = key, value: sp.Expr = value) -> sp.Expr:
            pairs = zip(key.indices, e.indices, strict=True)
            return value.xreplace({k: x for k, x in pairs if isinstance(k, sp.Symbol)})

        expr = expr.replace(matches, rule)
    return expr.xreplace(plain) if plain else expr


def is_positive(e: sp.Expr) -> bool:
    """``e > 0`` provably (SymPy assumptions, extended to finite products)."""
    if isinstance(e, sp.Product):
        return is_positive(e.function)
    if isinstance(e, sp.Mul | sp.Add) and all(is_positive(a) for a in e.args):
        return True
    if isinstance(e, sp.Pow) and is_positive(e.base) and bool(e.exp.is_real):
        return True
    return bool(e.is_positive)


def _is_nonzero(e: sp.Expr) -> bool:
    if isinstance(e, sp.Product):
        return _is_nonzero(e.function)
    if isinstance(e, sp.Mul):
        return all(_is_nonzero(a) for a in e.args)
    if isinstance(e, sp.Pow):
        return _is_nonzero(e.base) and bool(e.exp.is_real) and bool(e.exp.is_finite)
    return is_positive(e) or bool(e.is_nonzero)


def _log_of(arg: sp.Expr) -> sp.Expr:
    r"""An expression equal to :math:`\log(\mathrm{arg})`, split where the rules above allow."""
    if isinstance(arg, sp.Integer) and 1 < arg < _MAX_FACTOR:
        factors = sp.factorint(int(arg))
        if len(factors) > 1 or next(iter(factors.values())) > 1:
            return sp.Add(*[e * sp.log(p) for p, e in factors.items()])
        return sp.log(arg)
    if isinstance(arg, sp.Rational) and arg.q != 1 and arg > 0:
        return _log_of(sp.Integer(arg.p)) - _log_of(sp.Integer(arg.q))
    if isinstance(arg, sp.Mul) and all(is_positive(a) for a in arg.args):
        return sp.Add(*[_log_of(a) for a in arg.args])
    if isinstance(arg, sp.Pow) and is_positive(arg.base) and arg.exp.is_real:
        return arg.exp * _log_of(arg.base)
    if isinstance(arg, sp.Pow) and arg.exp.is_even and arg.base.is_real and _is_nonzero(arg.base):
        return arg.exp * _log_abs(arg.base)  # x^(2m) = |x|^(2m) for real x
    if isinstance(arg, sp.Product) and is_positive(arg.function):
        return sp.Sum(_log_of(arg.function), *arg.limits)
    if isinstance(arg, sp.exp) and arg.args[0].is_real:
        return arg.args[0]
    if isinstance(arg, sp.Abs):
        return _log_abs(arg.args[0])
    return sp.log(arg)


def _log_abs(x: sp.Expr) -> sp.Expr:
    r""":math:`\log|x|`, split over nonzero factors."""
    if is_positive(x):
        return _log_of(x)
    if isinstance(x, sp.Mul) and all(_is_nonzero(a) for a in x.args):
        return sp.Add(*[_log_abs(a) for a in x.args])
    if isinstance(x, sp.Pow) and x.exp.is_real and _is_nonzero(x.base):
        return x.exp * _log_abs(x.base)
    if isinstance(x, sp.Product) and _is_nonzero(x.function):
        return sp.Sum(_log_abs(x.function), *x.limits)
    if isinstance(x, sp.Abs):
        return _log_abs(x.args[0])
    return sp.log(sp.Abs(x))


def split_logs(expr: sp.Expr) -> sp.Expr:
    """Split every logarithm in ``expr`` by the rules above, then SymPy's ``expand_log(force=False)``."""
    if not expr.has(sp.log):
        return expr
    out = expr.replace(lambda e: isinstance(e, sp.log), lambda e: _log_of(e.args[0]))
    return sp.expand_log(out, force=False)


def prepare(expr: sp.Expr, definitions: Mapping[sp.Expr, sp.Expr]) -> sp.Expr:
    """Exact numbers, definitions, split logarithms: the common first step for both sides."""
    expr = exact_numbers(evaluated(expr))
    if definitions:
        expr = exact_numbers(apply_definitions(expr, definitions))
    return split_logs(expr)
