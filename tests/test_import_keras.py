"""Importing .keras models: spec -> model -> import -> the same spec, and the same predictions with the weights."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from mlpdesigner.cli import main
from mlpdesigner.compile import build_model
from mlpdesigner.importer import import_model, write_run
from mlpdesigner.modelfile import load_keras_model
from mlpdesigner.resources import example_names, example_path
from mlpdesigner.spec import load_spec
from tests._export_support import kitchen_sink
from tests._import_support import (
    assert_same,
    comparable,
    inputs_for,
    largest_difference,
    perturb,
    predictions,
)
from tests.test_properties import specs

keras = pytest.importorskip("keras")

SLOW_AND_TMP = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


def _saved(spec: dict | str | Path, path: Path, *, trained: bool = True) -> object:
    model = build_model(spec)
    if trained:
        perturb(model)
    model.save(path)
    return model


def _check_weights(source: object, spec: dict, path: Path, run_parent: Path) -> Path:
    """Import with weights; the run's model gives the source's predictions (<= 1e-6)."""
    run = write_run(import_model(path), run_parent / "run")
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "imported"
    assert info["imported"]["format"] == "keras"
    assert_same(load_spec(run / "spec.json").raw, spec)
    loaded = load_keras_model(run / "model.keras")
    feeds = inputs_for(source)
    assert largest_difference(predictions(loaded, feeds), predictions(source, feeds)) <= 1e-6
    return run


@pytest.mark.slow
@pytest.mark.parametrize("name", example_names())
def test_starter_designs_round_trip_with_their_weights(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.keras"
    source = _saved(example_path(name), path)
    result = import_model(path)
    assert_same(comparable(result.spec), comparable(str(example_path(name))))
    _check_weights(source, result.spec, path, tmp_path)


@pytest.mark.slow
def test_every_layer_option_round_trips(tmp_path: Path) -> None:
    spec = kitchen_sink()
    path = tmp_path / "sink.keras"
    source = _saved(spec, path)
    result = import_model(path)
    assert_same(comparable(result.spec), comparable(spec))
    _check_weights(source, result.spec, path, tmp_path)


@pytest.mark.slow
@given(specs())
@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_AND_TMP)
def test_generated_specs_round_trip(tmp_path: Path, spec: dict) -> None:
    path = tmp_path / "generated.keras"
    build_model(spec).save(path)
    assert_same(comparable(import_model(path).spec), comparable(spec))


@pytest.mark.slow
@given(specs())
@settings(max_examples=6, deadline=None, suppress_health_check=SLOW_AND_TMP)
def test_generated_specs_keep_their_predictions(tmp_path: Path, spec: dict) -> None:
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    source = _saved(spec, folder / "generated.keras")
    result = import_model(folder / "generated.keras")
    _check_weights(source, result.spec, folder / "generated.keras", folder)


def test_spec_import_does_not_load_tensorflow(tmp_path: Path) -> None:
    path = tmp_path / "housing.keras"
    build_model(example_path("housing_regression")).save(path)
    code = (
        "import sys; from mlpdesigner.importer import import_model; "
        f"spec = import_model({str(path)!r}).spec; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'loaded TensorFlow'; "
        "print(spec['name'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "housing_regression"


# --------------------------------------------------------------------------- models built by hand


def test_hand_built_sequential_classifier(tmp_path: Path) -> None:
    keras.backend.clear_session()  # Keras' own layer names (dense, dense_1, ...) count from here
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(8),
            keras.layers.LeakyReLU(negative_slope=0.1),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    perturb(model)
    path = tmp_path / "classifier.keras"
    model.save(path)
    spec = import_model(path).spec
    # No Normalization layer in the file: the input says so (the spec's default normalizes inputs).
    assert spec["inputs"] == [{"name": "input_layer", "shape": [6], "normalize": False}]
    assert spec["network"]["layers"] == [
        {"type": "dense", "name": "dense", "units": 16, "activation": "relu"},
        {"type": "dropout", "name": "dropout", "rate": 0.25},
        {"type": "dense", "units": 8},
        {"type": "activation", "name": "leaky_re_lu", "activation": "leaky_relu", "negative_slope": 0.1},
    ]
    assert spec["outputs"] == [{"name": "dense_2", "task": "multiclass", "units": 3}]
    assert spec["training"] == {"optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}}
    assert "task 'multiclass' inferred from its softmax activation (3 units)" in spec["description"]
    assert "sparse_categorical_crossentropy loss" in spec["description"]
    _check_weights(model, spec, path, tmp_path)


def test_hand_built_functional_wide_and_deep(tmp_path: Path) -> None:
    wide = keras.Input((3,), name="wide")
    deep = keras.Input((5,), name="deep")
    norm = keras.layers.Normalization(mean=[0.5] * 5, variance=[4.0] * 5)(deep)
    hidden = keras.layers.Dense(12, activation="elu", kernel_initializer="he_normal")(norm)
    hidden = keras.layers.BatchNormalization(momentum=0.9)(hidden)
    hidden = keras.layers.Dense(6, activation="tanh")(hidden)
    merged = keras.layers.Concatenate()([wide, hidden])
    main_logit = keras.layers.Dense(1)(merged)
    main_out = keras.layers.Activation("sigmoid", name="default")(main_logit)
    aux = keras.layers.Dense(2, activation="softplus", name="amount")(hidden)
    model = keras.Model([wide, deep], [main_out, aux])
    perturb(model)
    path = tmp_path / "wide_deep.keras"
    model.save(path)
    result = import_model(path)
    spec = result.spec
    assert spec["network"]["topology"] == "wide_deep"
    assert spec["network"]["wide"] == {"inputs": ["wide"]}
    assert spec["network"]["deep"]["inputs"] == ["deep"]
    assert spec["inputs"][1] == {"name": "deep", "shape": [5], "normalize": True}
    assert [layer["type"] for layer in spec["network"]["deep"]["layers"]] == ["dense", "batch_normalization", "dense"]
    assert spec["outputs"] == [
        {"name": "default", "task": "binary", "units": 1},
        # No Rescaling after the Dense: no target scaling (the spec's default scales regression targets).
        {
            "name": "amount",
            "task": "regression",
            "units": 2,
            "positive": "softplus",
            "normalize": False,
            "source": "deep",
        },
    ]
    assert "not compiled" not in spec["description"]
    assert "task 'binary' inferred from its sigmoid activation (1 unit)" in spec["description"]
    _check_weights(model, spec, path, tmp_path)


# --------------------------------------------------------------------------- the command line


def test_cli_writes_the_spec_and_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _saved(example_path("binary_batchnorm_dropout"), tmp_path / "model.keras")
    out = tmp_path / "imported.json"
    code = main(["import", str(tmp_path / "model.keras"), "-o", str(out), "--weights", "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    assert load_spec(out).ok
    assert "binary" in capsys.readouterr().out
    run = tmp_path / "run"
    loaded = load_keras_model(run / "model.keras")
    feeds = inputs_for(source)
    assert largest_difference(predictions(loaded, feeds), predictions(source, feeds)) <= 1e-6


@pytest.mark.slow
def test_imported_run_exports_to_onnx_with_the_parity_check(tmp_path: Path) -> None:
    from mlpdesigner.export import export_onnx

    _saved(example_path("wide_deep_two_inputs"), tmp_path / "model.keras")
    run = write_run(import_model(tmp_path / "model.keras"), tmp_path / "run")
    report = export_onnx(run, tmp_path / "model.onnx")
    assert report.trained
    assert report.max_abs_diff <= 1e-5


def test_spec_without_compile_config_gets_the_task_defaults(tmp_path: Path) -> None:
    spec = copy.deepcopy(json.loads(example_path("multilabel_elu_l2").read_text()))
    build_model(spec, compile=False).save(tmp_path / "m.keras")
    imported = import_model(tmp_path / "m.keras").spec
    assert imported["outputs"][0]["task"] == "multilabel"
    assert "training" not in imported
    assert_same(comparable(imported, training=()), comparable(spec, training=()))


@pytest.mark.slow
def test_imported_run_evaluates_like_the_run_it_came_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A trained model exported to .keras, imported with --data: evaluate gives the original run's metrics."""
    from mlpdesigner.export import export_keras
    from mlpdesigner.resources import data_path

    flowers = data_path("resources", "datasets", "flowers.csv")
    assert main(["train", str(example_path("flowers_multiclass")), "--epochs", "3", "--out", str(tmp_path / "t")]) == 0
    export_keras(tmp_path / "t", tmp_path / "flowers.keras")
    spec_out = tmp_path / "imported.json"
    argv = ["import", str(tmp_path / "flowers.keras"), "-o", str(spec_out), "--weights", "--out", str(tmp_path / "i")]
    assert main([*argv, "--data", str(flowers)]) == 0
    assert load_spec(spec_out).data_file() == flowers.resolve()
    capsys.readouterr()
    reports = []
    for run in ("t", "i"):
        assert main(["evaluate", str(tmp_path / run), "--data", str(flowers), "--json"]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    trained, imported = (r["metrics"] for r in reports)
    assert trained.keys() == imported.keys() and "accuracy" in imported
    for key in trained:
        assert imported[key] == pytest.approx(trained[key], rel=1e-5, abs=1e-6)


def test_data_whose_columns_do_not_fit_says_what_is_needed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_model(example_path("flowers_multiclass")).save(tmp_path / "m.keras")
    (tmp_path / "d.csv").write_text("a,b,c\n1,2,3\n")
    assert (
        main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "s.json"), "--data", str(tmp_path / "d.csv")])
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "3 columns. Expected exactly 5, in this order: measurements (4 input columns), species (1 output column)" in err
    )
    assert not (tmp_path / "s.json").exists()


def test_names_the_spec_cannot_hold_are_cleaned(tmp_path: Path) -> None:
    model = keras.Sequential(
        [
            keras.Input((3,), name="raw features"),
            keras.layers.Dense(4, activation="relu", name="hidden.one"),
            keras.layers.Dense(1, name="9lives"),
        ]
    )
    perturb(model)
    model.save(tmp_path / "names.keras")
    spec = import_model(tmp_path / "names.keras").spec
    assert spec["inputs"][0]["name"] == "raw_features"
    assert spec["network"]["layers"][0]["name"] == "hidden_one"
    assert spec["outputs"][0]["name"] == "layer_9lives"
    assert "'hidden.one' is named 'hidden_one'" in spec["description"]
    _check_weights(model, spec, tmp_path / "names.keras", tmp_path)
