r"""Layers at a *symbolic* dimension, stated by their i-th output for a symbolic index i.

A :class:`GenericLayer` is the same map as its concrete :class:`~derive.layers.FlowLayer` twin, but
for every D at once: ``component(i)`` is output i as an expression in the inputs ``input(j)``. The
kernel differentiates it for symbolic i and j, so a statement "for all D" about its Jacobian is
computed from the map, not assumed.

Autoregression is carried by :class:`ARApply`: ``Sigma(t, i)`` is
:math:`\sigma_{t,i}(z_{t-1,1},\dots,z_{t-1,i-1},\mathbf{h})`, and its derivative with respect to
:math:`z_{t-1,j}` is :math:`\partial\sigma_{t,i}/\partial z_{t-1,j}` when :math:`j<i` and 0 when
:math:`j\ge i` (a ``Piecewise`` while undecided), exactly the dependence the network has. The concrete
IAF layers are built from the same components (``concrete_ar`` replaces ``ARApply`` by an undefined
function of the explicit arguments), so the two models cannot drift apart.

>>> import sympy as sp
>>> from derive.symbols import i, j, sigma, z
>>> step = GenericIAFStep(sp.Integer(1))
>>> k = sp.Symbol("k", integer=True, positive=True)
>>> sp.diff(step.component(i), step.input(i + k))  # above the diagonal
0
>>> step.abbreviate(sp.diff(step.component(i), step.input(i)))
sigma[1, i]
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

import sympy as sp

from derive.jacobian import Structure
from derive.layers._base import Direction
from derive.symbols import D, N, bn_eps, bn_mean, bn_std, epsilon, gamma, h, m, mu, s, sigma, z

#: The inputs y of the normalizing IAF map (and the outputs of eval-mode batch norm).
Y = sp.IndexedBase("y", real=True)

__all__ = [
    "ARApply",
    "CondR",
    "CondS",
    "CondSAll",
    "CondT",
    "Conditioner",
    "DetMatrix",
    "GenericActNorm",
    "GenericAffineCoupling",
    "GenericBatchNorm",
    "GenericBatchNormTrainSample",
    "GenericConv1x1",
    "GenericGaussianBase",
    "GenericIAFInverse",
    "GenericIAFSampling",
    "GenericIAFStep",
    "GenericImageLayer",
    "GenericLayer",
    "GenericPlanar",
    "GenericRadial",
    "Params",
    "concrete_ar",
]


class Params:
    """Mixin for frozen dataclass models: their SymPy-valued fields can be substituted (``n -> n+1``)."""

    def free_symbols(self) -> set[sp.Basic]:
        out: set[sp.Basic] = set()
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, sp.Basic):
                out |= v.free_symbols
            elif hasattr(v, "free_symbols") and callable(v.free_symbols):
                out |= v.free_symbols()
        return out

    def map_params(self, fn: Callable[[sp.Basic], sp.Basic]) -> Any:
        changes = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, sp.Basic):
                changes[f.name] = fn(v)
            elif hasattr(v, "map_params"):
                changes[f.name] = v.map_params(fn)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


class ARApply(sp.Function):
    r"""An autoregressive output :math:`f_{t,i}(z_{t-1,1:i-1}, \mathbf{h})`; ``args = (t, i)``.

    Subclasses with ``on_y = True`` are the one-step functions :math:`f_i(y_{1:i-1}, \mathbf{h})` of the
    normalizing direction (``args = (1, i)``, inputs ``y[j]``).
    """

    nargs = 2
    symbol: ClassVar[sp.IndexedBase]  # the abbreviation, e.g. sigma[t, i]
    latex_name: ClassVar[str]
    on_y: ClassVar[bool] = False
    on_eps: ClassVar[bool] = False

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None

    @property
    def free_symbols(self) -> set[sp.Basic]:
        """The indices, plus the bases of the inputs it reads (``z`` or ``y`` or ``epsilon``, and ``h``).

        The inputs are not among ``args``, yet the function depends on them. Without their bases here,
        SymPy's ``diff`` would find the free symbols of ``f_{1,2}`` and ``z_{0,1}`` disjoint and
        answer 0 without consulting :meth:`_eval_derivative` (``∂σ_{1,2}/∂z_{0,1} = 0``: false).
        """
        base = Y if self.on_y else epsilon if self.on_eps else z
        return super().free_symbols | base.free_symbols | {h}

    def _input_position(self, v: sp.Basic) -> sp.Expr | bool | None:
        """j when ``v`` is input j of this function's layer; False when it provably is not; None if unknown."""
        if not isinstance(v, sp.Indexed):
            return False
        if self.on_y:
            return v.indices[0] if v.base == Y and len(v.indices) == 1 else False
        if self.on_eps:
            return v.indices[0] if v.base == epsilon and len(v.indices) == 1 else False
        if v.base != z or len(v.indices) != 2:
            return False
        a, j = v.indices
        gap = sp.expand(a - (self.args[0] - 1))
        if gap == 0:
            return j
        return False if gap.is_nonzero else None

    def _eval_derivative(self, v: sp.Basic) -> sp.Expr:
        i = self.args[1]
        if v == h:
            return sp.Derivative(self, v, evaluate=False)
        j = self._input_position(v)
        if j is None:
            return sp.Derivative(self, v, evaluate=False)  # undecided: never claim independence
        if j is False:
            # Not among the arguments z_{t-1,<i}, h (or y_{<i}, h).
            return (
                sp.Integer(0)
                if isinstance(v, (sp.Symbol, sp.Indexed))
                else sp.Derivative(self, v, evaluate=False)
            )
        depends = sp.Lt(j, i)
        if depends is sp.false:
            return sp.Integer(0)
        if depends is sp.true:
            return sp.Derivative(self, v, evaluate=False)
        return sp.Piecewise((sp.Derivative(self, v, evaluate=False), depends), (0, True))

    def abbreviation(self) -> sp.Expr:
        return self.symbol[self.args[1]] if self.on_y or self.on_eps else self.symbol[self.args]

    def _latex(self, printer: Any) -> str:
        t, i = (printer._print(a) for a in self.args)
        return (
            rf"{self.latex_name}_{{{i}}}" if self.on_y or self.on_eps else rf"{self.latex_name}_{{{t},{i}}}"
        )


class Mu(ARApply):
    symbol, latex_name = mu, r"\mu"
    is_real = True


class Sigma(ARApply):
    symbol, latex_name = sigma, r"\sigma"
    is_positive = True


class ARs(ARApply):
    symbol, latex_name = s, "s"
    is_real = True


class ARm(ARApply):
    symbol, latex_name = m, "m"
    is_real = True


class MuY(Mu):
    on_y = True


class SigmaY(Sigma):
    on_y = True


class MuE(Mu):
    """μ_i along the sampling direction: a function of ε_{1:i-1} (through y_{1:i-1})."""

    on_eps = True


class SigmaE(Sigma):
    on_eps = True


def concrete_ar(e: sp.Expr) -> sp.Expr:
    """Replace each ``ARApply(t, k)`` (integer k) by an undefined function of ``z[t-1, 1..k-1], h``."""
    return e.xreplace({a: _concrete_ar(type(a), *a.args) for a in e.atoms(ARApply)})  # type: ignore[arg-type]


@cache
def _ar_arguments(t: sp.Expr, k: int) -> tuple[sp.Expr, ...]:
    """``(z[t-1, 1], ..., z[t-1, k-1])``, built incrementally (Indexed construction is not cheap)."""
    return () if k <= 1 else (*_ar_arguments(t, k - 1), z[t - 1, k - 1])


@cache
def _concrete_ar(kind: Any, t: sp.Expr, k: sp.Expr) -> sp.Expr:
    args = (*_ar_arguments(t, int(k)), h)
    assumptions = {"positive": True} if kind.is_positive else {"real": True}
    return sp.Function(f"{kind.latex_name}_{{{t},{k}}}", **assumptions)(*args)


def sigmoid(v: sp.Expr) -> sp.Expr:
    r""":math:`\operatorname{sigmoid}(v) = 1/(1+e^{-v})`."""
    return 1 / (1 + sp.exp(-v))


class GenericLayer(Params, ABC):
    """A layer for every dimension ``dim`` (a symbol), given component-wise."""

    name: ClassVar[str]
    direction: ClassVar[Direction]
    claimed_structure: ClassVar[Structure]
    dim: sp.Expr

    @abstractmethod
    def input(self, j: sp.Expr) -> sp.Expr:
        """The j-th input atom."""

    @abstractmethod
    def component(self, i: sp.Expr) -> sp.Expr:
        """Output i as an expression in the inputs."""

    def abbreviate(self, e: sp.Expr) -> sp.Expr:
        """Model-level terms written as the symbols results use (``Sigma(t, i)`` as ``sigma[t, i]``)."""
        return e.replace(lambda a: isinstance(a, ARApply), lambda a: a.abbreviation())

    def abbreviation_text(self) -> str:
        return ""

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{y}", r"\mathbf{x}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y", "x")


@dataclasses.dataclass(frozen=True)
class GenericIAFStep(GenericLayer):
    r"""IAF step t: :math:`z_{t,i} = \mu_{t,i} + \sigma_{t,i} z_{t-1,i}` (``stable``: the LSTM-type step)."""

    t: sp.Expr
    dim: sp.Expr = D
    stable: bool = False
    name: ClassVar[str] = "iaf-step"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR

    def input(self, j: sp.Expr) -> sp.Expr:
        return z[self.t - 1, j]

    def component(self, i: sp.Expr) -> sp.Expr:
        if self.stable:
            g = sigmoid(ARs(self.t, i))
            return g * z[self.t - 1, i] + (1 - g) * ARm(self.t, i)
        return Mu(self.t, i) + Sigma(self.t, i) * z[self.t - 1, i]

    def abbreviation_text(self) -> str:
        f = "s" if self.stable else r"\sigma"
        return rf"${f}_{{t,i}}$ abbreviates ${f}_{{t,i}}(z_{{t-1,1:i-1}},\mathbf{{h}})$ evaluated along the flow."

    @property
    def latex_io(self) -> tuple[str, str]:
        return (rf"\mathbf{{z}}_{{{sp.latex(self.t)}}}", rf"\mathbf{{z}}_{{{sp.latex(self.t - 1)}}}")

    @property
    def text_io(self) -> tuple[str, str]:
        return (f"z_{self.t}", f"z_{self.t - 1}")


@dataclasses.dataclass(frozen=True)
class GenericGaussianBase(GenericLayer):
    r"""The base map :math:`z_{0,i} = \mu_{0,i} + \sigma_{0,i}\epsilon_i` (μ₀, σ₀ from the encoder)."""

    dim: sp.Expr = D
    name: ClassVar[str] = "gaussian-base"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def input(self, j: sp.Expr) -> sp.Expr:
        return epsilon[j]

    def component(self, i: sp.Expr) -> sp.Expr:
        return mu[0, i] + sigma[0, i] * epsilon[i]

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{z}_{0}", r"\boldsymbol{\epsilon}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("z_0", "ε")


_X = sp.IndexedBase("x", real=True)


@dataclasses.dataclass(frozen=True)
class GenericIAFInverse(GenericLayer):
    r"""Normalizing direction :math:`\epsilon_i = (y_i - \mu_i(\mathbf{y}_{1:i-1}))/\sigma_i(\mathbf{y}_{1:i-1})`."""

    dim: sp.Expr = D
    name: ClassVar[str] = "iaf-inverse"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR
    #: The model's statement that its output is the flow's noise, ε ~ N(0, I).
    output_standard_normal: ClassVar[bool] = True

    def input(self, j: sp.Expr) -> sp.Expr:
        return Y[j]

    def component(self, i: sp.Expr) -> sp.Expr:
        return (Y[i] - MuY(sp.Integer(1), i)) / SigmaY(sp.Integer(1), i)

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\boldsymbol{\epsilon}", r"\mathbf{y}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("ε", "y")


@dataclasses.dataclass(frozen=True)
class GenericIAFSampling(GenericLayer):
    r"""The sampling direction of the same map: :math:`y_i = \mu_i + \sigma_i\epsilon_i`, where
    :math:`\mu_i, \sigma_i` depend on :math:`y_{1:i-1}`, hence on :math:`\epsilon_{1:i-1}` only."""

    dim: sp.Expr = D
    name: ClassVar[str] = "iaf-sampling"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR

    def input(self, j: sp.Expr) -> sp.Expr:
        return epsilon[j]

    def component(self, i: sp.Expr) -> sp.Expr:
        return MuE(sp.Integer(1), i) + SigmaE(sp.Integer(1), i) * epsilon[i]

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{y}", r"\boldsymbol{\epsilon}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y", "ε")


def _bn_scale(i: sp.Expr, affine: bool) -> sp.Expr:
    g = gamma[i] if affine else sp.Integer(1)
    return g / sp.sqrt(bn_std[i] ** 2 + bn_eps)


@dataclasses.dataclass(frozen=True)
class GenericBatchNorm(GenericLayer):
    r"""Eval-mode batch norm :math:`y_i = \gamma_i(x_i-\tilde\mu_i)/\sqrt{\tilde\sigma_i^2+\epsilon}+\beta_i`.

    ``direction="generative"`` is the un-normalizing map :math:`\mathbf{y}\mapsto\mathbf{x}`.
    """

    dim: sp.Expr = D
    affine: bool = False
    flow_direction: Direction = "normalizing"
    name: ClassVar[str] = "batchnorm"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def input(self, j: sp.Expr) -> sp.Expr:
        return (_X if self.flow_direction == "normalizing" else Y)[j]

    def component(self, i: sp.Expr) -> sp.Expr:
        from derive.symbols import beta

        shift = beta[i] if self.affine else sp.Integer(0)
        if self.flow_direction == "normalizing":
            return (_X[i] - bn_mean[i]) * _bn_scale(i, self.affine) + shift
        return bn_mean[i] + (Y[i] - shift) / _bn_scale(i, self.affine)

    @property
    def latex_io(self) -> tuple[str, str]:
        xy = (r"\mathbf{y}", r"\mathbf{x}")
        return xy if self.flow_direction == "normalizing" else (xy[1], xy[0])

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y", "x") if self.flow_direction == "normalizing" else ("x", "y")


#: The batch ``x[n, i]`` (sample n, feature i) of train mode.
batch_x = sp.IndexedBase("x", real=True)


@dataclasses.dataclass(frozen=True)
class GenericBatchNormTrainSample(GenericLayer):
    r"""Train mode, sample 1's map :math:`\mathbf{x}_1\mapsto\mathbf{y}_1` with the other samples fixed.

    The statistics are the batch's own: :math:`\tilde\mu_i = \frac1N\sum_k x_{k,i}` and the biased
    (or ``unbiased``) variance, for a concrete batch size ``batch``.
    """

    batch: sp.Expr = N
    unbiased: bool = False
    dim: sp.Expr = D
    name: ClassVar[str] = "batchnorm-train-sample"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def _n(self) -> int:
        if not self.batch.is_Integer or int(self.batch) < 2:
            raise ValueError(f"the train-mode model needs a concrete batch size >= 2, got {self.batch}")
        return int(self.batch)

    def mean(self, i: sp.Expr) -> sp.Expr:
        return sp.Add(*[batch_x[k, i] for k in range(1, self._n() + 1)]) / self._n()

    def var(self, i: sp.Expr) -> sp.Expr:
        dof = self._n() - 1 if self.unbiased else self._n()
        return sp.Add(*[(batch_x[k, i] - self.mean(i)) ** 2 for k in range(1, self._n() + 1)]) / dof

    def normalized(self, k: int, i: sp.Expr) -> sp.Expr:
        return (batch_x[k, i] - self.mean(i)) / sp.sqrt(self.var(i) + bn_eps)

    def input(self, j: sp.Expr) -> sp.Expr:
        return batch_x[1, j]

    def component(self, i: sp.Expr) -> sp.Expr:
        return self.normalized(1, i)

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{y}_1", r"\mathbf{x}_1")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y_1", "x_1")


# --------------------------------------------------------------------------------------- rank-one updates
#: The index of the inner products wᵀz, wᵀu, ‖w‖², ‖z − z₀‖² inside the rank-one models.
_k = sp.Symbol("k", integer=True, positive=True)


@dataclasses.dataclass(frozen=True)
class GenericPlanar(GenericLayer):
    r"""Planar flow at symbolic D: :math:`y_i = z_i + u_i\tanh(\sum_k w_k z_k + b)` (Rezende & Mohamed 2015, eq. 10).

    ``reparametrized``: :math:`u_i` replaced by :math:`\hat u_i = u_i + (m(\mathbf{w}^\top\mathbf{u}) -
    \mathbf{w}^\top\mathbf{u})\,w_i/\lVert\mathbf{w}\rVert^2` (appendix A.1), the sums written out over k.
    """

    dim: sp.Expr = D
    reparametrized: bool = False
    name: ClassVar[str] = "planar"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL

    def input(self, j: sp.Expr) -> sp.Expr:
        from derive.layers.planar import z as pz

        return pz[j]

    def pre_activation(self) -> sp.Expr:
        from derive.layers.planar import b, w
        from derive.layers.planar import z as pz

        return sp.Sum(w[_k] * pz[_k], (_k, 1, self.dim)) + b

    def u_component(self, i: sp.Expr) -> sp.Expr:
        from derive.layers.planar import m_planar, u, w

        if not self.reparametrized:
            return u[i]
        wu = sp.Sum(w[_k] * u[_k], (_k, 1, self.dim))
        return u[i] + (m_planar(wu) - wu) * w[i] / sp.Sum(w[_k] ** 2, (_k, 1, self.dim))

    def component(self, i: sp.Expr) -> sp.Expr:
        return self.input(i) + self.u_component(i) * sp.tanh(self.pre_activation())

    def rank_one_form(self) -> sp.Expr:
        r""":math:`\log|1 + h'(a)\sum_i w_i u_i|` (``reparametrized``: with :math:`\hat u_i`), eq. 12 before
        the reparametrisation identity."""
        from derive.layers.planar import w
        from derive.symbols import i

        hp = 1 - sp.tanh(self.pre_activation()) ** 2
        return sp.log(sp.Abs(1 + hp * sp.Sum(w[i] * self.u_component(i), (i, 1, self.dim))))

    def claimed_logdet(self) -> sp.Expr:
        r""":math:`\log|1 + \mathbf{u}^\top\psi(\mathbf{z})|` with :math:`\psi = h'(\mathbf{w}^\top\mathbf{z}+b)\,\mathbf{w}`;
        ``reparametrized``: :math:`\log|1 + h'(\mathbf{w}^\top\mathbf{z}+b)\,m(\mathbf{w}^\top\mathbf{u})|`."""
        from derive.layers.planar import m_planar, u, w

        if not self.reparametrized:
            return self.rank_one_form()
        hp = 1 - sp.tanh(self.pre_activation()) ** 2
        return sp.log(sp.Abs(1 + hp * m_planar(sp.Sum(w[_k] * u[_k], (_k, 1, self.dim)))))

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{y}", r"\mathbf{z}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y", "z")


@dataclasses.dataclass(frozen=True)
class GenericRadial(GenericLayer):
    r"""Radial flow at symbolic D: :math:`y_i = z_i + \beta(z_i - z_{0,i})/(\alpha + r)`,
    :math:`r = \sqrt{\sum_k (z_k - z_{0,k})^2}` (Rezende & Mohamed 2015, eq. 14)."""

    dim: sp.Expr = D
    name: ClassVar[str] = "radial"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL

    def input(self, j: sp.Expr) -> sp.Expr:
        from derive.layers.radial import z as rz

        return rz[j]

    def radius(self) -> sp.Expr:
        from derive.layers.radial import z as rz
        from derive.layers.radial import z0

        return sp.sqrt(sp.Sum((rz[_k] - z0[_k]) ** 2, (_k, 1, self.dim)))

    def component(self, i: sp.Expr) -> sp.Expr:
        from derive.layers.radial import alpha, beta, z0

        return self.input(i) + beta * (self.input(i) - z0[i]) / (alpha + self.radius())

    def claimed_logdet(self) -> sp.Expr:
        r""":math:`(D-1)\log|1+\beta h| + \log|1 + \beta h + \beta h'(r)\,r|`, :math:`h = 1/(\alpha+r)`."""
        from derive.layers.radial import alpha, beta

        r = self.radius()
        h, h_prime = 1 / (alpha + r), -1 / (alpha + r) ** 2
        return (self.dim - 1) * sp.log(sp.Abs(1 + beta * h)) + sp.log(
            sp.Abs(1 + beta * h + beta * h_prime * r)
        )

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{y}", r"\mathbf{z}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y", "z")


# ---------------------------------------------------------------- issue 11: coupling and image layers
#: Sizes of the symbolic-size coupling and image layers: the conditioner d, the m = D - d transformed
#: coordinates (the coupling's dimension is d + m, so its ranges are provably well formed), and (C, H, W).
d_split = sp.Symbol("d", integer=True, positive=True)
m_rest = sp.Symbol("m", integer=True, positive=True)
C_size = sp.Symbol("C", integer=True, positive=True)
H_size = sp.Symbol("H", integer=True, positive=True)
W_size = sp.Symbol("W", integer=True, positive=True)

_coupling_s = sp.IndexedBase("s", real=True)
_coupling_t = sp.IndexedBase("t", real=True)
_coupling_r = sp.IndexedBase("r", real=True)


class Conditioner(ARApply):
    r"""A coupling network's output :math:`s_i(x_1,\dots,x_d)`; ``args = (i, d)``.

    Its derivative with respect to :math:`x_j` is :math:`\partial s_i/\partial x_j` when :math:`j \le d`
    and 0 when :math:`j > d` (a ``Piecewise`` while undecided): exactly the conditioner's dependence.
    ``everything = True`` is a network that also reads :math:`x_{d+1:D}` (not a coupling; attack tests).
    """

    everything: ClassVar[bool] = False

    def _eval_derivative(self, v: sp.Basic) -> sp.Expr:
        if not (isinstance(v, sp.Indexed) and v.base == _X and len(v.indices) == 1):
            return (
                sp.Integer(0)
                if isinstance(v, (sp.Symbol, sp.Indexed))
                else sp.Derivative(self, v, evaluate=False)
            )
        if self.everything:
            return sp.Derivative(self, v, evaluate=False)
        depends = sp.Le(v.indices[0], self.args[1])
        if depends is sp.false:
            return sp.Integer(0)
        if depends is sp.true:
            return sp.Derivative(self, v, evaluate=False)
        return sp.Piecewise((sp.Derivative(self, v, evaluate=False), depends), (0, True))

    def abbreviation(self) -> sp.Expr:
        return self.symbol[self.args[0]]

    def _latex(self, printer: Any) -> str:
        return rf"{self.latex_name}_{{{printer._print(self.args[0])}}}"


class CondS(Conditioner):
    symbol, latex_name = _coupling_s, "s"
    is_real = True


class CondT(Conditioner):
    symbol, latex_name = _coupling_t, "t"
    is_real = True


class CondR(Conditioner):
    symbol, latex_name = _coupling_r, "r"
    is_real = True


class CondSAll(CondS):
    everything = True


@dataclasses.dataclass(frozen=True)
class GenericAffineCoupling(GenericLayer):
    r"""RealNVP's split coupling for every d, D: :math:`y_i = x_i` for :math:`i \le d`,
    :math:`y_i = x_i\,e^{s_i(x_{1:d})} + t_i(x_{1:d})` for :math:`d < i \le D = d + m`
    (``scale="sigmoid"``: Glow's :math:`x_i\operatorname{sigmoid}(r_i) + t_i`).

    ``reads_all=True`` is the broken variant whose scale also reads :math:`x_{d+1:D}` (attack tests).
    The rows are stated on their two index ranges (:meth:`row_pieces`); the kernel checks that the
    ranges partition :math:`1..D` and differentiates each.
    """

    split: sp.Expr = d_split
    rest: sp.Expr = m_rest
    scale: str = "exp"
    reads_all: bool = False
    name: ClassVar[str] = "affine-coupling"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.LOWER_TRIANGULAR

    @property
    def dim(self) -> sp.Expr:
        return self.split + self.rest

    def input(self, j: sp.Expr) -> sp.Expr:
        return _X[j]

    def transformed(self, i: sp.Expr) -> sp.Expr:
        """Row i of the transformed block (i > d)."""
        t = CondT(i, self.split)
        if self.scale == "sigmoid":
            return _X[i] * sigmoid(CondR(i, self.split)) + t
        return _X[i] * sp.exp((CondSAll if self.reads_all else CondS)(i, self.split)) + t

    def row_pieces(self, i: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...]:
        """``(lo, hi, row)``: row ``i`` of the map for ``lo <= i <= hi`` (the kernel checks it is ``component(i)``)."""
        return ((sp.Integer(1), self.split, _X[i]), (self.split + 1, self.dim, self.transformed(i)))

    def component(self, i: sp.Expr) -> sp.Expr:
        return sp.Piecewise((_X[i], sp.Le(i, self.split)), (self.transformed(i), True))


class DetMatrix(sp.Function):
    r""":math:`\det\mathbf{W}` of the :math:`C\times C` matrix with entries ``base[c, c']``; ``args = (base, C)``."""

    nargs = 2
    is_real = True

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        body = rf"\det \mathbf{{{printer._print(self.args[0].label)}}}"
        return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

    def _sympystr(self, printer: Any) -> str:
        return f"det({self.args[0].label})"

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(f"det {self.args[0].label}")


def _position(p: Any) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    from derive.errors import VerificationError

    if not isinstance(p, (tuple, sp.Tuple)) or len(p) != 3:
        raise VerificationError(f"an image layer's coordinates are (c, h, w), not {p!r}")
    c, hh, ww = p
    return c, hh, ww


class GenericImageLayer(GenericLayer):
    r"""A layer on a :math:`(C, H, W)` input for every C, H, W: ``component((c, h, w))`` in the inputs
    ``input((c', h', w'))`` (coordinates are triples; the flattening order does not change :math:`|\det J|`)."""

    channels: sp.Expr
    height: sp.Expr
    width: sp.Expr

    @property
    def dim(self) -> sp.Expr:
        return self.channels * self.height * self.width

    def input(self, j: Any) -> sp.Expr:
        return _X[_position(j)]

    def component(self, i: Any) -> sp.Expr:
        return self.pixel_output(*_position(i))

    @abstractmethod
    def pixel_output(self, c: sp.Expr, hh: sp.Expr, ww: sp.Expr) -> sp.Expr:
        """Output channel c at pixel (h, w)."""


_an_scale = sp.IndexedBase("s", real=True, nonzero=True)
_an_shift = sp.IndexedBase("b", real=True)
_conv_weight = sp.IndexedBase("W", real=True)


@dataclasses.dataclass(frozen=True)
class GenericActNorm(GenericImageLayer):
    r"""Glow's ActNorm for every C, H, W: :math:`y_{c,h,w} = s_c x_{c,h,w} + b_c`, :math:`s_c \ne 0`.

    ``per_position=True`` is FrEIA's bug, parameters :math:`s_{c,h,w}, b_{c,h,w}` (attack tests).
    """

    channels: sp.Expr = C_size
    height: sp.Expr = H_size
    width: sp.Expr = W_size
    per_position: bool = False
    name: ClassVar[str] = "actnorm"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.DIAGONAL

    def pixel_output(self, c: sp.Expr, hh: sp.Expr, ww: sp.Expr) -> sp.Expr:
        where = (c, hh, ww) if self.per_position else (c,)
        return _an_scale[where] * _X[c, hh, ww] + _an_shift[where]


class StrictLower(sp.Function):
    r"""Entry :math:`(r, q)` of a strictly lower triangular matrix ``base``: 0 when :math:`r \le q` (provably)."""

    nargs = 3
    is_real = True

    @classmethod
    def eval(cls, base: Any, r: Any, q: Any) -> sp.Expr | None:
        return sp.Integer(0) if sp.expand(r - q).is_nonpositive else None

    def _eval_derivative(self, v: sp.Basic) -> sp.Expr:
        return sp.Integer(0)  # a parameter: constant in the input


class StrictUpper(sp.Function):
    r"""Entry :math:`(r, q)` of a strictly upper triangular matrix ``base``: 0 when :math:`r \ge q` (provably)."""

    nargs = 3
    is_real = True

    @classmethod
    def eval(cls, base: Any, r: Any, q: Any) -> sp.Expr | None:
        return sp.Integer(0) if sp.expand(q - r).is_nonpositive else None

    def _eval_derivative(self, v: sp.Basic) -> sp.Expr:
        return sp.Integer(0)


_lu_lower = sp.IndexedBase("L", real=True)
_lu_upper = sp.IndexedBase("U", real=True)


@dataclasses.dataclass(frozen=True)
class GenericConv1x1(GenericImageLayer):
    r"""Glow's invertible 1×1 convolution for every C, H, W: :math:`y_{c,h,w} = \sum_{k=1}^{C} W_{c,k} x_{k,h,w}`.

    ``lu=True``: :math:`\mathbf{W} = P L (U + \operatorname{diag}\mathbf{s})`, :math:`P` the reversal,
    :math:`L` unit lower and :math:`U` strictly upper triangular (Glow, section 3.2); the kernel checks
    that the pixel block is this product of :meth:`weight_factors` and computes each factor's structure.
    ``per_pixel=True`` is a different matrix at every pixel, :math:`W_{c,k,h,w}` (attack tests).
    """

    channels: sp.Expr = C_size
    height: sp.Expr = H_size
    width: sp.Expr = W_size
    per_pixel: bool = False
    lu: bool = False
    name: ClassVar[str] = "conv1x1"
    direction: ClassVar[Direction] = "normalizing"
    claimed_structure: ClassVar[Structure] = Structure.BLOCK_LOWER_TRIANGULAR

    def weight_factors(self, r: sp.Expr, q: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        """Entry (r, q) of P, L and U + diag(s) (``lu=True``)."""
        return (
            sp.KroneckerDelta(r + q, self.channels + 1),
            sp.KroneckerDelta(r, q) + StrictLower(_lu_lower, r, q),
            _an_scale[r] * sp.KroneckerDelta(r, q) + StrictUpper(_lu_upper, r, q),
        )

    def permutation(self, r: sp.Expr) -> sp.Expr:
        """The column of row r's one in P (the reversal)."""
        return self.channels + 1 - r

    def weight(self, c: sp.Expr, k: sp.Expr) -> sp.Expr:
        if not self.lu:
            return _conv_weight[c, k]
        ll, mm = (sp.Symbol(n, integer=True, positive=True) for n in ("l", "m"))
        (p, _, _), (_, lower, _), (_, _, upper) = (
            self.weight_factors(c, ll),
            self.weight_factors(ll, mm),
            self.weight_factors(mm, k),
        )
        return sp.Sum(p * lower * upper, (mm, 1, self.channels), (ll, 1, self.channels))

    def pixel_output(self, c: sp.Expr, hh: sp.Expr, ww: sp.Expr) -> sp.Expr:
        k = sp.Symbol("k", integer=True, positive=True)
        weight = _conv_weight[c, k, hh, ww] if self.per_pixel else self.weight(c, k)
        return sp.Sum(weight * _X[k, hh, ww], (k, 1, self.channels))


@dataclasses.dataclass(frozen=True)
class GenericSylvester(GenericLayer):
    r"""Sylvester flow at symbolic D, ``hidden`` = M units: :math:`y_i = z_i + \sum_{m=1}^{M} A_{im}
    \tanh(\sum_k B_{mk} z_k + b_m)` (van den Berg et al. 2018, eq. 8; M concrete)."""

    dim: sp.Expr = D
    hidden: int = 2
    name: ClassVar[str] = "sylvester"
    direction: ClassVar[Direction] = "generative"
    claimed_structure: ClassVar[Structure] = Structure.FULL

    def input(self, j: sp.Expr) -> sp.Expr:
        from derive.layers.sylvester import z as sz

        return sz[j]

    def pre_activation(self, m: int) -> sp.Expr:
        from derive.layers.sylvester import B, bias
        from derive.layers.sylvester import z as sz

        return sp.Sum(B[m, _k] * sz[_k], (_k, 1, self.dim)) + bias[m]

    def component(self, i: sp.Expr) -> sp.Expr:
        from derive.layers.sylvester import A

        return self.input(i) + sp.Add(
            *[A[i, m] * sp.tanh(self.pre_activation(m)) for m in range(1, self.hidden + 1)]
        )

    def claimed_logdet(self) -> sp.Expr:
        r""":math:`\log|\det(I_M + \operatorname{diag}(h'(B\mathbf{z}+\mathbf{b}))\,BA)|`, :math:`(BA)_{mn} = \sum_k B_{mk}A_{kn}`
        (paper eq. 9 before the QR parametrisation)."""
        from derive.layers.sylvester import A, B

        M = self.hidden
        hp = [1 - sp.tanh(self.pre_activation(m)) ** 2 for m in range(1, M + 1)]
        BA = sp.Matrix(M, M, lambda r, c: sp.Sum(B[r + 1, _k] * A[_k, c + 1], (_k, 1, self.dim)))
        return sp.log(sp.Abs((sp.eye(M) + sp.diag(*hp) * BA).det(method="berkowitz")))

    @property
    def latex_io(self) -> tuple[str, str]:
        return (r"\mathbf{y}", r"\mathbf{z}")

    @property
    def text_io(self) -> tuple[str, str]:
        return ("y", "z")
