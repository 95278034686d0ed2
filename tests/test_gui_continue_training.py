"""Continue training from a run in the designer's run history (issue 16): a new run from its weights."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from mlpdesigner.resources import data_path  # noqa: E402

#: Generous: TensorFlow loads in the child, on a shared machine.
RUN_TIMEOUT_MS = 180_000


def _design(folder: Path) -> Path:
    folder.mkdir(parents=True)
    raw = json.loads(data_path("resources", "examples", "flowers_multiclass.json").read_text("utf-8"))
    raw["data"]["path"] = "flowers.csv"
    raw["training"].update(epochs=2)
    raw["training"].pop("early_stopping", None)
    (folder / "flowers.csv").write_bytes(data_path("resources", "datasets", "flowers.csv").read_bytes())
    spec = folder / "flowers_multiclass.json"
    spec.write_text(json.dumps(raw, indent=2), "utf-8")
    return spec


def _click_row(qtbot, view, row: int) -> None:  # noqa: ANN001
    rect = view.history.visualItemRect(view.history.item(row, 0))
    qtbot.mouseClick(view.history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.mark.slow
def test_continue_training_from_the_selected_run(qtbot, tmp_path) -> None:
    from mlpdesigner.train.runner import train

    spec = _design(tmp_path / "design")
    first = tmp_path / "design" / "runs" / "flowers_multiclass-first"
    assert train(spec, out=first).status == "completed"
    time.sleep(1.1)  # the history sorts by start time, to the second
    window = make_window(qtbot, tmp_path, file=spec)
    view = window.train_view
    assert view.history.rowCount() == 1
    assert not view.continue_button.isEnabled()  # nothing selected
    _click_row(qtbot, view, 0)
    assert view.continue_button.isEnabled()
    qtbot.mouseClick(view.continue_button, Qt.MouseButton.LeftButton)
    assert view.training and not view.continue_button.isEnabled()
    argv = view.run.argv
    assert argv[argv.index("--init-from") + 1] == str(first)
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        pass
    state = blocker.args[0]
    assert state.status == "completed", state.message
    record = json.loads((state.run_dir / "run.json").read_text("utf-8"))
    assert record["init_from"]["run_dir"] == str(first.resolve())
    assert view.history.rowCount() == 2
    close_clean(window)
