"""Elementwise layers: both leaky-ReLU branches are proved, and wrong branch claims are refuted."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.layers.elementwise import LeakyReLU, Sigmoid, Tanh, alpha, x
from derive.proof.checks import is_zero

BRANCHES = [pytest.param(b, id=b) for b in ("+", "-", "+-", "-+-")]


@pytest.mark.parametrize("branches", BRANCHES)
def test_leaky_relu_branch_claim_is_the_piecewise_formula_on_that_branch(branches: str) -> None:
    layer = LeakyReLU(len(branches), branches=branches)
    assert is_zero(layer.derived_logdet() - layer.claimed_logdet()) is not None
    plain = [x[k] for k in range(1, layer.dim + 1)]  # the unrestricted atoms of the piecewise claim
    on_branch = layer.piecewise_logdet().xreplace(dict(zip(plain, layer.inputs(), strict=True)))
    assert is_zero(on_branch - layer.claimed_logdet()) is not None
    assert layer.claimed_logdet() == branches.count("-") * sp.log(alpha)


def test_attack_wrong_negative_branch_is_not_proved() -> None:
    layer = LeakyReLU(1, branches="-")
    assert is_zero(layer.derived_logdet() - (-sp.log(alpha))) is None
    assert is_zero(layer.derived_logdet()) is None


def test_attack_sigmoid_without_the_one_minus_factor_is_not_proved() -> None:
    layer = Sigmoid(1)
    (v,) = layer.inputs()
    assert is_zero(layer.derived_logdet() - sp.log(1 / (1 + sp.exp(-v)))) is None


def test_attack_tanh_without_the_square_is_not_proved() -> None:
    layer = Tanh(1)
    (v,) = layer.inputs()
    assert is_zero(layer.derived_logdet() - sp.log(1 - sp.tanh(v))) is None


def test_bad_branches_are_rejected() -> None:
    with pytest.raises(ValueError, match="branches"):
        LeakyReLU(2, branches="+x")
