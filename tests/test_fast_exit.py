"""The command line ends at once after a command that loaded TensorFlow (issue 18: 1.4 s of teardown after ``end``).

Each command runs as ``python -m mlpdesigner`` in a child process that
registers an ``atexit`` handler writing a marker file: a fast exit
(``os._exit``) skips it. The run folder and outputs must be complete, stdout
fully flushed and the exit code that of :class:`mlpdesigner.errors.ExitCode`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.errors import ExitCode
from mlpdesigner.runfolder import RUN_FILES

ROOT = Path(__file__).resolve().parent.parent

WRAPPER = (
    "import atexit, runpy, sys\n"
    "marker = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(marker, 'w').close())\n"
    "sys.argv[0] = 'mlpdesigner'\n"
    "runpy.run_module('mlpdesigner', run_name='__main__', alter_sys=True)\n"
)


def run_cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    """(the finished process, whether Python's normal shutdown ran)."""
    marker = tmp_path / "normal-shutdown"
    marker.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", WRAPPER, str(marker), *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)
    return done, marker.exists()


def write_spec(folder: Path, rows: int = 96, *, nan: bool = False) -> Path:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(rows, 3)) * (1e6 if nan else 1.0)
    y = x.sum(axis=1) + (1e12 if nan else 0.0)
    data = folder / "data.csv"
    data.write_text("a,b,c,y\n" + "".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{v:.4f}\n" for r, v in zip(x, y)))
    spec = {
        "format": "mlpdesigner/1",
        "name": "tiny",
        "inputs": [{"name": "x", "shape": [3], "normalize": not nan}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4, "activation": "relu"}]},
        "outputs": [{"name": "y", "task": "regression", "units": 1, "normalize": False}],
        "training": {"epochs": 5 if nan else 2, "batch_size": 16,
                     "optimizer": {"name": "sgd", "learning_rate": 10 if nan else 0.01}},
        "data": {"path": "data.csv", "columns": {"x": ["a", "b", "c"], "y": ["y"]}},
    }
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.slow
def test_train_exits_fast_with_a_complete_run_folder(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    done, normal = run_cli(tmp_path, "train", str(spec), "--out", "run", "--progress", "jsonl")
    assert done.returncode == ExitCode.OK, done.stderr
    assert not normal  # os._exit: Python's (and TensorFlow's) teardown was skipped
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "end" and events[-1]["status"] == "completed"
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == sorted(RUN_FILES)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["epochs_completed"] == 2
    assert len((run / "history.csv").read_text().splitlines()) == 3
    assert json.loads((run / "metrics.json").read_text())["test"]["loss"] > 0

    # the outputs of the other TensorFlow commands are complete too
    out = tmp_path / "model-copy.onnx"
    done, normal = run_cli(tmp_path, "export", "run", "--format", "onnx", "-o", str(out))
    assert done.returncode == ExitCode.OK and not normal, done.stderr
    import onnx

    assert "ONNX parity" in done.stdout and len(onnx.load(str(out)).graph.node) > 0
    done, normal = run_cli(tmp_path, "predict", "run", "--data", "data.csv", "-o", "p.csv", "--engine", "keras")
    assert done.returncode == ExitCode.OK and not normal, done.stderr
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 97 and "Wrote 96 predictions" in done.stdout


@pytest.mark.slow
def test_a_failed_run_exits_fast_with_exit_code_1(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, nan=True)
    done, normal = run_cli(tmp_path, "train", str(spec), "--out", "run")
    assert done.returncode == ExitCode.FAILED and not normal, done.stderr
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "failed" and "epoch 1" in info["reason"]


def test_commands_without_tensorflow_end_normally(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    done, normal = run_cli(tmp_path, "validate", str(spec))
    assert done.returncode == ExitCode.OK and normal, done.stderr
    done, normal = run_cli(tmp_path, "train", str(tmp_path / "missing.json"))
    assert done.returncode == ExitCode.BAD_INPUT and normal
