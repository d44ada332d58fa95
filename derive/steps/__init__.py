r"""The derivation step checker: which line of a LaTeX derivation does not follow, why, and where.

``check_steps(problem_id, text)`` reads the display blocks of a ``.tex``/``.md`` text into ``=``
chains :math:`E_0 = E_1 = \dots = E_n` and decides each step :math:`E_{k-1} \to E_k` soundly:
**valid** with a symbolic proof, **invalid** with a counterexample that satisfies the problem's
definitions (re-checked independently), otherwise **undecided**. Named quantities take their
proved values (:mod:`derive.results`). Invalid steps get the difference and, where the catalogue
(:mod:`derive.steps._slips`) recognises it, the slip's name. Rendering: :mod:`derive.steps._render`.

>>> r = check_steps("batchnorm-logdet", r"$$\log|\det\frac{\partial y}{\partial x}| = -\sum_i\log(\tilde\sigma_i^2+\epsilon)$$")
>>> r.status, r.first_invalid, r.steps[0].slip
('invalid', 1, 'factor-half')
"""

from __future__ import annotations

from derive.steps._check import check_steps, check_steps_unlimited, decide_step
from derive.steps._render import render_latex, render_text
from derive.steps._slips import SLIPS, Slip
from derive.steps._types import EXIT_CODES, StepResult, StepsResult

__all__ = [
    "EXIT_CODES",
    "SLIPS",
    "Slip",
    "StepResult",
    "StepsResult",
    "check_steps",
    "check_steps_unlimited",
    "decide_step",
    "render_latex",
    "render_text",
]
