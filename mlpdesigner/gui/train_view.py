"""The training view: Train/Stop, progress with ETA, live curves (pyqtgraph), log, final metrics, run history.

Training runs as a child process (:class:`~mlpdesigner.gui.training.TrainingRun`);
the editor stays usable meanwhile. What is trained is what the editor shows:
a saved design without unsaved changes trains from its own file; a design with
unsaved changes trains from a temporary copy (its data path made absolute),
deleted when the run ends. The run folder is ``<spec folder>/runs/<name>-<timestamp>/``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QItemSelectionModel, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..runevents import (
    TrainingState,
    curve_groups,
    format_number,
)
from ..runfolder import RunRecord, RunStatus, read_history, scan_runs
from ..train.baseline import not_better_than_baseline
from .document import Document
from .evaluation_view import EvaluationView, views_folder
from .run_control import RunController
from .tables import readable_width
from .training import TrainingRun

#: Curve colours: training, validation.
TRAIN_COLOR = "#2563eb"
VALIDATION_COLOR = "#ea580c"
#: Line styles of the runs in an overlay (first run solid, second dashed).
RUN_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)
STATUS_COLORS = {
    RunStatus.COMPLETED: "#15803d",
    RunStatus.STOPPED: "#b45309",
    RunStatus.FAILED: "#dc2626",
    RunStatus.INTERRUPTED: "#dc2626",
}
#: Lines kept in the log view.
LOG_LINES = 5000


#: Width (px) the run list keeps for its metrics column when the final metrics beside it want room.
HISTORY_METRICS_MIN = 60
#: Runs whose model a new run can start from ("Continue training").
CONTINUABLE = (RunStatus.COMPLETED, RunStatus.STOPPED, RunStatus.IMPORTED)


def _pg() -> Any:
    """pyqtgraph, imported on first use: it costs ~0.2 s, and the designer starts on the diagram."""
    import pyqtgraph as pg

    return pg


#: Short names of the runs in a comparison (the caption says which run each is).
RUN_LETTERS = "ABC"


def plain_reason(reason: str | None) -> str | None:
    """A run's stop or failure reason in plain words (the run folder keeps the technical one)."""
    if not reason:
        return reason
    lowered = reason.lower()
    if lowered.startswith(("stopped by sigterm", "stopped by sigint", "stopped by the designer")):
        return "stopped by you"
    return reason


def plain_status(status: str) -> str:
    """A history row's status as a word (the run folder's reader already says interrupted for a dead run)."""
    return str(status)


def _log_axis(orientation: str) -> Any:
    """A pyqtgraph axis whose log-scale ticks are plain numbers at 1, 2 and 5 (or every digit) of each decade."""
    pg = _pg()

    class PlainLogAxis(pg.AxisItem):
        def logTickValues(self, minVal: float, maxVal: float, size: float, stdTicks: Any) -> Any:  # noqa: N802, N803
            low, high = sorted((minVal, maxVal))
            if not (math.isfinite(low) and math.isfinite(high)):
                return stdTicks
            for multiples in ((1,), (1, 2, 5), tuple(range(1, 10))):
                values = [decade + math.log10(m) for decade in range(math.floor(low), math.ceil(high) + 1)
                          for m in multiples if low <= decade + math.log10(m) <= high]
                if len(values) >= 3 or (multiples[-1] == 9 and values):
                    break
            limit = max(3, int(size // 22))
            if len(values) > limit:
                values = values[:: math.ceil(len(values) / limit)]
            return [(None, values)]

        def logTickStrings(self, values: list[float], scale: float, spacing: Any) -> list[str]:  # noqa: N802
            return [f"{10 ** v:,.0f}" if 10 ** v >= 1000 else f"{10 ** v:.3g}" for v in values]

    return PlainLogAxis(orientation)


class CurvesView(QWidget):
    """One plot per metric (training and validation curves together), for one run or an overlay of several.

    The plotting widget is created the first time the view is shown or given runs.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._graphics: Any = None
        self.log_loss = QCheckBox("Log scale for losses", self)
        self.log_loss.setChecked(True)
        self.log_loss.toggled.connect(self._apply_log_mode)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(self.log_loss)
        layout.addLayout(row)
        self._layout = layout
        self.plots: dict[str, Any] = {}
        self.items: dict[tuple[int, str], Any] = {}
        self._groups: dict[str, list[str]] = {}
        self._labels: list[str] = []
        self.legend: Any = None
        self.runs: list[tuple[str, dict[str, list[float | None]]]] = []

    @property
    def graphics(self) -> Any:
        """The pyqtgraph layout widget (created on first use)."""
        if self._graphics is None:
            pg = _pg()
            pg.setConfigOptions(antialias=True, background="w", foreground="#374151")
            self._graphics = pg.GraphicsLayoutWidget(self)
            self._graphics.setObjectName("curves")
            self._layout.addWidget(self._graphics, 1)
        return self._graphics

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.graphics  # noqa: B018 - create the plot area before the first paint
        super().showEvent(event)

    def clear(self) -> None:
        self.show_runs([])

    def show_runs(self, runs: list[tuple[str, dict[str, list[float | None]]]]) -> None:
        """Draw ``runs`` (label, columns with ``epoch`` and metrics); reuses the plots when the metrics match."""
        self.runs = runs
        keys: list[str] = []
        for _label, columns in runs:
            keys += [k for k in columns if k not in keys]
        groups = curve_groups(keys)
        labels = [label for label, _ in runs]
        if groups != self._groups or labels != self._labels:
            self._build(groups, labels)
        for index, (_label, columns) in enumerate(runs):
            epochs = columns.get("epoch") or list(range(1, 1 + max((len(v) for v in columns.values()), default=0)))
            for key in [k for members in groups.values() for k in members]:
                item = self.items.get((index, key))
                if item is None:
                    continue
                values = columns.get(key) or []
                pairs = [(e, v) for e, v in zip(epochs, values, strict=False) if e is not None]
                xs = [float(e) for e, _v in pairs]
                ys = [math.nan if v is None else float(v) for _e, v in pairs]
                item.setData(xs, ys, connect="finite")
        if len(runs) == 1:
            self.caption.setText(runs[0][0])
        elif runs:
            styles = ("solid", "dashed", "dotted")
            self.caption.setText("Comparing " + " · ".join(
                f"<b>{RUN_LETTERS[i]}</b> = {label} ({styles[i % 3]})" for i, label in enumerate(labels)))
        else:
            self.caption.setText("No run yet: press Train.")

    def legend_labels(self) -> list[str]:
        """The names in the shared legend below the plots."""
        if self.legend is None:
            return []
        return [label.text for _sample, label in self.legend.items]

    def _build(self, groups: dict[str, list[str]], labels: list[str]) -> None:
        self.graphics.clear()
        self.plots.clear()
        self.items.clear()
        self._groups, self._labels = groups, labels
        pg = _pg()
        # Side by side up to three metrics (the plots keep their height); four or more in two columns.
        columns = max(1, len(groups)) if len(groups) <= 3 else 2
        entries: dict[str, Any] = {}
        for position, (base, members) in enumerate(groups.items()):
            plot = self.graphics.addPlot(row=position // columns, col=position % columns,
                                         axisItems={"left": _log_axis("left")})
            plot.setTitle(base)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
            self.plots[base] = plot
            for index, _label in enumerate(labels):
                style = RUN_STYLES[index % len(RUN_STYLES)]
                for key in members:
                    validation = key.startswith("val_")
                    color = VALIDATION_COLOR if validation else TRAIN_COLOR
                    item = plot.plot([], [], pen=pg.mkPen(color, width=2, style=style),
                                     symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None)
                    self.items[(index, key)] = item
                    short = "validation" if validation else "training"
                    entries.setdefault(short if len(labels) == 1 else f"{RUN_LETTERS[index % 3]} {short}", item)
        # One legend for every plot, in its own row below them: short names, never over a curve.
        self.legend = pg.LegendItem(colCount=4, labelTextSize="9pt")
        for name, item in entries.items():
            self.legend.addItem(item, name)
        if entries:
            self.graphics.addItem(self.legend, row=(len(groups) + columns - 1) // columns, col=0, colspan=columns)
        self._apply_log_mode()

    def _apply_log_mode(self) -> None:
        for base, plot in self.plots.items():
            plot.setLogMode(x=False, y=self.log_loss.isChecked() and base.endswith("loss") and self._positive(base))

    def _positive(self, base: str) -> bool:
        for _label, columns in self.runs:
            for key in self._groups.get(base, []):
                if any(v is not None and v <= 0 for v in columns.get(key) or []):
                    return False
        return True

    def points(self, key: str, run: int = 0) -> list[float]:
        """The epochs (x values) drawn for metric ``key`` of run ``run``."""
        item = self.items.get((run, key))
        if item is None or item.xData is None:
            return []
        return [float(x) for x in item.xData]


class TrainView(QWidget):
    """Train the open design, watch it, stop it; browse and compare the design's earlier runs."""

    #: Emitted when a run starts (the TrainingRun).
    run_started = Signal(object)
    #: Emitted when a run has ended (its final TrainingState).
    run_finished = Signal(object)
    #: Emitted when the user asks to export (the selected run's folder, or None for the untrained design).
    export_requested = Signal(object)

    def __init__(self, document: Document, controller: RunController | None = None, *,
                 report_error: Callable[[str, str], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        #: Decides whether and how a run starts; the view shows it.
        self.controller = controller or RunController(document, parent=self)
        self.report_error = report_error or (lambda _title, _message: None)
        #: How to open a folder (replaced in tests).
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl
        self.records: list[RunRecord] = []

        self.train_button = QPushButton("▶ Train", self)
        self.train_button.setObjectName("train_button")
        self.train_button.setToolTip("Train this design on its data in a separate process (F5)")
        self.stop_button = QPushButton("■ Stop", self)
        self.stop_button.setObjectName("stop_button")
        self.stop_button.setToolTip("Stop after the current batch; the run folder is still written")
        self.stop_button.setEnabled(False)
        self.epochs = QSpinBox(self)
        self.epochs.setRange(0, 100000)
        self.epochs.setSpecialValueText("as in the design")
        self.epochs.setPrefix("")
        self.epochs.setToolTip("Epochs for this run only (the design keeps its own setting)")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Export the selected run (or the untrained design) to ONNX, .keras or Python")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("Not trained yet.", self)
        self.progress_label.setObjectName("progress_label")
        # A long stop reason must not widen the window: let the label shrink and show it in full on hover.
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.banner = QLabel(self)
        self.banner.setObjectName("run_message")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        self.curves = CurvesView(self)
        self.evaluation = EvaluationView(self)
        self.views = QTabWidget(self)
        self.views.setObjectName("result_views")
        self.views.addTab(self.curves, "Curves")
        self.views.addTab(self.evaluation, "Evaluation")
        self.metrics_table = QTableWidget(0, 5, self)
        self.metrics_table.setObjectName("final_metrics")
        self.metrics_table.setHorizontalHeaderLabels(["Metric", "Train", "Validation", "Test", "Constant"])
        self.metrics_table.horizontalHeaderItem(4).setToolTip(
            "A constant predictor fitted on the training rows (majority class / mean target), measured on "
            "the same test rows as the model: a model that does no better has learned nothing"
        )
        self.metrics_table.verticalHeader().hide()
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Each column as wide as its text (fitted after each fill, readable_width), the room left to the last: equal
        # stretched columns cut "Validation" and the figures when the panel is narrow.
        self.metrics_table.horizontalHeader().setStretchLastSection(True)
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("training_log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setFont(QFont("monospace", 8))
        self.details = QTabWidget(self)
        self.details.addTab(self.metrics_table, "Final metrics")
        self.details.addTab(self.log, "Log")

        self.history = QTableWidget(0, 4, self)
        self.history.setObjectName("run_history")
        self.history.setHorizontalHeaderLabels(["Started", "Status", "Epochs", "Final metrics"])
        self.history.verticalHeader().hide()
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.history.horizontalHeader()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        self.history.setSortingEnabled(True)
        self.history.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.history.setWordWrap(False)
        # The columns fit the table: the metrics column takes what is left and elides (full text on hover).
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.history.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history.itemDoubleClicked.connect(lambda _item: self.show_selected())
        self.history.itemSelectionChanged.connect(self._update_buttons)
        self.show_button = QPushButton("Show", self)
        self.show_button.setToolTip("Show the selected run's curves (double-click a run)")
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setToolTip("Overlay the curves of the two selected runs")
        self.folder_button = QPushButton("Open folder", self)
        self.folder_button.setToolTip("Open the selected run's folder")
        self.continue_button = QPushButton("Continue training", self)
        self.continue_button.setObjectName("continue_button")
        self.continue_button.setToolTip("Continue training from the selected run: a new run that starts from its "
                                        "weights (same architecture), with this design's training settings")
        self.continue_button.clicked.connect(lambda: self.continue_selected())
        self.show_button.clicked.connect(self.show_selected)
        self.compare_button.clicked.connect(self.compare_selected)
        self.folder_button.clicked.connect(self.open_selected_folder)
        self.train_button.clicked.connect(lambda: self.start_training())
        self.stop_button.clicked.connect(self.stop_training)
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.selected_run_dir()))

        controls = QHBoxLayout()
        controls.addWidget(self.train_button)
        controls.addWidget(self.stop_button)
        controls.addWidget(QLabel("Epochs:", self))
        controls.addWidget(self.epochs)
        controls.addWidget(self.export_button)
        controls.addWidget(self.progress_label, 1)
        history_box = QWidget(self)
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_title = QLabel("<b>Runs of this design</b>", self)
        history_layout.addWidget(history_title)
        history_layout.addWidget(self.history, 1)
        # Curves over the whole width on top (plots and their legend need it); runs and details below, and the
        # run buttons under both: inside the run list they kept it 380 px wide, and beside it the final metrics
        # had too little room at 1280x800 (every figure read "0….").
        side = QSplitter(Qt.Orientation.Horizontal, self)
        side.addWidget(history_box)
        side.addWidget(self.details)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        self.side_splitter = side
        buttons = QHBoxLayout()
        for button in (self.show_button, self.compare_button, self.folder_button, self.continue_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(side, 1)
        bottom_layout.addLayout(buttons)
        main = QSplitter(Qt.Orientation.Vertical, self)
        main.addWidget(self.views)
        main.addWidget(bottom)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        main.setSizes([360, 220])
        self.splitter = main
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)
        self.document.path_changed.connect(self.refresh_history)
        self.document.changed.connect(self._update_buttons)
        self.curves.clear()
        self.refresh_history()

    # ----- starting and stopping -----------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.controller.training

    @property
    def run(self) -> TrainingRun | None:
        """The latest training child (the controller's)."""
        return self.controller.run

    def runs_root(self) -> Path | None:
        return self.controller.runs_root()

    def start_training(self, epochs: int | None = None, init_from: Path | None = None) -> TrainingRun | None:
        """Start training what the editor shows (returns at once; None when it cannot start).

        ``init_from``: a run folder whose weights the new run starts from.
        """
        if self.training:
            return None
        epochs = epochs if epochs is not None else (self.epochs.value() or None)
        run = self.controller.prepare_training(epochs, init_from)
        if isinstance(run, str):
            self.show_failure(run)
            return None
        run.event.connect(self._on_event)
        run.log_line.connect(self._on_log)
        run.finished.connect(self._on_finished)
        self.banner.hide()
        self.log.clear()
        self.metrics_table.setRowCount(0)
        self.curves.show_runs([(f"{self.controller.run_dir.name if self.controller.run_dir else 'run'} (running)", {})])
        self.progress.setValue(0)
        self._set_progress(run.state.progress_text())
        self.log.appendPlainText("$ " + " ".join(run.argv))
        self.controller.launch(run)
        self._update_buttons()
        self.run_started.emit(run)
        return run

    def stop_training(self) -> None:
        """Stop the running training gracefully (killed after a timeout)."""
        if self.controller.stop_training():
            self.stop_button.setEnabled(False)
            self.progress_label.setText("Stopping after the current batch…")

    def wait(self, timeout_ms: int = 600_000) -> TrainingState | None:
        """Run the event loop until the current run ends (for the screenshot command and scripts)."""
        if self.run is None:
            return None
        if self.run.running:
            loop = QEventLoop()
            self.run.finished.connect(loop.quit)
            QTimer.singleShot(timeout_ms, loop.quit)
            loop.exec()
        return self.run.state

    # ----- events --------------------------------------------------------------------------------
    def _on_event(self, event: dict[str, Any]) -> None:
        assert self.run is not None
        state = self.run.state
        kind = event.get("event")
        if kind == "start":
            self.log.appendPlainText(
                f"Training {event.get('spec')} on {event.get('samples')} rows ({event.get('device')}) "
                f"-> {event.get('run_dir')}"
            )
        if kind == "epoch":
            label = f"{state.run_dir.name if state.run_dir else 'run'} (running)"
            self.curves.show_runs([(label, state.series())])
            metrics = "  ".join(f"{k} {format_number(v)}" for k, v in (event.get("metrics") or {}).items()
                                if k != "learning_rate")
            self.log.appendPlainText(f"epoch {event.get('epoch')}/{event.get('epochs')}: {metrics}")
        self.progress.setValue(int(1000 * state.fraction()))
        self._set_progress(state.progress_text())

    def _set_progress(self, text: str) -> None:
        if self.run is not None and self.run.state.reason and self.run.state.status is RunStatus.STOPPED:
            text = text.replace(self.run.state.reason, plain_reason(self.run.state.reason) or "")
        self.progress_label.setText(text)
        self.progress_label.setToolTip(text)

    def _on_log(self, line: str) -> None:
        self.log.appendPlainText(line)

    def _on_finished(self, state: TrainingState) -> None:
        self.progress.setValue(int(1000 * state.fraction()) if state.status is not RunStatus.COMPLETED else 1000)
        self._set_progress(state.progress_text())
        label = f"{state.run_dir.name if state.run_dir else 'run'} ({state.status})"
        # Also without an epoch (a run that failed at once): the caption must not keep saying "(running)".
        self.curves.show_runs([(label, state.series() if state.history else {})])
        self.show_final_metrics(state.final_metrics)
        self.evaluation.show_runs([(state.run_dir.name, state.run_dir)] if state.run_dir else [])
        color = STATUS_COLORS.get(state.status, "#374151")
        self.log.appendPlainText(f"Run {state.status}" + (f": {state.reason}" if state.reason else ""))
        if state.status is RunStatus.FAILED:
            self.show_failure(f"Training failed: {state.message or state.reason}")
        elif state.status is RunStatus.STOPPED:
            reason = plain_reason(state.reason)
            self._banner(f"Run stopped after {state.epoch} epoch{'s' * (state.epoch != 1)}"
                         + (f" ({reason})" if reason else "") + ".", color)
        else:
            self.banner.hide()
        self.refresh_history()
        if state.run_dir is not None:
            self.select_run(state.run_dir)
        self._update_buttons()
        self.run_finished.emit(state)

    def _banner(self, text: str, color: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(f"QLabel {{ color: {color}; border: 1px solid {color}; padding: 4px; }}")
        self.banner.show()

    def show_failure(self, message: str) -> None:
        """Show a run's failure in the view (the editor keeps working)."""
        self._banner(message, STATUS_COLORS[RunStatus.FAILED])
        self.progress_label.setText(message.splitlines()[0][:160])
        self.report_error("Training", message)

    def show_final_metrics(self, metrics: dict[str, Any] | None) -> None:
        """Fill the final-metrics table (rows: metrics; columns: train, validation, test, the constant on test)."""
        metrics = metrics or {}
        splits = ("train", "validation", "test")
        keys: list[str] = []
        for split in splits:
            keys += [k for k in (metrics.get(split) or {}) if k not in keys]
        baseline = ((metrics.get("baseline") or {}).get("test")) or {}
        worse = {item.split(" ")[0] for item in not_better_than_baseline(metrics)}
        self.metrics_table.setRowCount(len(keys))
        for row, key in enumerate(keys):
            self.metrics_table.setItem(row, 0, QTableWidgetItem(key))
            values = [(metrics.get(split) or {}).get(key) for split in splits] + [baseline.get(key)]
            for column, value in enumerate(values, start=1):
                item = QTableWidgetItem(format_number(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 3 and key in worse:
                    item.setForeground(QColor(STATUS_COLORS[RunStatus.FAILED]))
                    item.setToolTip("no better than the constant predictor on the same rows")
                self.metrics_table.setItem(row, column, item)
        self._make_room_for_metrics()
        if keys:
            self.details.setCurrentWidget(self.metrics_table)

    def _make_room_for_metrics(self) -> None:
        """Widen the final metrics beside the run list until every figure shows in full, where there is room.

        No hard minimum: that would push the docks (the inspector) narrower; the run list gives up width
        down to its own minimum instead.
        """
        want = readable_width(self.metrics_table) + 8  # and the tab widget's frame
        keep = self._history_keeps()
        sizes = self.side_splitter.sizes()
        total = sum(sizes)
        if total and sizes[1] < want:
            give = max(sizes[1], min(want, total - keep))
            self.side_splitter.setSizes([total - give, give])

    # ----- history -------------------------------------------------------------------------------
    def refresh_history(self) -> None:
        """Re-read the design's run folders."""
        root = self.runs_root()
        name = self.document.spec.name if self.document.spec else None
        self.records = scan_runs(root, name) if root and name else []
        sorting = self.history.isSortingEnabled()
        self.history.setSortingEnabled(False)  # fill first, then sort once
        self.history.setRowCount(len(self.records))
        for row, record in enumerate(self.records):
            status = plain_status(record.status)
            reason = plain_reason(record.reason)
            headline = record.headline() if record.metrics else (reason or "")
            started = record.started_text[:16]  # to the minute: the column stays narrow
            cells: list[Any] = [started, status, record.epochs_completed, headline]
            for column, value in enumerate(cells):
                item = QTableWidgetItem()
                # Numbers sort as numbers; the rest as text (the start time sorts in time order).
                item.setData(Qt.ItemDataRole.DisplayRole, "" if value is None else value)
                item.setData(Qt.ItemDataRole.UserRole, row)
                item.setToolTip(f"{record.path}\n{headline if column == 3 else reason or ''}".strip())
                if column == 1:
                    item.setForeground(QColor(STATUS_COLORS.get(status, "#374151")))
                self.history.setItem(row, column, item)
        self.history.setSortingEnabled(sorting)
        for column in range(3):
            self.history.resizeColumnToContents(column)  # not ResizeToContents: it crashed Qt
        self.history.setMinimumWidth(self._history_keeps())
        self._update_buttons()

    def _history_keeps(self) -> int:
        """The run list's width with its start, status and epochs columns whole and some of the metrics column."""
        header = self.history.horizontalHeader()
        return sum(header.sectionSize(c) for c in range(3)) + HISTORY_METRICS_MIN + 2 * self.history.frameWidth()

    def selected_records(self) -> list[RunRecord]:
        """The selected runs, in the table's (sorted) order."""
        rows = sorted({index.row() for index in self.history.selectionModel().selectedRows()})
        found = []
        for row in rows:
            item = self.history.item(row, 0)
            index = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
            if isinstance(index, int) and index < len(self.records):
                found.append(self.records[index])
        return found

    def selected_run_dir(self) -> Path | None:
        records = self.selected_records()
        return records[0].path if records else None

    def select_run(self, run_dir: Path, *, add: bool = False) -> bool:
        """Select a run of the history by its folder (adding to the selection with ``add``)."""
        target = Path(run_dir).resolve()
        for row in range(self.history.rowCount()):
            item = self.history.item(row, 0)
            index = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
            if isinstance(index, int) and index < len(self.records) and self.records[index].path == target:
                if not add:
                    self.history.clearSelection()
                flags = QItemSelectionModel.SelectionFlag
                self.history.selectionModel().select(self.history.model().index(row, 0), flags.Select | flags.Rows)
                return True
        return False

    def show_selected(self) -> None:
        """Show the curves and final metrics of the first selected run (from its history.csv).

        A cross-validation shows every fold's curves, and its mean test metrics beside the constant's.
        """
        records = self.selected_records()
        if not records:
            return
        record = records[0]
        if record.cv is not None:
            folds = [str(run.get("run_dir")) for run in record.cv.get("runs") or []]
            self.curves.show_runs([(folder, read_history(record.path / folder)) for folder in folds])
        else:
            self.curves.show_runs([(f"{record.name} ({plain_status(record.status)})", read_history(record.path))])
        self.show_final_metrics(record.metrics)
        fold = " (fold 1)" if record.cv is not None else ""
        self.evaluation.show_runs([(record.name + fold, views_folder(record))])

    def compare_selected(self) -> None:
        """Overlay the curves of the first two selected runs."""
        records = self.selected_records()[:2]
        if len(records) < 2:
            return
        self.curves.show_runs([(f"run of {record.started_text} ({plain_status(record.status)})",
                                read_history(record.path)) for record in records])
        self.evaluation.show_runs([(f"{RUN_LETTERS[i]}: {r.name}", views_folder(r)) for i, r in enumerate(records)])

    def continue_selected(self) -> TrainingRun | None:
        """Train the design again, starting from the selected run's weights (Continue training)."""
        records = self.selected_records()
        if len(records) != 1 or records[0].status not in CONTINUABLE:
            return None
        return self.start_training(init_from=records[0].path)

    def open_selected_folder(self) -> None:
        path = self.selected_run_dir()
        if path is not None:
            self.open_url(QUrl.fromLocalFile(str(path)))

    def _update_buttons(self) -> None:
        running = self.training
        selected = len(self.selected_records())
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running and not (self.run is not None and self.run.state.stop_requested))
        self.show_button.setEnabled(selected >= 1)
        self.compare_button.setEnabled(selected >= 2)
        self.folder_button.setEnabled(selected >= 1)
        records = self.selected_records() if selected == 1 else []
        self.continue_button.setEnabled(not running and bool(records) and records[0].status in CONTINUABLE)

