"""Qt-free edit operations: each user action as a JSON Patch on the spec as written.

Every function here takes the spec dict (``raw``) and returns the operations
that perform the action; :func:`mlpdesigner.spec.apply_patch` applies them and
returns the exact inverse, which is what undo replays.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from ..resources import schema as load_schema
from .defaults import task_defaults_patch
from .edits import get
from .problems import pointer, split_pointer

Ops = list[dict[str, Any]]

#: How the layer list starts a new layer of a type, where the schema's defaults are not enough.
_STARTING_LAYERS: dict[str, dict[str, Any]] = {
    "dense": {"type": "dense", "units": 32, "activation": "relu", "kernel_initializer": "he_normal"},
    "activation": {"type": "activation", "activation": "relu"},
    "dropout": {"type": "dropout", "rate": 0.2},
    "alpha_dropout": {"type": "alpha_dropout", "rate": 0.1},
}

#: Menu titles where they differ from the schema's.
_TITLES = {"dense": "Dense", "activation": "Activation", "dropout": "Dropout", "alpha_dropout": "Alpha dropout"}


def _layer_types() -> dict[str, dict[str, Any]]:
    """The schema's hidden-layer types, each with its definition (in the schema's order)."""
    schema = load_schema()
    layer = schema["$defs"]["layer"]
    definitions = {}
    for rule in layer.get("allOf", []):
        kind = rule["if"]["properties"]["type"]["const"]
        definitions[kind] = schema["$defs"][rule["then"]["$ref"].rsplit("/", 1)[-1]]
    return {kind: definitions.get(kind, {}) for kind in layer["properties"]["type"]["enum"]}


#: Layer types the layer list can add, with the layer each starts as (every type the schema allows).
LAYER_TEMPLATES: dict[str, dict[str, Any]] = {
    kind: _STARTING_LAYERS.get(kind, {"type": kind}) for kind in _layer_types()
}

#: Layer type -> its title in menus and descriptions.
LAYER_TITLES = {
    kind: _TITLES.get(kind) or definition.get("title") or kind.replace("_", " ").capitalize()
    for kind, definition in _layer_types().items()
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
    if parts == ["network", "topology"] and value in ("sequential", "wide_deep"):
        return topology_ops(raw, value)[0]
    if len(parts) == 3 and parts[0] in ("inputs", "outputs") and parts[2] == "name" and parts[1].isdigit() \
            and isinstance(value, str) and isinstance(get(raw, pointer(*parts[:2]), default=None), dict):
        return rename_ops(raw, parts[0], int(parts[1]), value)
    if len(parts) == 3 and parts[0] == "outputs" and parts[2] == "task":
        item_ptr = pointer(*parts[:2])
        output = get(raw, item_ptr)
        if output.get("task") == value:
            return []
        return [{"op": "replace", "path": item_ptr, "value": task_defaults_patch(output, value)}]
    index = layer_index(ptr)
    matched = _LAYER_PTR.match(ptr)
    if index is not None and matched and parts[-1] == "type" and ptr == f"{matched.group(0)}/type":
        layer_ptr = matched.group(0)
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
        repeat = layer.get("repeat", 1)
        if isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 1:
            text += f" ×{repeat}"
    elif kind == "activation":
        text = f"{title} {layer.get('activation', '?')}"
    elif kind in ("dropout", "alpha_dropout"):
        text = f"{title} {layer.get('rate', '?')}"
    else:
        text = title
    if layer.get("name"):
        text = f"{layer['name']}: {text}"
    return text


# ----- structure: topology, inputs and outputs ---------------------------------------------------
MAX_INPUTS = 2
MAX_OUTPUTS = 8


def _names(raw: Any, section: str) -> list[str]:
    items = raw.get(section) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        return []
    return [item["name"] if isinstance(item, dict) and isinstance(item.get("name"), str) else "" for item in items]


def input_names(raw: Any) -> list[str]:
    """The names of the inputs as written ("" for an input without a usable name)."""
    return _names(raw, "inputs")


def output_names(raw: Any) -> list[str]:
    """The names of the output heads as written."""
    return _names(raw, "outputs")


def topology(raw: Any) -> str:
    """The network's topology as written ("sequential" when absent)."""
    network = raw.get("network") if isinstance(raw, dict) else None
    value = network.get("topology", "sequential") if isinstance(network, dict) else "sequential"
    return value if isinstance(value, str) else "sequential"


def fresh_name(base: str, raw: Any) -> str:
    """``base`` when no input, layer or output uses it yet, else ``base_2``, ``base_3``, ..."""
    taken = _taken_names(raw) if isinstance(raw, dict) else set()
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _path_inputs(raw: Any, path: str) -> list[Any]:
    value = get(raw, f"/network/{path}/inputs", default=None)
    return value if isinstance(value, list) else []


def _columns_ops(raw: Any, rename: dict[str, str] | None = None, drop: set[str] | None = None) -> Ops:
    """Rewrite ``/data/columns`` (keeping its key order) for renamed and removed inputs or outputs."""
    columns = get(raw, "/data/columns", default=None)
    if not isinstance(columns, dict):
        return []
    rename, drop = rename or {}, drop or set()
    new = {rename.get(key, key): value for key, value in columns.items() if key not in drop}
    if list(new.items()) == list(columns.items()):
        return []
    return [{"op": "replace", "path": "/data/columns", "value": new}]


def topology_ops(raw: Any, new_topology: str, wide_inputs: list[str] | None = None) -> tuple[Ops, str]:
    """Switch the network between ``sequential`` and ``wide_deep``, keeping the layers; returns (ops, a note).

    sequential -> wide_deep: the layers become the deep path and the input the deep input; the wide path
    takes ``wide_inputs`` (default: the same input). wide_deep -> sequential: the deep layers become the
    layers, the first deep input stays, other inputs (and their column mapping) go, and auxiliary outputs
    attach to the network's end (which is then the deep path's end).
    """
    if new_topology not in ("sequential", "wide_deep"):
        raise ValueError(f"Expected topology sequential or wide_deep. Received: {new_topology!r}")
    if not isinstance(raw, dict) or not isinstance(raw.get("network"), dict):
        raise ValueError("Expected a spec with a network section. Received: none")
    current = topology(raw)
    if current == new_topology:
        return [], ""
    network = raw["network"]
    names = [n for n in input_names(raw) if n]
    if new_topology == "wide_deep":
        if not names:
            raise ValueError("Expected an input to become the deep input. Received: no named input")
        deep_input = names[0]
        layers = network.get("layers") if isinstance(network.get("layers"), list) else []
        wide = [n for n in (wide_inputs or [deep_input]) if n in names] or [deep_input]
        new_network = {"topology": "wide_deep", "wide": {"inputs": wide},
                       "deep": {"inputs": [deep_input], "layers": copy.deepcopy(layers)}}
        note = f"The layers are now the deep path of {deep_input!r}; the wide path takes {', '.join(wide)}."
        return [{"op": "replace", "path": "/network", "value": new_network}], note
    deep = network.get("deep") if isinstance(network.get("deep"), dict) else {}
    layers = deep.get("layers") if isinstance(deep.get("layers"), list) else []
    keep = next((n for n in _path_inputs(raw, "deep") if n in names), names[0] if names else None)
    ops: Ops = [{"op": "replace", "path": "/network", "value": {"topology": "sequential",
                                                                  "layers": copy.deepcopy(layers)}}]
    dropped = [n for n in input_names(raw) if n != keep]
    for index in reversed(range(len(input_names(raw)))):
        if input_names(raw)[index] != keep:
            ops.append({"op": "remove", "path": pointer("inputs", index)})
    ops += _columns_ops(raw, drop=set(dropped))
    moved = []
    for index, output in enumerate(raw.get("outputs", []) if isinstance(raw.get("outputs"), list) else []):
        if isinstance(output, dict) and "source" in output:
            ops.append({"op": "remove", "path": pointer("outputs", index, "source")})
            if output["source"] == "deep":
                moved.append(str(output.get("name")))
    note = "The deep path's layers are now the network's layers."
    if dropped:
        note += f" Removed input {', '.join(map(repr, dropped))} and its column mapping (undo brings it back)."
    if moved:
        note += f" Output {', '.join(map(repr, moved))} now attaches to the last layer."
    return ops, note


def add_input_ops(raw: Any) -> tuple[Ops, str]:
    """Add an input that feeds the wide path (Wide & Deep only); returns (ops, the new input's pointer)."""
    names = input_names(raw)
    if topology(raw) != "wide_deep":
        raise ValueError("Expected a Wide & Deep network for a second input. Received: a sequential network, "
                         "which has exactly one input; switch the topology to wide_deep first")
    if len(names) >= MAX_INPUTS:
        raise ValueError(f"Expected at most {MAX_INPUTS} inputs. Received: {len(names)} already")
    name = fresh_name("wide" if "wide" not in names else "extra", raw)
    wide = [*_path_inputs(raw, "wide"), name]
    return [
        {"op": "add", "path": f"/inputs/{len(names)}", "value": {"name": name, "shape": [1]}},
        {"op": "add", "path": "/network/wide", "value": {"inputs": wide}},
    ], f"/inputs/{len(names)}"


def rename_ops(raw: Any, section: str, index: int, new_name: str) -> Ops:
    """Rename an input or output and every reference to it (the wide/deep input lists, the column mapping)."""
    if section not in ("inputs", "outputs"):
        raise ValueError(f"Expected inputs or outputs. Received: {section!r}")
    names = _names(raw, section)
    if not 0 <= index < len(names):
        raise ValueError(f"Expected an index below {len(names)}. Received: {index}")
    old = names[index]
    if old == new_name:
        return []
    ops: Ops = [{"op": "add", "path": pointer(section, index, "name"), "value": new_name}]
    if not old:
        return ops
    if section == "inputs":
        for path in ("wide", "deep"):
            for position, ref in enumerate(_path_inputs(raw, path)):
                if ref == old:
                    where = pointer("network", path, "inputs", position)
                    ops.append({"op": "replace", "path": where, "value": new_name})
    return ops + _columns_ops(raw, rename={old: new_name})


def remove_input_ops(raw: Any, index: int) -> Ops:
    """Remove an input with its references; a path left without inputs takes the remaining one."""
    names = input_names(raw)
    if len(names) <= 1:
        raise ValueError("Expected a design with another input left. Received: this is the only input")
    if not 0 <= index < len(names):
        raise ValueError(f"Expected an index below {len(names)}. Received: {index}")
    old = names[index]
    remaining = [n for i, n in enumerate(names) if i != index]
    ops: Ops = []
    for path in ("wide", "deep"):
        refs = _path_inputs(raw, path)
        if old not in refs:
            continue
        kept = [r for r in refs if r != old] or remaining[:1]
        ops.append({"op": "replace", "path": pointer("network", path, "inputs"), "value": kept})
    ops.append({"op": "remove", "path": pointer("inputs", index)})
    return ops + _columns_ops(raw, drop={old})


def add_output_ops(raw: Any, auxiliary: bool = False) -> tuple[Ops, str]:
    """Add a regression head (an auxiliary one on the deep path when asked); returns (ops, its pointer)."""
    names = output_names(raw)
    if len(names) >= MAX_OUTPUTS:
        raise ValueError(f"Expected at most {MAX_OUTPUTS} outputs. Received: {len(names)} already")
    output: dict[str, Any] = {"name": fresh_name("aux" if auxiliary else "output", raw), "task": "regression",
                              "units": 1}
    if auxiliary:
        if topology(raw) != "wide_deep":
            raise ValueError("Expected a Wide & Deep network for an auxiliary output on the deep path. "
                             "Received: a sequential network")
        output.update(source="deep", loss_weight=0.1)
    return [{"op": "add", "path": f"/outputs/{len(names)}", "value": output}], f"/outputs/{len(names)}"


def remove_output_ops(raw: Any, index: int) -> Ops:
    """Remove an output head and its column mapping."""
    names = output_names(raw)
    if len(names) <= 1:
        raise ValueError("Expected a design with another output left. Received: this is the only output")
    if not 0 <= index < len(names):
        raise ValueError(f"Expected an index below {len(names)}. Received: {index}")
    return [{"op": "remove", "path": pointer("outputs", index)}] + _columns_ops(raw, drop={names[index]})


def keras_layer_names(raw: Any, plan: Any = None) -> list[str]:
    """The Keras name of each hidden layer as written (``dense_3``), as the diagram and summary show them.

    Taken from the plan when there is one, so the outline and the diagram cannot disagree; otherwise
    worked out the way the planner names layers (explicit names first, then ``<type>_<n>``).
    """
    layers = layer_list(raw)
    base = layers_pointer(raw)
    if plan is not None and base is not None:
        by_path: dict[str, str] = {}
        for node in plan.nodes:
            by_path.setdefault(node.spec_path, node.name)  # a repeated layer is named by its first copy
        names = [by_path.get(f"{base}/{i}") for i in range(len(layers))]
        if all(names):
            return [str(n) for n in names]
    from .plan import layer_names

    taken = {n for n in input_names(raw) if n}
    usable = [layer if isinstance(layer, dict) and isinstance(layer.get("type"), str) else {"type": "layer"}
              for layer in layers]
    usable = [layer if not layer.get("name") or isinstance(layer.get("name"), str) else {"type": layer["type"]}
              for layer in usable]
    return layer_names(usable, taken)


class SubjectIndex:
    """Where each selectable subject (layer, input, output, section) sits in a spec's JSON text.

    ``span(ptr)`` gives the character range of a subject (from its key, when it has one, to the end of
    its value); ``at(offset)`` the innermost subject whose range holds an offset (for the JSON view to
    follow the cursor). Text that does not parse gives the subjects it can still place.
    """

    def __init__(self, text: str) -> None:
        from .jsonloc import SourceMap

        self.text = text
        source = SourceMap(text)
        values = source._build()
        decoder = json.JSONDecoder()
        self.spans: dict[str, tuple[int, int]] = {}
        for ptr, start in values.items():
            if not ptr or subject_pointer(ptr) != ptr or ptr in ("/inputs", "/outputs"):
                continue
            try:
                _, end = decoder.raw_decode(text, start)
            except ValueError:
                continue
            begin = source.offset(ptr, key=True)
            self.spans[ptr] = (begin if begin is not None and begin <= start else start, end)

    def span(self, ptr: str) -> tuple[int, int] | None:
        """(start, end) of the subject at ``ptr`` in the text, or None when it is not there."""
        return self.spans.get(subject_pointer(ptr))

    def at(self, offset: int) -> str:
        """The innermost subject whose text holds ``offset`` ("" when none does)."""
        inside = [(end - start, ptr) for ptr, (start, end) in self.spans.items() if start <= offset <= end]
        return min(inside)[1] if inside else ""
