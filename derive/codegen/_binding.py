r"""Bindings: which array holds each ``IndexedBase``, and which index runs along which of its axes.

A binding maps an ``IndexedBase`` to ``(argument name, layout)`` and a scalar ``Symbol`` to an
argument name (a per-batch scalar, shape ``(...)``). The layout has one entry per index
*position* of the base, in the array's axis order:

* :class:`Axis` ``(index, start, stop)`` — an array axis holding ``index = start..stop``;
* a bare index symbol — an axis with the range in :data:`DEFAULT_RANGES` (``t``: ``0..T``);
* an ``int`` — the array holds only that index value (no axis), e.g. :math:`\sigma_{0,i}`;
* ``None`` — no axis; the expression's index there must be free (one step's ``sigma[t, i]``).

Sizes (``D``, ``T``, ``N``) are read off the arrays' shapes at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import sympy as sp

from derive._expr import as_expr
from derive.symbols import D, N, T, i, j, n, t

__all__ = ["DEFAULT_RANGES", "Axis", "Binding", "LayoutItem"]


@dataclass(frozen=True)
class Axis:
    """An array axis along which ``index`` runs from ``start`` to ``stop`` (inclusive)."""

    index: sp.Symbol
    start: sp.Expr | int
    stop: sp.Expr | int


#: Index ranges used when a layout names a bare index symbol.
DEFAULT_RANGES: dict[sp.Symbol, tuple[sp.Expr | int, sp.Expr]] = {
    i: (1, D),
    j: (1, D),
    t: (0, T),
    n: (1, N),
}

LayoutItem: TypeAlias = Axis | sp.Symbol | int | None
Binding: TypeAlias = Mapping[Any, str | tuple[str, Sequence[LayoutItem]]]


@dataclass(frozen=True)
class _Array:
    arg: sp.Symbol  # the lambdify argument
    layout: tuple[LayoutItem, ...]  # normalized: Axis | int | None

    @property
    def axes(self) -> tuple[Axis, ...]:
        return tuple(a for a in self.layout if isinstance(a, Axis))


def _normalize(base: Any, spec: str | tuple[str, Sequence[LayoutItem]]) -> _Array:
    if isinstance(spec, str):
        if isinstance(base, sp.IndexedBase):
            raise ValueError(f"binding for {base} needs a layout: (name, (index, ...))")
        return _Array(sp.Symbol(spec), ())
    name, layout = spec
    items: list[LayoutItem] = []
    for item in layout:
        if isinstance(item, sp.Symbol):
            if item not in DEFAULT_RANGES:
                raise ValueError(f"binding for {base}: index {item} has no default range; use Axis")
            item = Axis(item, *DEFAULT_RANGES[item])
        items.append(item)
    return _Array(sp.Symbol(name), tuple(items))


def _integer(expr: sp.Expr) -> int | None:
    expr = sp.simplify(expr)
    return int(expr) if expr.is_Integer else None


def _slice(first: sp.Expr, last: sp.Expr, length: sp.Expr) -> tuple[int | None, int | sp.Expr | None]:
    """Positions ``[first, last)`` of an axis of ``length`` as a Python slice (``oo``: to the end).

    ``None`` where the bound is not a fixed offset from either end or lies outside the axis.
    """
    head, tail = _integer(first), _integer(first - length)
    p0 = head if head is not None and head >= 0 else tail if tail is not None and tail < 0 else None
    end, from_end = _integer(last), _integer(last - length)
    p1: int | sp.Expr | None
    if from_end is not None:
        p1 = sp.oo if from_end == 0 else from_end if from_end < 0 else None
    else:
        p1 = end if end is not None and end >= 0 else None
    return p0, p1


def _split_index(idx: sp.Expr, sizes: Iterable[sp.Symbol]) -> tuple[sp.Symbol | None, sp.Expr]:
    """``t - 1`` → ``(t, -1)``; ``0`` or ``T`` (sizes only) → ``(None, T)``."""
    idx = as_expr(idx)
    others = [a for a in idx.free_symbols if a not in set(sizes)]
    if not others:
        return None, idx
    if len(others) == 1 and (idx - others[0]).free_symbols <= set(sizes):
        return others[0], idx - others[0]
    raise ValueError(f"cannot lower index {idx}: expected an index plus a constant, or a constant")
