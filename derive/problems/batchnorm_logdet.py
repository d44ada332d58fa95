r"""Problem ``batchnorm-logdet`` (CS6202 PS2, Q2): log|det| of eval-mode batch normalisation.

Reference: :func:`derive.results.batchnorm_logdet` (normalizing direction, statistics constant).
Here :math:`\epsilon > 0` is the stability constant, not noise.
"""

from __future__ import annotations

import sympy as sp

from derive.equivalence import Domain, SizeVar
from derive.latex import NamedQuantity, Notation
from derive.problems._spec import Problem
from derive.quantities import LogAbsDetBatchNorm
from derive.symbols import D, bn_eps, bn_mean, bn_std, i


def _reference() -> sp.Expr:
    """The proved eval-mode log-det, normalizing direction (:func:`derive.results.batchnorm_logdet`)."""
    from derive.results import batchnorm_logdet

    return batchnorm_logdet()


#: The layer's input, feature by feature (derivation lines differentiate with respect to it).
_X = sp.IndexedBase("x", real=True)

PROBLEM = Problem(
    id="batchnorm-logdet",
    title=r"log|det dy/dx| of batch normalisation, eval mode (CS6202 PS2 Q2)",
    statement=(
        r"Derive the log-determinant of the Jacobian of $y = (x - \tilde\mu)/\sqrt{\tilde\sigma^2 + \epsilon}$ "
        r"(per feature $i = 1..D$; $\tilde\mu, \tilde\sigma^2$ constants; $\epsilon > 0$)."
    ),
    notation=Notation(
        scalars={"D": D, r"\epsilon": bn_eps},
        indexed={r"\tilde{\sigma}": bn_std, r"\tilde{\mu}": bn_mean, "x": _X},
        index_ranges={"i": (i, 1, D)},
        named=(
            NamedQuantity(r"\log\left|\det\frac{\partial y}{\partial x}\right|", LogAbsDetBatchNorm()),
            NamedQuantity(
                r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|", LogAbsDetBatchNorm()
            ),
        ),
        arity={r"\tilde{\sigma}": 1, r"\tilde{\mu}": 1, "x": 1},
    ),
    domain=Domain(sizes=(SizeVar(D, 1, (1, 2, 3, 5)),)),
    reference=_reference,
    target=LogAbsDetBatchNorm(),
    target_latex=r"\log\left|\det\frac{\partial \mathbf{y}}{\partial \mathbf{x}}\right|",
    definitions_text={
        r"\tilde{\sigma}_i": r"\tilde\sigma_i > 0 (so \tilde\sigma_i^2 is the variance of feature i)",
        r"\epsilon": "the stability constant, epsilon > 0",
        "D": "number of features, D >= 1",
    },
    notes=(
        r"eval mode: \tilde\mu and \tilde\sigma are the running statistics, constants with respect "
        r"to x; with batch statistics (train mode) \tilde\mu and \tilde\sigma depend on x and "
        r"the log-det gains a term (see `derive prove batchnorm --mode train`)",
    ),
)
