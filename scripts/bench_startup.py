r"""Benchmark a one-shot ``derive check``: the whole process, start-up included, against the 0.4 s target.

Each configuration is a fresh process, timed from ``fork`` to exit (median of ``--runs``):

* ``python -c "import sympy"`` — the floor (derive cannot start faster than SymPy imports);
* ``python -c "import derive.check"`` — derive's import alone (warm cache);
* ``derive check iaf-logq ANSWER`` (the installed ``derive`` script beside the interpreter, else
  ``python -m derive``) with a **warm** cache of proved
  references, a **cold** one (emptied before each run: it proves, then writes the cache), and
  ``DERIVE_NO_CACHE=1`` (proves every time, never writes);
* with ``--rev REV``: the same command run from the sources of git revision REV (exported to a
  temporary directory and put first on ``PYTHONPATH``, with its own warm cache) — the previous
  behaviour, for comparison.

Every figure is printed with its ratio to the floor measured in the same run (the machine is
shared, absolute times drift), and the warm and cold ones with PASS/MISS against 0.4 s. The
runs use a snapshot of the working tree's ``derive/`` (copied first, so edits made meanwhile
neither break the run nor turn the warm cache cold), and a cache in a temporary directory
(``DERIVE_CACHE_DIR``), never the user's. ``PYTHONDONTWRITEBYTECODE`` is dropped from the
children's environment, so the untimed warm-up run compiles the snapshot once, as ``pip install``
does for an installed package.

Usage: ``python scripts/bench_startup.py [--runs N] [--rev REV]``. Always exits 0.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.4  # seconds, the whole one-shot process
ANSWER = r"-\sum_{i=1}^{D}\left(\frac12\log 2\pi+\frac12\epsilon_i^2+\sum_{t=0}^{T}\log\sigma_{t,i}\right)"
#: The installed ``derive`` command beside this interpreter (what a user types), else ``python -m derive``.
_SCRIPT = Path(sys.executable).with_name("derive")
CHECK = [
    *([str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "derive"]),
    "check",
    "iaf-logq",
    ANSWER,
]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    cmd: list[str], env: dict[str, str], before: object = None, cwd: str | None = None
) -> tuple[float, float]:
    """Wall and CPU (user + system, the sandbox worker included) seconds of one process, run in
    ``cwd`` (default: the temporary directory; never the checkout, whose ``derive/`` would shadow
    the snapshot); ``before()`` runs untimed first. CPU time is less disturbed by other load."""
    cwd = cwd or tempfile.gettempdir()
    if callable(before):
        before()
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return elapsed, cpu


def snapshot(into: Path) -> None:
    """The working tree's ``derive/`` copied under ``into`` (without compiled files)."""
    shutil.copytree(ROOT / "derive", into / "derive", ignore=shutil.ignore_patterns("__pycache__"))


def export_rev(rev: str, into: Path) -> None:
    """The ``derive/`` tree of git revision ``rev``, written under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "derive"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].replace("``", "'"))
    parser.add_argument("--runs", type=int, default=5, help="processes per configuration (median; default 5)")
    parser.add_argument("--rev", help="also time the check run from this git revision's sources")
    args = parser.parse_args(argv)
    runs = max(args.runs, 1)

    with tempfile.TemporaryDirectory(prefix="derive-bench-startup-") as tmp:
        cache = Path(tmp) / "cache"
        src = Path(tmp) / "src"
        snapshot(src)
        base = {k: v for k, v in os.environ.items() if not k.startswith("DERIVE_")}
        # An installed package has its bytecode compiled (pip does it at install time); with
        # PYTHONDONTWRITEBYTECODE set every run would recompile all of derive (~100 ms here).
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        base["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
        warm = {**base, "DERIVE_CACHE_DIR": str(cache)}
        nocache = {**base, "DERIVE_NO_CACHE": "1"}

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        configs: list[tuple[str, list[str], dict[str, str], object]] = [
            ('python -c "import sympy" (floor)', [sys.executable, "-c", "import sympy"], base, None),
            (
                'python -c "import derive.check" (warm cache)',
                [sys.executable, "-c", "import derive.check"],
                warm,
                None,
            ),
            ("derive check iaf-logq, warm cache", CHECK, warm, None),
            ("derive check iaf-logq, cold cache", CHECK, warm, empty_cache),
            ("derive check iaf-logq, DERIVE_NO_CACHE=1", CHECK, nocache, None),
        ]
        if args.rev:
            old = Path(tmp) / "rev"
            old.mkdir()
            export_rev(args.rev, old)
            # with its own warm cache (from 2026-12 on a revision has one; an older one ignores it)
            old_env = {**base, "DERIVE_CACHE_DIR": str(Path(tmp) / "cache-rev"), "PYTHONPATH": str(old)}
            configs.append(
                (f"derive check iaf-logq, sources of {args.rev}, warm cache", CHECK, old_env, None)
            )

        where = subprocess.run(
            [sys.executable, "-c", "import derive; print(derive.__file__)"],
            env=warm,
            cwd=tmp,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not where.startswith(str(src)):
            raise SystemExit(f"the snapshot is not the derive imported ({where}); is PYTHONPATH honoured?")
        for _, cmd, env, _ in configs:  # compiles, fills the cache and the OS file cache, untimed
            run(cmd, env)
        times: dict[str, list[float]] = {name: [] for name, *_ in configs}
        cpus: dict[str, list[float]] = {name: [] for name, *_ in configs}
        for _ in range(runs):  # interleaved, so a burst of load hits every configuration alike
            for name, cmd, env, before in configs:
                wall, cpu = run(cmd, env, before)
                times[name].append(wall)
                cpus[name].append(cpu)

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    cpu_medians = {name: statistics.median(ts) for name, ts in cpus.items()}
    floor, cpu_floor = medians[configs[0][0]], cpu_medians[configs[0][0]]
    load = os.getloadavg()[0]
    print(f"one-shot start-up, median of {runs} processes each (load average {load:.1f})")
    print(f"  command: {' '.join(CHECK[:-1])} ANSWER")
    print(f"  {'':56s} {'wall':>8s} {'[min-max]':15s} {'/floor':>6s}   {'cpu':>7s} {'/floor':>6s}")
    for name, *_ in configs:
        m, c = medians[name], cpu_medians[name]
        verdict = ""
        if name.startswith("derive check") and "sources of" not in name and "NO_CACHE" not in name:
            verdict = f"  {'PASS' if m < TARGET else 'MISS'} (wall < {TARGET} s)"
        spread = f"[{min(times[name]):.3f}-{max(times[name]):.3f}]"
        print(
            f"  {name:56s} {m:6.3f} s {spread:15s} {m / floor:5.2f}x   {c:5.3f} s {c / cpu_floor:5.2f}x{verdict}"
        )
    warm_check = medians["derive check iaf-logq, warm cache"]
    print(
        f"  derive's own share of the warm check (minus the floor): {warm_check - floor:.3f} s;"
        f" the target needs the floor itself under {TARGET} s"
    )
    for name in (n for n, *_ in configs[3:]):
        print(
            f"  warm cache vs {name.removeprefix('derive check iaf-logq, ')}: {medians[name] / warm_check:.2f}x faster"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
