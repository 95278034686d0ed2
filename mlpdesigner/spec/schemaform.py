"""Qt-free reading of the JSON Schema into form fields.

:func:`schema_at` finds the schema of any place in a spec (following ``$ref``
and, for layers and the network, the ``allOf``/``if``/``then`` branch that the
instance selects); :func:`fields_for` turns an object schema into
:class:`Field` descriptions that the inspector renders as widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..resources import schema as load_schema
from .defaults import resolve_ref
from .problems import split_pointer

#: Widget kinds a field can be.
KINDS = ("enum", "bool", "int", "number", "string", "const", "object", "list", "map", "choice")


def resolve(node: Any, root: dict[str, Any] | None = None) -> dict[str, Any]:
    """Follow local ``$ref`` chains; keys beside a ``$ref`` override the target's."""
    return resolve_ref(node, root) if isinstance(node, dict) else {}


def _branch_matches(cond: dict[str, Any], instance: Any) -> bool:
    props = cond.get("properties", {})
    if not isinstance(instance, dict) or not props:
        return False
    return all(instance.get(k) == v.get("const") for k, v in props.items() if isinstance(v, dict))


def effective(node: Any, instance: Any, root: dict[str, Any] | None = None) -> dict[str, Any]:
    """The object schema that applies to ``instance``: base properties merged with matching branches.

    A property the base declares with an ``enum`` keeps that enum (so a layer's
    type stays a choice among all types, not the branch's single ``const``).
    """
    root = root or load_schema()
    node = resolve(node, root)
    props: dict[str, Any] = {k: resolve(v, root) for k, v in node.get("properties", {}).items() if isinstance(v, dict)}
    required = list(node.get("required", []))
    description, title = node.get("description"), node.get("title")
    for part in node.get("allOf", []):
        if "if" in part and _branch_matches(part["if"], instance):
            then = resolve(part["then"], root)
            title = then.get("title", title)
            description = then.get("description", description)
            for key, prop in then.get("properties", {}).items():
                if not isinstance(prop, dict):
                    continue
                prop = resolve(prop, root)
                if key in props and "enum" in props[key]:
                    merged = dict(prop)
                    merged.pop("const", None)
                    merged["enum"] = props[key]["enum"]
                    props[key] = merged
                else:
                    props[key] = prop
            required += [r for r in then.get("required", []) if r not in required]
    out = dict(node)
    out.pop("allOf", None)
    out.update(properties=props, required=required)
    if title:
        out["title"] = title
    if description:
        out["description"] = description
    return out


def schema_at(raw: Any, ptr: str) -> dict[str, Any]:
    """The effective schema of the value at ``ptr`` in ``raw`` ({} when the schema says nothing)."""
    root = load_schema()
    node = effective(root, raw, root)
    instance = raw
    for part in split_pointer(ptr):
        if isinstance(instance, list) or node.get("type") == "array" or "items" in node:
            sub = node.get("items", {})
            try:
                instance = instance[int(part)] if isinstance(instance, list) else None
            except (ValueError, IndexError):
                instance = None
        else:
            props = node.get("properties", {})
            if part in props:
                sub = props[part]
            elif isinstance(node.get("additionalProperties"), dict):
                sub = node["additionalProperties"]
            else:
                return {}
            instance = instance.get(part) if isinstance(instance, dict) else None
        node = effective(sub, instance, root)
    return node


@dataclass(frozen=True)
class Field:
    """One form field derived from the schema."""

    key: str
    kind: str
    title: str
    description: str
    schema: dict[str, Any]
    required: bool
    default: Any = None
    has_default: bool = False
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False

    @property
    def tooltip(self) -> str:
        text = self.description
        if self.has_default:
            text += f"\nDefault: {_show(self.default)}"
        if self.range_text:
            text += f"\nRange: {self.range_text}"
        return text.strip()

    @property
    def range_text(self) -> str:
        """The allowed range as a reader writes it, e.g. ``0 ≤ rate < 1`` ("" when unbounded)."""
        if self.minimum is None and self.maximum is None:
            return ""
        low = "" if self.minimum is None else f"{_show(self.minimum)} {'<' if self.exclusive_minimum else '≤'} "
        high = "" if self.maximum is None else f" {'<' if self.exclusive_maximum else '≤'} {_show(self.maximum)}"
        return f"{low}{self.key}{high}"

    def range_problem(self, value: float) -> str:
        """Why ``value`` is outside the field's range ("" when it is inside)."""
        low_ok = self.minimum is None or (value > self.minimum if self.exclusive_minimum else value >= self.minimum)
        high_ok = self.maximum is None or (value < self.maximum if self.exclusive_maximum else value <= self.maximum)
        if low_ok and high_ok:
            return ""
        return f"Expected {self.range_text}. Received: {self.key}={_show(value)}"


def _show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def field_kind(prop: dict[str, Any]) -> str:
    """The widget kind for a property schema."""
    if "const" in prop:
        return "const"
    if "enum" in prop:
        return "enum"
    if "oneOf" in prop or "anyOf" in prop:
        return "choice"
    kind = prop.get("type")
    if kind == "boolean":
        return "bool"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "number"
    if kind == "string":
        return "string"
    if kind == "array":
        return "list"
    if kind == "object" and "properties" not in prop and isinstance(prop.get("additionalProperties"), dict):
        return "map"
    if kind == "object":
        return "object"
    return "string"


def make_field(key: str, prop: dict[str, Any], required: bool) -> Field:
    """A :class:`Field` for one property."""
    minimum = prop.get("minimum", prop.get("exclusiveMinimum"))
    maximum = prop.get("maximum", prop.get("exclusiveMaximum"))
    choices: tuple[Any, ...] = tuple(prop.get("enum", ()))
    if "oneOf" in prop:
        choices = tuple(o["const"] for o in prop["oneOf"] if "const" in o)
    return Field(
        key=key,
        kind=field_kind(prop),
        title=prop.get("title") or key.replace("_", " ").capitalize(),
        description=prop.get("description", ""),
        schema=prop,
        required=required,
        default=prop.get("default"),
        has_default="default" in prop,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum="exclusiveMinimum" in prop,
        exclusive_maximum="exclusiveMaximum" in prop,
    )


def fields_for(node: dict[str, Any]) -> list[Field]:
    """Fields of an (effective) object schema, in the schema's order."""
    required = set(node.get("required", []))
    return [make_field(key, prop, key in required) for key, prop in node.get("properties", {}).items()]


def item_schema(node: dict[str, Any], root: dict[str, Any] | None = None) -> dict[str, Any]:
    """The resolved ``items`` schema of an array schema."""
    return resolve(node.get("items", {}), root)


#: Optimizer settings and the optimizers that read them (the others ignore them).
OPTIMIZER_FIELDS = {"momentum": ("sgd", "rmsprop"), "nesterov": ("sgd",), "weight_decay": ("adamw",)}
#: Learning-rate schedule settings and the schedules that read them.
SCHEDULE_FIELDS = {"decay_steps": ("exponential", "cosine"), "decay_rate": ("exponential",), "alpha": ("cosine",)}
#: Output-head settings and the tasks they apply to.
OUTPUT_FIELDS = {
    "label_format": ("multiclass",),
    "positive": ("regression",),
    "range": ("regression",),
    "normalize": ("regression",),  # target standardization
    "classes": ("multiclass", "multilabel"),
}
#: Activation-layer settings and the activation that reads each.
ACTIVATION_FIELDS = {"negative_slope": "leaky_relu", "alpha": "elu"}


def field_applies(raw: Any, ptr: str, key: str) -> bool:
    """Whether the setting ``key`` of the object at ``ptr`` means anything for the design as it is.

    A setting that is present always applies (so that it can be seen and removed); an absent one
    is shown only where it would take effect: no momentum for Adam, no decay steps for a constant
    schedule, no label format on a binary head, no source on a sequential network's output.
    """
    from .edits import get

    value = get(raw, ptr, default={})  # an absent section has its defaults: adam, a constant schedule
    if not isinstance(value, dict) or key in value:
        return True
    parts = split_pointer(ptr)
    if parts == ["training", "optimizer"] and key in OPTIMIZER_FIELDS:
        return value.get("name", "adam") in OPTIMIZER_FIELDS[key]
    if parts == ["training", "learning_rate_schedule"] and key in SCHEDULE_FIELDS:
        return value.get("type", "constant") in SCHEDULE_FIELDS[key]
    if len(parts) == 2 and parts[0] == "outputs":
        if key in OUTPUT_FIELDS:
            return value.get("task") in OUTPUT_FIELDS[key]
        if key == "source":
            network = raw.get("network") if isinstance(raw, dict) else None
            return isinstance(network, dict) and network.get("topology") == "wide_deep"
    if value.get("type") == "activation" and key in ACTIVATION_FIELDS and "layers" in parts:
        return value.get("activation") == ACTIVATION_FIELDS[key]
    return True
