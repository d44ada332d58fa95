r"""Question 2: the log-determinant of batch normalisation, eval and train mode.

Eval mode (statistics are constants), normalizing direction
:math:`y_i = (x_i-\tilde\mu_i)/\sqrt{\tilde\sigma_i^2+\epsilon}`:

.. math::
    \log\left|\det\frac{\partial\mathbf{y}}{\partial\mathbf{x}}\right|
    = \sum_i \log\left|\frac{1}{\sqrt{\tilde\sigma_i^2+\epsilon}}\right|
    = -\tfrac12\sum_i\log(\tilde\sigma_i^2+\epsilon)\;\Big(+\sum_i\log|\gamma_i|\Big).

Train mode (statistics of the batch of N): the full batch Jacobian is singular (the constant
vector is in its kernel); the per-sample log-det gains :math:`\sum_i\log|1-(1+c\,\hat y_{n,i}^2)/N|`
(:math:`c=1` biased variance, :math:`N/(N-1)` unbiased).

>>> from derive.symbols import bn_eps, bn_std
>>> batchnorm_eval_proof().result == -sp.Sum(sp.log(bn_std[i] ** 2 + bn_eps), (i, 1, D)) / 2
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from derive.derivations._lemmas import TRIANGULAR_LEMMA_MAX_N, triangular_lemma_holds
from derive.errors import UsageError
from derive.jacobian import jacobian
from derive.layers import BatchNorm, BatchNormTrainSample
from derive.layers._base import Direction
from derive.layers.batchnorm import batch_x
from derive.proof import ChainBuilder, Identity, Instance, Proof, Recomputed, Section, SummandIdentity
from derive.proof.checks import Condition, eliminate_radicals
from derive.quantities import JacobianEntry, LogAbsDetBatchNorm
from derive.symbols import D, N, bn_eps, bn_mean, bn_std, gamma, i, j

__all__ = ["batchnorm_eval_proof", "batchnorm_train_proof"]

_CONVENTIONS = (
    r"Normalizing direction $\mathbf{x}\mapsto\mathbf{y}$ unless stated; the generative "
    r"(un-normalizing) map $\mathbf{y}\mapsto\mathbf{x}$ has the opposite log-determinant. "
    r"$\epsilon>0$ is the stability constant (not noise)."
)


def _triangular() -> Condition:
    return (
        rf"lemma $\det L = \prod_k L_{{kk}}$ checked for $n\le{TRIANGULAR_LEMMA_MAX_N}$",
        triangular_lemma_holds,
    )


@cache
def batchnorm_eval_proof(
    dim: int | None = None, affine: bool = False, direction: Direction = "normalizing"
) -> Proof:
    """Eval-mode log-det; symbolic D when ``dim`` is None, else from the layer model at that D."""
    if dim is not None and (not isinstance(dim, int) or dim < 1):
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    size = D if dim is None else dim
    s = sp.sqrt(bn_std[i] ** 2 + bn_eps)
    g = gamma[i] if affine else sp.Integer(1)
    sign = 1 if direction == "normalizing" else -1
    entry = g / s if direction == "normalizing" else s / g
    xi = sp.IndexedBase("x", real=True)
    generic = sp.diff(g * (xi[i] - bn_mean[i]) / s, xi[j])

    conditions: list[Condition] = [
        (
            rf"$\partial y_i/\partial x_j = {sp.latex(generic)}$ for symbolic $i, j$: diagonal",
            lambda: generic == g / s * sp.KroneckerDelta(i, j),
        ),
        _triangular(),
    ]
    if dim is not None:
        layer = BatchNorm(dim, affine=affine, direction=direction)
        conditions.append(
            (
                f"the layer model at D={dim}: Jacobian {layer.jacobian().structure.value}, diagonal recomputed",
                lambda: (
                    layer.jacobian().structure.value == "diagonal"
                    and all(
                        eliminate_radicals(d - entry.subs(i, r + 1)) == 0
                        for r, d in enumerate(layer.jacobian().diagonal)
                    )
                ),
            )
        )
    first = sp.Sum(sp.log(sp.Abs(entry)), (i, 1, size))
    per_term = sign * (-sp.log(bn_std[i] ** 2 + bn_eps) / 2 + (sp.log(sp.Abs(gamma[i])) if affine else 0))
    split = sp.Sum(per_term, (i, 1, size))
    final = sign * (
        -sp.Sum(sp.log(bn_std[i] ** 2 + bn_eps), (i, 1, size)) / 2
        + (sp.Sum(sp.log(sp.Abs(gamma[i])), (i, 1, size)) if affine else 0)
    )
    chain = (
        ChainBuilder(LogAbsDetBatchNorm(), label="eval mode")
        .step(
            first,
            Instance("the triangular-determinant lemma (diagonal case)", tuple(conditions)),
            "diagonal Jacobian",
            r"Each $y_i$ depends on $x_i$ only; $\tilde\mu,\tilde\sigma^2$ are constants in eval mode, "
            r"so $\det$ is the product of the diagonal.",
        )
        .step(
            split, SummandIdentity(), "log rules", r"$\log|a/\sqrt b| = \log|a| - \tfrac12\log b$ for $b>0$."
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
            + (", in the generative direction $\\mathbf{y}\\mapsto\\mathbf{x}$" if sign < 0 else "")
            + r". Eval mode: running statistics, constants with respect to $\mathbf{x}$ (biased or unbiased "
            r"estimators give the same formula).",
        ),
        Section("Derivation", chains=(chain,)),
    ]
    return Proof(
        title=f"Log-determinant of batch normalisation (eval mode{', affine' if affine else ''}"
        f"{', generative direction' if sign < 0 else ''}{'' if dim is None else f', D = {dim}'})",
        statement=rf"{sp.latex(LogAbsDetBatchNorm())} = {sp.latex(final)}",
        lhs=LogAbsDetBatchNorm(),
        result=final,
        sections=tuple(sections),
        assumptions=(r"\epsilon > 0", r"\tilde\sigma_i > 0", *((r"\gamma_i \ne 0",) if affine else ())),
        conventions=_CONVENTIONS,
        meta={"problem": "batchnorm", "mode": "eval", "dim": dim, "affine": affine, "direction": direction},
    )


#: Batch sizes at which the train-mode statements (symbolic N) are recomputed from the model.
TRAIN_CHECK_SIZES = (2, 3, 4, 5)


@dataclass(frozen=True)
class _TrainModel:
    """One feature of a batch of N: the per-sample layer, the normalised values, sqrt(v + eps), and
    the batch Jacobian ``jac[a][b] = d yhat_a / d x_b`` (differentiated once, shared by every check)."""

    layer: BatchNormTrainSample
    yhat: dict[int, sp.Expr]
    root: sp.Expr
    jac: dict[int, dict[int, sp.Expr]]


@cache
def _train_model(N: int, unbiased: bool) -> _TrainModel:
    layer = BatchNormTrainSample(1, batch=N, unbiased=unbiased)
    yhat = {k: layer.normalized(k, 1) for k in range(1, N + 1)}
    jac = {a: {b: sp.diff(yhat[a], batch_x[b, 1]) for b in range(1, N + 1)} for a in range(1, N + 1)}
    return _TrainModel(layer, yhat, sp.sqrt(layer.var(1) + bn_eps), jac)


def _entry_formula(
    N: sp.Expr, unbiased: bool, a: sp.Expr, b: sp.Expr, ya: sp.Expr, yb: sp.Expr, root: sp.Expr
) -> sp.Expr:
    c = N / (N - 1) if unbiased else sp.Integer(1)
    return (sp.KroneckerDelta(a, b) - 1 / N - c * ya * yb / N) / root


@cache
def batchnorm_train_proof(dim: int | None = None, batch: int | None = None, unbiased: bool = False) -> Proof:
    """Train mode for symbolic batch size N (recomputed from the model at N = 2..5 and ``batch``)."""
    if batch is not None and (not isinstance(batch, int) or batch < 2):
        raise UsageError(f"--batch must be an integer >= 2, got {batch!r}")
    size = D if dim is None else dim
    sizes = tuple(sorted({*TRAIN_CHECK_SIZES, *((batch,) if batch else ())}))
    c = N / (N - 1) if unbiased else sp.Integer(1)

    def entries_hold() -> bool:
        for Nk in sizes:
            mk = _train_model(Nk, unbiased)
            for a, row in mk.jac.items():
                for b, entry in row.items():
                    claim = _entry_formula(sp.Integer(Nk), unbiased, a, b, mk.yhat[a], mk.yhat[b], mk.root)
                    if eliminate_radicals(entry - claim) != 0:
                        return False
        return True

    def row_sums() -> sp.Expr:
        total = sp.Integer(0)
        for Nk in sizes:
            for row in _train_model(Nk, unbiased).jac.values():
                total += eliminate_radicals(sp.Add(*row.values())) ** 2
        return total

    def diagonal_holds() -> bool:
        """The per-sample layer's own Jacobian (the FlowLayer route) against the batch formula."""
        for Nk in sizes:
            mk = _train_model(Nk, unbiased)
            claim = _entry_formula(sp.Integer(Nk), unbiased, 1, 1, mk.yhat[1], mk.yhat[1], mk.root)
            if eliminate_radicals(mk.layer.jacobian().diagonal[0] - claim) != 0:
                return False
        return True

    checked = ", ".join(map(str, sizes))

    def feature_blocks() -> bool:
        """Whole batch, inputs ordered feature by feature: block diagonal with one N x N block per feature."""
        Nk, Dk = 3, 2
        model = BatchNormTrainSample(Dk, batch=Nk, unbiased=unbiased)
        inputs = [batch_x[k, f] for f in range(1, Dk + 1) for k in range(1, Nk + 1)]
        outputs = [model.normalized(k, f) for f in range(1, Dk + 1) for k in range(1, Nk + 1)]
        J = jacobian(outputs, inputs)
        return J.blocks == ((0, Nk), (Nk, 2 * Nk))

    v, Y = sp.IndexedBase("v", positive=True), sp.IndexedBase(r"\hat{y}", real=True)
    n, m = sp.Symbol("n", integer=True, positive=True), sp.Symbol("m", integer=True, positive=True)
    S = sp.sqrt(v[i] + bn_eps)
    entry_display = _entry_formula(N, unbiased, n, m, Y[n, i], Y[m, i], S)
    jac = (
        ChainBuilder(JacobianEntry(sp.Symbol("i"), n, m), label="batch Jacobian")
        .step(
            entry_display,
            Instance(
                "differentiation through the batch statistics",
                (
                    (
                        "the batch Jacobian is block diagonal over features (dependency analysis at N=3, D=2: "
                        "two 3x3 blocks), so each feature's N x N block is treated alone",
                        feature_blocks,
                    ),
                    (f"every entry recomputed with sympy.diff at N = {checked} and matched", entries_hold),
                ),
            ),
            "batch Jacobian",
            r"Per feature $i$: $\partial y_{n,i}/\partial x_{m,i}$, with "
            r"$\hat y_{n,i} = (x_{n,i}-\tilde\mu_i)/\sqrt{v_i+\epsilon}$ and $v_i$ the batch variance.",
        )
        .build()
    )
    kernel = (
        ChainBuilder(sp.Sum(JacobianEntry(sp.Symbol("i"), n, m), (m, 1, N)), label="kernel")
        .step(
            sp.Integer(0),
            Recomputed(
                row_sums, f"every row sum of the batch Jacobian at N = {checked}, radicals eliminated"
            ),
            "constant vector in the kernel",
            r"Shifting every sample by the same amount leaves $\mathbf{y}$ unchanged: "
            r"$J\mathbf{1} = \mathbf{0}$, so $\det J = 0$ and the whole-batch map is not a bijection.",
        )
        .build()
    )
    per_sample_entry = (1 - (1 + c * Y[1, i] ** 2) / N) / S
    sample = (
        ChainBuilder(LogAbsDetBatchNorm(), label="per sample")
        .step(
            sp.Sum(sp.log(sp.Abs(per_sample_entry)), (i, 1, size)),
            Instance(
                "the triangular-determinant lemma (diagonal case)",
                (
                    (
                        r"$y_{1,i}$ contains only $x_{k,i}$, $k=1..N$: the per-sample Jacobian is diagonal",
                        lambda: all(
                            BatchNormTrainSample(3, batch=Nk, unbiased=unbiased).jacobian().structure.value
                            == "diagonal"
                            for Nk in sizes
                        ),
                    ),
                    (
                        rf"diagonal entry = the $n=m$ batch entry (recomputed at N = {checked})",
                        diagonal_holds,
                    ),
                    _triangular(),
                ),
            ),
            "per-sample Jacobian",
            r"Sample 1's map $\mathbf{x}_1\mapsto\mathbf{y}_1$ with the other samples fixed; "
            r"its Jacobian is the diagonal of the batch Jacobian.",
        )
        .step(
            sp.Sum(-sp.log(v[i] + bn_eps) / 2 + sp.log(sp.Abs(1 - (1 + c * Y[1, i] ** 2) / N)), (i, 1, size)),
            SummandIdentity(),
            "log rules",
            r"$\log|a/\sqrt b| = \log|a| - \tfrac12\log b$.",
        )
        .build()
    )
    eval_form = -sp.Sum(sp.log(v[i] + bn_eps), (i, 1, size)) / 2
    diff = (
        ChainBuilder(sample.result - eval_form, label="difference")
        .step(
            sp.Sum(sp.log(sp.Abs(1 - (1 + c * Y[1, i] ** 2) / N)), (i, 1, size)),
            Identity(),
            "difference from eval mode",
            r"The eval-mode formula at the batch statistics misses this term; it vanishes as $N\to\infty$.",
        )
        .build()
    )
    var_text = (
        r"unbiased variance $v_i = \frac{1}{N-1}\sum_k (x_{k,i}-\tilde\mu_i)^2$"
        if unbiased
        else r"biased variance $v_i = \frac1N\sum_k (x_{k,i}-\tilde\mu_i)^2$ (what torch.nn.BatchNorm1d normalises with)"
    )
    return Proof(
        title=f"Batch normalisation in train mode ({'unbiased' if unbiased else 'biased'} variance)",
        statement=rf"{sp.latex(LogAbsDetBatchNorm())}_{{\text{{sample}}}} = {sp.latex(sample.result)}",
        lhs=LogAbsDetBatchNorm(),
        result=sample.result,
        sections=(
            Section(
                "Model",
                rf"A batch of $N \ge 2$ samples, {'$D$' if dim is None else f'$D={dim}$'} features; $\tilde\mu_i = \frac1N\sum_k x_{{k,i}}$, "
                + var_text
                + r", $\hat y_{n,i} = (x_{n,i}-\tilde\mu_i)/\sqrt{v_i+\epsilon}$. The statistics depend on the batch.",
            ),
            Section("Lemma (batch Jacobian, per feature)", chains=(jac,)),
            Section("Theorem (the full batch Jacobian is singular)", chains=(kernel,)),
            Section("Per-sample log-determinant", chains=(sample,)),
            Section("Difference from the eval-mode formula", chains=(diff,)),
        ),
        assumptions=(r"\epsilon > 0", r"N \ge 2"),
        conventions=_CONVENTIONS,
        meta={"problem": "batchnorm", "mode": "train", "dim": dim, "batch": batch, "unbiased": unbiased},
    )
