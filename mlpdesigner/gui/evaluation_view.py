"""The Evaluation tab beside the training curves: a run's evaluation views, or two runs side by side.

Reads what the run wrote at its end (``evaluation.json`` and the PNG pictures in
``evaluation/``, drawn the first time a run is shown; :mod:`mlpdesigner.evaluation`): per output, one line of key
figures, the picture (confusion matrix, ROC/PR, reliability; or predicted vs
actual, residuals, histogram) scaled to fit, and a table per class or unit.
An output chooser picks which output to show when the design has several.
Names from the data (class labels) are shown as plain text.

Pictures a run does not have yet are drawn on a background thread (matplotlib's
import and drawing take one to two seconds, which would freeze the window after
every run); the key figures and tables show at once, the pictures when drawn.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..evaluation import evaluation_with_figures, missing_figures, read_evaluation
from ..runfolder import RunRecord, format_number
from .tables import keep_readable

#: Rows of a per-class table shown before it scrolls.
TABLE_ROWS = 4
#: How often the view looks whether pictures being drawn are ready (ms).
DRAWING_POLL_MS = 50
#: One thread draws pictures, one run at a time (matplotlib's pyplot state is not thread-safe).
_drawer: ThreadPoolExecutor | None = None


def draw_in_background(run_dirs: list[Path]) -> Future[list[dict[str, Any] | None]]:
    """Draw the missing pictures of these run folders off the GUI thread; the future holds their evaluations."""
    global _drawer
    if _drawer is None:
        _drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlpdesigner-pictures")
    return _drawer.submit(lambda: [evaluation_with_figures(path) for path in run_dirs])


def views_folder(record: RunRecord) -> Path:
    """Where a run's views are: its folder, or a cross-validation's first fold."""
    if record.cv is not None:
        runs = record.cv.get("runs") or []
        if runs and isinstance(runs[0], dict) and runs[0].get("run_dir"):
            return record.path / str(runs[0]["run_dir"])
    return record.path


class Picture(QWidget):
    """A pixmap drawn as large as the widget allows, keeping its aspect ratio."""

    def __init__(self, pixmap: QPixmap, parent: QWidget | None = None, title: str = "Evaluation") -> None:
        super().__init__(parent)
        self.pixmap = pixmap
        self.window_title = title
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(80, 60)
        self.setToolTip("Double-click to see the picture at full size")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.enlarged: QDialog | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.pixmap.size().scaled(QSize(640, 480), Qt.AspectRatioMode.KeepAspectRatio)

    def drawn_rect(self) -> Any:
        """Where the picture is drawn in the widget (centred, aspect kept)."""
        size = self.pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x, y = (self.width() - size.width()) // 2, (self.height() - size.height()) // 2
        return self.rect().adjusted(x, y, -(self.width() - size.width() - x), -(self.height() - size.height() - y))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.enlarge()

    def enlarge(self) -> QDialog:
        """The picture at its own size in a window of its own (scrolling when the screen is smaller)."""
        dialog = QDialog(self.window())
        dialog.setWindowTitle(self.window_title)
        label = QLabel(dialog)
        label.setPixmap(self.pixmap)
        scroll = QScrollArea(dialog)
        scroll.setWidget(label)
        layout = QVBoxLayout(dialog)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        dialog.resize(self.pixmap.width() + 24, min(self.pixmap.height() + 24, 900))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.enlarged = dialog
        return dialog

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(self.drawn_rect(), self.pixmap)
        painter.end()


def headline(view: dict[str, Any]) -> str:
    """The key figures of one output's view in a line."""
    if view.get("task") == "regression":
        units = view.get("units") or []
        parts = [f"MAE {format_number(u.get('mae'))}, RMSE {format_number(u.get('rmse'))}, "
                 f"R² {format_number(u.get('r2'))}" for u in units[:2]]
        return "; ".join(parts) + (f" (+{len(units) - 2} units)" if len(units) > 2 else "")
    parts = []
    if view.get("accuracy") is not None:
        parts.append(f"accuracy {format_number(view['accuracy'])}")
    parts.append(f"macro F1 {format_number(view.get('macro_f1'))}")
    parts.append(f"ROC AUC {format_number(view.get('roc_auc'))}")
    brier = (view.get("calibration") or {}).get("brier")
    if brier is not None:
        parts.append(f"Brier {format_number(brier)}")
    return ", ".join(parts)


def table_rows(view: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the per-class (or per-unit) table."""
    if view.get("task") == "regression":
        return ["Unit", "MAE", "RMSE", "R²"], [
            [str(i), format_number(u.get("mae")), format_number(u.get("rmse")), format_number(u.get("r2"))]
            for i, u in enumerate(view.get("units") or [])
        ]
    roc = view.get("roc") or {}
    return ["Class", "Precision", "Recall", "F1", "Support", "AUC"], [
        [str(row.get("class")), format_number(row.get("precision")), format_number(row.get("recall")),
         format_number(row.get("f1")), str(row.get("support", "")),
         format_number((roc.get(row.get("class")) or {}).get("auc"))]
        for row in view.get("per_class") or []
    ]


class RunColumn(QWidget):
    """One run's view of one output: title, key figures, picture, table."""

    def __init__(self, title: str, run_dir: Path, evaluation: dict[str, Any] | None, output: str | None,
                 parent: QWidget | None = None, *, compact: bool = False, drawing: bool = False) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.title = QLabel(title, self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: bold")
        self.title.setToolTip(str(run_dir))
        layout.addWidget(self.title)
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.summary)
        self.picture: Picture | None = None
        self.table: QTableWidget | None = None
        view = ((evaluation or {}).get("outputs") or {}).get(output) if output else None
        if evaluation is None or evaluation.get("error"):
            why = (evaluation or {}).get("error") or "no evaluation views in this run folder"
            self.summary.setText(f"{why}. mlpdesigner evaluate {run_dir} --views computes them.")
            layout.addStretch(1)
            return
        if not isinstance(view, dict):
            self.summary.setText(f"This run has no output {output!r}.")
            layout.addStretch(1)
            return
        self.summary.setText(f"{evaluation.get('split', 'test')} split, {evaluation.get('rows')} rows: "
                             + headline(view))
        files = ((evaluation.get("figures") or {}).get(output) or {})
        pixmap = QPixmap(str(run_dir / files["png"])) if isinstance(files.get("png"), str) else QPixmap()
        self.note: QLabel | None = None
        if pixmap.isNull():
            self.note = QLabel(self)
            self.note.setTextFormat(Qt.TextFormat.PlainText)
            self.note.setWordWrap(True)
            self.note.setText("Drawing the picture…" if drawing else
                              "No picture: " + (evaluation.get("figures_error") or "the file is missing"))
            layout.addWidget(self.note)
        else:
            self.picture = Picture(pixmap, self, f"{title}: {output}")
        # Wide regression pictures (and two runs side by side) take the width with the table below; a single
        # classification picture, nearly square, has its table beside it.
        below = compact or view.get("task") == "regression"
        body = QVBoxLayout() if below else QHBoxLayout()
        layout.addLayout(body, 1)
        if self.picture is not None:
            body.addWidget(self.picture, 1)
        header, rows = table_rows(view)
        table = QTableWidget(len(rows), len(header), self)
        table.setHorizontalHeaderLabels(header)
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
        table.resizeRowsToContents()
        table.setMinimumWidth(120)
        if below:
            shown = min(len(rows), TABLE_ROWS)
            height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(shown))
            table.setFixedHeight(height + 2 * table.frameWidth() + 2)
        else:
            keep_readable(table)
            table.setMaximumWidth(max(380, table.minimumWidth()))
        self.table = table
        body.addWidget(table)


class EvaluationView(QWidget):
    """The evaluation views of one run, or of two runs side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[tuple[str, Path, dict[str, Any] | None]] = []
        self.output_choice = QComboBox(self)
        self.output_choice.setObjectName("evaluation_output")
        self.output_choice.setToolTip("Which output's views to show")
        self.output_choice.currentTextChanged.connect(lambda _text: self._fill())
        self.caption = QLabel("Select a run and press Show (or two and Compare) to see its evaluation views.", self)
        self.caption.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Output:", self))
        top.addWidget(self.output_choice)
        top.addWidget(self.caption, 1)
        self.columns_box = QWidget(self)
        self.columns_layout = QHBoxLayout(self.columns_box)
        self.columns_layout.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.columns_box, 1)
        self.columns: list[RunColumn] = []
        #: The pictures being drawn for the runs shown now (None: nothing to wait for).
        self.drawing: Future[list[dict[str, Any] | None]] | None = None
        self._drawing_poll = QTimer(self)
        self._drawing_poll.setInterval(DRAWING_POLL_MS)
        self._drawing_poll.timeout.connect(self._check_drawing)

    def show_runs(self, runs: list[tuple[str, Path]]) -> None:
        """Show these runs (title, run folder), at most two, side by side; missing pictures follow when drawn."""
        self.runs = [(title, Path(path), read_evaluation(path)) for title, path in runs[:2]]
        due = any(record is not None and missing_figures(path, record) for _title, path, record in self.runs)
        self.drawing = draw_in_background([path for _title, path, _evaluation in self.runs]) if due else None
        if self.drawing is not None:
            self._drawing_poll.start()
        self._show_outputs()

    def _check_drawing(self) -> None:
        drawing = self.drawing
        if drawing is None:
            self._drawing_poll.stop()
            return
        if not drawing.done():
            return
        self._drawing_poll.stop()
        self.drawing = None
        try:
            evaluations = drawing.result()
        except Exception as exc:  # noqa: BLE001 - the views' data stays shown; say why there is no picture
            why = f"{type(exc).__name__}: {exc}"
            evaluations = [None if evaluation is None else {**evaluation, "figures_error": why}
                           for _title, _path, evaluation in self.runs]
        self.runs = [(title, path, evaluation)
                     for (title, path, _old), evaluation in zip(self.runs, evaluations, strict=True)]
        self._show_outputs()

    def _show_outputs(self) -> None:
        names: list[str] = []
        for _title, _path, evaluation in self.runs:
            names += [n for n in ((evaluation or {}).get("outputs") or {}) if n not in names]
        current = self.output_choice.currentText()
        self.output_choice.blockSignals(True)
        self.output_choice.clear()
        self.output_choice.addItems(names)
        if current in names:
            self.output_choice.setCurrentText(current)
        self.output_choice.blockSignals(False)
        self.output_choice.setEnabled(len(names) > 1)
        if len(self.runs) == 2:
            self.caption.setText("Comparing two runs on their own test splits.")
        elif self.runs:
            self.caption.setText("")
        self._fill()

    def _fill(self) -> None:
        for column in self.columns:
            self.columns_layout.removeWidget(column)
            column.hide()
            column.deleteLater()
        output = self.output_choice.currentText() or None
        compact = len(self.runs) > 1
        drawing = self.drawing is not None
        self.columns = [RunColumn(title, path, evaluation, output, self.columns_box, compact=compact,
                                  drawing=drawing)
                        for title, path, evaluation in self.runs]
        for column in self.columns:
            self.columns_layout.addWidget(column, 1)
