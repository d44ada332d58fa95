"""Counterexample search: tiny real differences are found and confirmed, equal values never differ."""

from __future__ import annotations

import json

import mpmath
import pytest
import sympy as sp

from derive.equivalence import _search as _search_module
from derive.equivalence._evaluate import Point, evaluate
from derive.equivalence._search import differs, search, size_combinations
from derive.equivalence._types import SizeVar
from derive.results import iaf_log_q
from derive.symbols import D, T, bn_eps, epsilon, i, sigma

SIZES = (SizeVar(D, 1, (1, 2, 3)), SizeVar(T, 0, (0, 2)))
REF = iaf_log_q()


@pytest.mark.parametrize(
    "delta",
    [sp.Rational(1, 10**9), sp.Rational(-1, 10**12), sp.Rational(1, 10**25) * sigma[0, 1]],
    ids=["1e-9", "-1e-12", "1e-25-sigma"],
)
def test_tiny_differences_are_found(delta):
    found = search(REF + delta, REF, SIZES, seed=0)
    cex = found.counterexample
    assert cex is not None and cex["digits"] == 100
    json.dumps(cex)
    with mpmath.workdps(60):
        assert mpmath.mpf(cex["difference"]) != 0


@pytest.mark.parametrize(
    "same",
    [
        REF.xreplace({sp.log(2 * sp.pi): sp.log(2) + sp.log(sp.pi)}),
        REF.xreplace({sp.log(2 * sp.pi): 2 * sp.log(sp.sqrt(2 * sp.pi))}),
        REF + sp.log(bn_eps * 3) - sp.log(bn_eps) - sp.log(3),
    ],
    ids=["log2-logpi", "log-sqrt", "log-split"],
)
def test_equal_values_never_differ(same):
    found = search(same, REF, SIZES, seed=0, points_per_size=4)
    assert found.counterexample is None
    assert found.evidence["points_evaluated"] == 4 * (6 + 2)
    assert float(found.evidence["max_abs_difference"]) < 1e-45


def test_reference_outside_its_domain_is_skipped():
    ref = sp.Sum(sp.log(epsilon[i]), (i, 1, D))  # complex where epsilon < 0
    found = search(ref, ref, SIZES, seed=0, points_per_size=5)
    assert found.counterexample is None
    assert found.evidence["points_outside_domain"] > 0


def test_sizes_smallest_first_and_only_those_used():
    combos = size_combinations(SIZES, {D})
    assert combos == [{D: 1}, {D: 2}, {D: 3}, {D: 4}, {D: 6}]
    assert size_combinations(SIZES, set()) == [{}]


def test_differs_threshold_is_relative():
    with mpmath.workdps(60):
        big = mpmath.mpf(10) ** 10
        assert differs(big + mpmath.mpf(10) ** -15, big) == (True, "")
        assert differs(big + mpmath.mpf(10) ** -25, big) == (False, "")
        assert differs(mpmath.mpc(1, 1), mpmath.mpf(1))[0]


def test_sizes_beyond_the_trial_values_are_tried():
    vanishing_at_trials = (D - 1) * (D - 2) * (D - 3) * sp.Rational(1, 10**9)
    found = search(REF + vanishing_at_trials, REF, SIZES, seed=0)
    assert found.counterexample is not None
    assert found.counterexample["D"] > 3


def test_overlong_sums_are_refused_not_run():
    huge = sp.Sum(sigma[0, i], (i, 1, 10**9))
    found = search(huge, REF, SIZES, seed=0)
    assert found.counterexample is None
    assert "too long" in found.evidence["not_numeric"]


def test_isolated_singularity_at_a_nice_value_is_no_counterexample(monkeypatch):
    moved = []
    original = _search_module._nearby

    def spy(point, seed):
        moved.append(seed)
        return original(point, seed)

    monkeypatch.setattr(_search_module, "_nearby", spy)
    x = sigma[0, 1]
    removable = sp.log((x - 2) ** 2) - 2 * sp.log(sp.Abs(x - 2))  # 0, but undefined at x = 2
    fixed = Point(seed=0, fixed={("idx", sigma, (0, 1)): "2"})
    assert not mpmath.isfinite(evaluate(REF + removable, {D: 1, T: 0}, fixed, dps=30))
    found = search(REF + removable, REF, SIZES, seed=0, points_per_size=6)
    assert found.counterexample is None
    assert moved  # the search did land on sigma[0,1] = 2 and looked nearby


def test_answer_undefined_on_an_open_set_is_a_counterexample():
    answer = REF + sp.log(-sigma[0, 1])  # complex wherever sigma > 0
    found = search(answer, REF, SIZES, seed=0)
    assert found.counterexample is not None
    assert found.counterexample["note"].startswith("the answer is not a finite real number")
