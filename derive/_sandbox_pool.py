r"""A persistent pool of sandboxed workers: :class:`WorkerPool` and :func:`run_pooled` (see :mod:`derive.sandbox`).

>>> with WorkerPool(1, timeout=5) as pool:
...     pool.run(pow, 3, 4)
81
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import gc
import os
import pickle
import resource
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from derive._sandbox_child import (
    _CRASH_SIGNALS,
    _DERIVE,
    _MEMORY,
    _OK,
    MAX_RECURSION,
    _address_space_bytes,
    _decode,
    _reap,
    _run_encoded,
)
from derive.errors import DeriveError, ResourceLimitError

__all__ = ["PoolResult", "WorkerPool", "run_pooled"]

R = TypeVar("R")

# Forking a fresh child per check throws away every cache the child warms (parser tables, the
# equivalence engine's memo tables) and costs a fork/pipe/reap each time. A WorkerPool forks its
# workers once from the warmed parent; each worker serves requests one at a time under the same
# limits as run_limited: before every request it caps its address space at its current size plus
# ``memory_mb`` MiB, and the parent kills it (and its process group) when the request's wall
# clock runs out. A worker is replaced after a timeout, a crash, a MemoryError or any unexpected
# exception, and recycled after ``max_tasks`` requests or when its resident memory has grown by
# ``max_growth_mb`` MiB; the parent's warmed state is never touched by a request.

_HEADER = 8  # bytes of the big-endian length prefix of every message between parent and worker
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class PoolResult:
    """The outcome of one request: ``value``, or ``error`` (the exception :func:`run_limited` would raise)."""

    key: Any
    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0

    def get(self) -> Any:
        """The value, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.value


def _die_with_parent() -> None:
    """Worker side: get SIGKILL when the parent dies (Linux), so no orphan keeps computing."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover — not Linux
        pass


def _write_message(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_HEADER, "big") + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts: list[bytes] = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _worker_loop(request_fd: int, reply_fd: int, parent: int) -> None:  # pragma: no cover — a child
    """Body of a pool worker: serve requests until the pipe closes; leaves only via ``os._exit``."""
    code = 0
    try:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        _die_with_parent()
        if os.getppid() != parent:
            os._exit(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a worker stops
        faulthandler.disable()
        gc.freeze()
        sys.setrecursionlimit(min(sys.getrecursionlimit(), MAX_RECURSION))
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        while True:
            header = _read_exactly(request_fd, _HEADER)
            if header is None:
                break
            body = _read_exactly(request_fd, int.from_bytes(header, "big"))
            if body is None:
                break
            fn, args, kwargs, memory_mb = pickle.loads(body)
            limit = _address_space_bytes() + memory_mb * 2**20
            resource.setrlimit(
                resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
            )
            try:
                data: bytes | None = _run_encoded(fn, args, kwargs)
            except MemoryError:  # raised again while encoding the outcome of a MemoryError
                data = None
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            if data is None:
                data = pickle.dumps((_MEMORY, "MemoryError"))
            _write_message(reply_fd, data)
            if pickle.loads(data)[0] not in (_OK, _DERIVE):
                break  # after a MemoryError or an unexpected exception, start from a clean fork
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _status_error(status: int) -> BaseException:
    """The error for a worker that died (wait ``status``) before it replied."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name
        if sig in _CRASH_SIGNALS:
            return ResourceLimitError(
                f"computation was killed by {name} (memory or stack exhausted)", kind="memory"
            )
        return RuntimeError(f"computation was killed by {name}")
    return RuntimeError(f"sandboxed worker exited with status {os.waitstatus_to_exitcode(status)}")


def _resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class _Worker:
    pid: int
    request_fd: int
    reply_fd: int
    base_mb: float = 0.0
    served: int = 0
    key: Any = None
    started: float = 0.0
    deadline: float = 0.0
    timeout: float = 0.0
    buffer: bytearray = field(default_factory=bytearray)


class WorkerPool:
    r"""``size`` persistent sandboxed workers forked from this (warmed) process.

    Each request runs in a worker under ``timeout`` wall seconds and ``memory_mb`` MiB beyond the
    worker's current size — the limits of :func:`run_limited`, with the same outcomes
    (:class:`PoolResult` holds the value or the error ``run_limited`` would raise). ``fn`` must
    be picklable by name (a module-level function). Use as a context manager, or call
    :meth:`close`.

    >>> with WorkerPool(2, timeout=5) as pool:
    ...     sorted(r.value for r in pool.imap_unordered(pow, [(k, (k, 2)) for k in range(4)]))
    [0, 1, 4, 9]
    """

    def __init__(
        self,
        size: int = 1,
        *,
        timeout: float = 10.0,
        memory_mb: int = 2048,
        max_tasks: int = 500,
        max_growth_mb: float = 512.0,
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.size, self.timeout, self.memory_mb = size, timeout, memory_mb
        self.max_tasks, self.max_growth_mb = max_tasks, max_growth_mb
        self.owner = os.getpid()
        self.spawned = 0  #: workers forked so far (initial ones and replacements)
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        """Pids of the live workers."""
        return [w.pid for w in self._workers]

    def _spawn(self) -> _Worker:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover — worker
            for other in self._workers:
                for fd in (other.request_fd, other.reply_fd):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            os.close(req_w)
            os.close(rep_r)
            _worker_loop(req_r, rep_w, parent)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        os.close(req_r)
        os.close(rep_w)
        worker = _Worker(pid, req_w, rep_r, base_mb=_resident_mb(pid))
        self._workers.append(worker)
        self.spawned += 1
        return worker

    def _retire(self, worker: _Worker, kill: bool = True) -> int:
        """Close, kill (process group) and reap ``worker``; return its wait status."""
        self._workers.remove(worker)
        for fd in (worker.request_fd, worker.reply_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        return _reap(worker.pid, kill=kill)

    def close(self) -> None:
        """Kill and reap every worker (idempotent). Requests in flight are lost."""
        if os.getpid() != self.owner:  # a forked copy of the pool owns nothing
            self._workers = []
            return
        for worker in list(self._workers):
            self._retire(worker)

    def _dispatch(self, worker: _Worker, key: Any, request: bytes, timeout: float) -> bool:
        try:
            _write_message(worker.request_fd, request)
        except OSError:  # the idle worker died (e.g. the OOM killer): replace it, try again
            self._retire(worker)
            return False
        worker.key, worker.timeout = key, timeout
        worker.started = time.monotonic()
        worker.deadline = worker.started + timeout
        worker.buffer.clear()
        return True

    def imap_unordered(
        self,
        fn: Callable[..., Any],
        items: Any,
        *,
        timeout: float | None = None,
        memory_mb: int | None = None,
    ) -> Any:
        r"""Run ``fn(*args, **kwargs)`` for each ``(key, args)`` or ``(key, args, kwargs)`` in ``items``.

        Yields a :class:`PoolResult` per item as each finishes (not in order). Closing the
        generator early (or an exception in the caller, e.g. ``KeyboardInterrupt``) kills the
        workers that are still busy; their items are not reported.
        """
        if os.getpid() != self.owner:
            raise RuntimeError("a WorkerPool cannot be used from a forked child")
        timeout = self.timeout if timeout is None else timeout
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        memory = self.memory_mb if memory_mb is None else memory_mb
        source = iter(items)
        busy: dict[int, _Worker] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(busy) < self.size:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    key, args, kwargs = (*item, {})[:3] if len(item) == 2 else item
                    request = pickle.dumps((fn, tuple(args), dict(kwargs), memory))
                    while True:
                        idle = [w for w in self._workers if w.reply_fd not in busy]
                        worker = idle[0] if idle else self._spawn()
                        if self._dispatch(worker, key, request, timeout):
                            busy[worker.reply_fd] = worker
                            break
                if not busy:
                    return
                yield from self._collect(busy)
        finally:
            for worker in list(busy.values()):
                self._retire(worker)

    def _collect(self, busy: dict[int, _Worker]) -> Any:
        """Wait for at least one busy worker to finish or expire; yield those results."""
        now = time.monotonic()
        wait_ms = max(0, int((min(w.deadline for w in busy.values()) - now) * 1000) + 1)
        poller = select.poll()
        for fd in busy:
            poller.register(fd, select.POLLIN | select.POLLHUP)
        for fd, _event in poller.poll(wait_ms):
            worker = busy[fd]
            chunk = os.read(fd, 1 << 20)
            seconds = time.monotonic() - worker.started
            if not chunk:  # the worker died before it replied
                del busy[fd]
                yield PoolResult(
                    worker.key, error=_status_error(self._retire(worker, kill=False)), seconds=seconds
                )
                continue
            worker.buffer += chunk
            if len(worker.buffer) < _HEADER:
                continue
            size = int.from_bytes(worker.buffer[:_HEADER], "big")
            if len(worker.buffer) < _HEADER + size:
                continue
            del busy[fd]
            data = bytes(worker.buffer[_HEADER : _HEADER + size])
            worker.served += 1
            # The worker leaves after any outcome but a value or a DeriveError of fn's own (it
            # decides from the same tag), so the parent retires it then too.
            try:
                result = PoolResult(worker.key, value=_decode(data), seconds=seconds)
                clean = True
            except (RuntimeError, ResourceLimitError) as err:
                clean = pickle.loads(data)[0] == _DERIVE  # a ResourceLimitError fn raised itself
                result = PoolResult(worker.key, error=err, seconds=seconds)
            except DeriveError as err:
                result, clean = PoolResult(worker.key, error=err, seconds=seconds), True
            if (
                not clean
                or worker.served >= self.max_tasks
                or (_resident_mb(worker.pid) - worker.base_mb > self.max_growth_mb)
            ):
                self._retire(worker)  # recycled: the next request gets a fresh fork
            yield result
        now = time.monotonic()
        for fd, worker in list(busy.items()):
            if worker.deadline <= now:
                del busy[fd]
                self._retire(worker)
                error = ResourceLimitError(
                    f"computation exceeded {worker.timeout:g} s wall time", kind="timeout"
                )
                yield PoolResult(worker.key, error=error, seconds=now - worker.started)

    def run(
        self,
        fn: Callable[..., R],
        /,
        *args: Any,
        timeout: float | None = None,
        memory_mb: int | None = None,
        **kwargs: Any,
    ) -> R:
        """One request, synchronously: the value, or the error :func:`run_limited` would raise."""
        results = self.imap_unordered(fn, [(None, args, kwargs)], timeout=timeout, memory_mb=memory_mb)
        value: R = next(iter(results)).get()
        return value


_shared: WorkerPool | None = None


def _close_shared() -> None:
    if _shared is not None:
        _shared.close()


def run_pooled(
    fn: Callable[..., R], /, *args: Any, timeout: float = 10.0, memory_mb: int = 2048, **kwargs: Any
) -> R:
    r""":func:`run_limited` through one persistent worker shared by the calls in this process.

    Same limits and outcomes; the worker keeps its warmed caches between calls, so repeated calls
    cost a pipe round trip instead of a fork. ``fn`` must be picklable by name. Outside the main
    thread this is :func:`run_limited` (the worker dies with the thread that forked it, and one
    worker serves one caller at a time).

    >>> run_pooled(pow, 2, 10)
    1024
    """
    global _shared
    if threading.current_thread() is not threading.main_thread():
        from derive.sandbox import run_limited

        return run_limited(fn, *args, timeout=timeout, memory_mb=memory_mb, **kwargs)
    if _shared is None or _shared.owner != os.getpid():
        if _shared is None:
            atexit.register(_close_shared)
        _shared = WorkerPool(1, timeout=timeout, memory_mb=memory_mb)
    return _shared.run(fn, *args, timeout=timeout, memory_mb=memory_mb, **kwargs)
