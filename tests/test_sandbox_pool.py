"""Tests for the persistent worker pool in derive.sandbox: same limits and outcomes as run_limited."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from derive.errors import DeriveError, ParseError, ResourceLimitError
from derive.sandbox import PoolResult, WorkerPool, run_limited, run_pooled

_COUNTER = [0]


def _count() -> int:
    """State that lives in the worker: the value grows only while the same worker serves."""
    _COUNTER[0] += 1
    return _COUNTER[0]


def _loop() -> None:
    while True:
        pass


def _allocate() -> int:
    return len(bytearray(8 * 2**30))


def _allocate_mb(mb: int) -> int:
    return len(bytearray(mb * 2**20))  # allocated in the worker, released when it returns


def _raise(exc: BaseException) -> None:
    raise exc


def _abort() -> None:
    os.abort()


def _pid() -> int:
    return os.getpid()


def _slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children() -> set[int]:
    me = str(os.getpid())
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[1] == me:
                        out.add(int(entry))
            except OSError:
                continue
    return out


def _by_key(results: list[PoolResult]) -> dict[object, PoolResult]:
    keys = [r.key for r in results]
    assert len(keys) == len(set(keys))
    return {r.key: r for r in results}


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [(pow, (2, 10), 1024), (sorted, ([3, 1, 2],), [1, 2, 3]), (dict, (), {})],
    ids=["pow", "sorted", "dict"],
)
def test_values_match_run_limited(fn, args, expected):
    with WorkerPool(1) as pool:
        assert pool.run(fn, *args) == expected == run_limited(fn, *args)


def test_every_item_reported_once_with_two_workers():
    with WorkerPool(2) as pool:
        results = _by_key(list(pool.imap_unordered(pow, [(k, (k, 3)) for k in range(50)])))
    assert {k: r.value for k, r in results.items()} == {k: k**3 for k in range(50)}


def test_workers_persist_between_requests_and_parent_state_is_untouched():
    with WorkerPool(1) as pool:
        values = [pool.run(_count) for _ in range(5)]
    assert values == [1, 2, 3, 4, 5]
    assert _COUNTER == [0]


@pytest.mark.parametrize(
    "exc",
    [ParseError("expected '}'", text=r"\frac{1}{2", column=11), DeriveError("plain")],
    ids=["parse-with-column", "base"],
)
def test_derive_errors_survive_and_keep_the_worker(exc):
    with WorkerPool(1) as pool:
        first = pool.run(_pid)
        with pytest.raises(type(exc)) as info:
            pool.run(_raise, exc)
        assert vars(info.value) == vars(exc)
        assert pool.run(_pid) == first


def test_unexpected_error_is_runtime_error_and_the_worker_is_replaced():
    with WorkerPool(1) as pool:
        first = pool.run(_pid)
        with pytest.raises(RuntimeError, match=r"^ValueError: bad$"):
            pool.run(_raise, ValueError("bad"))
        assert pool.run(_pid) != first


def test_timeout_kills_only_that_worker_and_the_others_finish():
    items = [("hang", (True,)), *[(k, (False,)) for k in range(6)]]
    with WorkerPool(2, timeout=0.5) as pool:
        results = list(pool.imap_unordered(_loop_or_pid, items))
        spawned = pool.spawned
    by_key = _by_key(results)
    assert isinstance(by_key["hang"].error, ResourceLimitError)
    assert by_key["hang"].error.kind == "timeout"
    assert all(isinstance(by_key[k].value, int) for k in range(6))
    assert spawned >= 2


def _loop_or_pid(hang: bool) -> int:
    if hang:
        _loop()
    return os.getpid()


def test_timeout_is_enforced():
    with WorkerPool(1, timeout=0.3) as pool:
        (result,) = list(pool.imap_unordered(_loop, [("x", ())]))
        assert isinstance(result.error, ResourceLimitError) and result.error.kind == "timeout"
        assert pool.run(pow, 3, 3) == 27  # a fresh worker took over


def test_memory_limit_is_a_resource_limit_and_the_worker_is_replaced():
    with WorkerPool(1, memory_mb=256) as pool:
        first = pool.run(_pid)
        with pytest.raises(ResourceLimitError) as info:
            pool.run(_allocate)
        assert info.value.kind == "memory"
        assert pool.run(_pid) != first


def test_memory_budget_is_per_request_not_cumulative():
    # Each request keeps 100 MiB alive in the worker (like a cache): 400 MiB in all, while each
    # request may use 150 MiB beyond the worker's size at its start — as run_limited's child may.
    with WorkerPool(1, memory_mb=150, max_growth_mb=10_000) as pool:
        pids = {pool.run(_grow_pid, 100) for _ in range(4)}
        assert len(pids) == 1
        with pytest.raises(ResourceLimitError):
            pool.run(_allocate_mb, 400)


def _grow_pid(mb: int) -> int:
    _grow(mb)
    return os.getpid()


def test_crash_is_a_memory_limit_and_others_are_unaffected():
    with WorkerPool(2) as pool:
        results = _by_key(list(pool.imap_unordered(_abort_or_square, [(k, (k,)) for k in range(8)])))
    assert isinstance(results[3].error, ResourceLimitError) and results[3].error.kind == "memory"
    assert all(results[k].value == k * k for k in range(8) if k != 3)


def _abort_or_square(k: int) -> int:
    if k == 3:
        os.abort()
    return k * k


def test_recycled_after_max_tasks():
    with WorkerPool(1, max_tasks=3) as pool:
        pids = [pool.run(_pid) for _ in range(7)]
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]


def test_recycled_when_memory_grows():
    with WorkerPool(1, max_growth_mb=50) as pool:
        first = pool.run(_pid)
        pool.run(_grow, 120)
        assert pool.run(_pid) != first


_HOARD: list[bytes] = []


def _grow(mb: int) -> int:
    _HOARD.append(os.urandom(mb * 2**20))
    return mb


def test_no_zombies_after_close():
    before = _children()
    with WorkerPool(2, timeout=0.3) as pool:
        list(pool.imap_unordered(_loop, [(k, ()) for k in range(3)]))
        list(pool.imap_unordered(pow, [(k, (k, 2)) for k in range(10)]))
    assert _children() == before


def test_closing_the_generator_early_kills_busy_workers():
    with WorkerPool(2) as pool:
        gen = pool.imap_unordered(_slow_pid, [(k, (0.05 if k == 0 else 30,)) for k in range(2)])
        first = next(gen)
        busy = [pid for pid in pool.pids if pid != first.value]
        gen.close()
        assert busy and not any(_alive(pid) for pid in busy)


def test_workers_die_with_a_killed_parent(tmp_path):
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        from derive.sandbox import WorkerPool
        pool = WorkerPool(2, timeout=60)
        gen = pool.imap_unordered(time.sleep, [(k, (60,)) for k in range(2)])
        pids = []
        def stop(*_):
            print(" ".join(map(str, pool.pids)), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        list(gen)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == -signal.SIGKILL
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


def test_run_pooled_reuses_one_worker_with_run_limited_outcomes():
    first = run_pooled(_pid)
    assert run_pooled(_pid) == first != os.getpid()
    with pytest.raises(ResourceLimitError) as info:
        run_pooled(_loop, timeout=0.3)
    assert info.value.kind == "timeout"
    assert run_pooled(pow, 2, 5) == 32


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="worker"):
        WorkerPool(0)
    with pytest.raises(ValueError, match="timeout"):
        WorkerPool(1, timeout=0)


def test_run_pooled_outside_the_main_thread_forks_per_call():
    import threading

    pids: list[int] = []
    worker = threading.Thread(target=lambda: pids.extend(run_pooled(_pid) for _ in range(2)))
    worker.start()
    worker.join()
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_pool_verdicts_equal_one_shot_verdicts_on_the_answer_corpus():
    import tomllib
    from pathlib import Path

    from derive.check import check_answer_unlimited

    cases = []
    for path in sorted((Path(__file__).parent / "corpus").glob("*.toml")):
        data = tomllib.loads(path.read_text())
        cases += [(data["problem"], a["latex"]) for a in data["answer"][::8]]  # every kind, not every case
    for problem in {p for p, _ in cases}:
        check_answer_unlimited(problem, "0")  # warm the parent, as check_answer and grade do
    one_shot = [run_limited(check_answer_unlimited, p, latex).status for p, latex in cases]
    with WorkerPool(2) as pool:
        items = [(k, (p, latex)) for k, (p, latex) in enumerate(cases)]
        pooled = {r.key: r.get().status for r in pool.imap_unordered(check_answer_unlimited, items)}
    assert [pooled[k] for k in range(len(cases))] == one_shot
