r"""Inverse Autoregressive Flow steps (Kingma et al. 2016, eq. 10 and section 3).

Autoregression is *real* in these models: :math:`\mu_{t,i}` and :math:`\sigma_{t,i}` are undefined
SymPy functions whose arguments are exactly :math:`z_{t-1,1},\dots,z_{t-1,i-1}` and the context
:math:`h`, so the triangular Jacobian is derived from the map, not assumed.

* :class:`IAFStep` — :math:`z_{t,i} = \mu_{t,i} + \sigma_{t,i}\,z_{t-1,i}` (generative);
  :math:`\log|\det J| = \sum_i\log\sigma_{t,i}`.
* :class:`IAFStableStep` — the LSTM-type step :math:`z_{t,i} = \sigma_{t,i} z_{t-1,i} +
  (1-\sigma_{t,i}) m_{t,i}`, :math:`\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i})`;
  :math:`\log|\det J| = \sum_i \log\operatorname{sigmoid}(s_{t,i})`.
* :class:`IAFInverse` — the normalizing direction :math:`\epsilon_i = (y_i - \mu_i(\mathbf{y}_{1:i-1}))
  /\sigma_i(\mathbf{y}_{1:i-1})` (paper, section 3); :math:`\log|\det J| = -\sum_i\log\sigma_i`.
  The sign flips with the direction: mixing the two up is the classic error.

>>> IAFStep(3, t=1).jacobian().structure.value
'lower-triangular'
>>> IAFStep(2, t=1).derived_logdet()
log(sigma[1, 1]) + log(sigma[1, 2])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import sympy as sp

from derive.jacobian import Structure, _reference_mode
from derive.layers._base import Direction, FlowLayer
from derive.layers.generic import (
    ARm,
    ARs,
    GenericIAFStep,
    Mu,
    Sigma,
    _ar_arguments,
    _concrete_ar,
    concrete_ar,
)
from derive.symbols import epsilon, h, m, mu, s, sigma, z

__all__ = ["IAFInverse", "IAFStableStep", "IAFStep", "sigmoid"]


def sigmoid(v: sp.Expr) -> sp.Expr:
    r""":math:`\operatorname{sigmoid}(v) = 1/(1+e^{-v})`."""
    return 1 / (1 + sp.exp(-v))


class _Autoregressive(FlowLayer):
    """Shared plumbing: inputs ``z[t-1, 1..D]`` and per-dimension argument lists ``(z[t-1, <i], h)``."""

    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR

    @property
    def latex_io(self) -> tuple[str, str]:  # type: ignore[override]
        return (rf"\mathbf{{z}}_{{{self.t}}}", rf"\mathbf{{z}}_{{{self.t - 1}}}")

    @property
    def text_io(self) -> tuple[str, str]:  # type: ignore[override]
        return (f"z_{self.t}", f"z_{self.t - 1}")

    def __init__(self, dim: int, t: int = 1) -> None:
        super().__init__(dim)
        if not isinstance(t, int) or t < 1:
            raise ValueError(f"{type(self).__name__}: step t must be an integer >= 1, got {t!r}")
        self.t = t

    def inputs(self) -> tuple[sp.Expr, ...]:
        return self._cached("inputs", self._make_inputs)

    def _make_inputs(self) -> tuple[sp.Expr, ...]:
        # The very objects the autoregressive functions take as arguments (``concrete_ar``), so
        # looking an argument up among the inputs is an identity test, not a structural comparison.
        t, out = sp.Integer(self.t), ()
        for k in range(1, self.dim + 2):  # built incrementally: each call extends the cached prefix
            out = _ar_arguments(t, k)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, t={self.t})"

    def ar_args(self, k: int) -> tuple[sp.Expr, ...]:
        """Arguments of the k-th autoregressive output: the inputs before k, and the context h."""
        return (*self.inputs()[: k - 1], h)

    def ar_function(self, name: str, k: int, **assumptions: bool) -> sp.Expr:
        """The k-th autoregressive function ``name``: the very object ``forward()`` uses."""
        kind = {r"\mu": Mu, r"\sigma": Sigma, "s": ARs, "m": ARm}[name]
        return concrete_ar(kind(sp.Integer(self.t), sp.Integer(k)))

    def assumptions(self) -> tuple[str, ...]:
        return (
            rf"\mu_{{{self.t},i}},\ \sigma_{{{self.t},i}} \text{{ depend on }} z_{{{self.t - 1},1:i-1}}, h \text{{ only}}",
        )


class IAFStep(_Autoregressive):
    r"""One IAF step, paper eq. 10: :math:`\mathbf{z}_t = \boldsymbol\mu_t + \boldsymbol\sigma_t\odot\mathbf{z}_{t-1}`."""

    name: ClassVar[str] = "iaf-step"
    direction: ClassVar[Direction] = "generative"

    def mu(self, k: int) -> sp.Expr:
        return self.ar_function(r"\mu", k, real=True)

    def sigma(self, k: int) -> sp.Expr:
        return self.ar_function(r"\sigma", k, positive=True)

    def forward(self) -> tuple[sp.Expr, ...]:
        # The same components as the symbolic-D model, with explicit autoregressive arguments.
        t = sp.Integer(self.t)
        if _reference_mode():
            step = GenericIAFStep(t, sp.Integer(self.dim))
            return tuple(concrete_ar(step.component(sp.Integer(k))) for k in range(1, self.dim + 1))
        # GenericIAFStep.component, mu + sigma * z, built directly (tests/test_fast_paths.py: equal to
        # concrete_ar(component) on both paths, so the two models cannot drift apart).
        x = self.inputs()
        return tuple(
            _concrete_ar(Mu, t, sp.Integer(k)) + _concrete_ar(Sigma, t, sp.Integer(k)) * x[k - 1]
            for k in range(1, self.dim + 1)
        )

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return tuple(z[self.t, k] for k in range(1, self.dim + 1))

    def inverse(self) -> tuple[sp.Expr, ...]:
        y = self.output_symbols()
        return tuple((y[k - 1] - self.mu(k)) / self.sigma(k) for k in range(1, self.dim + 1))

    def abbreviations(self) -> Mapping[sp.Expr, sp.Expr]:
        out: dict[sp.Expr, sp.Expr] = {}
        t = sp.Integer(self.t)
        for k in range(1, self.dim + 1):
            # the objects self.sigma(k), self.mu(k) return (concrete_ar of Sigma(t, k), Mu(t, k))
            out[_concrete_ar(Sigma, t, sp.Integer(k))] = sigma[self.t, k]
            out[_concrete_ar(Mu, t, sp.Integer(k))] = mu[self.t, k]
        return out

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[sp.log(sigma[self.t, k]) for k in range(1, self.dim + 1)])


class IAFStableStep(_Autoregressive):
    r"""The numerically stable step: :math:`\mathbf{z}_t = \boldsymbol\sigma_t\odot\mathbf{z}_{t-1} + (1-\boldsymbol\sigma_t)\odot\mathbf{m}_t`."""

    name: ClassVar[str] = "iaf-stable-step"
    direction: ClassVar[Direction] = "generative"

    def s(self, k: int) -> sp.Expr:
        return self.ar_function("s", k, real=True)

    def m(self, k: int) -> sp.Expr:
        return self.ar_function("m", k, real=True)

    def forward(self) -> tuple[sp.Expr, ...]:
        step = GenericIAFStep(sp.Integer(self.t), sp.Integer(self.dim), stable=True)
        return tuple(concrete_ar(step.component(sp.Integer(k))) for k in range(1, self.dim + 1))

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return tuple(z[self.t, k] for k in range(1, self.dim + 1))

    def inverse(self) -> tuple[sp.Expr, ...]:
        y = self.output_symbols()
        return tuple(
            (y[k - 1] - (1 - sigmoid(self.s(k))) * self.m(k)) / sigmoid(self.s(k))
            for k in range(1, self.dim + 1)
        )

    def abbreviations(self) -> Mapping[sp.Expr, sp.Expr]:
        out: dict[sp.Expr, sp.Expr] = {}
        for k in range(1, self.dim + 1):
            out[self.s(k)] = s[self.t, k]
            out[self.m(k)] = m[self.t, k]
        return out

    def claimed_logdet(self) -> sp.Expr:
        return sp.Add(*[sp.log(sigmoid(s[self.t, k])) for k in range(1, self.dim + 1)])


class IAFInverse(FlowLayer):
    r"""Normalizing direction: :math:`\epsilon_i = (y_i - \mu_i(\mathbf{y}_{1:i-1}, h))/\sigma_i(\mathbf{y}_{1:i-1}, h)`."""

    name: ClassVar[str] = "iaf-inverse"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR
    latex_io: ClassVar[tuple[str, str]] = (r"\boldsymbol{\epsilon}", r"\mathbf{y}")
    text_io: ClassVar[tuple[str, str]] = ("ε", "y")
    #: The model's statement that its output is the flow's noise, ε ~ N(0, I).
    output_standard_normal: ClassVar[bool] = True
    y = sp.IndexedBase("y", real=True)

    def inputs(self) -> tuple[sp.Expr, ...]:
        return tuple(self.y[k] for k in range(1, self.dim + 1))

    def _args(self, k: int) -> tuple[sp.Expr, ...]:
        return (*self.inputs()[: k - 1], h)

    def mu(self, k: int) -> sp.Expr:
        return sp.Function(rf"\mu_{{{k}}}", real=True)(*self._args(k))

    def sigma(self, k: int) -> sp.Expr:
        return sp.Function(rf"\sigma_{{{k}}}", positive=True)(*self._args(k))

    def forward(self) -> tuple[sp.Expr, ...]:
        y = self.inputs()
        return tuple((y[k - 1] - self.mu(k)) / self.sigma(k) for k in range(1, self.dim + 1))

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        return tuple(epsilon[k] for k in range(1, self.dim + 1))

    def inverse(self) -> tuple[sp.Expr, ...]:
        e = self.output_symbols()
        return tuple(self.mu(k) + self.sigma(k) * e[k - 1] for k in range(1, self.dim + 1))

    def abbreviations(self) -> Mapping[sp.Expr, sp.Expr]:
        out: dict[sp.Expr, sp.Expr] = {}
        for k in range(1, self.dim + 1):
            out[self.sigma(k)] = sigma[k]
            out[self.mu(k)] = mu[k]
        return out

    def claimed_logdet(self) -> sp.Expr:
        return -sp.Add(*[sp.log(sigma[k]) for k in range(1, self.dim + 1)])

    def assumptions(self) -> tuple[str, ...]:
        return (r"\mu_i,\ \sigma_i \text{ depend on } y_{1:i-1}, h \text{ only}", r"\sigma_i > 0")
