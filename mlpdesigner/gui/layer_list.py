"""The outline: inputs, hidden layers (reorderable), outputs, training and data."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..spec.operations import (
    LAYER_TEMPLATES,
    LAYER_TITLES,
    add_layer_ops,
    delete_layer_ops,
    describe_layer,
    duplicate_layer_ops,
    keras_layer_names,
    layer_index,
    layer_list,
    layers_pointer,
    move_layer_ops,
    subject_pointer,
)
from ..spec.problems import pointer
from .document import Document
from .structure import StructureActions

PTR_ROLE = Qt.ItemDataRole.UserRole
LAYER_ROLE = Qt.ItemDataRole.UserRole + 1

#: Keyboard shortcuts of the "add layer" actions.
ADD_SHORTCUTS = {
    "dense": "Ctrl+Shift+D",
    "activation": "Ctrl+Shift+A",
    "batch_normalization": "Ctrl+Shift+B",
    "dropout": "Ctrl+Shift+O",
    "alpha_dropout": "Ctrl+Shift+L",
    "flatten": "Ctrl+Shift+F",
}


class OutlineList(QListWidget):
    """A list whose hidden-layer rows can be dragged to a new place."""

    move_requested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)

    def dropEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        source = self.currentItem()
        target_item = self.itemAt(event.position().toPoint())
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if source is None or source.data(LAYER_ROLE) is None:
            return
        indicator = self.dropIndicatorPosition()
        self.request_move_to_row(self.row(source), self.row(target_item) if target_item else self.count() - 1,
                                 below=indicator == QAbstractItemView.DropIndicatorPosition.BelowItem)

    def request_move_to_row(self, source_row: int, target_row: int, below: bool = False) -> None:
        """Turn a drop of row ``source_row`` on row ``target_row`` into a layer move."""
        layer_rows = [r for r in range(self.count()) if self.item(r).data(LAYER_ROLE) is not None]
        if not layer_rows or source_row not in layer_rows:
            return
        source = layer_rows.index(source_row)
        if target_row < layer_rows[0]:
            target = 0
        elif target_row > layer_rows[-1]:
            target = len(layer_rows) - 1
        else:
            target = layer_rows.index(target_row) + (1 if below else 0)
            if target > source:
                target -= 1
        if target != source:
            self.move_requested.emit(source, target)


class LayerPanel(QWidget):
    """The outline list with add / insert / duplicate / delete / move actions."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.list = OutlineList(self)
        self.list.setObjectName("outline")
        self._syncing = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.add_menu = QMenu("Add layer", self)
        self.add_actions: dict[str, QAction] = {}
        for kind in LAYER_TEMPLATES:
            action = QAction(LAYER_TITLES[kind], self)
            shortcut = ADD_SHORTCUTS.get(kind)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.setIconText(f"+ {LAYER_TITLES[kind]}")
            keys = f" ({shortcut})" if shortcut else ""
            action.setToolTip(f"Add a {LAYER_TITLES[kind].lower()} layer after the selected one{keys}")
            action.triggered.connect(lambda _=False, k=kind: self.add_layer(k))
            self.add_menu.addAction(action)
            self.add_actions[kind] = action
        self.insert_action = self._action("Insert dense before", "Insert", self.insert_layer)
        self.duplicate_action = self._action("Duplicate", "Ctrl+D", self.duplicate_layer)
        self.delete_action = self._action("Delete", "Delete", self.delete_layer, local=True)
        self.up_action = self._action("Move up", "Alt+Up", lambda: self.move_selected(-1), local=True)
        self.down_action = self._action("Move down", "Alt+Down", lambda: self.move_selected(1), local=True)
        self.up_action.setIconText("↑")
        self.down_action.setIconText("↓")
        bar = QWidget(self)
        bar_layout = QVBoxLayout(bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        row = _ButtonRow(bar)
        add_button = QToolButton(row)
        add_button.setText("Add ▾")
        add_button.setMenu(self.add_menu)
        add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        add_button.setToolTip("Add a layer after the selected one")
        row.add(add_button)
        for action in (self.duplicate_action, self.delete_action, self.up_action, self.down_action):
            row.add_action(action)
        bar_layout.addWidget(row)
        layout.addWidget(bar)
        layout.addWidget(self.list)
        self.structure = StructureActions(document, self)
        self.structure.context_widgets(self.list)
        self.context_menu: QMenu | None = None
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.move_requested.connect(self.move_layer)
        document.changed.connect(self.rebuild)
        document.selection_changed.connect(self.show_selection)
        self.rebuild()

    def _action(self, text: str, shortcut: str, slot: Any, local: bool = False) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{text} ({shortcut})")
        action.triggered.connect(slot)
        if local:  # keys like Delete must not fire while typing in the JSON view or a form
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.list.addAction(action)
        return action

    def actions_for_window(self) -> list[QAction]:
        """Actions that are window-wide (the add menu, insert, duplicate)."""
        return [*self.add_actions.values(), self.insert_action, self.duplicate_action]

    # ----- view ----------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Refill the outline from the spec as written."""
        self._syncing = True
        self.list.clear()
        raw = self.document.raw
        editable = self.document.editable
        if editable:
            errors = {p.path for p in self.document.spec.problems if p.is_error}
            bold = QFont(self.list.font())
            bold.setBold(True)

            def header(text: str) -> None:
                item = QListWidgetItem(text)
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setFont(bold)
                item.setForeground(QBrush(QColor("#475569")))
                self.list.addItem(item)

            def entry(text: str, ptr: str, layer: int | None = None) -> None:
                item = QListWidgetItem("   " + text)
                item.setData(PTR_ROLE, ptr)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if layer is not None:
                    item.setData(LAYER_ROLE, layer)
                    flags |= Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
                item.setFlags(flags)
                if any(e == ptr or e.startswith(ptr + "/") for e in errors):
                    item.setForeground(QBrush(QColor("#dc2626")))
                self.list.addItem(item)

            header("Inputs")
            for i, inp in enumerate(raw.get("inputs", []) if isinstance(raw.get("inputs"), list) else []):
                name = inp.get("name", "?") if isinstance(inp, dict) else "?"
                shape = inp.get("shape", "?") if isinstance(inp, dict) else "?"
                entry(f"{name}  {shape}", pointer("inputs", i))
            base = layers_pointer(raw)
            header("Layers" + (" (deep path)" if base == "/network/deep/layers" else ""))
            names = keras_layer_names(raw, self.document.spec.plan)
            for i, (layer, name) in enumerate(zip(layer_list(raw), names)):
                unnamed = {k: v for k, v in layer.items() if k != "name"} if isinstance(layer, dict) else layer
                entry(f"{name}  ·  {describe_layer(unnamed)}", f"{base}/{i}", i)
            header("Outputs")
            for i, out in enumerate(raw.get("outputs", []) if isinstance(raw.get("outputs"), list) else []):
                if isinstance(out, dict):
                    label = f"{out.get('name', '?')}  {out.get('task', '?')} × {out.get('units', '?')}"
                else:
                    label = "?"
                entry(label, pointer("outputs", i))
            header("Settings")
            entry("Network", "/network")
            entry("Training", "/training")
            entry("Data", "/data")
        self.list.setEnabled(editable)
        for action in [*self.add_actions.values(), self.insert_action]:
            action.setEnabled(editable and layers_pointer(raw) is not None)
        self._syncing = False
        self.show_selection(self.document.selection)

    def show_selection(self, ptr: str) -> None:
        subject = subject_pointer(ptr)
        self._syncing = True
        self.list.setCurrentItem(None)
        for row in range(self.list.count()):
            item = self.list.item(row)
            if subject and item.data(PTR_ROLE) == subject:
                self.list.setCurrentItem(item)
                break
        self._syncing = False
        index = self.selected_layer()
        for action in (self.duplicate_action, self.delete_action, self.up_action, self.down_action):
            action.setEnabled(index is not None)

    def _current_changed(self, current: QListWidgetItem | None, _previous: Any) -> None:
        if self._syncing or current is None:
            return
        ptr = current.data(PTR_ROLE)
        if ptr is not None:
            self.document.select(ptr)

    def _context_menu(self, pos: Any) -> None:
        """Layer actions on a layer row; input, output and topology actions everywhere."""
        item = self.list.itemAt(pos)
        subject = item.data(PTR_ROLE) if item is not None else None
        menu = QMenu(self)
        if subject is None or layer_index(subject) is not None:
            if subject is not None:
                self.document.select(subject)
            menu.addMenu(self.add_menu)
            for action in (self.insert_action, self.duplicate_action, self.delete_action, self.up_action,
                           self.down_action):
                menu.addAction(action)
            menu.addSeparator()
        self.structure.fill_menu(menu, subject if subject and layer_index(subject) is None else "")
        self.context_menu = menu
        menu.popup(self.list.viewport().mapToGlobal(pos))

    # ----- edits ---------------------------------------------------------------------------------
    def selected_layer(self) -> int | None:
        """Index of the selected hidden layer, if a hidden layer is selected."""
        ptr = self.document.selection
        base = layers_pointer(self.document.raw) if self.document.editable else None
        if base is None or not ptr.startswith(base + "/"):
            return None
        return layer_index(ptr)

    def add_layer(self, kind: str) -> None:
        """Add a layer of ``kind`` after the selected layer (at the end when none is selected)."""
        self.document.flush()
        if layers_pointer(self.document.raw) is None:
            return
        index = self.selected_layer()
        ops, ptr = add_layer_ops(self.document.raw, kind, None if index is None else index + 1)
        self.document.apply(ops, f"Add {LAYER_TITLES[kind].lower()} layer", select=ptr)

    def insert_layer(self) -> None:
        """Insert a dense layer before the selected layer (at the start when none is selected)."""
        self.document.flush()
        if layers_pointer(self.document.raw) is None:
            return
        index = self.selected_layer()
        ops, ptr = add_layer_ops(self.document.raw, "dense", 0 if index is None else index)
        self.document.apply(ops, "Insert dense layer", select=ptr)

    def duplicate_layer(self) -> None:
        self.document.flush()
        index = self.selected_layer()
        if index is None:
            return
        ops, ptr = duplicate_layer_ops(self.document.raw, index)
        self.document.apply(ops, "Duplicate layer", select=ptr)

    def delete_layer(self) -> None:
        self.document.flush()
        index = self.selected_layer()
        if index is None:
            return
        count = len(layer_list(self.document.raw))
        base = layers_pointer(self.document.raw)
        after = f"{base}/{min(index, count - 2)}" if count > 1 else ""
        self.document.apply(delete_layer_ops(self.document.raw, index), "Delete layer", select=after)

    def move_selected(self, delta: int) -> None:
        index = self.selected_layer()
        if index is None:
            return
        self.move_layer(index, index + delta)

    def move_layer(self, source: int, target: int) -> None:
        """Move a hidden layer (from the buttons, the keys or a drag and drop)."""
        self.document.flush()
        count = len(layer_list(self.document.raw))
        if not 0 <= target < count:
            return
        ops, ptr = move_layer_ops(self.document.raw, source, target)
        self.document.apply(ops, "Move layer", select=ptr)


class _ButtonRow(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import QHBoxLayout

        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    def add(self, widget: QWidget) -> None:
        self._layout.addWidget(widget)

    def add_action(self, action: QAction) -> None:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._layout.addWidget(button)
