r"""Load ``grammar.lark``: its text, the raw-terminal lexer, and the replaying lexer.

The LALR(1) parser (built in ``_parse``) reads the token list produced by ``_lex.classify``
through :class:`Replay`, which just hands those tokens back to lark.

>>> lexer() is lexer()
True
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token
from lark.lexer import Lexer


def grammar_text() -> str:
    """The text of ``grammar.lark`` (shipped as package data)."""
    return files("derive.latex").joinpath("grammar.lark").read_text(encoding="utf-8")


class Replay(Lexer):
    """A lark lexer that hands back an already classified token list."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]  # lark calls lex(data)
        yield from data


@cache
def lexer() -> Lark:
    """The raw-terminal lexer (``Lark.lex``)."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", start="raw_tokens")
