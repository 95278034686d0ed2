"""JSON Patch edits apply in place and their inverses restore the exact document."""

from __future__ import annotations

import copy
import json

import pytest

from mlpdesigner.resources import example_path
from mlpdesigner.spec import EditError, apply_patch
from mlpdesigner.spec.defaults import fill_schema_defaults, task_defaults_patch


@pytest.fixture
def spec() -> dict:
    return json.loads(example_path("wide_deep_aux_output").read_text())


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "add", "path": "/network/deep/layers/1", "value": {"type": "dropout", "rate": 0.1}}],
        [{"op": "remove", "path": "/network/deep/layers/0"}],
        [{"op": "replace", "path": "/outputs/1/loss_weight", "value": 0.5}],
        [{"op": "add", "path": "/network/deep/layers/0/kernel_initializer", "value": "he_normal"}],
        [{"op": "remove", "path": "/description"}],
        [{"op": "add", "path": "/network/deep/layers/-", "value": {"type": "flatten"}}],
        [
            {"op": "remove", "path": "/network/deep/layers/1"},
            {"op": "add", "path": "/network/deep/layers/0", "value": {"type": "dense", "units": 3}},
        ],
    ],
)
def test_inverse_restores_exactly(spec: dict, ops: list) -> None:
    before = copy.deepcopy(spec)
    inverse = apply_patch(spec, ops)
    assert spec != before
    apply_patch(spec, inverse)
    assert spec == before


def test_failed_patch_changes_nothing(spec: dict) -> None:
    before = copy.deepcopy(spec)
    with pytest.raises(EditError):
        apply_patch(spec, [{"op": "remove", "path": "/description"}, {"op": "remove", "path": "/nope/x"}])
    assert spec == before


def test_defaults_fill_without_touching_the_original(spec: dict) -> None:
    before = copy.deepcopy(spec)
    filled = fill_schema_defaults(spec)
    assert spec == before
    assert filled["training"]["optimizer"]["name"] == "adam"
    assert filled["network"]["deep"]["layers"][0]["use_bias"] is True
    assert filled["outputs"][0]["source"] == "network"
    assert "early_stopping" not in filled["training"]


def test_task_change_applies_task_defaults() -> None:
    head = {"name": "y", "task": "regression", "units": 3, "loss": "huber", "positive": "softplus"}
    assert task_defaults_patch(head, "binary") == {"name": "y", "task": "binary", "units": 1}
    assert task_defaults_patch(head, "multiclass")["units"] == 3
    assert task_defaults_patch({**head, "units": 1}, "multiclass")["units"] == 2
