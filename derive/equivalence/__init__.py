r"""Decide whether a student's answer equals a reference formula, soundly.

A verifier's worst failure is accepting a wrong answer; its second worst is rejecting a right one.
So every verdict carries a proof or a witness:

* **equivalent** needs a *symbolic proof*;
* **not-equivalent** needs a *concrete counterexample* whose difference is confirmed in high
  precision (mpmath, 100 digits), so rounding can neither hide nor invent a difference — an answer
  off by :math:`10^{-9}` is rejected, ``log(2*pi)`` versus ``log(2) + log(pi)`` never is;
* otherwise **undecided**, with the evidence (sizes and points tried, largest difference seen).

Strategy (``decide``), cheapest first:

1. **Prepare both sides** (``_rewrite``): floats become exact decimals; ``definitions`` are
   substituted (``Indexed`` keys act as patterns); logarithms are split by rules valid under the
   atoms' SymPy assumptions only — :math:`\log ab = \log a + \log b` for positive factors,
   :math:`\log a^r = r \log a` for positive :math:`a`, :math:`\log\prod_k f_k = \sum_k\log f_k` for
   positive :math:`f_k`, :math:`\log x^{2m} = 2m\log|x|` for real :math:`x \ne 0`,
   :math:`\log|x|` splits over nonzero factors, and :math:`\log|x| = \log x`
   only for positive :math:`x`. Nothing like :math:`\sqrt{x^2}=x` is ever assumed.
2. **Symbolic proof for all sizes** (``_normal_form``): each side becomes a *sum normal form* —
   sums linearised (constants pulled out, :math:`\sum_{i=1}^{D} c = Dc`, nested sums flattened into
   multi-index sums, products of sums multiplied out, polynomial summands summed in closed form),
   bounds aligned by peeling boundary terms
   (:math:`\sum_{t=0}^{T} f_t = f_0 + \sum_{t=1}^{T} f_t`) or, failing that, by shifting every
   index to start at 0, limits sorted (finite box sums commute, dummy names are irrelevant) and
   indices renamed canonically (``_symbolic``). Summands are grouped by index box and each box's difference
   must reduce to 0 by cheap, sound zero tests (``_zero``: expand, split logs). The rules are
   those of SymPy's finite sums, which follow Karr's convention
   (:math:`\sum_{k=a}^{b} = -\sum_{k=b+1}^{a-1}` for :math:`b < a-1`), under which all of them hold
   unconditionally. A reader means an *empty* sum there instead; the two readings agree whenever
   :math:`b \ge a-1`, so a guard (``_ranges``) first checks that every range satisfies this for
   all admissible sizes. If it cannot, no proof is attempted (only a counterexample can decide).
3. **Counterexample search** (``_search``, ``_evaluate``): at every combination of trial sizes
   (smallest first), random points sampled from the assumptions (positive atoms log-uniform on
   :math:`[10^{-3},10^3]` plus nice values, reals on :math:`[-5,5]`) are evaluated by a direct
   mpmath tree walk at 50 digits (empty ranges are empty; two sizes beyond the trial values are
   tried too); a relative difference above :math:`10^{-30}` that is confirmed at
   100 digits from the same exact decimals is a counterexample. A NaN/complex answer counts only
   where the reference is finite and real.
4. **Stronger symbolic proof**: step 2 again with heavier zero tests (``cancel``, ``powsimp``,
   ``radsimp``, ``trigsimp``, and ``simplify`` on small expressions only), differences tested
   coefficient by coefficient as polynomials in the sizes, and a leftover non-sum part spread
   evenly over the one remaining box when that box is provably non-empty.
5. **Concrete expansion** (``_concrete``): at the trial sizes paired index by index plus the mixed
   corners, sums are written out and the difference reduced to 0 — a proof *for those sizes only*,
   accepted as "equivalent" only with ``accept_concrete=True`` (the sizes are in ``method``).
6. Otherwise **undecided**.

After every symbolic proof a cheap numeric cross-check runs too; if it ever contradicted the proof
(a SymPy or mpmath bug), the verdict would be "undecided", never a wrong one.

>>> import sympy as sp
>>> from derive.symbols import D, i, sigma
>>> dom = Domain(sizes=(SizeVar(D, 1, (1, 2, 3, 5)),))
>>> lhs = sp.Sum(sp.log(sigma[0, i] ** 2), (i, 1, D))
>>> decide(lhs, 2 * sp.log(sp.Product(sigma[0, i], (i, 1, D))), dom).status
'equivalent'
>>> decide(lhs, sp.Sum(sp.log(sigma[0, i]), (i, 1, D)), dom).status
'not-equivalent'
"""

from __future__ import annotations

from derive.equivalence._decide import decide
from derive.equivalence._evaluate import atom_label
from derive.equivalence._types import Domain, SizeVar, Status, Verdict

__all__ = ["Domain", "SizeVar", "Status", "Verdict", "atom_label", "decide"]
