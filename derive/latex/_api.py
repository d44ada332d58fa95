r"""``parse_expression`` and ``parse_derivation``: LaTeX text in, SymPy out, ParseError otherwise.

The pipeline: ``_lex`` (tokens, rows, annotations) -> ``_parse`` (LALR, syntax tree) ->
``_rewrite`` (sum-extension rule, named quantities) -> ``_build`` (SymPy). Only
:class:`~derive.errors.ParseError` leaves these functions, whatever the input; limits are
:data:`MAX_LENGTH` characters, 100-digit literals, 100 nested brackets and 10 000-digit numbers.

An unknown quantity (``q(\ldots)``, ``\det``) as the *first* member of a chain, i.e. a left-hand
side that names something the problem did not declare, is skipped with a warning; anywhere
else it is an error.

>>> from derive.symbols import D, i, epsilon
>>> from derive.latex.notation import Notation
>>> n = Notation(scalars={"D": D}, indexed={r"\epsilon": epsilon}, index_ranges={"i": (i, 1, D)})
>>> parse_expression(r"\sum_i \varepsilon_i^2", n).expr
Sum(epsilon[i]**2, (i, 1, D))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from lark import Token

from derive.errors import ParseError
from derive.latex import _ast as A
from derive.latex._build import Builder, UnknownQuantity
from derive.latex._lex import Row, blank_prose, classify, raw_tokens, split_rows
from derive.latex._parse import parse, parse_tokens
from derive.latex._rewrite import extend_sums, normalise, replace_quantities
from derive.latex.notation import Notation

#: Longest input accepted, in characters.
MAX_LENGTH = 20_000


@dataclass(frozen=True)
class Parsed:
    """One formula: ``expr``; for ``LHS = RHS``, ``expr`` is the last member and ``lhs`` the first."""

    expr: sympy.Expr
    warnings: tuple[str, ...]
    lhs: sympy.Expr | None = None


@dataclass(frozen=True)
class Line:
    r"""One member of a relation chain, its prose annotation and its 1-based column in the text."""

    expr: sympy.Expr
    annotation: str
    column: int


@dataclass(frozen=True)
class Derivation:
    r"""The members of an ``a &= b \\ &= c`` chain, in order."""

    lines: tuple[Line, ...]
    warnings: tuple[str, ...]


@lru_cache(maxsize=512)
def _pattern(latex: str) -> A.Node:
    try:
        chain = parse(latex)
    except ParseError as exc:
        raise ParseError(f"named quantity {latex!r} does not parse: {exc}") from None
    if len(chain.members) != 1:
        raise ParseError(f"named quantity {latex!r} must not contain '='")
    return extend_sums(chain.members[0], latex, [])


def _read(
    text: str, notation: Notation
) -> tuple[list[tuple[sympy.Expr | None, A.Node]], list[Row], list[str]]:
    """(built member or None if skipped, its raw tree) for each chain member, the rows, warnings."""
    if not isinstance(text, str):
        raise ParseError(f"expected LaTeX text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"input too long ({len(text)} characters; the limit is {MAX_LENGTH})", text=text)
    rows = split_rows(raw_tokens(blank_prose(text)), text)
    tokens: list[Token] = []
    for row in rows:
        tokens += classify(row.tokens, text)
    chain = parse_tokens(tokens, text)
    warnings: list[str] = []
    patterns = [(normalise(_pattern(q.latex), notation.canonical), tuple(q.params)) for q in notation.named]
    checker = Builder(notation, text)

    def same_index(pattern: A.Node, node: A.Node) -> bool:
        try:
            return bool(sympy.expand(checker.build(pattern) - checker.build(node)) == 0)
        except ParseError:
            return False

    builder = Builder(notation, text)
    members: list[tuple[sympy.Expr | None, A.Node]] = []
    for k, raw in enumerate(chain.members):
        tree = replace_quantities(
            normalise(extend_sums(raw, text, warnings), notation.canonical), patterns, same_index
        )
        try:
            members.append((builder.build(tree), raw))
        except UnknownQuantity as exc:
            if k > 0 or len(chain.members) == 1:
                raise
            spelled = " ".join(text[raw.pos : raw.end].split())
            warnings.append(
                f"the left-hand side '{spelled}' is not a known quantity in this problem ({exc}); skipped"
            )
            members.append((None, raw))
    return members, rows, warnings + builder.warnings


def _guarded(
    text: str, notation: Notation
) -> tuple[list[tuple[sympy.Expr | None, A.Node]], list[Row], list[str]]:
    try:
        return _read(text, notation)
    except ParseError as exc:
        if type(exc) is ParseError:
            raise
        message = str(exc).rsplit(" at column", 1)[0]  # a private subclass: hand out the public type
        raise ParseError(message, text=exc.text, column=exc.column) from None
    except RecursionError:
        raise ParseError("formula nested too deeply", text=text) from None
    except Exception as exc:  # a safety net: nothing but ParseError may escape (see the fuzz tests)
        raise ParseError(f"could not read the formula ({type(exc).__name__}: {exc})", text=text) from None


def parse_expression(text: str, notation: Notation) -> Parsed:
    r"""Read one formula; ``LHS = RHS`` (or a longer ``=`` chain) gives ``lhs`` and ``expr``.

    >>> from derive.symbols import D, i, epsilon
    >>> n = Notation(scalars={"D": D}, indexed={r"\epsilon": epsilon}, index_ranges={"i": (i, 1, D)})
    >>> parse_expression(r"y = -\tfrac12 \epsilon_1^2", n)
    Parsed(expr=-epsilon[1]**2/2, warnings=("unknown symbol 'y' treated as a free variable",), lhs=y)
    """
    members, _, warnings = _guarded(text, notation)
    built = [expr for expr, _ in members]
    last = built[-1]
    assert last is not None
    return Parsed(last, tuple(warnings), built[0] if len(built) > 1 else None)


def parse_derivation(text: str, notation: Notation) -> Derivation:
    r"""Read an ``=`` chain written over rows (``\\``), e.g. an ``aligned`` environment.

    Each member becomes a :class:`Line`; the prose after the last member of a row (from its first
    ``\quad``, ``\qquad`` or ``\text{...}``) is that member's annotation.

    >>> from derive.symbols import D, i, epsilon
    >>> n = Notation(scalars={"D": D}, indexed={r"\epsilon": epsilon}, index_ranges={"i": (i, 1, D)})
    >>> d = parse_derivation(r"y &= 2\epsilon_1 - \epsilon_1 \\ &= \epsilon_1 \quad \text{collect}", n)
    >>> [(line.expr, line.annotation, line.column) for line in d.lines]
    [(y, '', 1), (epsilon[1], '', 6), (epsilon[1], 'collect', 37)]
    """
    members, rows, warnings = _guarded(text, notation)
    starts = [row.pos for row in rows]
    last_in_row: dict[int, int] = {}
    for k, (_, raw) in enumerate(members):
        last_in_row[max(r for r, start in enumerate(starts) if start <= raw.pos)] = k
    notes = {k: rows[r].annotation for r, k in last_in_row.items()}
    lines = tuple(
        Line(expr, notes.get(k, ""), raw.pos + 1) for k, (expr, raw) in enumerate(members) if expr is not None
    )
    return Derivation(lines, tuple(warnings))
