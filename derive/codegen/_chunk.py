r"""Batch chunking: call a generated kernel on slices of its first batch axis, so intermediates stay in cache.

A lowered expression reduces, slices and transposes only its arguments' trailing (core) axes
(every axis it names is negative); leading axes are batch axes that broadcast like a ufunc's. So
the kernel commutes with slicing the first axis of the broadcast batch shape,
:math:`f(a_1, \dots)[s] = f(a_1[s], \dots)` (arguments whose batch shape does not reach that axis,
or has size 1 there, are passed whole). :func:`chunked_call` uses this to run the kernel on blocks
of about ``chunk_bytes`` of input: a temporary such as ``log(sigma)`` is then one block, in cache,
instead of an array as large as the input. The result is written into one preallocated output.

>>> import numpy as np
>>> f = lambda a, b: (a * b).sum(-1)
>>> a, b = np.arange(12.0).reshape(6, 2), np.ones(2)
>>> np.array_equal(chunked_call(f, (1, 1), (a, b), chunk_bytes=32), f(a, b))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["CHUNK_BYTES", "chunked_call"]

#: Input bytes per block. Each block costs ~30 NumPy calls of Python overhead, so blocks should be
#: large, but not much larger than one core's L2 (1 MiB here): measured on the 2-core machine,
#: 1 MiB was fastest or within noise of it for every kernel among 0.25, 0.5, 1, 2 MiB (2 MiB blocks
#: made ``batchnorm_logdet`` 3x slower).
CHUNK_BYTES = 1 << 20


def chunked_call(
    func: Callable[..., Any], core: Sequence[int], arrays: Sequence[Any], chunk_bytes: int = CHUNK_BYTES
) -> Any:
    """``func(*arrays)``, computed block by block along the first batch axis where that is large."""
    if len(core) != len(arrays) or not all(isinstance(a, np.ndarray | float | int) for a in arrays):
        return func(*arrays)
    shapes = [np.shape(a) for a in arrays]
    if any(len(s) < c for s, c in zip(shapes, core, strict=True)):
        return func(*arrays)  # let the kernel report the shape error
    batches = [s[: len(s) - c] for s, c in zip(shapes, core, strict=True)]
    try:
        batch = np.broadcast_shapes(*batches)
    except ValueError:
        return func(*arrays)
    if not batch or batch[0] < 4:
        return func(*arrays)
    n = batch[0]
    sliced = [len(b) == len(batch) and b[0] == n for b in batches]
    per_row = sum(a.nbytes for a, s in zip(arrays, sliced, strict=True) if s) / n
    rows = max(2, int(chunk_bytes // max(per_row, 1.0)))
    if rows >= n:
        return func(*arrays)
    out: np.ndarray | None = None
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        part = np.asarray(func(*(a[start:stop] if s else a for a, s in zip(arrays, sliced, strict=True))))
        if out is None:
            if part.shape[: len(batch)] != (stop - start, *batch[1:]):
                return func(*arrays)  # the result does not follow the batch axis: no chunking
            out = np.empty((n, *part.shape[1:]), dtype=part.dtype)
        out[start:stop] = part
    return out
