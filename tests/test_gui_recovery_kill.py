"""Autosave recovery with a real kill (issue 8, item 4).

A designer process (offscreen Qt) opens a copy of a starter design, makes an
edit through the document API, waits for its autosave (interval shortened
through ``MainWindow(autosave_ms=...)``) and is killed with SIGKILL. A new
designer then offers the recovered text, byte for byte, through the injectable
dialogs object, and restores it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from mlpdesigner.resources import example_path  # noqa: E402
from tests.gui_helpers import ScriptedDialogs, make_window  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Text that a careless recovery would mangle: quotes, a newline, a backslash, non-ASCII, an emoji.
EDIT = 'Recovered "intact" \\ ünïcødé 漢字 🙂\nsecond line'

DESIGNER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from PySide6.QtCore import QSettings, QTimer
    from mlpdesigner.gui.app import application, install_exception_hook
    from mlpdesigner.gui.main_window import MainWindow

    spec, recovery, settings, edit = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    app = application()
    window = MainWindow(
        settings=QSettings(settings, QSettings.Format.IniFormat), recovery_dir=recovery, autosave_ms=150
    )
    install_exception_hook(window)
    window.open_file(spec)
    window.show()
    window.document.apply([{"op": "replace", "path": "/description", "value": edit}], "Edit description")
    window.document.apply([{"op": "replace", "path": "/training/epochs", "value": 7}], "Edit epochs")

    def report_when_saved():
        if window.recovery.file.is_file():
            timer.stop()
            print("AUTOSAVED " + json.dumps({"file": str(window.recovery.file), "text": window.document.text}),
                  flush=True)

    timer = QTimer()
    timer.timeout.connect(report_when_saved)
    timer.start(50)
    sys.exit(app.exec())  # runs until killed
    """
)


class RecordingDialogs(ScriptedDialogs):
    """Scripted dialogs that also keep the recovery items they were offered."""

    def __init__(self) -> None:
        super().__init__()
        self.offered: list[Any] = []

    def offer_recovery(self, parent: Any, item: Any) -> str:
        self.offered.append(item)
        return super().offer_recovery(parent, item)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_designer_work_is_offered_intact_on_the_next_start(qtbot: Any, tmp_path: Path) -> None:
    design = tmp_path / "design.json"
    shutil.copy(example_path("housing_regression"), design)
    original = design.read_bytes()
    recovery = tmp_path / "recovery"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-c", DESIGNER, str(design), str(recovery), str(tmp_path / "child.ini"), EDIT]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the autosave happened (or the child died)
        assert line.startswith("AUTOSAVED "), (line, proc.poll())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    saved = json.loads(line[len("AUTOSAVED ") :])
    assert Path(saved["file"]).is_file(), "the killed designer leaves its recovery file"
    assert design.read_bytes() == original, "autosave never writes the user's file"

    window = make_window(qtbot, tmp_path)
    dialogs = RecordingDialogs()
    window.dialogs = dialogs
    dialogs.recovery_answers.append("restore")
    assert window.offer_recovery()
    [item] = dialogs.offered
    assert item.text == saved["text"], "the offered text is the killed designer's text, intact"
    assert item.original_path == str(design) and item.pid == proc.pid
    assert json.loads(item.text)["description"] == EDIT and json.loads(item.text)["training"]["epochs"] == 7
    assert window.document.text == saved["text"] and window.document.dirty
    assert window.document.path == design
    assert not Path(saved["file"]).exists(), "the restored file is taken over by the new window"
    window.dialogs.discard_answers.append("discard")
    assert window.close()
