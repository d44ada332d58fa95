r"""Problem ``actnorm-logdet``: :math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}|` of Glow's ActNorm on (C, H, W).

:math:`y_{c,h,w} = s_c\,x_{c,h,w} + b_c` (one scale per channel, shared by the :math:`H\cdot W`
positions). Reference: the symbolic-size proof :func:`derive.derivations.blocks.actnorm_general_proof`,
:math:`H W \sum_{c=1}^{C}\log|s_c|` — the spatial factor is what TFP-style bugs lose.

>>> PROBLEM.reference() == H * W * sp.Sum(sp.log(sp.Abs(s[c])), (c, 1, C))
True
"""

from __future__ import annotations

import sympy as sp

from derive.equivalence import Domain, SizeVar
from derive.latex import NamedQuantity, Notation
from derive.layers.generic import C_size as C
from derive.layers.generic import GenericActNorm
from derive.layers.generic import H_size as H
from derive.layers.generic import W_size as W
from derive.layers.generic import _an_scale as s
from derive.problems._spec import Problem
from derive.quantities import LogDetMap, ModelAtom

__all__ = ["PROBLEM"]

c, h, w = (sp.Symbol(n, integer=True, positive=True) for n in ("c", "h", "w"))
_TARGET = LogDetMap(ModelAtom(GenericActNorm()))


def _reference() -> sp.Expr:
    """The proved :math:`HW\\sum_c\\log|s_c|` (every C, H, W)."""
    from derive.derivations.blocks import actnorm_general_proof

    return actnorm_general_proof().result


PROBLEM = Problem(
    id="actnorm-logdet",
    title=r"log|det dy/dx| of ActNorm on a (C, H, W) input (Glow)",
    statement=(
        r"Derive the log-determinant of the Jacobian of ActNorm, $y_{c,h,w} = s_c\,x_{c,h,w} + b_c$ on an input "
        r"of $C$ channels and $H \times W$ pixels ($s_c \neq 0$; one scale and bias per channel)."
    ),
    notation=Notation(
        scalars={"C": C, "H": H, "W": W},
        indexed={"s": s},
        index_ranges={"c": (c, 1, C), "h": (h, 1, H), "w": (w, 1, W)},
        named=(
            NamedQuantity(r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|", _TARGET),
            NamedQuantity(r"\log\left|\det\frac{\partial y}{\partial x}\right|", _TARGET),
        ),
    ),
    domain=Domain(sizes=(SizeVar(C, 1, (1, 2, 3)), SizeVar(H, 1, (1, 2, 3)), SizeVar(W, 1, (1, 2, 4)))),
    reference=_reference,
    target=_TARGET,
    target_latex=r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|",
    definitions_text={
        "s_c": r"the scale of channel c, s_c \neq 0 (shared by every pixel)",
        "C, H, W": "channels, height and width, each >= 1",
    },
    notes=(
        r"the Jacobian is diagonal with s_c repeated H W times (once per pixel), so the spatial factor H W "
        r"multiplies \sum_c \log|s_c|",
    ),
)
