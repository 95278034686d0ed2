"""The problems-and-advice panel and the summary panel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..spec import summarize
from ..spec.operations import subject_pointer
from ..spec.problems import CODES, Problem
from .document import Document

SEVERITY_COLORS = {"error": "#dc2626", "warning": "#b45309", "info": "#2563eb"}
#: Problems about the data file found by the document, not by the spec pipeline.
DATA_FILE_CODES = ("E307", "E308")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class ProblemsPanel(QWidget):
    """Schema errors, semantic errors and lint advice; double-click goes to the place."""

    #: Emitted with the problem the user wants to see.
    navigate = Signal(object)
    #: Emitted with a problem whose fix is an action in the window (e.g. locate the data file), not a patch.
    action_requested = Signal(object)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("problems")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Code", "Where", "Line", "Message"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # not ResizeToContents: it crashed Qt
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(1, 280)
        self.fix_button = QPushButton("Apply fix", self)
        self.fix_button.setEnabled(False)
        self.fix_button.setToolTip("Apply the selected advice's fix (undoable)")
        self.fix_all_button = QPushButton("Apply all", self)
        self.fix_all_button.setObjectName("apply_all")
        self.fix_all_button.setEnabled(False)
        self.fix_all_button.setToolTip("Apply the fix of every problem with the selected one's code (one undo step)")
        self.status = QLabel(self)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.fix_button)
        top.addWidget(self.fix_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        self.problems: list[Problem] = []
        self.tree.itemDoubleClicked.connect(self._activated)
        self.tree.installEventFilter(self)  # Enter on a row goes to it, as a double-click does
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.fix_button.clicked.connect(self.apply_selected_fix)
        self.fix_all_button.clicked.connect(self.apply_all_like_selected)
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Refill the list from the document's latest analysis."""
        self.problems = sorted(
            self.document.spec.problems, key=lambda p: (SEVERITY_ORDER[p.severity], p.line or 0, p.code)
        )
        # No currentItemChanged while the items go: its "previous" item would be handed to Python half-deleted.
        self.tree.blockSignals(True)
        selection = self.tree.selectionModel()
        selection.blockSignals(True)
        try:
            selection.clear()  # nothing current or selected while the items go
            self.tree.clear()
        finally:
            selection.blockSignals(False)
            self.tree.blockSignals(False)
        from .canvas import problem_subject

        names = layer_names(self.document.spec)
        for index, problem in enumerate(self.problems):
            where = problem.path or "/"
            name = names.get(problem_subject(problem.path, self.document.raw))
            if name:
                where = f"{name}  {where}"
            item = QTreeWidgetItem([problem.code, where, str(problem.line or ""), problem.message])
            item.setData(0, Qt.ItemDataRole.UserRole, index)
            color = QBrush(QColor(SEVERITY_COLORS[problem.severity]))
            item.setForeground(0, color)
            tip = f"{problem.severity} {problem.code} ({CODES.get(problem.code, '')}): {problem.message}"
            if self._fixable(problem):
                tip += f"\nFix available: {problem.fix_title or 'apply the suggested change'}"
            for column in range(4):
                item.setToolTip(column, tip)
            if self._fixable(problem):
                item.setText(3, problem.message + "   [fix]")
            self.tree.addTopLevelItem(item)
        for column in (0, 2):
            self.tree.resizeColumnToContents(column)
        errors = sum(p.is_error for p in self.problems)
        advice = len(self.problems) - errors
        if not self.problems:
            self.status.setText("<span style='color:#15803d'>No problems. The design is valid.</span>")
        else:
            self.status.setText(
                f"<b style='color:#dc2626'>{errors} error{'s' * (errors != 1)}</b>, "
                f"{advice} advice" + ("  (double-click or Enter goes to the place)" if self.problems else "")
            )
        self.fix_button.setEnabled(False)
        self.fix_all_button.setEnabled(False)
        self.fix_all_button.setText("Apply all")

    def _fixable(self, problem: Problem) -> bool:
        return bool(problem.fix or problem.extra.get("action"))

    def selected(self) -> Problem | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return self.problems[item.data(0, Qt.ItemDataRole.UserRole)]

    def select_row(self, row: int) -> None:
        self.tree.setCurrentItem(self.tree.topLevelItem(row))

    def _current_changed(self, *_args: Any) -> None:
        problem = self.selected()
        self.fix_button.setEnabled(bool(problem and self._fixable(problem) and self.document.editable))
        if problem and self._fixable(problem):
            self.fix_button.setToolTip(f"{problem.fix_title or 'Apply the fix'} (undoable)")
        alike = self._alike(problem)
        self.fix_all_button.setEnabled(len(alike) > 1 and self.document.editable)
        self.fix_all_button.setText(f"Apply all {len(alike)}" if len(alike) > 1 else "Apply all")

    def _alike(self, problem: Problem | None) -> list[Problem]:
        """The problems with the same code as ``problem`` that have a patch to apply."""
        if problem is None or not problem.fix:
            return []
        return [p for p in self.problems if p.code == problem.code and p.fix]

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        self.navigate.emit(self.problems[item.data(0, Qt.ItemDataRole.UserRole)])

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
        if (watched is self.tree and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.tree.currentItem() is not None):
            self._activated(self.tree.currentItem(), 0)
            return True
        return super().eventFilter(watched, event)

    def _context_menu(self, pos: Any) -> None:
        problem = self.selected()
        if problem is None:
            return
        menu = QMenu(self)
        menu.addAction("Go to", lambda: self.navigate.emit(problem))
        if self._fixable(problem) and self.document.editable:
            menu.addAction(f"Apply fix: {problem.fix_title or 'suggested change'}", self.apply_selected_fix)
            for title, ops in problem.extra.get("alternatives", []):
                menu.addAction(title, lambda o=ops, t=title: self.document.apply(list(o), t))
        if len(self._alike(problem)) > 1 and self.document.editable:
            menu.addAction(f"Apply all {len(self._alike(problem))} {problem.code} fixes", self.apply_all_like_selected)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def apply_selected_fix(self) -> bool:
        """Apply the selected problem's fix as one undoable edit (or ask the window for its action)."""
        problem = self.selected()
        if problem is None or not self._fixable(problem):
            return False
        if not problem.fix:
            self.action_requested.emit(problem)
            return True
        return self.document.apply(list(problem.fix), f"Apply fix: {problem.fix_title or problem.code}",
                                   select=subject_pointer(problem.path) or None)

    def apply_all_like_selected(self) -> bool:
        """Apply the fix of every problem with the selected one's code, as one undo step.

        The fixes are applied one at a time on the re-analyzed design, so that each one's
        paths are still right after the previous one (a removal shifts the layers after it).
        """
        problem = self.selected()
        if problem is None or not problem.fix:
            return False
        code, count = problem.code, len(self._alike(problem))
        stack = self.document.undo_stack
        stack.beginMacro(f"Apply all {code} fixes")
        try:
            for _ in range(count):
                todo = next((p for p in self.document.spec.problems if p.code == code and p.fix), None)
                if todo is None:
                    break
                self.document.apply(list(todo.fix or ()), f"Apply fix: {todo.fix_title or code}")
        finally:
            stack.endMacro()
        return True


def layer_names(spec: Any) -> dict[str, str]:
    """The name of each layer, input and output by its subject pointer (from the diagram's plan)."""
    from .canvas import structure_plan  # the canvas module imports no panel: no cycle

    plan = structure_plan(spec)
    names: dict[str, str] = {}
    for node in plan.nodes if plan is not None else []:
        subject = subject_pointer(node.spec_path)
        if subject and subject not in ("/network", "/training", "/data"):
            names.setdefault(subject, node.name)
    return names


class SummaryPanel(QWidget):
    """The pure-Python layer table and parameter totals (no TensorFlow)."""

    HEADERS = ["Layer", "Type", "Output shape", "Params", "Connected to"]

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, len(self.HEADERS), self)
        self.table.setObjectName("summary")
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.totals = QLabel(self)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.totals)
        layout.addWidget(self.table)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.paths: list[str] = []
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        spec = self.document.spec
        self.table.setRowCount(0)
        self.paths = []
        if spec.plan is None:
            self.totals.setText("No summary while the design has errors.")
            return
        # The data file's own problems (added by the document) do not change the network's summary.
        summary = summarize(replace(spec, problems=[p for p in spec.problems if p.code not in DATA_FILE_CODES]))
        self.table.setRowCount(len(summary.layers))
        for row, layer in enumerate(summary.layers):
            shape = "(" + ", ".join("None" if d is None else str(d) for d in layer.output_shape) + ")"
            values = [layer.name, layer.keras_class, shape, f"{layer.params:,}", ", ".join(layer.inputs)]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            self.paths.append(layer.spec_path)
        self.table.resizeColumnsToContents()
        self.totals.setText(
            f"<b>{summary.name}</b>: total params <b>{summary.total_params:,}</b> "
            f"(trainable {summary.trainable_params:,}, non-trainable {summary.non_trainable_params:,}); "
            f"inputs {', '.join(summary.inputs)}; outputs {', '.join(summary.outputs)}"
        )

    def _double_clicked(self, row: int, _column: int) -> None:
        self.document.select(subject_pointer(self.paths[row]))
