r"""The kernel's decision procedure for ``before = after``: computer algebra on hygienic forms.

:func:`decide` renames bound indices apart (:mod:`derive.proof._hygiene`), optionally expands sums
with concrete bounds term by term, and tries the strategies in :data:`STRATEGIES` on the difference,
cheapest first, until one gives exactly 0. Every strategy is an equivalence-preserving SymPy
transformation that respects the atoms' assumptions (``expand_log(force=False)`` only splits logs of
positive factors); a strategy that raises counts as "no proof", never as one.

>>> import sympy as sp
>>> from derive.symbols import sigma, i
>>> decide(sp.log(sigma[1, i] ** 2), 2 * sp.log(sigma[1, i]))
'expand'
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.simplify.simplify import sum_simplify

from derive._expr import as_expr
from derive.jacobian import _reference_mode
from derive.proof._hygiene import canonical

__all__ = ["STRATEGIES", "decide", "eliminate_radicals", "expand_concrete_sums", "is_zero"]


#: Summands already instantiated, ``(part, index, value) -> part.xreplace({index: value})``: the same
#: summand recurs in many steps of a proof (a lemma, then the derivation that collects the lemmas),
#: and SymPy's own cache is too small to keep D*T of them. Bounded; a pure function, so a hit
#: returns exactly what ``xreplace`` would.
_INSTANCES: dict[tuple[sp.Basic, sp.Basic, sp.Integer], sp.Basic] = {}
_INSTANCES_MAX = 1 << 16


def _instance_part(part: sp.Basic, k: sp.Basic, v: sp.Integer) -> sp.Basic:
    key = (part, k, v)
    got = _INSTANCES.get(key)
    if got is None:
        if len(_INSTANCES) >= _INSTANCES_MAX:
            _INSTANCES.clear()
        got = _INSTANCES[key] = part.xreplace({k: v})
    return got


def _instance(body: sp.Basic, k: sp.Basic, v: sp.Integer) -> sp.Basic:
    """``body.xreplace({k: v})``, a sum's terms instantiated one by one (each memoized)."""
    if isinstance(body, sp.Add) and not _reference_mode():
        parts = [_instance_part(p, k, v) for p in body.args]
        return body if all(x is y for x, y in zip(parts, body.args, strict=True)) else body.func(*parts)
    return body.xreplace({k: v}) if _reference_mode() else _instance_part(body, k, v)


def expand_concrete_sums(e: sp.Basic) -> sp.Basic:
    """Replace every sum/product whose bounds are integers by its terms (no symbolic summation)."""
    if not e.args:
        return e
    args = [expand_concrete_sums(a) for a in e.args]
    if isinstance(e, (sp.Sum, sp.Product)):
        body, limits = args[0], e.limits
        k, a, b = limits[0]
        if a.is_Integer and b.is_Integer:
            terms = [_instance(body, k, sp.Integer(v)) for v in range(int(a), int(b) + 1)]
            inner = (sp.Add if isinstance(e, sp.Sum) else sp.Mul)(*terms)
            rest = limits[1:]
            return expand_concrete_sums(type(e)(inner, *rest)) if rest else inner
        return type(e)(body, *limits)
    if all(x is y for x, y in zip(args, e.args, strict=True)):
        return e
    return e.func(*args)


def _expand_all_logs(e: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(sp.expand(e), force=False))


def _sqrt_abs(e: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(sp.powsimp(sp.powdenest(sp.refine(e), force=False)), force=False))


def eliminate_radicals(e: sp.Expr) -> sp.Expr:
    r"""Rationalise square roots: :math:`\sqrt{a} \to S > 0` and an atom :math:`u` linear in :math:`a`
    by :math:`(S^2 - r)/c` (where :math:`a = c\,u + r`), then ``cancel``.

    A change of variables :math:`u \leftrightarrow S`, well defined because :math:`a > 0` for every
    :math:`u`, so an identity for all :math:`S > 0` is one for all :math:`u`. Square roots with no
    linear atom are left alone.
    """
    e = as_expr(e)
    for k, root in enumerate(sorted(e.atoms(sp.Pow), key=sp.default_sort_key)):
        if root.exp != sp.Rational(1, 2) or not root.base.is_positive:
            continue
        a = root.base
        for u in sorted(a.free_symbols, key=sp.default_sort_key):
            if not isinstance(u, sp.Symbol):
                continue
            poly = sp.Poly(sp.expand(a), u) if a.is_polynomial(u) else None
            if poly is None or poly.degree() != 1:
                continue
            c, r = poly.all_coeffs()
            S = sp.Dummy(f"S{k}", positive=True)
            e = e.subs(root, S).subs(u, (S**2 - r) / c)
            break
    return sp.cancel(sp.together(e))


def _log_arguments(e: sp.Expr) -> sp.Expr:
    """``sum c_k log a_k`` with every ``a_k >= 0``: compare ``prod a_k^(2 c_k)`` with 1 (logs of
    positive reals agree iff their arguments do)."""
    e = sp.expand_log(e, force=False)
    num, den = sp.Integer(1), sp.Integer(1)
    for term in sp.Add.make_args(e):
        c, rest = term.as_coeff_Mul()
        if not isinstance(rest, sp.log) or not c.is_Rational or not rest.args[0].is_nonnegative:
            return e
        arg = rest.args[0] ** (2 * abs(c))
        if c > 0:
            num *= arg
        else:
            den *= arg
    return eliminate_radicals(num - den)


def _congruence(e: sp.Expr) -> sp.Expr:
    """``F(a) - F(b)`` for the same function F: 0 when ``a - b`` reduces to 0 (recursively, F unary)."""
    terms = sp.Add.make_args(e)
    if len(terms) != 2:
        return e
    (c1, f1), (c2, f2) = (t.as_coeff_Mul() for t in terms)
    if c1 != -c2 or f1.func != f2.func or len(f1.args) != 1 or not f1.args or f1.is_Atom:
        return e
    a, b = f1.args[0], f2.args[0]
    # |a| = |b| exactly when a^2 = b^2 (a, b real); log a = log b for a, b >= 0 when a^2 = b^2.
    squares = (f1.func is sp.Abs and a.is_real and b.is_real) or (
        f1.func is sp.log and a.is_nonnegative and b.is_nonnegative
    )
    inner = sp.expand_power_base(a**2 - b**2) if squares else a - b
    if inner == 0 or _congruence(inner) == 0 or eliminate_radicals(inner) == 0:
        return sp.Integer(0)
    return e


def _small(fn: Callable[[sp.Expr], sp.Expr], limit: int = 120) -> Callable[[sp.Expr], sp.Expr]:
    """Run an expensive strategy only on small expressions (skipping it proves nothing, never wrongly)."""

    def run(e: sp.Expr) -> sp.Expr:
        return fn(e) if sp.count_ops(e) <= limit else e

    return run


#: (name, transformation) — tried in order on the hygienic difference until one gives exactly 0.
STRATEGIES: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
    ("structural equality", lambda e: e),
    ("same function of equal arguments", _congruence),
    ("expand", sp.expand),
    ("linearity of sums (sum_simplify)", lambda e: sum_simplify(sp.expand(e))),
    ("expand_log (assumptions: positive atoms)", _expand_all_logs),
    ("linearity of sums after expand_log", lambda e: sum_simplify(_expand_all_logs(e))),
    ("radicals eliminated, cancel", eliminate_radicals),
    ("logs of nonnegative arguments compared, radicals eliminated", _log_arguments),
    ("refine + powdenest + expand_log", _small(_sqrt_abs)),
    ("simplify", _small(sp.simplify)),
)


def is_zero(expr: sp.Expr) -> str | None:
    """Name of the first strategy that reduces the hygienic form of ``expr`` to exactly 0, else None."""
    expr = canonical(expr)
    for name, fn in STRATEGIES:
        try:
            if fn(expr) == 0:
                return name
        except Exception:  # a strategy that fails proves nothing
            continue
    return None


def decide(before: sp.Expr, after: sp.Expr, expand_sums: bool = False) -> str | None:
    """How ``before = after`` was proved (the strategy's name), or None if no strategy proves it."""
    diff = canonical(before) - canonical(after)
    if expand_sums:
        diff = expand_concrete_sums(diff)
    method = is_zero(diff)
    if method is not None and expand_sums:
        return f"sums with concrete bounds expanded, {method}"
    return method
