r"""``derive verify FILE.py``: prove a user's own layer's claimed log-det from its map, or refute it.

The file is the user's own code (trusted like any script they run) and defines one or more layers
with the :class:`~derive.layers.FlowLayer` protocol — ``inputs()``, ``forward()`` in SymPy and a
``claimed_logdet()`` — either as instances (``LAYER = MyLayer(3)``) or as concrete subclasses,
which are instantiated at each ``dims`` size. For each layer the verdict is

* ``proved`` — :math:`\log|\det J|` computed from ``forward()`` (structure-aware) minus the claim
  reduces to 0 by the proof kernel's algebra (:func:`derive.proof.checks.is_zero`);
* ``refuted`` — a counterexample: concrete values of the inputs and parameters (respecting their
  SymPy assumptions: positive, nonzero, negative, ...) where the claim and the log-det differ at
  50 digits, **re-checked independently** at 100 digits from the full Jacobian matrix of
  ``forward()`` (every entry differentiated and evaluated, determinant by mpmath), never from the
  structure shortcut that produced the candidate. Undefined functions (a network
  :math:`\mu(x_{1:i-1})`) and their derivatives get arbitrary values at the point, which some
  smooth function attains;
* ``undecided`` — no proof, no counterexample: the message says why (the evidence: how many
  points agreed, to how many digits).

Everything runs under :func:`derive.sandbox.run_limited` (time and memory limits). Exit codes are
``derive check``'s: 0 proved, 1 refuted, 2 bad input (unreadable file, no layer, an exception in
the file), 3 undecided or a resource limit. JSON keys: ``file``, ``results`` (one object per layer
with ``layer``, ``dim``, ``status``, ``message``, ``method``, ``structure``, ``claimed_structure``,
``claimed``, ``derived``, ``counterexample``, ``evidence``), ``status``.

>>> from derive.layers import ActNorm
>>> verify_layer(ActNorm(1, height=2, width=1)).status
'proved'
"""

from __future__ import annotations

import random
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from derive._expr import as_expr
from derive.errors import DeriveError, ResourceLimitError, UsageError
from derive.layers import FlowLayer
from derive.proof.checks import is_zero
from derive.sandbox import run_limited

__all__ = ["LayerVerdict", "VerifyReport", "verify_file", "verify_layer"]

Status = Literal["proved", "refuted", "undecided"]
_EXIT = {"proved": 0, "refuted": 1, "undecided": 3}
_TRIALS = 12


@dataclass(frozen=True)
class LayerVerdict:
    """The verdict on one layer's claimed log-det."""

    layer: str
    dim: int
    status: Status
    message: str
    method: str = ""
    structure: str = ""
    claimed_structure: str = ""
    claimed: str = ""
    derived: str = ""
    counterexample: dict[str, str] | None = None
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        lines = [f"{self.layer} (D={self.dim}): {self.status}: {self.message}"]
        if self.method:
            lines.append(f"  method: {self.method}")
        lines.append(f"  structure: {self.structure} (claimed: {self.claimed_structure})")
        if self.counterexample:
            lines.append(
                "  counterexample: " + ", ".join(f"{k} = {v}" for k, v in self.counterexample.items())
            )
        if self.evidence:
            lines.append(f"  evidence: {self.evidence}")
        return "\n".join(lines)


@dataclass(frozen=True)
class VerifyReport:
    """All verdicts for one file; ``status`` is the worst of them."""

    file: str
    results: tuple[LayerVerdict, ...] = field(default_factory=tuple)

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.results}
        return "refuted" if "refuted" in statuses else "undecided" if "undecided" in statuses else "proved"

    @property
    def exit_code(self) -> int:
        return _EXIT[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "results": [r.to_dict() for r in self.results]}

    def summary(self) -> str:
        return "\n".join(r.summary() for r in self.results)


# --- numeric search and independent confirmation ------------------------------------------------------


def _value_for(atom: sp.Basic, rng: random.Random) -> sp.Rational:
    """A random rational respecting the atom's SymPy assumptions."""
    magnitude = sp.Rational(rng.randint(1, 400), rng.choice((10, 100, 7, 3)))
    sign = rng.choice((-1, 1))
    if atom.is_integer:
        return sp.Integer(rng.randint(1, 5))
    if atom.is_positive or atom.is_nonnegative:
        return magnitude
    if atom.is_negative or atom.is_nonpositive:
        return -magnitude
    return sign * magnitude


def _atoms(*exprs: sp.Expr) -> list[sp.Basic]:
    found: set[sp.Basic] = set()
    for e in exprs:
        found |= e.atoms(sp.Derivative)
        found |= {a for a in e.atoms(AppliedUndef)}
        found |= {a for a in e.atoms(sp.Indexed)}
        found |= {s for s in e.free_symbols if not isinstance(s, (sp.Indexed, sp.IndexedBase))}
    # An Indexed's label symbol is not a value; its base is not substituted.
    labels = {i.base.label for e in exprs for i in e.atoms(sp.Indexed)}
    return sorted((a for a in found if a not in labels), key=sp.default_sort_key)


def _evaluate(expr: sp.Expr, point: dict[sp.Basic, sp.Basic], digits: int) -> mpmath.mpf | None:
    value = sp.N(expr.xreplace(point), digits)
    if not value.is_real or not value.is_finite or value.free_symbols:
        return None
    return mpmath.mpf(str(value))


def _full_logdet(layer: FlowLayer, point: dict[sp.Basic, sp.Basic], digits: int) -> mpmath.mpf | None:
    """log|det J| from every entry of the full Jacobian of ``forward()``, evaluated, det by mpmath."""
    outputs, inputs = layer.forward(), layer.inputs()
    with mpmath.workdps(digits):
        rows = []
        for y in outputs:
            row = []
            for x in inputs:
                entry = sp.diff(y, x)
                value = _evaluate(entry, point, digits) if entry != 0 else mpmath.mpf(0)
                if value is None:
                    return None
                row.append(value)
            rows.append(row)
        det = mpmath.det(mpmath.matrix(rows))
        return None if det == 0 else mpmath.log(abs(det))


def _point_for(layer: FlowLayer, claimed: sp.Expr, rng: random.Random) -> dict[sp.Basic, sp.Basic]:
    entries = [sp.diff(y, x) for y in layer.forward() for x in layer.inputs()]
    atoms = _atoms(claimed, *layer.forward(), *entries)
    return {a: _value_for(a, rng) for a in atoms}


def _search(layer: FlowLayer, seed: int) -> tuple[dict[str, str] | None, str]:
    """``(counterexample, evidence)``: a confirmed counterexample, or how the claim agreed."""
    rng = random.Random(seed)
    inverse_abbrev = {v: k for k, v in layer.abbreviations().items()}
    claimed = as_expr(layer.claimed_logdet()).xreplace(inverse_abbrev)  # model-level: derive's own expression
    derived = layer.jacobian().log_abs_det()
    agreed, skipped = 0, 0
    for _ in range(_TRIALS):
        point = _point_for(layer, claimed, rng)
        c50, d50 = _evaluate(claimed, point, 50), _evaluate(derived, point, 50)
        if c50 is None or d50 is None:
            skipped += 1
            continue
        if abs(c50 - d50) <= mpmath.mpf(10) ** -30 * max(1, abs(d50)):
            agreed += 1
            continue
        c100, full100 = _evaluate(claimed, point, 100), _full_logdet(layer, point, 100)
        if c100 is None or full100 is None:
            skipped += 1
            continue
        with mpmath.workdps(100):
            if abs(c100 - full100) > mpmath.mpf(10) ** -60 * max(1, abs(full100)):
                example = {sp.sstr(k): sp.sstr(v) for k, v in point.items()}
                example["claimed"] = mpmath.nstr(c100, 20)
                example["log|det J| (full Jacobian, 100 digits)"] = mpmath.nstr(full100, 20)
                return example, ""
    return (
        None,
        f"claim and log|det J| agree at {agreed} random points to 30 digits ({skipped} not evaluable)",
    )


def verify_layer(layer: FlowLayer, *, seed: int = 0) -> LayerVerdict:
    """Prove ``layer.claimed_logdet()`` from ``layer.forward()``, refute it, or say why neither."""
    if not isinstance(layer, FlowLayer):
        raise UsageError(f"not a FlowLayer: {type(layer).__name__}")
    name = getattr(layer, "name", type(layer).__name__)
    try:
        J = layer.jacobian()
        claimed = as_expr(layer.claimed_logdet())
        derived = layer.derived_logdet()
    except (TypeError, ValueError, AttributeError) as err:
        raise UsageError(f"{name}: the layer's map or claim could not be built: {err}") from None
    claimed_structure = getattr(layer, "claimed_structure", None)
    base = {
        "layer": name,
        "dim": layer.dim,
        "structure": J.structure.value,
        "claimed_structure": getattr(claimed_structure, "value", "not stated"),
        "claimed": sp.sstr(claimed),
        "derived": sp.sstr(derived),
    }
    method = is_zero(derived - claimed)
    if method is not None:
        return LayerVerdict(
            status="proved", message="the claimed log-det equals log|det J| of the map", method=method, **base
        )
    counterexample, evidence = _search(layer, seed)
    if counterexample is not None:
        return LayerVerdict(
            status="refuted",
            message="the claimed log-det differs from log|det J| of the map (confirmed at 100 digits from the full Jacobian)",
            counterexample=counterexample,
            **base,
        )
    return LayerVerdict(
        status="undecided",
        message="no symbolic proof found and no counterexample: the algebra could not reduce the difference to 0",
        evidence=evidence,
        **base,
    )


def _layers_in(path: Path, dims: tuple[int, ...]) -> list[FlowLayer]:
    try:
        namespace = runpy.run_path(str(path), run_name="__derive_verify__")
    except DeriveError:
        raise
    except Exception as err:  # the user's file failed: bad input, one line
        raise UsageError(f"{path}: running the file raised {type(err).__name__}: {err}") from None
    found: list[FlowLayer] = [v for v in namespace.values() if isinstance(v, FlowLayer)]
    if not found:
        classes = [
            v
            for v in namespace.values()
            if isinstance(v, type)
            and issubclass(v, FlowLayer)
            and v.__module__ == "__derive_verify__"
            and not getattr(v, "__abstractmethods__", None)
        ]
        for cls in classes:
            for d in dims:
                try:
                    found.append(cls(d))
                except Exception as err:
                    raise UsageError(
                        f"{path}: {cls.__name__}({d}) raised {type(err).__name__}: {err}"
                    ) from None
    if not found:
        raise UsageError(f"{path}: defines no FlowLayer instance or concrete FlowLayer subclass")
    return found


def _verify_in_child(path: str, dims: tuple[int, ...], seed: int) -> VerifyReport:
    layers = _layers_in(Path(path), dims)
    return VerifyReport(path, tuple(verify_layer(layer, seed=seed) for layer in layers))


def verify_file(
    path: str | Path, *, dims: tuple[int, ...] = (2,), seed: int = 0, timeout: float = 60.0
) -> VerifyReport:
    """Verify every layer the file defines, in a sandboxed child (``timeout`` seconds, 2 GiB)."""
    p = Path(path)
    if p.suffix != ".py" or not p.is_file():
        raise UsageError(f"{path}: not a readable .py file")
    if any(d < 1 for d in dims):
        raise UsageError(f"--dim must be positive, got {dims}")
    try:
        return run_limited(_verify_in_child, str(p), tuple(dims), seed, timeout=timeout)
    except RuntimeError as err:
        raise UsageError(f"{path}: {err}") from None
    except ResourceLimitError:
        raise
