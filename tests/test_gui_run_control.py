"""One controller starts and ends the designer's children: the training view, the main window and the export
dialog all go through it (mlpdesigner.gui.run_control)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from mlpdesigner.resources import example_path  # noqa: E402


def test_train_shortcut_and_export_dialog_ask_the_same_controller(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path, example="housing_regression")  # untitled: never saved
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=3000)
    controller = window.runs
    assert window.train_view.controller is controller
    window.document.apply([{"op": "remove", "path": "/data"}], "drop data")
    window.layers.list.setFocus()
    qtbot.keyClick(window.layers.list, Qt.Key.Key_F5)
    assert "no data" in window.train_view.banner.text()
    assert controller.refusal() == window.train_view.banner.text()
    assert controller.run is None and window.train_action.isEnabled() and not window.stop_action.isEnabled()

    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog is not None and dialog.controller is controller
    dialog.output.setText(str(tmp_path / "m.onnx"))
    window.dialogs.paths.append(None)  # asked where to save the untitled design: cancelled
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "Save the design first" in dialog.result.text() and controller.export is None
    dialog.close()


def test_closing_the_window_ends_a_running_export(qtbot, tmp_path: Path) -> None:
    spec = tmp_path / "design.json"
    spec.write_bytes(example_path("housing_regression").read_bytes())
    window = make_window(qtbot, tmp_path, file=spec)
    controller = window.runs
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    export = controller.prepare_export(lambda source: sleeper, None)
    assert not isinstance(export, str)
    export.start()
    assert export.process.waitForStarted(10_000) and export.running
    window.close()
    qtbot.waitUntil(lambda: not export.running, timeout=10_000)
