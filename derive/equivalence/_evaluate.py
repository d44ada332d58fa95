r"""Evaluate an expression with mpmath at a point, sums and products with symbolic bounds included.

A direct tree walk (no ``lambdify``): every SymPy number becomes an exact-as-possible ``mpf`` at the
working precision, so no Python ``float`` (53 bits) ever enters the arithmetic, and nothing needs
compiling per expression or per size. Summation bounds and indices are evaluated exactly as
integers. A range with :math:`b < a` is empty (sum 0, product 1): the reading a human intends.
(SymPy's ``.doit()`` uses Karr's convention instead; the two agree whenever :math:`b \ge a - 1`,
see ``_ranges``.)

Atom values come from a :class:`Point`, which samples each atom the first time it is read
(according to its SymPy assumptions) and records the exact decimal it chose.

>>> import sympy as sp
>>> from derive.symbols import D, i, sigma
>>> p = Point(seed="doc")
>>> v = evaluate(sp.Sum(sp.log(sigma[0, i] ** 2), (i, 1, D)), {D: 2}, p, dps=30)
>>> w = evaluate(2 * sp.log(sigma[0, 1]) + 2 * sp.log(sigma[0, 2]), {D: 2}, p, dps=30)
>>> abs(v - w) < 1e-28, sorted(p.labels())
(True, ['sigma[0,1]', 'sigma[0,2]'])
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import Application

__all__ = ["NotNumericError", "Point", "atom_kind", "atom_label", "evaluate", "readable_name"]

Number = Any  # mpmath.mpf | mpmath.mpc
AtomKey = tuple[Any, ...]

#: SymPy functions evaluated by the mpmath function of the same name and meaning; any other
#: function is evaluated by SymPy's own ``evalf`` at the working precision.
_MPMATH_FUNCTIONS = frozenset(
    (
        *("sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "acot"),
        *("sinh", "cosh", "tanh", "coth", "asinh", "acosh", "atanh"),
        *("gamma", "loggamma", "digamma", "polygamma", "zeta", "polylog", "erf", "erfc", "erfi"),
        *("besselj", "bessely", "besseli", "besselk", "factorial", "binomial", "beta", "floor"),
        *("atan2", "arg", "re", "im"),
    )
)

#: At most this many summands/factors per evaluation (a sum to 10**9 is not evaluated, it is refused).
MAX_TERMS = 200_000

_NICE_POSITIVE = ("0.5", "2", "3", "1.5")
_NICE_REAL = ("0.5", "-1.5", "2", "-3")


_ACCENT = re.compile(r"\\(tilde|hat|bar|dot|check|breve|vec|mathbf|boldsymbol)\s*\{([^{}]*)\}")
_ACCENT_MARK = {"tilde": "~", "hat": "^"}
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def readable_name(name: str) -> str:
    r"""The one notation counterexamples use for a symbol's name: plain ASCII, no LaTeX.

    ``\tilde{\sigma}`` reads ``sigma~``, ``\hat{y}`` reads ``y^``, other accents become a suffix
    (``\bar{x}`` reads ``x_bar``; bold is dropped), ``\log\sigma`` reads ``log_sigma`` and any
    other command loses its backslash.

    >>> [readable_name(n) for n in (r"\tilde{\sigma}", r"\tilde{\mu}", r"\log\sigma", "epsilon", r"\bar{x}")]
    ['sigma~', 'mu~', 'log_sigma', 'epsilon', 'x_bar']
    """

    def accent(m: re.Match[str]) -> str:
        inner = readable_name(m.group(2))
        if m.group(1) in ("mathbf", "boldsymbol"):
            return inner
        return inner + _ACCENT_MARK.get(m.group(1), "_" + m.group(1))

    text = _ACCENT.sub(accent, name)
    text = _COMMAND.sub(lambda m: m.group(1) + "_", text)  # \log\sigma -> log_sigma_
    text = re.sub(r"[{}\s]", "", text).strip("_")
    return re.sub(r"_+(?=[~^\[]|$)", "", text) or name


def atom_label(atom: sp.Basic) -> str:
    r"""How a counterexample names an atom (its key in ``--json`` and in the text): ``sigma[0,1]``,
    ``sigma~[1]`` for :math:`\tilde\sigma_1`, ``epsilon``, ``log_sigma[1,2]``.

    >>> from derive.symbols import bn_std, sigma, bn_eps
    >>> atom_label(bn_std[1]), atom_label(sigma[0, 2]), atom_label(bn_eps)
    ('sigma~[1]', 'sigma[0,2]', 'epsilon')
    """
    if isinstance(atom, sp.Indexed):
        return f"{readable_name(str(atom.base.label))}[{','.join(str(k) for k in atom.indices)}]"
    return readable_name(str(atom))


class NotNumericError(ValueError):
    """The expression has a part with no numeric value (an undefined function, a free matrix, ...)."""


def atom_kind(atom: sp.Expr) -> str:
    """How to sample an atom: ``positive``, ``nonnegative``, ``nonzero``, ``real`` or an integer kind.

    >>> from derive.symbols import sigma, epsilon, D
    >>> atom_kind(sigma[0, 1]), atom_kind(epsilon[1]), atom_kind(D)
    ('positive', 'real', 'positive-integer')
    """
    if atom.is_integer:
        if atom.is_positive:
            return "positive-integer"
        if atom.is_nonnegative:
            return "nonnegative-integer"
        return "integer"
    if atom.is_positive:
        return "positive"
    if atom.is_nonnegative:
        return "nonnegative"
    if atom.is_nonzero and atom.is_real:
        return "nonzero"
    return "real"  # real, or no assumption at all: real points are in any domain


class Point:
    r"""Lazily sampled values of atoms: exact decimals (strings) or integers, keyed by atom.

    ``fixed`` pins atoms to given decimals (used to re-evaluate a counterexample).
    """

    def __init__(self, seed: Any, fixed: Mapping[AtomKey, str | int] | None = None) -> None:
        self._rng = random.Random(str(seed))
        self.values: dict[AtomKey, str | int] = dict(fixed or {})
        self._labels: dict[AtomKey, str] = {}
        self._cache: dict[tuple[AtomKey, int], Number] = {}
        self._kinds: dict[Any, str] = {}
        self.terms_left = MAX_TERMS

    def spend(self, terms: int) -> None:
        """Account for ``terms`` summands; refuse evaluations that would take too long."""
        self.terms_left -= terms
        if self.terms_left < 0:
            raise NotNumericError(f"more than {MAX_TERMS} terms: too long to evaluate")

    def labels(self) -> dict[str, str | int]:
        """The values read so far, as ``{"sigma[0,1]": "0.73", "epsilon": "2"}``."""
        return {self._labels[k]: self.values[k] for k in self._labels}

    def _sample(self, kind: str) -> str | int:
        rng = self._rng
        if kind.endswith("integer"):
            lo = {"positive-integer": 1, "nonnegative-integer": 0}.get(kind, -3)
            return rng.randint(lo, 5)
        if kind in ("positive", "nonnegative"):
            if rng.random() < 0.25:
                return rng.choice(_NICE_POSITIVE)
            return f"{10 ** rng.uniform(-3, 3):.6g}"
        if rng.random() < 0.25:
            return rng.choice(_NICE_REAL)
        while True:
            val = f"{rng.uniform(-5, 5):.6g}"
            if kind != "nonzero" or abs(float(val)) >= 1e-3:
                return val

    def read(self, key: AtomKey, atom_of: Callable[[], sp.Expr], label: Callable[[], str]) -> Number:
        """The value of atom ``key`` at the current precision (sampling it on first read)."""
        dps = mpmath.mp.dps
        hit = self._cache.get((key, dps))
        if hit is not None:
            return hit
        if key not in self.values:
            kind_key = key[1] if key[0] == "idx" else key
            kind = self._kinds.get(kind_key)
            if kind is None:
                kind = self._kinds[kind_key] = atom_kind(atom_of())
            self.values[key] = self._sample(kind)
        self._labels.setdefault(key, label())
        val = mpmath.mpf(self.values[key])
        self._cache[(key, dps)] = val
        return val


def _exact_int(e: sp.Expr, env: Mapping[sp.Symbol, int], point: Point) -> int:
    """An index or bound, exactly (sizes and dummies from ``env``; other integers from ``point``)."""
    if isinstance(e, sp.Integer):
        return int(e)
    if isinstance(e, sp.Symbol):
        if e in env:
            return env[e]
        return int(_read_symbol(e, point))
    if isinstance(e, sp.Add):
        return sum(_exact_int(a, env, point) for a in e.args)
    if isinstance(e, sp.Mul):
        out = 1
        for a in e.args:
            out *= _exact_int(a, env, point)
        return out
    if isinstance(e, sp.Pow) and isinstance(e.exp, sp.Integer) and e.exp >= 0:
        return _exact_int(e.base, env, point) ** int(e.exp)
    value = e.xreplace({k: sp.Integer(v) for k, v in env.items()})
    if not value.is_Integer:
        raise ValueError(f"index or bound {e} is not an integer")
    return int(value)


def _read_symbol(s: sp.Symbol, point: Point) -> Number:
    return point.read(("sym", s), lambda: s, lambda: readable_name(s.name))


def _index(e: sp.Expr, env: Mapping[sp.Symbol, int], point: Point) -> int | sp.Expr:
    """An index: an exact integer, or (``sigma[t/2]``, ``sigma[h]``) the symbolic index of a distinct atom."""
    if e.is_integer:
        return _exact_int(e, env, point)
    value = e.xreplace({k: sp.Integer(v) for k, v in env.items()})
    return int(value) if value.is_Integer else value


def _read_indexed(e: sp.Indexed, env: Mapping[sp.Symbol, int], point: Point) -> Number:
    idx = tuple(_index(ix, env, point) for ix in e.indices)
    base = e.base
    return point.read(
        ("idx", base, idx),
        lambda: sp.Indexed(base, *idx),
        lambda: f"{readable_name(str(base.label))}[{','.join(map(str, idx))}]",
    )


def _loop(e: sp.Expr, env: dict[sp.Symbol, int], point: Point, product: bool) -> Number:
    """A finite Sum/Product (empty when ``b < a``), innermost limit first in ``e.limits``."""

    def go(level: int) -> Number:
        if level < 0:
            return _ev(e.function, env, point)
        k, a_expr, b_expr = e.limits[level]
        a, b = _exact_int(a_expr, env, point), _exact_int(b_expr, env, point)
        point.spend(max(0, b - a + 1))
        saved = env.get(k)
        acc: Number = mpmath.mpf(1) if product else mpmath.mpf(0)
        for v in range(a, b + 1):
            env[k] = v
            term = go(level - 1)
            acc = acc * term if product else acc + term
        if saved is None:
            env.pop(k, None)
        else:
            env[k] = saved
        return acc

    return go(len(e.limits) - 1)


def _to_sympy(v: Number) -> sp.Expr:
    prec = mpmath.mp.prec
    if isinstance(v, mpmath.mpc):
        return sp.Float(v.real, precision=prec) + sp.I * sp.Float(v.imag, precision=prec)
    return sp.Float(v, precision=prec)


def _from_sympy(value: sp.Expr) -> Number:
    value = value.evalf(mpmath.mp.dps)
    re, im = value.as_real_imag()
    if not (re.is_Number and im.is_Number):
        raise NotNumericError(f"could not evaluate {value} numerically")
    if im == 0:
        return mpmath.mpf(sp.Float(re, mpmath.mp.dps)._mpf_)
    return mpmath.mpc(sp.Float(re, mpmath.mp.dps)._mpf_, sp.Float(im, mpmath.mp.dps)._mpf_)


def _apply(e: Application, env: dict[sp.Symbol, int], point: Point) -> Number:
    args = [_ev(a, env, point) for a in e.args]
    name = type(e).__name__
    if name == "Abs":
        return abs(args[0])
    if name == "log" and len(args) == 1:
        return mpmath.log(args[0])
    if name in _MPMATH_FUNCTIONS:
        return getattr(mpmath, name)(*args)
    return _from_sympy(e.func(*[_to_sympy(a) for a in args]))


def _ev(e: sp.Expr, env: dict[sp.Symbol, int], point: Point) -> Number:
    if isinstance(e, sp.Rational):
        return mpmath.mpf(e.p) / e.q if e.q != 1 else mpmath.mpf(e.p)
    if isinstance(e, sp.Symbol):
        if e in env:
            return mpmath.mpf(env[e])
        return _read_symbol(e, point)
    if isinstance(e, sp.Indexed):
        return _read_indexed(e, env, point)
    if isinstance(e, sp.Add):
        acc = mpmath.mpf(0)
        for a in e.args:
            acc += _ev(a, env, point)
        return acc
    if isinstance(e, sp.Mul):
        acc = mpmath.mpf(1)
        for a in e.args:
            acc *= _ev(a, env, point)
        return acc
    if isinstance(e, sp.Pow):
        base = _ev(e.base, env, point)
        if isinstance(e.exp, sp.Integer):
            return mpmath.power(base, int(e.exp))
        return mpmath.power(base, _ev(e.exp, env, point))
    if isinstance(e, sp.exp):
        return mpmath.exp(_ev(e.args[0], env, point))
    if isinstance(e, sp.Sum):
        return _loop(e, env, point, product=False)
    if isinstance(e, sp.Product):
        return _loop(e, env, point, product=True)
    if isinstance(e, sp.Float):
        return mpmath.mpf(e._mpf_)
    if e is sp.pi:
        return +mpmath.pi
    if e is sp.E:
        return +mpmath.e
    if e is sp.I:
        return mpmath.mpc(0, 1)
    if e in (sp.nan, sp.zoo, sp.oo, -sp.oo):
        return mpmath.mpf("nan")
    if isinstance(e, Application):
        return _apply(e, env, point)
    if e.is_number:
        return _from_sympy(e)
    raise NotNumericError(f"cannot evaluate {type(e).__name__} numerically")


def evaluate(expr: sp.Expr, sizes: Mapping[sp.Symbol, int], point: Point, dps: int) -> Number:
    r"""``expr`` at the sizes and the point, with ``dps`` significant digits.

    NaN where the value is undefined (division by zero, ...); raises :class:`NotNumericError`
    when some part has no numeric meaning at all.
    """
    point.terms_left = MAX_TERMS
    with mpmath.workdps(dps):
        try:
            value = _ev(expr, dict(sizes), point)
        except NotNumericError:
            raise
        except (ZeroDivisionError, ValueError, OverflowError):
            return mpmath.mpf("nan")
        return +value
