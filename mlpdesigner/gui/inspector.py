"""The inspector: forms generated from the JSON Schema for the selected part of the design.

Enums become combo boxes, bounded numbers spin boxes, booleans check boxes,
``description`` the tooltip. Every change is a JSON Patch pushed on the
document's undo stack; the form never keeps state of its own.
"""

from __future__ import annotations

import json
import math
from typing import Any, cast

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..spec.defaults import TASK_METRICS, output_activation, output_loss
from ..spec.edits import get
from ..spec.operations import (
    ensure_parents_ops,
    input_names,
    output_names,
    remove_value_ops,
    set_value_ops,
    subject_pointer,
    topology_ops,
)
from ..spec.problems import Problem, pointer, split_pointer
from ..spec.schemaform import Field, field_applies, fields_for, item_schema, schema_at
from .document import Document
from .health_view import health_section
from .search_view import with_search_toggle

_ABSENT = object()
UNSET = "__unset__"
INT_LIMIT = 2**31 - 1


class NumberEdit(QLineEdit):
    """A decimal field: typed text is committed on Enter or when focus leaves; Up/Down step.

    Empty text means "not set" (the placeholder says what applies then). Text that is not a
    number, or a number outside the schema's range, is refused with a message at the field,
    never dropped silently.
    """

    #: Emitted with the value to store (None: clear it back to unset).
    committed = Signal(object)
    #: Emitted with the reason a typed value was not applied.
    refused = Signal(str)

    def __init__(self, field: Field, value: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self._shown = "" if value is None else _number_text(value)
        self.setText(self._shown)
        self._value = value
        magnitude = abs(value) if value else abs(field.default) if isinstance(field.default, (int, float)) else 0
        self.step = 10 ** math.floor(math.log10(magnitude)) if magnitude else 0.1
        self.editingFinished.connect(self._finish)

    def value(self) -> float | None:
        """The value the field stands for (None when not set)."""
        return self._value

    def setValue(self, value: float) -> None:  # noqa: N802 - mirrors QDoubleSpinBox
        """Put ``value`` in the field and commit it, as typing it and pressing Enter does."""
        self.setText(_number_text(value))
        self._finish()

    def minimum(self) -> float | None:
        return self.field.minimum

    def maximum(self) -> float | None:
        return self.field.maximum

    def _finish(self) -> None:
        text = self.text().strip()
        if text == self._shown:
            return
        if not text:
            if self.field.required:
                self._refuse(f"Expected a number for {self.field.key}. Received: nothing (it is required)")
                return
            self._shown, self._value = "", None
            self.committed.emit(None)
            return
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            self._refuse(f"Expected a number for {self.field.key}. Received: {text!r}")
            return
        if not math.isfinite(value):
            self._refuse(f"Expected a finite number for {self.field.key}. Received: {text!r}")
            return
        problem = self.field.range_problem(value)
        if problem:
            self._refuse(problem)
            return
        self._shown, self._value = _number_text(value), value
        self.committed.emit(_clean_number(value))

    def _refuse(self, message: str) -> None:
        self.setText(self._shown)
        self.refused.emit(f"Not applied: {message}")

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.step_by(1 if event.key() == Qt.Key.Key_Up else -1)
            return
        super().keyPressEvent(event)

    def step_by(self, steps: int) -> None:
        """Step the value up or down, staying inside the schema's range."""
        base = self._value if self._value is not None else self.field.default
        base = base if isinstance(base, (int, float)) and not isinstance(base, bool) else 0.0
        value = _clean_number(base + steps * self.step)
        low, high = self.field.minimum, self.field.maximum
        if low is not None and (value < low or (self.field.exclusive_minimum and value <= low)):
            return
        if high is not None and (value > high or (self.field.exclusive_maximum and value >= high)):
            return
        self.setValue(value)


class IntSpinBox(QSpinBox):
    """An integer spin box that says why it does not take a typed value outside its range."""

    refused = Signal(str)

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.setKeyboardTracking(False)

    def validate(self, text: str, pos: int) -> Any:
        stripped = text.strip()
        if stripped in ("", "-", "+"):
            return QValidator.State.Intermediate, text, pos
        try:
            value = int(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def _check_typed(self) -> None:
        text = self.lineEdit().text().strip()
        try:
            value = int(text)
        except ValueError:
            if text != self.textFromValue(self.value()):
                self.refused.emit(f"Not applied: expected a whole number for {self.field.key}. Received: {text!r}")
            return
        if not self.minimum() <= value <= self.maximum():
            problem = self.field.range_problem(value)
            problem = problem or f"Expected {self.minimum()} ≤ {self.field.key} ≤ {self.maximum()}. Received: {value}"
            self.refused.emit(f"Not applied: {problem}")

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._check_typed()
        super().keyPressEvent(event)

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._check_typed()
        super().focusOutEvent(event)


def _number_text(value: float) -> str:
    return f"{value:.10g}"


def _json_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def initial_value(prop: dict[str, Any], key: str = "") -> Any:
    """A sensible first value for a property that must be created (a required key, a new object)."""
    if "default" in prop:
        return prop["default"]
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "object":
        value: dict[str, Any] = {}
        props = prop.get("properties", {})
        for req in prop.get("required", []):
            value[req] = initial_value(props.get(req, {}), req)
        if not value and prop.get("minProperties") and props:
            name = "l2" if "l2" in props else next(iter(props))
            value[name] = initial_value(props[name], name)
        return value
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind == "string":
        return ""
    if kind in ("number", "integer"):
        if key == "high":
            return 1.0
        if "minimum" in prop:
            low = prop["minimum"]
            return 0.01 if low == 0 and kind == "number" and key != "low" else low
        if "exclusiveMinimum" in prop:
            return 1.0 if kind == "number" else prop["exclusiveMinimum"] + 1
        return 0
    return None


class CheckList(QListWidget):
    """A list of check boxes: the chosen items of a fixed set (metrics, the inputs of a path)."""

    #: Emitted with the checked items, in the list's order.
    chosen = Signal(list)

    def __init__(self, items: list[Any], checked: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for value in items:
            item = QListWidgetItem(_json_text(value))
            item.setData(Qt.ItemDataRole.UserRole, json.dumps(value))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
            self.addItem(item)
        rows = max(1, min(len(items), 8))
        self.setFixedHeight(self.sizeHintForRow(0) * rows + 2 * self.frameWidth() + 4)
        self.itemChanged.connect(lambda _item: self.chosen.emit(self.checked()))

    def checked(self) -> list[Any]:
        """The checked values."""
        return [json.loads(self.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(self.count())
                if self.item(r).checkState() == Qt.CheckState.Checked]

    def set_checked(self, value: Any, on: bool = True) -> None:
        """Check or uncheck one value (as a click on its box does)."""
        for row in range(self.count()):
            if json.loads(self.item(row).data(Qt.ItemDataRole.UserRole)) == value:
                self.item(row).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class StringListEdit(QWidget):
    """A list of strings edited one item at a time: type a new one and press Enter to add it,
    double-click (or F2) an item to change it, Remove drops the selected one."""

    #: Emitted with the new list of strings.
    edited = Signal(list)

    def __init__(self, values: list[str], placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        for value in values:
            item = QListWidgetItem(value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        rows = max(1, min(len(values), 5))
        self.list.setFixedHeight(self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + 4
                                 if values else 28)
        self.list.setToolTip("Double-click an item to change it")
        self.list.itemChanged.connect(lambda _item: self._emit())
        self.entry = QLineEdit(self)
        self.entry.setPlaceholderText(placeholder)
        self.entry.returnPressed.connect(self.add_typed)
        self.remove_button = QToolButton(self)
        self.remove_button.setText("Remove")
        self.remove_button.setToolTip("Remove the selected item")
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.entry, 1)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.list)
        layout.addLayout(row)

    def values(self) -> list[str]:
        """The non-empty items, in order."""
        texts = (self.list.item(r).text().strip() for r in range(self.list.count()))
        return [t for t in texts if t]

    def _emit(self) -> None:
        self.edited.emit(self.values())

    def add_typed(self) -> None:
        """Append what is typed in the entry (Enter)."""
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self.edited.emit([*self.values(), text])

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self._emit()


class ShapeEdit(QWidget):
    """One spin box per dimension of an input's shape, with buttons to add or drop a dimension."""

    edited = Signal(list)

    def __init__(self, shape: list[int], low: int, high: int, max_dims: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spins: list[QSpinBox] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for size in shape:
            spin = QSpinBox(self)
            spin.setKeyboardTracking(False)
            spin.setRange(min(low, size), max(high, size))
            spin.setValue(size)
            spin.valueChanged.connect(lambda _v: self.edited.emit(self.shape()))
            layout.addWidget(spin, 1)
            self.spins.append(spin)
        more = QToolButton(self)
        more.setText("+")
        more.setToolTip("Add a dimension (for images to flatten)")
        more.setEnabled(len(shape) < max_dims)
        more.clicked.connect(lambda: self.edited.emit([*self.shape(), 1]))
        fewer = QToolButton(self)
        fewer.setText("−")
        fewer.setToolTip("Drop the last dimension")
        fewer.setEnabled(len(shape) > 1)
        fewer.clicked.connect(lambda: self.edited.emit(self.shape()[:-1]))
        layout.addWidget(more)
        layout.addWidget(fewer)

    def shape(self) -> list[int]:
        return [spin.value() for spin in self.spins]


def narrow_combo() -> QComboBox:
    """A combo box that may be narrower than its longest entry, so a form fits a narrow dock (entries elide)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


class Inspector(QScrollArea):
    """Schema-driven form for the selected layer, input, output, or the network, training or data section."""

    #: Emitted with a message for the status bar (what a structural change did).
    message = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.subject = ""
        #: JSON pointer -> the widget that edits it (problem navigation focuses these).
        self.fields: dict[str, QWidget] = {}
        #: JSON pointer -> the button that clears an optional value back to unset.
        self.resets: dict[str, QToolButton] = {}
        #: JSON pointer -> the label under a field that shows its problem or a refused value.
        self.marks: dict[str, QLabel] = {}
        self._pending: list[Problem] = []
        #: The last run's layer health (a HealthModel), shown under a layer's form (see :meth:`set_health`).
        self.health: Any = None
        self._health_box: QWidget | None = None
        self._health_layout: QVBoxLayout | None = None
        document.changed.connect(self.rebuild)
        document.selection_changed.connect(self._selection_changed)
        document.before_edit.append(self.finish_typing)
        self.rebuild()

    def _selection_changed(self, ptr: str) -> None:
        if subject_pointer(ptr) != self.subject:
            self.rebuild()

    # ----- building ----------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Regenerate the form for the current selection."""
        focus = QApplication.focusWidget()
        focused = next((p for p, w in self.fields.items() if w is focus or w.isAncestorOf(focus)), None)
        old = self.takeWidget()
        if old is not None:
            old.hide()
            old.deleteLater()
        self.fields, self.resets, self.marks = {}, {}, {}
        container = QWidget()
        container.setObjectName("inspector_form")
        layout = QVBoxLayout(container)
        layout.setContentsMargins(6, 6, 6, 6)
        raw = self.document.raw
        self.subject = subject_pointer(self.document.selection)
        if not self.document.editable:
            layout.addWidget(self._note("The text is not a JSON object. Fix it in the JSON view; the forms return "
                                        "when it parses."))
        elif not self.subject or self.subject in ("/inputs", "/outputs"):
            layout.addWidget(self._note("Select a layer, an input or an output on the canvas or in the outline, "
                                        "or choose Network, Training or Data in the outline."))
        else:
            self._build_subject(layout, raw, self.subject)
        self._health_layout, self._health_box = layout, None
        self._refresh_health()
        layout.addStretch(1)
        for editor in (*container.findChildren(QLineEdit), *container.findChildren(QAbstractSpinBox),
                       *container.findChildren(QComboBox)):
            editor.installEventFilter(self)  # Escape takes back what was typed (see eventFilter)
        self.setWidget(container)
        if focused and focused in self.fields:
            self.fields[focused].setFocus()

    def set_health(self, model: Any) -> None:
        """Show the layer health of ``model`` (a HealthModel) for the selected layer, refreshed as it changes."""
        self.health = model
        model.changed.connect(self._refresh_health)
        self._refresh_health()

    def _refresh_health(self) -> None:
        """Replace only the health box (a form being typed in stays as it is)."""
        layout = self._health_layout
        if layout is None:
            return
        if self._health_box is not None:
            layout.removeWidget(self._health_box)
            self._health_box.hide()
            self._health_box.deleteLater()
        last = layout.itemAt(layout.count() - 1) if layout.count() else None
        at = layout.count() - (1 if last is not None and last.spacerItem() is not None else 0)
        self._health_box = health_section(self.health, self.subject, self.document) if self.document.editable else None
        if self._health_box is not None:
            layout.insertWidget(max(0, at), self._health_box)
            self._health_box.show()  # added to a form that may be on screen already

    def _note(self, text: str, color: str = "#475569") -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {color};")
        return label

    def _problems_under(self, ptr: str) -> list[Problem]:
        """Problems about this subject (a layer's own problems stay on the layer's form, not the network's)."""
        return [p for p in self.document.spec.problems
                if (p.path == ptr or p.path.startswith(ptr + "/")) and subject_pointer(p.path) == ptr]

    def _build_subject(self, layout: QVBoxLayout, raw: Any, ptr: str) -> None:
        node = schema_at(raw, ptr)
        value = get(raw, ptr, default=_ABSENT)
        title = QLabel(f"<b>{node.get('title', ptr)}</b>  <span style='color:#64748b'>{ptr}</span>")
        layout.addWidget(title)
        if node.get("description"):
            desc = QLabel(node["description"])
            desc.setWordWrap(True)
            desc.setStyleSheet("color: #475569;")
            layout.addWidget(desc)
        plan_note = self._plan_note(ptr)
        if plan_note:
            layout.addWidget(self._note(plan_note))
        self._pending = self._problems_under(ptr)
        if value is _ABSENT:
            if "default" in node or not node.get("required"):
                value = {} if "default" not in node else node["default"]
            if ptr == "/data":
                button = QPushButton("Add a data section")
                button.setToolTip(node.get("description", ""))
                button.clicked.connect(lambda: self._commit("/data", initial_value(node)))
                layout.addWidget(button)
                self.fields["/data"] = button
                return
        if not isinstance(value, dict):
            layout.addWidget(self._note("Expected an object here; fix it in the JSON view."))
            return
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._build_object(form, ptr, node, value)
        layout.addLayout(form)
        if self._pending:  # problems about the whole item (or a field the form does not show)
            box = self._note("\n".join(f"{p.code}: {p.message}" for p in self._pending),
                             PROBLEM_COLORS[_worst(self._pending)])
            box.setObjectName("subject_problems")
            layout.insertWidget(1, box)

    def _plan_note(self, ptr: str) -> str:
        plan = self.document.spec.plan
        if plan is None:
            return ""
        nodes = [n for n in plan.nodes if subject_pointer(n.spec_path) == ptr]
        if not nodes:
            return ""
        last = nodes[-1]
        shape = "(" + ", ".join(["None", *map(str, last.shape)]) + ")"
        params = sum(n.params for n in nodes)
        layers = ", ".join(f"{n.name} ({n.keras_class})" for n in nodes)
        return f"Keras: {layers} → output {shape}, {params:,} params"

    def _build_object(self, form: QFormLayout, ptr: str, node: dict[str, Any], value: dict[str, Any]) -> None:
        for field in fields_for(node):
            if not field_applies(self.document.raw, ptr, field.key):
                continue
            child = f"{ptr}/{field.key}"
            current = value.get(field.key, _ABSENT)
            widget = self._field_widget(field, child, current)
            if widget is None:
                continue
            widget.setToolTip(field.tooltip)
            self.fields.setdefault(child, widget)
            editor = self.fields[child]
            row = with_search_toggle(self.document, field, child, None if current is _ABSENT else current,
                                     self._with_reset(widget, field, child, current))
            if isinstance(widget, QGroupBox):
                form.addRow(row)
            else:
                label = QLabel(field.title + ("" if not field.required else " *"))
                label.setToolTip(field.tooltip)
                form.addRow(label, row)
            mark = QLabel()
            mark.setObjectName(f"mark:{child}")
            mark.setWordWrap(True)
            mark.hide()
            form.addRow(mark)
            self.marks[child] = mark
            mine = [p for p in self._pending if p.path == child or p.path.startswith(child + "/")]
            if mine:
                self._pending = [p for p in self._pending if p not in mine]
                self._show_mark(child, "\n".join(f"{p.code}: {p.message}" for p in mine), _worst(mine), editor)
            if hasattr(editor, "refused"):
                editor.refused.connect(lambda text, c=child, e=editor: self._show_mark(c, text, "error", e))

    def _show_mark(self, ptr: str, text: str, severity: str, editor: QWidget | None = None) -> None:
        """Show a message under the field at ``ptr`` and outline the field in the severity's colour."""
        mark = self.marks.get(ptr)
        if mark is None:
            return
        color = PROBLEM_COLORS[severity]
        mark.setText(text)
        mark.setStyleSheet(f"color: {color}; margin-bottom: 4px;")
        mark.show()
        editor = editor or self.fields.get(ptr)
        if editor is None:
            return
        editor.setProperty("problem", severity)
        if isinstance(editor, QAbstractSpinBox):  # a style sheet would lose the native arrows: tint instead
            palette = editor.palette()
            palette.setColor(QPalette.ColorRole.Base, QColor(PROBLEM_TINTS[severity]))
            editor.setPalette(palette)
            return
        base = next((c for c in ("QLineEdit", "QComboBox", "QListWidget", "QGroupBox", "QCheckBox")
                     if editor.inherits(c)), None)
        if base is not None:
            editor.setStyleSheet(f"{base} {{ border: 2px solid {color}; border-radius: 3px; }}")

    def _with_reset(self, widget: QWidget, field: Field, ptr: str, current: Any) -> QWidget:
        """The field's widget, with a Reset button beside it when an optional value is set."""
        if field.required or field.kind in ("const", "object", "map") or isinstance(widget, QGroupBox):
            return widget
        if current is _ABSENT and field.kind == "enum":
            return widget  # the combo's first item already says what applies
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        if current is _ABSENT:
            if field.kind not in ("bool", "string"):  # those say it themselves (check box text, placeholder)
                implied = self._task_default(ptr) is not None
                tag = QLabel("(task default)" if implied else "(default)" if field.has_default else "(not set)")
                tag.setStyleSheet("color: #64748b;")
                layout.addWidget(tag)
        else:
            button = QToolButton(row)
            button.setText("Reset")
            what = f"the default ({_json_text(field.default)})" if field.has_default else \
                "the task's default" if self._task_default(ptr) is not None else "not set"
            button.setToolTip(f"Clear {field.key} so that {what} applies")
            button.clicked.connect(lambda: self._remove(ptr))
            layout.addWidget(button)
            self.resets[ptr] = button
        return row

    def _task_default(self, ptr: str) -> Any:
        """What an output head's task implies for an unset activation, loss or metrics (None elsewhere)."""
        parts = split_pointer(ptr)
        if len(parts) != 3 or parts[0] != "outputs" or parts[2] not in ("activation", "loss", "metrics"):
            return None
        output = get(self.document.raw, pointer(*parts[:2]), default=None)
        if not isinstance(output, dict) or output.get("task") not in TASK_METRICS:
            return None
        implied = {k: v for k, v in output.items() if k != parts[2]}
        if parts[2] == "activation":
            return output_activation(implied)
        if parts[2] == "loss":
            return output_loss(implied)
        return TASK_METRICS[output["task"]]

    def _field_widget(self, field: Field, ptr: str, current: Any) -> QWidget | None:
        kind = field.kind
        if kind == "const":
            if field.key == "format":
                return None
            return QLabel(_json_text(field.schema["const"]))
        if kind == "enum":
            return self._combo(field, ptr, current)
        if kind == "choice":
            return self._choice(field, ptr, current)
        if kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(current if current is not _ABSENT else field.default))
            if current is _ABSENT:
                box.setText("(default)")
            box.toggled.connect(lambda checked: self._commit(ptr, bool(checked)))
            return box
        if kind == "int":
            return self._int_spin(field, ptr, current)
        if kind == "number":
            return self._number_edit(field, ptr, current)
        if kind == "string":
            edit = QLineEdit("" if current is _ABSENT else str(current))
            if current is _ABSENT:
                edit.setPlaceholderText(str(field.default) if field.has_default and field.default else "(not set)")
            edit.editingFinished.connect(lambda: self._commit_text(field, ptr, edit.text()))
            return edit
        if kind == "list":
            return self._list_widget(field, ptr, current)
        if kind == "map":
            return self._map_group(field, ptr, current)
        if kind == "object":
            return self._object_group(field, ptr, current)
        return None

    def _combo(self, field: Field, ptr: str, current: Any) -> QComboBox:
        combo = narrow_combo()
        if not field.required:
            implied = self._task_default(ptr)
            if implied is not None:
                label = f"(task default: {_json_text(implied)})"
            elif field.has_default:
                label = f"(default: {_json_text(field.default)})"
            else:
                label = "(not set)"
            combo.addItem(label, UNSET)
        elif current is _ABSENT:
            combo.addItem("(missing)", UNSET)
        for choice in field.choices:
            combo.addItem(_json_text(choice), json.dumps(choice))
        if current is not _ABSENT:
            index = combo.findData(json.dumps(current))
            if index < 0:
                combo.addItem(f"{_json_text(current)} (not allowed)", json.dumps(current))
                index = combo.count() - 1
            combo.setCurrentIndex(index)

        def changed(_index: int) -> None:
            data = combo.currentData()
            if data == UNSET:
                self._remove(ptr)
            else:
                self._commit(ptr, json.loads(data))

        combo.currentIndexChanged.connect(changed)
        return combo

    def _choice(self, field: Field, ptr: str, current: Any) -> QComboBox:
        combo = narrow_combo()
        combo.setEditable(True)
        for choice in field.choices:
            combo.addItem(_json_text(choice))
        combo.setCurrentText(_json_text(current if current is not _ABSENT else field.default))

        def finished() -> None:
            text = combo.currentText().strip()
            try:
                value: Any = int(text)
            except ValueError:
                value = text
            self._commit(ptr, value)

        combo.lineEdit().editingFinished.connect(finished)
        combo.activated.connect(lambda _i: finished())
        return combo

    def _int_spin(self, field: Field, ptr: str, current: Any) -> QSpinBox:
        spin = IntSpinBox(field)
        low = field.minimum if field.minimum is not None else -INT_LIMIT
        high = field.maximum if field.maximum is not None else INT_LIMIT
        low += 1 if field.exclusive_minimum else 0
        high -= 1 if field.exclusive_maximum else 0
        value = current if isinstance(current, int) and not isinstance(current, bool) else field.default
        value = value if isinstance(value, int) and not isinstance(value, bool) else int(max(low, 0))
        # a value from the JSON text outside the range stays visible (and marked) until it is changed
        low, high = max(min(low, value), -INT_LIMIT), min(max(high, value), INT_LIMIT)
        spin.setRange(int(low), int(high))
        spin.setValue(int(value))
        spin.valueChanged.connect(lambda v: self._commit(ptr, int(v)))
        return spin

    def _number_edit(self, field: Field, ptr: str, current: Any) -> NumberEdit:
        value = current if isinstance(current, (int, float)) and not isinstance(current, bool) else None
        edit = NumberEdit(field, None if value is None else float(value))
        if current is _ABSENT:
            default = field.default
            shown = _number_text(default) if isinstance(default, (int, float)) and not isinstance(default, bool) \
                else _json_text(default)
            edit.setPlaceholderText(shown if field.has_default else "not set")
        elif value is None:  # not a number in the JSON text: show it, marked by its problem
            edit.setPlaceholderText(_json_text(current))
        edit.committed.connect(lambda v: self._remove(ptr) if v is None else self._commit(ptr, v))
        return edit

    def _list_widget(self, field: Field, ptr: str, current: Any) -> QWidget:
        """Lists get a widget made for their items; none of them shows or parses a container as text."""
        items = item_schema(field.schema)
        values = current if isinstance(current, list) else None
        parts = split_pointer(ptr)
        if items.get("type") == "object":
            return self._layers_note(ptr, values)
        if parts[-1] == "inputs" and parts[:1] == ["network"]:
            names = [n for n in input_names(self.document.raw) if n]
            extra = [v for v in values or [] if v not in names]
            checks = CheckList([*names, *extra], values or [])
            checks.chosen.connect(lambda chosen: self._commit(ptr, chosen))
            return checks
        if "enum" in items:
            shown = values if values is not None else (self._task_default(ptr) or [])
            checks = CheckList(list(items["enum"]), shown)
            checks.chosen.connect(lambda chosen: self._commit(ptr, chosen) if chosen or field.required
                                  else self._remove(ptr))
            return checks
        if items.get("type") == "integer":
            shape = [v for v in values or [] if isinstance(v, int) and not isinstance(v, bool)] or [1]
            editor = ShapeEdit(shape, int(items.get("minimum", 1)), int(items.get("maximum", INT_LIMIT)),
                               int(field.schema.get("maxItems", 3)))
            editor.edited.connect(lambda shape: self._commit(ptr, shape))
            return editor
        strings = StringListEdit([_json_text(v) if not isinstance(v, str) else v for v in values or []],
                                 "Type an item and press Enter to add it")
        strings.edited.connect(lambda texts: self._commit(ptr, texts) if texts or field.required
                               else self._remove(ptr))
        return strings

    def _layers_note(self, ptr: str, values: list[Any] | None) -> QWidget:
        """The hidden layers are edited in the outline and on the diagram; here, a count and a way there."""
        count = len(values or [])
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(f"{count} layer{'s' * (count != 1)} — edit them in the outline or on the diagram")
        label.setWordWrap(True)
        layout.addWidget(label, 1)
        if count:
            button = QToolButton(box)
            button.setText("Select first")
            button.setToolTip("Select the first layer of this stack")
            button.clicked.connect(lambda: self.document.select(f"{ptr}/0"))
            layout.addWidget(button)
        return box

    def _map_group(self, field: Field, ptr: str, current: Any) -> QGroupBox:
        group = QGroupBox(field.title)
        form = QFormLayout(group)
        raw = self.document.raw
        names = [n for n in input_names(raw) + output_names(raw) if n]
        mapping = current if isinstance(current, dict) else {}
        keys = names + [k for k in mapping if k not in names]
        for key in keys:
            value = mapping.get(key)
            values = [v if isinstance(v, str) else _json_text(v) for v in value] if isinstance(value, list) else []
            edit = StringListEdit(values, "Type a column name and press Enter to add it")
            edit.setToolTip(field.tooltip)
            child = f"{ptr}/{key}"
            edit.edited.connect(lambda texts, c=child: self._commit(c, texts) if texts else self._remove(c))
            form.addRow(key, edit)
            self.fields[child] = edit
        return group

    def _object_group(self, field: Field, ptr: str, current: Any) -> QGroupBox:
        group = QGroupBox(field.title)
        node = schema_at(self.document.raw, ptr) if current is not _ABSENT else field.schema
        optional = not field.required and not field.has_default
        if optional:
            group.setCheckable(True)
            group.setChecked(current is not _ABSENT)
            group.toggled.connect(
                lambda on: self._commit(ptr, initial_value(field.schema, field.key)) if on else self._remove(ptr)
            )
        if current is not _ABSENT or field.has_default:
            value = current if isinstance(current, dict) else (field.default if isinstance(field.default, dict) else {})
            form = QFormLayout(group)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            self._build_object(form, ptr, node, value)
        return group

    # ----- commits -------------------------------------------------------------------------------
    def _commit_text(self, field: Field, ptr: str, text: str) -> None:
        if not text and not field.required:
            self._remove(ptr)
        else:
            self._commit(ptr, text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Escape in a field takes back what was typed there: the field shows the design's value again.

        Without this the typed text stayed in the field after Escape, and the next save, run or edit applied
        it (:meth:`finish_typing`), the value the person had just cancelled.
        """
        if event.type() == QEvent.Type.KeyPress and cast(QKeyEvent, event).key() == Qt.Key.Key_Escape:
            edit = watched.lineEdit() if isinstance(watched, (QAbstractSpinBox, QComboBox)) else watched
            if isinstance(edit, QLineEdit) and (edit.isModified() or edit.isUndoAvailable()):
                while edit.isUndoAvailable():
                    edit.undo()
                edit.setModified(False)
                return True
        return super().eventFilter(watched, event)

    def finish_typing(self) -> None:
        """Apply what is typed in the focused field, as Enter does, before a save, a run or another edit.

        A shortcut (Ctrl+S, F5), a menu or a toolbar button takes no focus from the field, so
        without this the command would read the design without the value the field shows.
        """
        widget = QApplication.focusWidget()
        if widget is None or not self.isAncestorOf(widget):
            return
        if isinstance(widget, QLineEdit) and isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox)):
            widget = widget.parentWidget()
        if isinstance(widget, QComboBox):
            typed = widget.isEditable() and widget.lineEdit().isModified()
        else:
            typed = isinstance(widget, QAbstractSpinBox) or (isinstance(widget, QLineEdit) and widget.isModified())
        if typed:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier))

    def _title(self, ptr: str) -> str:
        return split_pointer(ptr)[-1].replace("_", " ") if ptr else "value"

    def _commit(self, ptr: str, value: Any) -> None:
        self.document.flush()
        raw = self.document.raw
        note = ""
        if ptr == "/network/topology" and value in ("sequential", "wide_deep"):
            ops, note = topology_ops(raw, value)
            title = "Switch to Wide & Deep" if value == "wide_deep" else "Switch to sequential"
        else:
            ops = ensure_parents_ops(raw, ptr) + set_value_ops(raw, ptr, value)
            title = f"Set {self._title(ptr)}"
        if self.document.apply(ops, title) and note:
            self.message.emit(note)

    def _remove(self, ptr: str) -> None:
        self.document.flush()
        self.document.apply(remove_value_ops(self.document.raw, ptr), f"Reset {self._title(ptr)}")

    # ----- navigation ----------------------------------------------------------------------------
    def start_editing(self, ptr: str) -> QWidget | None:
        """Focus the field at ``ptr`` with its text selected, ready to type over (Rename…)."""
        widget = self.focus_field(ptr)
        if isinstance(widget, QLineEdit):
            widget.selectAll()
        return widget

    def focus_field(self, ptr: str) -> QWidget | None:
        """Focus the widget that edits ``ptr`` (or its nearest parent's); returns it."""
        while ptr:
            widget = self.fields.get(ptr)
            if widget is not None:
                self.ensureWidgetVisible(widget)
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return widget
            ptr = ptr.rsplit("/", 1)[0]
        return None


PROBLEM_COLORS = {"error": "#dc2626", "warning": "#b45309", "info": "#2563eb"}
PROBLEM_TINTS = {"error": "#fee2e2", "warning": "#fef3c7", "info": "#dbeafe"}


def _worst(problems: list[Problem]) -> str:
    for level in ("error", "warning", "info"):
        if any(p.severity == level for p in problems):
            return level
    return "info"


def _clean_number(value: float) -> float | int:
    """Spin boxes give floats; keep the short decimal form (0.1, not 0.10000000000000001)."""
    return float(f"{value:.10g}")
