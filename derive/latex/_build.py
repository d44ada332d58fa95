r"""Syntax tree -> SymPy, explicitly: every object is built by a constructor, never from a string.

* names resolve through the :class:`~derive.latex.notation.Notation` (bound summation variables
  first, then scalars, index letters, ``e`` and ``\pi``); an unknown name becomes a free real
  ``Symbol`` (or ``IndexedBase`` when subscripted) and a warning;
* decimals become exact rationals (``0.5`` -> ``1/2``);
* a numeric power or product whose result would exceed :data:`MAX_RESULT_DIGITS` digits raises
  ``ParseError("number too large")`` *before* SymPy evaluates it.

>>> from derive.symbols import D, i
>>> from derive.latex.notation import Notation
>>> from derive.latex._parse import parse
>>> b = Builder(Notation(scalars={"D": D}, indexed={}, index_ranges={"i": (i, 1, D)}), "")
>>> b.build(parse(r"\sum_i 0.5 c").members[0]), b.warnings
(Sum(c/2, (i, 1, D)), ['\\sum over i without bounds read as i = 1..D', "unknown symbol 'c' treated as a free variable"])
"""

from __future__ import annotations

import math

import sympy

from derive.errors import ParseError
from derive.latex import _ast as A
from derive.latex.notation import Notation

#: Longest integer literal accepted.
MAX_LITERAL_DIGITS = 100
#: Largest number a numeric power or product may produce.
MAX_RESULT_DIGITS = 10_000

_FUNCTIONS = {
    "exp": sympy.exp,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
}
_CONSTANTS = {r"\pi": sympy.pi, r"\infty": sympy.oo}


class UnknownQuantity(ParseError):
    r"""A function application (``q(\ldots)``, ``\det``) that no named quantity matched."""


def _digits(value: sympy.Expr) -> float:
    """Decimal digits of a rational number's numerator or denominator, whichever is longer."""
    if isinstance(value, sympy.Rational):
        return max(int(value.p).bit_length(), int(value.q).bit_length()) * math.log10(2)
    return 0.0


class Builder:
    """Builds SymPy from ``_ast`` nodes under one notation; collects warnings."""

    def __init__(self, notation: Notation, text: str) -> None:
        self.notation = notation
        self.text = text
        self.warnings: list[str] = []
        self.bound: dict[str, sympy.Symbol] = {}
        #: enclosing sums and determinants: (variable, upper bound, how a warning names it)
        self.sums: list[tuple[sympy.Symbol, sympy.Expr, str]] = []

    # -- helpers ---------------------------------------------------------------------------
    def error(self, message: str, node: A.Node, kind: type[ParseError] = ParseError) -> ParseError:
        return kind(message, text=self.text, column=node.pos + 1)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _unknown(self, name: str) -> str:
        self.warn(f"unknown symbol '{name}' treated as a free variable")
        return name.lstrip("\\")

    def pow(self, base: sympy.Expr, exp: sympy.Expr, node: A.Node) -> sympy.Expr:
        numeric = base.is_Rational and exp.is_Rational and abs(base) not in (0, 1)
        if numeric and abs(float(exp)) * max(_digits(base), 1.0) > MAX_RESULT_DIGITS:
            raise self.error(f"number too large (more than {MAX_RESULT_DIGITS} digits)", node)
        return sympy.Pow(base, exp)

    def exp(self, arg: sympy.Expr) -> sympy.Expr:
        # exp(k*log(x)) would evaluate to x**k: keep it unevaluated so no huge power is computed.
        return sympy.exp(arg, evaluate=not arg.has(sympy.log))

    def component(self, name: str, node: A.Node) -> sympy.Symbol | None:
        r"""Inside :math:`\sum_{i=1}^{D}`, the variable ``i`` a vector symbol stands for (lenient reading).

        ``\mathbf{z}_0`` inside a sum over the dimension index means :math:`z_{0,i}` (students write
        it so); the innermost enclosing sum whose upper bound is the dimension supplies the index.
        """
        dimension = self.notation.index_ranges.get("i")
        if dimension is None:
            return None
        for var, upper, where in reversed(self.sums):
            if upper == dimension[2]:
                spelled = (
                    name if isinstance(node, A.Name) else " ".join(self.text[node.pos : node.end].split())
                )
                self.warn(f"the vector '{spelled or name}' was read as its component {var} {where}")
                return var
        return None

    def _declared(self, name: str) -> bool:
        notation = self.notation
        return any(
            name in table for table in (self.bound, notation.scalars, notation.indexed, notation.index_ranges)
        )

    # -- names -----------------------------------------------------------------------------
    def name(self, node: A.Name) -> sympy.Expr:
        name = self.notation.canonical(node.name)
        if name in self.bound:
            return self.bound[name]
        if name in self.notation.scalars:
            return self.notation.scalars[name]
        if name in self.notation.index_ranges:
            return self.notation.index_ranges[name][0]
        if name in self.notation.indexed:
            component = self.component(name, node) if self.notation.arity.get(name) == 1 else None
            if component is not None:
                return self.notation.indexed[name][component]
            raise self.error(self._arity_message(name, 0), node)
        if name == "e":
            return sympy.E
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        return sympy.Symbol(self._unknown(name), real=True)

    def _arity_message(self, name: str, got: int) -> str:
        want = self.notation.arity.get(name)
        if want is None:
            return f"{name} needs an index (e.g. {name}_i)"
        example = {1: "i", 2: "t,i"}.get(want, ",".join("ijklmn"[:want]))
        return (
            f"{name} takes {want} ind{'ex' if want == 1 else 'ices'} (e.g. {name}_{{{example}}}); got {got}"
        )

    def indexed(self, node: A.Script) -> sympy.Expr:
        if not isinstance(node.base, A.Name):
            raise self.error("a subscript can only follow a symbol", node)
        assert node.sub is not None
        name = self.notation.canonical(node.base.name)
        indices = [self.build(index) for index in node.sub]
        if name in self.notation.indexed:
            want = self.notation.arity.get(name)
            if want is not None and want == len(indices) + 1:
                component = self.component(name, node)
                if component is not None:
                    indices.append(component)
            if want is not None and want != len(indices):
                raise self.error(self._arity_message(name, len(indices)), node)
            return self.notation.indexed[name][tuple(indices)]
        if name in self.notation.scalars or name in self.bound or name in self.notation.index_ranges:
            raise self.error(f"{name} takes no index here", node)
        return sympy.IndexedBase(self._unknown(name), real=True)[tuple(indices)]

    # -- the tree --------------------------------------------------------------------------
    def build(self, node: A.Node) -> sympy.Expr:
        r"""SymPy for ``node`` (recursive; the tree depth is bounded by ``_parse``)."""
        method = getattr(self, "_" + type(node).__name__.lower())
        result: sympy.Expr = method(node)
        return result

    def _num(self, node: A.Num) -> sympy.Expr:
        whole, _, frac = node.text.partition(".")
        if len(whole) + len(frac) > MAX_LITERAL_DIGITS:
            raise self.error(f"number too long (more than {MAX_LITERAL_DIGITS} digits)", node)
        return sympy.Rational(int(whole + frac or "0"), 10 ** len(frac))

    def _name(self, node: A.Name) -> sympy.Expr:
        return self.name(node)

    def _script(self, node: A.Script) -> sympy.Expr:
        if node.sub is not None:
            base = self.indexed(node)
        elif (
            isinstance(node.base, A.Name)
            and self.notation.canonical(node.base.name) == "e"
            and ("e" not in self.notation.scalars and "e" not in self.bound)
        ):
            assert node.sup is not None
            return self.exp(self.build(node.sup))
        else:
            base = self.build(node.base)
        return base if node.sup is None else self.pow(base, self.build(node.sup), node)

    def _add(self, node: A.Add) -> sympy.Expr:
        return sympy.Add(*(self.build(term) for term in node.terms))

    def _neg(self, node: A.Neg) -> sympy.Expr:
        return sympy.Mul(sympy.Integer(-1), self.build(node.arg))

    def _derivative_variable(self, node: A.Node) -> A.Node | None:
        r"""``x`` if ``node`` is the operator :math:`\frac{\partial}{\partial x}` (or ``d/dx``), else ``None``."""
        if not (isinstance(node, A.Div) and node.num == A.Name("d") and isinstance(node.den, A.Mul)):
            return None
        factors = node.den.factors
        if len(factors) == 2 and factors[0] == A.Name("d") and isinstance(factors[1], A.Name | A.Script):
            return factors[1]
        return None

    def derivative(self, variable: A.Node, arg: A.Node, node: A.Node) -> sympy.Expr:
        r""":math:`\frac{\partial}{\partial x} f`, componentwise inside ``\det`` (see :meth:`_func`)."""
        var = self.build(variable)
        if not isinstance(var, sympy.Symbol | sympy.Indexed):
            raise self.error("can only differentiate with respect to a symbol", node)
        self.warn(
            f"d/d{self.text[variable.pos : variable.end] or 'x'} treats every other symbol as a constant"
        )
        return sympy.diff(self.build(arg), var)

    def _mul(self, node: A.Mul) -> sympy.Expr:
        factors: list[sympy.Expr] = []
        k = 0
        while k < len(node.factors):
            variable = self._derivative_variable(node.factors[k])
            if variable is not None and k + 1 < len(node.factors):
                rest = node.factors[k + 1 :]
                arg = rest[0] if len(rest) == 1 else A.Mul(rest, pos=rest[0].pos, end=rest[-1].end)
                factors.append(self.derivative(variable, arg, node))
                break
            factors.append(self.build(node.factors[k]))
            k += 1
        if sum(_digits(f) for f in factors if f.is_Number) > MAX_RESULT_DIGITS:
            raise self.error(f"number too large (more than {MAX_RESULT_DIGITS} digits)", node)
        return sympy.Mul(*factors)

    def _div(self, node: A.Div) -> sympy.Expr:
        den = node.den
        if isinstance(den, A.Mul) and den.factors[0] == A.Name("d") and not self._declared("d"):
            raise self.error(
                r"a derivative such as \frac{dz_t}{dz_{t-1}} is only meaningful inside a named quantity",
                node,
                UnknownQuantity,
            )
        num, den = self.build(node.num), self.build(node.den)
        if _digits(num) + _digits(den) > MAX_RESULT_DIGITS:
            raise self.error(f"number too large (more than {MAX_RESULT_DIGITS} digits)", node)
        return sympy.Mul(num, sympy.Pow(den, sympy.Integer(-1)))

    def _root(self, node: A.Root) -> sympy.Expr:
        arg = self.build(node.arg)
        if node.index is None:
            return sympy.sqrt(arg)
        return self.pow(arg, sympy.Pow(self.build(node.index), sympy.Integer(-1)), node)

    def _abs(self, node: A.Abs) -> sympy.Expr:
        return sympy.Abs(self.build(node.arg))

    def _paren(self, node: A.Paren) -> sympy.Expr:
        return self.build(node.arg)

    def _arglist(self, node: A.ArgList) -> sympy.Expr:
        what = "'|'" if node.given is not None else "','"
        raise self.error(f"unexpected {what} outside the arguments of a known quantity", node)

    def _call(self, node: A.Call) -> sympy.Expr:
        name = self.text[node.func.pos : node.func.end] or "f"
        raise self.error(f"{name}(...) is not a known quantity in this problem", node, UnknownQuantity)

    def _func(self, node: A.Func) -> sympy.Expr:
        if node.name == "det":
            return self.determinant(node)
        arg = self.build(node.arg)
        if node.name == "log":
            value = sympy.log(arg) if node.base is None else sympy.log(arg, self.build(node.base))
        elif node.base is not None:
            raise self.error(f"\\{node.name} takes no subscript", node)
        elif node.name == "exp":
            value = self.exp(arg)
        else:
            value = _FUNCTIONS[node.name](arg)
        return value if node.power is None else self.pow(value, self.build(node.power), node)

    def determinant(self, node: A.Func) -> sympy.Expr:
        r"""``\det`` of a componentwise expression: the product of its components (lenient, warned).

        For a map acting feature by feature (batch norm in eval mode), the Jacobian
        :math:`\partial y/\partial x` is diagonal with entries :math:`\partial y_i/\partial x_i`, so
        ``\det(\frac{\partial}{\partial x} f)`` and ``\det(v)`` for a vector expression ``v`` (read as
        :math:`\operatorname{diag} v`) are :math:`\prod_{i=1}^{D}` of the component. Vector symbols
        inside stand for their component ``i``.
        """
        dimension = self.notation.index_ranges.get("i")
        if dimension is None or node.power is not None or node.base is not None:
            raise self.error(
                r"\det is only meaningful inside a named quantity of this problem", node, UnknownQuantity
            )
        var, low, high = dimension
        taken = {self.notation.canonical(n.var) for n in A.walk(node.arg) if isinstance(n, A.BigOp)}
        taken |= {s.name for s in self.bound.values()}
        if var.name in taken:  # a sum inside (or around) binds the letter: use one nothing binds
            var = sympy.Symbol(next(c for c in "jklmnpqrs" if c not in taken), integer=True)
        self.sums.append((var, high, r"inside \det"))
        try:
            component = self.build(node.arg)
        finally:
            self.sums.pop()
        if var not in component.free_symbols:  # no vector inside: nothing says what matrix this is
            raise self.error(
                r"\det is only meaningful inside a named quantity of this problem, or of an "
                r"expression in the problem's vectors",
                node,
                UnknownQuantity,
            )
        self.warn(
            r"\det(...) read as the determinant of a diagonal matrix, the product of the components "
            f"over {var} = {low}..{high} (the map acts feature by feature)"
        )
        return sympy.Product(component, (var, low, high))

    def _bigop(self, node: A.BigOp) -> sympy.Expr:
        name = self.notation.canonical(node.var)
        ranges = self.notation.index_ranges
        if name in ranges:
            var, low, high = ranges[name]
        else:
            var, low, high = sympy.Symbol(name.lstrip("\\"), integer=True), None, None
        lower = low if node.lower is None else self.build(node.lower)
        upper = high if node.upper is None else self.build(node.upper)
        if (node.lower is None or node.upper is None) and lower is not None and upper is not None:
            self.warn(f"\\{node.kind} over {name} without bounds read as {name} = {lower}..{upper}")
        if lower is None or upper is None:
            raise self.error(
                f"\\{node.kind} over {name} needs bounds (e.g. \\{node.kind}_{{{name}=1}}^{{D}})", node
            )
        lower, upper = _as_expr(lower), _as_expr(upper)
        if not (_index_like(lower) and _index_like(upper)) or lower == sympy.oo or upper == -sympy.oo:
            raise self.error(
                f"the bounds of \\{node.kind} must be integers or index expressions such as T-1", node
            )
        saved = self.bound.get(name)
        self.bound[name] = var
        self.sums.append((var, upper, f"inside the sum over {var}"))
        try:
            body = self.build(node.body)
        finally:
            self.sums.pop()
            if saved is None:
                del self.bound[name]
            else:
                self.bound[name] = saved
        op = sympy.Sum if node.kind == "sum" else sympy.Product
        return op(body, (var, lower, upper))

    def _quantity(self, node: A.Quantity) -> sympy.Expr:
        quantity = self.notation.named[node.index]
        subs = {}
        for letter, index in node.bindings:
            subs[param_symbol(self.notation, quantity.value, letter)] = self.build(index)
        return quantity.value.subs(subs, simultaneous=True) if subs else quantity.value


def _as_expr(value: sympy.Expr | int) -> sympy.Expr:
    return sympy.Integer(value) if isinstance(value, int) else value


def _index_like(bound: sympy.Expr) -> bool:
    """Whether a summation bound is an integer, an index expression (``T-1``, ``2D``) or +-oo."""
    if bound in (sympy.oo, -sympy.oo):
        return True
    atoms_ok = all(a.is_Integer or isinstance(a, sympy.Symbol | sympy.Idx) for a in bound.atoms())
    plain = not bound.atoms(sympy.Function) and not bound.has(sympy.zoo, sympy.nan, sympy.oo)
    return bool(atoms_ok and plain and bound.is_polynomial())


def param_symbol(notation: Notation, value: sympy.Expr, letter: str) -> sympy.Symbol:
    """The symbol a named quantity's parameter letter stands for in its value."""
    for symbol in value.free_symbols:  # the value's own symbol, whatever its assumptions
        if isinstance(symbol, sympy.Symbol) and symbol.name == letter.lstrip("\\"):
            return symbol
    if letter in notation.index_ranges:
        return notation.index_ranges[letter][0]
    return sympy.Symbol(letter.lstrip("\\"), integer=True)
