"""Bad and hostile model files are refused cleanly: a message naming the place, never a partial spec."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.importer import import_model

keras = pytest.importorskip("keras")
onnx = pytest.importorskip("onnx")
layers = keras.layers


@pytest.fixture
def no_keras_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("Keras was asked to load a file that should have been refused")

    monkeypatch.setattr(keras.saving, "load_model", forbidden)


def _conv() -> object:
    inp = keras.Input((8, 8, 1), name="image")
    x = layers.Conv2D(2, 3, name="conv")(inp)
    return keras.Model(inp, layers.Dense(1)(layers.Flatten()(x)))


def _lstm() -> object:
    inp = keras.Input((5, 3), name="sequence")
    return keras.Model(inp, layers.Dense(1)(layers.LSTM(4, name="memory")(inp)))


def _lambda() -> object:
    inp = keras.Input((3,), name="x")
    return keras.Model(inp, layers.Dense(1)(layers.Lambda(lambda t: t * 2, name="evil")(inp)))


def _nested() -> object:
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(4)], name="inner")
    inp = keras.Input((3,), name="x")
    return keras.Model(inp, layers.Dense(1)(inner(inp)))


def _shared() -> object:
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    twice = layers.Dense(4, name="twice")
    return keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([twice(a), twice(b)])))


def _residual() -> object:
    inp = keras.Input((4,), name="x")
    hidden = layers.Dense(4, name="hidden")(inp)
    return keras.Model(inp, layers.Dense(1)(layers.Add(name="skip")([inp, hidden])))


def _two_hidden_paths() -> object:
    inp = keras.Input((4,), name="x")
    left, right = layers.Dense(3, name="left")(inp), layers.Dense(3, name="right")(inp)
    return keras.Model(inp, layers.Dense(1, name="y")(layers.Concatenate(name="join")([left, right])))


def _logits() -> object:
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, name="logit")])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def _softmax_of_one() -> object:
    return keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="softmax", name="one")])


def _odd_activation() -> object:
    return keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, activation="exponential", name="grow"), layers.Dense(1)]
    )


def _bias_constraint() -> object:
    dense = layers.Dense(3, bias_constraint=keras.constraints.MaxNorm(2.0), name="bounded")
    return keras.Sequential([keras.Input((4,)), dense, layers.Dense(1)])


def _foreign_constraint() -> object:
    dense = layers.Dense(3, bias_constraint=keras.constraints.NonNeg(), name="bounded")
    return keras.Sequential([keras.Input((4,)), dense, layers.Dense(1)])


KERAS_CASES: dict[str, tuple[Callable[[], object], str]] = {
    "convolution": (_conv, r"layer 2 of 4, 'conv' \(Conv2D\).*outside the multilayer-perceptron family"),
    "recurrent": (_lstm, r"layer 2 of 3, 'memory' \(LSTM\)"),
    "lambda": (_lambda, r"(?s)'evil' \(Lambda\): Lambda layers hold code.*refused for safety"),
    "nested model": (_nested, r"'inner' \(Sequential\): a model nested as a layer"),
    "shared layer": (_shared, r"'twice' \(Dense\) is called 2 times \(a shared layer\)"),
    "residual": (_residual, r"'skip' \(Add\)"),
    "two hidden paths": (_two_hidden_paths, r"'left' \(Dense, layer \d of \d\) feeds the Wide & Deep concatenation"),
    "loss on logits": (_logits, r"from_logits=True"),
    "softmax over one unit": (_softmax_of_one, r"softmax over 1 unit"),
    "unknown activation": (_odd_activation, r"activation 'exponential' \(at /config/layers/1/config/activation"),
    "bias constraint": (_bias_constraint, r"'bounded' \(Dense, layer 2 of 3\) has bias_constraint=.*cannot hold"),
    "class outside the closed set": (_foreign_constraint, r"'NonNeg' \(at /config/layers/1/config/bias_constraint"),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_models_outside_the_mlp_family_are_refused(case: str, tmp_path: Path, no_keras_load: None) -> None:
    build, expected = KERAS_CASES[case]
    path = tmp_path / "model.keras"
    build().save(path)
    with pytest.raises(UserError, match=expected):
        import_model(path)


def _rewrite_config(path: Path, change: Callable[[dict], None]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _plain(path: Path) -> None:
    keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(1)]).save(path)


def test_a_poisoned_module_is_refused_before_anything_loads(tmp_path: Path, no_keras_load: None) -> None:
    path = tmp_path / "poisoned.keras"
    _plain(path)
    _rewrite_config(path, lambda c: c["config"]["layers"][1].update(module="os"))
    with pytest.raises(UserError, match=r"module 'os'"):
        import_model(path)


def test_a_custom_registered_object_is_refused(tmp_path: Path, no_keras_load: None) -> None:
    path = tmp_path / "custom.keras"
    _plain(path)
    _rewrite_config(path, lambda c: c["config"]["layers"][1].update(registered_name="evil>Dense"))
    with pytest.raises(UserError, match=r"custom object 'evil>Dense'"):
        import_model(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("not_zip.keras", b"PK but not really a zip", r"not a \.keras model \(expected a zip archive\)"),
        ("legacy.h5", b"\x89HDF\r\n\x1a\n", r"legacy HDF5 models are not read"),
        ("model.pt", b"torch pickle", r"Expected a \.keras or \.onnx model file. Received: '\.pt'"),
        ("garbage.onnx", b"\xff" * 64, r"not an ONNX model"),
    ],
)
def test_files_that_are_not_models(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=expected):
        import_model(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no such model file"):
        import_model(tmp_path / "absent.keras")


def test_an_archive_without_config_or_with_broken_json(tmp_path: Path) -> None:
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(UserError, match=r"no config\.json"):
        import_model(empty)
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("config.json", '{"class_name": "Sequential", ')
    with pytest.raises(UserError, match=r"config\.json is not valid JSON"):
        import_model(broken)


def test_a_config_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "odd.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Dense", "config": {}}))
    with pytest.raises(UserError, match=r"describes 'Dense'. Expected a Sequential or functional model"):
        import_model(path)


def test_the_cli_writes_no_partial_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cnn.keras"
    _conv().save(path)
    out = tmp_path / "spec.json"
    assert main(["import", str(path), "-o", str(out), "--weights", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "'conv' (Conv2D)" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- ONNX


def _onnx_file(path: Path, nodes: list, initializers: dict[str, np.ndarray], *, out_width: int = 2) -> Path:
    helper = onnx.helper
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", out_width])],
        [onnx.numpy_helper.from_array(np.asarray(v, "float32"), k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("evil.ops", 1)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_onnx_custom_ops_are_refused(tmp_path: Path) -> None:
    node = onnx.helper.make_node("RunShell", ["x"], ["y"], "shell", domain="evil.ops")
    path = _onnx_file(tmp_path / "custom.onnx", [node], {})
    with pytest.raises(UserError, match=r"node 1 of 1, 'shell', is the custom op evil\.ops\.RunShell"):
        import_model(path)


def test_onnx_external_weights_are_not_read(tmp_path: Path) -> None:
    weight = onnx.numpy_helper.from_array(np.ones((3, 2), "float32"), "W")
    weight.data_location = onnx.TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", 2])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "external.onnx"
    onnx.save(model, path)
    with pytest.raises(UserError, match=r"'W' lives in an external data file, which is not read"):
        import_model(path)


def test_onnx_residual_connection_is_refused(tmp_path: Path) -> None:
    nodes = [
        onnx.helper.make_node("MatMul", ["x", "W"], ["h"], "hidden"),
        onnx.helper.make_node("Relu", ["h"], ["r"], "relu"),
        onnx.helper.make_node("Add", ["x", "r"], ["s"], "skip"),
        onnx.helper.make_node("MatMul", ["s", "W2"], ["y"], "out"),
    ]
    path = _onnx_file(tmp_path / "residual.onnx", nodes, {"W": np.ones((3, 3)), "W2": np.ones((3, 2))})
    with pytest.raises(UserError, match=r"node 3 of 4, 'skip' \(op Add\).*joins two paths"):
        import_model(path)


def test_onnx_graph_that_fails_the_checker(tmp_path: Path) -> None:
    nodes = [onnx.helper.make_node("MatMul", ["x", "missing"], ["y"], "broken")]
    path = _onnx_file(tmp_path / "broken.onnx", nodes, {})
    with pytest.raises(UserError, match=r"not a valid ONNX model"):
        import_model(path)
