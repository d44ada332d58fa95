r"""Load ``grammar.lark``: its text, the raw-terminal lexer, and the replaying lexer.

The LALR(1) parser (built in ``_parse``) reads the token list produced by ``_lex.classify``
through :class:`Replay`, which just hands those tokens back to lark.

Building a parser's LALR tables takes ~0.1 s (both parsers); :func:`cached_lark` keeps lark's
own serialisation of the built parser (plain data: no transformer, no callables) in derive's
cache (:mod:`derive._cache`, keyed by derive's sources — the grammar included — and lark's
version), so a one-shot ``derive check`` loads them in ~10 ms instead.

>>> lexer() is lexer()
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import cache
from importlib.resources import files
from typing import Any

import lark.lark
from lark import Lark, Token
from lark.grammar import Rule
from lark.lexer import Lexer, TerminalDef

#: The options ``Lark.save`` leaves out (lark's own list, private to lark: read defensively).
_NOT_SAVED = frozenset(getattr(lark.lark, "_LOAD_ALLOWED_OPTIONS", ()))


def grammar_text() -> str:
    """The text of ``grammar.lark`` (shipped as package data)."""
    return files("derive.latex").joinpath("grammar.lark").read_text(encoding="utf-8")


class Replay(Lexer):
    """A lark lexer that hands back an already classified token list."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]  # lark calls lex(data)
        yield from data


def serialize(built: Lark) -> dict[str, Any]:
    """What ``Lark.save`` pickles (the tables, rules and terminals), as plain data."""
    data, memo = built.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in _NOT_SAVED}
    return {"data": data, "memo": memo}


def cached_lark(name: str, build: Callable[[], Lark], **load_options: Any) -> Lark:
    """``build()``, or the same parser loaded from derive's cache (``load_options``: the transformer).

    An entry that does not load (stale, foreign, corrupt) is ignored: the parser is built and the
    entry rewritten.
    """
    from derive import _cache

    entry = _cache.load(f"lark-{name}")
    if type(entry) is dict and set(entry) == {"data", "memo"}:
        try:
            return Lark._load_from_dict(entry["data"], entry["memo"], **load_options)
        except Exception:  # any failure to load means: build it
            pass
    built = build()
    with contextlib.suppress(Exception):  # a lark without this serialisation: no cache, same parser
        _cache.store(f"lark-{name}", serialize(built))
    return built


def _build_lexer() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="basic", start="raw_tokens")


@cache
def lexer() -> Lark:
    """The raw-terminal lexer (``Lark.lex``)."""
    return cached_lark("raw-lexer", _build_lexer)
