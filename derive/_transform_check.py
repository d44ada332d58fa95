r"""``assert_transform_logdet``: the numeric log-det check for a *released* layer, whatever its protocol.

Accepted protocols (detected in this order):

* a ``(forward_fn, logdet_fn)`` pair: ``y = forward_fn(x)``, ``logdet_fn(x)``;
* zuko-style ``transform.call_and_ladj(x) -> (y, ladj)``;
* ``torch.distributions.Transform`` (torch, Pyro): ``y = transform(x)``,
  ``transform.log_abs_det_jacobian(x, y)`` (elementwise results are summed over the event axes);
* nflows / normflows / derive.torch style ``transform(x) -> (y, logabsdet)``.

For each drawn batch :math:`X` (shape ``(batch_size, *event_shape)``) and each sample :math:`n`,
the Jacobian of :math:`\mathbf{x}_n \mapsto f(X)_n` is taken by autograd *with the other samples
held fixed* — so a layer whose output depends on the batch (batch norm in train mode) is checked
through its statistics — and :math:`\log|\det J|` from ``slogdet`` is compared in float64 with
the claimed value. The inputs reach every branch: every coordinate is drawn from both signs, from
near zero and from far out (the tails of a spline on :math:`[-B, B]`, :math:`|x| \le 10`), and
explicit examples with alternating signs come first (on the default domain); an ``nn.Module`` is checked in both
``train()`` and ``eval()`` mode (its state is restored). Unless ``check_orientation=False`` the
sign of :math:`\det J` must also be the same at every input: a map whose Jacobian determinant
changes sign is not invertible (the planar flow without a valid :math:`\hat u` fails here even
though its log-det formula matches). On failure Hypothesis shrinks the batch and the message shows
the smallest failing input.

>>> import torch
>>> scale = torch.tensor([2.0, -0.5], dtype=torch.float64)
>>> assert_transform_logdet((lambda x: scale * x, lambda x: torch.log(scale.abs()).sum().expand(x.shape[:-1])),
...                         (2,), max_examples=5)
>>> assert_transform_logdet((lambda x: scale * x, lambda x: torch.log(scale).sum().expand(x.shape[:-1])),
...                         (2,), max_examples=5)  # the missing |.| (aeppl's bug)
Traceback (most recent call last):
    ...
AssertionError: log|det J| mismatch (mode: as given) at the failing input (a fixed branch example):
  x[0] = [0.5, -0.5]
  claimed: nan
  autograd (slogdet): 0.0
  difference: nan (allowed: atol=1e-10 + rtol=1e-08·|computed|)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as _seed
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from derive.errors import UsageError

__all__ = ["assert_transform_logdet", "branch_values", "resolve_protocol"]

Pair = tuple[Callable[[Any], Any], Callable[[Any], Any]]


class _Mismatch(AssertionError):
    """Raised inside the Hypothesis loop, re-raised without Hypothesis' noise."""


def branch_values(limit: float = 10.0) -> st.SearchStrategy[float]:
    r"""One coordinate: both signs, near zero (:math:`|x| \le 10^{-3}`), moderate and far out (tails)."""
    far = st.floats(-limit, limit, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    near = st.floats(-1e-3, 1e-3, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    unit = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return st.one_of(unit, far, near)


def _sum_to(value: Any, batch_ndim: int) -> Any:
    while value.ndim > batch_ndim:
        value = value.sum(-1)
    return value


def resolve_protocol(transform: Any, event_ndim: int) -> Callable[[Any], tuple[Any, Any]]:
    """``x -> (y, log|det J|)`` per sample (shape ``x.shape[:-event_ndim]``) for any accepted protocol."""
    if isinstance(transform, tuple):
        if len(transform) != 2 or not all(callable(f) for f in transform):
            raise UsageError("a transform given as a tuple must be (forward_fn, logdet_fn)")
        forward_fn, logdet_fn = transform
        return lambda x: (forward_fn(x), _sum_to(logdet_fn(x), x.ndim - event_ndim))
    if hasattr(transform, "call_and_ladj"):

        def zuko(x: Any) -> tuple[Any, Any]:
            y, ladj = transform.call_and_ladj(x)
            return y, _sum_to(ladj, x.ndim - event_ndim)

        return zuko
    if hasattr(transform, "log_abs_det_jacobian") and callable(transform):

        def distribution(x: Any) -> tuple[Any, Any]:
            y = transform(x)
            return y, _sum_to(transform.log_abs_det_jacobian(x, y), x.ndim - event_ndim)

        return distribution
    if callable(transform):

        def pair_output(x: Any) -> tuple[Any, Any]:
            out = transform(x)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise UsageError(
                    "transform(x) must return (y, logabsdet); or pass a torch.distributions.Transform, "
                    "an object with call_and_ladj, or a (forward_fn, logdet_fn) pair"
                )
            return out[0], _sum_to(out[1], x.ndim - event_ndim)

        return pair_output
    raise UsageError(
        f"not a transform: {type(transform).__name__} (see derive.testing.assert_transform_logdet)"
    )


def _modes(transform: Any, modes: Sequence[str] | None) -> tuple[str, ...]:
    import torch

    if modes is not None:
        bad = set(modes) - {"train", "eval"}
        if bad or not isinstance(transform, torch.nn.Module):
            raise UsageError("modes=('train', 'eval') needs an nn.Module transform")
        return tuple(modes)
    return ("train", "eval") if isinstance(transform, torch.nn.Module) else ("as given",)


def _show(arr: np.ndarray) -> str:
    return repr(arr.tolist())


def assert_transform_logdet(
    transform: Any,
    event_shape: Sequence[int],
    *,
    batch_size: int = 4,
    elements: st.SearchStrategy[float] | None = None,
    modes: Sequence[str] | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    check_orientation: bool = True,
    max_examples: int = 50,
    seed: int | None = None,
) -> None:
    r"""Check a transform's claimed :math:`\log|\det J|` against autograd on inputs reaching every branch.

    Arguments:
        transform: any accepted protocol (module docstring).
        event_shape: the shape of one sample, e.g. ``(D,)`` or ``(C, H, W)``.
        batch_size: samples per drawn batch (>= 2 so a batch-dependent layer has a batch).
        elements: strategy for one coordinate (default :func:`branch_values`).
        modes: ``("train", "eval")`` (default for an ``nn.Module``) or a subset.
        rtol, atol: ``|claimed - computed| <= atol + rtol * |computed|`` per sample.
        check_orientation: require the sign of :math:`\det J` to be the same at every input.
        max_examples, seed: Hypothesis budget; ``seed=None`` is a deterministic run.

    Raises:
        AssertionError: with the minimal failing input, the claimed and computed values.
    """
    import torch

    event_shape = tuple(int(s) for s in event_shape)
    if batch_size < 1 or any(s < 1 for s in event_shape):
        raise UsageError(f"need batch_size >= 1 and a positive event_shape, got {batch_size}, {event_shape}")
    shape = (batch_size, *event_shape)
    strategy = hnp.arrays(
        np.float64, shape, elements=elements if elements is not None else branch_values(), fill=st.nothing()
    )

    for mode in _modes(transform, modes):
        subject = transform
        if isinstance(transform, torch.nn.Module):
            subject = copy.deepcopy(transform).to(torch.float64)
            subject.train(mode == "train")
        _check_mode(
            resolve_protocol(subject, len(event_shape)),
            mode,
            shape,
            strategy,
            rtol=rtol,
            atol=atol,
            check_orientation=check_orientation,
            max_examples=max_examples,
            seed=seed,
            with_fixed_examples=elements is None,
        )


def _check_mode(
    call: Callable[[Any], tuple[Any, Any]],
    mode: str,
    shape: tuple[int, ...],
    strategy: st.SearchStrategy[np.ndarray],
    *,
    rtol: float,
    atol: float,
    check_orientation: bool,
    max_examples: int,
    seed: int | None,
    with_fixed_examples: bool,
) -> None:
    import torch

    batch_size, size = shape[0], int(np.prod(shape[1:]))
    seen_sign: list[float] = []
    # Fixed branch examples, tried first: alternating signs, moderate, far out (tails) and near zero.
    alternating = np.resize(np.array([0.5, -0.5, 5.0, -5.0, 2e-4, -2e-4]), size * batch_size)
    explicit = [np.roll(alternating, k).reshape(shape) for k in range(2)]

    def check(x_np: np.ndarray) -> None:
        fixed = any(np.array_equal(x_np, e) for e in explicit)
        origin = "(a fixed branch example)" if fixed else "(shrunk)"
        X = torch.as_tensor(x_np, dtype=torch.float64)
        with torch.no_grad():
            _, claimed = call(X)
        claimed_np = np.broadcast_to(
            np.asarray(torch.as_tensor(claimed).detach(), dtype=np.float64), (batch_size,)
        )
        for n in range(batch_size):
            onehot = torch.zeros(shape, dtype=torch.float64)
            onehot[n] = 1.0

            def sample_map(xn: Any, n: int = n, onehot: Any = onehot) -> Any:
                return call(X + onehot * (xn - X[n]))[0][n].reshape(-1)

            J = torch.autograd.functional.jacobian(sample_map, X[n].clone()).reshape(size, size)
            sign, actual = (float(v) for v in torch.linalg.slogdet(J))
            if not np.isclose(claimed_np[n], actual, rtol=rtol, atol=atol):
                raise _Mismatch(
                    "\n".join(
                        [
                            f"log|det J| mismatch (mode: {mode}) at the failing input {origin}:",
                            f"  x[{n}] = {_show(x_np[n])}",
                            f"  claimed: {float(claimed_np[n])!r}",
                            f"  autograd (slogdet): {actual!r}" + ("  (J is singular)" if sign == 0 else ""),
                            f"  difference: {float(claimed_np[n] - actual)!r} "
                            f"(allowed: atol={atol:g} + rtol={rtol:g}·|computed|)",
                        ]
                    )
                )
            if check_orientation and sign != 0:
                if seen_sign and seen_sign[0] != sign:
                    raise _Mismatch(
                        f"det J changes sign between inputs (mode: {mode}), so the map is not invertible:\n"
                        f"  x[{n}] = {_show(x_np[n])}\n  sign of det J: {sign:+.0f}, earlier {seen_sign[0]:+.0f}"
                    )
                seen_sign.append(sign)

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def run(x_np: np.ndarray) -> None:
        check(x_np)

    if with_fixed_examples:  # only on the default domain (a custom one may exclude them)
        run = example(explicit[0])(example(explicit[1])(run))

    if seed is not None:
        run = _seed(seed)(run)
    try:
        run()
    except _Mismatch as error:
        raise AssertionError(str(error)) from None
