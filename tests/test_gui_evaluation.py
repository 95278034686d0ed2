"""The designer's Evaluation tab (issue 14): a run's evaluation views, and two runs side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QTabWidget  # noqa: E402

from mlpdesigner.resources import data_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = os.environ.get("MLPDESIGNER_EVALUATION_SCREENSHOT")

TRAIN_TWO_RUNS = """
import sys
from mlpdesigner.train.runner import train
spec, runs = sys.argv[1], sys.argv[2]
for stamp, seed, epochs in (("20260101-090000", 1, 2), ("20260101-100000", 2, 12)):
    result = train(spec, out=f"{runs}/flowers_multiclass-{stamp}", seed=seed, epochs=epochs)
    assert result.status == "completed", result.reason
"""


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flowers example beside its CSV, with two finished runs in its runs/ folder (trained in a child)."""
    folder = tmp_path_factory.mktemp("design")
    raw = json.loads(data_path("resources", "examples", "flowers_multiclass.json").read_text("utf-8"))
    raw["data"]["path"] = "flowers.csv"
    raw["training"].pop("early_stopping", None)
    (folder / "flowers.csv").write_bytes(data_path("resources", "datasets", "flowers.csv").read_bytes())
    spec = folder / "flowers_multiclass.json"
    spec.write_text(json.dumps(raw, indent=2), "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", TRAIN_TWO_RUNS, str(spec), str(folder / "runs")],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return spec


def click_tab(qtbot, tabs: QTabWidget, title: str) -> None:  # noqa: ANN001
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(index).center())
    assert tabs.currentIndex() == index


def click_run(qtbot, view, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:  # noqa: ANN001
    table = view.history
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


@pytest.mark.slow
def test_evaluation_tab_shows_a_run_and_compares_two(qtbot, tmp_path: Path, design: Path) -> None:
    window = make_window(qtbot, tmp_path, file=design)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.train_view)
    view = window.train_view
    assert view.history.rowCount() == 2
    view.splitter.setSizes([560, 140])  # the user drags the pictures' area taller
    click_tab(qtbot, view.views, "Evaluation")
    evaluation = view.evaluation
    assert evaluation.columns == []  # nothing chosen yet: the caption says what to do
    assert "Select a run" in evaluation.caption.text()

    click_run(qtbot, view, 0)  # newest first: the 12-epoch run
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert view.views.currentWidget() is evaluation  # the tab stays where the user put it
    [column] = evaluation.columns
    stored = json.loads((view.records[0].path / "evaluation.json").read_text())["outputs"]["species"]
    assert column.title.text() == view.records[0].name
    # The key figures show at once; the picture (runs store none) is drawn off the GUI thread and follows.
    assert f"accuracy {stored['accuracy']:.4g}" in column.summary.text()
    assert column.picture is None and column.note is not None and column.note.text() == "Drawing the picture…"
    qtbot.waitUntil(lambda: evaluation.drawing is None, timeout=30_000)
    [column] = evaluation.columns
    assert column.picture is not None and not column.picture.pixmap.isNull()
    table = column.table
    assert table is not None and table.rowCount() == len(stored["classes"]) == 3
    assert [table.item(r, 0).text() for r in range(3)] == stored["classes"]
    assert table.item(0, 4).text() == str(stored["per_class"][0]["support"])
    qtbot.waitUntil(lambda: column.isVisible() and column.picture.drawn_rect().width() > 200)
    picture = column.picture
    ratio = picture.drawn_rect().width() / picture.drawn_rect().height()
    assert ratio == pytest.approx(picture.pixmap.width() / picture.pixmap.height(), rel=0.02)  # not stretched
    qtbot.mouseDClick(picture, Qt.MouseButton.LeftButton)
    assert picture.enlarged is not None and picture.enlarged.isVisible()
    assert "species" in picture.enlarged.windowTitle()
    picture.enlarged.close()

    click_run(qtbot, view, 1, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    assert [c.title.text() for c in evaluation.columns] == [f"A: {view.records[0].name}",
                                                            f"B: {view.records[1].name}"]
    qtbot.waitUntil(lambda: evaluation.drawing is None, timeout=30_000)  # run B's picture
    left, right = evaluation.columns
    assert left.summary.text() != right.summary.text()  # 12 epochs against 2
    qtbot.waitUntil(lambda: right.picture is not None and right.picture.drawn_rect().width() > 100)
    assert right.mapTo(evaluation, QPoint(0, 0)).x() > left.mapTo(evaluation, QPoint(0, 0)).x()  # side by side
    assert "Comparing" in evaluation.caption.text()
    if SCREENSHOT:  # the README's picture: a larger window, the pictures' area dragged taller
        window.resize(1600, 1000)
        view.splitter.setSizes([760, 140])
        qtbot.waitUntil(lambda: right.picture is not None and right.picture.drawn_rect().width() > 250)
        window.grab().save(SCREENSHOT)
    close_clean(window)


def test_a_run_without_views_says_how_to_get_them(qtbot, tmp_path: Path) -> None:
    from mlpdesigner.gui.evaluation_view import EvaluationView

    view = EvaluationView()
    qtbot.addWidget(view)
    run = tmp_path / "old-run"
    run.mkdir()
    view.show_runs([("old", run)])
    [column] = view.columns
    assert f"mlpdesigner evaluate {run} --views" in column.summary.text() and column.picture is None
    (run / "evaluation.json").write_text(json.dumps({
        "format": 1, "split": "test", "rows": 4, "figures": {}, "figures_error": "RuntimeError: no fonts",
        "outputs": {"y": {"task": "binary", "classes": ["<b>no</b>", "yes"], "accuracy": 0.5, "macro_f1": 0.5,
                          "roc_auc": 0.75, "roc": {}, "per_class": [{"class": "<b>no</b>", "support": 2}]}}}))
    view.show_runs([("old", run)])
    [column] = view.columns
    assert "ROC AUC 0.75" in column.summary.text() and column.picture is None
    assert column.table is not None and column.table.item(0, 0).text() == "<b>no</b>"
    assert column.title.textFormat() == Qt.TextFormat.PlainText


def test_the_view_draws_the_pictures_of_a_run_that_has_none_yet(qtbot, tmp_path: Path) -> None:
    """Runs store the views' data only (issue 18); showing one draws its picture and keeps it in the run folder.

    The drawing (matplotlib: one to two seconds with its import) happens on a background thread, so the view
    shows the key figures and table at once and says the picture is being drawn.
    """
    import numpy as np

    from mlpdesigner.evaluation import evaluate_outputs, write_evaluation
    from mlpdesigner.gui.evaluation_view import EvaluationView

    truth = np.arange(40) % 2
    views = evaluate_outputs([{"name": "y", "task": "binary"}], {"y": truth}, {"y": truth * 0.6 + 0.2})
    write_evaluation(tmp_path, views, split="test", rows=40, draw=False)
    assert not (tmp_path / "evaluation").exists()
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.show_runs([("new", tmp_path)])
    [column] = view.columns  # shown at once, before the picture is drawn: the window does not freeze
    assert "ROC AUC" in column.summary.text() and column.table is not None
    assert column.picture is None and column.note is not None and column.note.text() == "Drawing the picture…"
    qtbot.waitUntil(lambda: view.drawing is None, timeout=30_000)
    [column] = view.columns
    qtbot.waitUntil(lambda: column.picture is not None and column.picture.drawn_rect().width() > 100)
    stored = json.loads((tmp_path / "evaluation.json").read_text())
    assert (tmp_path / stored["figures"]["y"]["png"]).read_bytes().startswith(b"\x89PNG")
