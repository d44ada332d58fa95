r"""The problems ``derive check`` knows. Adding one is one module with a ``PROBLEM`` plus one entry here.

The registry is lazy: :func:`get_problem` imports only the module of the problem asked for (a
one-shot ``derive check iaf-logq …`` never loads the convolution or coupling models), and
``PROBLEMS`` imports them all on first use.

>>> PROBLEM_IDS
('iaf-logq', 'batchnorm-logdet', 'planar-logdet', 'coupling-logdet', 'actnorm-logdet', 'conv1x1-logdet')
>>> from derive.problems import PROBLEMS  # (a doctest's globals bypass the module's __getattr__)
>>> [p.id for p in PROBLEMS] == list(PROBLEM_IDS)
True
>>> get_problem("nope")
Traceback (most recent call last):
...
derive.errors.UnknownProblemError: unknown problem 'nope'; known: iaf-logq, batchnorm-logdet, planar-logdet, coupling-logdet, actnorm-logdet, conv1x1-logdet
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from derive.errors import UnknownProblemError
from derive.problems._spec import Problem

if TYPE_CHECKING:
    PROBLEMS: tuple[Problem, ...]

__all__ = ["PROBLEMS", "PROBLEM_IDS", "Problem", "get_problem"]

#: Problem id -> the module (in this package) whose ``PROBLEM`` it is, in listing order.
_MODULES: dict[str, str] = {
    "iaf-logq": "iaf_logq",
    "batchnorm-logdet": "batchnorm_logdet",
    "planar-logdet": "planar_logdet",
    "coupling-logdet": "coupling_logdet",
    "actnorm-logdet": "actnorm_logdet",
    "conv1x1-logdet": "conv1x1_logdet",
}

#: The registered ids, in listing order (known without importing any problem).
PROBLEM_IDS: tuple[str, ...] = tuple(_MODULES)


def get_problem(problem_id: str) -> Problem:
    """The registered problem with this id (its module is imported on first use)."""
    module = _MODULES.get(problem_id)
    if module is None:
        raise UnknownProblemError(f"unknown problem {problem_id!r}; known: {', '.join(PROBLEM_IDS)}")
    problem = import_module(f"{__name__}.{module}").PROBLEM
    if not isinstance(problem, Problem) or problem.id != problem_id:
        raise RuntimeError(f"{__name__}.{module}.PROBLEM is not the problem {problem_id!r}")
    return problem


def __getattr__(name: str) -> Any:
    if name == "PROBLEMS":
        value = tuple(get_problem(problem_id) for problem_id in PROBLEM_IDS)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
