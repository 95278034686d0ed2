"""Results a practitioner can trust (issue 13): standardization that cannot blow up, target
scaling inside the model, splits that do not move with the training seed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlpdesigner import load_spec
from mlpdesigner.train.data import load_dataset

ROWS = 200


def design(
    data: Path, *, task: str = "regression", units: int = 1, features: int = 4, **output: Any
) -> dict[str, Any]:
    """A small sequential design over columns f0.. and the target column y."""
    return {
        "format": "mlpdesigner/1",
        "name": "trust",
        "inputs": [{"name": "x", "shape": [features]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 16, "activation": "relu"}]},
        "outputs": [{"name": "y", "task": task, "units": units, **output}],
        "training": {"epochs": 1, "batch_size": 16, "seed": 1},
        "data": {
            "path": str(data),
            "columns": {"x": [f"f{i}" for i in range(features)], "y": ["y"]},
            "validation_split": 0.2,
            "test_split": 0.2,
        },
    }


def write(path: Path, columns: dict[str, Any]) -> Path:
    import pandas as pd

    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def regression_table(rows: int = ROWS, seed: int = 0, low: float = 25.0, high: float = 346.0) -> dict[str, Any]:
    """Features of unit scale and a target spread over [low, high] (like a disease-progression score)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    signal = np.tanh(x @ np.array([0.8, -0.5, 0.3, 0.1]))
    y = (low + high) / 2 + (high - low) / 2 * signal * 0.9
    return {**{f"f{i}": x[:, i] for i in range(4)}, "y": y}


# --------------------------------------------------------------------------- standardization


def test_inputs_are_standardized_by_default_and_can_opt_out(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", regression_table())
    spec = design(data)
    assert [n.kind for n in load_spec(spec).plan.nodes][:2] == ["input", "normalization"]
    assert set(load_dataset(spec).normalization) == {"x"}
    spec["inputs"][0]["normalize"] = False
    assert "normalization" not in [n.kind for n in load_spec(spec).plan.nodes]
    assert load_dataset(spec).normalization == {}


def test_constant_training_column_is_centred_not_divided_by_zero(tmp_path: Path) -> None:
    """A column constant over the training rows (a border pixel, a rare one-hot) but not elsewhere stays finite."""
    from mlpdesigner.compile import build_model

    table = regression_table()
    rng = np.random.default_rng(1)
    table["f3"] = np.zeros(ROWS)
    spec = design(write(tmp_path / "d.csv", table), task="binary")
    table["y"] = (rng.random(ROWS) > 0.5).astype(int)
    write(tmp_path / "d.csv", table)
    dataset = load_dataset(spec)
    # Now make the column differ in the test rows only: the statistics come from the training rows.
    table["f3"][dataset.test.indices] = 16.0
    write(tmp_path / "d.csv", table)
    dataset = load_dataset(spec)
    mean, variance = dataset.normalization["x"]
    assert mean[3] == 0.0 and variance[3] == 1.0
    assert dataset.constant_features == {"x": [3]}
    model = build_model(spec, normalization=dataset.normalization, compile=False)
    standardized = np.asarray(model.get_layer("x_normalization")(dataset.test.x["x"]))
    assert np.abs(standardized[:, 3]).max() == pytest.approx(16.0)
    assert np.abs(standardized).max() < 100


def test_near_constant_column_float_noise_is_centred(tmp_path: Path) -> None:
    table = regression_table()
    table["f2"] = np.full(ROWS, 1000.0) + np.random.default_rng(2).normal(scale=1e-5, size=ROWS)
    dataset = load_dataset(design(write(tmp_path / "d.csv", table)))
    assert dataset.normalization["x"][1][2] == 1.0  # float32 can't hold this spread: constant
    assert dataset.normalization["x"][1][0] == pytest.approx(np.var(table["f0"][dataset.train.indices]), rel=1e-4)


# --------------------------------------------------------------------------- target scaling


def test_large_scale_regression_targets_train_and_predict_in_data_units(tmp_path: Path) -> None:
    """Targets 25-346: the starter recipe beats the mean predictor, and every path predicts in data units."""
    import keras

    from mlpdesigner.train.runner import train

    data = write(tmp_path / "d.csv", regression_table(rows=400))
    spec = design(data)
    spec["training"].update(epochs=40, batch_size=32)
    spec["training"]["early_stopping"] = {"patience": 10}
    result = train(spec, out=tmp_path / "run")
    assert result.status == "completed"
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["test"]["mae"] < 0.5 * metrics["baseline"]["test"]["mae"]
    dataset = load_dataset(spec)
    scale, offset = dataset.target_scaling["y"]
    assert float(offset[0]) == pytest.approx(np.mean(dataset.train.y["y"]), rel=1e-5)
    model = keras.models.load_model(result.run_dir / "model.keras")
    predicted = model.predict(dataset.test.x["x"], verbose=0)
    assert 100 < predicted.mean() < 260  # data units, not standardized ones
    assert np.mean(np.abs(predicted - dataset.test.y["y"])) == pytest.approx(metrics["test"]["mae"], rel=1e-4)


def test_target_scaling_opt_out_and_loss_size(tmp_path: Path) -> None:
    from mlpdesigner.compile import build_model

    data = write(tmp_path / "d.csv", regression_table())
    spec = design(data)
    dataset = load_dataset(spec)
    scale, offset = dataset.target_scaling["y"]
    assert scale[0] == pytest.approx(np.std(dataset.train.y["y"]), rel=1e-5)
    model = build_model(spec, normalization=dataset.normalization, target_scaling=dataset.target_scaling)
    result = model.evaluate(dataset.train.x["x"], dataset.train.y["y"], verbose=0, return_dict=True)
    # The network starts near 0 in standardized units: the loss is ~1, the MAE in data units.
    assert 0.3 < result["loss"] < 5
    assert result["mae"] > 20
    opted_out = copy.deepcopy(spec)
    opted_out["outputs"][0]["normalize"] = False
    assert load_dataset(opted_out).target_scaling == {}
    assert "rescaling" not in [n.kind for n in load_spec(opted_out).plan.nodes]


def test_positive_head_is_scaled_only_and_stays_positive(tmp_path: Path) -> None:
    from mlpdesigner.compile import build_model

    data = write(tmp_path / "d.csv", regression_table())
    spec = design(data, positive="softplus")
    dataset = load_dataset(spec)
    scale, offset = dataset.target_scaling["y"]
    assert offset[0] == 0.0
    assert scale[0] == pytest.approx(np.sqrt(np.mean(dataset.train.y["y"].astype("float64") ** 2)), rel=1e-5)
    model = build_model(spec, normalization=dataset.normalization, target_scaling=dataset.target_scaling)
    x = np.random.default_rng(0).normal(scale=50, size=(500, 4)).astype("float32")
    assert np.asarray(model.predict(x, verbose=0)).min() >= 0
    ranged = design(data, range={"low": 0, "high": 400})
    assert load_dataset(ranged).target_scaling == {}


# --------------------------------------------------------------------------- splits


def test_split_does_not_move_with_the_training_seed(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", regression_table())
    spec = design(data)
    first = load_dataset(spec)
    spec["training"]["seed"] = 999
    second = load_dataset(spec)
    np.testing.assert_array_equal(first.test.indices, second.test.indices)
    spec["data"]["split_seed"] = 5
    third = load_dataset(spec)
    assert set(third.test.indices) != set(first.test.indices)


def test_renaming_labels_keeps_the_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    table = regression_table()
    labels = rng.choice(["cat", "dog", "eel"], size=ROWS)
    table["y"] = labels
    spec = design(write(tmp_path / "a.csv", table), task="multiclass", units=3)
    before = load_dataset(spec)
    table["y"] = np.array([{"cat": "zebra", "dog": "ant", "eel": "moth"}[v] for v in labels])
    spec["data"]["path"] = str(write(tmp_path / "b.csv", table))
    after = load_dataset(spec)
    for name in ("train", "validation", "test"):
        np.testing.assert_array_equal(before.splits[name].indices, after.splits[name].indices)


def test_tiny_test_split_is_an_error_with_the_fix(tmp_path: Path) -> None:
    from mlpdesigner.errors import UserError

    spec = design(write(tmp_path / "d.csv", regression_table(rows=20)))
    spec["data"]["test_split"] = 0.1  # 2 rows
    with pytest.raises(UserError) as caught:
        load_dataset(spec)
    assert "too small to measure anything" in str(caught.value) and "2 test rows" in str(caught.value)
    assert "data.test_split" in caught.value.hint and "--cv" in caught.value.hint


def test_small_splits_are_flagged(tmp_path: Path) -> None:
    from mlpdesigner.train.data import split_warnings

    table = regression_table(rows=60)
    table["y"] = np.arange(60) % 12
    spec = design(write(tmp_path / "d.csv", table), task="multiclass", units=12)
    spec["data"].update(validation_split=0.15, test_split=0.15)
    dataset = load_dataset(spec)
    warnings = split_warnings(dataset, load_spec(spec))
    assert any("test split has only 12 rows" in w for w in warnings)
    assert not any("the test split has 12 rows but" in w for w in warnings)
    spec["data"].update(validation_split=0.1, test_split=0.5, stratify=False)
    dataset = load_dataset(spec)
    assert any(f"the validation split has {dataset.validation.rows} rows but" in w and "12 classes" in w
               for w in split_warnings(dataset, load_spec(spec)))


def test_evaluate_uses_the_stored_split_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlpdesigner.cli import main
    from mlpdesigner.train.runner import train

    spec = design(write(tmp_path / "d.csv", regression_table()))
    spec["training"]["epochs"] = 2
    result = train(spec, out=tmp_path / "run")
    with np.load(result.run_dir / "splits.npz") as stored:
        np.testing.assert_array_equal(stored["test"], load_dataset(spec).test.indices)
    # A later change to the split settings in the run's spec must not change which rows evaluate uses.
    frozen = json.loads((result.run_dir / "spec.json").read_text())
    frozen["data"]["split_seed"] = 12345
    (result.run_dir / "spec.json").write_text(json.dumps(frozen))
    capsys.readouterr()
    assert main(["evaluate", str(result.run_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert report["metrics"]["mae"] == pytest.approx(metrics["test"]["mae"], rel=1e-5)
    assert report["baseline"]["mae"] == pytest.approx(metrics["baseline"]["test"]["mae"], rel=1e-5)


# --------------------------------------------------------------------------- cross-validation


def test_fold_indices_cover_every_row_once_and_keep_class_proportions() -> None:
    from mlpdesigner.train.data import fold_indices

    strata = np.array([0] * 60 + [1] * 30 + [2] * 15)
    tests = []
    for fold in range(3):
        parts = fold_indices(105, folds=3, fold=fold, validation_split=0.2, seed=0, strata=strata)
        assert not set(parts["test"]) & (set(parts["train"]) | set(parts["validation"]))
        assert len(parts["test"]) + len(parts["train"]) + len(parts["validation"]) == 105
        assert np.bincount(strata[parts["test"]]).tolist() == [20, 10, 5]
        tests.append(parts["test"])
    assert sorted(np.concatenate(tests).tolist()) == list(range(105))


def test_train_cv_runs_one_sub_run_per_fold_and_reports_mean_and_std(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlpdesigner.cli import main

    table = regression_table(rows=90)
    table["y"] = np.where(table["f0"] > 0, "pos", "neg")
    spec = design(write(tmp_path / "d.csv", table), task="binary")
    spec["training"]["epochs"] = 2
    (tmp_path / "design.json").write_text(json.dumps(spec))
    out = tmp_path / "cv"
    assert main(["train", str(tmp_path / "design.json"), "--cv", "3", "--out", str(out), "--progress", "none"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "cv.json").read_text())
    assert summary["folds"] == 3 and summary["status"] == "completed"
    assert [r["run_dir"] for r in summary["runs"]] == ["fold-1", "fold-2", "fold-3"]
    accuracies = [r["test"]["accuracy"] for r in summary["runs"]]
    assert summary["mean"]["accuracy"] == pytest.approx(np.mean(accuracies))
    assert summary["std"]["accuracy"] == pytest.approx(np.std(accuracies, ddof=1))
    assert "baseline_mean" in summary and 0 < summary["baseline_mean"]["accuracy"] < 1
    assert "accuracy" in printed and "±" in printed
    held_out = []
    for run in summary["runs"]:
        with np.load(out / run["run_dir"] / "splits.npz") as rows:
            held_out.append(rows["test"])
            assert (out / run["run_dir"] / "model.keras").is_file()
    assert sorted(np.concatenate(held_out).tolist()) == list(range(90))


def test_cv_with_too_few_rows_per_fold_is_an_error(tmp_path: Path) -> None:
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.crossval import cross_validate

    spec = design(write(tmp_path / "d.csv", regression_table(rows=40)))
    with pytest.raises(UserError, match="too few for 10-fold"):
        cross_validate(spec, 10, out=tmp_path / "cv")
    assert not (tmp_path / "cv").exists()


# --------------------------------------------------------------------------- data checks


def test_validate_with_data_prints_located_advice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlpdesigner.cli import main

    table = regression_table(rows=300)
    table["f2"] = np.zeros(300)
    table["f3"] = np.zeros(300)
    table["y"] = np.abs(table["y"])
    table["y"][41] = -3.5  # line 43 of the file (header on line 1)
    spec = design(write(tmp_path / "d.csv", table), positive="softplus")
    spec["data"]["test_split"] = 0.08
    dataset = load_dataset(spec)
    table["f2"][dataset.test.indices[0]] = 5.0  # constant in the training rows only
    table["f3"][dataset.train.indices[0]] = 1.0  # one training row in 216: nearly constant
    write(tmp_path / "d.csv", table)
    (tmp_path / "design.json").write_text(json.dumps(spec))
    assert main(["validate", str(tmp_path / "design.json"), "--data"]) == 0
    out = capsys.readouterr().out
    data = str(tmp_path / "d.csv")
    assert f"{data}:43, column 'y': Target column 'y' (output 'y'): 1 value the model can never predict" in out
    assert f"{data}, column 'f2': Input column 'f2' (input 'x') is constant in the training split" in out
    assert f"{data}, column 'f3': Input column 'f3' (input 'x') is nearly constant" in out
    assert f"{data}: The test split has only 24 rows" in out
    assert "valid (1 advice, 4 data advice)" in out


def test_validate_with_data_reports_a_split_too_small_as_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlpdesigner.cli import main

    spec = design(write(tmp_path / "d.csv", regression_table(rows=20)))
    spec["data"]["test_split"] = 0.1
    (tmp_path / "design.json").write_text(json.dumps(spec))
    assert main(["validate", str(tmp_path / "design.json"), "--data"]) == 1
    out = capsys.readouterr().out
    assert "error:" in out and "too small to measure anything" in out and "hint:" in out


# --------------------------------------------------------------------------- the generated script reruns the run


@pytest.mark.slow
def test_generated_training_script_reproduces_the_apps_run(tmp_path: Path) -> None:
    """Same split, standardization (constant column included), target scaling, batches, seed and callbacks:
    the script's model scores what the app's scored on the same test rows (to 1e-4 relative; both runs
    are seeded on the CPU, the app with op determinism on)."""
    import subprocess
    import sys

    import keras

    from mlpdesigner.export import export_python
    from mlpdesigner.train.runner import train

    table = regression_table(rows=240)
    table["f3"] = np.zeros(240)  # constant: centred only, by both
    spec = design(write(tmp_path / "d.csv", table))
    spec["data"]["path"] = "d.csv"
    spec["training"].update(epochs=4, batch_size=16, early_stopping={"patience": 2})
    (tmp_path / "design.json").write_text(json.dumps(spec))
    result = train(tmp_path / "design.json", out=tmp_path / "run")
    assert result.status == "completed"
    app_metrics = json.loads((result.run_dir / "metrics.json").read_text())["test"]

    script = tmp_path / "train_trust.py"
    export_python(tmp_path / "design.json", script, with_training=True)
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    model = keras.models.load_model(tmp_path / "trust.keras")
    dataset = load_dataset(tmp_path / "design.json")
    got = model.evaluate(dataset.test.x["x"], dataset.test.y["y"], batch_size=16, return_dict=True, verbose=0)
    assert got["mae"] == pytest.approx(app_metrics["mae"], rel=1e-4)
    assert got["loss"] == pytest.approx(app_metrics["loss"], rel=1e-4)
