"""The data tab's logic without Qt: reading the table, guessing tasks, mapping edits, advice, paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlpdesigner.data.checks import (
    TaskGuess,
    data_advice,
    data_file_ops,
    head_matches,
    head_ops,
    infer_task,
    mapping_ops,
    relative_data_path,
)
from mlpdesigner.spec import analyze, apply_patch

FRAME = pd.DataFrame({
    "id": range(100),
    "x1": [i * 0.37 % 5 for i in range(100)],
    "x2": [1.0] * 100,
    "city": ["a", "b"] * 50,
    "hole": [None if i == 7 else i for i in range(100)],
    "label": ["yes"] * 90 + ["no"] * 10,
    "kind": [i % 3 for i in range(100)],
    "price": [i * 1.5 + 0.25 for i in range(100)],
})


def test_infer_task_from_targets() -> None:
    assert infer_task(FRAME, ["label"]) == TaskGuess("binary", 1, ["no", "yes"], "two distinct labels")
    guess = infer_task(FRAME, ["kind"])
    assert guess.task == "multiclass" and guess.units == 3 and guess.classes == ["0", "1", "2"]
    assert infer_task(FRAME, ["price"]).task == "regression"
    ml = pd.DataFrame({"a": [0, 1, 1], "b": [1, 0, 1]})
    assert infer_task(ml, ["a", "b"]) == TaskGuess("multilabel", 2, ["a", "b"], "every column holds only 0 and 1")
    assert infer_task(FRAME, ["price", "x1"]).task == "regression"
    assert infer_task(FRAME, ["nope"]) is None


def _raw() -> dict:
    return {
        "format": "mlpdesigner/1", "name": "net",
        "inputs": [{"name": "features", "shape": [2]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4}]},
        "outputs": [{"name": "target", "task": "regression", "units": 1}],
    }


def test_mapping_edits_keep_the_spec_valid_and_undo() -> None:
    raw = _raw()
    before = json.loads(json.dumps(raw))
    inverse_file = apply_patch(raw, data_file_ops(raw, "data.csv"))
    assert raw["data"] == {"path": "data.csv", "columns": {}}
    inverse_a = apply_patch(raw, mapping_ops(raw, "features", ["x1", "city", "hole"]))
    assert raw["inputs"][0]["shape"] == [3]
    inverse_b = apply_patch(raw, mapping_ops(raw, "target", ["label"]))
    guess = infer_task(FRAME, ["label"])
    assert not head_matches(raw["outputs"][0], guess)
    inverse_c = apply_patch(raw, head_ops(raw, 0, guess))
    assert raw["outputs"][0]["task"] == "binary" and head_matches(raw["outputs"][0], guess)
    spec = analyze(raw)
    assert spec.ok, [p.message for p in spec.problems if p.is_error]
    for inverse in (inverse_c, inverse_b, inverse_a, inverse_file):
        apply_patch(raw, inverse)
    assert raw == before


def test_head_ops_for_multiclass_sets_units_and_classes() -> None:
    raw = _raw()
    ops = head_ops(raw, 0, infer_task(FRAME, ["kind"]))
    apply_patch(raw, ops)
    assert raw["outputs"][0]["task"] == "multiclass"
    assert raw["outputs"][0]["units"] == 3 and raw["outputs"][0]["classes"] == ["0", "1", "2"]
    assert head_ops(raw, 0, infer_task(FRAME, ["kind"])) == []


def test_data_advice_names_each_problem() -> None:
    raw = _raw()
    apply_patch(raw, data_file_ops(raw, "data.csv"))
    apply_patch(raw, mapping_ops(raw, "features", ["id", "x1"]))
    apply_patch(raw, mapping_ops(raw, "target", ["label"]))
    apply_patch(raw, head_ops(raw, 0, infer_task(FRAME, ["label"])))
    advice = {(a.kind, a.column): a for a in data_advice(FRAME, raw)}
    assert ("missing", "hole") in advice and "1 missing value" in advice[("missing", "hole")].message
    assert ("constant", "x2") in advice
    assert ("non_numeric", "city") in advice
    assert ("id_column", "id") in advice and advice[("id_column", "id")].message.startswith("Input column 'id'")
    assert ("id_column", "price") not in advice  # unique, but not counting up one by one
    imbalance = advice[("imbalance", "label")]
    assert "'no' has 10 rows (10.0%)" in imbalance.message and "balanced" in imbalance.message
    apply_patch(raw, imbalance.fix)
    assert raw["training"] == {"class_weight": "balanced"}
    assert analyze(raw).ok
    again = [a for a in data_advice(FRAME, raw) if a.kind == "imbalance"]
    assert again and not again[0].fix


def test_relative_data_path(tmp_path) -> None:
    (tmp_path / "specs").mkdir()
    data = tmp_path / "data" / "d.csv"
    assert relative_data_path(data, tmp_path / "specs" / "a.json") == "../data/d.csv"
    assert relative_data_path(data, None) == data.resolve().as_posix()


def test_scale_advice_offers_normalize_for_raw_features() -> None:
    import json

    from mlpdesigner.data.checks import read_table
    from mlpdesigner.resources import data_path, example_path
    from mlpdesigner.spec import apply_patch, validate_spec

    raw = json.loads(example_path("housing_regression").read_text())
    frame = read_table(data_path("resources", "datasets", "housing.csv"))
    assert not [a for a in data_advice(frame, raw) if a.kind == "scale"]  # standardized by default (issue 13)
    raw["inputs"][0]["normalize"] = False
    scale = [a for a in data_advice(frame, raw) if a.kind == "scale"]
    assert len(scale) == 1 and "normalize" in scale[0].message and scale[0].column == "Population"
    apply_patch(raw, scale[0].fix)
    assert raw["inputs"][0]["normalize"] is True
    assert not any(p.is_error for p in validate_spec(raw))
    assert not [a for a in data_advice(frame, raw) if a.kind == "scale"]


# ------------------------------------------------------------ one reader, one label format, one path rule


def test_training_and_the_data_tab_read_a_csv_the_same_way(tmp_path: Path) -> None:
    from mlpdesigner.data.checks import read_table
    from mlpdesigner.data.table import read_csv_table
    from mlpdesigner.errors import UserError

    file = tmp_path / "d.tsv"
    file.write_text("a\tb\n1\t2\n\n3\t4\n")
    table = read_csv_table(file)
    assert table.frame.to_dict("list") == {"a": [1, 3], "b": [2, 4]} and table.lines.tolist() == [2, 4]
    assert read_table(file).to_dict("list") == {"a": [1, 3], "b": [2, 4]}
    empty = tmp_path / "e.csv"
    empty.write_text("")
    for reader in (read_csv_table, read_table):
        with pytest.raises(UserError, match=r"e\.csv: the data file is empty\. Expected a header line"):
            reader(empty)


def test_one_label_format() -> None:
    from mlpdesigner.data.table import label_text

    assert [label_text(v) for v in (2.0, np.float64(3.0), np.int64(4), 2.5, "yes", np.bool_(True))] == [
        "2", "3", "4", "2.5", "yes", "True"]
    guess = infer_task(pd.DataFrame({"y": [1.0, 2.0, 1.0, 3.0]}), ["y"])
    assert guess is not None and guess.classes == ["1", "2", "3"]


def test_paths_in_a_spec_are_relative_with_forward_slashes(tmp_path: Path) -> None:
    from mlpdesigner.spec.paths import relative_path, resolve_path

    data = tmp_path / "data" / "d.csv"
    assert relative_path(data, tmp_path / "runs" / "r1") == "../../data/d.csv"
    assert resolve_path("../../data/d.csv", tmp_path / "runs" / "r1") == data.resolve()
    assert resolve_path(str(data), tmp_path / "elsewhere") == data.resolve()
