r"""The independent re-check of a counterexample: it must hold, and satisfy the problem's definitions."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.steps._recheck import recheck
from derive.symbols import D, T, epsilon, i, mu, sigma, t, z

DEFS = {z[0, i]: mu[0, i] + sigma[0, i] * epsilon[i]}
MIN = {D: 1, T: 0}
S = sp.Sum


def test_a_real_difference_is_confirmed() -> None:
    before = S(sp.log(sigma[0, i]), (i, 1, D))
    assert recheck(before, 2 * before, {"D": 1, "sigma[0,1]": "3"}, {}, MIN) is None


@pytest.mark.parametrize(
    ("point", "why"),
    [
        ({"D": 1, "sigma[0,1]": "1"}, "agree"),  # log 1 = 2 log 1
        ({"D": 0, "sigma[0,1]": "3"}, "below its minimum"),
        ({"D": 1, "sigma[0,1]": "-3"}, "violates"),
    ],
    ids=["sides-agree", "size-below-minimum", "negative-sigma"],
)
def test_a_bad_point_is_refused(point: dict[str, str | int], why: str) -> None:
    before = S(sp.log(sigma[0, i]), (i, 1, D))
    refused = recheck(before, 2 * before, point, {}, MIN)
    assert refused is not None and why in refused


@pytest.mark.parametrize("letter", ["i", "j", "k"], ids=["i", "j", "k"])
def test_a_point_that_assigns_a_defined_atom_is_refused_whatever_the_index(letter: str) -> None:
    j = sp.Symbol(letter, integer=True)
    before = S((z[0, j] - mu[0, j]) / sigma[0, j], (j, 1, D))
    after = S(epsilon[j], (j, 1, D))
    point = {"D": 1, "z[0,1]": "3", "mu[0,1]": "0", "sigma[0,1]": "1", "epsilon[1]": "1"}
    refused = recheck(before, after, point, DEFS, MIN)
    assert refused is not None and "definition" in refused


def test_defined_atoms_are_computed_and_reported() -> None:
    j = sp.Symbol("j", integer=True)
    before = S(((z[0, j] - mu[0, j]) / sigma[0, j]) ** 2, (j, 1, D))
    after = S(epsilon[j], (j, 1, D))
    completed: dict[str, str] = {}
    point = {"D": 1, "mu[0,1]": "0.5", "sigma[0,1]": "2", "epsilon[1]": "3"}
    assert recheck(before, after, point, DEFS, MIN, completed=completed) is None
    assert sp.Float(completed["z[0,1]"], 30) == sp.Float("6.5", 30)


def test_a_free_step_index_must_lie_in_one_to_t() -> None:
    before = S(sp.log(sigma[t, i]), (i, 1, D))
    point = {"D": 1, "T": 1, "t": 2, "sigma[2,1]": "3"}
    refused = recheck(before, -before, point, {}, {**MIN, t: 1}, (t, T))
    assert refused is not None and "not a step" in refused


def test_a_free_feature_index_must_lie_in_one_to_d() -> None:
    before = sp.log(sigma[0, i])
    point = {"D": 1, "i": 2, "sigma[0,2]": "3"}
    refused = recheck(before, -before, point, {}, {**MIN, i: 1}, uppers={"i": D})
    assert refused is not None and "beyond its range" in refused
