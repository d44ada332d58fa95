"""decide(): the required cases, the verdict contract, hypothesis properties and speed."""

from __future__ import annotations

import json
from typing import Any

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.equivalence import Domain, SizeVar, Verdict, _decide, atom_label, decide
from derive.equivalence._search import Search
from derive.results import batchnorm_logdet, iaf_log_q
from derive.symbols import D, T, bn_eps, bn_std, epsilon, i, j, sigma, t

DOMAIN = Domain(sizes=(SizeVar(D, 1, (1, 2, 3, 5)), SizeVar(T, 0, (0, 1, 2, 4))))
REF = iaf_log_q()
BN = batchnorm_logdet()
HALF = sp.Rational(1, 2)
L2P = sp.log(2 * sp.pi)
V = bn_std[i] ** 2 + bn_eps
S = sp.Sum


def _label(atom: sp.Expr) -> str:
    return atom_label(atom)  # the counterexample's documented spelling (sigma~[1] for \tilde\sigma_1)


def reevaluate(expr: sp.Expr, cex: dict, digits: int = 60) -> sp.Expr:
    """``expr`` at a counterexample, independently of the engine: SymPy doit + exact subs + evalf."""
    sizes = {s.symbol: sp.Integer(cex[str(s.symbol)]) for s in DOMAIN.sizes if str(s.symbol) in cex}
    concrete = expr.xreplace(sizes).doit()
    atoms = concrete.atoms(sp.Indexed) | {a for a in concrete.free_symbols if not isinstance(a, sp.Indexed)}
    values = {a: sp.Rational(str(cex[_label(a)])) for a in atoms if _label(a) in cex}
    return concrete.xreplace(values).evalf(digits)


def assert_real_counterexample(answer: sp.Expr, reference: sp.Expr, verdict: Verdict) -> dict[str, Any]:
    """The verdict rejects with a counterexample that independent re-evaluation confirms; returns it."""
    assert verdict.status == "not-equivalent"
    cex = verdict.counterexample
    assert cex is not None
    json.dumps(cex)
    a, r = reevaluate(answer, cex), reevaluate(reference, cex)
    assert r.is_real and r.is_finite
    if "note" in cex:
        assert not (a.is_real and a.is_finite)
    else:
        assert abs(a - r) > sp.Float("1e-30", 60) * max(1, abs(a), abs(r))
        assert sp.Float(cex["difference"], 30) == pytest.approx(float(a - r), rel=1e-6, abs=0)
    return cex


EQUIVALENT = [
    ("reference-itself", REF, REF),
    (
        "three-sums",
        -S(L2P / 2, (i, 1, D))
        - S(epsilon[i] ** 2 / 2, (i, 1, D))
        - S(S(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    (
        "terms-reordered",
        -S(S(sp.log(sigma[t, i]), (t, 0, T)) + epsilon[i] ** 2 / 2 + L2P / 2, (i, 1, D)),
        REF,
    ),
    (
        "ln-is-log",
        -S(sp.ln(2 * sp.pi) / 2 + epsilon[i] ** 2 / 2 + S(sp.ln(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    (
        "log2-plus-logpi",
        -S(
            (sp.log(2) + sp.log(sp.pi)) / 2 + epsilon[i] ** 2 / 2 + S(sp.log(sigma[t, i]), (t, 0, T)),
            (i, 1, D),
        ),
        REF,
    ),
    (
        "log-sqrt-2pi",
        -S(sp.log(sp.sqrt(2 * sp.pi)) + epsilon[i] ** 2 / 2 + S(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    (
        "t0-peeled",
        -D * L2P / 2
        - S(epsilon[i] ** 2 / 2, (i, 1, D))
        - S(sp.log(sigma[0, i]), (i, 1, D))
        - S(S(sp.log(sigma[t, i]), (i, 1, D)), (t, 1, T)),
        REF,
    ),
    (
        "sum-order-swapped",
        -D * L2P / 2 - S(epsilon[j] ** 2, (j, 1, D)) / 2 - S(sp.log(sigma[t, j]), (j, 1, D), (t, 0, T)),
        REF,
    ),
    (
        "constant-pulled-out",
        -D * L2P / 2 - S(epsilon[i] ** 2 / 2 + S(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    (
        "log-of-product",
        -D * L2P / 2
        - S(epsilon[i] ** 2 / 2, (i, 1, D))
        - S(sp.log(sp.Product(sigma[t, i], (i, 1, D))), (t, 0, T)),
        REF,
    ),
    (
        "index-shifted",
        -D * L2P / 2
        - S(epsilon[i] ** 2 / 2, (i, 1, D))
        - S(sp.log(sigma[t - 1, i]), (t, 1, T + 1), (i, 1, D)),
        REF,
    ),
    ("bn-abs-inverse-sqrt", S(sp.log(sp.Abs(1 / sp.sqrt(V))), (i, 1, D)), BN),
    ("bn-half-log", -HALF * S(sp.log(V), (i, 1, D)), BN),
    ("bn-log-product", sp.log(sp.Product(V ** (-HALF), (i, 1, D))), BN),
    ("bn-minus-log-sqrt", -S(sp.log(sp.sqrt(V)), (i, 1, D)), BN),
]

NOT_EQUIVALENT = [
    (
        "sigma-sign-slip",
        -S(L2P / 2 + epsilon[i] ** 2 / 2 - S(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    (
        "bounds-off-by-one",
        -S(L2P / 2 + epsilon[i] ** 2 / 2 + S(sp.log(sigma[t, i]), (t, 1, T)), (i, 1, D)),
        REF,
    ),
    (
        "missing-half-on-eps",
        -S(L2P / 2 + epsilon[i] ** 2 + S(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    ("missing-D", -L2P / 2 - S(epsilon[i] ** 2 / 2 + S(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)), REF),
    (
        "sigma-squared",
        -S(L2P / 2 + epsilon[i] ** 2 / 2 + S(sp.log(sigma[t, i] ** 2), (t, 0, T)), (i, 1, D)),
        REF,
    ),
    ("plus-1e-9", REF + sp.Rational(1, 10**9), REF),
    ("plus-1e-12-D", REF + sp.Rational(1, 10**12) * D, REF),
    ("float-1e-9", REF + sp.Float("1e-9"), REF),
    ("bn-eps-dropped", -HALF * S(sp.log(bn_std[i] ** 2), (i, 1, D)), BN),
    ("bn-missing-half", -S(sp.log(V), (i, 1, D)), BN),
    ("bn-sign", HALF * S(sp.log(V), (i, 1, D)), BN),
    (
        "complex-answer",
        -S(L2P / 2 + epsilon[i] ** 2 / 2 + S(sp.log(-sigma[t, i]), (t, 0, T)), (i, 1, D)),
        REF,
    ),
]


@pytest.mark.parametrize(("answer", "reference"), [c[1:] for c in EQUIVALENT], ids=[c[0] for c in EQUIVALENT])
def test_equivalent_by_symbolic_proof(answer, reference):
    verdict = decide(answer, reference, DOMAIN)
    assert verdict.status == "equivalent", verdict
    assert verdict.method.startswith("symbolic for all sizes")
    assert verdict.counterexample is None
    json.dumps(verdict.evidence)


@pytest.mark.parametrize(
    ("answer", "reference"), [c[1:] for c in NOT_EQUIVALENT], ids=[c[0] for c in NOT_EQUIVALENT]
)
def test_not_equivalent_with_confirmed_counterexample(answer, reference):
    verdict = decide(answer, reference, DOMAIN)
    cex = assert_real_counterexample(answer, reference, verdict)
    assert "D" in cex
    assert verdict.message.startswith("The answer is not equivalent")


def test_complex_answer_is_reported_as_not_real():
    answer = dict((c[0], c[1]) for c in NOT_EQUIVALENT)["complex-answer"]
    cex = assert_real_counterexample(answer, REF, decide(answer, REF, DOMAIN))
    assert cex["note"].startswith("the answer is not a finite real number")


LAMBERT = sp.LambertW(bn_eps) * sp.exp(sp.LambertW(bn_eps)) - bn_eps  # = 0, but SymPy cannot show it


def test_undecided_when_only_numbers_agree():
    verdict = decide(REF + LAMBERT, REF, DOMAIN)
    assert verdict.status == "undecided"
    assert verdict.counterexample is None
    numeric = verdict.evidence["numeric"]
    assert numeric["points_evaluated"] >= 10
    assert float(numeric["max_abs_difference"]) < 1e-40
    assert "agrees numerically" in verdict.message
    json.dumps(verdict.evidence)


# log((t+1)/t) telescopes only once the sum is written out: no proof for all sizes exists here.
TELESCOPING = (S(sp.log((t + 1) / t), (t, 1, T)), sp.log(T + 1))


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        (
            S(sp.log(sigma[t, 1]) - sp.log(sigma[t - 1, 1]), (t, 1, T)),
            sp.log(sigma[T, 1]) - sp.log(sigma[0, 1]),
        ),
        (S(sp.log(sigma[T - t, 1]), (t, 0, T)), S(sp.log(sigma[t, 1]), (t, 0, T))),
        (S(sp.log(sigma[t - 1, 1]), (t, 1, T + 1)), S(sp.log(sigma[t, 1]), (t, 0, T))),
        (
            sp.log(sigma[0, 1]) + S(sp.log(sigma[T - t, 1]), (t, 0, T - 1)),
            S(sp.log(sigma[t, 1]), (t, 0, T)),
        ),
    ],
    ids=["indexed-telescoping", "reversal", "shift", "reversal-and-shift"],
)
def test_index_reversal_and_shifts_are_proved_for_all_sizes(answer: sp.Expr, reference: sp.Expr) -> None:
    verdict = decide(answer, reference, DOMAIN, accept_concrete=False)
    assert verdict.status == "equivalent"
    assert verdict.method.startswith("symbolic for all sizes")


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        (S(sp.log(sigma[T - t, 1]), (t, 1, T)), S(sp.log(sigma[t, 1]), (t, 0, T))),
        (S(sp.log(sigma[t - 1, 1]), (t, 1, T)), S(sp.log(sigma[t, 1]), (t, 0, T))),
    ],
    ids=["reversal-drops-a-term", "shift-drops-a-term"],
)
def test_wrong_reversal_or_shift_is_rejected(answer: sp.Expr, reference: sp.Expr) -> None:
    assert_real_counterexample(answer, reference, decide(answer, reference, DOMAIN))


def test_concrete_proof_is_accepted_by_default_and_says_for_which_sizes():
    verdict = decide(*TELESCOPING, DOMAIN)
    assert verdict.status == "equivalent"
    assert verdict.method.startswith("expanded sums at (T) in {(0), (1), (2), (4)}")
    assert "no symbolic proof for all sizes" in verdict.method


def test_concrete_proof_alone_is_undecided_when_not_accepted():
    verdict = decide(*TELESCOPING, DOMAIN, accept_concrete=False)
    assert verdict.status == "undecided"
    assert verdict.evidence["concrete"]["failed"] is None


def test_invalid_log_rule_is_never_used():
    # log(x^2) = 2 log x is false for negative x; epsilon is only real.
    square, twice = S(sp.log(epsilon[i] ** 2), (i, 1, D)), 2 * S(sp.log(epsilon[i]), (i, 1, D))
    assert_real_counterexample(twice, square, decide(twice, square, DOMAIN))
    # The other way round the reference is complex where they differ: never "equivalent".
    assert decide(square, twice, DOMAIN).status == "undecided"


def test_sqrt_of_square_is_abs_not_identity():
    verdict = decide(S(sp.sqrt(epsilon[i] ** 2), (i, 1, D)), S(epsilon[i], (i, 1, D)), DOMAIN)
    assert_real_counterexample(S(sp.sqrt(epsilon[i] ** 2), (i, 1, D)), S(epsilon[i], (i, 1, D)), verdict)


def test_unknown_symbol_from_a_typo_gives_counterexample_naming_it():
    typo = sp.Symbol("q", real=True)
    answer = REF.xreplace({sp.log(2 * sp.pi): sp.log(2 * typo)})
    cex = assert_real_counterexample(answer, REF, decide(answer, REF, DOMAIN))
    assert "q" in cex


def test_definitions_are_applied_to_both_sides():
    w = sp.IndexedBase("w", real=True)
    domain = Domain(sizes=DOMAIN.sizes, definitions={w[t, i]: sp.log(sigma[t, i])})
    answer = -S(L2P / 2 + epsilon[i] ** 2 / 2 + S(w[t, i], (t, 0, T)), (i, 1, D))
    assert decide(answer, REF, domain).status == "equivalent"


def test_seed_changes_points_not_verdict():
    answer = REF + sp.Rational(1, 10**9)
    first, second = decide(answer, REF, DOMAIN, seed=1), decide(answer, REF, DOMAIN, seed=2)
    assert first.status == second.status == "not-equivalent"
    assert decide(answer, REF, DOMAIN, seed=1) == first  # deterministic


# --- hypothesis: rearrangements stay equivalent, perturbations are caught -------------------------

_A = [
    -D * L2P / 2,
    -D * (sp.log(2) + sp.log(sp.pi)) / 2,
    -D * sp.log(sp.sqrt(2 * sp.pi)),
    -S(L2P / 2, (i, 1, D)),
    -S(sp.log(sp.sqrt(2) * sp.sqrt(sp.pi)), (j, 1, D)),
    -2 * D * L2P / 4,
]
_B = [
    -S(epsilon[i] ** 2 / 2, (i, 1, D)),
    -HALF * S(epsilon[j] ** 2, (j, 1, D)),
    -S(2 * epsilon[i] ** 2, (i, 1, D)) / 4,
    -S(sp.log(sp.exp(epsilon[i] ** 2 / 2)), (i, 1, D)),
]
_C = [
    -S(sp.log(sigma[t, i]), (t, 0, T), (i, 1, D)),
    -S(sp.log(sigma[t, i]), (i, 1, D), (t, 0, T)),
    -S(sp.log(sp.Product(sigma[t, i], (t, 0, T))), (i, 1, D)),
    -S(sp.log(sp.Product(sigma[t, j], (j, 1, D))), (t, 0, T)),
    -S(sp.log(sigma[0, i]), (i, 1, D)) - S(sp.log(sigma[t, i]), (t, 1, T), (i, 1, D)),
    -HALF * S(sp.log(sigma[t, i] ** 2), (t, 0, T), (i, 1, D)),
    -S(sp.log(sigma[t - 1, i]), (t, 1, T + 1), (i, 1, D)),
    -2 * S(sp.log(sigma[t, i]), (t, 0, T), (i, 1, D)) / 2,
]


def _times_two_halved(e: sp.Expr) -> sp.Expr:
    return sp.Mul(HALF, sp.Mul(2, e, evaluate=False), evaluate=False)


def _one_sum_over_i(summand_a: sp.Expr, summand_b: sp.Expr) -> sp.Expr:
    """-sum_i (a_i + b_i), the split sums merged back into one."""
    return -S(summand_a + summand_b, (i, 1, D))


@settings(max_examples=30, deadline=None)
@given(
    a=st.sampled_from(_A),
    b=st.sampled_from(_B),
    c=st.sampled_from(_C),
    order=st.permutations([0, 1, 2]),
    scaled=st.lists(st.booleans(), min_size=3, max_size=3),
    merge=st.booleans(),
)
def test_rearrangements_stay_equivalent(a, b, c, order, scaled, merge):
    parts = [a, b, c]
    if merge:  # the eps and sigma terms as one sum over i, in the given order
        inner = [epsilon[i] ** 2 / 2, S(sp.log(sigma[t, i]), (t, 0, T))]
        parts = [a, _one_sum_over_i(*(inner if order[0] < order[1] else inner[::-1])), sp.S.Zero]
    parts = [_times_two_halved(p) if flag else p for p, flag in zip(parts, scaled, strict=True)]
    answer = sp.Add(*[parts[k] for k in order], evaluate=False)
    verdict = decide(answer, REF, DOMAIN)
    assert verdict.status == "equivalent", (answer, verdict)
    assert verdict.method.startswith("symbolic")


_PERTURBATIONS = [
    sigma[0, 1],
    epsilon[2],
    sp.log(sigma[1, 1]),
    D,
    T + 1,
    sp.log(2),
    sp.pi,
    sp.Integer(1),
    S(epsilon[i], (i, 1, D)),
    S(sp.log(sigma[t, 1]), (t, 0, T)),
]


@settings(max_examples=30, deadline=None)
@given(
    term=st.sampled_from(_PERTURBATIONS),
    numerator=st.integers(1, 1000),
    negative=st.booleans(),
    denominator=st.sampled_from([1, 7, 1000, 10**9]),
    seed=st.integers(0, 3),
)
def test_perturbations_are_rejected_with_real_counterexample(term, numerator, negative, denominator, seed):
    c = sp.Rational(-numerator if negative else numerator, denominator)
    answer = REF + c * term
    verdict = decide(answer, REF, DOMAIN, seed=seed)
    assert_real_counterexample(answer, REF, verdict)


# --- speed ------------------------------------------------------------------------------------------


def test_mpmath_precision_is_left_as_found():
    before = mpmath.mp.dps
    decide(REF + 1, REF, DOMAIN)
    assert mpmath.mp.dps == before


def test_wrong_answer_agreeing_at_every_trial_size_is_still_rejected():
    sneaky = REF + (D - 1) * (D - 2) * (D - 3) * (D - 5) * T * (T - 1) * (T - 2) * (T - 4) / 10**9
    assert_real_counterexample(sneaky, REF, decide(sneaky, REF, DOMAIN))


def test_huge_sum_is_undecided_quickly():
    huge = sp.Sum(sp.log(sigma[0, i]), (i, 1, 10**9))
    verdict = decide(huge, REF, DOMAIN)  # how fast: scripts/bench_latency.py
    assert verdict.status == "undecided"


def test_proof_contradicted_by_numbers_is_never_a_verdict(monkeypatch):
    fake = Search({"D": 1, "answer": "1", "reference": "2", "difference": "-1", "digits": 100})
    monkeypatch.setattr(_decide, "_cross_check", lambda *args: fake)
    verdict = decide(REF, REF, DOMAIN)
    assert verdict.status == "undecided"
    assert "internal inconsistency" in verdict.method


def test_a_crashing_strategy_proves_nothing(monkeypatch):
    def boom(*args, **kwargs):
        raise RecursionError("too deep")

    monkeypatch.setattr(_decide, "prove_for_all_sizes", boom)
    verdict = decide(REF + 1, REF, DOMAIN)
    assert verdict.status == "not-equivalent"
    assert verdict.evidence["errors"]["symbolic"] == "RecursionError: too deep"
