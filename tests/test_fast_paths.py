"""Issue 12's fast paths against their references: same results, and no false structure.

The structural derivative (:func:`derive.jacobian.structural_diff`) and the dependency pattern are
part of the trusted base, so each is tested equal to ``sympy.diff`` entry by entry on every layer of
:data:`derive.layers.LAYERS`, on adversarial expressions (the input hidden in a nested argument, an
exponent, a sum's bound or body, an index, a ``Piecewise`` condition, a ``Derivative`` or ``Subs``),
and on random dependency patterns; the attacks try to get a wrong diagonal or a false zero pattern
accepted. The whole concrete IAF proof is rendered on both paths and compared byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.errors import VerificationError
from derive.jacobian import (
    Structure,
    _abs,
    _dependency_pattern,
    _reference_path,
    jacobian,
    structural_diff,
)
from derive.layers import LAYERS, FlowLayer
from derive.proof._algebra import _INSTANCES, expand_concrete_sums
from derive.symbols import z

SMALL_DIMS = (1, 2, 3)
a, b, c = sp.symbols("a b c", real=True)
j, k = sp.symbols("j k", integer=True)
f, g = sp.Function("f", real=True), sp.Function("g", positive=True)
x = sp.IndexedBase("x", real=True)


def _layers() -> Iterator[tuple[str, FlowLayer]]:
    for name, make in LAYERS:
        for d in SMALL_DIMS:
            yield f"{name}-D{d}", make(d)


_LAYER_CASES = list(_layers())


@pytest.fixture(scope="module")
def reference_jacobians() -> dict[str, object]:
    """Each layer's Jacobian on the reference path, computed once for the module."""
    with _reference_path():
        return {name: jacobian(layer.forward(), layer.inputs()) for name, layer in _LAYER_CASES}


# --------------------------------------------------------------------------- every layer, every entry
@pytest.mark.parametrize(("name", "layer"), _LAYER_CASES, ids=[n for n, _ in _LAYER_CASES])
def test_structural_derivative_is_sympy_diff_on_every_entry(name: str, layer: FlowLayer) -> None:
    outputs, inputs = layer.forward(), layer.inputs()
    J = jacobian(outputs, inputs)
    for r, y in enumerate(outputs):
        for col, v in enumerate(inputs):
            want = sp.diff(y, v)
            assert structural_diff(y, v) == want, (r, col)
            if col not in J.depends[r]:
                assert want == 0, f"entry ({r}, {col}) claimed zero, sympy.diff gives {want}"
        assert J.diagonal[r] == sp.diff(y, inputs[r])


@pytest.mark.parametrize(("name", "layer"), _LAYER_CASES, ids=[n for n, _ in _LAYER_CASES])
def test_fast_jacobian_is_the_reference_jacobian(
    name: str, layer: FlowLayer, reference_jacobians: dict[str, object]
) -> None:
    fast, ref = jacobian(layer.forward(), layer.inputs()), reference_jacobians[name]
    assert (fast.depends, fast.structure, fast.blocks, fast.diagonal) == (
        ref.depends,  # type: ignore[attr-defined]
        ref.structure,  # type: ignore[attr-defined]
        ref.blocks,  # type: ignore[attr-defined]
        ref.diagonal,  # type: ignore[attr-defined]
    )
    if fast.structure is not Structure.FULL:  # a full determinant is SymPy's on both paths
        assert fast.log_abs_det() == ref.log_abs_det()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "layer"), _LAYER_CASES, ids=[n for n, _ in _LAYER_CASES])
def test_fast_abs_is_sympy_abs_on_every_diagonal_entry(name: str, layer: FlowLayer) -> None:
    for d in layer.jacobian().diagonal:
        assert _abs(d) == sp.Abs(d)


# --------------------------------------------------------------------------- adversarial expressions
#: (id, expression, variable): the variable hidden where a "does it occur?" shortcut could miss it.
ADVERSARIAL: list[tuple[str, sp.Expr, sp.Expr]] = [
    ("nested-function-argument", g(f(sp.exp(a * b) + c)) * b, a),
    ("exponent", b ** (a**2) + sp.exp(c) ** a, a),
    ("sum-bound", sp.Sum(k * b, (k, 1, sp.floor(a))) + a, a),
    ("sum-body-bound-index", x[1] + x[2] * sp.Sum(x[k] ** 2, (k, 1, 2)), x[1]),
    ("product-body-bound-index", sp.Product(x[k], (k, 1, 3)), x[2]),
    ("symbolic-index", x[1] + x[j], x[2]),
    ("symbolic-index-self", x[j] * b, x[1]),
    ("piecewise-condition", sp.Piecewise((b, a > 0), (2 * b, True)) * c, a),
    ("piecewise-value", sp.Piecewise((a * b, b > 0), (b, True)), a),
    ("derivative", sp.Derivative(f(a, b), a) * b, a),
    ("derivative-in-other-variable", sp.Derivative(f(a, b), b) + c, a),
    ("subs", sp.Subs(f(c), c, a**2) * b, a),
    ("integral", sp.Integral(a * c, (c, 0, b)), a),
    ("abs", sp.Abs(f(a)) * b, a),
    ("kronecker", sp.KroneckerDelta(j, 1) * x[j], x[1]),
    ("undefined-of-indexed", f(x[1], x[2]) * x[3] + g(x[1]), x[1]),
    ("not-in-expression", f(b) * c + g(c), a),
]


def _undummied(e: sp.Expr) -> sp.Expr:
    dummies = sorted(e.atoms(sp.Dummy), key=lambda d: d.dummy_index)
    return e.xreplace({d: sp.Symbol(f"dummy{n}", integer=True) for n, d in enumerate(dummies)})


@pytest.mark.parametrize(
    ("expr", "v"), [(e, v) for _, e, v in ADVERSARIAL], ids=[n for n, _, _ in ADVERSARIAL]
)
def test_structural_derivative_on_adversarial_expressions(expr: sp.Expr, v: sp.Expr) -> None:
    got, want = structural_diff(expr, v), sp.diff(expr, v)
    # SymPy binds a fresh Dummy in d/dx of a Product: compare up to renaming it.
    assert _undummied(got) == _undummied(want)


@pytest.mark.parametrize(
    ("expr", "v"), [(e, v) for _, e, v in ADVERSARIAL], ids=[n for n, _, _ in ADVERSARIAL]
)
def test_dependency_pattern_never_hides_a_nonzero_derivative(expr: sp.Expr, v: sp.Expr) -> None:
    other = sp.Symbol("other_input", real=True)
    (row,) = _dependency_pattern((expr,), (v, other)) if v != other else ((),)
    for col, inp in enumerate((v, other)):
        if col not in row:
            assert sp.diff(expr, inp) == 0


def test_a_function_with_its_own_derivative_is_not_taken_at_its_arguments_word() -> None:
    """An undefined function may carry a custom derivative: the fast path must ask SymPy."""
    sneaky = sp.Function("f", _eval_derivative=lambda self, s: sp.Integer(7))
    e = sneaky(b) * c
    assert structural_diff(e, a) == sp.diff(e, a)
    J = jacobian((e + a, c), (a, c))
    assert J.diagonal == (sp.diff(e + a, a), 1)


# --------------------------------------------------------------------------- attacks (must be refused)
def test_attack_symbolic_index_does_not_make_a_diagonal() -> None:
    """y_1 = z_1 + z_j: dz/dz_2 is δ_{j2}, not 0; the diagonal entry is 1 + δ_{j1}, not 1."""
    J = jacobian((z[0, 1] + z[0, j], z[0, 2]), (z[0, 1], z[0, 2]))
    assert J.structure is not Structure.DIAGONAL
    assert 1 in J.depends[0]
    assert J.diagonal[0] == 1 + sp.KroneckerDelta(1, j)


def test_attack_bound_index_does_not_drop_a_factor() -> None:
    """y_1 = z_1 + z_2 sum_k z_k^2: the diagonal entry is not 1 (the sum contains z_1)."""
    y1 = z[0, 1] + z[0, 2] * sp.Sum(z[0, k] ** 2, (k, 1, 2))
    J = jacobian((y1, z[0, 2]), (z[0, 1], z[0, 2]))
    assert J.diagonal[0] != 1
    assert J.diagonal[0] == sp.diff(y1, z[0, 1])
    assert sp.expand(J.diagonal[0].doit()) == 1 + 2 * z[0, 1] * z[0, 2]


def test_attack_repeated_input_has_no_jacobian() -> None:
    """(x, x) -> (x, x) has det 0; with a repeated input the dependency argument would claim 1."""
    with pytest.raises(ValueError, match="distinct"):
        jacobian((a, a), (a, a))


def test_attack_wrong_sign_abs() -> None:
    """|d| is d only for d > 0: a real function of unknown sign keeps its Abs (and so does -g)."""
    assert _abs(f(a)) == sp.Abs(f(a)) and isinstance(_abs(f(a)), sp.Abs)
    assert _abs(-g(a)) == g(a)
    assert _abs(g(a)) == g(a)


def test_attack_applied_abbreviation_claiming_positivity_is_refused() -> None:
    """The kernel checks the abbreviations it applies (now only those), so an overclaim still fails."""
    from derive.proof import kernel as K
    from derive.quantities import LogDetMap, ModelAtom
    from derive.symbols import sigma

    class Overclaim(FlowLayer):
        name = "overclaim-fast"
        direction = "normalizing"
        claimed_structure = Structure.DIAGONAL

        def _f(self, n: int) -> sp.Expr:
            return f(sp.Symbol(f"h_{n}", real=True))

        def inputs(self) -> tuple[sp.Expr, ...]:
            return tuple(sp.Symbol(f"u_{n}", real=True) for n in range(1, self.dim + 1))

        def forward(self) -> tuple[sp.Expr, ...]:
            return tuple(self._f(n) * u for n, u in enumerate(self.inputs(), 1))

        def abbreviations(self) -> dict[sp.Expr, sp.Expr]:
            # the nested match is the one xreplace applies: f(h_n) inside Abs inside log
            return {self._f(n): sigma[9, n] for n in range(1, self.dim + 1)}

        def claimed_logdet(self) -> sp.Expr:
            return sp.Add(*[sp.log(sigma[9, n]) for n in range(1, self.dim + 1)])

    with pytest.raises(VerificationError, match="claims positive"):
        K.jacobian_logdet(LogDetMap(ModelAtom(Overclaim(2))))


# --------------------------------------------------------------------------- random dependency patterns
@st.composite
def _patterns(draw: Callable[..., object]) -> tuple[tuple[frozenset[int], ...], str]:
    n = draw(st.integers(1, 4))
    shape = draw(st.sampled_from(["lower", "upper", "any"]))
    rows = []
    for r in range(n):
        allowed = range(r + 1) if shape == "lower" else range(r, n) if shape == "upper" else range(n)
        rows.append(frozenset(draw(st.sets(st.sampled_from(list(allowed)), max_size=n))))  # type: ignore[arg-type]
    return tuple(rows), shape


@settings(max_examples=25)
@given(_patterns(), st.sampled_from(["affine", "nested", "power"]))
def test_random_dependency_patterns(pattern: tuple[tuple[frozenset[int], ...], str], form: str) -> None:
    """Outputs that depend on exactly a drawn set of inputs: the pattern is recovered, never shrunk."""
    rows, _ = pattern
    n = len(rows)
    u = tuple(sp.Symbol(f"u{q}", real=True) for q in range(n))
    outputs = []
    for r, row in enumerate(rows):
        args = [u[q] for q in sorted(row)]
        s_r = sp.Function(f"s{r}", positive=True)(*args, b)
        m_r = sp.Function(f"m{r}", real=True)(*args, b)
        if form == "affine":
            outputs.append(m_r + s_r * b)
        elif form == "nested":
            outputs.append(sp.exp(m_r) * sp.log(s_r) + c)
        else:
            outputs.append(s_r**2 + m_r * s_r)
    J = jacobian(outputs, u)
    with _reference_path():
        R = jacobian(outputs, u)
    assert J.depends == rows == R.depends
    assert (J.structure, J.blocks, J.diagonal) == (R.structure, R.blocks, R.diagonal)
    for r in range(n):
        assert J.diagonal[r] == sp.diff(outputs[r], u[r])


# --------------------------------------------------------------------------- concrete sums
def test_memoized_sum_expansion_is_the_reference_expansion() -> None:
    i1, i2 = sp.symbols("i1 i2", integer=True)
    e = sp.Sum(sp.log(x[i1]) + sp.Sum(x[i1] * x[i2] ** 2, (i2, 1, 3)), (i1, 1, 4)) - sp.Sum(
        sp.log(x[i1]), (i1, 2, 4)
    )
    fast = expand_concrete_sums(e)
    with _reference_path():
        ref = expand_concrete_sums(e)
    assert fast == ref
    # the memo is keyed by (summand, index, value): another index or value is another entry
    again = expand_concrete_sums(sp.Sum(sp.log(x[i2]), (i2, 1, 4)))
    assert again == sp.Add(*[sp.log(x[v]) for v in range(1, 5)])
    assert _INSTANCES  # the memo was used


# --------------------------------------------------------------------------- the whole proof
def _render_concrete(dim: int, steps: int) -> tuple[str, sp.Expr]:
    from derive.derivations.iaf import iaf_concrete_proof
    from derive.layers import _base
    from derive.layers.flow import _step
    from derive.proof.render import render

    for cache in (iaf_concrete_proof, _base._shared_jacobian, _step):
        cache.cache_clear()  # type: ignore[attr-defined]
    _INSTANCES.clear()
    proof = iaf_concrete_proof(dim, steps)
    return render(proof, "latex", standalone=False), proof.theorem.rhs


def test_concrete_proof_is_identical_on_the_reference_path() -> None:
    fast = _render_concrete(4, 2)
    with _reference_path():
        ref = _render_concrete(4, 2)
    _render_concrete(4, 2)  # leave fast-path objects in the caches
    assert fast == ref


@pytest.mark.parametrize(("dim", "t"), [(1, 1), (3, 1), (5, 4)], ids=lambda v: str(v))
def test_iaf_forward_is_the_generic_component_with_explicit_arguments(dim: int, t: int) -> None:
    """IAFStep.forward builds mu + sigma * z directly: it must be GenericIAFStep's component."""
    from derive.layers import IAFStep
    from derive.layers.generic import GenericIAFStep, concrete_ar

    step = GenericIAFStep(sp.Integer(t), sp.Integer(dim))
    want = tuple(concrete_ar(step.component(sp.Integer(q))) for q in range(1, dim + 1))
    assert IAFStep(dim, t=t).forward() == want
    with _reference_path():
        assert IAFStep(dim, t=t).forward() == want


def test_iaf_abbreviations_name_the_functions_the_model_uses() -> None:
    from derive.layers import IAFStep
    from derive.symbols import mu, sigma

    layer = IAFStep(3, t=2)
    want = {layer.sigma(q): sigma[2, q] for q in range(1, 4)} | {layer.mu(q): mu[2, q] for q in range(1, 4)}
    assert dict(layer.abbreviations()) == want
