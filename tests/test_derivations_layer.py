"""`derive prove LAYER`: every registered layer's claimed log-det, proved from its model by the kernel."""

from __future__ import annotations

import pytest

from derive.cli import main
from derive.derivations.layer import layer_names, layer_proof
from derive.errors import UsageError

NAMES = layer_names()


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_every_layer_claim_is_proved_from_its_model(name: str) -> None:
    dim = 1 if name.startswith("batchnorm-train") else 2
    proof = layer_proof(name, dim)
    assert proof.result == proof.meta["claimed"] and proof.theorem.closed
    step = proof.steps[0]
    assert step.theorem.lhs == proof.lhs and "Jacobian of" in " ".join(step.computations())


def test_a_wrong_claim_is_refused() -> None:
    """Mutation: the same layer with a claim off by a sign must not prove."""
    import sympy as sp

    from derive.errors import VerificationError
    from derive.layers import LAYERS
    from derive.proof import ChainBuilder, FromJacobian, Identity
    from derive.quantities import LogDetMap, ModelAtom

    layer = dict(LAYERS)["affine-coupling"](2)
    with pytest.raises(VerificationError, match="step 1"):
        ChainBuilder(LogDetMap(ModelAtom(layer))).step(
            -layer.claimed_logdet() + sp.Integer(0), FromJacobian(Identity(expand_sums=True)), "wrong"
        )


def test_unknown_layer_and_bad_dim_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError):
        layer_proof("no-such-layer", 2)
    assert main(["prove", "planar", "--dim", "0"]) == 2
    assert main(["prove", "planar", "--steps", "2"]) == 2
    assert main(["prove", "planar", "--format", "text", "-o", "/dev/null"]) == 0
    err = capsys.readouterr().err
    assert err.count("derive: error:") == 2
