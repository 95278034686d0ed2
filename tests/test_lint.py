"""Design advice: each rule fires where the classic craft says so, and its fix clears it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest

from mlpdesigner.resources import example_path
from mlpdesigner.spec import apply_patch, validate_spec


def _example(name: str) -> dict:
    return json.loads(example_path(name).read_text())


def _housing_stack(layers: list[dict]) -> dict:
    spec = _example("housing_regression")
    spec["network"]["layers"] = layers
    return spec


def _edit(name: str, change: Callable[[dict], None]) -> dict:
    spec = _example(name)
    change(spec)
    return spec


CASES = {
    "softmax-one-unit": (
        _edit("housing_regression", lambda s: s["outputs"][0].update(task="multilabel", activation="softmax")),
        "W401",
        "/outputs/0/activation",
    ),
    "activation-vs-task": (
        _edit("binary_batchnorm_dropout", lambda s: s["outputs"][0].update(activation="linear")),
        "W402",
        "/outputs/0/activation",
    ),
    "loss-vs-task": (
        _edit("binary_batchnorm_dropout", lambda s: s["outputs"][0].update(loss="mse")),
        "W403",
        "/outputs/0/loss",
    ),
    "sparse-loss-one-hot": (
        _edit("selu_self_normalizing", lambda s: s["outputs"][0].update(loss="sparse_categorical_crossentropy")),
        "W403",
        "/outputs/0/loss",
    ),
    "vanishing-gradients": (
        _housing_stack(
            [{"type": "dense", "units": 30, "activation": "sigmoid", "kernel_initializer": "he_normal"}] * 4
        ),
        "W404",
        "/network/layers/0/activation",
    ),
    "relu-glorot": (
        _housing_stack([{"type": "dense", "units": 30, "activation": "relu"}]),
        "W405",
        "/network/layers/0/kernel_initializer",
    ),
    "relu-glorot-separate-activation": (
        _housing_stack([{"type": "dense", "units": 30}, {"type": "activation", "activation": "leaky_relu"}]),
        "W405",
        "/network/layers/0/kernel_initializer",
    ),
    "selu-init": (
        _housing_stack([{"type": "dense", "units": 30, "activation": "selu"}]),
        "W406",
        "/network/layers/0/kernel_initializer",
    ),
    "selu-dropout": (
        _housing_stack(
            [
                {"type": "dense", "units": 30, "activation": "selu", "kernel_initializer": "lecun_normal"},
                {"type": "dropout", "rate": 0.1},
                {"type": "dense", "units": 30, "activation": "selu", "kernel_initializer": "lecun_normal"},
            ]
        ),
        "W406",
        "/network/layers/1/type",
    ),
    "selu-batchnorm": (
        _housing_stack(
            [
                {"type": "dense", "units": 30, "activation": "selu", "kernel_initializer": "lecun_normal"},
                {"type": "batch_normalization"},
            ]
        ),
        "W406",
        "/network/layers/1",
    ),
    "dropout-before-output": (
        _housing_stack(
            [
                {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal"},
                {"type": "dropout", "rate": 0.5},
            ]
        ),
        "W407",
        "/network/layers/1",
    ),
    "bias-before-batchnorm": (
        _housing_stack(
            [
                {"type": "dense", "units": 30, "kernel_initializer": "he_normal"},
                {"type": "batch_normalization"},
                {"type": "activation", "activation": "relu"},
            ]
        ),
        "W408",
        "/network/layers/0/use_bias",
    ),
    "softmax-hidden": (
        _housing_stack([{"type": "dense", "units": 30, "activation": "softmax"}]),
        "W409",
        "/network/layers/0/activation",
    ),
    "softmax-hidden-activation-layer": (
        _housing_stack([{"type": "dense", "units": 30, "kernel_initializer": "he_normal"},
                        {"type": "activation", "activation": "softmax"}]),
        "W409",
        "/network/layers/1/activation",
    ),
    "dropout-too-high": (
        _housing_stack(
            [
                {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal"},
                {"type": "dropout", "rate": 0.9},
                {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal"},
            ]
        ),
        "W410",
        "/network/layers/1/rate",
    ),
    "adam-learning-rate": (
        _edit("housing_regression", lambda s: s["training"]["optimizer"].update(learning_rate=1)),
        "W411",
        "/training/optimizer/learning_rate",
    ),
    "batchnorm-repeated": (
        _housing_stack(
            [
                {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal"},
                {"type": "batch_normalization"},
                {"type": "batch_normalization"},
            ]
        ),
        "W412",
        "/network/layers/2",
    ),
    "linear-repeat": (
        _housing_stack([{"type": "dense", "units": 30, "repeat": 3, "kernel_initializer": "he_normal"},
                        {"type": "activation", "activation": "relu"}]),
        "W414",
        "/network/layers/0/activation",
    ),
    "vanishing-counts-repeats": (
        _housing_stack([{"type": "dense", "units": 30, "activation": "sigmoid", "kernel_initializer": "he_normal",
                         "repeat": 3}]),
        "W404",
        "/network/layers/0/activation",
    ),
}


def test_sgd_may_use_a_learning_rate_of_one_and_moderate_dropout_is_fine() -> None:
    spec = _edit("housing_regression", lambda s: s["training"]["optimizer"].update(name="sgd", learning_rate=1))
    spec["network"]["layers"].insert(0, {"type": "dropout", "rate": 0.5})
    assert not [p for p in validate_spec(spec) if p.code in ("W410", "W411")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_fires_and_fix_clears_it(case: str) -> None:
    spec, code, path = CASES[case]
    found = [p for p in validate_spec(spec) if p.code == code and p.path == path]
    assert found, [(p.code, p.path) for p in validate_spec(spec)]
    problem = found[0]
    assert problem.severity == "warning"
    assert problem.fix and problem.fix_title
    fixed = copy.deepcopy(spec)
    apply_patch(fixed, list(problem.fix))
    after = validate_spec(fixed)
    assert not any(p.code == code and p.path == path for p in after)
    assert not any(p.is_error for p in after)


def test_size_advice_is_info() -> None:
    spec = _housing_stack(
        [{"type": "dense", "units": 500, "activation": "relu", "kernel_initializer": "he_normal"}] * 6
    )
    problems = validate_spec(spec)
    assert any(p.code == "I501" and p.severity == "info" for p in problems)
    assert any(p.code == "I502" and p.path == "/network/layers/0/units" for p in problems)


@pytest.mark.parametrize(
    "name", ["housing_regression", "binary_batchnorm_dropout", "multilabel_elu_l2", "leaky_relu_he_maxnorm"]
)
def test_well_designed_examples_get_no_advice(name: str) -> None:
    assert validate_spec(example_path(name)) == []


def test_glorot_is_fine_for_tanh() -> None:
    spec = _housing_stack([{"type": "dense", "units": 30, "activation": "tanh"}] * 3)
    assert not [p for p in validate_spec(spec) if p.code in ("W404", "W405")]


def test_depth_advice_counts_repeats() -> None:
    """One dense layer repeated 6 times is six layers deep (I501); repeated 5 times it is within 1 to 5."""
    layer = {"type": "dense", "units": 30, "activation": "relu", "kernel_initializer": "he_normal", "repeat": 6}
    deep = [p for p in validate_spec(_housing_stack([layer])) if p.code == "I501"]
    assert [p.path for p in deep] == ["/network/layers"]
    assert "6 hidden dense layers (repeats counted)" in deep[0].message
    assert not [p for p in validate_spec(_housing_stack([{**layer, "repeat": 5}])) if p.code == "I501"]
