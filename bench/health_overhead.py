"""Cost of layer-health recording: the training runner's path with and without the health callback.

The three networks of :mod:`bench.training` (20,000 rows, batch 32, Adam, CPU),
each built twice from the same spec and seed by the runner's own path
(``resolve_settings`` / ``build_for_training`` / ``fit_model`` with the
run's callbacks): "with" keeps the :class:`~mlpdesigner.train.health_callback.LayerHealth`
callback that :func:`mlpdesigner.train.runner.make_callbacks` adds, "without"
drops it. A 20% validation split gives health its fixed batch as in a real run.
Both sides run alternating in one process after a warm-up fit each (which
traces the health function), so machine load hits both alike; the figure is
the median time per repeat and the overhead ``with / without - 1``. Run::

    python -m bench.health_overhead [--repeats 7] [--epochs 2] [--json out.json]

It also times the measurement alone (20 calls of the compiled health function on the
fixed batch, figures fetched) and gives it as a share of an epoch without health: a
figure that machine load disturbs far less than the whole-fit comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np


def measure(case: Any, epochs: int, repeats: int) -> dict[str, Any]:
    """Median seconds per repeat with and without the health callback, and the overhead."""
    from mlpdesigner.spec import load_spec
    from mlpdesigner.train.callbacks import RunMonitor
    from mlpdesigner.train.data import load_dataset
    from mlpdesigner.train.progress import Reporter, StopRequest
    from mlpdesigner.train.runner import build_for_training, fit_model, make_callbacks, resolve_settings

    from .training import ROWS

    x, y = case.make_data(ROWS, np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "bench.npz"
        np.savez(data_file, features=x, target=y.reshape(-1) if case.output["task"] != "regression" else y)
        raw = case.spec(data_file, epochs)
        raw["data"]["validation_split"] = 0.2
        spec = load_spec(raw)
        dataset = load_dataset(spec)
    sides: dict[str, tuple[Any, Any, list[Any]]] = {}
    for name in ("with", "without"):
        settings = resolve_settings(spec, dataset, "cpu", "cpu")
        model = build_for_training(spec, dataset, settings)
        callbacks = make_callbacks(spec, dataset, settings)
        if name == "without":
            callbacks = [c for c in callbacks if type(c).__name__ != "LayerHealth"]
        elif not any(type(c).__name__ == "LayerHealth" for c in callbacks):
            raise AssertionError("make_callbacks added no LayerHealth callback")
        callbacks.append(RunMonitor(Reporter(), StopRequest(), epochs=epochs, steps=settings.steps_per_epoch))
        sides[name] = (model, settings, callbacks)

    def fit(name: str, count: int) -> float:
        model, settings, callbacks = sides[name]
        settings.epochs = count
        start = time.perf_counter()
        fit_model(model, dataset, settings, callbacks)
        return time.perf_counter() - start

    for name in sides:
        fit(name, 1)  # warm-up: tracing, graph building (and the health function's tracing)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for index in range(repeats):
        order = list(sides) if index % 2 == 0 else list(reversed(list(sides)))
        for name in order:
            times[name].append(fit(name, epochs))
    with_health, without = statistics.median(times["with"]), statistics.median(times["without"])
    health = next(c for c in sides["with"][2] if type(c).__name__ == "LayerHealth")
    calls = []
    for _ in range(20):  # the measurement alone: one pass over the fixed batch, figures fetched
        start = time.perf_counter()
        {key: np.asarray(value) for key, value in health._measure(health.x, health.y).items()
         if not isinstance(value, dict)}
        calls.append(time.perf_counter() - start)
    per_call = statistics.median(calls)
    return {
        "case": case.key,
        "epochs_per_repeat": epochs,
        "median_seconds_with": round(with_health, 4),
        "median_seconds_without": round(without, 4),
        "overhead": round(with_health / without - 1, 4),
        "overhead_of_fastest": round(min(times["with"]) / min(times["without"]) - 1, 4),
        "measurement_ms": round(1000 * per_call, 2),
        "measurement_share_of_epoch": round(per_call / (without / epochs), 4),
        "seconds_with": [round(t, 3) for t in times["with"]],
        "seconds_without": [round(t, 3) for t in times["without"]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--only", nargs="+", help="case keys (small, binary, multiclass)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    from mlpdesigner import tfenv

    tfenv.quiet()
    from mlpdesigner.train.runner import setup_device

    from .training import CASES

    setup_device("cpu")
    results = []
    for case in CASES:
        if args.only and case.key not in args.only:
            continue
        result = measure(case, args.epochs, args.repeats)
        results.append(result)
        print(f"{case.key:<11s} with health {result['median_seconds_with']:.3f} s, without "
              f"{result['median_seconds_without']:.3f} s per {args.epochs} epochs: overhead "
              f"{100 * result['overhead']:+.1f}% (fastest repeats {100 * result['overhead_of_fastest']:+.1f}%); "
              f"one measurement {result['measurement_ms']:.1f} ms = "
              f"{100 * result['measurement_share_of_epoch']:.2f}% of an epoch", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
