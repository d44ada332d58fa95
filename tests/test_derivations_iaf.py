"""Q1 from the models: the general theorem, the concrete proofs, and the variants."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
from derive.derivations.iaf_variants import iaf_inverse_proof, iaf_stable_general_proof
from derive.layers import GaussianBase, IAFStep
from derive.layers.gaussian import log_std_normal_pdf
from derive.symbols import D, T, epsilon, sigma


def _problem_set_formula(dim: int, steps: int) -> sp.Expr:
    """The problem set's final formula, written out term by term (independent of derive's Sums)."""
    return -sp.Add(
        *[
            sp.log(2 * sp.pi) / 2
            + epsilon[k] ** 2 / 2
            + sp.Add(*[sp.log(sigma[s, k]) for s in range(steps + 1)])
            for k in range(1, dim + 1)
        ]
    )


def _brute_force(dim: int, steps: int) -> sp.Expr:
    """log N(eps) - sum of per-layer log|det|, from the layer models' *full* Jacobian determinants."""
    layers = [GaussianBase(dim)] + [IAFStep(dim, t=k) for k in range(1, steps + 1)]
    total = log_std_normal_pdf(tuple(epsilon[k] for k in range(1, dim + 1)))
    for layer in layers:
        full = sp.Matrix(dim, dim, lambda r, c, L=layer: sp.diff(L.forward()[r], L.inputs()[c]))
        total -= sp.log(sp.Abs(layer.abbreviate(full.det())))
    return total


def test_general_theorem_is_the_problem_set_formula() -> None:
    proof = iaf_general_proof()
    for dim, steps in [(1, 0), (2, 1), (3, 3)]:
        assert sp.expand(proof.result.subs({D: dim, T: steps}).doit() - _problem_set_formula(dim, steps)) == 0


def test_general_proof_is_an_induction() -> None:
    titles = [s.title for s in iaf_general_proof().sections]
    assert "Base case (T = 0)" in titles and "Induction step" in titles
    rules = [s.rule for s in iaf_general_proof().steps]
    assert "induction" in rules and "extend the sum" in rules


@pytest.mark.parametrize(("dim", "steps"), [(1, 0), (2, 1), (3, 2), (4, 3)], ids=lambda v: str(v))
def test_concrete_proof_matches_the_brute_force_determinant(dim: int, steps: int) -> None:
    proof = iaf_concrete_proof(dim, steps)
    assert sp.expand(proof.result.doit() - _brute_force(dim, steps)) == 0
    assert sp.expand(proof.result.doit() - _problem_set_formula(dim, steps)) == 0


def test_concrete_proof_uses_per_step_jacobians_not_the_composite() -> None:
    proof = iaf_concrete_proof(3, 2)
    assert [s.title for s in proof.sections].count("Jacobian of step 1") == 1
    assert "Cross-check with the general theorem" in [s.title for s in proof.sections]


def test_every_step_is_certified_by_a_kernel_theorem_about_that_step() -> None:
    for proof in (
        iaf_general_proof(),
        iaf_concrete_proof(2, 2),
        iaf_inverse_proof(),
        iaf_stable_general_proof(),
    ):
        for step in proof.steps:
            assert step.theorem.lhs == step.before and step.theorem.rhs == step.after, step.rule
            assert step.theorem.closed or step.rule == "hypothesis and lemma", step.rule
            assert step.describe(), step.rule


def test_inverse_direction_has_the_opposite_sign() -> None:
    inverse = iaf_inverse_proof()
    assert (
        sp.expand(
            inverse.result
            + sp.Sum(
                sp.log(sigma[sp.Symbol("i", integer=True, positive=True)]),
                (sp.Symbol("i", integer=True, positive=True), 1, D),
            )
        )
        == 0
    )
    assert "sign convention" in [c.label for s in inverse.sections for c in s.chains]


def test_stable_variant_agrees_with_the_concrete_stable_proof() -> None:
    general = iaf_stable_general_proof().result.subs({D: 2, T: 3}).doit()
    concrete = iaf_concrete_proof(2, 3, "stable").result.doit()
    assert sp.simplify(general - concrete) == 0


@pytest.mark.parametrize(("dim", "steps"), [(0, 1), (2, -1)], ids=["dim0", "steps-negative"])
def test_bad_sizes_are_usage_errors(dim: int, steps: int) -> None:
    from derive.errors import UsageError

    with pytest.raises(UsageError):
        iaf_concrete_proof(dim, steps)
