r"""``derive.check.check_steps`` over the hand-written corpus, plus attacks on its soundness.

The corpus (``tests/corpus/steps/``, ground truth in ``truth.toml``, worked out by hand) holds the
problem set's own Solutions 1 and 2 as they stand, correct derivations in several styles and
each kind of wrong step. Every "invalid" verdict's counterexample is re-evaluated here with plain
SymPy on the two lines (definitions applied), independently of the engine and of
``derive.steps._recheck``; every "valid" verdict must name a symbolic method.
"""

from __future__ import annotations

import itertools
import time
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import derive.steps._check as steps_check
from derive.check import StepsResult, check_steps
from derive.equivalence import atom_label
from derive.problems import get_problem
from derive.steps import check_steps_unlimited
from derive.steps._read import read_chains

CORPUS = Path(__file__).parent / "corpus" / "steps"
TRUTH: list[dict[str, Any]] = tomllib.loads((CORPUS / "truth.toml").read_text())["derivation"]
DIGITS = 60


@cache
def checked(name: str) -> StepsResult:
    entry = next(e for e in TRUTH if e["file"] == name)
    return check_steps(entry["problem"], (CORPUS / name).read_text())


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["file"].rsplit(".", 1)[0] for e in entries]


# --------------------------------------------------------------------- independent evaluation


def _substitute_definitions(expr: sp.Expr, definitions: Any) -> sp.Expr:
    repl: dict[sp.Basic, sp.Basic] = {}
    for atom in expr.atoms(sp.Indexed):
        for key, value in definitions.items():
            if key.base != atom.base or len(key.indices) != len(atom.indices):
                continue
            binding = {}
            for pattern, index in zip(key.indices, atom.indices, strict=True):
                if isinstance(pattern, sp.Symbol):
                    binding[pattern] = index
                elif pattern != index:
                    break
            else:
                repl[atom] = value.xreplace(binding)
    return expr.xreplace(repl)


def value_at(expr: sp.Expr, problem_id: str, cex: dict[str, Any]) -> sp.Expr:
    """``expr`` (the problem's quantity replaced by its proved value) at the counterexample, plain SymPy."""
    problem = get_problem(problem_id)
    expr = expr.xreplace({problem.target: problem.reference()})
    integers = {s for s in expr.free_symbols if isinstance(s, sp.Symbol) and s.is_integer and str(s) in cex}
    e = expr.xreplace({s: sp.Integer(cex[str(s)]) for s in integers}).doit()
    e = _substitute_definitions(e, problem.domain.definitions).doit()
    values: dict[sp.Basic, sp.Basic] = {}
    for atom in e.atoms(sp.Indexed):
        values[atom] = sp.Rational(str(cex.get(atom_label(atom), 1)))  # 1: an atom the engine saw cancel
    e = e.xreplace(values)
    for s in e.free_symbols:
        values[s] = sp.Rational(str(cex.get(atom_label(s), 1)))
    return sp.N(e.xreplace(values), DIGITS)


def members(problem_id: str, text: str) -> list[tuple[sp.Expr, sp.Expr]]:
    """(before, after) of every step, in the checker's numbering."""
    out = []
    for chain in read_chains(text, get_problem(problem_id).notation):
        exprs = [m.expr for m in chain.members]
        out += list(itertools.pairwise(exprs))
    return out


# ----------------------------------------------------------------------------------- corpus


def test_corpus_is_well_formed() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix in (".md", ".tex")}
    assert files == {e["file"] for e in TRUTH}, "every derivation file has exactly one truth entry"
    for e in TRUTH:
        assert set(e["invalid"]) <= set(range(1, e["steps"] + 1))
        assert set(map(int, e.get("slips", {}))) <= set(e["invalid"])


@pytest.mark.parametrize("entry", TRUTH, ids=_ids(TRUTH))
def test_every_step_gets_its_true_verdict(entry: dict[str, Any]) -> None:
    result = checked(entry["file"])
    statuses = [s.status for s in result.steps]
    assert len(statuses) == entry["steps"], result.summary()
    want = ["invalid" if k in entry["invalid"] else "valid" for k in range(1, entry["steps"] + 1)]
    assert statuses == want, f"{result.summary()}\n  why: {entry['why']}"
    assert result.first_invalid == (min(entry["invalid"]) if entry["invalid"] else None)
    assert result.reaches_reference is entry["reaches_reference"]
    assert result.exit_code == (1 if entry["invalid"] else 0)


@pytest.mark.parametrize(
    "entry", [e for e in TRUTH if e["invalid"]], ids=_ids([e for e in TRUTH if e["invalid"]])
)
def test_invalid_steps_carry_a_counterexample_that_holds(entry: dict[str, Any]) -> None:
    result = checked(entry["file"])
    pairs = members(entry["problem"], (CORPUS / entry["file"]).read_text())
    for step in result.steps:
        if step.status != "invalid":
            continue
        cex = step.counterexample
        assert cex is not None and step.difference, f"step {step.step} has no counterexample or difference"
        before, after = pairs[step.step - 1]
        vb, va = value_at(before, entry["problem"], cex), value_at(after, entry["problem"], cex)
        assert vb.is_real and va.is_real
        assert abs(va - vb) > sp.Float("1e-30", DIGITS) * max(1, abs(vb)), f"step {step.step}: {cex}"
        problem = get_problem(entry["problem"])
        sizes = [s for s in problem.domain.sizes if str(s.symbol) in cex]
        assert all(int(cex[str(s.symbol)]) >= s.minimum for s in sizes)
        if "t" in cex and "T" in cex:  # a free step index lies in 1..T
            assert 1 <= int(cex["t"]) <= int(cex["T"])


@pytest.mark.parametrize(
    "entry", [e for e in TRUTH if "slips" in e], ids=_ids([e for e in TRUTH if "slips" in e])
)
def test_slips_are_named(entry: dict[str, Any]) -> None:
    result = checked(entry["file"])
    for k, names in entry["slips"].items():
        assert result.steps[int(k) - 1].slip in names, result.steps[int(k) - 1].message


@pytest.mark.parametrize("entry", TRUTH, ids=_ids(TRUTH))
def test_valid_steps_are_proved_symbolically(entry: dict[str, Any]) -> None:
    for step in checked(entry["file"]).steps:
        if step.status == "valid":
            assert step.method.startswith("symbolic for all sizes"), step.method


def test_solution_1_sign_slip_is_flagged_at_equation_2() -> None:
    text = (CORPUS / "ps2_solution1.md").read_text()
    result = checked("ps2_solution1.md")
    line_of_eq2 = text[: text.index(r"\quad (2)$$")].count("\n") + 1
    first = result.steps[result.first_invalid - 1]  # type: ignore[operator]
    assert first.line == line_of_eq2
    assert first.slip == "inverse-logdet"
    assert result.verdict() == "right result, invalid steps 2, 6 and 8"


def test_solution_2_warns_about_batch_statistics() -> None:
    result = checked("ps2_solution2.md")
    assert result.status == "valid"
    assert any("depend on x" in w and "eval mode" in w for w in result.warnings)


def test_to_dict_has_the_interface_keys() -> None:
    d = checked("iaf_cancelling_errors.tex").to_dict()
    assert {"status", "reaches_reference", "first_invalid", "steps"} <= set(d)
    assert (d["status"], d["reaches_reference"], d["first_invalid"]) == ("invalid", True, 1)
    keys = {
        "step",
        "status",
        "from",
        "to",
        "justification",
        "difference",
        "slip",
        "counterexample",
        "warnings",
    }
    assert all(keys <= set(s) for s in d["steps"])


# ----------------------------------------------------------------------------------- attacks


R_IAF = r"-\sum_{i=1}^D\left(\frac12\log(2\pi) + \frac12\epsilon_i^2 + \sum_{t=0}^T\log\sigma_{t,i}\right)"


@pytest.mark.parametrize(
    "latex",
    [
        rf"$${R_IAF} = {R_IAF} + 10^{{-20}}$$",
        rf"$$\log q(\mathbf{{z}}_T|\mathbf{{x}}) = {R_IAF} + \sum_{{i=1}}^D \log\sigma_{{1,i}} - \sum_{{i=1}}^D \log\sigma_{{2,i}}$$",
        r"$$\log\left|\det\frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}}\right| = -\sum_{i=1}^D\log\sigma_{t,i}$$",
        r"$$\log q(\mathbf{z}_0|\mathbf{x}) = -\sum_{i=1}^D\left(\frac12\log(2\pi) + \frac12\epsilon_i^2\right)$$",
        r"$$\sum_{j=1}^D \frac{(z_{0,j}-\mu_{0,j})^2}{\sigma_{0,j}^2} = \sum_{j=1}^D \epsilon_j$$",
    ],
    ids=[
        "off-by-1e-20",
        "two-steps-swapped",
        "inverse-logdet-as-a-lemma",
        "base-density-without-sigma",
        "eps-not-squared",
    ],
)
def test_a_false_step_is_never_valid(latex: str) -> None:
    result = check_steps("iaf-logq", latex)
    assert [s.status for s in result.steps] in (["invalid"], ["undecided"]), result.summary()


def test_definitions_hold_in_every_counterexample_whatever_the_index() -> None:
    text = r"$$\sum_{k=1}^D \frac{(z_{0,k}-\mu_{0,k})^2}{\sigma_{0,k}^2} = \sum_{k=1}^D \epsilon_k$$"
    step = check_steps("iaf-logq", text).steps[0]
    assert step.status == "invalid"
    assert step.counterexample is not None
    assert not any(key.startswith("z[") and key not in ("z[0,1]",) for key in step.counterexample)
    if "z[0,1]" in step.counterexample:  # reported, computed from its definition
        cex = step.counterexample
        z = sp.Rational(str(cex["mu[0,1]"])) + sp.Rational(str(cex["sigma[0,1]"])) * sp.Rational(
            str(cex["epsilon[1]"])
        )
        assert abs(sp.Float(cex["z[0,1]"], 40) - z) < sp.Float("1e-25")


def test_an_engine_counterexample_that_does_not_hold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from derive.equivalence import Verdict

    def lying_decide(answer: sp.Expr, reference: sp.Expr, domain: Any, **kw: Any) -> Verdict:
        cex = {
            "D": 1,
            "T": 0,
            "epsilon[1]": "0.5",
            "sigma[0,1]": "2",
            "answer": "1",
            "reference": "2",
            "difference": "-1",
            "digits": 100,
        }
        return Verdict("not-equivalent", "lie", "lie", cex)

    monkeypatch.setattr(steps_check, "decide", lying_decide)
    result = check_steps_unlimited("iaf-logq", rf"$${R_IAF} = {R_IAF}$$")
    assert [s.status for s in result.steps] == ["undecided"]
    assert "refused on independent re-check" in result.steps[0].message


def test_an_engine_counterexample_that_breaks_a_definition_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from derive.equivalence import Verdict

    def decide_ignoring_definitions(answer: sp.Expr, reference: sp.Expr, domain: Any, **kw: Any) -> Verdict:
        cex = {"D": 1, "T": 0, "z[0,1]": "3", "mu[0,1]": "0", "sigma[0,1]": "1", "epsilon[1]": "1"}
        return Verdict("not-equivalent", "lie", "lie", cex)

    monkeypatch.setattr(steps_check, "decide", decide_ignoring_definitions)
    text = r"$$\sum_{j=1}^D \frac{z_{0,j}-\mu_{0,j}}{\sigma_{0,j}} = \sum_{j=1}^D \epsilon_j$$"
    step = check_steps_unlimited("iaf-logq", text).steps[0]
    assert step.status == "undecided"
    assert "independently of its definition" in step.message


def test_one_hostile_line_times_out_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    real = steps_check.decide_step

    def slow_on_the_marked_line(problem_id: str, before: Any, after: Any, texts: str = "") -> Any:
        if "4711" in texts:
            time.sleep(60)
        return real(problem_id, before, after, texts)

    monkeypatch.setattr(steps_check, "decide_step", slow_on_the_marked_line)  # the forked child inherits it
    text = rf"""$$\begin{{aligned}}
    \log q(\mathbf{{z}}_T|\mathbf{{x}}) &= {R_IAF} \\
    &= {R_IAF} + 4711 - 4711 \\
    &= {R_IAF}
    \end{{aligned}}$$"""
    result = check_steps("iaf-logq", text, timeout=3)
    assert [s.status for s in result.steps] == ["valid", "timeout", "timeout"]
    assert result.status == "undecided" and result.exit_code == 3


def test_parse_error_is_a_step_with_the_reason_not_a_crash() -> None:
    result = check_steps("iaf-logq", r"$$\log q(\mathbf{z}_T|\mathbf{x}) = \frac{1}{$$")
    assert result.status == "parse-error" and result.exit_code == 2
    assert result.steps[0].status == "parse-error" and "column" in result.steps[0].message


def test_text_without_a_chain_is_a_parse_error() -> None:
    result = check_steps("iaf-logq", "no maths here")
    assert result.status == "parse-error" and result.exit_code == 2 and not result.steps


def test_unknown_problem_raises_the_typed_error() -> None:
    from derive.errors import UnknownProblemError

    with pytest.raises(UnknownProblemError):
        check_steps("nope", "$$a = b$$")
