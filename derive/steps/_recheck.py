r"""Re-check a counterexample independently of the engine that found it.

The equivalence engine finds a counterexample with its own mpmath tree walk over *prepared*
expressions (definitions substituted, logarithms split). Before a step is called invalid, the
point is re-checked here by a different route: the sizes are substituted into the two *raw*
parsed members, sums are written out by SymPy (``doit``), every atom gets the point's exact
decimal, an atom the problem *defines* (:math:`z_{0,j} = \mu_{0,j} + \sigma_{0,j}\epsilon_j`,
whatever the index is called) is computed from its definition — and a point that assigns such an
atom a value of its own is refused — the point is checked against the assumptions (positive
atoms, sizes at least their minimum, a free step index inside ``1..T``), and both sides are
evaluated with ``evalf`` at 60 digits. Only a point that passes all of this is reported.

>>> import sympy as sp
>>> from derive.symbols import D, i, sigma
>>> s = sp.Sum(sp.log(sigma[0, i]), (i, 1, D))
>>> recheck(s, 2 * s, {"D": 1, "sigma[0,1]": "3"}, {}, {D: 1}) is None
True
>>> recheck(s, s, {"D": 1, "sigma[0,1]": "3"}, {}, {D: 1})
'the two sides agree at the reported point'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp

from derive._expr import as_expr
from derive.equivalence import atom_label
from derive.equivalence._rewrite import apply_definitions

__all__ = ["defined_values", "lookup", "recheck", "value_atoms"]

DIGITS = 60
_TOLERANCE = sp.Rational(1, 10**40)


def _labels(atom: sp.Basic) -> list[str]:
    """The spellings a counterexample may use for ``atom`` (the engine's label first)."""
    return [atom_label(atom), str(atom).replace(" ", "")]


def _key(atom: sp.Basic, point: Mapping[str, Any] | None = None) -> str:
    """The key of ``atom`` in ``point`` if it has one, else its preferred label."""
    names = _labels(atom)
    return next((n for n in names if point is not None and n in point), names[0])


def lookup(point: Mapping[str, Any], atom: sp.Basic) -> Any:
    """The value ``point`` gives ``atom``, or ``None``."""
    key = _key(atom, point)
    return point.get(key)


def _is_defined(atom: sp.Basic, definitions: Mapping[sp.Expr, sp.Expr]) -> bool:
    return apply_definitions(atom, definitions) != atom


def value_atoms(*exprs: sp.Expr) -> set[sp.Basic]:
    """The atoms that take values: ``Indexed`` objects and symbols outside them (not their labels)."""
    indexed = {x for e in exprs for x in e.atoms(sp.Indexed)}
    hidden = {x: sp.Dummy() for x in indexed}
    plain = {s for e in exprs for s in e.xreplace(hidden).atoms(sp.Symbol) if not isinstance(s, sp.Dummy)}
    return indexed | plain


def _concrete(expr: sp.Expr, sizes: Mapping[sp.Symbol, int]) -> sp.Expr:
    return as_expr(expr.xreplace({k: sp.Integer(v) for k, v in sizes.items()})).doit()


def recheck(
    before: sp.Expr,
    after: sp.Expr,
    point: Mapping[str, Any],
    definitions: Mapping[sp.Expr, sp.Expr],
    minimums: Mapping[sp.Symbol, int],
    step_index: tuple[sp.Symbol, sp.Symbol] | None = None,
    completed: dict[str, str] | None = None,
    uppers: Mapping[str, sp.Expr] | None = None,
) -> str | None:
    r"""``None`` if ``before != after`` at ``point`` (a confirmed counterexample), else why it is refused.

    ``completed`` (if given) receives the values the point leaves implicit: atoms the engine's
    form cancelled (set to 1 and checked) and atoms computed from their definitions.

    ``uppers`` maps a free index's name to its upper bound (``i`` to ``D``): the point must
    respect it when it gives the bound's sizes. ``minimums`` gives each size symbol its least
    value; ``step_index`` ``(t, T)`` asks for
    ``1 <= t <= T`` when both appear in the point.
    """
    completed = {} if completed is None else completed
    sizes: dict[sp.Symbol, int] = {}
    for symbol, low in minimums.items():
        if str(symbol) in point:
            value = int(point[str(symbol)])
            if value < low:
                return f"{symbol} = {value} is below its minimum {low}"
            sizes[symbol] = value
    if step_index is not None:
        t, big_t = step_index
        if str(t) in point and str(big_t) in point and not 1 <= int(point[str(t)]) <= int(point[str(big_t)]):
            return f"{t} = {point[str(t)]} is not a step of 1..{big_t} = {point[str(big_t)]}"
    for name, upper in (uppers or {}).items():
        names = {str(x) for x in upper.free_symbols}
        if name in point and names <= set(point):
            bound = upper.xreplace({x: sp.Integer(int(point[str(x)])) for x in upper.free_symbols})
            if int(point[name]) > bound:
                return f"{name} = {point[name]} is beyond its range (at most {upper} = {bound})"
    try:
        b, a = _concrete(before, sizes), _concrete(after, sizes)
    except Exception as exc:  # SymPy could not write the sums out: refuse rather than guess
        return f"could not write the sums out ({type(exc).__name__})"
    used = {atom for atom in value_atoms(b, a) - set(sizes) if _is_defined(atom, definitions)}
    for atom in used:
        if _key(atom, point) in point:
            return f"the point assigns {_key(atom, point)} independently of its definition"
    b, a = apply_definitions(b, definitions).doit(), apply_definitions(a, definitions).doit()
    values: dict[sp.Basic, sp.Expr] = {}
    for atom in value_atoms(b, a) - set(sizes):
        key = _key(atom, point)
        if key not in point:  # cancelled in the engine's form: any value will do, and is checked below
            values[atom] = sp.Integer(1)
            completed[key] = "1"
            continue
        value = sp.Rational(str(point[key]))
        if atom.is_positive and not value > 0:
            return f"{key} = {value} violates {key} > 0"
        if atom.is_nonzero and value == 0:
            return f"{key} = 0 violates {key} != 0"
        values[atom] = value
    try:
        vb, va = (side.xreplace(values).evalf(DIGITS) for side in (b, a))
    except Exception as exc:
        return f"could not evaluate the point ({type(exc).__name__})"
    if not (vb.is_number and va.is_number):
        return "the point leaves a symbol without a value"
    if vb.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not vb.is_real:
        return "the earlier line has no real value at the point"
    scale = max(1, abs(vb))
    if va.is_real and abs(va - vb) <= _TOLERANCE * scale:
        return "the two sides agree at the reported point"
    for name, shown in defined_values(definitions, sizes, values, point, used).items():
        completed.setdefault(name, shown)
    return None


def defined_values(
    definitions: Mapping[sp.Expr, sp.Expr],
    sizes: Mapping[sp.Symbol, int],
    values: Mapping[sp.Basic, sp.Expr],
    point: Mapping[str, Any] | None = None,
    used: set[sp.Basic] | None = None,
) -> dict[str, str]:
    r"""The values the definitions give at the point (``z[0,1]`` from :math:`\mu, \sigma, \epsilon`).

    Only for the defined atoms in ``used`` (the ones the lines mention), when given.
    An atom of a definition that neither side uses any more (it cancelled) takes its value from
    ``point`` or, failing that, 1 — and is reported too, so the point is complete.
    """
    out: dict[str, str] = {}
    dimension = max(sizes.values(), default=0)
    for key, value in definitions.items():
        if not isinstance(key, sp.Indexed):
            continue
        variables = [x for x in key.indices if isinstance(x, sp.Symbol)]
        if len(variables) != 1:
            continue
        for k in range(1, dimension + 1):
            instance = value.xreplace({variables[0]: sp.Integer(k)})
            if not value_atoms(instance) & set(values):
                continue  # this component plays no part in the step
            atom = key.xreplace({variables[0]: sp.Integer(k)})
            if used is not None and atom not in used:
                continue
            given = dict(values)
            for extra in value_atoms(instance) - set(values):
                found = lookup(point or {}, extra)
                given[extra] = sp.Rational(str(found)) if found is not None else sp.Integer(1)
                out[_key(extra, point)] = str(given[extra])
            out[_key(atom)] = str(sp.N(instance.xreplace(given), 30))
    return out
