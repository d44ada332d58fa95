"""The mutation suite, fast: derive.testing kills every seeded bug and raises no false alarm.

``scripts/bench_mutants.py`` runs the same catalogue against the baselines (single-point central
differences and autograd at atol 1e-4, forward+inverse cancellation) and prints the kill rates.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from hypothesis import strategies as st  # noqa: E402

from derive.testing import assert_transform_logdet  # noqa: E402
from derive.torch._catalog import REFERENCE_LAYERS, UNIT_INTERVAL_LAYERS  # noqa: E402
from derive.torch._mutants import MUTANTS  # noqa: E402

UNIT = st.floats(1e-3, 1 - 1e-3)
EXAMPLES = 8


def test_at_least_25_mutants_over_the_issue_bug_classes() -> None:
    assert len(MUTANTS) >= 25
    classes = " ".join(m.bug_class for m in MUTANTS)
    for needle in ("Pyro", "flowjax", "H*W", "FrEIA", "sign", "|.|", "batch-norm mode", "spline"):
        assert needle in classes, needle


@pytest.mark.parametrize("mutant", [pytest.param(m, id=m.name) for m in MUTANTS])
def test_every_mutant_is_killed(mutant) -> None:
    with pytest.raises(AssertionError):
        assert_transform_logdet(
            mutant.factory(),
            mutant.event_shape,
            elements=UNIT if mutant.unit_interval else None,
            max_examples=EXAMPLES,
        )


CORRECT = [pytest.param(f, s, None, id=n) for n, f, s in REFERENCE_LAYERS] + [
    pytest.param(f, s, UNIT, id=n) for n, f, s in UNIT_INTERVAL_LAYERS
]


@pytest.mark.parametrize(("factory", "shape", "elements"), CORRECT)
def test_no_false_alarm_on_the_correct_layers(factory, shape, elements) -> None:
    assert_transform_logdet(factory(), shape, elements=elements, max_examples=EXAMPLES)
