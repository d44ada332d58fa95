r"""Problem ``planar-logdet``: :math:`\log|\det\partial\mathbf{f}/\partial\mathbf{z}|` of a planar flow.

Rezende & Mohamed 2015, eq. 10–12: :math:`\mathbf{f}(\mathbf{z}) = \mathbf{z} + \mathbf{u}\,h(\mathbf{w}^\top
\mathbf{z} + b)`, :math:`h = \tanh`, :math:`\psi(\mathbf{z}) = h'(\mathbf{w}^\top\mathbf{z}+b)\,\mathbf{w}`.
Reference: the symbolic-D proof :func:`derive.derivations.layer.general_layer_proof` (``"planar"``: the
kernel factors the Jacobian as :math:`I + \mathbf{u}\psi^\top` and cites the matrix determinant lemma),
:math:`\log|1 + h'(\mathbf{w}^\top\mathbf{z}+b)\sum_i u_i w_i|` — never typed in here.

The notation reads the paper's vector spellings (:math:`\mathbf{u}^\top\psi(\mathbf{z})`,
:math:`\mathbf{w}^\top\mathbf{z}`, :math:`h'(\mathbf{w}^\top\mathbf{z}+b)`) as named quantities whose
values are the model's own inner products and derivative.

>>> from derive.layers.generic import GenericPlanar
>>> PROBLEM.reference() == GenericPlanar().claimed_logdet()
True
"""

from __future__ import annotations

import sympy as sp

from derive.equivalence import Domain, SizeVar
from derive.latex import NamedQuantity, Notation
from derive.layers.generic import GenericPlanar, _k
from derive.layers.planar import b, u, w, z
from derive.problems._spec import Problem
from derive.quantities import LogDetMap, ModelAtom
from derive.symbols import D, i, j

__all__ = ["PROBLEM"]

_MODEL = GenericPlanar()
_TARGET = LogDetMap(ModelAtom(_MODEL))
_v = sp.Symbol("v", real=True)
#: h'(wᵀz + b), differentiated (h = tanh), and the inner products as the model writes them.
_WZ = _MODEL.pre_activation() - b
_H_PRIME = sp.diff(sp.tanh(_v), _v).xreplace({_v: _MODEL.pre_activation()})
_UW = sp.Sum(u[i] * w[i], (i, 1, D))  # the index the proved reference uses (see the module notes)


def _reference() -> sp.Expr:
    r"""The proved :math:`\log|1 + h'(\mathbf{w}^\top\mathbf{z}+b)\,\mathbf{u}^\top\mathbf{w}|` (every D)."""
    from derive.derivations.layer import general_layer_proof

    return general_layer_proof("planar").result


def _named() -> tuple[NamedQuantity, ...]:
    """The paper's vector spellings, with ``^\\top`` or ``^T``, bold or not (fonts are ignored)."""
    out: list[NamedQuantity] = []
    for lhs in (r"\mathbf{f}", r"\mathbf{y}", "f"):
        out.append(
            NamedQuantity(rf"\log\left|\det\frac{{\partial {lhs}}}{{\partial \mathbf{{z}}}}\right|", _TARGET)
        )
    for top in (r"\top", "T"):
        wz, uw, wu = (
            rf"\mathbf{{w}}^{top}\mathbf{{z}}",
            rf"\mathbf{{u}}^{top}\mathbf{{w}}",
            rf"\mathbf{{w}}^{top}\mathbf{{u}}",
        )
        hps = [rf"h'({wz}+b)", rf"h^\prime({wz}+b)", rf"(1-\tanh^2({wz}+b))"]
        out += [
            NamedQuantity(rf"\mathbf{{u}}^{top}\psi(\mathbf{{z}})", _H_PRIME * _UW),
            NamedQuantity(rf"\psi(\mathbf{{z}})^{top}\mathbf{{u}}", _H_PRIME * _UW),
            NamedQuantity(wz, _WZ),
            NamedQuantity(uw, _UW),
            NamedQuantity(wu, _UW),
        ]
        out += [NamedQuantity(hp, _H_PRIME) for hp in hps]
    return tuple(out)


PROBLEM = Problem(
    id="planar-logdet",
    title=r"log|det df/dz| of a planar flow (Rezende & Mohamed 2015, eq. 12)",
    statement=(
        r"Derive the log-determinant of the Jacobian of the planar flow $\mathbf{f}(\mathbf{z}) = \mathbf{z} + "
        r"\mathbf{u}\,h(\mathbf{w}^\top\mathbf{z} + b)$ with $h = \tanh$ ($\mathbf{z}, \mathbf{u}, \mathbf{w} \in "
        r"\mathbb{R}^D$, $b \in \mathbb{R}$), in terms of $\psi(\mathbf{z}) = h'(\mathbf{w}^\top\mathbf{z}+b)\,\mathbf{w}$."
    ),
    notation=Notation(
        scalars={"D": D, "b": b},
        indexed={"u": u, "w": w, "z": z},
        index_ranges={"i": (i, 1, D), "j": (j, 1, D), "k": (_k, 1, D)},
        named=_named(),
        arity={"u": 1, "w": 1, "z": 1},
    ),
    domain=Domain(sizes=(SizeVar(D, 1, (1, 2, 3)),)),
    reference=_reference,
    target=_TARGET,
    target_latex=r"\log\left|\det\frac{\partial \mathbf{f}}{\partial \mathbf{z}}\right|",
    definitions_text={
        r"h": r"h = \tanh, so h'(x) = 1 - \tanh^2 x",
        r"\psi(\mathbf{z})": r"\psi(\mathbf{z}) = h'(\mathbf{w}^\top\mathbf{z} + b)\,\mathbf{w}",
        r"\mathbf{u}^\top\psi(\mathbf{z})": r"h'(\mathbf{w}^\top\mathbf{z} + b)\sum_{i=1}^{D} u_i w_i",
        "D": "dimension, D >= 1",
    },
    notes=(
        r"the Jacobian is I + \mathbf{u}\psi(\mathbf{z})^\top, a rank-one update of the identity; its "
        r"determinant is 1 + \mathbf{u}^\top\psi(\mathbf{z}) by the matrix determinant lemma (not the product "
        r"of the diagonal: the Jacobian is full)",
        r"with raw \mathbf{u} the flow is invertible only when \mathbf{w}^\top\mathbf{u} \ge -1 (the paper's "
        r"\hat{\mathbf{u}} enforces it; see derive prove planar-reparametrized)",
    ),
)
