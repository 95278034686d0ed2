"""Generate the spec format reference (Markdown) from the JSON Schema.

``python -m mlpdesigner.spec.reference > docs/spec-reference.md``
"""

from __future__ import annotations

import json
from typing import Any

from ..resources import schema as load_schema
from .defaults import resolve_ref


def _kind(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    if "oneOf" in node:
        return " or ".join(_kind(n) for n in node["oneOf"])
    kind = node.get("type", "")
    bounds = []
    for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in node:
            bounds.append(f"{op} {node[key]}")
    if kind == "array" and isinstance(node.get("items"), dict):
        items = node["items"]
        kind = "array of objects" if "$ref" in items else f"array of {_kind(items)}"
    if "pattern" in node:
        kind += " (name)"
    return f"{kind} {', '.join(bounds)}".strip()


def _rows(node: dict[str, Any], root: dict[str, Any], prefix: str, out: list[str], seen: set[str]) -> None:
    node = resolve_ref(node, root)
    props = dict(node.get("properties", {}))
    for part in node.get("allOf", []):
        then = resolve_ref(part.get("then", {}), root)
        props.update({k: v for k, v in then.get("properties", {}).items() if isinstance(v, dict)})
    required = set(node.get("required", []))
    for key, prop in props.items():
        if not isinstance(prop, dict):
            continue
        prop = resolve_ref(prop, root)
        path = f"{prefix}.{key}" if prefix else key
        if path in seen:
            continue
        seen.add(path)
        default = f"`{json.dumps(prop['default'])}`" if "default" in prop else ("required" if key in required else "")
        desc = prop.get("description", "").replace("|", "\\|")
        out.append(f"| `{path}` | {_kind(prop)} | {default} | {desc} |")
        if prop.get("type") == "object" or "properties" in prop or "allOf" in prop:
            _rows(prop, root, path, out, seen)
        items = prop.get("items")
        if isinstance(items, dict):
            _rows(items, root, f"{path}[]", out, seen)


def _layer_rows(root: dict[str, Any]) -> list[str]:
    out: list[str] = []
    refs = [rule["then"]["$ref"].rsplit("/", 1)[-1] for rule in root["$defs"]["layer"]["allOf"]]
    for name in dict.fromkeys(refs):  # each layer definition once, in the schema's order
        node = root["$defs"][name]
        kind = node["properties"]["type"]
        out.append(f"\n### `{kind.get('const', ' / '.join(kind.get('enum', [])))}`\n")
        out.append(node["description"] + "\n")
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        _rows(node, root, "", out, set())
    return out


def render() -> str:
    """The reference as Markdown."""
    root = load_schema()
    lines = [
        "# Spec format reference (`mlpdesigner/1`)",
        "",
        "Generated from `schemas/mlp-spec-1.schema.json` by `python -m mlpdesigner.spec.reference`; do not edit.",
        "",
        root["description"],
        "",
        "## Document",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    body: list[str] = []
    top = {k: v for k, v in root["properties"].items() if k != "network"}
    _rows({"properties": top, "required": root["required"]}, root, "", body, set())
    network = root["properties"]["network"]
    body.append(
        f"| `network.topology` | {_kind(network['properties']['topology'])} | required | "
        f"{network['properties']['topology']['description']} |"
    )
    body.append("| `network.layers` | array of layers | sequential | Hidden layers in order (see Layers). |")
    body.append("| `network.wide.inputs` | array of names | wide_deep | Inputs concatenated straight to the output. |")
    body.append("| `network.deep.inputs` | array of names | wide_deep | Inputs that go through the deep layers. |")
    body.append("| `network.deep.layers` | array of layers | wide_deep | The deep path's hidden layers (see Layers). |")
    lines += body
    lines += ["", "## Layers", "", "Every layer has a `type` and an optional `name`."]
    lines += _layer_rows(root)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
