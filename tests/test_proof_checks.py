"""Each check confirms what holds and refuses what does not (a wrong step must fail loudly)."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.errors import VerificationError
from derive.proof import (
    ChainBuilder,
    Fact,
    Identity,
    Instance,
    PeelLastTerm,
    Recomputed,
    SummandIdentity,
    UsingFacts,
)
from derive.proof.checks import eliminate_radicals, is_zero
from derive.symbols import D, T, bn_eps, epsilon, i, sigma, t

x = sp.Symbol("x", positive=True)
y = sp.Symbol("y", real=True)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (sp.log(x**2), 2 * sp.log(x)),
        (sp.log(1 / sp.sqrt(x + bn_eps)), -sp.log(x + bn_eps) / 2),
        (
            sp.Sum(sp.log(sigma[t, i]), (t, 0, 2)),
            sp.log(sigma[0, i]) + sp.log(sigma[1, i]) + sp.log(sigma[2, i]),
        ),
    ],
    ids=["log-power", "log-inverse-sqrt", "concrete-sum"],
)
def test_identity_accepts_true_identities(before: sp.Expr, after: sp.Expr) -> None:
    Identity(expand_sums=True).verify(before, after)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (sp.log(y**2), 2 * sp.log(y)),  # false for y < 0
        (sp.sqrt(y**2), y),  # false for y < 0
        (sp.log(x), sp.log(x) + sp.Rational(1, 10**9)),
        (sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), sp.Sum(sp.log(sigma[t, i]), (t, 1, T))),
    ],
    ids=["log-power-real", "sqrt-square-real", "off-by-1e-9", "bounds-off-by-one"],
)
def test_identity_rejects_false_identities(before: sp.Expr, after: sp.Expr) -> None:
    with pytest.raises(VerificationError):
        Identity().verify(before, after)


def test_summand_identity_needs_equal_limits_and_summands() -> None:
    f = sp.log(1 / sigma[t, i])
    SummandIdentity().verify(sp.Sum(f, (i, 1, D)), -sp.Sum(sp.log(sigma[t, i]), (i, 1, D)))
    with pytest.raises(VerificationError, match="limits"):
        SummandIdentity().verify(sp.Sum(f, (i, 1, D)), sp.Sum(f, (i, 0, D)))
    with pytest.raises(VerificationError, match="summands"):
        SummandIdentity().verify(sp.Sum(f, (i, 1, D)), sp.Sum(sp.log(sigma[t, i]), (i, 1, D)))


def test_peel_last_and_first_term() -> None:
    f = sp.log(sigma[t, i])
    PeelLastTerm(T + 1).verify(sp.Sum(f, (t, 0, T)) + f.subs(t, T + 1), sp.Sum(f, (t, 0, T + 1)))
    PeelLastTerm(sp.Integer(0), first=True).verify(sp.Sum(f, (t, 0, T)), f.subs(t, 0) + sp.Sum(f, (t, 1, T)))
    with pytest.raises(VerificationError):
        PeelLastTerm(T + 1).verify(sp.Sum(f, (t, 0, T)), sp.Sum(f, (t, 0, T + 1)))


def test_using_facts_requires_the_fact_to_occur() -> None:
    q = sp.Function("q")
    fact = Fact(q(t), sp.log(sigma[t, i]), "a lemma")
    UsingFacts((fact,)).verify(q(t) + 1, sp.log(sigma[t, i]) + 1)
    with pytest.raises(VerificationError, match="none of the cited facts"):
        UsingFacts((fact,)).verify(epsilon[i], epsilon[i])


def test_instance_fails_when_a_side_condition_fails() -> None:
    with pytest.raises(VerificationError, match="side condition"):
        Instance("a theorem", (("never", lambda: False),)).verify(x, x)


def test_recomputed_compares_with_the_recomputation() -> None:
    Recomputed(lambda: sp.diff(x**3, x), "d/dx x^3").verify(sp.Symbol("J"), 3 * x**2)
    with pytest.raises(VerificationError):
        Recomputed(lambda: sp.diff(x**3, x), "d/dx x^3").verify(sp.Symbol("J"), 3 * x)


def test_eliminate_radicals_is_exact() -> None:
    v = sp.Symbol("v", positive=True)
    s = sp.sqrt(v + bn_eps)
    assert eliminate_radicals((v + bn_eps) / s - s) == 0
    assert eliminate_radicals((v + bn_eps) / s - s + sp.Rational(1, 10**12)) != 0


def test_chain_builder_reports_the_failing_step() -> None:
    chain = ChainBuilder(sp.log(x**2), label="demo").step(2 * sp.log(x), Identity(), "ok")
    with pytest.raises(VerificationError, match=r"demo: step 2 \(wrong\)"):
        chain.step(3 * sp.log(x), Identity(), "wrong")


def test_is_zero_names_the_strategy() -> None:
    assert is_zero(sp.Integer(0)) == "structural equality"
    assert is_zero(sp.log(x)) is None
