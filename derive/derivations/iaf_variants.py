r"""The IAF variants: the normalizing (inverse) direction and the stable (LSTM-type) step.

**Direction.** The autoregressive map :math:`\epsilon_i = (y_i-\mu_i(\mathbf{y}_{1:i-1}))/\sigma_i(\mathbf{y}_{1:i-1})`
(paper, section 3) goes *data → noise*: its log-determinant is :math:`-\sum_i\log\sigma_i`, and the
density *adds* it. The sampling map :math:`y_i = \mu_i + \sigma_i\epsilon_i` goes noise → data with
:math:`+\sum_i\log\sigma_i`, and the density *subtracts* it. Both give the same density; the proof
checks that the two log-determinants cancel.

**Stable step.** With :math:`\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i})` for :math:`t\ge1`, Q1's
result becomes :math:`-\sum_i(\tfrac12\log2\pi+\tfrac12\epsilon_i^2+\log\sigma_{0,i}
+\sum_{t=1}^T\log\operatorname{sigmoid}(s_{t,i}))`.

>>> iaf_inverse_proof().result
-Sum(log(sigma[i]), (i, 1, D))
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.derivations._lemmas import TRIANGULAR_LEMMA_MAX_N, triangular_lemma_holds
from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
from derive.errors import UsageError
from derive.layers import IAFInverse
from derive.layers.iaf import sigmoid
from derive.proof import (
    ChainBuilder,
    Fact,
    Instance,
    PeelLastTerm,
    Proof,
    Section,
    SummandIdentity,
    UsingFacts,
)
from derive.symbols import D, T, epsilon, i, j, mu, s, sigma, t

__all__ = ["iaf_inverse_proof", "iaf_stable_general_proof"]

_Y = sp.IndexedBase("y", real=True)
LOGDET_INVERSE = sp.Symbol(r"\log\left|\det\frac{\partial\boldsymbol{\epsilon}}{\partial\mathbf{y}}\right|")
LOGDET_SAMPLING = sp.Symbol(r"\log\left|\det\frac{\partial\mathbf{y}}{\partial\boldsymbol{\epsilon}}\right|")
LOG_Q_Y = sp.Symbol(r"\log q(\mathbf{y})")


@cache
def iaf_inverse_proof(dim: int | None = None) -> Proof:
    """The normalizing direction's log-det, and the sign convention, for symbolic or concrete D."""
    if dim is not None and (not isinstance(dim, int) or dim < 1):
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    size = D if dim is None else dim
    generic = sp.diff((_Y[i] - mu[i]) / sigma[i], _Y[j])  # mu_i, sigma_i constant in y_j for j >= i
    sizes = range(1, 6) if dim is None else (dim,)
    conditions = (
        (
            rf"for $j\ge i$: $\partial\epsilon_i/\partial y_j = {sp.latex(generic)}$ (symbolic $i,j$): "
            r"triangular, diagonal $1/\sigma_i$",
            lambda: generic == sp.KroneckerDelta(i, j) / sigma[i],
        ),
        (
            rf"lemma $\det L=\prod_k L_{{kk}}$ checked for $n\le{TRIANGULAR_LEMMA_MAX_N}$",
            triangular_lemma_holds,
        ),
        (
            f"the layer model (undefined autoregressive functions) at D = {', '.join(map(str, sizes))}",
            lambda: all(
                IAFInverse(d).jacobian().structure.is_triangular
                and sp.expand(IAFInverse(d).derived_logdet() - IAFInverse(d).claimed_logdet()) == 0
                for d in sizes
            ),
        ),
    )
    inv = (
        ChainBuilder(LOGDET_INVERSE, label="normalizing direction")
        .step(
            sp.Sum(sp.log(1 / sigma[i]), (i, 1, size)),
            Instance("the triangular-determinant lemma", conditions),
            "triangular Jacobian",
            r"$\epsilon_i$ depends on $y_1..y_i$ only, with $\partial\epsilon_i/\partial y_i = 1/\sigma_i$.",
        )
        .step(
            -sp.Sum(sp.log(sigma[i]), (i, 1, size)),
            SummandIdentity(),
            "log rules",
            r"$\log(1/\sigma) = -\log\sigma$.",
        )
        .build()
    )
    sampling = Fact(
        LOGDET_SAMPLING, sp.Sum(sp.log(sigma[i]), (i, 1, size)), "the IAF step lemma (sampling direction)"
    )
    inv_fact = Fact.of(inv, "the normalizing-direction log-det")
    sign = (
        ChainBuilder(LOGDET_INVERSE + LOGDET_SAMPLING, label="sign convention")
        .step(
            sp.Integer(0),
            UsingFacts((inv_fact, sampling)),
            "inverse function theorem",
            r"$\partial\boldsymbol\epsilon/\partial\mathbf{y} = (\partial\mathbf{y}/\partial\boldsymbol\epsilon)^{-1}$: "
            "the two directions' log-determinants are negatives of each other.",
        )
        .build()
    )
    density = (
        ChainBuilder(LOG_Q_Y, label="density")
        .step(
            sp.Sum(-sp.log(2 * sp.pi) / 2 - epsilon[i] ** 2 / 2, (i, 1, size)) + LOGDET_INVERSE,
            Instance("the change-of-variables formula (normalizing direction: add the log-det)"),
            "change of variables",
            r"$q(\mathbf{y}) = \mathcal{N}(\boldsymbol\epsilon(\mathbf{y}))\,|\det\partial\boldsymbol\epsilon/\partial\mathbf{y}|$.",
        )
        .step(
            -sp.Sum(sp.log(2 * sp.pi) / 2 + epsilon[i] ** 2 / 2 + sp.log(sigma[i]), (i, 1, size)),
            UsingFacts((inv_fact,)),
            "substitute",
            "The normalizing-direction log-det; the same density as the sampling direction gives.",
        )
        .build()
    )
    return Proof(
        title=f"IAF in the normalizing direction (D = {sp.latex(size)})",
        statement=rf"{sp.latex(LOGDET_INVERSE)} = {sp.latex(inv.result)}",
        lhs=LOGDET_INVERSE,
        result=inv.result,
        sections=(
            Section(
                "Model",
                r"$\epsilon_i = (y_i - \mu_i(y_{1:i-1},\mathbf{h}))/\sigma_i(y_{1:i-1},\mathbf{h})$, $\sigma_i>0$: "
                r"the normalizing direction (data $\to$ noise).",
            ),
            Section("Log-determinant", chains=(inv,)),
            Section("Sign convention", chains=(sign,)),
            Section("Density", chains=(density,)),
        ),
        assumptions=(r"\sigma_i > 0", r"\text{autoregressive dependence}"),
        conventions=r"Normalizing direction: the density of $\mathbf{y}$ adds $\log|\det\partial\boldsymbol\epsilon/\partial\mathbf{y}|$.",
        meta={"problem": "iaf-inverse", "dim": dim},
    )


@cache
def iaf_stable_general_proof() -> Proof:
    r"""Q1 for the stable step: the general IAF theorem with :math:`\sigma_{t,i}=\operatorname{sigmoid}(s_{t,i})`, t ≥ 1."""
    general = iaf_general_proof()
    peeled = -sp.Sum(
        sp.log(2 * sp.pi) / 2
        + epsilon[i] ** 2 / 2
        + sp.log(sigma[0, i])
        + sp.Sum(sp.log(sigma[t, i]), (t, 1, T)),
        (i, 1, D),
    )
    stable = peeled.replace(
        lambda e: isinstance(e, sp.Sum) and e.limits[0][0] == t,
        lambda e: sp.Sum(sp.log(sigmoid(s[t, i])), (t, 1, T)),
    )
    chain = (
        ChainBuilder(general.lhs, label="stable")
        .step(
            general.result,
            UsingFacts((Fact(general.lhs, general.result, "the general IAF theorem (proved above)"),)),
            "theorem",
            "",
        )
        .step(
            peeled,
            PeelLastTerm(sp.Integer(0), first=True),
            "split off t = 0",
            r"The base term $\log\sigma_{0,i}$.",
        )
        .step(
            stable,
            Instance(
                "the stable step's Jacobian",
                (
                    (
                        r"stable-step diagonal is $\operatorname{sigmoid}(s_{t,i})$: the concrete stable proof at D=3, T=2 agrees",
                        lambda: (
                            sp.expand(
                                (iaf_concrete_proof(3, 2, "stable").result - stable.subs({D: 3, T: 2})).doit()
                            )
                            == 0
                        ),
                    ),
                ),
            ),
            "substitute",
            r"$\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i})$ for $t\ge1$.",
        )
        .build()
    )
    return Proof(
        title="Density of the last iterate of the stable (LSTM-type) IAF (general D and T)",
        statement=rf"\log q(\mathbf{{z}}_T|\mathbf{{x}}) = {sp.latex(stable)}",
        lhs=general.lhs,
        result=stable,
        sections=(*general.sections, Section("Stable step", chains=(chain,))),
        assumptions=general.assumptions,
        conventions=general.conventions,
        meta={"problem": "iaf-stable", "dim": None, "steps": None},
    )
