r"""Question 2: the log-determinant of batch normalisation, eval and train mode.

Eval mode (statistics are constants), normalizing direction
:math:`y_i = (x_i-\tilde\mu_i)/\sqrt{\tilde\sigma_i^2+\epsilon}`:

.. math::
    \log\left|\det\frac{\partial\mathbf{y}}{\partial\mathbf{x}}\right|
    = \sum_i \log\left|\frac{1}{\sqrt{\tilde\sigma_i^2+\epsilon}}\right|
    = -\tfrac12\sum_i\log(\tilde\sigma_i^2+\epsilon)\;\Big(+\sum_i\log|\gamma_i|\Big).

The generative map :math:`\mathbf{y}\mapsto\mathbf{x}` is a different map, and its quantity is
:math:`\log|\det\partial\mathbf{x}/\partial\mathbf{y}| = +\tfrac12\sum_i\log(\tilde\sigma_i^2+\epsilon)`:
computed from its own model, and cross-checked through the inverse-function axiom.

Train mode (statistics of the batch of N): the full batch Jacobian is singular (the constant vector
is in its kernel); the per-sample log-det gains :math:`\sum_i\log|1-(1+c\,\hat y_{1,i}^2)/N|`
(:math:`c=1` biased variance, :math:`N/(N-1)` unbiased). The kernel computes it at concrete batch
sizes, so the theorem says "checked for N ∈ {...}" — it is not claimed for every N.

>>> from derive.symbols import bn_eps, bn_std
>>> batchnorm_eval_proof().result == -sp.Sum(sp.log(bn_std[i] ** 2 + bn_eps), (i, 1, D)) / 2
True
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.errors import UsageError
from derive.layers import BatchNorm
from derive.layers._base import Direction
from derive.layers.batchnorm import BatchNormTrainBatch
from derive.layers.generic import GenericBatchNorm, GenericBatchNormTrainSample
from derive.proof import kernel as K
from derive.proof._proof import ChainBuilder, Proof, Section
from derive.proof.checks import (
    Differentiate,
    FromJacobian,
    Identity,
    InverseFunction,
    Rewrite,
    SummandIdentity,
)
from derive.quantities import BatchHat, BatchVar, JacEntry, LogDetMap, ModelAtom
from derive.symbols import D, N, bn_eps, bn_std, gamma, i

__all__ = ["TRAIN_CHECK_SIZES", "batchnorm_eval_proof", "batchnorm_train_proof"]

_CONVENTIONS = (
    r"Normalizing direction $\mathbf{x}\mapsto\mathbf{y}$ unless stated; the generative "
    r"(un-normalizing) map $\mathbf{y}\mapsto\mathbf{x}$ is the inverse map, with the opposite log-determinant. "
    r"$\epsilon>0$ is the stability constant (not noise)."
)


def _eval_layer(dim: int | None, affine: bool, direction: Direction) -> object:
    if dim is None:
        return GenericBatchNorm(D, affine, direction)
    return BatchNorm(dim, affine=affine, direction=direction)


@cache
def batchnorm_eval_proof(
    dim: int | None = None, affine: bool = False, direction: Direction = "normalizing"
) -> Proof:
    """Eval-mode log-det of the map in ``direction``; symbolic D when ``dim`` is None, else at that D."""
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    if direction not in ("normalizing", "generative"):
        raise UsageError(f"direction must be 'normalizing' or 'generative', got {direction!r}")
    size = D if dim is None else sp.Integer(dim)
    B = ModelAtom(_eval_layer(dim, affine, direction))
    s = sp.sqrt(bn_std[i] ** 2 + bn_eps)
    g = gamma[i] if affine else sp.Integer(1)
    sign = 1 if direction == "normalizing" else -1
    entry = g / s if direction == "normalizing" else s / g
    per_term = sign * (-sp.log(bn_std[i] ** 2 + bn_eps) / 2 + (sp.log(sp.Abs(gamma[i])) if affine else 0))
    final = sign * (
        -sp.Sum(sp.log(bn_std[i] ** 2 + bn_eps), (i, 1, size)) / 2
        + (sp.Sum(sp.log(sp.Abs(gamma[i])), (i, 1, size)) if affine else 0)
    )
    chain = (
        ChainBuilder(LogDetMap(B), label="eval mode")
        .step(
            sp.Sum(sp.log(sp.Abs(entry)), (i, 1, size)),
            FromJacobian(Identity(expand_sums=dim is not None)),
            "diagonal Jacobian",
            r"Each output depends on its own input only; $\tilde\mu,\tilde\sigma^2$ are constants in eval mode, "
            r"so the Jacobian (differentiated from the model) is diagonal and $\det$ is the product of the diagonal.",
        )
        .step(
            sp.Sum(per_term, (i, 1, size)),
            SummandIdentity(),
            "log rules",
            r"$\log|a/\sqrt b| = \log|a| - \tfrac12\log b$ for $b>0$.",
        )
        .step(final, Identity(), "linearity", "Split the sum.")
        .build()
    )
    sections = [
        Section(
            "Model",
            (f"$D = {size}$ features; " if dim is not None else "$D$ features; ")
            + (
                r"$y_i = \gamma_i\,(x_i-\tilde\mu_i)/\sqrt{\tilde\sigma_i^2+\epsilon} + \beta_i$"
                if affine
                else r"$y_i = (x_i-\tilde\mu_i)/\sqrt{\tilde\sigma_i^2+\epsilon}$"
            )
            + (
                r"; the map studied is its inverse, the generative direction $\mathbf{y}\mapsto\mathbf{x}$"
                if sign < 0
                else ""
            )
            + r". Eval mode: running statistics, constants with respect to the input (biased or unbiased "
            r"estimators give the same formula).",
        ),
        Section("Derivation", chains=(chain,)),
    ]
    if sign < 0:
        forward = ModelAtom(_eval_layer(dim, affine, "normalizing"))
        normal = batchnorm_eval_proof(dim, affine, "normalizing")
        check = (
            ChainBuilder(LogDetMap(B), label="inverse")
            .step(
                -LogDetMap(forward),
                InverseFunction(LogDetMap(forward)),
                "inverse map",
                r"The generative map inverts the normalizing one (their composition, computed, is the identity).",
            )
            .step(
                -normal.result,
                Rewrite((normal.theorem,)),
                "normalizing log-det",
                "The normalizing direction's log-determinant, proved separately.",
                cite="the normalizing-direction theorem",
            )
            .step(final, Identity(), "agrees", "The same as the direct derivation.")
            .build()
        )
        sections.append(Section("Cross-check through the inverse map", chains=(check,)))
    return Proof(
        title=f"Log-determinant of batch normalisation (eval mode{', affine' if affine else ''}"
        f"{', generative direction' if sign < 0 else ''}{'' if dim is None else f', D = {dim}'})",
        theorem=chain.theorem,
        sections=tuple(sections),
        assumptions=(r"\epsilon > 0", r"\tilde\sigma_i > 0", *((r"\gamma_i \ne 0",) if affine else ())),
        conventions=_CONVENTIONS,
        meta={"problem": "batchnorm", "mode": "eval", "dim": dim, "affine": affine, "direction": direction},
    )


#: Batch sizes at which the train-mode statements are computed from the model.
TRAIN_CHECK_SIZES = (2, 3, 4, 5)


def _per_sample_rhs(model: sp.Basic, size: sp.Expr, unbiased: bool, batch: sp.Expr) -> sp.Expr:
    c = batch / (batch - 1) if unbiased else sp.Integer(1)
    return sp.Sum(
        -sp.log(BatchVar(model, i) + bn_eps) / 2
        + sp.log(sp.Abs(1 - (1 + c * BatchHat(model, i) ** 2) / batch)),
        (i, 1, size),
    )


def _per_sample_case(Nk: int, unbiased: bool, size: sp.Expr) -> tuple[ChainBuilder, sp.Basic]:
    model = ModelAtom(GenericBatchNormTrainSample(sp.Integer(Nk), unbiased, size))
    c = sp.Rational(Nk, Nk - 1) if unbiased else sp.Integer(1)
    diag = (1 - (1 + c * BatchHat(model, i) ** 2) / Nk) / sp.sqrt(BatchVar(model, i) + bn_eps)
    stats = (K.statistic(BatchVar(model, i)), K.statistic(BatchHat(model, i)))
    chain = (
        ChainBuilder(LogDetMap(model), label=f"per sample, N = {Nk}")
        .step(
            sp.Sum(sp.log(sp.Abs(diag)), (i, 1, size)),
            FromJacobian(Rewrite(stats, SummandIdentity())),
            "per-sample Jacobian",
            r"Sample 1's map $\mathbf{x}_1\mapsto\mathbf{y}_1$ with the other samples fixed: differentiated "
            r"through the batch statistics for symbolic $i, j$ (diagonal), with $v_i$, $\hat y_{1,i}$ the "
            r"batch variance and sample 1's normalised value.",
            cite="the definitions of v_i and ŷ_{1,i} at this N",
        )
        .step(
            _per_sample_rhs(model, size, unbiased, sp.Integer(Nk)),
            SummandIdentity(),
            "log rules",
            r"$\log|a/\sqrt b| = \log|a| - \tfrac12\log b$.",
        )
    )
    return chain, model


@cache
def _singular(Nk: int, unbiased: bool) -> ChainBuilder:
    """Σ_n (Σ_m ∂y_n/∂x_m)² = 0 for one feature's batch map at N = Nk: J·1 = 0."""
    B = ModelAtom(BatchNormTrainBatch(Nk, unbiased))
    rows = sp.Add(*[sp.Add(*[JacEntry(B, a, b) for b in range(1, Nk + 1)]) ** 2 for a in range(1, Nk + 1)])
    return ChainBuilder(rows, label=f"kernel, N = {Nk}").step(
        sp.Integer(0),
        Differentiate(),
        "constant vector in the kernel",
        r"Every row sum of the batch Jacobian (differentiated from the model) vanishes: shifting every sample "
        r"by the same amount leaves $\mathbf{y}$ unchanged, so $J\mathbf{1} = \mathbf{0}$ and $\det J = 0$.",
    )


@cache
def batchnorm_train_proof(dim: int | None = None, batch: int | None = None, unbiased: bool = False) -> Proof:
    """Train mode, computed from the model at the batch sizes N = 2..5 (and ``batch``)."""
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool) or batch < 2):
        raise UsageError(f"--batch must be an integer >= 2, got {batch!r}")
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    size = D if dim is None else sp.Integer(dim)
    sizes = tuple(sorted({*TRAIN_CHECK_SIZES, *((batch,) if batch else ())}))
    cases, chains = {}, []
    for Nk in sizes:
        builder, _ = _per_sample_case(Nk, unbiased, size)
        chain = builder.build()
        cases[Nk] = chain.theorem
        chains.append(chain)
    general = ModelAtom(GenericBatchNormTrainSample(N, unbiased, size))
    theorem = K.finite_cases(N, LogDetMap(general), _per_sample_rhs(general, size, unbiased, N), cases)
    shown = (batch,) if batch else (3,)
    singular = tuple(_singular(Nk, unbiased).build() for Nk in sorted({2, 3, *shown}))
    var_text = (
        r"unbiased variance $v_i = \frac{1}{N-1}\sum_k (x_{k,i}-\tilde\mu_i)^2$"
        if unbiased
        else r"biased variance $v_i = \frac1N\sum_k (x_{k,i}-\tilde\mu_i)^2$ (what torch.nn.BatchNorm1d normalises with)"
    )
    checked = ", ".join(map(str, sizes))
    return Proof(
        title=f"Batch normalisation in train mode ({'unbiased' if unbiased else 'biased'} variance)",
        theorem=theorem,
        sections=(
            Section(
                "Model",
                rf"A batch of $N \ge 2$ samples, {'$D$' if dim is None else f'$D={dim}$'} features; "
                r"$\tilde\mu_i = \frac1N\sum_k x_{k,i}$, "
                + var_text
                + r", $\hat y_{n,i} = (x_{n,i}-\tilde\mu_i)/\sqrt{v_i+\epsilon}$. "
                r"The statistics depend on the batch, so the map of one sample is no longer the eval-mode map.",
            ),
            Section(
                "Theorem (the full batch Jacobian is singular)",
                "One feature's batch map $x_{1..N,i}\\mapsto y_{1..N,i}$, at the sizes shown (the batch Jacobian "
                "is block diagonal over features, by dependency).",
                chains=singular,
            ),
            Section(
                f"Per-sample log-determinant (computed at N = {checked})",
                "The kernel differentiates the model at each batch size; the statement for symbolic $N$ is "
                f"the conjunction of these cases, so it is claimed for $N \\in \\{{{checked}\\}}$ only.",
                chains=tuple(chains),
            ),
            Section(
                "Difference from the eval-mode formula",
                r"The eval-mode formula at the batch statistics, $-\tfrac12\sum_i\log(v_i+\epsilon)$, misses the term "
                r"$\sum_i\log|1-(1+c\,\hat y_{1,i}^2)/N|$, which vanishes as $N\to\infty$.",
            ),
        ),
        assumptions=(r"\epsilon > 0", r"N \ge 2"),
        conventions=_CONVENTIONS,
        meta={"problem": "batchnorm", "mode": "train", "dim": dim, "batch": batch, "unbiased": unbiased},
    )
