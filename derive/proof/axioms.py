r"""The trusted base: every statement derive does not compute, declared once, with its citation.

An :class:`Axiom` is a named schema. Its instances are produced only by
:func:`derive.proof.kernel.axiom`, which computes the instance's statement from the instantiation
(the model objects it is about) and evaluates the axiom's side conditions *on those objects*. A
rendered proof shows an axiom step as "axiom (cited: …)", never as "verified", and ends with the
list of the axioms it used.

>>> [a.name for a in AXIOMS][:3]
['change-of-variables', 'chain-rule', 'det-product']
>>> CHANGE_OF_VARIABLES.citation
'Rezende & Mohamed 2015, eq. (1); Papamakarios et al. 2021, eq. (2)'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AXIOMS",
    "CHAIN_RULE",
    "CHANGE_OF_VARIABLES",
    "DET_BLOCK_TRIANGULAR",
    "DET_KRONECKER",
    "DET_PERMUTATION",
    "DET_PRODUCT",
    "DET_TRIANGULAR",
    "GAUSSIAN_DENSITY",
    "INDUCTION",
    "INVERSE_FUNCTION",
    "MATRIX_DETERMINANT_LEMMA",
    "SYLVESTER_DETERMINANT",
    "Axiom",
    "axiom_named",
]


@dataclass(frozen=True)
class Axiom:
    """A declared, cited statement schema; ``statement`` is its LaTeX with metavariables."""

    name: str
    statement: str
    conditions: str
    citation: str

    def describe(self) -> str:
        return f"axiom {self.name} (cited: {self.citation})"


CHANGE_OF_VARIABLES = Axiom(
    "change-of-variables",
    r"\log p_{\mathbf{v}}(f(\mathbf{u})) = \log p_{\mathbf{u}}(\mathbf{u}) - \log\left|\det\frac{\partial f}{\partial\mathbf{u}}\right|",
    "f is a bijection of R^n with a differentiable inverse (computed: its Jacobian is triangular and each "
    "output is affine in its own input with a nonzero slope, so f can be inverted one coordinate at a time)",
    "Rezende & Mohamed 2015, eq. (1); Papamakarios et al. 2021, eq. (2)",
)
CHAIN_RULE = Axiom(
    "chain-rule",
    r"\frac{\partial (f_T\circ\cdots\circ f_0)}{\partial\mathbf{u}} = J_{f_T}\cdots J_{f_0}",
    "each f_t maps the previous map's output (computed from the flow model)",
    "the multivariate chain rule (e.g. Rudin, Principles of Mathematical Analysis, Thm. 9.15)",
)
DET_PRODUCT = Axiom(
    "det-product",
    r"\det(AB) = \det A\,\det B",
    "A, B square of the same size",
    "multiplicativity of the determinant (e.g. Horn & Johnson, Matrix Analysis, 0.3.5)",
)
DET_TRIANGULAR = Axiom(
    "det-triangular",
    r"\det L = \prod_{k=1}^{n} L_{kk}\ \text{for triangular } L \in \mathbb{R}^{n\times n},\ n \ge 1",
    "L triangular (computed: every entry on one side of the diagonal is zero)",
    "Laplace expansion along the first column, induction on n (e.g. Horn & Johnson, 0.9.3)",
)
DET_BLOCK_TRIANGULAR = Axiom(
    "det-block-triangular",
    r"\det\begin{pmatrix}A & 0\\ C & B\end{pmatrix} = \det A\,\det B",
    "block triangular with square diagonal blocks (computed by dependency analysis)",
    "Schur complement / Laplace expansion (e.g. Horn & Johnson, 0.8.5)",
)
DET_KRONECKER = Axiom(
    "det-kronecker",
    r"\det(I_n \otimes B) = (\det B)^n",
    "the matrix is block diagonal with n copies of the same square block B, up to one permutation applied to "
    "both rows and columns (computed: entries between different blocks vanish, and the block is free of the "
    "block index)",
    "Horn & Johnson, Topics in Matrix Analysis, Cor. 4.2.11 (the determinant of a Kronecker product); a "
    "simultaneous row and column permutation leaves the determinant unchanged",
)
DET_PERMUTATION = Axiom(
    "det-permutation",
    r"|\det P| = 1\ \text{for a permutation matrix } P_{r,q} = \delta_{q,\pi(r)}",
    "pi a bijection of 1..n (computed: each row's only nonzero entry is a 1 at column pi(r), and pi is affine "
    "with slope +-1 mapping the ends of 1..n to the ends)",
    "the Leibniz formula: det P = sgn(pi) (e.g. Horn & Johnson, Matrix Analysis, 0.3.2)",
)
GAUSSIAN_DENSITY = Axiom(
    "gaussian-density",
    r"\log\mathcal{N}(\mathbf{v};\boldsymbol\mu,\operatorname{diag}\boldsymbol\sigma^2) = "
    r"\sum_{i=1}^{n}\big(-\tfrac12\log 2\pi - \log\sigma_i - \tfrac{(v_i-\mu_i)^2}{2\sigma_i^2}\big)",
    "sigma_i > 0",
    "the density of the multivariate normal distribution with diagonal covariance",
)
INDUCTION = Axiom(
    "induction",
    r"P(0) \wedge \forall n\ge0\,(P(n)\Rightarrow P(n+1)) \Rightarrow \forall T\ge0\ P(T)",
    "P(0) and P(n) ⇒ P(n+1) proved, with n fresh",
    "induction on the natural numbers (Peano)",
)
INVERSE_FUNCTION = Axiom(
    "inverse-function",
    r"g = f^{-1} \Rightarrow \log\left|\det\frac{\partial g}{\partial\mathbf{v}}\right| = -\log\left|\det\frac{\partial f}{\partial\mathbf{u}}\right|",
    "g(f(u)) = u (computed: the round trip simplifies to the identity, component by component)",
    "the inverse function theorem (the Jacobian of the inverse is the inverse of the Jacobian) and det(A⁻¹) = 1/det A",
)

MATRIX_DETERMINANT_LEMMA = Axiom(
    "matrix-determinant-lemma",
    r"\log\left|\det\left(sI_n + c\,\mathbf{a}\mathbf{b}^\top\right)\right| = "
    r"(n-1)\log|s| + \log\left|s + c\,\mathbf{b}^\top\mathbf{a}\right|,\ n \ge 1"
    r"\quad(s = 1:\ \det(I_n + c\,\mathbf{a}\mathbf{b}^\top) = 1 + c\,\mathbf{b}^\top\mathbf{a})",
    "J_ij = s δ_ij + c a_i b_j with s, c free of i and j (computed: the entries differentiated from the model "
    "for symbolic i, j and factored by the kernel); log 0 = −∞",
    "the matrix determinant lemma (Harville 1997, Matrix Algebra from a Statistician's Perspective, Thm. 18.1.1; "
    "Ding & Zhou 2007, Statist. Probab. Lett. 77(6)); Rezende & Mohamed 2015, eq. (12)",
)
SYLVESTER_DETERMINANT = Axiom(
    "sylvester-determinant",
    r"\det(I_D + UV^\top) = \det(I_n + V^\top U),\ U, V \in \mathbb{R}^{D\times n}",
    "J = I_D + Σ_t c_t a_t b_tᵀ (computed: the entries differentiated from the model for symbolic i, j and "
    "split by the kernel into n products a_t,i b_t,j)",
    "Sylvester's determinant identity (Harville 1997, Matrix Algebra from a Statistician's Perspective, "
    "Cor. 18.1.2; van den Berg et al. 2018, eq. (9))",
)

#: Every axiom, in the order docs list them.
AXIOMS: tuple[Axiom, ...] = (
    CHANGE_OF_VARIABLES,
    CHAIN_RULE,
    DET_PRODUCT,
    DET_TRIANGULAR,
    DET_BLOCK_TRIANGULAR,
    DET_KRONECKER,
    DET_PERMUTATION,
    GAUSSIAN_DENSITY,
    INDUCTION,
    INVERSE_FUNCTION,
    MATRIX_DETERMINANT_LEMMA,
    SYLVESTER_DETERMINANT,
)


def axiom_named(name: str) -> Axiom:
    for a in AXIOMS:
        if a.name == name:
            return a
    raise KeyError(name)
