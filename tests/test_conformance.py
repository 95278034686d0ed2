"""Every starter design compiles to the model its hand-written reference describes.

The references describe the network. Preprocessing that the compiler adds around it is
left out of the comparison (issue 13 made it the default): the Normalization layer that
standardizes an input, and the Rescaling layer that maps a regression head's unit-scale
output back to the data's units (its dense layer is then named ``<output>_raw``).
Parameter counts compare the network's; the preprocessing layers hold only statistics
(non-trainable) and are checked by the tests at the end of this file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlpdesigner import build_model, load_spec, summarize
from mlpdesigner.resources import example_names, example_path

keras = pytest.importorskip("keras")
reference_models = pytest.importorskip("reference_models")

NAMES = sorted(reference_models.EXPECTED)


def _essential(layer: keras.layers.Layer) -> dict:
    """The config keys that define what a layer computes (not its name)."""
    config = layer.get_config()
    keep = {
        "units",
        "activation",
        "use_bias",
        "rate",
        "negative_slope",
        "alpha",
        "momentum",
        "epsilon",
        "center",
        "scale",
        "axis",
    }
    out = {k: config[k] for k in keep if k in config}
    for key in ("kernel_initializer", "bias_initializer"):
        if key in config:
            out[key] = config[key]["class_name"]
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint"):
        if key in config:
            value = config[key]
            out[key] = None if value is None else (value["class_name"], value["config"])
    return out


def _output_names(model: keras.Model) -> list[str]:
    names = getattr(model, "output_names", None)
    return list(names) if names else [model.layers[-1].name]


def _preprocessing(name: str) -> set[str]:
    """Names of the layers of a starter design that standardize an input or scale a regression target."""
    plan = load_spec(example_path(name)).plan
    return {
        node.name
        for node in plan.nodes
        if node.kind == "normalization" or (node.kind == "rescaling" and node.config.get("target_scaling"))
    }


def _layers(model: keras.Model, skip: set[str] = frozenset()) -> list[keras.layers.Layer]:
    return [
        layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer) and layer.name not in skip
    ]


def test_every_reference_has_an_example() -> None:
    assert set(NAMES) <= set(example_names())


@pytest.fixture(scope="module", params=NAMES)
def pair(request: pytest.FixtureRequest) -> tuple[str, keras.Model, keras.Model]:
    name = request.param
    reference = reference_models.REFERENCES[name]()
    compiled = build_model(example_path(name))
    return name, reference, compiled


def test_inputs_and_outputs_match(pair) -> None:
    _, reference, compiled = pair
    assert [t.name for t in compiled.inputs] == [t.name for t in reference.inputs]
    assert [tuple(t.shape) for t in compiled.inputs] == [tuple(t.shape) for t in reference.inputs]
    assert _output_names(compiled) == _output_names(reference)
    assert [tuple(t.shape) for t in compiled.outputs] == [tuple(t.shape) for t in reference.outputs]


def test_parameter_counts_match(pair) -> None:
    name, reference, compiled = pair
    total, trainable = reference_models.EXPECTED[name]
    assert reference.count_params() == total
    assert sum(layer.count_params() for layer in _layers(compiled, _preprocessing(name))) == total
    assert sum(int(np.prod(w.shape)) for w in compiled.trainable_weights) == trainable


def test_layer_classes_and_configs_match(pair) -> None:
    name, reference, compiled = pair
    ours, theirs = _layers(compiled, _preprocessing(name)), _layers(reference)
    assert [type(layer).__name__ for layer in ours] == [type(layer).__name__ for layer in theirs]
    for mine, ref in zip(ours, theirs):
        assert _essential(mine) == _essential(ref), mine.name


def test_losses_match(pair) -> None:
    name, _, compiled = pair
    loss = compiled.loss
    losses = [loss[n] for n in _output_names(compiled)] if isinstance(loss, dict) else [loss]
    assert losses == reference_models.LOSSES[name]


def test_predictions_match_with_reference_weights(pair) -> None:
    name, reference, compiled = pair
    ours, theirs = _layers(compiled, _preprocessing(name)), _layers(reference)
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        mine.set_weights(ref.get_weights())
    rng = np.random.default_rng(0)
    batch = [rng.normal(size=(64, *t.shape[1:])).astype("float32") for t in reference.inputs]
    want = reference(batch[0] if isinstance(reference, keras.Sequential) else batch, training=False)
    got = compiled(batch[0] if isinstance(compiled, keras.Sequential) else batch, training=False)
    want = want if isinstance(want, (list, tuple)) else [want]
    got = got if isinstance(got, (list, tuple)) else [got]
    for a, b in zip(got, want):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) <= 1e-6


@pytest.mark.parametrize("name", example_names())
def test_pure_python_summary_agrees_with_keras(name: str) -> None:
    spec = load_spec(example_path(name))
    summary = summarize(spec)
    model = build_model(spec, compile=False)
    assert summary.total_params == model.count_params()
    assert summary.trainable_params == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    inputs = {t.name: tuple(t.shape) for t in model.inputs}
    for row in summary.layers:
        if row.keras_class == "InputLayer":
            assert inputs[row.name] == tuple(row.output_shape)
            continue
        layer = model.get_layer(row.name)
        assert row.params == layer.count_params(), row.name
        assert tuple(row.output_shape) == tuple(layer.output.shape), row.name
        assert row.keras_class == type(layer).__name__


def test_normalized_input_counts_and_statistics() -> None:
    spec = json.loads(example_path("housing_regression").read_text())
    spec["inputs"][0]["normalize"] = True
    summary = summarize(spec)
    mean = np.arange(8, dtype="float32")
    variance = np.full(8, 4.0, dtype="float32")
    model = build_model(spec, normalization={"features": (mean, variance)})
    assert summary.total_params == model.count_params() == 301 + 17
    assert summary.non_trainable_params == 17
    layer = model.get_layer("features_normalization")
    out = layer(np.ones((1, 8), dtype="float32"))
    np.testing.assert_allclose(np.asarray(out)[0], (1 - mean) / 2, rtol=1e-6)


def test_bounded_range_is_scaled() -> None:
    spec = json.loads(example_path("positive_and_bounded_regression").read_text())
    spec["outputs"][1]["range"] = {"low": 10, "high": 20, "squash": "tanh"}
    model = build_model(spec, compile=False)
    assert summarize(spec).total_params == model.count_params()
    x = np.random.default_rng(1).normal(size=(256, 10)).astype("float32") * 100
    share = np.asarray(model(x)[1])
    assert share.min() >= 10 and share.max() <= 20
    assert _output_names(model) == ["duration", "share"]


def test_same_seed_gives_same_weights() -> None:
    path = example_path("housing_regression")
    first = build_model(path).get_weights()
    second = build_model(path).get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
