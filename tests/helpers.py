"""Shared test helpers: named numeric tolerances and an exact (mpmath, 50 digits) reference evaluator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

#: Relative tolerance of a float kernel against the 50-digit reference, *relative to the scale*
#: of the computation (the sum of the magnitudes of its terms, so cancellation is allowed for):
#: a few ulps per operation times a sum over at most a few dozen terms, with margin.
RTOL: dict[np.dtype, float] = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}

#: Digits of the reference evaluation.
REFERENCE_DIGITS = 50


def rtol(dtype: Any) -> float:
    """The named relative tolerance for ``dtype``."""
    return RTOL[np.dtype(dtype)]


def assert_close(got: Any, want: Any, *, dtype: Any, scale: Any = 0.0) -> None:
    """``|got - want| <= rtol(dtype) * max(|want|, scale)`` elementwise (``scale``: size of the terms)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    bound = rtol(dtype) * np.maximum(np.abs(want), np.asarray(scale, dtype=np.float64))
    err = np.abs(got - want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.all(err <= bound), f"got {got}, want {want}, |error| {err} > allowed {bound}"


def exact_value(
    expr: sp.Expr,
    sizes: Mapping[sp.Symbol, int],
    arrays: Mapping[sp.IndexedBase, tuple[np.ndarray, tuple[int, ...]]],
    scalars: Mapping[sp.Symbol, float] | None = None,
) -> float:
    """Evaluate ``expr`` at concrete sizes and values to :data:`REFERENCE_DIGITS` digits.

    ``arrays`` maps a base to ``(values, starts)``: ``base[k1, k2]`` is ``values[k1 - starts[0], k2 -
    starts[1]]``. Sizes (and fixed free indices) are substituted, sums expanded with ``doit()``, and
    every float enters exactly (binary floats are exact in mpmath).
    """
    e = expr.subs(dict(sizes)).doit()
    repl: dict[sp.Basic, sp.Basic] = {
        sym: sp.Float(float(v), REFERENCE_DIGITS) for sym, v in (scalars or {}).items()
    }
    for atom in e.atoms(sp.Indexed):
        values, starts = arrays[atom.base]
        pos = tuple(int(k) - s for k, s in zip(atom.indices, starts, strict=True))
        if any(p < 0 for p in pos):
            raise IndexError(f"{atom} is outside the array")
        repl[atom] = sp.Float(float(values[pos]), REFERENCE_DIGITS)
    value = e.xreplace(repl).evalf(REFERENCE_DIGITS)
    if not value.is_number or value.free_symbols:
        raise ValueError(f"reference did not evaluate to a number: {value}")
    return float(value)
