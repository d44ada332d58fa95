r"""The grader's progress bar: tqdm on a terminal; silent when the stream is not a TTY (logs, CI, pipes).

>>> import io
>>> bar = Progress(10, io.StringIO())
>>> bar.active
False
>>> bar.update(); bar.done
1
"""

from __future__ import annotations

import shutil
from typing import TextIO

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    """``update()`` once per finished item; tqdm redraws at most ten times a second."""

    def __init__(self, total: int, stream: TextIO, *, label: str = "grading") -> None:
        self.total, self.stream, self.label = total, stream, label
        self.done = 0
        self._bar: tqdm[None] | None = None
        self.active = total > 0 and _isatty(stream)

    @property
    def active(self) -> bool:
        return self._bar is not None

    @active.setter
    def active(self, on: bool) -> None:
        if on and self._bar is None:
            size = shutil.get_terminal_size()
            self._bar = tqdm(
                total=self.total,
                initial=self.done,
                file=self.stream,
                desc=self.label,
                unit="sub",
                mininterval=0.1,
                # A pty whose size was never set reports 0 x 0, which tqdm takes literally and prints
                # nothing: shutil falls back to 80 x 24 there.
                ncols=min(size.columns, 100),
                nrows=size.lines,
                leave=True,
            )
        elif not on and self._bar is not None:
            self._bar.close()
            self._bar = None

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        self.active = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
