"""Layer health: what a run records per layer and epoch, and the advice it gives after the run."""

from __future__ import annotations

import copy
import io
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.resources import example_names, example_path
from mlpdesigner.runevents import TrainingState
from mlpdesigner.spec import load_spec
from mlpdesigner.spec.edits import apply_patch
from mlpdesigner.train.health import (
    HEALTH_FILE,
    health_advice,
    health_document,
    health_layers,
    layer_series,
    read_health,
)
from mlpdesigner.train.progress import JsonlReporter
from mlpdesigner.train.runner import train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_train_run import REGRESSION, spec_dict, write_csv  # noqa: E402


def deep_spec(data: Path, activation: str, initializer: str, depth: int = 20, epochs: int = 3) -> dict[str, Any]:
    spec = spec_dict(data, *REGRESSION, epochs=epochs)
    spec["network"]["layers"] = [
        {"type": "dense", "units": 16, "activation": activation, "kernel_initializer": initializer}
        for _ in range(depth)
    ]
    return spec


def codes(problems: list[Any]) -> list[str]:
    return [p.code for p in problems]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("health") / "data.csv", rows=300)


# --------------------------------------------------------------------------- recording


def test_run_streams_health_events_and_stores_health_json(data: Path, tmp_path: Path) -> None:
    stream = io.StringIO()
    spec = spec_dict(data, *REGRESSION, epochs=3)
    result = train(spec, out=tmp_path / "run", reporter=JsonlReporter(stream))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    health = [e for e in events if e["event"] == "health"]
    assert [e["epoch"] for e in health] == [0, 1, 2, 3]  # before training, then after each epoch
    document = read_health(result.run_dir)
    assert document is not None
    assert [layer["name"] for layer in document["layers"]] == ["dense_1", "value_raw"]
    assert document["layers"][0]["spec_path"] == "/network/layers/0"
    assert document["split"] == "validation" and 0 < document["rows"] <= 256
    assert [r["epoch"] for r in document["epochs"]] == [0, 1, 2, 3]
    assert document["epochs"][-1] == {k: v for k, v in health[-1].items() if k != "event"}
    first, last = document["epochs"][0]["layers"]["dense_1"], document["epochs"][-1]["layers"]["dense_1"]
    assert first["update_ratio"] is None and last["update_ratio"] > 0
    assert first["grad_norm"] > 0 and first["weight_norm"] > 0 and first["act_std"] > 0
    assert 0 <= last["dead"] <= 1 and "saturated" not in last  # ReLU: dead units; no saturation
    # The loss on the fixed batch is the validation loss Keras reported for the same epoch.
    val_loss = [e["metrics"]["val_loss"] for e in events if e["event"] == "epoch"]
    assert document["epochs"][-1]["loss"] == pytest.approx(val_loss[-1], rel=1e-4)
    # The designer's reader keeps the records; events it did not know were ignored before.
    state = TrainingState()
    for line in stream.getvalue().splitlines():
        state.feed_stdout(line)
    assert [r["epoch"] for r in state.health] == [0, 1, 2, 3]
    assert len(state.history) == 3 and state.ended
    assert layer_series(document, "dense_1", "grad_norm")[0] == first["grad_norm"]
    # The run's report shows the last epoch's figures per layer.
    from mlpdesigner.report import build_report

    page = build_report(result.run_dir)
    assert "<td>dense_1 (relu)</td>" in page and "<th>grad_norm</th>" in page and "epoch 3, on" in page


def test_activation_is_found_after_a_linear_dense_layer() -> None:
    spec = load_spec(example_path("leaky_relu_he_maxnorm"))
    layers = health_layers(spec.checked()[1])
    hidden = [layer for layer in layers if layer.role == "hidden"]
    assert [(layer.activation, layer.activation_layer) for layer in hidden] == [
        ("leaky_relu", "activation_1"), ("leaky_relu", "activation_2")]
    assert hidden[0].activation_path == "/network/layers/1/activation"


# --------------------------------------------------------------------------- advice from real runs


def test_deep_sigmoid_network_vanishes_and_he_elu_does_not(data: Path, tmp_path: Path) -> None:
    """20 sigmoid layers with Glorot init: the first layers get ~1e-12 of the last layer's gradient."""
    vanishing = train(deep_spec(data, "sigmoid", "glorot_uniform"), out=tmp_path / "sigmoid")
    document = read_health(vanishing.run_dir)
    record = document["epochs"][1]["layers"]
    assert record["dense_1"]["grad_norm"] < 1e-6 * record["value_raw"]["grad_norm"]
    spec = load_spec(vanishing.run_dir / "spec.json")
    problems = health_advice(document, spec)
    assert codes(problems) == ["H601"]
    assert problems[0].path == "/network/layers/0"
    assert "dense_1 … " in problems[0].message and "smaller than" in problems[0].message
    assert "He initialization" in problems[0].message

    healthy = train(deep_spec(data, "elu", "he_normal"), out=tmp_path / "elu")
    record = read_health(healthy.run_dir)["epochs"][1]["layers"]
    assert record["dense_1"]["grad_norm"] > 1e-2 * record["value_raw"]["grad_norm"]
    assert health_advice(read_health(healthy.run_dir), load_spec(healthy.run_dir / "spec.json")) == []

    # The fix makes the design the healthy one: He initialization and ELU in every hidden layer.
    fixed = copy.deepcopy(spec.raw)
    apply_patch(fixed, list(problems[0].fix))
    assert all(layer["activation"] == "elu" and layer["kernel_initializer"] == "he_normal"
               for layer in fixed["network"]["layers"])
    assert not [p for p in load_spec(fixed).problems if p.is_error]


def test_negative_bias_kills_relu_units(data: Path) -> None:
    from mlpdesigner.train.runner import fit_model, prepare

    spec = spec_dict(data, *REGRESSION, epochs=2)
    spec["network"]["layers"] = [{"type": "dense", "units": 16, "activation": "relu", "kernel_initializer": "he_normal"}
                                 for _ in range(2)]
    prepared = prepare(spec)
    for name in ("dense_1", "dense_2"):
        layer = prepared.model.get_layer(name)
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, np.full_like(bias, -10.0)])  # a large negative bias initializer
    health = next(c for c in prepared.callbacks if type(c).__name__ == "LayerHealth")
    fit_model(prepared.model, prepared.dataset, prepared.settings, prepared.callbacks)
    document = health_document(health.layers, health.records, health.split, health.rows)
    assert document["epochs"][-1]["layers"]["dense_1"]["dead"] == 1.0
    problems = health_advice(document, prepared.spec)
    assert codes(problems) == ["H603", "H603"]
    assert [p.path for p in problems] == ["/network/layers/0", "/network/layers/1"]
    assert "100% of the units of dense_1" in problems[0].message
    fixed = copy.deepcopy(prepared.spec.raw)
    apply_patch(fixed, list(problems[0].fix))
    assert fixed["network"]["layers"][0] == {"type": "dense", "units": 16, "activation": "leaky_relu",
                                                   "kernel_initializer": "he_normal", "bias_initializer": "zeros"}


def test_train_command_prints_health_advice(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = spec_dict(data, *REGRESSION, epochs=2)
    spec["network"]["layers"] = [{"type": "dense", "units": 8, "activation": "relu", "kernel_initializer": "zeros"}]
    path = tmp_path / "dead.json"
    path.write_text(json.dumps(spec), "utf-8")
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--progress", "none"]) == 0
    err = capsys.readouterr().err
    assert "health: warning H603 /network/layers/0: Dead ReLUs: 100% of the units of dense_1" in err
    assert "  fix: Use He initialization, zero biases and LeakyReLU in dense_1" in err


def synthetic_data(spec: dict[str, Any], folder: Path, rows: int = 400) -> Path:
    """An .npz file of learnable made-up data for a starter design that ships without data."""
    rng = np.random.default_rng(0)
    arrays: dict[str, np.ndarray] = {}
    for inp in spec["inputs"]:
        arrays[inp["name"]] = rng.normal(size=(rows, *inp["shape"])).astype("float32")
    signal = np.concatenate([a.reshape(rows, -1) for a in arrays.values()], axis=1)
    for out in spec["outputs"]:
        units = out["units"]
        score = signal @ rng.normal(size=(signal.shape[1], units)) / math.sqrt(signal.shape[1])
        if out["task"] == "multiclass":
            arrays[out["name"]] = score.argmax(axis=1)
        elif out["task"] in ("binary", "multilabel"):
            arrays[out["name"]] = (score > 0).astype("int64")
        elif "range" in out:
            low, high = out["range"]["low"], out["range"]["high"]
            arrays[out["name"]] = (low + (high - low) / (1 + np.exp(-score))).astype("float32")
        else:
            arrays[out["name"]] = np.abs(score).astype("float32") + 0.1
    path = folder / "synthetic.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("name", example_names())
def test_no_false_alarm_on_a_starter(name: str, tmp_path: Path) -> None:
    """Every bundled starter design trains a few epochs without health advice (on its data, or made-up data)."""
    spec = load_spec(example_path(name))
    raw = copy.deepcopy(spec.raw)
    if "data" not in raw or not Path(spec.checked()[0]["data"]["path"]).is_file():
        from tests._export_support import with_data

        raw = with_data(raw, str(synthetic_data(raw, tmp_path)))
    else:
        raw["data"]["path"] = str(spec.checked()[0]["data"]["path"])
    result = train(load_spec(raw), out=tmp_path / "run", epochs=4)
    document = read_health(result.run_dir)
    assert document is not None and len(document["epochs"]) == 5
    assert health_advice(document, load_spec(result.run_dir / "spec.json")) == [], name


# --------------------------------------------------------------------------- advice from made-up records


def record(epoch: int, **layers: dict[str, Any]) -> dict[str, Any]:
    norm = math.sqrt(sum((f.get("grad_norm") or 0) ** 2 for f in layers.values()))
    return {"epoch": epoch, "loss": 1.0, "global_grad_norm": norm, "layers": layers}


LAYERS = [
    {"name": "dense_1", "spec_path": "/network/layers/0", "role": "hidden", "activation": "tanh",
     "activation_path": "/network/layers/0/activation", "units": 8},
    {"name": "out", "spec_path": "/outputs/0", "role": "output", "activation": "linear",
     "activation_path": "/outputs/0/activation", "units": 1},
]


def document_of(*records: dict[str, Any]) -> dict[str, Any]:
    return {"format": "mlpdesigner-health/1", "split": "validation", "rows": 10, "layers": LAYERS,
            "epochs": list(records)}


def tanh_spec() -> Any:
    return load_spec({
        "format": "mlpdesigner/1", "name": "t",
        "inputs": [{"name": "x", "shape": [3]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 8, "activation": "tanh"}]},
        "outputs": [{"name": "out", "task": "regression", "units": 1}],
    })


def test_exploding_gradients_are_flagged_with_a_learning_rate_fix() -> None:
    growing = document_of(record(0, dense_1={"grad_norm": 1.0}, out={"grad_norm": 1.0}),
                          record(1, dense_1={"grad_norm": 5e3}, out={"grad_norm": 2.0}),
                          record(2, dense_1={"grad_norm": 8e3}, out={"grad_norm": 3.0}))
    problems = health_advice(growing, tanh_spec())
    assert codes(problems) == ["H602"]
    assert "Exploding gradients" in problems[0].message and "lower the learning rate" in problems[0].message
    fixed = copy.deepcopy(tanh_spec().raw)
    apply_patch(fixed, list(problems[0].fix))
    assert fixed["training"]["optimizer"] == {"learning_rate": pytest.approx(0.0001), "clipnorm": 1.0}
    assert not [p for p in load_spec(fixed).problems if p.is_error]
    steady = document_of(record(0, dense_1={"grad_norm": 1.0}, out={"grad_norm": 1.0}),
                         record(1, dense_1={"grad_norm": 2.0}, out={"grad_norm": 1.0}))
    assert health_advice(steady, tanh_spec()) == []


def test_saturated_units_are_flagged_and_output_heads_are_not() -> None:
    saturated = document_of(record(0, dense_1={"grad_norm": 1.0, "saturated": 0.1}, out={"grad_norm": 1.0}),
                            record(1, dense_1={"grad_norm": 1.0, "saturated": 0.75}, out={"grad_norm": 1.0}))
    problems = health_advice(saturated, tanh_spec())
    assert codes(problems) == ["H604"]
    assert "75% of the units of dense_1" in problems[0].message and "batch normalization" in problems[0].message
    fixed = copy.deepcopy(tanh_spec().raw)
    apply_patch(fixed, list(problems[0].fix))
    assert fixed["network"]["layers"][0]["activation"] == "elu"
    head = copy.deepcopy(saturated)
    head["layers"] = [LAYERS[0] | {"role": "output"}, LAYERS[1]]  # a confident sigmoid output is not a fault
    assert health_advice(head) == []


def test_damaged_health_file_names_the_file(tmp_path: Path) -> None:
    assert read_health(tmp_path) is None  # older runs have none
    (tmp_path / HEALTH_FILE).write_text("{not json", "utf-8")
    with pytest.raises(UserError, match=r"health\.json: cannot read the layer health record"):
        read_health(tmp_path)
    (tmp_path / HEALTH_FILE).write_text(json.dumps({"format": "mlpdesigner-health/1", "layers": [], "epochs": [3]}))
    with pytest.raises(UserError, match=r"/epochs/0: Expected an object with a layers object"):
        read_health(tmp_path)
    shutil.rmtree(tmp_path)


def test_a_measurement_that_fails_leaves_training_alone(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from mlpdesigner.train import health_callback

    def broken_build(self: Any) -> None:
        def measure(x: Any, y: Any) -> Any:
            raise ValueError("cannot trace this model")

        self._measure, self._built_for = measure, self.model

    monkeypatch.setattr(health_callback.LayerHealth, "_build", broken_build)
    result = train(spec_dict(data, *REGRESSION, epochs=2), out=tmp_path / "run")
    assert result.status == "completed" and len(result.history) == 2
    assert "warning: layer health is not recorded: ValueError: cannot trace this model" in capsys.readouterr().err
    assert read_health(result.run_dir) is None
