"""Layer normalization and Gaussian noise come in from .keras and ONNX files (issue 16's gaps).

Both layer kinds are in the spec's registry; the importer used to refuse them.
Gaussian noise acts only in training, so an ONNX graph never carries it; ONNX
layer normalization is read from the ``LayerNormalization`` op (PyTorch's
``nn.LayerNorm``); tf2onnx's spelled-out arithmetic (ReduceMean, Sub, ...) is
still refused, naming its first node, as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.compile import build_model
from mlpdesigner.importer import import_model, write_run
from mlpdesigner.modelfile import load_keras_model
from tests._import_support import inputs_for, largest_difference, perturb, predictions

keras = pytest.importorskip("keras")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
helper, numpy_helper, TensorProto = onnx.helper, onnx.numpy_helper, onnx.TensorProto


def test_keras_layer_normalization_and_gaussian_noise_import_with_their_settings_and_weights(tmp_path: Path) -> None:
    keras.backend.clear_session()
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.LayerNormalization(epsilon=0.01, center=False),
            keras.layers.GaussianNoise(0.2),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.LayerNormalization(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    perturb(model)  # gamma and beta away from their initial ones and zeros
    model.save(tmp_path / "m.keras")
    spec = import_model(tmp_path / "m.keras").spec
    kinds = [(layer["type"], {k: v for k, v in layer.items() if k not in ("type", "name")})
             for layer in spec["network"]["layers"]]
    assert kinds == [
        ("dense", {"units": 8, "activation": "relu"}),
        ("layer_normalization", {"epsilon": 0.01, "center": False}),
        ("gaussian_noise", {"stddev": 0.2}),
        ("dense", {"units": 4, "activation": "tanh"}),
        ("layer_normalization", {}),
    ]
    run = write_run(import_model(tmp_path / "m.keras"), tmp_path / "run")
    loaded = load_keras_model(run / "model.keras")
    feeds = inputs_for(model)
    assert largest_difference(predictions(loaded, feeds), predictions(model, feeds)) <= 1e-6


def test_a_designed_layer_normalization_round_trips_through_keras(tmp_path: Path) -> None:
    spec = {
        "format": "mlpdesigner/1",
        "name": "normed",
        "inputs": [{"name": "x", "shape": [6], "normalize": False}],
        "network": {"topology": "sequential", "layers": [
            {"type": "dense", "units": 7, "activation": "elu"},
            {"type": "layer_normalization", "epsilon": 0.0001, "scale": False},
            {"type": "gaussian_noise", "stddev": 0.05},
        ]},
        "outputs": [{"name": "y", "task": "multiclass", "units": 3}],
    }
    model = build_model(spec)
    perturb(model)
    model.save(tmp_path / "m.keras")
    layers = import_model(tmp_path / "m.keras").spec["network"]["layers"]
    assert [{k: v for k, v in layer.items() if k != "name"} for layer in layers] == spec["network"]["layers"]


def _onnx_file(path: Path, nodes: list, weights: dict[str, np.ndarray]) -> Path:
    initializers = [numpy_helper.from_array(np.asarray(v, dtype="float32"), k) for k, v in weights.items()]
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", w]) for n, w in (("input", 5), ("output", 1))]
    graph = helper.make_graph(nodes, "torch_jit", io[:1], io[1:], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_onnx_layer_normalization_op_imports_with_its_weights(tmp_path: Path) -> None:
    """What torch.onnx.export writes for Linear-ReLU-LayerNorm-Linear-Sigmoid (opset 17)."""
    rng = np.random.default_rng(0)
    weights = {
        "fc1.weight": rng.normal(size=(12, 5)),
        "fc1.bias": rng.normal(size=12),
        "ln.weight": rng.uniform(0.5, 2, 12),
        "ln.bias": rng.normal(size=12),
        "fc2.weight": rng.normal(size=(1, 12)),
        "fc2.bias": rng.normal(size=1),
    }
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], "/fc1/Gemm", transB=1),
        helper.make_node("Relu", ["h"], ["a"], "/act/Relu"),
        helper.make_node("LayerNormalization", ["a", "ln.weight", "ln.bias"], ["n"], "/ln/LayerNormalization",
                         axis=-1, epsilon=1e-5),
        helper.make_node("Gemm", ["n", "fc2.weight", "fc2.bias"], ["logit"], "/fc2/Gemm", transB=1),
        helper.make_node("Sigmoid", ["logit"], ["output"], "/Sigmoid"),
    ]
    path = _onnx_file(tmp_path / "torch.onnx", nodes, weights)
    spec = import_model(path).spec
    assert spec["network"]["layers"] == [
        {"type": "dense", "units": 12, "activation": "relu"},
        {"type": "layer_normalization", "epsilon": pytest.approx(1e-5)},
    ]
    run = write_run(import_model(path), tmp_path / "run")
    assert json.loads((run / "run.json").read_text())["status"] == "imported"
    model = load_keras_model(run / "model.keras")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = inputs_for(model, rows=40)
    expected = session.run(None, {"input": feeds[0]})
    assert largest_difference(predictions(model, feeds), expected) <= 1e-5

