"""Root test configuration, loaded for ``tests/`` and for the doctests under ``derive/`` alike.

The cache of proved references (``derive._cache``) points at one fresh directory for the whole
session, so the suite neither depends on nor writes to the user's real cache. pytest-xdist's
workers (and every subprocess a test starts) inherit it from the process that made it, so the
references are proved once per session, not once per worker.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_OWNER = "DERIVE_TEST_CACHE_SESSION"

if os.environ.get(_OWNER) != os.environ.get("DERIVE_CACHE_DIR") or _OWNER not in os.environ:
    _CACHE_DIR = tempfile.mkdtemp(prefix="derive-test-cache-")
    os.environ["DERIVE_CACHE_DIR"] = os.environ[_OWNER] = _CACHE_DIR
    atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
