r"""Named quantities bound to the models they are about.

A quantity such as :math:`\log q(\mathbf{z}_t|\mathbf{x})` or :math:`\log|\det\partial\mathbf{y}/
\partial\mathbf{x}|` is an opaque SymPy function (it never simplifies on its own) whose first
argument is a :class:`ModelAtom`: the flow or layer it is *about*. The trusted kernel reads the model
from that atom to compute what the quantity means (a Jacobian, a density), so a quantity can never be
"explained" by a formula for a different map: the generative batch-norm map's quantity prints as
:math:`\log|\det\partial\mathbf{x}/\partial\mathbf{y}|` because that is the map it names.

>>> import sympy as sp
>>> from derive.layers.flow import IAFFlow
>>> from derive.symbols import D, T
>>> F = ModelAtom(IAFFlow(D))
>>> sp.latex(LogQ(F, T))
'\\log q(\\mathbf{z}_{T}|\\mathbf{x})'
>>> sp.latex(LogDetStep(F, 1))
'\\log\\left|\\det \\frac{\\partial \\mathbf{z}_{1}}{\\partial \\mathbf{z}_{0}}\\right|'
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = [
    "BatchHat",
    "BatchVar",
    "JacEntry",
    "LogAbsDetBatchNorm",
    "LogDensity",
    "LogDetMap",
    "LogDetStep",
    "LogDetTotal",
    "LogN",
    "LogQ",
    "LogQIn",
    "LogQOut",
    "ModelAtom",
    "Quantity",
    "model_of",
]


class ModelAtom(sp.Atom):
    """A SymPy atom standing for a model (a hashable, immutable flow or layer description)."""

    is_commutative = True
    model: Any

    def __new__(cls, model: Any) -> ModelAtom:
        hash(model)  # models must be hashable value objects
        obj = sp.Atom.__new__(cls)
        obj.model = model
        return obj

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.model,)

    def _hashable_content(self) -> tuple[Any, ...]:
        # Strings only (SymPy orders atoms by comparing these); a model's key or repr names all its parameters.
        key = self.model._key() if hasattr(self.model, "_key") else self.model
        return (type(self.model).__qualname__, repr(key))

    @property
    def free_symbols(self) -> set[sp.Basic]:
        params = getattr(self.model, "free_symbols", None)
        return set(params()) if callable(params) else set()

    def _rebuilt(self, fn: Any) -> ModelAtom | None:
        """The atom with the model's symbolic parameters mapped by ``fn`` (None if unchanged)."""
        remap = getattr(self.model, "map_params", None)
        if remap is None:
            return None
        new = remap(fn)
        return None if new == self.model else ModelAtom(new)

    def _xreplace(self, rule: Any) -> tuple[sp.Basic, bool]:
        if self in rule:
            return rule[self], True
        new = self._rebuilt(lambda e: e.xreplace(rule))
        return (self, False) if new is None else (new, True)

    def _eval_subs(self, old: sp.Basic, new: sp.Basic) -> sp.Basic | None:
        return self._rebuilt(lambda e: e.subs(old, new))

    def _latex(self, printer: Any) -> str:
        return str(getattr(self.model, "latex_name", type(self.model).__name__))

    def _sympystr(self, printer: Any) -> str:
        return repr(self.model)

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(repr(self.model))


def model_of(atom: sp.Basic) -> Any:
    """The model behind a :class:`ModelAtom` (TypeError for anything else)."""
    if not isinstance(atom, ModelAtom):
        raise TypeError(f"expected a ModelAtom, got {type(atom).__name__}")
    return atom.model


class Quantity(sp.Function):
    """An unevaluated named quantity; ``args[0]`` is the :class:`ModelAtom` it is about."""

    is_real = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("_latex")
        if own is not None:

            def _latex(self: Any, printer: Any, exp: Any = None, _own: Any = own) -> str:
                body = _own(self, printer)
                return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

            cls._latex = _latex

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None

    @property
    def model(self) -> Any:
        return model_of(self.args[0])

    def _text(self, printer: Any) -> str:
        raise NotImplementedError

    def _sympystr(self, printer: Any) -> str:
        return self._text(printer)

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(self._text(printer))


def _p(printer: Any, e: sp.Basic) -> str:
    return str(printer._print(e))


def _sub(printer: Any, e: sp.Basic) -> str:
    """A subscript for plain text: ``z_T``, ``z_(n+1)``."""
    s = sp.sstr(e)
    return s if s.isalnum() else f"({s})"


class LogQ(Quantity):
    r""":math:`\log q(\mathbf{z}_t|\mathbf{x})`: the log-density of flow ``args[0]``'s t-th iterate."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        return rf"\log q(\mathbf{{z}}_{{{_p(printer, self.args[1])}}}|\mathbf{{x}})"

    def _text(self, printer: Any) -> str:
        return f"log q(z_{_sub(printer, self.args[1])}|x)"


class LogN(Quantity):
    r""":math:`\log\mathcal{N}(\boldsymbol\epsilon;\mathbf{0},\mathbf{I})`: the flow's base noise density."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        return r"\log\mathcal{N}(\boldsymbol{\epsilon};\mathbf{0},\mathbf{I})"

    def _text(self, printer: Any) -> str:
        return "log N(ε; 0, I)"


class LogDetStep(Quantity):
    r""":math:`\log|\det\partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}|` of flow ``args[0]`` (t = 0: w.r.t. ε)."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        k = self.args[1]
        den = r"\boldsymbol{\epsilon}" if k == 0 else rf"\mathbf{{z}}_{{{_p(printer, k - 1)}}}"
        return rf"\log\left|\det \frac{{\partial \mathbf{{z}}_{{{_p(printer, k)}}}}}{{\partial {den}}}\right|"

    def _text(self, printer: Any) -> str:
        k = self.args[1]
        den = "ε" if k == 0 else f"z_{_sub(printer, k - 1)}"
        return f"log|det ∂z_{_sub(printer, k)}/∂{den}|"


class LogDetTotal(Quantity):
    r""":math:`\log|\det\partial\mathbf{z}_t/\partial\boldsymbol\epsilon|`: the flow's log-det up to step t."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        return (
            rf"\log\left|\det \frac{{\partial \mathbf{{z}}_{{{_p(printer, self.args[1])}}}}}"
            r"{\partial \boldsymbol{\epsilon}}\right|"
        )

    def _text(self, printer: Any) -> str:
        return f"log|det ∂z_{_sub(printer, self.args[1])}/∂ε|"


class LogDetMap(Quantity):
    r""":math:`\log|\det\partial(\text{output})/\partial(\text{input})|` of the layer ``args[0]``."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        out, inp = self.model.latex_io
        return rf"\log\left|\det \frac{{\partial {out}}}{{\partial {inp}}}\right|"

    def _text(self, printer: Any) -> str:
        out, inp = self.model.text_io
        return f"log|det ∂{out}/∂{inp}|"


class LogQIn(Quantity):
    r""":math:`\log p(\text{input})`: the log-density of layer ``args[0]``'s input."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        return rf"\log q({self.model.latex_io[1]})"

    def _text(self, printer: Any) -> str:
        return f"log q({self.model.text_io[1]})"


class LogQOut(Quantity):
    r""":math:`\log p(\text{output})`: the log-density of layer ``args[0]``'s output."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        out = self.model.latex_io[0]
        return (
            r"\log\mathcal{N}(\boldsymbol{\epsilon};\mathbf{0},\mathbf{I})"
            if "epsilon" in out
            else rf"\log q({out})"
        )

    def _text(self, printer: Any) -> str:
        out = self.model.text_io[0]
        return "log N(ε; 0, I)" if out == "ε" else f"log q({out})"


class JacEntry(Quantity):
    r""":math:`\partial y_r/\partial x_c`: entry (r, c) of layer ``args[0]``'s Jacobian."""

    nargs = 3

    def _latex(self, printer: Any) -> str:
        out, inp = self.model.latex_io
        r, c = self.args[1:]
        return (
            rf"\left(\frac{{\partial {out}}}{{\partial {inp}}}\right)_{{{_p(printer, r)},{_p(printer, c)}}}"
        )

    def _text(self, printer: Any) -> str:
        out, inp = self.model.text_io
        return f"(∂{out}/∂{inp})[{sp.sstr(self.args[1])}, {sp.sstr(self.args[2])}]"


class BatchVar(Quantity):
    r""":math:`v_i`: feature i's batch variance in the train-mode model ``args[0]`` (a variance: >= 0)."""

    nargs = 2
    is_nonnegative = True

    def _latex(self, printer: Any) -> str:
        return rf"v_{{{_p(printer, self.args[1])}}}"

    def _text(self, printer: Any) -> str:
        return f"v_{_sub(printer, self.args[1])}"


class BatchHat(Quantity):
    r""":math:`\hat y_{1,i}`: sample 1's normalised feature i in the train-mode model ``args[0]``."""

    nargs = 2

    def _latex(self, printer: Any) -> str:
        return rf"\hat{{y}}_{{1,{_p(printer, self.args[1])}}}"

    def _text(self, printer: Any) -> str:
        return f"ŷ_(1,{sp.sstr(self.args[1])})"


def LogDensity(t: Any) -> sp.Expr:
    r""":math:`\log q(\mathbf{z}_t|\mathbf{x})` of the IAF flow at symbolic D (the answer checker's target)."""
    from derive.layers.flow import IAFFlow
    from derive.symbols import D

    return LogQ(ModelAtom(IAFFlow(D)), t)


def LogAbsDetBatchNorm() -> sp.Expr:
    r""":math:`\log|\det\partial\mathbf{y}/\partial\mathbf{x}|` of eval-mode batch norm at symbolic D."""
    from derive.layers.generic import GenericBatchNorm
    from derive.symbols import D

    return LogDetMap(ModelAtom(GenericBatchNorm(D)))
