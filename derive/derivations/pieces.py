r"""Piecewise layers (the RQ spline): every piece proved in one proof, one chain per piece.

A layer with ``piece_layers()`` (each piece's layer, every coordinate on that piece) and
``claimed_derivatives()`` is proved by :func:`piece_chain`: the kernel's Jacobian rule gives
:math:`\sum_i\log|\partial y_i/\partial x_i|` differentiated from the model on the piece, then a
rewrite by kernel theorems :math:`\partial y_i/\partial x_i = g'_i` (computer algebra on rational
functions) gives the claimed closed form. :func:`derive.derivations.layer.layer_proof` uses both.

>>> from derive.layers import RQSpline
>>> piece_chain(RQSpline(1, bins=("left-tail",)), "left tail").result
0
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sympy as sp

from derive.proof import kernel as K
from derive.proof._proof import Chain, ChainBuilder, Section
from derive.proof.checks import FromJacobian, Identity, Rewrite
from derive.quantities import LogDetMap, ModelAtom

__all__ = ["piece_chain", "piece_sections"]


def piece_sections(layer: Any) -> tuple[Section, ...]:
    """A piecewise layer (``piece_layers()``, e.g. the RQ spline) proves every piece in the same proof:
    one chain per piece, each the kernel's Jacobian rule on the layer with every coordinate on that piece
    (the layer is elementwise, so the pieces of different coordinates combine freely)."""
    pieces = getattr(layer, "piece_layers", None)
    if pieces is None:
        return ()
    chains = tuple(piece_chain(piece, label) for label, piece in pieces())
    text = "The map is piecewise; each piece is proved on its own, every bin and both identity tails."
    return (Section("Every piece", text, chains=chains),)


def piece_chain(layer: Any, label: str) -> Chain:
    """A piecewise layer on one assignment of pieces: the kernel's Jacobian (diagonal, differentiated
    from the model), then each diagonal entry rewritten to the claimed derivative by a kernel theorem
    (``∂y_i/∂x_i = g'_i``, computer algebra on the rational functions)."""
    derived = layer.derived_logdet()
    facts = []
    for v, claimed in zip(layer.inputs(), layer.claimed_derivatives(), strict=True):
        # SymPy writes |∂y_i/∂x_i| with the sign it prefers pulled out: rewrite the argument it kept.
        for entry in [a.args[0] for a in derived.atoms(sp.Abs) if a.has(v)]:
            if entry != claimed:
                facts.append(_derivative_fact(entry, claimed))
    builder = ChainBuilder(LogDetMap(ModelAtom(layer)), label=label).step(
        derived,
        FromJacobian(Identity()),
        "Jacobian of the model",
        f"Diagonal (each output depends on its own input; {label}): $\\log|\\det J| = \\sum_i \\log|\\partial y_i/"
        "\\partial x_i|$, each entry differentiated from the model on its piece.",
    )
    if facts:
        builder = builder.step(
            layer.claimed_logdet(),
            Rewrite(tuple(facts)),
            "the derivative formula",
            "Each entry equals the claimed derivative on its piece (Durkan et al. eq. 5 on a bin, 1 on a tail): "
            "the two rational functions agree (computer algebra).",
            cite="the per-piece derivative identities",
        )
    elif derived != layer.claimed_logdet():
        builder = builder.step(layer.claimed_logdet(), Identity(), "the derivative formula", "Algebra.")
    return builder.build()


@lru_cache(maxsize=256)
def _derivative_fact(entry: sp.Expr, claimed: sp.Expr) -> K.Theorem:
    """``⊢ entry = ±claimed`` by the kernel's algebra; the sign SymPy pulled out of ``|entry|`` is guessed
    first by a cheap ``cancel`` outside the kernel (a wrong guess only makes the kernel refuse)."""
    sign = 1 if sp.cancel(sp.together(entry - claimed)) == 0 else -1
    return K.algebra(entry, sign * claimed)
