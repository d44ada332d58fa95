"""Zero tests: cheap ones first, strong ones only on request, and never a false zero."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.equivalence._zero import is_zero
from derive.symbols import bn_eps, epsilon, sigma

x = sigma[0, 1]


@pytest.mark.parametrize(
    ("expr", "cheap"),
    [
        (sp.log(2 * sp.pi) - sp.log(2) - sp.log(sp.pi), True),
        (sp.log(x**3) - 3 * sp.log(x), True),
        ((x + 1) ** 2 - x**2 - 2 * x - 1, True),
        (1 / (x + 1) + x / (x + 1) - 1, False),
        (sp.sqrt(2 + sp.sqrt(3)) - (sp.sqrt(6) + sp.sqrt(2)) / 2, False),
        (sp.sin(epsilon[1]) ** 2 + sp.cos(epsilon[1]) ** 2 - 1, False),
    ],
    ids=["log-2pi", "log-power", "polynomial", "rational", "radicals", "trig"],
)
def test_identities_are_zero(expr, cheap):
    assert (is_zero(expr) is not None) is cheap
    assert is_zero(expr, strong=True) is not None


@pytest.mark.parametrize(
    "expr",
    [
        sp.sqrt(epsilon[1] ** 2) - epsilon[1],
        sp.log(epsilon[1] ** 2) - 2 * sp.log(epsilon[1]),
        sp.log(2 * sp.pi) - sp.log(2) - sp.log(sp.pi) + sp.Rational(1, 10**9),
        sp.log(bn_eps + x) - sp.log(x),
    ],
    ids=["sqrt-square", "log-real-square", "tiny-offset", "dropped-eps"],
)
def test_non_identities_are_never_zero(expr):
    assert is_zero(expr, strong=True) is None
