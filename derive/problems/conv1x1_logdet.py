r"""Problem ``conv1x1-logdet``: :math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}|` of Glow's invertible 1×1 convolution.

:math:`\mathbf{y}_{:,h,w} = \mathbf{W}\mathbf{x}_{:,h,w}` at each of the :math:`H\cdot W` pixels.
Reference: the symbolic-size proof :func:`derive.derivations.blocks.conv1x1_general_proof`,
:math:`H W \log|\det\mathbf{W}|`.

The answer checker cannot expand :math:`\det\mathbf{W}` of a :math:`C\times C` matrix at symbolic
:math:`C`, so the notation reads ``\det\mathbf{W}`` (or ``\det W``) as one named quantity, the real
nonzero number :data:`DET_W`; the proof's :class:`~derive.layers.generic.DetMatrix` is that quantity.

>>> PROBLEM.reference() == H * W * sp.log(sp.Abs(DET_W))
True
"""

from __future__ import annotations

import sympy as sp

from derive.equivalence import Domain, SizeVar
from derive.latex import NamedQuantity, Notation
from derive.layers.generic import C_size as C
from derive.layers.generic import DetMatrix, GenericConv1x1, _conv_weight
from derive.layers.generic import H_size as H
from derive.layers.generic import W_size as W
from derive.problems._spec import Problem
from derive.quantities import LogDetMap, ModelAtom

__all__ = ["DET_W", "PROBLEM"]


class _DetSymbol(sp.Symbol):
    r"""A symbol named ``detW`` (how counterexamples name it) that prints as :math:`\det\mathbf{W}`."""

    def _latex(self, printer: object) -> str:
        return r"\det\mathbf{W}"


#: :math:`\det\mathbf{W}`, one opaque number (nonzero: the convolution is invertible).
DET_W = _DetSymbol("detW", real=True, nonzero=True)
_TARGET = LogDetMap(ModelAtom(GenericConv1x1()))


def _reference() -> sp.Expr:
    r"""The proved :math:`HW\log|\det\mathbf{W}|` (every C, H, W), with :math:`\det\mathbf{W}` named."""
    from derive.derivations.blocks import conv1x1_general_proof

    return conv1x1_general_proof().result.xreplace({DetMatrix(_conv_weight, C): DET_W})


PROBLEM = Problem(
    id="conv1x1-logdet",
    title=r"log|det dy/dx| of the invertible 1x1 convolution on a (C, H, W) input (Glow)",
    statement=(
        r"Derive the log-determinant of the Jacobian of the invertible $1\times1$ convolution "
        r"$\mathbf{y}_{:,h,w} = \mathbf{W}\mathbf{x}_{:,h,w}$ ($\mathbf{W} \in \mathbb{R}^{C\times C}$ invertible) "
        r"on an input of $C$ channels and $H \times W$ pixels."
    ),
    notation=Notation(
        scalars={"C": C, "H": H, "W": W},
        indexed={},
        index_ranges={"h": (sp.Symbol("h", integer=True, positive=True), 1, H)},
        named=(
            NamedQuantity(r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|", _TARGET),
            NamedQuantity(r"\log\left|\det\frac{\partial y}{\partial x}\right|", _TARGET),
            NamedQuantity(r"\det\mathbf{W}", DET_W),
            NamedQuantity(r"\det W", DET_W),
            NamedQuantity(r"\det(\mathbf{W})", DET_W),
            NamedQuantity(r"\det(W)", DET_W),
            # The parser reads |\det W| as \det|W| (the form of |\det J| in the other problems).
            NamedQuantity(r"\det|\mathbf{W}|", sp.Abs(DET_W)),
            NamedQuantity(r"\det|W|", sp.Abs(DET_W)),
        ),
    ),
    # C does not occur in the reference (det W is one number): the sizes tried are the spatial ones.
    domain=Domain(sizes=(SizeVar(H, 1, (1, 2, 3)), SizeVar(W, 1, (1, 2, 4)))),
    reference=_reference,
    target=_TARGET,
    target_latex=r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|",
    definitions_text={
        r"\det\mathbf{W}": "the determinant of the C x C weight matrix (nonzero)",
        "C, H, W": "channels, height and width, each >= 1",
    },
    notes=(
        r"the Jacobian is block diagonal with H W copies of \mathbf{W} (one per pixel): "
        r"\det J = (\det\mathbf{W})^{HW}",
    ),
)
