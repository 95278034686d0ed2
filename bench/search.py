"""Search throughput: trials per minute of ``mlpdesigner search``, one trial at a time vs two side by side.

Each measurement is the real command in a fresh process (local Ray started
in-process) on the bundled flowers data (600 rows, 3 epochs per trial, the
learning rate and the first layer's width searched, Optuna TPE with ASHA):
``--parallel 1`` and ``--parallel 2`` with ``--threads 1`` per trial, and
``--parallel 1 --threads 2`` (one trial at a time with both of two cores).
The figure is trials finished per minute of the command's wall time, Ray's
start and the trial workers' TensorFlow import included, because that is
what a user waits for. Beside it, what the trials themselves took (each
trial run folder's ``total_seconds``: data, graph tracing, training,
evaluation and saving) and the rest of the wall time per trial slot (Ray's
start and shutdown, worker start-up and TensorFlow import, Tune's
bookkeeping), which shows what limits the parallel speed-up. On a machine
with fewer free cores than ``--parallel`` the ratio shows that too.
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


def _trial_seconds(out: Path) -> list[float]:
    """Each finished trial's ``total_seconds`` from its run folder."""
    seconds = []
    from mlpdesigner.search import tables

    for trial in tables.read_trials(out):
        run_json = Path(trial.get("run_dir") or "") / "run.json"
        if run_json.is_file():
            total = json.loads(run_json.read_text("utf-8")).get("timings", {}).get("total_seconds")
            if total is not None:
                seconds.append(float(total))
    return seconds


def _measure(spec: Path, out: Path, trials: int, parallel: int, threads: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    command = [sys.executable, "-m", "mlpdesigner", "search", str(spec), "--trials", str(trials),
               "--parallel", str(parallel), "--threads", str(threads), "--out", str(out), "--json"]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"search --parallel {parallel} --threads {threads} exited {proc.returncode}: "
                           f"{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    done = sum(report["counts"].values())
    in_trials = _trial_seconds(out)
    mean_trial = sum(in_trials) / len(in_trials) if in_trials else float("nan")
    outside = seconds - sum(in_trials) / parallel
    return {"parallel": parallel, "threads per trial": threads, "trials": done, "seconds": round(seconds, 1),
            "trials/minute": round(done / seconds * 60, 2), "mean trial s": round(mean_trial, 1),
            "wall outside trials s": round(outside, 1), "statuses": report["counts"]}


def run(quick: bool = False) -> dict[str, Any]:
    """Trials per minute: --parallel 1 and 2 with one thread per trial, and one trial with two threads."""
    trials = 4 if quick else 8
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine competes for its cores
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-search-") as tmp:
        folder = Path(tmp)
        spec = _spec(folder)
        rows = [_measure(spec, folder / f"p{parallel}t{threads}", trials, parallel, threads)
                for parallel, threads in ((1, 1), (2, 1), (1, 2))]
    one, two, wide = rows
    cpus = os.cpu_count()
    return {
        "tables": {f"Trials per minute on {cpus} CPUs (Ray start and worker TensorFlow import included)": rows},
        "cpu_count": cpus,
        "load_average_1min_before": load_before,
        "parallel2_vs_parallel1_ratio": round(two["trials/minute"] / one["trials/minute"], 2),
        "parallel1_threads2_vs_parallel1_ratio": round(wide["trials/minute"] / one["trials/minute"], 2),
    }
