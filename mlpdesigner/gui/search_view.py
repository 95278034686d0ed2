"""The Search view: ranges from the inspector, ``mlpdesigner search`` as a child, trials as they arrive.

A "Search" toggle beside each numeric or enum field of the inspector adds a
first range for that field to the spec's ``search`` section (one undoable
edit; the range is then edited in the JSON view). The view runs ``python -m
mlpdesigner search`` as a child process (Ray and TensorFlow never load in the
designer), reads the search folder's ``trials.json`` as it changes, and shows
the trials in a sortable table with their validation curves. A trial opens as
a design; the best one's values apply to the current design as one undoable edit.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..runevents import child_environment
from ..search import tables
from ..spec import dumps
from ..spec.problems import pointer, split_pointer
from ..spec.schemaform import Field
from ..spec.search import suggested_domain
from .document import Document

INSTALL_TEXT = ("Search needs Ray Tune and Optuna, which are not installed. Install them with:\n"
                "pip install 'mlpdesigner[search]'")
#: Milliseconds between two reads of trials.json while a search runs.
POLL_MS = 500
SEARCHED_KINDS = ("int", "number", "enum")


def search_available() -> bool:
    """True when Ray Tune and Optuna can be imported (checked without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("ray", "optuna"))


# --------------------------------------------------------------------------- the inspector's toggle
def search_ops(raw: dict[str, Any], field: str, domain: dict[str, Any] | None) -> list[dict[str, Any]]:
    """JSON Patch that adds (``domain``) or removes (None) a field's search range."""
    section = raw.get("search")
    entry = pointer("search", field)
    if domain is None:
        if not isinstance(section, dict) or field not in section:
            return []
        return [{"op": "remove", "path": "/search"}] if len(section) == 1 else [{"op": "remove", "path": entry}]
    ops: list[dict[str, Any]] = []
    if not isinstance(section, dict):
        ops.append({"op": "add", "path": "/search", "value": {}})
    ops.append({"op": "add", "path": entry, "value": domain})
    return ops


def search_toggle(document: Document, field: Field, ptr: str, current: Any) -> QToolButton | None:
    """A checkable "Search" button for a numeric or enum field (None for other fields).

    The first range is worked out when the button is pressed (for an enum that means validating the design
    with each value), so that building the form stays fast.
    """
    raw = document.raw
    if field.kind not in SEARCHED_KINDS or not isinstance(raw, dict):
        return None
    if field.kind == "enum" and len(field.choices) < 2:
        return None
    value = None if current is None or not isinstance(current, (int, float, str)) else current
    searched = isinstance(raw.get("search"), dict) and ptr in raw["search"]
    button = QToolButton()
    button.setObjectName(f"search:{ptr}")
    button.setText("Search")
    button.setCheckable(True)
    button.setChecked(searched)
    button.setToolTip(f"Searched: {json.dumps(raw['search'][ptr])} (click to stop searching it)" if searched else
                      "Search this field: adds a first range for it to the spec's search section")

    def toggled(on: bool) -> None:
        name = split_pointer(ptr)[-1].replace("_", " ")
        if not on:
            document.apply(search_ops(document.raw, ptr, None), f"Stop searching {name}")
            return
        schema = {**field.schema, "enum": list(field.choices)} if field.kind == "enum" else field.schema
        domain = suggested_domain(document.raw, ptr, schema, value)
        if domain is None:
            button.blockSignals(True)
            button.setChecked(False)
            button.blockSignals(False)
            button.setToolTip("Nothing to search here: no other value gives a valid design")
            return
        document.apply(search_ops(document.raw, ptr, domain), f"Search {name}")

    button.toggled.connect(toggled)
    return button


def with_search_toggle(document: Document, field: Field, ptr: str, current: Any, row: QWidget) -> QWidget:
    """The inspector's row for a field with its Search toggle beside it (the row as it is for other fields)."""
    button = search_toggle(document, field, ptr, current)
    if button is None:
        return row
    wrapper = QWidget()
    layout = QHBoxLayout(wrapper)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(row, 1)
    layout.addWidget(button)
    return wrapper


# --------------------------------------------------------------------------- the view
class _NumberItem(QTableWidgetItem):
    """A cell that sorts by its number (empty cells last)."""

    def __init__(self, value: float | int | None, text: str) -> None:
        super().__init__(text)
        self.number = value

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine = self.number if self.number is not None else float("inf")
        theirs = getattr(other, "number", None)
        return mine < (theirs if theirs is not None else float("inf"))


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if not isinstance(value, str) else value


class SearchView(QWidget):
    """Run a search on the current design and watch its trials arrive."""

    #: Emitted with a spec file to open as a design (a trial's run folder spec).
    open_design = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None, *,
                 available: bool | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.available = search_available() if available is None else available
        self.folder: Path | None = None
        self.process: QProcess | None = None
        self.trials: list[dict[str, Any]] = []
        self._stamp = 0.0
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setObjectName("search_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        controls = QHBoxLayout()
        self.trials_box = QSpinBox()
        self.trials_box.setObjectName("search_trials")
        self.trials_box.setRange(1, 10000)
        self.trials_box.setValue(10)
        self.trials_box.setPrefix("Trials: ")
        self.parallel_box = QSpinBox()
        self.parallel_box.setObjectName("search_parallel")
        self.parallel_box.setRange(1, 256)
        self.parallel_box.setPrefix("Parallel: ")
        self.run_button = QPushButton("Run search")
        self.run_button.setObjectName("search_run")
        self.run_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("search_stop")
        self.stop_button.clicked.connect(self.stop)
        self.open_button = QPushButton("Open trial as design")
        self.open_button.setObjectName("search_open")
        self.open_button.clicked.connect(self.open_selected)
        self.apply_button = QPushButton("Apply best to design")
        self.apply_button.setObjectName("search_apply_best")
        self.apply_button.clicked.connect(self.apply_best)
        for widget in (self.trials_box, self.parallel_box, self.run_button, self.stop_button, self.open_button,
                       self.apply_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout.addLayout(controls)
        splitter = QSplitter()
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("search_table")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        # Columns are fitted after each fill: a ResizeToContents header crashed Qt while the window closed.
        self.table.itemSelectionChanged.connect(self._draw_curves)
        splitter.addWidget(self.table)
        self.curves = self._plot_widget()
        splitter.addWidget(self.curves)
        splitter.setSizes([600, 400])
        layout.addWidget(splitter, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        document.changed.connect(self._update_controls)
        self._update_controls()

    def _plot_widget(self) -> QWidget:
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True, background="w", foreground="#374151")
        plot = pg.PlotWidget()
        plot.setObjectName("search_curves")
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", "val_loss")
        plot.showGrid(x=True, y=True, alpha=0.3)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        return plot

    # ----- state ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def _ranges(self) -> dict[str, Any]:
        raw = self.document.raw
        section = raw.get("search") if isinstance(raw, dict) else None
        return section if isinstance(section, dict) else {}

    def _update_controls(self) -> None:
        ranges = self._ranges()
        if not self.available:
            self.status.setText(INSTALL_TEXT)
        elif self.running:
            pass
        elif self.trials and self.folder is not None:
            best = tables.ranked(self.trials)
            self.status.setText(f"{len(self.trials)} trial(s) in {self.folder}" + (
                f"; best val_loss {best[0]['best_val_loss']:.4g} (trial {best[0]['trial']})" if best else ""))
        elif not ranges:
            self.status.setText("No search ranges yet: press Search beside a number or a choice in the inspector "
                                "(or add a \"search\" section in the JSON view).")
        elif not self.document.spec.ok:
            self.status.setText("Fix the design's errors (see Problems) before searching.")
        elif self.folder is None:
            self.status.setText(f"{len(ranges)} field(s) to search: {', '.join(ranges)}")
        startable = self.available and not self.running and bool(ranges) and self.document.spec.ok
        self.run_button.setEnabled(startable)
        self.stop_button.setEnabled(self.running)
        self.apply_button.setEnabled(bool(tables.ranked(self.trials)))
        self.open_button.setEnabled(bool(self.table.selectedItems()))

    # ----- running -------------------------------------------------------------------------------
    def _search_folder(self) -> Path:
        base = self.document.path.parent if self.document.path else Path.home()
        name = self.document.spec.name
        root = base / "searches"
        folder = root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        number = 1
        while folder.exists():
            number += 1
            folder = root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{number}"
        return folder

    def start(self) -> bool:
        """Write the design into a new search folder and start ``mlpdesigner search`` on it."""
        if not self.run_button.isEnabled():
            return False
        self.document.flush()
        folder = self._search_folder()
        folder.mkdir(parents=True)
        raw = json.loads(dumps(self.document.raw))
        if "data" in raw:  # the copy lives in the search folder: keep the data reachable
            spec_dir = self.document.path.parent if self.document.path else Path.cwd()
            raw["data"]["path"] = str((spec_dir / raw["data"]["path"]).resolve())
        spec_file = folder / "design.json"
        spec_file.write_text(dumps(raw), "utf-8")
        self.folder = folder
        self.trials = []
        self._stamp = 0.0
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "mlpdesigner", "search", str(spec_file), "--out", str(folder / "search"),
                              "--trials", str(self.trials_box.value()), "--parallel", str(self.parallel_box.value())])
        environment = process.processEnvironment()
        for key, value in child_environment().items():
            environment.insert(key, value)
        process.setProcessEnvironment(environment)
        process.finished.connect(self._finished)
        self.process = process
        self.status.setText(f"Searching… (starting Ray; trials appear here as they finish epochs) in {folder}")
        process.start()
        self.timer.start()
        self._update_controls()
        return True

    def stop(self) -> None:
        """Stop gracefully: running trials finish their batch and save; finished trials are kept."""
        if self.running and self.process is not None:
            self.process.terminate()  # SIGTERM: the search's graceful stop
            self.status.setText("Stopping: running trials save their run folders…")

    def _finished(self, code: int, _status: Any) -> None:
        self.timer.stop()
        self.refresh()
        err = bytes(self.process.readAllStandardError()).decode("utf-8", "replace") if self.process else ""
        if code != 0:
            last = [line for line in err.splitlines() if line.strip()]
            self.status.setText(f"Search failed (exit {code}): {last[-1] if last else 'no message'}")
            self.process = None
            self.run_button.setEnabled(self.available and bool(self._ranges()) and self.document.spec.ok)
            self.stop_button.setEnabled(False)
            return
        self._update_controls()

    # ----- the table -----------------------------------------------------------------------------
    def load_folder(self, folder: str | Path) -> None:
        """Show a search folder's trials (also: a finished search opened for a look)."""
        self.folder = Path(folder)
        self._stamp = 0.0
        self.refresh()

    def _trials_file(self) -> Path | None:
        if self.folder is None:
            return None
        for candidate in (self.folder / "search" / tables.TRIALS_JSON, self.folder / tables.TRIALS_JSON):
            if candidate.is_file():
                return candidate
        return None

    def refresh(self) -> None:
        """Re-read trials.json when it changed."""
        file = self._trials_file()
        if file is None:
            return
        try:
            stamp = file.stat().st_mtime_ns
        except OSError:
            return
        if stamp == self._stamp:
            return
        self._stamp = stamp
        self.trials = tables.read_trials(file.parent)
        self._fill_table()
        if self.running:
            done = sum(t["status"] not in (tables.RUNNING,) for t in self.trials)
            self.status.setText(f"Searching… {done} of {self.trials_box.value()} trial(s) done")
        self._update_controls()

    def _fields(self) -> list[str]:
        fields: list[str] = []
        for trial in self.trials:
            for key in trial.get("params", {}):
                if key not in fields:
                    fields.append(key)
        return fields

    def _fill_table(self) -> None:
        selected = self.selected_trial()
        fields = self._fields()
        headers = ["trial", "status", "best val_loss", "epochs", *fields]
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(self.trials))
        for row, trial in enumerate(self.trials):
            value = trial.get("best_val_loss")
            cells = [
                QTableWidgetItem(trial["trial"]),
                QTableWidgetItem(trial.get("status", "")),
                _NumberItem(value, "" if value is None else f"{value:.5g}"),
                _NumberItem(trial.get("epochs"), str(trial.get("epochs", ""))),
            ]
            for field in fields:
                param = trial.get("params", {}).get(field)
                number = param if isinstance(param, (int, float)) and not isinstance(param, bool) else None
                cells.append(_NumberItem(number, _short(param)) if number is not None
                             else QTableWidgetItem(_short(param)))
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        if selected is not None:
            for row in range(self.table.rowCount()):
                item = self.table.item(row, 0)
                if item is not None and item.text() == selected["trial"]:
                    self.table.selectRow(row)
        self._draw_curves()

    def selected_trial(self) -> dict[str, Any] | None:
        """The trial of the selected row, or None."""
        rows = {index.row() for index in self.table.selectedIndexes()}
        if not rows:
            return None
        item = self.table.item(min(rows), 0)
        return next((t for t in self.trials if item is not None and t["trial"] == item.text()), None)

    def _draw_curves(self) -> None:
        import pyqtgraph as pg

        plot = self.curves
        plot.clear()  # type: ignore[attr-defined]
        selected = self.selected_trial()
        for trial in self.trials:
            points = [(e["epoch"], e["val_loss"]) for e in trial.get("history", []) if "val_loss" in e]
            if not points:
                continue
            mine = selected is not None and trial["trial"] == selected["trial"]
            pen = pg.mkPen("#ea580c" if mine else "#94a3b8", width=3 if mine else 1)
            color = "#ea580c" if mine else "#94a3b8"
            plot.plot([p[0] for p in points], [p[1] for p in points], pen=pen,  # type: ignore[attr-defined]
                      symbol="o", symbolSize=7 if mine else 5, symbolBrush=color, symbolPen=color)
        self.open_button.setEnabled(selected is not None)

    # ----- using the results ---------------------------------------------------------------------
    def open_selected(self) -> None:
        """Open the selected trial's spec (its run folder's spec.json) as a design."""
        trial = self.selected_trial()
        if trial is None or not trial.get("run_dir"):
            return
        spec = Path(trial["run_dir"]) / "spec.json"
        if spec.is_file():
            self.open_design.emit(str(spec))

    def apply_best(self) -> bool:
        """Set the best trial's values in the current design: one undoable edit."""
        best = tables.ranked(self.trials)
        raw = self.document.raw
        if not best or not isinstance(raw, dict):
            return False
        from ..spec.edits import get

        ops = []
        for field, value in best[0]["params"].items():
            old = get(raw, field, default=None)
            ops.append({"op": "replace" if old is not None else "add", "path": field, "value": value})
        return self.document.apply(ops, f"Apply best search trial {best[0]['trial']}")

    def shutdown(self) -> None:
        """End a running search (the window closes): gracefully, then at once after 20 s."""
        if self.running and self.process is not None:
            self.process.terminate()
            if not self.process.waitForFinished(20_000):
                self.process.kill()
                self.process.waitForFinished(5_000)
