"""Memory of a training run: a lower bound of what it needs, what the machine offers, and OOM errors.

Pure Python (no TensorFlow). A run whose *lower bound* of memory exceeds the
memory available is refused before TensorFlow allocates anything: on the CPU an
allocation that fails deep inside TensorFlow's kernels can end the process with
a segmentation fault instead of an exception, which no handler can turn into a
readable message. The bound counts only what training must hold at once —
weights, their gradients, the optimizer's slots, and one batch of activations
forward and backward — so it never refuses a run that could fit. Out-of-memory
errors that still happen (a GPU, other processes) are recognised by
:func:`is_out_of_memory` and reported with the same advice.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..spec.plan import Plan

try:
    import resource
except ImportError:  # pragma: no cover - Windows has no address-space limit to read
    resource = None  # type: ignore[assignment]

#: Bytes of one float32 value.
FLOAT_BYTES = 4


def optimizer_slots(optimizer: dict[str, Any]) -> int:
    """Values the optimizer keeps per weight (Adam: two moments; SGD with momentum: one)."""
    name = optimizer.get("name", "adam")
    if name in ("adam", "adamw", "nadam"):
        return 2
    if name == "rmsprop":
        return 1 + (1 if optimizer.get("momentum", 0) else 0)
    if name == "sgd":
        return 1 if optimizer.get("momentum", 0) else 0
    return 0


def training_bytes_lower_bound(plan: Plan, batch_rows: int, optimizer: dict[str, Any]) -> int:
    """Bytes a training step needs at least: weights, gradients, optimizer slots, one batch's activations."""
    params = sum(node.params for node in plan.nodes)
    widths = [math.prod(node.shape) for node in plan.nodes if node.kind != "input"]
    weights = params * (2 + optimizer_slots(optimizer))
    activations = batch_rows * (sum(widths) + max(widths, default=0))
    return FLOAT_BYTES * (weights + activations)


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) * 1024
    except OSError:
        pass
    return values


def _address_space_used() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        # The page cache counts as used but is given back under pressure.
        for line in Path("/sys/fs/cgroup/memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "file":
                used -= int(value)
        return max(0, int(limit) - max(used, 0))
    except (OSError, ValueError):
        return None


def available_bytes() -> tuple[int, str] | None:
    """The memory this process can still get, and what limits it; None when unknown (not Linux)."""
    candidates: list[tuple[int, str]] = []
    info = _meminfo()
    if "MemAvailable" in info:
        candidates.append((info["MemAvailable"] + info.get("SwapFree", 0), "available memory"))
    if resource is not None:
        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        used = _address_space_used()
        if soft != resource.RLIM_INFINITY and used is not None:
            candidates.append((max(0, soft - used), "the address-space limit (ulimit -v)"))
    room = _cgroup_room()
    if room is not None:
        candidates.append((room, "the container's memory limit"))
    return min(candidates) if candidates else None


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"  # pragma: no cover


def advice(plan: Plan, batch_size: int) -> str:
    """What to change: a smaller batch or narrower layers (naming the widest)."""
    dense = [n for n in plan.nodes if n.kind == "dense"]
    widest = max(dense, key=lambda n: n.config.get("units", 0), default=None)
    width = f", or fewer units in the widest layer ({widest.name}: {widest.config['units']} units)" if widest else ""
    return f"Try a smaller training.batch_size (now {batch_size}){width}."


def check_fits(plan: Plan, batch_size: int, batch_rows: int, optimizer: dict[str, Any], device: str) -> str | None:
    """A message when the run cannot fit in memory for sure (CPU only); else None."""
    if device != "cpu":
        return None
    available = available_bytes()
    if available is None:
        return None
    room, limit = available
    needed = training_bytes_lower_bound(plan, batch_rows, optimizer)
    if needed <= room:
        return None
    return (
        f"Out of memory: training needs at least {_size(needed)} (weights, gradients, optimizer state and "
        f"one batch of {batch_rows} rows), but {limit} leaves {_size(room)}. {advice(plan, batch_size)}"
    )


def check_build_fits(plan: Plan, what: str) -> str | None:
    """A message when merely building the model (weights, and their initial values) cannot fit; else None.

    For ``summary --keras`` and exports, which build the model without training it.
    """
    available = available_bytes()
    if available is None:
        return None
    room, limit = available
    needed = FLOAT_BYTES * plan.total_params * 2
    if needed <= room:
        return None
    return (
        f"Out of memory: {what} builds a model of {plan.total_params:,} parameters, which needs at least "
        f"{_size(needed)}, but {limit} leaves {_size(room)}. Expected a smaller design: fewer units per layer."
    )


def is_out_of_memory(exc: BaseException) -> bool:
    """True for Python's MemoryError and TensorFlow's ResourceExhaustedError (an OOM)."""
    if isinstance(exc, MemoryError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "ResourceExhaustedError" in names or "OOM when allocating" in str(exc)


def out_of_memory_message(exc: BaseException, plan: Plan, batch_size: int, when: str) -> str:
    """The run's failure reason for an out-of-memory error raised ``when`` (e.g. "building the model")."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(detail) > 300:
        detail = detail[:300] + "..."
    return f"Out of memory while {when} ({type(exc).__name__}: {detail}). {advice(plan, batch_size)}"
