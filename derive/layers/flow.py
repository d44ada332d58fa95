r"""The IAF flow as a model: base map and steps, at concrete or symbolic sizes.

``IAFFlow(dim)`` is the generative flow of Kingma et al. 2016, eq. 10:
:math:`\boldsymbol\epsilon\mapsto\mathbf{z}_0 = \boldsymbol\mu_0+\boldsymbol\sigma_0\odot\boldsymbol\epsilon
\mapsto\mathbf{z}_1\mapsto\cdots`, with :math:`\mathbf{z}_t = \boldsymbol\mu_t+\boldsymbol\sigma_t\odot\mathbf{z}_{t-1}`.
:meth:`IAFFlow.step` gives the layer model of step t: the concrete :class:`~derive.layers.IAFStep` when
D and t are integers, else the component-wise :class:`~derive.layers.generic.GenericIAFStep`. The
quantities :class:`~derive.quantities.LogQ` and :class:`~derive.quantities.LogDetStep` are bound to a
flow through a :class:`~derive.quantities.ModelAtom`.

>>> import sympy as sp
>>> from derive.symbols import D
>>> IAFFlow(sp.Integer(2)).step(1)
IAFStep(dim=2, t=1)
>>> IAFFlow(D).step(sp.Symbol("n", integer=True, nonnegative=True) + 1).t
n + 1
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import sympy as sp

from derive._expr import as_expr
from derive.errors import VerificationError
from derive.layers.generic import GenericGaussianBase, GenericIAFStep, Params
from derive.symbols import D

__all__ = ["IAFFlow"]


@dataclasses.dataclass(frozen=True)
class IAFFlow(Params):
    """The IAF flow of dimension ``dim`` (an integer or the symbol D); ``stable``: LSTM-type steps."""

    dim: sp.Expr = D
    stable: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim", as_expr(self.dim))

    @property
    def latex_name(self) -> str:
        return "IAF" if not self.stable else "IAF (stable)"

    @property
    def concrete(self) -> bool:
        return bool(self.dim.is_Integer)

    def step(self, t: Any) -> Any:
        """The layer model of step ``t`` (0: the base map ε ↦ z_0); one instance per (flow, t)."""
        return _step(self, as_expr(t))

    def __repr__(self) -> str:
        return f"IAFFlow(dim={self.dim}{', stable' if self.stable else ''})"


@lru_cache(maxsize=1024)
def _step(self: IAFFlow, t: sp.Expr) -> Any:
    from derive.layers import GaussianBase, IAFStableStep, IAFStep

    if t == 0:
        return GaussianBase(int(self.dim)) if self.concrete else GenericGaussianBase(self.dim)
    if not (t - 1).is_nonnegative or not t.is_integer:
        raise VerificationError(f"cannot tell whether step {t} is an IAF step (t >= 1) or the base map")
    if self.concrete and t.is_Integer:
        cls = IAFStableStep if self.stable else IAFStep
        return cls(int(self.dim), t=int(t))
    return GenericIAFStep(t, self.dim, self.stable)
