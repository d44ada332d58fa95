r"""NumPy log-det kernels generated from the issue-11 layer models' claims — the expressions the
contract test proves from each map (``tests/test_layers_contract.py``).

A kernel is ``sympy.lambdify`` of ``layer.claimed_logdet()`` at the size read off the arguments
(generated once per size and cached); its ``.expr`` is that expression. Trailing axes as
documented, leading axes broadcast.

* :func:`planar_logdet` — :math:`\log|1 + h'(\mathbf{w}^\top\mathbf{z}+b)\,m(\mathbf{w}^\top\mathbf{u})|`
  (reparametrised, ``reparametrize=False``: :math:`\log|1 + \mathbf{u}^\top\psi|`); ``z`` ``(..., D)``;
* :func:`actnorm_logdet` — :math:`HW\sum_c\log|s_c|`; :func:`conv1x1_logdet` —
  :math:`HW\log|\det\mathbf{W}|`; :func:`conv1x1_lu_logdet` — :math:`HW\sum_c\log|s_c|`;
* :func:`coupling_logdet` — :math:`\sum_{j: b_j = 0} s_j`; :func:`maf_logdet` — :math:`-\sum_i\alpha_i`;
* :func:`leaky_relu_logdet` — :math:`\sum_i[x_i<0]\log\alpha` (both branches, from the piecewise claim);
* :func:`rq_spline_logdet` — Durkan et al. eq. 5 per bin; the kernel *picks the bin* with
  ``searchsorted`` and uses 0 on the identity tails.

>>> import numpy as np
>>> round(float(actnorm_logdet(np.array([2.0, -0.5]), height=3, width=2)), 12)  # 6 (log 2 + log 0.5)
0.0
>>> float(leaky_relu_logdet(np.array([-1.0, 2.0, -3.0]), alpha=np.e))
2.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

__all__ = [
    "actnorm_logdet",
    "conv1x1_logdet",
    "conv1x1_lu_logdet",
    "coupling_logdet",
    "leaky_relu_logdet",
    "maf_logdet",
    "planar_logdet",
    "rq_spline_logdet",
]


class _Generated:
    """A lambdified claim with the expression it came from."""

    def __init__(self, expr: Any, groups: Sequence[Sequence[Any]]) -> None:
        import sympy as sp

        self.expr = expr
        self.fn: Callable[..., Any] = sp.lambdify([list(g) for g in groups], expr, "numpy")

    def __call__(self, *arrays: Any) -> np.ndarray:
        parts = [list(np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)) for a in arrays]
        return np.asarray(self.fn(*parts), dtype=np.float64)


@cache
def _planar(dim: int, reparametrize: bool) -> _Generated:
    from derive.layers.planar import Planar, PlanarReparametrized, b, u, w, z

    layer = PlanarReparametrized(dim) if reparametrize else Planar(dim)
    r = range(1, dim + 1)
    return _Generated(layer.claimed_logdet(), [[z[k] for k in r], [u[k] for k in r], [w[k] for k in r], [b]])


def planar_logdet(z: Any, u: Any, w: Any, b: float, *, reparametrize: bool = True) -> np.ndarray:
    r"""Planar flow log-det; ``z`` ``(..., D)``, ``u`` and ``w`` ``(D,)``, scalar ``b``."""
    z = np.asarray(z, dtype=np.float64)
    return _planar(z.shape[-1], reparametrize)(z, u, w, np.atleast_1d(b))


@cache
def _actnorm(channels: int, height: int, width: int) -> _Generated:
    from derive.layers.actnorm import ActNorm, scale

    return _Generated(
        ActNorm(channels, height, width).claimed_logdet(), [[scale[c] for c in range(1, channels + 1)]]
    )


def actnorm_logdet(scale: Any, *, height: int, width: int) -> np.ndarray:
    """ActNorm log-det from the per-channel scales ``(..., C)``."""
    scale = np.asarray(scale, dtype=np.float64)
    return _actnorm(scale.shape[-1], height, width)(scale)


@cache
def _conv(channels: int, height: int, width: int, lu: bool) -> _Generated:
    from derive.layers.conv1x1 import Conv1x1, Wb, sb

    layer = Conv1x1(channels, height, width, lu=lu)
    C = range(1, channels + 1)
    groups = [[sb[c] for c in C]] if lu else [[Wb[r, c] for r in C for c in C]]
    return _Generated(layer.claimed_logdet(), groups)


def conv1x1_logdet(weight: Any, *, height: int, width: int) -> np.ndarray:
    r""":math:`HW\log|\det\mathbf{W}|` for ``weight`` ``(..., C, C)`` (the determinant expanded symbolically: C <= 4)."""
    weight = np.asarray(weight, dtype=np.float64)
    C = weight.shape[-1]
    if weight.shape[-2:] != (C, C) or C > 4:
        raise ValueError(f"conv1x1_logdet: weight must be (..., C, C) with C <= 4, got {weight.shape}")
    return _conv(C, height, width, False)(weight.reshape(*weight.shape[:-2], C * C))


def conv1x1_lu_logdet(s: Any, *, height: int, width: int) -> np.ndarray:
    """LU-parametrised 1x1 convolution log-det from the diagonal ``s`` ``(..., C)``."""
    s = np.asarray(s, dtype=np.float64)
    return _conv(s.shape[-1], height, width, True)(s)


@cache
def _coupling(mask: str) -> _Generated:
    from derive.layers.coupling import AffineCoupling, s

    return _Generated(
        AffineCoupling(len(mask), mask=mask).claimed_logdet(), [[s[k] for k in range(1, len(mask) + 1)]]
    )


def coupling_logdet(log_scale: Any, mask: Sequence[int]) -> np.ndarray:
    """Affine coupling log-det from the log-scales ``(..., D)`` and the mask (1 = conditioner)."""
    return _coupling("".join(str(int(v)) for v in mask))(log_scale)


@cache
def _maf(dim: int) -> _Generated:
    from derive.layers.maf import MAFStep, alpha

    return _Generated(MAFStep(dim).claimed_logdet(), [[alpha[k] for k in range(1, dim + 1)]])


def maf_logdet(alpha: Any) -> np.ndarray:
    """MAF step log-det :math:`-\\sum_i\\alpha_i` from ``alpha`` ``(..., D)``."""
    alpha = np.asarray(alpha, dtype=np.float64)
    return _maf(alpha.shape[-1])(alpha)


@cache
def _leaky(dim: int) -> _Generated:
    import sympy as sp

    from derive.layers.elementwise import LeakyReLU, alpha, x

    return _Generated(
        sp.piecewise_fold(LeakyReLU(dim).piecewise_logdet()), [[x[k] for k in range(1, dim + 1)], [alpha]]
    )


def leaky_relu_logdet(x: Any, alpha: float) -> np.ndarray:
    """Leaky-ReLU log-det on both branches, from the piecewise claim; ``x`` ``(..., D)``."""
    x = np.asarray(x, dtype=np.float64)
    return _leaky(x.shape[-1])(x, np.atleast_1d(alpha))


@cache
def _rq_bin() -> _Generated:
    from derive.layers.spline import delta, height, knot_x, rq_derivative, width, x

    expr = rq_derivative(x[1], 1, 0)
    return _Generated(
        expr, [[x[1]], [knot_x[1, 0]], [width[1, 0]], [height[1, 0]], [delta[1, 0]], [delta[1, 1]]]
    )


def rq_spline_logdet(x: Any, x_knots: Any, y_knots: Any, derivatives: Any) -> np.ndarray:
    r"""RQ-spline log-det; ``x`` ``(..., D)``, knots ``(D, K+1)``, derivatives ``(D, K+1)``.

    Inside :math:`[x^{(0)}, x^{(K)}]` the bin is found with ``searchsorted`` and eq. 5 (generated
    from :func:`derive.layers.spline.rq_derivative`) is evaluated; outside, the tails add 0.
    """
    x = np.asarray(x, dtype=np.float64)
    xk, yk, dk = (np.asarray(a, dtype=np.float64) for a in (x_knots, y_knots, derivatives))
    D, K = xk.shape[0], xk.shape[1] - 1
    out = np.zeros(x.shape, dtype=np.float64)
    kernel = _rq_bin()
    for i in range(D):
        xi = x[..., i]
        inside = (xi >= xk[i, 0]) & (xi <= xk[i, K])
        k = np.clip(np.searchsorted(xk[i], xi, side="right") - 1, 0, K - 1)
        w, h = np.diff(xk[i])[k], np.diff(yk[i])[k]
        vals = kernel.fn([xi], [xk[i, k]], [w], [h], [dk[i, k]], [dk[i, k + 1]])
        out[..., i] = np.where(inside, np.log(np.where(inside, vals, 1.0)), 0.0)
    return out.sum(-1)
