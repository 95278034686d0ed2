"""Per-step cost of training: operations in one training step, and what cutting them buys per epoch.

For each network of :mod:`bench.training` (20,000 rows, batch 32, the
runner's own ``steps_per_execution`` and pipeline), the model's ``train_step``
is traced for one batch and its graph's operations are counted (all of them,
and the "kernels": operations other than constants, identities, variable reads
and no-ops). Variants, each measured against the default side by side in this
process (alternating, median of the timed epochs after a first epoch):

- ``default``: the model as MLP Designer compiles it (the output's default
  metrics, ``jit_compile`` off on the CPU);
- ``no_metrics``: the output's metrics left out (the loss only), the most a
  "metrics once per epoch" scheme could save per step;
- ``no_normalization``: the inputs' Normalization layer left out
  (``normalize: false``; the generated features are already near unit scale);
- ``xla``: ``no_normalization`` with ``jit_compile=True``. Keras refuses XLA
  for a model with a Normalization layer (a ``tf.data`` preprocessing layer:
  "Model doesn't support jit_compile=True", and it trains without XLA), which
  every design with standardized inputs (the default) has; so XLA is compared
  with ``no_normalization``, the same model without it.

The ratio ``variant / default`` of per-epoch time below 1 means the variant
is faster. Nothing here changes the product; the results say which change
would pay.
"""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .training import BATCH_SIZE, CASES, ROWS, Case

#: The variants measured (see the module docstring).
VARIANTS = ("default", "no_metrics", "no_normalization", "xla")

#: Operations that launch no computation of their own.
NOT_KERNELS = {"Const", "Identity", "NoOp", "ReadVariableOp", "Placeholder", "IdentityN", "StopGradient"}


def _spec_variant(spec: dict[str, Any], variant: str) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    if variant == "no_metrics":
        for output in out["outputs"]:
            output["metrics"] = []
    if variant in ("no_normalization", "xla"):
        for inp in out["inputs"]:
            inp["normalize"] = False
    return out


def count_ops(model: Any, x: np.ndarray, y: np.ndarray) -> dict[str, int]:
    """Operations in the graph of one ``train_step`` on a batch of ``BATCH_SIZE`` rows."""
    import tensorflow as tf

    x_spec = tf.TensorSpec([BATCH_SIZE, *x.shape[1:]], tf.float32)
    y_spec = tf.TensorSpec([BATCH_SIZE, *y.shape[1:]], tf.as_dtype(y.dtype))
    graph = tf.function(model.train_step).get_concrete_function((x_spec, y_spec)).graph
    ops = graph.get_operations()
    return {"ops": len(ops), "kernels": sum(op.type not in NOT_KERNELS for op in ops)}


def measure_case(case: Case, epochs: int, repeats: int) -> dict[str, Any]:
    """Op counts and per-epoch seconds of every variant of one case."""
    from mlpdesigner.compile import build_model
    from mlpdesigner.spec import load_spec
    from mlpdesigner.train.data import load_dataset
    from mlpdesigner.train.runner import fit_model, resolve_settings

    x, y = case.make_data(ROWS, np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "bench.npz"
        np.savez(data_file, features=x, target=y.reshape(-1) if case.output["task"] != "regression" else y)
        base = case.spec(data_file, epochs)
        specs = {name: load_spec(_spec_variant(base, name)) for name in VARIANTS}
        dataset = load_dataset(specs["default"])
    settings = resolve_settings(specs["default"], dataset, "cpu", "cpu")
    models = {}
    for name, spec in specs.items():
        models[name] = build_model(
            spec, seed=42, target_scaling=dataset.target_scaling,
            normalization={} if name in ("no_normalization", "xla") else dataset.normalization,
            steps_per_execution=settings.steps_per_execution, jit_compile=name == "xla",
        )
    xs, ys = dataset.train.x["features"], dataset.train.y["target"]
    counts = {name: count_ops(model, xs, ys) for name, model in models.items() if name != "xla"}
    xla_used = bool(models["xla"].jit_compile)
    times: dict[str, list[float]] = {name: [] for name in models}
    settings.epochs = 1
    for model in models.values():
        fit_model(model, dataset, settings, [])  # first epoch: tracing (and XLA compiling)
    settings.epochs = epochs
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            fit_model(model, dataset, settings, [])
            times[name].append((time.perf_counter() - start) / epochs)
    epoch = {name: statistics.median(t) for name, t in times.items()}
    return {"counts": counts, "epoch_seconds": epoch, "steps_per_execution": settings.steps_per_execution,
            "xla_used": xla_used}


def run(quick: bool = False) -> dict[str, Any]:
    """Op counts per step and per-epoch ratios of the variants, for the three networks."""
    from mlpdesigner import tfenv

    tfenv.quiet()
    from mlpdesigner.train.runner import setup_device

    setup_device("cpu")
    results: dict[str, Any] = {"rows": ROWS, "batch_size": BATCH_SIZE}
    table = []
    for case in CASES:
        figures = measure_case(case, epochs=2 if case.key == "small" else 1, repeats=2 if quick else 3)
        epoch = figures["epoch_seconds"]
        for name in ("default", "no_metrics", "no_normalization"):
            results[f"{case.key}_{name}_ops_per_step"] = figures["counts"][name]["ops"]
            results[f"{case.key}_{name}_kernels_per_step"] = figures["counts"][name]["kernels"]
        for name in ("no_metrics", "no_normalization"):
            results[f"{case.key}_{name}_vs_default_epoch_ratio"] = round(epoch[name] / epoch["default"], 2)
        results[f"{case.key}_xla_vs_no_normalization_epoch_ratio"] = round(epoch["xla"] / epoch["no_normalization"], 2)
        results[f"{case.key}_xla_used"] = figures["xla_used"]
        for name, seconds in epoch.items():
            table.append({
                "network": case.title,
                "variant": name,
                "ops/step": figures["counts"].get(name, figures["counts"]["no_normalization"])["ops"],
                "kernels/step": figures["counts"].get(name, figures["counts"]["no_normalization"])["kernels"],
                "epoch s": round(seconds, 3),
                "ratio to default": round(seconds / epoch["default"], 2),
            })
    results["tables"] = {f"Ops per training step and per-epoch time, {ROWS:,} rows, batch {BATCH_SIZE}": table}
    return results


if __name__ == "__main__":  # python -m bench.step_cost [--quick]
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
