"""derive.latex under hostile input: only ParseError (or a result) may come out, quickly."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.errors import ParseError
from derive.latex import NamedQuantity, Notation, parse_derivation, parse_expression
from derive.symbols import D, T, epsilon, i, mu, sigma, t, z

NOTATION = Notation(
    scalars={"D": D, "T": T},
    indexed={r"\sigma": sigma, r"\epsilon": epsilon, r"\mu": mu, "z": z},
    index_ranges={"i": (i, 1, D), "t": (t, 0, T)},
    named=(
        NamedQuantity(r"\log q(\mathbf{z}_0|\mathbf{x})", sp.Sum(-sp.log(sigma[0, i]), (i, 1, D))),
        NamedQuantity(
            r"\log\det\left|\frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}}\right|",
            sp.Sum(sp.log(sigma[t, i]), (i, 1, D)),
            ("t",),
        ),
    ),
    arity={r"\sigma": 2},
)

#: Pieces of the LaTeX people write, plus the punctuation that breaks it.
PIECES = [
    *str.split(r"""
    \frac \tfrac \sqrt \sum \prod \log \ln \exp \det \left( \right) \left| \right| \left[ \right] \Big( \bigr)
    \mathbf \tilde \text{hi} \quad \, \cdot \times \pi \sigma \epsilon \varepsilon \mu \alpha \foo \approx
    \\ \begin{aligned} \end{aligned} \dots \partial \infty { } ( ) [ ] | ^ _ = + - * / , & $ . ! '
    x i t D T q e d 0 1 2 10 0.5 99999
    """),
    " ",
]


def _check(text: str) -> None:
    for reader in (parse_expression, parse_derivation):
        try:
            reader(text, NOTATION)
        except ParseError as exc:
            assert exc.column is None or 1 <= exc.column <= len(text) + 1
            # the safety net in _api must not be what caught it: that would be a bug in the reader
            assert "could not read the formula" not in str(exc), str(exc)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text(text: str) -> None:
    _check(text)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_token_soup(text: str) -> None:
    _check(text)


@settings(max_examples=100, deadline=2000)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join), st.integers(1, 400))
def test_repeated_soup(chunk: str, times: int) -> None:
    _check(chunk * times)


ATOMS = ["x", "i", "t", "D", "T", "e", "0", "1", "2", "0.5", "10", r"\pi", r"\sigma_{t,i}", r"\epsilon_i"]
ATOMS += [r"\mu_{0,i}", "z_{T,1}", r"\infty", r"\alpha", "c_i", r"\sigma_{t-1,i}"]
TEMPLATES = [
    "{} + {}", "{} - {}", "-{}", "{} {}", r"\frac{{{}}}{{{}}}", r"\sqrt{{{}}}", r"\sqrt[{}]{{{}}}",
    "({})^{{{}}}", r"\log({})", r"\log_{{{}}} {}", "e^{{{}}}", r"\left|{}\right|", r"\sum_{{i={}}}^{{{}}} {}",
    r"\prod_t {}", r"\exp({}) \cdot {}", "{} / {}",
]  # fmt: skip


def _fill(template: str, parts: list[str]) -> str:
    return template.format(*(parts * 3)[: template.count("{}")])


#: Well-formed formulas built from the grammar's constructs, nested at random.
FORMULAS = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.builds(_fill, st.sampled_from(TEMPLATES), st.lists(inner, min_size=3, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULAS)
def test_well_formed_formulas_build_or_are_refused_cleanly(text: str) -> None:
    _check(text)


NASTY = [
    "(" * 5000,
    "(" * 5000 + ")" * 5000,
    "{" * 3000 + "}" * 3000,
    "|" * 5000,
    "-" * 10_000 + "x",
    r"\log" * 3000 + " x",
    r"\sum_i" * 2000 + " x",
    "x^{" * 2000 + "2" + "}" * 2000,
    r"\frac{" * 1000 + "1" + "}{2}" * 1000,
    "1+" * 9999 + "1",
    "x " * 9999,
    r"\sqrt" * 3000 + "2",
    r"9^{9^{9^{9}}}",
    r"(10^{99})^{(10^{99})}",
    r"e^{10^{99} \log 10}",
    r"\exp(10^{10} \log(10^{10}))",
    r"\sqrt[10^{99}]{2}",
    r"\prod_{i=1}^{10^{99}} 2",
    "9" * 100 + "." + "9" * 10,
    r"\sigma_{" + "i," * 3000 + "i}",
    "(a|" * 3000,
]


@pytest.mark.parametrize("text", NASTY, ids=[f"{t[:24]}..{len(t)}" for t in NASTY])
def test_hostile_input_is_refused_or_read_quickly(text: str) -> None:
    _check(text)  # how fast: scripts/bench_latency.py
