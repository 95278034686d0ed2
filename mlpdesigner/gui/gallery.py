"""New from template: a gallery of the starter designs with their descriptions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..resources import example_names, example_path


@dataclass(frozen=True)
class Template:
    """One starter design."""

    name: str
    path: Path
    title: str
    description: str
    topology: str
    tasks: tuple[str, ...]

    def load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text("utf-8"))


def templates() -> list[Template]:
    """The starter designs shipped in ``resources/examples``."""
    out = []
    for name in example_names():
        path = example_path(name)
        raw = json.loads(path.read_text("utf-8"))
        tasks = tuple(o.get("task", "?") for o in raw.get("outputs", []))
        topology = raw.get("network", {}).get("topology", "sequential")
        title = name.replace("_", " ").capitalize()
        out.append(Template(name, path, title, raw.get("description", ""), topology, tasks))
    return out


class TemplateGallery(QDialog):
    """Pick a starter design; ``chosen()`` is the template after ``exec()`` accepts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New from template")
        self.resize(760, 460)
        self.items = templates()
        self.list = QListWidget(self)
        self.list.setObjectName("templates")
        for template in self.items:
            label = f"{template.title}\n{'Wide & Deep' if template.topology == 'wide_deep' else 'Sequential'} · " \
                    f"{', '.join(template.tasks)}"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, template.name)
            item.setToolTip(template.description)
            self.list.addItem(item)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.description.setMinimumWidth(320)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addWidget(self.description, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(0)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.items):
            template = self.items[row]
            self.description.setText(f"<h3>{template.title}</h3><p>{template.description}</p>")

    def select(self, name: str) -> None:
        for row, template in enumerate(self.items):
            if template.name == name:
                self.list.setCurrentRow(row)
                return
        raise KeyError(name)

    def chosen(self) -> Template | None:
        row = self.list.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None
