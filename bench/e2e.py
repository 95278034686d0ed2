"""End to end: ``mlpdesigner train`` on the bundled housing starter against scikit-learn's MLPRegressor.

The same job both ways, each in its own fresh process, the order rotated per
repeat: read ``resources/datasets/housing.csv`` (6,000 rows), standardize,
hold out the spec's validation and test rows, fit the starter's network
(8-30-1, ReLU, Adam 0.001, batch 32) for 20 epochs, and write the result.
MLP Designer writes its run folder (model, ``model.onnx``, metrics, history);
the scikit-learn script writes the test rows' predictions as CSV. The figure
is each process's wall time, start to exit; the ratio is MLP Designer's
median over scikit-learn's (goal of issue 18: at most 1.5).

Context, from the MLP Designer runs: the seconds between the ``end`` event
and process exit (issue 18 measured 1.4 s before the fast exit), and the
seconds the ``model.onnx`` step took (``run.json``'s ``onnx.seconds``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "resources" / "examples" / "housing_regression.json"
GOAL_RATIO = 1.5

#: scikit-learn doing the designer's job: argv = spec, output CSV, seed.
SKLEARN_SCRIPT = r"""
import json, sys
from pathlib import Path
import numpy as np
import pandas as pd
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

spec_path, out, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
spec = json.loads(spec_path.read_text())
data = spec["data"]
frame = pd.read_csv((spec_path.parent / data["path"]).resolve())
x = frame[data["columns"]["features"]].to_numpy(np.float32)
y = frame[data["columns"]["price"]].to_numpy(np.float32).ravel()
rows = np.random.default_rng(seed).permutation(len(frame))
test, validation = int(0.1 * len(rows)), int(0.2 * len(rows))
test_rows, train_rows = rows[:test], rows[test + validation:]
scaler = StandardScaler().fit(x[train_rows])
units = [layer["units"] for layer in spec["network"]["layers"] if layer["type"] == "dense"]
model = MLPRegressor(hidden_layer_sizes=units, activation="relu", solver="adam", learning_rate_init=0.001,
                     batch_size=spec["training"]["batch_size"], max_iter=spec["training"]["epochs"],
                     shuffle=True, random_state=seed, tol=0.0, n_iter_no_change=10**9)
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "did not converge": 20 epochs is the job
    model.fit(scaler.transform(x[train_rows]), y[train_rows])
predicted = model.predict(scaler.transform(x[test_rows]))
pd.DataFrame({"price": predicted}).to_csv(out, index=False, float_format="%.7g")
"""


def run_process(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall seconds (start to exit), peak RSS (MiB), exit code and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines = []
    end_event_at = None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("{") and '"end"' in line:
            try:
                if json.loads(line).get("event") == "end":
                    end_event_at = time.perf_counter()
            except ValueError:
                pass
    _, status, usage = os.wait4(proc.pid, 0)
    exited = time.perf_counter()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": exited - start,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "exit_code": proc.returncode,
        "stdout": "".join(lines),
        "end_to_exit": None if end_event_at is None else exited - end_event_at,
    }


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 1 if quick else 3
    epochs = 2 if quick else 20
    env = child_env()
    designer: list[dict[str, Any]] = []
    sklearn: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        folder = Path(tmp)
        spec = json.loads(SPEC.read_text())
        spec["training"]["epochs"] = epochs
        spec["data"]["path"] = str((SPEC.parent / spec["data"]["path"]).resolve())
        spec_path = folder / "housing_regression.json"
        spec_path.write_text(json.dumps(spec))

        def run_designer(index: int) -> None:
            out = folder / f"run-{index}"
            result = run_process([sys.executable, "-m", "mlpdesigner", "train", str(spec_path), "--out", str(out),
                                  "--progress", "jsonl"], folder, env)
            if result["exit_code"] != 0:
                raise RuntimeError(f"mlpdesigner train exited {result['exit_code']}")
            result["onnx_seconds"] = json.loads((out / "run.json").read_text()).get("onnx", {}).get("seconds")
            designer.append(result)

        def run_sklearn(index: int) -> None:
            result = run_process([sys.executable, "-c", SKLEARN_SCRIPT, str(spec_path), str(folder / f"sk-{index}.csv"),
                                  "42"], folder, env)
            if result["exit_code"] != 0:
                raise RuntimeError(f"the scikit-learn script exited {result['exit_code']}")
            sklearn.append(result)

        for index in range(repeats):
            order = [run_designer, run_sklearn] if index % 2 == 0 else [run_sklearn, run_designer]
            for side in order:
                side(index)
    designer_s = statistics.median(r["seconds"] for r in designer)
    sklearn_s = statistics.median(r["seconds"] for r in sklearn)
    gaps = [r["end_to_exit"] for r in designer if r["end_to_exit"] is not None]
    onnx = [r["onnx_seconds"] for r in designer if r["onnx_seconds"] is not None]
    return {
        "tables": {
            f"Housing starter, 6,000 rows, {epochs} epochs, wall seconds per process (median of {repeats})": [
                {"side": "mlpdesigner train", "seconds": round(designer_s, 2),
                 "peak RSS MiB": round(statistics.median(r["peak_rss_mib"] for r in designer))},
                {"side": "scikit-learn MLPRegressor script", "seconds": round(sklearn_s, 2),
                 "peak RSS MiB": round(statistics.median(r["peak_rss_mib"] for r in sklearn))},
            ]
        },
        "epochs": epochs,
        "repeats": repeats,
        "designer_seconds": [round(r["seconds"], 2) for r in designer],
        "sklearn_seconds": [round(r["seconds"], 2) for r in sklearn],
        "end_to_exit_seconds": round(statistics.median(gaps), 3) if gaps else None,
        "onnx_step_seconds": round(statistics.median(onnx), 3) if onnx else None,
        "designer_over_sklearn_ratio": round(designer_s / sklearn_s, 2),
        "goal_ratio": GOAL_RATIO,
    }
