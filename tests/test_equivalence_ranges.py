"""The range guard: proofs only where Karr's convention and the empty-sum reading agree."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.equivalence import Domain, SizeVar, decide
from derive.equivalence._ranges import reversed_range
from derive.symbols import D, T, i, j, sigma, t

SIZES = (SizeVar(D, 1, (1, 2, 3)), SizeVar(T, 0, (0, 1, 2)))
f = sp.log(sigma[t, 1])


@pytest.mark.parametrize(
    ("expr", "safe"),
    [
        (sp.Sum(f, (t, 0, T)), True),
        (sp.Sum(f, (t, 1, T)), True),
        (sp.Sum(f, (t, 0, T - 1)), True),
        (sp.Sum(f, (t, 2, T)), False),
        (sp.Sum(f, (t, 1, T - 1)), False),
        (sp.Sum(sigma[j, i], (j, 1, i), (i, 1, D)), True),
        (sp.Sum(sigma[j, i], (j, i + 2, D), (i, 1, D)), False),
        (sp.Product(sigma[t, 1], (t, 3, 1)), False),
        (sp.log(sp.Sum(f, (t, 2, T + 1))), True),
    ],
    ids=["0..T", "1..T", "0..T-1", "2..T", "1..T-1", "triangular", "gap", "numeric-reversed", "inside-log"],
)
def test_reversed_range(expr, safe):
    assert (reversed_range(expr, SIZES) is None) is safe


def test_karr_would_accept_what_a_reader_rejects():
    # Karr: f(1) + sum_{t=2}^{T} f = sum_{t=1}^{T} f for all T. Read with empty sums, they differ at T = 0.
    answer = f.xreplace({t: 1}) + sp.Sum(f, (t, 2, T))
    verdict = decide(answer, sp.Sum(f, (t, 1, T)), Domain(SIZES))
    assert verdict.status == "not-equivalent"
    assert verdict.counterexample is not None
    assert verdict.counterexample["T"] == 0
    assert "may be reversed" in verdict.evidence["ranges"]
