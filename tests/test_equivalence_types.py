"""Value types: validation and hashable domain keys."""

from __future__ import annotations

import pytest

from derive.equivalence import Domain, SizeVar, Verdict
from derive.symbols import D, T, i, sigma, t


def test_trial_values_must_respect_minimum():
    with pytest.raises(ValueError, match="below its minimum"):
        SizeVar(D, 1, (0, 1))
    with pytest.raises(ValueError, match="at least one"):
        SizeVar(T, 0, ())


def test_domain_key_is_hashable_and_order_free():
    sizes = (SizeVar(D, 1, (1, 2)),)
    a = Domain(sizes, {sigma[t, i]: sigma[t, i] ** 2, D: D})
    b = Domain(sizes, {D: D, sigma[t, i]: sigma[t, i] ** 2})
    assert hash(a.key()) == hash(b.key())
    assert a.key() == b.key()


def test_verdict_defaults():
    v = Verdict("undecided", "m", "msg")
    assert v.counterexample is None and v.evidence == {}
