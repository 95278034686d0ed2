"""Every edit kind in the designer window, and its undo and redo restoring the exact spec."""

from __future__ import annotations

import copy
import json

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window, snapshot  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QLineEdit, QSpinBox  # noqa: E402

from mlpdesigner.gui.inspector import NumberEdit  # noqa: E402
from mlpdesigner.resources import example_path  # noqa: E402
from mlpdesigner.spec.operations import LAYER_TEMPLATES  # noqa: E402


def check_undo_redo(window, before, edit) -> None:
    """Run ``edit``; the spec must change; undo restores the exact spec and text; redo the edit."""
    edit()
    after = snapshot(window)
    assert after[0] != before[0], "the edit changed nothing"
    assert window.document.dirty
    window.document.undo()
    assert snapshot(window) == before
    window.document.redo()
    assert snapshot(window) == after
    window.document.undo()
    assert snapshot(window) == before


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path, example="wide_deep_aux_output")
    yield win
    close_clean(win)


@pytest.fixture
def window_without_data(qtbot, tmp_path):
    """The Wide & Deep starter design without its data section (it maps the bundled housing data)."""
    spec = json.loads(example_path("wide_deep_aux_output").read_text("utf-8"))
    spec.pop("data", None)
    path = tmp_path / "wide_deep_no_data.json"
    path.write_text(json.dumps(spec, indent=2), "utf-8")
    win = make_window(qtbot, tmp_path, file=path)
    yield win
    close_clean(win)


@pytest.mark.parametrize("kind", list(LAYER_TEMPLATES))
def test_add_each_layer_kind(window, kind) -> None:
    window.document.select("/network/deep/layers/0")
    before = snapshot(window)

    def edit():
        window.layers.add_actions[kind].trigger()
        assert window.document.raw["network"]["deep"]["layers"][1]["type"] == kind
        assert window.document.selection == "/network/deep/layers/1"

    check_undo_redo(window, before, edit)


def test_insert_duplicate_delete_and_move(window) -> None:
    layers = window.layers
    doc = window.document
    doc.select("/network/deep/layers/1")
    before = snapshot(window)
    check_undo_redo(window, before, layers.insert_action.trigger)
    check_undo_redo(window, before, layers.duplicate_action.trigger)
    check_undo_redo(window, before, layers.delete_action.trigger)
    doc.apply([{"op": "replace", "path": "/network/deep/layers/1/units", "value": 7}], "units")
    before = snapshot(window)
    doc.select("/network/deep/layers/1")
    check_undo_redo(window, before, layers.up_action.trigger)
    doc.select("/network/deep/layers/0")
    check_undo_redo(window, before, layers.down_action.trigger)


def test_drag_and_drop_reorders_layers(window) -> None:
    doc = window.document
    doc.apply(window.layers.document.raw and [{"op": "add", "path": "/network/deep/layers/-",
                                              "value": {"type": "dropout", "rate": 0.3}}], "add")
    before = snapshot(window)
    outline = window.layers.list
    rows = [r for r in range(outline.count()) if outline.item(r).data(Qt.ItemDataRole.UserRole + 1) is not None]
    assert len(rows) == 3

    def drop_last_on_first():
        outline.request_move_to_row(rows[2], rows[0])
        kinds = [layer["type"] for layer in doc.raw["network"]["deep"]["layers"]]
        assert kinds == ["dropout", "dense", "dense"]

    check_undo_redo(window, before, drop_last_on_first)


def test_keyboard_shortcuts_on_the_outline(window, qtbot) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=3000)
    doc = window.document
    doc.select("/network/deep/layers/0")
    window.layers.list.setFocus()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.layers.list, Qt.Key.Key_D, ctrl_shift)
    assert len(doc.raw["network"]["deep"]["layers"]) == 3
    assert doc.selection == "/network/deep/layers/1"
    qtbot.keyClick(window.layers.list, Qt.Key.Key_Delete)
    assert len(doc.raw["network"]["deep"]["layers"]) == 2
    qtbot.keyClick(window.layers.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.raw["network"]["deep"]["layers"]) == 3


def test_form_edits_each_widget_kind(window) -> None:
    doc = window.document
    doc.select("/network/deep/layers/0")
    fields = window.inspector.fields
    before = snapshot(window)

    def spin():
        fields["/network/deep/layers/0/units"].setValue(64)
        assert doc.raw["network"]["deep"]["layers"][0]["units"] == 64

    def combo():
        box = window.inspector.fields["/network/deep/layers/0/kernel_initializer"]
        assert isinstance(box, QComboBox)
        box.setCurrentIndex(box.findText("he_normal"))
        assert doc.raw["network"]["deep"]["layers"][0]["kernel_initializer"] == "he_normal"

    def check():
        box = window.inspector.fields["/network/deep/layers/0/use_bias"]
        assert isinstance(box, QCheckBox)
        box.setChecked(False)
        assert doc.raw["network"]["deep"]["layers"][0]["use_bias"] is False

    def group():
        box = window.inspector.fields["/network/deep/layers/0/kernel_regularizer"]
        assert isinstance(box, QGroupBox) and box.isCheckable()
        box.setChecked(True)
        assert doc.raw["network"]["deep"]["layers"][0]["kernel_regularizer"] == {"l2": 0.01}

    def text():
        edit = window.inspector.fields["/network/deep/layers/0/name"]
        assert isinstance(edit, QLineEdit)
        edit.setText("hidden_one")
        edit.editingFinished.emit()
        assert doc.raw["network"]["deep"]["layers"][0]["name"] == "hidden_one"

    for edit in (spin, combo, check, group, text):
        check_undo_redo(window, before, edit)
    group()
    with_group = snapshot(window)

    def nested_number():
        l2 = window.inspector.fields["/network/deep/layers/0/kernel_regularizer/l2"]
        assert isinstance(l2, NumberEdit)
        assert l2.text() == "0.01"
        l2.setValue(0.005)
        assert doc.raw["network"]["deep"]["layers"][0]["kernel_regularizer"] == {"l2": 0.005}

    check_undo_redo(window, with_group, nested_number)


def test_output_task_change_applies_task_defaults(window) -> None:
    doc = window.document
    doc.select("/outputs/0")
    before = snapshot(window)

    def change_task():
        box = window.inspector.fields["/outputs/0/task"]
        box.setCurrentIndex(box.findText("multiclass"))
        assert doc.raw["outputs"][0] == {"name": "main", "task": "multiclass", "units": 2, "loss_weight": 0.9}
        assert window.inspector.fields["/outputs/0/units"].value() == 2

    check_undo_redo(window, before, change_task)


def test_training_and_data_forms(window_without_data) -> None:
    window = window_without_data
    doc = window.document
    doc.select("/training")
    before = snapshot(window)

    def epochs():
        spin = window.inspector.fields["/training/epochs"]
        assert isinstance(spin, QSpinBox) and spin.minimum() == 1
        spin.setValue(5)
        assert doc.raw["training"]["epochs"] == 5

    def early_stopping():
        window.inspector.fields["/training/early_stopping"].setChecked(True)
        assert doc.raw["training"]["early_stopping"] == {}
        assert "/training/early_stopping/patience" in window.inspector.fields

    def learning_rate():
        window.inspector.fields["/training/optimizer/learning_rate"].setValue(0.01)
        assert doc.raw["training"]["optimizer"]["learning_rate"] == 0.01

    for edit in (epochs, early_stopping, learning_rate):
        check_undo_redo(window, before, edit)
    doc.select("/data")

    def add_data():
        window.inspector.fields["/data"].click()
        assert doc.raw["data"] == {"path": "", "columns": {}}
        # issue 12: column lists are edited item by item, never parsed from comma-separated text
        columns = window.inspector.fields["/data/columns/wide"]
        columns.entry.setText("a, b")
        columns.entry.returnPressed.emit()
        assert doc.raw["data"]["columns"] == {"wide": ["a, b"]}

    add_data()
    for _ in range(2):
        doc.undo()
    assert snapshot(window) == before


def test_json_text_edit_is_undoable(window, qtbot) -> None:
    doc = window.document
    before = snapshot(window)
    text = doc.text.replace('"units": 30', '"units": 12', 1)

    def type_json():
        window.json_view.setPlainText(text)
        qtbot.waitUntil(lambda: doc.text == text, timeout=3000)
        assert doc.raw["network"]["deep"]["layers"][0]["units"] == 12

    check_undo_redo(window, before, type_json)


def test_apply_fix_is_undoable(window) -> None:
    doc = window.document
    fixable = [i for i, p in enumerate(window.problems.problems) if p.fix]
    assert fixable, "the example has W405 advice with a fix"
    before = snapshot(window)
    code = window.problems.problems[fixable[0]].code

    def apply():
        window.problems.select_row(fixable[0])
        assert window.problems.fix_button.isEnabled()
        window.problems.fix_button.click()
        assert doc.raw["network"]["deep"]["layers"][0]["kernel_initializer"] == "he_normal"
        assert sum(p.code == code for p in doc.spec.problems) == len(fixable) - 1

    check_undo_redo(window, before, apply)
    assert copy.deepcopy(doc.raw) == before[0]
