r"""Problem ``iaf-logq`` (CS6202 PS2, Q1): :math:`\log q(\mathbf{z}_T|\mathbf{x})` for IAF.

Reference: :func:`derive.results.iaf_log_q` (proved by induction on T). Answers may use
:math:`\epsilon_i` or :math:`(z_{0,i}-\mu_{0,i})/\sigma_{0,i}`, and the named quantities
:math:`\log q(\mathbf{z}_0|\mathbf{x})` and :math:`\log\det|d\mathbf{z}_t/d\mathbf{z}_{t-1}|` (their
values are the proved base density and step lemma).
"""

from __future__ import annotations

import sympy as sp

from derive._cache import cached
from derive.equivalence import Domain, SizeVar
from derive.latex import NamedQuantity, Notation
from derive.problems._spec import Problem
from derive.quantities import LogDensity
from derive.symbols import D, T, epsilon, i, mu, sigma, t, z


def _base_density() -> sp.Expr:
    """log q(z_0|x) in epsilon form: the proved base case."""
    from derive.derivations.iaf import iaf_general_proof

    return iaf_general_proof().chain("base case").steps[1].after


def _step_logdet() -> sp.Expr:
    """log|det dz_t/dz_{t-1}|: the proved IAF step lemma (generative direction)."""
    from derive.results import iaf_step_logdet

    return iaf_step_logdet("generative")


def _reference() -> sp.Expr:
    """The proved log q(z_T|x) (:func:`derive.results.iaf_log_q`)."""
    from derive.results import iaf_log_q

    return iaf_log_q()


def _named_values() -> tuple[sp.Expr, sp.Expr]:
    """The proved values of the named quantities: the base density and the step lemma."""
    return _base_density(), _step_logdet()


# Read from the cache of proved references when it holds them for these sources (else proved
# here, then stored): importing the problem then costs no proof (see derive._cache).
_BASE, _STEP_LOGDET = cached(
    "iaf-logq-named",
    _named_values,
    valid=lambda v: type(v) is tuple and len(v) == 2 and all(isinstance(e, sp.Expr) for e in v),
)


_STEP = r"\frac{d\mathbf{z}_t}{d\mathbf{z}_{t-1}}"

PROBLEM = Problem(
    id="iaf-logq",
    title=r"log q(z_T|x) of the last IAF iterate (CS6202 PS2 Q1)",
    statement=(
        r"Give and derive $\log q(\mathbf{z}_T|\mathbf{x})$ for the last iterate of an IAF with an "
        r"isotropic Gaussian base $\mathbf{z}_0 = \boldsymbol\mu_0 + \boldsymbol\sigma_0\odot\boldsymbol\epsilon$ "
        r"and steps $\mathbf{z}_t = \boldsymbol\mu_t + \boldsymbol\sigma_t\odot\mathbf{z}_{t-1}$, $t = 1..T$."
    ),
    notation=Notation(
        scalars={"D": D, "T": T},
        indexed={r"\sigma": sigma, r"\epsilon": epsilon, r"\mu": mu, "z": z},
        index_ranges={"i": (i, 1, D), "t": (t, 0, T)},
        named=(
            NamedQuantity(r"\log q(\mathbf{z}_T|\mathbf{x})", LogDensity(T)),
            NamedQuantity(r"\log q(\mathbf{z}_0|\mathbf{x})", _BASE),
            NamedQuantity(rf"\log\det\left|{_STEP}\right|", _STEP_LOGDET, ("t",)),
            NamedQuantity(rf"\log\left|\det{_STEP}\right|", _STEP_LOGDET, ("t",)),
            # The problem set's own shorthand: "we use sigma_{t,i} = sigma_i(z_t)".
            NamedQuantity(r"\sigma_i(\mathbf{z}_t)", sigma[t, i], ("i", "t")),
            NamedQuantity(r"\mu_i(\mathbf{z}_t)", mu[t, i], ("i", "t")),
        ),
        arity={r"\sigma": 2, r"\mu": 2, "z": 2, r"\epsilon": 1},
    ),
    domain=Domain(
        sizes=(SizeVar(D, 1, (1, 2, 3, 5)), SizeVar(T, 0, (0, 1, 2, 4))),
        definitions={z[0, i]: mu[0, i] + sigma[0, i] * epsilon[i]},
    ),
    reference=_reference,
    target=LogDensity(T),
    target_latex=r"\log q(\mathbf{z}_T|\mathbf{x})",
    definitions_text={
        r"\epsilon_i": r"(z_{0,i} - \mu_{0,i})/\sigma_{0,i}, the base noise",
        r"\sigma_{t,i}": r"\sigma_{t,i} > 0, step t's scale in dimension i (t = 0: the base)",
        "D, T": "dimension D >= 1, number of IAF steps T >= 0",
    },
)
