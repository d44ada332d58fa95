r"""Issue 11 at symbolic size: affine coupling (every d, D), ActNorm and the 1×1 convolution (every C, H, W).

Each proof is one chain from the layer's log-determinant quantity, whose first step is the kernel's
:func:`~derive.proof.kernel.block_logdet` on the model at symbolic size (entries differentiated for
symbolic indices, the block structure computed), followed by algebra:

* coupling (RealNVP, Dinh et al. 2017, eq. 6): lower triangular, identity rows :math:`1..d`,
  :math:`\partial y_i/\partial x_i = e^{s_i}` below, so :math:`\log|\det J| = \sum_{i=d+1}^{D} s_i`;
* ActNorm (Glow, Kingma & Dhariwal 2018, Table 1): :math:`HW` identical diagonal pixel blocks,
  :math:`H W \sum_c \log|s_c|` — the spatial factor is the step's own result;
* 1×1 convolution (Glow, Table 1): :math:`HW` copies of :math:`\mathbf{W}`, :math:`HW\log|\det\mathbf{W}|`;
  LU-parametrised, :math:`HW\sum_c\log|s_c|` (the block checked to be :math:`PL(U+\operatorname{diag}\mathbf{s})`).

The coupling's dimension is :math:`D = d + m` (``m`` transformed coordinates), so every range is
provably well formed; :func:`derive.results.coupling_logdet` states the result with :math:`D`.

>>> from derive.layers.generic import C_size, H_size, W_size, _an_scale
>>> actnorm_general_proof().result == H_size * W_size * sp.Sum(sp.log(sp.Abs(_an_scale[c])), (c, 1, C_size))
True
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy as sp

from derive.layers.generic import (
    C_size,
    DetMatrix,
    GenericActNorm,
    GenericAffineCoupling,
    GenericConv1x1,
    H_size,
    W_size,
    _an_scale,
    _conv_weight,
    _coupling_r,
    _coupling_s,
    d_split,
    sigmoid,
)
from derive.proof._proof import ChainBuilder, Proof, Section
from derive.proof.checks import FromBlocks, Identity
from derive.quantities import LogDetMap, ModelAtom
from derive.symbols import i

__all__ = [
    "actnorm_general_proof",
    "conv1x1_general_proof",
    "conv1x1_lu_general_proof",
    "coupling_general_proof",
]

#: The display index of the channel sums (the kernel's rule prints channel sums over this symbol).
c = sp.Symbol("c", integer=True, positive=True)

_CONVENTIONS = (
    "The log-determinant of the layer's own map, output with respect to input, in the normalizing direction "
    "(data to noise); sizes are symbols, so the statement holds for every size."
)


def _proof(
    title: str, chain: Any, model: str, assumptions: tuple[str, ...], problem: str, dim: sp.Expr
) -> Proof:
    """A symbolic-size proof: the model, the chain, the normalizing-direction conventions."""
    return Proof(
        title=title,
        theorem=chain.theorem,
        sections=(
            Section("Model", f"{model} Direction: normalizing."),
            Section("Derivation", chains=(chain,)),
        ),
        assumptions=assumptions,
        conventions=_CONVENTIONS,
        meta={"problem": problem, "dim": str(dim), "claimed": chain.result},
    )


def _image_chain(layer: Any, label: str, result: sp.Expr, why: str) -> Any:
    """One step for a layer on (C, H, W): the kernel's block rule gives the spatial factor H·W."""
    return (
        ChainBuilder(LogDetMap(ModelAtom(layer)), label=label)
        .step(result, FromBlocks(Identity()), "spatial factor H·W", why)
        .build()
    )


@cache
def coupling_general_proof(scale: str = "exp") -> Proof:
    r""":math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}| = \sum_{i=d+1}^{d+m} s_i` for every d, m ≥ 1."""
    layer = GenericAffineCoupling(scale=scale)
    D = layer.dim
    if scale == "exp":
        per_row, final, what = (
            _coupling_s[i],
            sp.Sum(_coupling_s[i], (i, d_split + 1, D)),
            r"\log|e^{s_i}| = s_i",
        )
    else:
        per_row = sp.log(sigmoid(_coupling_r[i]))
        final = sp.Sum(per_row, (i, d_split + 1, D))
        what = r"\log|\operatorname{sigmoid}(r_i)| = \log\operatorname{sigmoid}(r_i)"
    chain = (
        ChainBuilder(LogDetMap(ModelAtom(layer)), label="coupling")
        .step(
            sp.Sum(sp.Integer(0), (i, 1, d_split)) + sp.Sum(per_row, (i, d_split + 1, D)),
            FromBlocks(Identity()),
            "triangular Jacobian",
            r"Rows $1..d$ pass $x_{1:d}$ through ($\partial y_i/\partial x_i = 1$); rows $d+1..D$ scale $x_i$ by "
            r"a function of $x_{1:d}$ only, so every entry above the diagonal is zero (differentiated for "
            rf"symbolic $i, j$) and $\log|\det J|$ is the sum of $\log|J_{{ii}}|$; ${what}$.",
        )
        .step(final, Identity(), "identity block", r"The identity block contributes $\log 1 = 0$.")
        .build()
    )
    net = "s_i" if scale == "exp" else r"\operatorname{sigmoid}(r_i)"
    return _proof(
        "Log-determinant of the affine coupling layer (every d, D)",
        chain,
        r"$y_i = x_i$ for $i \le d$; "
        + (
            r"$y_i = x_i e^{s_i(x_{1:d})} + t_i(x_{1:d})$"
            if scale == "exp"
            else r"$y_i = x_i\operatorname{sigmoid}(r_i(x_{1:d})) + t_i(x_{1:d})$"
        )
        + rf" for $d < i \le D = d + m$ (${net}$ and $t_i$ any functions of the conditioner).",
        (r"d \ge 1,\ m = D - d \ge 1", r"s_i, t_i \text{ depend on } x_{1:d} \text{ only}"),
        "affine-coupling" if scale == "exp" else "affine-coupling-glow",
        D,
    )


@cache
def actnorm_general_proof() -> Proof:
    r""":math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}| = HW\sum_{c=1}^{C}\log|s_c|` for every C, H, W."""
    layer = GenericActNorm()
    per_channel = sp.Sum(sp.log(sp.Abs(_an_scale[c])), (c, 1, C_size))
    chain = _image_chain(
        layer,
        "actnorm",
        H_size * W_size * per_channel,
        r"Output $(c,h,w)$ depends on input $(c,h,w)$ only, with slope $s_c$ (differentiated for symbolic "
        r"$c, h, w$): the Jacobian is diagonal, and its $C\times C$ block at every pixel is "
        r"$\operatorname{diag}(s_1,\dots,s_C)$, the same at all $H\cdot W$ pixels — so "
        r"$\det J = (\prod_c s_c)^{HW}$.",
    )
    return _proof(
        "Log-determinant of ActNorm on a (C, H, W) input (every C, H, W)",
        chain,
        r"$y_{c,h,w} = s_c\,x_{c,h,w} + b_c$: one scale and bias per channel, shared by the $H\cdot W$ "
        "spatial positions (Glow, Table 1).",
        (r"s_c \neq 0", r"C, H, W \ge 1"),
        "actnorm",
        layer.dim,
    )


@cache
def conv1x1_lu_general_proof() -> Proof:
    r"""LU parametrisation :math:`\mathbf{W} = PL(U + \operatorname{diag}\mathbf{s})`:
    :math:`HW\sum_{c=1}^{C}\log|s_c|` for every C, H, W."""
    layer = GenericConv1x1(lu=True)
    chain = _image_chain(
        layer,
        "conv1x1-lu",
        H_size * W_size * sp.Sum(sp.log(sp.Abs(_an_scale[c])), (c, 1, C_size)),
        r"The Jacobian is $I_{HW}\otimes\mathbf{W}$ up to ordering (entries differentiated for symbolic "
        r"indices), so $\det J = (\det\mathbf{W})^{HW}$; the pixel block is checked to be the product "
        r"$P L (U + \operatorname{diag}\mathbf{s})$ of the model's factors, $P$ a permutation "
        r"($|\det P| = 1$), $L$ unit lower triangular ($\det L = 1$), $U + \operatorname{diag}\mathbf{s}$ "
        r"upper triangular ($\det = \prod_c s_c$) — each structure computed from the factor's entries.",
    )
    return _proof(
        "Log-determinant of the LU-parametrised 1×1 convolution on a (C, H, W) input (every C, H, W)",
        chain,
        r"$y_{c,h,w} = \sum_{k=1}^{C} W_{c,k}\,x_{k,h,w}$ with $\mathbf{W} = P L (U + \operatorname{diag}"
        r"\mathbf{s})$: $P$ the channel reversal, $L$ unit lower, $U$ strictly upper triangular (Glow, "
        "section 3.2).",
        (r"s_c \neq 0", r"C, H, W \ge 1"),
        "conv1x1-lu",
        layer.dim,
    )


@cache
def conv1x1_general_proof() -> Proof:
    r""":math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}| = HW\log|\det\mathbf{W}|` for every C, H, W."""
    layer = GenericConv1x1()
    chain = _image_chain(
        layer,
        "conv1x1",
        H_size * W_size * sp.log(sp.Abs(DetMatrix(_conv_weight, C_size))),
        r"Output $(c,h,w)$ depends on the channels of pixel $(h,w)$ only, with $\partial y_{c,h,w}/"
        r"\partial x_{c',h,w} = W_{c,c'}$ (differentiated for symbolic indices): the Jacobian is "
        r"$I_{HW}\otimes\mathbf{W}$ up to ordering, so $\det J = (\det\mathbf{W})^{HW}$.",
    )
    return _proof(
        "Log-determinant of the invertible 1×1 convolution on a (C, H, W) input (every C, H, W)",
        chain,
        r"$y_{c,h,w} = \sum_{k=1}^{C} W_{c,k}\,x_{k,h,w}$: the same $C\times C$ matrix at every pixel "
        "(Glow, section 3.2).",
        (r"\det\mathbf{W} \neq 0", r"C, H, W \ge 1"),
        "conv1x1",
        layer.dim,
    )
