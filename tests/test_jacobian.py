"""Structure detection, the dependency argument and the determinant shortcuts."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.jacobian import Structure, jacobian, log_abs_det_chain, triangular_det_lemma

a, b, c = sp.symbols("a b c", real=True)
f = sp.Function("f")


@pytest.mark.parametrize(
    ("outputs", "structure"),
    [
        ((2 * a, 3 * b, c), Structure.DIAGONAL),
        ((a, f(a) + b, f(a, b) * c), Structure.LOWER_TRIANGULAR),
        ((a + f(b, c), b * f(c), c), Structure.UPPER_TRIANGULAR),
        ((a + c, b + a, c + b), Structure.FULL),
    ],
    ids=["diagonal", "lower", "upper", "full"],
)
def test_structure_detection(outputs: tuple[sp.Expr, ...], structure: Structure) -> None:
    assert jacobian(outputs, (a, b, c)).structure is structure


def test_zero_pattern_is_sound_against_differentiation() -> None:
    outputs = (a, f(a) + b * sp.exp(a), f(a, b) * c + a)
    J = jacobian(outputs, (a, b, c))
    for r in range(3):
        for col, x in enumerate((a, b, c)):
            if col not in J.depends[r]:
                assert sp.diff(outputs[r], x) == 0
    assert J.zero_entries() == 3


def test_triangular_det_equals_full_det() -> None:
    outputs = (a**2, f(a) + b * sp.exp(a), f(a, b) * c + a)
    J = jacobian(outputs, (a, b, c))
    assert sp.simplify(J.matrix().det() - J.det()) == 0


def test_full_structure_uses_full_determinant() -> None:
    J = jacobian((a + b, a - b), (a, b))
    assert J.full is not None
    assert J.det() == -2


def test_log_abs_det_chain_adds_steps() -> None:
    s = sp.Symbol("s", positive=True)
    J1, J2 = jacobian((s * a, b), (a, b)), jacobian((2 * a, 3 * b), (a, b))
    assert sp.simplify(log_abs_det_chain([J1, J2]) - sp.log(6 * s)) == 0


@pytest.mark.parametrize("n", range(1, 6), ids=lambda n: f"n{n}")
@pytest.mark.parametrize("lower", [True, False], ids=["lower", "upper"])
def test_triangular_det_lemma(n: int, lower: bool) -> None:
    assert sp.expand(triangular_det_lemma(n, lower)) == 0


def test_non_square_is_rejected() -> None:
    with pytest.raises(ValueError, match="square"):
        jacobian((a, b), (a,))


d = sp.Symbol("d", real=True)
g = sp.Function("g")


@pytest.mark.parametrize(
    ("outputs", "structure", "blocks"),
    [
        # a 2x2 mixing block, then a coupling-like output depending on everything before it
        (
            (a + b, a - 2 * b, c * sp.exp(f(a, b)), d + g(a, c)),
            Structure.BLOCK_LOWER_TRIANGULAR,
            ((0, 2), (2, 3), (3, 4)),
        ),
        (
            (a + f(c, d), b * g(c, d), c + d, c - d),
            Structure.BLOCK_UPPER_TRIANGULAR,
            ((0, 1), (1, 2), (2, 4)),
        ),
        ((a + b, a - b, c + d, c - d), Structure.BLOCK_LOWER_TRIANGULAR, ((0, 2), (2, 4))),
    ],
    ids=["lower-blocks", "upper-blocks", "block-diagonal"],
)
def test_block_structure(
    outputs: tuple[sp.Expr, ...], structure: Structure, blocks: tuple[tuple[int, int], ...]
) -> None:
    J = jacobian(outputs, (a, b, c, d))
    assert J.structure is structure
    assert J.blocks == blocks
    full = sp.Matrix(4, 4, lambda r, col: sp.diff(outputs[r], (a, b, c, d)[col]))
    assert sp.simplify(full.det() - J.det()) == 0


def test_a_genuinely_full_jacobian_has_no_blocks() -> None:
    J = jacobian((a + d, b + a, c + b, d + c), (a, b, c, d))
    assert J.structure is Structure.FULL and J.blocks == ()


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("derive.layers", fromlist=["IAFStep"]).IAFStep(4, t=2),
        lambda: __import__("derive.layers", fromlist=["IAFStableStep"]).IAFStableStep(3, t=1),
        lambda: __import__("derive.layers", fromlist=["BatchNorm"]).BatchNorm(3, affine=True),
        lambda: __import__("derive.layers", fromlist=["BatchNormTrainSample"]).BatchNormTrainSample(
            2, batch=3
        ),
    ],
    ids=["iaf", "iaf-stable", "batchnorm-affine", "batchnorm-train"],
)
def test_structural_derivative_equals_sympy_diff_on_every_entry(make: object) -> None:
    """The fast path (differentiate only what contains the input) against the reference ``sympy.diff``."""
    from derive.jacobian import structural_diff

    layer = make()  # type: ignore[operator]
    for y in layer.forward():
        for x in layer.inputs():
            assert sp.simplify(structural_diff(y, x) - sp.diff(y, x)) == 0


def test_structural_derivative_on_products_and_nested_functions() -> None:
    from derive.jacobian import structural_diff

    g = sp.Function("g", positive=True)
    e = g(a) * b**2 * sp.exp(a * b) + f(c) * a + sp.log(g(b) + c)
    for v in (a, b, c):
        assert sp.simplify(structural_diff(e, v) - sp.diff(e, v)) == 0
