"""Layer health in the designer: the diagram coloured by the run's gradients, the inspector's sparkline, the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QEvent, QPoint, Qt  # noqa: E402
from PySide6.QtGui import QHelpEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QToolTip, QWidget  # noqa: E402

from mlpdesigner.gui.health_view import Sparkline  # noqa: E402
from tests.gui_helpers import make_window  # noqa: E402
from tests.test_train_run import FEATURES, write_csv  # noqa: E402

RUN_TIMEOUT_MS = 180_000
#: Widths differ so that the diagram draws every layer (identical neighbours would collapse into one block).
WIDTHS = (24, 22, 20, 18, 16, 14, 12, 10)


def sigmoid_design(folder: Path, epochs: int = 4) -> Path:
    """Eight sigmoid layers with Glorot initialization: the first ones get almost no gradient."""
    write_csv(folder / "data.csv", rows=300)
    spec = {
        "format": "mlpdesigner/1",
        "name": "deep_sigmoid",
        "inputs": [{"name": "features", "shape": [4]}],
        "network": {"topology": "sequential",
                    "layers": [{"type": "dense", "units": u, "activation": "sigmoid"} for u in WIDTHS]},
        "outputs": [{"name": "value", "task": "regression", "units": 1}],
        "training": {"epochs": epochs, "batch_size": 16, "seed": 1},
        "data": {"path": "data.csv", "columns": {"features": FEATURES, "value": ["value"]}},
    }
    path = folder / "deep_sigmoid.json"
    path.write_text(json.dumps(spec, indent=2), "utf-8")
    return path


def click_block(qtbot, canvas, name: str) -> QPoint:  # noqa: ANN001
    block = canvas.blocks[name]
    canvas.ensureVisible(block)
    pos = canvas.mapFromScene(block.scenePos())
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    return pos


def shown(widget, kind, name: str):  # noqa: ANN001, ANN201
    """The one visible child of that kind and name (forms being replaced linger hidden until deleted)."""
    found = [w for w in widget.findChildren(kind, name) if w.isVisible()]
    assert len(found) == 1, found
    return found[0]


def hover_text(qtbot, canvas, pos: QPoint) -> str:  # noqa: ANN001
    """Move the mouse onto a point of the diagram and return the tooltip Qt shows there."""
    qtbot.mouseMove(canvas.viewport(), pos)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, canvas.viewport().mapToGlobal(pos))
    QApplication.sendEvent(canvas.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=5000)
    return QToolTip.text()


@pytest.mark.slow
def test_health_on_the_diagram_and_in_the_inspector_during_and_after_a_run(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path, file=sigmoid_design(tmp_path))
    window.show()
    canvas, view = window.canvas, window.train_view
    assert canvas.blocks["dense_1"].health is None  # nothing before a run
    qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)

    # During the run: the blocks take their colour from the health events as they arrive.
    qtbot.waitUntil(lambda: len(window.health.records) >= 2 or not view.training, timeout=RUN_TIMEOUT_MS)
    assert canvas.blocks["dense_1"].health is not None
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS):
        pass
    window.tabs.setCurrentWidget(canvas)
    window.canvas.fit()

    first, last = canvas.blocks["dense_1"].health, canvas.blocks["value_raw"].health
    assert first.ratio < 1e-3 and last.ratio == pytest.approx(1.0)  # the output layer has the largest gradient
    assert first.advice and first.advice[0].code == "H601"
    window.grab().save(str(tmp_path / "health.png"))

    # Select a block with a click: the inspector shows its gradient sparkline over the epochs.
    pos = click_block(qtbot, canvas, "dense_1")
    assert window.document.selection.startswith("/network/layers/0")
    shown(window.inspector, QWidget, "layer_health")
    spark = shown(window.inspector, Sparkline, "health_sparkline")
    assert len(spark.values) == 5 and len(spark.points()) == 5  # before training + 4 epochs
    assert spark.toolTip().count("→") == 4  # hovering the line lists the figures
    sentence = shown(window.inspector, QLabel, "health_sentence").text()
    assert "vanishing gradients" in sentence and "He initialization" in sentence

    # Hovering the block explains it in one sentence and points at the fix.
    text = hover_text(qtbot, canvas, pos)
    assert "Layer health: It receives gradients" in text and "(vanishing gradients)" in text
    assert "H601: Use He initialization and ELU in the hidden layers — select the layer" in text

    # The fix, applied from the inspector, changes the hidden layers: their stale colouring goes; the output's stays.
    button = shown(window.inspector, QPushButton, "health_fix_H601")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    layers = window.document.raw["network"]["layers"]
    assert all(layer["activation"] == "elu" and layer["kernel_initializer"] == "he_normal" for layer in layers)
    assert canvas.blocks["dense_1"].health is None
    assert canvas.blocks["value_raw"].health is not None
    # Undo brings the design the run trained back, and its health with it.
    window.document.undo_stack.undo()
    assert canvas.blocks["dense_1"].health is not None


def test_health_model_follows_events_and_marks_dead_units(qtbot, tmp_path) -> None:
    """Health events from the training view's run colour the blocks; a dead layer gets a badge and a tooltip."""
    from mlpdesigner.gui.health_view import heat_color

    window = make_window(qtbot, tmp_path, file=sigmoid_design(tmp_path))
    health = window.health

    class FakeRun:
        class event:  # noqa: N801 - stands in for the run's Qt signal
            connect = staticmethod(lambda slot: None)

    health.run_started(FakeRun())
    figures = {f"dense_{i}": {"grad_norm": 1.0, "act_mean": 0.5} for i in range(2, 9)}
    figures["dense_1"] = {"grad_norm": 0.0, "dead": 1.0}
    figures["value_raw"] = {"grad_norm": 2.0}
    health.on_event({"event": "health", "epoch": 1, "loss": 1.0, "global_grad_norm": 2.0, "layers": figures})
    block = window.canvas.blocks["dense_1"]
    assert block.health.badge == "dead 100%"
    assert "output zero for every row" in block.toolTip()
    assert window.canvas.blocks["dense_2"].health.ratio == pytest.approx(0.5)
    assert heat_color(1e-9) != heat_color(1.0)
