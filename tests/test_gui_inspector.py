"""Issue 12, the inspector: every typed value sticks, nothing is shown or parsed as container text,
bad values are refused at the field with a message, fields that do not apply are hidden, and a
field a problem points at is marked. Each test drives the real widgets with mouse and keys."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import click_outline, close_clean, make_window  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLabel, QLineEdit, QWidget  # noqa: E402

from mlpdesigner.gui.inspector import CheckList  # noqa: E402

CTRL = Qt.KeyboardModifier.ControlModifier
SCREENSHOTS = "/tmp"


@pytest.fixture
def open_window(qtbot, tmp_path):
    windows = []

    def opener(example: str):
        window = make_window(qtbot, tmp_path, example=example)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield opener
    for window in windows:
        close_clean(window)


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Click into a field, select what is there, type ``text`` and press Enter, as a person does."""
    target = widget.lineEdit() if isinstance(widget, (QAbstractSpinBox, QComboBox)) else widget
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton)
    qtbot.keyClick(target, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(target, Qt.Key.Key_Delete)
    qtbot.keyClicks(target, text)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Pick an entry of a combo box with the keyboard (focus it, type the entry's start)."""
    combo.setFocus()
    qtbot.keyClicks(combo, text)
    assert combo.currentText().startswith(text)


def field(window, ptr: str) -> QWidget:
    return window.inspector.fields[ptr]


@pytest.mark.parametrize("example, subject", [
    ("housing_regression", "/network"),
    ("wide_deep_aux_output", "/network"),
])
def test_enter_in_every_network_field_keeps_the_layers(open_window, qtbot, example, subject) -> None:
    """Item 1: no field shows the layers as dict text, and Enter in any text field destroys nothing."""
    window = open_window(example)
    click_outline(qtbot, window, subject)
    before = copy.deepcopy(window.document.raw)
    edits = window.inspector.widget().findChildren(QLineEdit)
    for edit in edits:
        assert "{" not in edit.text() and "'type'" not in edit.text()
        qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
        qtbot.keyClick(edit, Qt.Key.Key_End)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.document.raw == before
    assert window.document.spec.ok
    texts = [label.text() for label in window.inspector.widget().findChildren(QLabel)]
    assert any("2 layers — edit them in the outline" in t or "1 layer — edit them" in t for t in texts), texts
    window.inspector.widget().grab().save(f"{SCREENSHOTS}/h12a_network_{example}.png")


def test_typed_decimals_stick_where_a_default_is_shown(open_window, qtbot) -> None:
    """Item 2: momentum, weight decay, loss weight and clip norm take what is typed; unset fields
    say "not set" rather than an invented 1; a set optional value can be reset to unset."""
    window = open_window("wide_deep_aux_output")
    doc = window.document
    click_outline(qtbot, window, "/training")
    choose(qtbot, field(window, "/training/optimizer/name"), "sgd")
    assert doc.raw["training"]["optimizer"]["name"] == "sgd"
    momentum = field(window, "/training/optimizer/momentum")
    assert momentum.text() == "" and momentum.placeholderText() == "0"
    type_into(qtbot, momentum, "0.9")
    assert doc.raw["training"]["optimizer"]["momentum"] == 0.9
    clipnorm = field(window, "/training/optimizer/clipnorm")
    assert clipnorm.text() == "" and clipnorm.placeholderText() == "not set"
    type_into(qtbot, clipnorm, "0.5")
    assert doc.raw["training"]["optimizer"]["clipnorm"] == 0.5
    qtbot.mouseClick(window.inspector.resets["/training/optimizer/clipnorm"], Qt.MouseButton.LeftButton)
    assert "clipnorm" not in doc.raw["training"]["optimizer"]
    assert field(window, "/training/optimizer/clipnorm").text() == ""
    # clearing the text also unsets an optional value
    type_into(qtbot, field(window, "/training/optimizer/momentum"), "")
    assert "momentum" not in doc.raw["training"]["optimizer"]
    choose(qtbot, field(window, "/training/optimizer/name"), "adamw")
    type_into(qtbot, field(window, "/training/optimizer/weight_decay"), "0.01")
    assert doc.raw["training"]["optimizer"]["weight_decay"] == 0.01
    click_outline(qtbot, window, "/outputs/0")
    type_into(qtbot, field(window, "/outputs/0/loss_weight"), "0.5")
    assert doc.raw["outputs"][0]["loss_weight"] == 0.5
    # one undo step per typed value
    doc.undo()
    assert doc.raw["outputs"][0]["loss_weight"] == 0.9


def test_out_of_range_values_are_refused_with_a_message_at_the_field(open_window, qtbot) -> None:
    """Item 3: dropout -0.5 and 1.5, units 0 are not applied, and the field says why."""
    window = open_window("binary_batchnorm_dropout")
    doc = window.document
    click_outline(qtbot, window, "/network/layers/2")
    before = copy.deepcopy(doc.raw)
    messages = []
    for typed in ("1.5", "-0.5", "abc"):
        rate = field(window, "/network/layers/2/rate")
        type_into(qtbot, rate, typed)
        assert doc.raw == before
        mark = window.inspector.marks["/network/layers/2/rate"]
        assert mark.isVisible()
        assert mark.text().startswith("Not applied")
        assert rate.text() == "0.2"
        messages.append(mark.text())
    assert "Expected 0 ≤ rate < 1. Received: rate=1.5" in messages[0]
    assert "rate=-0.5" in messages[1] and "Expected a number for rate. Received: 'abc'" in messages[2]
    type_into(qtbot, field(window, "/network/layers/2/rate"), "0.3")
    assert doc.raw["network"]["layers"][2]["rate"] == 0.3
    assert not window.inspector.marks["/network/layers/2/rate"].isVisible()
    click_outline(qtbot, window, "/network/layers/0")
    type_into(qtbot, field(window, "/network/layers/0/units"), "0")
    assert doc.raw["network"]["layers"][0]["units"] == 64
    assert "1 ≤ units ≤ 100000" in window.inspector.marks["/network/layers/0/units"].text()
    window.inspector.widget().grab().save(f"{SCREENSHOTS}/h12a_refused.png")


def test_a_problem_marks_its_field_and_json_errors_show_there(open_window, qtbot) -> None:
    """Item 5: the field a problem points at is outlined, with the problem's message under it."""
    window = open_window("binary_batchnorm_dropout")
    doc = window.document
    text = doc.text.replace('"rate": 0.2', '"rate": 1.5', 1)
    window.json_view.setPlainText(text)
    qtbot.waitUntil(lambda: doc.text == text, timeout=3000)
    click_outline(qtbot, window, "/network/layers/2")
    rate = field(window, "/network/layers/2/rate")
    assert rate.property("problem") == "error"
    mark = window.inspector.marks["/network/layers/2/rate"]
    assert mark.isVisible() and "1.5" in mark.text()
    # advice is marked too (W405: ReLU with Glorot initialization on the Wide & Deep example)
    window2 = open_window("wide_deep_aux_output")
    click_outline(qtbot, window2, "/network/deep/layers/0")
    init = field(window2, "/network/deep/layers/0/kernel_initializer")
    assert init.property("problem") == "warning"
    assert "W405" in window2.inspector.marks["/network/deep/layers/0/kernel_initializer"].text()


def test_only_fields_that_apply_are_shown_and_task_defaults_are_named(open_window, qtbot) -> None:
    """Item 5: no label format or range on a binary head, no momentum for Adam, no decay steps for a
    constant schedule; "(task default: …)" says what the default is."""
    window = open_window("binary_batchnorm_dropout")
    click_outline(qtbot, window, "/outputs/0")
    fields = window.inspector.fields
    for hidden in ("label_format", "range", "positive", "normalize", "classes", "source"):
        assert f"/outputs/0/{hidden}" not in fields
    assert fields["/outputs/0/activation"].currentText() == "(task default: sigmoid)"
    assert fields["/outputs/0/loss"].currentText() == "(task default: binary_crossentropy)"
    window.inspector.widget().grab().save(f"{SCREENSHOTS}/h12a_binary_head.png")
    click_outline(qtbot, window, "/training")
    fields = window.inspector.fields
    for hidden in ("momentum", "nesterov", "weight_decay", "decay_steps", "decay_rate", "alpha"):
        assert not any(p.endswith("/" + hidden) for p in fields), hidden
    choose(qtbot, fields["/training/learning_rate_schedule/type"], "cosine")
    assert "/training/learning_rate_schedule/decay_steps" in window.inspector.fields
    assert "/training/learning_rate_schedule/alpha" in window.inspector.fields
    assert "/training/learning_rate_schedule/decay_rate" not in window.inspector.fields


def test_metrics_are_a_checkable_list(open_window, qtbot) -> None:
    """Item 1: a list of choices is a list of check boxes, not comma text."""
    window = open_window("binary_batchnorm_dropout")
    click_outline(qtbot, window, "/outputs/0")
    metrics = field(window, "/outputs/0/metrics")
    assert isinstance(metrics, CheckList)
    assert metrics.checked() == ["accuracy", "auc"]
    row = next(r for r in range(metrics.count()) if metrics.item(r).text() == "precision")
    rect = metrics.visualItemRect(metrics.item(row))
    box = QPoint(rect.left() + rect.height() // 2, rect.center().y())  # the check box at the row's start
    qtbot.mouseClick(metrics.viewport(), Qt.MouseButton.LeftButton, pos=box)
    assert window.document.raw["outputs"][0]["metrics"] == ["accuracy", "auc", "precision"]


@pytest.mark.parametrize("example", ["flowers_multiclass", "housing_regression", "wide_deep_aux_output"])
def test_a_layer_form_fits_the_inspector_at_1280x800(open_window, qtbot, example) -> None:
    """Every field, its Reset and its Search button are in view: no sideways scrolling at the default size."""
    window = open_window(example)
    window.resize(1280, 800)
    layer = "/network/deep/layers/0" if example.startswith("wide_deep") else "/network/layers/0"
    click_outline(qtbot, window, layer)
    qtbot.waitUntil(lambda: window.inspector.subject == layer)
    qtbot.wait(50)
    window.grab().save(f"{SCREENSHOTS}/inspector_fits_{example}.png")
    assert window.inspector.horizontalScrollBar().maximum() == 0
    viewport = window.inspector.viewport()
    shown = [w for w in window.inspector.widget().findChildren(QWidget) if w.isVisible()]
    assert any(w.objectName().startswith("search:") for w in shown)
    for widget in shown:
        right = widget.mapTo(viewport, QPoint(widget.width(), 0)).x()
        assert right <= viewport.width(), (widget, widget.objectName())
