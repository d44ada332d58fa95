"""Mutation benchmark: which checker catches the log-det bugs that released flow libraries shipped?

Seeds the bug classes of issue 11 into derive's own torch reference layers
(``derive.torch._mutants.MUTANTS``, >= 25 mutants) and runs, side by side in one run:

* ``derive.testing``: :func:`derive.testing.assert_transform_logdet` (branch-reaching Hypothesis
  inputs, per-sample autograd Jacobian in float64, rtol 1e-8, both module modes, orientation);
* ``central-diff``: one ``randn`` point, central differences (h = 1e-5), atol 1e-4 (Pyro's style);
* ``autograd-1pt``: one ``randn`` point, autograd Jacobian, atol 1e-4 (zuko's style);
* ``fwd+inv-cancel``: one ``randn`` batch, forward and inverse log-dets must cancel and the inverse
  round-trip (nflows / normflows style); layers without an inverse cannot be checked (counted as
  survived, reported as n/a).

The single-point baselines check the module in eval mode, as those libraries' tests do. Prints each
method's kill rate, false alarms on the correct layers (``derive.torch._catalog``) and seconds per
layer. Target: derive.testing kills 100% with 0 false alarms.

    python scripts/bench_mutants.py [--examples 25]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from hypothesis import strategies as st

from derive.testing import assert_transform_logdet
from derive.torch._catalog import REFERENCE_LAYERS, UNIT_INTERVAL_LAYERS
from derive.torch._mutants import MUTANTS

ATOL = 1e-4


def _point(shape: tuple[int, ...], unit: bool, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(1, *shape, generator=gen) if unit else torch.randn(1, *shape, generator=gen)
    return x.double()


def _claimed(layer: torch.nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float(layer(x)[1].reshape(-1)[0])


def _flat_map(layer: torch.nn.Module, shape: tuple[int, ...]) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda v: layer(v.reshape(1, *shape))[0].reshape(-1)


def central_difference(layer: torch.nn.Module, shape: tuple[int, ...], unit: bool) -> bool:
    """True if the bug is detected (the check fails)."""
    layer.eval()
    x = _point(shape, unit, seed=0)
    f, v, h = _flat_map(layer, shape), x.reshape(-1), 1e-5
    with torch.no_grad():
        cols = [(f(v + h * e) - f(v - h * e)) / (2 * h) for e in torch.eye(v.numel(), dtype=v.dtype)]
    actual = float(torch.linalg.slogdet(torch.stack(cols, -1))[1])
    return not bool(np.isclose(_claimed(layer, x), actual, rtol=0, atol=ATOL))


def autograd_one_point(layer: torch.nn.Module, shape: tuple[int, ...], unit: bool) -> bool:
    layer.eval()
    x = _point(shape, unit, seed=0)
    J = torch.autograd.functional.jacobian(_flat_map(layer, shape), x.reshape(-1))
    actual = float(torch.linalg.slogdet(J)[1])
    return not bool(np.isclose(_claimed(layer, x), actual, rtol=0, atol=ATOL))


def forward_inverse_cancel(layer: torch.nn.Module, shape: tuple[int, ...], unit: bool) -> bool | None:
    """None when the layer has no inverse (the check cannot run)."""
    if not hasattr(layer, "inverse"):
        return None
    layer.eval()
    x = _point(shape, unit, seed=0)
    with torch.no_grad():
        y, ld_forward = layer(x)
        out = layer.inverse(y)
    if not isinstance(out, tuple):  # an inverse without its log-det: nothing to cancel
        return None
    x_back, ld_inverse = out
    ok = torch.allclose(x_back, x, atol=ATOL) and bool(
        torch.allclose(ld_forward + ld_inverse, torch.zeros(1, dtype=x.dtype), atol=ATOL)
    )
    return not ok


def derive_testing(layer: torch.nn.Module, shape: tuple[int, ...], unit: bool, examples: int) -> bool:
    elements = st.floats(1e-3, 1 - 1e-3) if unit else None
    try:
        assert_transform_logdet(layer, shape, elements=elements, max_examples=examples)
    except AssertionError:
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", type=int, default=25, help="Hypothesis examples per mode for derive.testing"
    )
    args = parser.parse_args(argv)

    methods: dict[str, Callable[..., bool | None]] = {
        "derive.testing": lambda m, s, u: derive_testing(m, s, u, args.examples),
        "central-diff": central_difference,
        "autograd-1pt": autograd_one_point,
        "fwd+inv-cancel": forward_inverse_cancel,
    }
    kills = {name: 0 for name in methods}
    not_applicable = {name: 0 for name in methods}
    false_alarms = {name: 0 for name in methods}
    seconds = {name: 0.0 for name in methods}

    print(f"{'mutant':<34} {'bug class':<32} " + " ".join(f"{m:>15}" for m in methods))
    for mutant in MUTANTS:
        row = []
        for name, method in methods.items():
            start = time.perf_counter()
            result = method(mutant.factory(), mutant.event_shape, mutant.unit_interval)
            seconds[name] += time.perf_counter() - start
            kills[name] += bool(result)
            not_applicable[name] += result is None
            row.append("n/a" if result is None else ("killed" if result else "SURVIVED"))
        print(f"{mutant.name:<34} {mutant.bug_class:<32} " + " ".join(f"{r:>15}" for r in row))

    correct = [(n, f, s, False) for n, f, s in REFERENCE_LAYERS] + [
        (n, f, s, True) for n, f, s in UNIT_INTERVAL_LAYERS
    ]
    for layer_name, factory, shape, unit in correct:
        for name, method in methods.items():
            start = time.perf_counter()
            alarm = method(factory(), shape, unit)
            seconds[name] += time.perf_counter() - start
            if alarm:
                false_alarms[name] += 1
                print(f"false alarm: {name} on the correct layer {layer_name}")

    total, layers = len(MUTANTS), len(MUTANTS) + len(correct)
    print(
        f"\n{len(MUTANTS)} mutants, {len(correct)} correct layers; derive.testing with {args.examples} examples per mode"
    )
    print(
        f"{'method':<16} {'kill rate':>10} {'false alarms':>13} {'s/layer':>9} {'ratio to autograd-1pt':>22}"
    )
    base = seconds["autograd-1pt"] / layers
    for name in methods:
        per_layer = seconds[name] / layers
        na = f" ({not_applicable[name]} n/a)" if not_applicable[name] else ""
        print(
            f"{name:<16} {kills[name] / total:>9.0%} {false_alarms[name]:>13} {per_layer:>9.3f} {per_layer / base:>21.1f}x{na}"
        )
    return 0 if kills["derive.testing"] == total and false_alarms["derive.testing"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
