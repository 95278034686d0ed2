"""The data tab: choose a CSV, preview, map columns, infer the task, data advice - all undoable spec edits."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import ScriptedDialogs, close_clean, make_window, open_data_tab  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from mlpdesigner.resources import data_path  # noqa: E402


class DataDialogs(ScriptedDialogs):
    """Also answers the data-file question."""

    def __init__(self) -> None:
        super().__init__()
        self.data_files: list[str | None] = []

    def data_path(self, parent, folder):  # noqa: ANN001, ANN201
        return self.data_files.pop(0)


def flowers_without_data(tmp_path):
    """The flowers design without its data section, saved in tmp_path/specs; the CSV in tmp_path/data."""
    raw = json.loads(data_path("resources", "examples", "flowers_multiclass.json").read_text("utf-8"))
    raw.pop("data")
    raw["outputs"][0].update(task="regression", units=1)
    raw["outputs"][0].pop("classes", None)
    (tmp_path / "specs").mkdir()
    (tmp_path / "data").mkdir()
    spec = tmp_path / "specs" / "flowers.json"
    spec.write_text(json.dumps(raw), "utf-8")
    csv = tmp_path / "data" / "flowers.csv"
    csv.write_bytes(data_path("resources", "datasets", "flowers.csv").read_bytes())
    return spec, csv


def test_map_columns_infer_the_task_and_undo(qtbot, tmp_path) -> None:
    spec, csv = flowers_without_data(tmp_path)
    window = make_window(qtbot, tmp_path, file=spec)
    window.dialogs = DataDialogs()
    tab = window.data_tab
    assert "No data yet" in tab.path_label.text()
    window.dialogs.data_files.append(str(csv))
    assert tab.choose_file()
    assert tab.wait_for_read()  # the file is read on a worker thread (issue 18)
    doc = window.document
    assert doc.raw["data"] == {"path": "../data/flowers.csv", "columns": {}}
    assert tab.preview.columnCount() == 5 and tab.preview.rowCount() == 20
    assert tab.preview.horizontalHeaderItem(4).text() == "species"
    assert tab.preview.item(0, 4).text() == "versicolor"
    assert "of 600 rows" in tab.preview_caption.text()

    features = tab.feature_lists["measurements"]
    for row in range(3):
        features.item(row).setCheckState(Qt.CheckState.Checked)
    assert doc.raw["data"]["columns"]["measurements"] == ["sepal_length", "sepal_width", "petal_length"]
    assert doc.raw["inputs"][0]["shape"] == [3]  # the input's width follows its columns
    features.item(3).setCheckState(Qt.CheckState.Checked)
    assert doc.raw["inputs"][0]["shape"] == [4]

    combo = tab.target_boxes["species"]
    combo.setCurrentText("species")
    assert doc.raw["data"]["columns"]["species"] == ["species"]
    label, button = tab.guess_labels["species"], tab.head_buttons["species"]
    assert "multiclass (3 classes: setosa, versicolor, virginica)" in label.text()
    assert not button.isHidden() and "multiclass with 3 units" in button.text()
    button.click()
    output = doc.raw["outputs"][0]
    assert output["task"] == "multiclass" and output["units"] == 3
    assert output["classes"] == ["setosa", "versicolor", "virginica"]
    assert "the head matches" in tab.guess_labels["species"].text() and tab.head_buttons["species"].isHidden()
    assert doc.spec.ok, [p.message for p in doc.spec.problems if p.is_error]

    doc.undo()  # the head
    assert doc.raw["outputs"][0]["task"] == "regression"
    assert "the head is regression" in tab.guess_labels["species"].text()
    doc.undo()  # the target
    assert "species" not in doc.raw["data"]["columns"] and combo.currentText() == "(no column)"
    doc.undo()  # the fourth feature
    assert features.item(3).checkState() == Qt.CheckState.Unchecked and doc.raw["inputs"][0]["shape"] == [3]
    doc.redo()
    assert features.item(3).checkState() == Qt.CheckState.Checked
    assert window.save()
    saved = json.loads(spec.read_text("utf-8"))
    assert saved["data"]["path"] == "../data/flowers.csv"
    assert saved["data"]["columns"]["measurements"][-1] == "petal_width"
    close_clean(window)


def test_data_advice_and_its_fix(qtbot, tmp_path) -> None:
    csv = tmp_path / "patients.csv"
    rows = ["patient_id,age,site,dose,outcome"]
    for i in range(60):
        age = "" if i == 3 else str(20 + i % 37)
        rows.append(f"{1000 + i},{age},north,5,{'sick' if i % 10 == 0 else 'well'}")
    csv.write_text("\n".join(rows) + "\n", "utf-8")
    raw = {
        "format": "mlpdesigner/1", "name": "patients",
        "inputs": [{"name": "x", "shape": [1]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4}]},
        "outputs": [{"name": "y", "task": "binary", "units": 1}],
        "data": {"path": "patients.csv", "columns": {"x": ["age"], "y": ["outcome"]}},
    }
    spec = tmp_path / "patients.json"
    spec.write_text(json.dumps(raw), "utf-8")
    window = make_window(qtbot, tmp_path, file=spec)
    tab = open_data_tab(qtbot, window)  # the file is read when the Data tab is first shown (issue 18)
    found = {(a.kind, a.column) for a in tab.advice}
    assert {("missing", "age"), ("constant", "dose"), ("constant", "site"), ("non_numeric", "site"),
            ("id_column", "patient_id"), ("imbalance", "outcome")} <= found
    texts = [tab.advice_tree.topLevelItem(i).text(1) for i in range(tab.advice_tree.topLevelItemCount())]
    assert any("missing value" in t and "line 5" in t for t in texts)
    assert "the head matches" in tab.guess_labels["y"].text()
    row = next(i for i, a in enumerate(tab.advice) if a.kind == "imbalance")
    tab.advice_tree.setCurrentItem(tab.advice_tree.topLevelItem(row))
    assert tab.fix_button.isEnabled() and tab.fix_button.text() == "Use balanced class weights"
    tab.fix_button.click()
    assert window.document.raw["training"]["class_weight"] == "balanced"
    assert window.document.undo_stack.undoText() == "Use balanced class weights"
    window.document.undo()
    assert "training" not in window.document.raw
    close_clean(window)


def test_missing_or_unreadable_file_is_reported(qtbot, tmp_path) -> None:
    raw = {
        "format": "mlpdesigner/1", "name": "lost",
        "inputs": [{"name": "x", "shape": [1]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4}]},
        "outputs": [{"name": "y", "task": "regression", "units": 1}],
        "data": {"path": "nowhere.csv", "columns": {"x": ["a"], "y": ["b"]}},
    }
    spec = tmp_path / "lost.json"
    spec.write_text(json.dumps(raw), "utf-8")
    window = make_window(qtbot, tmp_path, file=spec)
    open_data_tab(qtbot, window)
    assert "Data file not found" in window.data_tab.preview_caption.text()
    assert window.data_tab.preview.rowCount() == 0 and window.data_tab.advice == []
    close_clean(window)


def test_large_files_are_read_without_blocking_the_window(qtbot, tmp_path, monkeypatch) -> None:
    import mlpdesigner.gui.data_tab as data_tab_module

    monkeypatch.setattr(data_tab_module, "BACKGROUND_READ_BYTES", 1)  # every file counts as large
    spec, csv = flowers_without_data(tmp_path)
    window = make_window(qtbot, tmp_path, file=spec)
    window.dialogs = DataDialogs()
    tab = window.data_tab
    window.dialogs.data_files.append(str(csv))
    assert tab.choose_file()
    assert tab.frame is None and tab.preview_caption.text().startswith("Reading flowers.csv")
    assert window.document.raw["data"]["path"] == "../data/flowers.csv"  # the edit did not wait for the read
    assert tab.wait_for_read()
    assert tab.frame is not None and "of 600 rows" in tab.preview_caption.text()
    assert "species" in [tab.target_boxes["species"].itemText(i) for i in range(tab.target_boxes["species"].count())]
    tab.reload()
    assert tab.wait_for_read() and tab.frame is not None
    close_clean(window)


def test_data_tab_lists_the_checks_on_the_split_data(qtbot, tmp_path) -> None:
    """The designer shows the core's split-data checks too (issue 13): a small test split, an impossible target."""
    csv = tmp_path / "visits.csv"
    rows = ["a,b,duration"] + [f"{i % 7},{(i * 3) % 11},{-2 if i == 9 else i % 5 + 1}" for i in range(80)]
    csv.write_text("\n".join(rows) + "\n", "utf-8")
    raw = {
        "format": "mlpdesigner/1", "name": "visits",
        "inputs": [{"name": "x", "shape": [2]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4, "activation": "relu"}]},
        "outputs": [{"name": "duration", "task": "regression", "units": 1, "positive": "softplus"}],
        "data": {"path": "visits.csv", "columns": {"x": ["a", "b"], "duration": ["duration"]}},
    }
    spec = tmp_path / "visits.json"
    spec.write_text(json.dumps(raw), "utf-8")
    window = make_window(qtbot, tmp_path, file=spec)
    tab = open_data_tab(qtbot, window)
    texts = [tab.advice_tree.topLevelItem(i).text(1) for i in range(tab.advice_tree.topLevelItemCount())]
    assert any(t.startswith("The test split has only 8 rows") for t in texts)
    assert any("Target column 'duration'" in t and "Received: -2" in t for t in texts)
    located = next(a for a in tab.advice if a.kind == "target_range")
    assert located.location == f"{csv.resolve()}:11, column 'duration'"
    close_clean(window)
