r"""The log-determinant of any registered flow layer, proved from its model by the kernel.

``layer_proof("planar", 3)`` builds the layer of :data:`derive.layers.LAYERS` at that size, lets the
kernel compute its Jacobian (structure by dependency analysis; a triangular or block determinant by
the cited axiom, a full one by SymPy's determinant) and proves the layer's claimed closed form from
it. A claim that does not follow from the map fails with the step named.

Without ``dim``, a layer with a model at symbolic dimension (:data:`GENERAL`: planar,
planar-reparametrized, radial; sylvester with M = 2) is proved for every D: the kernel differentiates the generic component
for symbolic i, j, factors the Jacobian as :math:`sI + c\,\mathbf{a}\mathbf{b}^\top` itself, and the
determinant is the cited matrix determinant lemma (:func:`general_layer_proof`). Other layers fall
back to D = 2.

>>> proof = layer_proof("elementwise-affine", 2)
>>> proof.result == proof.meta["claimed"]
True
>>> sorted(layer_proof("planar").theorem.axioms)
['matrix-determinant-lemma']
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from derive.errors import UsageError
from derive.proof._proof import ChainBuilder, Proof, Section
from derive.proof.checks import FromJacobian, Identity, LowRankUpdate, RankOneUpdate, Rewrite
from derive.quantities import LogDetMap, ModelAtom

__all__ = ["BLOCK_GENERAL", "GENERAL", "general_layer_proof", "layer_names", "layer_proof"]

#: Layers proved at symbolic D, by the rank-one rule: name -> the generic model's constructor arguments.
GENERAL: dict[str, dict[str, bool | int]] = {
    "planar": {},
    "planar-reparametrized": {"reparametrized": True},
    "radial": {},
    # Sylvester's identity at symbolic D with M = 2 hidden units (the M x M determinant is computed).
    "sylvester": {"hidden": 2},
}

#: Issue 11 layers proved at symbolic size by the kernel's block rule (:mod:`derive.derivations.blocks`):
#: name -> (the proof function there, its arguments). The coupling is proved for every d, D; ActNorm and
#: the 1x1 convolution for every C, H, W.
BLOCK_GENERAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "affine-coupling": ("coupling_general_proof", ()),
    "affine-coupling-glow": ("coupling_general_proof", ("sigmoid",)),
    "actnorm": ("actnorm_general_proof", ()),
    "conv1x1": ("conv1x1_general_proof", ()),
    "conv1x1-lu": ("conv1x1_lu_general_proof", ()),
}


def layer_names() -> tuple[str, ...]:
    from derive.layers import LAYERS

    return tuple(name for name, _ in LAYERS)


def _generic_model(name: str) -> Any:
    from derive.layers.generic import GenericPlanar, GenericRadial, GenericSylvester

    kind = {"radial": GenericRadial, "sylvester": GenericSylvester}.get(name, GenericPlanar)
    return kind(**GENERAL[name])


@cache
def general_layer_proof(name: str) -> Proof:
    r"""``log|det J| = claimed`` for every D, for a layer of :data:`GENERAL` (rank-one update of sI).

    planar-reparametrized takes one more step: :math:`\sum_i w_i\hat u_i = m(\mathbf{w}^\top\mathbf{u})`,
    a kernel theorem at symbolic D (:func:`~derive.layers.planar.w_dot_u_hat_theorem`).
    """
    import sympy as sp

    if name not in GENERAL:
        raise UsageError(
            f"no general (symbolic-D) proof for {name!r}; give --dim (general: {', '.join(GENERAL)})"
        )
    model = _generic_model(name)
    claimed = model.claimed_logdet()
    how = (
        "Every entry differentiated from the model for symbolic i, j; the kernel finds J_ij = s δ_ij + c a_i b_j "
        "(s, c free of i and j) and checks it, and the matrix determinant lemma gives the determinant."
    )
    builder = ChainBuilder(LogDetMap(ModelAtom(model)), label="log-determinant")
    if name == "planar-reparametrized":
        from derive.layers.planar import u, w_dot_u_hat_theorem

        rank_one = model.rank_one_form()
        # The outer sum, Σ_i w_i û_i (the sums wᵀu, ‖w‖² sit inside its summand).
        (target,) = [e for e in rank_one.atoms(sp.Sum) if e.function.has(u) and e.function.has(sp.Sum)]
        builder = builder.step(
            rank_one, RankOneUpdate(Identity()), "rank-one update of the identity", how
        ).step(
            claimed,
            Rewrite((w_dot_u_hat_theorem(target),)),
            "reparametrisation identity",
            r"$\mathbf{w}^\top\hat{\mathbf{u}} = m(\mathbf{w}^\top\mathbf{u})$ for every D (sum algebra, kernel "
            r"theorem), so $m > -1$ and $0 < h' \le 1$ keep the argument positive.",
        )
    elif name == "sylvester":
        how = (
            "Every entry differentiated from the model for symbolic i, j; the kernel finds J_ij = δ_ij + "
            "Σ_m c_m a_m,i b_m,j (one product per hidden unit) and checks it; Sylvester's determinant identity "
            "reduces det J to an M × M determinant, computed."
        )
        builder = builder.step(claimed, LowRankUpdate(Identity()), "low-rank update of the identity", how)
    else:
        builder = builder.step(
            claimed, RankOneUpdate(Identity()), "rank-one update of a multiple of the identity", how
        )
    chain = builder.build()
    from derive.layers import Planar, PlanarReparametrized, Radial, Sylvester

    concrete = (
        Sylvester(1, hidden=model.hidden)
        if name == "sylvester"
        else {"planar-reparametrized": PlanarReparametrized, "radial": Radial}.get(name, Planar)(1)
    )
    return _proof(
        f"Log-determinant of the {name} layer (every D{', M = 2' if name == 'sylvester' else ''})",
        chain,
        model,
        concrete.assumptions(),
        {"problem": name, "dim": str(model.dim), "claimed": claimed},
        convention="; D is symbolic.",
    )


@cache
def layer_proof(name: str, dim: int | None = None) -> Proof:
    """Prove ``log|det J| = claimed_logdet()`` for the registered layer ``name`` at dimension ``dim``
    (``None``: every D when the layer has a general proof, else D = 2)."""
    from derive.layers import LAYERS

    if dim is None:
        if name in BLOCK_GENERAL:
            from derive.derivations import blocks

            function, arguments = BLOCK_GENERAL[name]
            proof: Proof = getattr(blocks, function)(*arguments)
            return proof
        if name in GENERAL:
            return general_layer_proof(name)
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
    if hasattr(layer, "generic_twin"):  # radial: a rank-one structure the dependency analysis cannot see
        check: FromJacobian | RankOneUpdate = RankOneUpdate(Identity(expand_sums=True))
        how = (
            "The Jacobian of the map, differentiated from the model; the kernel finds J = sI + c a bᵀ (checked "
            "entry by entry) and the matrix determinant lemma gives the determinant, which equals the claimed "
            "closed form."
        )
    else:
        check = FromJacobian(Identity(expand_sums=True))
        how = (
            f"The Jacobian of the map, differentiated from the model; its structure ({layer.claimed_structure.value} "
            "as claimed, proved by dependency analysis) gives the determinant, which equals the claimed closed form."
        )
    from derive.derivations.pieces import piece_chain, piece_sections

    chain = (
        piece_chain(layer, "log-determinant")
        if hasattr(layer, "piece_layers")
        else ChainBuilder(LogDetMap(ModelAtom(layer)), label="log-determinant")
        .step(claimed, check, "Jacobian of the model", how)
        .build()
    )
    return _proof(
        f"Log-determinant of the {name} layer (D = {dim})",
        chain,
        layer,
        layer.assumptions(),
        {"problem": name, "dim": dim, "claimed": claimed},
        extra=piece_sections(layer),
    )


def _proof(
    title: str,
    chain: Any,
    layer: Any,
    assumptions: Any,
    meta: dict[str, Any],
    *,
    extra: Any = (),
    convention: str = ".",
) -> Proof:
    """A layer's proof: the model (its docstring's first paragraph, reST maths as $…$), the chain."""
    doc = (type(layer).__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    doc = re.sub(r":math:`([^`]*)`", r"$\1$", doc).replace("``", "")
    return Proof(
        title=title,
        theorem=chain.theorem,
        sections=(
            Section("Model", f"{doc} Direction: {layer.direction}."),
            Section("Derivation", chains=(chain,)),
            *extra,
        ),
        assumptions=tuple(assumptions),
        conventions=(
            "The log-determinant of the layer's own map, output with respect to input, in the layer's direction "
            f"({layer.direction}){convention}"
        ),
        meta=meta,
    )
