"""Qt-free structure operations behind the designer (issue 12): topology switches, inputs and outputs,
layer names, where subjects sit in the JSON text, and which form fields apply."""

from __future__ import annotations

import json

import pytest

from mlpdesigner.resources import example_names
from mlpdesigner.spec import analyze, dumps
from mlpdesigner.spec.operations import (
    SubjectIndex,
    add_input_ops,
    add_output_ops,
    keras_layer_names,
    remove_input_ops,
    remove_output_ops,
    rename_ops,
    set_value_ops,
    topology_ops,
)
from mlpdesigner.spec.schemaform import field_applies, fields_for, schema_at
from tests.test_operations import load
from tests.test_operations import round_trip as applied  # the spec after ops; undo restores it exactly


def test_sequential_to_wide_deep_and_back_keeps_the_layers() -> None:
    raw = load("housing_regression")
    ops, note = topology_ops(raw, "wide_deep")
    wide_deep = applied(raw, ops)
    assert wide_deep["network"] == {"topology": "wide_deep", "wide": {"inputs": ["features"]},
                                    "deep": {"inputs": ["features"], "layers": raw["network"]["layers"]}}
    assert not analyze(wide_deep).errors and "deep path" in note
    assert set_value_ops(raw, "/network/topology", "wide_deep") == ops
    back = applied(wide_deep, topology_ops(wide_deep, "sequential")[0])
    assert back == raw


def test_wide_deep_to_sequential_drops_the_wide_input_and_its_mapping() -> None:
    raw = load("wide_deep_aux_output")
    ops, note = topology_ops(raw, "sequential")
    after = applied(raw, ops)
    assert [i["name"] for i in after["inputs"]] == ["deep"]
    assert list(after["data"]["columns"]) == ["deep", "main", "aux"]
    assert after["network"] == {"topology": "sequential", "layers": raw["network"]["deep"]["layers"]}
    assert all("source" not in o for o in after["outputs"])
    assert not analyze(after).errors
    assert "'wide'" in note and "'aux'" in note


def test_inputs_added_renamed_and_removed_keep_references_and_mapping() -> None:
    raw = load("wide_deep_single_input")
    ops, ptr = add_input_ops(raw)
    added = applied(raw, ops)
    assert ptr == "/inputs/1" and added["inputs"][1] == {"name": "wide", "shape": [1]}
    assert added["network"]["wide"]["inputs"] == ["features", "wide"]
    two = load("wide_deep_two_inputs")
    renamed = applied(two, rename_ops(two, "inputs", 1, "rich"))
    assert renamed["network"]["deep"]["inputs"] == ["rich"]
    assert list(renamed["data"]["columns"]) == ["wide", "rich", "price"]  # order kept
    assert not analyze(renamed).errors
    assert set_value_ops(two, "/inputs/1/name", "rich") == rename_ops(two, "inputs", 1, "rich")
    removed = applied(two, remove_input_ops(two, 0))
    assert [i["name"] for i in removed["inputs"]] == ["deep"]
    assert removed["network"]["wide"]["inputs"] == ["deep"]  # the wide path takes the remaining input
    assert "wide" not in removed["data"]["columns"]
    assert not analyze(removed).errors


def test_outputs_added_renamed_and_removed() -> None:
    raw = load("wide_deep_aux_output")
    ops, ptr = add_output_ops(raw, auxiliary=True)
    assert applied(raw, ops)["outputs"][2] == {"name": "aux_2", "task": "regression", "units": 1,
                                               "source": "deep", "loss_weight": 0.1}
    renamed = applied(raw, rename_ops(raw, "outputs", 1, "helper"))
    assert renamed["data"]["columns"]["helper"] == ["MedHouseVal"] and "aux" not in renamed["data"]["columns"]
    removed = applied(raw, remove_output_ops(raw, 1))
    assert [o["name"] for o in removed["outputs"]] == ["main"] and "aux" not in removed["data"]["columns"]
    assert not analyze(removed).errors


@pytest.mark.parametrize("call, expected", [
    (lambda raw: add_output_ops(raw, auxiliary=True), "Expected a Wide & Deep network"),
    (lambda raw: add_input_ops(raw), "switch the topology to wide_deep first"),
    (lambda raw: remove_input_ops(raw, 0), "this is the only input"),
    (lambda raw: remove_output_ops(raw, 0), "this is the only output"),
    (lambda raw: topology_ops(raw, "tree"), "Expected topology sequential or wide_deep"),
])
def test_impossible_structure_edits_say_why(call, expected) -> None:
    with pytest.raises(ValueError, match=expected):
        call(load("housing_regression"))


@pytest.mark.parametrize("name", example_names())
def test_outline_layer_names_match_the_plan(name: str) -> None:
    raw = load(name)
    plan = analyze(raw).plan
    assert keras_layer_names(raw, plan) == keras_layer_names(raw, None)


def test_subject_index_places_layers_outputs_and_sections() -> None:
    raw = load("wide_deep_aux_output")
    text = dumps(raw)
    index = SubjectIndex(text)
    start, end = index.span("/network/deep/layers/1/units")
    assert json.loads(text[start:end]) == raw["network"]["deep"]["layers"][1]
    assert index.at(text.index('"source"')) == "/outputs/1"
    assert index.at(text.index('"epochs"')) == "/training"
    assert index.at(text.index('"training"')) == "/training"  # the key belongs to its section
    assert index.at(text.index('"name"')) == ""  # the design's own name is no subject
    broken = SubjectIndex(text[: text.index('"outputs"')])
    assert broken.span("/network/deep/layers/0") is not None and broken.span("/outputs/0") is None


def test_fields_that_apply() -> None:
    raw = load("binary_batchnorm_dropout")
    assert not field_applies(raw, "/outputs/0", "label_format")
    assert not field_applies(raw, "/outputs/0", "source")
    assert not field_applies(raw, "/training/optimizer", "momentum")
    assert not field_applies(raw, "/training/learning_rate_schedule", "decay_steps")
    raw["training"]["optimizer"]["name"] = "sgd"
    assert field_applies(raw, "/training/optimizer", "momentum")
    raw["outputs"][0]["label_format"] = "integer"  # present: shown so that it can be removed
    assert field_applies(raw, "/outputs/0", "label_format")
    rate = {f.key: f for f in fields_for(schema_at(raw, "/network/layers/2"))}["rate"]
    assert rate.range_problem(0.5) == ""
    assert rate.range_problem(1.5) == "Expected 0 ≤ rate < 1. Received: rate=1.5"
    assert rate.range_problem(-0.5) == "Expected 0 ≤ rate < 1. Received: rate=-0.5"
