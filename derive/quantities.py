r"""Named quantities that appear on the left of proof chains, as SymPy functions that print as LaTeX.

They are opaque on purpose (no evaluation): a proof step *replaces* one with its value, and the
check confirms the replacement against an established fact. Their LaTeX is the problem set's.

>>> import sympy as sp
>>> sp.latex(LogDensity(sp.Symbol("T")))
'\\log q(\\mathbf{z}_{T}|\\mathbf{x})'
>>> sp.latex(LogAbsDetJ(1))
'\\log\\left|\\det \\frac{\\partial \\mathbf{z}_{1}}{\\partial \\mathbf{z}_{0}}\\right|'
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = [
    "JacobianEntry",
    "LogAbsDetBatchNorm",
    "LogAbsDetJ",
    "LogAbsDetTotal",
    "LogDensity",
    "LogStdNormal",
]


class _Quantity(sp.Function):
    """An unevaluated named quantity (never simplifies on its own)."""

    is_real = True

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None


class LogDensity(_Quantity):
    r""":math:`\log q(\mathbf{z}_t|\mathbf{x})`, the log-density of the t-th iterate."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        return rf"\log q(\mathbf{{z}}_{{{printer._print(self.args[0])}}}|\mathbf{{x}})"

    def _sympystr(self, printer: Any) -> str:
        return f"log q(z_{printer._print(self.args[0])}|x)"


class LogStdNormal(_Quantity):
    r""":math:`\log\mathcal{N}(\boldsymbol\epsilon; \mathbf{0}, \mathbf{I})`, the base density of the noise."""

    nargs = 0

    def _latex(self, printer: Any) -> str:
        return r"\log\mathcal{N}(\boldsymbol{\epsilon};\mathbf{0},\mathbf{I})"

    def _sympystr(self, printer: Any) -> str:
        return "log N(eps; 0, I)"


class LogAbsDetJ(_Quantity):
    r""":math:`\log|\det \partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}|` (``t = 0``: with respect to ε)."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        k = self.args[0]
        den = r"\boldsymbol{\epsilon}" if k == 0 else rf"\mathbf{{z}}_{{{printer._print(k - 1)}}}"
        return (
            rf"\log\left|\det \frac{{\partial \mathbf{{z}}_{{{printer._print(k)}}}}}{{\partial {den}}}\right|"
        )

    def _sympystr(self, printer: Any) -> str:
        return f"log|det dz_{printer._print(self.args[0])}/dz_prev|"


class LogAbsDetTotal(_Quantity):
    r""":math:`\log|\det \partial\mathbf{z}_T/\partial\boldsymbol\epsilon|`, the whole flow's log-determinant."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        return (
            rf"\log\left|\det \frac{{\partial \mathbf{{z}}_{{{printer._print(self.args[0])}}}}}"
            r"{\partial \boldsymbol{\epsilon}}\right|"
        )

    def _sympystr(self, printer: Any) -> str:
        return f"log|det dz_{printer._print(self.args[0])}/deps|"


class LogAbsDetBatchNorm(_Quantity):
    r""":math:`\log|\det \partial\mathbf{y}/\partial\mathbf{x}|` of a batch-normalisation layer."""

    nargs = 0

    def _latex(self, printer: Any) -> str:
        return r"\log\left|\det \frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|"

    def _sympystr(self, printer: Any) -> str:
        return "log|det dy/dx|"


class JacobianEntry(_Quantity):
    r""":math:`\partial y_{i}/\partial x_{j}` for a layer named by ``args[0]`` (printing only)."""

    nargs = 3

    def _latex(self, printer: Any) -> str:
        name, r, c = self.args
        return rf"\left(J_{{{printer._print(name)}}}\right)_{{{printer._print(r)},{printer._print(c)}}}"
