r"""Batch normalisation as a flow layer (Ioffe & Szegedy 2015; as a flow: Dinh et al. 2017, app. E).

Normalizing direction :math:`y_i = \gamma_i (x_i - \tilde\mu_i)/\sqrt{\tilde\sigma_i^2 + \epsilon}
+ \beta_i` (without ``affine``: :math:`\gamma_i = 1, \beta_i = 0`), :math:`\epsilon > 0` the
stability constant.

* :class:`BatchNorm` — **eval mode**: :math:`\tilde\mu, \tilde\sigma^2` are constants (running
  statistics; whichever variance estimator produced them does not matter here).
  :math:`\log|\det J| = -\tfrac12\sum_i\log(\tilde\sigma_i^2+\epsilon) + \sum_i\log|\gamma_i|`.
  ``direction="generative"`` is the un-normalizing map and has the opposite sign.
* :class:`BatchNormTrainSample` — **train mode**: the statistics are the batch's own
  (:math:`\tilde\mu_i = \tfrac1N\sum_k x_{k,i}`, biased variance :math:`\tfrac1N\sum_k (x_{k,i} -
  \tilde\mu_i)^2` as ``torch.nn.BatchNorm1d`` normalises, or unbiased :math:`\tfrac1{N-1}\sum`),
  so they depend on the sample itself. The map studied is sample 1's :math:`\mathbf{x}_1 \mapsto
  \mathbf{y}_1` with the other samples held fixed.

>>> BatchNorm(2).derived_logdet()
log(1/sqrt(epsilon + \tilde{\sigma}[1]**2)) + log(1/sqrt(epsilon + \tilde{\sigma}[2]**2))
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer
from derive.symbols import beta, bn_eps, bn_mean, bn_std, gamma

__all__ = ["BatchNorm", "BatchNormTrainSample", "batch_x"]

#: The batch ``x[n, i]`` (sample n, feature i) used by train mode.
batch_x = sp.IndexedBase("x", real=True)


class BatchNorm(FlowLayer):
    """Eval-mode batch normalisation (statistics are constants)."""

    name: ClassVar[str] = "batchnorm"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL
    direction: ClassVar[Direction] = "normalizing"

    def __init__(self, dim: int, affine: bool = False, direction: Direction = "normalizing") -> None:
        super().__init__(dim)
        if direction not in ("normalizing", "generative"):
            raise ValueError(f"BatchNorm: direction must be 'normalizing' or 'generative', got {direction!r}")
        self.affine = affine
        self.direction = direction  # type: ignore[misc]

    @property
    def latex_io(self) -> tuple[str, str]:  # type: ignore[override]
        return (
            (r"\mathbf{y}", r"\mathbf{x}")
            if self.direction == "normalizing"
            else (r"\mathbf{x}", r"\mathbf{y}")
        )

    @property
    def text_io(self) -> tuple[str, str]:  # type: ignore[override]
        return ("y", "x") if self.direction == "normalizing" else ("x", "y")

    def _scale(self, k: int) -> sp.Expr:
        g = gamma[k] if self.affine else sp.Integer(1)
        return g / sp.sqrt(bn_std[k] ** 2 + bn_eps)

    def _shift(self, k: int) -> sp.Expr:
        return beta[k] if self.affine else sp.Integer(0)

    def _x(self) -> tuple[sp.Expr, ...]:
        return tuple(sp.Symbol(f"x_{k}", real=True) for k in range(1, self.dim + 1))

    def inputs(self) -> tuple[sp.Expr, ...]:
        return self._x() if self.direction == "normalizing" else self._y()

    def _y(self) -> tuple[sp.Expr, ...]:
        return tuple(sp.Symbol(f"y_{k}", real=True) for k in range(1, self.dim + 1))

    def _normalize(self, xs: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
        return tuple((x - bn_mean[k]) * self._scale(k) + self._shift(k) for k, x in enumerate(xs, 1))

    def _unnormalize(self, ys: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
        return tuple(bn_mean[k] + (y - self._shift(k)) / self._scale(k) for k, y in enumerate(ys, 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        if self.direction == "normalizing":
            return self._normalize(self._x())
        return self._unnormalize(self._y())

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return self._y() if self.direction == "normalizing" else self._x()

    def inverse(self) -> tuple[sp.Expr, ...]:
        if self.direction == "normalizing":
            return self._unnormalize(self._y())
        return self._normalize(self._x())

    def claimed_logdet(self) -> sp.Expr:
        out = sp.Add(*[-sp.log(bn_std[k] ** 2 + bn_eps) / 2 for k in range(1, self.dim + 1)])
        if self.affine:
            out += sp.Add(*[sp.log(sp.Abs(gamma[k])) for k in range(1, self.dim + 1)])
        return out if self.direction == "normalizing" else -out

    def assumptions(self) -> tuple[str, ...]:
        extra = (r"\gamma_i \neq 0",) if self.affine else ()
        return (r"\epsilon > 0", r"\tilde\sigma_i > 0", *extra)

    def __repr__(self) -> str:
        return f"BatchNorm(dim={self.dim}, affine={self.affine}, direction={self.direction!r})"


class BatchNormTrainSample(FlowLayer):
    r"""Train mode, per sample: :math:`\mathbf{x}_1\mapsto\mathbf{y}_1` through the batch statistics.

    Claim (proved in :mod:`derive.derivations.batchnorm`): the per-sample Jacobian is diagonal with
    :math:`\partial y_{1,i}/\partial x_{1,i} = \gamma_i(1 - (1 + c\,y_{1,i}^2)/N)/\sqrt{v_i+\epsilon}`,
    :math:`c = 1` (biased variance) or :math:`N/(N-1)` (unbiased).
    """

    name: ClassVar[str] = "batchnorm-train-sample"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL
    direction: ClassVar[Direction] = "normalizing"
    latex_io: ClassVar[tuple[str, str]] = (r"\mathbf{y}_1", r"\mathbf{x}_1")
    text_io: ClassVar[tuple[str, str]] = ("y_1", "x_1")

    def __init__(self, dim: int, batch: int = 3, unbiased: bool = False, affine: bool = False) -> None:
        super().__init__(dim)
        if batch < 2:
            raise ValueError(f"BatchNormTrainSample: batch must be >= 2, got {batch!r}")
        self.batch, self.unbiased, self.affine = batch, unbiased, affine

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(batch_x[1, k] for k in range(1, self.dim + 1))

    def mean(self, k: int) -> sp.Expr:
        return sp.Add(*[batch_x[n, k] for n in range(1, self.batch + 1)]) / self.batch

    def var(self, k: int) -> sp.Expr:
        dof = self.batch - 1 if self.unbiased else self.batch
        return sp.Add(*[(batch_x[n, k] - self.mean(k)) ** 2 for n in range(1, self.batch + 1)]) / dof

    def normalized(self, n: int, k: int) -> sp.Expr:
        return (batch_x[n, k] - self.mean(k)) / sp.sqrt(self.var(k) + bn_eps)

    def forward(self) -> tuple[sp.Expr, ...]:
        g = (lambda k: gamma[k]) if self.affine else (lambda k: sp.Integer(1))
        b = (lambda k: beta[k]) if self.affine else (lambda k: sp.Integer(0))
        return tuple(g(k) * self.normalized(1, k) + b(k) for k in range(1, self.dim + 1))

    def claimed_logdet(self) -> sp.Expr:
        N = self.batch
        c = sp.Rational(N, N - 1) if self.unbiased else sp.Integer(1)
        out = []
        for k in range(1, self.dim + 1):
            y = self.normalized(1, k)
            term = -sp.log(self.var(k) + bn_eps) / 2 + sp.log(sp.Abs(1 - (1 + c * y**2) / N))
            if self.affine:
                term += sp.log(sp.Abs(gamma[k]))
            out.append(term)
        return sp.Add(*out)

    def assumptions(self) -> tuple[str, ...]:
        return (
            r"\epsilon > 0",
            f"N = {self.batch}",
            "unbiased variance" if self.unbiased else "biased variance",
        )

    def __repr__(self) -> str:
        return f"BatchNormTrainSample(dim={self.dim}, batch={self.batch}, unbiased={self.unbiased})"


class BatchNormTrainBatch(FlowLayer):
    r"""Train mode, one feature, the whole batch: :math:`(x_{1,1},\dots,x_{N,1})\mapsto(y_{1,1},\dots,y_{N,1})`.

    Not a bijection (its Jacobian is singular: proved in :mod:`derive.derivations.batchnorm`); used for
    that theorem, not as a flow layer (it is not in ``LAYERS``).
    """

    name: ClassVar[str] = "batchnorm-train-batch"
    claimed_structure: ClassVar[Structure] = Structure.FULL
    direction: ClassVar[Direction] = "normalizing"
    latex_io: ClassVar[tuple[str, str]] = (r"\mathbf{y}_{\cdot,i}", r"\mathbf{x}_{\cdot,i}")
    text_io: ClassVar[tuple[str, str]] = ("y_(.,i)", "x_(.,i)")

    def __init__(self, batch: int, unbiased: bool = False) -> None:
        super().__init__(batch)
        self.unbiased = unbiased
        self._sample = BatchNormTrainSample(1, batch=batch, unbiased=unbiased)

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(batch_x[n, 1] for n in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(self._sample.normalized(n, 1) for n in range(1, self.dim + 1))

    def claimed_logdet(self) -> sp.Expr:
        return sp.zoo  # log|det J| = log 0: the map is not invertible

    def assumptions(self) -> tuple[str, ...]:
        return (r"\epsilon > 0", f"N = {self.dim}")

    def __repr__(self) -> str:
        return f"BatchNormTrainBatch(batch={self.dim}, unbiased={self.unbiased})"
