r"""Load ``grammar.lark`` once: a basic lexer for the raw terminals and an LALR(1) parser.

The parser reads the token list produced by ``_lex.classify`` through a replaying lexer, and
builds the syntax tree while it parses (``transformer=``), so no parse tree is kept and nothing
recurses: LALR is a loop over a stack, which is why deeply nested input cannot exhaust Python's
recursion limit here.

>>> parser() is parser()
True
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer
from lark.lexer import Lexer


def grammar_text() -> str:
    """The text of ``grammar.lark`` (shipped as package data)."""
    return files("derive.latex").joinpath("grammar.lark").read_text(encoding="utf-8")


class _Replay(Lexer):
    """A lark lexer that hands back an already classified token list."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]  # lark calls lex(data)
        yield from data


@cache
def lexer() -> Lark:
    """The raw-terminal lexer (``Lark.lex``)."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", start="raw_tokens")


_TRANSFORMER: list[Transformer] = []


def set_transformer(transformer: Transformer) -> None:
    """Register the tree builder (``_parse`` does this at import time)."""
    _TRANSFORMER[:] = [transformer]


@cache
def parser() -> Lark:
    """The LALR(1) parser over classified tokens, building ``_ast`` nodes as it reduces."""
    return Lark(
        grammar_text(), parser="lalr", lexer=_Replay, transformer=_TRANSFORMER[0] if _TRANSFORMER else None
    )
