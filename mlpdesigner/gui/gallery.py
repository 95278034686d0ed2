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
from .canvas import NetworkCanvas
from .document import Document

#: The blank design's name in the gallery.
BLANK = "blank"

#: Readable titles and a one-line "why" for the starter designs (others fall back to their file name and
#: the first sentence of their description).
TITLES: dict[str, tuple[str, str]] = {
    BLANK: ("Blank design", "Start from nothing: one input, one hidden layer, one regression output."),
    "housing_regression": ("House prices (regression)",
                           "The classic regression recipe: ReLU with He init, a linear output and MSE."),
    "binary_batchnorm_dropout": ("Diagnosis (binary classifier)",
                                 "Yes/no prediction with batch normalization and dropout against overfitting."),
    "flowers_multiclass": ("Flowers (multiclass)",
                           "Pick one of several classes: softmax output, inputs standardized in the model."),
    "multilabel_elu_l2": ("Tags (multilabel)",
                          "Several labels can be on at once: one sigmoid per label, L2 against overfitting."),
    "fashion_mnist_classifier": ("Small images (multiclass)",
                                 "Flatten 28×28 images into a dense network of 300 and 100 ReLU units."),
    "positive_and_bounded_regression": ("Positive and bounded targets",
                                        "Two heads: softplus keeps a value above zero, sigmoid a share in (0, 1)."),
    "leaky_relu_he_maxnorm": ("Regression with outliers",
                              "Huber loss, LeakyReLU and max-norm keep outliers from dominating training."),
    "selu_self_normalizing": ("Self-normalizing deep network",
                              "SELU with LeCun init and AlphaDropout: deep stacks without batch normalization."),
    "wide_deep_single_input": ("Wide & Deep, one input",
                               "Features reach the output directly and through a deep path: memorize and generalize."),
    "wide_deep_two_inputs": ("Wide & Deep, two inputs",
                             "Some features go straight to the output, others through the deep path."),
    "wide_deep_aux_output": ("Wide & Deep with an auxiliary output",
                             "An extra head on the deep path makes it useful on its own (a regularizer)."),
}


def blank_design() -> dict[str, Any]:
    """The smallest useful design: one input, one hidden layer, one regression output (no data yet)."""
    return {
        "format": "mlpdesigner/1",
        "name": "untitled",
        "description": "",
        "inputs": [{"name": "features", "shape": [1]}],
        "network": {"topology": "sequential", "layers": [
            {"type": "dense", "units": 32, "activation": "relu", "kernel_initializer": "he_normal"}]},
        "outputs": [{"name": "target", "task": "regression", "units": 1}],
    }


def _first_sentence(text: str) -> str:
    head = text.split(": ", 1)[0] if ": " in text[:80] else text.split(". ", 1)[0]
    return head.rstrip(".") + "."


@dataclass(frozen=True)
class Template:
    """One starter design (``path`` is None for the blank design)."""

    name: str
    path: Path | None
    title: str
    description: str
    topology: str
    tasks: tuple[str, ...]
    why: str = ""

    def load(self) -> dict[str, Any]:
        return blank_design() if self.path is None else json.loads(self.path.read_text("utf-8"))


def templates() -> list[Template]:
    """The blank design, then the starter designs shipped in ``resources/examples``."""
    title, why = TITLES[BLANK]
    out = [Template(BLANK, None, title, why, "sequential", ("regression",), why)]
    order = list(TITLES)
    for name in sorted(example_names(), key=lambda n: (order.index(n) if n in order else len(order), n)):
        path = example_path(name)
        raw = json.loads(path.read_text("utf-8"))
        tasks = tuple(o.get("task", "?") for o in raw.get("outputs", []))
        topology = raw.get("network", {}).get("topology", "sequential")
        description = raw.get("description", "")
        title, why = TITLES.get(name, (name.replace("_", " ").capitalize(), _first_sentence(description)))
        out.append(Template(name, path, title, description, topology, tasks, why))
    return out


class TemplateGallery(QDialog):
    """Pick a starter design; ``chosen()`` is the template after ``exec()`` accepts.

    Each entry shows its title and why one would start from it; the side shows the description
    and a preview of the network's diagram.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New design")
        self.resize(900, 560)
        self.items = templates()
        self.list = QListWidget(self)
        self.list.setObjectName("templates")
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        for template in self.items:
            kind = "Wide & Deep" if template.topology == "wide_deep" else "Sequential"
            item = QListWidgetItem(f"{template.title}\n{template.why}\n{kind} · {', '.join(template.tasks)}")
            item.setData(Qt.ItemDataRole.UserRole, template.name)
            item.setToolTip(template.description)
            self.list.addItem(item)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.description.setMinimumWidth(320)
        self.preview_document = Document(self)
        self.preview = NetworkCanvas(self.preview_document)
        self.preview.setObjectName("template_preview")
        self.preview.setInteractive(False)
        self.preview.setMinimumHeight(240)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        side.addWidget(self.description)
        side.addWidget(self.preview, 1)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(0)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.items):
            template = self.items[row]
            self.description.setText(f"<h3>{template.title}</h3><p><i>{template.why}</i></p>"
                                     f"<p>{template.description if template.description != template.why else ''}</p>")
            self.preview_document.load_dict(template.load())
            self.preview._fit_pending = True
            self.preview.fit()

    def select(self, name: str) -> None:
        for row, template in enumerate(self.items):
            if template.name == name:
                self.list.setCurrentRow(row)
                return
        raise KeyError(name)

    def chosen(self) -> Template | None:
        row = self.list.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None
