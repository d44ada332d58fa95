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
(:func:`_decode`) are separate functions: :class:`WorkerPool` (persistent pre-forked workers, same
limits and outcomes) reuses them, and :func:`run_pooled` is
:func:`run_limited` through one shared, long-lived worker.

>>> run_limited(pow, 2, 10)
1024
>>> run_limited(sum, range(10**9), timeout=0.2)
Traceback (most recent call last):
...
derive.errors.ResourceLimitError: computation exceeded 0.2 s wall time
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from derive._sandbox_child import _CRASH_SIGNALS, _reap
from derive._sandbox_child import MAX_RECURSION as MAX_RECURSION
from derive._sandbox_child import _address_space_bytes as _address_space_bytes  # re-exported
from derive._sandbox_child import _apply_limits as _apply_limits
from derive._sandbox_child import _decode as _decode
from derive._sandbox_child import _run_encoded as _run_encoded
from derive._sandbox_pool import PoolResult, WorkerPool, run_pooled
from derive.errors import ResourceLimitError

__all__ = ["PoolResult", "WorkerPool", "run_limited", "run_pooled"]

R = TypeVar("R")


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
