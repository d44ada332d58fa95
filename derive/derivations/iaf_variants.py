r"""The IAF variants: the normalizing (inverse) direction; the stable step lives in :mod:`.iaf`.

**Direction.** The autoregressive map :math:`\epsilon_i = (y_i-\mu_i(\mathbf{y}_{1:i-1}))/\sigma_i(\mathbf{y}_{1:i-1})`
(paper, section 3) goes *data → noise*: its log-determinant is :math:`-\sum_i\log\sigma_i`, and the
density of its input *adds* it. Its sampling direction :math:`y_i = \mu_i + \sigma_i\epsilon_i` goes
noise → data with :math:`+\sum_i\log\sigma_i` (each computed from its own model); the proof shows
that the two cancel and that the density is the same either way.

>>> iaf_inverse_proof().result
-Sum(log(sigma[i]), (i, 1, D))
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.derivations.iaf import iaf_stable_general_proof
from derive.errors import UsageError
from derive.layers import IAFInverse
from derive.layers.generic import GenericIAFInverse, GenericIAFSampling
from derive.proof._proof import ChainBuilder, Proof, Section
from derive.proof.checks import (
    ChangeOfVariables,
    FromJacobian,
    Identity,
    Rewrite,
    StandardNormal,
    SummandIdentity,
)
from derive.quantities import LogDetMap, LogQIn, LogQOut, ModelAtom
from derive.symbols import D, epsilon, i, sigma

__all__ = ["iaf_inverse_proof", "iaf_stable_general_proof"]


@cache
def iaf_inverse_proof(dim: int | None = None) -> Proof:
    """The normalizing direction's log-det, the sign convention and the density, for symbolic or concrete D."""
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    size = D if dim is None else sp.Integer(dim)
    L = ModelAtom(GenericIAFInverse(size) if dim is None else IAFInverse(dim))
    S = ModelAtom(GenericIAFSampling(size))
    concrete = dim is not None
    inv = (
        ChainBuilder(LogDetMap(L), label="normalizing direction")
        .step(
            sp.Sum(sp.log(1 / sigma[i]), (i, 1, size)),
            FromJacobian(Identity(expand_sums=concrete)),
            "triangular Jacobian",
            r"$\epsilon_i$ depends on $y_1..y_i$ only (differentiated from the model), with "
            r"$\partial\epsilon_i/\partial y_i = 1/\sigma_i$.",
        )
        .step(
            -sp.Sum(sp.log(sigma[i]), (i, 1, size)),
            SummandIdentity(),
            "log rules",
            r"$\log(1/\sigma) = -\log\sigma$.",
        )
        .build()
    )
    sampling = (
        ChainBuilder(LogDetMap(S), label="sampling direction")
        .step(
            sp.Sum(sp.log(sigma[i]), (i, 1, size)),
            FromJacobian(),
            "triangular Jacobian",
            r"$y_i = \mu_i + \sigma_i\epsilon_i$ with $\mu_i, \sigma_i$ functions of $\epsilon_{1:i-1}$ "
            r"(through $\mathbf{y}_{1:i-1}$): triangular, diagonal $\sigma_i$.",
        )
        .build()
    )
    sign = (
        ChainBuilder(LogDetMap(L) + LogDetMap(S), label="sign convention")
        .step(
            sp.Integer(0),
            Rewrite((inv.theorem, sampling.theorem)),
            "the two directions cancel",
            r"Each log-determinant computed from its own map: they are negatives of each other, as the "
            r"inverse function theorem says ($\partial\boldsymbol\epsilon/\partial\mathbf{y} = "
            r"(\partial\mathbf{y}/\partial\boldsymbol\epsilon)^{-1}$).",
            cite="the two lemmas above",
        )
        .build()
    )
    gauss = sp.Sum(-sp.log(2 * sp.pi) / 2 - epsilon[i] ** 2 / 2, (i, 1, size))
    density = (
        ChainBuilder(LogQIn(L), label="density")
        .step(
            LogQOut(L) + LogDetMap(L),
            ChangeOfVariables(side="after"),
            "change of variables",
            r"$q(\mathbf{y}) = \mathcal{N}(\boldsymbol\epsilon(\mathbf{y}))\,|\det\partial\boldsymbol\epsilon/\partial\mathbf{y}|$: "
            "the density of the input adds the log-determinant.",
        )
        .step(
            gauss - sp.Sum(sp.log(sigma[i]), (i, 1, size)),
            Rewrite((inv.theorem,), StandardNormal()),
            "substitute",
            r"$\boldsymbol\epsilon\sim\mathcal{N}(\mathbf{0},\mathbf{I})$ and the normalizing-direction log-det.",
            cite="the normalizing-direction lemma",
        )
        .step(
            -sp.Sum(sp.log(2 * sp.pi) / 2 + epsilon[i] ** 2 / 2 + sp.log(sigma[i]), (i, 1, size)),
            Identity(),
            "collect",
            "The same density as the sampling direction gives (Q1 with one step).",
        )
        .build()
    )
    return Proof(
        title="IAF in the normalizing direction" + ("" if dim is None else f" (D = {dim})"),
        theorem=inv.theorem,
        sections=(
            Section(
                "Model",
                r"$\epsilon_i = (y_i - \mu_i(y_{1:i-1},\mathbf{h}))/\sigma_i(y_{1:i-1},\mathbf{h})$, $\sigma_i>0$: "
                r"the normalizing direction (data $\to$ noise); its sampling direction is "
                r"$y_i = \mu_i + \sigma_i\epsilon_i$.",
            ),
            Section("Log-determinant (normalizing direction)", chains=(inv,)),
            Section("Log-determinant (sampling direction)", chains=(sampling,)),
            Section("Sign convention", chains=(sign,)),
            Section("Density", chains=(density,)),
        ),
        assumptions=(r"\sigma_i > 0", r"\text{autoregressive dependence}"),
        conventions=r"Normalizing direction: the density of $\mathbf{y}$ adds $\log|\det\partial\boldsymbol\epsilon/\partial\mathbf{y}|$.",
        meta={"problem": "iaf-inverse", "dim": dim},
    )
