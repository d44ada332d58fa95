r"""Numerically stable log-sigmoid and the checked rewrite that introduces it.

:math:`\log\operatorname{sigmoid}(s) = \log\frac{1}{1+e^{-s}}` overflows in floating point for
:math:`s \ll 0` (:math:`e^{-s} = \infty`); :class:`LogSigmoid` prints as ``-logaddexp(0, -s)``, which
is finite for :math:`s = \pm 800`. :func:`rewrite_log_sigmoid` replaces the patterns in
:data:`LOG_SIGMOID_RULES` and verifies every replacement (Kingma et al. 2016, §A, the LSTM-type
IAF update uses :math:`\sigma_t = \operatorname{sigmoid}(s_t)`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.errors import VerificationError

__all__ = ["LOG_SIGMOID_RULES", "LogSigmoid", "RewriteRule", "Softplus", "rewrite_log_sigmoid"]


class LogSigmoid(sp.Function):
    r"""Numerically stable :math:`\log\operatorname{sigmoid}(x) = \log\frac{1}{1+e^{-x}} = -\log(1+e^{-x})`.

    NumPy prints it as ``-numpy.logaddexp(0, -x)``: finite for :math:`x = \pm 800`, where
    ``log(1/(1+exp(-x)))`` overflows. :math:`\frac{d}{dx}\log\operatorname{sigmoid}(x) = \frac{1}{1+e^x}`.

    >>> x = sp.Symbol("x", real=True)
    >>> LogSigmoid(x).rewrite(sp.log), LogSigmoid(x).diff(x), LogSigmoid(0)
    (log(1/(1 + exp(-x))), 1/(exp(x) + 1), -log(2))
    >>> float(sp.lambdify(x, LogSigmoid(x))(-800.0))
    -800.0
    """

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        return -sp.log(2) if x.is_zero else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return 1 / (1 + sp.exp(self.args[0]))

    def _eval_rewrite_as_log(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 / (1 + sp.exp(-x)))

    _eval_rewrite_as_exp = _eval_rewrite_as_log

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.rewrite(sp.log)._eval_evalf(prec)

    def _numpycode(self, printer: Any) -> str:
        return f"(-{printer._module_format('numpy.logaddexp')}(0, {printer._print(-self.args[0])}))"


class Softplus(sp.Function):
    r""":math:`\operatorname{softplus}(x) = \log(1+e^x)`, printed as ``logaddexp(0, x)``.

    The lowering writes :math:`\log\operatorname{sigmoid}(x) = -\operatorname{softplus}(-x)`, so that
    a sum of log-sigmoids becomes ``-sum(logaddexp(0, -s))`` (one negation, not one per element).

    >>> x = sp.Symbol("x", real=True)
    >>> Softplus(x).rewrite(sp.log), Softplus(x).diff(x)
    (log(exp(x) + 1), 1/(1 + exp(-x)))
    """

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        return sp.log(2) if x.is_zero else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return 1 / (1 + sp.exp(-self.args[0]))

    def _eval_rewrite_as_log(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 + sp.exp(x))

    _eval_rewrite_as_exp = _eval_rewrite_as_log

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.rewrite(sp.log)._eval_evalf(prec)

    def _numpycode(self, printer: Any) -> str:
        return f"{printer._module_format('numpy.logaddexp')}(0, {printer._print(self.args[0])})"


@dataclass(frozen=True)
class RewriteRule:
    """``pattern`` (in the wild ``w``) → ``result(w)``; each use is verified, never trusted."""

    name: str
    pattern: sp.Expr
    result: Callable[[sp.Expr], sp.Expr]


_w = sp.Wild("w")

#: The log-sigmoid rewrites, tried in order (a registry is just a tuple).
LOG_SIGMOID_RULES: tuple[RewriteRule, ...] = (
    RewriteRule("log(1/(1+exp(w))) = LogSigmoid(-w)", sp.log(1 / (1 + sp.exp(_w))), lambda w: LogSigmoid(-w)),
    RewriteRule("log(exp(w)/(1+exp(w))) = LogSigmoid(w)", sp.log(sp.exp(_w) / (1 + sp.exp(_w))), LogSigmoid),
    RewriteRule("log(1+exp(w)) = -LogSigmoid(-w)", sp.log(1 + sp.exp(_w)), lambda w: -LogSigmoid(-w)),
)


def _equivalent(a: sp.Expr, b: sp.Expr) -> bool:
    if a == b or sp.expand_log(a) == sp.expand_log(b):
        return True
    return bool(sp.simplify(sp.expand_log(a - b)) == 0)


def rewrite_log_sigmoid(expr: sp.Expr, rules: Sequence[RewriteRule] = LOG_SIGMOID_RULES) -> sp.Expr:
    r"""Replace :math:`\log\operatorname{sigmoid}` patterns by :class:`LogSigmoid`, checked.

    Each replacement, and the whole result, must satisfy ``new.rewrite(log) ≡ old`` (structurally
    or after ``expand_log``, which uses the atoms' assumptions); otherwise ``VerificationError``.

    >>> from derive.symbols import s, t, i
    >>> rewrite_log_sigmoid(sp.log(1 / (1 + sp.exp(-s[t, i]))) + sp.log(1 + sp.exp(s[t, i])))
    -LogSigmoid(-s[t, i]) + LogSigmoid(s[t, i])
    """

    def match(e: sp.Basic) -> tuple[RewriteRule, sp.Expr] | None:
        if isinstance(e, sp.log):
            for rule in rules:
                m = e.match(rule.pattern)
                if m is not None and _w in m:
                    return rule, m[_w]
        return None

    def value(e: sp.Expr) -> sp.Expr:
        found = match(e)
        assert found is not None
        rule, w = found
        new = rule.result(w)
        if not _equivalent(new.rewrite(sp.log), e):
            raise VerificationError(f"rewrite {rule.name} does not hold for {e}")
        return new

    out = expr.replace(lambda e: match(e) is not None, value)
    if not _equivalent(out.rewrite(sp.log), expr):
        raise VerificationError(f"log-sigmoid rewrite changed the expression: {out}")
    return out
