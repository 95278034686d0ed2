"""Scenarios of issue 12 (window, diagram, data tab, training view, keyboard), driven as a person would:
key clicks and mouse clicks on the real widgets, the real actions and shortcuts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window, open_data_tab  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QPushButton, QToolBar  # noqa: E402

from mlpdesigner.resources import data_path  # noqa: E402


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


def shown(qtbot, window):  # noqa: ANN001, ANN201
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def type_into_spinbox(spin, text: str) -> None:  # noqa: ANN001
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin, text)
    QTest.keyClick(spin, Qt.Key.Key_Return)


# ----- 1. Run > Train, F5 and the toolbar use the Training tab's Epochs box ---------------------------------
@pytest.mark.parametrize("how", ["f5", "menu", "toolbar"])
def test_every_train_command_uses_the_epochs_box(qtbot, tmp_path, monkeypatch, how) -> None:
    import mlpdesigner.gui.run_control as run_control

    asked: list[int | None] = []

    def fake_command(spec_path, run_dir, epochs=None, init_from=None):  # noqa: ANN001, ANN202
        asked.append(epochs)
        return [sys.executable, "-c", "pass"]

    monkeypatch.setattr(run_control, "train_command", fake_command)
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d")))
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.train_view
    type_into_spinbox(window.train_view.epochs, "3")
    assert window.train_view.epochs.value() == 3
    if how == "f5":
        QTest.keyClick(window.train_view, Qt.Key.Key_F5)
    elif how == "menu":
        window.train_action.trigger()
    else:
        toolbar = window.findChild(QToolBar, "main_toolbar")
        qtbot.mouseClick(toolbar.widgetForAction(window.train_action), Qt.MouseButton.LeftButton)
    assert asked == [3]
    qtbot.waitUntil(lambda: not window.train_view.training, timeout=30_000)
    close_clean(window)


# ----- 7. Applying the normalize data fix removes the advice and its button ----------------------------------
def test_applied_normalize_fix_leaves_the_data_checks(qtbot, tmp_path) -> None:
    raw_inputs = json.loads(data_path("resources", "examples", "housing_regression.json").read_text("utf-8"))["inputs"]
    raw_inputs[0]["normalize"] = False  # inputs are standardized by default (issue 13): opt out to get the advice
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d", inputs=raw_inputs)))
    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    tab = window.data_tab
    assert tab.wait_for_read()  # read on a worker thread when the tab is first shown (issue 18)
    tree = tab.advice_tree
    row = next(i for i, a in enumerate(tab.advice) if a.kind == "scale")
    item = tree.topLevelItem(row)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert tab.fix_button.isEnabled() and tab.fix_button.text() == "Normalize this input"
    qtbot.mouseClick(tab.fix_button, Qt.MouseButton.LeftButton)
    assert window.document.raw["inputs"][0]["normalize"] is True
    assert not any(a.kind == "scale" for a in tab.advice)
    texts = [tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())]
    assert not any("not normalized" in t for t in texts)
    assert not tab.fix_button.isEnabled() and tab.fix_button.text() == "Apply fix"
    close_clean(window)


# ----- 8. Closing during a run asks, and never blocks the GUI thread while the child stops ------------------------
#: A child that takes a while to end after SIGTERM, as a run finishing its batch does.
SLOW_TO_STOP = (
    "import json, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(1.5), sys.exit(0)))\n"
    "print(json.dumps({'event': 'start', 'epochs': 5}), flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.mark.parametrize("answer", ["cancel", "stop"])
def test_quit_during_a_run_asks_and_stops_it_in_the_background(qtbot, tmp_path, monkeypatch, answer) -> None:
    import mlpdesigner.gui.run_control as run_control

    monkeypatch.setattr(run_control, "train_command", lambda *_a, **_k: [sys.executable, "-c", SLOW_TO_STOP])
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d")))
    QTest.keyClick(window, Qt.Key.Key_F5)
    run = window.train_view.run
    qtbot.waitUntil(lambda: run.state.status == "running" and run.state.epochs == 5, timeout=30_000)
    window.dialogs.stop_answers.append(answer)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert window.dialogs.asked_stop == ["A training run"]
    if answer == "cancel":
        assert window.isVisible() and run.running and not run.state.stop_requested
        window.train_view.run.process.kill()
        qtbot.waitUntil(lambda: not run.running, timeout=30_000)
        close_clean(window)
        return
    # The key press returned while the child is still finishing: the GUI thread did not wait for it.
    assert run.running and run.state.stop_requested and window.isVisible()
    assert "Stopping the run" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert not run.running and run.state.status == "stopped"
    assert window.dialogs.asked_stop == ["A training run"]  # asked once


# ----- 5. A new CSV is checked against the mapping: errors at /data/columns/… with fixes -------------------------
def choose_csv(qtbot, window, csv: Path) -> None:  # noqa: ANN001
    """The Data tab's "Choose CSV…" button, answered with ``csv``."""
    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    window.dialogs.data_files.append(str(csv))
    qtbot.mouseClick(window.data_tab.choose_button, Qt.MouseButton.LeftButton)


def problem_rows(window) -> list[tuple[str, str, str]]:  # noqa: ANN001
    tree = window.problems.tree
    return [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1), tree.topLevelItem(i).text(3))
            for i in range(tree.topLevelItemCount())]


def click_problem(qtbot, window, code: str, where: str = "") -> None:  # noqa: ANN001
    tree = window.problems.tree
    row = next(i for i, (c, w, _m) in enumerate(problem_rows(window)) if c == code and where in w)
    item = tree.topLevelItem(row)
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert tree.currentItem() is item


def test_a_new_csv_without_the_mapped_columns_is_an_error_with_fixes(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d")))
    assert window.document.spec.ok
    flowers = tmp_path / "d" / "flowers.csv"
    flowers.write_bytes(data_path("resources", "datasets", "flowers.csv").read_bytes())
    choose_csv(qtbot, window, flowers)
    assert window.document.raw["data"]["path"] == "flowers.csv"
    rows = problem_rows(window)
    features = next(r for r in rows if r[0] == "E308" and "/data/columns/features" in r[1])
    assert "'MedInc'" in features[2] and "sepal_length" in features[2]
    assert any(r[0] == "E308" and "/data/columns/price" in r[1] and "'MedHouseVal'" in r[2] for r in rows)
    assert window.status_label.text().startswith("2 errors: flowers.csv has no column")
    assert window.data_tab.mapping_problems.isVisible()
    assert window.data_tab.mapping_problems.text().startswith("2 data errors (features, price): flowers.csv has no")
    assert not window.train_view.start_training()  # training refuses instead of failing in the child
    click_problem(qtbot, window, "E308", "/data/columns/price")
    assert window.problems.fix_button.isEnabled()
    qtbot.mouseClick(window.problems.fix_button, Qt.MouseButton.LeftButton)
    assert "price" not in window.document.raw["data"]["columns"]
    assert window.document.undo_stack.undoText() == "Apply fix: Clear the mapping of price"

    # The same columns, spelled differently: the fix maps them by name.
    renamed = tmp_path / "d" / "renamed.csv"
    lines = (tmp_path / "d" / "housing.csv").read_text("utf-8").splitlines()
    lines[0] = lines[0].lower().replace("medinc", "med_inc")
    renamed.write_text("\n".join(lines) + "\n", "utf-8")
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    choose_csv(qtbot, window, renamed)
    click_problem(qtbot, window, "E308", "/data/columns/features")
    assert window.problems.fix_button.toolTip().startswith("Map features by name (med_inc, houseage")
    qtbot.mouseClick(window.problems.fix_button, Qt.MouseButton.LeftButton)
    assert window.document.raw["data"]["columns"]["features"][:2] == ["med_inc", "houseage"]
    click_problem(qtbot, window, "E308", "/data/columns/price")
    qtbot.mouseClick(window.problems.fix_button, Qt.MouseButton.LeftButton)
    assert window.document.raw["data"]["columns"]["price"] == ["medhouseval"]
    assert window.document.spec.ok and window.status_label.text().startswith("valid")
    close_clean(window)


# ----- 6. Templates find their bundled data wherever saved; a missing file is a problem with a locate fix ----------
def test_a_template_saved_elsewhere_still_finds_its_data_and_a_lost_file_can_be_located(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path))
    window.dialogs.templates.append("housing_regression")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.document.raw["name"] == "housing_regression"
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    window.dialogs.paths.append(str(elsewhere / "mine.json"))
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.document.path == (elsewhere / "mine.json").resolve()
    assert window.document.spec.ok, [p.message for p in window.document.spec.errors]
    assert window.data_tab.data_file().is_file() and window.data_tab.frame is None  # not read until shown
    assert open_data_tab(qtbot, window).frame is not None

    # A design whose data file is gone: an error in Problems with a fix that locates the file.
    lost = housing_design(tmp_path / "lost")
    (tmp_path / "lost" / "housing.csv").rename(tmp_path / "moved.csv")
    window.dialogs.paths.append(str(lost))
    QTest.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.document.path == lost.resolve()
    rows = problem_rows(window)
    assert rows[0][0] == "E307" and "/data/path" in rows[0][1] and "Data file not found" in rows[0][2]
    assert window.status_label.text().startswith("1 error: Data file not found")
    click_problem(qtbot, window, "E307")
    window.dialogs.data_files.append(str(tmp_path / "moved.csv"))
    qtbot.mouseClick(window.problems.fix_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.data_tab
    assert window.document.raw["data"]["path"] == "../moved.csv"
    assert window.data_tab.wait_for_read()
    assert window.document.spec.ok and window.data_tab.frame is not None
    close_clean(window)


# ----- 7. New advice; serious mismatches in the status bar; Apply all -------------------------------------------
def test_new_advice_serious_mismatch_in_the_status_bar_and_apply_all(qtbot, tmp_path) -> None:
    layers = [
        {"type": "dense", "units": 30, "activation": "relu"},
        {"type": "batch_normalization"},
        {"type": "batch_normalization"},
        {"type": "dense", "units": 30, "activation": "softmax"},
        {"type": "dropout", "rate": 0.95},
        {"type": "dense", "units": 30, "activation": "relu"},
    ]
    spec = housing_design(tmp_path / "d", network={"topology": "sequential", "layers": layers})
    raw = json.loads(spec.read_text("utf-8"))
    raw["training"].update(optimizer={"name": "adam", "learning_rate": 2}, batch_size=100_000)
    spec.write_text(json.dumps(raw), "utf-8")
    window = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    rows = problem_rows(window)
    codes = {code for code, _where, _message in rows}
    assert {"W409", "W410", "W411", "W412", "W413"} <= codes, rows
    assert any(c == "W409" and w.startswith("dense_2  /network/layers/3") for c, w, _m in rows)  # layer names
    assert window.status_label.text().startswith("valid")

    click_problem(qtbot, window, "W405")
    apply_all = window.problems.fix_all_button
    assert apply_all.isEnabled() and apply_all.text() == "Apply all 2"
    qtbot.mouseClick(apply_all, Qt.MouseButton.LeftButton)
    layers_now = window.document.raw["network"]["layers"]
    assert [layer.get("kernel_initializer") for layer in layers_now if layer["type"] == "dense"][::2] == [
        "he_normal", "he_normal"]
    assert "W405" not in {c for c, _w, _m in problem_rows(window)}
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step undoes them all
    assert sum(c == "W405" for c, _w, _m in problem_rows(window)) == 2

    # A serious mismatch: softmax over one unit is not "valid" in the status bar.
    window.document.apply([{"op": "add", "path": "/outputs/0/activation", "value": "softmax"}], "softmax")
    assert window.status_label.text().startswith("not ready: Softmax over a single unit")
    close_clean(window)


# ----- 6. The diagram: drawn despite mapping errors, badges on blocks, large networks readable ------------------
def thirty_layers(folder: Path, identical: bool) -> Path:
    if identical:
        layers = [{"type": "dense", "units": 64, "activation": "relu", "kernel_initializer": "he_normal"}] * 30
    else:
        layers = [{"type": "dense", "units": 64 - 2 * i, "activation": "relu", "kernel_initializer": "he_normal"}
                  for i in range(30)]
    return housing_design(folder, name="deep30", network={"topology": "sequential", "layers": layers})


def test_mapping_errors_never_hide_the_network_and_show_as_badges(qtbot, tmp_path) -> None:
    spec = housing_design(tmp_path / "d")
    raw = json.loads(spec.read_text("utf-8"))
    raw["data"]["columns"]["features"] = ["MedInc"]  # 1 column for an input of 8: E306
    raw["data"]["columns"]["price"] = ["NoSuchColumn"]  # not in the file: E308
    spec.write_text(json.dumps(raw), "utf-8")
    window = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    assert {p.code for p in window.document.spec.errors} == {"E306", "E308"}
    canvas = window.canvas
    # With the issue-13 defaults the diagram also shows the input's standardization and the target scaling.
    assert set(canvas.blocks) == {"features", "features_normalization", "dense_1", "price_raw", "price"}
    assert canvas.blocks["features"].badge == "E306" and canvas.blocks["price"].badge == "E308"
    assert canvas.blocks["dense_1"].badge == ""
    assert "2 errors" in canvas.error_note.text()
    image = canvas.grab()
    assert not image.isNull()
    close_clean(window)


def test_thirty_identical_layers_collapse_and_a_long_network_wraps(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, file=thirty_layers(tmp_path / "a", identical=True)))
    canvas = window.canvas
    assert len(canvas.order) == 5  # input, its standardization, one block ×30, output, its target scaling
    stack = canvas.blocks["dense_1"]
    assert stack is canvas.blocks["dense_30"] and "×30" in stack.lines[0]
    window.collapse_action.trigger()  # View ▸ Collapse repeated layers off: every layer
    assert len(canvas.order) == 34  # and the two preprocessing blocks
    columns = {round(block.pos().x()) for block in canvas.order}
    assert len(columns) >= 3  # wrapped into columns
    canvas.fit()
    assert canvas.transform().m11() >= 0.3  # one 32-block column fitted to 14%
    window.wrap_action.trigger()
    assert len({round(block.pos().x()) for block in canvas.order}) == 1
    close_clean(window)


# ----- 8. Keyboard: Tab order, F6, arrow keys on the diagram, Enter on a problem, Redo keys, fixed toolbar --------
def focus_pane(window) -> int | None:  # noqa: ANN001
    return window._pane_index(QApplication.focusWidget())


def test_keyboard_walks_the_panes_the_diagram_and_the_problems(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, example="wide_deep_aux_output"))
    outline = window.layers.list
    qtbot.mouseClick(outline.viewport(), Qt.MouseButton.LeftButton,
                     pos=outline.visualItemRect(outline.item(1)).center())
    assert focus_pane(window) == 0
    visited = [0]
    for _ in range(60):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        pane = focus_pane(window)
        if pane != visited[-1]:
            visited.append(pane)
        if len(visited) == 5:
            break
    assert visited == [0, 1, 2, 3, 0]  # outline -> diagram -> inspector -> problems -> outline

    # F6 cycles the panes, Shift+F6 back.
    steps = []
    for _ in range(4):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6)
        steps.append(focus_pane(window))
    assert steps == [1, 2, 3, 0]
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    assert focus_pane(window) == 3

    # Arrow keys on the diagram walk the blocks.
    canvas = window.canvas
    first = canvas.order[0]
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.mapFromScene(first.scenePos()))
    assert window.document.selection == first.subject
    QTest.keyClick(canvas, Qt.Key.Key_Down)  # passes over the input's standardization block (same subject)
    assert window.document.selection == canvas.order[2].subject != first.subject
    QTest.keyClick(canvas, Qt.Key.Key_Up)
    assert window.document.selection == first.subject
    QTest.keyClick(canvas, Qt.Key.Key_End)
    assert window.document.selection == canvas.order[-1].subject

    # Enter on a problem row goes to its place.
    window.document.apply([{"op": "replace", "path": "/network/deep/layers/0/units", "value": 500}], "wide")
    tree = window.problems.tree
    row = next(i for i, p in enumerate(window.problems.problems) if p.code == "I502")
    tree.setFocus()
    window.problems.select_row(row)
    window.document.select("")
    QTest.keyClick(tree, Qt.Key.Key_Return)
    assert window.document.selection == "/network/deep/layers/0"
    close_clean(window)


def test_redo_on_both_keys_and_a_toolbar_that_does_not_shift(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, example="housing_regression"))
    toolbar = window.findChild(QToolBar, "main_toolbar")
    undo_button = toolbar.widgetForAction(window.undo_action)
    train_x = toolbar.widgetForAction(window.train_action).x()
    width = undo_button.width()
    qtbot.mouseClick(toolbar.widgetForAction(window.layers.add_actions["dropout"]), Qt.MouseButton.LeftButton)
    layers = lambda: len(window.document.raw["network"]["layers"])  # noqa: E731
    assert layers() == 2
    QApplication.processEvents()
    assert undo_button.width() == width and toolbar.widgetForAction(window.train_action).x() == train_x
    assert "Undo" in window.undo_action.text() and window.undo_action.text() != "Undo"  # the menu says what
    for keys in ((Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier),
                 (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert layers() == 1
        QTest.keyClick(window, *keys)
        assert layers() == 2
    close_clean(window)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


# ----- 9, 10. Training view: wording, sortable runs table, legends, log ticks; the inspector keeps its width ------
def fake_run(runs: Path, name: str, stamp: str, status: str, reason: str | None, epochs: int,
             loss: float = 2.0) -> Path:
    """A run folder as ``mlpdesigner train`` writes it (run.json, metrics.json, history.csv)."""
    folder = runs / f"{name}-{stamp}"
    folder.mkdir(parents=True)
    started = f"2026-01-0{stamp[-1]}T10:00:00+00:00"
    (folder / "run.json").write_text(json.dumps({
        "spec": name, "status": status, "reason": reason, "epochs_completed": epochs,
        "timings": {"started": started}}), "utf-8")
    if epochs:
        rows = ["epoch,loss,val_loss,mae,val_mae"] + [
            f"{e},{loss / e:.4f},{loss * 1.1 / e:.4f},{1 / e:.4f},{1.2 / e:.4f}" for e in range(1, epochs + 1)]
        (folder / "history.csv").write_text("\n".join(rows) + "\n", "utf-8")
        (folder / "metrics.json").write_text(json.dumps(
            {"test": {"loss": loss / epochs, "mae": 1 / epochs}}), "utf-8")
    return folder


def housing_with_runs(tmp_path: Path) -> Path:
    spec = housing_design(tmp_path / "d")
    runs = tmp_path / "d" / "runs"
    fake_run(runs, "housing_regression", "20260101-000001", "completed", None, 12, loss=40.0)
    fake_run(runs, "housing_regression", "20260101-000002", "stopped", "stopped by SIGTERM", 3, loss=90.0)
    fake_run(runs, "housing_regression", "20260101-000003", "running", None, 0)
    return spec


def test_training_view_wording_sorting_and_comparison(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_with_runs(tmp_path)))
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    view = window.train_view
    table = view.history
    statuses = [table.item(r, 1).text() for r in range(table.rowCount())]
    assert statuses == ["interrupted", "stopped", "completed"]  # newest first; never "running" for a dead run
    assert table.item(1, 3).text() != "" and "SIGTERM" not in table.item(1, 1).toolTip()
    assert "stopped by you" in table.item(1, 1).toolTip()
    header = table.horizontalHeader()
    assert sum(header.sectionSize(c) for c in range(4)) <= table.viewport().width()  # the columns fit
    # Sort by epochs with a click on its header; the selection follows the runs, not the rows.
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(2) + 5, 5))
    epochs = [table.item(r, 2).text() for r in range(table.rowCount())]
    assert epochs in (["0", "3", "12"], ["12", "3", "0"])
    row12 = epochs.index("12")
    row3 = epochs.index("3")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(table.item(row12, 0)).center())
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     table.visualItemRect(table.item(row3, 0)).center())
    assert [r.epochs_completed for r in view.selected_records()] == sorted([12, 3], key=lambda e: epochs.index(str(e)))
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    curves = view.curves
    assert curves.legend_labels() == ["A training", "A validation", "B training", "B validation"]
    assert "<b>A</b> = run of 2026-01-0" in curves.caption.text()
    # Log-scale ticks are plain numbers (not exponents) and there are enough of them to read.
    plot = curves.plots["loss"]
    axis = plot.getAxis("left")
    assert axis.logMode
    low, high = plot.viewRange()[1]
    (_spacing, values), = axis.logTickValues(low, high, 300, [])
    labels = axis.logTickStrings(values, 1, None)
    assert len(labels) >= 3 and all("e" not in text and float(text) > 0 for text in labels), labels
    close_clean(window)


def test_a_failed_run_never_reads_running(qtbot, tmp_path, monkeypatch) -> None:
    import mlpdesigner.gui.run_control as run_control

    script = "import sys; print('boom', file=sys.stderr); sys.exit(2)"
    monkeypatch.setattr(run_control, "train_command", lambda *_a, **_k: [sys.executable, "-c", script])
    window = shown(qtbot, make_window(qtbot, tmp_path, file=housing_design(tmp_path / "d")))
    QTest.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not window.train_view.training, timeout=30_000)
    caption = window.train_view.curves.caption.text()
    assert "(failed)" in caption and "running" not in caption
    close_clean(window)


def test_the_inspector_keeps_its_width_after_training_and_in_the_saved_layout(qtbot, tmp_path) -> None:
    spec = housing_with_runs(tmp_path)
    window = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    window.resize(1280, 800)
    QApplication.processEvents()
    before = window.inspector_dock.width()
    assert before >= 300
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    view = window.train_view
    view.select_run(view.records[1].path)
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert window.inspector_dock.width() >= before - 10
    # The final metrics beside the run list read in full: every figure was cut to "0…." at this size.
    table = view.metrics_table
    assert table.rowCount() >= 2 and table.isVisible()
    fits = table.fontMetrics().horizontalAdvance
    header = table.horizontalHeader()
    for column in range(table.columnCount()):
        texts = [table.item(row, column).text() for row in range(table.rowCount())]
        assert max(map(fits, texts)) < table.columnWidth(column), (column, texts, table.columnWidth(column))
        assert header.sectionSizeHint(column) <= table.columnWidth(column) + 1, column
    assert table.viewport().width() >= sum(table.columnWidth(c) for c in range(table.columnCount())) - 1
    close_clean(window)
    window.close()
    reopened = shown(qtbot, make_window(qtbot, tmp_path, file=spec))
    reopened.resize(1280, 800)  # the saved geometry is clamped to the small offscreen screen first
    qtbot.waitUntil(lambda: reopened.inspector_dock.width() >= 300)
    close_clean(reopened)


def test_data_tab_fits_1280x800_and_maps_filtered_columns_in_one_step(qtbot, tmp_path) -> None:
    window = shown(qtbot, make_window(qtbot, tmp_path, example="wide_deep_aux_output"))
    window.resize(1280, 800)
    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    tab = window.data_tab
    assert tab.wait_for_read()
    QApplication.processEvents()
    # Nothing cut off: buttons as wide as their text, the advice rows as tall as their wrapped text.
    for button in tab.findChildren(QPushButton):
        if button.isVisible():
            assert button.width() >= button.sizeHint().width() - 2, button.text()
    tree = tab.advice_tree
    assert tree.topLevelItemCount() >= 1
    for row in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(row)
        needed = tree.fontMetrics().boundingRect(0, 0, tree.columnWidth(1) - 10, 10_000,
                                                 int(Qt.TextFlag.TextWordWrap), item.text(1)).height()
        assert tree.visualItemRect(item).height() >= needed, item.text(1)

    before = list(window.document.raw["data"]["columns"]["deep"])
    tab.column_filter.setFocus()
    QTest.keyClicks(tab.column_filter, "ave")
    shown_rows = [tab.feature_lists["deep"].item(r).text() for r in range(tab.feature_lists["deep"].count())
                  if not tab.feature_lists["deep"].item(r).isHidden()]
    assert shown_rows == ["AveRooms", "AveBedrms", "AveOccup"]
    every, none = tab.bulk_buttons["deep"]
    qtbot.mouseClick(none, Qt.MouseButton.LeftButton)
    after = window.document.raw["data"]["columns"]["deep"]
    assert after == [c for c in before if not c.startswith("Ave")]
    assert window.document.raw["inputs"][1]["shape"] == [len(after)]
    qtbot.mouseClick(every, Qt.MouseButton.LeftButton)
    assert set(window.document.raw["data"]["columns"]["deep"]) == set(after) | set(shown_rows)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step per click
    assert window.document.raw["data"]["columns"]["deep"] == after
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.raw["data"]["columns"]["deep"] == before
    close_clean(window)


# ----- 11. The gallery: readable titles, a why per design, a blank design, a preview --------------------------
def test_gallery_titles_why_preview_and_a_blank_design(qtbot, tmp_path) -> None:
    from mlpdesigner.gui.gallery import TemplateGallery

    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    qtbot.waitExposed(gallery)
    titles = [gallery.list.item(r).text().splitlines() for r in range(gallery.list.count())]
    assert titles[0][0] == "Blank design"
    for lines in titles:
        assert "_" not in lines[0] and len(lines) == 3 and lines[1].endswith((".", ")"))  # title, why, kind
    gallery.list.setFocus()
    seen = set()
    for _ in range(3):
        QTest.keyClick(gallery.list, Qt.Key.Key_Down)
        template = gallery.chosen()
        assert f"<h3>{template.title}</h3>" in gallery.description.text()
        assert template.why in gallery.description.text()
        names = frozenset(gallery.preview.blocks)
        assert names and names not in seen  # the preview shows this design's network
        seen.add(names)

    window = shown(qtbot, make_window(qtbot, tmp_path))
    window.dialogs.templates.append("blank")
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.document.spec.ok and set(window.canvas.blocks) == {
        "features", "features_normalization", "dense_1", "target_raw", "target"}
    assert window.document.path is None and "untitled" in window.windowTitle()
    close_clean(window)
