r"""Reading a derivation file: display blocks, continued chains, justifications, labels, prose."""

from __future__ import annotations

import pytest

from derive.problems import get_problem
from derive.steps._read import displays, read_chains

NOTATION = get_problem("iaf-logq").notation


@pytest.mark.parametrize(
    ("text", "blocks"),
    [
        (r"prose $$a = b$$ more prose", ["a = b"]),
        (r"\[a = b\] and \[= c\]", ["a = b", "= c"]),
        (r"\begin{equation} a = b \end{equation}", ["a = b"]),
        (r"\begin{align*} a &= b \\ &= c \end{align*}", [r"a &= b \\ &= c"]),
        (r"\begin{aligned} a &= b \end{aligned}", [r"\begin{aligned} a &= b \end{aligned}"]),
        (r"a = b", ["a = b"]),
        (r"only $x$ inline maths", []),
    ],
    ids=[
        "dollars",
        "brackets-continued",
        "equation",
        "align-star",
        "bare-aligned",
        "no-delimiters",
        "inline-only",
    ],
)
def test_display_blocks_are_found(text: str, blocks: list[str]) -> None:
    assert [" ".join(d.text.split()) for d in displays(text)] == blocks


def test_labels_and_tags_are_blanked_keeping_offsets() -> None:
    (block,) = displays(r"$$a = b \tag{3} \label{eq:x}$$")
    assert block.text.strip() == "a = b" and len(block.text) == len(r"a = b \tag{3} \label{eq:x}")


def test_a_display_starting_with_equals_continues_the_chain() -> None:
    text = r"$$\epsilon_1 = 2\epsilon_1 - \epsilon_1$$ so $$= \epsilon_1$$"
    (chain,) = read_chains(text, NOTATION)
    assert len(chain.members) == 3


@pytest.mark.parametrize(
    ("row", "justification"),
    [
        (r"&= \epsilon_1 \quad \text{collect}", "collect"),
        (r"&= \epsilon_1 && \text{collect}", "collect"),
        (r"&= \epsilon_1 && by collecting", "by collecting"),
        (r"&= \epsilon_1 \quad \dots \text{collect}", "collect"),
        (r"&= \epsilon_1 \quad (2)", ""),
        ("&= \\epsilon_1 % collect\n", "collect"),
    ],
    ids=["quad-text", "ampersands-text", "ampersands-prose", "dots-text", "equation-number", "comment"],
)
def test_justifications(row: str, justification: str) -> None:
    text = "\\begin{aligned} \\epsilon_1 &= 2\\epsilon_1 - \\epsilon_1 \\\\ " + row + " \\end{aligned}"
    (chain,) = read_chains(text, NOTATION)
    assert chain.members[-1].justification == justification


def test_member_sources_are_the_students_latex() -> None:
    text = r"\begin{aligned} \epsilon_1 &= 2\epsilon_1 - \epsilon_1 \quad \text{why} \\ &= \epsilon_1 \end{aligned}"
    (chain,) = read_chains(text, NOTATION)
    assert [m.latex for m in chain.members] == [r"\epsilon_1", r"2\epsilon_1 - \epsilon_1", r"\epsilon_1"]


def test_lines_are_counted_in_the_file() -> None:
    text = "intro\n\n$$\\epsilon_1\n = \\epsilon_1$$\n"
    (chain,) = read_chains(text, NOTATION)
    assert [m.line for m in chain.members] == [3, 4]


def test_a_relation_display_is_skipped_and_a_broken_one_is_an_error() -> None:
    skipped, broken = read_chains(r"$$y \mapsto x$$ $$\frac{1}{$$", NOTATION)
    assert skipped.skipped and not skipped.members
    assert broken.error is not None and broken.error.column is not None


def test_one_broken_row_costs_only_its_own_steps() -> None:
    text = (
        "\\begin{aligned} \\epsilon_1 &= 2\\epsilon_1 - \\epsilon_1 \\\\ &= \\frac{1}{ \\\\ "
        "&= 3\\epsilon_1 - 2\\epsilon_1 \\\\ &= \\epsilon_1 \\end{aligned}"
    )
    first, broken, rest = read_chains(text, NOTATION)
    assert len(first.members) == 2
    assert broken.error is not None and not broken.members
    assert len(rest.members) == 2  # the rows after the broken one are still a chain
