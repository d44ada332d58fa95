r"""Lower indexed-sum expressions to vectorized NumPy with :func:`sympy.lambdify`.

The formulas derive proves are SymPy expressions over indexed atoms, e.g.

.. math:: \log q(\mathbf z_T|\mathbf x) = -\sum_{i=1}^{D}\Bigl(\tfrac12\log 2\pi + \tfrac12\epsilon_i^2
          + \sum_{t=0}^{T}\log\sigma_{t,i}\Bigr)

(Kingma et al. 2016, eq. 11). :func:`generate` turns such an expression into a NumPy function of
*arrays*: a *binding* says which array holds each ``IndexedBase`` and which index runs along which
of its trailing axes; leading axes are batch axes and broadcast like a ufunc's.

Modules, one concept each: ``_binding`` (layouts, :class:`Axis`), ``_lower`` (the lowering,
:func:`lower`), ``_array`` (array operations as :class:`sympy.Function` subclasses that print as
NumPy: :class:`View`, :class:`ReduceSum`, ...), ``_log_sigmoid`` (:class:`LogSigmoid` and its
checked rewrite), ``_log_product`` (the checked rewrite :math:`\sum\log g = \log\prod g`,
:func:`rewrite_log_products`), ``_grouped_log`` (:class:`LogProd`: logs of grouped products, guarded
against leaving the normal range), ``_chunk`` (running a kernel block by block along the batch) and
``_generate`` (:func:`generate`, :class:`Kernel`). The lowered expression is
still SymPy (elementwise parts stay ``log``, ``exp``, ``Abs``, ``Pow``); lambdify prints it.

>>> import numpy as np, sympy as sp
>>> from derive.symbols import D, i, epsilon
>>> k = generate(sp.Sum(epsilon[i] ** 2, (i, 1, D)) / 2, {epsilon: ("eps", (i,))})
>>> k(np.array([[1.0, 2.0], [3.0, 0.0]]))
array([2.5, 4.5])
>>> print(k.source.splitlines()[-1].strip())
return squeeze((1/2)*sum(eps**2, axis=-1, keepdims=True), axis=-1)
"""

from derive.codegen._array import MoveAxes, ReduceProd, ReduceSum, ShapeOf, Squeeze, View
from derive.codegen._binding import DEFAULT_RANGES, Axis, Binding, LayoutItem
from derive.codegen._chunk import CHUNK_BYTES, chunked_call
from derive.codegen._generate import Kernel, generate
from derive.codegen._grouped_log import LogProd, group_size, log_prod
from derive.codegen._log_product import LOG_PRODUCT_RULES, ProposedRewrite, rewrite_log_products
from derive.codegen._log_sigmoid import (
    LOG_SIGMOID_RULES,
    LogSigmoid,
    RewriteRule,
    Softplus,
    rewrite_log_sigmoid,
)
from derive.codegen._lower import Lowered, lower

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_RANGES",
    "LOG_PRODUCT_RULES",
    "LOG_SIGMOID_RULES",
    "Axis",
    "Binding",
    "Kernel",
    "LayoutItem",
    "LogProd",
    "LogSigmoid",
    "Lowered",
    "MoveAxes",
    "ProposedRewrite",
    "ReduceProd",
    "ReduceSum",
    "RewriteRule",
    "ShapeOf",
    "Softplus",
    "Squeeze",
    "View",
    "chunked_call",
    "generate",
    "group_size",
    "log_prod",
    "lower",
    "rewrite_log_products",
    "rewrite_log_sigmoid",
]
