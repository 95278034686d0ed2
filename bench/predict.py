"""``mlpdesigner predict`` on 100,000 rows against a plain pandas + onnxruntime script on the same ``model.onnx``.

Set-up (not timed): the housing starter is trained for a few epochs into a
run folder (which holds ``model.onnx``), and 100,000 rows are drawn with
replacement from the bundled housing data into one CSV file. Then, each in a
fresh process, the order rotated per repeat:

- ``mlpdesigner predict RUN --data rows.csv -o out.csv`` (onnxruntime, the default);
- a 10-line script: ``pandas.read_csv``, the input columns as float32,
  one ``InferenceSession.run``, ``to_csv`` with the same float format;
- as context, ``mlpdesigner predict --engine keras`` (the TensorFlow path
  every run used before ``model.onnx`` was written; not in ``--quick``).

Figures: wall seconds (start to exit) and peak RSS of each process, the
ratios of ``mlpdesigner predict`` to the script (goal of issue 18: at most
1.5), and the largest difference between the two prediction files.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from .e2e import ROOT, SPEC, child_env, run_process

ROWS = 100_000
GOAL_RATIO = 1.5

#: The plain script: argv = model.onnx, data CSV, output CSV, input name, JSON list of columns, output name.
ONNX_SCRIPT = r"""
import json, sys
import numpy as np, pandas as pd, onnxruntime as ort
model, data, out, input_name, columns, output_name = sys.argv[1:7]
x = pd.read_csv(data)[json.loads(columns)].to_numpy(np.float32)
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
predicted = session.run(None, {input_name: x})[0]
pd.DataFrame({output_name: predicted[:, 0]}).to_csv(out, index=False, float_format="%.7g", lineterminator="\n")
"""


def make_rows(path: Path, rows: int) -> None:
    """``rows`` rows drawn with replacement from the bundled housing data."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(ROOT / "resources" / "datasets" / "housing.csv")
    picked = frame.iloc[np.random.default_rng(0).integers(0, len(frame), rows)]
    picked.to_csv(path, index=False)


def run(quick: bool = False) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    repeats = 1 if quick else 3
    rows = 5_000 if quick else ROWS
    env = child_env()
    sides: dict[str, list[dict[str, Any]]] = {"mlpdesigner predict": [], "pandas + onnxruntime script": [],
                                              "mlpdesigner predict --engine keras": []}
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        folder = Path(tmp)
        spec = json.loads(SPEC.read_text())
        spec["data"]["path"] = str((SPEC.parent / spec["data"]["path"]).resolve())
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec))
        train = [sys.executable, "-m", "mlpdesigner", "train", str(spec_path), "--out", str(folder / "run")]
        trained = run_process([*train, "--epochs", "2", "--progress", "none"], folder, env)
        if trained["exit_code"] != 0:
            raise RuntimeError(f"mlpdesigner train exited {trained['exit_code']}")
        run_dir = folder / "run"
        info = json.loads((run_dir / "run.json").read_text())
        input_name, columns = next(iter(info["columns"].items()))
        data = folder / "rows.csv"
        make_rows(data, rows)
        commands = {
            "mlpdesigner predict": [sys.executable, "-m", "mlpdesigner", "predict", str(run_dir), "--data", str(data),
                                    "-o", str(folder / "designer.csv")],
            "pandas + onnxruntime script": [sys.executable, "-c", ONNX_SCRIPT, str(run_dir / "model.onnx"), str(data),
                                            str(folder / "script.csv"), input_name, json.dumps(columns), "price"],
            "mlpdesigner predict --engine keras": [sys.executable, "-m", "mlpdesigner", "predict", str(run_dir),
                                                   "--data", str(data), "-o", str(folder / "keras.csv"),
                                                   "--engine", "keras"],
        }
        if quick:  # the smoke run: the two sides of the ratio only
            del commands["mlpdesigner predict --engine keras"]
        names = list(commands)
        for index in range(repeats):
            for name in names[index % len(names):] + names[:index % len(names)]:
                result = run_process(commands[name], folder, env)
                if result["exit_code"] != 0:
                    raise RuntimeError(f"{name} exited {result['exit_code']}")
                sides[name].append(result)
        designer = pd.read_csv(folder / "designer.csv")["price"].to_numpy()
        script = pd.read_csv(folder / "script.csv")["price"].to_numpy()
        keras = pd.read_csv(folder / "keras.csv")["price"].to_numpy() if not quick else None
    sides = {name: results for name, results in sides.items() if results}
    seconds = {name: statistics.median(r["seconds"] for r in results) for name, results in sides.items()}
    rss = {name: statistics.median(r["peak_rss_mib"] for r in results) for name, results in sides.items()}
    designer_name, script_name = names[:2]
    section: dict[str, Any] = {
        "tables": {
            f"Predictions for {rows:,} rows, one process each (median of {repeats})": [
                {"side": name, "seconds": round(seconds[name], 2), "peak RSS MiB": round(rss[name])} for name in names
            ]
        },
        "rows": rows,
        "repeats": repeats,
        "seconds": {name: [round(r["seconds"], 2) for r in results] for name, results in sides.items()},
        "designer_over_script_time_ratio": round(seconds[designer_name] / seconds[script_name], 2),
        "designer_over_script_rss_ratio": round(rss[designer_name] / rss[script_name], 2),
        "max_abs_diff_designer_vs_script": float(np.max(np.abs(designer - script))),
        "goal_ratio": GOAL_RATIO,
    }
    if keras is not None:
        keras_name = names[2]
        section["keras_engine_over_script_time_ratio"] = round(seconds[keras_name] / seconds[script_name], 2)
        section["max_abs_diff_designer_vs_keras"] = float(np.max(np.abs(designer - keras)))
    return section
