"""The data tab: choose a CSV, preview it, map its columns to inputs and outputs, read the data advice.

The widgets hold no state of their own: the mapping lives in the spec's
``data`` section and every change is an undoable document edit (see
:mod:`mlpdesigner.data.checks` for the edits and the checks).

The data file is read lazily: not when a design opens (pandas alone takes
about a second to import), but when the tab is first shown or something needs
the table (:meth:`DataTab.ensure_loaded`), and always on a worker thread; the
preview, the mapping's columns and the data checks appear when the read ends.
The Problems panel's data-file errors (a missing file, mapped columns the file
lacks) need only the file's first line and are found when the design opens.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRect, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..data.checks import (
    DataAdvice,
    TaskGuess,
    data_advice,
    data_file_ops,
    dataset_advice,
    head_matches,
    head_ops,
    infer_task,
    leaves_folder,
    mapped_columns,
    mapping_ops,
    preview_rows,
    read_table,
    relative_data_path,
)
from ..errors import UserError
from ..train.data import load_dataset
from .document import Document

DATA_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"

#: Files up to this size also get the checks on the split data (they read the file once more, on the GUI thread).
BACKGROUND_READ_BYTES = 8 * 1024 * 1024
NO_TARGET = "(no column)"


def choose_data_file(parent: QWidget, folder: str) -> str | None:
    """Ask for a CSV file (the default chooser; tests replace it)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Choose training data", folder, DATA_FILTER)
    return path or None


class _ReadRelay(QObject):
    """Carries finished background reads to the GUI thread; one for the process, never deleted.

    A read outlives the tab that asked for it when its window closes meanwhile: emitting on this object
    is always safe, and Qt drops the queued call to a tab that is gone.
    """

    #: (file key, DataFrame or None, error or None)
    table_read = Signal(object, object, object)


_RELAY: _ReadRelay | None = None


def _read_relay() -> _ReadRelay:
    global _RELAY
    if _RELAY is None:
        _RELAY = _ReadRelay()
    return _RELAY


def _read_in_background(key: tuple[str, float], file: Path) -> None:
    """On a worker thread: read the table and hand it to the GUI thread."""
    try:
        result: tuple[Any, str | None] = (read_table(file), None)
    except UserError as exc:
        result = (None, str(exc))
    except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: report it, never leave "Reading…"
        result = (None, f"{file}: cannot read it: {type(exc).__name__}: {exc}")
    _read_relay().table_read.emit(key, *result)


class WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text at the column's current width (a tree view does not do this itself)."""

    def __init__(self, view: QTreeWidget) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint(option, index)
        width = self.view.columnWidth(index.column()) - 10
        text = str(index.data() or "")
        if width <= 0 or not text:
            return hint
        rect = QFontMetrics(option.font).boundingRect(QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap, text)
        return QSize(hint.width(), max(hint.height(), rect.height() + 6))


def _named(items: Any) -> list[dict[str, Any]]:
    """The items of an inputs or outputs list that are objects with a name."""
    return [i for i in items or [] if isinstance(i, dict) and isinstance(i.get("name"), str)]


class DataTab(QWidget):
    """Data file, preview, column mapping per input and output, task guess per target, advice."""

    def __init__(self, document: Document, parent: QWidget | None = None,
                 chooser: Callable[[QWidget, str], str | None] = choose_data_file) -> None:
        super().__init__(parent)
        self.document = document
        self.chooser = chooser
        self.frame: Any = None
        self.frame_key: tuple[str, float] | None = None
        self.load_error: str | None = None
        #: The file key being read in the background, and what the preview says meanwhile.
        self.pending_key: tuple[str, float] | None = None
        self.loading: str | None = None
        #: False until the tab is shown or the table is needed: the file is not read before.
        self.active = False
        _read_relay().table_read.connect(self._table_read)
        self.feature_lists: dict[str, QListWidget] = {}
        self.target_boxes: dict[str, QComboBox] = {}
        self.target_lists: dict[str, QListWidget] = {}
        self.guess_labels: dict[str, QLabel] = {}
        self.head_buttons: dict[str, QPushButton] = {}
        #: The All and None buttons of each input's and output's column list.
        self.bulk_buttons: dict[str, tuple[QPushButton, QPushButton]] = {}
        self.guesses: dict[str, TaskGuess | None] = {}
        self.advice: list[DataAdvice] = []
        self._signature: Any = None
        self._preview_key: Any = None
        self._advice_key: Any = None
        self._syncing = False

        self.path_label = QLabel(self)
        self.path_label.setObjectName("data_path")
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose CSV…", self)
        self.choose_button.clicked.connect(self.choose_file)
        #: Data files outside the design's folder the user agreed to read (see leaves_folder).
        self.approved: set[str] = set()
        self.allow_button = QPushButton("Read this file", self)
        self.allow_button.setObjectName("allow_outside_data")
        self.allow_button.setToolTip("The design's data path leaves its folder; read the file only if you trust it")
        self.allow_button.clicked.connect(self.allow_outside_file)
        self.allow_button.hide()
        self.reload_button = QPushButton("Reload", self)
        self.reload_button.setToolTip("Read the data file again (after it changed on disk)")
        self.reload_button.clicked.connect(self.reload)
        self.preview = QTableWidget(self)
        self.preview.setObjectName("data_preview")
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_caption = QLabel(self)
        self.mapping_host = QWidget(self)
        self.mapping_layout = QVBoxLayout(self.mapping_host)
        self.mapping_layout.setContentsMargins(4, 4, 4, 4)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.mapping_host)
        self.advice_tree = QTreeWidget(self)
        self.advice_tree.setObjectName("data_advice")
        self.advice_tree.setHeaderLabels(["Column", "Advice"])
        self.advice_tree.setRootIsDecorated(False)
        self.advice_tree.setWordWrap(True)
        self.advice_tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.advice_tree.setItemDelegate(WrappingDelegate(self.advice_tree))
        self.advice_tree.header().sectionResized.connect(lambda *_: self.advice_tree.doItemsLayout())
        self.advice_tree.itemSelectionChanged.connect(self._update_fix_button)
        self.fix_button = QPushButton("Apply fix", self)
        self.fix_button.setEnabled(False)
        self.fix_button.clicked.connect(self.apply_selected_fix)

        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Data file:</b>", self))
        top.addWidget(self.path_label, 1)
        top.addWidget(self.allow_button)
        top.addWidget(self.choose_button)
        top.addWidget(self.reload_button)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.preview_caption)
        left_layout.addWidget(self.preview, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        mapping_title = QLabel("<b>Column mapping</b> (a 1-D input's width follows its checked columns)", self)
        mapping_title.setWordWrap(True)
        right_layout.addWidget(mapping_title)
        self.mapping_problems = QLabel(self)
        self.mapping_problems.setObjectName("mapping_problems")
        self.mapping_problems.setWordWrap(True)
        self.mapping_problems.setStyleSheet("color: #dc2626;")
        self.mapping_problems.hide()
        right_layout.addWidget(self.mapping_problems)
        self.column_filter = QLineEdit(self)
        self.column_filter.setObjectName("column_filter")
        self.column_filter.setPlaceholderText("Filter columns…")
        self.column_filter.setClearButtonEnabled(True)
        self.column_filter.setToolTip("Show only the columns whose name contains this text; All and None then "
                                      "check or clear just those")
        self.column_filter.textChanged.connect(self._apply_filter)
        right_layout.addWidget(self.column_filter)
        right_layout.addWidget(scroll, 1)
        upper = QSplitter(Qt.Orientation.Horizontal, self)
        upper.addWidget(left)
        upper.addWidget(right)
        upper.setStretchFactor(0, 1)
        upper.setStretchFactor(1, 1)
        self.upper_splitter = upper
        self._sized = False
        checks = QWidget(self)
        checks_layout = QVBoxLayout(checks)
        checks_layout.setContentsMargins(0, 0, 0, 0)
        advice_row = QHBoxLayout()
        advice_row.addWidget(QLabel("<b>Data checks</b>", self), 1)
        advice_row.addWidget(self.fix_button)
        checks_layout.addLayout(advice_row)
        checks_layout.addWidget(self.advice_tree, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(upper)
        splitter.addWidget(checks)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.document.changed.connect(self.sync)
        self.document.path_changed.connect(self.sync)
        self.sync()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized:  # first show: preview and mapping share the width (the preview's hint is wide)
            self._sized = True
            half = max(self.upper_splitter.width() // 2, 100)
            self.upper_splitter.setSizes([half, half])
        self.ensure_loaded()

    def ensure_loaded(self) -> None:
        """Start reading the data file (in the background) if that has not happened: the tab or a check needs it."""
        if not self.active:
            self.active = True
            self.sync()

    # ----- the data file -------------------------------------------------------------------------
    def data_file(self) -> Path | None:
        """The data file the spec points at (resolved against the spec's folder), or None."""
        raw = self.document.raw
        data = raw.get("data") if isinstance(raw, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("path"), str) or not data["path"]:
            return None
        path = Path(data["path"])
        if not path.is_absolute():
            if self.document.path is None:
                return None
            path = self.document.path.parent / path
        return path.resolve()

    def choose_file(self) -> bool:
        """Ask for a CSV file and point the design at it (one undoable edit)."""
        current = self.data_file()
        folder = current.parent if current is not None and current.parent.is_dir() else (
            self.document.path.parent if self.document.path else Path.cwd())
        path = self.chooser(self, str(folder))
        return self.set_data_file(path) if path else False

    def set_data_file(self, path: str | os.PathLike[str]) -> bool:
        """Point the design at a CSV file (path stored relative to the spec file); one undoable edit."""
        if not self.document.editable:
            return False
        self.active = True
        self.approved.add(str(Path(path).resolve()))  # the user chose it: no need to ask
        text = relative_data_path(path, self.document.path)
        return self.document.apply(data_file_ops(self.document.raw, text), "Choose data file")

    def reload(self) -> None:
        """Read the data file again, and check the mapping against it again."""
        self.frame_key = self.pending_key = None
        self._signature = self._preview_key = self._advice_key = None
        self.document.recheck_data_file()
        self.sync()

    def outside_file(self) -> Path | None:
        """The data file when it lies outside the design's folder and the user has not agreed to read it."""
        file = self.data_file()
        if file is None or str(file) in self.approved or not leaves_folder(file, self.document.path):
            return None
        return file

    def allow_outside_file(self) -> None:
        """The user agreed to read the data file outside the design's folder."""
        file = self.data_file()
        if file is not None:
            self.approved.add(str(file))
        self.active = True
        self.reload()

    def _load(self) -> None:
        file = self.data_file()
        if file is None:
            self.frame, self.frame_key, self.load_error = None, None, None
            self.pending_key = self.loading = None
            return
        outside = self.outside_file()
        self.allow_button.setVisible(outside is not None)
        if outside is not None:  # a design from someone else must not make the preview show a private file
            self.frame, self.frame_key, self.pending_key, self.loading = None, None, None, None
            self.load_error = (
                f"The design's data path leaves its folder: {outside}. It is not read until you press "
                "“Read this file” (only if you trust the design)."
            )
            return
        try:
            stat = file.stat()
            key, size = (str(file), stat.st_mtime), stat.st_size
        except OSError:
            key, size = (str(file), -1.0), 0
        if key in (self.frame_key, self.pending_key):
            return
        if not self.active:
            return  # read when the tab is shown: a design opens without waiting for pandas and the file
        self.pending_key = key
        self.frame, self.frame_key, self.load_error = None, None, None
        self.loading = f"Reading {file.name}" + (f" ({size / 1e6:,.0f} MB)" if size >= 1e6 else "") + "…"
        QThreadPool.globalInstance().start(lambda: _read_in_background(key, file))

    def _table_read(self, key: tuple[str, float], frame: Any, error: str | None) -> None:
        """A background read finished (on the GUI thread); ignored when another file was chosen meanwhile."""
        if key != self.pending_key:
            return
        self.pending_key = self.loading = None
        self.frame, self.frame_key, self.load_error = frame, key, error
        self._signature = self._preview_key = self._advice_key = None
        self.sync()

    def wait_for_read(self, timeout_ms: int = 60_000) -> bool:
        """Process events until a background read has finished (for tests and scripted use)."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer

        deadline = QDeadlineTimer(timeout_ms)
        while self.pending_key is not None and not deadline.hasExpired():
            QCoreApplication.processEvents()
            time.sleep(0.01)
        return self.pending_key is None

    # ----- syncing with the document ---------------------------------------------------------------
    def sync(self) -> None:
        """Redraw from the document (the mapping widgets are rebuilt only when their layout changes)."""
        raw = self.document.raw if self.document.editable else None
        self._load()
        file = self.data_file()
        if raw is None:
            self.path_label.setText("The design is not valid JSON: fix it in the JSON view.")
        elif not isinstance(raw.get("data"), dict):
            self.path_label.setText("No data yet: choose a CSV file.")
        elif file is None:
            self.path_label.setText(f"{raw['data'].get('path')} (save the design: the path is relative to its file)")
        elif Path(raw["data"]["path"]).is_absolute():
            self.path_label.setText(str(file))
        else:
            self.path_label.setText(f"{raw['data'].get('path')}  →  {file}")
        self.choose_button.setEnabled(raw is not None)
        self._fill_preview()
        columns = [str(c) for c in self.frame.columns] if self.frame is not None else []
        inputs = _named((raw or {}).get("inputs"))
        outputs = _named((raw or {}).get("outputs"))
        signature = (tuple(columns), tuple(i["name"] for i in inputs),
                     tuple((o["name"], self._multi_target(o)) for o in outputs))
        if signature != self._signature:
            self._signature = signature
            self._build_mapping(columns, inputs, outputs)
        self._update_mapping(raw or {}, inputs, outputs)
        self._fill_advice(raw or {})
        self._show_mapping_problems()

    def _show_mapping_problems(self) -> None:
        """The data section's errors (a column the file lacks, a missing mapping) above the lists."""
        errors = [p for p in self.document.spec.errors if p.path.startswith("/data")]
        self.mapping_problems.setVisible(bool(errors))
        names = sorted({p.path.split("/")[3] for p in errors if p.path.count("/") >= 3 and "/columns/" in p.path})
        where = f" ({', '.join(names)})" if names else ""
        self.mapping_problems.setText(
            f"{len(errors)} data error{'s' * (len(errors) != 1)}{where}: {errors[0].message.split('. ')[0]}. "
            "The fixes are in Problems." if errors else "")
        self.mapping_problems.setToolTip("\n\n".join(p.message for p in errors))

    @staticmethod
    def _multi_target(output: dict[str, Any]) -> bool:
        """True when an output takes several target columns (multilabel, or regression with several units)."""
        return output.get("task") == "multilabel" or (output.get("task") == "regression" and output.get("units", 1) > 1)

    def _fill_preview(self) -> None:
        key = (self.frame_key, self.load_error, self.frame is None, self.loading)
        if key == self._preview_key:
            return
        self._preview_key = key
        if self.frame is None:
            self.preview.clear()
            self.preview.setRowCount(0)
            self.preview.setColumnCount(0)
            self.preview_caption.setText(self.load_error or self.loading or "")
            self.preview_caption.setStyleSheet("color: #dc2626;" if self.load_error else "")
            return
        rows = preview_rows(self.frame)
        self.preview.setColumnCount(len(self.frame.columns))
        self.preview.setHorizontalHeaderLabels([str(c) for c in self.frame.columns])
        self.preview.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.preview.setItem(r, c, QTableWidgetItem(value))
        self.preview.resizeColumnsToContents()  # not ResizeToContents: it crashed Qt
        self.preview_caption.setStyleSheet("")
        self.preview_caption.setText(
            f"First {len(rows)} of {len(self.frame)} rows, {len(self.frame.columns)} columns")

    def _build_mapping(self, columns: list[str], inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> None:
        while self.mapping_layout.count():
            item = self.mapping_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        self.feature_lists.clear()
        self.target_boxes.clear()
        self.target_lists.clear()
        self.guess_labels.clear()
        self.head_buttons.clear()
        if not columns:
            self.mapping_layout.addWidget(QLabel("Choose a readable CSV file to map its columns.", self.mapping_host))
            self.mapping_layout.addStretch(1)
            return
        self.bulk_buttons.clear()
        for item in inputs:
            name = item["name"]
            box = QGroupBox(f"Input {name}", self.mapping_host)
            box_layout = QVBoxLayout(box)
            features = self._checkable_list(columns, lambda _item, n=name: self._features_changed(n))
            box_layout.addWidget(features)
            box_layout.addLayout(self._bulk_row(name, box))
            self.feature_lists[name] = features
            self.mapping_layout.addWidget(box)
        for item in outputs:
            name = item["name"]
            box = QGroupBox(f"Output {name}", self.mapping_host)
            box_layout = QVBoxLayout(box)
            if self._multi_target(item):
                targets = self._checkable_list(columns, lambda _item, n=name: self._targets_changed(n))
                box_layout.addWidget(targets)
                box_layout.addLayout(self._bulk_row(name, box))
                self.target_lists[name] = targets
            else:
                combo = QComboBox(box)
                combo.addItems([NO_TARGET, *columns])
                combo.currentIndexChanged.connect(lambda _i, n=name: self._target_chosen(n))
                box_layout.addWidget(combo)
                self.target_boxes[name] = combo
            guess = QLabel(box)
            guess.setWordWrap(True)
            button = QPushButton("Set the output head to match", box)
            button.setToolTip("Change this output's task and units to what the target column holds (undoable)")
            button.clicked.connect(lambda _checked=False, n=name: self.match_head(n))
            box_layout.addWidget(guess)
            box_layout.addWidget(button)
            self.guess_labels[name] = guess
            self.head_buttons[name] = button
            self.mapping_layout.addWidget(box)
        self.mapping_layout.addStretch(1)
        self._apply_filter()

    def _bulk_row(self, name: str, box: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        every = QPushButton("All", box)
        every.setToolTip(f"Check every shown column for {name} (one undoable step)")
        every.clicked.connect(lambda _checked=False, n=name: self.check_shown(n, True))
        none = QPushButton("None", box)
        none.setToolTip(f"Clear every shown column of {name} (one undoable step)")
        none.clicked.connect(lambda _checked=False, n=name: self.check_shown(n, False))
        row.addWidget(every)
        row.addWidget(none)
        row.addStretch(1)
        self.bulk_buttons[name] = (every, none)
        return row

    def _apply_filter(self) -> None:
        """Hide the columns whose name does not contain the filter text (in every list)."""
        text = self.column_filter.text().strip().lower()
        for widget in [*self.feature_lists.values(), *self.target_lists.values()]:
            for row in range(widget.count()):
                entry = widget.item(row)
                entry.setHidden(bool(text) and text not in entry.text().lower())

    def check_shown(self, name: str, checked: bool) -> bool:
        """Check (or clear) every column the filter shows for an input or output, as one undoable edit."""
        widget = self.feature_lists.get(name) or self.target_lists.get(name)
        if widget is None:
            return False
        current = mapped_columns(self.document.raw, name)
        shown = [widget.item(r).text() for r in range(widget.count()) if not widget.item(r).isHidden()]
        if checked:
            order = [widget.item(r).text() for r in range(widget.count())]
            wanted = set(current) | set(shown)
            columns = [c for c in current if c in wanted] + [c for c in order if c in wanted and c not in current]
        else:
            columns = [c for c in current if c not in shown]
        return self.set_mapping(name, columns)

    def _checkable_list(self, columns: list[str], on_change: Callable[[QListWidgetItem], None]) -> QListWidget:
        widget = QListWidget(self.mapping_host)
        for column in columns:
            entry = QListWidgetItem(column, widget)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Unchecked)
        widget.itemChanged.connect(on_change)
        # As tall as its columns (up to 12 rows, then it scrolls): no empty box, no cut-off list.
        rows = max(1, min(len(columns), 12))
        widget.setFixedHeight(rows * max(widget.sizeHintForRow(0), 16) + 2 * widget.frameWidth() + 4)
        return widget

    def _update_mapping(self, raw: dict[str, Any], inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> None:
        self._syncing = True
        try:
            for item in inputs:
                widget = self.feature_lists.get(item["name"])
                if widget is None:
                    continue
                chosen = set(mapped_columns(raw, item["name"]))
                for row in range(widget.count()):
                    entry = widget.item(row)
                    entry.setCheckState(Qt.CheckState.Checked if entry.text() in chosen else Qt.CheckState.Unchecked)
                widget.parentWidget().setTitle(
                    f"Input {item['name']}: {len(chosen)} column{'s' * (len(chosen) != 1)} (shape {item.get('shape')})")
            for index, item in enumerate(outputs):
                name = item["name"]
                targets = mapped_columns(raw, name)
                if name in self.target_boxes:
                    combo = self.target_boxes[name]
                    position = combo.findText(targets[0]) if len(targets) == 1 else 0
                    combo.setCurrentIndex(max(position, 0))
                elif name in self.target_lists:
                    widget = self.target_lists[name]
                    for row in range(widget.count()):
                        entry = widget.item(row)
                        entry.setCheckState(Qt.CheckState.Checked if entry.text() in targets
                                            else Qt.CheckState.Unchecked)
                self._show_guess(index, item, targets)
        finally:
            self._syncing = False

    def _show_guess(self, index: int, output: dict[str, Any], targets: list[str]) -> None:
        name = output["name"]
        label, button = self.guess_labels.get(name), self.head_buttons.get(name)
        if label is None or button is None:
            return
        guess = infer_task(self.frame, targets) if self.frame is not None and targets else None
        self.guesses[name] = guess
        if guess is None:
            label.setText("Choose the target column." if not targets else "")
            button.hide()
            return
        head = f"{output.get('task')}, {output.get('units', 1)} unit{'s' * (output.get('units', 1) != 1)}"
        if head_matches(output, guess):
            label.setText(f"Target looks like {guess.describe()}; the head matches ({head}).")
            label.setStyleSheet("color: #15803d;")
            button.hide()
        else:
            label.setText(f"Target looks like {guess.describe()} ({guess.why}); the head is {head}.")
            label.setStyleSheet("color: #b45309;")
            button.setText(f"Make it {guess.task}" + (f" with {guess.units} units" if guess.task != "binary" else ""))
            button.setToolTip(f"Set the output head to {guess.task}"
                              + (f" with {guess.units} units" if guess.task != "binary" else "") + " (undoable)")
            button.show()

    # ----- user edits ------------------------------------------------------------------------------
    def _checked(self, widget: QListWidget, current: list[str]) -> list[str]:
        """Checked columns: the ones mapped already keep their order, new ones follow in file order."""
        checked = [widget.item(r).text() for r in range(widget.count())
                   if widget.item(r).checkState() == Qt.CheckState.Checked]
        kept = [c for c in current if c in checked]
        return kept + [c for c in checked if c not in kept]

    def _features_changed(self, name: str) -> None:
        if self._syncing:
            return
        columns = self._checked(self.feature_lists[name], mapped_columns(self.document.raw, name))
        self.set_mapping(name, columns)

    def _targets_changed(self, name: str) -> None:
        if self._syncing:
            return
        columns = self._checked(self.target_lists[name], mapped_columns(self.document.raw, name))
        self.set_mapping(name, columns)

    def _target_chosen(self, name: str) -> None:
        if self._syncing:
            return
        text = self.target_boxes[name].currentText()
        self.set_mapping(name, [] if text == NO_TARGET else [text])

    def set_mapping(self, name: str, columns: list[str]) -> bool:
        """Map ``columns`` to the input or output ``name`` (one undoable edit)."""
        raw = self.document.raw
        if not self.document.editable or not isinstance(raw.get("data"), dict):
            return False
        ops = mapping_ops(raw, name, columns)
        return self.document.apply(ops, f"Map columns to {name}")

    def match_head(self, name: str) -> bool:
        """Set an output's task and units to what its target column holds (undoable)."""
        guess = self.guesses.get(name)
        raw = self.document.raw
        if guess is None or not self.document.editable:
            return False
        index = next((i for i, o in enumerate(raw.get("outputs") or []) if o.get("name") == name), None)
        if index is None:
            return False
        return self.document.apply(head_ops(raw, index, guess), f"Set output {name} to {guess.task}",
                                   select=f"/outputs/{index}")

    # ----- advice ----------------------------------------------------------------------------------
    def _fill_advice(self, raw: dict[str, Any]) -> None:
        # The checks read the whole table: run them again only when the data or what they look at changed.
        training = raw.get("training") if isinstance(raw.get("training"), dict) else {}
        key = (self.frame_key, self.frame is None, json.dumps(raw.get("data"), sort_keys=True, default=str),
               json.dumps(raw.get("inputs"), sort_keys=True, default=str),
               json.dumps(raw.get("outputs"), sort_keys=True, default=str), str(training.get("class_weight")))
        if key == self._advice_key:
            return
        self._advice_key = key
        self.advice = data_advice(self.frame, raw) if self.frame is not None and raw else []
        self.advice += self._split_data_advice()
        self.advice_tree.clear()
        for entry in self.advice:
            item = QTreeWidgetItem([entry.column, entry.message])
            item.setToolTip(1, entry.message)
            self.advice_tree.addTopLevelItem(item)
        if self.frame is not None and not self.advice:
            self.advice_tree.addTopLevelItem(QTreeWidgetItem(["", "No problems found in the data."]))
        self.advice_tree.resizeColumnToContents(0)  # not ResizeToContents: it crashed Qt
        self._update_fix_button()

    def _split_data_advice(self) -> list[DataAdvice]:
        """The core's checks on the split data (as ``validate --data`` and ``train`` print them).

        Only for a valid design whose file is small enough to read here; a data error shows
        when training starts, and the frame-level advice above covers most of it.
        """
        spec, file = self.document.spec, self.data_file()
        if self.frame is None or spec is None or not spec.ok or file is None:
            return []
        try:
            if file.stat().st_size > BACKGROUND_READ_BYTES:
                return []
            return dataset_advice(spec, load_dataset(spec))
        except (UserError, OSError, KeyError, ValueError):
            return []

    def _selected_advice(self) -> DataAdvice | None:
        row = self.advice_tree.indexOfTopLevelItem(self.advice_tree.currentItem()) \
            if self.advice_tree.currentItem() else -1
        return self.advice[row] if 0 <= row < len(self.advice) else None

    def _update_fix_button(self) -> None:
        entry = self._selected_advice()
        self.fix_button.setEnabled(bool(entry and entry.fix))
        self.fix_button.setText(entry.fix_title if entry and entry.fix else "Apply fix")

    def apply_selected_fix(self) -> bool:
        entry = self._selected_advice()
        if entry is None or not entry.fix:
            return False
        return self.document.apply(entry.fix, entry.fix_title or "Apply data advice")
