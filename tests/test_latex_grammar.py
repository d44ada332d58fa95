"""derive.latex token layer and grammar: trees, error messages and columns, limits, speed."""

from __future__ import annotations

import pytest

from derive.errors import ParseError
from derive.latex import _ast as A
from derive.latex._lex import classify, raw_tokens, split_rows
from derive.latex._parse import parse


def _types(text: str) -> list[str]:
    return [tok.type for tok in classify(raw_tokens(text), text)]


def _only(text: str) -> A.Node:
    chain = parse(text)
    assert len(chain.members) == 1
    return chain.members[0]


TOKENS = [
    (r"\left|\mathbf{z}\right|", ["ABS_OPEN", "NAME", "ABS_CLOSE"]),
    (r"|x|", ["ABS_OPEN", "NAME", "ABS_CLOSE"]),
    (r"2|x|", ["NUMBER", "ABS_OPEN", "NAME", "ABS_CLOSE"]),
    (r"q(z_0|x)", ["NAME", "LPAR", "NAME", "SUB", "NUMBER", "GIVEN", "NAME", "RPAR"]),
    (r"(|x| + 1)", ["LPAR", "ABS_OPEN", "NAME", "ABS_CLOSE", "PLUS", "NUMBER", "RPAR"]),
    (r"\bigl|x\bigr|", ["ABS_OPEN", "NAME", "ABS_CLOSE"]),
    (r"\frac12", ["FRAC", "NUMBER", "NUMBER"]),
    (r"x^23", ["NAME", "SUP", "NUMBER", "NUMBER"]),
    (r"\sqrt[3]27", ["SQRT", "LBRACK", "NUMBER", "RBRACK", "NUMBER", "NUMBER"]),
    (r"\tilde\sigma \tilde{\sigma} \hat{x}", ["NAME", "NAME", "NAME"]),
    (r"a\,b\;c\!d\quad e~f", ["NAME"] * 6),
    (r"\Big( x \Big)", ["LPAR", "NAME", "RPAR"]),
    (r"\left\{ x \right\}", ["LSET", "NAME", "RSET"]),
    (r"\left. x \right|", ["NAME", "ABS_CLOSE"]),
    (r"x \cdot y \times z * w", ["NAME", "MULOP", "NAME", "MULOP", "NAME", "MULOP", "NAME"]),
    (r"\sum\limits_i x.", ["BIGOP", "SUB", "NAME", "NAME"]),
    (r"\ln x \text{ prose } % comment", ["FUNC", "NAME"]),
]


@pytest.mark.parametrize(("text", "types"), TOKENS, ids=[t for t, _ in TOKENS])
def test_token_layer(text: str, types: list[str]) -> None:
    assert _types(text) == types


def test_fonts_accents_and_aliases_fold_into_one_name() -> None:
    values = [
        tok.value for tok in classify(raw_tokens(r"\mathbf{z} \boldsymbol\mu \tilde\sigma \varepsilon"), "")
    ]
    assert values == ["z", r"\mu", r"\tilde{\sigma}", r"\epsilon"]


def test_rows_and_annotations() -> None:
    text = r"\begin{aligned} a &= b \\ &= c \quad \dots \text{by } x = 1 \\ \end{aligned}"
    rows = split_rows(raw_tokens(text), text)
    assert [r.annotation for r in rows] == ["", "by x = 1"]
    assert [[t.value for t in r.tokens] for r in rows] == [["a", "=", "b"], ["=", "c"]]


TREES = [
    (r"\frac12", A.Div(A.Num("1"), A.Num("2"))),
    (r"-a - b", A.Add((A.Neg(A.Name("a")), A.Neg(A.Name("b"))))),
    (r"\log 2\pi", A.Func("log", A.Mul((A.Num("2"), A.Name(r"\pi"))))),
    (r"\log(2\pi) x", A.Mul((A.Func("log", A.Paren(A.Mul((A.Num("2"), A.Name(r"\pi"))))), A.Name("x")))),
    (r"\log x \log y", A.Mul((A.Func("log", A.Name("x")), A.Func("log", A.Name("y"))))),
    (r"\log_2 8", A.Func("log", A.Num("8"), base=A.Num("2"))),
    (
        r"\sigma_{t-1,i}^2",
        A.Script(A.Name(r"\sigma"), (A.Add((A.Name("t"), A.Neg(A.Num("1")))), A.Name("i")), A.Num("2")),
    ),
    (r"x^2_i", A.Script(A.Name("x"), (A.Name("i"),), A.Num("2"))),
    (
        r"\sum_i a b + c",
        A.Add((A.BigOp("sum", "i", None, None, A.Mul((A.Name("a"), A.Name("b")))), A.Name("c"))),
    ),
    (r"\sum^{D}_{i=1} x", A.BigOp("sum", "i", A.Num("1"), A.Name("D"), A.Name("x"))),
    (r"2\sum_t -x", A.Mul((A.Num("2"), A.BigOp("sum", "t", None, None, A.Neg(A.Name("x")))))),
    (r"q(z|x)", A.Call(A.Name("q"), A.ArgList((A.Name("z"),), A.Name("x")))),
    (r"\sqrt[n]{x}", A.Root(A.Name("x"), A.Name("n"))),
    (r"|{-3}|", A.Abs(A.Neg(A.Num("3")))),
    (r"a / b c", A.Mul((A.Div(A.Name("a"), A.Name("b")), A.Name("c")))),
    (r"a / -b", A.Div(A.Name("a"), A.Neg(A.Name("b")))),
    (r"a \cdot -b", A.Mul((A.Name("a"), A.Neg(A.Name("b"))))),
    (r"1 / \sum_i x", A.Div(A.Num("1"), A.BigOp("sum", "i", None, None, A.Name("x")))),
]


@pytest.mark.parametrize(("text", "tree"), TREES, ids=[t for t, _ in TREES])
def test_tree(text: str, tree: A.Node) -> None:
    assert _only(text) == tree


def test_chain_members() -> None:
    assert parse("a = b = c").members == (A.Name("a"), A.Name("b"), A.Name("c"))


def test_positions_point_into_the_text() -> None:
    node = _only(r"1 + \sigma_{t,i}")
    assert isinstance(node, A.Add)
    assert (node.terms[1].pos, node.terms[1].end) == (4, 16)


ERRORS = [
    (r"\frac{1}{2", "unexpected end of input; expected '}'", 11),
    (r"\sum_{i=1}^{D} \log(", "unexpected end of input; expected a number, a symbol or '('", 21),
    ("1 +* 2", "unexpected '*'; expected a number, a symbol or '('", 4),
    (r"\foo x", r"unknown command '\foo'", 1),
    (r"\sigma_{t,i", "unexpected end of input; expected '}'", 12),
    (r"(a + b]", "unexpected ']'; expected ')'", 7),
    (r"a \approx b", "only '=' chains are supported", 3),
    (r"a < b", "only '=' chains are supported", 3),
    (r"x^2^3", "unexpected '^'", 4),
    ("", "empty formula", 1),
    ("x \u2603", "unexpected character '\u2603'", 3),
    (r"\tilde{x y}", r"\tilde must be applied to a single symbol", 1),
    ("(" * 5000, "too deeply nested", 101),
]


@pytest.mark.parametrize(("text", "message", "column"), ERRORS, ids=[t[:30] for t, _, _ in ERRORS])
def test_errors_say_what_and_where(text: str, message: str, column: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in str(info.value)
    assert info.value.column == column


def test_deep_unary_chain_is_a_parse_error_not_recursion() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("-" * 5000 + "x")
