"""The sum normal form: linearisation, alignment, canonical boxes; every rewrite checked by value."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.equivalence._normal_form import (
    box_difference_is_zero,
    canonical_dummy,
    is_nested,
    normal_form,
    terms,
    tied_permutations,
)
from derive.symbols import D, T, epsilon, i, j, sigma, t

S = sp.Sum
x = sp.IndexedBase("x", real=True)


def _rebuild(ts) -> sp.Expr:
    out = sp.S.Zero
    for lims, s in ts:
        out += sp.Sum(s, *lims) if lims else s
    return out


def _nf_expr(nf) -> sp.Expr:
    out = sp.S.Zero
    for key, s in nf.items():
        if not key:
            out += s
            continue
        ranges = key[1:] if is_nested(key) else key  # outermost first
        out += sp.Sum(s, *[(canonical_dummy(n), lo, hi) for n, (lo, hi) in reversed(list(enumerate(ranges)))])
    return out


def _written_out(e: sp.Expr) -> sp.Expr:
    """Finite sums written out term by term, outermost index first (Karr's convention)."""
    if isinstance(e, sp.Sum):
        k, a, b = e.limits[-1]
        inner = sp.Sum(e.function, *e.limits[:-1]) if len(e.limits) > 1 else e.function
        a, b, sign = int(a), int(b), 1
        if b < a - 1:
            a, b, sign = b + 1, a - 1, -1
        return sign * sp.Add(*[_written_out(inner.subs(k, sp.Integer(v))) for v in range(a, b + 1)])
    if e.args:
        return e.func(*[_written_out(a) for a in e.args])
    return e


def _same_at(e1: sp.Expr, e2: sp.Expr, sizes: dict) -> bool:
    subs = {k: sp.Integer(v) for k, v in sizes.items()}
    diff = (_written_out(e1.xreplace(subs)) - _written_out(e2.xreplace(subs))).expand()
    return sp.expand_log(diff, force=False).expand() == 0


EXPRESSIONS = [
    ("linear-sum", S(2 * x[i] + 3, (i, 1, D))),
    ("nested", S(x[i] * S(sp.log(sigma[t, i]), (t, 0, T)) + 1, (i, 1, D))),
    ("product-of-sums", S(x[i], (i, 1, D)) * S(x[j] + 1, (j, 1, D))),
    ("constant-inner", S(S(epsilon[i] ** 2, (t, 0, T)), (i, 1, D))),
    ("numeric-bounds", S(x[i], (i, 1, 3)) + S(x[i], (i, 3, 1))),
    ("reversed-symbolic", S(x[t], (t, 2, T))),
    ("shadowed-index", S(x[i] * S(x[i], (i, 1, D)), (i, 1, D))),
    ("polynomial-summand", S(i**2 + x[1], (i, 1, D))),
    ("dependent-bounds", S(S(x[j], (j, 1, i)), (i, 1, D))),
]
SIZES = [{D: 1, T: 0}, {D: 3, T: 2}, {D: 2, T: 4}]


@pytest.mark.parametrize("expr", [e for _, e in EXPRESSIONS], ids=[n for n, _ in EXPRESSIONS])
@pytest.mark.parametrize("sizes", SIZES, ids=["D1T0", "D3T2", "D2T4"])
def test_terms_and_normal_form_preserve_value(expr, sizes):
    assert _same_at(_rebuild(terms(expr)), expr, sizes)
    for shift in (False, True):
        (nf,) = normal_form([expr], shift=shift)
        assert _same_at(_nf_expr(nf), expr, sizes)


def test_constant_sum_becomes_count():
    (nf,) = normal_form([S(sp.pi, (i, 1, D)) + S(1, (t, 0, T))])
    assert nf == {(): D * sp.pi + T + 1}


def test_order_and_names_of_indices_do_not_matter():
    a = S(sp.log(sigma[t, i]), (t, 0, T), (i, 1, D))
    b = S(sp.log(sigma[t, j]), (j, 1, D), (t, 0, T))
    nf_a, nf_b = normal_form([a, b])
    assert nf_a == nf_b


def test_peeling_aligns_lower_bounds():
    peeled = sp.log(sigma[0, 1]) + S(sp.log(sigma[t, 1]), (t, 1, T))
    nf_a, nf_b = normal_form([peeled, S(sp.log(sigma[t, 1]), (t, 0, T))])
    assert nf_a == nf_b


def test_shift_aligns_translated_indices():
    shifted = S(sp.log(sigma[t - 1, 1]), (t, 1, T + 1))
    nf_a, nf_b = normal_form([shifted, S(sp.log(sigma[t, 1]), (t, 0, T))], shift=True)
    assert nf_a == nf_b


def test_tied_ranges_are_symmetrised():
    a = S(x[i] * epsilon[j] ** 2, (i, 1, D), (j, 1, D))
    b = S(x[j] * epsilon[i] ** 2, (i, 1, D), (j, 1, D))
    nf_a, nf_b = normal_form([a, b])
    ((key, sa),) = nf_a.items()
    assert len(tied_permutations(key)) == 2
    assert box_difference_is_zero(key, sa - nf_b[key], lambda e: "expand" if sp.expand(e) == 0 else None)


def test_dependent_bounds_keep_their_nesting():
    (nf,) = normal_form([S(S(x[j], (j, 1, i)), (i, 1, D))])
    (key,) = nf
    assert is_nested(key)
    assert tied_permutations(key) == []
