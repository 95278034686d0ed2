"""Arrays TensorFlow can share without a copy: C-contiguous, on an :data:`ALIGNMENT`-byte boundary.

NumPy only, so the data readers (which the designer imports) can allocate them
without importing TensorFlow; :mod:`mlpdesigner.train.pipeline` hands them to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Byte alignment TensorFlow requires of a buffer it shares (Eigen's largest vector alignment).
ALIGNMENT = 64


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialized C-contiguous array whose buffer starts on an :data:`ALIGNMENT`-byte boundary."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(size + ALIGNMENT, dtype=np.uint8)
    start = (-raw.ctypes.data) % ALIGNMENT
    return raw[start : start + size].view(dtype).reshape(shape)


def is_shareable(array: np.ndarray) -> bool:
    """True when TensorFlow can use the array's buffer as it is (no copy)."""
    return (
        isinstance(array, np.ndarray)
        and array.size > 0
        and array.flags.c_contiguous
        and array.flags.writeable
        and array.dtype.kind in "fiu"
        and array.ctypes.data % ALIGNMENT == 0
    )
