r"""Elementwise bijections :math:`y_i = g(x_i)`: diagonal Jacobian, :math:`\log|\det J| = \sum_i \log|g'(x_i)|`.

* :class:`LeakyReLU` — :math:`g(x) = x` for :math:`x \ge 0`, :math:`\alpha x` otherwise
  (:math:`\alpha > 0`); the log-det is :math:`\sum_i [x_i < 0]\log\alpha` — *both* branches are
  stated (flowjax shipped a wrong negative branch that its tests never reached);
* :class:`Sigmoid` — :math:`g = \operatorname{sigmoid}`, :math:`\log g' = -x - 2\operatorname{softplus}(-x)`; :class:`Logit` its inverse on :math:`(0, 1)`,
  :math:`\log|g'| = -\log|x(1-x)|`;
* :class:`Tanh` — :math:`\log g' = \log(1 - \tanh^2 x)`;
* :class:`Softplus` — :math:`g(x) = \log(1+e^x)`, :math:`\log g' = \log\operatorname{sigmoid}(x)`;
* :class:`ElementwiseAffine` — :math:`g(x_i) = a_i x_i + c_i`, :math:`a_i \neq 0`,
  :math:`\log|\det J| = \sum_i\log|a_i|`.

(The classic references: Dinh et al. 2017 for the logit pre-processing, TFP/torch
``distributions.transforms`` for the others.)

>>> LeakyReLU(1).piecewise_logdet()
Piecewise((0, x[1] >= 0), (log(alpha), True))
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction, FlowLayer

__all__ = ["ElementwiseAffine", "LeakyReLU", "Logit", "Sigmoid", "Softplus", "Tanh"]

x = sp.IndexedBase("x", real=True)
a = sp.IndexedBase("a", real=True, nonzero=True)
c = sp.IndexedBase("c", real=True)
alpha = sp.Symbol("alpha", positive=True)


def _softplus(v: sp.Expr) -> sp.Expr:
    return sp.log(1 + sp.exp(v))


def _sigmoid(v: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-v))


class _Elementwise(FlowLayer):
    """Shared plumbing: ``y_k = g_k(x_k)``; subclasses define ``g``, ``g_inverse`` and ``log_derivative``."""

    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL
    direction: ClassVar[Direction] = "normalizing"

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        raise NotImplementedError

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        raise NotImplementedError

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        raise NotImplementedError

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(x[k] for k in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(self.g(x[k], k) for k in range(1, self.dim + 1))

    def inverse(self) -> tuple[sp.Expr, ...]:
        ys = self.output_symbols()
        return tuple(self.g_inverse(ys[k - 1], k) for k in range(1, self.dim + 1))

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[self.log_derivative(x[k], k) for k in range(1, self.dim + 1)])


class LeakyReLU(_Elementwise):
    r""":math:`g(x) = x\,[x \ge 0] + \alpha x\,[x < 0]`, :math:`\alpha > 0`, proved per branch.

    ``branches`` gives each coordinate's branch, ``"+"`` (:math:`x_i \ge 0`) or ``"-"``
    (:math:`x_i < 0`); the input atom carries that assumption, so the map, its inverse and the
    claimed log-det are the piecewise formulas *on that branch*. The default alternates ``"-+-..."``,
    so the negative branch is covered from D = 1 and both from D = 2 on.

    >>> LeakyReLU(2).forward()
    (alpha*x_{-}[1], x_{+}[2])
    """

    name: ClassVar[str] = "leaky-relu"

    def __init__(self, dim: int, branches: str | None = None) -> None:
        super().__init__(dim)
        branches = branches if branches is not None else ("-+" * dim)[:dim]
        if len(branches) != dim or set(branches) - {"+", "-"}:
            raise ValueError(f"LeakyReLU: branches must be {dim} characters from '+-', got {branches!r}")
        self.branches = branches

    def _atom(self, name: str, k: int) -> sp.Expr:
        if self.branches[k - 1] == "+":
            return sp.IndexedBase(f"{name}_{{+}}", nonnegative=True)[k]
        return sp.IndexedBase(f"{name}_{{-}}", negative=True)[k]

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(self._atom("x", k) for k in range(1, self.dim + 1))

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return tuple(self._atom("y", k) for k in range(1, self.dim + 1))

    def forward(self) -> tuple[sp.Expr, ...]:
        return tuple(self.g(v, k) for k, v in enumerate(self.inputs(), 1))

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[self.log_derivative(v, k) for k, v in enumerate(self.inputs(), 1)])

    def piecewise_logdet(self) -> sp.Expr:
        r"""The claim on all of :math:`\mathbb{R}^D`: :math:`\sum_i [x_i < 0]\log\alpha`."""
        return sp.Add(*[self.log_derivative(x[k], k) for k in range(1, self.dim + 1)])

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.Piecewise((v, v >= 0), (alpha * v, True))

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.Piecewise((v, v >= 0), (v / alpha, True))

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.Piecewise((0, v >= 0), (sp.log(alpha), True))

    def assumptions(self) -> tuple[str, ...]:
        rel = {"+": r"\ge", "-": "<"}
        signs = ", ".join(f"x_{{{k}}} {rel[b]} 0" for k, b in enumerate(self.branches, 1))
        return (r"\alpha > 0", signs, r"\text{at } x_i = 0 \text{ the right derivative } 1 \text{ is used}")


class Sigmoid(_Elementwise):
    r""":math:`g(x) = 1/(1 + e^{-x})`."""

    name: ClassVar[str] = "sigmoid"

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        return _sigmoid(v)

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(v / (1 - v))

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        return -v - 2 * _softplus(-v)

    def assumptions(self) -> tuple[str, ...]:
        return (r"x_i \in \mathbb{R},\ y_i \in (0, 1)",)


class Logit(_Elementwise):
    r""":math:`g(x) = \log\frac{x}{1 - x}` on :math:`(0, 1)`, the inverse of :class:`Sigmoid`."""

    name: ClassVar[str] = "logit"

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(v) - sp.log(1 - v)

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        return _sigmoid(v)

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(1 / sp.Abs(v * (1 - v)))  # -log|x(1-x)|, written so x(1-x) = 0 stays excluded

    def assumptions(self) -> tuple[str, ...]:
        return (r"x_i \in (0, 1)",)


class Tanh(_Elementwise):
    r""":math:`g(x) = \tanh x`, :math:`g' = 1 - \tanh^2 x > 0`."""

    name: ClassVar[str] = "tanh"

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.tanh(v)

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.atanh(v)

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(1 - sp.tanh(v) ** 2)

    def assumptions(self) -> tuple[str, ...]:
        return (r"x_i \in \mathbb{R},\ y_i \in (-1, 1)",)


class Softplus(_Elementwise):
    r""":math:`g(x) = \log(1 + e^x)`, :math:`g' = \operatorname{sigmoid}(x)`."""

    name: ClassVar[str] = "softplus"

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        return _softplus(v)

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(sp.exp(v) - 1)

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(_sigmoid(v))

    def assumptions(self) -> tuple[str, ...]:
        return (r"x_i \in \mathbb{R},\ y_i > 0",)


class ElementwiseAffine(_Elementwise):
    r""":math:`g(x_i) = a_i x_i + c_i`, :math:`a_i \neq 0` (any sign)."""

    name: ClassVar[str] = "elementwise-affine"

    def g(self, v: sp.Expr, k: int) -> sp.Expr:
        return a[k] * v + c[k]

    def g_inverse(self, v: sp.Expr, k: int) -> sp.Expr:
        return (v - c[k]) / a[k]

    def log_derivative(self, v: sp.Expr, k: int) -> sp.Expr:
        return sp.log(sp.Abs(a[k]))

    def assumptions(self) -> tuple[str, ...]:
        return (r"a_i \neq 0",)
