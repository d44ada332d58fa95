"""The mpmath evaluator agrees with SymPy's own evaluation, at full precision, sizes symbolic or not."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from derive.equivalence._evaluate import NotNumericError, Point, atom_kind, evaluate
from derive.results import batchnorm_logdet, iaf_log_q, iaf_stable_log_q
from derive.symbols import D, T, bn_eps, epsilon, gamma, h, n, sigma, t

DIGITS = 60


def _sympy_value(expr: sp.Expr, sizes: dict, point: Point) -> sp.Expr:
    concrete = expr.xreplace({k: sp.Integer(v) for k, v in sizes.items()}).doit()
    values = {}
    for key, val in point.values.items():
        atom = sp.Indexed(key[1], *key[2]) if key[0] == "idx" else key[1]
        values[atom] = sp.Rational(str(val))
    return concrete.xreplace(values).evalf(DIGITS)


EXPRESSIONS = [
    ("iaf", iaf_log_q()),
    ("iaf-stable", iaf_stable_log_q()),
    ("batchnorm", batchnorm_logdet(affine=True)),
    ("product", sp.log(sp.Product(sigma[t, 1] + epsilon[t] ** 2, (t, 0, T)))),
    ("late-start", sp.Sum(sigma[t, 1], (t, 2, T + 1))),
    ("special", sp.gamma(bn_eps + 1) + sp.erf(h) + sp.besselj(0, h) + sp.Max(h, 0) + sp.Ei(bn_eps)),
    ("rational-powers", (bn_eps + h**2) ** sp.Rational(-3, 2) + sp.pi**sp.E + sp.Rational(1, 3)),
]


@pytest.mark.parametrize("expr", [e for _, e in EXPRESSIONS], ids=[n for n, _ in EXPRESSIONS])
@pytest.mark.parametrize("sizes", [{D: 1, T: 0}, {D: 3, T: 2}], ids=["D1T0", "D3T2"])
def test_matches_sympy_evalf(expr, sizes):
    point = Point(seed=("test", str(expr)))
    got = evaluate(expr, sizes, point, dps=DIGITS)
    want = _sympy_value(expr, sizes, point)
    with mpmath.workdps(DIGITS):
        assert abs(got - mpmath.mpmathify(str(want))) <= mpmath.mpf(10) ** (5 - DIGITS) * max(1, abs(got))


@pytest.mark.parametrize(
    ("expr", "value"),
    [(sp.Sum(sigma[t, 1], (t, 3, T)), 0), (sp.Product(sigma[t, 1], (t, 2, T)), 1)],
    ids=["sum", "product"],
)
def test_reversed_ranges_are_empty_not_karr(expr, value):
    assert evaluate(expr, {T: 0}, Point(0), dps=20) == value


def test_no_double_precision_leaks_in():
    # 1/3 must be exact to the working precision, not a binary double.
    with mpmath.workdps(100):
        got = evaluate(sp.Rational(1, 3), {}, Point(0), dps=100)
        assert abs(got * 3 - 1) < mpmath.mpf(10) ** -99


def test_same_point_same_values_and_labels():
    point = Point(seed=1)
    first = evaluate(sigma[0, 1] + epsilon[2] + bn_eps, {}, point, dps=30)
    assert evaluate(sigma[0, 1] + epsilon[2] + bn_eps, {}, point, dps=30) == first
    assert set(point.labels()) == {"sigma[0,1]", "epsilon[2]", "epsilon"}


@pytest.mark.parametrize(
    ("atom", "kind"),
    [
        (sigma[0, 1], "positive"),
        (epsilon[1], "real"),
        (gamma[1], "nonzero"),
        (n, "positive-integer"),
        (h, "real"),
    ],
    ids=["sigma", "epsilon", "gamma", "n", "h"],
)
def test_atoms_are_sampled_from_their_assumptions(atom, kind):
    assert atom_kind(atom) == kind
    point = Point(seed=kind)
    values = [evaluate(atom, {}, Point(seed=(kind, k)), dps=20) for k in range(20)]
    assert point.values == {}
    if kind == "positive":
        assert all(v > 0 for v in values)
    if kind == "nonzero":
        assert all(v != 0 for v in values)
    if kind.endswith("integer"):
        assert all(v == int(v) and v >= 1 for v in values)


def test_undefined_values_are_nan_and_meaningless_ones_raise():
    at_zero = Point(0, fixed={("sym", h): "0"})
    assert mpmath.isnan(evaluate(1 / h, {}, at_zero, dps=20))
    assert mpmath.isinf(evaluate(sp.log(h), {}, at_zero, dps=20))
    with pytest.raises(NotNumericError):
        evaluate(sp.Function("f")(h), {}, Point(0), dps=20)


def test_log_of_negative_is_complex():
    assert isinstance(evaluate(sp.log(-sigma[0, 1]), {}, Point(0), dps=20), mpmath.mpc)


def test_non_integer_indices_are_distinct_atoms():
    point = Point(seed=3)
    value = evaluate(sigma[t / 2, 1] + sigma[h, 1], {t: 1}, point, dps=20)
    assert mpmath.isfinite(value)
    assert set(point.labels()) == {"sigma[1/2,1]", "sigma[h,1]"}
