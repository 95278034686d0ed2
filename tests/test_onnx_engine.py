"""``model.onnx`` in the run folder, and ``predict`` / ``evaluate`` on onnxruntime without TensorFlow (issue 18).

Each bundled starter (regression, binary, multilabel, multiclass, Wide & Deep
with an auxiliary output) is trained briefly; the ONNX engine must give
Keras' predictions and Keras' metrics (same keys, values within 1e-5).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.runfolder import ONNX_FILE
from mlpdesigner.spec import load_spec
from mlpdesigner.train.runner import train

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "resources" / "examples"
STARTERS = [
    "housing_regression",
    "binary_batchnorm_dropout",
    "multilabel_elu_l2",
    "flowers_multiclass",
    "wide_deep_aux_output",
]

#: Run in a fresh interpreter where importing TensorFlow or Keras fails.
NO_TENSORFLOW = (
    "import sys\n"
    "sys.modules['tensorflow'] = None\n"
    "sys.modules['keras'] = None\n"
    "from mlpdesigner.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def starter_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("starters")
    runs = {}
    for name in STARTERS:
        result = train(EXAMPLES / f"{name}.json", out=folder / name, epochs=2)
        assert result.status == "completed", result.reason
        runs[name] = result.run_dir
    return runs


def data_file(run: Path) -> Path:
    found = load_spec(run / "spec.json").data_file()
    assert found is not None
    return found


def run_without_tensorflow(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("name", STARTERS)
def test_training_writes_a_checked_onnx_model(starter_runs: dict[str, Path], name: str) -> None:
    run = starter_runs[name]
    assert (run / ONNX_FILE).stat().st_size > 0
    record = json.loads((run / "run.json").read_text())["onnx"]
    assert record["file"] == ONNX_FILE and "error" not in record
    assert record["max_scaled_diff"] <= record["tolerance"] == 1e-5
    assert record["seconds"] > 0
    assert set(record["losses"]) == {o["name"] for o in load_spec(run / "spec.json").checked()[0]["outputs"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", STARTERS)
def test_onnx_evaluate_gives_keras_metrics(
    starter_runs: dict[str, Path], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = starter_runs[name]
    reports = {}
    for engine in ("onnx", "keras"):
        assert main(["evaluate", str(run), "--json", "--engine", engine]) == 0
        reports[engine] = json.loads(capsys.readouterr().out)
    onnx, keras = reports["onnx"]["metrics"], reports["keras"]["metrics"]
    assert list(onnx) == list(keras)  # the same keys, in the same order
    for key, value in keras.items():
        assert onnx[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert reports["onnx"]["baseline"] == reports["keras"]["baseline"]
    # on another file (every row) too
    for engine in ("onnx", "keras"):
        assert main(["evaluate", str(run), "--json", "--engine", engine, "--data", str(data_file(run))]) == 0
        reports[engine] = json.loads(capsys.readouterr().out)
    for key, value in reports["keras"]["metrics"].items():
        assert reports["onnx"]["metrics"][key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


@pytest.mark.slow
@pytest.mark.parametrize("name", STARTERS)
def test_onnx_predict_gives_keras_predictions(
    starter_runs: dict[str, Path], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    run, data = starter_runs[name], data_file(starter_runs[name])
    frames = {}
    for engine in ("onnx", "keras"):
        out = tmp_path / f"{engine}.csv"
        assert main(["predict", str(run), "--data", str(data), "-o", str(out), "--engine", engine]) == 0
        frames[engine] = pd.read_csv(out)
    assert "note:" not in capsys.readouterr().err
    onnx, keras = frames["onnx"], frames["keras"]
    assert list(onnx.columns) == list(keras.columns) and len(onnx) == len(keras)
    for column in keras.columns:
        if pd.api.types.is_numeric_dtype(keras[column]) and keras[column].dtype.kind == "f":
            np.testing.assert_allclose(onnx[column], keras[column], rtol=1e-5, atol=1e-6, err_msg=column)
        else:
            assert list(onnx[column]) == list(keras[column]), column


@pytest.mark.slow
def test_predict_and_evaluate_never_import_tensorflow(starter_runs: dict[str, Path], tmp_path: Path) -> None:
    run = starter_runs["wide_deep_aux_output"]
    out = tmp_path / "p.csv"
    done = run_without_tensorflow("predict", str(run), "--data", str(data_file(run)), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("main,aux\n") and "note:" not in done.stderr
    done = run_without_tensorflow("evaluate", str(run), "--json")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["metrics"]) == {"loss", "main_loss", "aux_loss", "main_mae", "aux_mae"}


@pytest.mark.slow
def test_a_run_folder_without_onnx_falls_back_to_keras_and_says_so(
    starter_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    run = tmp_path / "old-run"
    shutil.copytree(starter_runs["binary_batchnorm_dropout"], run)
    (run / ONNX_FILE).unlink()
    info = json.loads((run / "run.json").read_text())
    del info["onnx"]  # as written before this version
    (run / "run.json").write_text(json.dumps(info))
    out = tmp_path / "p.csv"
    assert main(["predict", str(run), "--data", str(data_file(run)), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "note: predicting with Keras (loads TensorFlow): the run folder has no model.onnx (written by an" in err
    assert out.read_text().startswith("malignant,malignant_M_probability\n")
    assert main(["evaluate", str(run)]) == 0
    assert "note: evaluating with Keras" in capsys.readouterr().err
    assert main(["predict", str(run), "--data", str(data_file(run)), "-o", str(out), "--engine", "onnx"]) == 2
    assert "--engine onnx: the run folder has no model.onnx" in capsys.readouterr().err


def test_a_failed_conversion_leaves_the_run_complete_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlpdesigner.export as export

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tf2onnx has no handler for op Foo")

    monkeypatch.setattr(export, "export_onnx", broken)
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(64, 3))
    data.write_text("a,b,y\n" + "".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f}\n" for r in rows))
    spec = {
        "format": "mlpdesigner/1",
        "name": "tiny",
        "inputs": [{"name": "x", "shape": [2]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4, "activation": "relu"}]},
        "outputs": [{"name": "y", "task": "regression", "units": 1}],
        "training": {"epochs": 1, "batch_size": 16},
        "data": {"path": str(data), "columns": {"x": ["a", "b"], "y": ["y"]}},
    }
    result = train(spec, out=tmp_path / "run")
    assert result.status == "completed" and result.exit_code == 0
    run = result.run_dir
    assert not (run / ONNX_FILE).exists() and (run / "model.keras").is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["onnx"]["error"] == "RuntimeError: tf2onnx has no handler for op Foo"
    assert any("no model.onnx: RuntimeError: tf2onnx has no handler" in w for w in info["warnings"])
    assert "warning: no model.onnx: RuntimeError" in capsys.readouterr().err
    out = tmp_path / "p.csv"
    assert main(["predict", str(run), "--data", str(data), "-o", str(out)]) == 0
    assert ("note: predicting with Keras (loads TensorFlow): training could not write model.onnx: RuntimeError: "
            "tf2onnx has no handler for op Foo") in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 65
