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

The proof is **per bin**: ``bins`` gives each coordinate's piece (an integer bin, or ``"tail"``),
and the model states the map and the claimed :math:`\log g'` on that piece; :meth:`RQSpline.pieces`
lists every piece, so all of them are proved (the kernel selects the bin numerically).
Parameters carry a coordinate index: :math:`w_{i,k}, h_{i,k}, \delta_{i,k}, x^{(k)}_i, y^{(k)}_i`.

>>> RQSpline(1, bins=("tail",)).claimed_logdet()
0
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["RQSpline", "rq_derivative", "rq_map"]

x = sp.IndexedBase("x", real=True)
knot_x = sp.IndexedBase(r"x^{\mathrm{knot}}", real=True)
knot_y = sp.IndexedBase(r"y^{\mathrm{knot}}", real=True)
width = sp.IndexedBase("w", positive=True)
height = sp.IndexedBase("h", positive=True)
delta = sp.IndexedBase("delta", positive=True)

Piece = int | str


def _xi(v: sp.Expr, i: int, k: int) -> sp.Expr:
    return (v - knot_x[i, k]) / width[i, k]


def rq_map(v: sp.Expr, i: int, k: int) -> sp.Expr:
    r"""Durkan et al. eq. 4 on bin ``k`` of coordinate ``i``."""
    xi, sk = _xi(v, i, k), height[i, k] / width[i, k]
    num = height[i, k] * (sk * xi**2 + delta[i, k] * xi * (1 - xi))
    den = sk + (delta[i, k + 1] + delta[i, k] - 2 * sk) * xi * (1 - xi)
    return knot_y[i, k] + num / den


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

    def __init__(self, dim: int, n_bins: int = 3, bins: tuple[Piece, ...] | None = None) -> None:
        super().__init__(dim)
        if not isinstance(n_bins, int) or n_bins < 1:
            raise ValueError(f"RQSpline: n_bins must be a positive integer, got {n_bins!r}")
        pieces = self.pieces(n_bins)
        bins = bins if bins is not None else tuple(pieces[k % len(pieces)] for k in range(dim))
        if len(bins) != dim or any(b not in pieces for b in bins):
            raise ValueError(f"RQSpline: bins must be {dim} pieces from {pieces}, got {bins!r}")
        self.n_bins, self.bins = n_bins, tuple(bins)

    @staticmethod
    def pieces(n_bins: int) -> tuple[Piece, ...]:
        """Every piece of the piecewise map: the bins ``0..K-1`` and the identity ``"tail"``."""
        return (*range(n_bins), "tail")

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(x[i] for i in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(
            v if piece == "tail" else rq_map(v, i, int(piece))
            for i, (v, piece) in enumerate(zip(self.inputs(), self.bins, strict=True), 1)
        )

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(
            *[
                sp.Integer(0) if piece == "tail" else sp.log(sp.Abs(rq_derivative(v, i, int(piece))))
                for i, (v, piece) in enumerate(zip(self.inputs(), self.bins, strict=True), 1)
            ]
        )

    def assumptions(self) -> tuple[str, ...]:
        where = ", ".join(
            f"x_{{{i}}} \\notin [-B, B]"
            if p == "tail"
            else f"x^{{({p})}}_{{{i}}} \\le x_{{{i}}} \\le x^{{({int(p) + 1})}}_{{{i}}}"
            for i, p in enumerate(self.bins, 1)
        )
        return (r"w_{i,k},\ h_{i,k},\ \delta_{i,k} > 0", where)

    def __repr__(self) -> str:
        return f"RQSpline(dim={self.dim}, n_bins={self.n_bins}, bins={self.bins!r})"
