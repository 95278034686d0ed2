"""File ▸ Open model…: bring a ``.keras`` or ONNX model in as a design, with its trained weights.

The window asks for the model file and where to save its spec, then runs
``python -m mlpdesigner import MODEL -o SPEC --weights`` in a child process (it
loads TensorFlow; the designer does not), started in the spec's folder so the
run folder lands in ``<spec folder>/runs`` beside the design's other runs. When
it ends the spec opens; a refusal is shown as the importer worded it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QProcess

from .training import ExportRun

if TYPE_CHECKING:  # pragma: no cover
    from .main_window import MainWindow

MODEL_FILTER = "Models (*.keras *.onnx);;Keras models (*.keras);;ONNX models (*.onnx);;All files (*)"


def import_command(model: str | Path, spec_out: str | Path) -> list[str]:
    """argv of the import child."""
    return [sys.executable, "-m", "mlpdesigner", "import", str(model), "-o", str(spec_out), "--weights", "--json"]


class ImportRun(ExportRun):
    """One ``mlpdesigner import … --json`` child; ``finished`` carries (exit code, stdout, stderr)."""

    def _finished(self, exit_code: int, exit_status: Any) -> None:
        stdout = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        stderr = bytes(self.process.readAllStandardError().data()).decode("utf-8", errors="replace")
        if exit_status == QProcess.ExitStatus.CrashExit:
            stderr += "\nThe import process crashed."
        self._end(exit_code, stdout, stderr)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end(None, "", f"error: cannot start the import process: {self.process.errorString()}")


def failure_text(stderr: str, exit_code: int | None) -> str:
    """What to tell the user about a failed import: the importer's own message, without the ``error:`` prefix."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith(("error: ", "internal error: "))]
    if errors:
        text = "\n".join(lines[errors[-1] :])
        return text.removeprefix("error: ")
    return "\n".join(lines[-5:]) or f"The import ended with exit code {exit_code}."


class ModelImport(QObject):
    """The Open model… flow of one window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.child: ImportRun | None = None
        self.spec_out: Path | None = None

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.running

    def start(self) -> bool:
        """Ask for the model and the spec file, then import in a child; False when nothing was started."""
        window = self.window
        if self.running or not window.maybe_save():
            return False
        folder = str(window.document.path.parent) if window.document.path else str(Path.cwd())
        model = window.dialogs.open_model_path(window, folder)
        if not model:
            return False
        spec_out = window.dialogs.save_path(window, str(Path(model).with_suffix(".json")))
        if not spec_out:
            return False
        self.spec_out = Path(spec_out).resolve()
        self.child = ImportRun(import_command(model, self.spec_out), cwd=self.spec_out.parent, parent=self)
        self.child.finished.connect(self._finished)
        window.statusBar().showMessage(f"Importing {Path(model).name}…")
        self.child.start()
        return True

    def _finished(self, result: tuple[int | None, str, str]) -> None:
        exit_code, _stdout, stderr = result
        window = self.window
        if exit_code != 0 or self.spec_out is None or not self.spec_out.is_file():
            window.statusBar().clearMessage()
            window.dialogs.error(window, "Cannot import the model", failure_text(stderr, exit_code))
            return
        window.open_file(self.spec_out)
        window.train_view.refresh_history()
        window.statusBar().showMessage(
            f"Imported {self.spec_out.name}: the trained weights are in a run folder (Training tab)", 15000
        )


def open_model(window: MainWindow) -> bool:
    """File ▸ Open model… of ``window``."""
    flow = getattr(window, "_model_import", None)
    if flow is None:
        flow = ModelImport(window)
        window._model_import = flow  # type: ignore[attr-defined]
    return flow.start()
