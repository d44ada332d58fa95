r"""Question 1: the density of the last IAF iterate, :math:`\log q(\mathbf{z}_T|\mathbf{x})`.

Kingma et al. 2016, eq. 10–11: :math:`\mathbf{z}_0 = \boldsymbol\mu_0 + \boldsymbol\sigma_0\odot
\boldsymbol\epsilon`, :math:`\mathbf{z}_t = \boldsymbol\mu_t + \boldsymbol\sigma_t\odot\mathbf{z}_{t-1}`,

.. math::
    \log q(\mathbf{z}_T|\mathbf{x}) = -\sum_{i=1}^{D}\Big(\tfrac12\log 2\pi + \tfrac12\epsilon_i^2
    + \sum_{t=0}^{T}\log\sigma_{t,i}\Big).

Two proofs: :func:`iaf_general_proof` for symbolic D and T (induction on T, the triangular lemma
checked), and :func:`iaf_concrete_proof` at concrete sizes from the layer models (per-step
Jacobians + chain rule, never the composite), which ends by cross-checking the general result.

>>> proof = iaf_concrete_proof(dim=2, steps=1)
>>> proof.result == iaf_log_q_expr(steps=1, dim=2)
True
>>> [section.title for section in proof.sections][:3]
['Model', 'Jacobian of the base', 'Jacobian of step 1']
"""

from __future__ import annotations

from functools import cache, partial
from typing import Literal

import sympy as sp

from derive.derivations._lemmas import TRIANGULAR_LEMMA_MAX_N, product_lemma_holds, triangular_lemma_holds
from derive.errors import UsageError
from derive.layers import GaussianBase, IAFStableStep, IAFStep
from derive.layers.gaussian import log_normal_pdf, log_std_normal_pdf
from derive.layers.iaf import sigmoid
from derive.proof import (
    ChainBuilder,
    Fact,
    Identity,
    Instance,
    PeelLastTerm,
    Proof,
    Recomputed,
    Section,
    SummandIdentity,
    UsingFacts,
)
from derive.proof.checks import Condition, is_zero
from derive.quantities import LogAbsDetJ, LogAbsDetTotal, LogDensity, LogStdNormal
from derive.symbols import D, T, epsilon, i, j, mu, s, sigma, t, z

__all__ = ["iaf_concrete_proof", "iaf_general_proof", "iaf_log_q_expr"]

Variant = Literal["iaf", "stable"]

CONVENTIONS = (
    r"Generative direction: $\boldsymbol\epsilon\mapsto\mathbf{z}_0\mapsto\cdots\mapsto\mathbf{z}_T$. "
    r"The density of the output subtracts the log-determinant of each step: "
    r"$\log q(\mathbf{z}_T|\mathbf{x}) = \log\mathcal{N}(\boldsymbol\epsilon;\mathbf{0},\mathbf{I}) "
    r"- \sum_{t=0}^{T}\log|\det\partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}|$ "
    r"($\mathbf{z}_{-1}:=\boldsymbol\epsilon$). $\sigma_{t,i}$ abbreviates "
    r"$\sigma_{t,i}(z_{t-1,1:i-1}, \mathbf{h})$ evaluated along the flow."
)


def iaf_log_q_expr(steps: sp.Expr = T, dim: sp.Expr = D) -> sp.Expr:
    r"""The right-hand side :math:`R(T)` as an expression (used as the induction hypothesis's form)."""
    return -sp.Sum(
        sp.log(2 * sp.pi) / 2 + epsilon[i] ** 2 / 2 + sp.Sum(sp.log(sigma[t, i]), (t, 0, steps)), (i, 1, dim)
    )


def _stable_expr(steps: int, dim: int) -> sp.Expr:
    return -sp.Sum(
        sp.log(2 * sp.pi) / 2
        + epsilon[i] ** 2 / 2
        + sp.log(sigma[0, i])
        + sp.Sum(sp.log(sigmoid(s[t, i])), (t, 1, steps)),
        (i, 1, dim),
    )


def _diagonal_matches(diag: tuple[sp.Expr, ...], entry: sp.Expr) -> bool:
    return all(is_zero(d - entry.subs(i, r + 1)) is not None for r, d in enumerate(diag))


def _triangular_condition() -> Condition:
    return (
        rf"lemma $\det L=\prod_k L_{{kk}}$ checked on generic triangular $n\times n$ matrices, "
        rf"$n\le {TRIANGULAR_LEMMA_MAX_N}$",
        triangular_lemma_holds,
    )


def _chain_rule_section(steps: sp.Expr, concrete: bool) -> tuple[Section, Fact]:
    total = sp.Sum(LogAbsDetJ(t), (t, 0, steps))
    chain = (
        ChainBuilder(LogAbsDetTotal(steps), label="chain rule")
        .step(
            total.doit() if concrete else total,
            Instance(
                "the chain rule and det(AB) = det(A) det(B)",
                (("det(AB) = det(A)det(B) checked on generic symbolic 3x3 matrices", product_lemma_holds),),
            ),
            "chain rule",
            r"$\partial\mathbf{z}_T/\partial\boldsymbol\epsilon = J_T J_{T-1}\cdots J_0$ with "
            r"$J_t = \partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}$; the determinant of a product "
            r"is the product of the determinants.",
        )
        .build()
    )
    return Section("Lemma (chain rule)", chains=(chain,)), Fact.of(chain, "the chain rule")


@cache
def iaf_concrete_proof(dim: int, steps: int, variant: Variant = "iaf") -> Proof:
    r"""Derive :math:`\log q(\mathbf{z}_T|\mathbf{x})` at concrete D, T from the layer models."""
    if not isinstance(dim, int) or dim < 1:
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    if not isinstance(steps, int) or steps < 0:
        raise UsageError(f"--steps must be a non-negative integer, got {steps!r}")
    base = GaussianBase(dim)
    layers = [base] + [
        (IAFStep(dim, t=k) if variant == "iaf" else IAFStableStep(dim, t=k)) for k in range(1, steps + 1)
    ]
    jac_sections, jac_facts = [], []
    for k, layer in enumerate(layers):
        J = layer.jacobian()
        diag = tuple(layer.abbreviate(d) for d in J.diagonal)
        factor = sigma[k, i] if variant == "iaf" or k == 0 else sigmoid(s[k, i])
        prod = sp.Product(factor, (i, 1, dim))
        summed = sp.Sum(sp.log(prod.function), (i, 1, dim))
        what = "diagonal" if J.structure.value == "diagonal" else "lower-triangular"
        wrt = r"\epsilon_i" if k == 0 else f"z_{{{k - 1},i}}"
        chain = (
            ChainBuilder(LogAbsDetJ(k), label=f"step {k} Jacobian")
            .step(
                sp.log(sp.Abs(prod)),
                Instance(
                    "the triangular-determinant lemma",
                    (
                        (
                            f"$J_{{{k}}}$ is {what}: {J.zero_entries()} entries proved zero by dependency "
                            r"(output $i$ does not contain input $j$)",
                            partial(lambda J: J.structure.is_triangular, J),
                        ),
                        (
                            rf"diagonal recomputed by differentiation: $\partial z_{{{k},i}}/\partial "
                            rf"{wrt}$ for $i=1..{dim}$",
                            partial(_diagonal_matches, diag, prod.function),
                        ),
                        _triangular_condition(),
                    ),
                ),
                "triangular Jacobian",
                "Each output depends only on earlier inputs (autoregressive), so the Jacobian is "
                "triangular and its determinant is the product of its diagonal.",
            )
            .step(
                summed,
                Identity(expand_sums=True),
                "log of a product",
                r"$\log\prod = \sum\log$ for positive factors.",
            )
            .build()
        )
        jac_sections.append(
            Section(f"Jacobian of step {k}" if k else "Jacobian of the base", chains=(chain,))
        )
        jac_facts.append(Fact.of(chain, f"the step-{k} Jacobian"))

    chain_sec, chain_fact = _chain_rule_section(steps, concrete=True)
    eps = tuple(epsilon[r] for r in range(1, dim + 1))
    gauss = sp.Sum(-sp.log(2 * sp.pi) / 2 - epsilon[i] ** 2 / 2, (i, 1, dim))
    base_chain = (
        ChainBuilder(LogStdNormal(), label="base density")
        .step(
            gauss,
            Recomputed(
                lambda: log_std_normal_pdf(eps), "standard normal log-density, dimension by dimension", True
            ),
            "standard normal",
            r"$\boldsymbol\epsilon\sim\mathcal{N}(\mathbf{0},\mathbf{I})$.",
        )
        .build()
    )
    base_fact = Fact.of(base_chain, "the standard normal density")
    sum_of_logdets = sp.Sum(LogAbsDetJ(t), (t, 0, steps)).doit()
    invertible = (
        r"each $J_t$ is triangular with a positive diagonal, so $\boldsymbol\epsilon\mapsto\mathbf{z}_T$ is a bijection",
        lambda: all(
            lay.jacobian().structure.is_triangular and all(d.is_positive for d in lay.jacobian().diagonal)
            for lay in layers
        ),
    )
    target = iaf_log_q_expr(steps, dim) if variant == "iaf" else _stable_expr(steps, dim)
    expanded = gauss - sp.Add(*[f.rhs for f in jac_facts])
    main = (
        ChainBuilder(LogDensity(steps), label="main")
        .step(
            LogStdNormal() - LogAbsDetTotal(steps),
            Instance("the change-of-variables formula", (invertible,)),
            "change of variables",
            r"For a bijection $\boldsymbol\epsilon\mapsto\mathbf{z}_T$: "
            r"$q(\mathbf{z}_T|\mathbf{x}) = \mathcal{N}(\boldsymbol\epsilon)\,"
            r"|\det\partial\mathbf{z}_T/\partial\boldsymbol\epsilon|^{-1}$.",
        )
        .step(LogStdNormal() - sum_of_logdets, UsingFacts((chain_fact,)), "chain rule", "Lemma (chain rule).")
        .step(
            expanded,
            UsingFacts((base_fact, *jac_facts), Identity(expand_sums=True)),
            "substitute",
            "The base density and each step's log-determinant, derived above.",
        )
        .step(target, Identity(expand_sums=True), "collect", "Collect the terms under one sum over $i$.")
        .build()
    )
    sections = [
        Section(
            "Model",
            _model_text(dim, steps, variant),
        ),
        *jac_sections,
        chain_sec,
        Section("Base density", chains=(base_chain,)),
        Section("Derivation", chains=(main,)),
    ]
    if variant == "iaf":
        general = iaf_general_proof()
        cross = (
            ChainBuilder(main.result, label="cross-check")
            .step(
                general.result.subs({D: dim, T: steps}),
                Identity(expand_sums=True),
                "general theorem",
                f"The general result (symbolic $D$, $T$) at $D={dim}$, $T={steps}$.",
            )
            .build()
        )
        sections.append(Section("Cross-check with the general theorem", chains=(cross,)))
    title = "IAF" if variant == "iaf" else "stable (LSTM-type) IAF"
    return Proof(
        title=f"Density of the last iterate of {title} (D = {dim}, T = {steps})",
        statement=rf"\log q(\mathbf{{z}}_{{{steps}}}|\mathbf{{x}}) = {sp.latex(target)}",
        lhs=LogDensity(steps),
        result=target,
        sections=tuple(sections),
        assumptions=(r"\sigma_{t,i} > 0", r"\epsilon_i \in \mathbb{R}", r"\text{autoregressive dependence}"),
        conventions=CONVENTIONS,
        meta={"problem": "iaf", "dim": dim, "steps": steps, "variant": variant},
    )


def _model_text(dim: object, steps: object, variant: Variant) -> str:
    step = (
        r"z_{t,i} = \mu_{t,i}(z_{t-1,1:i-1},\mathbf{h}) + \sigma_{t,i}(z_{t-1,1:i-1},\mathbf{h})\, z_{t-1,i}"
        if variant == "iaf"
        else r"z_{t,i} = \sigma_{t,i} z_{t-1,i} + (1-\sigma_{t,i})\, m_{t,i},\quad "
        r"\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i}(z_{t-1,1:i-1},\mathbf{h}))"
    )
    sizes = (
        "$D$ dimensions, $T$ IAF steps"
        if isinstance(dim, sp.Symbol)
        else rf"$D = {sp.latex(dim)}$ dimensions, $T = {sp.latex(steps)}$ IAF steps"
    )
    return (
        sizes + " on a diagonal Gaussian base. "
        r"$z_{0,i} = \mu_{0,i} + \sigma_{0,i}\epsilon_i$ with $\boldsymbol\epsilon\sim\mathcal{N}(\mathbf{0},\mathbf{I})$ "
        r"and $\boldsymbol\mu_0,\boldsymbol\sigma_0$ from the encoder of $\mathbf{x}$; for $t\ge1$: "
        rf"${step}$. The autoregressive functions are undefined SymPy functions of exactly these arguments."
    )


@cache
def iaf_general_proof() -> Proof:
    r"""Prove :math:`\log q(\mathbf{z}_T|\mathbf{x}) = R(T)` for symbolic D and all T ≥ 0, by induction on T."""
    n = sp.Symbol("n", integer=True, nonnegative=True)  # the induction variable
    # Lemma: one IAF step's log-determinant, for symbolic D.
    entry = sp.diff(
        mu[t, i] + sigma[t, i] * z[t - 1, i], z[t - 1, j]
    )  # mu, sigma constant in z_{t-1,j}, j >= i

    def instances_hold() -> bool:
        return all(
            sp.expand(IAFStep(d, t=1).derived_logdet() - IAFStep(d, t=1).claimed_logdet()) == 0
            for d in range(1, 6)
        )

    step_lemma = (
        ChainBuilder(LogAbsDetJ(t), label="IAF step lemma")
        .step(
            sp.Sum(sp.log(sigma[t, i]), (i, 1, D)),
            Instance(
                "the triangular-determinant lemma",
                (
                    (
                        r"for $j\ge i$, $\mu_{t,i},\sigma_{t,i}$ do not depend on $z_{t-1,j}$, so "
                        rf"$\partial z_{{t,i}}/\partial z_{{t-1,j}} = {sp.latex(entry)}$: zero above the diagonal, "
                        r"$\sigma_{t,i}$ on it (symbolic $i$, $j$)",
                        lambda: entry == sigma[t, i] * sp.KroneckerDelta(i, j),
                    ),
                    _triangular_condition(),
                    (
                        r"the model-level step (undefined autoregressive functions) gives the same for $D=1..5$",
                        instances_hold,
                    ),
                ),
            ),
            "triangular Jacobian",
            r"$J_t$ is lower triangular with diagonal $\sigma_{t,i} > 0$, so "
            r"$\log|\det J_t| = \sum_i\log\sigma_{t,i}$ (the same argument with $t=0$ covers the base map).",
        )
        .build()
    )
    step_fact = Fact.of(step_lemma, "the IAF step lemma")
    zs = tuple(z[0, r] for r in range(1, 4))
    gauss_ok = sp.expand(
        log_normal_pdf(zs, tuple(mu[0, r] for r in range(1, 4)), tuple(sigma[0, r] for r in range(1, 4)))
        - sp.Sum(
            -sp.log(2 * sp.pi) / 2 - sp.log(sigma[0, i]) - (z[0, i] - mu[0, i]) ** 2 / (2 * sigma[0, i] ** 2),
            (i, 1, 3),
        ).doit()
    )
    gaussian = sp.Sum(
        -sp.log(2 * sp.pi) / 2 - sp.log(sigma[0, i]) - (z[0, i] - mu[0, i]) ** 2 / (2 * sigma[0, i] ** 2),
        (i, 1, D),
    )
    reparam = Fact(
        z[0, i], mu[0, i] + sigma[0, i] * epsilon[i], r"$z_{0,i} = \mu_{0,i}+\sigma_{0,i}\epsilon_i$"
    )
    base_case = (
        ChainBuilder(LogDensity(0), label="base case")
        .step(
            gaussian,
            Instance(
                "the diagonal Gaussian density",
                (
                    (
                        "the summand matches the model's diagonal Gaussian log-density (checked at D=3)",
                        lambda: gauss_ok == 0,
                    ),
                ),
            ),
            "Gaussian density",
            r"$q(\mathbf{z}_0|\mathbf{x}) = \mathcal{N}(\mathbf{z}_0;\boldsymbol\mu_0,\operatorname{diag}\boldsymbol\sigma_0^2)$.",
        )
        .step(
            sp.Sum(-sp.log(2 * sp.pi) / 2 - sp.log(sigma[0, i]) - epsilon[i] ** 2 / 2, (i, 1, D)),
            UsingFacts((reparam,), SummandIdentity()),
            "reparameterise",
            r"$(z_{0,i}-\mu_{0,i})/\sigma_{0,i} = \epsilon_i$.",
        )
        .step(
            iaf_log_q_expr(0),
            SummandIdentity(),
            "collect",
            r"Take out the minus sign; $\sum_{t=0}^{0}$ has one term.",
        )
        .build()
    )
    hypothesis = Fact(LogDensity(n), iaf_log_q_expr(n), "the induction hypothesis")
    step_inst = step_fact.instantiate(t, n + 1)
    induction = (
        ChainBuilder(LogDensity(n + 1), label="induction step")
        .step(
            LogDensity(n) - LogAbsDetJ(n + 1),
            Instance(
                "the change-of-variables formula",
                (
                    (
                        r"$\mathbf{z}_n\mapsto\mathbf{z}_{n+1}$ is a bijection: triangular Jacobian with positive diagonal",
                        lambda: bool(sigma[n + 1, i].is_positive),
                    ),
                ),
            ),
            "change of variables",
            r"One more step: $q(\mathbf{z}_{n+1}|\mathbf{x}) = q(\mathbf{z}_n|\mathbf{x})\,|\det J_{n+1}|^{-1}$.",
        )
        .step(
            iaf_log_q_expr(n) - sp.Sum(sp.log(sigma[n + 1, i]), (i, 1, D)),
            UsingFacts((hypothesis, step_inst)),
            "hypothesis and lemma",
            "The induction hypothesis for $n$ and the IAF step lemma with $t = n+1$.",
        )
        .step(
            -sp.Sum(
                sp.log(2 * sp.pi) / 2
                + epsilon[i] ** 2 / 2
                + sp.Sum(sp.log(sigma[t, i]), (t, 0, n))
                + sp.log(sigma[n + 1, i]),
                (i, 1, D),
            ),
            Identity(),
            "linearity",
            r"Merge the two sums over $i$.",
        )
        .step(
            iaf_log_q_expr(n + 1),
            PeelLastTerm(n + 1),
            "extend the sum",
            r"$\sum_{t=0}^{n}a_t + a_{n+1} = \sum_{t=0}^{n+1}a_t$.",
        )
        .build()
    )
    conclusion = (
        ChainBuilder(LogDensity(T), label="conclusion")
        .step(
            iaf_log_q_expr(T),
            Instance(
                "induction on T",
                (
                    ("base case T = 0 proved above", lambda: base_case.result == iaf_log_q_expr(0)),
                    (
                        "induction step n -> n+1 proved above",
                        lambda: (
                            induction.result == iaf_log_q_expr(n + 1) and induction.lhs == LogDensity(n + 1)
                        ),
                    ),
                ),
            ),
            "induction",
            r"The statement holds for $T=0$ and passes from $n$ to $n+1$, so it holds for every $T\ge0$.",
        )
        .build()
    )
    return Proof(
        title=r"Density of the last iterate of IAF (general D and T)",
        statement=rf"\log q(\mathbf{{z}}_T|\mathbf{{x}}) = {sp.latex(iaf_log_q_expr())}",
        lhs=LogDensity(T),
        result=conclusion.result,
        sections=(
            Section("Model", _model_text(D, T, "iaf")),
            Section("Lemma (one IAF step)", chains=(step_lemma,)),
            Section("Base case (T = 0)", chains=(base_case,)),
            Section(
                "Induction step",
                r"Assume the statement for $T = n$ (the induction hypothesis).",
                chains=(induction,),
            ),
            Section("Conclusion", chains=(conclusion,)),
        ),
        assumptions=(r"\sigma_{t,i} > 0", r"D \ge 1", r"T \ge 0", r"\text{autoregressive dependence}"),
        conventions=CONVENTIONS,
        meta={"problem": "iaf", "dim": None, "steps": None, "variant": "iaf"},
    )
