r"""``generate``: lower an expression and ``lambdify`` it into a NumPy kernel over arrays."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derive.codegen._binding import Binding
from derive.codegen._chunk import CHUNK_BYTES, chunked_call
from derive.codegen._grouped_log import NAMESPACE
from derive.codegen._lower import Lowered, lower

__all__ = ["Kernel", "generate"]


def _cse(exprs: Any) -> Any:
    return sp.cse(exprs, symbols=sp.numbered_symbols("_cse"), list=False)


@dataclass(frozen=True)
class Kernel:
    """A generated NumPy function plus the expression it came from and its source.

    Calling it runs ``func`` block by block along the first batch axis (``chunk_bytes`` of input per
    block, see ``_chunk``); ``chunk_bytes=None`` calls ``func`` once on the whole arrays.
    """

    expr: sp.Expr
    lowered: Lowered
    func: Callable[..., Any] = field(repr=False)
    source: str = field(repr=False)
    chunk_bytes: int | None = CHUNK_BYTES

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.lowered.args)

    def __call__(self, *arrays: Any) -> Any:
        if self.chunk_bytes is None:
            return self.func(*arrays)
        return chunked_call(self.func, self.lowered.core, arrays, self.chunk_bytes)


def generate(
    expr: sp.Expr,
    binding: Binding,
    *,
    args: Sequence[str] | None = None,
    free: Sequence[sp.Symbol] = (),
    chunk_bytes: int | None = CHUNK_BYTES,
) -> Kernel:
    """Lower ``expr``, ``lambdify`` it over the bound arrays (in the order ``args``, else the binding's)."""
    low = lower(expr, binding, free=free)
    by_name = {a.name: a for a in low.args}
    if args is not None and sorted(args) != sorted(by_name):
        raise ValueError(f"args {list(args)} must name the bound arrays {sorted(by_name)}")
    arg_syms = [by_name[a] for a in args] if args is not None else list(low.args)
    core = dict(zip(low.args, low.core, strict=True))
    func = sp.lambdify(arg_syms, low.expr, modules=[NAMESPACE, "numpy"], cse=_cse, docstring_limit=0)
    lowered = Lowered(low.expr, tuple(arg_syms), low.axes, low.free, tuple(core[a] for a in arg_syms))
    return Kernel(expr, lowered, func, inspect.getsource(func), chunk_bytes)
