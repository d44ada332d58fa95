r"""``derive.check.check_answer`` against a hand-written corpus, random rewrites and hostile input.

The corpus (``tests/corpus/*.toml``) records what each answer *is* mathematically; an entry the
checker gets wrong carries ``xfail = "reason"`` and runs as a strict xfail, so a fix shows up as
an XPASS. Every "not-equivalent" verdict is re-checked here without the equivalence engine: the
counterexample's sizes and values are substituted into the parsed answer and into the problem's
reference with plain SymPy (sums expanded with ``doit()``, 50 digits) and must really differ.
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.check import CheckResult, check_answer
from derive.equivalence import atom_label
from derive.errors import UnknownProblemError
from derive.latex import parse_derivation, parse_expression
from derive.problems import get_problem

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPUS_FILES = (
    "iaf_logq.toml",
    "batchnorm_logdet.toml",
    "planar_logdet.toml",
    "coupling_logdet.toml",
    "actnorm_logdet.toml",
    "conv1x1_logdet.toml",
)
STATUSES = {"equivalent", "not-equivalent", "parse-error", "undecided", "timeout"}
EXPECTED = {"equivalent", "not-equivalent", "parse-error"}

#: Digits of the independent re-evaluation, and the relative gap that counts as "they differ"
#: (far below the 10^-12 perturbations tested, far above 50-digit rounding).
DIGITS = 50
MIN_REL_GAP = sp.Float("1e-35", DIGITS)

#: Hostile input gets this budget (seconds) and may overrun it by the fork/kill overhead.
HOSTILE_TIMEOUT = 3.0


def load_corpus(name: str) -> tuple[str, list[dict[str, Any]]]:
    """The problem id and the answers of one corpus file."""
    with open(CORPUS_DIR / name, "rb") as fh:
        data = tomllib.load(fh)
    return data["problem"], data["answer"]


def corpus_params() -> list[Any]:
    params = []
    for name in CORPUS_FILES:
        problem_id, answers = load_corpus(name)
        for k, entry in enumerate(answers):
            marks = [pytest.mark.xfail(strict=True, reason=entry["xfail"])] if "xfail" in entry else []
            params.append(
                pytest.param(problem_id, entry, id=f"{problem_id}-{k:02d}-{entry['expected']}", marks=marks)
            )
    return params


# ----------------------------------------------------------------------------- independent re-check


def _atom_key(atom: sp.Basic) -> str:
    """The counterexample's spelling of an atom: ``sigma[0,1]``, ``sigma~[1]``, ``epsilon``."""
    return atom_label(atom)


def _apply_definitions(expr: sp.Expr, definitions: Any) -> sp.Expr:
    """Substitute ``z[0, i] -> mu[0, i] + sigma[0, i] epsilon[i]``-style pattern definitions."""
    repl: dict[sp.Basic, sp.Basic] = {}
    for atom in expr.atoms(sp.Indexed):
        for key, value in definitions.items():
            if key.base != atom.base or len(key.indices) != len(atom.indices):
                continue
            binding: dict[sp.Basic, sp.Basic] = {}
            for pattern, index in zip(key.indices, atom.indices, strict=True):
                if isinstance(pattern, sp.Symbol):
                    binding[pattern] = index
                elif pattern != index:
                    break
            else:
                repl[atom] = value.xreplace(binding)
    return expr.xreplace(repl)


def evaluate_at(expr: sp.Expr, problem_id: str, cex: dict[str, Any]) -> sp.Expr:
    """``expr`` at the counterexample's sizes and values, to :data:`DIGITS` digits (plain SymPy)."""
    problem = get_problem(problem_id)
    sizes = {s.symbol: sp.Integer(cex[str(s.symbol)]) for s in problem.domain.sizes}
    e = expr.subs(sizes)
    # free scalars first (a free index letter such as t in sigma_{t,i} gets a value too), then sums
    labels = {atom.base.label for atom in e.atoms(sp.Indexed)}
    free = {  # integer symbols only: a real symbol used as an index (A_B) keeps its atom A[B]
        s: sp.Rational(cex[str(s)])
        for s in e.free_symbols - labels
        if isinstance(s, sp.Symbol) and s.is_integer and str(s) in cex
    }
    e = _apply_definitions(e.xreplace(free).doit(), problem.domain.definitions).doit()
    # Indexed atoms first: one whose index stayed symbolic (sigma[t,4]) is an opaque atom of its own.
    values: dict[sp.Basic, sp.Basic] = {}
    for atom in e.atoms(sp.Indexed):
        key = _atom_key(atom)
        assert key in cex, f"the counterexample gives no value for {key} (has {sorted(cex)})"
        values[atom] = sp.Rational(cex[key])
    e = e.xreplace(values)
    for symbol in e.free_symbols:
        assert str(symbol) in cex, f"the counterexample gives no value for {symbol} (has {sorted(cex)})"
        values[symbol] = sp.Rational(cex[str(symbol)])
    value = sp.N(e.xreplace(values), DIGITS)
    assert not value.free_symbols, f"did not evaluate to a number: {value}"
    return value


def assert_counterexample_holds(problem_id: str, latex: str, cex: dict[str, Any]) -> None:
    """The answer and the reference really differ at ``cex`` (re-evaluated here, not by the engine)."""
    problem = get_problem(problem_id)
    reference = evaluate_at(problem.reference(), problem_id, cex)
    members = [line.expr for line in parse_derivation(latex, problem.notation).lines]
    if len(members) > 1:  # a chain: some member other than a naming left-hand side differs here
        known = {*problem.notation.scalars.values(), *(r[0] for r in problem.notation.index_ranges.values())}
        named = members[0] == problem.target or (
            isinstance(members[0], sp.Symbol) and members[0] not in known
        )
        candidates = [m for m in members[1 if named else 0 :] if not m.has(problem.target)]
        values = [evaluate_at(m, problem_id, cex) for m in candidates]
        gaps = [sp.Abs(v - reference) for v in values if v.is_real]
        assert any(g > MIN_REL_GAP * sp.Max(1, sp.Abs(reference)) for g in gaps), (
            f"no member of the chain differs from the reference at {cex}"
        )
        return
    answer = evaluate_at(parse_expression(latex, problem.notation).expr, problem_id, cex)
    assert reference.is_real and reference.is_finite, f"reference is not a finite real: {reference}"
    if answer.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return  # undefined or infinite where the reference is a finite real: they differ
    gap = sp.Abs(answer - reference)
    assert gap > MIN_REL_GAP * sp.Max(1, sp.Abs(reference)), (
        f"counterexample does not hold: answer {answer}, reference {reference} at {cex}"
    )
    if answer.is_real and "difference" in cex:
        reported = sp.Float(cex["difference"], DIGITS)
        assert sp.Abs((answer - reference) - reported) <= sp.Float("1e-20", DIGITS) * sp.Max(1, gap), (
            f"reported difference {reported} but re-evaluated {answer - reference}"
        )


def assert_well_formed(result: CheckResult, problem_id: str, latex: str) -> None:
    assert isinstance(result, CheckResult)
    assert result.status in STATUSES
    assert result.problem == problem_id
    assert result.message
    assert result.exit_code == {"equivalent": 0, "not-equivalent": 1, "parse-error": 2}.get(result.status, 3)
    if result.status == "equivalent":
        assert result.method, "an 'equivalent' verdict must say how it was proved"
    if result.status == "not-equivalent" and result.counterexample is not None:
        assert_counterexample_holds(problem_id, latex, result.counterexample)


# ----------------------------------------------------------------------------- the corpus


def test_corpus_is_well_formed() -> None:
    for name in CORPUS_FILES:
        problem_id, answers = load_corpus(name)
        get_problem(problem_id)
        assert len(answers) >= 40, name
        for entry in answers:
            assert set(entry) <= {"latex", "expected", "why", "xfail"}, entry
            assert entry["expected"] in EXPECTED and entry["why"], entry
        latexes = [a["latex"] for a in answers]
        assert len(latexes) == len(set(latexes)), f"{name} has duplicate answers"


@pytest.mark.parametrize(("problem_id", "entry"), corpus_params())
def test_corpus(problem_id: str, entry: dict[str, Any]) -> None:
    result = check_answer(problem_id, entry["latex"])
    assert result.status == entry["expected"], f"{result.summary()}\n  why expected: {entry['why']}"
    if result.status == "equivalent":
        assert result.method.strip(), "no method for an 'equivalent' verdict"
    elif result.status == "not-equivalent":
        assert result.counterexample, "a 'not-equivalent' verdict needs a counterexample"
        assert_counterexample_holds(problem_id, entry["latex"], result.counterexample)
    else:
        assert result.column is None or 1 <= result.column <= len(entry["latex"]) + 1


def test_unknown_problem() -> None:
    with pytest.raises(UnknownProblemError, match="unknown problem 'nope'"):
        check_answer("nope", r"\epsilon_1")


# ----------------------------------------------------------------------------- random rewrites

HALVES = (r"\frac12", r"\frac{1}{2}", r"\tfrac{1}{2}", r"\dfrac12", r"\frac{1}{2}\cdot", "0.5")
LOGS = (r"\log", r"\ln")
EPSILONS = (r"\epsilon", r"\varepsilon")
PARENS = ((r"\left(", r"\right)"), ("(", ")"), (r"\Big(", r"\Big)"), (r"\left[", r"\right]"))
ZEROS = (r"\log 1", "0", r"0\epsilon_1", r"\ln 1", r"\log\frac{2}{2}")


@st.composite
def iaf_rewrites(draw: st.DrawFn) -> str:
    """The reference LaTeX with its terms shuffled, spelled differently, split and padded with zeros."""
    half, log, eps = (
        draw(st.sampled_from(HALVES)),
        draw(st.sampled_from(LOGS)),
        draw(st.sampled_from(EPSILONS)),
    )
    const = draw(
        st.sampled_from(
            (
                [rf"{half} {log}(2\pi)"],
                [rf"{log}\sqrt{{2\pi}}"],
                [rf"{half}{log} 2", rf"{half}{log}\pi"],
            )
        )
    )
    quad = draw(
        st.sampled_from((rf"{half} {eps}_i^2", rf"\frac{{{eps}_i^2}}{{2}}", rf"{half}{eps}_i{eps}_i"))
    )
    scales = draw(
        st.sampled_from(
            (
                [rf"\sum_{{t=0}}^T {log}\sigma_{{t,i}}"],
                [rf"\sum_{{t=0}}^{{T}} {log} \sigma_{{t,i}}"],
                [rf"{log}\sigma_{{0,i}}", rf"\sum_{{t=1}}^T {log}\sigma_{{t,i}}"],
                [rf"\sum_t {log}\sigma_{{t,i}}"],
            )
        )
    )
    terms = [*const, quad, *scales]
    terms += draw(st.lists(st.sampled_from(ZEROS), max_size=2))
    terms = draw(st.permutations(terms))
    cut = draw(st.integers(1, len(terms) - 1)) if draw(st.booleans()) else len(terms)  # split the sum
    return " ".join(_negated_sum(draw, group) for group in (terms[:cut], terms[cut:]) if group)


def _negated_sum(draw: st.DrawFn, terms: list[str]) -> str:
    """``- sum_i (a + b)`` or ``+ sum_i (-a - b)``, in some spelling."""
    left, right = draw(st.sampled_from(PARENS))
    outer = draw(st.sampled_from((r"\sum_{i=1}^D", r"\sum_i", r"\sum_{i=1}^{D}")))
    if draw(st.booleans()):
        return rf"-{outer} {left}{' + '.join(terms)}{right}"
    return rf"+{outer} {left}{''.join(f' - {term}' for term in terms)}{right}"


@st.composite
def bn_rewrites(draw: st.DrawFn) -> str:
    half, log = draw(st.sampled_from(HALVES)), draw(st.sampled_from(LOGS))
    sig = draw(st.sampled_from((r"\tilde\sigma_i^2", r"\tilde{\sigma}_i^2", r"\tilde{\sigma}_{i}^{2}")))
    eps = draw(st.sampled_from((r"\epsilon", r"\varepsilon")))
    arg = draw(st.sampled_from((f"{sig} + {eps}", f"{eps} + {sig}")))
    left, right = draw(st.sampled_from(PARENS))
    outer = draw(st.sampled_from((r"\sum_{i=1}^D", r"\sum_i")))
    body = draw(
        st.sampled_from(
            (
                rf"-{half}{outer}{log}{left}{arg}{right}",
                rf"{outer} {log}\frac{{1}}{{\sqrt{{{arg}}}}}",
                rf"-{outer}{log}\sqrt{{{arg}}}",
                rf"{log}\prod_{{i=1}}^D{left}{arg}{right}^{{-1/2}}",
                rf"{outer} -{half}{log}{left}{arg}{right}",
            )
        )
    )
    noise = draw(st.lists(st.sampled_from((r"\log 1", "0", r"0\epsilon")), max_size=2))
    return " + ".join([body, *noise])


def _positive_coefficient(c: Fraction, decimal: bool) -> str:
    r"""``c > 0`` as ``\frac{p}{q}``, or as a decimal when that is exact (the parser reads it exactly)."""
    if decimal and 10**6 % c.denominator == 0:
        return f"{c.numerator / c.denominator:.6f}"
    return rf"\frac{{{c.numerator}}}{{{c.denominator}}}"


@st.composite
def perturbations(draw: st.DrawFn) -> tuple[str, str]:
    """A right answer plus ``c`` or ``c x`` with a rational ``c != 0`` (down to 10^-12): never equal."""
    problem_id = draw(st.sampled_from(("iaf-logq", "batchnorm-logdet")))
    base = draw(iaf_rewrites() if problem_id == "iaf-logq" else bn_rewrites())
    if draw(st.booleans()):
        k = draw(st.integers(1, 12))
        c_text = draw(
            st.sampled_from((f"10^{{-{k}}}", "0." + "0" * (k - 1) + "1", rf"\frac{{1}}{{10^{{{k}}}}}"))
        )
    else:
        c = Fraction(draw(st.integers(1, 1000)), draw(st.integers(1, 1000)))
        c_text = _positive_coefficient(c, draw(st.booleans()))
    atoms = (
        ("", r"\epsilon_1", r"\sigma_{0,1}", r"\epsilon_1^2", r"\log\sigma_{T,1}", r"\mu_{0,1}")
        if problem_id == "iaf-logq"
        else ("", r"\epsilon", r"\tilde\sigma_1", r"\log\tilde\sigma_1", r"\tilde\mu_1")
    )
    atom = draw(st.sampled_from(atoms))
    sign = draw(st.sampled_from(("+", "-")))
    return problem_id, f"{base} {sign} {c_text} {atom}".rstrip()


@settings(max_examples=30, deadline=None)
@given(iaf_rewrites())
def test_iaf_rewrites_stay_equivalent(latex: str) -> None:
    result = check_answer("iaf-logq", latex)
    assert result.status == "equivalent", f"{latex}\n{result.summary()}"
    assert result.method


@settings(max_examples=30, deadline=None)
@given(bn_rewrites())
def test_bn_rewrites_stay_equivalent(latex: str) -> None:
    result = check_answer("batchnorm-logdet", latex)
    assert result.status == "equivalent", f"{latex}\n{result.summary()}"
    assert result.method


@settings(max_examples=40, deadline=None)
@given(perturbations())
def test_perturbations_are_rejected(case: tuple[str, str]) -> None:
    problem_id, latex = case
    result = check_answer(problem_id, latex)
    assert result.status == "not-equivalent", f"{latex}\n{result.summary()}"
    assert result.counterexample
    assert_counterexample_holds(problem_id, latex, result.counterexample)


# ----------------------------------------------------------------------------- hostile input

_REF_BODY = r"\left(\frac12\log(2\pi)+\frac12\epsilon_i^2+\sum_{t=0}^T\log\sigma_{t,i}\right)"
_HUGE_SUM_REASON = (
    "engine: a 10^9-term sum is reported 'undecided' (too many terms to evaluate) in ~0.2 s; "
    "bounded and sound, but neither timeout nor parse-error (and it is in fact not equivalent)"
)
#: (id, LaTeX, reason if the verdict is known to be neither timeout nor parse-error).
HOSTILE: list[tuple[str, str, str | None]] = [
    ("power-tower-10", r"10^{10^{10}}", None),
    ("power-tower-2", r"2^{2^{2^{2^{2}}}}", None),
    ("huge-cancel", rf"10^{{10^{{10}}}} - 10^{{10^{{10}}}} - \sum_{{i=1}}^D {_REF_BODY}", None),
    ("5000-parens", "(" * 5000 + r"\epsilon_1" + ")" * 5000, None),
    ("5000-left-right", r"\left(" * 5000 + r"\epsilon_1" + r"\right)" * 5000, None),
    ("5000-braces", "{" * 5000 + "1" + "}" * 5000, None),
    ("20KB", (r"\epsilon_1 + " * 2000)[: 20 * 1024], None),
    ("20KB-fracs", r"\frac{1}{2}" * 2048, None),
    ("sum-to-1e9", r"\sum_{i=1}^{10^{9}} \epsilon_i^2", _HUGE_SUM_REASON),
    ("reference-sum-to-1e9", rf"-\sum_{{i=1}}^{{10^{{9}}}} {_REF_BODY}", None),
    ("product-1e18", r"\prod_{i=1}^{10^{9}}\prod_{t=1}^{10^{9}}\sigma_{t,i}", None),
]


def _hostile_params(*, with_xfail: bool) -> list[Any]:
    return [
        pytest.param(
            latex,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=reason)] if with_xfail and reason else [],
        )
        for name, latex, reason in HOSTILE
    ]


@pytest.mark.parametrize("latex", _hostile_params(with_xfail=True))
def test_hostile_input_is_refused(latex: str) -> None:
    result = check_answer("iaf-logq", latex, timeout=HOSTILE_TIMEOUT)
    assert_well_formed(result, "iaf-logq", latex)
    assert result.status in {"timeout", "parse-error"}, result.summary()


@pytest.mark.parametrize("latex", _hostile_params(with_xfail=False))
def test_hostile_input_is_bounded(latex: str) -> None:
    """Whatever the verdict, it comes back (the sandbox's limits), well formed, and never says 'equivalent'.

    How long it takes is measured by ``scripts/bench_latency.py``, not asserted here.
    """
    result = check_answer("iaf-logq", latex, timeout=HOSTILE_TIMEOUT)
    assert_well_formed(result, "iaf-logq", latex)
    assert result.status != "equivalent"


# ----------------------------------------------------------------------------- fuzz

TOKENS = [
    *str.split(r"""
    \frac \tfrac \dfrac \sqrt \sum \prod \log \ln \log_{10} \exp \det \left( \right) \left| \right| \left[ \right]
    \Big( \Big) \mathbf \tilde \text{hi} \quad \cdot \pi \sigma \epsilon \varepsilon \mu \foo
    \sigma_{t,i} \sigma_{0,i} \epsilon_i \tilde\sigma_i z_{0,i} \mu_{0,i} q(\mathbf{z}_T|\mathbf{x})
    \\ & { } ( ) [ ] | ^ _ = + - / , . ! i t D T 0 1 2 10 0.5 99999 {-1/2} ^{10^{10}}
    """),
    " ",
]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(("iaf-logq", "batchnorm-logdet")), st.text(max_size=80))
def test_fuzz_random_text(problem_id: str, text: str) -> None:
    assert_well_formed(check_answer(problem_id, text, timeout=HOSTILE_TIMEOUT), problem_id, text)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(("iaf-logq", "batchnorm-logdet")),
    st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
)
def test_fuzz_token_soup(problem_id: str, text: str) -> None:
    assert_well_formed(check_answer(problem_id, text, timeout=HOSTILE_TIMEOUT), problem_id, text)


def test_the_independent_recheck_is_not_vacuous() -> None:
    """The re-check must fail on a right answer, whatever point it is handed."""
    right = r"-\frac12\sum_{i=1}^D\log(\tilde\sigma_i^2+\epsilon)"
    point = {"D": 2, "sigma~[1]": "0.5", "sigma~[2]": "3", "epsilon": "0.001"}
    with pytest.raises(AssertionError, match="counterexample does not hold"):
        assert_counterexample_holds("batchnorm-logdet", right, point)
    wrong = r"-\frac12\sum_{i=1}^D\log(\tilde\sigma_i^2+\epsilon) + 10^{-12}"
    assert_counterexample_holds("batchnorm-logdet", wrong, point)
    with pytest.raises(AssertionError, match="gives no value"):
        assert_counterexample_holds("batchnorm-logdet", wrong, {"D": 2, "epsilon": "1"})
