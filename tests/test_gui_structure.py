"""Issue 12, structure: topology switches, inputs and outputs added, renamed and removed from the
outline's and the diagram's context menus, each one undo step, with the data mapping kept
consistent; the outline names layers as the diagram does. Driven with mouse and keys."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QContextMenuEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu  # noqa: E402
from test_gui_inspector import click_outline, type_into  # noqa: E402

from mlpdesigner.gui.json_view import SUBJECT_TINT  # noqa: E402
from mlpdesigner.resources import example_path  # noqa: E402

CTRL = Qt.KeyboardModifier.ControlModifier
#: Set MLPDESIGNER_SCREENSHOT_DIR=docs/screenshots to regenerate the documentation's screenshot.
SCREENSHOT_DIR = os.environ.get("MLPDESIGNER_SCREENSHOT_DIR")


@pytest.fixture
def window(qtbot, tmp_path):
    data = example_path("housing_regression").parent.parent / "datasets" / "housing.csv"
    spec = example_path("housing_regression").read_text("utf-8").replace("../datasets/housing.csv",
                                                                           data.as_posix())
    path = tmp_path / "housing.json"
    path.write_text(spec, "utf-8")
    win = make_window(qtbot, tmp_path, file=path)
    win.show()
    qtbot.waitExposed(win)
    activate(qtbot, win)
    yield win
    close_clean(win)


def activate(qtbot, window) -> None:
    window.activateWindow()
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=3000)


def outline_row(window, ptr: str) -> int:
    outline = window.layers.list
    return next(r for r in range(outline.count()) if outline.item(r).data(Qt.ItemDataRole.UserRole) == ptr)


def right_click(qtbot, viewport, pos: QPoint) -> None:
    """The context-menu event a right click sends to a widget."""
    qtbot.mouseMove(viewport, pos)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)


def pick(qtbot, menu: QMenu, text: str) -> None:
    """Click the entry of an open context menu whose text starts with ``text``."""
    assert menu is not None and menu.isVisible()
    action = next((a for a in menu.actions() if a.text().replace("&&", "&").startswith(text)), None)
    assert action is not None, [a.text() for a in menu.actions()]
    assert action.isEnabled(), f"{text} is disabled: {action.toolTip()}"
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def outline_menu(qtbot, window, ptr: str, text: str) -> None:
    outline = window.layers.list
    rect = outline.visualItemRect(outline.item(outline_row(window, ptr)))
    right_click(qtbot, outline.viewport(), rect.center())
    pick(qtbot, window.layers.context_menu, text)


def diagram_menu(qtbot, window, block_name: str, text: str) -> None:
    canvas = window.canvas
    canvas.fit()
    pos = canvas.mapFromScene(canvas.blocks[block_name].pos())
    right_click(qtbot, canvas.viewport(), pos)
    pick(qtbot, window.layers.structure.canvas_menu, text)


def undo_redo_is_one_step(qtbot, window, before, after) -> None:
    activate(qtbot, window)
    window.layers.list.setFocus()
    qtbot.keyClick(window.layers.list, Qt.Key.Key_Z, CTRL)
    assert window.document.raw == before
    window.document.redo()
    assert window.document.raw == after


def add_column(qtbot, window, key: str, column: str) -> None:
    """Map one more data column to ``key`` in the Data form: type its name, press Enter."""
    entry = window.inspector.fields[f"/data/columns/{key}"].entry
    qtbot.mouseClick(entry, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(entry, column)
    qtbot.keyClick(entry, Qt.Key.Key_Return)


def test_build_a_wide_and_deep_from_scratch(window, qtbot, tmp_path) -> None:
    """Item 4: sequential -> Wide & Deep -> a second (wide) input -> an auxiliary output on the deep path,
    all from the context menus and the inspector, each one undo step; then back to sequential."""
    doc = window.document
    layers = copy.deepcopy(doc.raw["network"]["layers"])
    before = copy.deepcopy(doc.raw)
    outline_menu(qtbot, window, "/network", "Switch to Wide & Deep")
    assert doc.raw["network"] == {"topology": "wide_deep", "wide": {"inputs": ["features"]},
                                  "deep": {"inputs": ["features"], "layers": layers}}
    assert doc.spec.ok and doc.selection == "/network"
    undo_redo_is_one_step(qtbot, window, before, copy.deepcopy(doc.raw))

    outline_menu(qtbot, window, "/inputs/0", "Add input")
    assert doc.raw["inputs"][1] == {"name": "wide", "shape": [1]}
    assert doc.raw["network"]["wide"]["inputs"] == ["features", "wide"]
    assert doc.selection == "/inputs/1"
    # rename it with F2 in the outline: the references and the mapping follow
    activate(qtbot, window)
    window.layers.list.setFocus()
    qtbot.keyClick(window.layers.list, Qt.Key.Key_F2)
    name = window.inspector.fields["/inputs/1/name"]
    assert name.hasFocus() and name.selectedText() == "wide"
    qtbot.keyClicks(name, "basics")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert doc.raw["inputs"][1]["name"] == "basics"
    assert doc.raw["network"]["wide"]["inputs"] == ["features", "basics"]
    shape = window.inspector.fields["/inputs/1/shape"]
    type_into(qtbot, shape.spins[0], "2")
    assert doc.raw["inputs"][1]["shape"] == [2]

    # the wide path takes only the new input: untick "features" in the Network form's checkable list
    click_outline(qtbot, window, "/network")
    wide = window.inspector.fields["/network/wide/inputs"]
    rect = wide.visualItemRect(wide.item(0))
    qtbot.mouseClick(wide.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + rect.height() // 2,
                                                                             rect.center().y()))
    assert doc.raw["network"]["wide"]["inputs"] == ["basics"]

    # map the new input's columns in the Data form
    click_outline(qtbot, window, "/data")
    add_column(qtbot, window, "basics", "MedInc")
    add_column(qtbot, window, "basics", "HouseAge")
    assert doc.raw["data"]["columns"]["basics"] == ["MedInc", "HouseAge"]
    assert doc.spec.ok, [p.format() for p in doc.spec.errors]

    diagram_menu(qtbot, window, "dense_1", "Add auxiliary output on the deep path")
    assert doc.raw["outputs"][1] == {"name": "aux", "task": "regression", "units": 1, "source": "deep",
                                     "loss_weight": 0.1}
    click_outline(qtbot, window, "/data")
    add_column(qtbot, window, "aux", "MedHouseVal")
    assert doc.spec.ok, [p.format() for p in doc.spec.errors]
    plan = doc.spec.plan
    # Issue 13 defaults: the aux head's dense layer (aux_raw) feeds its target-scaling Rescaling layer, and the
    # wide path takes the standardized input.
    assert plan.node("aux_raw").inputs == ["dense_1"] and plan.node("aux").inputs == ["aux_raw"]
    assert plan.node("wide_deep").inputs == ["basics_normalization", "dense_1"]
    click_outline(qtbot, window, "/network")
    window.canvas.fit()
    shot = Path(SCREENSHOT_DIR or tmp_path) / "wide_deep_from_scratch.png"
    assert window.grab().save(str(shot))

    # back to sequential from the Topology box: one undo step, the wide input and its mapping go
    built = copy.deepcopy(doc.raw)
    topology = window.inspector.fields["/network/topology"]
    topology.setFocus()
    qtbot.keyClicks(topology, "seq")
    assert doc.raw["network"] == {"topology": "sequential", "layers": layers}
    assert [i["name"] for i in doc.raw["inputs"]] == ["features"]
    assert "basics" not in doc.raw["data"]["columns"] and "source" not in doc.raw["outputs"][1]
    assert doc.spec.ok
    undo_redo_is_one_step(qtbot, window, built, copy.deepcopy(doc.raw))


def test_rename_and_remove_outputs_keep_the_mapping(window, qtbot) -> None:
    """Item 4: an output added, renamed and removed from the diagram's menu; the mapping follows."""
    doc = window.document
    diagram_menu(qtbot, window, "price", "Rename output 'price'")
    name = window.inspector.fields["/outputs/0/name"]
    assert name.selectedText() == "price"
    qtbot.keyClicks(name, "value")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert doc.raw["outputs"][0]["name"] == "value"
    assert list(doc.raw["data"]["columns"]) == ["features", "value"]
    diagram_menu(qtbot, window, "value", "Add output")
    assert doc.raw["outputs"][1]["name"] == "output"
    before = copy.deepcopy(doc.raw)
    outline_menu(qtbot, window, "/outputs/0", "Remove output 'value'")
    assert [o["name"] for o in doc.raw["outputs"]] == ["output"]
    assert "value" not in doc.raw["data"]["columns"]
    undo_redo_is_one_step(qtbot, window, before, copy.deepcopy(doc.raw))
    # the last output cannot be removed; the menu says why
    diagram_menu_action = window.layers.structure.remove_action
    doc.select("/outputs/0")
    window.layers.structure.update_actions()
    assert not diagram_menu_action.isEnabled() and "at least one output" in diagram_menu_action.toolTip()


def test_outline_shows_the_layer_names_of_the_diagram(qtbot, tmp_path) -> None:
    """Item 6: the outline names each layer as the diagram and summary do (dense_3)."""
    win = make_window(qtbot, tmp_path, example="binary_batchnorm_dropout")
    try:
        outline = win.layers.list
        texts = [outline.item(outline_row(win, f"/network/layers/{i}")).text().strip() for i in range(4)]
        assert texts == ["dense_1  ·  Dense 64 relu", "batch_normalization_1  ·  Batch normalization",
                         "dropout_1  ·  Dropout 0.2", "dense_2  ·  Dense 32 relu"]
        assert {t.split()[0] for t in texts} <= set(win.canvas.blocks)
        # a design with errors still shows the names
        text = win.document.text.replace('"units": 64', '"units": 0', 1)
        win.json_view.setPlainText(text)
        qtbot.waitUntil(lambda: win.document.text == text, timeout=3000)
        assert outline.item(outline_row(win, "/network/layers/3")).text().strip().startswith("dense_2")
    finally:
        close_clean(win)


def test_json_view_follows_the_selection_both_ways(qtbot, tmp_path) -> None:
    """Item 7: selecting a layer shows its JSON; putting the cursor in the JSON selects the layer."""
    win = make_window(qtbot, tmp_path, example="wide_deep_aux_output")
    try:
        win.show()
        qtbot.waitExposed(win)
        activate(qtbot, win)
        canvas, view = win.canvas, win.json_view
        canvas.fit()
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                         pos=canvas.mapFromScene(canvas.blocks["dense_2"].pos()))
        assert win.document.selection == "/network/deep/layers/1"
        tabs = win.tabs.tabBar()
        qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(win.tabs.indexOf(view)).center())
        assert win.tabs.currentWidget() is view
        start, end = view.subject_span("/network/deep/layers/1")
        text = view.toPlainText()
        assert start <= view.textCursor().position() <= end
        assert text[start:end].startswith("{") and text[start:end].count('"units": 30') == 1
        assert text.index('"layers"') < start < text.index('"outputs"')
        tinted = {sel.cursor.block().blockNumber() for sel in view.extraSelections()
                  if sel.format.background().color() == SUBJECT_TINT}
        lines = view.document_text()
        assert tinted == set(range(lines.findBlock(start).blockNumber(), lines.findBlock(end).blockNumber() + 1))
        view.viewport().grab().save("/tmp/h12a_json_follow.png")
        # a click in the text of the auxiliary output selects it everywhere
        offset = text.index('"source": "deep"')
        cursor = view.textCursor()
        cursor.setPosition(offset)
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(cursor).center())
        assert win.document.selection == "/outputs/1"
        assert win.layers.list.currentItem().data(Qt.ItemDataRole.UserRole) == "/outputs/1"
        assert win.canvas.blocks["aux"].selected_look
        assert "/outputs/1/source" in win.inspector.fields
        # the arrow keys move the selection along with the cursor
        cursor.setPosition(text.index('"epochs"'))
        view.setTextCursor(cursor)
        qtbot.keyClick(view, Qt.Key.Key_Down)
        assert win.document.selection == "/training"
    finally:
        close_clean(win)
