r"""``derive._cache``: an entry is exactly what the proof produced, or it is not used.

Attacks first: a tampered entry (another expression, a valid pickle, the old hash), an entry
written under other sources or another version, a truncated or corrupt file, a pickle that would
call a function, a directory others can write to — each is a miss, and the value is proved
again. Then: every problem's cached reference (and the named quantities' values) equals the
freshly proved one structurally, and the cached LaTeX parser is the freshly built one.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from derive import _cache
from derive.problems import PROBLEMS, iaf_logq
from derive.problems._spec import _proved_reference, reference_entry
from derive.symbols import D, i, sigma


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache for one test."""
    root = tmp_path / "cache"
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(root))
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    # The checkout may change under a long session; each test sees the sources its key was made from.
    monkeypatch.setattr(_cache, "_source_hash_now", _cache.source_hash)
    yield root


def counting(value: Any) -> tuple[Callable[[], Any], list[int]]:
    calls: list[int] = []

    def build() -> Any:
        calls.append(1)
        return value

    return build, calls


IS_EXPR = lambda v: isinstance(v, sp.Expr)  # noqa: E731
PROVED = sp.Sum(sp.log(sigma[1, i]), (i, 1, D))  # stands for a proof's result in the mechanics tests
FALSE = sp.Sum(2 * sp.log(sigma[1, i]), (i, 1, D))  # a different statement (the missing-factor attack)


def entry(name: str) -> Path:
    path = _cache.entry_path(name)
    assert path is not None
    return path


def data(value: Any) -> bytes:
    """A well-formed payload for ``value``."""
    return pickle.dumps(_cache._to_data(value))


def rewrite_payload(path: Path, payload: bytes, *, fix_hash: bool) -> None:
    header = path.read_bytes().partition(b"\n")[0].split(b" ")
    if fix_hash:
        header[3] = hashlib.sha256(payload).hexdigest().encode()
    path.write_bytes(b" ".join(header) + b"\n" + payload)


# --------------------------------------------------------------------------- attacks
def test_tampered_expression_with_the_old_hash_is_ignored_and_rebuilt(cache_dir: Path) -> None:
    assert _cache.cached("attack", lambda: PROVED, IS_EXPR) == PROVED
    rewrite_payload(entry("attack"), data(FALSE), fix_hash=False)  # a valid payload, the old hash
    assert _cache.load("attack") is None
    build, calls = counting(PROVED)
    assert _cache.cached("attack", build, IS_EXPR) == PROVED and calls == [1]  # proved again
    assert _cache.load("attack") == PROVED  # and the entry rewritten


def test_a_changed_source_hash_invalidates(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _cache.store("entry", PROVED)
    assert _cache.load("entry") == PROVED
    written = entry("entry").read_bytes()
    monkeypatch.setattr(_cache, "source_hash", lambda: "0" * 64)
    _cache.cache_key.cache_clear()
    try:
        assert _cache.load("entry") is None  # another key: another directory
        entry("entry").parent.mkdir(parents=True, exist_ok=True)
        entry("entry").write_bytes(written)  # the old file copied under the new key
        assert _cache.load("entry") is None  # its header names the old key
        build, calls = counting(FALSE)
        assert _cache.cached("entry", build, IS_EXPR) == FALSE and calls == [1]
    finally:
        _cache.cache_key.cache_clear()


def test_a_changed_version_invalidates(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import derive

    _cache.store("entry", PROVED)
    with monkeypatch.context() as patch:
        patch.setattr(derive, "__version__", "999.0", raising=False)
        _cache.cache_key.cache_clear()
        try:
            assert _cache.load("entry") is None
        finally:
            _cache.cache_key.cache_clear()
    assert _cache.load("entry") == PROVED


def test_nothing_is_written_when_the_sources_changed_during_the_run(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cache, "_source_hash_now", lambda: "f" * 64)  # edited since the key was made
    assert _cache.store("entry", PROVED) is False
    assert _cache.load("entry") is None


def test_the_source_hash_covers_every_source_file_and_the_grammar() -> None:
    package = Path(_cache.__file__).parent
    assert (package / "latex" / "grammar.lark").is_file() and (package / "proof" / "kernel.py").is_file()
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".lark") and p.is_file()):
        data = path.read_bytes()
        digest.update(path.relative_to(package).as_posix().encode() + len(data).to_bytes(8, "little") + data)
    assert _cache._source_hash_now() == digest.hexdigest()  # uncached: the files as they are now


@pytest.mark.parametrize("cut", [0, 10, -1], ids=["empty", "header-only", "truncated"])
def test_truncated_or_empty_file_is_a_miss(cache_dir: Path, cut: int) -> None:
    _cache.store("entry", PROVED)
    data = entry("entry").read_bytes()
    entry("entry").write_bytes(data[:cut])
    build, calls = counting(PROVED)
    assert _cache.cached("entry", build, IS_EXPR) == PROVED and calls == [1]


def test_garbage_with_a_matching_hash_is_a_miss(cache_dir: Path) -> None:
    _cache.store("entry", PROVED)
    rewrite_payload(entry("entry"), b"\x80\x05not a pickle", fix_hash=True)
    assert _cache.load("entry") is None


class _Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda: pickle.dumps(_Evil()), id="os.system"),
        pytest.param(lambda: pickle.dumps((sp.sympify, ("1+1",))), id="sympify-function"),
        pytest.param(lambda: pickle.dumps(_cache.store), id="derive-function"),
        pytest.param(lambda: pickle.dumps(FALSE), id="a-sympy-pickle"),  # even SymPy's own: no classes at all
        pytest.param(lambda: b"cderive.proof.kernel\nTheorem\n.", id="kernel-theorem"),
    ],
)
def test_a_pickle_naming_any_class_or_function_is_refused_even_with_a_valid_hash(
    cache_dir: Path, payload: Callable[[], bytes]
) -> None:
    _cache.store("entry", PROVED)
    rewrite_payload(entry("entry"), payload(), fix_hash=True)
    assert _cache.load("entry") is None


def test_the_trust_boundary_a_consistent_entry_is_read_as_written(cache_dir: Path) -> None:
    """The control of the attacks above: the sha256 guards against corruption, not against the
    user's own writes to their private cache (who can equally edit derive's sources)."""
    _cache.store("entry", PROVED)
    rewrite_payload(entry("entry"), data(FALSE), fix_hash=True)
    assert _cache.load("entry") == FALSE


_TEXT = "__import__('os').system('echo pwned')"


@pytest.mark.parametrize(
    "payload",
    [
        # text handed to a class whose constructor would sympify (parse) it
        pytest.param(("basic", "sympy.core.containers:Tuple", [("v", _TEXT)], []), id="text-to-Tuple"),
        pytest.param(
            ("basic", "sympy.functions.elementary.exponential:log", [("v", _TEXT)], []), id="text-to-log"
        ),
        pytest.param(
            ("basic", "sympy.core.symbol:Symbol", [("v", "x")], [("real", ("v", _TEXT))]), id="text-kwarg"
        ),
        pytest.param(("basic", "sympy.core.sympify:sympify", [("v", _TEXT)], []), id="a-function"),
        pytest.param(("basic", "derive.proof.kernel:Theorem", [], []), id="kernel-theorem"),
        pytest.param(("basic", "sympy.core.basic:Basic", [("v", 1)], []), id="number-to-Basic"),
        # Number.__new__ and AlgebraicNumber parse text; Float's mantissa must be hexadecimal digits
        pytest.param(("basic", "sympy.core.numbers:Number", [("v", _TEXT)], []), id="text-to-Number"),
        pytest.param(
            ("basic", "sympy.core.numbers:AlgebraicNumber", [("v", _TEXT)], []), id="text-to-Algebraic"
        ),
        pytest.param(("basic", "sympy.core.numbers:Integer", [("v", _TEXT)], []), id="text-to-Integer"),
        pytest.param(
            ("basic", "sympy.core.numbers:Float", [("raw", (0, _TEXT, 0, 1))], [("precision", ("v", 53))]),
            id="text-in-Float",
        ),
        pytest.param(("class", "os:system"), id="class-not-allowed"),
        pytest.param(("basic", "derive.layers.not_a_module:X", [], []), id="a-module-to-import"),
        pytest.param(("class", "derive.layers.generic:ABC"), id="re-exported-class"),
        pytest.param(("eval", _TEXT), id="unknown-tag"),
        pytest.param(["v", 1], id="not-a-tuple"),
    ],
)
def test_a_payload_that_would_parse_text_or_build_a_foreign_object_is_refused(
    cache_dir: Path, payload: Any
) -> None:
    _cache.store("entry", PROVED)
    rewrite_payload(entry("entry"), pickle.dumps(payload), fix_hash=True)
    assert _cache.load("entry") is None


@pytest.mark.parametrize(
    "value",
    [sp.Float("0.1", 30), sp.Rational(3, 4), sp.Integer(-7), sp.Dummy("k", integer=True), sp.S.Half, sp.pi],
    ids=["float", "rational", "integer", "dummy", "half", "pi"],
)
def test_numbers_and_symbols_read_back_exactly(cache_dir: Path, value: sp.Basic) -> None:
    assert _cache.store("entry", value) is True
    back = _cache.load("entry")
    assert back == value and sp.srepr(back) == sp.srepr(value) and type(back) is type(value)


def test_an_entry_of_another_shape_is_a_miss(cache_dir: Path) -> None:
    """Type confusion: well-formed plain data (text where an expression belongs) is never returned."""
    _cache.store("entry", PROVED)
    rewrite_payload(entry("entry"), pickle.dumps(("raw", _TEXT)), fix_hash=True)
    assert _cache.load("entry") == _TEXT  # the payload itself is read ...
    build, calls = counting(PROVED)
    assert _cache.cached("entry", build, IS_EXPR) == PROVED and calls == [1]  # ... but not used


def test_values_that_are_not_plain_data_are_not_cached(cache_dir: Path) -> None:
    from derive.problems import get_problem

    target = get_problem("iaf-logq").target  # holds a ModelAtom: a model object, not SymPy data
    assert _cache.store("target", target) is False
    assert _cache.store("function", sp.Function("f")(D)) is False  # an undefined function class
    assert not (cache_dir.exists() and list(cache_dir.glob("*/*.pickle")))


def test_a_directory_others_can_write_to_is_not_used(cache_dir: Path) -> None:
    _cache.store("entry", PROVED)
    os.chmod(cache_dir, 0o777)
    try:
        assert _cache.load("entry") is None
        build, calls = counting(PROVED)
        assert _cache.cached("entry", build, IS_EXPR) == PROVED and calls == [1]
    finally:
        os.chmod(cache_dir, 0o700)


def test_directories_are_private(cache_dir: Path) -> None:
    _cache.store("entry", PROVED)
    for directory in (cache_dir, entry("entry").parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


# --------------------------------------------------------------------------- mechanics
def test_a_hit_does_not_call_the_proof(cache_dir: Path) -> None:
    build, calls = counting(PROVED)
    assert _cache.cached("entry", build, IS_EXPR) == PROVED
    assert _cache.cached("entry", build, IS_EXPR) == PROVED
    assert calls == [1]


def test_no_cache_env_disables_reads_and_writes(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    build, calls = counting(PROVED)
    _cache.cached("entry", build, IS_EXPR)
    _cache.cached("entry", build, IS_EXPR)
    assert calls == [1, 1] and not cache_dir.exists()


def test_an_unwritable_cache_dir_means_working_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(blocker / "cache"))
    build, calls = counting(PROVED)
    assert (
        _cache.cached("entry", build, IS_EXPR) == PROVED and _cache.cached("entry", build, IS_EXPR) == PROVED
    )
    assert calls == [1, 1]
    assert _cache.store("entry", PROVED) is False


def test_default_location_follows_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DERIVE_CACHE_DIR", raising=False)
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.cache_dir() == tmp_path / "xdg" / "derive"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.cache_dir() == tmp_path / "home" / ".cache" / "derive"


def test_writes_leave_no_temporary_files(cache_dir: Path) -> None:
    for k in range(3):
        _cache.store("entry", (PROVED, k))
    assert sorted(p.name for p in entry("entry").parent.iterdir()) == ["entry.pickle"]
    assert _cache.load("entry") == (PROVED, 2)


def test_old_key_directories_are_pruned(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        for k in range(_cache.KEEP_KEYS + 3):
            monkeypatch.setattr(_cache, "source_hash", lambda k=k: f"{k:064d}")
            monkeypatch.setattr(_cache, "_source_hash_now", lambda k=k: f"{k:064d}")
            _cache.cache_key.cache_clear()
            _cache.store("entry", PROVED)
        assert len([d for d in cache_dir.iterdir() if d.is_dir()]) == _cache.KEEP_KEYS
        assert _cache.load("entry") == PROVED  # the newest one is kept
    finally:
        _cache.cache_key.cache_clear()


# --------------------------------------------------------------------------- the real entries
def structure(expr: sp.Basic) -> tuple[str, list[tuple[str, str, tuple[tuple[str, Any], ...]]]]:
    """srepr plus every symbol's type and assumptions (srepr does not show all assumptions)."""
    atoms = sorted(expr.atoms(sp.Symbol), key=sp.srepr)
    return sp.srepr(expr), [
        (type(a).__name__, sp.srepr(a), tuple(sorted(a.assumptions0.items()))) for a in atoms
    ]


CACHED_PROBLEMS = [p for p in PROBLEMS if reference_entry(p.id, p.reference) is not None]


def test_the_built_in_problems_are_cached() -> None:
    assert {"iaf-logq", "batchnorm-logdet"} <= {p.id for p in CACHED_PROBLEMS}


@pytest.mark.parametrize("problem", CACHED_PROBLEMS, ids=[p.id for p in CACHED_PROBLEMS])
def test_cached_reference_is_the_freshly_proved_one(cache_dir: Path, problem: Any) -> None:
    _proved_reference.cache_clear()
    try:
        cold = problem.proved_reference()  # proves, then writes the entry
        name = reference_entry(problem.id, problem.reference)
        assert name is not None
        on_disk = _cache.load(name)
    finally:
        _proved_reference.cache_clear()
    fresh = problem.reference()
    assert cold == fresh
    if on_disk is None:  # not plain data (e.g. it holds a model): not cached, proved every time
        assert problem.id not in ("iaf-logq", "batchnorm-logdet"), "the built-in references are cached"
        return
    assert on_disk == fresh
    assert structure(on_disk) == structure(fresh)


def test_cached_named_quantities_are_the_freshly_proved_ones(cache_dir: Path) -> None:
    fresh = iaf_logq._named_values()
    warm = _cache.cached("iaf-logq-named", iaf_logq._named_values, lambda v: isinstance(v, tuple))
    on_disk = _cache.load("iaf-logq-named")
    assert on_disk == fresh == warm
    assert [structure(e) for e in on_disk] == [structure(e) for e in fresh]
    # and the problem's notation holds exactly these values
    named = {q.latex: q.value for q in iaf_logq.PROBLEM.notation.named}
    assert named[r"\log q(\mathbf{z}_0|\mathbf{x})"] == fresh[0]
    assert sum(1 for v in named.values() if v == fresh[1]) == 2


def test_a_problem_with_the_same_id_and_another_reference_never_reads_the_entry(cache_dir: Path) -> None:
    problem = next(p for p in PROBLEMS if p.id == "batchnorm-logdet")
    problem.proved_reference()
    assert reference_entry(problem.id, lambda: FALSE) is None  # a lambda: never cached
    impostor = _Impostor()
    assert reference_entry(problem.id, impostor) is None  # defined outside derive: never cached


class _Impostor:
    __qualname__ = "_reference"
    __module__ = "tests.test_cache"

    def __call__(self) -> sp.Expr:
        return FALSE


def _corpus_answers() -> list[str]:
    import tomllib

    texts = []
    for path in sorted((Path(__file__).parent / "corpus").glob("*.toml")):
        texts += [a["latex"] for a in tomllib.loads(path.read_text(encoding="utf-8"))["answer"]]
    return [*texts, r"\frac{1}{", r"\sum_{i=1}^{D", "a + ) b", r"\log q(\mathbf{z}_0|\mathbf{x}) &= 1"]


def _outcome(run: Callable[[Any], Any], arg: Any) -> Any:
    """What a lark call returns, or the error it raises (type and what it expected), comparably."""
    try:
        return repr(list(run(arg)) if run.__name__ == "lex" else run(arg))
    except Exception as exc:  # the same failure is part of the same behaviour
        return (type(exc).__name__, sorted(getattr(exc, "expected", ()) or ()), getattr(exc, "token", None))


def test_cached_parser_behaves_as_the_freshly_built_one(cache_dir: Path) -> None:
    from derive.latex._grammar import _build_lexer, cached_lark
    from derive.latex._lex import classify, raw_tokens
    from derive.latex._parse import _build_parser, _Builder

    fresh_lexer, fresh_parser = _build_lexer(), _build_parser()
    cached_lark("raw-lexer", _build_lexer)  # builds and writes
    cached_lark("parser", _build_parser, transformer=_Builder())
    never: Callable[[], Any] = lambda: pytest.fail("the cache entry was not used")  # noqa: E731
    lexer, parser = cached_lark("raw-lexer", never), cached_lark("parser", never, transformer=_Builder())
    assert lexer is not fresh_lexer and parser is not fresh_parser
    texts = _corpus_answers()
    assert len(texts) > 100
    for text in texts:
        assert _outcome(lexer.lex, text) == _outcome(fresh_lexer.lex, text), text
        try:
            tokens = classify(raw_tokens(text), text)
        except Exception:
            continue
        assert _outcome(parser.parse, tokens) == _outcome(fresh_parser.parse, tokens), text
