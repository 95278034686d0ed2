"""Qt-free edit operations: each user action as a JSON Patch on the spec as written.

Every function here takes the spec dict (``raw``) and returns the operations
that perform the action; :func:`mlpdesigner.spec.apply_patch` applies them and
returns the exact inverse, which is what undo replays.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .defaults import task_defaults_patch
from .edits import get
from .problems import pointer, split_pointer

Ops = list[dict[str, Any]]

#: Layer types the layer list can add, with the layer each starts as.
LAYER_TEMPLATES: dict[str, dict[str, Any]] = {
    "dense": {"type": "dense", "units": 32, "activation": "relu", "kernel_initializer": "he_normal"},
    "activation": {"type": "activation", "activation": "relu"},
    "batch_normalization": {"type": "batch_normalization"},
    "dropout": {"type": "dropout", "rate": 0.2},
    "alpha_dropout": {"type": "alpha_dropout", "rate": 0.1},
    "flatten": {"type": "flatten"},
}

LAYER_TITLES = {
    "dense": "Dense",
    "activation": "Activation",
    "batch_normalization": "Batch normalization",
    "dropout": "Dropout",
    "alpha_dropout": "Alpha dropout",
    "flatten": "Flatten",
}

_LAYER_PTR = re.compile(r"^(/network(?:/deep)?/layers)/(\d+)")
_ITEM_PTR = re.compile(r"^/(inputs|outputs)/(\d+)")


def layers_pointer(raw: Any) -> str | None:
    """JSON pointer of the editable stack of hidden layers, or None when the spec has none."""
    if not isinstance(raw, dict) or not isinstance(raw.get("network"), dict):
        return None
    network = raw["network"]
    if network.get("topology", "sequential") == "wide_deep":
        deep = network.get("deep")
        if isinstance(deep, dict) and isinstance(deep.get("layers"), list):
            return "/network/deep/layers"
        return None
    return "/network/layers" if isinstance(network.get("layers"), list) else None


def layer_list(raw: Any) -> list[Any]:
    """The hidden layers as written ([] when there is no stack)."""
    ptr = layers_pointer(raw)
    return get(raw, ptr) if ptr else []


def layer_index(ptr: str) -> int | None:
    """Index of the hidden layer a pointer is in, or None."""
    match = _LAYER_PTR.match(ptr or "")
    return int(match.group(2)) if match else None


def subject_pointer(ptr: str) -> str:
    """The selectable thing a pointer belongs to: a layer, input, output, or a top section.

    ``/network/deep/layers/2/units`` -> ``/network/deep/layers/2``;
    ``/outputs/0/range/low`` -> ``/outputs/0``; ``/training/optimizer`` -> ``/training``.
    """
    ptr = ptr or ""
    for pattern in (_LAYER_PTR, _ITEM_PTR):
        match = pattern.match(ptr)
        if match:
            return match.group(0)
    parts = split_pointer(ptr)
    if not parts:
        return ""
    if parts[0] in ("training", "data", "network", "inputs", "outputs"):
        return pointer(parts[0])
    return ""


def _unique_name(base: str, taken: set[str]) -> str:
    stem = re.sub(r"_(copy|\d+)$", "", base) or "layer"
    n = 2
    while f"{stem}_{n}"[:64] in taken:
        n += 1
    return f"{stem}_{n}"[:64]


def _taken_names(raw: dict[str, Any]) -> set[str]:
    names = {layer.get("name") for layer in layer_list(raw) if isinstance(layer, dict)}
    for section in ("inputs", "outputs"):
        for item in raw.get(section, []) or []:
            if isinstance(item, dict):
                names.add(item.get("name"))
    return {n for n in names if isinstance(n, str)}


def add_layer_ops(raw: Any, kind: str, index: int | None = None) -> tuple[Ops, str]:
    """Add a new layer of ``kind`` at ``index`` (the end when None); returns (ops, the new layer's pointer)."""
    if kind not in LAYER_TEMPLATES:
        raise ValueError(f"Expected one of {', '.join(LAYER_TEMPLATES)}. Received: {kind!r}")
    base = layers_pointer(raw)
    if base is None:
        raise ValueError("Expected a spec with a stack of hidden layers. Received: none (fix the network first)")
    count = len(get(raw, base))
    index = count if index is None else max(0, min(index, count))
    return [{"op": "add", "path": f"{base}/{index}", "value": copy.deepcopy(LAYER_TEMPLATES[kind])}], f"{base}/{index}"


def duplicate_layer_ops(raw: Any, index: int) -> tuple[Ops, str]:
    """Copy the layer at ``index`` right after it (a named layer gets a fresh name)."""
    base = layers_pointer(raw)
    if base is None:
        raise ValueError("Expected a spec with a stack of hidden layers")
    layer = copy.deepcopy(get(raw, f"{base}/{index}"))
    if isinstance(layer, dict) and isinstance(layer.get("name"), str):
        layer["name"] = _unique_name(layer["name"], _taken_names(raw))
    return [{"op": "add", "path": f"{base}/{index + 1}", "value": layer}], f"{base}/{index + 1}"


def delete_layer_ops(raw: Any, index: int) -> Ops:
    """Remove the layer at ``index``."""
    base = layers_pointer(raw)
    if base is None:
        raise ValueError("Expected a spec with a stack of hidden layers")
    get(raw, f"{base}/{index}")  # raises EditError when absent
    return [{"op": "remove", "path": f"{base}/{index}"}]


def move_layer_ops(raw: Any, source: int, target: int) -> tuple[Ops, str]:
    """Move the layer at ``source`` so that it ends up at index ``target``."""
    base = layers_pointer(raw)
    if base is None:
        raise ValueError("Expected a spec with a stack of hidden layers")
    layers = get(raw, base)
    target = max(0, min(target, len(layers) - 1))
    if not 0 <= source < len(layers):
        raise ValueError(f"Expected a layer index below {len(layers)}. Received: {source}")
    if source == target:
        return [], f"{base}/{source}"
    layer = layers[source]
    return (
        [{"op": "remove", "path": f"{base}/{source}"}, {"op": "add", "path": f"{base}/{target}", "value": layer}],
        f"{base}/{target}",
    )


def set_value_ops(raw: Any, ptr: str, value: Any) -> Ops:
    """Set the value at ``ptr`` (creating the key); a task or layer-type change rewrites the whole item."""
    parts = split_pointer(ptr)
    if len(parts) == 3 and parts[0] == "outputs" and parts[2] == "task":
        item_ptr = pointer(*parts[:2])
        output = get(raw, item_ptr)
        if output.get("task") == value:
            return []
        return [{"op": "replace", "path": item_ptr, "value": task_defaults_patch(output, value)}]
    index = layer_index(ptr)
    if index is not None and parts[-1] == "type" and ptr == f"{_LAYER_PTR.match(ptr).group(0)}/type":
        layer_ptr = _LAYER_PTR.match(ptr).group(0)
        layer = get(raw, layer_ptr)
        if layer.get("type") == value:
            return []
        new = copy.deepcopy(LAYER_TEMPLATES.get(value, {"type": value}))
        if "name" in layer:
            new["name"] = layer["name"]
        if value in ("dropout", "alpha_dropout") and layer.get("type") in ("dropout", "alpha_dropout"):
            new["rate"] = layer.get("rate", new["rate"])
        return [{"op": "replace", "path": layer_ptr, "value": new}]
    current = get(raw, ptr, default=_ABSENT)
    if current is not _ABSENT and current == value and type(current) is type(value):
        return []
    return [{"op": "add", "path": ptr, "value": value}]


_ABSENT = object()


def remove_value_ops(raw: Any, ptr: str) -> Ops:
    """Remove the key at ``ptr`` (nothing when it is not there), so the default applies."""
    if get(raw, ptr, default=_ABSENT) is _ABSENT:
        return []
    return [{"op": "remove", "path": ptr}]


def ensure_parents_ops(raw: Any, ptr: str) -> Ops:
    """Operations that create the missing objects above ``ptr`` (e.g. ``/training/optimizer``)."""
    ops: Ops = []
    parts = split_pointer(ptr)
    node = raw
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, dict) and part not in node:
            ops.append({"op": "add", "path": pointer(*parts[: depth + 1]), "value": {}})
            node = {}
            continue
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return ops
    return ops


def describe_layer(layer: Any) -> str:
    """A short one-line description of a hidden layer, e.g. ``Dense 30 relu``."""
    if not isinstance(layer, dict):
        return "(not a layer)"
    kind = layer.get("type", "?")
    title = LAYER_TITLES.get(kind, str(kind))
    if kind == "dense":
        text = f"{title} {layer.get('units', '?')}"
        if layer.get("activation", "linear") != "linear":
            text += f" {layer['activation']}"
    elif kind == "activation":
        text = f"{title} {layer.get('activation', '?')}"
    elif kind in ("dropout", "alpha_dropout"):
        text = f"{title} {layer.get('rate', '?')}"
    else:
        text = title
    if layer.get("name"):
        text = f"{layer['name']}: {text}"
    return text
