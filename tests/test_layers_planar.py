"""Planar flow: the invertibility reparametrisation is proved exactly, and the shipped bug is refuted.

The contract test proves log|det J| for ``Planar`` and ``PlanarReparametrized``; this file proves
the appendix-A.1 identity w^T u_hat = m(w^T u) > -1 and attacks it with Pyro's ||w|| for ||w||^2.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derive.layers.planar import Planar, PlanarReparametrized, m_planar, u, w, w_dot_u_hat_identity
from derive.proof.checks import is_zero

DIMS = [pytest.param(d, id=f"D{d}") for d in (1, 2, 3)]
#: Refuting runs every strategy of the kernel (simplify last): affordable at D = 1 for the full Jacobian.
SMALL_DIMS = [pytest.param(1, id="D1")]


@pytest.mark.parametrize("dim", DIMS)
def test_w_dot_u_hat_is_m_of_w_dot_u(dim: int) -> None:
    lhs, rhs = w_dot_u_hat_identity(dim)
    assert is_zero(lhs - rhs) is not None


def test_m_is_greater_than_minus_one_by_sympy_assumptions() -> None:
    """m(x) + 1 = log(1 + e^x) > 0 for every real x: decided by SymPy's assumption system, not sampled."""
    v = sp.Symbol("v", real=True)
    assert (m_planar(v) + 1).is_positive is True


@pytest.mark.parametrize("dim", DIMS)
def test_attack_norm_instead_of_norm_squared_is_not_proved(dim: int) -> None:
    lhs, rhs = w_dot_u_hat_identity(dim, norm_power=1)
    assert is_zero(lhs - rhs) is None


def test_attack_norm_instead_of_norm_squared_has_a_counterexample() -> None:
    """At ||w|| = 1/2, w^T u = -4 the buggy u_hat gives w^T u_hat < -1: the flow is not invertible."""
    lhs, _ = w_dot_u_hat_identity(2, norm_power=1)
    at = {w[1]: sp.Rational(1, 2), w[2]: 0, u[1]: -8, u[2]: sp.Rational(7, 10)}
    value = lhs.xreplace(at)
    assert sp.N(value, 50) < -1
    good, _ = w_dot_u_hat_identity(2)
    assert sp.N(good.xreplace(at), 50) > -1


@pytest.mark.parametrize("dim", SMALL_DIMS)
def test_attack_claim_without_reparametrisation_is_not_proved(dim: int) -> None:
    """The raw-u formula is not the log-det of the reparametrised map (unless D makes them coincide)."""
    layer = PlanarReparametrized(dim)
    wrong = Planar(dim).claimed_logdet()
    assert is_zero(layer.derived_logdet() - wrong) is None


@pytest.mark.parametrize("dim", SMALL_DIMS)
def test_attack_psi_with_h_instead_of_h_prime_is_not_proved(dim: int) -> None:
    layer = Planar(dim)
    a = layer.pre_activation()
    wrong = sp.log(sp.Abs(1 + sp.tanh(a) * sp.Add(*[u[k] * w[k] for k in range(1, dim + 1)])))
    assert is_zero(layer.derived_logdet() - wrong) is None
