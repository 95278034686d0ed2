"""Shared helpers for the designer tests: a window with scripted dialogs and private settings."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from mlpdesigner.gui.dialogs import Dialogs  # noqa: E402
from mlpdesigner.gui.main_window import MainWindow  # noqa: E402
from mlpdesigner.resources import example_path  # noqa: E402


class ScriptedDialogs(Dialogs):
    """Dialogs that answer from queues and record what they were asked; never modal."""

    def __init__(self) -> None:
        self.paths: list[str | None] = []
        self.discard_answers: list[str] = []
        self.recovery_answers: list[str] = []
        self.templates: list[str | None] = []
        self.errors: list[tuple[str, str]] = []
        self.asked_discard = 0
        self.stop_answers: list[str] = []
        self.data_files: list[str | None] = []
        self.asked_stop: list[str] = []

    def open_path(self, parent: Any, folder: str) -> str | None:
        return self.paths.pop(0)

    def save_path(self, parent: Any, suggested: str) -> str | None:
        return self.paths.pop(0)

    def open_model_path(self, parent: Any, folder: str) -> str | None:
        return self.paths.pop(0)

    def export_path(self, parent: Any, suggested: str, file_filter: str) -> str | None:
        return self.paths.pop(0)

    def confirm_discard(self, parent: Any, name: str) -> str:
        self.asked_discard += 1
        return self.discard_answers.pop(0) if self.discard_answers else "discard"

    def data_path(self, parent: Any, folder: str) -> str | None:
        return self.data_files.pop(0)

    def confirm_stop_run(self, parent: Any, what: str) -> str:
        self.asked_stop.append(what)
        return self.stop_answers.pop(0) if self.stop_answers else "stop"

    def error(self, parent: Any, title: str, message: str) -> None:
        self.errors.append((title, message))

    def offer_recovery(self, parent: Any, item: Any) -> str:
        return self.recovery_answers.pop(0)

    def choose_template(self, parent: Any) -> str | None:
        return self.templates.pop(0)


def make_window(qtbot: Any, tmp_path: Path, file: str | Path | None = None, example: str | None = None) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, dialogs=ScriptedDialogs(), recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    if file is not None:
        window.open_file(file)
    elif example is not None:
        window.open_example(example)
    return window


def copy_example(tmp_path: Path, name: str) -> Path:
    target = tmp_path / f"{name}.json"
    target.write_text(example_path(name).read_text("utf-8"), "utf-8")
    return target


def snapshot(window: MainWindow) -> tuple[Any, str]:
    return copy.deepcopy(window.document.raw), window.document.text


def click_outline(qtbot: Any, window: MainWindow, ptr: str) -> None:
    """Click the outline row that stands for ``ptr``."""
    outline = window.layers.list
    row = next(r for r in range(outline.count()) if outline.item(r).data(Qt.ItemDataRole.UserRole) == ptr)
    rect = outline.visualItemRect(outline.item(row))
    qtbot.mouseClick(outline.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.document.selection == ptr


def close_clean(window: MainWindow) -> None:
    """Mark the window saved so closing it in teardown asks nothing."""
    window.document.undo_stack.setClean()
    window.document._forced_dirty = False


def open_data_tab(qtbot: Any, window: MainWindow) -> Any:
    """Show the window and click its Data tab, as a person does; wait until the data file has been read.

    The designer reads the data file only when the Data tab is first shown (issue 18), on a worker thread.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.show()
    qtbot.waitExposed(window)
    bar = window.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(window.tabs.indexOf(window.data_tab)).center())
    assert window.tabs.currentWidget() is window.data_tab
    tab = window.data_tab
    qtbot.waitUntil(lambda: tab.active and tab.pending_key is None, timeout=60_000)
    return tab
