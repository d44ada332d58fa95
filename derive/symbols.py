r"""Canonical SymPy symbols shared by the models, the proofs, the problems and the kernels.

One spelling per mathematical object, so that an expression derived by the core and one parsed
from a student's LaTeX are built from *the same* SymPy atoms and can be compared directly.

Index conventions (Kingma et al. 2016, eq. 10–11):

* ``i`` (and ``j``) run over dimensions ``1..D``;
* ``t`` runs over flow steps: ``t = 0`` is the Gaussian base ``z_0 = mu_0 + sigma_0 * eps``, and
  ``t = 1..T`` are the IAF steps ``z_t = mu_t + sigma_t * z_{t-1}``;
* ``sigma[t, i]`` is :math:`\sigma_{t,i}`, ``mu[t, i]`` is :math:`\mu_{t,i}`, ``z[t, i]`` is
  :math:`z_{t,i}`, ``epsilon[i]`` is the noise :math:`\epsilon_i`.

Batch normalisation uses its own names: ``bn_mean[i]`` (:math:`\tilde\mu_i`), ``bn_std[i]``
(:math:`\tilde\sigma_i`, so the variance is ``bn_std[i]**2``), ``bn_eps`` (the stability constant
:math:`\epsilon > 0`, *not* the IAF noise), ``gamma[i]``, ``beta[i]``, batch size ``N``.

>>> sigma[t, i].is_positive, epsilon[i].is_real, D.is_integer
(True, True, True)
"""

from __future__ import annotations

import sympy as sp

# Sizes.
D = sp.Symbol("D", integer=True, positive=True)
T = sp.Symbol("T", integer=True, nonnegative=True)
N = sp.Symbol("N", integer=True, positive=True)

# Summation indices.
i = sp.Symbol("i", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
t = sp.Symbol("t", integer=True, nonnegative=True)
n = sp.Symbol("n", integer=True, positive=True)

# IAF / Gaussian base (indexed by [t, i] or [i]).
sigma = sp.IndexedBase("sigma", positive=True)
log_sigma = sp.IndexedBase(r"\log\sigma", real=True)
s = sp.IndexedBase("s", real=True)  # pre-sigmoid output of the stable (LSTM-type) step
m = sp.IndexedBase("m", real=True)  # the stable step's mean-like output
mu = sp.IndexedBase("mu", real=True)
z = sp.IndexedBase("z", real=True)
epsilon = sp.IndexedBase("epsilon", real=True)
h = sp.Symbol("h", real=True)  # context from the encoder
x = sp.Symbol("x", real=True)  # the datapoint being encoded

# Batch normalisation.
bn_mean = sp.IndexedBase(r"\tilde{\mu}", real=True)
bn_std = sp.IndexedBase(r"\tilde{\sigma}", positive=True)
bn_eps = sp.Symbol("epsilon", positive=True)
gamma = sp.IndexedBase("gamma", real=True, nonzero=True)
beta = sp.IndexedBase("beta", real=True)

__all__ = [
    "D",
    "N",
    "T",
    "beta",
    "bn_eps",
    "bn_mean",
    "bn_std",
    "epsilon",
    "gamma",
    "h",
    "i",
    "j",
    "log_sigma",
    "m",
    "mu",
    "n",
    "s",
    "sigma",
    "t",
    "x",
    "z",
]
