r"""A small on-disk cache of *proved* references, so a one-shot ``derive check`` need not re-prove them.

An entry is what a proof returned (a SymPy expression, a tuple of them, or lark's tables of the
LaTeX parser) as plain data, written by derive itself and keyed by everything that could change
what the proof produces:

* derive's version **and** a sha256 over derive's own source files (``*.py`` and ``*.lark``
  under the package): any edit to derive, the kernel included, makes every entry a miss;
* the Python, SymPy and lark versions (an entry is never trusted across library versions).

Nothing is written when the sources changed while the process ran (the value could come from
newer code than its key says).

Where: ``$DERIVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/derive``, else ``~/.cache/derive``;
``DERIVE_NO_CACHE=1`` disables it. The directory is created ``0o700``; one that is not owned by
the user or is writable by group or others is not used (its entries could be someone else's).

File format: one header line ``derive-cache 1 <key> <sha256 of the payload>`` then the payload,
a pickle of plain data only (the unpickler refuses every class and function): SymPy expressions
are written as trees of class names and arguments and rebuilt by SymPy's own constructors under
rules that never hand text to SymPy's parser (see :func:`_from_data`). On load the key and the
sha256 are checked. A missing, corrupt, truncated, foreign or refused file is a miss: the value
is proved again and the entry rewritten, never an error. A value is only written if reading it
back gives an equal value. Writers write to a temporary file in the same directory and
``os.replace`` it, so concurrent writers never leave a half-written entry. An unwritable
directory means working without the cache.

What is trusted: an entry is exactly what the proof produced in a process running the same
derive sources (the sha256 guards against corruption, not against someone who can write to the
user's own cache directory — that person can equally edit derive itself).

>>> import os
>>> before = os.environ.get("DERIVE_NO_CACHE")
>>> os.environ["DERIVE_NO_CACHE"] = "1"  # off: nothing is read or written, the proof runs every time
>>> cache_dir() is None
True
>>> cached("doc-example", lambda: ("proved", 1), valid=lambda v: isinstance(v, tuple))
('proved', 1)
>>> _ = os.environ.pop("DERIVE_NO_CACHE") if before is None else os.environ.update(DERIVE_NO_CACHE=before)
"""

from __future__ import annotations

import contextlib
import copyreg
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
    """sha256 over derive's own source files (relative path and bytes of every ``*.py``/``*.lark``),
    computed once per process: the sources as this process's key says they are."""
    return _source_hash_now()


def _source_hash_now() -> str:
    """:func:`source_hash` of the files as they are now."""
    digest = hashlib.sha256()
    files = sorted(p for p in _PACKAGE.rglob("*") if p.suffix in (".py", ".lark") and p.is_file())
    for path in files:
        data = path.read_bytes()
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


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


# --------------------------------------------------------------------------- the payload: plain data
# An entry's payload is a pickle of builtins only (tuples, lists, dicts, str, int, float, bool,
# None): the unpickler refuses every global, so loading builds no object of any class. SymPy
# expressions are written as ("basic", "module:Class", args, kwargs) following SymPy's own pickle
# protocol (``cls.__new__(cls, *args, **kwargs)``, what ``__reduce_ex__`` gives) and rebuilt by
# :func:`_from_data` under rules that keep text away from SymPy's parser: a string (or a number)
# may only be the argument of a Symbol (its name; keyword arguments: boolean assumptions) or of a
# Number; every other class gets only already-rebuilt SymPy objects. Classes must be SymPy
# expression classes defined in an allowlisted module (never derive.proof: a Theorem is made by
# the kernel alone, never read back); lark's parser data may name the one lexer class below.
_BASIC_MODULES = (
    "sympy.core.",
    "sympy.functions.",
    "sympy.concrete.",
    "sympy.tensor.",
    "sympy.sets.",
    "sympy.logic.",
    "derive.quantities",
    "derive.symbols",
    "derive.layers.",
    "derive.problems.",
)
_CLASSES = frozenset({"derive.latex._grammar:Replay"})
_PRIMITIVES = (str, int, float, bool, type(None))


class _Unsafe(pickle.UnpicklingError):
    """An entry that is not plain data, or names something it may not build."""


class _NotCacheable(TypeError):
    """A value that cannot be written as plain data (it is then simply not cached)."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise _Unsafe(f"{module}.{name}: a cache entry is plain data and names no class or function")


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(path: str, *, basic: bool) -> type:
    import sympy as sp

    module, _, qualname = path.partition(":")
    allowed = module.startswith(_BASIC_MODULES) or module in ("derive.quantities", "derive.symbols")
    if not (allowed if basic else path in _CLASSES):
        raise _Unsafe(f"{path} may not be built from a cache entry")
    found: Any = sys.modules.get(module)  # never import anything an entry names
    if found is None:
        raise _Unsafe(f"{module} is not imported")
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, type) or _path(found) != path or (basic and not issubclass(found, sp.Basic)):
        raise _Unsafe(f"{path} is not a SymPy class defined there")
    return found


#: How SymPy objects pickle: ``cls.__new__(cls, *args)`` and ``cls.__new__(cls, *args, **kwargs)``.
_NEWOBJ, _NEWOBJ_EX = (vars(copyreg)[name] for name in ("__newobj__", "__newobj_ex__"))


def _plain(value: Any) -> bool:
    if type(value) in _PRIMITIVES:
        return True
    if type(value) in (tuple, list):
        return all(_plain(v) for v in value)
    return type(value) is dict and all(_plain(k) and _plain(v) for k, v in value.items())


def _to_data(value: Any) -> Any:
    """``value`` as plain data (raises :class:`_NotCacheable`)."""
    import sympy as sp

    if type(value) in _PRIMITIVES:
        return ("v", value)
    if _plain(value):  # containers of primitives only (most of lark's tables): stored as they are
        return ("raw", value)
    if type(value) in (tuple, list):
        return (type(value).__name__, [_to_data(v) for v in value])
    if type(value) is dict:
        return ("dict", [(_to_data(k), _to_data(v)) for k, v in value.items()])
    if isinstance(value, type) and _path(value) in _CLASSES:
        return ("class", _path(value))
    if isinstance(value, sp.Basic):
        reduced = value.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        if isinstance(reduced, str) or any(x is not None for x in reduced[2:]):
            raise _NotCacheable(f"{type(value).__name__} carries state beyond its arguments")
        if reduced[0] is _NEWOBJ:
            cls, args, kwargs = reduced[1][0], reduced[1][1:], {}
        elif reduced[0] is _NEWOBJ_EX:
            cls, args, kwargs = reduced[1]
        else:
            raise _NotCacheable(f"{type(value).__name__} does not pickle by its arguments")
        try:
            if _resolve(_path(cls), basic=True) is not cls:
                raise _NotCacheable(_path(cls))
        except (_Unsafe, ImportError, AttributeError) as err:
            raise _NotCacheable(str(err)) from None
        return (
            "basic",
            _path(cls),
            [_to_data(a) for a in args],
            [(k, _to_data(v)) for k, v in kwargs.items()],
        )
    raise _NotCacheable(f"{type(value).__name__} is not cached")


def _from_data(data: Any) -> Any:
    """Rebuild what :func:`_to_data` wrote (raises :class:`_Unsafe` on anything else)."""
    import sympy as sp

    if type(data) is not tuple or not data or type(data[0]) is not str:
        raise _Unsafe("malformed entry")
    tag, body = data[0], data[1:]
    if tag == "v" and len(body) == 1 and type(body[0]) in _PRIMITIVES:
        return body[0]
    if tag == "raw" and len(body) == 1:  # builtins only (the unpickler builds nothing else)
        return body[0]
    if tag in ("tuple", "list") and len(body) == 1 and type(body[0]) is list:
        items = [_from_data(x) for x in body[0]]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and len(body) == 1 and type(body[0]) is list:
        return {_from_data(k): _from_data(v) for k, v in body[0]}
    if tag == "class" and len(body) == 1 and type(body[0]) is str:
        return _resolve(body[0], basic=False)
    if tag == "basic" and len(body) == 3 and type(body[0]) is str and type(body[1]) is type(body[2]) is list:
        cls = _resolve(body[0], basic=True)
        args = [_from_data(a) for a in body[1]]
        kwargs = {k: _from_data(v) for k, v in body[2]}
        if issubclass(cls, sp.Symbol):  # the name (a Dummy also its index); boolean assumptions
            ok = [type(a) for a in args] in ([str], [str, int]) and all(
                type(k) is str and type(v) is bool for k, v in kwargs.items()
            )
        elif cls in (sp.Integer, sp.Rational):  # exactly these two, from ints (Number.__new__ parses text)
            ok = not kwargs and 1 <= len(args) <= 2 and all(type(a) is int for a in args)
        elif cls is sp.Float:  # mpmath's (sign, hex mantissa, exponent, bits) and the precision
            mpf = args[0] if len(args) == 1 else None
            ok = type(mpf) is tuple and [type(x) for x in mpf] == [int, str, int, int]
            ok = ok and all(c in "0123456789abcdefABCDEF" for c in mpf[1])  # type: ignore[index]
            ok = ok and list(kwargs) == ["precision"] and type(kwargs["precision"]) is int
        else:  # everything else is built from SymPy objects only: no text reaches sympify
            ok = not kwargs and all(isinstance(a, sp.Basic) for a in args)
        if not ok:
            raise _Unsafe(f"arguments not allowed for {body[0]}")
        return cls.__new__(cls, *args, **kwargs)
    raise _Unsafe(f"malformed entry (tag {tag!r})")


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
        return _from_data(_Unpickler(io.BytesIO(payload)).load())
    except Exception:  # a corrupt or refused entry is a miss, whatever went wrong
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
    """Write ``value`` under ``name`` atomically; ``False`` when it could not be (never raises for I/O).

    Nothing is written when derive's sources changed since this process computed its key (the
    value may come from code newer than the key says).
    """
    path = entry_path(name)
    if path is None or _source_hash_now() != source_hash() or not _make_dirs(path.parent.parent, path):
        return False
    try:
        data = _to_data(value)
        if _from_data(data) != value:  # what would be read back must be what the proof produced
            return False
        payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except (_NotCacheable, _Unsafe, RecursionError):  # not plain data: work without the cache
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


def cached(name: str, build: Callable[[], R], valid: Callable[[Any], bool]) -> R:
    """``build()``'s value: read from the cache when an entry for the current key is there (and
    ``valid`` says it has the shape ``build`` returns, e.g. a SymPy expression: an entry of another
    type is a miss), else computed by ``build`` (the proof) and then stored. ``build`` must return
    what the proof proved."""
    hit = _load(name)
    if hit is not _MISS and valid(hit):
        return hit
    value = build()
    store(name, value)
    return value
