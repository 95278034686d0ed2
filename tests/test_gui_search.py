"""Issue 15, the designer's Search view: ranges from the inspector's Search toggles (undoable), trials in a
sortable table with their curves, a trial opened as a design, the best applied (undoable), and, without Ray,
how to install it. Each test drives the real widgets with mouse clicks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import click_outline, close_clean, copy_example, make_window  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QPushButton, QToolButton  # noqa: E402

from mlpdesigner.resources import example_path  # noqa: E402
from mlpdesigner.search import tables  # noqa: E402
from mlpdesigner.spec import dumps, load_spec  # noqa: E402
from mlpdesigner.spec.search import with_values  # noqa: E402

LR = "/training/optimizer/learning_rate"
UNITS = "/network/layers/0/units"


@pytest.fixture
def window(qtbot, tmp_path):
    made = []

    def opener(file: Path | None = None, example: str | None = "flowers_multiclass"):
        win = make_window(qtbot, tmp_path, file=file, example=None if file else example)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        return win

    yield opener
    for win in made:
        close_clean(win)


def toggle(window, ptr: str) -> QToolButton:
    button = window.inspector.widget().findChild(QToolButton, f"search:{ptr}")
    assert button is not None, f"no Search toggle for {ptr}"
    return button


def test_search_toggles_add_ranges_as_undoable_edits(window, qtbot) -> None:
    win = window()
    click_outline(qtbot, win, "/network/layers/0")
    qtbot.mouseClick(toggle(win, UNITS), Qt.MouseButton.LeftButton)
    assert win.document.raw["search"] == {UNITS: {"int": [8, 32]}}
    assert toggle(win, UNITS).isChecked()  # the rebuilt form shows it searched
    qtbot.mouseClick(toggle(win, "/network/layers/0/activation"), Qt.MouseButton.LeftButton)
    choice = win.document.raw["search"]["/network/layers/0/activation"]["choice"]
    assert "relu" in choice and "selu" in choice
    click_outline(qtbot, win, "/training")
    qtbot.mouseClick(toggle(win, LR), Qt.MouseButton.LeftButton)
    assert win.document.raw["search"][LR] == {"log": [0.001, 0.1]}
    assert win.document.spec.ok, win.document.spec.errors
    assert win.search_view.run_button.isEnabled() == win.search_view.available

    qtbot.mouseClick(toggle(win, LR), Qt.MouseButton.LeftButton)  # off again
    assert LR not in win.document.raw["search"]
    win.undo_action.trigger()
    assert LR in win.document.raw["search"]
    for _ in range(3):
        win.undo_action.trigger()
    assert "search" not in win.document.raw
    # A field with nothing to search (the output's task: every other task breaks the design) adds nothing.
    click_outline(qtbot, win, "/outputs/0")
    task = toggle(win, "/outputs/0/task")
    qtbot.mouseClick(task, Qt.MouseButton.LeftButton)
    assert not task.isChecked() and "Nothing to search" in task.toolTip()
    assert "search" not in win.document.raw


def _finished_search(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A search folder as ``mlpdesigner search`` leaves it: trials.json and each trial's run folder spec."""
    base = json.loads(example_path("flowers_multiclass").read_text("utf-8"))
    folder = tmp_path / "design" / "searches" / "s" / "search"
    folder.mkdir(parents=True)
    rows = []
    for index, (rate, units, losses, status) in enumerate([
        (0.05, 12, [0.9, 0.4, 0.2], tables.COMPLETED),
        (0.002, 30, [1.1], tables.EARLY_STOPPED),
        (0.02, 8, [0.8, 0.3, 0.1], tables.COMPLETED),
    ]):
        run = folder.parent / "trials" / f"t{index}"
        run.mkdir(parents=True)
        params = {LR: rate, UNITS: units}
        (run / "spec.json").write_text(dumps(with_values(base, params)), "utf-8")
        rows.append({"trial": f"t{index}", "params": params, "status": status, "node_id": "n", "run_dir": str(run),
                     "history": [{"epoch": e + 1, "val_loss": v} for e, v in enumerate(losses)]})
    tables.write_tables(folder, [LR, UNITS], rows)
    return folder.parent, base


def test_trials_table_sorts_opens_a_trial_and_applies_the_best(window, qtbot, tmp_path) -> None:
    folder, _ = _finished_search(tmp_path)
    design = copy_example(tmp_path, "flowers_multiclass")
    win = window(file=design)
    win.search_dock.show()
    win.search_dock.raise_()
    view = win.search_view
    view.load_folder(folder)
    table = view.table
    assert table.rowCount() == 3
    header = table.horizontalHeader()
    column = next(c for c in range(table.columnCount()) if table.horizontalHeaderItem(c).text() == "best val_loss")
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(column) + 5, 5))
    firsts = [table.item(0, 0).text(), table.item(2, 0).text()]
    assert sorted(firsts) == ["t1", "t2"]  # ascending or descending: best and worst at the ends

    # Apply the best: one undoable edit of the design.
    assert view.apply_button.isEnabled()
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    assert win.document.raw["training"]["optimizer"]["learning_rate"] == 0.02
    assert win.document.raw["network"]["layers"][0]["units"] == 8
    win.undo_action.trigger()
    assert win.document.raw["training"]["optimizer"]["learning_rate"] == 0.01
    assert win.document.raw["network"]["layers"][0]["units"] == 16

    # Select a trial's row: its curve is drawn highlighted; open it as a design.
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "t0")
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_trial()["trial"] == "t0"
    assert len(view.curves.getPlotItem().listDataItems()) == 3
    win.search_dock.grab().save("/tmp/h15s_search_view.png")
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert win.document.path == (folder / "trials" / "t0" / "spec.json").resolve()
    assert win.document.raw["network"]["layers"][0]["units"] == 12
    load_spec(win.document.raw)


def test_without_ray_the_view_says_how_to_install(window, qtbot, monkeypatch) -> None:
    import mlpdesigner.gui.search_view as search_view

    monkeypatch.setattr(search_view, "search_available", lambda: False)
    win = window()
    click_outline(qtbot, win, "/network/layers/0")
    qtbot.mouseClick(toggle(win, UNITS), Qt.MouseButton.LeftButton)  # ranges can still be written
    view = win.search_view
    assert "pip install 'mlpdesigner[search]'" in view.status.text()
    run = view.findChild(QPushButton, "search_run")
    assert not run.isEnabled()
    qtbot.mouseClick(run, Qt.MouseButton.LeftButton)
    assert view.process is None


@pytest.mark.slow
@pytest.mark.search
def test_run_search_from_the_view_shows_the_trials(window, qtbot, tmp_path) -> None:
    """Run search starts ``mlpdesigner search`` as a child; its trials arrive in the table with their curves."""
    spec = json.loads(example_path("flowers_multiclass").read_text("utf-8"))
    spec["data"]["path"] = str((example_path("flowers_multiclass").parent / spec["data"]["path"]).resolve())
    spec["training"]["epochs"] = 2
    design = tmp_path / "flowers.json"
    design.write_text(dumps(spec), "utf-8")
    win = window(file=design)
    click_outline(qtbot, win, "/network/layers/0")
    qtbot.mouseClick(toggle(win, UNITS), Qt.MouseButton.LeftButton)
    view = win.search_view
    win.search_dock.show()
    win.search_dock.raise_()
    box = view.trials_box.lineEdit()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, "2")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert view.trials_box.value() == 2
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert view.running and view.stop_button.isEnabled() and not view.run_button.isEnabled()
    qtbot.waitUntil(lambda: not view.running, timeout=400_000)
    assert "best val_loss" in view.status.text(), view.status.text()
    assert view.table.rowCount() == 2
    assert len(view.curves.getPlotItem().listDataItems()) == 2
    assert (view.folder / "search" / tables.BEST_SPEC).is_file()
    assert view.folder.parent == tmp_path / "searches"
