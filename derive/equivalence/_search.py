r"""Counterexample search: random points at concrete sizes, evaluated and confirmed with mpmath.

A point is a choice of sizes and of an exact decimal for every atom (sampled from its SymPy
assumptions: positive atoms log-uniformly in :math:`[10^{-3}, 10^{3}]` or a "nice" value, reals
in :math:`[-5, 5]`). Both sides are evaluated at ``SCREEN_DPS`` digits; a difference counts when
:math:`|a-b| > 10^{-30}\max(1,|a|,|b|)` and the same point, re-evaluated from the same exact
decimals at ``CONFIRM_DPS`` digits, differs by the same amount. Rounding can therefore neither
hide a difference of :math:`10^{-9}` nor invent one.

Where the reference is not a finite real number the point is skipped (outside the problem's
domain); where the reference is finite and real but the answer is not (NaN, infinite, complex),
the point is a counterexample and says so — provided a point nearby (every value moved by a
relative :math:`10^{-6}`) is one too, so an isolated singularity of an otherwise right answer
(``log((x-2)^2) - 2 log|x-2|`` at the "nice" value 2) never rejects it. Sizes beyond the trial
values are tried last (see :func:`size_combinations`).

>>> import sympy as sp
>>> from derive.symbols import D, i, sigma
>>> from derive.equivalence._types import SizeVar
>>> ref = sp.Sum(sp.log(sigma[0, i]), (i, 1, D))
>>> found = search(ref + sp.Rational(1, 10**9), ref, (SizeVar(D, 1, (1, 2)),), seed=0)
>>> found.counterexample["difference"]
'0.000000001'
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from derive.equivalence._evaluate import NotNumericError, Point, evaluate
from derive.equivalence._types import SizeVar

__all__ = ["CONFIRM_DPS", "SCREEN_DPS", "Search", "differs", "search", "size_combinations"]

SCREEN_DPS = 50
CONFIRM_DPS = 100
#: Relative threshold: differences below ``RTOL * max(1, |a|, |b|)`` are not counted.
RTOL = mpmath.mpf(10) ** -30
SHOW_DIGITS = 30
#: Sizes beyond the trial values that the search also tries (see :func:`size_combinations`).
EXTRA_SIZE_OFFSETS = (1, 3)


@dataclass
class Search:
    """The outcome: a confirmed counterexample, or the evidence that none was found."""

    counterexample: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def size_combinations(sizes: tuple[SizeVar, ...], used: set[sp.Symbol]) -> list[dict[sp.Symbol, int]]:
    """All combinations of trial sizes of the sizes in ``used``, smallest first, then two beyond.

    The two extra combinations (every size at its largest trial value plus 1, then plus 3) catch
    answers that happen to agree exactly at the trial sizes, e.g. ``ref + (D-1)(D-2)(D-3)(D-5)``.
    """
    relevant = [s for s in sizes if s.symbol in used]
    if not relevant:
        return [{}]
    combos: list[dict[sp.Symbol, int]] = [
        dict(zip((s.symbol for s in relevant), values, strict=True))
        for values in itertools.product(*(s.trial_values for s in relevant))
    ]
    combos.sort(key=lambda c: (sum(c.values()), tuple(c.values())))
    for extra in EXTRA_SIZE_OFFSETS:
        combos.append({s.symbol: max(s.trial_values) + extra for s in relevant})
    return combos


def _finite_real(v: Any) -> mpmath.mpf | None:
    if isinstance(v, mpmath.mpc):
        if not (mpmath.isfinite(v.real) and mpmath.isfinite(v.imag)):
            return None
        if abs(v.imag) > RTOL * max(1, abs(v)):
            return None
        v = v.real
    return v if mpmath.isfinite(v) else None


def differs(a: Any, b: mpmath.mpf) -> tuple[bool, str]:
    """Whether answer value ``a`` differs from the finite real reference value ``b``, and how."""
    ra = _finite_real(a)
    if ra is None:
        return True, "the answer is not a finite real number here while the reference is"
    diff = abs(ra - b)
    return bool(diff > RTOL * max(1, abs(ra), abs(b))), ""


def _show(v: Any) -> str:
    return str(mpmath.nstr(v, SHOW_DIGITS))


def _at(answer: sp.Expr, reference: sp.Expr, sizes: dict[sp.Symbol, int], point: Point, dps: int) -> Any:
    return evaluate(answer, sizes, point, dps), evaluate(reference, sizes, point, dps)


def search(
    answer: sp.Expr,
    reference: sp.Expr,
    sizes: tuple[SizeVar, ...],
    *,
    seed: int = 0,
    points_per_size: int = 3,
    max_sizes: int | None = None,
) -> Search:
    r"""Look for a confirmed point where ``answer != reference``; see the module docstring."""
    with mpmath.workdps(CONFIRM_DPS + 10):  # comparisons and differences never lose digits
        return _search(answer, reference, sizes, seed, points_per_size, max_sizes)


def _confirm(
    answer: sp.Expr, reference: sp.Expr, combo: dict[sp.Symbol, int], point: Point
) -> dict[str, Any] | None:
    """The counterexample at ``point`` if the difference holds at both precisions, else ``None``."""
    a, b = _at(answer, reference, combo, point, SCREEN_DPS)
    a2, b2 = _at(answer, reference, combo, point, CONFIRM_DPS)
    rb, rb2 = _finite_real(b), _finite_real(b2)
    if rb is None or rb2 is None or not differs(a, rb)[0]:
        return None
    bad, note = differs(a2, rb2)
    if not bad:
        return None
    ra, ra2 = _finite_real(a), _finite_real(a2)
    if ra is not None and ra2 is not None and abs(ra2 - rb2) * 2 < abs(ra - rb):
        return None  # unstable in precision: do not trust this point
    cex: dict[str, Any] = {str(s): v for s, v in combo.items()}
    cex.update(point.labels())
    cex.update(answer=_show(a2), reference=_show(b2))
    cex["difference"] = _show(ra2 - rb2) if ra2 is not None else "not a real number"
    if note:
        cex["note"] = note
    cex["digits"] = CONFIRM_DPS
    return cex


def _nearby(point: Point, seed: Any) -> Point:
    """The same point with every non-integer value moved by a relative 1e-6 to 2e-6."""
    rng = random.Random(str(seed))
    moved: dict[Any, str | int] = {}
    for key, value in point.values.items():
        if isinstance(value, int):
            moved[key] = value
        else:
            factor = 1 + (1 + rng.random()) * 1e-6
            moved[key] = f"{float(value) * factor:.12g}"
    return Point(seed=("nearby", seed), fixed=moved)


def _search(
    answer: sp.Expr,
    reference: sp.Expr,
    sizes: tuple[SizeVar, ...],
    seed: int,
    points_per_size: int,
    max_sizes: int | None,
) -> Search:
    used = answer.free_symbols | reference.free_symbols
    combos = size_combinations(sizes, used)
    if max_sizes is not None:
        combos = combos[:max_sizes]
    tried, skipped, max_diff, max_rel = 0, 0, mpmath.mpf(0), mpmath.mpf(0)
    evidence: dict[str, Any] = {"sizes_tried": [{str(k): v for k, v in c.items()} for c in combos]}
    for combo in combos:
        for k in range(points_per_size):
            point_seed = (seed, tuple(sorted((str(s), v) for s, v in combo.items())), k)
            point = Point(seed=point_seed)
            try:
                a, b = _at(answer, reference, combo, point, SCREEN_DPS)
                rb = _finite_real(b)
                if rb is None:
                    skipped += 1
                    continue
                tried += 1
                if not differs(a, rb)[0]:
                    ra = _finite_real(a)
                    diff = abs(ra - rb) if ra is not None else mpmath.mpf(0)
                    max_diff = max(max_diff, diff)
                    max_rel = max(max_rel, diff / max(1, abs(rb)))
                    continue
                cex = _confirm(answer, reference, combo, point)
                if cex is not None and "note" in cex:
                    # Undefined answer: an isolated singularity (e.g. a removable 0/0 at a "nice"
                    # value) is no counterexample; one that persists nearby is.
                    cex = _confirm(answer, reference, combo, _nearby(point, point_seed))
            except NotNumericError as exc:
                evidence.update(points_evaluated=tried, not_numeric=str(exc))
                return Search(None, evidence)
            if cex is not None:
                evidence.update(points_evaluated=tried, points_outside_domain=skipped)
                return Search(cex, evidence)
    evidence.update(
        points_evaluated=tried,
        points_outside_domain=skipped,
        max_abs_difference=mpmath.nstr(max_diff, 5),
        max_rel_difference=mpmath.nstr(max_rel, 5),
        digits=SCREEN_DPS,
    )
    return Search(None, evidence)
