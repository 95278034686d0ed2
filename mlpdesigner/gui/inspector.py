"""The inspector: forms generated from the JSON Schema for the selected part of the design.

Enums become combo boxes, bounded numbers spin boxes, booleans check boxes,
``description`` the tooltip. Every change is a JSON Patch pushed on the
document's undo stack; the form never keeps state of its own.
"""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..spec.edits import get
from ..spec.operations import ensure_parents_ops, remove_value_ops, set_value_ops, subject_pointer
from ..spec.problems import split_pointer
from ..spec.schemaform import Field, fields_for, item_schema, schema_at
from .document import Document

_ABSENT = object()
UNSET = "__unset__"
INT_LIMIT = 2**31 - 1
NUMBER_LIMIT = 1e12


class NumberSpinBox(QDoubleSpinBox):
    """A double spin box that shows numbers the short way (0.001, not 0.00100000)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(10)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.10g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> Any:
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        if stripped in ("", "-", ".", "-.") or stripped.lower().endswith("e") or stripped.endswith(("e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


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


class Inspector(QScrollArea):
    """Schema-driven form for the selected layer, input, output, or the network, training or data section."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.subject = ""
        #: JSON pointer -> the widget that edits it (problem navigation focuses these).
        self.fields: dict[str, QWidget] = {}
        document.changed.connect(self.rebuild)
        document.selection_changed.connect(self._selection_changed)
        self.rebuild()

    def _selection_changed(self, ptr: str) -> None:
        if subject_pointer(ptr) != self.subject:
            self.rebuild()

    # ----- building ----------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Regenerate the form for the current selection."""
        focused = next((p for p, w in self.fields.items() if w.hasFocus()), None)
        old = self.takeWidget()
        if old is not None:
            old.hide()
            old.deleteLater()
        self.fields = {}
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
        layout.addStretch(1)
        self.setWidget(container)
        if focused and focused in self.fields:
            self.fields[focused].setFocus()

    def _note(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: #475569;")
        return label

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
            child = f"{ptr}/{field.key}"
            current = value.get(field.key, _ABSENT)
            widget = self._field_widget(field, child, current)
            if widget is None:
                continue
            widget.setToolTip(field.tooltip)
            if isinstance(widget, QGroupBox):
                form.addRow(widget)
            else:
                label = QLabel(field.title + ("" if not field.required else " *"))
                label.setToolTip(field.tooltip)
                form.addRow(label, widget)
            self.fields[child] = widget

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
            return self._number_spin(field, ptr, current)
        if kind == "string":
            edit = QLineEdit("" if current is _ABSENT else str(current))
            if current is _ABSENT:
                edit.setPlaceholderText(str(field.default) if field.has_default and field.default else "(not set)")
            edit.editingFinished.connect(lambda: self._commit_text(field, ptr, edit.text()))
            return edit
        if kind == "list":
            return self._list_edit(field, ptr, current)
        if kind == "map":
            return self._map_group(field, ptr, current)
        if kind == "object":
            return self._object_group(field, ptr, current)
        return None

    def _combo(self, field: Field, ptr: str, current: Any) -> QComboBox:
        combo = QComboBox()
        if not field.required:
            label = f"(default: {_json_text(field.default)})" if field.has_default else "(task default)" \
                if ptr.startswith("/outputs/") else "(not set)"
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
        combo = QComboBox()
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

    def _bounds(self, field: Field, step: float) -> tuple[float, float]:
        low = field.minimum if field.minimum is not None else -NUMBER_LIMIT
        high = field.maximum if field.maximum is not None else NUMBER_LIMIT
        if field.exclusive_minimum:
            low = low + step
        if field.exclusive_maximum:
            high = high - step
        return low, high

    def _int_spin(self, field: Field, ptr: str, current: Any) -> QSpinBox:
        spin = QSpinBox()
        spin.setKeyboardTracking(False)
        low, high = self._bounds(field, 1)
        value = current if isinstance(current, int) and not isinstance(current, bool) else field.default
        value = value if isinstance(value, int) else int(max(low, 0))
        low, high = max(min(low, value), -INT_LIMIT), min(max(high, value), INT_LIMIT)
        spin.setRange(int(low), int(high))
        spin.setValue(int(value))
        if current is _ABSENT:
            spin.setSuffix("  (default)")
        spin.valueChanged.connect(lambda v: self._commit(ptr, int(v)))
        return spin

    def _number_spin(self, field: Field, ptr: str, current: Any) -> NumberSpinBox:
        spin = NumberSpinBox()
        low, high = self._bounds(field, 1e-9)
        value = current if isinstance(current, (int, float)) and not isinstance(current, bool) else field.default
        if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            value = initial_value(field.schema, field.key)
        spin.setRange(min(low, value), max(high, value))
        step = 10 ** math.floor(math.log10(abs(value))) if value else 0.1
        spin.setSingleStep(step)
        spin.setValue(float(value))
        if current is _ABSENT:
            spin.setSuffix("  (default)")
        spin.valueChanged.connect(lambda v: self._commit(ptr, _clean_number(v)))
        return spin

    def _list_edit(self, field: Field, ptr: str, current: Any) -> QLineEdit:
        items = item_schema(field.schema)
        edit = QLineEdit(", ".join(_json_text(v) for v in current) if isinstance(current, list) else "")
        choices = items.get("enum")
        hint = "comma-separated" + (f": {', '.join(choices)}" if choices else "")
        edit.setPlaceholderText(hint if current is _ABSENT else "")
        integer = items.get("type") == "integer"

        def finished() -> None:
            parts = [p.strip() for p in edit.text().split(",") if p.strip()]
            values: list[Any] = []
            for part in parts:
                try:
                    values.append(int(part) if integer else part)
                except ValueError:
                    values.append(part)
            if not values and not field.required:
                self._remove(ptr)
            else:
                self._commit(ptr, values)

        edit.editingFinished.connect(finished)
        return edit

    def _map_group(self, field: Field, ptr: str, current: Any) -> QGroupBox:
        group = QGroupBox(field.title)
        form = QFormLayout(group)
        raw = self.document.raw
        names = [i.get("name") for i in raw.get("inputs", []) if isinstance(i, dict)]
        names += [o.get("name") for o in raw.get("outputs", []) if isinstance(o, dict)]
        mapping = current if isinstance(current, dict) else {}
        keys = [n for n in names if isinstance(n, str)] + [k for k in mapping if k not in names]
        for key in keys:
            value = mapping.get(key)
            edit = QLineEdit(", ".join(map(str, value)) if isinstance(value, list) else "")
            edit.setPlaceholderText("column names, comma-separated")
            edit.setToolTip(field.tooltip)
            child = f"{ptr}/{key}"

            def finished(e: QLineEdit = edit, c: str = child) -> None:
                parts = [p.strip() for p in e.text().split(",") if p.strip()]
                if parts:
                    self._commit(c, parts)
                else:
                    self._remove(c)

            edit.editingFinished.connect(finished)
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

    def _title(self, ptr: str) -> str:
        return split_pointer(ptr)[-1].replace("_", " ") if ptr else "value"

    def _commit(self, ptr: str, value: Any) -> None:
        self.document.flush()
        raw = self.document.raw
        ops = ensure_parents_ops(raw, ptr) + set_value_ops(raw, ptr, value)
        self.document.apply(ops, f"Set {self._title(ptr)}")

    def _remove(self, ptr: str) -> None:
        self.document.flush()
        self.document.apply(remove_value_ops(self.document.raw, ptr), f"Reset {self._title(ptr)}")

    # ----- navigation ----------------------------------------------------------------------------
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


def _clean_number(value: float) -> float | int:
    """Spin boxes give floats; keep the short decimal form (0.1, not 0.10000000000000001)."""
    return float(f"{value:.10g}")
