"""Test configuration: float64 by default, deterministic hypothesis profiles."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# The cache of proved references (derive._cache): one fresh directory for the whole session, so
# the suite neither depends on nor writes to the user's real cache (subprocesses inherit it).
_CACHE_DIR = tempfile.mkdtemp(prefix="derive-test-cache-")
os.environ["DERIVE_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
