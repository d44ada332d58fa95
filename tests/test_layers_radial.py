"""Radial flow: det J = (1 + beta h)^(D-1) (1 + beta h + beta h' r).

Every D: the kernel's rank-one rule (``tests/test_rank_one_attacks.py``, ``derive prove radial``); D = 1..3:
the contract test. Here, independently of that rule: D = 1 on both half-spaces by the change of variables
z_1 <-> r, and D = 2, 3 against SymPy's full determinant at seeded random points.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derive.layers.radial import R, Radial, radius_substitution

SIGNS = [pytest.param(s, id=f"half-space-{'+' if s > 0 else '-'}") for s in (1, -1)]


def _det(layer: Radial) -> sp.Expr:
    J = sp.Matrix(layer.dim, layer.dim, lambda r, c: sp.diff(layer.forward()[r], layer.inputs()[c]))
    return J.det(method="berkowitz")


@pytest.mark.parametrize("sign", SIGNS)
def test_determinant_is_the_papers_formula(sign: int) -> None:
    layer = Radial(1)
    sub = radius_substitution(1, sign)
    assert sp.simplify(layer.radius().xreplace(sub) - R) == 0
    diff = _det(layer).xreplace(sub) - layer.claimed_det(R)
    assert sp.cancel(sp.together(sp.expand(diff))) == 0


@pytest.mark.parametrize("sign", SIGNS)
def test_attack_wrong_exponent_is_refuted(sign: int) -> None:
    layer = Radial(1)
    sub = radius_substitution(1, sign)
    wrong = layer.claimed_det(R) * (
        1 + sp.Symbol("beta", real=True) / (sp.Symbol("alpha", positive=True) + R)
    )
    assert sp.cancel(sp.together(sp.expand(_det(layer).xreplace(sub) - wrong))) != 0


@pytest.mark.parametrize("dim", [2, 3], ids=["D2", "D3"])
def test_rank_one_result_agrees_with_the_full_determinant_at_random_points(dim: int) -> None:
    """Cross-check of the kernel's rank-one rule against SymPy's full determinant (no lemma used), at
    seeded random points with 30 digits: the rule's log-det and log|det J| agree."""
    import random

    layer = Radial(dim)
    J = sp.Matrix(dim, dim, lambda r, c: sp.diff(layer.forward()[r], layer.inputs()[c]))
    rng = random.Random(dim)
    atoms = sorted(J.free_symbols | layer.derived_logdet().free_symbols, key=str)
    for _ in range(3):
        at = {a: sp.Rational(rng.randint(-30, 30), 7) for a in atoms}
        at[sp.Symbol("alpha", positive=True)] = sp.Rational(rng.randint(1, 20), 9)
        full = sp.log(abs(J.xreplace(at).det(method="berkowitz")))
        assert abs(sp.N(full - layer.derived_logdet().xreplace(at), 30)) < 1e-25
