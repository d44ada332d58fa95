"""Radial flow: det J = (1 + beta h)^(D-1) (1 + beta h + beta h' r), proved on both half-spaces by the
change of variables z_1 <-> r (the kernel's algebra cannot use sum (z_i - z0_i)^2 = r^2 itself).

D = 1 here; D = 2 holds the same way but takes minutes of ``cancel`` (the kernel engineer's
general-D proof uses the matrix determinant lemma instead)."""

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
