r"""``decide``: symbolic proof, else confirmed counterexample, else concrete proof, else undecided.

The order is chosen for speed; soundness does not depend on it (a symbolic proof and a confirmed
counterexample cannot both exist unless SymPy or mpmath is wrong, and a cheap numeric cross-check
after every symbolic proof turns that case into "undecided" instead of a wrong verdict).

>>> from derive.results import iaf_log_q
>>> from derive.symbols import D, T
>>> dom = Domain(sizes=(SizeVar(D, 1, (1, 2, 3, 5)), SizeVar(T, 0, (0, 1, 2, 4))))
>>> decide(iaf_log_q(), iaf_log_q(), dom).status
'equivalent'
>>> decide(iaf_log_q() + 10**-9, iaf_log_q(), dom).status
'not-equivalent'
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import sympy as sp

from derive.equivalence._concrete import prove_at_sizes
from derive.equivalence._ranges import reversed_range
from derive.equivalence._rewrite import prepare
from derive.equivalence._search import Search, search
from derive.equivalence._symbolic import SymbolicProof, prove_for_all_sizes
from derive.equivalence._types import Domain, SizeVar, Verdict

__all__ = ["decide"]

T = TypeVar("T")

SYMBOLIC_METHOD = (
    "symbolic for all sizes (sum normal form: sums linearised, bounds aligned by peeling boundary "
    "terms, indices renamed and sum order canonicalised; summands compared box by box)"
)


@lru_cache(maxsize=256)
def _prepared(expr: sp.Expr, domain_key: Any, definitions: Any) -> sp.Expr:
    return prepare(expr, dict(definitions))


def _prepare(expr: sp.Expr, domain: Domain) -> sp.Expr:
    key = domain.key()
    return _prepared(expr, key, key[1])


def _concrete_combos(sizes: tuple[SizeVar, ...], used: set[sp.Symbol]) -> list[dict[sp.Symbol, int]]:
    """The trial sizes paired index by index (the diagonal), plus the two mixed corners."""
    rel = [s for s in sizes if s.symbol in used]
    if not rel:
        return [{}]
    n = max(len(s.trial_values) for s in rel)
    combos = [{s.symbol: s.trial_values[min(k, len(s.trial_values) - 1)] for s in rel} for k in range(n)]
    if len(rel) > 1:
        for first in rel:
            combos.append({s.symbol: (s.trial_values[0] if s is first else s.trial_values[-1]) for s in rel})
    unique: list[dict[sp.Symbol, int]] = []
    for c in combos:
        if c not in unique:
            unique.append(c)
    return unique


def _sizes_text(combos: list[dict[str, int]]) -> str:
    names = list(combos[0]) if combos and combos[0] else []
    if not names:
        return "no sizes"
    tuples = ", ".join("(" + ",".join(str(c[n]) for n in names) + ")" for c in combos)
    return f"({','.join(names)}) in {{{tuples}}}"


def _counterexample_message(cex: dict[str, Any], sizes: tuple[SizeVar, ...]) -> str:
    at = ", ".join(f"{s.symbol}={cex[str(s.symbol)]}" for s in sizes if str(s.symbol) in cex)
    where = f" at {at}" if at else ""
    note = f" ({cex['note']})" if "note" in cex else f" (difference {cex['difference']})"
    return f"The answer is not equivalent to the reference: they differ{where}{note}."


def _attempt(evidence: dict[str, Any], stage: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T | None:
    """Run one strategy; an exception inside SymPy/mpmath makes it prove nothing (and is recorded)."""
    try:
        return fn(*args, **kw)
    except Exception as exc:  # a failed strategy is not evidence either way
        evidence.setdefault("errors", {})[stage] = f"{type(exc).__name__}: {exc}"
        return None


def decide(
    answer: sp.Expr, reference: sp.Expr, domain: Domain, *, seed: int = 0, accept_concrete: bool = True
) -> Verdict:
    r"""Decide ``answer == reference`` on ``domain``: symbolic proof, confirmed counterexample, or neither.

    ``accept_concrete`` allows "equivalent" from proofs at the concrete trial sizes alone (all of
    them, listed in ``method``) when no proof for all sizes was found. A range
    :math:`\sum_{k=a}^{b}` with :math:`b < a` is read as empty. There is no time limit here: run
    untrusted input under :func:`derive.sandbox.run_limited`.
    """
    for side, expr in (("answer", answer), ("reference", reference)):
        if not isinstance(expr, sp.Expr):
            raise TypeError(f"{side} must be a SymPy expression, not {type(expr).__name__}")
    a, r = _prepare(answer, domain), _prepare(reference, domain)
    evidence: dict[str, Any] = {}
    reversal = reversed_range(a, domain.sizes) or reversed_range(r, domain.sizes)
    if reversal is not None:  # Karr-based proofs would not mean what a reader means
        evidence["ranges"] = f"{reversal}: no proof attempted, only a counterexample can decide"
        sym = None
    else:
        sym = _attempt(evidence, "symbolic", prove_for_all_sizes, a, r, domain.sizes)
        if sym is not None and sym.proved:
            return _proved_symbolically(a, r, domain, seed, sym)

    found = _attempt(evidence, "numeric", search, a, r, domain.sizes, seed=seed) or Search()
    evidence["numeric"] = found.evidence
    if found.counterexample is not None:
        if sym is not None:
            evidence["symbolic"] = sym.evidence()
        return Verdict(
            "not-equivalent",
            "counterexample: random point at concrete sizes, difference confirmed with mpmath at "
            f"{found.counterexample['digits']} digits",
            _counterexample_message(found.counterexample, domain.sizes),
            found.counterexample,
            evidence,
        )

    if reversal is not None:
        why = f"{reversal} for some sizes (empty, or negative in SymPy's convention), so no proof was tried"
        return _undecided(found, evidence, why)
    strong = _attempt(evidence, "symbolic (strong)", prove_for_all_sizes, a, r, domain.sizes, strong=True)
    if strong is not None and strong.proved:
        return _proved_symbolically(a, r, domain, seed, strong, numeric=found)
    best = strong if strong is not None else sym
    if best is not None:
        evidence["symbolic"] = best.evidence()

    combos = _concrete_combos(domain.sizes, a.free_symbols | r.free_symbols)
    concrete = _attempt(evidence, "concrete", prove_at_sizes, a, r, combos)
    if concrete is not None:
        evidence["concrete"] = {
            "proved": concrete.proved,
            "failed": concrete.failed,
            "zero_tests": concrete.methods,
        }
    if concrete is not None and concrete.failed is None:
        method = (
            f"expanded sums at {_sizes_text(concrete.proved)} and reduced the difference to 0 under "
            f"the assumptions ({', '.join(concrete.methods)}); no symbolic proof for all sizes"
        )
        if accept_concrete:
            message = "The answer is equivalent to the reference (proved at the trial sizes)."
            return Verdict("equivalent", method, message, None, evidence)
        message = "Could not decide: proved only for the trial sizes, not for all sizes."
        return Verdict("undecided", method + "; concrete proofs are not accepted", message, None, evidence)
    return _undecided(found, evidence, "no symbolic proof was found")


def _undecided(found: Search, evidence: dict[str, Any], why: str) -> Verdict:
    numeric = found.evidence
    if "not_numeric" in numeric:
        detail = f"it could not be evaluated numerically ({numeric['not_numeric']})"
    else:
        detail = (
            f"it agrees numerically at {numeric.get('points_evaluated', 0)} points "
            f"(max |difference| {numeric.get('max_abs_difference')})"
        )
    return Verdict(
        "undecided",
        "no symbolic proof, no counterexample",
        f"Could not decide: {why} and {detail}.",
        None,
        evidence,
    )


def _cross_check(a: sp.Expr, r: sp.Expr, sizes: tuple[SizeVar, ...], seed: int) -> Search:
    return search(a, r, sizes, seed=seed, points_per_size=1, max_sizes=2)


def _proved_symbolically(
    a: sp.Expr, r: sp.Expr, domain: Domain, seed: int, sym: SymbolicProof, numeric: Search | None = None
) -> Verdict:
    evidence: dict[str, Any] = {"symbolic": sym.evidence()}
    check = numeric
    if check is None:  # cheap, independent of the proof
        check = _attempt(evidence, "numeric cross-check", _cross_check, a, r, domain.sizes, seed)
    if check is not None:
        evidence["numeric_cross_check"] = check.evidence
    if check is not None and check.counterexample is not None:
        # Only a SymPy or mpmath bug gets here; the verdict is then "undecided", never wrong.
        return Verdict(
            "undecided",
            "symbolic proof contradicted by a numeric counterexample (internal inconsistency)",
            "Could not decide: the symbolic proof and the numeric check disagree; please report this.",
            check.counterexample,
            evidence,
        )
    return Verdict(
        "equivalent",
        f"{SYMBOLIC_METHOD}; zero tests: {', '.join(sym.methods) or 'structural'}",
        "The answer is equivalent to the reference.",
        None,
        evidence,
    )
