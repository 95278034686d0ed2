"""Training speed: MLP Designer's training loop against plain ``model.fit(x, y, batch_size=32)``.

The model is the 8-30-30-1 regression MLP (two ReLU layers of 30, one linear
unit, Adam, MSE) on 20,000 rows, on the CPU. Both sides build the same model
from the same spec and seed and train with batch size 32, shuffling, and the
same number of optimizer updates per epoch (checked); they differ only in how
the steps are driven. "plain" is ``build_model(spec)`` (steps_per_execution=1,
Keras's default jit_compile) and ``fit(x, y, batch_size=32)``; "plain_same_spe"
is the same with MLP Designer's ``steps_per_execution`` (the one setting that
makes the difference; MLP Designer matches it); "mlpdesigner"
is the training runner's own path (``resolve_settings`` / ``build_for_training``
/ ``fit_model`` with the run's callbacks).

Both run side by side in one process, alternating, after a warm-up fit each;
the figure is the median of the repeats. Run::

    python -m bench.train_speed            # or: python bench/train_speed.py
    python -m bench.train_speed --repeats 5 --epochs 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

FEATURES = [f"x{i}" for i in range(8)]


def make_spec(data_file: Path, epochs: int) -> dict[str, Any]:
    """The benchmark's spec: 8 inputs, two ReLU layers of 30, one linear output; all rows train."""
    return {
        "format": "mlpdesigner/1",
        "name": "bench_8_30_30_1",
        "inputs": [{"name": "features", "shape": [8]}],
        "network": {
            "topology": "sequential",
            "layers": [
                {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal"},
                {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal"},
            ],
        },
        "outputs": [{"name": "target", "task": "regression", "units": 1}],
        "training": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "epochs": epochs, "batch_size": 32},
        "data": {
            "path": str(data_file),
            "columns": {"features": FEATURES, "target": ["y"]},
            "validation_split": 0.0,
            "test_split": 0.0,
        },
    }


def write_data(path: Path, rows: int, seed: int = 0) -> None:
    """Standardized features and a noisy nonlinear target, as CSV."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.3 * x[:, 3:].sum(axis=1) + rng.normal(0, 0.1, rows)
    table = np.column_stack([x, y])
    np.savetxt(path, table, delimiter=",", header=",".join([*FEATURES, "y"]), comments="", fmt="%.6f")


def run(rows: int = 20_000, epochs: int = 5, repeats: int = 3) -> dict[str, Any]:
    """Measure both sides; returns the figures (samples per second, ratio, updates)."""
    from mlpdesigner import tfenv

    tfenv.quiet()
    from mlpdesigner.compile import build_model
    from mlpdesigner.spec import load_spec
    from mlpdesigner.train.callbacks import RunMonitor
    from mlpdesigner.train.data import load_dataset
    from mlpdesigner.train.progress import Reporter, StopRequest
    from mlpdesigner.train.runner import (
        build_for_training,
        fit_model,
        make_callbacks,
        resolve_settings,
        setup_device,
    )

    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "bench.csv"
        write_data(data_file, rows)
        spec = load_spec(make_spec(data_file, epochs))
        dataset = load_dataset(spec)
    setup_device("cpu")
    x, y = dataset.train.x["features"], dataset.train.y["target"]

    plain = build_model(spec)  # steps_per_execution=1, the default fit
    settings = resolve_settings(spec, dataset, "cpu", "cpu")
    ours = build_for_training(spec, dataset, settings)
    # The setting that makes most of the difference, in plain Keras: the same steps_per_execution, NumPy-fed.
    same_spe = build_model(spec, steps_per_execution=settings.steps_per_execution)
    callbacks = [
        *make_callbacks(spec, dataset, settings),
        RunMonitor(Reporter(), StopRequest(), epochs=settings.epochs, steps=settings.steps_per_epoch),
    ]

    def fit_plain(n_epochs: int) -> None:
        plain.fit(x, y, batch_size=32, epochs=n_epochs, verbose=0)

    def fit_same_spe(n_epochs: int) -> None:
        same_spe.fit(x, y, batch_size=32, epochs=n_epochs, verbose=0)

    def fit_ours(n_epochs: int) -> None:
        settings.epochs = n_epochs
        fit_model(ours, dataset, settings, callbacks)

    sides = (("plain", plain, fit_plain), ("plain_same_spe", same_spe, fit_same_spe), ("mlpdesigner", ours, fit_ours))
    for _, _, fit in sides:
        fit(1)  # warm-up: tracing and graph building
    times: dict[str, list[float]] = {name: [] for name, _, _ in sides}
    updates: dict[str, list[int]] = {name: [] for name, _, _ in sides}
    for _ in range(repeats):
        for name, model, fit in sides:
            before = int(model.optimizer.iterations.numpy())
            start = time.perf_counter()
            fit(epochs)
            times[name].append(time.perf_counter() - start)
            updates[name].append(int(model.optimizer.iterations.numpy()) - before)
    expected_updates = math.ceil(rows / 32) * epochs
    if any(set(u) != {expected_updates} for u in updates.values()):
        raise AssertionError(f"Expected {expected_updates} updates per repeat on every side. Received: {updates}")
    per_second = {name: rows * epochs / statistics.median(t) for name, t in times.items()}
    loss = {
        name: float(m.evaluate(x, y, batch_size=1024, verbose=0)[0])
        for name, m, _ in sides
    }
    return {
        "benchmark": "train_speed",
        "model": "8-30-30-1 regression MLP, Adam, batch 32",
        "rows": rows,
        "epochs_per_repeat": epochs,
        "repeats": repeats,
        "updates_per_repeat": expected_updates,
        "steps_per_execution": settings.steps_per_execution,
        "jit_compile": settings.jit_compile,
        "samples_per_second": {k: round(v) for k, v in per_second.items()},
        "seconds_per_repeat": {k: [round(s, 4) for s in v] for k, v in times.items()},
        "train_mse_after": {k: round(v, 5) for k, v in loss.items()},
        "speedup_ratio": round(per_second["mlpdesigner"] / per_second["plain"], 2),
        "vs_plain_same_spe_ratio": round(per_second["mlpdesigner"] / per_second["plain_same_spe"], 2),
        "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per timed repeat (one fit call)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.rows, args.epochs, args.repeats)
    sps = result["samples_per_second"]
    print(
        f"{result['model']}, {result['rows']} rows, {result['epochs_per_repeat']} epochs per repeat, "
        f"median of {result['repeats']} (CPU, {result['cpu_count']} cores)"
    )
    print(f"  plain fit(batch_size=32):        {sps['plain']:>9,d} samples/s")
    print(f"  plain fit, same steps_per_execution: {sps['plain_same_spe']:>9,d} samples/s")
    print(
        f"  mlpdesigner (steps_per_execution={result['steps_per_execution']}, jit_compile={result['jit_compile']}): "
        f"{sps['mlpdesigner']:>9,d} samples/s"
    )
    print(
        f"  ratio: {result['speedup_ratio']:.2f}x plain, {result['vs_plain_same_spe_ratio']:.2f}x plain with the same "
        f"steps_per_execution  (same batch size, {result['updates_per_repeat']} updates per "
        f"repeat on both sides; train MSE after: {result['train_mse_after']})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
