"""Issue 11 at symbolic size: coupling (every d, D), ActNorm and the 1x1 convolution (every C, H, W).

Attacks first: each shipped bug (FrEIA's per-position ActNorm, a missing H*W factor, a coupling whose
scale reads x_{d+1:D}, a sign error, a mislabelled structure) is stated as a claim and must be refused
by the kernel's ``block_logdet`` rule, which computes the structure from the model's own entries.
"""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.derivations.blocks import actnorm_general_proof, conv1x1_general_proof, coupling_general_proof
from derive.errors import VerificationError
from derive.layers.generic import (
    C_size,
    DetMatrix,
    GenericActNorm,
    GenericAffineCoupling,
    GenericConv1x1,
    H_size,
    W_size,
    _an_scale,
    _conv_weight,
    _coupling_s,
    d_split,
    m_rest,
)
from derive.proof import ChainBuilder, FromJacobian, Identity
from derive.proof import kernel as K
from derive.proof.checks import FromBlocks
from derive.quantities import LogDetMap, ModelAtom
from derive.symbols import i

c, h, w = (sp.Symbol(n, integer=True, positive=True) for n in ("c", "h", "w"))
D = d_split + m_rest
PER_CHANNEL = sp.Sum(sp.log(sp.Abs(_an_scale[c])), (c, 1, C_size))
LOG_DET_W = sp.log(sp.Abs(DetMatrix(_conv_weight, C_size)))
SUM_S = sp.Sum(_coupling_s[i], (i, d_split + 1, D))


def _claim(layer: object, claimed: sp.Expr) -> sp.Expr:
    chain = ChainBuilder(LogDetMap(ModelAtom(layer))).step(claimed, FromBlocks(Identity()), "claim").build()
    return chain.result


ATTACKS = [
    pytest.param(GenericActNorm(per_position=True), H_size * W_size * PER_CHANNEL, id="actnorm-per-position"),
    pytest.param(GenericActNorm(), PER_CHANNEL, id="actnorm-missing-HW"),
    pytest.param(GenericActNorm(), -H_size * W_size * PER_CHANNEL, id="actnorm-sign"),
    pytest.param(GenericActNorm(), H_size * PER_CHANNEL, id="actnorm-missing-W"),
    pytest.param(GenericConv1x1(), LOG_DET_W, id="conv-missing-HW"),
    pytest.param(GenericConv1x1(), -H_size * W_size * LOG_DET_W, id="conv-sign"),
    pytest.param(
        GenericConv1x1(),
        H_size * W_size * sp.Sum(sp.log(sp.Abs(_conv_weight[c, c])), (c, 1, C_size)),
        id="conv-claimed-diagonal",
    ),
    pytest.param(GenericConv1x1(per_pixel=True), H_size * W_size * LOG_DET_W, id="conv-per-pixel-matrix"),
    pytest.param(GenericAffineCoupling(reads_all=True), SUM_S, id="coupling-scale-reads-x_B"),
    pytest.param(GenericAffineCoupling(), -SUM_S, id="coupling-sign"),
    pytest.param(GenericAffineCoupling(), sp.Sum(_coupling_s[i], (i, 1, D)), id="coupling-sums-every-row"),
    pytest.param(
        GenericAffineCoupling(), sp.Sum(_coupling_s[i], (i, d_split + 2, D)), id="coupling-off-by-one"
    ),
]


@pytest.mark.parametrize(("layer", "claimed"), ATTACKS)
def test_attack_is_refused(layer: object, claimed: sp.Expr) -> None:
    with pytest.raises(VerificationError, match="step 1"):
        _claim(layer, claimed)


@dataclasses.dataclass(frozen=True)
class _GapCoupling(GenericAffineCoupling):
    """Row ranges 1..d and d+2..D: row d+1 is never differentiated."""

    def row_pieces(self, row: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...]:
        (lo, hi, a), (_, top, b) = super().row_pieces(row)
        return ((lo, hi, a), (hi + 2, top, b))


@dataclasses.dataclass(frozen=True)
class _LyingCoupling(GenericAffineCoupling):
    """Row ranges that state the identity on every row, while the map scales rows d+1..D."""

    def row_pieces(self, row: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...]:
        from derive.layers.generic import _X

        (lo, hi, a), (lo2, top, _) = super().row_pieces(row)
        return ((lo, hi, a), (lo2, top, _X[row]))


@dataclasses.dataclass(frozen=True)
class _RowBoundCoupling(GenericAffineCoupling):
    """Row ranges 1..i and i+1..D, bounds built from the kernel's own row index."""

    def row_pieces(self, row: sp.Expr) -> tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...]:
        (lo, _, a), (_, top, b) = super().row_pieces(row)
        return ((lo, row, a), (row + 1, top, b))


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        pytest.param(_GapCoupling(), "not consecutive", id="gap"),
        pytest.param(_RowBoundCoupling(), "depend on the row", id="bounds-from-the-row-index"),
        pytest.param(_LyingCoupling(), "not the map's", id="rows-lie-about-the-map"),
    ],
)
def test_row_ranges_must_partition_the_map(layer: object, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        K.block_logdet(LogDetMap(ModelAtom(layer)))


@pytest.mark.parametrize(
    "layer", [GenericActNorm(), GenericConv1x1(), GenericAffineCoupling(reads_all=True)], ids=repr
)
def test_the_triangular_rule_refuses_these_models(layer: object) -> None:
    """The older rule (one symbolic index) cannot read (c, h, w) positions or an undecided coupling row."""
    with pytest.raises(VerificationError):
        K.jacobian_logdet(LogDetMap(ModelAtom(layer)))
    with pytest.raises(VerificationError):
        ChainBuilder(LogDetMap(ModelAtom(layer))).step(sp.Integer(0), FromJacobian(), "claim")


def test_per_position_actnorm_gets_its_own_true_statement() -> None:
    """FrEIA's model is not refused as a model: its log-det is the triple sum, blocks differing per pixel."""
    layer = GenericActNorm(per_position=True)
    th = K.block_logdet(LogDetMap(ModelAtom(layer)))
    assert th.rhs == sp.Sum(
        sp.log(sp.Abs(_an_scale[c, h, w])), (c, 1, C_size), (h, 1, H_size), (w, 1, W_size)
    )
    assert "det-kronecker" not in th.axioms


def test_general_proofs_state_the_spatial_factor_and_rest_on_the_cited_axioms() -> None:
    act, conv, coup = actnorm_general_proof(), conv1x1_general_proof(), coupling_general_proof()
    assert act.result == H_size * W_size * PER_CHANNEL
    assert conv.result == H_size * W_size * LOG_DET_W
    assert coup.result == SUM_S
    assert act.theorem.axioms == {"det-kronecker", "det-triangular"}
    assert conv.theorem.axioms == {"det-kronecker"}
    assert coup.theorem.axioms == {"det-triangular"}
    assert all(p.theorem.closed for p in (act, conv, coup))


@pytest.mark.parametrize(("C", "H", "W"), [(1, 2, 2), (2, 1, 3), (2, 2, 2)], ids=lambda v: str(v))
def test_general_actnorm_agrees_with_the_concrete_model(C: int, H: int, W: int) -> None:
    """Instantiated, the symbolic-size theorem is the concrete layer's derived log-det (an independent route)."""
    from derive.layers.actnorm import ActNorm
    from derive.proof.checks import is_zero

    general = actnorm_general_proof().result.xreplace({C_size: C, H_size: H, W_size: W}).doit()
    assert is_zero(general - ActNorm(C, height=H, width=W).derived_logdet()) is not None


@pytest.mark.parametrize("dim", [2, 3, 4])
def test_general_coupling_agrees_with_the_concrete_model(dim: int) -> None:
    from derive.layers.coupling import AffineCoupling
    from derive.proof.checks import is_zero

    d = (dim + 1) // 2
    general = coupling_general_proof().result.xreplace({d_split: d, m_rest: dim - d}).doit()
    assert is_zero(general - AffineCoupling(dim).derived_logdet()) is not None


def test_general_conv_agrees_with_the_concrete_model() -> None:
    from derive.layers.conv1x1 import Conv1x1
    from derive.proof.checks import is_zero

    layer = Conv1x1(2, height=2, width=1)
    det = layer.weight().det()
    general = conv1x1_general_proof().result.xreplace({C_size: 2, H_size: 2, W_size: 1})
    shown = general.replace(lambda a: isinstance(a, DetMatrix), lambda a: det)
    assert is_zero(shown - layer.derived_logdet()) is not None


GENERAL_NAMES = ["affine-coupling", "affine-coupling-glow", "actnorm", "conv1x1"]


@pytest.mark.parametrize("name", GENERAL_NAMES)
def test_layer_proof_without_dim_is_the_general_proof(name: str) -> None:
    from derive.derivations.layer import layer_proof

    proof = layer_proof(name)
    assert proof.theorem.closed and proof.result == proof.meta["claimed"]
    assert proof.theorem.lhs.model.dim.free_symbols, "the model's size is symbolic"
    assert "every" in proof.title


def test_cli_prove_actnorm_without_dim_prints_the_spatial_factor(capsys: pytest.CaptureFixture[str]) -> None:
    from derive.cli import main

    assert main(["prove", "actnorm", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "every C, H, W" in out and "H⋅W" in out and "det-kronecker" in out


@dataclasses.dataclass(frozen=True)
class _FixedChannelActNorm(GenericActNorm):
    """Every channel scaled by s_c for one *free* c (a model that mentions the display index's name)."""

    def pixel_output(self, c_: sp.Expr, hh: sp.Expr, ww: sp.Expr) -> sp.Expr:
        from derive.layers.generic import _X

        return _an_scale[c] * _X[c_, hh, ww]


@dataclasses.dataclass(frozen=True)
class _FreeIndexCoupling(GenericAffineCoupling):
    """Every transformed row scaled by exp(s_i) for one *free* i."""

    def transformed(self, row: sp.Expr) -> sp.Expr:
        from derive.layers.generic import _X

        return _X[row] * sp.exp(_coupling_s[i])


@pytest.mark.parametrize(
    ("layer", "claimed"),
    [
        pytest.param(_FixedChannelActNorm(), H_size * W_size * PER_CHANNEL, id="actnorm-free-c"),
        pytest.param(_FreeIndexCoupling(), SUM_S, id="coupling-free-i"),
    ],
)
def test_attack_a_free_symbol_named_like_the_display_index_is_not_captured(
    layer: object, claimed: sp.Expr
) -> None:
    """The kernel's bound index is a dummy; it is printed as c (i) only where that cannot capture a free c (i)."""
    th = K.block_logdet(LogDetMap(ModelAtom(layer)))
    assert th.rhs != claimed
    with pytest.raises(VerificationError, match="step 1"):
        _claim(layer, claimed)


def test_attack_the_triangular_rule_does_not_capture_a_free_i() -> None:
    """The same capture through the older symbolic-D rule: a batch norm scaled by gamma_i for one free i
    has log-det D log|gamma_i|, not sum_i log|gamma_i|."""
    from derive.layers.generic import _X, GenericBatchNorm
    from derive.symbols import D as size
    from derive.symbols import gamma

    @dataclasses.dataclass(frozen=True)
    class _FreeGamma(GenericBatchNorm):
        def component(self, j: sp.Expr) -> sp.Expr:
            return _X[j] * gamma[i]

    q = LogDetMap(ModelAtom(_FreeGamma()))
    assert K.jacobian_logdet(q).rhs != sp.Sum(sp.log(sp.Abs(gamma[i])), (i, 1, size))
    with pytest.raises(VerificationError, match="step 1"):
        ChainBuilder(q).step(
            sp.Sum(sp.log(sp.Abs(gamma[i])), (i, 1, size)), FromJacobian(Identity()), "claim"
        )


# ------------------------------------------------------------------ the LU-parametrised 1x1 convolution
@dataclasses.dataclass(frozen=True)
class _LUWithFactors(GenericConv1x1):
    """The LU model with one factor broken (``broken`` names which)."""

    broken: str = ""

    def weight_factors(self, r: sp.Expr, q: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        from derive.layers.generic import StrictLower, _lu_lower

        p, lower, upper = super().weight_factors(r, q)
        if self.broken == "P":  # a shifted reversal: not a permutation of 1..C
            p = sp.KroneckerDelta(r + q, self.channels)
        elif self.broken == "L":  # diagonal 2, not unit
            lower = 2 * sp.KroneckerDelta(r, q) + StrictLower(_lu_lower, r, q)
        elif self.broken == "U":  # an entry below the diagonal
            upper = upper + _lu_lower[r, q]
        return p, lower, upper


@dataclasses.dataclass(frozen=True)
class _LUWeightNotTheFactors(GenericConv1x1):
    """States factors P, L, U but multiplies by a free matrix W (the factors are not the map)."""

    def weight(self, c_: sp.Expr, k: sp.Expr) -> sp.Expr:
        return _conv_weight[c_, k]


LU_SUM = H_size * W_size * PER_CHANNEL


@pytest.mark.parametrize(
    ("layer", "claimed"),
    [
        pytest.param(_LUWithFactors(lu=True, broken="P"), LU_SUM, id="lu-P-not-a-permutation"),
        pytest.param(_LUWithFactors(lu=True, broken="L"), LU_SUM, id="lu-L-not-unit"),
        pytest.param(_LUWithFactors(lu=True, broken="U"), LU_SUM, id="lu-U-not-triangular"),
        pytest.param(_LUWeightNotTheFactors(lu=True), LU_SUM, id="lu-weight-not-the-factors"),
        pytest.param(GenericConv1x1(lu=True), PER_CHANNEL, id="lu-missing-HW"),
        pytest.param(GenericConv1x1(lu=True), -LU_SUM, id="lu-sign"),
    ],
)
def test_attack_on_the_lu_convolution_is_refused(layer: object, claimed: sp.Expr) -> None:
    with pytest.raises(VerificationError, match="step 1"):
        _claim(layer, claimed)


def test_lu_convolution_general_proof() -> None:
    from derive.derivations.blocks import conv1x1_lu_general_proof
    from derive.derivations.layer import layer_proof

    proof = conv1x1_lu_general_proof()
    assert proof.result == LU_SUM and proof.theorem.closed
    assert proof.theorem.axioms == {"det-kronecker", "det-permutation", "det-product", "det-triangular"}
    assert layer_proof("conv1x1-lu") is proof


def test_lu_general_proof_agrees_with_the_concrete_model() -> None:
    from derive.layers.conv1x1 import Conv1x1, sb
    from derive.proof.checks import is_zero

    general = (
        LU_SUM.xreplace({C_size: 2, H_size: 2, W_size: 1})
        .doit()
        .xreplace({_an_scale[1]: sb[1], _an_scale[2]: sb[2]})
    )
    assert is_zero(general - Conv1x1(2, height=2, width=1, lu=True).derived_logdet()) is not None


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    channels=st.integers(1, 3),
    height=st.integers(1, 3),
    width=st.integers(1, 2),
    seed=st.integers(0, 10**6),
)
def test_property_general_image_theorems_match_the_concrete_layers_at_random_points(
    channels: int, height: int, width: int, seed: int
) -> None:
    """At a random size and random parameter values, the instantiated symbolic-size theorems equal the
    concrete layers' log-det computed by the dependency analysis (an independent route), to 30 digits."""
    import random

    from derive.layers.actnorm import ActNorm
    from derive.layers.actnorm import scale as concrete_scale

    rng = random.Random(seed)
    sizes = {C_size: channels, H_size: height, W_size: width}
    scales = {c_: sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 50), 7) for c_ in range(1, channels + 1)}
    general = (
        actnorm_general_proof()
        .result.xreplace(sizes)
        .doit()
        .xreplace({_an_scale[k]: v for k, v in scales.items()})
    )
    concrete = ActNorm(channels, height=height, width=width).derived_logdet()
    concrete = concrete.xreplace({concrete_scale[k]: v for k, v in scales.items()})
    assert abs(sp.N(general - concrete, 30)) < 1e-25

    from derive.layers.conv1x1 import Conv1x1, Wb

    entries = {
        (r, q): sp.Rational(rng.randint(-30, 30), 11)
        for r in range(1, channels + 1)
        for q in range(1, channels + 1)
    }
    matrix = sp.Matrix(channels, channels, lambda r, q: entries[r + 1, q + 1])
    if matrix.det() == 0:
        return
    conv = conv1x1_general_proof().result.xreplace(sizes)
    conv = conv.replace(lambda a: isinstance(a, DetMatrix), lambda a: matrix.det())
    layer = Conv1x1(channels, height=height, width=width)
    concrete = layer.derived_logdet().xreplace({Wb[r, q]: v for (r, q), v in entries.items()})
    assert abs(sp.N(conv - concrete, 30)) < 1e-25
