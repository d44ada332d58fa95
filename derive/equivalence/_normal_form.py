r"""The sum normal form: an expression as a linear combination of multi-index sums over boxes.

A *term* is :math:`\sum_{k_1=a_1}^{b_1}\cdots\sum_{k_r=a_r}^{b_r} s(k_1,\dots,k_r)` (``r = 0`` is the
non-sum part). :func:`terms` linearises an expression into terms:

* :math:`\sum (f+g) = \sum f + \sum g`, constants move out, :math:`\sum_{k=a}^{b} c = (b-a+1)\,c`
  for :math:`c` free of :math:`k`, nested sums become one multi-index sum, a product of sums becomes
  a multi-index sum, and sums with two numeric bounds are written out;
* every summation index is renamed to a fresh dummy, so no two sums share one.

:func:`normal_form` then (1) *aligns bounds*: for every symbolic upper bound (``D``, ``T``) all sums
are brought to the largest lower bound and the smallest upper offset seen on either side by peeling
boundary terms, :math:`\sum_{t=0}^{T} f_t = f_0 + \sum_{t=1}^{T} f_t`; (2) sorts the limits of box
sums (summation order is irrelevant for finite sums with constant bounds) and renames the indices
to canonical dummies; (3) groups summands by their index box.

All of this is valid in SymPy's semantics for *every* value of the sizes, reversed ranges included:
SymPy's finite sums follow Karr's convention, :math:`\sum_{k=a}^{b} = -\sum_{k=b+1}^{a-1}` for
:math:`b < a - 1`, under which linearity, :math:`\sum_{k=a}^{b} c = (b-a+1)c` and splitting a range
at any point hold without side conditions. Two expressions with equal normal forms (box by box,
up to a zero test) are therefore equal for all sizes.

>>> import sympy as sp
>>> from derive.symbols import D, T, i, t, sigma
>>> nf = normal_form([sp.Sum(sp.log(sigma[t, i]) + 1, (t, 0, T), (i, 1, D))])[0]
>>> sorted(nf, key=len)
[(), ((0, T), (1, D))]
>>> nf[()]
D*(T + 1)
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import sympy as sp

__all__ = [
    "NESTED",
    "Key",
    "NormalForm",
    "Term",
    "box_difference_is_zero",
    "canonical_dummy",
    "is_nested",
    "normal_form",
    "terms",
    "tied_permutations",
]

Limit = tuple[sp.Symbol, sp.Expr, sp.Expr]
Term = tuple[tuple[Limit, ...], sp.Expr]
Key = tuple[tuple[sp.Expr, sp.Expr], ...]
NormalForm = dict[Key, sp.Expr]

#: Sums with numeric bounds and at most this many terms are written out.
MAX_WRITE_OUT = 64
#: At most this many boundary terms are peeled from one end of one sum.
MAX_PEEL = 4

_CANONICAL: dict[int, sp.Dummy] = {}

#: First entry of the key of a sum whose bounds depend on other indices (nesting order kept).
NESTED = sp.Dummy("nested")


def is_nested(key: Key) -> bool:
    """Whether ``key`` is a nested (non-box) sum's key."""
    return bool(key) and key[0][0] == NESTED


def canonical_dummy(position: int) -> sp.Dummy:
    """The shared integer dummy used for the ``position``-th index of a canonical box."""
    if position not in _CANONICAL:
        _CANONICAL[position] = sp.Dummy(f"k{position}", integer=True)
    return _CANONICAL[position]


def _expand_top(e: sp.Expr) -> sp.Expr:
    return e.expand(
        deep=False, mul=True, multinomial=False, power_exp=False, power_base=False, log=False, basic=False
    )


def _write_out(lims: tuple[Limit, ...], s: sp.Expr, k: sp.Symbol, a: int, b: int) -> list[Term]:
    sign = 1
    if b < a - 1:  # Karr's convention for reversed ranges
        a, b, sign = b + 1, a - 1, -1
    out: list[Term] = []
    for v in range(a, b + 1):
        val = sp.Integer(v)
        sub_lims = tuple((kk, lo.xreplace({k: val}), hi.xreplace({k: val})) for kk, lo, hi in lims)
        out.append((sub_lims, sign * s.xreplace({k: val})))
    return out


def _add_limit(term: Term, limit: Limit) -> list[Term]:
    lims, s = term
    k, a, b = limit
    if a.is_Integer and b.is_Integer and abs(int(b) - int(a)) < MAX_WRITE_OUT:
        return _write_out(lims, s, k, int(a), int(b))
    in_bounds = any(k in lo.free_symbols or k in hi.free_symbols for _, lo, hi in lims)
    if k not in s.free_symbols and not in_bounds:
        return [(lims, s * (b - a + 1))]
    if not in_bounds and _plain_polynomial(s, k):
        return [(lims, sp.expand(sp.Sum(s, limit).doit()))]  # Faulhaber; Karr-consistent
    if not in_bounds:
        s, limit = _orient(s, k, a, b)
    return [((*lims, limit), s)]


def _orient(s: sp.Expr, k: sp.Symbol, a: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, Limit]:
    r"""Reverse and shift an index so that it appears as plain ``k`` in the summand's indices.

    *Reversal* :math:`\sum_{k=a}^{b} f(k) = \sum_{k=a}^{b} f(a+b-k)` when every index expression
    containing ``k`` decreases in ``k`` (``\sigma_{T-t,i}``); *shift*
    :math:`\sum_{k=a}^{b} f(k+c) = \sum_{k=a+c}^{b+c} f(k)` when every one is ``k + c`` for the
    same ``c``. Only when ``k`` appears nowhere but in those indices. Both substitutions map the
    range onto a range of the same length, so they hold for every range (Karr's reversed ranges
    included).

    >>> from derive.symbols import T, sigma, i
    >>> t = sp.Symbol("t", integer=True)
    >>> _orient(sp.log(sigma[T - t, i]), t, sp.S.Zero, T)
    (log(sigma[t, i]), (t, 0, T))
    >>> _orient(sp.log(sigma[t - 1, i]), t, sp.S.One, T + 1)
    (log(sigma[t, i]), (t, 0, T))
    """
    unchanged = (s, (k, a, b))
    uses = [x for x in s.atoms(sp.Indexed) if k in x.free_symbols]
    if not uses or k in s.xreplace({x: sp.Dummy() for x in uses}).free_symbols:
        return unchanged
    slopes = set()
    for x in uses:
        for index in x.indices:
            if k in index.free_symbols:
                if not index.is_polynomial(k) or sp.degree(index, k) != 1:
                    return unchanged
                slopes.add(sp.diff(index, k))
    if slopes == {-1}:
        s = s.xreplace({k: a + b - k})
    elif slopes != {1}:
        return unchanged
    offsets = {
        sp.expand(index - k) for x in s.atoms(sp.Indexed) for index in x.indices if k in index.free_symbols
    }
    if len(offsets) == 1:
        (c,) = offsets
        if c != 0 and k not in c.free_symbols:
            return s.xreplace({k: k - c}), (k, a + c, b + c)
    return s, (k, a, b)


def _plain_polynomial(s: sp.Expr, k: sp.Symbol) -> bool:
    """``s`` is a polynomial in ``k`` in which ``k`` never appears inside an index or a function."""
    if any(k in x.free_symbols for x in s.atoms(sp.Indexed, sp.Function, sp.Sum, sp.Product)):
        return False
    return bool(s.is_polynomial(k))


def _shift_to_zero(term: Term) -> Term:
    r"""Shift every box index to start at 0: :math:`\sum_{k=a}^{b} f_k = \sum_{k=0}^{b-a} f_{k+a}`."""
    lims, s = term
    if not lims or not _is_box(lims):
        return term
    new: list[Limit] = []
    for k, lo, hi in lims:
        if lo != 0:
            s = s.xreplace({k: k + lo})
            hi = hi - lo
        new.append((k, sp.S.Zero, hi))
    return tuple(new), s


def _sum_terms(e: sp.Sum | sp.Product) -> list[Term]:
    mapping: dict[sp.Symbol, sp.Symbol] = {}
    renamed: list[Limit] = []
    for k, a, b in reversed(e.limits):  # outermost first
        a, b = a.xreplace(mapping), b.xreplace(mapping)
        mapping[k] = sp.Dummy(k.name, integer=True)
        renamed.append((mapping[k], a, b))
    out = terms(e.function.xreplace(mapping))
    for limit in reversed(renamed):  # innermost first
        out = [new for term in out for new in _add_limit(term, limit)]
    return out


def _is_linear_factor(f: sp.Expr) -> bool:
    return isinstance(f, sp.Sum) or (isinstance(f, sp.Add) and f.has(sp.Sum))


def terms(e: sp.Expr) -> list[Term]:
    """Linearise ``e`` into terms (see the module docstring); their sum equals ``e``."""
    if isinstance(e, sp.Add):
        return [term for a in e.args for term in terms(a)]
    if isinstance(e, sp.Sum):
        return _sum_terms(e)
    if isinstance(e, sp.Mul):
        linear = [f for f in e.args if _is_linear_factor(f)]
        if not linear:
            ex = _expand_top(e)
            return terms(ex) if isinstance(ex, sp.Add) else [((), e)]
        coeff = sp.Mul(*[f for f in e.args if not _is_linear_factor(f)])
        out: list[Term] = [((), coeff)]
        for f in linear:
            out = [(l1 + l2, s1 * s2) for (l1, s1) in out for (l2, s2) in terms(f)]
        return [t2 for lims, s in out for t2 in _split_summand(lims, s)]
    return [((), e)]


def _split_summand(lims: tuple[Limit, ...], s: sp.Expr) -> list[Term]:
    """Expand a product's summand and drop the limits each piece does not depend on."""
    if not lims:
        return terms(s) if isinstance(_expand_top(s), sp.Add) else [((), s)]
    out: list[Term] = [((), piece) for piece in sp.Add.make_args(_expand_top(s))]
    for limit in lims:
        out = [new for term in out for new in _add_limit(term, limit)]
    return out


def _is_box(lims: Sequence[Limit]) -> bool:
    dummies = {k for k, _, _ in lims}
    return all(not (lo.free_symbols | hi.free_symbols) & dummies for _, lo, hi in lims)


def _bound_parts(b: sp.Expr) -> tuple[int, sp.Expr] | None:
    c, rest = b.as_coeff_Add()
    if not c.is_Integer:
        return None
    return int(c), rest


def _targets(all_terms: Iterable[Term]) -> dict[sp.Expr, tuple[int, int]]:
    """For each symbolic upper bound part: (largest lower bound, smallest upper offset)."""
    lows: dict[sp.Expr, list[int]] = defaultdict(list)
    ups: dict[sp.Expr, list[int]] = defaultdict(list)
    bad: set[sp.Expr] = set()
    for lims, _ in all_terms:
        if not _is_box(lims):
            continue
        for _, lo, hi in lims:
            parts = _bound_parts(hi)
            if parts is None or parts[1] == 0:
                continue
            if not lo.is_Integer:
                bad.add(parts[1])
                continue
            lows[parts[1]].append(int(lo))
            ups[parts[1]].append(parts[0])
    out = {}
    for key in lows:
        if key in bad:
            continue
        lo, up = max(lows[key]), min(ups[key])
        if lo - min(lows[key]) <= MAX_PEEL and max(ups[key]) - up <= MAX_PEEL:
            out[key] = (lo, up)
    return out


def _peel(term: Term, targets: dict[sp.Expr, tuple[int, int]]) -> list[Term]:
    lims, s = term
    if not _is_box(lims):
        return [term]
    for n, (k, lo, hi) in enumerate(lims):
        parts = _bound_parts(hi)
        if parts is None or parts[1] not in targets or not lo.is_Integer:
            continue
        offset, rest = parts
        target_lo, target_up = targets[rest]
        if int(lo) == target_lo and offset == target_up:
            continue
        others = lims[:n] + lims[n + 1 :]
        pieces: list[Term] = [(others, s.xreplace({k: sp.Integer(v)})) for v in range(int(lo), target_lo)]
        pieces += [(others, s.xreplace({k: rest + c})) for c in range(target_up + 1, offset + 1)]
        main = ((*lims[:n], (k, sp.Integer(target_lo), rest + target_up), *lims[n + 1 :]), s)
        return [p for piece in [*pieces, main] for p in _peel(piece, targets)]
    return [term]


def _canonical(term: Term) -> tuple[Key, sp.Expr]:
    lims, s = term
    if not lims:
        return (), s
    if _is_box(lims):
        ordered = sorted(lims, key=lambda lim: (sp.default_sort_key(lim[1]), sp.default_sort_key(lim[2])))
    else:
        ordered = list(reversed(lims))  # outermost first, order kept
    mapping = {k: canonical_dummy(n) for n, (k, _, _) in enumerate(ordered)}
    key = tuple((lo.xreplace(mapping), hi.xreplace(mapping)) for _, lo, hi in ordered)
    if not _is_box(lims):
        key = ((NESTED, sp.Integer(len(key))), *key)
    return key, s.xreplace(mapping)


@lru_cache(maxsize=512)
def _cached_terms(e: sp.Expr) -> tuple[Term, ...]:
    return tuple(terms(e))


def normal_form(exprs: Sequence[sp.Expr], *, shift: bool = False) -> list[NormalForm]:
    r"""Normal forms of several expressions, bounds aligned *jointly* (so they can be compared).

    With ``shift``, every box index is first shifted to start at 0 (this matches
    :math:`\sum_{t=1}^{T+1} f_{t-1}` with :math:`\sum_{t=0}^{T} f_t`; the default alignment matches
    :math:`f_0 + \sum_{t=1}^{T} f_t` with :math:`\sum_{t=0}^{T} f_t`).
    """
    per_expr: list[Sequence[Term]] = [_cached_terms(e) for e in exprs]
    if shift:
        per_expr = [[_shift_to_zero(term) for term in ts] for ts in per_expr]
    targets = _targets(t for ts in per_expr for t in ts)
    out: list[NormalForm] = []
    for ts in per_expr:
        nf: dict[Key, sp.Expr] = defaultdict(lambda: sp.S.Zero)
        for term in ts:
            for piece in _peel(term, targets):
                key, s = _canonical(piece)
                nf[key] += s
        out.append(dict(nf))
    return out


def tied_permutations(key: Key, limit: int = 24) -> list[dict[sp.Symbol, sp.Symbol]]:
    """Renamings of canonical dummies that permute indices with identical ranges (a box symmetry)."""
    if is_nested(key):
        return []
    groups: dict[tuple[sp.Expr, sp.Expr], list[int]] = defaultdict(list)
    for n, rng in enumerate(key):
        groups[rng].append(n)
    tied = [g for g in groups.values() if len(g) > 1]
    if not tied:
        return []
    choices = [list(itertools.permutations(g)) for g in tied]
    out = []
    for combo in itertools.islice(itertools.product(*choices), limit):
        mapping = {}
        for group, perm in zip(tied, combo, strict=True):
            for src, dst in zip(group, perm, strict=True):
                mapping[canonical_dummy(src)] = canonical_dummy(dst)
        out.append(mapping)
    return out


def box_difference_is_zero(key: Key, diff: sp.Expr, zero_test: Callable[[sp.Expr], str | None]) -> str | None:
    """Zero test of one box's summand difference; symmetrised over tied indices if needed."""
    how = zero_test(diff)
    if how is not None:
        return how
    perms = tied_permutations(key)
    if perms:
        sym = sp.Add(*[diff.xreplace(p) for p in perms]) / len(perms)
        how = zero_test(sym)
        if how is not None:
            return f"{how} (symmetrised over indices with equal ranges)"
    return None
