"""Training and export from the designer, end to end, each in a child process (TensorFlow never in the GUI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import ScriptedDialogs, close_clean, make_window  # noqa: E402
from PySide6.QtCore import QUrl  # noqa: E402

from mlpdesigner.gui.training import TrainingRun  # noqa: E402
from mlpdesigner.resources import data_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Generous: TensorFlow loads in each child, on a shared machine.
RUN_TIMEOUT_MS = 180_000


class RecordingDialogs(ScriptedDialogs):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def open_url(self, url: QUrl) -> bool:
        self.opened.append(url.toLocalFile())
        return True


def flowers_design(folder: Path, **training) -> Path:
    """The flowers example with its CSV beside it, trained for a few epochs."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = json.loads(data_path("resources", "examples", "flowers_multiclass.json").read_text("utf-8"))
    raw["data"]["path"] = "flowers.csv"
    raw["training"].update({"epochs": 3, **training})
    raw["training"].pop("early_stopping", None)
    (folder / "flowers.csv").write_bytes(data_path("resources", "datasets", "flowers.csv").read_bytes())
    spec = folder / "flowers_multiclass.json"
    spec.write_text(json.dumps(raw, indent=2), "utf-8")
    return spec


def window_on(qtbot, tmp_path, spec):  # noqa: ANN001, ANN201
    window = make_window(qtbot, tmp_path, file=spec)
    window.dialogs = RecordingDialogs()
    return window


def finish(qtbot, window):  # noqa: ANN001, ANN201
    view = window.train_view
    assert view.run is not None
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        pass
    return blocker.args[0]


@pytest.mark.slow
def test_train_from_the_designer_with_curves_every_epoch_and_history(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    window = window_on(qtbot, tmp_path, spec)
    view = window.train_view
    epochs_seen: list[int] = []
    points_seen: list[int] = []

    def on_event(event: dict) -> None:
        if event["event"] == "epoch":
            epochs_seen.append(event["epoch"])
            points_seen.append(len(view.curves.points("loss")))

    assert window.train()
    view.run.event.connect(on_event)
    assert view.training and not view.train_button.isEnabled() and window.stop_action.isEnabled()
    # The editor stays usable while the child trains.
    window.document.select("/network/layers/0")
    window.inspector.fields["/network/layers/0/units"].setValue(17)
    assert window.document.raw["network"]["layers"][0]["units"] == 17
    state = finish(qtbot, window)
    assert state.status == "completed", state.message
    assert epochs_seen == [1, 2, 3]
    assert points_seen == [1, 2, 3]  # a point per epoch, drawn as each epoch arrived
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert view.curves.points(key) == [1.0, 2.0, 3.0]
    assert set(view.curves.plots) == {"loss", "accuracy"}
    run_dir = state.run_dir
    assert run_dir.parent == tmp_path / "design" / "runs" and run_dir.name.startswith("flowers_multiclass-")
    assert (run_dir / "model.keras").is_file()
    # The spec was edited while training: the run trained the file as it was saved (units 16 or the example's).
    trained = json.loads((run_dir / "spec.json").read_text("utf-8"))
    assert trained["network"]["layers"][0]["units"] != 17
    table = view.metrics_table
    metrics = {table.item(r, 0).text(): [table.item(r, c).text() for c in (1, 2, 3)] for r in range(table.rowCount())}
    assert set(metrics) == {"loss", "accuracy"} and all(v != "-" for v in metrics["accuracy"])
    assert view.history.rowCount() == 1 and view.history.item(0, 1).text() == "completed"
    assert view.history.item(0, 3).text().startswith("test: ")
    assert "Epoch 3/3" in view.progress_label.text() and view.progress.value() == 1000
    assert "epoch 3/3" in view.log.toPlainText()

    # Untrained edits are trained from a temporary copy; the second run joins the history.
    assert window.document.dirty
    assert window.train(epochs=2)
    state2 = finish(qtbot, window)
    assert state2.status == "completed", state2.message
    trained2 = json.loads((state2.run_dir / "spec.json").read_text("utf-8"))
    assert trained2["network"]["layers"][0]["units"] == 17
    assert Path(trained2["data"]["path"]).name == "flowers.csv"
    assert not Path(view.run.argv[4]).exists()  # the temporary copy is gone
    assert view.history.rowCount() == 2
    view.history.selectAll()
    view.compare_selected()
    assert view.curves.points("loss", 0) == [1.0, 2.0] and view.curves.points("loss", 1) == [1.0, 2.0, 3.0]
    assert "Comparing" in view.curves.caption.text()
    view.select_run(run_dir)
    view.show_selected()
    assert view.curves.points("val_accuracy") == [1.0, 2.0, 3.0]
    view.open_selected_folder()
    assert window.dialogs.opened == [str(run_dir)]
    close_clean(window)


@pytest.mark.slow
def test_stop_a_run_part_way(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design", epochs=5000, batch_size=8)
    window = window_on(qtbot, tmp_path, spec)
    view = window.train_view
    assert window.train()
    qtbot.waitUntil(lambda: len(view.run.state.history) >= 2, timeout=RUN_TIMEOUT_MS)
    view.stop_button.click()
    assert not view.stop_button.isEnabled()
    state = finish(qtbot, window)
    assert state.status == "stopped" and "SIGTERM" in (state.reason or "")
    assert 2 <= state.epoch < 5000
    assert "Run stopped after" in view.banner.text() and not view.banner.isHidden()
    record = view.records[0]
    assert record.status == "stopped" and view.history.item(0, 1).text() == "stopped"
    assert (state.run_dir / "model.keras").is_file()
    assert view.train_button.isEnabled()
    close_clean(window)


def test_failed_run_shows_its_own_message_and_the_editor_keeps_working(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    # Issue 12 changed this: a missing data file is now an error before training starts (E307), so the
    # run fails on what only reading the data finds: a value that is not a number.
    csv = tmp_path / "design" / "flowers.csv"
    lines = csv.read_text("utf-8").splitlines()
    lines[5] = "oops," + lines[5].split(",", 1)[1]
    csv.write_text("\n".join(lines) + "\n", "utf-8")
    window = window_on(qtbot, tmp_path, spec)
    view = window.train_view
    assert window.train()
    state = finish(qtbot, window)
    assert state.status == "failed"
    assert "flowers.csv" in state.message and "row 6" in state.message and "'oops'" in state.message
    assert view.banner.text().startswith("Training failed: ") and "flowers.csv" in view.banner.text()
    assert "flowers.csv" in window.statusBar().currentMessage()
    assert view.history.rowCount() == 0 and view.train_button.isEnabled()
    window.layers.add_actions["dense"].trigger()
    assert len(window.document.raw["network"]["layers"]) == 3
    close_clean(window)


def test_a_crash_without_an_end_event_shows_the_last_stderr_lines(qtbot) -> None:
    script = "import sys; print('loading'); print('MemoryError: out of memory', file=sys.stderr); sys.exit(3)"
    run = TrainingRun([sys.executable, "-c", script])
    with qtbot.waitSignal(run.finished, timeout=30_000) as blocker:
        run.start()
    state = blocker.args[0]
    assert state.status == "failed" and state.exit_code == 3
    assert state.message.startswith("The training process exited with code 3 before the run ended.")
    assert "MemoryError: out of memory" in state.message


def test_cannot_train_without_data_or_with_errors(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    window = window_on(qtbot, tmp_path, spec)
    view = window.train_view
    window.document.apply([{"op": "remove", "path": "/data"}], "drop data")
    assert not window.train() and "no data" in view.banner.text()
    window.document.apply([{"op": "replace", "path": "/outputs/0/units", "value": 0}], "break")
    assert not window.train() and "error" in view.banner.text()
    assert view.run is None
    close_clean(window)


@pytest.mark.slow
def test_export_onnx_from_the_dialog_shows_the_parity_figure(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    run_dir = tmp_path / "design" / "runs" / "flowers_multiclass-20260101-000000"
    subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "train", str(spec), "--out", str(run_dir), "--epochs", "1",
         "--progress", "none"],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    window = window_on(qtbot, tmp_path, spec)
    assert window.train_view.records[0].path == run_dir
    window.train_view.select_run(run_dir)
    dialog = window.open_export_dialog(window.train_view.selected_run_dir())
    assert dialog.source.currentData() == str(run_dir)
    assert dialog.fmt == "onnx" and dialog.output.text().endswith("flowers_multiclass.onnx")
    out = tmp_path / "out" / "flowers.onnx"
    out.parent.mkdir()
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=RUN_TIMEOUT_MS):
        dialog.export_button.click()
    assert dialog.report is not None, dialog.message
    assert out.is_file() and dialog.report["trained"] is True
    assert 0 <= dialog.max_abs_diff <= 1e-5
    assert f"max abs difference {dialog.max_abs_diff:.3g}" in dialog.result.text()
    dialog.open_folder_button.click()
    assert window.dialogs.opened == [str(out.parent)]

    dialog.set_format("keras")  # an error from the child is shown as the child wrote it
    dialog.output.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(dialog.exported, timeout=RUN_TIMEOUT_MS):
        dialog.export_button.click()
    assert dialog.report is None and dialog.result.text().startswith("error: ")
    assert "it is a folder" in dialog.result.text() and not dialog.open_folder_button.isEnabled()
    close_clean(window)


@pytest.mark.slow
def test_tensorflow_stays_out_of_the_designer_process(tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    script = f"""
import sys
from PySide6.QtCore import QSettings
from mlpdesigner.gui.app import application
from mlpdesigner.gui.main_window import MainWindow
app = application()
window = MainWindow(settings=QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat),
                    recovery_dir={str(tmp_path / 'recovery')!r})
window.open_file({str(spec)!r})
assert window.train(2)
state = window.train_view.wait()
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx', 'onnxruntime'))
print(state.status, len(state.history), heavy)
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "completed 2 []"


@pytest.mark.slow
def test_train_screenshot_command(tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    out = tmp_path / "training.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "gui", str(spec), "--train", "--epochs", "2", "--screenshot", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "run completed" in result.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "design" / "runs").exists()  # screenshot runs go to a scratch folder


def test_closing_the_window_ends_a_running_training(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design", epochs=5000)
    window = window_on(qtbot, tmp_path, spec)
    assert window.train()
    run = window.train_view.run
    qtbot.waitUntil(lambda: run.process.processId() > 0, timeout=30_000)
    window.show()
    # Issue 12 changed this: closing asks, stops the run without waiting on the GUI thread, and closes once it ended.
    assert not window.close()
    assert window.dialogs.asked_stop == ["A training run"]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert run.process.state() == run.process.ProcessState.NotRunning


@pytest.mark.slow
def test_nan_loss_shows_the_runs_reason(qtbot, tmp_path) -> None:
    folder = tmp_path / "design"
    folder.mkdir()
    rows = ["a,b,value"] + [f"{(i * 7919) % 1000 * 1e6:.1f},{(i * 104729) % 1000 * -1e6:.1f},1e12" for i in range(64)]
    (folder / "big.csv").write_text("\n".join(rows) + "\n", "utf-8")
    raw = {
        "format": "mlpdesigner/1", "name": "exploding",
        # Raw features and targets (standardization off) so that the learning rate of 10 explodes.
        "inputs": [{"name": "x", "shape": [2], "normalize": False}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 8, "activation": "relu"}]},
        "outputs": [{"name": "value", "task": "regression", "units": 1, "normalize": False}],
        "training": {"optimizer": {"name": "sgd", "learning_rate": 10}, "epochs": 5},
        "data": {"path": "big.csv", "columns": {"x": ["a", "b"], "value": ["value"]}},
    }
    spec = folder / "exploding.json"
    spec.write_text(json.dumps(raw), "utf-8")
    window = window_on(qtbot, tmp_path, spec)
    assert window.train()
    state = finish(qtbot, window)
    assert state.status == "failed" and "lower learning rate" in state.message
    assert state.message in window.train_view.banner.text()
    record = window.train_view.records[0]
    assert record.status == "failed" and window.train_view.history.item(0, 1).text() == "failed"
    close_clean(window)


@pytest.mark.slow
def test_cross_validation_in_the_run_history_with_the_constant_beside_the_metrics(qtbot, tmp_path) -> None:
    """A ``train --cv 3`` folder is one history row (mean ± std); opening it shows the folds and the baseline."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from mlpdesigner.train.crossval import cross_validate
    from mlpdesigner.train.progress import Reporter

    spec = flowers_design(tmp_path / "design", epochs=2)
    out = tmp_path / "design" / "runs" / "flowers_multiclass-cv3-20260101-000000"
    result = cross_validate(spec, 3, out=out, reporter=Reporter(), stream=open(os.devnull, "w"))  # noqa: SIM115
    assert result.status == "completed"
    window = window_on(qtbot, tmp_path, spec)
    view = window.train_view
    view.refresh_history()
    assert view.history.rowCount() == 1
    headline = view.history.item(0, 3).text()
    assert headline.startswith("3-fold CV: ") and "accuracy" in headline and "±" in headline
    rect = view.history.visualItemRect(view.history.item(0, 0))
    QTest.mouseClick(view.history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.mouseDClick(view.history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sorted(view.curves.plots) == ["accuracy", "loss"]
    assert view.curves.points("loss", 2) == [1.0, 2.0]  # the third fold's curve
    table = view.metrics_table
    assert table.horizontalHeaderItem(4).text() == "Constant"
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    accuracy = float(table.item(rows["accuracy"], 3).text())
    constant = float(table.item(rows["accuracy"], 4).text())
    assert accuracy == pytest.approx(result.summary["mean"]["accuracy"], abs=1e-3)
    assert constant == pytest.approx(result.summary["baseline_mean"]["accuracy"], abs=1e-3)
    view.grab().save(str(tmp_path / "cv_history.png"))
    close_clean(window)
