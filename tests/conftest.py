"""Test configuration: float64 by default, deterministic hypothesis profiles."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The session's cache directory for proved references is set in the repository's root conftest.py.

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
