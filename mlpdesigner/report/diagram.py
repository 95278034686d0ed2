"""The design as an SVG diagram, from the spec's plan alone (no Qt, no TensorFlow).

Blocks in rows by depth (each node one row below the deepest of its inputs),
arrows from each input; a block names the layer, its Keras class, its units and
activation (or rate, ...), output shape and parameter count. Every text is
XML-escaped: layer names are checked identifiers, but nothing here relies on it.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..spec.plan import Node, Plan

BLOCK_WIDTH = 190
BLOCK_HEIGHT = 58
GAP_X = 26
GAP_Y = 34
MARGIN = 16
#: Fill colours by the node's role in the plan.
ROLE_COLORS = {"input": "#dbeafe", "output": "#dcfce7", "merge": "#fef3c7"}
DEFAULT_COLOR = "#f3f4f6"


def describe(node: Node) -> str:
    """The block's middle line: units and activation, rate, ... (what a designer reads first)."""
    config = node.config
    if node.kind == "input":
        return "input"
    parts = [node.keras_class]
    if "units" in config:
        parts.append(f"{config['units']} unit" + ("" if config["units"] == 1 else "s"))
    activation = config.get("activation")
    if activation:
        parts.append(str(activation))
    if "rate" in config:
        parts.append(f"rate {config['rate']}")
    return ", ".join(parts)


def _depths(plan: Plan) -> dict[str, int]:
    depth: dict[str, int] = {}
    for node in plan.nodes:  # build order: inputs come before the nodes that use them
        depth[node.name] = 1 + max((depth.get(i, 0) for i in node.inputs), default=-1)
    return depth


def _text(x: float, y: float, text: str, size: int, weight: str = "normal", fill: str = "#111827") -> str:
    shown = text if len(text) <= 30 else text[:29] + "…"
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
            f'text-anchor="middle">{escape(shown)}</text>')


def plan_svg(plan: Plan) -> str:
    """A standalone ``<svg>`` element of the plan (width and height in pixels, a viewBox to scale)."""
    depth = _depths(plan)
    rows: dict[int, list[Node]] = {}
    for node in plan.nodes:
        rows.setdefault(depth[node.name], []).append(node)
    widest = max((len(r) for r in rows.values()), default=1)
    width = MARGIN * 2 + widest * BLOCK_WIDTH + (widest - 1) * GAP_X
    height = MARGIN * 2 + len(rows) * BLOCK_HEIGHT + max(len(rows) - 1, 0) * GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for level, nodes in rows.items():
        row_width = len(nodes) * BLOCK_WIDTH + (len(nodes) - 1) * GAP_X
        left = (width - row_width) / 2
        for i, node in enumerate(nodes):
            where[node.name] = (left + i * (BLOCK_WIDTH + GAP_X), MARGIN + level * (BLOCK_HEIGHT + GAP_Y))
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr("Diagram of " + plan.name)}>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>',
    ]
    for node in plan.nodes:
        x, y = where[node.name]
        for source in node.inputs:
            if source not in where:
                continue
            sx, sy = where[source]
            parts.append(
                f'<line x1="{sx + BLOCK_WIDTH / 2:.1f}" y1="{sy + BLOCK_HEIGHT:.1f}" x2="{x + BLOCK_WIDTH / 2:.1f}" '
                f'y2="{y:.1f}" stroke="#6b7280" stroke-width="1.4" marker-end="url(#arrow)"/>'
            )
    for node in plan.nodes:
        x, y = where[node.name]
        colour = ROLE_COLORS.get(node.role, DEFAULT_COLOR)
        shape = "×".join(str(d) for d in node.shape)
        parts.append(f'<g class="block"><title>{escape(node.name)}: {escape(describe(node))}</title>')
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{BLOCK_WIDTH}" height="{BLOCK_HEIGHT}" rx="7" '
                     f'fill="{colour}" stroke="#374151" stroke-width="1"/>')
        centre = x + BLOCK_WIDTH / 2
        parts.append(_text(centre, y + 17, node.name, 12, "bold"))
        parts.append(_text(centre, y + 33, describe(node), 11))
        parts.append(_text(centre, y + 49, f"({shape}), {node.params:,} params", 10, fill="#4b5563"))
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def layer_rows(plan: Plan) -> list[dict[str, Any]]:
    """The plan as table rows (name, class, what, shape, parameters)."""
    return [
        {"name": n.name, "class": n.keras_class, "what": describe(n), "shape": "×".join(map(str, n.shape)),
         "params": n.params}
        for n in plan.nodes
    ]
