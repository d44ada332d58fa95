r"""Hypothesis strategies for flow layers: inputs on explicit domains, scales spanning many decades.

Scales are drawn *log-uniformly* (:math:`\sigma = e^u`, :math:`u` uniform on
:math:`[\log a, \log b]`), so :math:`\sigma` near 0 and very large are as likely as
:math:`\sigma \approx 1`, and shrinking moves towards :math:`u = 0`, i.e. :math:`\sigma = 1` — the
simplest scale. Inputs shrink towards 0. Everything is ``float64``.

>>> from hypothesis import find
>>> find(inputs(2, batch_shape=(3,)), lambda a: True).shape
(3, 2)
>>> bool(find(scales((2,)), lambda a: bool((a > 10).any())).max() > 10)
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "Domain",
    "inputs",
    "log_scales",
    "reals",
    "scales",
    "signed_scales",
    "stability_constants",
]

#: A named input domain, an explicit ``(low, high)`` interval, or a strategy for one coordinate.
Domain = Literal["real", "positive", "unit_interval"] | tuple[float, float] | st.SearchStrategy[float] | None


def reals(min_value: float = -10.0, max_value: float = 10.0) -> st.SearchStrategy[float]:
    """Finite float64 values in ``[min_value, max_value]`` (no NaN, no infinity, no subnormals)."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _log_uniform(min_value: float, max_value: float) -> st.SearchStrategy[float]:
    if not 0 < min_value <= 1 <= max_value:
        raise ValueError(f"need 0 < min_value <= 1 <= max_value, got ({min_value}, {max_value})")
    return reals(math.log(min_value), math.log(max_value)).map(math.exp)


def _arrays(shape: Sequence[int] | int, elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    # Every element drawn on its own (no shared "fill" value), so each coordinate shrinks independently
    # and a counterexample keeps only the coordinates that matter.
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    return hnp.arrays(np.float64, dims, elements=elements, fill=st.nothing())


def _elements(domain: Domain) -> st.SearchStrategy[float]:
    if domain is None or domain == "real":
        return reals()
    if domain == "positive":
        return _log_uniform(1e-6, 1e6)
    if domain == "unit_interval":
        return st.floats(0.0, 1.0, exclude_min=True, exclude_max=True, allow_subnormal=False)
    if isinstance(domain, tuple):
        low, high = domain
        return reals(low, high)
    if isinstance(domain, st.SearchStrategy):
        return domain
    raise ValueError(
        f"unknown domain {domain!r}: use 'real', 'positive', 'unit_interval', (low, high) or a strategy"
    )


def inputs(
    dim: int, *, batch_shape: Sequence[int] = (), domain: Domain = None
) -> st.SearchStrategy[np.ndarray]:
    r"""Arrays of shape ``(*batch_shape, dim)`` with coordinates in ``domain``.

    ``None``/``"real"``: :math:`[-10, 10]`; ``"positive"``: log-uniform on :math:`[10^{-6}, 10^6]`;
    ``"unit_interval"``: :math:`(0, 1)`; ``(low, high)``: that closed interval; or any strategy
    for one coordinate.
    """
    return _arrays((*batch_shape, dim), _elements(domain))


def scales(
    shape: Sequence[int] | int, *, min_value: float = 1e-6, max_value: float = 1e6
) -> st.SearchStrategy[np.ndarray]:
    r"""Positive scales :math:`\sigma`, log-uniform on ``[min_value, max_value]`` (near 0 and large)."""
    return _arrays(shape, _log_uniform(min_value, max_value))


def signed_scales(
    shape: Sequence[int] | int, *, min_value: float = 1e-6, max_value: float = 1e6
) -> st.SearchStrategy[np.ndarray]:
    r"""Nonzero scales of either sign (e.g. :math:`\gamma` of batch norm), :math:`|\gamma|` log-uniform."""
    signed = st.tuples(st.sampled_from((1.0, -1.0)), _log_uniform(min_value, max_value))
    return _arrays(shape, signed.map(lambda p: p[0] * p[1]))


def log_scales(shape: Sequence[int] | int, *, bound: float = 12.0) -> st.SearchStrategy[np.ndarray]:
    r""":math:`\log\sigma` uniform on ``[-bound, bound]``.

    The default bound spans :math:`\sigma \in [6\cdot10^{-6}, 1.6\cdot10^{5}]`.
    """
    return _arrays(shape, reals(-bound, bound))


def stability_constants(min_value: float = 1e-12, max_value: float = 1e-1) -> st.SearchStrategy[float]:
    r"""The batch-norm :math:`\epsilon > 0`, log-uniform: tiny values are as likely as ``1e-5``."""
    if not 0 < min_value <= max_value:
        raise ValueError(f"need 0 < min_value <= max_value, got ({min_value}, {max_value})")
    return reals(math.log(min_value), math.log(max_value)).map(math.exp)
