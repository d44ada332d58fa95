"""derive.latex end to end: the problem set's formulas, notation, named quantities, derivations."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.errors import ParseError
from derive.latex import Derivation, NamedQuantity, Notation, Parsed, parse_derivation, parse_expression
from derive.results import iaf_log_q
from derive.symbols import D, T, bn_eps, bn_mean, bn_std, epsilon, i, mu, sigma, t, z

HALF = sp.Rational(1, 2)
L2P = sp.log(2 * sp.pi)

#: log q(z_0|x) for the isotropic Gaussian base, and one IAF step's log-determinant (index t free).
LOG_Q0 = sp.Sum(-L2P / 2 - sp.log(sigma[0, i]) - epsilon[i] ** 2 / 2, (i, 1, D))
LOGDET = sp.Sum(-sp.log(sigma[t, i]), (i, 1, D))
Q0 = NamedQuantity(r"\log q(\mathbf{z}_0|\mathbf{x})", LOG_Q0)
DET = NamedQuantity(r"\log\det\left|\frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}}\right|", LOGDET, ("t",))
QT = NamedQuantity(r"\log q(\mathbf{z}_T|\mathbf{x})", iaf_log_q())

IAF = Notation(
    scalars={"D": D, "T": T},
    indexed={r"\sigma": sigma, r"\epsilon": epsilon, r"\mu": mu, "z": z},
    index_ranges={"i": (i, 1, D), "t": (t, 0, T)},
)
IAF_NAMED = Notation(
    scalars=IAF.scalars,
    indexed=IAF.indexed,
    index_ranges=IAF.index_ranges,
    named=(Q0, DET),
    arity={r"\sigma": 2},
)
BN = Notation(
    scalars={"D": D, r"\epsilon": bn_eps},
    indexed={r"\tilde{\sigma}": bn_std, r"\tilde{\mu}": bn_mean},
    index_ranges={"i": (i, 1, D)},
)
V = bn_std[i] ** 2 + bn_eps


def same(a: sp.Expr, b: sp.Expr) -> bool:
    """Equal at D=3, T=2 after writing the sums out (logs expanded: every atom here is positive)."""
    sizes = {D: 3, T: 2}
    diff = (a.subs(sizes) - b.subs(sizes)).doit()
    return sp.expand(sp.expand_log(diff, force=True)) == 0


CORPUS = [
    (
        "iaf-final",
        IAF,
        r"-\sum_{i=1}^D \left(\frac{1}{2} \log(2\pi) + \frac{1}{2} \epsilon_i^2 "
        r"+ \sum_{t=0}^T \log \sigma_{t,i} \right)",
        -sp.Sum(L2P / 2 + epsilon[i] ** 2 / 2 + sp.Sum(sp.log(sigma[t, i]), (t, 0, T)), (i, 1, D)),
    ),
    (
        "iaf-extended-sum",
        IAF,
        r"\sum_{i=1}^D -\frac{1}{2} \log(2\pi) - \log \sigma_{0,i} - \frac{1}{2} \epsilon_i^2 "
        r"- \sum_{t=1}^T -\log \sigma_{t,i}",
        sp.Sum(
            -L2P / 2 - sp.log(sigma[0, i]) - epsilon[i] ** 2 / 2 + sp.Sum(sp.log(sigma[t, i]), (t, 1, T)),
            (i, 1, D),
        ),
    ),
    (
        "bn-abs",
        BN,
        r"\sum_i \log \left| \frac{1}{\sqrt{\tilde{\sigma}_i^2 + \epsilon}} \right|",
        sp.Sum(sp.log(sp.Abs(1 / sp.sqrt(V))), (i, 1, D)),
    ),
    (
        "bn-frac12",
        BN,
        r"-\frac12\sum_{i=1}^{D}\log(\tilde\sigma_i^2+\epsilon)",
        -HALF * sp.Sum(sp.log(V), (i, 1, D)),
    ),
    (
        "bn-tfrac-ln",
        BN,
        r"-\tfrac{1}{2}\sum_i \ln\left(\tilde{\sigma}_{i}^{2}+\epsilon\right)",
        -HALF * sp.Sum(sp.log(V), (i, 1, D)),
    ),
    (
        "bn-prod",
        BN,
        r"\log\prod_{i=1}^D (\tilde\sigma_i^2+\epsilon)^{-1/2}",
        sp.log(sp.Product(V**-HALF, (i, 1, D))),
    ),
    ("log-base", IAF, r"\log_2 8", sp.Integer(3)),
    ("log-brace-base", IAF, r"\log_{10} 1000", sp.Integer(3)),
    ("ln", IAF, r"\ln D", sp.log(D)),
    ("e-power", IAF, r"e^{D}", sp.exp(D)),
    ("exp", IAF, r"\exp(D)", sp.exp(D)),
    ("exp-bare", IAF, r"\exp D + 1", sp.exp(D) + 1),
    ("root", IAF, r"\sqrt[3]{8}", sp.Integer(2)),
    ("sqrt", IAF, r"\sqrt{4D}", 2 * sp.sqrt(D)),
    ("abs", IAF, r"|{-3}|", sp.Integer(3)),
    ("abs-implicit", IAF, r"2|\epsilon_1|", 2 * sp.Abs(epsilon[1])),
    ("implicit", IAF, r"2\pi\sigma_{0,1}", 2 * sp.pi * sigma[0, 1]),
    ("decimal", IAF, r"0.5 D", D / 2),
    ("cdot-times", IAF, r"2 \cdot D \times T", 2 * D * T),
    ("slash", IAF, r"D / 2", D / 2),
    ("varepsilon", IAF, r"\varepsilon_i + \epsilon_{i}", 2 * epsilon[i]),
    ("sizes", IAF, r"\Big( D \Big) \bigl[ T \bigr] \left\{ 1 \right\}", D * T),
    ("index-exprs", IAF, r"\sigma_{t-1,i} z_{0,i}", sigma[t - 1, i] * z[0, i]),
    ("mathbf", IAF, r"\mathbf{z}_{T,1} + \boldsymbol{\mu}_{1,1}", z[T, 1] + mu[1, 1]),
    ("tilde-squared", BN, r"\tilde{\sigma}_i^2", bn_std[i] ** 2),
    ("bn-eps-scalar", BN, r"\epsilon", bn_eps),
    ("pi", IAF, r"\pi", sp.pi),
    ("spacing", IAF, r"D\,T\;\!\: ~ \quad", D * T),
    ("nested-sums", IAF, r"\sum_i \sum_t \sigma_{t,i}", sp.Sum(sp.Sum(sigma[t, i], (t, 0, T)), (i, 1, D))),
    ("sum-stops", IAF, r"\sum_i \epsilon_i + 1", sp.Sum(epsilon[i], (i, 1, D)) + 1),
    (
        "sum-other-letter",
        IAF,
        r"\sum_{k=1}^{3} k",
        sp.Sum(sp.Symbol("k", integer=True), (sp.Symbol("k", integer=True), 1, 3)),
    ),
    ("frac-letters", IAF, r"\frac DT", D / T),
    ("log-power", IAF, r"\log^2 D", sp.log(D) ** 2),
    ("multi-index-sum", IAF, r"\sum_{t,i} \sigma_{t,i}", sp.Sum(sigma[t, i], (i, 1, D), (t, 0, T))),
    (
        "unicode",
        IAF,
        "\u2211_i \u03c3_{t,i} \u00b7 2 \u2212 \u03c0",
        2 * sp.Sum(sigma[t, i], (i, 1, D)) - sp.pi,
    ),
    ("unicode-lunate", IAF, "\u03f5_1", epsilon[1]),
]


@pytest.mark.parametrize(("notation", "text", "want"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_corpus(notation: Notation, text: str, want: sp.Expr) -> None:
    got = parse_expression(text, notation).expr
    assert same(got, want), (got, want)


def test_sum_extension_warns_once() -> None:
    parsed = parse_expression(CORPUS[1][2], IAF)
    assert len(parsed.warnings) == 1
    assert "the sum over i was read as extending over '- \\log \\sigma_{0,i}" in parsed.warnings[0]


def test_inner_sum_body_is_its_own_signed_term() -> None:
    parsed = parse_expression(r"\sum_{t=1}^T -\log \sigma_{t,i}", IAF)
    assert parsed.expr == -sp.Sum(sp.log(sigma[t, i]), (t, 1, T)) or same(
        parsed.expr, -sp.Sum(sp.log(sigma[t, i]), (t, 1, T))
    )
    assert parsed.warnings == ()


def test_sum_extends_through_terms_without_the_index_in_between() -> None:
    got = parse_expression(r"\sum_i \epsilon_i - 1 + \mu_{0,i}", IAF).expr
    assert same(got, sp.Sum(epsilon[i] - 1 + mu[0, i], (i, 1, D)))


def test_parenthesised_sum_does_not_extend() -> None:
    parsed = parse_expression(r"\sum_i (\epsilon_i) - \epsilon_1", IAF)
    assert not any("extending" in w for w in parsed.warnings)
    assert same(parsed.expr, sp.Sum(epsilon[i], (i, 1, D)) - epsilon[1])


def test_a_sum_without_bounds_takes_the_default_range_with_a_warning() -> None:
    parsed = parse_expression(r"\sum_i \epsilon_i", IAF)
    assert same(parsed.expr, sp.Sum(epsilon[i], (i, 1, D)))
    assert parsed.warnings == (r"\sum over i without bounds read as i = 1..D",)


def test_unknown_symbols_are_free_with_a_warning() -> None:
    parsed = parse_expression(r"c + \alpha + x_i", IAF)
    assert {s.name for s in parsed.expr.free_symbols} >= {"c", "alpha"}
    assert parsed.warnings == (
        "unknown symbol 'c' treated as a free variable",
        "unknown symbol '\\alpha' treated as a free variable",
        "unknown symbol 'x' treated as a free variable",
    )


def test_bound_letters_and_index_letters_do_not_warn() -> None:
    assert parse_expression(r"\sum_{k=1}^{D} \epsilon_k + \epsilon_i", IAF).warnings == ()


def test_e_is_a_symbol_when_the_notation_defines_it() -> None:
    e = sp.Symbol("e", positive=True)
    notation = Notation(scalars={"e": e}, indexed={}, index_ranges={})
    assert parse_expression("e^{2}", notation).expr == e**2


def test_notation_aliases() -> None:
    notation = Notation(
        scalars={"D": D}, indexed={r"\sigma": sigma}, index_ranges={}, aliases={"s": r"\sigma"}
    )
    assert parse_expression("s_{1,2}", notation).expr == sigma[1, 2]


def test_lhs_and_chains() -> None:
    parsed = parse_expression(r"y = 2 = \frac{4}{2}", IAF)
    assert parsed.expr == 2
    assert parsed.lhs == sp.Symbol("y", real=True)
    assert parse_expression("D", IAF).lhs is None


def test_named_quantity_as_lhs() -> None:
    notation = Notation(scalars=IAF.scalars, indexed=IAF.indexed, index_ranges=IAF.index_ranges, named=(QT,))
    parsed = parse_expression(r"\log q(\mathbf{z}_T|\mathbf{x}) = " + CORPUS[0][2], notation)
    assert isinstance(parsed, Parsed)
    assert parsed.lhs == iaf_log_q()
    assert same(parsed.expr, iaf_log_q())


def test_undeclared_lhs_is_skipped_with_a_warning() -> None:
    parsed = parse_expression(r"\log q(\mathbf{z}_T|\mathbf{x}) = D", IAF)
    assert parsed.lhs is None
    assert parsed.expr == D
    assert "is not a known quantity" in parsed.warnings[0]


NAMED = [
    ("q0", r"\log q(\mathbf{z}_0|\mathbf{x})", LOG_Q0),
    ("q0-spaced", r"\log q\left(\mathbf{z}_{0} \,|\, \mathbf{x}\right)", LOG_Q0),
    ("det-t", r"\log \det \left| \frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}} \right|", LOGDET),
    ("det-T", r"\log\det\left|\frac{dz_T}{dz_{T-1}}\right|", LOGDET.subs(t, T)),
    ("det-shifted", r"\log\det\left|\frac{dz_{t+1}}{dz_{t}}\right|", LOGDET.subs(t, t + 1)),
    ("det-partial-abs-outside", r"\log\left|\det\frac{\partial z_1}{\partial z_0}\right|", LOGDET.subs(t, 1)),
    (
        "in-a-sum",
        r"\log q(\mathbf{z}_0|\mathbf{x}) "
        r"- \sum_{t=1}^T \log \det \left| \frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}} \right|",
        LOG_Q0 - sp.Sum(LOGDET, (t, 1, T)),
    ),
]


@pytest.mark.parametrize(("text", "want"), [c[1:] for c in NAMED], ids=[c[0] for c in NAMED])
def test_named_quantities(text: str, want: sp.Expr) -> None:
    assert same(parse_expression(text, IAF_NAMED).expr, want)


SEED_ALIGNED = (
    r"\begin{aligned} \log q(\mathbf{z}_T|\mathbf{x}) &= \log q(\mathbf{z}_0|\mathbf{x}) - \sum_{t=1}^T "
    r"\log \det \left| \frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}} \right| \\ &= \sum_{i=1}^D \left(\log "
    r"\left[\frac{1}{\sqrt{2\pi}\sigma_{0,i}} \right] - \frac{(\mathbf{z}_0 - \mu_{0,i})^2}{2\sigma_{0,i}^2} "
    r"\right) - \sum_{t=1}^T \log \det \left| \frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}} \right| \quad \dots "
    r"\text{log of isotropic Gaussian} \\ &= \sum_{i=1}^D \log \left[\frac{1}{\sqrt{2\pi}} "
    r"\frac{1}{\sigma_{0,i}} \right] - \frac{(\mathbf{z}_0 - \mu_{0,i})^2}{2\sigma_{0,i}^2} - \sum_{t=1}^T "
    r"-\log \sigma_{t,i} \quad \dots \text{applying Equation 3} \\ &= \sum_{i=1}^D -\frac{1}{2} \log(2\pi) "
    r"- \log \sigma_{0,i} - \frac{1}{2} \epsilon_i^2 - \sum_{t=1}^T -\log \sigma_{t,i} \quad \dots "
    r"\text{by } \epsilon = \frac{\mathbf{z}_0 - \mu(\mathbf{z}_0)}{\sigma(\mathbf{z}_0)} \\ &= "
    r"-\sum_{i=1}^D \left(\frac{1}{2} \log(2\pi) + \frac{1}{2} \epsilon_i^2 + \sum_{t=0}^T \log "
    r"\sigma_{t,i} \right) \quad \dots \text{merge the sum of } \sigma \text{ and take out negative.} "
    r"\end{aligned}"
)
SEED_NOTES = [
    "",
    "",
    "log of isotropic Gaussian",
    "applying Equation 3",
    r"by \epsilon = \frac{\mathbf{z}_0 - \mu(\mathbf{z}_0)}{\sigma(\mathbf{z}_0)}",
    r"merge the sum of \sigma and take out negative.",
]


def _seed_notation() -> Notation:
    return Notation(
        scalars=IAF.scalars, indexed=IAF.indexed, index_ranges=IAF.index_ranges, named=(QT, Q0, DET)
    )


@pytest.mark.parametrize(
    "wrapper", ["{}", "$${}$$", "$ {} $", r"\[{}\]"], ids=["bare", "dollars", "dollar", "brackets"]
)
def test_seed_solution_1_parses_as_a_derivation(wrapper: str) -> None:
    derivation = parse_derivation(wrapper.format(SEED_ALIGNED), _seed_notation())
    assert isinstance(derivation, Derivation)
    assert [line.annotation for line in derivation.lines] == SEED_NOTES
    assert derivation.lines[0].expr == iaf_log_q()
    assert same(derivation.lines[1].expr, LOG_Q0 - sp.Sum(LOGDET, (t, 1, T)))
    noise = {epsilon[i]: (z[0] - mu[0, i]) / sigma[0, i]}  # the annotation of line 5
    for line in derivation.lines[2:5]:  # lines 3-4 are written with z_0, line 5 with epsilon
        assert same(line.expr.xreplace(noise), derivation.lines[1].expr.xreplace(noise))
    assert same(derivation.lines[5].expr, iaf_log_q())
    # The seed's eq. (2) gives the IAF step log-det the wrong sign, so the read chain breaks between
    # lines 5 and 6, exactly where the text flips the sign of the t >= 1 terms.
    assert not same(derivation.lines[4].expr, derivation.lines[5].expr)
    text = wrapper.format(SEED_ALIGNED)
    assert [text[line.column - 1 :].startswith(("\\log", "\\sum", "-")) for line in derivation.lines] == [
        True
    ] * 6
    assert sum("read as extending" in w for w in derivation.warnings) == 2


def test_seed_derivation_skips_an_undeclared_lhs() -> None:
    notation = Notation(
        scalars=IAF.scalars, indexed=IAF.indexed, index_ranges=IAF.index_ranges, named=(Q0, DET)
    )
    derivation = parse_derivation(SEED_ALIGNED, notation)
    assert len(derivation.lines) == 5
    assert "not a known quantity" in derivation.warnings[0]


def test_derivation_continuation_rows_and_align_star() -> None:
    text = r"\begin{align*} y &= D \\ &\quad + T \\ &= T + D \text{ reorder} \end{align*}"
    derivation = parse_derivation(text, IAF)
    assert [(line.expr, line.annotation) for line in derivation.lines] == [
        (sp.Symbol("y", real=True), ""),
        (D + T, ""),
        (D + T, "reorder"),
    ]


def test_parse_expression_ignores_trailing_prose() -> None:
    assert parse_expression(r"D \quad (1)", IAF).expr == D


def test_prose_around_math_delimiters_is_ignored() -> None:
    parsed = parse_expression("With \u03bc fixed, $D = T$ and so \\(= 2T - T\\).", IAF)
    assert (parsed.lhs, parsed.expr) == (D, T)


BAD = [
    ("frac", r"\frac{1}{2", "expected '}'", 11),
    ("log-open", r"\sum_{i=1}^{D} \log(", "expected a number, a symbol or '('", 21),
    ("op-op", "1 +* 2", "unexpected '*'", 4),
    ("foo", r"\foo x", r"unknown command '\foo'", 1),
    ("subscript", r"\sigma_{t,i", "expected '}'", 12),
    ("huge-power", r"10^{10^{10}}", "number too large", 1),
    ("tower", r"2^{2^{2^{2^{2}}}}", "number too large", 1),
    ("huge-product", r"10^{9000} \cdot 10^{9000}", "number too large", 1),
    ("long-literal", "1" * 101, "number too long", 1),
    ("arity", r"\sigma_i", r"\sigma takes 2 indices (e.g. \sigma_{t,i}); got 1", 1),
    ("bare-indexed", r"\sigma + 1", r"\sigma takes 2 indices", 1),
    ("call", r"\log q(\mathbf{z}_0|\mathbf{x}, y)", "q(...) is not a known quantity in this problem", 6),
    ("det", r"1 + \det|z_{1,2}|", r"\det is only meaningful inside a named quantity", 5),
    ("approx", r"a \approx b", "only '=' chains are supported", 3),
    ("le", r"a \le b", "only '=' chains are supported", 3),
    ("no-bounds", r"\sum_k k", r"\sum over k needs bounds", 1),
    ("scalar-index", r"D_i", "D takes no index", 1),
    ("tuple", r"(1, 2)", "unexpected ','", 1),
    ("derivative", r"\frac{dz_1}{dz_0}", r"a derivative such as \frac{dz_t}{dz_{t-1}} is only meaningful", 1),
    ("partial", r"1 + \frac{\partial}{\partial x}", "a derivative such as", 5),
    ("multi-index-upper", r"\sum_{t,i}^T x", "takes no upper bound", 1),
    ("sum-bound", r"\sum_{i=1}^{\log 2} x", "bounds of \\sum must be integers or index expressions", 1),
    ("unicode-le", "a \u2264 b", "only '=' chains are supported", 3),
    ("environment", r"\begin{matrix} a \end{matrix}", "unsupported environment 'matrix'", 1),
    ("too-long", "x+" * 10_001, "input too long", None),
    ("nested", "(" * 5000 + "x" + ")" * 5000, "too deeply nested", 101),
]


@pytest.mark.parametrize(("text", "message", "column"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input(text: str, message: str, column: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_expression(text, IAF_NAMED)
    assert type(info.value) is ParseError
    assert message in str(info.value)
    assert info.value.column == column
