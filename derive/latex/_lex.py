r"""The token layer: raw lark tokens in, the grammar's parser terminals out.

LaTeX's lexical rules are mostly tables (which commands are Greek letters, functions, fonts,
spacing...), so they live here as plain tuples and dicts rather than as one regex per command in
``grammar.lark``. The pass, in order:

1. ``raw_tokens``: lark's basic lexer on the raw terminals of ``grammar.lark``.
2. ``split_rows``: math delimiters (``$``, ``$$``, ``\[``, ``\begin{aligned}`` ...) and ``&`` are
   dropped; rows are cut at ``\\``; a row's *annotation* starts at its first top-level ``\quad``,
   ``\qquad`` or ``\text{...}``.
3. ``classify``: commands become terminals (``\frac`` -> FRAC, ``\ln`` -> FUNC ``\log`` ...);
   ``\left``/``\right``/``\big`` and spacing disappear; ``\mathbf{z}`` and ``\tilde\sigma`` fold
   into one NAME; every ``|`` becomes ABS_OPEN, ABS_CLOSE or GIVEN (the conditional bar in
   ``q(z|x)``); ``\frac12`` and ``x^23`` are split into single-character arguments.

>>> [(tok.type, tok.value) for tok in classify(raw_tokens(r"\left|\mathbf{z}\right|^2"), "")]
[('ABS_OPEN', '|'), ('NAME', 'z'), ('ABS_CLOSE', '|'), ('SUP', '^'), ('NUMBER', '2')]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lark import Token

from derive.errors import ParseError
from derive.latex._grammar import lexer


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GREEK = _words(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell infty "
    "partial"
)
#: Built-in spellings folded onto one canonical command (the notation can add more).
BUILTIN_ALIASES = {
    "varepsilon": "epsilon",
    "vartheta": "theta",
    "varphi": "phi",
    "varrho": "rho",
    "varsigma": "sigma",
    "varpi": "pi",
    "ln": "log",
    "lbrace": "{",
    "rbrace": "}",
    "tfrac": "frac",
    "dfrac": "frac",
    "cfrac": "frac",
    "widetilde": "tilde",
    "widehat": "hat",
    "overline": "bar",
}
FUNCTIONS = ("log", "exp", "det", "sin", "cos", "tan", "sinh", "cosh", "tanh")
BIG_OPERATORS = ("sum", "prod")
MULTIPLY = ("cdot", "times", "ast")
FONTS = (
    "mathbf",
    "boldsymbol",
    "bm",
    "mathrm",
    "mathit",
    "mathsf",
    "mathcal",
    "mathbb",
    "vec",
    "mathnormal",
    "operatorname",
)
#: Upright fonts: ``\mathrm{log}`` / ``\operatorname{ln}`` name a function, never a product of letters.
UPRIGHT = ("mathrm", "operatorname", "mathsf")
ACCENTS = ("tilde", "hat", "bar")
SIZES = (
    *(f"{size}{side}" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")),
    "left",
    "right",
    "middle",
)
IGNORED = _words(
    "quad qquad dots ldots cdots displaystyle textstyle scriptstyle limits nolimits nonumber notag"
)
#: Commands whose braced argument is dropped with them (equation labels).
LABELS = ("tag", "label")
RELATIONS = _words(
    "approx le leq leqslant ge geq geqslant lt gt ne neq sim simeq cong propto equiv ll gg to "
    "mapsto rightarrow Rightarrow implies iff Leftrightarrow"
)
ANNOTATION_STARTS = (r"\quad", r"\qquad")
ENVIRONMENTS = ("aligned", "align", "align*", "equation", "equation*", "gathered", "split", "alignat")

_CHARS = {
    "+": "PLUS",
    "-": "MINUS",
    "*": "MULOP",
    "/": "SLASH",
    "=": "EQ",
    "^": "SUP",
    "_": "SUB",
    "{": "LBRACE",
    "}": "RBRACE",
    "(": "LPAR",
    ")": "RPAR",
    "[": "LBRACK",
    "]": "RBRACK",
    ",": "COMMA",
}
_OPENERS = {"LPAR": "RPAR", "LBRACK": "RBRACK", "LSET": "RSET", "LBRACE": "RBRACE", "ABS_OPEN": "ABS_CLOSE"}
_ENDS_OPERAND = {"NUMBER", "NAME", "RPAR", "RBRACK", "RSET", "RBRACE", "ABS_CLOSE"}
#: Nesting limit for brackets, braces and absolute values (the AST builder recurses).
MAX_DEPTH = 100


def _error(message: str, text: str, pos: int) -> ParseError:
    return ParseError(message, text=text, column=pos + 1)


_MATH = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\[.*?\\\]|\\\(.*?\\\)", re.DOTALL)


def blank_prose(text: str) -> str:
    r"""Blank out (keeping offsets) the prose around ``$...$``, ``$$...$$``, ``\[...\]``, ``\(...\)``.

    >>> blank_prose(r"so $x = 1$.")
    '   $x = 1$ '
    """
    segments = list(_MATH.finditer(text))
    if not segments:
        return text
    out = ["\n" if char == "\n" else " " for char in text]
    for segment in segments:
        out[segment.start() : segment.end()] = text[segment.start() : segment.end()]
    return "".join(out)


def raw_tokens(text: str) -> list[Token]:
    """Cut ``text`` into raw tokens (whitespace and ``%`` comments dropped)."""
    from lark.exceptions import UnexpectedCharacters

    try:
        return list(lexer().lex(text))
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else "?"
        raise _error(f"unexpected character {char!r}", text, pos) from None


@dataclass(frozen=True)
class Row:
    """One row of a display: its expression tokens, its prose annotation and where it starts."""

    tokens: tuple[Token, ...]
    annotation: str
    pos: int


def _is_row_break(tok: Token) -> bool:
    return tok.type == "RAW_ESC" and tok.value == "\\\\"


def _clean_annotation(source: str) -> str:
    source = re.sub(r"\\(?:text\w*|mbox)\s*\{([^{}]*)\}", r"\1", source)
    source = re.sub(r"\\(?:quad|qquad|dots|ldots|cdots)(?![a-zA-Z])|\\[,;:! ]|~|&", " ", source)
    return " ".join(source.split())


def split_rows(tokens: list[Token], text: str) -> list[Row]:
    r"""Drop math delimiters and ``&``, cut rows at ``\\``, split off each row's annotation.

    A row's annotation (its stated reason) starts at its first top-level ``\quad``, ``\qquad``,
    ``\text{}``, ``&&`` or ``\dots\text{}``. Equation labels (``\tag{}``, ``\label{}``) are
    dropped. An ``&`` inside braces, ``\left...\right`` or parentheses opened on its row, and a
    ``\begin`` without its ``\end`` (or the reverse), are errors with the column.

    >>> text = r"a &= b && by (2) \\ &= c \tag{3}"
    >>> [row.annotation for row in split_rows(raw_tokens(text), text)]
    ['by (2)', '']
    """
    rows: list[Row] = []
    current: list[Token] = []
    annotation_at: int | None = None
    depth = 0  # braces
    delimited = 0  # \left ... \right pairs
    parens = 0  # ( and [ opened on this row
    environments: list[tuple[str, int]] = []
    skip_group = 0  # inside the braced argument of \tag / \label

    def close_row(end: int) -> None:
        nonlocal current, annotation_at, parens
        note = _clean_annotation(text[annotation_at:end]) if annotation_at is not None else ""
        if current:
            rows.append(Row(tuple(current), note, current[0].start_pos or 0))
        current, annotation_at, parens = [], None, 0

    for k, tok in enumerate(tokens):
        value, start = str(tok.value), tok.start_pos or 0
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if skip_group:
            skip_group += (value == "{") - (value == "}")
            if value == "}" and skip_group == 1:
                skip_group = 0
            continue
        if tok.type == "RAW_CMD" and value[1:] in LABELS:
            if nxt is not None and str(nxt.value) == "{":
                skip_group = 1
                tokens[k + 1] = Token.new_borrow_pos("RAW_CHAR", " ", nxt)  # consumed here
            continue
        if tok.type in ("RAW_BEGIN", "RAW_END"):
            env = value[value.index("{") + 1 : -1]
            if env not in ENVIRONMENTS:
                raise _error(f"unsupported environment '{env}'", text, start)
            if tok.type == "RAW_BEGIN":
                environments.append((env, start))
            elif not environments:
                raise _error(f"\\end{{{env}}} without a \\begin{{{env}}}", text, start)
            else:
                opened, at = environments.pop()
                if opened != env:
                    raise _error(f"\\begin{{{opened}}} is closed by \\end{{{env}}}", text, at)
            close_row(start)
            continue
        if value == "&" and annotation_at is None:
            if depth > 0 or delimited > 0:
                raise _error(
                    "'&' (an alignment point) cannot stand inside a group or a \\left...\\right pair",
                    text,
                    start,
                )
            if parens > 0:
                raise _error("'&' (an alignment point) cannot stand inside parentheses", text, start)
            if nxt is not None and str(nxt.value) == "&" and current:
                annotation_at = start
                continue
        if tok.type == "RAW_DOLLARS" or value in ("$", "&", r"\[", r"\]", r"\(", r"\)"):
            if value != "&":
                close_row(start)
            continue
        if _is_row_break(tok) and depth == 0:
            close_row(start)
            continue
        if annotation_at is not None:
            continue
        starts_note = value in ANNOTATION_STARTS or tok.type == "RAW_TEXT"
        starts_note = starts_note or (
            value in (r"\dots", r"\ldots", r"\cdots") and nxt is not None and nxt.type == "RAW_TEXT"
        )
        if depth == 0 and starts_note and current:
            annotation_at = start
            continue
        depth += value == "{"
        depth -= value == "}" and depth > 0
        delimited += value == r"\left"
        delimited -= value == r"\right" and delimited > 0
        parens += value in ("(", "[")
        parens -= value in (")", "]") and parens > 0
        current.append(tok)
    if environments:
        env, at = environments[-1]
        raise _error(f"\\begin{{{env}}} has no \\end{{{env}}}", text, at)
    close_row(len(text))
    return rows


def _command(tok: Token, text: str) -> tuple[str, str]:
    """(terminal type, canonical value) of a raw ``\\command``; '' type means: drop it."""
    name = str(tok.value)[1:]
    name = BUILTIN_ALIASES.get(name, name)
    if name in GREEK:
        return "NAME", "\\" + name
    if name in FUNCTIONS:
        return "FUNC", "\\" + name
    if name in BIG_OPERATORS:
        return "BIGOP", "\\" + name
    if name in MULTIPLY:
        return "MULOP", "\\" + name
    if name == "frac":
        return "FRAC", r"\frac"
    if name == "sqrt":
        return "SQRT", r"\sqrt"
    if name in IGNORED or name in SIZES:
        return "", name
    if name in ("lvert", "rvert", "vert", "mid"):
        return {"lvert": "ABS_OPEN", "rvert": "ABS_CLOSE", "vert": "BAR", "mid": "GIVEN"}[name], "|"
    if name in ("{", "}"):
        return ("LSET" if name == "{" else "RSET"), name
    if name in FONTS or name in ACCENTS:
        return "MODIFIER", name
    if name in ("top", "intercal", "prime"):  # u^\top, h^\prime: letters of named quantities (planar-logdet)
        return "NAME", "\\" + ("prime" if name == "prime" else "top")
    if name in RELATIONS:
        raise _error(f"unexpected '\\{name}': only '=' chains are supported", text, tok.start_pos or 0)
    raise _error(f"unknown command '\\{name}'", text, tok.start_pos or 0)


_UNICODE = {
    "\u00b7": ("MULOP", r"\cdot"),
    "\u00d7": ("MULOP", r"\times"),
    "\u2212": ("MINUS", "-"),
    "\u2211": ("BIGOP", r"\sum"),
    "\u220f": ("BIGOP", r"\prod"),
    "\u221a": ("SQRT", r"\sqrt"),
    "\u221e": ("NAME", r"\infty"),
}


def _greek(char: str) -> str:
    r"""The command name of a Unicode Greek letter: 'σ' -> 'sigma', 'Σ' -> 'Sigma', 'ϵ' -> 'epsilon'."""
    words = unicodedata.name(char, "?").split()
    if words[-1] == "SYMBOL":  # GREEK LUNATE EPSILON SYMBOL, GREEK PHI SYMBOL
        words = words[:-1]
    name = words[-1].lower()
    if "CAPITAL" in words:
        name = name.capitalize()
    return {"final": "varsigma", "lamda": "lambda", "Lamda": "Lambda"}.get(name, name)


def _retype(tok: Token, kind: str, value: str | None = None) -> Token:
    return Token.new_borrow_pos(kind, tok.value if value is None else value, tok)


def _first_pass(tokens: tuple[Token, ...], text: str) -> list[Token]:
    """Classify every raw token; \\left/\\right/sizes decide the side of a following '|'."""
    out: list[Token] = []
    side = ""
    for tok in tokens:
        value = str(tok.value)
        if tok.type == "RAW_TEXT" or (tok.type == "RAW_ESC" and value in ("\\,", "\\;", "\\:", "\\!", "\\ ")):
            continue
        if tok.type == "RAW_CMD":
            kind, canon = _command(tok, text)
            if kind == "" and canon in SIZES:
                side = {"left": "ABS_OPEN", "l": "ABS_OPEN", "right": "ABS_CLOSE", "r": "ABS_CLOSE"}.get(
                    canon if canon in ("left", "right") else canon[-1], ""
                )
                continue
            if kind == "":
                continue
        elif tok.type == "RAW_ESC":
            if value in ("\\{", "\\}"):
                kind, canon = ("LSET" if value == "\\{" else "RSET"), value[1]
            elif value == "\\|":
                raise _error("unexpected '\\|': norms are not supported", text, tok.start_pos or 0)
            else:
                raise _error(f"unexpected {value!r}", text, tok.start_pos or 0)
        elif tok.type == "RAW_NUMBER":
            kind, canon = "NUMBER", value
        elif tok.type == "RAW_LETTER":
            kind, canon = "NAME", value
        elif tok.type == "RAW_UNICODE":
            if value in "\u2264\u2265\u2248\u2260":
                raise _error(f"unexpected '{value}': only '=' chains are supported", text, tok.start_pos or 0)
            kind, canon = _UNICODE.get(value) or _command(_retype(tok, "RAW_CMD", "\\" + _greek(value)), text)
        elif value == "|":
            kind, canon = (side or "BAR"), "|"
        elif value == "~" or (value == "." and side):
            side = ""
            continue
        elif value == ".":
            kind, canon = "DOT", value
        elif value in _CHARS:
            kind, canon = _CHARS[value], value
        elif value in "<>":
            raise _error(f"unexpected '{value}': only '=' chains are supported", text, tok.start_pos or 0)
        elif value == "'" and out and out[-1].type == "NAME" and not side:  # h' is one name (a derivative)
            out[-1] = _retype(out[-1], "NAME", str(out[-1].value) + "'")
            continue
        else:
            raise _error(f"unexpected {value!r}", text, tok.start_pos or 0)
        side = ""
        out.append(_retype(tok, kind, canon))
    while out and out[-1].type in ("COMMA", "DOT"):  # sentence punctuation after a formula
        out.pop()
    for tok in out:
        if tok.type == "DOT":
            raise _error("unexpected '.'", text, tok.start_pos or 0)
    return out


def _upright_word(tokens: list[Token], k: int) -> tuple[str, int] | None:
    r"""``\mathrm{log}``: the letters of a braced group of two or more single letters, and the index after it."""
    if k + 1 >= len(tokens) or tokens[k + 1].type != "LBRACE":
        return None
    letters: list[str] = []
    j = k + 2
    while j < len(tokens) and tokens[j].type == "NAME" and len(str(tokens[j].value)) == 1:
        letters.append(str(tokens[j].value))
        j += 1
    if len(letters) < 2 or j >= len(tokens) or tokens[j].type != "RBRACE":
        return None
    return "".join(letters), j + 1


def _fold_modifiers(tokens: list[Token], text: str) -> list[Token]:
    r"""``\mathbf{z}`` -> ``z``, ``\tilde\sigma`` / ``\tilde{\sigma}`` -> NAME ``\tilde{\sigma}``."""
    out: list[Token] = []
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        if tok.type != "MODIFIER":
            out.append(tok)
            k += 1
            continue
        word = _upright_word(tokens, k) if tok.value in UPRIGHT else None
        if word is not None:
            name, k = word
            canon = BUILTIN_ALIASES.get(name, name)
            if canon not in FUNCTIONS:
                raise _error(
                    f"unknown function '\\{tok.value}{{{name}}}' (a multi-letter upright name must be a "
                    f"known function: {', '.join(FUNCTIONS)})",
                    text,
                    tok.start_pos or 0,
                )
            out.append(_retype(tok, "FUNC", "\\" + canon))
            continue
        nxt = tokens[k + 1 : k + 4]
        if len(nxt) >= 3 and nxt[0].type == "LBRACE" and nxt[2].type == "RBRACE" and nxt[1].type == "NAME":
            target, k = nxt[1], k + 4
        elif nxt and nxt[0].type == "NAME":
            target, k = nxt[0], k + 2
        elif tok.value in FONTS:  # \mathbf{2x}: keep the braced group, drop the font
            k += 1
            continue
        else:
            raise _error(f"\\{tok.value} must be applied to a single symbol", text, tok.start_pos or 0)
        value = str(target.value) if tok.value in FONTS else f"\\{tok.value}{{{target.value}}}"
        out.append(_retype(tok, "NAME", value))
    return out


def _matches(tokens: list[Token]) -> dict[int, int]:
    """Index of each opening brace/bracket -> index of its closing partner (bars ignored)."""
    pairs = {"LBRACE": "RBRACE", "LBRACK": "RBRACK", "LPAR": "RPAR", "LSET": "RSET"}
    stack: list[int] = []
    found: dict[int, int] = {}
    for k, tok in enumerate(tokens):
        if tok.type in pairs:
            stack.append(k)
        elif stack and tok.type == pairs[tokens[stack[-1]].type]:
            found[stack.pop()] = k
    return found


def _split_digits(tokens: list[Token]) -> list[Token]:
    r"""A multi-digit number in a one-token argument slot keeps one digit: ``\frac12``, ``x^23``."""
    match = _matches(tokens)
    split: set[int] = set()

    def arg_end(k: int) -> int:  # index after the argument starting at k (marks it if a number)
        if k < len(tokens) and tokens[k].type == "NUMBER":
            split.add(k)
        return match.get(k, k) + 1

    for k, tok in enumerate(tokens):
        if tok.type in ("SUP", "SUB"):
            arg_end(k + 1)
        elif tok.type == "FRAC":
            arg_end(arg_end(k + 1))
        elif tok.type == "SQRT":
            start = k + 1
            if start < len(tokens) and tokens[start].type == "LBRACK":
                start = match.get(start, start) + 1
            arg_end(start)
    out: list[Token] = []
    for k, tok in enumerate(tokens):
        value = str(tok.value)
        if k in split and len(value) > 1:
            head = _retype(tok, "NUMBER", value[0])
            head.end_pos = (tok.start_pos or 0) + 1
            tail = _retype(tok, "NUMBER", value[1:])
            tail.start_pos = (tok.start_pos or 0) + 1
            out += [head, tail]
        else:
            out.append(tok)
    return out


def _classify_bars(tokens: list[Token], text: str) -> list[Token]:
    """Decide for each plain '|' whether it opens or closes an absolute value or is a 'given' bar."""
    match = _matches(tokens)
    bars_before = [0]
    for tok in tokens:
        bars_before.append(bars_before[-1] + (tok.type == "BAR"))
    stack: list[int] = []
    out: list[Token] = []
    for k, tok in enumerate(tokens):
        kind = tok.type
        ends = bool(out) and out[-1].type in _ENDS_OPERAND
        if kind == "BAR":
            top = tokens[stack[-1]].type if stack else ""
            if out and top in ("ABS_OPEN", "BAR") and ends:
                kind = "ABS_CLOSE"
            elif (
                ends
                and top == "LPAR"
                and bars_before[match.get(stack[-1], len(tokens))] == bars_before[k + 1]
            ):
                kind = "GIVEN"
            else:
                kind = "ABS_OPEN"
        if kind in _OPENERS:
            stack.append(k)
            if len(stack) > MAX_DEPTH:
                raise _error(f"too deeply nested (more than {MAX_DEPTH} levels)", text, tok.start_pos or 0)
        elif kind in _OPENERS.values() and stack:
            stack.pop()
        out.append(tok if kind == tok.type else _retype(tok, kind))
    return out


def classify(tokens: tuple[Token, ...] | list[Token], text: str) -> list[Token]:
    """Raw tokens of one expression -> the parser terminals of ``grammar.lark``."""
    return _classify_bars(_split_digits(_fold_modifiers(_first_pass(tuple(tokens), text), text)), text)
