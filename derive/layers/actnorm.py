r"""ActNorm (Kingma & Dhariwal 2018, Glow, section 3.1 and Table 1) on a :math:`(C, H, W)` input.

Per-*channel* scale and bias, shared over the :math:`H \cdot W` spatial positions:
:math:`y_{c,h,w} = s_c\,x_{c,h,w} + b_c`, :math:`s_c \neq 0`. The Jacobian is diagonal with
:math:`s_c` repeated :math:`H W` times, so the spatial factor is explicit:

.. math:: \log|\det J| = H \cdot W \cdot \sum_{c=1}^{C} \log|s_c|.

(FrEIA shipped per-:math:`(C,H,W)` parameters; TFP's batch norm forgot the spatial factor.)
Coordinates are flattened channel-major, :math:`(c, h, w) \mapsto c\,HW + h\,W + w`, as
``torch.Tensor.reshape`` does.

>>> ActNorm(1, height=2, width=1).claimed_logdet()
2*log(Abs(s[1]))
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["ActNorm", "image_atoms"]

x = sp.IndexedBase("x", real=True)
scale = sp.IndexedBase("s", real=True, nonzero=True)
shift = sp.IndexedBase("b", real=True)


def image_atoms(base: sp.IndexedBase, channels: int, height: int, width: int) -> tuple[sp.Expr, ...]:
    """``base[c, h, w]`` flattened channel-major (1-based indices)."""
    return tuple(
        base[c, hh, ww]
        for c in range(1, channels + 1)
        for hh in range(1, height + 1)
        for ww in range(1, width + 1)
    )


class ActNorm(FlowLayer):
    r""":math:`y_{c,h,w} = s_c x_{c,h,w} + b_c` on ``channels`` × ``height`` × ``width``."""

    name: ClassVar[str] = "actnorm"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def __init__(self, channels: int, height: int = 2, width: int = 2) -> None:
        for label, value in (("channels", channels), ("height", height), ("width", width)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ActNorm: {label} must be a positive integer, got {value!r}")
        super().__init__(channels * height * width)
        self.channels, self.height, self.width = channels, height, width

    def inputs(self) -> tuple[sp.Expr, ...]:
        return image_atoms(x, self.channels, self.height, self.width)

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return image_atoms(sp.IndexedBase("y", real=True), self.channels, self.height, self.width)

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(scale[v.indices[0]] * v + shift[v.indices[0]] for v in self.inputs())

    def inverse(self) -> tuple[sp.Expr, ...]:
        return tuple((v - shift[v.indices[0]]) / scale[v.indices[0]] for v in self.output_symbols())

    def claimed_logdet(self) -> sp.Expr:
        spatial = self.height * self.width
        return spatial * sp.Add(*[sp.log(sp.Abs(scale[c])) for c in range(1, self.channels + 1)])

    def assumptions(self) -> tuple[str, ...]:
        return (
            r"s_c \neq 0",
            f"C = {self.channels},\\ H = {self.height},\\ W = {self.width}",
            rf"\text{{spatial factor }} H W = {self.height * self.width}",
        )

    def __repr__(self) -> str:
        return f"ActNorm(channels={self.channels}, height={self.height}, width={self.width})"
