"""A value typed into a field and not yet confirmed with Enter is part of what the next command reads.

Shortcuts (Ctrl+S, F5), menus and toolbar buttons take no keyboard focus from the field, so before
this the field showed the new value while Save wrote, and Train trained, the old one.
Each test types as a person does (click, select all, type) and never presses Enter.
"""

from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import click_outline, close_clean, make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QToolBar  # noqa: E402
from test_gui_window_scenarios import housing_design, shown  # noqa: E402

CTRL = Qt.KeyboardModifier.ControlModifier


def type_without_enter(qtbot, widget, text: str) -> None:  # noqa: ANN001
    target = widget.lineEdit() if isinstance(widget, (QAbstractSpinBox, QComboBox)) else widget
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton)
    qtbot.keyClick(target, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(target, text)


def test_ctrl_s_saves_the_value_typed_in_a_field(qtbot, tmp_path) -> None:
    spec = housing_design(tmp_path / "d")
    window = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    click_outline(qtbot, window, "/network/layers/0")
    type_without_enter(qtbot, window.inspector.fields["/network/layers/0/units"], "55")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_S, CTRL)

    assert json.loads(spec.read_text("utf-8"))["network"]["layers"][0]["units"] == 55
    assert window.document.undo_stack.isClean()  # saved: closing asks nothing
    assert window.inspector.fields["/network/layers/0/units"].value() == 55
    window.undo_action.trigger()  # Edit > Undo: one step, as if Enter had been pressed
    assert window.document.raw["network"]["layers"][0]["units"] != 55
    close_clean(window)


@pytest.mark.parametrize("how", ["f5", "toolbar"])
def test_train_trains_the_value_typed_in_a_field(qtbot, tmp_path, monkeypatch, how) -> None:
    import mlpdesigner.gui.run_control as run_control

    trained: list[dict] = []

    def fake_command(spec_path, run_dir, epochs=None, init_from=None):  # noqa: ANN001, ANN202
        trained.append(json.loads(open(spec_path, encoding="utf-8").read()))
        return [sys.executable, "-c", "pass"]

    monkeypatch.setattr(run_control, "train_command", fake_command)
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d")))
    click_outline(qtbot, window, "/training")
    type_without_enter(qtbot, window.inspector.fields["/training/optimizer/learning_rate"], "0.0042")
    if how == "f5":
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F5)
    else:
        toolbar = window.findChild(QToolBar, "main_toolbar")
        qtbot.mouseClick(toolbar.widgetForAction(window.train_action), Qt.MouseButton.LeftButton)

    assert [raw["training"]["optimizer"]["learning_rate"] for raw in trained] == [0.0042]
    assert window.document.raw["training"]["optimizer"]["learning_rate"] == 0.0042
    qtbot.waitUntil(lambda: not window.train_view.training, timeout=30_000)
    close_clean(window)


def test_an_edit_by_shortcut_keeps_the_name_typed_before_it(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d")))
    click_outline(qtbot, window, "/network/layers/0")
    layers = len(window.document.raw["network"]["layers"])
    type_without_enter(qtbot, window.inspector.fields["/network/layers/0/name"], "encoder")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_D, CTRL | Qt.KeyboardModifier.ShiftModifier)  # Add dense

    raw = window.document.raw["network"]["layers"]
    assert raw[0].get("name") == "encoder" and len(raw) == layers + 1
    window.undo_action.trigger()  # the name went in first, then the layer: Undo takes the layer back
    raw = window.document.raw["network"]["layers"]
    assert raw[0].get("name") == "encoder" and len(raw) == layers
    close_clean(window)


def test_quitting_with_a_typed_value_asks_to_save_it(qtbot, tmp_path) -> None:
    spec = housing_design(tmp_path / "d")
    window = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    click_outline(qtbot, window, "/network/layers/0")
    type_without_enter(qtbot, window.inspector.fields["/network/layers/0/units"], "64")
    window.dialogs.discard_answers.append("save")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Q, CTRL)

    assert window.dialogs.asked_discard == 1
    assert json.loads(spec.read_text("utf-8"))["network"]["layers"][0]["units"] == 64
    assert not window.isVisible()


@pytest.mark.parametrize("pointer, typed", [
    ("/network/layers/0/units", "55"),  # a spin box
    ("/network/layers/0/name", "encoder"),  # a text field
    ("/training/optimizer/learning_rate", "0.5"),  # a number field
])
def test_escape_takes_back_the_typed_value_and_ctrl_s_saves_the_old_one(qtbot, tmp_path, pointer, typed) -> None:
    """Escape cancels typing, as everywhere else: the field shows the design's value again and nothing applies it.

    Before, the typed text stayed in the field after Escape, and Ctrl+S saved it.
    """
    spec = housing_design(tmp_path / "d")
    before = json.loads(spec.read_text("utf-8"))
    window = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    click_outline(qtbot, window, pointer.rsplit("/", 1)[0] if "layers" in pointer else "/training")
    field = window.inspector.fields[pointer]
    shown_before = (field.lineEdit() if isinstance(field, QAbstractSpinBox) else field).text()
    type_without_enter(qtbot, field, typed)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert (field.lineEdit() if isinstance(field, QAbstractSpinBox) else field).text() == shown_before
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_S, CTRL)

    assert json.loads(spec.read_text("utf-8")) == before
    assert window.document.undo_stack.isClean() and window.document.undo_stack.count() == 0
    close_clean(window)
