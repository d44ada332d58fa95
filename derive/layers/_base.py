r"""The one abstract flow layer every model implements.

A layer is a map :math:`\mathbf{y} = f(\mathbf{x})` at a concrete dimension, stated symbolically:

* ``inputs()`` / ``forward()`` — the input atoms and the output expressions in terms of them;
* ``inverse()`` — the inputs in terms of ``output_symbols()`` where a closed form exists;
* ``claimed_logdet()`` — the closed form of :math:`\log|\det \partial\mathbf{y}/\partial\mathbf{x}|`
  that the core must *prove* from ``forward()`` (it is a claim, not an axiom);
* ``claimed_structure`` — the Jacobian structure the layer advertises (also proved);
* ``direction`` — which way the map goes, because the density formula's sign depends on it:
  ``"generative"`` maps noise to samples (the density of the output *subtracts* the log-det),
  ``"normalizing"`` maps data to noise (the density of the input *adds* it);
* ``abbreviations()`` — how a model-level term (e.g. :math:`\sigma_{t,i}(z_{t-1,1:i-1}, h)`) is
  abbreviated in results (e.g. :math:`\sigma_{t,i}`), so results read like the paper.

A new layer (planar, radial, affine coupling, ActNorm, 1×1 convolution) is one module with one
subclass plus one entry in :data:`derive.layers.LAYERS`; the contract test picks it up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, ClassVar, Literal, TypeVar

import sympy as sp

from derive._expr import as_expr
from derive.jacobian import Structure, StructuredJacobian, jacobian

__all__ = ["Direction", "FlowLayer"]

Direction = Literal["generative", "normalizing"]
_T = TypeVar("_T")


@lru_cache(maxsize=512)
def _shared_jacobian(layer: FlowLayer) -> StructuredJacobian:
    """One Jacobian per *equal* layer (layers are value objects), however many instances ask."""
    return jacobian(layer.forward(), layer.inputs())


class FlowLayer(ABC):
    """A flow layer at a concrete dimension ``dim``, stated symbolically."""

    name: ClassVar[str]
    direction: ClassVar[Direction]
    claimed_structure: ClassVar[Structure]

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"{type(self).__name__}: dim must be a positive integer, got {dim!r}")
        self.dim = dim

    @abstractmethod
    def inputs(self) -> tuple[sp.Expr, ...]:
        """The input atoms, in order."""

    @abstractmethod
    def forward(self) -> tuple[sp.Expr, ...]:
        """The outputs as expressions in the inputs (and parameters)."""

    def output_symbols(self) -> tuple[sp.Expr, ...]:
        """Atoms that stand for the outputs (used by ``inverse``)."""
        return tuple(sp.Symbol(f"y_{r + 1}", real=True) for r in range(self.dim))

    def inverse(self) -> tuple[sp.Expr, ...] | None:
        """The inputs in terms of ``output_symbols()``, or ``None`` without a closed form."""
        return None

    @abstractmethod
    def claimed_logdet(self) -> sp.Expr:
        r"""The claimed closed form of :math:`\log|\det J|`, in abbreviated notation."""

    def abbreviations(self) -> Mapping[sp.Expr, sp.Expr]:
        """Model-level terms → the symbols results are written in."""
        return {}

    def assumptions(self) -> tuple[str, ...]:
        """The parameters' assumptions, as text (they are also SymPy assumptions on the atoms)."""
        return ()

    def abbreviate(self, expr: sp.Expr) -> sp.Expr:
        return as_expr(expr).xreplace(self._cached("abbreviations", lambda: dict(self.abbreviations())))

    def jacobian(self) -> StructuredJacobian:
        """The Jacobian of ``forward()`` with respect to ``inputs()``, structure proved (computed once)."""
        return self._cached("jacobian", lambda: _shared_jacobian(self))

    def _cached(self, key: str, make: Callable[[], _T]) -> _T:
        """Layers are immutable once built, so derived objects are computed once per instance."""
        cache: dict[str, Any] = self.__dict__.setdefault("_derive_cache", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def derived_logdet(self) -> sp.Expr:
        r""":math:`\log|\det J|` computed from the map (structure-aware), then abbreviated."""
        return self.abbreviate(self.jacobian().log_abs_det())

    #: How the kernel prints the map's Jacobian ∂(output)/∂(input): LaTeX and plain text.
    latex_io: ClassVar[tuple[str, str]] = (r"\mathbf{y}", r"\mathbf{x}")
    text_io: ClassVar[tuple[str, str]] = ("y", "x")

    def _key(self) -> tuple[Any, ...]:
        """Value identity: the class and the public constructor parameters (models are immutable)."""
        params = tuple(sorted((k, v) for k, v in vars(self).items() if not k.startswith("_")))
        return (type(self).__qualname__, params)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"
