"""scikit-learn MLPs converted by skl2onnx import with their class labels and predictions (issue 16).

skl2onnx is an optional test dependency (``pip install skl2onnx``); without it these tests are skipped.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.importer import import_model, write_run
from mlpdesigner.modelfile import load_keras_model

skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is an optional test dependency (pip install skl2onnx)")
pytest.importorskip("sklearn")


def _fitted(x: np.ndarray, y: np.ndarray, **settings: object) -> object:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(max_iter=200, random_state=0, **settings).fit(x, y)


def _onnx(model: object, x: np.ndarray, path: Path, zipmap: bool = True) -> Path:
    options = None if zipmap else {id(model): {"zipmap": False}}
    path.write_bytes(skl2onnx.to_onnx(model, x[:1], options=options).SerializeToString())
    return path


def _rebuilt_probabilities(path: Path, folder: Path, x: np.ndarray) -> np.ndarray:
    run = write_run(import_model(path), folder)
    assert json.loads((run / "run.json").read_text())["status"] == "imported"
    return np.asarray(load_keras_model(run / "model.keras")(x, training=False))


@pytest.mark.parametrize("zipmap", [True, False], ids=["zipmap", "tensor"])
def test_multiclass_classifier_imports_its_probabilities_and_labels(tmp_path: Path, zipmap: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 4)).astype("float32")
    y = np.array(["setosa", "versicolor", "virginica"])[np.argmax(x[:, :3], axis=1)]
    model = _fitted(x, y, hidden_layer_sizes=(10, 6), activation="tanh")
    path = _onnx(model, x, tmp_path / "mlp.onnx", zipmap)
    spec = import_model(path).spec
    assert spec["network"]["layers"] == [
        {"type": "dense", "units": 10, "activation": "tanh"},
        {"type": "dense", "units": 6, "activation": "tanh"},
    ]
    (output,) = spec["outputs"]
    assert output["task"] == "multiclass" and output["units"] == 3
    assert output["classes"] == ["setosa", "versicolor", "virginica"]
    assert output["name"] == ("output_probability" if zipmap else "probabilities")
    assert "The label output and ZipMap of the skl2onnx classifier are left out" in spec["description"]
    got = _rebuilt_probabilities(path, tmp_path / "run", x)
    np.testing.assert_allclose(got, model.predict_proba(x), atol=1e-5)


def test_binary_classifier_imports_its_logistic_unit(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3)).astype("float32")
    y = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    model = _fitted(x, y, hidden_layer_sizes=(6,))
    path = _onnx(model, x, tmp_path / "binary.onnx")
    spec = import_model(path).spec
    (output,) = spec["outputs"]
    assert output["task"] == "binary" and output["units"] == 1 and output["classes"] == ["no", "yes"]
    got = _rebuilt_probabilities(path, tmp_path / "run", x)
    np.testing.assert_allclose(got[:, 0], model.predict_proba(x)[:, 1], atol=1e-5)
