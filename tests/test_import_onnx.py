"""Importing ONNX files: spec -> ONNX -> import gives the same network, and the same predictions with the weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from mlpdesigner.compile import build_model
from mlpdesigner.export import export_onnx
from mlpdesigner.importer import import_model, write_run
from mlpdesigner.modelfile import load_keras_model
from mlpdesigner.resources import example_names, example_path
from mlpdesigner.spec import load_spec
from mlpdesigner.spec.defaults import target_scaling
from tests._export_support import kitchen_sink
from tests._import_support import assert_same, comparable, inputs_for, largest_difference, perturb, predictions
from tests.test_properties import specs

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
helper, numpy_helper, TensorProto = onnx.helper, onnx.numpy_helper, onnx.TensorProto

#: Activations a linear dense layer takes over when they follow it (as ONNX graphs cannot tell them apart).
FOLDABLE = {"relu", "selu", "gelu", "swish", "tanh", "sigmoid", "softplus", "softmax"}


def architecture(spec: dict[str, Any]) -> dict[str, Any]:
    """What an ONNX graph carries of a spec: inputs, topology, the layers' computation, and the heads.

    Dropout disappears at inference; an activation layer after a linear dense
    layer is the layer's activation; batch normalization keeps its place but
    not its settings; a PReLU with one feature is a leaky ReLU.
    """
    filled = comparable(spec)
    network = filled["network"]
    paths = [network["layers"]] if network["topology"] == "sequential" else [network["deep"]["layers"]]
    for layers in paths:
        canonical: list[list[Any]] = []
        for layer in layers:
            kind = layer["type"]
            if kind in ("dropout", "alpha_dropout"):
                continue
            if kind == "dense":
                canonical.append(["dense", layer["units"], layer["activation"]])
            elif kind == "activation":
                act = layer["activation"]
                if act == "leaky_relu" and layer["negative_slope"] < 1e-7:
                    act = "relu"  # a slope float32 holds as 0
                if act == "leaky_relu" and layer["negative_slope"] == 1.0:
                    continue  # the identity: nothing in the graph
                plain = act in FOLDABLE or (act == "leaky_relu" and layer["negative_slope"] == 0.2)
                plain = plain or (act == "elu" and layer["alpha"] == 1.0)
                if canonical and canonical[-1][0] == "dense" and canonical[-1][2] == "linear" and plain:
                    canonical[-1][2] = act
                else:
                    setting = {"leaky_relu": "negative_slope", "elu": "alpha"}.get(act)
                    family = "relu-family" if act in ("prelu", "leaky_relu") else act
                    canonical.append(["activation", family] + ([] if family == "relu-family" else [layer.get(setting)]))
            else:
                canonical.append([kind])
        layers[:] = canonical
    for out in filled["outputs"]:
        out.pop("kernel_initializer", None)
    return filled


def _trained_scaling(spec: dict[str, Any] | str) -> dict[str, tuple[Any, Any]]:
    """Target statistics for every target-scaled regression head, as training sets them.

    The untrained model's placeholder scaling (times 1 plus 0) leaves nothing in an
    ONNX graph, so the source model gets statistics a trained one would have.
    """
    rng = np.random.default_rng(2)
    scaling = {}
    for out in comparable(spec)["outputs"]:
        mode = target_scaling(out)
        if mode:
            scale = rng.uniform(0.5, 3.0, out["units"])
            offset = rng.normal(size=out["units"]) if mode == "standardize" else np.zeros(out["units"])
            scaling[out["name"]] = (scale, offset)
    return scaling


def _onnx_of(spec: dict[str, Any] | str, folder: Path) -> tuple[Path, Any]:
    """A trained-looking model of the spec, exported to ONNX through a run folder."""
    model = build_model(spec, target_scaling=_trained_scaling(spec))
    perturb(model)
    model.save(folder / "source.keras")
    run = write_run(import_model(folder / "source.keras"), folder / "keras_run")
    export_onnx(run, folder / "model.onnx")
    return folder / "model.onnx", model


def _check_onnx_weights(path: Path, folder: Path, source: Any = None, tolerance: float = 1e-6) -> Path:
    """Import with weights: the run's model gives onnxruntime's predictions of the file."""
    run = write_run(import_model(path), folder / "onnx_run")
    assert json.loads((run / "run.json").read_text())["status"] == "imported"
    model = load_keras_model(run / "model.keras")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = inputs_for(model, rows=40)
    expected = session.run(None, {i.name: f for i, f in zip(session.get_inputs(), feeds)})
    got = predictions(model, feeds)
    assert largest_difference(got, expected) <= tolerance
    if source is not None:
        assert largest_difference(got, predictions(source, feeds)) <= tolerance
    return run


@pytest.mark.slow
@pytest.mark.parametrize("name", [*example_names(), "kitchen_sink"])
def test_designs_round_trip_through_onnx(name: str, tmp_path: Path) -> None:
    spec = kitchen_sink() if name == "kitchen_sink" else str(example_path(name))
    path, source = _onnx_of(spec, tmp_path)
    result = import_model(path)
    assert_same(architecture(result.spec), architecture(spec), rel=1e-6, tiny=1e-6)
    _check_onnx_weights(path, tmp_path, source)


def _fits_onnx(spec: dict[str, Any]) -> bool:
    """False where ONNX cannot tell the spec's layers apart (batch normalization first on a path, or twice in a row)."""
    network = spec["network"]
    layers = network["layers"] if network["topology"] == "sequential" else network["deep"]["layers"]
    kinds = [layer["type"] for layer in layers if layer["type"] not in ("dropout", "alpha_dropout", "flatten")]
    if kinds[:1] == ["batch_normalization"]:
        return False
    return not any(a == b == "batch_normalization" for a, b in zip(kinds, kinds[1:]))


@pytest.mark.slow
@given(specs())
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
def test_generated_specs_round_trip_through_onnx(tmp_path: Path, spec: dict) -> None:
    assume(_fits_onnx(spec))
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path, source = _onnx_of(spec, folder)
    assert_same(architecture(import_model(path).spec), architecture(spec), rel=1e-6, tiny=1e-6)
    _check_onnx_weights(path, folder, source, tolerance=1e-5)


# --------------------------------------------------------------------------- graphs as other exporters write them


def _save(nodes: list[Any], inputs: list[Any], outputs: list[Any], weights: dict[str, np.ndarray], path: Path) -> Path:
    initializers = [numpy_helper.from_array(np.asarray(v, dtype="float32"), k) for k, v in weights.items()]
    graph = helper.make_graph(nodes, "torch_jit", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _io(name: str, width: int | None) -> Any:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", width] if width else None)


def test_pytorch_style_graph_with_batch_normalization(tmp_path: Path) -> None:
    """What torch.onnx.export writes for Linear-ReLU-BatchNorm1d-Linear-Softmax: Gemm (transB=1), BatchNormalization."""
    rng = np.random.default_rng(0)
    w = {
        "fc1.weight": rng.normal(size=(12, 5)),
        "fc1.bias": rng.normal(size=12),
        "bn.weight": rng.uniform(0.5, 2, 12),
        "bn.bias": rng.normal(size=12),
        "bn.running_mean": rng.normal(size=12),
        "bn.running_var": rng.uniform(0.5, 2, 12),
        "fc2.weight": rng.normal(size=(4, 12)),
        "fc2.bias": rng.normal(size=4),
    }
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["/fc1/Gemm_output_0"], "/fc1/Gemm", transB=1),
        helper.make_node("Relu", ["/fc1/Gemm_output_0"], ["/act/Relu_output_0"], "/act/Relu"),
        helper.make_node(
            "BatchNormalization",
            ["/act/Relu_output_0", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"],
            ["/bn/BatchNormalization_output_0"],
            "/bn/BatchNormalization",
            epsilon=1e-5,
        ),
        helper.make_node("Gemm", ["/bn/BatchNormalization_output_0", "fc2.weight", "fc2.bias"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], "/Softmax", axis=1),
    ]
    path = _save(nodes, [_io("input", 5)], [_io("probabilities", 4)], w, tmp_path / "torch.onnx")
    spec = import_model(path).spec
    # No normalization step in the graph: the input says so (the spec's default normalizes inputs).
    assert spec["inputs"] == [{"name": "input", "shape": [5], "normalize": False}]
    assert spec["network"] == {
        "topology": "sequential",
        "layers": [
            {"type": "dense", "units": 12, "activation": "relu"},
            {"type": "batch_normalization", "epsilon": 1e-5},
        ],
    }
    assert spec["outputs"] == [{"name": "probabilities", "task": "multiclass", "units": 4}]
    assert "task 'multiclass' inferred from its softmax activation (4 units)" in spec["description"]
    _check_onnx_weights(path, tmp_path)


def test_folded_batch_normalization_and_skl2onnx_style_matmul_add(tmp_path: Path) -> None:
    """MatMul + Add per layer (skl2onnx, and PyTorch with batch normalization folded into the weights)."""
    rng = np.random.default_rng(1)
    w = {
        "W1": rng.normal(size=(3, 8)),
        "b1": rng.normal(size=8),
        "W2": rng.normal(size=(8, 2)),
        "b2": rng.normal(size=2),
    }
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Tanh", ["hb"], ["a"]),
        helper.make_node("MatMul", ["a", "W2"], ["o"]),
        helper.make_node("Add", ["o", "b2"], ["variable"]),
    ]
    path = _save(nodes, [_io("X", 3)], [_io("variable", 2)], w, tmp_path / "skl.onnx")
    spec = import_model(path).spec
    assert spec["network"]["layers"] == [{"type": "dense", "units": 8, "activation": "tanh"}]
    # No Mul/Add after the output layer: no target scaling (the spec's default scales regression targets).
    assert spec["outputs"] == [{"name": "variable", "task": "regression", "units": 2, "normalize": False}]
    _check_onnx_weights(path, tmp_path)


def test_mul_add_after_a_linear_output_is_its_target_scaling(tmp_path: Path) -> None:
    """A per-unit Mul + Add after the output layer reads as target standardization, with its values."""
    rng = np.random.default_rng(3)
    w = {
        "W1": rng.normal(size=(3, 8)),
        "b1": rng.normal(size=8),
        "W2": rng.normal(size=(8, 2)),
        "b2": rng.normal(size=2),
        "scale": np.array([2.5, 0.4]),
        "offset": np.array([10.0, -3.0]),
    }
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["a"]),
        helper.make_node("MatMul", ["a", "W2"], ["o"]),
        helper.make_node("Add", ["o", "b2"], ["raw"]),
        helper.make_node("Mul", ["raw", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["price"]),
    ]
    path = _save(nodes, [_io("X", 3)], [_io("price", 2)], w, tmp_path / "scaled.onnx")
    result = import_model(path)
    assert result.spec["outputs"] == [{"name": "price", "task": "regression", "units": 2}]
    np.testing.assert_allclose(result.target_scaling["price"][0], [2.5, 0.4], rtol=1e-6)
    _check_onnx_weights(path, tmp_path)


def test_mlp_exported_from_pytorch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional test dependency (pip install torch)")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 16),
        torch.nn.LeakyReLU(0.1),
        torch.nn.BatchNorm1d(16),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(16, 1),
        torch.nn.Sigmoid(),
    )
    net.eval()
    x = torch.randn(8, 6)
    path = tmp_path / "torch.onnx"
    torch.onnx.export(net, (x,), str(path), input_names=["features"], output_names=["probability"], dynamo=False)
    spec = import_model(path).spec
    assert spec["network"]["layers"] == [
        {"type": "dense", "units": 16},
        {"type": "activation", "activation": "leaky_relu", "negative_slope": 0.1},
        {"type": "batch_normalization", "epsilon": 1e-5},
    ]
    assert spec["outputs"] == [{"name": "probability", "task": "binary", "units": 1}]
    run = write_run(import_model(path), tmp_path / "run")
    model = load_keras_model(run / "model.keras")
    feeds = [np.random.default_rng(3).normal(size=(32, 6)).astype("float32")]
    with torch.no_grad():
        expected = net(torch.from_numpy(feeds[0])).numpy()
    assert largest_difference(predictions(model, feeds), [expected]) <= 1e-6


# --------------------------------------------------------------------------- refused


def test_a_convolution_is_refused_naming_the_node(tmp_path: Path) -> None:
    from mlpdesigner.importer import ImportRefused

    w = {"K": np.ones((2, 1, 3, 3)), "W": np.ones((8, 2))}
    nodes = [
        helper.make_node("Conv", ["image", "K"], ["c"], "conv_1"),
        helper.make_node("Flatten", ["c"], ["f"]),
        helper.make_node("MatMul", ["f", "W"], ["y"]),
    ]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 4, 4])]
    path = _save(nodes, inputs, [_io("y", 2)], w, tmp_path / "cnn.onnx")
    with pytest.raises(ImportRefused, match=r"node 1 of 3, 'conv_1' \(op Conv\).*outside the multilayer-perceptron"):
        import_model(path)


def test_the_cli_refuses_cleanly_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlpdesigner.cli import main

    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"\x08\x07garbage that is not a protobuf model" * 10)
    out = tmp_path / "spec.json"
    assert main(["import", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "garbage.onnx" in err and "Traceback" not in err
    assert not out.exists()


def test_spec_from_onnx_is_valid_and_loads(tmp_path: Path) -> None:
    path, _ = _onnx_of(str(example_path("housing_regression")), tmp_path)
    from mlpdesigner.cli import main

    assert main(["import", str(path), "-o", str(tmp_path / "spec.json")]) == 0
    assert load_spec(tmp_path / "spec.json").ok
