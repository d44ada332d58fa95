r"""A small on-disk cache of *proved* references, so a one-shot ``derive check`` need not re-prove them.

An entry is the pickle of what a proof returned (a SymPy expression, or a tuple/dict of them),
written by derive itself, keyed by everything that could change what the proof produces:

* derive's version **and** a sha256 over derive's own source files (``*.py`` and ``*.lark``
  under the package): any edit to derive, the kernel included, makes every entry a miss;
* the Python, SymPy and lark versions (a pickle is not trusted across library versions).

Where: ``$DERIVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/derive``, else ``~/.cache/derive``;
``DERIVE_NO_CACHE=1`` disables it. The directory is created ``0o700``; one that is not owned by
the user or is writable by group or others is not used (its entries could be someone else's).

File format: one header line ``derive-cache 1 <key> <sha256 of the payload>`` then the payload.
On load the key and the sha256 are checked, and the payload is unpickled with a restricted
unpickler that only builds SymPy, mpmath and derive classes plus plain containers (never an
arbitrary callable). A missing, corrupt, truncated, foreign or tampered file is a miss: the value
is proved again and the entry rewritten, never an error. Writers write to a temporary file in the
same directory and ``os.replace`` it, so concurrent writers never leave a half-written entry. An
unwritable directory means working without the cache.

What is trusted: an entry is exactly what the proof produced in a process running the same
derive sources (the sha256 guards against corruption, not against someone who can write to the
user's own cache directory — that person can equally edit derive itself).

>>> import os, tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     os.environ["DERIVE_CACHE_DIR"] = d
...     first = cached("doc-example", lambda: ("proved", 1))
...     again = cached("doc-example", lambda: ("never called", 0))
>>> del os.environ["DERIVE_CACHE_DIR"]
>>> first, again
(('proved', 1), ('proved', 1))
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["cache_dir", "cache_key", "cached", "entry_path", "load", "source_hash", "store"]

R = TypeVar("R")

_MAGIC = b"derive-cache 1"
_PACKAGE = Path(__file__).resolve().parent


@cache
def source_hash() -> str:
    """sha256 over derive's own source files (relative path and bytes of every ``*.py``/``*.lark``)."""
    digest = hashlib.sha256()
    files = sorted(p for p in _PACKAGE.rglob("*") if p.suffix in (".py", ".lark") and p.is_file())
    for path in files:
        data = path.read_bytes()
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


@cache
def cache_key() -> str:
    """What an entry must have been written under: derive's version and sources, Python, SymPy, lark."""
    import lark
    import sympy

    from derive import __version__

    parts = (
        f"derive={__version__}",
        f"src={source_hash()}",
        f"python={sys.version_info.major}.{sys.version_info.minor}",
        f"sympy={sympy.__version__}",
        f"lark={lark.__version__}",
    )
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:32]


def cache_dir() -> Path | None:
    """The cache directory (not created), or ``None`` when ``DERIVE_NO_CACHE`` is set."""
    if os.environ.get("DERIVE_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("DERIVE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "derive"


def _usable(directory: Path) -> bool:
    """The directory is ours alone: owned by this user, not writable by group or others."""
    try:
        info = directory.stat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISDIR(info.st_mode) and mine and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def entry_path(name: str) -> Path | None:
    """Where entry ``name`` lives under the current key (``None``: caching disabled)."""
    root = cache_dir()
    if root is None:
        return None
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return root / cache_key() / f"{safe}.pickle"


# Classes an entry may contain: SymPy's expression classes, mpmath numbers, derive's own
# quantities, symbols, models and problems, lark's parser data (plain builtins plus the replay
# lexer class), and plain containers. Only classes, never a function (os.system, builtins.eval,
# sympy.sympify, ...), and only classes *defined* in those modules (a module's namespace may
# re-export anything); never derive.proof (a Theorem is made by the kernel alone, never read back).
_SAFE_BUILTINS = frozenset(
    {"tuple", "list", "dict", "set", "frozenset", "int", "float", "complex", "str", "bytes", "bool", "slice"}
)
_SAFE_MODULES = (
    "sympy.core.",
    "sympy.functions.",
    "sympy.concrete.",
    "sympy.tensor.",
    "sympy.sets.",
    "sympy.logic.",
    "sympy.matrices.",
    "sympy.assumptions.",
    "sympy.calculus.",
    "mpmath.",
    "derive.quantities",
    "derive.symbols",
    "derive.layers.",
    "derive.problems.",
    "derive.latex.",
)


def _safe_module(module: str) -> bool:
    return module.startswith(_SAFE_MODULES) or module in ("derive.quantities", "derive.symbols")


class _Unsafe(pickle.UnpicklingError):
    pass


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("copyreg", "_reconstructor"):  # builds an allowed class only
            return super().find_class(module, name)
        if not ((module == "builtins" and name in _SAFE_BUILTINS) or _safe_module(module)):
            raise _Unsafe(f"{module}.{name} is not allowed in a cache entry")
        found = super().find_class(module, name)
        defined_in = getattr(found, "__module__", "") or ""
        if not isinstance(found, type) or not (defined_in == "builtins" or _safe_module(defined_in)):
            raise _Unsafe(f"{module}.{name} is not a class of an allowed module")
        return found


def _encode(payload: bytes) -> bytes:
    header = b" ".join((_MAGIC, cache_key().encode(), hashlib.sha256(payload).hexdigest().encode()))
    return header + b"\n" + payload


def _decode(data: bytes) -> bytes | None:
    """The payload of a well-formed entry written under the current key, else ``None``."""
    header, sep, payload = data.partition(b"\n")
    fields = header.split(b" ")
    if not sep or len(fields) != 4 or b" ".join(fields[:2]) != _MAGIC:
        return None
    if fields[2] != cache_key().encode() or fields[3] != hashlib.sha256(payload).hexdigest().encode():
        return None
    return payload


_MISS = object()


def load(name: str) -> Any:
    """The value stored under ``name`` for the current key, or ``None`` (a miss, for any reason)."""
    value = _load(name)
    return None if value is _MISS else value


def _load(name: str) -> Any:
    path = entry_path(name)
    if path is None or not _usable(path.parent.parent):
        return _MISS
    try:
        data = path.read_bytes()
    except OSError:
        return _MISS
    payload = _decode(data)
    if payload is None:
        return _MISS
    try:
        return _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # a corrupt entry is a miss, whatever the unpickler raised
        return _MISS


#: Key directories kept (the newest by modification time): every edit of derive's sources starts a new one.
KEEP_KEYS = 8


def _prune(root: Path, keep: Path) -> None:
    """Remove all but the :data:`KEEP_KEYS` newest key directories (never ``keep``); errors ignored."""
    import shutil

    try:
        dirs = [d for d in root.iterdir() if d.is_dir() and d != keep and len(d.name) == 32]
        dirs.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in dirs[KEEP_KEYS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def _make_dirs(root: Path, path: Path) -> bool:
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fresh = not path.parent.exists()
        path.parent.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return False
    if not (_usable(root) and _usable(path.parent)):
        return False
    if fresh:
        _prune(root, path.parent)
    return True


def store(name: str, value: Any) -> bool:
    """Write ``value`` under ``name`` atomically; ``False`` when it could not be (never raises for I/O)."""
    path = entry_path(name)
    if path is None or not _make_dirs(path.parent.parent, path):
        return False
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # not picklable: work without the cache
        return False
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_encode(payload))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def cached(name: str, build: Callable[[], R]) -> R:
    """``build()``'s value: read from the cache when an entry for the current key is there, else
    computed by ``build`` (the proof) and then stored. ``build`` must return what the proof proved."""
    hit = _load(name)
    if hit is not _MISS:
        return hit
    value = build()
    store(name, value)
    return value
