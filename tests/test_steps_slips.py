r"""The slip catalogue: each rule's candidate is the earlier line with exactly that slip made."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.equivalence import Domain, SizeVar, decide
from derive.steps._slips import (
    SLIPS,
    BoundOffByOne,
    Factor,
    InverseLogDet,
    LogOfSumSplit,
    SigmaForSigmaSquared,
    SignFlip,
    Slip,
    additive_terms,
    catalogue,
)
from derive.symbols import D, T, bn_eps, bn_std, epsilon, i, sigma, t

S = sp.Sum
DOMAIN = Domain(sizes=(SizeVar(D, 1, (1, 2, 3)), SizeVar(T, 0, (0, 1, 2))))
FORWARD = S(sp.log(sigma[t, i]), (i, 1, D))


def _proved(a: sp.Expr, b: sp.Expr) -> bool:
    return decide(a, b, DOMAIN, accept_concrete=False).status == "equivalent"


CASES = [
    (SignFlip(), 1 + S(epsilon[i] ** 2, (i, 1, D)), 1 - S(epsilon[i] ** 2, (i, 1, D))),
    (InverseLogDet(FORWARD, t, T), S(FORWARD, (t, 1, T)), -S(FORWARD, (t, 1, T))),
    (BoundOffByOne(), S(sp.log(sigma[t, 1]), (t, 1, T)), S(sp.log(sigma[t, 1]), (t, 0, T))),
    (
        Factor(sp.Integer(2), "factor-half", "lost a factor 1/2"),
        -S(epsilon[i] ** 2, (i, 1, D)) / 2,
        -S(epsilon[i] ** 2, (i, 1, D)),
    ),
    (Factor(D, "factor-D", "gained a factor D"), sp.log(2 * sp.pi) / 2, D * sp.log(2 * sp.pi) / 2),
    (SigmaForSigmaSquared(), sp.log(bn_std[1] ** 2 + bn_eps), sp.log(bn_std[1] + bn_eps)),
    (LogOfSumSplit(), sp.log(bn_std[1] ** 2 + bn_eps), sp.log(bn_std[1] ** 2) + sp.log(bn_eps)),
]


@pytest.mark.parametrize(
    ("rule", "before", "after"), CASES, ids=[c[0].name + "-" + str(k) for k, c in enumerate(CASES)]
)
def test_the_rule_reproduces_its_slip(rule: Slip, before: sp.Expr, after: sp.Expr) -> None:
    assert any(_proved(after, candidate) for candidate, _ in rule.candidates(before, after))


@pytest.mark.parametrize(
    ("rule", "before", "after"), CASES, ids=[c[0].name + "-" + str(k) for k, c in enumerate(CASES)]
)
def test_no_candidate_equals_the_unchanged_line(rule: Slip, before: sp.Expr, after: sp.Expr) -> None:
    # A slip changes the value: a rule that proposed the earlier line itself would name right steps.
    assert not any(_proved(before, candidate) for candidate, _ in rule.candidates(before, after))


def test_a_lost_half_needs_a_half_to_lose() -> None:
    rule = Factor(sp.Integer(2), "factor-half", "lost a factor 1/2", sp.Rational(1, 2))
    before = sp.log(sigma[0, 1]) + epsilon[1] ** 2
    assert not any(_proved(2 * before, c) for c, _ in rule.candidates(before, 2 * before))


def test_additive_terms_look_through_sums() -> None:
    e = S(epsilon[i] ** 2 + sp.log(sigma[0, i]), (i, 1, D)) + 1
    terms = additive_terms(e)
    assert (
        S(epsilon[i] ** 2, (i, 1, D)) in terms and S(sp.log(sigma[0, i]), (i, 1, D)) in terms and 1 in terms
    )


def test_the_registry_is_a_tuple_of_rule_kinds_and_each_problem_gets_instances() -> None:
    assert isinstance(SLIPS, tuple) and all(issubclass(k, Slip) for k in SLIPS)
    rules = catalogue(FORWARD, t, T, D)
    assert {type(r) for r in rules} == set(SLIPS)
    assert InverseLogDet not in {type(r) for r in catalogue(None, t, T, D)}
