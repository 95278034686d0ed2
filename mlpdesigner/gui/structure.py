"""Structure actions: switch the topology, add, rename and remove inputs and outputs.

The same actions appear in the outline's and the diagram's context menus and in
Edit ▸ Structure. Each is one undoable edit built by :mod:`mlpdesigner.spec.operations`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from ..spec.operations import (
    MAX_INPUTS,
    MAX_OUTPUTS,
    add_input_ops,
    add_output_ops,
    input_names,
    output_names,
    remove_input_ops,
    remove_output_ops,
    subject_pointer,
    topology,
    topology_ops,
)
from ..spec.problems import split_pointer
from .document import Document


class StructureActions(QObject):
    """The structural edits as QActions that follow the document and the selection."""

    #: Emitted with a sentence for the status bar (what an edit did, or why it cannot be done).
    message = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        #: Called with an input's or output's pointer to start renaming it (the inspector's name field).
        self.rename_handler: Callable[[str], None] | None = None
        self.wide_deep_action = self._action("Switch to Wide && Deep", self.to_wide_deep,
                                             "The layers become the deep path; the input feeds both paths")
        self.sequential_action = self._action("Switch to sequential", self.to_sequential,
                                              "The deep path's layers become the network; the wide path goes")
        self.add_input_action = self._action("Add input", self.add_input, "Add an input that feeds the wide path")
        self.add_output_action = self._action("Add output", lambda: self.add_output(False),
                                              "Add a regression output head at the network's end")
        self.add_aux_action = self._action("Add auxiliary output on the deep path", lambda: self.add_output(True),
                                           "Add an output head at the end of the deep path (loss weight 0.1)")
        self.rename_action = self._action("Rename…", self.rename_selected, "Rename the selected input or output")
        self.rename_action.setShortcut(QKeySequence("F2"))
        self.remove_action = self._action("Remove", self.remove_selected,
                                          "Remove the selected input or output and its column mapping")
        self.menu = QMenu("Structure")
        self.menu.aboutToShow.connect(self.update_actions)
        for action in self.all_actions():
            self.menu.addAction(action)
        document.changed.connect(self.update_actions)
        document.selection_changed.connect(lambda _ptr: self.update_actions())
        self.update_actions()

    def _action(self, text: str, slot: Any, tip: str) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        return action

    def all_actions(self) -> list[QAction]:
        return [self.wide_deep_action, self.sequential_action, self.add_input_action, self.add_output_action,
                self.add_aux_action, self.rename_action, self.remove_action]

    # ----- state ---------------------------------------------------------------------------------
    def _item(self, ptr: str | None = None) -> tuple[str, int] | None:
        """(section, index) of the selected input or output, if one is selected."""
        parts = split_pointer(subject_pointer(self.document.selection if ptr is None else ptr))
        if len(parts) == 2 and parts[0] in ("inputs", "outputs") and parts[1].isdigit():
            return parts[0], int(parts[1])
        return None

    def update_actions(self) -> None:
        """Enable what the design allows; the tooltips say why something is not possible."""
        raw = self.document.raw
        editable = self.document.editable
        wide_deep = editable and topology(raw) == "wide_deep"
        self.wide_deep_action.setEnabled(editable and not wide_deep)
        self.sequential_action.setEnabled(wide_deep)
        self.add_input_action.setEnabled(wide_deep and len(input_names(raw)) < MAX_INPUTS)
        self.add_output_action.setEnabled(editable and len(output_names(raw)) < MAX_OUTPUTS)
        self.add_aux_action.setEnabled(wide_deep and len(output_names(raw)) < MAX_OUTPUTS)
        item = self._item() if editable else None
        self.rename_action.setEnabled(item is not None)
        removable = item is not None and len(input_names(raw) if item[0] == "inputs" else output_names(raw)) > 1
        self.remove_action.setEnabled(removable)
        if item is not None:
            names = input_names(raw) if item[0] == "inputs" else output_names(raw)
            kind = "input" if item[0] == "inputs" else "output"
            name = names[item[1]] if item[1] < len(names) else "?"
            self.rename_action.setText(f"Rename {kind} {name!r}…")
            self.remove_action.setText(f"Remove {kind} {name!r}")
            if not removable:
                self.remove_action.setToolTip(f"The design needs at least one {kind}")
        else:
            self.rename_action.setText("Rename…")
            self.remove_action.setText("Remove")
        if not wide_deep:
            self.add_input_action.setToolTip("A sequential network has one input; switch to Wide & Deep first")
        elif len(input_names(raw)) >= MAX_INPUTS:
            self.add_input_action.setToolTip(f"A design has at most {MAX_INPUTS} inputs")
        else:
            self.add_input_action.setToolTip("Add an input that feeds the wide path")

    # ----- edits ---------------------------------------------------------------------------------
    def _apply(self, build: Callable[[], Any], title: str) -> bool:
        """Build the operations (a ValueError says why they cannot be) and push them as one undo step."""
        self.document.flush()
        if not self.document.editable:
            return False
        try:
            result = build()
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        ops, select, note = result
        done = self.document.apply(ops, title, select=select)
        if done and note:
            self.message.emit(note)
        return done

    def to_wide_deep(self) -> bool:
        """sequential -> Wide & Deep, as one undo step; the Network form then shows the path inputs."""
        def build() -> Any:
            ops, note = topology_ops(self.document.raw, "wide_deep")
            return ops, "/network", note + " Choose the wide inputs in the inspector."
        return self._apply(build, "Switch to Wide & Deep")

    def to_sequential(self) -> bool:
        def build() -> Any:
            ops, note = topology_ops(self.document.raw, "sequential")
            return ops, "/network", note
        return self._apply(build, "Switch to sequential")

    def add_input(self) -> bool:
        def build() -> Any:
            ops, ptr = add_input_ops(self.document.raw)
            return ops, ptr, "Added an input on the wide path; set its shape and map its columns in the Data tab."
        return self._apply(build, "Add input")

    def add_output(self, auxiliary: bool = False) -> bool:
        def build() -> Any:
            ops, ptr = add_output_ops(self.document.raw, auxiliary)
            where = "at the end of the deep path" if auxiliary else "at the network's end"
            return ops, ptr, f"Added an output {where}; map its target columns in the Data tab."
        return self._apply(build, "Add auxiliary output" if auxiliary else "Add output")

    def rename_selected(self, ptr: str | None = None) -> None:
        """Start renaming the selected input or output (its name field in the inspector)."""
        item = self._item(ptr)
        if item is None:
            return
        subject = f"/{item[0]}/{item[1]}"
        self.document.select(subject)
        if self.rename_handler is not None:
            self.rename_handler(f"{subject}/name")

    def remove_selected(self, ptr: str | None = None) -> bool:
        """Remove the selected input or output (and its column mapping)."""
        item = self._item(ptr)
        if item is None:
            return False
        section, index = item

        def build() -> Any:
            raw = self.document.raw
            if section == "inputs":
                return remove_input_ops(raw, index), "", ""
            return remove_output_ops(raw, index), "", ""
        return self._apply(build, "Remove input" if section == "inputs" else "Remove output")

    # ----- menus ---------------------------------------------------------------------------------
    def fill_menu(self, menu: QMenu, subject: str) -> None:
        """Add the actions that fit ``subject`` (what was right-clicked) to a context menu."""
        if subject:
            self.document.select(subject)
        self.update_actions()
        item = self._item(subject) if subject else None
        if item is not None:
            menu.addAction(self.rename_action)
            menu.addAction(self.remove_action)
            menu.addSeparator()
        if item is None or item[0] == "inputs":
            menu.addAction(self.add_input_action)
        menu.addAction(self.add_output_action)
        menu.addAction(self.add_aux_action)
        menu.addSeparator()
        menu.addAction(self.sequential_action if topology(self.document.raw) == "wide_deep"
                       else self.wide_deep_action)

    def attach_canvas(self, canvas: QGraphicsView) -> None:
        """Give the diagram a context menu with the structure actions for the block under the mouse."""
        canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        canvas.customContextMenuRequested.connect(lambda pos: self._canvas_menu(canvas, pos))
        self.canvas_menu: QMenu | None = None

    def _canvas_menu(self, canvas: QGraphicsView, pos: QPoint) -> None:
        item = canvas.itemAt(pos)
        while item is not None and not hasattr(item, "subject"):
            item = item.parentItem()
        subject = getattr(item, "subject", "") or ""
        menu = QMenu(canvas)
        self.fill_menu(menu, subject)
        self.canvas_menu = menu
        menu.popup(canvas.viewport().mapToGlobal(pos))

    def attach_rename(self, handler: Callable[[str], None]) -> None:
        self.rename_handler = handler

    def context_widgets(self, *widgets: QWidget) -> None:
        """Make F2 (rename) work while one of ``widgets`` has focus."""
        for widget in widgets:
            widget.addAction(self.rename_action)
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
