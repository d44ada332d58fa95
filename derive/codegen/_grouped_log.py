r"""``LogProd``: :math:`\sum_{\text{axes}}\log x` evaluated as logarithms of grouped products, guarded.

For positive :math:`x`, :math:`\sum_k \log x_k = \sum_g \log\prod_{k\in g} x_k`; with groups of
:math:`n` factors this takes :math:`1/n` of the logarithms. Floating point adds one danger: a
partial product that overflows, or underflows into the subnormal range (where it silently loses
digits, e.g. :math:`10^{-300}\cdot10^{-20}\cdot10^{300}` would come out with 4 correct digits).
:func:`log_prod` therefore sizes the groups from the data, once per call, with two reductions:

* if every factor lies in :math:`[2^{-m}, 2^{m})` (``min`` and ``max`` of the block, read off with
  ``frexp``), a product of :math:`n \le \lfloor L/m \rfloor` factors lies in
  :math:`[2^{-L}, 2^{L})`, with :math:`2^{-L}` the smallest *normal* number (:math:`L = 1022` for
  float64, :math:`126` for float32) — and so does every partial product, since rounding is
  monotone and :math:`2^{\pm L}` are representable. Groups are built by a halving tree (each level
  multiplies the first half of the row into the second, in place), at most :math:`n` factors each;
* otherwise (a factor :math:`\le 0`, ``inf``, ``nan``, subnormal or beyond :math:`2^{\pm L/2}`)
  it is *exactly* the plain lowering, ``sum(log(x), axis, keepdims=True)``.

Error: a product of :math:`n` factors has relative error at most :math:`(n-1)u`, so each group
log is off by at most :math:`(n-1)u` plus its own rounding — an absolute error of about
:math:`u` per factor, against :math:`u\,|\log x_k|` per term for the sum of logs.

>>> import numpy as np
>>> x = np.array([[0.5, 4.0, 3.0], [1e-300, 1e300, 2.0]])
>>> log_prod(x, -1).ravel() - np.log(x).sum(-1)
array([0., 0.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy as sp

__all__ = ["LogProd", "group_size", "log_prod"]


#: -minexp per dtype: 2**-limit is the smallest normal number and 2**limit < the largest finite one.
_LIMIT: dict[np.dtype, int] = {}


def group_size(lo: float, hi: float, dtype: Any) -> int:
    r"""How many factors in ``[lo, hi]`` a product may hold and stay normal (``0``: not even one).

    >>> group_size(0.25, 3.9, np.float64), group_size(1e-300, 2.0, np.float64), group_size(0.0, 1.0, np.float64)
    (511, 1, 0)
    """
    limit = _LIMIT.get(np.dtype(dtype))
    if limit is None:
        limit = _LIMIT.setdefault(np.dtype(dtype), -int(np.finfo(dtype).minexp))
    if not (lo > 0 and math.isfinite(hi) and hi >= lo):  # also false for nan
        return 0
    _, e_lo = math.frexp(lo)  # lo >= 2**(e_lo - 1)
    _, e_hi = math.frexp(hi)  # hi < 2**e_hi
    m = max(1 - e_lo, e_hi, 1)
    return limit // m


#: Stop halving at this many products per row: later levels cost more in calls than their logs.
_FEW_LOGS = 8


def _reference(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return np.sum(np.log(x), axis=axes, keepdims=True)


def log_prod(x: Any, axis: int | tuple[int, ...]) -> Any:
    r""":math:`\sum_{\text{axis}}\log x` with ``keepdims``, from logs of grouped products (see module)."""
    x = np.asarray(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if x.dtype.kind != "f" or x.size == 0:
        return _reference(x, axes)
    r = len(axes)
    trailing = tuple(range(-r, 0))
    moved = (
        x
        if tuple(sorted(a - x.ndim if a >= 0 else a for a in axes)) == trailing
        else np.moveaxis(x, axes, trailing)
    )
    flat = moved.reshape((*moved.shape[: x.ndim - r], -1))  # a view when the axes are contiguous
    width = flat.shape[-1]
    lo, hi = np.minimum.reduce(flat, axis=None), np.maximum.reduce(flat, axis=None)
    most = group_size(float(lo), float(hi), x.dtype)
    if width < 2 or most < 2:
        return _reference(x, axes)
    # halving tree: after `level` levels every element holds at most 2**level factors; no level writes
    # into its own input (NumPy would copy an overlapping operand)
    level, count = flat, 1
    while width > _FEW_LOGS and 2 * count <= most:
        half = width // 2
        nxt = np.empty((*flat.shape[:-1], width - half), dtype=x.dtype)
        np.multiply(level[..., :half], level[..., width - half : width], out=nxt[..., :half])
        if width % 2:
            nxt[..., half] = level[..., half]
        level, width, count = nxt, width - half, 2 * count
    if count == 1:
        return _reference(x, axes)
    logs = np.log(level, out=level)
    total = np.sum(logs, axis=-1)
    shape = [1 if k - x.ndim in axes or k in axes else n for k, n in enumerate(x.shape)]
    return total.reshape(shape)


class LogProd(sp.Function):
    r"""``LogProd(a, axes)``: :math:`\log\prod_{\text{axes}} a = \sum_{\text{axes}}\log a` (``keepdims``),
    for positive ``a``; prints as a call of :func:`log_prod` (``derive_log_prod``), which
    :func:`~derive.codegen.generate` puts in the kernel's namespace.

    >>> from sympy.printing.numpy import NumPyPrinter
    >>> NumPyPrinter().doprint(LogProd(sp.Symbol("sigma"), sp.Tuple(-2, -1)))
    'derive_log_prod(sigma, (-2, -1))'
    """

    nargs = 2

    def _numpycode(self, printer: Any) -> str:
        vals = [int(a) for a in self.args[1]]
        axes = str(vals[0]) if len(vals) == 1 else str(tuple(vals))
        return f"derive_log_prod({printer._print(self.args[0])}, {axes})"


#: Names the generated code calls besides NumPy's (lambdify's namespace).
NAMESPACE = {"derive_log_prod": log_prod}
