r"""Question 1: the density of the last IAF iterate, :math:`\log q(\mathbf{z}_T|\mathbf{x})`.

Kingma et al. 2016, eq. 10–11: :math:`\mathbf{z}_0 = \boldsymbol\mu_0 + \boldsymbol\sigma_0\odot
\boldsymbol\epsilon`, :math:`\mathbf{z}_t = \boldsymbol\mu_t + \boldsymbol\sigma_t\odot\mathbf{z}_{t-1}`,

.. math::
    \log q(\mathbf{z}_T|\mathbf{x}) = -\sum_{i=1}^{D}\Big(\tfrac12\log 2\pi + \tfrac12\epsilon_i^2
    + \sum_{t=0}^{T}\log\sigma_{t,i}\Big).

Two proofs, both through the trusted kernel: :func:`iaf_general_proof` for symbolic D and T
(induction on T; each step's log-determinant computed from the symbolic-D model), and
:func:`iaf_concrete_proof` at concrete sizes from the layer models (per-step Jacobians and the chain
rule, never the composite), which ends by comparing with the general theorem at those sizes.

>>> proof = iaf_concrete_proof(dim=2, steps=1)
>>> proof.result == iaf_log_q_expr(steps=1, dim=2)
True
>>> sorted(a.name for a in iaf_general_proof().axioms_used())
['change-of-variables', 'det-triangular', 'gaussian-density', 'induction']
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import sympy as sp

from derive.errors import UsageError
from derive.layers.flow import IAFFlow
from derive.layers.generic import sigmoid
from derive.proof import kernel as K
from derive.proof._proof import ChainBuilder, Proof, Section
from derive.proof.checks import (
    ChainRule,
    ChangeOfVariables,
    FromJacobian,
    Identity,
    Induction,
    PeelLastTerm,
    Rewrite,
    StandardNormal,
)
from derive.quantities import LogDetStep, LogDetTotal, LogN, LogQ, ModelAtom
from derive.symbols import D, T, epsilon, i, s, sigma, t

__all__ = ["iaf_concrete_proof", "iaf_general_proof", "iaf_log_q_expr", "iaf_stable_log_q_expr"]

Variant = Literal["iaf", "stable"]

CONVENTIONS = (
    r"Generative direction: $\boldsymbol\epsilon\mapsto\mathbf{z}_0\mapsto\cdots\mapsto\mathbf{z}_T$. "
    r"The density of the output subtracts the log-determinant of each step: "
    r"$\log q(\mathbf{z}_T|\mathbf{x}) = \log\mathcal{N}(\boldsymbol\epsilon;\mathbf{0},\mathbf{I}) "
    r"- \sum_{t=0}^{T}\log|\det\partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}|$ "
    r"($\mathbf{z}_{-1}:=\boldsymbol\epsilon$). $\sigma_{t,i}$ abbreviates "
    r"$\sigma_{t,i}(z_{t-1,1:i-1}, \mathbf{h})$ evaluated along the flow."
)

#: The step index of the step lemma: t >= 1 (the base map t = 0 has its own lemma).
T1 = sp.Symbol("t", integer=True, positive=True)


def iaf_log_q_expr(steps: sp.Expr = T, dim: sp.Expr = D) -> sp.Expr:
    r"""The right-hand side :math:`R(T)` (the induction's motive; the proof certifies it)."""
    return -sp.Sum(
        sp.log(2 * sp.pi) / 2 + epsilon[i] ** 2 / 2 + sp.Sum(sp.log(sigma[t, i]), (t, 0, steps)), (i, 1, dim)
    )


def iaf_stable_log_q_expr(steps: sp.Expr = T, dim: sp.Expr = D) -> sp.Expr:
    r"""The stable variant's :math:`R(T)`: :math:`\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i})` for t ≥ 1."""
    return -sp.Sum(
        sp.log(2 * sp.pi) / 2
        + epsilon[i] ** 2 / 2
        + sp.log(sigma[0, i])
        + sp.Sum(sp.log(sigmoid(s[t, i])), (t, 1, steps)),
        (i, 1, dim),
    )


def _step_factor(k: sp.Expr, stable: bool) -> sp.Expr:
    return sigmoid(s[k, i]) if stable and k != 0 else sigma[k, i]


def _model_text(dim: object, steps: object, stable: bool) -> str:
    step = (
        r"z_{t,i} = \sigma_{t,i} z_{t-1,i} + (1-\sigma_{t,i})\, m_{t,i},\quad "
        r"\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i}(z_{t-1,1:i-1},\mathbf{h}))"
        if stable
        else r"z_{t,i} = \mu_{t,i}(z_{t-1,1:i-1},\mathbf{h}) + \sigma_{t,i}(z_{t-1,1:i-1},\mathbf{h})\, z_{t-1,i}"
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
        rf"${step}$. The autoregressive functions are functions of exactly these arguments: the kernel "
        r"differentiates them as such (zero with respect to $z_{t-1,j}$, $j\ge i$)."
    )


def _induction_proof(stable: bool) -> Proof:
    F = ModelAtom(IAFFlow(D, stable))
    R = iaf_stable_log_q_expr if stable else iaf_log_q_expr
    n = sp.Symbol("n", integer=True, nonnegative=True)
    factor = sp.log(_step_factor(T1, stable))
    lemma = (
        ChainBuilder(LogDetStep(F, T1), label="IAF step lemma")
        .step(
            sp.Sum(factor, (i, 1, D)),
            FromJacobian(),
            "triangular Jacobian",
            r"The step's Jacobian, differentiated from the model for symbolic $i, j$: zero above the "
            r"diagonal (the autoregressive functions do not depend on $z_{t-1,j}$, $j \ge i$), so the "
            r"determinant is the product of the diagonal.",
        )
        .build()
    )
    base_lemma = (
        ChainBuilder(LogDetStep(F, 0), label="base map lemma")
        .step(
            sp.Sum(sp.log(sigma[0, i]), (i, 1, D)),
            FromJacobian(),
            "diagonal Jacobian",
            r"$z_{0,i} = \mu_{0,i}+\sigma_{0,i}\epsilon_i$: diagonal, with $\sigma_{0,i} > 0$ on it.",
        )
        .build()
    )
    gauss = sp.Sum(-sp.log(2 * sp.pi) / 2 - epsilon[i] ** 2 / 2, (i, 1, D))
    base_case = (
        ChainBuilder(LogQ(F, 0), label="base case")
        .step(
            LogN(F) - LogDetStep(F, 0),
            ChangeOfVariables(),
            "change of variables",
            r"$\boldsymbol\epsilon\mapsto\mathbf{z}_0$ is a bijection.",
        )
        .step(
            gauss - sp.Sum(sp.log(sigma[0, i]), (i, 1, D)),
            Rewrite((base_lemma.theorem,), StandardNormal()),
            "base density",
            r"$\boldsymbol\epsilon\sim\mathcal{N}(\mathbf{0},\mathbf{I})$ and the base map lemma.",
            cite="the base map lemma",
        )
        .step(
            R(0),
            Identity(expand_sums=True),
            "collect",
            r"One sum over $i$; $\sum_{t=0}^{0}$ has one term"
            + (r" and $\sum_{t=1}^{0}$ none." if stable else "."),
        )
        .build()
    )
    hypothesis = K.assume(LogQ(F, n), R(n))
    step_n1 = K.inst(lemma.theorem, {T1: n + 1})
    merged = -sp.Sum(
        sp.log(2 * sp.pi) / 2
        + epsilon[i] ** 2 / 2
        + (
            sp.log(sigma[0, i]) + sp.Sum(sp.log(sigmoid(s[t, i])), (t, 1, n))
            if stable
            else sp.Sum(sp.log(sigma[t, i]), (t, 0, n))
        )
        + sp.log(_step_factor(n + 1, stable)),
        (i, 1, D),
    )
    induction = (
        ChainBuilder(LogQ(F, n + 1), label="induction step")
        .step(
            LogQ(F, n) - LogDetStep(F, n + 1),
            ChangeOfVariables(),
            "change of variables",
            r"$\mathbf{z}_n\mapsto\mathbf{z}_{n+1}$ is a bijection; the output's density subtracts its log-determinant.",
        )
        .step(
            R(n) - sp.Sum(sp.log(_step_factor(n + 1, stable)), (i, 1, D)),
            Rewrite((hypothesis, step_n1)),
            "hypothesis and lemma",
            "The induction hypothesis for $n$ and the IAF step lemma with $t = n+1$.",
            cite="the induction hypothesis and the IAF step lemma (t := n+1)",
        )
        .step(merged, Identity(), "linearity", r"Merge the two sums over $i$.")
        .step(
            R(n + 1),
            PeelLastTerm(n + 1),
            "extend the sum",
            r"$\sum_{t}^{n}a_t + a_{n+1} = \sum_{t}^{n+1}a_t$.",
        )
        .build()
    )
    conclusion = (
        ChainBuilder(LogQ(F, T), label="conclusion")
        .step(
            R(T),
            Induction(T, base_case.theorem, induction.theorem, n),
            "induction",
            r"The statement holds for $T=0$ and passes from $n$ to $n+1$, so it holds for every $T\ge0$.",
            cite="the base case and the induction step above",
        )
        .build()
    )
    title = "the stable (LSTM-type) IAF" if stable else "IAF"
    return Proof(
        title=f"Density of the last iterate of {title} (general D and T)",
        theorem=conclusion.theorem,
        sections=(
            Section("Model", _model_text(D, T, stable)),
            Section("Lemma (one IAF step)", chains=(lemma,)),
            Section("Lemma (the base map)", chains=(base_lemma,)),
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
        meta={
            "problem": "iaf-stable" if stable else "iaf",
            "dim": None,
            "steps": None,
            "variant": "stable" if stable else "iaf",
        },
    )


@cache
def iaf_general_proof() -> Proof:
    r"""Prove :math:`\log q(\mathbf{z}_T|\mathbf{x}) = R(T)` for symbolic D and all T ≥ 0, by induction on T."""
    return _induction_proof(stable=False)


@cache
def iaf_stable_general_proof() -> Proof:
    r"""Q1 for the stable step (:math:`\sigma_{t,i}=\operatorname{sigmoid}(s_{t,i})`, t ≥ 1), by its own induction."""
    return _induction_proof(stable=True)


@cache
def iaf_concrete_proof(dim: int, steps: int, variant: Variant = "iaf") -> Proof:
    r"""Derive :math:`\log q(\mathbf{z}_T|\mathbf{x})` at concrete D, T from the layer models."""
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise UsageError(f"--steps must be a non-negative integer, got {steps!r}")
    stable = variant == "stable"
    F = ModelAtom(IAFFlow(sp.Integer(dim), stable))
    jac_sections, lemmas = [], []
    for k in range(steps + 1):
        chain = (
            ChainBuilder(LogDetStep(F, k), label=f"step {k} Jacobian")
            .step(
                sp.Sum(sp.log(_step_factor(sp.Integer(k), stable)), (i, 1, dim)),
                FromJacobian(Identity(expand_sums=True)),
                "triangular Jacobian" if k else "diagonal Jacobian",
                "Each output depends only on earlier inputs (autoregressive; proved by dependency), so the "
                "Jacobian is triangular and its determinant is the product of its diagonal, differentiated "
                "from the model.",
            )
            .build()
        )
        jac_sections.append(
            Section(f"Jacobian of step {k}" if k else "Jacobian of the base", chains=(chain,))
        )
        lemmas.append(chain.theorem)
    gauss = sp.Sum(-sp.log(2 * sp.pi) / 2 - epsilon[i] ** 2 / 2, (i, 1, dim))
    base_chain = (
        ChainBuilder(LogN(F), label="base density")
        .step(
            gauss,
            StandardNormal(),
            "standard normal",
            r"$\boldsymbol\epsilon\sim\mathcal{N}(\mathbf{0},\mathbf{I})$.",
        )
        .build()
    )
    chain_rule = (
        ChainBuilder(LogDetTotal(F, steps), label="chain rule")
        .step(
            sp.Add(*[LogDetStep(F, k) for k in range(steps + 1)]),
            ChainRule(),
            "chain rule",
            r"$\partial\mathbf{z}_T/\partial\boldsymbol\epsilon = J_T J_{T-1}\cdots J_0$ with "
            r"$J_t = \partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}$; the determinant of a product "
            r"is the product of the determinants.",
        )
        .build()
    )
    target = iaf_stable_log_q_expr(steps, dim) if stable else iaf_log_q_expr(steps, dim)
    expanded = gauss - sp.Add(*[th.rhs for th in lemmas])
    main = (
        ChainBuilder(LogQ(F, steps), label="main")
        .step(
            LogN(F) - LogDetTotal(F, steps),
            ChangeOfVariables(total=True),
            "change of variables",
            r"For a bijection $\boldsymbol\epsilon\mapsto\mathbf{z}_T$: "
            r"$q(\mathbf{z}_T|\mathbf{x}) = \mathcal{N}(\boldsymbol\epsilon)\,"
            r"|\det\partial\mathbf{z}_T/\partial\boldsymbol\epsilon|^{-1}$.",
        )
        .step(
            LogN(F) - chain_rule.result,
            Rewrite((chain_rule.theorem,)),
            "chain rule",
            "Lemma (chain rule).",
            cite="the chain rule lemma",
        )
        .step(
            expanded,
            Rewrite((base_chain.theorem, *lemmas), Identity(expand_sums=True)),
            "substitute",
            "The base density and each step's log-determinant, derived above.",
            cite="the base density and the step Jacobians",
        )
        .step(target, Identity(expand_sums=True), "collect", "Collect the terms under one sum over $i$.")
        .build()
    )
    general = iaf_stable_general_proof() if stable else iaf_general_proof()
    at_size = K.inst(general.theorem, {D: dim, T: steps})
    cross = (
        ChainBuilder(LogQ(F, steps), label="cross-check")
        .step(
            at_size.rhs,
            Rewrite((at_size,)),
            "general theorem",
            f"The general theorem (symbolic $D$, $T$) instantiated at $D={dim}$, $T={steps}$.",
            cite="the general theorem",
        )
        .step(target, Identity(expand_sums=True), "agrees", "The same value as the derivation above.")
        .build()
    )
    title = "stable (LSTM-type) IAF" if stable else "IAF"
    return Proof(
        title=f"Density of the last iterate of {title} (D = {dim}, T = {steps})",
        theorem=main.theorem,
        sections=(
            Section("Model", _model_text(dim, steps, stable)),
            *jac_sections,
            Section("Lemma (chain rule)", chains=(chain_rule,)),
            Section("Base density", chains=(base_chain,)),
            Section("Derivation", chains=(main,)),
            Section("Cross-check with the general theorem", chains=(cross,)),
        ),
        assumptions=(r"\sigma_{t,i} > 0", r"\epsilon_i \in \mathbb{R}", r"\text{autoregressive dependence}"),
        conventions=CONVENTIONS,
        meta={"problem": "iaf", "dim": dim, "steps": steps, "variant": variant},
    )
