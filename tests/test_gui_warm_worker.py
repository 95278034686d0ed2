"""The designer's warm worker (issue 18, item 2): Train runs on a process that has loaded TensorFlow already.

Each test turns the worker on (conftest turns it off for every other test) and drives the real window:
the Train button, the Stop path through closing, the export dialog's button.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from mlpdesigner.gui.warm_worker import ENV_SWITCH, cli_arguments  # noqa: E402
from mlpdesigner.resources import data_path  # noqa: E402
from mlpdesigner.runfolder import RunStatus  # noqa: E402
from mlpdesigner.worker_protocol import job_line, parse_job  # noqa: E402

#: Generous: TensorFlow loads in each worker, on a shared machine.
TIMEOUT_MS = 180_000


def flowers_design(folder: Path, **training) -> Path:
    """The flowers example with its CSV beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = json.loads(data_path("resources", "examples", "flowers_multiclass.json").read_text("utf-8"))
    raw["data"]["path"] = "flowers.csv"
    raw["training"].update({"epochs": 2, **training})
    raw["training"].pop("early_stopping", None)
    (folder / "flowers.csv").write_bytes(data_path("resources", "datasets", "flowers.csv").read_bytes())
    spec = folder / "flowers_multiclass.json"
    spec.write_text(json.dumps(raw, indent=2), "utf-8")
    return spec


def process_gone(pid: int) -> bool:
    """True when no process ``pid`` exists any more (a zombie counts as gone only once it is reaped)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def warm(monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv(ENV_SWITCH, "1")


def shown_window(qtbot, tmp_path, spec):  # noqa: ANN001, ANN201
    window = make_window(qtbot, tmp_path, file=spec)
    window.show()
    qtbot.waitExposed(window)
    return window


def wait_ready(qtbot, window) -> int:  # noqa: ANN001
    worker = window.runs.worker
    qtbot.waitUntil(lambda: worker.is_ready, timeout=TIMEOUT_MS)
    assert worker.pid is not None and not process_gone(worker.pid)
    return worker.pid


def click_train(qtbot, window):  # noqa: ANN001, ANN201
    QTest.mouseClick(window.train_view.train_button, Qt.MouseButton.LeftButton)
    run = window.train_view.run
    assert run is not None and run.running
    return run


def finish(qtbot, window):  # noqa: ANN001, ANN201
    with qtbot.waitSignal(window.train_view.run_finished, timeout=TIMEOUT_MS) as blocker:
        pass
    return blocker.args[0]


def losses(state) -> list[float]:  # noqa: ANN001
    return [row["loss"] for row in state.history]


@pytest.mark.slow
def test_the_second_run_starts_on_the_warm_worker_and_trains_the_same(qtbot, tmp_path, warm) -> None:
    spec = flowers_design(tmp_path / "design")
    window = shown_window(qtbot, tmp_path, spec)
    first = click_train(qtbot, window)  # straight away: no worker is warm yet, so a fresh child as before
    assert first.worker_pid is None
    first_state = finish(qtbot, window)
    assert first_state.status is RunStatus.COMPLETED
    assert window.runs.worker.process is not None or window.runs.worker._timer.isActive()  # the next one warms up

    pid = wait_ready(qtbot, window)
    second = click_train(qtbot, window)
    assert second.worker_pid == pid and second.process.processId() == pid
    assert window.runs.worker.process is None  # the worker is the run's now; none idle while it runs
    state = finish(qtbot, window)
    assert state.status is RunStatus.COMPLETED and state.run_dir != first_state.run_dir
    assert f"warm worker (process {pid}" in window.train_view.log.toPlainText()
    # Same seed, same data: the warm process trains exactly what a fresh one does.
    assert losses(state) == pytest.approx(losses(first_state), rel=1e-6)
    assert len(losses(state)) == 2
    # Recycled after its job: that process has exited, and a fresh worker comes up in its place.
    qtbot.waitUntil(lambda: process_gone(pid), timeout=30_000)
    assert wait_ready(qtbot, window) != pid
    window.close()


@pytest.mark.slow
def test_a_killed_worker_shows_the_crash_and_the_next_run_works(qtbot, tmp_path, warm) -> None:
    spec = flowers_design(tmp_path / "design", epochs=5000, batch_size=8)
    window = shown_window(qtbot, tmp_path, spec)
    pid = wait_ready(qtbot, window)
    run = click_train(qtbot, window)
    assert run.worker_pid == pid
    qtbot.waitUntil(lambda: run.state.epoch >= 1, timeout=TIMEOUT_MS)
    os.kill(pid, signal.SIGKILL)
    state = finish(qtbot, window)
    assert state.status is RunStatus.FAILED and "crashed" in (state.message or "")
    assert "crashed" in window.train_view.banner.text() and window.train_view.train_button.isEnabled()

    replacement = wait_ready(qtbot, window)
    assert replacement != pid
    window.train_view.epochs.setFocus()
    QTest.keyClick(window.train_view.epochs, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(window.train_view.epochs, "1")  # this run only: one epoch
    assert window.train_view.epochs.value() == 1
    run = click_train(qtbot, window)
    assert run.worker_pid == replacement
    state = finish(qtbot, window)
    assert state.status is RunStatus.COMPLETED and state.epoch == 1
    window.close()


def test_closing_the_window_leaves_no_worker_behind(qtbot, tmp_path, warm) -> None:
    """Closing kills the idle worker at once (also while it still loads TensorFlow) and starts no other."""
    spec = flowers_design(tmp_path / "design")
    window = shown_window(qtbot, tmp_path, spec)
    worker = window.runs.worker
    qtbot.waitUntil(lambda: worker.process is not None and worker.process.processId() > 0, timeout=10_000)
    pid = worker.process.processId()
    assert window.close()
    assert worker.process is None
    qtbot.waitUntil(lambda: process_gone(pid), timeout=10_000)
    qtbot.wait(800)  # longer than the start delay: nothing new starts
    assert worker.process is None


@pytest.mark.slow
def test_closing_during_a_run_on_the_worker_stops_it_and_leaves_nothing_behind(qtbot, tmp_path, warm) -> None:
    spec = flowers_design(tmp_path / "design", epochs=5000, batch_size=8)
    window = shown_window(qtbot, tmp_path, spec)
    pid = wait_ready(qtbot, window)
    run = click_train(qtbot, window)
    qtbot.waitUntil(lambda: run.state.epoch >= 1, timeout=TIMEOUT_MS)
    assert not window.close()  # asks, then stops the run gracefully and closes when it has ended
    assert window.dialogs.asked_stop == ["A training run"]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
    assert run.state.status is RunStatus.STOPPED and run.state.run_dir is not None
    qtbot.waitUntil(lambda: process_gone(pid), timeout=30_000)
    qtbot.wait(800)
    assert window.runs.worker.process is None  # no replacement for a closed window


@pytest.mark.slow
def test_an_export_goes_to_the_warm_worker(qtbot, tmp_path, warm) -> None:
    spec = flowers_design(tmp_path / "design")
    window = shown_window(qtbot, tmp_path, spec)
    pid = wait_ready(qtbot, window)
    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.output.setText(str(tmp_path / "untrained.onnx"))
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    export = window.runs.export
    assert export is not None and export.worker_pid == pid
    qtbot.waitUntil(lambda: not export.running, timeout=TIMEOUT_MS)
    assert export.result[0] == 0, export.result
    assert (tmp_path / "untrained.onnx").is_file() and "Parity with Keras" in dialog.result.text()
    dialog.close()
    window.close()


def test_without_the_switch_no_worker_starts(qtbot, tmp_path) -> None:
    spec = flowers_design(tmp_path / "design")
    window = shown_window(qtbot, tmp_path, spec)
    assert os.environ.get(ENV_SWITCH) == "0" and not window.runs.worker.enabled
    qtbot.wait(800)
    assert window.runs.worker.process is None
    window.close()


def test_only_mlpdesigner_commands_go_to_a_worker_and_a_job_line_round_trips() -> None:
    import sys

    assert cli_arguments([sys.executable, "-m", "mlpdesigner", "train", "x.json"]) == ["train", "x.json"]
    assert cli_arguments([sys.executable, "-c", "import time"]) is None
    assert cli_arguments(["/other/python", "-m", "mlpdesigner", "train"]) is None
    line = job_line(["export", "run 1", "--json"], Path("/tmp/a b"))
    assert parse_job(line.decode()) == (["export", "run 1", "--json"], "/tmp/a b")
    for bad, expected in (("not json", "not JSON"), ('{"argv": []}', "non-empty list of strings"),
                          ('{"argv": ["train"], "cwd": 3}', "folder name or null")):
        with pytest.raises(ValueError, match=expected):
            parse_job(bad)
