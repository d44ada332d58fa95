r"""Lowering: an indexed-sum expression → a SymPy expression over whole arrays.

Every index that addresses an array axis gets one *canonical* axis (an order consistent with the
arrays' axis orders, output axes first); every intermediate is an array whose trailing axes are
all the canonical axes, of size 1 where it does not depend on that index (``keepdims``), so terms
with different index sets broadcast. Sums are distributed over ``+``, factors that do not depend on
the summed indices are pulled out, nested sums become one reduction over several axes, and a sum
whose summand does not depend on its index becomes a product with the number of terms. A
sum over part of an axis (:math:`\sum_{t=1}^{T}` over an array holding :math:`t = 0..T`) reads a
view (``sigma[..., 1:, :]``). The log of a product of positive terms, :math:`\log\prod_{t,i} g`,
becomes one :class:`~derive.codegen.LogProd` (logs of grouped products, guarded). Irrational
constants become Python floats (NumPy float64 scalars would upcast float32 arrays).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derive._expr import as_expr
from derive.codegen._array import MoveAxes, ReduceProd, ReduceSum, ShapeOf, Squeeze, View
from derive.codegen._binding import Axis, Binding, _Array, _normalize, _slice, _split_index
from derive.codegen._grouped_log import LogProd
from derive.codegen._log_sigmoid import LogSigmoid, Softplus

__all__ = ["Lowered", "lower"]


@dataclass(frozen=True)
class Lowered:
    """A lowered expression: SymPy over array arguments, ready for ``lambdify``."""

    expr: sp.Expr
    args: tuple[sp.Symbol, ...]
    axes: tuple[sp.Symbol, ...]  # canonical axis order (trailing axes of every intermediate)
    free: tuple[sp.Symbol, ...]  # output axes, in order
    core: tuple[int, ...] = ()  # number of core (trailing, non-batch) axes of each argument


@dataclass
class _Lowerer:
    arrays: dict[Any, _Array]
    axes: tuple[sp.Symbol, ...] = ()
    sizes: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)

    # -- helpers
    def pos(self, index: sp.Symbol) -> int:
        return self.axes.index(index) - len(self.axes)

    def size(self, expr: sp.Expr) -> sp.Expr:
        missing = expr.free_symbols - set(self.sizes)
        if missing:
            raise ValueError(f"cannot lower: no array axis determines {sorted(map(str, missing))}")
        return expr.xreplace(self.sizes)

    def accesses(self, expr: sp.Basic) -> Iterable[tuple[sp.Indexed, _Array]]:
        for atom in sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key):
            if atom.base not in self.arrays:
                raise ValueError(f"cannot lower: {atom.base} is not bound to an array")
            yield atom, self.arrays[atom.base]

    def axis_indices(self, atom: sp.Indexed, arr: _Array) -> list[sp.Symbol]:
        if len(atom.indices) != len(arr.layout):
            raise ValueError(f"cannot lower {atom}: its binding has {len(arr.layout)} indices")
        out = []
        for idx, item in zip(atom.indices, arr.layout, strict=True):
            sym, _ = _split_index(idx, self.sizes)
            if isinstance(item, Axis) and sym is not None:
                out.append(sym)
        return out

    def setup(self, expr: sp.Expr, free: Sequence[sp.Symbol]) -> None:
        for arr in self.arrays.values():
            for k, ax in enumerate(arr.axes):
                length = as_expr(ax.stop) - as_expr(ax.start) + 1
                for size in length.free_symbols:
                    off = length - size
                    if size not in self.sizes and off.is_Integer:
                        self.sizes[size] = ShapeOf(arr.arg, k - len(arr.axes)) - off
        # Canonical order: respect each access's axis order (topological), free axes first.
        orders = [self.axis_indices(a, arr) for a, arr in self.accesses(expr)]
        for order in orders:
            if len(set(order)) != len(order):
                raise ValueError(f"cannot lower: repeated index in an access ({order})")
        seen = list(dict.fromkeys(sym for order in orders for sym in order))
        rank = {s: (0, free.index(s)) if s in free else (1, k) for k, s in enumerate(seen)}
        result: list[sp.Symbol] = []
        while len(result) < len(seen):
            ready = [
                s
                for s in seen
                if s not in result
                and all(o.index(p) >= o.index(s) or p in result for o in orders if s in o for p in o)
            ]
            pool = ready or [s for s in seen if s not in result]  # cycle: View transposes
            result.append(min(pool, key=rank.__getitem__))
        self.axes = tuple(result)

    # -- the recursive lowering: returns (lowered, indices it depends on)
    def lower(self, e: sp.Expr, env: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]) -> tuple[sp.Expr, frozenset]:
        if e.is_Integer or e.is_Rational:
            return e, frozenset()
        if e.is_number:
            return sp.Float(e.evalf(30), 17), frozenset()
        if isinstance(e, sp.Indexed):
            return self.view(e, env)
        if isinstance(e, sp.Symbol):
            if e in self.arrays:
                rank = len(self.axes)
                return View(self.arrays[e].arg, sp.Tuple(*[sp.Tuple(2)] * rank)), frozenset()
            if e in self.sizes:
                return self.sizes[e], frozenset()
            if e in env:
                raise ValueError(f"cannot lower: index {e} used as a value (only inside an access)")
            raise ValueError(f"cannot lower: symbol {e} is not bound to an array")
        if isinstance(e, sp.log) and isinstance(e.args[0], sp.Product) and e.args[0].function.is_positive:
            return self.log_prod(e.args[0], env)
        if isinstance(e, sp.Sum | sp.Product):
            limits = [(lim[0], lim[1], lim[2]) for lim in e.limits]
            if isinstance(e, sp.Sum):
                return self.sum(e.function, limits, env)
            return self.prod(e.function, limits, env)
        if isinstance(e, sp.Add | sp.Mul | sp.Pow) or (
            isinstance(e, sp.Function) and not isinstance(e, sp.Piecewise)
        ):
            parts = [self.lower(a, env) for a in e.args]
            deps = frozenset().union(*(d for _, d in parts))
            return e.func(*(p for p, _ in parts)), deps
        raise ValueError(f"cannot lower {type(e).__name__}: {e}")

    def bind(self, env: dict, limits: Sequence[tuple]) -> dict:
        env, names = dict(env), {lim[0] for lim in limits}
        for sym, lo, hi in limits:
            if (as_expr(lo).free_symbols | as_expr(hi).free_symbols) & (set(env) | names):
                raise ValueError(f"cannot lower: the bounds of {sym} depend on another index")
            env[sym] = (as_expr(lo), as_expr(hi))
        return env

    def count(self, limits: Sequence[tuple]) -> sp.Expr:
        return sp.Mul(*(self.size(hi - lo + 1) for _, lo, hi in limits))

    def sum(self, f: sp.Expr, limits: list[tuple], env: dict) -> tuple[sp.Expr, frozenset]:
        if isinstance(f, sp.Sum) and not set(f.variables) & {s for s, _, _ in limits}:
            # nested sums: one reduction over several axes
            inner = [(lim[0], lim[1], lim[2]) for lim in f.limits]
            self.bind(self.bind(env, limits), inner)  # validation only
            return self.sum(f.function, inner + limits, env)
        if isinstance(f, sp.Add):  # linearity
            parts = [self.sum(a, limits, env) for a in f.args]
            return sp.Add(*(p for p, _ in parts)), frozenset().union(*(d for _, d in parts))
        names = {sym for sym, _, _ in limits}
        if isinstance(f, sp.Mul):  # pull out factors that do not depend on the summed indices
            out = [a for a in f.args if not (a.free_symbols & names)]
            if out:
                rest = sp.Mul(*(a for a in f.args if a.free_symbols & names))
                lo_out, d_out = self.lower(sp.Mul(*out), env)
                lo_in, d_in = self.sum(rest, limits, env)
                return lo_out * lo_in, d_out | d_in
        used = [lim for lim in limits if lim[0] in f.free_symbols]
        unused = [lim for lim in limits if lim[0] not in f.free_symbols]
        body, deps = self.lower(f, self.bind(env, used)) if used else self.lower(f, env)
        for sym, _, _ in used:
            if sym not in deps:
                raise ValueError(f"cannot lower: summation index {sym} does not address an array axis")
        if used:
            body = ReduceSum(body, sp.Tuple(*sorted(self.pos(s) for s, _, _ in used)))
        return (body * self.count(unused) if unused else body), deps - names

    def prod(self, f: sp.Expr, limits: list[tuple], env: dict) -> tuple[sp.Expr, frozenset]:
        used = [lim for lim in limits if lim[0] in f.free_symbols]
        unused = [lim for lim in limits if lim[0] not in f.free_symbols]
        body, deps = self.lower(f, self.bind(env, used))
        if used:
            body = ReduceProd(body, sp.Tuple(*sorted(self.pos(s) for s, _, _ in used)))
        return (body ** self.count(unused) if unused else body), deps - {s for s, _, _ in limits}

    def log_prod(self, p: sp.Product, env: dict) -> tuple[sp.Expr, frozenset]:
        """``log(Product(g, L))``, ``g > 0``: one guarded :class:`LogProd` over the axes of ``L``."""
        f, limits = p.function, [(lim[0], lim[1], lim[2]) for lim in p.limits]
        while isinstance(f, sp.Product) and not set(f.variables) & {s for s, _, _ in limits}:
            inner = [(lim[0], lim[1], lim[2]) for lim in f.limits]  # nested products: one LogProd
            self.bind(self.bind(env, limits), inner)  # validation only
            limits, f = inner + limits, f.function
        used = [lim for lim in limits if lim[0] in f.free_symbols]
        unused = [lim for lim in limits if lim[0] not in f.free_symbols]
        if not used:  # log(g**count)
            body, deps = self.lower(f, env)
            return self.count(unused) * sp.log(body), deps
        body, deps = self.lower(f, self.bind(env, used))
        for sym, _, _ in used:
            if sym not in deps:
                raise ValueError(f"cannot lower: product index {sym} does not address an array axis")
        out = LogProd(body, sp.Tuple(*sorted(self.pos(s) for s, _, _ in used)))
        return (self.count(unused) * out if unused else out), deps - {s for s, _, _ in limits}

    def view(self, atom: sp.Indexed, env: dict) -> tuple[sp.Expr, frozenset]:
        arr = self.arrays.get(atom.base)
        if arr is None:
            raise ValueError(f"cannot lower: {atom.base} is not bound to an array")
        self.axis_indices(atom, arr)  # arity check
        items: list[sp.Tuple] = []
        kept: list[sp.Symbol] = []
        for idx, item in zip(atom.indices, arr.layout, strict=True):
            sym, off = _split_index(idx, self.sizes)
            if item is None:
                if sym is None or off != 0 or sym in env:
                    raise ValueError(f"cannot lower {atom}: {idx} must be a free index (no array axis)")
                continue
            if isinstance(item, int):
                if sp.simplify(idx - item) != 0:
                    raise ValueError(f"cannot lower {atom}: its array holds only index {item} there")
                continue
            length = as_expr(item.stop) - as_expr(item.start) + 1
            if sym is None:
                lo = hi = off
            elif sym in env:
                lo, hi = env[sym][0] + off, env[sym][1] + off
            else:  # a free index: the whole axis
                lo, hi = as_expr(item.start), as_expr(item.stop)
            p0, p1 = _slice(lo - item.start, hi - item.start + 1, length)
            if p0 is None or p1 is None:
                raise ValueError(
                    f"cannot lower {atom}: {sym if sym is not None else idx} in {lo}..{hi} is not a fixed "
                    f"slice of its array axis, which holds {item.index} = {item.start}..{item.stop}"
                )
            if sym is None:
                items.append(sp.Tuple(0, p0))
            else:
                items.append(sp.Tuple(1, p0, p1))
                kept.append(sym)
        base: sp.Expr = arr.arg
        if any(int(it[0]) == 0 for it in items) or any(
            it[1] != 0 or it[2] != sp.oo for it in items if it[0] == 1
        ):
            base = View(base, sp.Tuple(*items))
        order = sorted(kept, key=self.axes.index)
        if order != kept:  # transpose the kept axes into canonical order
            r = len(kept)
            src = sp.Tuple(*[kept.index(s) - r for s in order])
            base = MoveAxes(base, src, sp.Tuple(*range(-r, 0)))
        new = [sp.Tuple(1, 0, sp.oo) if s in kept else sp.Tuple(2) for s in self.axes]
        if any(int(it[0]) == 2 for it in new):
            base = View(base, sp.Tuple(*new))
        return base, frozenset(kept)


def lower(expr: sp.Expr, binding: Binding, *, free: Sequence[sp.Symbol] = ()) -> Lowered:
    r"""Lower ``expr`` to a SymPy expression over array arguments (see the module docstring).

    ``free`` lists the indices that stay as output axes, in order (e.g. the sample ``n``);
    raises ``ValueError`` for anything it cannot lower.

    >>> from derive.symbols import D, T, i, t, sigma
    >>> low = lower(sp.Sum(sp.log(sigma[t, i]), (t, 1, T), (i, 1, D)), {sigma: ("sigma", (t, i))})
    >>> low.expr
    Squeeze(ReduceSum(log(View(sigma, ((1, 1, oo), (1, 0, oo)))), (-2, -1)), (-2, -1))
    """
    expr = as_expr(expr)
    arrays = {base: _normalize(base, spec) for base, spec in binding.items()}
    if not expr.atoms(sp.Indexed) and not expr.free_symbols & set(arrays):
        raise ValueError("cannot lower: the expression reads no array")
    # log sigmoid(x) = -softplus(-x): a sum of them then pulls the minus sign out of the reduction.
    expr = expr.replace(LogSigmoid, lambda x: -Softplus(-x))
    names = [a.arg.name for a in arrays.values()]
    if len(set(names)) != len(names):
        raise ValueError(f"binding: argument names must be distinct, got {names}")
    lw = _Lowerer(arrays)
    lw.setup(expr, tuple(free))
    body, deps = lw.lower(expr, {})
    extra = set(deps) - set(free)
    if extra:
        raise ValueError(f"cannot lower: free indices {sorted(map(str, extra))} are not listed in free=")
    out_free = tuple(s for s in free if s in deps)
    squeezed = sp.Tuple(*[lw.pos(s) for s in lw.axes if s not in out_free])
    if squeezed:
        body = Squeeze(body, squeezed)
    order = [s for s in lw.axes if s in out_free]
    if order != list(out_free):
        r = len(order)
        body = MoveAxes(body, sp.Tuple(*[order.index(s) - r for s in out_free]), sp.Tuple(*range(-r, 0)))
    core = tuple(len(a.axes) for a in arrays.values())
    return Lowered(body, tuple(a.arg for a in arrays.values()), lw.axes, out_free, core)
