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
  ``searchsorted`` and uses 0 on the identity tails;
* :func:`radial_logdet` — :math:`(D-1)\log|1+\beta h| + \log|1+\beta h+\beta h'r|`,
  :math:`r = \lVert\mathbf{z}-\mathbf{z}_0\rVert` (the claim's square root of the sum, as stated);
* :func:`sylvester_logdet` — :math:`\log|\det(I_M + \operatorname{diag}(h')BA)|` (the
  :math:`M\times M` determinant expanded symbolically: M <= 4);
* :func:`householder_logdet` — the claim (0: a reflection), broadcast over the leading axes;
* :func:`sigmoid_logdet`, :func:`logit_logdet` (NaN outside :math:`(0, 1)`, where the map is
  undefined), :func:`tanh_logdet`, :func:`softplus_logdet` — :math:`\sum_i\log|g'(x_i)|` as each
  claim states it; :func:`elementwise_affine_logdet` — :math:`\sum_i\log|a_i|`.

A kernel evaluates its claim *as written*, without a numerically stabler rewrite (that rewrite
would be an unproved expression): :math:`\log(1-\tanh^2 x)` loses about
:math:`10^{-16}e^{2|x|}` absolutely and is :math:`-\infty` once :math:`\tanh x` rounds to
:math:`\pm1` (:math:`|x| \gtrsim 19`); the sigmoid and softplus claims overflow below
:math:`x \approx -709`.

>>> import numpy as np
>>> round(float(actnorm_logdet(np.array([2.0, -0.5]), height=3, width=2)), 12)  # 6 (log 2 + log 0.5)
0.0
>>> float(leaky_relu_logdet(np.array([-1.0, 2.0, -3.0]), alpha=np.e))
2.0
>>> householder_logdet(np.ones((2, 3)), np.array([1.0, 2.0, 2.0])).tolist()
[0.0, 0.0]
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
    "elementwise_affine_logdet",
    "householder_logdet",
    "leaky_relu_logdet",
    "logit_logdet",
    "maf_logdet",
    "planar_logdet",
    "radial_logdet",
    "rq_spline_logdet",
    "sigmoid_logdet",
    "softplus_logdet",
    "sylvester_logdet",
    "tanh_logdet",
]


class _Generated:
    """A lambdified claim with the expression it came from.

    The arguments (``Indexed`` atoms, in ``groups``) are renamed to plain symbols without
    re-evaluating the claim (lambdify's own renaming re-runs ``Abs.eval`` on every node: 1.5 s for
    the Sylvester claim); a claim with a symbol that is no argument is refused.
    """

    def __init__(self, expr: Any, groups: Sequence[Sequence[Any]]) -> None:
        import sympy as sp

        self.expr = expr
        names = {atom: sp.Symbol(f"_arg{n}") for n, atom in enumerate(a for g in groups for a in g)}
        with sp.evaluate(False):
            renamed = expr.xreplace(names)
        if free := renamed.free_symbols - set(names.values()):
            raise ValueError(
                f"layer_kernels: the claim has symbols that are no kernel argument: {sorted(map(str, free))}"
            )
        self.fn: Callable[..., Any] = sp.lambdify([[names[a] for a in g] for g in groups], renamed, "numpy")

    def __call__(self, *arrays: Any) -> np.ndarray:
        arrays = tuple(np.asarray(a, dtype=np.float64) for a in arrays)
        parts = [list(np.moveaxis(a, -1, 0)) for a in arrays]
        # a claim free of some (or all) inputs, e.g. Householder's 0, still has the leading shape
        leading = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
        return np.array(np.broadcast_to(np.asarray(self.fn(*parts), dtype=np.float64), leading))


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


@cache
def _radial(dim: int) -> _Generated:
    from derive.layers.radial import Radial, alpha, beta, z, z0

    r = range(1, dim + 1)
    return _Generated(Radial(dim).claimed_logdet(), [[z[k] for k in r], [z0[k] for k in r], [alpha], [beta]])


def radial_logdet(z: Any, z0: Any, alpha: float, beta: float) -> np.ndarray:
    r"""Radial flow log-det; ``z`` ``(..., D)``, ``z0`` ``(D,)``, scalars :math:`\alpha > 0`, :math:`\beta \ge -\alpha`."""
    z = np.asarray(z, dtype=np.float64)
    return _radial(z.shape[-1])(z, z0, np.atleast_1d(alpha), np.atleast_1d(beta))


@cache
def _sylvester(dim: int, hidden: int) -> _Generated:
    from derive.layers.sylvester import A, B, Sylvester, bias, z

    D, M = range(1, dim + 1), range(1, hidden + 1)
    groups = [
        [z[k] for k in D],
        [A[k, m] for k in D for m in M],
        [B[m, k] for m in M for k in D],
        [bias[m] for m in M],
    ]
    return _Generated(Sylvester(dim, hidden=hidden).claimed_logdet(), groups)


def sylvester_logdet(z: Any, A: Any, B: Any, b: Any) -> np.ndarray:
    r"""Sylvester flow log-det; ``z`` ``(..., D)``, ``A`` ``(D, M)``, ``B`` ``(M, D)``, ``b`` ``(M,)``, M <= 4."""
    z, A, B, b = (np.asarray(t, dtype=np.float64) for t in (z, A, B, b))
    D, M = z.shape[-1], b.shape[-1]
    if A.shape[-2:] != (D, M) or B.shape[-2:] != (M, D) or M > 4:
        raise ValueError(
            f"sylvester_logdet: need A (..., D, M), B (..., M, D), b (..., M) with M <= 4 for z (..., D); "
            f"got z {z.shape}, A {A.shape}, B {B.shape}, b {b.shape}"
        )
    return _sylvester(D, M)(z, A.reshape(*A.shape[:-2], D * M), B.reshape(*B.shape[:-2], M * D), b)


@cache
def _householder(dim: int) -> _Generated:
    from derive.layers.householder import Householder, v, z

    r = range(1, dim + 1)
    return _Generated(Householder(dim).claimed_logdet(), [[z[k] for k in r], [v[k] for k in r]])


def householder_logdet(z: Any, v: Any) -> np.ndarray:
    """Householder reflection log-det (the claim, 0) with the leading shape of ``z`` ``(..., D)``; ``v`` ``(D,)``."""
    z = np.asarray(z, dtype=np.float64)
    return _householder(z.shape[-1])(z, v)


@cache
def _elementwise(name: str, dim: int) -> _Generated:
    from derive.layers import elementwise as ew

    layer = {"sigmoid": ew.Sigmoid, "logit": ew.Logit, "tanh": ew.Tanh, "softplus": ew.Softplus}[name](dim)
    return _Generated(layer.claimed_logdet(), [[ew.x[k] for k in range(1, dim + 1)]])


def sigmoid_logdet(x: Any) -> np.ndarray:
    r"""Sigmoid log-det :math:`\sum_i -x_i - 2\log(1 + e^{-x_i})`; ``x`` ``(..., D)``."""
    x = np.asarray(x, dtype=np.float64)
    return _elementwise("sigmoid", x.shape[-1])(x)


def logit_logdet(x: Any) -> np.ndarray:
    r"""Logit log-det :math:`-\sum_i\log|x_i(1 - x_i)|`; ``x`` ``(..., D)``; NaN where some
    :math:`x_i \notin (0, 1)` (the claim is proved there only; the map is undefined outside)."""
    x = np.asarray(x, dtype=np.float64)
    inside = ((x > 0) & (x < 1)).all(-1)
    return np.where(inside, _elementwise("logit", x.shape[-1])(np.where(inside[..., None], x, 0.5)), np.nan)


def tanh_logdet(x: Any) -> np.ndarray:
    r"""Tanh log-det :math:`\sum_i\log(1 - \tanh^2 x_i)` as claimed (see the module note on large
    :math:`|x_i|`); ``x`` ``(..., D)``."""
    x = np.asarray(x, dtype=np.float64)
    return _elementwise("tanh", x.shape[-1])(x)


def softplus_logdet(x: Any) -> np.ndarray:
    r"""Softplus log-det :math:`\sum_i\log\operatorname{sigmoid}(x_i)`; ``x`` ``(..., D)``."""
    x = np.asarray(x, dtype=np.float64)
    return _elementwise("softplus", x.shape[-1])(x)


@cache
def _elementwise_affine(dim: int) -> _Generated:
    from derive.layers.elementwise import ElementwiseAffine, a

    return _Generated(ElementwiseAffine(dim).claimed_logdet(), [[a[k] for k in range(1, dim + 1)]])


def elementwise_affine_logdet(a: Any) -> np.ndarray:
    r"""Elementwise affine log-det :math:`\sum_i\log|a_i|` from the signed scales ``a`` ``(..., D)``."""
    a = np.asarray(a, dtype=np.float64)
    return _elementwise_affine(a.shape[-1])(a)
