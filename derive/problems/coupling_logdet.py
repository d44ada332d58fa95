r"""Problem ``coupling-logdet``: :math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}|` of an affine coupling layer.

RealNVP's split coupling: :math:`y_{1:d} = x_{1:d}`, :math:`y_i = x_i e^{s_i(x_{1:d})} + t_i(x_{1:d})` for
:math:`d < i \le D`. Reference: the symbolic-size proof
:func:`derive.derivations.blocks.coupling_general_proof`, :math:`\sum_{i=d+1}^{D} s_i`.

The proof is stated over :math:`d` and :math:`m = D - d` (so its ranges are provably well formed);
the notation reads the student's ``D`` as :math:`d + m`, and the checker tries sizes :math:`d, m \ge 1`.

>>> PROBLEM.reference() == sp.Sum(s[i], (i, d + 1, d + m))
True
"""

from __future__ import annotations

import sympy as sp

from derive.equivalence import Domain, SizeVar
from derive.latex import NamedQuantity, Notation
from derive.layers.generic import GenericAffineCoupling
from derive.layers.generic import _coupling_s as s
from derive.layers.generic import _coupling_t as t
from derive.layers.generic import d_split as d
from derive.layers.generic import m_rest as m
from derive.problems._spec import Problem
from derive.quantities import LogDetMap, ModelAtom
from derive.symbols import i

__all__ = ["PROBLEM"]

_TARGET = LogDetMap(ModelAtom(GenericAffineCoupling()))


def _reference() -> sp.Expr:
    r"""The proved :math:`\sum_{i=d+1}^{D} s_i` (every d, D)."""
    from derive.derivations.blocks import coupling_general_proof

    return coupling_general_proof().result


PROBLEM = Problem(
    id="coupling-logdet",
    title=r"log|det dy/dx| of an affine coupling layer (RealNVP)",
    statement=(
        r"Derive the log-determinant of the Jacobian of the affine coupling layer $y_{1:d} = x_{1:d}$, "
        r"$y_i = x_i \exp(s_i(x_{1:d})) + t_i(x_{1:d})$ for $i = d+1..D$ ($1 \le d < D$; $s, t$ any networks)."
    ),
    notation=Notation(
        scalars={"d": d, "D": d + m},
        indexed={"s": s, "t": t},
        index_ranges={"i": (i, 1, d + m)},
        named=(
            NamedQuantity(r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|", _TARGET),
            NamedQuantity(r"\log\left|\det\frac{\partial y}{\partial x}\right|", _TARGET),
        ),
        arity={"s": 1, "t": 1},
    ),
    domain=Domain(sizes=(SizeVar(d, 1, (1, 2, 3)), SizeVar(m, 1, (1, 2, 3)))),
    reference=_reference,
    target=_TARGET,
    target_latex=r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|",
    definitions_text={
        "s_i": r"the log-scale of coordinate i > d, s_i = s_i(x_{1:d})",
        "d, D": r"conditioner size d >= 1 and dimension D > d (the checker writes D = d + m, m >= 1)",
    },
    notes=(
        r"the Jacobian is lower triangular: the identity on x_{1:d}, and \exp(s_i) on the diagonal below; "
        r"s_i and t_i do not depend on x_{d+1:D}, so their derivatives sit below the diagonal",
    ),
)
