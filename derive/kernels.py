r"""NumPy kernels generated from the proved closed forms: the formulas derive proves are the ones users run.

Every kernel is :func:`derive.codegen.generate` applied to a result of :mod:`derive.results`
(after a *checked* substitution or rewrite where noted; :func:`iaf_log_q` and
:func:`iaf_step_logdet` also take the checked speed rewrite :math:`\sum\log\sigma =
\log\prod\sigma`, evaluated as guarded grouped products, see :mod:`derive.codegen`), generated at
first use and cached; calls run block by block along the first batch axis so temporaries stay in
cache; ``import derive.kernels`` imports only NumPy. Each kernel carries ``.expr`` (the proved
expression), ``.kernel_expr`` (what was lowered) and ``.source`` (lambdify's code).

Conventions: trailing axes as documented, leading axes are batch axes and broadcast like a NumPy
ufunc's; float32 in gives float32 out, integers are promoted to float64; a bad shape raises
``ValueError`` naming the shapes.

* :func:`iaf_log_q` — :math:`\log q(\mathbf z_T|\mathbf x) = -\sum_{i=1}^{D}(\tfrac12\log 2\pi
  + \tfrac12\epsilon_i^2 + \sum_{t=0}^{T}\log\sigma_{t,i})` (Kingma et al. 2016, eq. 11);
* :func:`iaf_log_q_from_log_sigma` — the same from :math:`\log\sigma` (finite where
  :math:`\sigma` underflows);
* :func:`iaf_stable_log_q` — LSTM-type steps, :math:`\sigma_{t,i} = \operatorname{sigmoid}(s_{t,i})`
  for :math:`t \ge 1`, through :class:`~derive.codegen.LogSigmoid` (finite for :math:`s = \pm 800`);
* :func:`iaf_step_logdet` — :math:`\pm\sum_i\log\sigma_{t,i}`;
* :func:`batchnorm_logdet` / :func:`batchnorm_train_logdet` — batch normalisation in eval / train
  mode, normalizing direction (Dinh et al. 2017, §3.7).

>>> import numpy as np
>>> eps, sigma = np.zeros(3), np.ones((2, 3))
>>> round(float(iaf_log_q(eps, sigma)), 6)  # -3/2 log 2π
-2.756816
>>> "_lambdifygenerated" in iaf_log_q.source
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, update_wrapper
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import sympy as sp

    from derive.codegen import Binding, Kernel

__all__ = [
    "KernelFunction",
    "batchnorm_logdet",
    "batchnorm_train_logdet",
    "iaf_log_q",
    "iaf_log_q_from_log_sigma",
    "iaf_stable_log_q",
    "iaf_step_logdet",
]


# --------------------------------------------------------------------------- recipes (lazy: need sympy)
@dataclass(frozen=True)
class _Recipe:
    """How one kernel variant is generated: proved expression, checked preparation, binding."""

    expr: sp.Expr
    binding: Binding
    args: tuple[str, ...]
    prepare: Callable[[sp.Expr], sp.Expr] = lambda e: e
    free: tuple[sp.Symbol, ...] = ()
    #: checked rewrites for speed only (the reference path, :meth:`KernelFunction.reference`, skips them)
    optimize: Callable[[sp.Expr], sp.Expr] = lambda e: e


def _replace_checked(
    expr: sp.Expr,
    forward: Callable[[sp.Basic], sp.Expr | None],
    back: Mapping[Any, Any],
    gone: Any,
    what: str,
) -> sp.Expr:
    """Apply ``forward`` (node → replacement or None); check ``gone`` is gone, ``back`` restores ``expr``."""
    import sympy as sp

    from derive.errors import VerificationError

    out = expr.replace(lambda e: forward(e) is not None, forward)
    left = sorted(str(a) for a in out.atoms(sp.Indexed) if a.base == gone)
    if left:
        raise VerificationError(f"substitution {what} left {', '.join(left)} in {out}")
    restore = out.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base in back, lambda e: back[e.base](*e.indices)
    )
    if restore != expr:
        raise VerificationError(f"substitution {what} is not invertible on {expr}")
    return out


def _log_sigma_substitution(expr: sp.Expr) -> sp.Expr:
    import sympy as sp

    from derive.symbols import log_sigma, sigma

    def forward(e: sp.Basic) -> sp.Expr | None:
        arg = e.args[0] if isinstance(e, sp.log) else None
        return log_sigma[arg.indices] if isinstance(arg, sp.Indexed) and arg.base == sigma else None

    return _replace_checked(
        expr, forward, {log_sigma: lambda *k: sp.log(sigma[k])}, sigma, "log(sigma[t, i]) -> log_sigma[t, i]"
    )


_VAR = "var"


def _variance_substitution(expr: sp.Expr) -> sp.Expr:
    import sympy as sp

    from derive.symbols import bn_std

    var = sp.IndexedBase(_VAR, nonnegative=True)

    def forward(e: sp.Basic) -> sp.Expr | None:
        hit = isinstance(e, sp.Pow) and e.exp == 2 and isinstance(e.base, sp.Indexed)
        return var[e.base.indices] if hit and e.base.base == bn_std else None

    return _replace_checked(expr, forward, {var: lambda *k: bn_std[k] ** 2}, bn_std, "bn_std[i]**2 -> var[i]")


def _recipe(name: str, variant: tuple[tuple[str, Any], ...]) -> _Recipe:
    import sympy as sp

    from derive import results
    from derive.codegen import Axis, rewrite_log_products, rewrite_log_sigmoid
    from derive.symbols import N, T, bn_eps, epsilon, gamma, i, log_sigma, n, s, sigma, t

    opts = dict(variant)
    binding: Binding
    if name == "iaf_log_q":
        binding = {epsilon: ("eps", (i,)), sigma: ("sigma", (t, i))}
        return _Recipe(results.iaf_log_q(), binding, ("eps", "sigma"), optimize=rewrite_log_products)
    if name == "iaf_log_q_from_log_sigma":
        binding = {epsilon: ("eps", (i,)), log_sigma: ("log_sigma", (t, i))}
        return _Recipe(results.iaf_log_q(), binding, ("eps", "log_sigma"), _log_sigma_substitution)
    if name == "iaf_stable_log_q":
        binding = {epsilon: ("eps", (i,)), sigma: ("sigma0", (0, i)), s: ("s", (Axis(t, 1, T), i))}
        return _Recipe(results.iaf_stable_log_q(), binding, ("eps", "sigma0", "s"), rewrite_log_sigmoid)
    if name == "iaf_step_logdet":
        step = results.iaf_step_logdet(opts["direction"])
        return _Recipe(step, {sigma: ("sigma", (None, i))}, ("sigma",), optimize=rewrite_log_products)
    gammas: Binding = {gamma: ("gamma", (i,))} if opts["affine"] else {}
    args = ("gamma",) if opts["affine"] else ()
    if name == "batchnorm_logdet":
        binding = {sp.IndexedBase(_VAR, nonnegative=True): ("var", (i,)), bn_eps: "eps", **gammas}
        expr = results.batchnorm_logdet(affine=opts["affine"])
        return _Recipe(expr, binding, ("var", "eps", *args), _variance_substitution)
    if name == "batchnorm_train_logdet":
        expr = results.batchnorm_train_logdet(unbiased=opts["unbiased"])
        if opts["affine"]:  # results has no affine train variant: add eval mode's affine term
            expr = expr + (results.batchnorm_logdet(affine=True) - results.batchnorm_logdet(affine=False))
        (x,) = [b for b in expr.atoms(sp.IndexedBase) if b.label.name == "x"]
        binding_x: Binding = {x: ("x", (Axis(n, 1, N), i)), bn_eps: "eps", **gammas}
        return _Recipe(expr, binding_x, ("x", "eps", *args), free=(n,))
    raise KeyError(name)


@cache
def _generated(name: str, variant: tuple[tuple[str, Any], ...]) -> Kernel:
    from derive.codegen import generate

    r = _recipe(name, variant)
    return generate(r.optimize(r.prepare(r.expr)), r.binding, args=r.args, free=r.free)


@cache
def _reference(name: str, variant: tuple[tuple[str, Any], ...]) -> Kernel:
    from derive.codegen import generate

    r = _recipe(name, variant)
    return generate(r.prepare(r.expr), r.binding, args=r.args, free=r.free, chunk_bytes=None)


# --------------------------------------------------------------------------- the kernel objects
class KernelFunction:
    """A public kernel: validates, then calls the generated function for its variant.

    ``.expr`` / ``.kernel_expr`` / ``.source`` describe the default variant; :meth:`generated`
    gives any variant's :class:`~derive.codegen.Kernel`, and :meth:`generate` runs the same
    pipeline on another expression (to show a kernel is its expression, not a hand-written copy).
    """

    def __init__(self, impl: Callable[..., Any], defaults: Mapping[str, Any]) -> None:
        update_wrapper(self, impl)
        self._impl = impl
        self._name = impl.__name__
        self._defaults = dict(defaults)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._impl(*args, **kwargs)

    def _variant(self, options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        unknown = set(options) - set(self._defaults)
        if unknown:
            raise ValueError(f"{self._name}: unknown variant options {sorted(unknown)}")
        if "direction" in options:  # the same words (and deprecations) as the kernel call
            options = {**options, "direction": _step_direction(options["direction"])}
        return tuple(sorted({**self._defaults, **options}.items()))

    def generated(self, **variant: Any) -> Kernel:
        """The (cached) generated kernel of a variant, e.g. ``batchnorm_logdet.generated(affine=True)``."""
        return _generated(self._name, self._variant(variant))

    def reference(self, **variant: Any) -> Kernel:
        """The reference path: the plain lowering of the prepared expression, without the speed-only
        rewrites and without batch chunking (what the fast path is tested and benchmarked against)."""
        return _reference(self._name, self._variant(variant))

    def generate(self, expr: sp.Expr, **variant: Any) -> Kernel:
        """Generate (uncached) from ``expr`` through this kernel's preparation, rewrites and binding."""
        from derive.codegen import generate

        r = _recipe(self._name, self._variant(variant))
        return generate(r.optimize(r.prepare(expr)), r.binding, args=r.args, free=r.free)

    def derived(self, **variant: Any) -> sp.Expr:
        """The proved expression a variant is generated from."""
        return _recipe(self._name, self._variant(variant)).expr

    @property
    def expr(self) -> sp.Expr:
        return self.derived()

    @property
    def kernel_expr(self) -> sp.Expr:
        return self.generated().expr

    @property
    def source(self) -> str:
        return self.generated().source

    def __repr__(self) -> str:
        return f"<derive kernel {self._name}>"


def _kernel(**defaults: Any) -> Callable[[Callable[..., Any]], KernelFunction]:
    return lambda impl: KernelFunction(impl, defaults)


def _floats(name: str, **arrays: Any) -> list[np.ndarray]:
    """Convert to one floating dtype (NumPy promotion, Python scalars weak; integers → float64)."""
    values = [a if isinstance(a, int | float) else np.asarray(a) for a in arrays.values()]
    try:
        dtype = np.result_type(*values)
    except TypeError as exc:
        raise ValueError(f"{name}: inputs must be real numbers ({exc})") from None
    if dtype.kind in "biu":
        dtype = np.dtype(np.float64)
    if dtype.kind != "f":
        raise ValueError(f"{name}: inputs must be real floating point, got dtype {dtype}")
    return [np.asarray(a, dtype=dtype) for a in values]


def _shapes(**arrays: np.ndarray) -> str:
    parts = [f"{k} has shape {a.shape}" for k, a in arrays.items()]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} but {parts[-1]}"


def _check(name: str, ok: bool, expected: str, batches: list[tuple[int, ...]], **arrays: np.ndarray) -> None:
    if ok:
        try:
            np.broadcast_shapes(*batches)
            return
        except ValueError:
            expected += "; their batch shapes must broadcast"
    raise ValueError(f"{name}: {_shapes(**arrays)}; expected {expected}")


def _out(result: Any) -> Any:
    return result[()] if isinstance(result, np.ndarray) and result.ndim == 0 else result


# --------------------------------------------------------------------------- public kernels
@_kernel()
def iaf_log_q(eps: Any, sigma: Any) -> Any:
    r""":math:`\log q(\mathbf z_T|\mathbf x)` from ``eps`` ``(..., D)``, ``sigma`` ``(..., T+1, D)`` (σ₀ 1st).

    >>> import numpy as np
    >>> iaf_log_q(np.zeros((4, 2)), np.full((3, 2), 0.5)).shape
    (4,)
    """
    eps, sigma = _floats("iaf_log_q", eps=eps, sigma=sigma)
    ok = eps.ndim >= 1 and sigma.ndim >= 2 and eps.shape[-1] == sigma.shape[-1] and sigma.shape[-2] >= 1
    expected = "eps (..., D) and sigma (..., T+1, D) with the same D"
    _check("iaf_log_q", ok, expected, [eps.shape[:-1], sigma.shape[:-2]], eps=eps, sigma=sigma)
    return _out(iaf_log_q.generated()(eps, sigma))


@_kernel()
def iaf_log_q_from_log_sigma(eps: Any, log_sigma: Any) -> Any:
    r""":func:`iaf_log_q` from ``log_sigma`` ``(..., T+1, D)``: finite where σ underflows.

    >>> import numpy as np
    >>> float(iaf_log_q_from_log_sigma(np.zeros(1), np.array([[-800.0]])))  # σ = e^-800
    799.0810614667953
    """
    eps, log_sigma = _floats("iaf_log_q_from_log_sigma", eps=eps, log_sigma=log_sigma)
    ok = eps.ndim >= 1 and log_sigma.ndim >= 2 and eps.shape[-1] == log_sigma.shape[-1]
    ok = ok and log_sigma.shape[-2] >= 1
    expected = "eps (..., D) and log_sigma (..., T+1, D) with the same D"
    batches = [eps.shape[:-1], log_sigma.shape[:-2]]
    _check("iaf_log_q_from_log_sigma", ok, expected, batches, eps=eps, log_sigma=log_sigma)
    return _out(iaf_log_q_from_log_sigma.generated()(eps, log_sigma))


@_kernel()
def iaf_stable_log_q(eps: Any, sigma0: Any, s: Any) -> Any:
    r"""LSTM-type IAF: ``eps``, ``sigma0`` ``(..., D)``, pre-sigmoid ``s`` ``(..., T, D)`` of steps 1..T.

    >>> import numpy as np
    >>> float(iaf_stable_log_q(np.zeros(1), np.ones(1), np.array([[-800.0], [800.0]])))  # log σ = -800, 0
    799.0810614667953
    """
    eps, sigma0, s = _floats("iaf_stable_log_q", eps=eps, sigma0=sigma0, s=s)
    ok = eps.ndim >= 1 and sigma0.ndim >= 1 and s.ndim >= 2
    ok = ok and eps.shape[-1] == sigma0.shape[-1] == s.shape[-1]
    expected = "eps (..., D), sigma0 (..., D) and s (..., T, D) with the same D"
    batches = [eps.shape[:-1], sigma0.shape[:-1], s.shape[:-2]]
    _check("iaf_stable_log_q", ok, expected, batches, eps=eps, sigma0=sigma0, s=s)
    return _out(iaf_stable_log_q.generated()(eps, sigma0, s))


@_kernel(direction="generative")
def iaf_step_logdet(sigma: Any, direction: str = "generative") -> Any:
    r"""One IAF step's :math:`\log|\det\partial\mathbf z_t/\partial\mathbf z_{t-1}| = \sum_i\log\sigma_{t,i}`.

    ``sigma`` is ``(..., D)``; ``direction="generative"`` (sampling, default) or ``"normalizing"``
    (the negative). The old words ``"forward"``/``"inverse"`` still work with a
    :class:`DeprecationWarning`; any other word is a ``ValueError``.

    >>> import numpy as np
    >>> float(iaf_step_logdet(np.full(3, np.e), direction="normalizing"))
    -3.0
    """
    direction = _step_direction(direction)
    (sigma,) = _floats("iaf_step_logdet", sigma=sigma)
    _check("iaf_step_logdet", sigma.ndim >= 1, "sigma (..., D)", [], sigma=sigma)
    return _out(iaf_step_logdet.generated(direction=direction)(sigma))


#: Old direction words of :func:`iaf_step_logdet`, still accepted with a DeprecationWarning.
_OLD_STEP_DIRECTIONS = {"forward": "generative", "inverse": "normalizing"}


def _step_direction(direction: str) -> str:
    from derive.results import _direction

    # user -> Kernel.__call__ (or .generated -> _variant) -> the kernel -> here -> _direction
    return _direction("iaf_step_logdet", direction, _OLD_STEP_DIRECTIONS, stacklevel=5)


@_kernel(affine=False)
def batchnorm_logdet(var: Any, eps: Any, gamma: Any = None) -> Any:
    r"""Eval-mode batch norm, normalizing direction: :math:`-\tfrac12\sum_i\log(v_i+\epsilon)
    (+\sum_i\log|\gamma_i|)` for ``var`` ``(..., D)``; ``eps`` broadcasts against the batch shape ``(...)``.

    >>> import numpy as np
    >>> float(batchnorm_logdet(np.full(2, 4.0), 0.0, gamma=np.full(2, 2.0)))
    0.0
    """
    arrays = {"var": var, "eps": eps} | ({} if gamma is None else {"gamma": gamma})
    conv = dict(zip(arrays, _floats("batchnorm_logdet", **arrays), strict=True))
    v, e = conv["var"], conv["eps"]
    g = conv.get("gamma")
    ok = v.ndim >= 1 and (g is None or (g.ndim >= 1 and g.shape[-1] == v.shape[-1]))
    batches = [v.shape[:-1], e.shape] + ([] if g is None else [g.shape[:-1]])
    expected = "var (..., D), eps broadcastable to (...)" + (
        "" if g is None else " and gamma (..., D), same D"
    )
    _check("batchnorm_logdet", ok, expected, batches, **conv)
    if g is None:
        return _out(batchnorm_logdet.generated(affine=False)(v, e))
    return _out(batchnorm_logdet.generated(affine=True)(v, e, g))


@_kernel(unbiased=False, affine=False)
def batchnorm_train_logdet(x: Any, eps: Any, gamma: Any = None, unbiased: bool = False) -> Any:
    r"""Train-mode batch norm: per-sample log-det ``(..., N)`` of the batch ``x`` ``(..., N, D)``,
    whose statistics depend on every sample; ``eps`` broadcasts against ``(...)``.

    >>> import numpy as np
    >>> batchnorm_train_logdet(np.array([[0.0], [2.0]]), 1.0)  # -log(2)/2 + log(1/4) per sample
    array([-1.73286795, -1.73286795])
    """
    arrays = {"x": x, "eps": eps} | ({} if gamma is None else {"gamma": gamma})
    conv = dict(zip(arrays, _floats("batchnorm_train_logdet", **arrays), strict=True))
    xs, e = conv["x"], conv["eps"]
    g = conv.get("gamma")
    ok = xs.ndim >= 2 and xs.shape[-2] >= 2 and (g is None or (g.ndim >= 1 and g.shape[-1] == xs.shape[-1]))
    batches = [xs.shape[:-2], e.shape] + ([] if g is None else [g.shape[:-1]])
    expected = "x (..., N, D) with N >= 2, eps broadcastable to (...)" + (
        "" if g is None else " and gamma (..., D), same D"
    )
    _check("batchnorm_train_logdet", ok, expected, batches, **conv)
    kernel = batchnorm_train_logdet.generated(unbiased=bool(unbiased), affine=g is not None)
    return _out(kernel(xs, e) if g is None else kernel(xs, e, g))
