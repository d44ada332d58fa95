r"""What a student reads: the verdict in words, the wrong step, the counterexample spelled out.

Built only from the checker's verdict (never from the raw answer), so it says no more than was
proved: "correct" only for an equivalence proof, "not correct" only with a confirmed
counterexample, otherwise that a grader will look at it.

>>> ce = {"D": 1, "sigma~[1]": "2", "answer": "-6.1203018", "reference": "-3.0601509",
...       "difference": "-3.0601509", "digits": 100}
>>> counterexample_in_words(ce)
'with D = 1, sigma~[1] = 2 your answer gives -6.1203 but the correct expression gives -3.06015 (a difference of -3.06015)'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["answer_feedback", "counterexample_in_words", "steps_feedback"]

#: Keys of a counterexample that are values, not the point: (this side, the other side, ...).
_MINE = ("answer", "this line", "lhs", "after")
_THEIRS = ("reference", "previous line", "rhs", "before")
_VALUES = (*_MINE, *_THEIRS, "difference", "digits")
MAX_CHARS = 2000


def _short(value: Any) -> str:
    """A value as a reader wants it: 6 significant digits (the exact value stays in the report)."""
    text = str(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text if len(text) <= 60 else text[:57] + "..."
    if not number.is_finite():
        return text
    if number == number.to_integral_value() and len(text) <= 12:
        return text
    shown = f"{number:.6g}"
    return shown.rstrip("0").rstrip(".") if "." in shown and "e" not in shown.lower() else shown


def counterexample_in_words(
    ce: dict[str, Any] | None, *, mine: str = "your answer", theirs: str = "the correct expression"
) -> str:
    """The counterexample as a sentence: the point, then the two values and their difference."""
    if not ce:
        return ""
    point = ", ".join(f"{k} = {_short(v)}" for k, v in ce.items() if k not in _VALUES)
    left = next((ce[k] for k in _MINE if k in ce), None)
    right = next((ce[k] for k in _THEIRS if k in ce), None)
    words = f"with {point}" if point else "at the point found"
    if left is not None and right is not None:
        words += f" {mine} gives {_short(left)} but {theirs} gives {_short(right)}"
        if "difference" in ce:
            words += f" (a difference of {_short(ce['difference'])})"
    return words


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 3] + "..."


def answer_feedback(
    status: str, message: str, counterexample: dict[str, Any] | None, column: int | None
) -> str:
    """Feedback for a final answer checked by :func:`~derive.check.check_answer`."""
    if status == "equivalent":
        text = "Correct: your answer equals the expected result for every size (proved symbolically)."
    elif status == "not-equivalent":
        words = counterexample_in_words(counterexample)
        text = f"Not correct: {words}." if words else f"Not correct: {message}"
    elif status == "parse-error":
        where = f" near column {column}" if column and "column" not in message else ""
        text = f"Your answer could not be read{where}: {message}. Check the LaTeX and resubmit."
    elif status == "timeout":
        text = "Your answer took too long to check automatically; a grader will look at it."
    elif status == "resource-limit":
        text = "Checking your answer used too much memory; a grader will look at it."
    else:
        text = "Your answer could not be decided automatically; a grader will look at it."
    return _clip(text)


def steps_feedback(result: dict[str, Any]) -> str:
    """Feedback for a derivation checked by :func:`~derive.check.check_steps` (its ``to_dict()``)."""
    steps = result.get("steps") or []
    parts: list[str] = []
    if result.get("status") == "parse-error" and not steps:
        return _clip(f"Your derivation could not be read: {result.get('message') or 'no = chain found'}.")
    if result.get("reaches_reference"):
        parts.append("Your final result is correct.")
    else:
        parts.append("Your final result is not the expected one (or could not be shown to be).")
    for step in steps:
        status = step.get("status")
        if status == "valid":
            continue
        where = f"Step {step.get('step')}" + (f" (line {step['line']})" if step.get("line") else "")
        move = f"from {step.get('from', '')} to {step.get('to', '')}"
        if status == "invalid":
            words = counterexample_in_words(
                step.get("counterexample"), mine="this line", theirs="the previous line"
            )
            slip = f" It looks like {step['slip']}." if step.get("slip") else ""
            parts.append(f"{where} does not follow: {move}; {words or step.get('message', '')}.{slip}")
        elif status == "parse-error":
            parts.append(f"{where} could not be read: {step.get('message', '')}.")
        else:
            parts.append(f"{where} could not be decided automatically; a grader will look at it.")
    if len(parts) == 1 and result.get("status") == "valid":
        parts.append("Every step follows from the previous one (proved symbolically).")
    return _clip(" ".join(parts))
