r"""Invertible 1×1 convolution (Kingma & Dhariwal 2018, Glow, section 3.2 and Table 1).

On a :math:`(C, H, W)` input every pixel's channel vector is multiplied by the same
:math:`\mathbf{W} \in \mathbb{R}^{C\times C}`: :math:`\mathbf{y}_{:,h,w} = \mathbf{W}\mathbf{x}_{:,h,w}`.
The coordinates are ordered pixel by pixel, :math:`(h, w, c)` (a permutation of the channel-major
order, which does not change :math:`|\det J|`), so the Jacobian is block diagonal,
:math:`I_{HW} \otimes \mathbf{W}` — :math:`HW` copies of the full :math:`C\times C` block — and the
spatial factor is explicit:

.. math:: \log|\det J| = H \cdot W \cdot \log|\det \mathbf{W}|.

LU parametrisation (``lu=True``): :math:`\mathbf{W} = P L (U + \operatorname{diag}(\mathbf{s}))`,
:math:`P` a fixed permutation (here the reversal), :math:`L` unit lower triangular, :math:`U`
strictly upper triangular, so :math:`\log|\det J| = H \cdot W \cdot \sum_c \log|s_c|`.

>>> Conv1x1(2, height=1, width=1).jacobian().structure.value
'full'
>>> Conv1x1(2, height=2, width=1).jacobian().blocks
((0, 2), (2, 4))
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["Conv1x1"]

x = sp.IndexedBase("x", real=True)
Wb = sp.IndexedBase("W", real=True)
Lb = sp.IndexedBase("L", real=True)
Ub = sp.IndexedBase("U", real=True)
sb = sp.IndexedBase("s", real=True, nonzero=True)


class Conv1x1(FlowLayer):
    r""":math:`\mathbf{y}_{:,h,w} = \mathbf{W}\mathbf{x}_{:,h,w}`; ``lu=True`` for :math:`\mathbf{W} = PL(U + \operatorname{diag}\mathbf{s})`."""

    name: ClassVar[str] = "conv1x1"
    direction: ClassVar[Direction] = "normalizing"

    def __init__(self, channels: int, height: int = 2, width: int = 1, lu: bool = False) -> None:
        for label, value in (("channels", channels), ("height", height), ("width", width)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Conv1x1: {label} must be a positive integer, got {value!r}")
        super().__init__(channels * height * width)
        self.channels, self.height, self.width, self.lu = channels, height, width, lu

    @property
    def claimed_structure(self) -> Structure:  # type: ignore[override]
        """One channel: diagonal; one pixel: the full C×C block; else HW diagonal blocks."""
        if self.channels == 1:
            return Structure.DIAGONAL
        return Structure.FULL if self.height * self.width == 1 else Structure.BLOCK_LOWER_TRIANGULAR

    def weight(self) -> sp.Matrix:
        r""":math:`\mathbf{W}` (free entries, or the LU product)."""
        C = self.channels
        if not self.lu:
            return sp.Matrix(C, C, lambda r, c: Wb[r + 1, c + 1])
        P = sp.Matrix(C, C, lambda r, c: 1 if r + c == C - 1 else 0)
        L = sp.Matrix(C, C, lambda r, c: Lb[r + 1, c + 1] if r > c else (1 if r == c else 0))
        U = sp.Matrix(C, C, lambda r, c: Ub[r + 1, c + 1] if r < c else (sb[r + 1] if r == c else 0))
        return P * L * U

    def _pixels(self, base: sp.IndexedBase) -> tuple[sp.Expr, ...]:
        """``base[c, h, w]`` ordered pixel-major: (h, w) outer, channel inner."""
        return tuple(
            base[c, hh, ww]
            for hh in range(1, self.height + 1)
            for ww in range(1, self.width + 1)
            for c in range(1, self.channels + 1)
        )

    def inputs(self) -> tuple[sp.Expr, ...]:
        return self._pixels(x)

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return self._pixels(sp.IndexedBase("y", real=True))

    def _apply(self, M: sp.Matrix, atoms: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
        C, HW = self.channels, self.height * self.width
        return tuple(
            sp.expand(sp.Add(*[M[c, k] * atoms[p * C + k] for k in range(C)]))
            for p in range(HW)
            for c in range(C)
        )

    def forward(self) -> tuple[sp.Expr, ...]:
        return self._cached("forward", lambda: self._apply(self.weight(), self.inputs()))

    def inverse(self) -> tuple[sp.Expr, ...]:
        return self._apply(self.weight().inv(method="ADJ"), self.output_symbols())

    def claimed_logdet(self) -> sp.Expr:
        spatial = self.height * self.width
        if self.lu:
            return spatial * sp.Add(*[sp.log(sp.Abs(sb[c])) for c in range(1, self.channels + 1)])
        return spatial * sp.log(sp.Abs(self.weight().det(method="berkowitz")))

    def assumptions(self) -> tuple[str, ...]:
        extra = (
            (r"P \text{ the reversal},\ L_{cc} = 1,\ s_c \neq 0",) if self.lu else (r"\det\mathbf{W} \neq 0",)
        )
        return (
            f"C = {self.channels},\\ H = {self.height},\\ W = {self.width}",
            rf"\text{{spatial factor }} H W = {self.height * self.width}",
            *extra,
        )

    def __repr__(self) -> str:
        return f"Conv1x1(channels={self.channels}, height={self.height}, width={self.width}, lu={self.lu})"
