"""Issue 15 in the designer: a dense layer's Repeat spin box, its ×n block on the diagram, its Search toggle, undo.

Driven as a person does: a click on the outline row, keys typed into the inspector's spin box, a click on the
Search toggle, the Undo action.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import click_outline, close_clean, make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QAbstractSpinBox, QToolButton  # noqa: E402

CTRL = Qt.KeyboardModifier.ControlModifier
REPEAT = "/network/layers/0/repeat"


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path, example="flowers_multiclass")
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    close_clean(win)


def type_into(qtbot, widget, text: str) -> None:
    """Click into the field, select what is there, type ``text`` and press Enter."""
    target = widget.lineEdit() if isinstance(widget, QAbstractSpinBox) else widget
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton)
    qtbot.keyClick(target, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(target, Qt.Key.Key_Delete)
    qtbot.keyClicks(target, text)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def test_typing_a_repeat_draws_one_block_with_its_count_and_undo_restores_it(window, qtbot) -> None:
    doc = window.document
    click_outline(qtbot, window, "/network/layers/0")
    spin = window.inspector.fields[REPEAT]
    assert isinstance(spin, QAbstractSpinBox) and "identical dense layers" in spin.toolTip()
    type_into(qtbot, spin, "3")
    assert doc.raw["network"]["layers"][0]["repeat"] == 3
    assert doc.spec.ok, doc.spec.errors

    # The diagram: the three copies are one block (a stack of cards) saying ×3, selectable as the layer.
    canvas = window.canvas
    block = canvas.blocks["dense_1"]
    assert canvas.blocks["dense_1_2"] is block and canvas.blocks["dense_1_3"] is block
    assert [n.name for n in block.run] == ["dense_1", "dense_1_2", "dense_1_3"]
    assert block.lines[0].endswith("×3") and block.subject == "/network/layers/0"
    assert canvas.blocks["dense_2"] is not block
    assert sum(n.params for n in block.run) == (4 * 16 + 16) + 2 * (16 * 16 + 16)
    # The outline says it too, and the summary lists every copy.
    outline = [window.layers.list.item(r).text() for r in range(window.layers.list.count())]
    assert "dense_1  ·  Dense 16 relu ×3" in [text.strip() for text in outline], outline
    rows = [window.summary.table.item(r, 0).text() for r in range(window.summary.table.rowCount())]
    assert rows[2:6] == ["dense_1", "dense_1_2", "dense_1_3", "dense_2"]
    window.tabs.setCurrentWidget(canvas)
    canvas.grab().save("/tmp/h15r_repeat_diagram.png")
    window.grab().save("/tmp/h15r_repeat_window.png")

    # The Search toggle beside it adds a range from one layer up, and undo takes it away again.
    button = window.inspector.widget().findChild(QToolButton, f"search:{REPEAT}")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert doc.raw["search"] == {REPEAT: {"int": [1, 6]}}
    assert doc.spec.ok, doc.spec.errors
    window.undo_action.trigger()
    assert "search" not in doc.raw
    window.undo_action.trigger()
    assert "repeat" not in doc.raw["network"]["layers"][0]
    assert len(window.canvas.blocks["dense_1"].run) == 1 and "dense_1_2" not in window.canvas.blocks


def test_a_refused_repeat_is_not_applied_and_says_why(window, qtbot) -> None:
    click_outline(qtbot, window, "/network/layers/0")
    before = window.document.raw["network"]["layers"][0].copy()
    type_into(qtbot, window.inspector.fields[REPEAT], "0")
    assert window.document.raw["network"]["layers"][0] == before
    mark = window.inspector.marks[REPEAT]
    assert mark.isVisible() and "1 ≤ repeat ≤ 1000" in mark.text()


def test_health_of_a_repeated_layer_shows_its_worst_copy(qtbot, tmp_path) -> None:
    """A run's health figures per copy: the ×3 block and the inspector show the copy that needs attention."""
    import json

    from mlpdesigner.resources import example_path

    spec = json.loads(example_path("flowers_multiclass").read_text("utf-8"))
    spec["network"]["layers"][0]["repeat"] = 3
    spec["data"]["path"] = str((example_path("flowers_multiclass").parent / spec["data"]["path"]).resolve())
    design = tmp_path / "repeated.json"
    design.write_text(json.dumps(spec), "utf-8")
    window = make_window(qtbot, tmp_path, file=design)
    try:
        class FakeRun:
            class event:  # noqa: N801 - stands in for the run's Qt signal
                connect = staticmethod(lambda slot: None)

        window.health.run_started(FakeRun())
        figures = {name: {"grad_norm": 1.0} for name in ("dense_1", "dense_1_3", "dense_2")}
        figures["dense_1_2"] = {"grad_norm": 0.5, "dead": 1.0}
        figures["species"] = {"grad_norm": 2.0}
        window.health.on_event({"event": "health", "epoch": 1, "loss": 1.0, "layers": figures})
        block = window.canvas.blocks["dense_1_2"]
        assert len(block.run) == 3 and block.health.name == "dense_1_2" and block.health.badge == "dead 100%"
        click_outline(qtbot, window, "/network/layers/0")
        assert window.health.layer_for_subject("/network/layers/0").name == "dense_1_2"
    finally:
        close_clean(window)
