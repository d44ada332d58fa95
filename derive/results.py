r"""The proved closed forms, as SymPy expressions over the canonical indexed symbols.

Every function returns the *result of a verified proof* (``proof.result``, possibly with the
proof's display abbreviations replaced by their definitions), never a formula typed in by hand.
Kernels (:mod:`derive.kernels`) and the answer checker's reference answers are built from these.
Each proof is checked once per process (cached).

>>> from derive.symbols import D, T, epsilon, sigma, bn_std, bn_eps
>>> q = iaf_log_q().subs({D: 1, T: 0}).doit()
>>> q == -(sp.log(2 * sp.pi) / 2 + epsilon[1] ** 2 / 2 + sp.log(sigma[0, 1]))
True
>>> batchnorm_logdet().subs(D, 1).doit() == -sp.log(bn_std[1] ** 2 + bn_eps) / 2
True
"""

from __future__ import annotations

import warnings
from functools import cache

import sympy as sp

from derive.derivations.batchnorm import batchnorm_eval_proof, batchnorm_train_proof
from derive.derivations.iaf import iaf_general_proof
from derive.derivations.iaf_variants import iaf_inverse_proof, iaf_stable_general_proof
from derive.errors import DirectionError
from derive.symbols import N, bn_eps, i, n, sigma, t

__all__ = [
    "batchnorm_logdet",
    "batchnorm_train_logdet",
    "iaf_log_q",
    "iaf_stable_log_q",
    "iaf_step_logdet",
]


@cache
def iaf_log_q() -> sp.Expr:
    r""":math:`\log q(\mathbf{z}_T|\mathbf{x}) = -\sum_{i=1}^{D}(\tfrac12\log 2\pi + \tfrac12\epsilon_i^2 + \sum_{t=0}^{T}\log\sigma_{t,i})`."""
    return iaf_general_proof().result


@cache
def iaf_stable_log_q() -> sp.Expr:
    r"""Stable (LSTM-type) IAF: :math:`\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i})` for t ≥ 1; :math:`\sigma_{0,i}` from the encoder."""
    return iaf_stable_general_proof().result


#: Old direction words of :func:`iaf_step_logdet`, still accepted with a DeprecationWarning.
_OLD_IAF_DIRECTIONS = {"forward": "generative", "inverse": "normalizing"}


def _direction(function: str, direction: str, old_words: dict[str, str], stacklevel: int = 3) -> str:
    """The CLI's word for ``direction`` (an old word warns); anything else is a :class:`DirectionError`.

    ``stacklevel`` points the warning at the user's call (3: the caller of the function calling this).
    """
    if direction in old_words:
        new = old_words[direction]
        warnings.warn(
            f"{function}(direction={direction!r}) is deprecated; use direction={new!r}",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        return new
    if direction not in ("normalizing", "generative"):
        raise DirectionError(f"direction must be 'normalizing' or 'generative', got {direction!r}")
    return direction


def iaf_step_logdet(direction: str = "generative") -> sp.Expr:
    r"""One step: :math:`\sum_i\log\sigma_{t,i}` (generative, sampling :math:`z_{t-1} \to z_t`); the
    normalizing direction is its negative.

    Over ``sigma[t, i]`` (generative, from the IAF step lemma) or ``sigma[i]`` renamed ``sigma[t, i]``
    (normalizing, from the normalizing-direction proof) — the kernel binds either to an array of
    shape (..., D). The old words ``"forward"``/``"inverse"`` still work and raise a
    :class:`DeprecationWarning`.

    >>> iaf_step_logdet("normalizing") == -iaf_step_logdet()
    True
    """
    return _iaf_step_logdet(_direction("iaf_step_logdet", direction, _OLD_IAF_DIRECTIONS))


@cache
def _iaf_step_logdet(direction: str) -> sp.Expr:
    if direction == "generative":
        from derive.derivations.iaf import T1

        # The lemma is proved for a step index t >= 1 (symbol T1); kernels bind it as the canonical t.
        return iaf_general_proof().chain("IAF step lemma").result.xreplace({T1: t})
    return iaf_inverse_proof().result.xreplace({sigma[i]: sigma[t, i]})


#: Old direction words of :func:`batchnorm_logdet`, still accepted with a DeprecationWarning.
_OLD_BATCHNORM_DIRECTIONS = {"normalize": "normalizing", "unnormalize": "generative"}


def batchnorm_logdet(affine: bool = False, direction: str = "normalizing") -> sp.Expr:
    r"""Eval mode: :math:`-\tfrac12\sum_i\log(\tilde\sigma_i^2+\epsilon)\ (+\sum_i\log|\gamma_i|)`.

    ``direction`` uses the CLI's words: ``"normalizing"`` (:math:`x \to y`) or ``"generative"``
    (:math:`y \to x`, the sign flips). The old words ``"normalize"``/``"unnormalize"`` still work
    and raise a :class:`DeprecationWarning`.

    >>> batchnorm_logdet(direction="generative") == -batchnorm_logdet()
    True
    """
    direction = _direction("batchnorm_logdet", direction, _OLD_BATCHNORM_DIRECTIONS)
    return _batchnorm_logdet(affine, direction)


@cache
def _batchnorm_logdet(affine: bool, direction: str) -> sp.Expr:
    return batchnorm_eval_proof(None, affine, direction).result


@cache
def batchnorm_train_logdet(unbiased: bool = False) -> sp.Expr:
    r"""Train mode, per sample n, over the batch ``x[k, i]`` (k = 1..N): the proof's result with
    :math:`v_i` and :math:`\hat y_{n,i}` replaced by their definitions."""
    from derive.quantities import BatchHat, BatchVar

    proof = batchnorm_train_proof(None, None, unbiased)
    xb = sp.IndexedBase("x", real=True)
    k = sp.Symbol("k", integer=True, positive=True)
    mean = sp.Sum(xb[k, i], (k, 1, N)) / N
    var = sp.Sum((xb[k, i] - mean) ** 2, (k, 1, N)) / (N - 1 if unbiased else N)
    # The theorem is computed at N in TRAIN_CHECK_SIZES (its domain); its statistics are defined for
    # every N by the same formulas, written here with symbolic N for the kernel generator.
    stats = {q: (xb[n, i] - mean) / sp.sqrt(var + bn_eps) for q in proof.result.atoms(BatchHat)}
    stats.update({q: var for q in proof.result.atoms(BatchVar)})
    return proof.result.xreplace(stats)
