r"""Parse classified tokens into the ``_ast`` tree with the LALR(1) grammar in ``grammar.lark``.

**Why LALR and not Earley.** The grammar is unambiguous once the token layer (``_lex``) has
decided what each ``|`` means, and its two deliberate shift/reduce conflicts are both resolved
as *shift*
(maximal munch: a big operator's body and an undelimited function argument extend as far right
as they can), which is exactly LaTeX's reading. LALR then parses in linear time with an explicit
stack — no recursion, so 5000 nested brackets cannot raise ``RecursionError`` — and builds the
tree while it parses. Measured on the problem set's formulas (50–120 characters, after warm-up):
the LALR parse itself takes 0.1–0.5 ms and the whole ``parse_expression`` 0.5–1.2 ms (the
six-line Solution 1 derivation about 7 ms); Earley on the same grammar and tokens takes 8–33 ms
for the parse alone and reports an ambiguity on the unparenthesised sum body, which it cannot
resolve the way the shift preference does. Hence LALR.

Errors are translated into :class:`~derive.errors.ParseError` with a 1-based column and a
message in words:

>>> parse(r"1 +* 2")
Traceback (most recent call last):
...
derive.errors.ParseError: unexpected '*'; expected a number, a symbol or '(' at column 4
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError

from derive.errors import ParseError
from derive.latex import _ast as A
from derive.latex._grammar import Replay, cached_lark, grammar_text
from derive.latex._lex import classify, raw_tokens

#: Nesting limit of the syntax tree itself (unary minus chains, \log\log\log x, sums of sums).
MAX_TREE_DEPTH = 300

_WORDS = {
    "NUMBER": "a number",
    "NAME": "a symbol",
    "LPAR": "'('",
    "FRAC": r"'\frac'",
    "SQRT": r"'\sqrt'",
    "FUNC": r"a function such as '\log'",
    "BIGOP": r"'\sum' or '\prod'",
    "MULOP": r"'\cdot'",
    "SLASH": "'/'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "EQ": "'='",
    "SUB": "'_'",
    "SUP": "'^'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "RPAR": "')'",
    "LBRACK": "'['",
    "RBRACK": "']'",
    "LSET": r"'\{'",
    "RSET": r"'\}'",
    "ABS_OPEN": "'|'",
    "ABS_CLOSE": "a closing '|'",
    "GIVEN": "'|'",
    "COMMA": "','",
}
_CLOSERS = ("RBRACE", "RPAR", "RBRACK", "RSET", "ABS_CLOSE")
_OPERAND = ("NUMBER", "NAME", "LPAR")


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def describe_expected(expected: set[str], unexpected: str) -> str:
    """``expected`` terminal names in words, closers first (they are what is usually missing).

    >>> describe_expected({"RBRACE", "PLUS", "NAME"}, "$END")
    "'}'"
    """
    closers = [_WORDS[name] for name in _CLOSERS if name in expected]
    if closers and (unexpected in (*_CLOSERS, "$END", "COMMA", "EQ") or "NUMBER" not in expected):
        return _join(closers)
    if "NUMBER" in expected:
        return _join([_WORDS[name] for name in _OPERAND])
    return _join(sorted({_WORDS.get(name, name) for name in expected})[:6])


def _span(children: Sequence[Any]) -> tuple[int, int]:
    starts = [
        c.start_pos if isinstance(c, Token) else c.pos for c in children if isinstance(c, Token | A.Node)
    ]
    ends = [c.end_pos if isinstance(c, Token) else c.end for c in children if isinstance(c, Token | A.Node)]
    return (min(s or 0 for s in starts), max(e or 0 for e in ends)) if starts else (0, 0)


def _nodes(children: Sequence[Any]) -> list[Any]:
    return [c for c in children if not isinstance(c, Token)]


class _Builder(Transformer):
    """Grammar rule -> ``_ast`` node (called by the LALR parser at each reduction)."""

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:  # pragma: no cover
        raise ParseError(f"internal: no builder for rule {data}")

    def start(self, c: list[Any]) -> A.Node:
        return c[0]

    def chain(self, c: list[Any]) -> A.Chain:
        first = c[0].members if isinstance(c[0], A.Chain) else (c[0],)
        return A.Chain((*first, *_nodes(c[1:])), pos=_span(c)[0], end=_span(c)[1])

    def add(self, c: list[Any]) -> A.Add:
        left, right = c[0], c[2]
        terms = left.terms if isinstance(left, A.Add) else (left,)
        return A.Add((*terms, right), pos=left.pos, end=right.end)

    def sub(self, c: list[Any]) -> A.Add:
        neg = A.Neg(c[2], pos=c[1].start_pos, end=c[2].end)
        return self.add([c[0], c[1], neg])

    def neg(self, c: list[Any]) -> A.Neg:
        return A.Neg(c[1], pos=c[0].start_pos, end=c[1].end)

    def pos(self, c: list[Any]) -> A.Node:
        return c[1]

    def imul(self, c: list[Any]) -> A.Node:
        left, right = c[0], c[-1]
        factors = left.factors if isinstance(left, A.Mul) else (left,)
        if isinstance(right, A.ArgList) and isinstance(factors[-1], A.Name | A.Script):
            call = A.Call(factors[-1], right, pos=factors[-1].pos, end=right.end)
            if len(factors) == 1:
                return call
            factors, right = factors[:-1], call
        return A.Mul((*factors, right), pos=left.pos, end=right.end)

    mul = imul

    def div(self, c: list[Any]) -> A.Div:
        return A.Div(c[0], c[2], pos=c[0].pos, end=c[2].end)

    def mul_neg(self, c: list[Any]) -> A.Node:
        return self.imul([c[0], A.Neg(c[3], pos=c[2].start_pos, end=c[3].end)])

    def div_neg(self, c: list[Any]) -> A.Div:
        return A.Div(c[0], A.Neg(c[3], pos=c[2].start_pos, end=c[3].end), pos=c[0].pos, end=c[3].end)

    def bigop(self, c: list[Any]) -> A.BigOp:
        names, lower, upper = c[1]
        body, kind, pos = c[2], c[0].value[1:], c[0].start_pos
        if len(names) > 1 and upper is not None:
            raise ParseError(f"\\{kind} over several indices takes no upper bound", column=pos + 1)
        for name in reversed(names[1:]):  # \sum_{t,i} x = \sum_t \sum_i x (default ranges)
            body = A.BigOp(kind, name, None, None, body, pos=pos, end=body.end)
        return A.BigOp(kind, names[0], lower, upper, body, pos=pos, end=body.end)

    def bigop_scripts(self, c: list[Any]) -> tuple[tuple[str, ...], A.Node | None, A.Node | None]:
        nodes = _nodes(c)
        if c[0].type == "SUB":
            (var, lower), upper = nodes[0], (nodes[1] if len(nodes) > 1 else None)
        else:
            upper, (var, lower) = nodes[0], nodes[1]
        return var, lower, upper

    def bound_var(self, c: list[Any]) -> tuple[tuple[str, ...], None]:
        return (str(next(t for t in c if t.type == "NAME").value),), None

    def bound_from(self, c: list[Any]) -> tuple[tuple[str, ...], A.Node]:
        return (str(c[1].value),), c[3]

    def bound_vars(self, c: list[Any]) -> tuple[tuple[str, ...], None]:
        return (str(c[1].value), *c[3]), None

    def bound_names(self, c: list[Any]) -> tuple[str, ...]:
        first = c[0] if isinstance(c[0], tuple) else (str(c[0].value),)
        return (*first, *(str(t.value) for t in c[1:] if t.type == "NAME"))

    def func(self, c: list[Any]) -> A.Func:
        return A.Func(str(c[0].value)[1:], c[-1], pos=c[0].start_pos, end=c[-1].end)

    def func_base(self, c: list[Any]) -> A.Func:
        return A.Func(str(c[0].value)[1:], c[-1], base=c[2], pos=c[0].start_pos, end=c[-1].end)

    def func_pow(self, c: list[Any]) -> A.Func:
        return A.Func(str(c[0].value)[1:], c[-1], power=c[2], pos=c[0].start_pos, end=c[-1].end)

    def script(self, c: list[Any]) -> A.Script:
        sub, sup, end = c[1]
        return A.Script(c[0], sub, sup, pos=c[0].pos, end=end)

    def scripts(self, c: list[Any]) -> tuple[tuple[A.Node, ...] | None, A.Node | None, int]:
        sub: tuple[A.Node, ...] | None = None
        sup: A.Node | None = None
        for marker, value in zip(c[::2], c[1::2], strict=True):
            if marker.type == "SUB":
                sub = value.items if isinstance(value, A.ArgList) else (value,)
            else:
                sup = value
        return sub, sup, _span(c)[1]

    def subscript(self, c: list[Any]) -> A.ArgList:
        return A.ArgList(tuple(c[1]), pos=c[0].start_pos, end=c[2].end_pos)

    def index_list(self, c: list[Any]) -> tuple[A.Node, ...]:
        first = c[0] if isinstance(c[0], tuple) else (c[0],)
        return (*first, *_nodes(c[1:]))

    def number(self, c: list[Any]) -> A.Num:
        return A.Num(str(c[0].value), pos=c[0].start_pos, end=c[0].end_pos)

    def name(self, c: list[Any]) -> A.Name:
        return A.Name(str(c[0].value), pos=c[0].start_pos, end=c[0].end_pos)

    def brace(self, c: list[Any]) -> A.Node:
        return c[1]

    def paren(self, c: list[Any]) -> A.Node:
        pos, end = c[0].start_pos, c[-1].end_pos
        inner = c[1]
        if isinstance(inner, A.ArgList):
            if len(inner.items) == 1 and inner.given is None:
                return A.Paren(inner.items[0], pos=pos, end=end)
            return A.ArgList(inner.items, inner.given, pos=pos, end=end)
        return A.Paren(inner, pos=pos, end=end)

    def abs(self, c: list[Any]) -> A.Abs:
        return A.Abs(c[1], pos=c[0].start_pos, end=c[-1].end_pos)

    def args(self, c: list[Any]) -> A.ArgList:
        nodes = _nodes(c)
        items = nodes[0].items if isinstance(nodes[0], A.ArgList) else (nodes[0],)
        return A.ArgList((*items, *nodes[1:]), pos=_span(c)[0], end=_span(c)[1])

    def given(self, c: list[Any]) -> A.ArgList:
        return A.ArgList((c[0],), c[2], pos=c[0].pos, end=c[2].end)

    def frac(self, c: list[Any]) -> A.Div:
        return A.Div(c[1], c[2], pos=c[0].start_pos, end=_span(c)[1])

    def sqrt(self, c: list[Any]) -> A.Root:
        return A.Root(c[1], pos=c[0].start_pos, end=_span(c)[1])

    def root(self, c: list[Any]) -> A.Root:
        return A.Root(c[4], c[2], pos=c[0].start_pos, end=_span(c)[1])


def _build_parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer=Replay, transformer=_Builder())


@cache
def parser() -> Lark:
    """The LALR(1) parser over classified tokens, building ``_ast`` nodes as it reduces.

    Loaded from derive's cache when it holds the built tables (see ``_grammar.cached_lark``).
    """
    return cached_lark("parser", _build_parser, transformer=_Builder())


def _source(tok: Token, text: str) -> str:
    if tok.start_pos is not None and tok.end_pos is not None and text:
        return text[tok.start_pos : tok.end_pos]
    return str(tok.value)


def parse_tokens(tokens: list[Token], text: str) -> A.Chain:
    """Classified tokens -> a :class:`~derive.latex._ast.Chain` (errors as ParseError)."""
    if not tokens:
        raise ParseError("empty formula; expected an expression", text=text, column=1)
    try:
        chain: A.Chain = parser().parse(tokens)  # type: ignore[assignment]
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            what, pos = "end of input", (tokens[-1].end_pos or 0)
        else:
            what, pos = f"'{_source(tok, text)}'", (tok.start_pos or 0)
        expected = describe_expected(set(exc.expected), tok.type)
        raise ParseError(f"unexpected {what}; expected {expected}", text=text, column=pos + 1) from None
    except VisitError as exc:  # a ParseError raised inside a builder callback
        if isinstance(exc.orig_exc, ParseError):
            raise exc.orig_exc from None
        raise ParseError(f"could not read the formula ({exc.orig_exc})", text=text) from None
    except UnexpectedInput as exc:  # pragma: no cover - the replay lexer never fails
        raise ParseError(f"could not read the formula ({exc})", text=text) from None
    if A.depth(chain) > MAX_TREE_DEPTH:
        raise ParseError(f"formula nested too deeply (more than {MAX_TREE_DEPTH} levels)", text=text)
    return chain


def parse(text: str) -> A.Chain:
    r"""Parse one formula (no rows, no annotations) into a syntax tree.

    >>> parse(r"\frac12 x").members[0]
    Mul(pos=0, end=9, factors=(Div(...), Name(pos=8, end=9, name='x')))
    """
    return parse_tokens(classify(raw_tokens(text), text), text)
