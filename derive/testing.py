r"""Property-based checks users point at their own flow layers: log-det claims and inverse round trips.

:func:`assert_logdet_matches` draws inputs (and, optionally, layer parameters) with Hypothesis,
computes the Jacobian :math:`J = \partial f(\mathbf{x})/\partial\mathbf{x}` of ``forward_fn``
independently of the layer's own claim, and compares :math:`\log|\det J|` to ``logdet_fn(x)``:

* ``backend="torch"`` (default): :math:`J` from ``torch.func.jacrev`` (``vmap``-ed over the batch),
  :math:`\log|\det J|` from ``torch.linalg.slogdet`` — exact to rounding, so the default tolerances
  ``rtol=1e-8, atol=1e-10`` apply as given;
* ``backend="numpy"``: ``forward_fn`` takes and returns NumPy arrays, which autograd cannot see, so
  :math:`J` comes from ``jacobian_fn(x, **params)`` if given, else from float64 central
  differences with two Richardson extrapolations (truncation error :math:`O(h^6)`, step
  :math:`h = 10^{-2}\max(1, |x_j|)`). That Jacobian is good to roughly :math:`10^{-9}`
  relative for well-scaled smooth maps, so the tolerances are raised to at least
  :data:`FD_RTOL` ``= 1e-6`` and :data:`FD_ATOL` ``= 1e-8``.

On a mismatch Hypothesis *shrinks* the input to a minimal failing one, and the
:class:`AssertionError` shows that input, the parameters, the claimed and the independently
computed log-det, and their difference. Runs are deterministic (``derandomize``) unless a
``seed`` is given. Compared with TFP's ``bijector_test_util`` and torch's ``test_transforms.py``
(fixed random draws, no shrinking), the domain of the inputs is explicit and a failure reads as a
counterexample.

Hypothesis is imported with this module; torch only inside the functions that need it.

>>> import torch
>>> from derive.testing import assert_logdet_matches, scales
>>> affine = lambda x, a: a * x + 1.0                     # y = a ⊙ x + 1, log|det J| = Σ log a
>>> assert_logdet_matches(affine, lambda x, a: torch.log(a).sum(-1),
...                       dim=3, params={"a": scales(3)}, max_examples=10)
>>> assert_logdet_matches(affine, lambda x, a: -torch.log(a).sum(-1),   # wrong sign
...                       dim=3, params={"a": scales(3)}, max_examples=10)
Traceback (most recent call last):
    ...
AssertionError: log|det J| mismatch at the minimal failing example (after shrinking):
  x = [0.0, 0.0, 0.0]
  a = [1.0, 1.0, 2.718281828459045]
  claimed (logdet_fn): -1.0
  autograd (slogdet):  1.0
  difference:          -2.0 (allowed: atol=1e-10 + rtol=1e-08·|computed|)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as _seed
from hypothesis import strategies as st

from derive._strategies import Domain, inputs, log_scales, reals, scales, signed_scales, stability_constants
from derive._transform_check import assert_transform_logdet, branch_values
from derive.errors import UsageError

if TYPE_CHECKING:
    import torch

__all__ = [
    "FD_ATOL",
    "FD_RTOL",
    "Domain",
    "assert_inverse_roundtrip",
    "assert_logdet_matches",
    "assert_transform_logdet",
    "branch_values",
    "inputs",
    "log_scales",
    "reals",
    "scales",
    "signed_scales",
    "stability_constants",
]

#: Tolerance floor for ``backend="numpy"`` (Richardson-extrapolated central differences).
FD_RTOL = 1e-6
FD_ATOL = 1e-8

Backend = Literal["torch", "numpy"]


class _Mismatch(AssertionError):
    """Raised inside the Hypothesis loop; re-raised as a plain AssertionError without the noise."""


def _run(
    check: Callable[[np.ndarray, dict[str, Any]], None],
    strategy: st.SearchStrategy[np.ndarray],
    params: Mapping[str, st.SearchStrategy[Any]] | None,
    max_examples: int,
    seed: int | None,
) -> None:
    cases = st.tuples(strategy, st.fixed_dictionaries(dict(params or {})))

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),  # no slow "explain"
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(cases)
    def run(case: tuple[np.ndarray, dict[str, Any]]) -> None:
        check(*case)

    if seed is not None:
        run = _seed(seed)(run)
    try:
        run()
    except _Mismatch as error:
        raise AssertionError(str(error)) from None


def _torch_dtype(dtype: Any) -> torch.dtype:
    import torch

    resolved = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if not isinstance(resolved, torch.dtype):
        raise UsageError(f"dtype must be a torch dtype or its name (e.g. 'float64'), got {dtype!r}")
    return resolved


def _convert(value: Any, backend: Backend, dtype: Any) -> Any:
    if backend == "numpy" or not isinstance(value, np.ndarray):
        return value
    import torch

    return torch.as_tensor(value, dtype=_torch_dtype(dtype))


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _show(value: Any) -> str:
    arr = _to_numpy(value)
    return repr(arr.item()) if arr.ndim == 0 else repr(arr.tolist())


def _autograd_logdet(
    forward_fn: Callable[..., Any], x: torch.Tensor, kw: dict[str, Any], dim: int
) -> tuple[np.ndarray, np.ndarray]:
    import torch

    jac = torch.func.jacrev(lambda xi: forward_fn(xi, **kw))
    flat = x.reshape(-1, dim)
    J = torch.func.vmap(jac)(flat) if x.ndim > 1 else jac(x).unsqueeze(0)
    if J.shape[-2:] != (dim, dim):
        raise UsageError(
            f"forward_fn must map R^{dim} to R^{dim}; its Jacobian has shape {tuple(J.shape[1:])}"
        )
    sign, logabsdet = torch.linalg.slogdet(J)
    shape = x.shape[:-1]
    return _to_numpy(sign).reshape(shape), _to_numpy(logabsdet).reshape(shape)


def _fd_jacobian(forward_fn: Callable[..., Any], x: np.ndarray, kw: dict[str, Any]) -> np.ndarray:
    """``(..., dim, dim)`` by central differences, Richardson-extrapolated twice (O(h^6))."""
    dim = x.shape[-1]
    cols = []
    for j in range(dim):
        e = np.zeros(dim)
        e[j] = 1.0
        h0 = 1e-2 * np.maximum(1.0, np.abs(x[..., j : j + 1]))
        table = []
        for h in (h0, h0 / 2, h0 / 4):
            up, down = np.asarray(forward_fn(x + h * e, **kw)), np.asarray(forward_fn(x - h * e, **kw))
            table.append((up - down) / (2 * h))
        r1 = [(4 * table[k + 1] - table[k]) / 3 for k in range(2)]
        cols.append((16 * r1[1] - r1[0]) / 15)
    return np.stack(cols, axis=-1)


def _check_dim(dim: Any, where: str) -> None:
    """``dim`` must be a positive integer: refuse it here, not as a torch shape error later."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"{where}: dim must be a positive integer (the layer's D), got {dim!r}")


def assert_logdet_matches(
    forward_fn: Callable[..., Any],
    logdet_fn: Callable[..., Any],
    *,
    dim: int,
    batch_shape: Sequence[int] = (),
    domain: Domain = None,
    params: Mapping[str, st.SearchStrategy[Any]] | None = None,
    dtype: Any = "float64",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_examples: int = 50,
    seed: int | None = None,
    backend: Backend = "torch",
    jacobian_fn: Callable[..., Any] | None = None,
) -> None:
    r"""Check ``logdet_fn`` against :math:`\log|\det J|`, :math:`J` the Jacobian of ``forward_fn``.

    Arguments:
        forward_fn: a per-sample map :math:`\mathbb{R}^D \to \mathbb{R}^D`, applied to arrays of shape
            ``(*batch_shape, dim)`` (it must broadcast over leading axes, and be ``vmap``-able for
            ``backend="torch"`` with a batch). Called as ``forward_fn(x, **params)``.
        logdet_fn: the claimed :math:`\log|\det J|`, shape ``batch_shape``.
        dim: :math:`D`.
        batch_shape: leading axes of the drawn input.
        domain: where the coordinates of ``x`` live (see :func:`derive.testing.inputs`).
        params: strategies for keyword parameters shared by the batch, e.g.
            ``{"sigma": scales(dim), "eps": stability_constants()}``; they shrink too.
        dtype: torch dtype (or its name) of ``x`` and array parameters for ``backend="torch"``.
        rtol, atol: elementwise ``|claimed - computed| <= atol + rtol * |computed|``.
        max_examples: number of Hypothesis examples.
        seed: ``None`` for a deterministic (derandomized) run, else the Hypothesis seed.
        backend: ``"torch"`` (autograd) or ``"numpy"`` (``jacobian_fn`` or finite differences).
        jacobian_fn: NumPy backend only: ``jacobian_fn(x, **params) -> (*batch_shape, dim, dim)``.

    Raises:
        AssertionError: with the minimal failing input, the claimed and computed values and
            their difference.

    >>> import torch
    >>> assert_logdet_matches(torch.tanh, lambda x: torch.log1p(-torch.tanh(x) ** 2).sum(-1),
    ...                       dim=2, batch_shape=(4,), domain=(-3.0, 3.0), max_examples=5)
    """
    _check_dim(dim, "assert_logdet_matches")
    if backend not in ("torch", "numpy"):
        raise UsageError(f"backend must be 'torch' or 'numpy', got {backend!r}")
    if jacobian_fn is not None and backend != "numpy":
        raise UsageError("jacobian_fn is for backend='numpy'; the torch backend uses autograd")
    if backend == "numpy" and jacobian_fn is None:
        rtol, atol = max(rtol, FD_RTOL), max(atol, FD_ATOL)
    method = {"torch": "autograd (slogdet):"}.get(
        backend, "jacobian_fn:" if jacobian_fn else "finite differences:"
    )

    def check(x_np: np.ndarray, raw: dict[str, Any]) -> None:
        kw = {k: _convert(v, backend, dtype) for k, v in raw.items()}
        x = _convert(x_np, backend, dtype)
        claimed = np.broadcast_to(_to_numpy(logdet_fn(x, **kw)), x_np.shape[:-1])
        if backend == "torch":
            sign, actual = _autograd_logdet(forward_fn, x, kw, dim)
        else:
            J = np.asarray(jacobian_fn(x, **kw) if jacobian_fn else _fd_jacobian(forward_fn, x, kw))
            sign, actual = np.linalg.slogdet(J.reshape(*x_np.shape[:-1], dim, dim))
        bad = ~np.isclose(claimed, actual, rtol=rtol, atol=atol)
        if not bad.any():
            return
        k = tuple(
            int(v)
            for v in np.unravel_index(np.argmax(np.where(bad, np.abs(claimed - actual), -1.0)), bad.shape)
        )
        where = f" (sample {k}; {int(bad.sum())} of {bad.size} samples fail)" if x_np.ndim > 1 else ""
        lines = [
            f"log|det J| mismatch at the minimal failing example (after shrinking){where}:",
            f"  x = {_show(x_np[k])}",
            *(f"  {name} = {_show(value)}" for name, value in raw.items()),
            f"  claimed (logdet_fn): {float(claimed[k])!r}",
            f"  {method:<20} {float(actual[k])!r}" + ("  (J is singular)" if sign[k] == 0 else ""),
            f"  difference:          {float(claimed[k] - actual[k])!r} "
            f"(allowed: atol={atol:g} + rtol={rtol:g}·|computed|)",
        ]
        raise _Mismatch("\n".join(lines))

    _run(check, inputs(dim, batch_shape=batch_shape, domain=domain), params, max_examples, seed)


def assert_inverse_roundtrip(
    forward_fn: Callable[..., Any],
    inverse_fn: Callable[..., Any],
    *,
    dim: int,
    batch_shape: Sequence[int] = (),
    domain: Domain = None,
    params: Mapping[str, st.SearchStrategy[Any]] | None = None,
    dtype: Any = "float64",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_examples: int = 50,
    seed: int | None = None,
    backend: Backend = "torch",
) -> None:
    r"""Check :math:`f^{-1}(f(\mathbf{x})) = \mathbf{x}` elementwise to ``atol + rtol·|x|`` on drawn inputs.

    Arguments are those of :func:`assert_logdet_matches`; ``inverse_fn(y, **params)`` undoes
    ``forward_fn(x, **params)``. On failure the message shows the minimal ``x``, ``f(x)``,
    :math:`f^{-1}(f(\mathbf{x}))` and the largest error.

    >>> import torch
    >>> assert_inverse_roundtrip(torch.sinh, torch.asinh, dim=2, max_examples=5)
    """
    _check_dim(dim, "assert_inverse_roundtrip")
    if backend not in ("torch", "numpy"):
        raise UsageError(f"backend must be 'torch' or 'numpy', got {backend!r}")

    def check(x_np: np.ndarray, raw: dict[str, Any]) -> None:
        kw = {k: _convert(v, backend, dtype) for k, v in raw.items()}
        y = forward_fn(_convert(x_np, backend, dtype), **kw)
        back = _to_numpy(inverse_fn(y, **kw))
        bad = ~np.isclose(back, x_np, rtol=rtol, atol=atol)
        if not bad.any():
            return
        lines = [
            "inverse round trip failed at the minimal failing example (after shrinking):",
            f"  x = {_show(x_np)}",
            *(f"  {name} = {_show(value)}" for name, value in raw.items()),
            f"  forward(x)          = {_show(y)}",
            f"  inverse(forward(x)) = {_show(back)}",
            f"  largest error:        {float(np.max(np.abs(back - x_np)))!r} "
            f"(allowed: atol={atol:g} + rtol={rtol:g}·|x|)",
        ]
        raise _Mismatch("\n".join(lines))

    _run(check, inputs(dim, batch_shape=batch_shape, domain=domain), params, max_examples, seed)
