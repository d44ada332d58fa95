"""Rational-quadratic spline: the derivative formula (Durkan et al. eq. 5) is proved on every piece.

The map is piecewise, so the proof is per bin: on each bin the derivative of eq. 4 and eq. 5 are
rational functions of x and the bin's parameters, and their difference cancels to 0 (``cancel`` of
a rational function is a decision procedure). The identity tails have derivative 1.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derive.layers.spline import RQSpline, delta, rq_derivative, rq_map, x

PIECES = [pytest.param(p, id=f"piece-{p}") for p in RQSpline.pieces(3)]


@pytest.mark.parametrize("piece", PIECES)
def test_derivative_formula_holds_on_every_piece(piece: object) -> None:
    layer = RQSpline(1, n_bins=3, bins=(piece,))  # type: ignore[arg-type]
    (v,), (y,) = layer.inputs(), layer.forward()
    derived = sp.diff(y, v)
    claimed = sp.Integer(1) if piece == "tail" else rq_derivative(v, 1, int(piece))  # type: ignore[call-overload]
    assert sp.cancel(sp.together(derived - claimed)) == 0
    assert layer.claimed_logdet() == (0 if piece == "tail" else sp.log(sp.Abs(claimed)))


def test_map_interpolates_the_knots() -> None:
    """g(x_k) = y_k and g(x_k + w_k) = y_k + h_k (continuity across bins)."""
    from derive.layers.spline import height, knot_x, knot_y, width

    g = rq_map(x[1], 1, 1)
    assert sp.simplify(g.xreplace({x[1]: knot_x[1, 1]}) - knot_y[1, 1]) == 0
    assert sp.cancel(g.xreplace({x[1]: knot_x[1, 1] + width[1, 1]}) - knot_y[1, 1] - height[1, 1]) == 0


def test_derivative_at_the_knots_is_delta() -> None:
    from derive.layers.spline import knot_x, width

    d = rq_derivative(x[1], 1, 0)
    assert sp.cancel(d.xreplace({x[1]: knot_x[1, 0]}) - delta[1, 0]) == 0
    assert sp.cancel(d.xreplace({x[1]: knot_x[1, 0] + width[1, 0]}) - delta[1, 1]) == 0


def test_attack_swapped_knot_derivatives_are_refuted() -> None:
    v = x[1]
    derived = sp.diff(rq_map(v, 1, 0), v)
    swapped = rq_derivative(v, 1, 0).xreplace({delta[1, 0]: delta[1, 1], delta[1, 1]: delta[1, 0]})
    assert sp.cancel(sp.together(derived - swapped)) != 0


def test_default_bins_cover_every_piece_and_bad_bins_are_rejected() -> None:
    assert set(RQSpline(4, n_bins=3).bins) == set(RQSpline.pieces(3))
    with pytest.raises(ValueError, match="bins must be"):
        RQSpline(1, n_bins=2, bins=(5,))


class _SwappedSpline(RQSpline):
    """Claims eq. 5 with the knot derivatives swapped (a transcription slip)."""

    def claimed_derivatives(self) -> tuple[sp.Expr, ...]:
        return tuple(
            g.xreplace({delta[i, k]: delta[i, k + 1], delta[i, k + 1]: delta[i, k]})
            for (i, k), g in zip(
                ((i, int(p) if not isinstance(p, str) else 0) for i, p in enumerate(self.bins, 1)),
                super().claimed_derivatives(),
                strict=True,
            )
        )


class _SteepTail(RQSpline):
    """Claims slope 2 on the identity tails."""

    def claimed_derivatives(self) -> tuple[sp.Expr, ...]:
        return tuple(
            sp.Integer(2) if p in ("tail", "left-tail", "right-tail") else g
            for p, g in zip(self.bins, super().claimed_derivatives(), strict=True)
        )


@pytest.mark.parametrize(
    "layer",
    [_SwappedSpline(1, n_bins=2, bins=(1,)), _SteepTail(1, n_bins=2, bins=("right-tail",))],
    ids=["swapped-knot-derivatives", "steep-tail"],
)
def test_attack_a_wrong_piece_formula_is_refused_by_the_kernel(layer: RQSpline) -> None:
    from derive.derivations.pieces import piece_chain
    from derive.errors import VerificationError

    with pytest.raises(VerificationError):
        piece_chain(layer, "attack")


def test_prove_rq_spline_proves_every_bin_and_both_tails_in_one_proof() -> None:
    from derive.derivations.layer import layer_proof

    proof = layer_proof("rq-spline", 2)
    assert proof.theorem.closed and proof.result == proof.meta["claimed"]
    labels = [c.label for c in proof.chains]
    assert labels == ["log-determinant", "bin 0", "bin 1", "left-tail", "right-tail"]
    assert all(c.theorem.closed for c in proof.chains)
    assert {a.name for a in proof.axioms_used()} == {"det-triangular"}
    left, right = proof.chain("left-tail"), proof.chain("right-tail")
    assert left.result == right.result == 0


def test_both_tails_are_pieces_with_their_own_side() -> None:
    layer = RQSpline(2, n_bins=2, bins=("left-tail", "right-tail"))
    assert layer.forward() == layer.inputs() and layer.claimed_logdet() == 0
    assert "< x^{(0)}_{1}" in layer.assumptions()[1] and "> x^{(2)}_{2}" in layer.assumptions()[1]
