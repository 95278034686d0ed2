"""MLP Designer benchmarks: ``python -m bench`` runs them all and writes ``bench/results/latest.{md,json}``.

Every comparison runs side by side in the same process on the same machine and is
quoted as a ratio (keys containing ``ratio``); absolute times are context only.
"""

from __future__ import annotations

import gc
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any


def median_seconds(func: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``func`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> dict[str, Any]:
    """The machine and library versions the figures were measured with."""
    import os

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    for name in ("numpy", "jsonschema", "keras", "tensorflow", "onnxruntime", "tf2onnx", "PySide6", "torch"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001 - a missing library is reported, not fatal
            info[name] = None
    return info
