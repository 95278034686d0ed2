"""Training data: column mapping for every task, splits, normalization statistics, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.resources import data_path, example_path
from mlpdesigner.train.data import load_dataset, read_data, split_indices

FEATURES = ["f1", "f2", "f3", "f4"]


def write_csv(path: Path, rows: int = 120, seed: int = 0) -> Path:
    """Features f1..f4 and targets for every task: value, answer (yes/no), kind (a/b/c), l1..l3, digit."""
    rng = np.random.default_rng(seed)
    lines = ["f1,f2,f3,f4,value,answer,kind,l1,l2,l3,digit,flag"]
    for i in range(rows):
        f = rng.normal(size=4)
        lines.append(
            ",".join(
                [
                    *(f"{v:.4f}" for v in f),
                    f"{f.sum():.4f}",
                    "yes" if f[0] > 0 else "no",
                    "abc"[i % 3],
                    *(str(int(v > 0)) for v in f[:3]),
                    str(i % 4),
                    str(i % 2),
                ]
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_spec(data: Path, outputs: list[dict[str, Any]], targets: dict[str, list[str]], **data_options: Any) -> dict:
    return {
        "format": "mlpdesigner/1",
        "name": "t",
        "inputs": [{"name": "features", "shape": [4], "normalize": True}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4, "activation": "relu"}]},
        "outputs": outputs,
        "training": {"epochs": 1, "seed": 7},
        "data": {"path": str(data), "columns": {"features": FEATURES, **targets}, **data_options},
    }


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "data.csv")


def test_regression_mapping_splits_and_training_statistics(csv_file: Path) -> None:
    spec = make_spec(csv_file, [{"name": "value", "task": "regression", "units": 1}], {"value": ["value"]})
    data = load_dataset(spec)
    assert {k: s.rows for k, s in data.splits.items()} == {"train": 84, "validation": 24, "test": 12}
    all_rows = np.sort(np.concatenate([s.indices for s in data.splits.values()]))
    np.testing.assert_array_equal(all_rows, np.arange(120))
    assert data.train.x["features"].dtype == np.float32 and data.train.x["features"].shape == (84, 4)
    assert data.train.y["value"].shape == (84, 1)
    np.testing.assert_allclose(data.train.y["value"][:, 0], data.train.x["features"].sum(axis=1), atol=1e-3)
    mean, variance = data.normalization["features"]
    np.testing.assert_allclose(mean, data.train.x["features"].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, data.train.x["features"].var(axis=0), rtol=1e-4)
    assert not np.allclose(mean, data.x["features"].mean(axis=0))  # training rows only
    assert data.outputs["value"].classes is None
    assert data.inputs == {"features": FEATURES}


def test_binary_two_labels_map_to_zero_one_in_sorted_order(csv_file: Path) -> None:
    spec = make_spec(csv_file, [{"name": "answer", "task": "binary", "units": 1}], {"answer": ["answer"]})
    data = load_dataset(spec)
    assert data.classes == {"answer": ["no", "yes"]}
    y = data.train.y["answer"]
    assert y.shape == (84, 1) and set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(y[:, 0], (data.train.x["features"][:, 0] > 0).astype(np.float32))


def test_binary_zero_one_labels(csv_file: Path) -> None:
    spec = make_spec(csv_file, [{"name": "flag", "task": "binary", "units": 1}], {"flag": ["flag"]})
    data = load_dataset(spec)
    assert data.classes == {"flag": ["0", "1"]}


def test_multiclass_string_labels_are_sorted_indices_and_stratified(csv_file: Path) -> None:
    spec = make_spec(csv_file, [{"name": "kind", "task": "multiclass", "units": 3}], {"kind": ["kind"]})
    data = load_dataset(spec)
    assert data.classes == {"kind": ["a", "b", "c"]}
    for split in data.splits.values():
        counts = np.bincount(split.y["kind"], minlength=3)
        assert counts.min() == counts.max()  # 40 rows of each class: equal shares in every split
    assert data.train.y["kind"].dtype == np.int32 and data.train.y["kind"].shape == (84,)


def test_multiclass_integer_labels_are_indices_and_one_hot_for_categorical_loss(csv_file: Path) -> None:
    out = {"name": "digit", "task": "multiclass", "units": 6, "loss": "categorical_crossentropy"}
    data = load_dataset(make_spec(csv_file, [out], {"digit": ["digit"]}))
    assert data.classes == {"digit": ["0", "1", "2", "3", "4", "5"]}
    y = data.train.y["digit"]
    assert y.shape == (84, 6) and np.all(y.sum(axis=1) == 1)
    assert data.outputs["digit"].one_hot
    rows = data.train.indices
    np.testing.assert_array_equal(y.argmax(axis=1), rows % 4)


def test_multiclass_from_one_hot_columns(tmp_path: Path) -> None:
    path = tmp_path / "onehot.csv"
    path.write_text(
        "a,b,red,green,blue\n"
        + "".join(f"{i},{-i},{int(i % 3 == 0)},{int(i % 3 == 1)},{int(i % 3 == 2)}\n" for i in range(30))
    )
    spec = make_spec(path, [{"name": "colour", "task": "multiclass", "units": 3}], {"colour": ["red", "green", "blue"]})
    spec["inputs"][0]["shape"] = [2]
    spec["data"]["columns"]["features"] = ["a", "b"]
    data = read_data(spec)
    assert data.classes == {"colour": ["red", "green", "blue"]}
    np.testing.assert_array_equal(data.y["colour"], np.arange(30) % 3)


def test_multilabel_columns(csv_file: Path) -> None:
    spec = make_spec(csv_file, [{"name": "tags", "task": "multilabel", "units": 3}], {"tags": ["l1", "l2", "l3"]})
    data = load_dataset(spec)
    assert data.classes == {"tags": ["l1", "l2", "l3"]}
    y = data.train.y["tags"]
    assert y.dtype == np.float32 and y.shape == (84, 3)
    np.testing.assert_array_equal(y, (data.train.x["features"][:, :3] > 0).astype(np.float32))


def test_two_input_wide_deep_on_bundled_housing() -> None:
    spec = json.loads(example_path("wide_deep_aux_output").read_text())
    spec["data"]["path"] = str(data_path("resources", "datasets", "housing.csv"))
    data = load_dataset(spec)
    assert set(data.train.x) == {"wide", "deep"}
    assert data.train.x["wide"].shape == (data.train.rows, 5) and data.train.x["deep"].shape == (data.train.rows, 6)
    np.testing.assert_array_equal(data.train.x["wide"][:, 2:], data.train.x["deep"][:, :3])  # shared columns
    np.testing.assert_array_equal(data.train.y["main"], data.train.y["aux"])
    assert data.inputs["deep"] == ["AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]


@pytest.mark.parametrize(
    "name", ["housing_regression", "binary_batchnorm_dropout", "multilabel_elu_l2", "flowers_multiclass"]
)
def test_starter_designs_point_at_bundled_data(name: str) -> None:
    data = load_dataset(example_path(name))
    assert data.train.rows > 100


def test_npz_by_input_and_output_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "d.npz"
    # 100 rows: fewer would leave a test split too small to measure (issue 13).
    np.savez(path, features=rng.normal(size=(100, 4)), kind=np.array(["x", "y"] * 50))
    spec = make_spec(path, [{"name": "kind", "task": "multiclass", "units": 2}], {"kind": ["label"]})
    data = load_dataset(spec)
    assert data.format == "npz" and data.classes == {"kind": ["x", "y"]}


def test_npz_by_column_names(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, **{c: np.arange(40.0) + i for i, c in enumerate(FEATURES)}, value=np.arange(40.0))
    spec = make_spec(path, [{"name": "value", "task": "regression", "units": 1}], {"value": ["value"]})
    data = read_data(spec)
    np.testing.assert_array_equal(data.x["features"][3], [3, 4, 5, 6])


def test_split_without_shuffle_holds_out_the_last_rows() -> None:
    parts = split_indices(10, validation_split=0.2, test_split=0.1, seed=1, shuffle=False)
    assert parts["train"].tolist() == list(range(7))
    assert parts["validation"].tolist() == [7, 8] and parts["test"].tolist() == [9]


def test_same_seed_same_split_other_seed_other_split(csv_file: Path) -> None:
    spec = make_spec(csv_file, [{"name": "value", "task": "regression", "units": 1}], {"value": ["value"]})
    first, second = load_dataset(spec), load_dataset(spec)
    np.testing.assert_array_equal(first.test.indices, second.test.indices)
    assert not np.array_equal(first.test.indices, load_dataset(spec, seed=8).test.indices)


# --------------------------------------------------------------------------- bad input


def _bad(tmp_path: Path, text: str, outputs: list[dict] | None = None, targets: dict | None = None, **opts) -> dict:
    path = tmp_path / f"bad{len(list(tmp_path.glob('bad*.csv')))}.csv"
    path.write_text(text, encoding="utf-8")
    outputs = outputs or [{"name": "value", "task": "regression", "units": 1}]
    return make_spec(path, outputs, targets or {"value": ["value"]}, **opts)


def _rows(values: list[str], header: str = "f1,f2,f3,f4,value") -> str:
    return header + "\n" + "\n".join(values) + "\n"


GOOD_ROWS = [f"{i},{i + 1},{i + 2},{i + 3},{i}" for i in range(20)]


def _cases(tmp_path: Path) -> dict[str, tuple[dict, list[str]]]:
    missing_file = make_spec(
        tmp_path / "nowhere.csv", [{"name": "value", "task": "regression", "units": 1}], {"value": ["value"]}
    )
    with_text = GOOD_ROWS[:4] + ["1,2,abc,4,5"] + GOOD_ROWS[4:]
    with_gap = GOOD_ROWS[:6] + ["1,2,,4,5", "1,nan,3,4,5"] + GOOD_ROWS[6:]
    binary = [{"name": "value", "task": "binary", "units": 1}]
    multiclass = [{"name": "value", "task": "multiclass", "units": 3}]
    return {
        "missing file": (missing_file, ["Data file not found", "nowhere.csv"]),
        "missing column": (
            _bad(tmp_path, _rows(GOOD_ROWS, "f1,f2,f3,f5,value")),
            ["'f4'", "not in the file", "'f5'", "'value'"],
        ),
        "non-numeric feature": (
            _bad(tmp_path, _rows(with_text)),
            ["row 6", "column 'f3'", "Expected a number", "'abc'"],
        ),
        "too small": (_bad(tmp_path, _rows(GOOD_ROWS[:3])), ["too few rows", "3 rows"]),
        "too many classes": (
            _bad(tmp_path, _rows([f"{i},1,2,3,{'pqrs'[i % 4]}" for i in range(20)]), multiclass),
            ["at most 3 classes", "Received: 4 classes", "'value'"],
        ),
        "missing feature values": (
            _bad(tmp_path, _rows(with_gap)),
            ["missing values", "2 rows", "row 8", "'f2' (1 row)", "'f3' (1 row)"],
        ),
        "missing target values": (
            _bad(tmp_path, _rows(GOOD_ROWS[:5] + ["1,2,3,4,"] + GOOD_ROWS[5:])),
            ["missing values", "output 'value'", "row 7", "'value' (1 row)"],
        ),
        "binary labels": (
            _bad(tmp_path, _rows([f"{i},1,2,3,{i % 3}" for i in range(20)]), binary),
            ["Expected labels 0 and 1, or exactly two distinct labels", "3 distinct labels", "'0', '1', '2'"],
        ),
    }


CASE_NAMES = [
    "missing file",
    "missing column",
    "non-numeric feature",
    "too small",
    "too many classes",
    "missing feature values",
    "missing target values",
    "binary labels",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_data_is_a_clear_user_error(tmp_path: Path, case: str) -> None:
    spec, needles = _cases(tmp_path)[case]
    with pytest.raises(UserError) as info:
        load_dataset(spec)
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bad_data_in_train_exits_2_without_a_run_folder(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, needles = _cases(tmp_path)[case]
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert main(["train", str(spec_file), "--out", str(out), "--progress", "jsonl"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and needles[0] in captured.err
    events = [json.loads(line) for line in captured.out.splitlines()]
    assert len(events) == 1 and events[0]["event"] == "error" and needles[0] in events[0]["message"]
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_data_override_needs_a_column_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = json.loads(example_path("fashion_mnist_classifier").read_text())
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    assert (
        main(["train", str(spec_file), "--data", str(write_csv(tmp_path / "d.csv")), "--out", str(tmp_path / "r")]) == 2
    )
    assert "needs a data section" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
