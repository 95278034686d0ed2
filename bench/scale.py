"""Scale: the 8-30-30-1 network on 200k, 2M and 20M generated rows, streamed and (where it fits) in memory.

Data: 8 normal features and a noisy linear target, generated chunk by chunk
into Parquet shards of 1M rows (streaming) and, for the in-memory path, the
same rows as one ``.npz`` file (200k and 2M only: at 20M rows the in-memory
path needs several GB and is not run here).

Each (size, path) runs in a fresh process that prepares the data as training
does (streaming: :func:`mlpdesigner.train.stream.open_dataset`, one pass over
every row; in memory: :func:`mlpdesigner.train.data.load_dataset`), builds the
model as the runner does and fits two "epochs" of :data:`STEPS` steps on the
repeated pipeline: the first traces the graph and fills the shuffle buffers,
the second is timed (a fixed number of steps, not whole epochs: an epoch of
20M rows takes too long here). Reported per run: samples/s over the
timed steps, the process CPU time per sample over them (all threads: a
figure the other load on a shared machine disturbs less than wall time),
the preparation time, and the process's peak RSS (``VmHWM``). Each (size,
path) runs :data:`REPEATS` times, the streamed and in-memory runs
alternating (the order flips each repeat); the table gives the medians
(peak RSS: the largest).
Goals (issue 15): peak RSS at 20M rows within 1.5x of 200k (streaming);
streamed throughput within 20% of in-memory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = (200_000, 2_000_000, 20_000_000)
QUICK_SIZES = (200_000,)
#: Largest size also trained in memory.
IN_MEMORY_MAX = 2_000_000
SHARD_ROWS = 1_000_000
BATCH_SIZE = 32
STEPS = 10_000
QUICK_STEPS = 5_000
REPEATS = 3
FEATURES = [f"f{i}" for i in range(8)]


def generate(folder: Path, rows: int, npz: bool) -> tuple[Path, Path | None]:
    """Parquet shards of ``rows`` rows (and the same rows as one .npz file when ``npz``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shards = folder / f"shards-{rows}"
    shards.mkdir()
    rng = np.random.default_rng(rows)
    weights = np.linspace(-1, 1, 8)
    blocks = []
    for index, start in enumerate(range(0, rows, SHARD_ROWS)):
        n = min(SHARD_ROWS, rows - start)
        x = rng.normal(size=(n, 8)).astype(np.float32)
        y = (x @ weights + 0.1 * rng.normal(size=n)).astype(np.float32)
        table = pa.table({**{f: x[:, i] for i, f in enumerate(FEATURES)}, "y": y})
        pq.write_table(table, shards / f"part-{index:04d}.parquet", row_group_size=65_536)
        if npz:
            blocks.append((x, y))
    archive = None
    if npz:
        archive = folder / f"data-{rows}.npz"
        np.savez(archive, x=np.concatenate([b[0] for b in blocks]), y=np.concatenate([b[1] for b in blocks]))
    return shards, archive


def spec_for(path: Path) -> dict[str, Any]:
    """The 8-30-30-1 regression network on ``path``."""
    columns = {"x": FEATURES, "y": ["y"]}
    return {
        "format": "mlpdesigner/1",
        "name": "scale",
        "inputs": [{"name": "x", "shape": [8]}],
        "network": {"topology": "sequential", "layers": [
            {"type": "dense", "units": 30, "activation": "relu"},
            {"type": "dense", "units": 30, "activation": "relu"},
        ]},
        "outputs": [{"name": "y", "task": "regression", "units": 1}],
        "training": {"epochs": 1, "batch_size": BATCH_SIZE, "device": "cpu"},
        "data": {"path": str(path), "columns": columns},
    }


_CHILD = r"""
import json, sys, time
from mlpdesigner.spec import load_spec
from mlpdesigner.train import runner

mode, spec_file, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = load_spec(spec_file)
t0 = time.perf_counter()
if mode == "stream":
    from mlpdesigner.train.stream import open_dataset
    from mlpdesigner.train.stream_feed import pipeline
    dataset = open_dataset(spec)
else:
    from mlpdesigner.train.data import load_dataset
    dataset = load_dataset(spec)
prepare_seconds = time.perf_counter() - t0
device, name = runner.setup_device("cpu")
settings = runner.resolve_settings(spec, dataset, device, name)
settings.steps_per_execution = min(settings.steps_per_execution, steps)
model = runner.build_for_training(spec, dataset, settings)
if mode == "stream":
    data = pipeline(dataset, "train", settings.batch_size, shuffle_seed=settings.seed).repeat()
else:
    train = dataset.train
    data = runner.input_pipeline(runner.model_inputs(model, train.x), runner.model_targets(train.y),
                                 settings.batch_size, shuffle_seed=settings.seed).repeat()
import keras


class Clock(keras.callbacks.Callback):
    marks = []

    def on_epoch_end(self, epoch, logs=None):
        self.marks.append((time.perf_counter(), time.process_time()))


# Epoch 1 traces the graph and fills the shuffle buffers; epoch 2 (the same iterator) is timed.
model.fit(data, epochs=2, steps_per_epoch=steps, verbose=0, callbacks=[Clock()])
seconds = Clock.marks[1][0] - Clock.marks[0][0]
cpu_seconds = Clock.marks[1][1] - Clock.marks[0][1]
with open("/proc/self/status") as handle:
    peak = next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
samples = steps * settings.batch_size
print("BENCH-SCALE", json.dumps({"samples_per_s": samples / seconds, "cpu_us_per_sample": cpu_seconds / samples * 1e6,
      "prepare_s": prepare_seconds, "peak_rss_mib": peak / 1024, "train_rows": dataset.train.rows,
      "steps_per_execution": settings.steps_per_execution}), flush=True)
"""


def measure(mode: str, data: Path, steps: int, folder: Path) -> dict[str, Any]:
    """One (path, size) run in a fresh process; its figures or its error."""
    spec_file = folder / f"{mode}-{data.name}.json"
    spec_file.write_text(json.dumps(spec_for(data)), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(spec_file), str(steps)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-SCALE "):
            return json.loads(line.split(" ", 1)[1])
    return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit {proc.returncode}"]}


def _median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of repeated runs' figures (peak RSS: the largest); the first error if any run failed."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    figures = {key: statistics.median(r[key] for r in runs) for key in ("samples_per_s", "cpu_us_per_sample",
                                                                         "prepare_s")}
    figures["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    figures["samples_per_s_runs"] = [round(r["samples_per_s"]) for r in runs]
    figures["train_rows"] = runs[0]["train_rows"]
    figures["steps_per_execution"] = runs[0]["steps_per_execution"]
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    """Samples/s, CPU per sample and peak RSS per size, streamed and in memory, with the ratios of the goals."""
    sizes = QUICK_SIZES if quick else SIZES
    steps = QUICK_STEPS if quick else STEPS
    repeats = 1 if quick else REPEATS
    rows_out = []
    result: dict[str, Any] = {"steps_timed": steps, "batch_size": BATCH_SIZE, "repeats": repeats,
                              "cpu_count": os.cpu_count(), "load_average_1min_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-scale-") as tmp:
        folder = Path(tmp)
        for rows in sizes:
            shards, archive = generate(folder, rows, npz=rows <= IN_MEMORY_MAX)
            sources = {"stream": shards, "in memory": archive}
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label, source in sources.items() if source}
            for repeat in range(repeats):
                order = list(runs) if repeat % 2 == 0 else list(reversed(runs))
                for label in order:
                    mode = "stream" if label == "stream" else "memory"
                    runs[label].append(measure(mode, cast(Path, sources[label]), steps, folder))
            row = {"rows": f"{rows:,}"}
            medians = {label: _median_of(r) for label, r in runs.items()}
            medians.setdefault("in memory", {"error": "not run (does not fit)"})
            for label in ("stream", "in memory"):
                figures = medians[label]
                key = label.replace(" ", "_")
                if "error" in figures:
                    for column in ("samples/s", "CPU µs/sample", "peak RSS MiB", "prepare s"):
                        row[f"{label} {column}"] = "-"
                    result[f"{key}_{rows}_error"] = str(figures["error"])
                    continue
                row[f"{label} samples/s"] = f"{figures['samples_per_s']:,.0f}"
                row[f"{label} CPU µs/sample"] = f"{figures['cpu_us_per_sample']:.1f}"
                row[f"{label} peak RSS MiB"] = f"{figures['peak_rss_mib']:,.0f}"
                row[f"{label} prepare s"] = f"{figures['prepare_s']:.1f}"
                result[f"{key}_{rows}"] = figures
            streamed, memory = medians["stream"], medians["in memory"]
            if "error" not in streamed and "error" not in memory:
                row["throughput ratio stream/in-memory"] = f"{streamed['samples_per_s'] / memory['samples_per_s']:.2f}"
            else:
                row["throughput ratio stream/in-memory"] = "-"
            rows_out.append(row)
            for path in (*shards.iterdir(), archive):
                if path is not None:
                    path.unlink()
    small, large = f"stream_{sizes[0]}", f"stream_{sizes[-1]}"
    if small in result and large in result:
        result[f"peak_rss_ratio_{sizes[-1]}_vs_{sizes[0]}"] = round(
            result[large]["peak_rss_mib"] / result[small]["peak_rss_mib"], 2)
    key = "throughput ratio stream/in-memory"
    ratios = [float(r[key]) for r in rows_out if r.get(key, "-") != "-"]
    if ratios:
        result["throughput_ratio_stream_vs_memory_min"] = min(ratios)
    caption = (f"8-30-30-1, {steps} steps of batch {BATCH_SIZE} timed per run, fresh process each, median of "
               f"{repeats} alternating runs, {os.cpu_count()} CPUs")
    result["tables"] = {caption: rows_out}
    return result
