"""Training throughput section of ``python -m bench``: see :mod:`bench.train_speed`."""

from __future__ import annotations

from typing import Any

from .train_speed import run as run_train_speed


def run(quick: bool = False) -> dict[str, Any]:
    """Flat figures of the training benchmark (``speedup_ratio``: MLP Designer over plain fit)."""
    result = run_train_speed(rows=20_000, epochs=2 if quick else 5, repeats=3 if quick else 5)
    sps = result["samples_per_second"]
    return {
        "model": result["model"],
        "rows": result["rows"],
        "plain_fit_samples_per_second": sps["plain"],
        "mlpdesigner_samples_per_second": sps["mlpdesigner"],
        "speedup_ratio": result["speedup_ratio"],
        "steps_per_execution": result["steps_per_execution"],
        "jit_compile": result["jit_compile"],
        "updates_per_repeat_both_sides": result["updates_per_repeat"],
        "train_mse_after_plain": result["train_mse_after"]["plain"],
        "train_mse_after_mlpdesigner": result["train_mse_after"]["mlpdesigner"],
    }
