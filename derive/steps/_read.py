r"""Find the derivation in a ``.tex``/``.md`` file: display blocks, chains, members and their reasons.

A file holds display blocks (``$$…$$``, ``\[…\]``, ``\begin{equation}``, ``\begin{align}``/``align*``,
a bare ``\begin{aligned}``); prose between them is ignored. Each block is an ``=`` chain
(:func:`derive.latex.parse_derivation`); a block whose text starts with ``=`` continues the
previous block's chain (the problem set writes eq. (3) that way). Equation labels are dropped:
``\tag{}``, ``\label{}``, ``\nonumber`` and an annotation that is only ``(1)``. A ``% comment``
on a member's line is its justification when it has no other.

>>> [b.text.strip() for b in displays(r"so $$a = b$$ and \[ = c \]")]
['a = b', '= c']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from derive.errors import ParseError
from derive.latex import parse_derivation, parse_expression
from derive.latex.notation import Notation

__all__ = ["Chain", "Display", "Member", "displays", "read_chains"]

_ENV = r"(?:equation|align|gather|multline|displaymath)\*?"
_BLOCK = re.compile(
    rf"\$\$(?P<a>.*?)\$\$|\\\[(?P<b>.*?)\\\]|\\begin\{{(?P<env>{_ENV})\}}(?P<c>.*?)\\end\{{(?P=env)\}}",
    re.DOTALL,
)
_BARE_ALIGNED = re.compile(r"\\begin\{aligned\}.*?(?:\\end\{aligned\}|$)", re.DOTALL)
_LABELS = re.compile(r"\\(?:tag|label)\*?\s*\{[^{}]*\}|\\(?:nonumber|notag)(?![a-zA-Z])")
_NUMBER_LABEL = re.compile(r"^\(\s*[0-9]+[a-z]?\s*\)$")


@dataclass(frozen=True)
class Display:
    """One display block: its inner text (labels blanked, offsets kept) and where it starts."""

    text: str
    start: int


@dataclass(frozen=True)
class Member:
    r"""One member :math:`E_k` of a chain: its SymPy value, LaTeX source, reason, line and warnings."""

    expr: sp.Expr
    latex: str
    justification: str
    line: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chain:
    """The members of one ``=`` chain, or the parse error that stopped it."""

    members: tuple[Member, ...]
    error: ParseError | None = None
    error_line: int | None = None
    error_source: str = ""
    skipped: str = ""


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def displays(text: str) -> list[Display]:
    r"""The display blocks of ``text`` in order; text with no display at all is one block."""
    found: list[Display] = []
    covered: list[tuple[int, int]] = []
    for m in _BLOCK.finditer(text):
        group = next(g for g in ("a", "b", "c") if m.group(g) is not None)
        found.append(Display(_LABELS.sub(_blank, m.group(group)), m.start(group)))
        covered.append((m.start(), m.end()))
    for m in _BARE_ALIGNED.finditer(text):
        if not any(a <= m.start() < b for a, b in covered):
            found.append(Display(_LABELS.sub(_blank, m.group(0)), m.start()))
    if not found and "$" not in text:
        found.append(Display(_LABELS.sub(_blank, text), 0))
    return sorted(found, key=lambda d: d.start)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


_ANNOTATION = re.compile(r"&&|\\q?quad(?![a-zA-Z])|\\(?:l|c)?dots\s*\\text|\\text\w*\s*\{|\\mbox\s*\{")


def _source(block: str, start: int, end: int) -> str:
    r"""The LaTeX of one member: from its start to the next member, minus ``=``, ``&``, ``\\`` and prose."""
    piece = re.sub(r"%[^\n]*", " ", block[start:end])
    cut = _ANNOTATION.search(piece)
    if cut:
        piece = piece[: cut.start()]
    piece = re.sub(r"\\begin\{[a-z*]+\}|\\end\{[a-z*]+\}", " ", piece)
    piece = piece.strip()
    while True:
        stripped = re.sub(r"(?:\\\\|&|=|\s)+$", "", piece)
        stripped = re.sub(r"^(?:&|=|\s)+", "", stripped)
        if stripped == piece:
            return " ".join(piece.split())
        piece = stripped


def _comment(block: str, start: int, end: int) -> str:
    found = re.findall(r"(?<!\\)%\s*([^\n]*)", block[start:end])
    return " ".join(" ".join(found).split())


def _own_warnings(
    block: str, start: int, end: int, notation: Notation, fallback: tuple[str, ...]
) -> tuple[str, ...]:
    """The reading warnings of one member alone (the block's, for the first member, if it does not parse alone)."""
    try:
        return parse_expression(_source(block, start, end), notation).warnings
    except ParseError:
        return fallback


def _continues(text: str) -> int:
    """Offset just past a leading ``=`` (after ``&`` and spaces), or -1 if the block does not start so."""
    m = re.match(r"(?:\s|&|\\begin\{aligned\})*=", text)
    return m.end() if m else -1


_NEW_ROW = re.compile(r"\s*&\s*=")


def _rows(block: str) -> list[tuple[int, int]]:
    r"""``(start, end)`` of each top-level row of a block (cut at ``\\`` outside braces)."""
    out, depth, start, k = [], 0, 0, 0
    while k < len(block):
        c = block[k]
        if c == "\\" and block.startswith("\\\\", k) and (depth == 0 or _NEW_ROW.match(block, k + 2)):
            out.append((start, k))
            start, k, depth = k + 2, k + 2, 0
            continue
        if c == "\\":
            k += 2
            continue
        depth += (c == "{") - (c == "}")
        k += 1
    out.append((start, len(block)))
    return [(a, b) for a, b in out if block[a:b].strip()]


_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[a-zA-Z*]+\}")


def _members(body: str, text: str, start_offset: int, notation: Notation) -> list[Member]:
    """The members of one parsed chain (``body`` keeps the display's offsets)."""
    derivation = parse_derivation(body, notation)
    lines = derivation.lines
    members: list[Member] = []
    for k, line in enumerate(lines):
        start = line.column - 1
        end = lines[k + 1].column - 1 if k + 1 < len(lines) else len(body)
        note = line.annotation
        if _NUMBER_LABEL.match(note or ""):
            note = ""
        note = note or _comment(body, start, end)
        members.append(
            Member(
                line.expr,
                _source(body, start, end),
                note,
                _line_of(text, start_offset + start),
                _own_warnings(body, start, end, notation, derivation.warnings if k == 0 else ()),
            )
        )
    return members


def _error_chain(err: ParseError, block: str, text: str, start_offset: int, source: str) -> Chain:
    column = (err.column or 1) - 1
    return Chain((), err, _line_of(text, start_offset + column), " ".join(source.split())[:200])


def _row_by_row(block: str, text: str, start_offset: int, notation: Notation) -> list[Chain]:
    """A block that does not parse as a whole, read one row at a time: a broken row breaks the
    chain there (a parse-error step) and the rows after it are still checked."""
    pieces: list[Chain] = []
    for a, b in _rows(block):
        row = _ENVIRONMENT.sub(lambda m: " " * len(m.group(0)), block[a:b])
        masked = " " * a + row + " " * (len(block) - b)
        cont = _continues(masked)
        body = masked if cont < 0 else " " * cont + masked[cont:]
        try:
            members = _members(body, text, start_offset, notation)
        except ParseError as err:
            pieces.append(_error_chain(err, block, text, start_offset, row))
            continue
        if cont >= 0 and pieces and pieces[-1].members:
            pieces[-1] = Chain(pieces[-1].members + tuple(members))
        else:
            pieces.append(Chain(tuple(members)))
    return pieces


def read_chains(text: str, notation: Notation) -> list[Chain]:
    r"""Parse every display of ``text`` into chains of :class:`Member` s (continuations merged).

    A block that fails as a whole is read row by row, so one broken row costs its own steps only.
    """
    chains: list[Chain] = []
    for display in displays(text):
        block = display.text
        cont = _continues(block)
        body = block if cont < 0 else " " * cont + block[cont:]
        if not body.strip():
            continue
        try:
            members = _members(body, text, display.start, notation)
        except ParseError as err:
            if "only '=' chains are supported" in str(err):  # a definition such as y \mapsto ...: not a step
                at = _line_of(text, display.start + (err.column or 1) - 1)
                chains.append(Chain((), skipped=f"line {at}: a display that is not an '=' chain was skipped"))
            elif len(_rows(block)) > 1:
                pieces = _row_by_row(block, text, display.start, notation)
                if cont >= 0 and chains and chains[-1].members and pieces and pieces[0].members:
                    chains[-1] = Chain(chains[-1].members + pieces[0].members)
                    pieces = pieces[1:]
                chains += pieces
            else:
                chains.append(_error_chain(err, block, text, display.start, block))
            continue
        if cont >= 0 and chains and chains[-1].members:
            chains[-1] = Chain(chains[-1].members + tuple(members))
        else:
            chains.append(Chain(tuple(members)))
    return chains
