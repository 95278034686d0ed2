"""The generated training script against ``mlpdesigner train``: same design, data and epochs, wall time.

Issue 13 asks that the script ``mlpdesigner export --format python
--with-training`` writes reruns the app's training (same split,
standardization, target scaling, batches, callbacks, ``steps_per_execution``
and seed) and that its speed is compared. The design is the
``housing_regression`` starter changed only in its input shape and columns,
on 20,000 synthetic rows of 8 features (enough batches per epoch that the
per-step overhead shows), with early stopping off so that both train exactly
the given number of epochs.

Each side runs in its own fresh Python process, the order rotated from one
repeat to the next (app, script; script, app; ...); the figure is the median
wall time of the process (Python start, imports, reading the data, building,
training, evaluating, saving: what a user waits for). Both also print their
test metrics, which are compared to show that they ran the same training.
Run::

    python -m bench --only script --keep-others
"""

from __future__ import annotations

import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROWS = 20_000
FEATURES = 8
EPOCHS = 10
REPEATS = 3


def write_case(folder: Path, epochs: int) -> Path:
    """The data (``rows.csv``) and the design (``design.json``) in ``folder``; returns the design's path."""
    import pandas as pd

    from mlpdesigner.resources import example_path

    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, FEATURES))
    y = 2.0 + x @ rng.normal(size=FEATURES) + 0.5 * np.sin(3 * x[:, 0]) + rng.normal(scale=0.1, size=ROWS)
    table = pd.DataFrame(x, columns=[f"x{i}" for i in range(FEATURES)])
    table["y"] = y
    table.to_csv(folder / "rows.csv", index=False)
    spec = json.loads(example_path("housing_regression").read_text(encoding="utf-8"))
    spec["inputs"][0]["shape"] = [FEATURES]
    spec["data"]["path"] = "rows.csv"
    spec["data"]["columns"] = {spec["inputs"][0]["name"]: [f"x{i}" for i in range(FEATURES)],
                               spec["outputs"][0]["name"]: ["y"]}
    spec["training"]["epochs"] = epochs
    spec["training"]["early_stopping"] = {"enabled": False}
    design = folder / "design.json"
    design.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return design


def _timed(command: list[str], cwd: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    root = str(Path(__file__).resolve().parent.parent)
    if command[1] == "-m":  # the app runs from this repository
        env["PYTHONPATH"] = root
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done.stdout


def _script_metrics(stdout: str) -> dict[str, float]:
    line = next((ln for ln in stdout.splitlines() if ln.startswith("test metrics:")), "")
    try:
        return {k: float(v) for k, v in ast.literal_eval(line.partition(":")[2].strip()).items()}
    except (ValueError, SyntaxError, AttributeError):
        return {}


def run(quick: bool = False, epochs: int = EPOCHS, repeats: int | None = None) -> dict[str, Any]:
    """Median wall time of each side, the ratio script / app, and both sides' test metrics."""
    from mlpdesigner.export import export_python

    repeats = repeats or (1 if quick else REPEATS)
    times: dict[str, list[float]] = {"app": [], "script": []}
    metrics: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-script-speed-") as tmp:
        folder = Path(tmp)
        design = write_case(folder, epochs)
        script = folder / "train_design.py"
        export_python(design, script, with_training=True)
        for repeat in range(repeats):
            order = ("app", "script") if repeat % 2 == 0 else ("script", "app")
            for side in order:
                if side == "app":
                    out = folder / f"run-{repeat}"
                    command = [sys.executable, "-m", "mlpdesigner", "train", str(design), "--out", str(out),
                               "--progress", "none"]
                    seconds, _ = _timed(command, folder)
                    metrics["app"] = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["test"]
                else:
                    seconds, stdout = _timed([sys.executable, str(script)], folder)
                    metrics["script"] = _script_metrics(stdout)
                times[side].append(seconds)
    app, generated = statistics.median(times["app"]), statistics.median(times["script"])
    rows = [
        {"side": "mlpdesigner train", "wall seconds (median)": round(app, 2),
         "all repeats": ", ".join(f"{t:.1f}" for t in times["app"]),
         "test MAE": round(metrics["app"].get("mae", float("nan")), 5)},
        {"side": "generated script (export --format python --with-training)",
         "wall seconds (median)": round(generated, 2),
         "all repeats": ", ".join(f"{t:.1f}" for t in times["script"]),
         "test MAE": round(metrics["script"].get("mae", float("nan")), 5)},
    ]
    caption = (
        f"housing_regression starter, {ROWS:,} rows x {FEATURES} features, {epochs} epochs (early stopping off), "
        f"each side in its own process, order rotated, {repeats} repeat(s)"
    )
    return {
        "tables": {caption: rows},
        "script_to_app_time_ratio": round(generated / app, 2),
    }
