r"""The trusted kernel: the only code that makes a :class:`Theorem`.

In the LCF tradition (HOL Light's ``thm``), a :class:`Theorem` ``Γ ⊢ lhs = rhs`` can be built only by
the rules in this module; everything else in derive — proof steps, derivations, the checker —
obtains theorems *through* these rules, so a bug elsewhere can make a proof fail but never make a
false one. Each rule computes on the exact expressions it certifies:

========================  ===================================================================
rule                      what it computes
========================  ===================================================================
:func:`algebra`           ``lhs = rhs`` by computer algebra on hygienic (alpha-renamed) forms
:func:`assume`            ``{lhs = rhs} ⊢ lhs = rhs`` (a hypothesis, discharged by induction)
:func:`trans`, :func:`sym`  equality is transitive and symmetric
:func:`inst`              instantiate a free variable, respecting its assumptions and domain
:func:`rewrite`           replace occurrences of a theorem's lhs, never under a binder of a
                          variable the theorem's hypotheses fix
:func:`peel`              the definition of a finite sum (split off the first or last term)
:func:`sum_congruence`    equal summands over equal ranges give equal sums
:func:`jacobian_logdet`   a map's log-determinant from its Jacobian (structure computed; the
                          triangular/block determinant is a cited axiom)
:func:`jacobian_entry`    one Jacobian entry by differentiation of the model
:func:`change_of_variables`, :func:`logdet_chain`, :func:`gaussian`, :func:`inverse_logdet`
                          instances of cited axioms whose side conditions are computed on the
                          models the instance is about
:func:`induction`         induction on ℕ, matched against the motive
:func:`finite_cases`      a statement checked at finitely many sizes (its domain says so)
========================  ===================================================================

What is trusted: this module, :mod:`~derive.proof._hygiene`, :mod:`~derive.proof._algebra`,
:mod:`derive.jacobian` (dependency analysis), SymPy's simplification and differentiation, and the
axioms in :mod:`derive.proof.axioms`.

>>> import sympy as sp
>>> x = sp.Symbol("x", positive=True)
>>> algebra(sp.log(x**2), 2 * sp.log(x))
⊢ log(x**2) = 2*log(x)
>>> Theorem(None, x, x)
Traceback (most recent call last):
...
derive.proof.kernel.KernelError: theorems are made only by the kernel's rules
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from derive._expr import as_expr
from derive.errors import VerificationError
from derive.jacobian import structural_diff
from derive.proof import axioms as ax
from derive.proof._algebra import decide, is_zero
from derive.proof._hygiene import RESERVED_PREFIX, bound_symbols, canonical
from derive.proof._show import show

__all__ = [
    "KernelError",
    "Theorem",
    "algebra",
    "assume",
    "block_logdet",
    "change_of_variables",
    "finite_cases",
    "gaussian",
    "induction",
    "inst",
    "inverse_logdet",
    "jacobian_entry",
    "jacobian_logdet",
    "logdet_chain",
    "low_rank_logdet",
    "peel",
    "rank_one_logdet",
    "rewrite",
    "statistic",
    "sum_congruence",
    "sym",
    "trans",
]

_KERNEL = object()

Hyp = tuple[sp.Expr, sp.Expr]


class KernelError(VerificationError):
    """A rule was misused (e.g. a theorem built outside the kernel)."""


class Theorem:
    r"""``hyps ⊢ lhs = rhs``, valid for every value of its free variables (within ``domain``)."""

    __slots__ = ("assumptions", "axioms", "detail", "domain", "hyps", "lhs", "premises", "rhs", "rule")
    lhs: sp.Expr
    rhs: sp.Expr
    hyps: frozenset[Hyp]
    axioms: frozenset[str]
    domain: tuple[tuple[sp.Symbol, tuple[int, ...]], ...]
    rule: str
    detail: str
    premises: tuple[Theorem, ...]
    assumptions: tuple[str, ...]

    def __init__(self, token: object, lhs: sp.Expr, rhs: sp.Expr, **fields: Any) -> None:
        if token is not _KERNEL:
            raise KernelError("theorems are made only by the kernel's rules")
        values = {
            "lhs": lhs,
            "rhs": rhs,
            "hyps": frozenset(),
            "axioms": frozenset(),
            "domain": (),
            "rule": "",
            "detail": "",
            "premises": (),
            "assumptions": (),
        }
        values.update(fields)
        for k, v in values.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name: str, value: object) -> None:
        raise KernelError("theorems are immutable")

    def __delattr__(self, name: str) -> None:
        raise KernelError("theorems are immutable")

    def __reduce__(self) -> Any:
        raise KernelError("theorems cannot be pickled (they would come back unchecked)")

    def __copy__(self) -> Theorem:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Theorem:
        return self

    @property
    def closed(self) -> bool:
        """No hypotheses left."""
        return not self.hyps

    def axioms_used(self) -> tuple[ax.Axiom, ...]:
        return tuple(a for a in ax.AXIOMS if a.name in self.axioms)

    def __repr__(self) -> str:
        hyps = ", ".join(f"{sp.sstr(a)} = {sp.sstr(b)}" for a, b in sorted(self.hyps, key=str))
        dom = "".join(f" [for {sp.sstr(v)} in {set(vals)}]" for v, vals in self.domain)
        return f"{hyps + ' ' if hyps else ''}⊢ {sp.sstr(self.lhs)} = {sp.sstr(self.rhs)}{dom}"


def _make(lhs: sp.Expr, rhs: sp.Expr, rule: str, premises: Iterable[Theorem] = (), **fields: Any) -> Theorem:
    premises = tuple(premises)
    hyps = frozenset().union(*(p.hyps for p in premises), fields.pop("hyps", frozenset()))
    axioms = frozenset().union(*(p.axioms for p in premises), fields.pop("axioms", frozenset()))
    domain: dict[sp.Symbol, tuple[int, ...]] = {}
    for p in premises:
        for v, vals in p.domain:
            domain[v] = tuple(sorted(set(domain.get(v, vals)) & set(vals)))
    for v, vals in fields.pop("domain", ()):
        domain[v] = tuple(sorted(set(domain.get(v, vals)) & set(vals)))
    assumptions = tuple(
        sorted(set().union(*(p.assumptions for p in premises), fields.pop("assumptions", ())))
    )
    return Theorem(
        _KERNEL,
        lhs,
        rhs,
        rule=rule,
        premises=premises,
        hyps=hyps,
        axioms=axioms,
        domain=tuple(sorted(domain.items(), key=lambda kv: kv[0].name)),
        assumptions=assumptions,
        **fields,
    )


def _check_theorem(th: object) -> Theorem:
    if not isinstance(th, Theorem):
        raise VerificationError(
            f"only kernel theorems can be cited, not {type(th).__name__} (a hand-made fact proves nothing)"
        )
    return th


def _alpha_eq(a: sp.Basic, b: sp.Basic) -> bool:
    return a == b or canonical(a) == canonical(b)


# --------------------------------------------------------------------------------------- assumptions
def _positive_atoms(expr: sp.Basic) -> set[str]:
    """The positivity assumptions (declared on the atoms) an algebra step may have used, as LaTeX."""
    names = set()
    labels = {b.label for b in expr.atoms(sp.IndexedBase)}
    for a in expr.atoms(sp.Indexed, sp.Symbol, AppliedUndef):
        if not a.is_positive or a.is_integer or a in labels:
            continue
        if isinstance(a, sp.Indexed):
            names.add(f"{sp.latex(a.base.label)}_{{\\cdot}} > 0")
        elif isinstance(a, sp.Symbol) and not a.name.startswith(RESERVED_PREFIX):
            names.add(f"{sp.latex(a)} > 0")
    return names


def _satisfies(var: sp.Symbol, value: sp.Expr) -> bool:
    """Every assumption declared on ``var`` holds for ``value``."""
    for key, holds in var.assumptions0.items():
        if holds is True and getattr(value, f"is_{key}", None) is not True:
            return False
    return True


# --------------------------------------------------------------------------------------- basic rules
def algebra(lhs: sp.Expr, rhs: sp.Expr, expand_sums: bool = False) -> Theorem:
    """``⊢ lhs = rhs`` when computer algebra reduces their hygienic difference to 0."""
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    method = decide(lhs, rhs, expand_sums)
    if method is None:
        diff = canonical(lhs) - canonical(rhs)
        try:
            shown = sp.sstr(sp.simplify(diff))
        except Exception:
            shown = sp.sstr(diff)
        raise VerificationError(f"not an identity: before - after = {shown[:400]}")
    return _make(lhs, rhs, "algebra", detail=method, assumptions=_positive_atoms(lhs) | _positive_atoms(rhs))


def assume(lhs: sp.Expr, rhs: sp.Expr) -> Theorem:
    """``{lhs = rhs} ⊢ lhs = rhs``: a hypothesis (only :func:`induction` discharges it)."""
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    return _make(lhs, rhs, "hypothesis", hyps=frozenset({(lhs, rhs)}))


def refl(e: sp.Expr) -> Theorem:
    e = as_expr(e)
    return _make(e, e, "reflexivity")


def trans(a: Theorem, b: Theorem) -> Theorem:
    """From ``a: x = y`` and ``b: y = z``, ``x = z``."""
    a, b = _check_theorem(a), _check_theorem(b)
    if not _alpha_eq(a.rhs, b.lhs):
        raise VerificationError(f"cannot chain: {sp.sstr(a.rhs)} is not {sp.sstr(b.lhs)}")
    return _make(a.lhs, b.rhs, "transitivity", (a, b))


def sym(a: Theorem) -> Theorem:
    a = _check_theorem(a)
    return _make(a.rhs, a.lhs, "symmetry", (a,))


def _fixed(th: Theorem) -> set[sp.Basic]:
    """Variables a theorem is *not* general in: free in its hypotheses, or with a restricted domain."""
    out: set[sp.Basic] = {v for v, _ in th.domain}
    for a, b in th.hyps:
        out |= a.free_symbols | b.free_symbols
    return out


def inst(th: Theorem, mapping: Mapping[sp.Symbol, Any]) -> Theorem:
    """Instantiate free variables of ``th``; each value must satisfy the variable's assumptions and domain."""
    th = _check_theorem(th)
    rule: dict[sp.Basic, sp.Expr] = {}
    domain = dict(th.domain)
    for var, raw in mapping.items():
        value = as_expr(raw)
        if not isinstance(var, sp.Symbol):
            raise VerificationError(f"can only instantiate variables, not {sp.sstr(var)}")
        if not _satisfies(var, value):
            raise VerificationError(
                f"cannot instantiate {var} := {sp.sstr(value)}: the theorem was proved for {var} with "
                f"assumptions {sorted(k for k, v in var.assumptions0.items() if v and k in ('integer', 'positive', 'nonnegative', 'real', 'nonzero'))}"
            )
        if var in domain:
            allowed = domain[var]
            if not (value.is_Integer and int(value) in allowed):
                raise VerificationError(
                    f"cannot instantiate {var} := {sp.sstr(value)}: the statement was checked only for "
                    f"{var} in {{{', '.join(map(str, allowed))}}}"
                )
        rule[var] = value
    incoming = set().union(*(v.free_symbols for v in rule.values())) if rule else set()

    def sub(e: sp.Expr) -> sp.Expr:
        if not e.free_symbols & set(rule):
            return e
        # Rename binders apart only when a value could be captured by one (keeps the user's names).
        return (canonical(e) if (incoming | set(rule)) & bound_symbols(e) else e).xreplace(rule)

    hyps = frozenset((sub(a), sub(b)) for a, b in th.hyps)
    new_domain = tuple((v, vals) for v, vals in th.domain if v not in rule)
    return Theorem(
        _KERNEL,
        sub(th.lhs),
        sub(th.rhs),
        rule="instantiation",
        detail=", ".join(f"{sp.sstr(k)} := {sp.sstr(v)}" for k, v in rule.items()),
        premises=(th,),
        hyps=hyps,
        axioms=th.axioms,
        domain=new_domain,
        assumptions=th.assumptions,
    )


def _rewrite_in(
    e: sp.Basic, th: Theorem, fixed: set[sp.Basic], scope: dict[sp.Basic, sp.Expr], count: list[int]
) -> sp.Basic:
    lhs = th.lhs
    if e == lhs or (isinstance(e, type(lhs)) and lhs.has(sp.Sum, sp.Product) and _alpha_eq(e, lhs)):
        captured = set(scope) & (lhs.free_symbols | th.rhs.free_symbols)
        if captured & fixed:
            names = ", ".join(sorted(map(str, captured & fixed)))
            raise VerificationError(
                f"cannot use {sp.sstr(lhs)} = {sp.sstr(th.rhs)} under a sum over {names}: the statement "
                f"holds for a particular {names} only"
            )
        for k in captured:  # the bound variable instantiates a general one: its range must fit
            if isinstance(k, sp.Symbol) and not _satisfies(k, scope[k]):
                raise VerificationError(
                    f"cannot use {sp.sstr(lhs)} = {sp.sstr(th.rhs)} inside the sum over {k}: its range "
                    f"(from {sp.sstr(scope[k])}) is outside the assumptions {k} was proved under"
                )
        count[0] += 1
        return th.rhs
    if isinstance(e, (sp.Sum, sp.Product)):
        inner = dict(scope)
        limits = []
        for limit in reversed(e.limits):
            k, a, b = limit
            a2, b2 = _rewrite_in(a, th, fixed, inner, count), _rewrite_in(b, th, fixed, inner, count)
            lo = a.xreplace({s: v for s, v in inner.items()})
            inner[k] = lo + sp.Dummy("kappa", integer=True, nonnegative=True)
            limits.append((k, a2, b2))
        body = _rewrite_in(e.function, th, fixed, inner, count)
        return type(e)(body, *reversed(limits))
    if not e.args:
        return e
    args = [_rewrite_in(a, th, fixed, scope, count) for a in e.args]
    return e if all(x is y for x, y in zip(args, e.args, strict=True)) else e.func(*args)


def rewrite(th: Theorem, expr: sp.Expr) -> Theorem:
    """``⊢ expr = expr'`` where ``expr'`` has every occurrence of ``th.lhs`` replaced by ``th.rhs``."""
    th = _check_theorem(th)
    expr = as_expr(expr)
    count = [0]
    out = _rewrite_in(expr, th, _fixed(th), {}, count)
    if count[0] == 0:
        raise VerificationError(f"{sp.sstr(th.lhs)} does not occur in {sp.sstr(expr)[:200]}")
    return _make(expr, out, "rewrite", (th,), detail=f"{count[0]} occurrence(s)")


# --------------------------------------------------------------------------------------- sums
def _peel_sums(e: sp.Basic, bound: sp.Expr, first: bool, count: list[int]) -> sp.Basic:
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        k, a, b = e.limits[0]
        f = _peel_sums(e.function, bound, first, count)
        if (b if not first else a) == bound:
            if not (b - a).is_nonnegative:
                raise VerificationError(
                    f"cannot split a term off {sp.sstr(e)}: its range may be empty ({sp.sstr(b)} >= {sp.sstr(a)} unknown)"
                )
            count[0] += 1
            if first:
                return f.xreplace({k: a}) + sp.Sum(f, (k, a + 1, b))
            return sp.Sum(f, (k, a, b - 1)) + f.xreplace({k: b})
        return sp.Sum(f, (k, a, b))
    if not e.args:
        return e
    args = [_peel_sums(a, bound, first, count) for a in e.args]
    return e if all(x is y for x, y in zip(args, e.args, strict=True)) else e.func(*args)


def peel(expr: sp.Expr, bound: sp.Expr, first: bool = False) -> Theorem:
    r"""The definition of a finite sum: :math:`\sum_{k=a}^{b} f_k = \sum_{k=a}^{b-1} f_k + f_b` for
    :math:`b \ge a` (``first``: :math:`= f_a + \sum_{k=a+1}^{b} f_k`), for every sum whose last (first)
    index is ``bound``."""
    expr, bound = as_expr(expr), as_expr(bound)
    count = [0]
    out = _peel_sums(expr, bound, first, count)
    if count[0] == 0:
        which = "first" if first else "last"
        raise VerificationError(f"no sum with {which} index {sp.sstr(bound)} to split")
    return _make(expr, out, "finite sum", detail=f"{'first' if first else 'last'} term split off")


def _single_sum(e: sp.Expr) -> tuple[sp.Expr, sp.Expr, tuple[Any, ...]] | None:
    coeff, rest = e.as_coeff_Mul()
    if isinstance(rest, sp.Sum):
        return coeff, rest.function, rest.limits
    if isinstance(rest, sp.Mul):
        sums = [a for a in rest.args if isinstance(a, sp.Sum)]
        if len(sums) == 1:
            other = sp.Mul(*[a for a in rest.args if a is not sums[0]])
            return coeff * other, sums[0].function, sums[0].limits
    return None


def sum_congruence(lhs: sp.Expr, rhs: sp.Expr) -> Theorem:
    r""":math:`c\sum_{k=a}^{b} f_k = d\sum_{k=a}^{b} g_k` for all bounds when :math:`c f_k = d g_k` for
    every k in the range (``c, d`` free of k: the index is renamed apart first)."""
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    left, right = _single_sum(canonical(lhs)), _single_sum(canonical(rhs))
    if left is None or right is None:
        raise VerificationError("summand identity needs a single sum on each side")
    if left[2] != right[2]:
        raise VerificationError(f"sum limits differ: {left[2]} vs {right[2]}")
    # Inside the sum each index lies in its range: k = a + κ with κ >= 0.
    values: dict[sp.Basic, sp.Expr] = {}
    for k, a, _ in reversed(left[2]):
        values[k] = a.xreplace(values) + sp.Dummy(f"kappa_{k}", integer=True, nonnegative=True)
    f, g = (left[0] * left[1]).xreplace(values), (right[0] * right[1]).xreplace(values)
    method = is_zero(expand_concrete(f - g))
    if method is None:
        raise VerificationError("summands differ")
    bounds = ", ".join(f"{sp.sstr(a)}..{sp.sstr(b)}" for _, a, b in left[2])
    return _make(
        lhs,
        rhs,
        "sum congruence",
        detail=f"summands equal ({method}) for every index in {bounds}",
        assumptions=_positive_atoms(lhs) | _positive_atoms(rhs),
    )


def expand_concrete(e: sp.Expr) -> sp.Expr:
    from derive.proof._algebra import expand_concrete_sums

    return expand_concrete_sums(e)


# --------------------------------------------------------------------------------------- models
def _layer_of(q: sp.Basic) -> Any:
    from derive.quantities import JacEntry, LogDetMap, LogDetStep

    if isinstance(q, LogDetStep):
        return q.model.step(q.args[1])
    if isinstance(q, (LogDetMap, JacEntry)):
        return q.model
    raise VerificationError(f"{sp.sstr(q)} is not the log-determinant of a model")


def _is_generic(layer: Any) -> bool:
    from derive.layers.generic import GenericLayer

    return isinstance(layer, GenericLayer)


def _abbreviate_safely(layer: Any, e: sp.Expr) -> sp.Expr:
    """Abbreviate model-level terms; an abbreviation may not claim more than its definition has."""
    if _is_generic(layer):
        from derive.layers.generic import ARApply

        pairs = [(a, a.abbreviation()) for a in e.atoms(ARApply)]
    else:
        from derive.layers._base import FlowLayer

        mapping = layer._cached("abbreviations", lambda: dict(layer.abbreviations()))
        # Only the pairs FlowLayer.abbreviate's xreplace applies (outermost matches) need checking;
        # every pair when the layer abbreviates in its own way or a node replaces in its own way.
        found: dict[sp.Basic, sp.Expr] = {}
        stack: list[sp.Basic] = [e] if type(layer).abbreviate is FlowLayer.abbreviate else []
        if not stack:
            found = dict(mapping)
        while stack:
            n = stack.pop()
            if n in mapping:
                found[n] = mapping[n]
            elif type(n)._xreplace is not sp.Basic._xreplace:
                found = dict(mapping)
                break
            else:
                stack.extend(n.args)
        pairs = list(found.items())
    for src, dst in pairs:
        for key in ("positive", "nonnegative", "nonzero", "real", "integer"):
            if getattr(src, f"is_{key}") is not True and getattr(dst, f"is_{key}") is True:
                raise VerificationError(f"abbreviation {sp.sstr(dst)} claims {key}, {sp.sstr(src)} is not")
    return layer.abbreviate(e)


@lru_cache(maxsize=256)
def _generic_entries(layer: Any) -> tuple[str, sp.Expr, sp.Symbol]:
    """Structure and diagonal of a generic layer's Jacobian, for symbolic i, j (computed)."""
    i = sp.Dummy("i", integer=True, positive=True)
    k = sp.Dummy("k", integer=True, positive=True)

    def vanishes(e: sp.Expr) -> bool:
        # Cheap on purpose: an entry not shown zero counts as nonzero, which can only refuse a structure.
        return e == 0 or sp.expand(e) == 0

    above = sp.diff(layer.component(i), layer.input(i + k))
    below = sp.diff(layer.component(i + k), layer.input(i))
    above, below = (sp.Integer(0) if vanishes(e) else e for e in (above, below))
    if above == 0 and below == 0:
        structure = "diagonal"
    elif above == 0:
        structure = "lower-triangular"
    elif below == 0:
        structure = "upper-triangular"
    else:
        raise VerificationError(f"{layer!r}: the Jacobian is not triangular for symbolic i, j")
    return structure, sp.diff(layer.component(i), layer.input(i)), i


def jacobian_logdet(q: sp.Expr) -> Theorem:
    r"""``⊢ q = Σ_r log|J_rr|`` (or the block / full determinant) for ``q`` a model's log-determinant.

    The Jacobian is computed from the model (dependency analysis and differentiation; for a layer at
    symbolic dimension, differentiation for symbolic i, j); the triangular or block determinant is
    the cited axiom.
    """
    from derive.symbols import i as display_i

    q = as_expr(q)
    layer = _layer_of(q)
    if _is_generic(layer):
        structure, diag, i = _generic_entries(layer)
        # The bound index is printed as i only where no free or bound i of the model could be captured.
        rhs = _shown(
            sp.Sum(sp.log(sp.Abs(_abbreviate_safely(layer, diag))), (i, 1, layer.dim)), {i: display_i}
        )
        return _make(
            q,
            rhs,
            "jacobian",
            axioms={ax.DET_TRIANGULAR.name},
            detail=f"Jacobian {structure} for symbolic i, j (entries differentiated from the model); "
            "det of a triangular matrix is the product of its diagonal",
        )
    J = layer.jacobian()
    if J.structure.is_triangular:
        used = {ax.DET_TRIANGULAR.name}
        what = f"{J.structure.value}, {J.zero_entries()} entries zero by dependency"
    elif J.structure.is_block:
        used = {ax.DET_BLOCK_TRIANGULAR.name}
        what = f"{J.structure.value} with blocks {list(J.blocks)}"
    else:
        used, what = set(), "full: determinant computed by SymPy"
    rhs = _abbreviate_safely(layer, J.log_abs_det())
    return _make(q, rhs, "jacobian", axioms=used, detail=f"Jacobian of {layer!r}: {what}")


def jacobian_entry(q: sp.Expr) -> Theorem:
    """``⊢ J[r, c] = ∂y_r/∂x_c`` differentiated from the (concrete) model."""
    from derive.quantities import JacEntry

    q = as_expr(q)
    if not isinstance(q, JacEntry):
        raise VerificationError(f"{sp.sstr(q)} is not a Jacobian entry")
    layer, (r, c) = q.model, q.args[1:]
    if _is_generic(layer):
        value = sp.diff(layer.component(r), layer.input(c))
    else:
        value = sp.diff(layer.forward()[int(r) - 1], layer.inputs()[int(c) - 1])
    return _make(q, value, "differentiation", detail=f"entry ({r}, {c}) of the Jacobian of {layer!r}")


def _bijection_evidence(layer: Any) -> str:
    """Computed evidence that a layer is a bijection of R^n; raises when it cannot be established."""
    if _is_generic(layer):
        structure, diag, i = _generic_entries(layer)
        affine = sp.simplify(sp.diff(diag, layer.input(i))) == 0
        ok = affine and diag.is_nonzero is True
        from derive.symbols import i as display_i

        shown = show(layer.abbreviate(diag).xreplace({i: display_i}))
        what = f"{structure} for symbolic i, j; ∂y_i/∂x_i = {shown} is free of x_i and nonzero"
    else:
        J = layer.jacobian()
        ins = layer.inputs()
        ok = J.structure.is_triangular and all(
            d.is_nonzero is True and structural_diff(d, ins[r]) == 0 for r, d in enumerate(J.diagonal)
        )
        what = f"{J.structure.value} Jacobian of {layer!r}, each diagonal entry nonzero and free of its input"
    if not ok:
        raise VerificationError(f"change of variables needs a bijection; not established for {layer!r}")
    return what


def change_of_variables(q_out: sp.Expr) -> Theorem:
    r"""Axiom instance: :math:`\log p(\text{out}) = \log p(\text{in}) - \log|\det J|` for the map whose
    output density ``q_out`` is — a flow's iterate ``LogQ(F, t)`` (the map is step t, or with
    ``LogQ(F, t)`` and ``total=True``… see :func:`change_of_variables_total`), or ``LogQOut(L)``."""
    from derive.quantities import LogDetMap, LogDetStep, LogN, LogQ, LogQIn, LogQOut, ModelAtom

    q_out = as_expr(q_out)
    if isinstance(q_out, LogQ):
        atom, t = q_out.args
        flow = q_out.model
        layer = flow.step(t)
        q_in = LogN(atom) if t == 0 else LogQ(atom, t - 1)
        logdet = LogDetStep(atom, t)
    elif isinstance(q_out, LogQOut):
        layer = q_out.model
        atom = ModelAtom(layer)
        q_in, logdet = LogQIn(atom), LogDetMap(atom)
    else:
        raise VerificationError(f"{sp.sstr(q_out)} is not the density of a map's output")
    evidence = _bijection_evidence(layer)
    return _make(
        q_out,
        q_in - logdet,
        "axiom",
        axioms={ax.CHANGE_OF_VARIABLES.name},
        detail=f"{ax.CHANGE_OF_VARIABLES.name}; bijection: {evidence}",
    )


def change_of_variables_total(q_out: sp.Expr) -> Theorem:
    r"""Axiom instance for the whole flow :math:`\boldsymbol\epsilon\mapsto\mathbf{z}_T` (concrete T):
    :math:`\log q(\mathbf{z}_T) = \log\mathcal{N}(\boldsymbol\epsilon) - \log|\det\partial\mathbf{z}_T/\partial\boldsymbol\epsilon|`."""
    from derive.quantities import LogDetTotal, LogN, LogQ

    q_out = as_expr(q_out)
    if not isinstance(q_out, LogQ) or not q_out.args[1].is_Integer:
        raise VerificationError("the whole-flow change of variables needs log q(z_T|x) at a concrete T")
    atom, T = q_out.args
    flow = q_out.model
    evidence = "; ".join(_bijection_evidence(flow.step(k)) for k in range(int(T) + 1))
    return _make(
        q_out,
        LogN(atom) - LogDetTotal(atom, T),
        "axiom",
        axioms={ax.CHANGE_OF_VARIABLES.name},
        detail=f"{ax.CHANGE_OF_VARIABLES.name}; a composition of bijections: {evidence}",
    )


def logdet_chain(q: sp.Expr) -> Theorem:
    r"""Axiom instance (chain rule + det(AB) = det A det B): :math:`\log|\det\partial\mathbf{z}_T/
    \partial\boldsymbol\epsilon| = \sum_{t=0}^{T}\log|\det\partial\mathbf{z}_t/\partial\mathbf{z}_{t-1}|`,
    for a concrete T, after checking that each step maps the previous step's output."""
    from derive.quantities import LogDetStep, LogDetTotal

    q = as_expr(q)
    if not isinstance(q, LogDetTotal) or not q.args[1].is_Integer:
        raise VerificationError("the log-det chain rule needs log|det dz_T/deps| at a concrete T")
    atom, T = q.args
    flow = q.model
    steps = [flow.step(k) for k in range(int(T) + 1)]
    for prev, nxt in itertools.pairwise(steps):
        if tuple(nxt.inputs()) != tuple(prev.output_symbols()):
            raise VerificationError(f"{nxt!r} does not take {prev!r}'s output as its input")
    rhs = sp.Add(*[LogDetStep(atom, k) for k in range(int(T) + 1)])
    return _make(
        q,
        rhs,
        "axiom",
        axioms={ax.CHAIN_RULE.name, ax.DET_PRODUCT.name},
        detail=f"chain rule and det(AB) = det A det B over {len(steps)} composed maps (inputs = previous outputs, checked)",
    )


def gaussian(q: sp.Expr) -> Theorem:
    r"""Axiom instance: :math:`\log\mathcal{N}(\boldsymbol\epsilon;\mathbf{0},\mathbf{I}) =
    \sum_{i=1}^{D}(-\tfrac12\log 2\pi - \tfrac12\epsilon_i^2)` for the flow's dimension D."""
    from derive.quantities import LogN, LogQOut
    from derive.symbols import epsilon, i

    q = as_expr(q)
    if isinstance(q, LogN) or (isinstance(q, LogQOut) and q.model.text_io[0] == "ε"):
        dim = q.model.dim
    else:
        raise VerificationError(f"{sp.sstr(q)} is not a standard normal log-density")
    body = -sp.log(2 * sp.pi) / 2 - epsilon[i] ** 2 / 2
    return _make(
        q,
        sp.Sum(body, (i, 1, as_expr(dim))),
        "axiom",
        axioms={ax.GAUSSIAN_DENSITY.name},
        detail="mean 0, covariance I",
    )


def inverse_logdet(q_inverse: sp.Expr, q_forward: sp.Expr) -> Theorem:
    r"""Axiom instance: ``log|det J_g| = -log|det J_f|`` when g inverts f, checked by composing the
    models component-wise (``g(f(u)) = u``; symbolic i for layers at symbolic dimension)."""
    from derive.quantities import LogDetMap

    q_inverse, q_forward = as_expr(q_inverse), as_expr(q_forward)
    if not isinstance(q_inverse, LogDetMap) or not isinstance(q_forward, LogDetMap):
        raise VerificationError("the inverse-function rule relates two maps' log-determinants")
    g, f = q_inverse.model, q_forward.model
    if _is_generic(g) and _is_generic(f):
        if _generic_entries(g)[0] != "diagonal" or _generic_entries(f)[0] != "diagonal":
            raise VerificationError("the component-wise inverse check needs two diagonal maps")
        i = sp.Dummy("i", integer=True, positive=True)
        # g's input j is f's output j: substitute f's components for g's inputs (diagonal maps only).
        gi = g.component(i).xreplace({g.input(i): f.component(i)})
        ok = gi.free_symbols.isdisjoint({g.input(i)}) and is_zero(gi - f.input(i)) is not None
        where = "for symbolic i"
    else:
        outs = dict(zip(g.inputs(), f.forward(), strict=True))
        ok = all(
            is_zero(gc.xreplace(outs) - x) is not None for gc, x in zip(g.forward(), f.inputs(), strict=True)
        )
        where = f"at D = {f.dim}"
    if not ok:
        raise VerificationError(f"{g!r} is not the inverse of {f!r}")
    return _make(
        q_inverse,
        -q_forward,
        "axiom",
        axioms={ax.INVERSE_FUNCTION.name},
        detail=f"inverse function theorem; g(f(u)) = u checked {where}",
    )


def statistic(q: sp.Expr) -> Theorem:
    """``⊢ v_i = (batch variance)`` / ``⊢ ŷ_{1,i} = (x_{1,i} - mean)/sqrt(v_i + ε)``: the definition of a
    train-mode batch statistic, computed from the model at its concrete batch size."""
    from derive.quantities import BatchHat, BatchVar

    q = as_expr(q)
    if not isinstance(q, (BatchVar, BatchHat)):
        raise VerificationError(f"{sp.sstr(q)} is not a batch statistic")
    model, i = q.model, q.args[1]
    value = model.var(i) if isinstance(q, BatchVar) else model.normalized(1, i)
    for key in ("nonnegative", "real"):
        if getattr(q, f"is_{key}") is True and getattr(value, f"is_{key}") is not True:
            raise VerificationError(f"{sp.sstr(q)} is declared {key}, its definition is not")
    return _make(q, value, "definition", detail=f"{type(q).__name__} of {model!r}")


# --------------------------------------------------------------------------------------- induction, cases
def _nat(v: sp.Symbol) -> bool:
    return isinstance(v, sp.Symbol) and v.is_integer is True and v.is_nonnegative is True


def induction(
    var: sp.Symbol, lhs: sp.Expr, rhs: sp.Expr, base: Theorem, step: Theorem, n: sp.Symbol
) -> Theorem:
    r"""``⊢ lhs = rhs`` for all ``var ≥ 0`` from ``base: ⊢ P(0)`` and ``step: {P(n)} ⊢ P(n+1)``."""
    base, step = _check_theorem(base), _check_theorem(step)
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    if not _nat(var) or not _nat(n):
        raise VerificationError("induction runs over nonnegative integer variables")
    if n in lhs.free_symbols | rhs.free_symbols:
        raise VerificationError(f"the induction variable {n} must be fresh")
    at = lambda v: (lhs.xreplace({var: v}), rhs.xreplace({var: v}))  # noqa: E731
    if base.hyps or base.domain or not (_alpha_eq(base.lhs, at(0)[0]) and _alpha_eq(base.rhs, at(0)[1])):
        raise VerificationError(f"the base case is not P(0): {base!r}")
    p_n = at(n)
    if len(step.hyps) != 1 or step.domain:
        raise VerificationError(f"the induction step must assume exactly P({n})")
    ((h_lhs, h_rhs),) = step.hyps
    if not (_alpha_eq(h_lhs, p_n[0]) and _alpha_eq(h_rhs, p_n[1])):
        raise VerificationError(f"the induction step assumes {sp.sstr(h_lhs)} = {sp.sstr(h_rhs)}, not P({n})")
    p_next = at(n + 1)
    if not (_alpha_eq(step.lhs, p_next[0]) and _alpha_eq(step.rhs, p_next[1])):
        raise VerificationError(f"the induction step does not conclude P({n}+1): {step!r}")
    th = _make(lhs, rhs, "induction", (base,), axioms={ax.INDUCTION.name} | step.axioms, detail=f"on {var}")
    return Theorem(
        _KERNEL,
        th.lhs,
        th.rhs,
        rule="induction",
        detail=f"on {var}: base case and step",
        premises=(base, step),
        hyps=frozenset(),
        axioms=th.axioms,
        domain=(),
        assumptions=tuple(sorted(set(base.assumptions) | set(step.assumptions))),
    )


def finite_cases(var: sp.Symbol, lhs: sp.Expr, rhs: sp.Expr, cases: Mapping[int, Theorem]) -> Theorem:
    """``⊢ lhs = rhs`` for ``var`` in the finite set ``cases`` (each case proved); the domain says so."""
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    if not cases:
        raise VerificationError("no cases")
    for value, th in cases.items():
        th = _check_theorem(th)
        if th.hyps:
            raise VerificationError(f"case {var} = {value} has open hypotheses")
        want = (lhs.xreplace({var: value}), rhs.xreplace({var: value}))
        if not (_alpha_eq(th.lhs, want[0]) and _alpha_eq(th.rhs, want[1])):
            raise VerificationError(
                f"case {var} = {value} proves {th!r}, not the statement at {var} = {value}"
            )
    return _make(
        lhs,
        rhs,
        "finite cases",
        tuple(cases.values()),
        domain=((var, tuple(sorted(cases))),),
        detail=f"checked for {var} in {{{', '.join(map(str, sorted(cases)))}}} only",
    )


# --------------------------------------------------------------------------------------- rank-one updates
def _entry_in_range(e: sp.Expr, indices: tuple[sp.Symbol, ...], dim: sp.Expr) -> sp.Expr:
    """Resolve the ``Piecewise`` that differentiating a sum over ``1..dim`` leaves, for indices in ``1..dim``.

    A condition is dropped only when it holds for every index value ``1 <= v <= dim`` (tried as
    ``v = 1 + κ`` and ``v = dim − κ`` with ``κ >= 0``); an undecided ``Piecewise`` is kept as it is.
    """

    def holds(cond: sp.Basic) -> bool:
        if cond is sp.true:
            return True
        if isinstance(cond, sp.And):
            return all(holds(c) for c in cond.args)
        if not isinstance(cond, sp.core.relational.Relational):
            return False
        kappa = sp.Dummy("kappa", integer=True, nonnegative=True)
        for v in indices:
            if v in cond.free_symbols:
                for at in (1 + kappa, dim - kappa):
                    if cond.xreplace({v: at}) is sp.true:
                        return True
        return False

    def resolve(pw: sp.Piecewise) -> sp.Expr:
        value, cond = pw.args[0]
        return value if holds(cond) else pw

    return e.replace(lambda a: isinstance(a, sp.Piecewise), resolve)


def _entry_for_symbolic_ij(layer: Any) -> tuple[sp.Expr, sp.Dummy, sp.Dummy]:
    """``(J_ij, i, j)``: the entry differentiated from a generic layer for symbolic i, j in ``1..D``."""
    i = sp.Dummy("i", integer=True, positive=True)
    j = sp.Dummy("j", integer=True, positive=True)
    entry = sp.diff(layer.component(i), layer.input(j))
    return _entry_in_range(entry.doit() if entry.has(sp.Sum) else entry, (i, j), layer.dim), i, j


def _outer_factors(
    layer: Any, product: sp.Expr, i: sp.Dummy, j: sp.Dummy, what: str
) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``product`` as ``(c, a_i, b_j)``: each factor mentions i only, j only or neither; a factor with
    both indices refuses (``what`` names the expression in the message)."""
    a: list[sp.Expr] = []
    b: list[sp.Expr] = []
    c: list[sp.Expr] = []
    for factor in sp.Mul.make_args(product):
        has_i, has_j = factor.has(i), factor.has(j)
        if has_i and has_j:
            raise VerificationError(
                f"{layer!r}: {what} is not a product a_i b_j for symbolic i, j "
                f"(the factor {sp.sstr(factor)[:200]} involves both indices)"
            )
        (a if has_i else b if has_j else c).append(factor)
    return sp.Mul(*c), sp.Mul(*a), sp.Mul(*b)


def _rank_one_parts(layer: Any) -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr, sp.Dummy, sp.Dummy]:
    """``(s, c, a_i, b_j, i, j)`` with ``J_ij = s δ_ij + c a_i b_j`` for symbolic i, j, found and checked here.

    ``J_ij`` is differentiated from the model. The identity part is every term that is a multiple of
    ``δ_ij``; its coefficient ``s`` must be free of i and j. The rest must be one product whose
    factors each mention i only (into ``a_i``), j only (into ``b_j``) or neither (into ``c``); a factor
    with both (``δ_ij`` inside a sum, an elementwise map, a rank-two update) refuses the structure.
    """
    entry, i, j = _entry_for_symbolic_ij(layer)
    delta = sp.KroneckerDelta(i, j)
    scale: list[sp.Expr] = []
    rest: list[sp.Expr] = []
    for term in sp.Add.make_args(entry):
        coeff, dep = term.as_independent(delta, as_Add=False)
        (scale if dep == delta else rest).append(coeff if dep == delta else term)
    s = sp.Add(*scale)
    if s == 0:  # no identity part: the lemma's (n − 1) log|s| would be 0 · log 0 at n = 1
        raise VerificationError(
            f"{layer!r}: the Jacobian has no multiple of the identity; not sI + c a bᵀ with s ≠ 0"
        )
    if s.has(i, j):
        raise VerificationError(
            f"{layer!r}: the multiple of the identity in the Jacobian depends on the index ({sp.sstr(s)[:200]}); "
            "not a scaled identity plus a rank-one update"
        )
    update = rest[0] if len(rest) == 1 else sp.factor_terms(sp.Add(*rest))
    const, a_i, b_j = _outer_factors(layer, update, i, j, "J - s I (a rank-one update)")
    # The factorisation, checked against the entry by algebra (not only by construction).
    if is_zero(entry - s * delta - const * a_i * b_j) is None:
        raise VerificationError(f"{layer!r}: the factorisation J_ij = s δ_ij + c a_i b_j does not check")
    return s, const, a_i, b_j, i, j


def _rank_one_twin(layer: Any) -> Any:
    """A concrete layer's model at its own size, stated component-wise; checked to be the same map."""
    make = getattr(layer, "generic_twin", None)
    if make is None:
        raise VerificationError(f"{layer!r}: the rank-one rule needs a layer stated for a symbolic index")
    twin = make()
    ins, outs = layer.inputs(), layer.forward()
    if not _is_generic(twin) or twin.dim != len(ins):
        raise VerificationError(f"{layer!r}: its component-wise model is not at D = {len(ins)}")
    for r in range(1, len(ins) + 1):
        same_input = twin.input(sp.Integer(r)) == ins[r - 1]
        gap = expand_concrete(twin.component(sp.Integer(r))) - outs[r - 1]
        if not same_input or not (gap == 0 or sp.expand(gap) == 0):  # cheap on purpose: it can only refuse
            raise VerificationError(f"{layer!r}: output {r} is not the component-wise model's")
    return twin


def rank_one_logdet(q: sp.Expr) -> Theorem:
    r"""``⊢ q = (D−1) log|s| + log|s + c Σ_k a_k b_k|`` for a layer at symbolic D whose Jacobian is
    :math:`J = sI + c\,\mathbf{a}\mathbf{b}^\top` (``s = 1``: ``⊢ q = log|1 + c Σ_k a_k b_k|``).

    The entries are differentiated from the model for symbolic i, j and the factorisation is found and
    checked here (:func:`_rank_one_parts`); the determinant is the cited matrix determinant lemma. A
    concrete layer is read through its ``generic_twin()`` at its own size, after checking that every
    output of the concrete map is the twin's component (the result has its sums expanded).
    """
    from derive.symbols import i as display_i

    q = as_expr(q)
    layer = _layer_of(q)
    concrete = None
    if not _is_generic(layer):
        concrete, layer = layer, _rank_one_twin(layer)
    s, const, a_i, b_j, i, j = _rank_one_parts(layer)
    k = display_i
    if k in (s * const * a_i * b_j).free_symbols or k in as_expr(layer.dim).free_symbols:
        k = sp.Dummy("k", integer=True, positive=True)
    inner = sp.Sum(a_i.xreplace({i: k}) * b_j.xreplace({j: k}), (k, 1, layer.dim))
    rhs = sp.log(sp.Abs(s + const * inner))
    if s != 1:
        rhs = (layer.dim - 1) * sp.log(sp.Abs(s)) + rhs
    rhs = _abbreviate_safely(layer, rhs)
    where = "for symbolic i, j"
    if concrete is not None:
        rhs = expand_concrete(rhs)
        where = f"for every i, j of {concrete!r} (its components checked equal to the model's at D = {concrete.dim})"
    shown = f"s = {show(s)}, c = {show(const)}, a_i = {show(a_i.xreplace({i: display_i}))}, b_j = " + show(
        b_j.xreplace({j: sp.Symbol("j", integer=True, positive=True)})
    )
    return _make(
        q,
        rhs,
        "jacobian",
        axioms={ax.MATRIX_DETERMINANT_LEMMA.name},
        detail=f"Jacobian of {concrete or layer!r}: J_ij = s δ_ij + c a_i b_j {where} (entries differentiated "
        f"from the model; {shown}); matrix determinant lemma",
    )


# --------------------------------------------------------------------------------------- issue 11: blocks
def _decided(cond: sp.Basic, var: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> bool | None:
    """The truth of ``cond`` for every integer ``var`` in ``[lo, hi]``, or None when undecided.

    Decided with ``var = lo + p`` or ``var = hi - p`` (``p >= 0``): each covers a superset of the range,
    so a truth value found under either holds on the whole range."""
    p = sp.Dummy("p", integer=True, nonnegative=True)
    for value in (lo + p, hi - p):
        got = cond.xreplace({var: value})
        if got is sp.true or got is sp.false:
            return got is sp.true
    return None


def _on_range(e: sp.Expr, var: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """``e`` for ``var`` in ``[lo, hi]``: each ``Piecewise`` replaced by its branch there (if decided)."""

    def pick(pw: sp.Piecewise) -> sp.Expr:
        for value, cond in pw.args:
            truth = True if cond is sp.true else _decided(cond, var, lo, hi)
            if truth is None:
                return pw  # undecided: kept, so a later zero test can only fail
            if truth:
                return value
        return pw

    return e.replace(lambda a: isinstance(a, sp.Piecewise), pick)


def _vanishes(e: sp.Expr) -> bool:
    """Cheap on purpose: an entry not shown zero counts as nonzero (that can only refuse a structure)."""
    e = e.doit() if e.has(sp.Sum) else e
    return e == 0 or sp.expand(e) == 0


def _shown(e: sp.Expr, names: Mapping[sp.Dummy, sp.Symbol]) -> sp.Expr:
    """``e`` with the kernel's index dummies printed as ``names`` — each only where the name is neither
    free nor bound anywhere in ``e`` (else it could be captured; the dummy then stays)."""
    taken = e.free_symbols | bound_symbols(e)
    return e.xreplace({d: n for d, n in names.items() if n not in taken})


def _split_logdet(layer: Any) -> tuple[sp.Expr, set[str], str]:
    """A layer stated on consecutive row ranges (``row_pieces``): lower triangular, diagonal per range."""
    from derive.symbols import i as shown_row

    row = sp.Dummy("i", integer=True, positive=True)
    pieces = tuple(layer.row_pieces(row))
    if any(row in (as_expr(lo).free_symbols | as_expr(hi).free_symbols) for lo, hi, _ in pieces):
        raise VerificationError(f"{layer!r}: a row range's bounds depend on the row")
    lows, highs = [sp.expand(lo) for lo, _, _ in pieces], [sp.expand(hi) for _, hi, _ in pieces]
    if not pieces or lows[0] != 1 or highs[-1] != sp.expand(layer.dim):
        raise VerificationError(f"{layer!r}: the row ranges do not run from 1 to {sp.sstr(layer.dim)}")
    for hi, lo in zip(highs, lows[1:], strict=False):
        if sp.expand(lo - hi - 1) != 0:
            raise VerificationError(
                f"{layer!r}: the row ranges are not consecutive ({sp.sstr(hi)}, {sp.sstr(lo)})"
            )
    for lo, hi in zip(lows, highs, strict=True):
        if not sp.expand(hi - lo + 1).is_nonnegative:
            raise VerificationError(
                f"{layer!r}: cannot show the range {sp.sstr(lo)}..{sp.sstr(hi)} is well formed"
            )
    k = sp.Dummy("k", integer=True, positive=True)
    terms = []
    for lo, hi, value in pieces:
        # The piece's statement must be the model's component on its range (the map is what is differentiated).
        if not _vanishes(_on_range(layer.component(row), row, lo, hi) - value):
            raise VerificationError(f"{layer!r}: the rows {sp.sstr(lo)}..{sp.sstr(hi)} are not the map's")
        above = _on_range(sp.diff(value, layer.input(row + k)), row, lo, hi)
        if not _vanishes(above):
            raise VerificationError(
                f"{layer!r}: row i in {sp.sstr(lo)}..{sp.sstr(hi)} depends on x_(i+k), k >= 1 "
                f"(∂y_i/∂x_(i+k) = {sp.sstr(above)[:200]}): the Jacobian is not triangular"
            )
        diag = _on_range(sp.diff(value, layer.input(row)), row, lo, hi)
        if diag.has(sp.Piecewise):
            raise VerificationError(f"{layer!r}: the diagonal on {sp.sstr(lo)}..{sp.sstr(hi)} is undecided")
        terms.append(sp.Sum(sp.log(sp.Abs(_abbreviate_safely(layer, diag))), (row, lo, hi)))
    ranges = ", ".join(f"{sp.sstr(lo)}..{sp.sstr(hi)}" for lo, hi in zip(lows, highs, strict=True))
    what = (
        f"lower triangular for symbolic i, j (rows {ranges} differentiated from the model, "
        "entries above the diagonal zero); det of a triangular matrix is the product of its diagonal"
    )
    return _shown(sp.Add(*terms), {row: shown_row}), {ax.DET_TRIANGULAR.name}, what


def _pixel_logdet(layer: Any) -> tuple[sp.Expr, set[str], str]:
    """A layer on (C, H, W): block diagonal over the pixels; identical blocks give the spatial factor H·W."""
    from derive.layers.generic import DetMatrix

    C, H, W = layer.channels, layer.height, layer.width
    c, c2, hh, ww, w2 = (sp.Dummy(n, integer=True, positive=True) for n in ("c", "c2", "h", "w", "w2"))
    k = sp.Dummy("k", integer=True, nonzero=True)
    y = layer.component((c, hh, ww))
    for other in ((c2, hh + k, w2), (c2, hh, ww + k)):
        entry = sp.diff(y, layer.input(other)).doit()
        if not _vanishes(entry):
            raise VerificationError(
                f"{layer!r}: output (c, h, w) depends on input {other}: not block diagonal over the pixels"
            )
    block = _on_range(sp.diff(y, layer.input((c2, hh, ww))).doit(), c2, sp.Integer(1), C)
    same = not (block.free_symbols & {hh, ww})
    off = _on_range(block.xreplace({c2: c + k}), c, sp.Integer(1), C)
    shown_c, shown_h, shown_w = (sp.Symbol(n, integer=True, positive=True) for n in ("c", "h", "w"))
    if _vanishes(off):
        diag = _abbreviate_safely(layer, block.xreplace({c2: c}))
        per_pixel = sp.Sum(sp.log(sp.Abs(diag)), (c, 1, C))
        used, what_block = {ax.DET_TRIANGULAR.name}, "each pixel block diagonal"
    elif same and isinstance(block, sp.Indexed) and block.indices == (c, c2):
        per_pixel = sp.log(sp.Abs(DetMatrix(block.base, C)))
        used, what_block = set(), f"each pixel block the matrix {block.base.label} itself"
    elif same and hasattr(layer, "weight_factors"):
        per_pixel, used, what_block = _lu_block(layer, sp.diff(y, layer.input((c2, hh, ww))), c, c2)
    else:
        raise VerificationError(
            f"{layer!r}: the pixel block {sp.sstr(block)[:200]} is neither diagonal nor a matrix"
        )
    if same:
        rhs = H * W * per_pixel
        used |= {ax.DET_KRONECKER.name}
        what = f"{what_block}; H·W identical blocks (free of h, w): det = (det B)^(H·W)"
    else:
        rhs = sp.Sum(per_pixel, (hh, 1, H), (ww, 1, W))
        used |= {ax.DET_BLOCK_TRIANGULAR.name}
        what = f"{what_block}; the blocks differ from pixel to pixel: det = product over the H·W blocks"
    rhs = _shown(rhs, {c: shown_c, hh: shown_h, ww: shown_w})
    what = f"block diagonal over the pixels for symbolic (c, h, w) (entries differentiated); {what}"
    return rhs, used, what


def _lu_block(layer: Any, raw: sp.Expr, c: sp.Dummy, c2: sp.Dummy) -> tuple[sp.Expr, set[str], str]:
    """The pixel block ``∂y_c/∂x_c2`` is ``(P L U)_{c,c2}`` for the model's factors (checked), with P a
    permutation, L unit lower and U upper triangular (each computed): ``log|det| = Σ_c log|U_cc|``."""
    C = layer.channels
    k, ll, mm = (sp.Dummy(n, integer=True, positive=True) for n in ("k", "l", "m"))

    def product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
        p, lower, upper = (
            layer.weight_factors(a, ll)[0],
            layer.weight_factors(ll, mm)[1],
            layer.weight_factors(mm, b)[2],
        )
        return sp.Sum(p * lower * upper, (mm, 1, C), (ll, 1, C))

    # Σ_k δ(c2, k) (PLU)_{c,k}: the derivative of Σ_k W_ck x_k with W = PLU, compared up to bound names.
    if canonical(raw) != canonical(sp.Sum(sp.KroneckerDelta(c2, k) * product(c, k), (k, 1, C))):
        raise VerificationError(f"{layer!r}: the pixel block is not the product of the model's factors P L U")
    r = sp.Dummy("r", integer=True, positive=True)
    kk = sp.Dummy("k", integer=True, positive=True)
    knz = sp.Dummy("k", integer=True, nonzero=True)
    factor = layer.weight_factors
    if not (_vanishes(factor(r, r + kk)[1]) and factor(r, r)[1] == 1):
        raise VerificationError(f"{layer!r}: L is not unit lower triangular")
    if not _vanishes(factor(r + kk, r)[2]):
        raise VerificationError(f"{layer!r}: U is not upper triangular")
    pi = layer.permutation(r)
    slope = sp.diff(pi, r)
    ends = {sp.expand(pi.xreplace({r: 1})), sp.expand(pi.xreplace({r: C}))}
    bijective = (
        slope in (1, -1) and sp.expand(sp.diff(pi, r, 2)) == 0 and ends == {sp.Integer(1), sp.expand(C)}
    )
    if not (bijective and factor(r, pi)[0] == 1 and _vanishes(factor(r, pi + knz)[0])):
        raise VerificationError(f"{layer!r}: P is not a permutation matrix")
    diag = _abbreviate_safely(layer, factor(c, c)[2])
    used = {ax.DET_PRODUCT.name, ax.DET_TRIANGULAR.name, ax.DET_PERMUTATION.name}
    what = "each pixel block P L U (checked against the model), P a permutation, L unit lower, U upper triangular"
    return sp.Sum(sp.log(sp.Abs(diag)), (c, 1, C)), used, what


def block_logdet(q: sp.Expr) -> Theorem:
    r"""``⊢ q = …`` for a layer at symbolic size whose Jacobian has block structure (issue 11).

    * a layer stated on consecutive row ranges (the split affine coupling): the ranges must partition
      ``1..D``; each range is differentiated for symbolic i, j; lower triangular → the sum of
      :math:`\log|J_{ii}|` per range (axiom det-triangular);
    * a layer on :math:`(C, H, W)` (ActNorm, 1×1 convolution): entries between different pixels vanish
      (computed), so :math:`J` is block diagonal; when the block is free of :math:`(h, w)` there are
      :math:`HW` identical blocks and :math:`\log|\det J| = HW\log|\det B|` (axiom det-kronecker);
      :math:`\det B` is :math:`\prod_c B_{cc}` when B is diagonal (computed), or :math:`\det\mathbf{W}`
      when B's entries are exactly ``W[c, c']``.
    """
    from derive.layers.generic import GenericImageLayer

    q = as_expr(q)
    layer = _layer_of(q)
    if isinstance(layer, GenericImageLayer):
        rhs, used, what = _pixel_logdet(layer)
    elif _is_generic(layer) and hasattr(layer, "row_pieces"):
        rhs, used, what = _split_logdet(layer)
    else:
        raise VerificationError(f"{layer!r} has no block structure at symbolic size")
    return _make(q, rhs, "jacobian", axioms=used, detail=what)


def low_rank_logdet(q: sp.Expr) -> Theorem:
    r"""``⊢ q = log|det(I_n + C)|``, :math:`C_{rc} = c_r\sum_k b_{r,k}a_{c,k}`, for a layer at symbolic D whose
    Jacobian is :math:`I + \sum_{t=1}^{n} c_t\,\mathbf{a}_t\mathbf{b}_t^\top` (Sylvester flows, n = M hidden units).

    Computed as for :func:`rank_one_logdet`: the entries differentiated for symbolic i, j, the identity
    part exactly ``δ_ij``, and each remaining term of the entry one product of i-only, j-only and
    index-free factors (found and checked here); the n × n determinant is computed by SymPy; the
    reduction :math:`\det(I_D + UV^\top) = \det(I_n + V^\top U)` is the cited Sylvester identity.
    """
    from derive.symbols import i as display_i

    q = as_expr(q)
    layer = _layer_of(q)
    if not _is_generic(layer):
        raise VerificationError(f"{layer!r}: the low-rank rule needs a layer at symbolic dimension")
    entry, i, j = _entry_for_symbolic_ij(layer)
    delta = sp.KroneckerDelta(i, j)
    terms = sp.Add.make_args(sp.expand(entry, deep=False))
    identity = [t for t in terms if t == delta]
    rest = [t for t in terms if t != delta]
    if len(identity) != 1 or any(t.has(delta) for t in rest):
        raise VerificationError(f"{layer!r}: the Jacobian is not the identity plus a low-rank update")
    triples = [_outer_factors(layer, term, i, j, f"the term {sp.sstr(term)[:200]} of J - I") for term in rest]
    if is_zero(entry - delta - sp.Add(*[c * a * b for c, a, b in triples])) is None:
        raise VerificationError(
            f"{layer!r}: the factorisation J_ij = δ_ij + Σ_t c_t a_t,i b_t,j does not check"
        )
    k = display_i
    if any(k in (c * a * b).free_symbols for c, a, b in triples):
        k = sp.Dummy("k", integer=True, positive=True)
    n = len(triples)
    small = sp.Matrix(
        n,
        n,
        lambda r, col: (
            sp.KroneckerDelta(r, col)
            + triples[r][0]
            * sp.Sum(triples[r][2].xreplace({j: k}) * triples[col][1].xreplace({i: k}), (k, 1, layer.dim))
        ),
    )
    rhs = _abbreviate_safely(layer, sp.log(sp.Abs(small.det(method="berkowitz"))))
    return _make(
        q,
        rhs,
        "jacobian",
        axioms={ax.SYLVESTER_DETERMINANT.name},
        detail=f"J_ij = δ_ij + Σ_t c_t a_t,i b_t,j with {n} terms for symbolic i, j (entries differentiated from "
        f"the model); Sylvester's determinant identity reduces det J to a {n} × {n} determinant (computed)",
    )
