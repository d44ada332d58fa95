"""Concrete expansion: proofs at given sizes, stopping at the first size that fails."""

from __future__ import annotations

import sympy as sp

from derive.equivalence._concrete import prove_at_sizes
from derive.symbols import D, T, i, sigma, t

TELESCOPE = sp.Sum(sp.log(sigma[t, 1]) - sp.log(sigma[t - 1, 1]), (t, 1, T))


def test_telescoping_sum_is_proved_at_each_size():
    proof = prove_at_sizes(TELESCOPE, sp.log(sigma[T, 1]) - sp.log(sigma[0, 1]), [{T: 0}, {T: 1}, {T: 4}])
    assert proof.failed is None
    assert proof.proved == [{"T": 0}, {"T": 1}, {"T": 4}]


def test_stops_at_first_failure():
    wrong = sp.Sum(sp.log(sigma[0, i]), (i, 1, D)) + (D - 1) * (D - 2)
    proof = prove_at_sizes(wrong, sp.Sum(sp.log(sigma[0, i]), (i, 1, D)), [{D: 1}, {D: 2}, {D: 3}, {D: 5}])
    assert proof.proved == [{"D": 1}, {"D": 2}]
    assert proof.failed == {"D": 3}


def test_overlong_sums_are_not_written_out():
    huge = sp.Sum(sp.log(sigma[0, i]), (i, 1, 10**9))
    assert prove_at_sizes(huge, huge, [{D: 1}]).failed == {"D": 1}
