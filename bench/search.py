"""Search throughput: trials per minute of ``mlpdesigner search``, one trial at a time vs two side by side.

Each measurement is the real command in a fresh process (local Ray started
in-process, ``--threads 1`` per trial) on the bundled flowers data (600 rows,
3 epochs per trial, the learning rate and the first layer's width searched,
Optuna TPE with ASHA). The figure is trials finished per minute of the
command's wall time, Ray's start and the trial workers' TensorFlow import
included, because that is what a user waits for. On a machine with fewer
free cores than ``--parallel`` the ratio shows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _spec(folder: Path) -> Path:
    from mlpdesigner.resources import example_path

    flowers = Path(example_path("flowers_multiclass"))
    spec = json.loads(flowers.read_text("utf-8"))
    spec["data"]["path"] = str((flowers.parent / spec["data"]["path"]).resolve())
    spec["training"]["epochs"] = 3
    spec["search"] = {
        "/training/optimizer/learning_rate": {"log": [1e-3, 1e-1]},
        "/network/layers/0/units": {"int": [4, 32]},
    }
    path = folder / "flowers_search.json"
    path.write_text(json.dumps(spec, indent=2), "utf-8")
    return path


def _measure(spec: Path, out: Path, trials: int, parallel: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    command = [sys.executable, "-m", "mlpdesigner", "search", str(spec), "--trials", str(trials),
               "--parallel", str(parallel), "--out", str(out), "--json"]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"search --parallel {parallel} exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    done = sum(report["counts"].values())
    return {"parallel": parallel, "trials": done, "seconds": round(seconds, 1),
            "trials/minute": round(done / seconds * 60, 2), "statuses": report["counts"]}


def run(quick: bool = False) -> dict[str, Any]:
    """Trials per minute with --parallel 1 and --parallel 2 (the same search, side by side)."""
    trials = 4 if quick else 8
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-search-") as tmp:
        folder = Path(tmp)
        spec = _spec(folder)
        rows = [_measure(spec, folder / f"p{parallel}", trials, parallel) for parallel in (1, 2)]
    one, two = rows
    return {
        "tables": {"Trials per minute (Ray start and worker TensorFlow import included)": rows},
        "cpu_count": os.cpu_count(),
        "parallel2_vs_parallel1_ratio": round(two["trials/minute"] / one["trials/minute"], 2),
    }
