r"""A one-line progress bar on a terminal; silent when the stream is not a TTY (logs, CI, pipes).

>>> import io
>>> bar = Progress(10, io.StringIO())
>>> bar.active
False
"""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress"]

WIDTH = 30


class Progress:
    """``update()`` once per finished item; redraws at most ten times a second."""

    def __init__(self, total: int, stream: TextIO, *, label: str = "grading") -> None:
        self.total, self.stream, self.label = total, stream, label
        self.done = 0
        self.active = total > 0 and _isatty(stream)
        self._start = time.monotonic()
        self._drawn = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.active and (now - self._drawn >= 0.1 or self.done >= self.total):
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = self.done / self.total
        filled = int(WIDTH * share)
        rate = self.done / max(now - self._start, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * filled + "." * (WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:.1f}/s eta {eta:.0f} s ")
        self.stream.flush()

    def close(self) -> None:
        if self.active:
            self.stream.write("\n")
            self.stream.flush()
            self.active = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
