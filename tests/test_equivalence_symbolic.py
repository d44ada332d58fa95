"""Symbolic proof for all sizes: box-by-box comparison and its two extensions."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.equivalence._symbolic import prove_for_all_sizes
from derive.equivalence._types import SizeVar
from derive.symbols import D, T, epsilon, i, sigma, t

SIZES = (SizeVar(D, 1, (1, 2)), SizeVar(T, 0, (0, 1)))
RAM = sp.cbrt(sp.cbrt(2) - 1) - (
    sp.cbrt(sp.Rational(1, 9)) - sp.cbrt(sp.Rational(2, 9)) + sp.cbrt(sp.Rational(4, 9))
)


@pytest.mark.parametrize(
    ("answer", "reference", "strong"),
    [
        (
            sp.Sum(sp.log(sigma[t - 1, i]), (t, 1, T + 1), (i, 1, D)),
            sp.Sum(sp.log(sigma[t, i]), (t, 0, T), (i, 1, D)),
            False,
        ),
        (sp.Sum(i, (i, 1, D)), D * (D + 1) / 2, False),
        (D * RAM + sp.Sum(epsilon[i], (i, 1, D)), sp.Sum(epsilon[i], (i, 1, D)), True),
        (sp.Sum(sp.sin(epsilon[i]) ** 2 + sp.cos(epsilon[i]) ** 2, (i, 1, D)), D, True),
    ],
    ids=["shifted-indices", "faulhaber", "coefficient-in-D", "residual-spread-over-box"],
)
def test_proved(answer, reference, strong):
    proof = prove_for_all_sizes(answer, reference, SIZES, strong=strong)
    assert proof.proved, proof
    assert proof.failed == []


def test_unproved_reports_the_boxes():
    proof = prove_for_all_sizes(
        sp.Sum(sp.log(sigma[t, 1]), (t, 1, T)), sp.Sum(sp.log(sigma[t, 1]), (t, 0, T - 1)), SIZES
    )
    assert not proof.proved
    assert proof.failed
