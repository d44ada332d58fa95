"""Tests for derive.sandbox: limits, error transport, no zombies, overhead."""

from __future__ import annotations

import os
import re
import sys
import time

import pytest

from derive.errors import DeriveError, ParseError, ResourceLimitError, VerificationError
from derive.sandbox import _apply_limits, _decode, _run_encoded, run_limited


def _children() -> set[int]:
    """Pids of this process's live or zombie children (Linux /proc)."""
    me = str(os.getpid())
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            out.add(int(entry))
    return out


def _infinite_loop() -> None:
    while True:
        pass


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _allocate() -> int:
    return len(bytearray(8 * 2**30))


def _huge_power() -> int:
    return 10 ** (10**10)


def _raise(exc: BaseException) -> None:
    raise exc


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [
        (pow, (2, 10), 1024),
        (sorted, ([3, 1, 2],), [1, 2, 3]),
        (dict, (), {}),
    ],
    ids=["pow", "sorted", "dict"],
)
def test_returns_value(fn, args, expected):
    assert run_limited(fn, *args) == expected


def test_keyword_arguments_and_lambda():
    assert run_limited(lambda a, *, b: a + b, 1, b=2) == 3


@pytest.mark.parametrize(
    "exc",
    [
        ParseError("expected '}'", text=r"\frac{1}{2", column=11),
        ParseError("unexpected end"),
        ResourceLimitError("inner", kind="memory"),
        VerificationError("not an identity"),
        DeriveError("plain"),
    ],
    ids=["parse-with-column", "parse-no-column", "resource", "verification", "base"],
)
def test_derive_errors_survive_the_trip(exc):
    with pytest.raises(type(exc)) as info:
        run_limited(_raise, exc)
    assert type(info.value) is type(exc)
    assert str(info.value) == str(exc)
    assert vars(info.value) == vars(exc)


@pytest.mark.parametrize(
    ("exc", "text"),
    [(ValueError("bad value"), "ValueError: bad value"), (KeyError("k"), "KeyError: 'k'")],
    ids=["value-error", "key-error"],
)
def test_other_errors_become_runtime_error(exc, text):
    with pytest.raises(RuntimeError, match=rf"^{re.escape(text)}$"):
        run_limited(_raise, exc)


def test_unpicklable_result_is_reported():
    with pytest.raises(RuntimeError, match="does not pickle"):
        run_limited(lambda: lambda: 1)


def test_infinite_loop_times_out():
    """How close to the limit it stops: ``scripts/bench_sandbox.py``."""
    with pytest.raises(ResourceLimitError) as info:
        run_limited(_infinite_loop, timeout=0.5)
    assert info.value.kind == "timeout"


def test_huge_allocation_is_a_memory_error():
    with pytest.raises(ResourceLimitError) as info:
        run_limited(_allocate, memory_mb=256, timeout=5)
    assert info.value.kind == "memory"  # the memory limit, not the 5 s timeout, stopped it


def test_huge_power_is_stopped():
    with pytest.raises(ResourceLimitError) as info:
        run_limited(_huge_power, timeout=1.0, memory_mb=256)
    assert info.value.kind in {"timeout", "memory"}


def test_deep_recursion_is_a_clean_error():
    with pytest.raises(RuntimeError, match=r"^RecursionError"):
        run_limited(_recurse, 0, timeout=5)


def test_recursion_limit_is_capped_in_child():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(10**6)
    try:
        assert run_limited(sys.getrecursionlimit) <= 10_000
    finally:
        sys.setrecursionlimit(old)


def test_crash_by_signal_is_reported():
    with pytest.raises(ResourceLimitError) as info:
        run_limited(lambda: os.abort())
    assert info.value.kind == "memory"


def test_no_zombies_after_many_calls_and_failures():
    before = _children()
    for k in range(20):
        assert run_limited(abs, -k) == k
    with pytest.raises(ResourceLimitError):
        run_limited(_infinite_loop, timeout=0.05)
    with pytest.raises(RuntimeError):
        run_limited(_raise, ValueError())
    assert _children() == before


def test_large_result_through_the_pipe():
    assert len(run_limited(bytes, 5 * 2**20)) == 5 * 2**20


def test_rejects_nonpositive_timeout():
    with pytest.raises(ValueError, match="timeout"):
        run_limited(int, timeout=0)


def test_child_side_pieces_compose_in_process():
    assert _decode(_run_encoded(pow, (3, 2), {})) == 9
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        _decode(_run_encoded(lambda: 1 / 0, (), {}))
    assert callable(_apply_limits)


def _spawn_sleeping_grandchild(pid_file: str) -> None:
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    with open(pid_file, "w") as fh:
        fh.write(str(pid))
    while True:
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_timeout_also_kills_what_the_child_started(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(ResourceLimitError):
        run_limited(_spawn_sleeping_grandchild, str(pid_file), timeout=0.5)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 2
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(grandchild)
