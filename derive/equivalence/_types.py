r"""The value types of the equivalence engine: size variables, the domain, the verdict.

>>> import sympy as sp
>>> from derive.symbols import D
>>> SizeVar(D, 1, (1, 2, 3, 5)).trial_values
(1, 2, 3, 5)
>>> Domain(sizes=(SizeVar(D, 1, (1, 2)),)).size_symbols
(D,)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sympy as sp

__all__ = ["Domain", "SizeVar", "Status", "Verdict"]

Status = Literal["equivalent", "not-equivalent", "undecided"]


@dataclass(frozen=True)
class SizeVar:
    r"""A size (``D``, ``T``, ``N``): an integer ``>= minimum``, tried at ``trial_values``."""

    symbol: sp.Symbol
    minimum: int
    trial_values: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.trial_values:
            raise ValueError(f"size {self.symbol} needs at least one trial value")
        low = [v for v in self.trial_values if v < self.minimum]
        if low:
            raise ValueError(f"trial values {low} of {self.symbol} are below its minimum {self.minimum}")


@dataclass(frozen=True)
class Domain:
    r"""Where ``answer == reference`` must hold: the sizes and optional definitions.

    ``definitions`` maps an atom to its value and is applied to both sides first. A key that is
    an ``Indexed`` whose indices are distinct symbols (``z[t, i]``) is a *pattern*: every
    ``z[a, b]`` becomes the value with ``t -> a, i -> b``. Value domains of all other atoms come
    from their SymPy assumptions (positive / real / nonzero).
    """

    sizes: tuple[SizeVar, ...]
    definitions: Mapping[sp.Expr, sp.Expr] = field(default_factory=dict)

    @property
    def size_symbols(self) -> tuple[sp.Symbol, ...]:
        """The size symbols, in order."""
        return tuple(s.symbol for s in self.sizes)

    def key(self) -> tuple[Any, ...]:
        """A hashable identity (for caches): sizes and definitions."""
        defs = tuple(sorted(self.definitions.items(), key=lambda kv: sp.default_sort_key(kv[0])))
        return (self.sizes, defs)


@dataclass(frozen=True)
class Verdict:
    r"""The decision, with how it was reached.

    ``counterexample`` and ``evidence`` are JSON-ready (strings, numbers, lists, dicts).
    """

    status: Status
    method: str
    message: str
    counterexample: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
