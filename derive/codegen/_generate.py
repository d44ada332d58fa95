r"""``generate``: lower an expression and ``lambdify`` it into a NumPy kernel over arrays."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derive.codegen._binding import Binding
from derive.codegen._lower import Lowered, lower

__all__ = ["Kernel", "generate"]


def _cse(exprs: Any) -> Any:
    return sp.cse(exprs, symbols=sp.numbered_symbols("_cse"), list=False)


@dataclass(frozen=True)
class Kernel:
    """A generated NumPy function plus the expression it came from and its source."""

    expr: sp.Expr
    lowered: Lowered
    func: Callable[..., Any] = field(repr=False)
    source: str = field(repr=False)

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.lowered.args)

    def __call__(self, *arrays: Any) -> Any:
        return self.func(*arrays)


def generate(
    expr: sp.Expr, binding: Binding, *, args: Sequence[str] | None = None, free: Sequence[sp.Symbol] = ()
) -> Kernel:
    """Lower ``expr``, ``lambdify`` it over the bound arrays (in the order ``args``, else the binding's)."""
    low = lower(expr, binding, free=free)
    by_name = {a.name: a for a in low.args}
    if args is not None and sorted(args) != sorted(by_name):
        raise ValueError(f"args {list(args)} must name the bound arrays {sorted(by_name)}")
    arg_syms = [by_name[a] for a in args] if args is not None else list(low.args)
    func = sp.lambdify(arg_syms, low.expr, modules="numpy", cse=_cse, docstring_limit=0)
    return Kernel(expr, Lowered(low.expr, tuple(arg_syms), low.axes, low.free), func, inspect.getsource(func))
