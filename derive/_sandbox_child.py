r"""The sandbox's shared pieces: child-side limits and outcome encoding, parent-side decoding, reaping.

Used by the one-shot fork (:func:`derive.sandbox.run_limited`) and the persistent pool
(:class:`derive.sandbox.WorkerPool`), so both give the same outcomes for the same computation.

>>> _decode(_run_encoded(pow, (2, 5), {}))
32
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import pickle
import resource
import signal
import sys
from collections.abc import Callable
from typing import Any

from derive.errors import DeriveError, ResourceLimitError

#: The child's recursion limit is capped here: deeper Python recursion would overflow the C stack
#: (a crash) instead of raising ``RecursionError`` (a clean error).
MAX_RECURSION = 10_000

_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGKILL}
_OK, _DERIVE, _MEMORY, _OTHER = "ok", "derive", "memory", "other"


def _address_space_bytes() -> int:
    """The current virtual size of this process (what ``RLIMIT_AS`` counts)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _apply_limits(memory_mb: int) -> None:
    """Child side: allow ``memory_mb`` MiB of address space beyond what the child inherited.

    The budget is *additional* to the inherited mappings (SymPy, NumPy's thread pools, …) so that
    it means the same thing whatever the parent had loaded.
    """
    limit = _address_space_bytes() + memory_mb * 2**20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    faulthandler.disable()  # a crash is reported by the parent; no C-level traceback spew
    gc.freeze()  # the child's collector leaves inherited objects alone: no copy-on-write storm
    sys.setrecursionlimit(min(sys.getrecursionlimit(), MAX_RECURSION))


def _run_encoded(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Child side: run ``fn`` and return the pickled outcome ``(tag, payload)``; never raises."""
    try:
        value = fn(*args, **kwargs)
    except MemoryError:
        return pickle.dumps((_MEMORY, "MemoryError"))
    except DeriveError as exc:
        try:
            data = pickle.dumps((_DERIVE, exc))
            pickle.loads(data)  # the parent must be able to rebuild it
            return data
        except Exception:
            return pickle.dumps((_OTHER, f"{type(exc).__name__}: {exc}"))
    except BaseException as exc:
        return pickle.dumps((_OTHER, f"{type(exc).__name__}: {exc}"))
    try:
        return pickle.dumps((_OK, value))
    except MemoryError:
        return pickle.dumps((_MEMORY, "MemoryError while pickling the result"))
    except Exception as exc:
        return pickle.dumps((_OTHER, f"result does not pickle: {type(exc).__name__}: {exc}"))


def _decode(data: bytes) -> Any:
    """Parent side: turn an encoded outcome into a value or the matching exception."""
    tag, payload = pickle.loads(data)
    if tag == _OK:
        return payload
    if tag == _DERIVE:
        raise payload
    if tag == _MEMORY:
        raise ResourceLimitError(f"computation exceeded its memory budget ({payload})", kind="memory")
    raise RuntimeError(payload)


def _reap(pid: int, kill: bool) -> int:
    """Kill (optionally) and wait for the child; return its wait status."""
    if kill:
        try:
            os.killpg(pid, signal.SIGKILL)  # the child and anything it started
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return status
        except ChildProcessError:
            return 0
        except InterruptedError:  # pragma: no cover — PEP 475 retries already
            continue
