r"""The token layer's reading rules added for derivations: upright function names, alignment
points, environments, justifications and labels."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.errors import ParseError
from derive.latex import parse_derivation, parse_expression
from derive.latex._lex import raw_tokens, split_rows
from derive.problems import get_problem

IAF = get_problem("iaf-logq").notation
BN = get_problem("batchnorm-logdet").notation


@pytest.mark.parametrize(
    ("latex", "function"),
    [
        (r"\mathrm{log}(\sigma_{0,1})", sp.log),
        (r"\operatorname{log}\sigma_{0,1}", sp.log),
        (r"\operatorname{ln}\sigma_{0,1}", sp.log),
        (r"\mathrm{exp}(\epsilon_1)", sp.exp),
    ],
    ids=["mathrm-log", "operatorname-log", "operatorname-ln", "mathrm-exp"],
)
def test_upright_names_are_functions(latex: str, function: type) -> None:
    parsed = parse_expression(latex, IAF)
    assert parsed.expr.func is function, parsed.expr
    assert not any("unknown symbol" in w for w in parsed.warnings), parsed.warnings  # no l*o*g


@pytest.mark.parametrize(
    ("latex", "column"),
    [
        (r"2\mathrm{foo}(x)", 2),
        (r"\operatorname{lg} x", 1),
        (r"(a & + b)", 4),
        (r"\left(a & + b\right)", 9),
        (r"\begin{aligned} a &= b", 1),
        (r"a &= b \end{aligned}", 8),
        (r"\begin{aligned} a &= b \end{align}", 1),
    ],
    ids=[
        "unknown-upright",
        "unknown-operatorname",
        "amp-in-parens",
        "amp-in-left-right",
        "unclosed",
        "unopened",
        "mismatched",
    ],
)
def test_parse_errors_with_the_column(latex: str, column: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_expression(latex, IAF)
    assert info.value.column == column, str(info.value)


def test_mathrm_d_is_the_differential_in_a_named_quantity() -> None:
    spelled = r"\log\left|\det\frac{\mathrm{d}\mathbf{z}_t}{\mathrm{d}\mathbf{z}_{t-1}}\right|"
    plain = r"\log\left|\det\frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}}\right|"
    assert parse_expression(spelled, IAF).expr == parse_expression(plain, IAF).expr


@pytest.mark.parametrize(
    ("text", "notes"),
    [
        (r"a &= b && because \\ &= c", ["because", ""]),
        (r"a &= b \quad \dots \text{why} \\ &= c", ["why", ""]),
        (r"a &= b \tag{1} \\ &= c \label{x} \nonumber", ["", ""]),
    ],
    ids=["double-ampersand", "dots-text", "labels"],
)
def test_row_annotations(text: str, notes: list[str]) -> None:
    assert [row.annotation for row in split_rows(raw_tokens(text), text)] == notes


def test_a_vector_inside_the_dimension_sum_is_its_component_with_a_warning() -> None:
    parsed = parse_expression(r"\sum_{i=1}^D (\mathbf{z}_0 - \mu_{0,i})^2", IAF)
    i = IAF.index_ranges["i"][0]
    z, mu = IAF.indexed["z"], IAF.indexed[r"\mu"]
    assert parsed.expr == sp.Sum((z[0, i] - mu[0, i]) ** 2, (i, 1, IAF.scalars["D"]))
    assert any("component" in w for w in parsed.warnings)


def test_a_vector_outside_any_sum_is_still_an_error() -> None:
    with pytest.raises(ParseError, match="takes 2 indices"):
        parse_expression(r"\mathbf{z}_0 - \mu_{0,1}", IAF)


def test_the_problem_sets_sigma_i_of_z_t_is_sigma_t_i() -> None:
    sigma, t, i = IAF.indexed[r"\sigma"], IAF.index_ranges["t"][0], IAF.index_ranges["i"][0]
    assert parse_expression(r"\log\sigma_i(\mathbf{z}_t)", IAF).expr == sp.log(sigma[t, i])


def test_derivative_and_det_of_a_componentwise_map() -> None:
    d = parse_derivation(
        r"\log\left|\det\frac{\partial}{\partial x}\left(\frac{x-\tilde\mu}{\sqrt{\tilde\sigma^2+\epsilon}}\right)\right|",
        BN,
    )
    (line,) = d.lines
    i, big_d = BN.index_ranges["i"][0], BN.scalars["D"]
    std, eps = BN.indexed[r"\tilde{\sigma}"], BN.scalars[r"\epsilon"]
    assert line.expr == sp.log(sp.Abs(sp.Product(1 / sp.sqrt(std[i] ** 2 + eps), (i, 1, big_d))))
    assert any(r"\det" in w and "diagonal" in w for w in d.warnings)
