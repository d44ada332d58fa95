r"""Array operations as small :class:`sympy.Function` subclasses that lambdify prints as NumPy.

Each has a ``_numpycode`` method, so the lowered expression stays SymPy (and prints, compares and
substitutes like SymPy) while ``lambdify(..., modules="numpy")`` emits plain NumPy: views
``a[..., 1:, None, :]``, ``moveaxis``, ``shape(a)[-1]``, ``sum``/``prod`` with ``keepdims`` and
``squeeze``. Axes are negative (counted from the end), so leading batch axes pass through.

>>> import sympy as sp
>>> a = sp.Symbol("a")
>>> from sympy.printing.numpy import NumPyPrinter
>>> NumPyPrinter().doprint(ReduceSum(View(a, sp.Tuple(sp.Tuple(1, 1, sp.oo), sp.Tuple(2))), sp.Tuple(-2)))
'numpy.sum(a[..., 1:, None], axis=-2, keepdims=True)'
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["MoveAxes", "ReduceProd", "ReduceSum", "ShapeOf", "Squeeze", "View"]


def _axes(axes: sp.Tuple) -> str:
    vals = [int(a) for a in axes]
    return str(vals[0]) if len(vals) == 1 else str(tuple(vals))


def _operand(printer: Any, expr: sp.Basic) -> str:
    code = printer._print(expr)
    return code if isinstance(expr, sp.Symbol | View) else f"({code})"


class View(sp.Function):
    r"""``View(a, items)``: ``a[..., *items]``; an item is ``(0, k)`` take ``k``, ``(1, start, stop)``
    slice (``stop = oo`` means to the end) or ``(2,)`` new axis."""

    nargs = 2

    def _numpycode(self, printer: Any) -> str:
        parts = []
        for item in self.args[1]:
            kind = int(item[0])
            if kind == 0:
                parts.append(str(int(item[1])))
            elif kind == 1:
                start = "" if item[1] == 0 else str(int(item[1]))
                stop = "" if item[2] == sp.oo else str(int(item[2]))
                parts.append(f"{start}:{stop}")
            else:
                parts.append("None")
        base = _operand(printer, self.args[0])
        return base if not parts else f"{base}[..., {', '.join(parts)}]"


class MoveAxes(sp.Function):
    """``numpy.moveaxis(a, source, destination)`` (negative axes)."""

    nargs = 3

    def _numpycode(self, printer: Any) -> str:
        move = printer._module_format("numpy.moveaxis")
        src, dst = (tuple(int(a) for a in arg) for arg in self.args[1:])
        return f"{move}({printer._print(self.args[0])}, {src}, {dst})"


class ShapeOf(sp.Function):
    """``ShapeOf(a, k)``: ``numpy.shape(a)[k]``, a Python int (so it never changes a dtype)."""

    nargs = 2
    is_integer = True

    def _numpycode(self, printer: Any) -> str:
        return f"{printer._module_format('numpy.shape')}({printer._print(self.args[0])})[{int(self.args[1])}]"


class _Reduce(sp.Function):
    _numpy_name = ""
    nargs = 2

    def _numpycode(self, printer: Any) -> str:
        fn = printer._module_format(self._numpy_name)
        return f"{fn}({printer._print(self.args[0])}, axis={_axes(self.args[1])}, keepdims=True)"


class ReduceSum(_Reduce):
    r"""``ReduceSum(a, axes)``: :math:`\sum` over ``axes`` with ``keepdims``."""

    _numpy_name = "numpy.sum"


class ReduceProd(_Reduce):
    r"""``ReduceProd(a, axes)``: :math:`\prod` over ``axes`` with ``keepdims``."""

    _numpy_name = "numpy.prod"


class Squeeze(sp.Function):
    """``Squeeze(a, axes)``: drop the (size-one) ``axes``."""

    nargs = 2

    def _numpycode(self, printer: Any) -> str:
        fn = printer._module_format("numpy.squeeze")
        return f"{fn}({printer._print(self.args[0])}, axis={_axes(self.args[1])})"
