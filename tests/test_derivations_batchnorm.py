"""Q2 from the model: eval mode (both directions, affine) and train mode."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.derivations.batchnorm import batchnorm_eval_proof, batchnorm_train_proof
from derive.layers import BatchNorm
from derive.quantities import BatchHat, BatchVar
from derive.symbols import D, N, bn_eps, bn_std, gamma
from derive.symbols import i as _i


@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@pytest.mark.parametrize("direction", ["normalizing", "generative"])
def test_eval_result_equals_full_determinant_of_the_model(affine: bool, direction: str) -> None:
    proof = batchnorm_eval_proof(None, affine, direction)  # type: ignore[arg-type]
    layer = BatchNorm(3, affine=affine, direction=direction)  # type: ignore[arg-type]
    full = sp.Matrix(3, 3, lambda r, c: sp.diff(layer.forward()[r], layer.inputs()[c])).det()
    values = {bn_eps: sp.Rational(1, 7), **{bn_std[k]: sp.Rational(k + 2, 3) for k in range(1, 4)}}
    values.update({gamma[k]: sp.Rational(-k, 5) for k in range(1, 4)})
    claimed = proof.result.subs(D, 3).doit().subs(values)
    assert abs(sp.N(claimed - sp.log(sp.Abs(full.subs(values))), 40)) < 1e-35


def test_eval_result_is_the_problem_set_formula() -> None:
    """Sum_i log|1/sqrt(sigma_i^2 + eps)| from the problem set equals derive's result."""
    i = sp.Symbol("i", integer=True, positive=True)
    student = sp.Sum(sp.log(sp.Abs(1 / sp.sqrt(bn_std[i] ** 2 + bn_eps))), (i, 1, 4)).doit()
    assert (
        sp.expand(sp.expand_log(student - batchnorm_eval_proof().result.subs(D, 4).doit(), force=False)) == 0
    )


def test_train_mode_per_sample_logdet_numerically() -> None:
    """The symbolic-N per-sample result equals log|dy_1/dx_1| by finite differences of the real map."""
    rng = np.random.default_rng(0)
    batch, eps = rng.normal(size=(5, 1)), 1e-2

    def y1(x1: float) -> float:
        x = batch.copy()
        x[0, 0] = x1
        m, v = x.mean(), x.var()
        return float((x[0, 0] - m) / np.sqrt(v + eps))

    h = 1e-6
    numeric = np.log(abs((y1(batch[0, 0] + h) - y1(batch[0, 0] - h)) / (2 * h)))
    m, v = batch.mean(), batch.var()
    yhat = (batch[0, 0] - m) / np.sqrt(v + eps)
    proof = batchnorm_train_proof()
    assert dict(proof.theorem.domain)[N] == (2, 3, 4, 5)  # claimed at the computed sizes only
    value = proof.result.subs({D: 1, N: 5}).doit()
    stats = {q: (v if isinstance(q, BatchVar) else yhat) for q in value.atoms(BatchVar, BatchHat)}
    value = value.xreplace(stats).subs(bn_eps, eps)
    assert abs(float(value) - numeric) < 1e-6


def test_train_mode_states_the_singular_batch_jacobian() -> None:
    proof = batchnorm_train_proof()
    chains = next(s for s in proof.sections if "singular" in s.title).chains
    assert chains and all(c.result == 0 and c.theorem.closed for c in chains)


def test_train_mode_difference_vanishes_for_large_batches() -> None:
    """The per-sample result minus the eval formula at the batch statistics -> 0 as N -> oo."""
    term = batchnorm_train_proof().result.function
    extra = next(a for a in sp.Add.make_args(term) if a.has(BatchHat))
    y = sp.Symbol("y", real=True)
    assert sp.limit(extra.xreplace({q: y for q in extra.atoms(BatchHat)}), N, sp.oo) == 0


def test_generative_direction_states_the_generative_maps_quantity() -> None:
    """Attack 1 of issue 7: the generative theorem is about dx/dy, and its sign is +1/2 sum log."""
    proof = batchnorm_eval_proof(None, False, "generative")
    assert proof.statement.startswith(
        r"\log\left|\det \frac{\partial \mathbf{x}}{\partial \mathbf{y}}\right|"
    )
    assert proof.result == sp.Sum(sp.log(bn_std[_i] ** 2 + bn_eps), (_i, 1, D)) / 2
    assert proof.lhs != batchnorm_eval_proof().lhs
