r"""The problems ``derive check`` knows. Adding one is one module with a ``PROBLEM`` plus one entry here.

>>> [p.id for p in PROBLEMS]
['iaf-logq', 'batchnorm-logdet', 'planar-logdet', 'coupling-logdet', 'actnorm-logdet', 'conv1x1-logdet']
>>> get_problem("nope")
Traceback (most recent call last):
...
derive.errors.UnknownProblemError: unknown problem 'nope'; known: iaf-logq, batchnorm-logdet, planar-logdet, coupling-logdet, actnorm-logdet, conv1x1-logdet
"""

from __future__ import annotations

from derive.errors import UnknownProblemError
from derive.problems import (
    actnorm_logdet,
    batchnorm_logdet,
    conv1x1_logdet,
    coupling_logdet,
    iaf_logq,
    planar_logdet,
)
from derive.problems._spec import Problem

__all__ = ["PROBLEMS", "Problem", "get_problem"]

PROBLEMS: tuple[Problem, ...] = (
    iaf_logq.PROBLEM,
    batchnorm_logdet.PROBLEM,
    planar_logdet.PROBLEM,
    coupling_logdet.PROBLEM,
    actnorm_logdet.PROBLEM,
    conv1x1_logdet.PROBLEM,
)


def get_problem(problem_id: str) -> Problem:
    """The registered problem with this id."""
    for problem in PROBLEMS:
        if problem.id == problem_id:
            return problem
    raise UnknownProblemError(f"unknown problem {problem_id!r}; known: {', '.join(p.id for p in PROBLEMS)}")
