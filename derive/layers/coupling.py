r"""Affine coupling layers (Dinh et al. 2017, RealNVP, eq. 4–9; Kingma & Dhariwal 2018, Glow, Table 1).

The input is split by a binary mask :math:`\mathbf{b}` into a conditioner part :math:`\mathbf{x}_A`
(:math:`b_i = 1`, passed through) and a transformed part :math:`\mathbf{x}_B` (:math:`b_i = 0`):

.. math:: y_A = x_A, \qquad y_B = x_B \odot \exp(\mathbf{s}(x_A)) + \mathbf{t}(x_A)
          \qquad\Longrightarrow\qquad \log|\det J| = \sum_{j \in B} s_j(x_A).

:math:`s_j, t_j` are undefined functions of exactly the conditioner coordinates (any network), so
the Jacobian's zero pattern is derived: with a *split* mask (conditioner first, RealNVP's
:math:`\mathbf{x}_{1:d}`) it is lower triangular, :math:`\begin{pmatrix} I & 0 \\ \partial y_B/\partial x_A &
\operatorname{diag}(e^{\mathbf{s}})\end{pmatrix}`; with a checkerboard mask it is block triangular.
``scale="sigmoid"`` is Glow's variant :math:`y_B = x_B \odot \operatorname{sigmoid}(\mathbf{r}(x_A)) +
\mathbf{t}(x_A)`, :math:`\log|\det J| = \sum_j \log\operatorname{sigmoid}(r_j)`.

>>> AffineCoupling(2).derived_logdet()
s[2]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["AffineCoupling"]

x = sp.IndexedBase("x", real=True)
s = sp.IndexedBase("s", real=True)
t = sp.IndexedBase("t", real=True)
r = sp.IndexedBase("r", real=True)


def _sigmoid(v: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-v))


class AffineCoupling(FlowLayer):
    r"""Affine coupling with ``mask`` (a string of ``1`` = conditioner, ``0`` = transformed).

    Default mask: the split :math:`x_{1:d}` conditioner, :math:`d = \lceil D/2 \rceil`.
    """

    name: ClassVar[str] = "affine-coupling"
    direction: ClassVar[Direction] = "normalizing"

    def __init__(self, dim: int, mask: str | None = None, scale: Literal["exp", "sigmoid"] = "exp") -> None:
        super().__init__(dim)
        d = (dim + 1) // 2
        mask = mask if mask is not None else "1" * d + "0" * (dim - d)
        if len(mask) != dim or set(mask) - {"0", "1"}:
            raise ValueError(f"AffineCoupling: mask must be {dim} characters from '01', got {mask!r}")
        if scale not in ("exp", "sigmoid"):
            raise ValueError(f"AffineCoupling: scale must be 'exp' or 'sigmoid', got {scale!r}")
        self.mask, self.scale = mask, scale

    @property
    def claimed_structure(self) -> Structure:  # type: ignore[override]
        r"""Split mask (ones first): lower triangular; any other mixed mask: block triangular."""
        transformed = [k for k, bit in enumerate(self.mask) if bit == "0"]
        conditioner = [k for k, bit in enumerate(self.mask) if bit == "1"]
        if not transformed or not conditioner or max(conditioner) < min(transformed):
            return Structure.DIAGONAL if not transformed or not conditioner else Structure.LOWER_TRIANGULAR
        return Structure.BLOCK_LOWER_TRIANGULAR

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(x[k] for k in range(1, self.dim + 1))

    def conditioner(self, xs: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
        return tuple(v for v, bit in zip(xs, self.mask, strict=True) if bit == "1")

    def _fn(self, name: str, k: int, xs: tuple[sp.Expr, ...]) -> sp.Expr:
        return sp.Function(f"{name}_{{{k}}}", real=True)(*self.conditioner(xs))

    def _scale(self, k: int, xs: tuple[sp.Expr, ...]) -> sp.Expr:
        if self.scale == "exp":
            return sp.exp(self._fn("s", k, xs))
        return _sigmoid(self._fn("r", k, xs))

    def forward(self) -> tuple[sp.Expr, ...]:
        xs = self.inputs()
        return tuple(
            v if bit == "1" else v * self._scale(k, xs) + self._fn("t", k, xs)
            for k, (v, bit) in enumerate(zip(xs, self.mask, strict=True), 1)
        )

    def inverse(self) -> tuple[sp.Expr, ...]:
        ys = self.output_symbols()
        # The conditioner is passed through (x_A = y_A), so s, t are evaluated at y_A: the inverse is explicit.
        return tuple(
            yk if bit == "1" else (yk - self._fn("t", k, ys)) / self._scale(k, ys)
            for k, (yk, bit) in enumerate(zip(ys, self.mask, strict=True), 1)
        )

    def abbreviations(self) -> Mapping[sp.Expr, sp.Expr]:
        xs, out = self.inputs(), {}
        for k, bit in enumerate(self.mask, 1):
            if bit == "0":
                out[self._fn("s", k, xs)] = s[k]
                out[self._fn("t", k, xs)] = t[k]
                out[self._fn("r", k, xs)] = r[k]
        return out

    def claimed_logdet(self) -> sp.Expr:
        ks = [k for k, bit in enumerate(self.mask, 1) if bit == "0"]
        if self.scale == "exp":
            return sp.Add(*[s[k] for k in ks])
        return sp.Add(*[sp.log(_sigmoid(r[k])) for k in ks])

    def assumptions(self) -> tuple[str, ...]:
        cond = ", ".join(f"x_{{{k}}}" for k, bit in enumerate(self.mask, 1) if bit == "1") or r"\varnothing"
        return (
            rf"s_j, t_j \text{{ depend on the conditioner }} ({cond}) \text{{ only}}",
            f"mask = {self.mask}",
        )

    def __repr__(self) -> str:
        return f"AffineCoupling(dim={self.dim}, mask={self.mask!r}, scale={self.scale!r})"
