"""Rewrites: each rule fires only under its side condition, and never changes a value."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.equivalence._rewrite import apply_definitions, exact_numbers, is_positive, prepare, split_logs
from derive.symbols import D, bn_eps, bn_std, epsilon, gamma, i, mu, sigma, t, z

V = bn_std[i] ** 2 + bn_eps
r = sp.Symbol("r", real=True)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (sp.log(2 * sp.pi), sp.log(2) + sp.log(sp.pi)),
        (sp.log(sp.sqrt(2 * sp.pi)), (sp.log(2) + sp.log(sp.pi)) / 2),
        (sp.log(12), 2 * sp.log(2) + sp.log(3)),
        (sp.log(sp.Rational(3, 4)), sp.log(3) - 2 * sp.log(2)),
        (sp.log(sigma[t, i] ** 2), 2 * sp.log(sigma[t, i])),
        (sp.log(sp.Abs(1 / sp.sqrt(V))), -sp.log(V) / 2),
        (sp.log(sp.Product(V ** sp.Rational(-1, 2), (i, 1, D))), sp.Sum(-sp.log(V) / 2, (i, 1, D))),
        (sp.log(sp.Abs(gamma[i] ** 3 * sigma[0, i])), 3 * sp.log(sp.Abs(gamma[i])) + sp.log(sigma[0, i])),
        (sp.log(sp.Abs(gamma[i] / gamma[1])), sp.log(sp.Abs(gamma[i])) - sp.log(sp.Abs(gamma[1]))),
        (sp.log(sp.exp(epsilon[i])), epsilon[i]),
    ],
    ids=[
        *("2pi", "sqrt-2pi", "integer", "rational", "power", "abs-inverse-sqrt", "product"),
        *("abs-power", "abs-quotient", "exp"),
    ],
)
def test_valid_splits(before, after):
    assert sp.expand(split_logs(before) - after) == 0


@pytest.mark.parametrize(
    "expr",
    [
        sp.log(epsilon[i] * mu[t, i]),  # real factors: log(ab) != log a + log b in general
        sp.log(epsilon[i] ** 2),  # real base: log(x^2) != 2 log x
        sp.log(sp.Product(epsilon[i], (i, 1, D))),  # real factors
        sp.log(sp.Abs(epsilon[i] * r)),  # may be zero: log|0| is not log|a| + log|b| term by term
    ],
    ids=["real-product", "real-square", "real-product-sum", "maybe-zero"],
)
def test_invalid_splits_are_not_made(expr):
    assert split_logs(expr) == expr


def test_sqrt_of_square_stays_abs():
    assert prepare(sp.sqrt(epsilon[i] ** 2), {}) == sp.Abs(epsilon[i])


def test_floats_become_their_decimal():
    assert exact_numbers(sp.Float("0.1") * z[1, 1] + sp.Float(0.5)) == z[1, 1] / 10 + sp.Rational(1, 2)


def test_definition_patterns_and_plain_keys():
    defs = {z[t, i]: mu[t, i] + sigma[t, i] * z[t - 1, i], bn_eps: sp.Rational(1, 1000)}
    out = apply_definitions(z[2, 1] + bn_eps, defs)
    assert out == mu[2, 1] + sigma[2, 1] * z[1, 1] + sp.Rational(1, 1000)


@pytest.mark.parametrize(
    ("expr", "positive"),
    [(V, True), (sp.Product(sigma[t, i], (t, 0, 3)), True), (epsilon[i] ** 2 + 1, True), (epsilon[i], False)],
    ids=["bn-variance", "product", "square-plus-one", "real"],
)
def test_is_positive(expr, positive):
    assert is_positive(expr) is positive
