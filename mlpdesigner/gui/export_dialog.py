"""The export dialog: ONNX (opset, tolerance), .keras or Python code, from a trained run or the untrained design.

The export runs as a child process (``python -m mlpdesigner export … --json``);
the dialog shows what it wrote and, for ONNX, the parity figure (the largest
absolute difference between onnxruntime and Keras on the same inputs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..export.settings import DEFAULT_OPSET, DEFAULT_TOLERANCE
from ..runevents import export_command, export_message
from ..runfolder import RunRecord
from .run_control import RunController
from .training import ExportRun

FORMATS = {"onnx": ("ONNX", ".onnx"), "keras": (".keras model", ".keras"), "python": ("Python code", ".py")}
FILTERS = {"onnx": "ONNX models (*.onnx)", "keras": "Keras models (*.keras)", "python": "Python files (*.py)"}


def choose_output(parent: QWidget, suggested: str, file_filter: str) -> str | None:
    """Ask where to write the export (the default chooser; tests replace it)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export to", suggested, file_filter)
    return path or None


class ExportDialog(QDialog):
    """Choose a source and a format, run the export in a child process, show the result."""

    #: Emitted when an export ended: (report dict or None, message).
    exported = Signal(object, str)

    def __init__(self, controller: RunController, records: Sequence[RunRecord],
                 *, selected: Path | None = None, out_dir: Path | None = None, name: str = "model",
                 opener: Callable[[QUrl], Any] = QDesktopServices.openUrl,
                 chooser: Callable[[QWidget, str, str], str | None] = choose_output,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("export_dialog")
        #: Starts the export child (of a run folder, or of the design as the editor shows it).
        self.controller = controller
        self.opener = opener
        self.chooser = chooser
        self.name = name
        self.out_dir = out_dir or Path.cwd()
        self.run: ExportRun | None = None
        self.report: dict[str, Any] | None = None
        self.message = ""

        self.source = QComboBox(self)
        self.source.setObjectName("export_source")
        self.source.addItem("Untrained design (seeded weights)", None)
        for record in records:
            if record.has_model:
                self.source.addItem(f"Run {record.name} ({record.status}; {record.headline()})", str(record.path))
        if selected is not None:
            index = self.source.findData(str(Path(selected).resolve()))
            if index >= 0:
                self.source.setCurrentIndex(index)
        self.format_buttons = QButtonGroup(self)
        formats = QHBoxLayout()
        self.format_radios: dict[str, QRadioButton] = {}
        for key, (title, _suffix) in FORMATS.items():
            radio = QRadioButton(title, self)
            self.format_buttons.addButton(radio)
            self.format_radios[key] = radio
            formats.addWidget(radio)
            radio.toggled.connect(self._format_changed)
        self.opset = QSpinBox(self)
        self.opset.setRange(9, 30)
        self.opset.setValue(DEFAULT_OPSET)
        self.tolerance = QLineEdit(f"{DEFAULT_TOLERANCE:g}", self)
        self.tolerance.setToolTip("Largest absolute difference allowed between ONNX and Keras outputs")
        self.with_training = QCheckBox("Include data loading and training", self)
        self.output = QLineEdit(self)
        self.output.setObjectName("export_output")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self.browse)
        output_row = QHBoxLayout()
        output_row.addWidget(self.output, 1)
        output_row.addWidget(browse)
        self.result = QLabel(self)
        self.result.setObjectName("export_result")
        self.result.setWordWrap(True)
        self.result.setMinimumWidth(560)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.open_folder_button = QPushButton("Open output folder", self)
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(self.open_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_folder_button, QDialogButtonBox.ButtonRole.ActionRole)

        form = QFormLayout()
        form.addRow("Source:", self.source)
        form.addRow("Format:", formats)
        form.addRow("ONNX opset:", self.opset)
        form.addRow("ONNX tolerance:", self.tolerance)
        form.addRow("Python:", self.with_training)
        form.addRow("Write to:", output_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result)
        layout.addWidget(buttons)
        self.format_radios["onnx"].setChecked(True)

    # ----- choices -------------------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        return next((k for k, radio in self.format_radios.items() if radio.isChecked()), "onnx")

    def set_format(self, fmt: str) -> None:
        self.format_radios[fmt].setChecked(True)

    def _format_changed(self) -> None:
        fmt = self.fmt
        self.opset.setEnabled(fmt == "onnx")
        self.tolerance.setEnabled(fmt == "onnx")
        self.with_training.setEnabled(fmt == "python")
        suffix = FORMATS[fmt][1]
        current = self.output.text().strip()
        if not current:
            self.output.setText(str(self.out_dir / f"{self.name}{suffix}"))
        else:
            self.output.setText(str(Path(current).with_suffix(suffix)))

    def browse(self) -> None:
        path = self.chooser(self, self.output.text(), FILTERS[self.fmt])
        if path:
            self.output.setText(path)

    # ----- running -------------------------------------------------------------------------------
    def start_export(self) -> ExportRun | None:
        """Start the export child (returns at once)."""
        if self.run is not None and self.run.running:
            return None
        output = self.output.text().strip()
        if not output:
            self._show(None, "Expected an output file. Received: none")
            return None
        try:
            tolerance = float(self.tolerance.text())
        except ValueError:
            self._show(None, f"ONNX tolerance: Expected a number such as 1e-05. Received: {self.tolerance.text()!r}")
            return None
        run_dir = self.source.currentData()
        fmt, opset, with_training = self.fmt, self.opset.value(), self.with_training.isChecked()

        def argv_for(source: Path) -> list[str]:
            return export_command(source, fmt, Path(output).expanduser(), opset=opset, tolerance=tolerance,
                                  with_training=with_training)

        run = self.controller.prepare_export(argv_for, Path(run_dir) if run_dir else None)
        if isinstance(run, str):
            self._show(None, run)
            return None
        self.report = None
        self.open_folder_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setText("Exporting (TensorFlow loads in a separate process)…")
        self.run = run
        self.run.finished.connect(self._finished)
        self.run.start()
        return self.run

    def _finished(self, result: tuple[int | None, str, str]) -> None:
        exit_code, stdout, stderr = result
        report, message = export_message(stdout, stderr, exit_code)
        self._show(report, message)

    def _show(self, report: dict[str, Any] | None, message: str) -> None:
        self.report = report
        self.message = message
        self.result.setText(message)
        self.result.setStyleSheet("color: #15803d;" if report else "color: #dc2626;")
        self.open_folder_button.setEnabled(report is not None)
        self.export_button.setEnabled(True)
        self.exported.emit(report, message)

    @property
    def max_abs_diff(self) -> float | None:
        """The ONNX parity figure of the last export (None before one, or for other formats)."""
        return None if not self.report or "max_abs_diff" not in self.report else float(self.report["max_abs_diff"])

    def open_folder(self) -> None:
        """Open the folder of the written file."""
        if self.report and self.report.get("path"):
            self.opener(QUrl.fromLocalFile(str(Path(self.report["path"]).parent)))
