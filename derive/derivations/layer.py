r"""The log-determinant of any registered flow layer, proved from its model by the kernel.

``layer_proof("planar", 3)`` builds the layer of :data:`derive.layers.LAYERS` at that size, lets the
kernel compute its Jacobian (structure by dependency analysis; a triangular or block determinant by
the cited axiom, a full one by SymPy's determinant) and proves the layer's claimed closed form from
it. A claim that does not follow from the map fails with the step named.

>>> proof = layer_proof("elementwise-affine", 2)
>>> proof.result == proof.meta["claimed"]
True
"""

from __future__ import annotations

import re
from functools import cache

from derive.errors import UsageError
from derive.proof._proof import ChainBuilder, Proof, Section
from derive.proof.checks import FromJacobian, Identity
from derive.quantities import LogDetMap, ModelAtom

__all__ = ["BLOCK_GENERAL", "layer_names", "layer_proof"]

#: Issue 11 layers proved at symbolic size by the kernel's block rule (:mod:`derive.derivations.blocks`):
#: name -> (the proof function there, its arguments). The coupling is proved for every d, D; ActNorm and
#: the 1x1 convolution for every C, H, W.
BLOCK_GENERAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "affine-coupling": ("coupling_general_proof", ()),
    "affine-coupling-glow": ("coupling_general_proof", ("sigmoid",)),
    "actnorm": ("actnorm_general_proof", ()),
    "conv1x1": ("conv1x1_general_proof", ()),
}


def layer_names() -> tuple[str, ...]:
    from derive.layers import LAYERS

    return tuple(name for name, _ in LAYERS)


@cache
def layer_proof(name: str, dim: int | None = None) -> Proof:
    """Prove ``log|det J| = claimed_logdet()`` for the registered layer ``name`` at dimension ``dim``."""
    from derive.layers import LAYERS

    if dim is None:
        if name in BLOCK_GENERAL:
            from derive.derivations import blocks

            function, arguments = BLOCK_GENERAL[name]
            proof: Proof = getattr(blocks, function)(*arguments)
            return proof
        dim = 2

    factories = dict(LAYERS)
    if name not in factories:
        raise UsageError(f"unknown layer {name!r}; choose one of {', '.join(factories)}")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise UsageError(f"--dim must be a positive integer, got {dim!r}")
    try:
        layer = factories[name](dim)
    except ValueError as err:
        raise UsageError(f"{name}: {err}") from None
    claimed = layer.claimed_logdet()
    chain = (
        ChainBuilder(LogDetMap(ModelAtom(layer)), label="log-determinant")
        .step(
            claimed,
            FromJacobian(Identity(expand_sums=True)),
            "Jacobian of the model",
            f"The Jacobian of the map, differentiated from the model; its structure ({layer.claimed_structure.value} "
            "as claimed, proved by dependency analysis) gives the determinant, which equals the claimed closed form.",
        )
        .build()
    )
    doc = (type(layer).__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    doc = re.sub(r":math:`([^`]*)`", r"$\1$", doc).replace("``", "")
    return Proof(
        title=f"Log-determinant of the {name} layer (D = {dim})",
        theorem=chain.theorem,
        sections=(
            Section("Model", f"{doc} Direction: {layer.direction}."),
            Section("Derivation", chains=(chain,)),
        ),
        assumptions=tuple(layer.assumptions()),
        conventions=(
            "The log-determinant of the layer's own map, output with respect to input, in the layer's direction "
            f"({layer.direction})."
        ),
        meta={"problem": name, "dim": dim, "claimed": claimed},
    )
