"""Qt-free edit operations and schema reading behind the designer's forms."""

from __future__ import annotations

import copy
import json

import pytest

from mlpdesigner.resources import example_path
from mlpdesigner.spec import analyze, apply_patch
from mlpdesigner.spec.operations import (
    LAYER_TEMPLATES,
    add_layer_ops,
    delete_layer_ops,
    describe_layer,
    duplicate_layer_ops,
    ensure_parents_ops,
    layers_pointer,
    move_layer_ops,
    remove_value_ops,
    set_value_ops,
    subject_pointer,
)
from mlpdesigner.spec.schemaform import fields_for, schema_at


def load(name: str) -> dict:
    return json.loads(example_path(name).read_text("utf-8"))


def round_trip(raw: dict, ops: list) -> dict:
    """Apply ops, check the result is still a valid spec, undo, and return the edited spec."""
    before = copy.deepcopy(raw)
    inverse = apply_patch(raw, ops)
    after = copy.deepcopy(raw)
    apply_patch(raw, inverse)
    assert raw == before
    return after


@pytest.mark.parametrize("kind", list(LAYER_TEMPLATES))
def test_add_each_layer_kind_gives_a_valid_spec_and_undoes_exactly(kind: str) -> None:
    raw = load("housing_regression")
    ops, ptr = add_layer_ops(raw, kind, 1)
    after = round_trip(raw, ops)
    assert ptr == "/network/layers/1"
    assert after["network"]["layers"][1]["type"] == kind
    assert not analyze(after).errors


def test_wide_deep_edits_go_to_the_deep_path() -> None:
    raw = load("wide_deep_aux_output")
    assert layers_pointer(raw) == "/network/deep/layers"
    ops, ptr = add_layer_ops(raw, "dropout")
    after = round_trip(raw, ops)
    assert ptr == "/network/deep/layers/2"
    assert after["network"]["deep"]["layers"][2] == {"type": "dropout", "rate": 0.2}


def test_duplicate_renames_named_layers_and_delete_and_move() -> None:
    raw = load("housing_regression")
    raw["network"]["layers"][0]["name"] = "hidden"
    ops, ptr = duplicate_layer_ops(raw, 0)
    after = round_trip(raw, ops)
    assert after["network"]["layers"][1]["name"] == "hidden_2"
    assert not analyze(after).errors
    apply_patch(raw, ops)
    apply_patch(raw, add_layer_ops(raw, "dropout", 0)[0])
    names = [describe_layer(layer) for layer in raw["network"]["layers"]]
    assert names == ["Dropout 0.2", "hidden: Dense 30 relu", "hidden_2: Dense 30 relu"]
    moved = round_trip(raw, move_layer_ops(raw, 0, 2)[0])
    assert [layer["type"] for layer in moved["network"]["layers"]] == ["dense", "dense", "dropout"]
    deleted = round_trip(raw, delete_layer_ops(raw, 1))
    assert len(deleted["network"]["layers"]) == 2


def test_task_change_applies_the_task_defaults() -> None:
    raw = load("housing_regression")
    raw["outputs"][0]["loss"] = "huber"
    after = round_trip(raw, set_value_ops(raw, "/outputs/0/task", "multiclass"))
    assert after["outputs"][0] == {"name": "price", "task": "multiclass", "units": 2}
    assert not analyze(after).errors


def test_layer_type_change_rewrites_the_layer_keeping_its_name() -> None:
    raw = load("housing_regression")
    raw["network"]["layers"][0]["name"] = "h1"
    after = round_trip(raw, set_value_ops(raw, "/network/layers/0/type", "dropout"))
    assert after["network"]["layers"][0] == {"type": "dropout", "rate": 0.2, "name": "h1"}


def test_setting_a_nested_value_creates_its_parents() -> None:
    raw = load("housing_regression")
    del raw["training"]
    ops = ensure_parents_ops(raw, "/training/optimizer/learning_rate")
    ops += set_value_ops(raw, "/training/optimizer/learning_rate", 0.01)
    after = round_trip(raw, ops)
    assert after["training"] == {"optimizer": {"learning_rate": 0.01}}
    assert remove_value_ops(raw, "/training/epochs") == []
    assert set_value_ops(after, "/training/optimizer/learning_rate", 0.01) == []


def test_subject_pointer() -> None:
    assert subject_pointer("/network/deep/layers/2/kernel_regularizer/l2") == "/network/deep/layers/2"
    assert subject_pointer("/outputs/1/range/low") == "/outputs/1"
    assert subject_pointer("/training/optimizer/name") == "/training"
    assert subject_pointer("/inputs/0/normalize") == "/inputs/0"
    assert subject_pointer("") == ""


def test_schema_fields_follow_refs_and_the_layer_type_branch() -> None:
    raw = load("binary_batchnorm_dropout")
    layers = raw["network"]["layers"]
    kinds = {layer["type"]: i for i, layer in enumerate(layers)}
    dense = {f.key: f for f in fields_for(schema_at(raw, f"/network/layers/{kinds['dense']}"))}
    assert dense["type"].kind == "enum" and "flatten" in dense["type"].choices
    assert dense["units"].kind == "int" and dense["units"].minimum == 1
    assert dense["activation"].kind == "enum" and dense["activation"].default == "linear"
    assert dense["use_bias"].kind == "bool"
    assert dense["kernel_regularizer"].kind == "object"
    assert "Number of neurons" in dense["units"].tooltip
    dropout = {f.key: f for f in fields_for(schema_at(raw, f"/network/layers/{kinds['dropout']}"))}
    assert set(dropout) == {"type", "name", "rate"}
    assert dropout["rate"].exclusive_maximum and dropout["rate"].maximum == 1
    training = {f.key: f for f in fields_for(schema_at(raw, "/training"))}
    assert training["steps_per_execution"].kind == "choice"
    assert training["jit_compile"].choices == ("auto", True, False)
    data = {f.key: f for f in fields_for(schema_at(raw, "/data"))}
    assert data["columns"].kind == "map"
