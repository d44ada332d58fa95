"""Attacks on the trusted kernel: false proofs built through the public API. Every one must fail.

Each attack tries to get a false statement (or an unjustified one) accepted; the test passes only
when the kernel, a check or the chain builder raises :class:`~derive.errors.VerificationError`. The
first group replays the audit of issue 7 (each of its five findings), the rest are mutations of the
real proofs: a sign slipped, a bound off by one, a lemma used outside what was proved, a side
condition computed for the wrong map.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import sympy as sp

from derive.derivations.batchnorm import batchnorm_train_proof
from derive.derivations.iaf import T1, iaf_general_proof, iaf_log_q_expr
from derive.errors import VerificationError
from derive.jacobian import Structure
from derive.layers import BatchNorm, FlowLayer
from derive.layers.batchnorm import BatchNormTrainBatch
from derive.layers.flow import IAFFlow
from derive.layers.generic import GenericBatchNorm, GenericLayer
from derive.proof import (
    ChainBuilder,
    ChangeOfVariables,
    Check,
    FromJacobian,
    Identity,
    Induction,
    PeelLastTerm,
    Proof,
    Rewrite,
    Section,
    SummandIdentity,
    Theorem,
    UsingFacts,
)
from derive.proof import kernel as K
from derive.quantities import LogDetMap, LogDetStep, LogDetTotal, LogN, LogQ, LogQOut, ModelAtom
from derive.symbols import D, N, T, bn_eps, bn_std, epsilon, i, mu, sigma, t, z

F = ModelAtom(IAFFlow(D))
F3 = ModelAtom(IAFFlow(sp.Integer(3)))
n = sp.Symbol("n", integer=True, nonnegative=True)
x = sp.IndexedBase("x", real=True)
m_int = sp.Symbol("m", integer=True)


def R(steps: sp.Expr = T) -> sp.Expr:
    return iaf_log_q_expr(steps)


def chain(lhs: sp.Expr, *steps: tuple[sp.Expr, Check]) -> Any:
    b = ChainBuilder(lhs, label="attack")
    for after, check in steps:
        b.step(after, check, "attack step")
    return b.build()


def real_chain(label: str) -> Any:
    return iaf_general_proof().chain(label)


# ------------------------------------------------------------------------------- issue 7, finding 1
def generative_batchnorm_with_the_normalizing_formula() -> None:
    gen = ModelAtom(GenericBatchNorm(D, False, "generative"))
    chain(
        LogDetMap(gen),
        (-sp.Sum(sp.log(bn_std[i] ** 2 + bn_eps), (i, 1, D)) / 2, FromJacobian(SummandIdentity())),
    )


def normalizing_batchnorm_claimed_positive() -> None:
    norm = ModelAtom(GenericBatchNorm(D, False, "normalizing"))
    chain(
        LogDetMap(norm),
        (sp.Sum(sp.log(bn_std[i] ** 2 + bn_eps), (i, 1, D)) / 2, FromJacobian(SummandIdentity())),
    )


# ------------------------------------------------------------------------------- finding 2: lemma instances
def induction_concluding_twice_the_result() -> None:
    base, step = real_chain("base case").theorem, real_chain("induction step").theorem
    chain(LogQ(F, T), (2 * iaf_log_q_expr(T, D - 1), Induction(T, base, step, n)))


def induction_with_the_classic_sign_error() -> None:
    hyp = K.assume(LogQ(F, n), R(n))
    chain(LogQ(F, n + 1), (LogQ(F, n) + LogDetStep(F, n + 1), ChangeOfVariables()))
    assert hyp  # not reached


def induction_step_assuming_the_conclusion() -> None:
    base = real_chain("base case").theorem
    bogus = K.assume(LogQ(F, n + 1), R(n + 1))  # "assume P(n+1), conclude P(n+1)"
    chain(LogQ(F, T), (R(T), Induction(T, base, bogus, n)))


def induction_with_a_base_case_of_another_statement() -> None:
    step = real_chain("induction step").theorem
    base = K.algebra(LogQ(F, 0) - LogQ(F, 0), sp.Integer(0))
    chain(LogQ(F, T), (R(T), Induction(T, base, step, n)))


def induction_over_a_variable_that_may_be_negative() -> None:
    base, step = real_chain("base case").theorem, real_chain("induction step").theorem
    K.induction(m_int, LogQ(F, m_int), R(m_int), base, step, n)


def lemma_instantiated_at_the_base_map() -> None:
    K.inst(real_chain("IAF step lemma").theorem, {T1: 0})  # proved for t >= 1 only


def lemma_instantiated_at_a_possibly_zero_step() -> None:
    K.inst(real_chain("IAF step lemma").theorem, {T1: n})


# ------------------------------------------------------------------------------- finding 3: hand-made facts
def forged_theorem_constructor() -> None:
    Theorem(None, LogQ(F, 5), sp.Integer(0))


def forged_fact_in_rewrite() -> None:
    fact = SimpleNamespace(lhs=LogQ(F, T), rhs=sp.Integer(0), source="a lie")
    chain(LogQ(F, T), (sp.Integer(0), Rewrite((fact,))))  # type: ignore[arg-type]


def forged_fact_through_the_old_name() -> None:
    fact = SimpleNamespace(lhs=LogQ(F, T), rhs=sp.Integer(0))
    UsingFacts((fact,))  # type: ignore[arg-type]


def recomputation_that_ignores_the_step() -> None:
    chain(LogQ(F3, 5), (sp.Integer(0), Identity(expand_sums=True)))


def check_returning_a_theorem_about_something_else() -> None:
    class Liar(Check):
        def prove(self, before: sp.Expr, after: sp.Expr) -> Theorem:
            return K.algebra(sp.Integer(0), sp.Integer(0))  # true, but not this step

    chain(LogQ(F, T), (sp.Integer(0), Liar()))


def check_returning_true() -> None:
    class Yes(Check):
        def prove(self, before: sp.Expr, after: sp.Expr) -> Any:
            return True

    chain(LogQ(F, T), (sp.Integer(0), Yes()))


def theorem_mutated_after_the_fact() -> None:
    th = K.algebra(sp.Integer(1), sp.Integer(1))
    th.rhs = sp.Integer(2)  # type: ignore[misc]


def theorem_smuggled_through_pickle() -> None:
    pickle.loads(pickle.dumps(K.algebra(sp.Integer(1), sp.Integer(1))))


def index_specific_fact_used_under_its_binder() -> None:
    only_this_i = K.assume(x[i], sp.Integer(0))  # x_i = 0 for one particular i
    chain(sp.Sum(x[i], (i, 1, D)), (sp.Integer(0), Rewrite((only_this_i,))))


def open_hypothesis_left_in_a_proof() -> None:
    Proof("bogus", real_chain("induction step").theorem, (Section("x"),))


# ------------------------------------------------------------------------------- finding 4: index capture
def capture_by_linearity_of_sums() -> None:
    before = sp.Sum(epsilon[i] ** 2 * sp.log(sigma[0, i]), (i, 1, D)) + sp.Sum(
        epsilon[i] ** 2 * sp.log(sigma[1, i]), (i, 1, D)
    )
    after = epsilon[i] ** 2 * sp.Sum(sp.log(sigma[0, i]), (i, 1, D)) + epsilon[i] ** 2 * sp.Sum(
        sp.log(sigma[1, i]), (i, 1, D)
    )
    chain(before, (after, Identity()))


def capture_of_a_coefficient_into_a_summand() -> None:
    chain(i * sp.Sum(x[i], (i, 1, D)), (sp.Sum(i * x[i], (i, 1, D)), SummandIdentity()))


def capture_of_a_coefficient_by_algebra() -> None:
    chain(i * sp.Sum(x[i], (i, 1, D)), (sp.Sum(i * x[i], (i, 1, D)), Identity()))


def reserved_index_name_injected() -> None:
    iota = sp.Symbol("ι0", integer=True)
    chain(iota * sp.Sum(x[i], (i, 1, D)), (sp.Sum(iota * x[iota], (iota, 1, D)), Identity()))


# ------------------------------------------------------------------------------- finding 5: side conditions
def change_of_variables_for_a_singular_map() -> None:
    batch = ModelAtom(BatchNormTrainBatch(3))
    K.change_of_variables(LogQOut(batch))


class _Cubic(FlowLayer):
    """y = x^3: smooth and bijective, but its derivative vanishes at 0 (no differentiable inverse)."""

    name: ClassVar[str] = "cubic"
    direction: ClassVar[Any] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(sp.Symbol(f"u_{k}", real=True) for k in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(u**3 for u in self.inputs())

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[sp.log(3 * u**2) for u in self.inputs()])


def change_of_variables_for_a_map_with_a_vanishing_derivative() -> None:
    K.change_of_variables(LogQOut(ModelAtom(_Cubic(2))))


@dataclasses.dataclass(frozen=True)
class _Mixing(GenericLayer):
    """y_i = x_{i-1} + x_i + x_{i+1}: tridiagonal, not triangular, whatever its name says."""

    name: ClassVar[str] = "mixing"
    direction: ClassVar[Any] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR
    dim: sp.Expr = D

    def input(self, j: sp.Expr) -> sp.Expr:
        return x[j]

    def component(self, k: sp.Expr) -> sp.Expr:
        return x[k - 1] + x[k] + x[k + 1]


def triangular_determinant_for_a_non_triangular_map() -> None:
    chain(LogDetMap(ModelAtom(_Mixing())), (sp.Integer(0), FromJacobian()))


class _OverclaimingAbbreviation(FlowLayer):
    """Abbreviates a real function by a *positive* symbol, so log|mu| would become log(sigma)."""

    name: ClassVar[str] = "overclaim"
    direction: ClassVar[Any] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def _f(self, k: int) -> sp.Expr:
        return sp.Function(f"f_{k}", real=True)(sp.Symbol("h", real=True))

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(sp.Symbol(f"u_{k}", real=True) for k in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(self._f(k) * u for k, u in enumerate(self.inputs(), 1))

    def abbreviations(self) -> dict[sp.Expr, sp.Expr]:
        return {self._f(k): sigma[9, k] for k in range(1, self.dim + 1)}

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[sp.log(sigma[9, k]) for k in range(1, self.dim + 1)])


def abbreviation_that_claims_positivity() -> None:
    K.jacobian_logdet(LogDetMap(ModelAtom(_OverclaimingAbbreviation(2))))


def chain_rule_for_maps_that_do_not_compose() -> None:
    class Broken(IAFFlow):
        def step(self, k: Any) -> Any:
            return BatchNorm(int(self.dim)) if k == 1 else super().step(k)

    K.logdet_chain(LogDetTotal(ModelAtom(Broken(sp.Integer(2))), 1))


# ------------------------------------------------------------------------------- mutations of the real proofs
def forward_step_given_the_inverse_steps_logdet() -> None:
    chain(LogDetStep(F, T1), (-sp.Sum(sp.log(sigma[T1, i]), (i, 1, D)), FromJacobian()))


def change_of_variables_with_the_sign_slipped() -> None:
    chain(LogQ(F3, 2), (LogN(F3) + LogDetTotal(F3, 2), ChangeOfVariables(total=True)))


def extend_the_sum_one_too_far() -> None:
    f = sp.log(sigma[t, i])
    chain(sp.Sum(f, (t, 0, n)) + f.subs(t, n + 1), (sp.Sum(f, (t, 0, n + 2)), PeelLastTerm(n + 1)))


def bounds_off_by_one() -> None:
    chain(sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (sp.Sum(sp.log(sigma[t, i]), (t, 1, T)), Identity()))


def base_case_summed_from_one() -> None:
    base = real_chain("base case")
    wrong = -sp.Sum(
        sp.log(2 * sp.pi) / 2 + epsilon[i] ** 2 / 2 + sp.Sum(sp.log(sigma[t, i]), (t, 1, 0)), (i, 1, D)
    )
    chain(base.lhs, (base.steps[0].after, ChangeOfVariables()), (wrong, Identity(expand_sums=True)))


def lost_factor_one_half() -> None:
    chain(sp.log(1 / sp.sqrt(bn_std[i] ** 2 + bn_eps)), (-sp.log(bn_std[i] ** 2 + bn_eps), Identity()))


def perturbed_by_ten_to_the_minus_thirty() -> None:
    chain(sp.log(sigma[0, i] ** 2), (2 * sp.log(sigma[0, i]) + sp.Rational(1, 10**30), Identity()))


def sum_range_that_may_run_backwards() -> None:
    k = sp.Symbol("k", integer=True)
    chain(sp.Sum(sp.Integer(1), (k, 1, m_int)), (m_int, Identity()))  # false for m < 0


def peel_from_a_range_that_may_be_empty() -> None:
    f = sp.log(sigma[t, i])
    chain(sp.Sum(f, (t, 0, m_int)), (sp.Sum(f, (t, 0, m_int - 1)) + f.subs(t, m_int), PeelLastTerm(m_int)))


def train_lemma_used_at_an_unchecked_batch_size() -> None:
    K.inst(batchnorm_train_proof().theorem, {N: 7})


def train_lemma_used_at_a_symbolic_batch_size() -> None:
    K.inst(batchnorm_train_proof().theorem, {N: sp.Symbol("M", integer=True, positive=True)})


def finite_cases_with_a_wrong_case() -> None:
    two = K.algebra(sp.Integer(2) ** 2, sp.Integer(4))
    three = K.algebra(sp.Integer(3) ** 2, sp.Integer(9))
    K.finite_cases(N, N**2, 2 * N, {2: two, 3: three})  # N^2 = 2N holds at N = 2 only


def transitivity_across_a_gap() -> None:
    K.trans(K.algebra(sp.Integer(1), sp.Integer(1)), K.algebra(sp.Integer(2), sp.Integer(2)))


def rewrite_with_a_statement_that_does_not_occur() -> None:
    lemma = real_chain("IAF step lemma").theorem
    chain(LogDetStep(F, 0), (sp.Integer(0), Rewrite((lemma,))))


def concrete_size_claimed_from_the_general_theorem_at_the_wrong_size() -> None:
    at3 = K.inst(iaf_general_proof().theorem, {D: 3, T: 2})
    chain(LogQ(F3, 2), (iaf_log_q_expr(2, 2), Rewrite((at3,))))


def general_theorem_at_a_negative_number_of_steps() -> None:
    K.inst(iaf_general_proof().theorem, {T: -1})


def base_map_assumed_a_mean_free_of_noise_but_given_one() -> None:
    # The base density with mu_0 replaced by epsilon: no rule turns the model's density into this.
    gauss = sp.Sum(-sp.log(2 * sp.pi) / 2 - (epsilon[i] - mu[0, i]) ** 2 / 2, (i, 1, D))
    chain(LogN(F), (gauss, Rewrite((K.gaussian(LogN(F)),))))


def reparametrisation_applied_to_the_wrong_index() -> None:
    j = sp.Symbol("j", integer=True, positive=True)
    reparam = K.assume(z[0, j], mu[0, j] + sigma[0, j] * epsilon[j])  # for one j
    before = sp.Sum((z[0, j] - mu[0, j]) ** 2, (j, 1, D))
    chain(
        before,
        (sp.Sum(sigma[0, j] ** 2 * epsilon[j] ** 2, (j, 1, D)), Rewrite((reparam,), SummandIdentity())),
    )


ATTACKS: list[Callable[[], None]] = [
    generative_batchnorm_with_the_normalizing_formula,
    normalizing_batchnorm_claimed_positive,
    induction_concluding_twice_the_result,
    induction_with_the_classic_sign_error,
    induction_step_assuming_the_conclusion,
    induction_with_a_base_case_of_another_statement,
    induction_over_a_variable_that_may_be_negative,
    lemma_instantiated_at_the_base_map,
    lemma_instantiated_at_a_possibly_zero_step,
    forged_theorem_constructor,
    forged_fact_in_rewrite,
    forged_fact_through_the_old_name,
    recomputation_that_ignores_the_step,
    check_returning_a_theorem_about_something_else,
    check_returning_true,
    theorem_mutated_after_the_fact,
    theorem_smuggled_through_pickle,
    index_specific_fact_used_under_its_binder,
    open_hypothesis_left_in_a_proof,
    capture_by_linearity_of_sums,
    capture_of_a_coefficient_into_a_summand,
    capture_of_a_coefficient_by_algebra,
    reserved_index_name_injected,
    change_of_variables_for_a_singular_map,
    change_of_variables_for_a_map_with_a_vanishing_derivative,
    triangular_determinant_for_a_non_triangular_map,
    abbreviation_that_claims_positivity,
    chain_rule_for_maps_that_do_not_compose,
    forward_step_given_the_inverse_steps_logdet,
    change_of_variables_with_the_sign_slipped,
    extend_the_sum_one_too_far,
    bounds_off_by_one,
    base_case_summed_from_one,
    lost_factor_one_half,
    perturbed_by_ten_to_the_minus_thirty,
    sum_range_that_may_run_backwards,
    peel_from_a_range_that_may_be_empty,
    train_lemma_used_at_an_unchecked_batch_size,
    train_lemma_used_at_a_symbolic_batch_size,
    finite_cases_with_a_wrong_case,
    transitivity_across_a_gap,
    rewrite_with_a_statement_that_does_not_occur,
    concrete_size_claimed_from_the_general_theorem_at_the_wrong_size,
    general_theorem_at_a_negative_number_of_steps,
    base_map_assumed_a_mean_free_of_noise_but_given_one,
    reparametrisation_applied_to_the_wrong_index,
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
def test_attack_is_refused(attack: Callable[[], None]) -> None:
    with pytest.raises(VerificationError) as err:
        attack()
    refused_early = str(err.value).startswith("only kernel theorems")  # before any step was tried
    if "chain" in attack.__code__.co_names and not refused_early:  # a chain: the refused step is named
        assert "attack: step" in str(err.value), str(err.value)


def test_there_are_at_least_thirty_attacks() -> None:
    assert len(ATTACKS) >= 30


def test_copies_of_a_theorem_are_the_same_object() -> None:
    import copy

    th = K.algebra(sp.Integer(1), sp.Integer(1))
    assert copy.deepcopy(th) is th and copy.copy(th) is th


def test_a_hand_built_step_cannot_show_a_theorem_about_something_else() -> None:
    from derive.proof import Step

    true_but_unrelated = K.algebra(sp.Integer(1), sp.Integer(1))
    with pytest.raises(VerificationError, match="does not state this step"):
        Step(LogQ(F, T), sp.Integer(0), "bogus", "", true_but_unrelated)


def test_a_hand_built_chain_must_link_its_steps_to_its_theorem() -> None:
    from derive.proof import Chain

    real = real_chain("IAF step lemma")
    with pytest.raises(VerificationError, match="do not match"):
        Chain(LogQ(F, T), real.steps, real.theorem)


def test_output_density_needs_the_models_declaration_not_its_label() -> None:
    """gaussian() on a map's output only when the model declares that output to be N(0, I)."""
    with pytest.raises(VerificationError):
        K.gaussian(LogQOut(ModelAtom(BatchNorm(2))))


def test_instantiating_a_variable_that_is_also_bound_keeps_the_binder() -> None:
    th = K.algebra(sp.Sum(x[i], (i, 1, D)) + i, sp.Sum(x[t + 1 - 1] if False else x[i], (i, 1, D)) + i)
    inst = K.inst(th, {i: 5})
    assert inst.lhs.subs(D, 2).doit() == x[1] + x[2] + 5


@pytest.mark.parametrize(("row", "col"), [(2, 1), (3, 1), (3, 2)])
def test_a_generic_layer_at_integer_indices_keeps_its_autoregressive_dependencies(row: int, col: int) -> None:
    """∂z_{1,2}/∂z_{0,1} of a generic IAF step is not 0: σ_{1,2} and μ_{1,2} read z_{0,1}.

    SymPy's ``diff`` answers 0 when the free symbols of the function and the variable are disjoint;
    an autoregressive function at integer indices used to have none (``⊢ J[2, 1] = 0`` was provable).
    """
    from derive.layers.generic import GenericIAFStep, Mu, Sigma
    from derive.quantities import JacEntry

    th = K.jacobian_entry(
        JacEntry(ModelAtom(GenericIAFStep(sp.Integer(1))), sp.Integer(row), sp.Integer(col))
    )
    assert th.rhs != 0
    assert th.rhs.has(sp.Derivative(Sigma(1, row), z[0, col])) and th.rhs.has(
        sp.Derivative(Mu(1, row), z[0, col])
    )
    above = K.jacobian_entry(
        JacEntry(ModelAtom(GenericIAFStep(sp.Integer(1))), sp.Integer(col), sp.Integer(row))
    )
    assert above.rhs == 0  # upper triangle: z_{1,col} does not read z_{0,row} (row > col)
