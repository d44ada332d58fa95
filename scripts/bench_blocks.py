"""Benchmark issue 11's symbolic-size proofs against the concrete-size proof of the same layer.

The symbolic-size proof (kernel rule ``block_logdet``: ActNorm for every C, H, W; the coupling for every
d, D) costs the same at every size; the concrete proof (``jacobian_logdet`` on the expanded model)
grows with the size. Printed as ratios concrete / symbolic, both measured in this run (best of
``--repeat``; the shared Jacobian cache is cleared before every concrete run).

    python scripts/bench_blocks.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from derive.layers._base import _shared_jacobian
from derive.layers.actnorm import ActNorm
from derive.layers.coupling import AffineCoupling
from derive.layers.generic import GenericActNorm, GenericAffineCoupling
from derive.proof import ChainBuilder, FromJacobian, Identity
from derive.proof import kernel as K
from derive.proof.checks import FromBlocks
from derive.quantities import LogDetMap, ModelAtom


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _symbolic(make: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        q = LogDetMap(ModelAtom(make()))
        return ChainBuilder(q).step(K.block_logdet(q).rhs, FromBlocks(Identity()), "blocks").build()

    return run


def _concrete(make: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        _shared_jacobian.cache_clear()  # an equal layer would reuse the Jacobian computed last time
        layer = make()
        q = LogDetMap(ModelAtom(layer))
        return (
            ChainBuilder(q)
            .step(layer.claimed_logdet(), FromJacobian(Identity(expand_sums=True)), "J")
            .build()
        )  # type: ignore[attr-defined]

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].replace("``", "'"))
    parser.add_argument("--repeat", type=int, default=3, help="timings per case (best of; default 3)")
    args = parser.parse_args(argv)
    cases = (
        (
            "actnorm",
            GenericActNorm,
            (lambda: ActNorm(2, 2, 2), lambda: ActNorm(4, 4, 4), lambda: ActNorm(8, 4, 4)),
        ),
        ("coupling", GenericAffineCoupling, (lambda: AffineCoupling(8), lambda: AffineCoupling(32))),
    )
    for name, generic, concretes in cases:
        symbolic = _best(_symbolic(generic), args.repeat)
        print(f"{name}: symbolic-size proof {symbolic * 1e3:.1f} ms (every size)")
        for make in concretes:
            concrete = _best(_concrete(make), args.repeat)
            print(
                f"  {make()!r} (D = {make().dim}): concrete {concrete * 1e3:.1f} ms = {concrete / symbolic:.2f}x the symbolic proof"
            )  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
