r"""Scores from verdicts: a small TOML rubric, with a documented default.

A score is a share of full marks in ``[0, 1]``, or ``None`` ("manual": no verdict a score could
honestly rest on, so a human decides; platform exports leave such grades blank). The default:

.. code-block:: toml

    [answer]                          # derive grade (final answers, check_answer)
    equivalent = 1.0
    not-equivalent = 0.0
    parse-error = 0.0
    undecided = "manual"
    timeout = "manual"
    resource-limit = "manual"

    [steps]                           # derive grade --steps (derivations, check_steps)
    valid-reaches-reference = 1.0     # every step valid and the last line is the reference
    invalid-reaches-reference = 0.5   # right result, but some step does not follow
    valid-wrong-result = 0.25         # every step valid, but the result is not the reference
    invalid-wrong-result = 0.0
    undecided = "manual"
    parse-error = 0.0
    timeout = "manual"
    resource-limit = "manual"

A rubric file overrides any of these keys; an unknown table or key, or a value that is neither
a number in ``[0, 1]`` nor ``"manual"``, is an error.

>>> rubric = Rubric.default()
>>> rubric.score("answer", "equivalent"), rubric.score("answer", "undecided")
(1.0, None)
>>> rubric.score_steps("invalid", reaches_reference=True)
0.5
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from derive.errors import UsageError

__all__ = ["DEFAULT_RUBRIC", "Rubric"]

Score = float | None

DEFAULT_RUBRIC: dict[str, dict[str, Score]] = {
    "answer": {
        "equivalent": 1.0,
        "not-equivalent": 0.0,
        "parse-error": 0.0,
        "undecided": None,
        "timeout": None,
        "resource-limit": None,
    },
    "steps": {
        "valid-reaches-reference": 1.0,
        "invalid-reaches-reference": 0.5,
        "valid-wrong-result": 0.25,
        "invalid-wrong-result": 0.0,
        "undecided": None,
        "parse-error": 0.0,
        "timeout": None,
        "resource-limit": None,
    },
}


def _value(table: str, key: str, raw: Any) -> Score:
    if raw == "manual":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise UsageError(f'rubric [{table}] {key}: expected a number in [0, 1] or "manual", got {raw!r}')
    return float(raw)


@dataclass(frozen=True)
class Rubric:
    """Scores per mode (``answer`` or ``steps``) and outcome."""

    tables: MappingProxyType[str, MappingProxyType[str, Score]]

    @classmethod
    def default(cls) -> Rubric:
        return cls.from_mapping({})

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Rubric:
        tables = {name: dict(values) for name, values in DEFAULT_RUBRIC.items()}
        for name, values in data.items():
            if name not in tables:
                raise UsageError(f"rubric: unknown table [{name}]; known: {', '.join(tables)}")
            if not isinstance(values, dict):
                raise UsageError(f"rubric: [{name}] must be a table")
            for key, raw in values.items():
                if key not in tables[name]:
                    raise UsageError(
                        f"rubric [{name}]: unknown key {key!r}; known: {', '.join(tables[name])}"
                    )
                tables[name][key] = _value(name, key, raw)
        return cls(MappingProxyType({k: MappingProxyType(v) for k, v in tables.items()}))

    @classmethod
    def load(cls, path: str | Path) -> Rubric:
        """Read a rubric TOML file (errors are one-line :class:`~derive.errors.UsageError`)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise UsageError(f"cannot read rubric {path}: {err.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise UsageError(f"rubric {path} is not valid TOML: {err}") from None
        return cls.from_mapping(data)

    def score(self, mode: str, outcome: str) -> Score:
        """The score for ``outcome`` (a status, or a steps outcome key) in ``mode``."""
        return self.tables[mode][outcome]

    def score_steps(self, status: str, *, reaches_reference: bool) -> Score:
        """Partial credit for a derivation: by its status and whether its last line is the reference."""
        if status in ("valid", "invalid"):
            ending = "reaches-reference" if reaches_reference else "wrong-result"
            return self.tables["steps"][f"{status}-{ending}"]
        return self.tables["steps"][status]
