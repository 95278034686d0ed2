"""Train in the designer: from the Train action to the first epoch, with a fresh child vs the warm worker.

Each measurement is a fresh designer process (offscreen Qt, scratch settings)
that opens the housing regression starter, shows the window and triggers
Train (3 epochs). *Cold*: the warm worker is off (``MLPDESIGNER_WARM_WORKER=0``),
so the run is a fresh ``python -m mlpdesigner train`` child that imports
TensorFlow first. *Warm*: the designer waits until its warm worker has loaded
TensorFlow, then trains on it. The figures: seconds from the Train action to
the run's ``start`` event, to its first ``epoch`` event and to its end; cold and
warm alternate, and ``first_epoch_cold_vs_warm_ratio`` compares the medians.

Memory: the worker's resident size when it is ready, and what a process that
ran one training job still holds after it (``gc.collect`` and Keras'
``clear_session`` called) - the reason the designer recycles the worker after
every job instead of reusing it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 3

#: The child: open the design, (wait for the warm worker,) press Train, time the events.
DESIGNER_CHILD = r"""
import json, sys, time
spec, scratch, warm, epochs = sys.argv[1], sys.argv[2], sys.argv[3] == "warm", int(sys.argv[4])
from pathlib import Path
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from mlpdesigner.gui.app import application
from mlpdesigner.gui.main_window import MainWindow

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None

def wait(condition, signal, seconds):
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if not condition():
        loop.exec()

app = application()
window = MainWindow(settings=QSettings(str(Path(scratch) / "s.ini"), QSettings.Format.IniFormat),
                    recovery_dir=Path(scratch) / "recovery")
window.autosave_timer.stop()
window.runs.runs_root_override = Path(scratch) / "runs"
window.open_file(spec)
window.show()
report = {"warm": warm}
if warm:
    worker = window.runs.worker
    wait(lambda: worker.is_ready, worker.ready, 600)
    report["worker_ready"] = worker.is_ready
    report["worker_rss_kib"] = rss_kib(worker.pid) if worker.is_ready else None
marks = {}
clicked = time.perf_counter()
assert window.train(epochs)
run = window.train_view.run

def on_event(event):
    kind = event.get("event")
    if kind in ("start", "epoch", "end") and kind not in marks:
        marks[kind] = time.perf_counter() - clicked

run.event.connect(on_event)
wait(lambda: not run.running, run.finished, 900)
report.update(marks, status=str(run.state.status), worker_pid=run.worker_pid, ended=time.perf_counter() - clicked)
window.document.undo_stack.setClean()
window.close()
print("BENCH-RESULT " + json.dumps(report), flush=True)
"""

#: A process that warms up as the worker does, runs one training job in itself, and reports its memory.
JOB_IN_PROCESS = r"""
import gc, json, sys
from mlpdesigner import worker
from mlpdesigner.cli import main

def rss_kib():
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))

worker.warm_up()
ready = rss_kib()
assert main(["train", sys.argv[1], "--progress", "none", "--out", sys.argv[2], "--epochs", "EPOCHS"]) == 0
import keras
keras.backend.clear_session()
gc.collect()
print("BENCH-RESULT " + json.dumps({"ready_kib": ready, "after_job_kib": rss_kib()}), flush=True)
""".replace("EPOCHS", str(EPOCHS))


def child_environment(home: Path, warm: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        TF_CPP_MIN_LOG_LEVEL="3",
        MLPDESIGNER_WARM_WORKER="1" if warm else "0",
    )
    return env


def _result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"The child did not report (exit {proc.returncode}). Received stderr: {proc.stderr[-2000:]}")
    return json.loads(line.removeprefix("BENCH-RESULT "))


def design(folder: Path) -> Path:
    """The housing regression starter with an absolute data path, saved in ``folder``."""
    from mlpdesigner.data.checks import resolve_data_path
    from mlpdesigner.resources import example_path

    source = example_path("housing_regression")
    raw = json.loads(source.read_text("utf-8"))
    raw["data"]["path"] = str(resolve_data_path(raw, source))
    target = folder / "housing_regression.json"
    target.write_text(json.dumps(raw, indent=2), "utf-8")
    return target


def designer_run(spec: Path, warm: bool, epochs: int = EPOCHS, timeout: float = 1200) -> dict[str, Any]:
    """One fresh designer process that trains ``spec`` for ``epochs`` (cold child or warm worker); its clocks."""
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-warm-") as scratch:
        proc = subprocess.run([sys.executable, "-c", DESIGNER_CHILD, str(spec), scratch, "warm" if warm else "cold",
                               str(epochs)],
                              env=child_environment(Path(scratch), warm), capture_output=True, text=True,
                              timeout=timeout, check=False)
    report = _result(proc)
    if report.get("status") != "completed" or "epoch" not in report:
        raise RuntimeError(f"The run did not complete: {report}")
    if warm and report.get("worker_pid") is None:
        raise RuntimeError("The warm run did not go to the warm worker")
    return report


def job_memory(spec: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-warm-") as scratch:
        proc = subprocess.run([sys.executable, "-c", JOB_IN_PROCESS, str(spec), str(Path(scratch) / "run")],
                              env=child_environment(Path(scratch), False), capture_output=True, text=True,
                              timeout=1200, check=False)
    return _result(proc)


def run(quick: bool = False) -> dict[str, Any]:
    """Medians of cold and warm runs (alternating), and the worker's memory before and after a job."""
    repeats = 2 if quick else 3
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-spec-") as folder:
        spec = design(Path(folder))
        cold: list[dict[str, Any]] = []
        warm: list[dict[str, Any]] = []
        for index in range(repeats):
            order = [(cold, False), (warm, True)]
            for collected, is_warm in order if index % 2 == 0 else order[::-1]:
                collected.append(designer_run(spec, is_warm))
        memory = job_memory(spec)

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    first_cold, first_warm = median(cold, "epoch"), median(warm, "epoch")
    ready_mib = statistics.median(r["worker_rss_kib"] for r in warm) / 1024
    return {
        "design": f"housing_regression, {EPOCHS} epochs, offscreen designer",
        "repeats": repeats,
        "train_to_start_event_cold_s": median(cold, "start"),
        "train_to_start_event_warm_s": median(warm, "start"),
        "train_to_first_epoch_cold_s": first_cold,
        "train_to_first_epoch_warm_s": first_warm,
        "first_epoch_cold_vs_warm_ratio": round(first_cold / first_warm, 2),
        "train_to_end_cold_s": median(cold, "ended"),
        "train_to_end_warm_s": median(warm, "ended"),
        "first_epoch_cold_runs_s": [round(r["epoch"], 3) for r in cold],
        "first_epoch_warm_runs_s": [round(r["epoch"], 3) for r in warm],
        "worker_ready_rss_mib": round(ready_mib, 1),
        "process_after_one_job_rss_mib": round(memory["after_job_kib"] / 1024, 1),
        "after_job_vs_ready_rss_ratio": round(memory["after_job_kib"] / memory["ready_kib"], 2),
    }


if __name__ == "__main__":  # python -m bench.warm_worker [--quick]
    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
