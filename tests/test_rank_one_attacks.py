"""Attacks on the rank-one rule (``kernel.rank_one_logdet``, check ``RankOneUpdate``). Every one must fail.

The rule finds ``J_ij = s δ_ij + c a_i b_j`` itself from a layer at symbolic D and cites the matrix
determinant lemma. Each test hands it a map whose Jacobian is *not* such an update, or a claimed
result that does not follow (‖w‖ for ‖w‖², a sign, a missing factor or |·|), and must see
:class:`~derive.errors.VerificationError`. The last tests check that the real claims do prove.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest
import sympy as sp

from derive.errors import VerificationError
from derive.layers import Planar
from derive.layers.generic import GenericLayer, GenericPlanar, GenericRadial, _k
from derive.layers.planar import b, m_planar, u, w, w_dot_u_hat_theorem, z
from derive.proof import kernel as K
from derive.proof._proof import ChainBuilder
from derive.proof.checks import Identity, RankOneUpdate, Rewrite
from derive.quantities import LogDetMap, ModelAtom
from derive.symbols import D, i

v = sp.IndexedBase("v", real=True)
WZ = sp.Sum(w[_k] * z[_k], (_k, 1, D)) + b
HP = 1 - sp.tanh(WZ) ** 2
UW = sp.Sum(u[i] * w[i], (i, 1, D))


@dataclasses.dataclass(frozen=True)
class _Map(GenericLayer):
    """A map at symbolic D given by its i-th output (the attacks' models)."""

    kind: str = "elementwise"
    dim: sp.Expr = D
    name: ClassVar[str] = "attack"
    direction: ClassVar[str] = "generative"  # type: ignore[misc]
    claimed_structure: ClassVar = None  # type: ignore[assignment]

    def input(self, j: sp.Expr) -> sp.Expr:
        return z[j]

    def component(self, i: sp.Expr) -> sp.Expr:
        if self.kind == "elementwise":  # z + u ⊙ tanh(w ⊙ z): diagonal, not a multiple of I plus rank one
            return z[i] + u[i] * sp.tanh(w[i] * z[i])
        if self.kind == "rank-two":  # z + u h(wᵀz) + v h(vᵀz)
            return z[i] + u[i] * sp.tanh(WZ) + v[i] * sp.tanh(sp.Sum(v[_k] * z[_k], (_k, 1, D)))
        if self.kind == "shifted":  # output i reads input i+1: not the identity plus an update
            return z[i + 1] + u[i] * sp.tanh(WZ)
        if self.kind == "short-sum":  # wᵀz over 1..D-1 only: the last input is not in the update
            return z[i] + u[i] * sp.tanh(sp.Sum(w[_k] * z[_k], (_k, 1, D - 1)) + b)
        if self.kind == "scaled":  # 2z + u h(wᵀz + b): s = 2, not 1
            return 2 * z[i] + u[i] * sp.tanh(WZ)
        raise AssertionError(self.kind)


@dataclasses.dataclass(frozen=True)
class _BuggyReparametrized(GenericPlanar):
    """Pyro's shipped bug: û = u + (m(wᵀu) − wᵀu) w/‖w‖ (norm, not norm squared)."""

    def u_component(self, i: sp.Expr) -> sp.Expr:
        wu = sp.Sum(w[_k] * u[_k], (_k, 1, self.dim))
        return u[i] + (m_planar(wu) - wu) * w[i] / sp.sqrt(sp.Sum(w[_k] ** 2, (_k, 1, self.dim)))


def _prove(layer: object, claim: sp.Expr) -> object:
    return (
        ChainBuilder(LogDetMap(ModelAtom(layer)), label="attack")
        .step(claim, RankOneUpdate(Identity()), "x")
        .build()
    )


@pytest.mark.parametrize("kind", ["elementwise", "rank-two", "shifted"])
def test_attack_not_a_rank_one_update_is_refused(kind: str) -> None:
    with pytest.raises(VerificationError, match=r"rank-one|multiple of the identity"):
        K.rank_one_logdet(LogDetMap(ModelAtom(_Map(kind))))


def test_attack_rank_two_claimed_as_rank_one_is_refused() -> None:
    with pytest.raises(VerificationError, match="step 1"):
        _prove(_Map("rank-two"), sp.log(sp.Abs(1 + HP * UW)))


def test_attack_sum_over_one_less_input_keeps_its_range() -> None:
    """∂(Σ_{k<D} w_k z_k)/∂z_j is w_j only for j < D: the rule may not drop that condition (it would make
    the map planar); the Piecewise stays in the result, so no planar claim can match it."""
    th = K.rank_one_logdet(LogDetMap(ModelAtom(_Map("short-sum"))))
    assert th.rhs.has(sp.Piecewise)
    assert not K.rank_one_logdet(LogDetMap(ModelAtom(GenericPlanar()))).rhs.has(sp.Piecewise)


def test_attack_scaled_identity_keeps_its_scale() -> None:
    """2z + u h(wᵀz + b) is 2I + c u wᵀ: the result carries (D − 1) log 2 and s = 2 inside the last log."""
    th = K.rank_one_logdet(LogDetMap(ModelAtom(_Map("scaled"))))
    assert (D - 1) * sp.log(2) in sp.Add.make_args(th.rhs)
    assert th.rhs.subs(D, 1) == sp.log(sp.Abs(2 + HP * UW)).subs(D, 1)


WRONG_PLANAR = {
    "wrong-sign": sp.log(sp.Abs(1 - HP * UW)),
    "missing-abs": sp.log(1 + HP * UW),
}


@pytest.mark.parametrize("claim", list(WRONG_PLANAR.values()), ids=list(WRONG_PLANAR))
def test_attack_wrong_planar_claim_is_refused(claim: sp.Expr) -> None:
    with pytest.raises(VerificationError, match="step 1"):
        _prove(GenericPlanar(), claim)


def test_attack_norm_instead_of_norm_squared_is_refused() -> None:
    """With ‖w‖ for ‖w‖², Σ w_i û_i is not m(wᵀu): the reparametrisation identity does not prove."""
    buggy = _BuggyReparametrized(reparametrized=True)
    with pytest.raises(VerificationError, match="summands differ"):
        w_dot_u_hat_theorem(sp.Sum(w[i] * buggy.u_component(i), (i, 1, D)))


def test_attack_radial_exponent_is_d_minus_one() -> None:
    """The radial result's first term is (D − 1) log|s|, never D log|s| (the identity part is not rank one)."""
    th = K.rank_one_logdet(LogDetMap(ModelAtom(GenericRadial())))
    (scaled,) = [t for t in sp.Add.make_args(th.rhs) if isinstance(t, sp.Mul)]
    assert scaled.as_independent(sp.log, as_Add=False)[0] == D - 1


def test_attack_concrete_layer_is_not_a_symbolic_rank_one_update() -> None:
    with pytest.raises(VerificationError, match="stated for a symbolic index"):
        K.rank_one_logdet(LogDetMap(ModelAtom(Planar(2))))


def test_attack_rewrite_with_a_hand_made_identity_is_refused() -> None:
    """The reparametrisation step needs the kernel's theorem; a typed-in 'fact' is not one."""
    with pytest.raises(VerificationError, match="kernel theorems"):
        Rewrite((("Σ w û", "m(wᵀu)"),))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- the real claims
@pytest.mark.parametrize("name", ["planar", "planar-reparametrized", "radial"])
def test_general_claims_prove_on_the_lemma_only(name: str) -> None:
    from derive.derivations.layer import general_layer_proof

    proof = general_layer_proof(name)
    assert proof.theorem.closed and proof.theorem.axioms == {"matrix-determinant-lemma"}
    assert proof.result == proof.meta["claimed"]


def test_w_dot_u_hat_is_m_for_every_d() -> None:
    th = w_dot_u_hat_theorem()
    assert th.closed and not th.axioms and th.rhs == m_planar(sp.Sum(w[_k] * u[_k], (_k, 1, D)))


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_general_planar_agrees_with_the_concrete_model(dim: int) -> None:
    """The symbolic-D theorem instantiated at D = dim is the concrete layer's log-det (sums expanded)."""
    from derive.derivations.layer import general_layer_proof
    from derive.proof._algebra import expand_concrete_sums, is_zero

    general = general_layer_proof("planar").result.xreplace({D: sp.Integer(dim)})
    concrete = Planar(dim).derived_logdet()
    assert is_zero(expand_concrete_sums(general) - concrete) is not None


def test_attack_concrete_layer_with_the_twin_of_another_map_is_refused() -> None:
    """A concrete radial layer that points the rule at the planar model: the twin check refuses it."""
    from derive.layers import Radial

    class _Lying(Radial):
        def generic_twin(self) -> GenericLayer:
            return GenericPlanar(sp.Integer(self.dim))

    with pytest.raises(VerificationError, match="not the component-wise model"):
        K.rank_one_logdet(LogDetMap(ModelAtom(_Lying(2))))


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_general_radial_agrees_with_the_concrete_model(dim: int) -> None:
    from derive.derivations.layer import general_layer_proof
    from derive.layers import Radial
    from derive.proof._algebra import expand_concrete_sums, is_zero

    general = general_layer_proof("radial").result.xreplace({D: sp.Integer(dim)})
    assert is_zero(expand_concrete_sums(general) - Radial(dim).claimed_logdet()) is not None


# ------------------------------------------------------------------------------------- Sylvester (rank M)
def _prove_low_rank(layer: object, claim: sp.Expr) -> object:
    from derive.proof.checks import LowRankUpdate

    return (
        ChainBuilder(LogDetMap(ModelAtom(layer)), label="attack")
        .step(claim, LowRankUpdate(Identity()), "x")
        .build()
    )


@pytest.mark.parametrize("kind", ["elementwise", "scaled", "shifted"])
def test_attack_not_a_low_rank_update_of_the_identity_is_refused(kind: str) -> None:
    with pytest.raises(VerificationError, match=r"low-rank|not a product"):
        K.low_rank_logdet(LogDetMap(ModelAtom(_Map(kind))))


def test_attack_sylvester_claim_missing_h_prime_is_refused() -> None:
    """M = 1 (the refusal runs every algebra strategy; at M = 2 that takes about a minute)."""
    from derive.layers.generic import GenericSylvester
    from derive.layers.sylvester import A, B

    wrong = sp.log(sp.Abs(1 + sp.Sum(B[1, _k] * A[_k, 1], (_k, 1, D))))
    with pytest.raises(VerificationError, match="step 1"):
        _prove_low_rank(GenericSylvester(hidden=1), wrong)


@pytest.mark.parametrize("dim", [2])
def test_general_sylvester_agrees_with_the_concrete_model(dim: int) -> None:
    """The symbolic-D theorem (M = 2) at D = dim is the concrete layer's claim, itself proved from its full Jacobian."""
    from derive.derivations.layer import general_layer_proof
    from derive.layers import Sylvester
    from derive.proof._algebra import expand_concrete_sums, is_zero

    proof = general_layer_proof("sylvester")
    assert proof.theorem.axioms == {"sylvester-determinant"}
    general = expand_concrete_sums(proof.result.xreplace({D: sp.Integer(dim)}))
    assert is_zero(general - Sylvester(dim, hidden=2).claimed_logdet()) is not None


def test_attack_no_identity_part_is_refused() -> None:
    """y = u h(wᵀz + b) has J = c u wᵀ (s = 0): the lemma's (D − 1) log|s| would read 0 · log 0 at D = 1."""

    @dataclasses.dataclass(frozen=True)
    class _NoIdentity(_Map):
        def component(self, i: sp.Expr) -> sp.Expr:
            return u[i] * sp.tanh(WZ)

    with pytest.raises(VerificationError, match="no multiple of the identity"):
        K.rank_one_logdet(LogDetMap(ModelAtom(_NoIdentity())))


def test_attack_autoregressive_inner_product_is_refused() -> None:
    """Output i reads w_{1:i}ᵀ z_{1:i} (triangular, not rank one): the entry's range condition j <= i
    involves both indices, so neither rule accepts it."""

    @dataclasses.dataclass(frozen=True)
    class _Autoregressive(_Map):
        def component(self, i: sp.Expr) -> sp.Expr:
            return z[i] + u[i] * sp.tanh(sp.Sum(w[_k] * z[_k], (_k, 1, i)) + b)

    layer = _Autoregressive()
    with pytest.raises(VerificationError, match="rank-one"):
        K.rank_one_logdet(LogDetMap(ModelAtom(layer)))
    with pytest.raises(VerificationError, match="not a product"):
        K.low_rank_logdet(LogDetMap(ModelAtom(layer)))


def test_cli_prove_without_dim_is_the_general_proof(tmp_path: object) -> None:
    from pathlib import Path

    from derive.cli import main

    out = Path(str(tmp_path)) / "planar.txt"
    assert main(["prove", "planar", "--format", "text", "-o", str(out)]) == 0
    text = out.read_text()
    assert "(every D)" in text and "matrix-determinant-lemma" in text
