"""Training runs: the run folder, determinism, NaN failure, graceful stop, evaluate, predict and the demo."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.runfolder import RUN_FILES
from mlpdesigner.spec import load_spec
from mlpdesigner.train.data import file_sha256, load_dataset
from mlpdesigner.train.runner import Settings, class_weights, train

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["f1", "f2", "f3", "f4"]


def write_csv(path: Path, rows: int = 160, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FEATURES, "value", "answer", "kind", "l1", "l2", "l3"])
        for _ in range(rows):
            f = rng.normal(size=4)
            writer.writerow(
                [
                    *(f"{v:.4f}" for v in f),
                    f"{10 * f.sum():.4f}",
                    "yes" if f[0] > 0 else "no",
                    "abc"[int(np.argmax(f[:3]))],
                    *(int(v > 0) for v in f[:3]),
                ]
            )
    return path


def spec_dict(data: Path, outputs: list[dict[str, Any]], targets: dict[str, list[str]], **training: Any) -> dict:
    return {
        "format": "mlpdesigner/1",
        "name": "tiny",
        "inputs": [{"name": "features", "shape": [4], "normalize": True}],
        "network": {
            "topology": "sequential",
            "layers": [{"type": "dense", "units": 8, "activation": "relu", "kernel_initializer": "he_normal"}],
        },
        "outputs": outputs,
        "training": {"epochs": 2, "batch_size": 16, "seed": 3, **training},
        "data": {"path": str(data), "columns": {"features": FEATURES, **targets}},
    }


REGRESSION = ([{"name": "value", "task": "regression", "units": 1}], {"value": ["value"]})
ALL_TASKS = (
    [
        {"name": "value", "task": "regression", "units": 1},
        {"name": "answer", "task": "binary", "units": 1},
        {"name": "kind", "task": "multiclass", "units": 3},
        {"name": "tags", "task": "multilabel", "units": 3},
    ],
    {"value": ["value"], "answer": ["answer"], "kind": ["kind"], "tags": ["l1", "l2", "l3"]},
)


def save_spec(folder: Path, spec: dict) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("train")
    write_csv(folder / "data.csv")
    return folder


@pytest.fixture(scope="module")
def regression_run(workdir: Path) -> Path:
    spec = save_spec(workdir, spec_dict(workdir / "data.csv", *REGRESSION, early_stopping={"patience": 3}))
    out = workdir / "runs" / "regression"
    assert main(["train", str(spec), "--out", str(out), "--progress", "none"]) == 0
    return out


@pytest.fixture(scope="module")
def multitask_run(workdir: Path) -> Path:
    folder = workdir / "multi"
    folder.mkdir()
    spec = save_spec(folder, spec_dict(workdir / "data.csv", *ALL_TASKS, epochs=3))
    out = workdir / "runs" / "multi"
    result = train(spec, out=out)
    assert result.status == "completed", result.reason
    return out


def test_run_folder_contents(regression_run: Path, workdir: Path) -> None:
    assert sorted(p.name for p in regression_run.iterdir()) == sorted(RUN_FILES)
    frozen = load_spec(regression_run / "spec.json")
    assert frozen.data_file() == (workdir / "data.csv").resolve()
    assert not Path(frozen.raw["data"]["path"]).is_absolute()

    run = json.loads((regression_run / "run.json").read_text())
    assert run["status"] == "completed" and run["reason"] is None
    assert run["seed"] == 3 and run["device"] == "cpu"
    assert set(run["versions"]) >= {"python", "tensorflow", "keras"}
    assert run["data"]["sha256"] == file_sha256(workdir / "data.csv")
    assert run["data"]["splits"] == {"train": 112, "validation": 32, "test": 16}
    assert run["columns"] == {"features": FEATURES}
    assert run["targets"] == {"value": ["value"]}
    assert run["classes"] == {}
    assert run["epochs_completed"] == 2
    assert {"started", "ended", "train_seconds", "total_seconds"} <= set(run["timings"])

    with open(regression_run / "history.csv") as handle:
        history = list(csv.DictReader(handle))
    assert [row["epoch"] for row in history] == ["1", "2"]
    assert {"loss", "mae", "val_loss", "val_mae", "learning_rate"} <= set(history[0])

    metrics = json.loads((regression_run / "metrics.json").read_text())
    assert set(metrics) == {"train", "validation", "test", "baseline"}
    assert all(np.isfinite(metrics[s]["loss"]) for s in ("train", "validation", "test"))
    assert set(metrics["baseline"]) == {"validation", "test"} and metrics["baseline"]["test"]["mae"] > 0

    dataset = load_dataset(frozen)
    samples = np.load(regression_run / "sample_inputs.npz")
    assert samples["features"].dtype == np.float32
    np.testing.assert_array_equal(samples["features"], dataset.validation.x["features"])

    import keras

    model = keras.saving.load_model(regression_run / "model.keras", safe_mode=True)
    layer = model.get_layer("features_normalization")
    np.testing.assert_allclose(np.ravel(layer.mean), dataset.normalization["features"][0], rtol=1e-6)
    assert not list(regression_run.glob(".*"))  # no temporary files left


def test_same_seed_same_metrics(regression_run: Path, workdir: Path) -> None:
    again = workdir / "runs" / "regression-again"
    assert main(["train", str(workdir / "spec.json"), "--out", str(again), "--progress", "none"]) == 0
    assert (again / "metrics.json").read_text() == (regression_run / "metrics.json").read_text()
    assert (again / "history.csv").read_text().split("\n")[1].split(",")[:3] == (
        (regression_run / "history.csv").read_text().split("\n")[1].split(",")[:3]
    )


def test_evaluate_recomputes_the_test_split(
    regression_run: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(regression_run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    recorded = json.loads((regression_run / "metrics.json").read_text())["test"]
    assert report["split"] == "test" and report["rows"] == 16
    assert report["metrics"] == pytest.approx(recorded, rel=1e-6)
    assert main(["evaluate", str(regression_run), "--data", str(workdir / "data.csv")]) == 0
    assert "all rows" in capsys.readouterr().out


def test_predict_columns_for_every_task(multitask_run: Path, workdir: Path) -> None:
    import pandas as pd

    run = json.loads((multitask_run / "run.json").read_text())
    assert run["classes"] == {
        "answer": ["no", "yes"],
        "kind": ["a", "b", "c"],
        "tags": ["l1", "l2", "l3"],
    }
    out = workdir / "pred.csv"
    assert main(["predict", str(multitask_run), "--data", str(workdir / "data.csv"), "-o", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == [
        "value",
        "answer",
        "answer_yes_probability",  # the probability of the second class (sorted), named
        "kind",
        "kind_a",
        "kind_b",
        "kind_c",
        "tags_l1",
        "tags_l2",
        "tags_l3",
        "tags_l1_probability",
        "tags_l2_probability",
        "tags_l3_probability",
    ]
    assert len(frame) == 160
    assert set(frame["answer"]) <= {"yes", "no"} and set(frame["kind"]) <= {"a", "b", "c"}
    np.testing.assert_allclose(frame[["kind_a", "kind_b", "kind_c"]].sum(axis=1), 1.0, atol=1e-5)
    best = frame[["kind_a", "kind_b", "kind_c"]].to_numpy().argmax(axis=1)
    assert list(frame["kind"]) == [["a", "b", "c"][i] for i in best]
    assert list(frame["answer"]) == ["yes" if p >= 0.5 else "no" for p in frame["answer_yes_probability"]]
    assert set(frame["tags_l1"]) <= {0, 1}


def test_predict_needs_the_input_columns(
    multitask_run: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = workdir / "other.csv"
    other.write_text("f1,f2,f4\n1,2,3\n")
    assert main(["predict", str(multitask_run), "--data", str(other), "-o", str(workdir / "p2.csv")]) == 2
    assert "column 'f3'" in capsys.readouterr().err


def test_nan_loss_fails_the_run_and_keeps_the_history(workdir: Path) -> None:
    folder = workdir / "nan"
    folder.mkdir()
    data = folder / "big.csv"
    rng = np.random.default_rng(0)
    rows = ["f1,f2,f3,f4,value"] + [",".join(f"{v:.3f}" for v in rng.normal(size=4) * 1e6) + ",1e12" for _ in range(64)]
    data.write_text("\n".join(rows) + "\n")
    spec = spec_dict(data, *REGRESSION, epochs=5, optimizer={"name": "sgd", "learning_rate": 10})
    spec["inputs"][0]["normalize"] = False
    result = train(save_spec(folder, spec), out=folder / "run")
    assert result.status == "failed" and result.exit_code == 1
    assert "epoch 1" in result.reason and "lower learning rate" in result.reason
    run = json.loads((folder / "run" / "run.json").read_text())
    assert run["status"] == "failed" and "epoch 1" in run["reason"]
    assert (folder / "run" / "history.csv").read_text().startswith("epoch,")
    assert not (folder / "run" / "model.keras").exists()


def test_gpu_requested_without_gpu_is_a_user_error() -> None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    from mlpdesigner.train.runner import setup_device

    with pytest.raises(UserError, match='training.device is "gpu", but TensorFlow sees no GPU'):
        setup_device("gpu")


def test_balanced_class_weights() -> None:
    class Fake:
        filled = {"training": {"class_weight": "balanced"}, "outputs": [{"name": "y", "task": "binary", "units": 1}]}

    class Data:
        train = type("S", (), {"y": {"y": np.array([[0.0]] * 30 + [[1.0]] * 10)}})()

    settings = Settings(1, 32, 0, 1, 1, False, "cpu", "cpu")
    assert class_weights(Fake(), Data(), settings) == {0: pytest.approx(40 / 60), 1: pytest.approx(2.0)}


def test_bar_progress(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = workdir / "runs" / "bar"
    assert main(["train", str(workdir / "spec.json"), "--out", str(out), "--progress", "bar", "--epochs", "1"]) == 0
    text = capsys.readouterr().out
    assert "epoch 1/1 [" in text and f"Run folder: {out}" in text


@pytest.mark.slow
def test_sigterm_stops_gracefully_and_writes_the_run_folder(workdir: Path) -> None:
    folder = workdir / "stop"
    folder.mkdir()
    big = write_csv(folder / "rows.csv", rows=2000)
    spec = save_spec(folder, spec_dict(big, *REGRESSION, epochs=10_000, batch_size=8))
    out = folder / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "mlpdesigner", "train", str(spec), "--out", str(out), "--progress", "jsonl"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if json.loads(line)["event"] == "epoch":
            proc.send_signal(signal.SIGTERM)
            break
        assert time.monotonic() < deadline
    rest, err = proc.communicate(timeout=120)
    lines += rest.splitlines(keepends=True)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in lines]  # every stdout line is one JSON object
    assert events[0]["event"] == "start"
    assert {"run_dir", "spec", "epochs", "steps_per_epoch", "samples", "device"} <= set(events[0])
    assert events[0]["steps_per_epoch"] == 175 and events[0]["samples"] == 1400
    batch = next(e for e in events if e["event"] == "batch")
    assert batch["epoch"] == 1 and 0 < batch["step"] <= batch["steps"] == 175
    epoch = next(e for e in events if e["event"] == "epoch")
    assert {"loss", "val_loss", "mae", "val_mae"} <= set(epoch["metrics"]) and epoch["epochs"] == 10_000
    assert epoch["elapsed"] > 0 and epoch["eta"] > 0
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "stopped" and "SIGTERM" in end["reason"]
    assert end["run_dir"] == str(out) and end["metrics"]["test"]["loss"] > 0
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "stopped" and 1 <= run["epochs_completed"] < 10_000
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)


@pytest.mark.slow
def test_demo_trains_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"Wrote {out}:" in text and "model.keras" in text and "mlpdesigner evaluate" in text
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "completed" and run["normalized_inputs"] == ["deep", "wide"]
    assert json.loads((out / "metrics.json").read_text())["test"]["mae"] < 0.6


@pytest.mark.slow
def test_a_run_folder_exports_to_onnx(multitask_run: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = workdir / "model.onnx"
    assert main(["export", str(multitask_run), "--format", "onnx", "-o", str(out)]) == 0, capsys.readouterr().err
    assert out.stat().st_size > 0


def test_multilabel_accuracy_counts_each_label(
    multitask_run: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    out = workdir / "pred-ml.csv"
    assert main(["predict", str(multitask_run), "--data", str(workdir / "data.csv"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(multitask_run), "--data", str(workdir / "data.csv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    predicted = pd.read_csv(out)[["tags_l1", "tags_l2", "tags_l3"]].to_numpy()
    truth = pd.read_csv(workdir / "data.csv")[["l1", "l2", "l3"]].to_numpy()
    assert report["rows"] == 160
    assert report["metrics"]["tags_accuracy"] == pytest.approx((predicted == truth).mean(), abs=1e-6)


def test_run_json_records_the_xla_setting_keras_really_used(workdir: Path) -> None:
    """Keras compiles without XLA on the CPU (op determinism is on) although asked for it: run.json says so."""
    folder = workdir / "jit"
    folder.mkdir()
    spec = save_spec(folder, spec_dict(workdir / "data.csv", *REGRESSION, epochs=1, jit_compile=True, device="cpu"))
    result = train(spec, out=folder / "run")
    assert result.status == "completed", result.reason
    run = json.loads((folder / "run" / "run.json").read_text())
    assert run["training"]["jit_compile"] is False
    assert any("jit_compile is true, but Keras compiles this model without XLA" in w for w in run["warnings"])
