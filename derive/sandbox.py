r"""Run a computation on untrusted input in a forked child under a wall-time and a memory limit.

SymPy will happily try to build :math:`10^{10^{10}}` or simplify for an hour when handed a
hostile (or just unlucky) expression. :func:`run_limited` runs ``fn(*args, **kwargs)`` in a child
made with ``os.fork`` (Linux), caps the child's address space with ``RLIMIT_AS`` and its recursion
limit, sends the result back pickled through a pipe, and kills the child (``SIGKILL``) when the
wall-clock budget runs out. The child is always reaped: no zombies, even when the parent is
interrupted.

Outcomes in the parent:

* the value returned by ``fn`` (it must pickle);
* :class:`~derive.errors.ResourceLimitError` with ``kind="timeout"`` or ``kind="memory"``
  (``MemoryError`` in the child, or the child killed by a signal that an exhausted address space
  or stack produces: ``SIGSEGV``, ``SIGBUS``, ``SIGABRT``, ``SIGKILL`` not sent by us);
* a :class:`~derive.errors.DeriveError` raised in the child, re-raised as the same type with the
  same message and attributes;
* any other exception ``e`` as ``RuntimeError(f"{type(e).__name__}: {e}")`` (the caller maps it).

The child-side half (:func:`_apply_limits`, :func:`_run_encoded`) and the parent-side decoding
(:func:`_decode`) are separate functions so that a pool of long-lived sandboxed workers can reuse
them.

>>> run_limited(pow, 2, 10)
1024
>>> run_limited(sum, range(10**9), timeout=0.2)
Traceback (most recent call last):
...
derive.errors.ResourceLimitError: computation exceeded 0.2 s wall time
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from derive.errors import DeriveError, ResourceLimitError

__all__ = ["run_limited"]

R = TypeVar("R")

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


def _child(write_fd: int, memory_mb: int, fn: Callable[..., Any], args: Any, kwargs: Any) -> None:
    """Body of the forked child; leaves only through ``os._exit``."""
    code = 0
    try:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        _apply_limits(memory_mb)
        data = _run_encoded(fn, args, kwargs)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


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


def run_limited(
    fn: Callable[..., R], /, *args: Any, timeout: float = 10.0, memory_mb: int = 2048, **kwargs: Any
) -> R:
    r"""Run ``fn(*args, **kwargs)`` in a forked child with ``timeout`` wall seconds and ``memory_mb`` MiB.

    ``fn`` need not pickle (the child is a fork); its result must. Raises
    :class:`~derive.errors.ResourceLimitError` (``kind`` ``"timeout"`` or ``"memory"``), re-raises a
    child's :class:`~derive.errors.DeriveError` as is, and reports any other child exception as
    ``RuntimeError("Type: message")``.

    >>> from derive.errors import ParseError
    >>> def bad():
    ...     raise ParseError("expected '}'", text=r"\frac{1}{2", column=11)
    >>> try:
    ...     run_limited(bad)
    ... except ParseError as e:
    ...     print(e, e.column)
    expected '}' at column 11 11
    """
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    read_fd, write_fd = os.pipe()
    deadline = time.monotonic() + timeout
    pid = os.fork()
    if pid == 0:  # pragma: no cover — child (coverage does not follow the fork)
        os.close(read_fd)
        _child(write_fd, memory_mb, fn, args, kwargs)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # own process group (also set in the child: whichever runs first)
    os.close(write_fd)
    chunks: list[bytes] = []
    timed_out = False
    finished = False
    poller = select.poll()  # not select(): it fails for descriptors above FD_SETSIZE
    poller.register(read_fd, select.POLLIN | select.POLLHUP)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not poller.poll(max(1, int(remaining * 1000))):
                timed_out = True
                break
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        finished = True
    finally:
        os.close(read_fd)
        status = _reap(pid, kill=timed_out or not finished)
    if timed_out:
        raise ResourceLimitError(f"computation exceeded {timeout:g} s wall time", kind="timeout")
    data = b"".join(chunks)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name
        if sig in _CRASH_SIGNALS:
            raise ResourceLimitError(
                f"computation was killed by {name} (memory or stack exhausted)", kind="memory"
            )
        raise RuntimeError(f"computation was killed by {name}")
    if not data:
        raise RuntimeError(f"sandboxed child exited with status {os.waitstatus_to_exitcode(status)}")
    return _decode(data)
