r"""Rational-quadratic spline, elementwise (Durkan et al. 2019, "Neural Spline Flows", section 3.1, eq. 4–5).

On :math:`[-B, B]` the map is monotone rational-quadratic between :math:`K+1` knots
:math:`(x^{(k)}, y^{(k)})` with positive widths :math:`w_k`, heights :math:`h_k` and knot
derivatives :math:`\delta_k > 0`; outside it is the identity ("identity tails",
:math:`\delta_0 = \delta_K = 1`). In bin :math:`k`, with :math:`\xi = (x - x^{(k)})/w_k` and
:math:`s_k = h_k/w_k`,

.. math::
    g(x) = y^{(k)} + \frac{h_k\,[s_k\xi^2 + \delta_k\xi(1-\xi)]}{s_k + (\delta_{k+1} + \delta_k - 2s_k)\,\xi(1-\xi)},
    \qquad
    g'(x) = \frac{s_k^2\,[\delta_{k+1}\xi^2 + 2s_k\xi(1-\xi) + \delta_k(1-\xi)^2]}
                 {[s_k + (\delta_{k+1} + \delta_k - 2s_k)\,\xi(1-\xi)]^2}.

The proof is **per bin**: ``bins`` gives each coordinate's piece (an integer bin, ``"left-tail"``,
``"right-tail"``, or ``"tail"`` for either side), and the model states the map and the claimed
:math:`\log g'` on that piece. ``derive prove rq-spline`` proves every piece
(:meth:`RQSpline.piece_layers`: every bin and both tails, one chain each, in one proof); the
generated kernel selects the bin numerically. The inverse is the stable root of Durkan et al.'s
quadratic (eq. 6–8). Parameters carry a coordinate index:
:math:`w_{i,k}, h_{i,k}, \delta_{i,k}, x^{(k)}_i, y^{(k)}_i`.

>>> RQSpline(1, bins=("tail",)).claimed_logdet()
0
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["TAILS", "RQSpline", "rq_derivative", "rq_inverse", "rq_map"]

x = sp.IndexedBase("x", real=True)
knot_x = sp.IndexedBase(r"x^{\mathrm{knot}}", real=True)
knot_y = sp.IndexedBase(r"y^{\mathrm{knot}}", real=True)
width = sp.IndexedBase("w", positive=True)
height = sp.IndexedBase("h", positive=True)
delta = sp.IndexedBase("delta", positive=True)

Piece = int | str

#: The identity pieces: both sides together (``"tail"``), or each side on its own.
TAILS = ("tail", "left-tail", "right-tail")


def _xi(v: sp.Expr, i: int, k: int) -> sp.Expr:
    return (v - knot_x[i, k]) / width[i, k]


def rq_map(v: sp.Expr, i: int, k: int) -> sp.Expr:
    r"""Durkan et al. eq. 4 on bin ``k`` of coordinate ``i``."""
    xi, sk = _xi(v, i, k), height[i, k] / width[i, k]
    num = height[i, k] * (sk * xi**2 + delta[i, k] * xi * (1 - xi))
    den = sk + (delta[i, k + 1] + delta[i, k] - 2 * sk) * xi * (1 - xi)
    return knot_y[i, k] + num / den


def rq_inverse(v: sp.Expr, i: int, k: int) -> sp.Expr:
    r"""Durkan et al. eq. 6–8: the input on bin ``k`` whose image is ``v`` (the stable root of the quadratic)."""
    sk = height[i, k] / width[i, k]
    dy, q = v - knot_y[i, k], delta[i, k + 1] + delta[i, k] - 2 * sk
    a = height[i, k] * (sk - delta[i, k]) + dy * q
    b = height[i, k] * delta[i, k] - dy * q
    c = -sk * dy
    return knot_x[i, k] + width[i, k] * 2 * c / (-b - sp.sqrt(b**2 - 4 * a * c))


def rq_derivative(v: sp.Expr, i: int, k: int) -> sp.Expr:
    r"""Durkan et al. eq. 5: :math:`g'(x)` on bin ``k`` of coordinate ``i``."""
    xi, sk = _xi(v, i, k), height[i, k] / width[i, k]
    num = sk**2 * (delta[i, k + 1] * xi**2 + 2 * sk * xi * (1 - xi) + delta[i, k] * (1 - xi) ** 2)
    den = (sk + (delta[i, k + 1] + delta[i, k] - 2 * sk) * xi * (1 - xi)) ** 2
    return num / den


class RQSpline(FlowLayer):
    r"""Elementwise RQ spline with ``bins`` (one piece per coordinate) out of ``n_bins`` bins."""

    name: ClassVar[str] = "rq-spline"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL
    #: The inverse (a square root) is checked numerically by the contract test: SymPy's symbolic
    #: round trip through the radical takes minutes.
    symbolic_round_trip: ClassVar[bool] = False

    def __init__(self, dim: int, n_bins: int = 3, bins: tuple[Piece, ...] | None = None) -> None:
        super().__init__(dim)
        if not isinstance(n_bins, int) or n_bins < 1:
            raise ValueError(f"RQSpline: n_bins must be a positive integer, got {n_bins!r}")
        pieces = self.pieces(n_bins)
        bins = bins if bins is not None else tuple(pieces[k % len(pieces)] for k in range(dim))
        allowed = (*pieces, *TAILS[1:])
        if len(bins) != dim or any(b not in allowed for b in bins):
            raise ValueError(f"RQSpline: bins must be {dim} pieces from {allowed}, got {bins!r}")
        self.n_bins, self.bins = n_bins, tuple(bins)

    @staticmethod
    def pieces(n_bins: int) -> tuple[Piece, ...]:
        """Every piece of the piecewise map: the bins ``0..K-1`` and the identity ``"tail"``."""
        return (*range(n_bins), "tail")

    @staticmethod
    def proof_pieces(n_bins: int) -> tuple[Piece, ...]:
        """What ``derive prove rq-spline`` proves: every bin and each identity tail on its own."""
        return (*range(n_bins), "left-tail", "right-tail")

    def piece_layers(self) -> tuple[tuple[str, RQSpline], ...]:
        """One coordinate on each piece of :meth:`proof_pieces` (the map is elementwise: coordinate i on a
        piece is the same statement with the index renamed)."""
        return tuple(
            (f"bin {p}" if isinstance(p, int) else p, RQSpline(1, self.n_bins, bins=(p,)))
            for p in self.proof_pieces(self.n_bins)
        )

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(x[i] for i in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(
            v if piece in TAILS else rq_map(v, i, int(piece))
            for i, (v, piece) in enumerate(zip(self.inputs(), self.bins, strict=True), 1)
        )

    def inverse(self) -> tuple[sp.Expr, ...]:
        return tuple(
            v if piece in TAILS else rq_inverse(v, i, int(piece))
            for i, (v, piece) in enumerate(zip(self.output_symbols(), self.bins, strict=True), 1)
        )

    def claimed_derivatives(self) -> tuple[sp.Expr, ...]:
        """Each coordinate's claimed :math:`g'(x_i)` on its piece: eq. 5 on a bin, 1 on a tail."""
        return tuple(
            sp.Integer(1) if piece in TAILS else rq_derivative(v, i, int(piece))
            for i, (v, piece) in enumerate(zip(self.inputs(), self.bins, strict=True), 1)
        )

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[sp.log(sp.Abs(g)) for g in self.claimed_derivatives()])

    def assumptions(self) -> tuple[str, ...]:
        K = self.n_bins

        def where(i: int, p: Piece) -> str:
            if p == "tail":
                return f"x_{{{i}}} \\notin [-B, B]"
            if p == "left-tail":
                return f"x_{{{i}}} < x^{{(0)}}_{{{i}}} = -B"
            if p == "right-tail":
                return f"x_{{{i}}} > x^{{({K})}}_{{{i}}} = B"
            return f"x^{{({p})}}_{{{i}}} \\le x_{{{i}}} \\le x^{{({int(p) + 1})}}_{{{i}}}"

        return (
            r"w_{i,k},\ h_{i,k},\ \delta_{i,k} > 0",
            ", ".join(where(i, p) for i, p in enumerate(self.bins, 1)),
        )

    def __repr__(self) -> str:
        return f"RQSpline(dim={self.dim}, n_bins={self.n_bins}, bins={self.bins!r})"
