"""The designer reads a design's data file lazily (issue 18, item 6): when the Data tab is first shown, on a worker
thread, with the window usable meanwhile; the Problems panel's data-file checks need no read and show at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QToolBar  # noqa: E402

from mlpdesigner.resources import data_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def housing_design(folder: Path, **changes) -> Path:
    """The housing regression starter saved in ``folder`` with its CSV beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = json.loads(data_path("resources", "examples", "housing_regression.json").read_text("utf-8"))
    raw["data"]["path"] = "housing.csv"
    raw.update(changes)
    (folder / "housing.csv").write_bytes(data_path("resources", "datasets", "housing.csv").read_bytes())
    spec = folder / "housing.json"
    spec.write_text(json.dumps(raw, indent=2), "utf-8")
    return spec


def click_tab(window, widget) -> None:  # noqa: ANN001
    bar = window.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(window.tabs.indexOf(widget)).center())
    assert window.tabs.currentWidget() is widget


def shown_window(qtbot, tmp_path, spec):  # noqa: ANN001, ANN201
    window = make_window(qtbot, tmp_path, file=spec)
    window.show()
    qtbot.waitExposed(window)
    return window


def column_names(tab) -> list[str]:  # noqa: ANN001
    return [tab.preview.horizontalHeaderItem(c).text() for c in range(tab.preview.columnCount())]


def test_the_data_file_is_read_when_the_data_tab_is_shown_and_problems_show_at_once(qtbot, tmp_path) -> None:
    raw = json.loads(data_path("resources", "examples", "housing_regression.json").read_text("utf-8"))
    columns = {**raw["data"]["columns"], "price": ["median_value"]}  # a column the file does not have
    spec = housing_design(tmp_path / "d", data={"path": "housing.csv", "columns": columns})
    window = shown_window(qtbot, tmp_path, spec)
    tab = window.data_tab
    qtbot.wait(300)
    assert tab.frame is None and not tab.active and tab.pending_key is None  # nothing read yet
    # The data-file check of the Problems panel reads only the header: it is there from the start.
    codes = [window.problems.tree.topLevelItem(i).text(0) for i in range(window.problems.tree.topLevelItemCount())]
    assert "E308" in codes

    click_tab(window, tab)
    qtbot.waitUntil(lambda: tab.preview.columnCount() == 9, timeout=30_000)
    assert column_names(tab)[:2] == ["MedInc", "HouseAge"]
    assert tab.preview_caption.text() == "First 20 of 6000 rows, 9 columns"
    features = tab.feature_lists["features"]
    assert [features.item(r).text() for r in range(features.count())][-1] == "MedHouseVal"
    assert tab.target_boxes["price"].count() == 10  # "(no column)" and the file's nine columns
    qtbot.waitUntil(features.isVisible)
    qtbot.wait(300)  # the new mapping widgets are shown and laid out on the next turns of the event loop
    window.grab().save(str(tmp_path / "data_tab.png"))
    close_clean(window)


def test_the_window_stays_usable_while_the_file_is_read_and_keeps_what_was_typed(qtbot, tmp_path, monkeypatch) -> None:
    import mlpdesigner.gui.data_tab as data_tab_module

    release = threading.Event()
    real_read = data_tab_module.read_table

    def slow_read(path):  # noqa: ANN001, ANN202 - a large file: the read takes until the test says so
        assert threading.current_thread() is not threading.main_thread()
        release.wait(30)
        return real_read(path)

    monkeypatch.setattr(data_tab_module, "read_table", slow_read)
    spec = housing_design(tmp_path / "d", inputs=[{"name": "features", "shape": [8], "normalize": False}])
    window = shown_window(qtbot, tmp_path, spec)
    tab = window.data_tab
    click_tab(window, tab)
    assert tab.pending_key is not None and tab.preview_caption.text() == "Reading housing.csv…"
    assert tab.advice_tree.topLevelItemCount() == 0

    # Meanwhile the user types a filter and edits the design: nothing waits for the read, nothing is lost.
    tab.column_filter.setFocus()
    QTest.keyClicks(tab.column_filter, "ave")
    layers_before = len(window.document.raw["network"]["layers"])
    toolbar = window.findChild(QToolBar, "main_toolbar")
    dense = toolbar.widgetForAction(window.layers.add_actions["dense"])
    QTest.mouseClick(dense, Qt.MouseButton.LeftButton)
    assert len(window.document.raw["network"]["layers"]) == layers_before + 1
    assert tab.pending_key is not None and tab.frame is None

    release.set()
    qtbot.waitUntil(lambda: tab.frame is not None, timeout=30_000)
    assert tab.column_filter.text() == "ave"
    features = tab.feature_lists["features"]
    shown_rows = [features.item(r).text() for r in range(features.count()) if not features.item(r).isHidden()]
    assert shown_rows == ["AveRooms", "AveBedrms", "AveOccup"]
    qtbot.waitUntil(features.isVisible)
    qtbot.wait(300)
    assert len(window.document.raw["network"]["layers"]) == layers_before + 1
    assert window.document.undo_stack.undoText().startswith("Add")
    # The checks on the table arrive with it: the inputs are not standardized and their scales differ.
    kinds = {a.kind for a in tab.advice}
    assert "scale" in kinds and tab.advice_tree.topLevelItemCount() == len(tab.advice)
    window.grab().save(str(tmp_path / "data_tab_after_read.png"))
    close_clean(window)


def test_opening_a_design_with_data_imports_no_pandas(tmp_path) -> None:
    """The designer opens a design with a data file, shows it and idles without reading the file."""
    spec = housing_design(tmp_path / "d")
    script = f"""
import sys
from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from mlpdesigner.gui.app import application
from mlpdesigner.gui.main_window import MainWindow
app = application()
window = MainWindow(settings=QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat),
                    recovery_dir={str(tmp_path / 'recovery')!r})
window.open_file({str(spec)!r})
window.show()
QTest.qWait(1000)  # the event loop runs; the window idles on its diagram
print(window.document.spec.ok, window.data_tab.frame is None, "pandas" in sys.modules)
window.tabs.setCurrentWidget(window.data_tab)
assert window.data_tab.wait_for_read()
print(window.data_tab.frame is not None, "pandas" in sys.modules)
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "MLPDESIGNER_WARM_WORKER": "0"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-2:] == ["True True False", "True True"]
