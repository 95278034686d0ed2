"""The network canvas: one block per layer of the plan, arrows between them."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

from ..spec import Spec, analyze, build_plan
from ..spec.operations import subject_pointer
from ..spec.plan import Node, Plan
from ..spec.problems import split_pointer
from .document import Document
from .health_view import HealthModel, LayerHealthView, add_legend, heat_color, legend_height, paint_health

BLOCK_W, BLOCK_H = 190.0, 74.0
LANE_W, RANK_H = 230.0, 110.0

KIND_COLORS = {
    "input": "#dbeafe",
    "normalization": "#e0e7ff",
    "dense": "#dcfce7",
    "activation": "#fef9c3",
    "leaky_relu": "#fef9c3",
    "prelu": "#fef9c3",
    "elu": "#fef9c3",
    "batch_normalization": "#f3e8ff",
    "dropout": "#fee2e2",
    "alpha_dropout": "#fee2e2",
    "flatten": "#f1f5f9",
    "concatenate": "#ffedd5",
    "rescaling": "#fce7f3",
}
OUTPUT_COLOR = "#bbf7d0"
SEVERITY_COLORS = {"error": "#dc2626", "warning": "#d97706", "info": "#2563eb"}
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
#: A sequential network with more ranks than this wraps into side-by-side columns.
WRAP_RANKS = 12
COLUMN_GAP = 60.0


def node_label(node: Node) -> str:
    """The block's second line: the layer's type and its main settings."""
    cfg = node.config
    if node.kind == "dense":
        text = f"Dense {cfg.get('units')}"
        if cfg.get("activation") and (cfg["activation"] != "linear" or node.role == "output"):
            text += f" · {cfg['activation']}"
        return text
    if node.kind == "activation":
        return f"Activation · {cfg.get('activation')}"
    if node.kind == "leaky_relu":
        return f"LeakyReLU · slope {cfg.get('negative_slope')}"
    if node.kind == "elu":
        return f"ELU · alpha {cfg.get('alpha')}"
    if node.kind in ("dropout", "alpha_dropout"):
        return f"{node.keras_class} · rate {cfg.get('rate')}"
    if node.kind == "rescaling" and cfg.get("target_scaling") == "standardize":
        return "Rescaling × std + mean (targets)"
    if node.kind == "rescaling" and cfg.get("target_scaling"):
        return "Rescaling × RMS (targets)"
    if node.kind == "rescaling":
        return f"Rescaling ×{cfg.get('scale'):g} + {cfg.get('offset'):g}"
    return node.keras_class


def layout(plan: Plan, raw: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """(lane, rank) of every node: rank by longest path from the inputs; lanes keep the
    Wide & Deep wide path and deep path side by side, and auxiliary outputs off the deep path."""
    rank: dict[str, int] = {}
    for node in plan.nodes:
        rank[node.name] = 1 + max((rank[i] for i in node.inputs), default=-1)
    lane: dict[str, float] = {}
    network = raw.get("network", {})
    if plan.topology == "wide_deep":
        wide = set(network.get("wide", {}).get("inputs", []))
        deep = list(network.get("deep", {}).get("inputs", []))
        deep_lane = 1.0 + 0.5 * (len([d for d in deep if d not in wide]) > 1)
        deep_only = [d for d in deep if d not in wide]
        deep_end = None
        for node in plan.nodes:
            if node.kind == "input":
                if node.name in wide and node.name in deep:
                    lane[node.name] = 0.5
                elif node.name in wide:
                    lane[node.name] = 0.0
                else:
                    lane[node.name] = 1.0 + deep_only.index(node.name) if node.name in deep_only else 1.0
            elif node.kind == "normalization":
                lane[node.name] = lane[node.inputs[0]]
            elif node.role == "deep":
                lane[node.name] = deep_lane
                deep_end = node.name
            elif node.role == "merge":
                lane[node.name] = 0.5
                merged_rank = max(rank[i] for i in node.inputs) + 1
                rank[node.name] = merged_rank
            elif node.role == "output":
                source = node.inputs[0]
                if plan.node(source).role == "output":
                    lane[node.name] = lane[source]
                elif source == (deep_end or "") or (deep_end is None and source in deep):
                    lane[node.name] = deep_lane + 1.0
                else:
                    lane[node.name] = lane.get(source, 0.5)
            else:
                lane[node.name] = lane.get(node.inputs[0], 0.0) if node.inputs else 0.0
        if deep_end is None:  # no deep layers: the deep input itself is the deep end
            for node in plan.nodes:
                if node.role == "output" and node.inputs[0] in deep and node.inputs[0] not in wide:
                    lane[node.name] = deep_lane + 1.0
    else:
        for node in plan.nodes:
            lane[node.name] = 0.0
    # spread nodes that share a place
    places: dict[tuple[float, int], list[str]] = {}
    for node in plan.nodes:
        places.setdefault((lane[node.name], rank[node.name]), []).append(node.name)
    for names in places.values():
        if len(names) > 1:
            for i, name in enumerate(names):
                lane[name] += i - (len(names) - 1) / 2
    return {name: (lane[name], rank[name]) for name in rank}


def structure_plan(spec: Spec) -> Plan | None:
    """The layer graph as far as it can be computed: the spec's plan, or one built despite errors.

    Errors in the data or training sections, or in meaning (a mapping, a name), do not hide the
    network; the plan is cached on the analysis it came from.
    """
    if spec.plan is not None:
        return spec.plan
    if "_structure_plan" in spec.__dict__:
        return spec.__dict__["_structure_plan"]
    filled = spec.filled
    if filled is None and isinstance(spec.raw, dict):
        core = {key: value for key, value in spec.raw.items() if key not in ("data", "training")}
        filled = analyze(core).filled
    plan = None
    if filled is not None:
        try:
            plan = build_plan(filled)
        except Exception:  # noqa: BLE001 - best effort on a spec known to have errors; they are in Problems
            plan = None
    spec.__dict__["_structure_plan"] = plan
    return plan


def problem_subject(problem_path: str, raw: Any) -> str:
    """The block a problem concerns: its layer, input or output; a mapping problem goes to its input or output."""
    parts = split_pointer(problem_path)
    if len(parts) >= 3 and parts[:2] == ["data", "columns"] and isinstance(raw, dict):
        for key in ("inputs", "outputs"):
            for index, item in enumerate(raw.get(key) or []):
                if isinstance(item, dict) and item.get("name") == parts[2]:
                    return f"/{key}/{index}"
    return subject_pointer(problem_path)


def collapse_runs(plan: Plan, shortest: int = 3) -> dict[str, list[str]]:
    """Runs of identical consecutive hidden layers: first node's name -> the names of the whole run.

    The copies of a repeated layer (one spec layer with ``repeat``) are always one run, drawn as the one
    block the user edits. Other runs of identical layers only in a large network (more than
    :data:`WRAP_RANKS` nodes), and only runs of ``shortest`` or more: a small design shows every layer.
    """
    runs: dict[str, list[str]] = {}
    large = len(plan.nodes) > WRAP_RANKS
    current: list[Node] = []

    def keep(run: list[Node]) -> bool:
        return (large and len(run) >= shortest) or (len(run) > 1 and len({n.spec_path for n in run}) == 1)

    def same(a: Node, b: Node) -> bool:
        return (a.kind == b.kind and a.config == b.config and a.shape == b.shape and a.role == b.role
                and b.inputs == [a.name] and a.role in ("hidden", "deep"))

    consumers: dict[str, int] = {}
    for node in plan.nodes:
        for source in node.inputs:
            consumers[source] = consumers.get(source, 0) + 1
    for node in plan.nodes:
        if (current and same(current[-1], node) and consumers.get(current[-1].name, 0) == 1
                and (large or node.spec_path == current[0].spec_path)):
            current.append(node)
            continue
        if keep(current):
            runs[current[0].name] = [n.name for n in current]
        current = [node] if node.kind not in ("input", "normalization") else []
    if keep(current):
        runs[current[0].name] = [n.name for n in current]
    return runs


class BlockItem(QGraphicsItem):
    """One layer (or input, output, concatenation) as a rounded block; a run of identical layers as one (×N).

    Problems about it show as badges on its top edge: the code of the most serious one, and how many more.
    """

    def __init__(self, node: Node, subject: str, problems: list[Any], run: list[Node] | None = None,
                 subjects: list[str] | None = None) -> None:
        super().__init__()
        self.node = node
        self.subject = subject
        self.subjects = set(subjects or [subject])
        self.run = run or [node]
        self.problems = sorted(problems, key=lambda p: SEVERITY_RANK[p.severity])
        self.severity = self.problems[0].severity if self.problems else None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        name = node.name if len(self.run) == 1 else f"{node.name} … {self.run[-1].name}"
        params = sum(n.params for n in self.run)
        lines = [
            f"{name}  ({node.keras_class})" + (f"  ×{len(self.run)}" if len(self.run) > 1 else ""),
            f"{node_label(node)}",
            f"output ({', '.join(['None', *map(str, node.shape)])})    {params:,} params",
        ]
        self.setToolTip("\n".join(lines + [f"{p.code}: {p.message}" for p in self.problems]))
        self.lines = lines
        self.title = name
        self.selected_look = False
        #: The last run's health of this block's layer (the worst of a collapsed run), or None.
        self.health: LayerHealthView | None = None

    def set_health(self, views: list[LayerHealthView]) -> None:
        """Show the worst of the layers' health: a dead/saturated badge first, else the smallest gradient."""
        if not views:
            return
        self.health = min(views, key=lambda v: (not v.badge, v.ratio if v.ratio is not None else math.inf))
        self.setToolTip(self.toolTip() + "\n" + self.health.tooltip())

    @property
    def badge(self) -> str:
        """The badge text: the most serious problem's code, and the count of the others."""
        if not self.problems:
            return ""
        more = len(self.problems) - 1
        return self.problems[0].code + (f" +{more}" if more else "")

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-BLOCK_W / 2 - 3, -BLOCK_H / 2 - 12, BLOCK_W + 12, BLOCK_H + 21)

    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        rect = QRectF(-BLOCK_W / 2, -BLOCK_H / 2, BLOCK_W, BLOCK_H)
        fill = OUTPUT_COLOR if self.node.role == "output" else KIND_COLORS.get(self.node.kind, "#f8fafc")
        if self.health is not None:
            fill = heat_color(self.health.ratio).name()
        border = QColor("#2563eb") if self.selected_look else QColor("#64748b")
        if self.severity in ("error", "warning") and not self.selected_look:
            border = QColor(SEVERITY_COLORS[self.severity])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if len(self.run) > 1:  # a stack of cards behind: several identical layers
            painter.setPen(QPen(QColor("#94a3b8"), 1.0))
            painter.setBrush(QBrush(QColor(fill)))
            for offset in (8.0, 4.0):
                painter.drawRoundedRect(rect.translated(offset, offset), 8, 8)
        painter.setPen(QPen(border, 3.0 if self.selected_look else 1.4))
        painter.setBrush(QBrush(QColor(fill)))
        painter.drawRoundedRect(rect, 8, 8)
        font = QFont(painter.font())
        font.setPointSizeF(9.5)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#0f172a"))
        painter.drawText(rect.adjusted(8, 4, -8, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         _elide(self.title, 24))
        if len(self.run) > 1:
            painter.drawText(rect.adjusted(8, 24, -8, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                             f"×{len(self.run)}")
        font.setBold(False)
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.drawText(rect.adjusted(8, 26, -8, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         _elide(node_label(self.node), 30 if len(self.run) == 1 else 24))
        painter.setPen(QColor("#475569"))
        shape = "(" + ", ".join(["None", *map(str, self.node.shape)]) + ")"
        painter.drawText(rect.adjusted(8, 0, -8, -5), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, shape)
        painter.drawText(rect.adjusted(8, 0, -8, -5), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                         f"{sum(n.params for n in self.run):,} p")
        if self.problems:
            font.setPointSizeF(7.5)
            font.setBold(True)
            painter.setFont(font)
            text = self.badge
            width = painter.fontMetrics().horizontalAdvance(text) + 12
            pill = QRectF(BLOCK_W / 2 - width + 4, -BLOCK_H / 2 - 9, width, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(SEVERITY_COLORS[self.severity or "info"]))
            painter.drawRoundedRect(pill, 8, 8)
            painter.setPen(QColor("white"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        if self.health is not None:
            paint_health(painter, rect, self.health)


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def arrow_path(start: QPointF, end: QPointF) -> tuple[QPainterPath, QPolygonF]:
    """A curve from the bottom of one block to the top of another, and its arrowhead."""
    tip = QPointF(end.x(), end.y() - 9)
    path = QPainterPath(start)
    if abs(start.x() - end.x()) < 1:
        path.lineTo(tip)
    else:
        mid = (start.y() + tip.y()) / 2
        path.cubicTo(QPointF(start.x(), mid), QPointF(tip.x(), mid), tip)
    head = QPolygonF([end, QPointF(end.x() - 5, end.y() - 9), QPointF(end.x() + 5, end.y() - 9)])
    return path, head


def wrap_arrow_path(start: QPointF, end: QPointF) -> tuple[QPainterPath, QPolygonF]:
    """From the bottom of one column to the top of the next: down, across the gap, up, across, down."""
    tip = QPointF(end.x(), end.y() - 9)
    gap_x = (start.x() + end.x()) / 2
    path = QPainterPath(start)
    for point in (QPointF(start.x(), start.y() + 14), QPointF(gap_x, start.y() + 14),
                  QPointF(gap_x, end.y() - 22), QPointF(end.x(), end.y() - 22), tip):
        path.lineTo(point)
    head = QPolygonF([end, QPointF(end.x() - 5, end.y() - 9), QPointF(end.x() + 5, end.y() - 9)])
    return path, head


def display_plan(plan: Plan, runs: dict[str, list[str]]) -> Plan:
    """The plan as drawn: each run of identical layers is its first node, and what followed the run follows it."""
    hidden = {name: names[0] for names in runs.values() for name in names[1:]}
    nodes = []
    for node in plan.nodes:
        if node.name in hidden:
            continue
        inputs = [hidden.get(source, source) for source in node.inputs]
        nodes.append(node if inputs == node.inputs else replace(node, inputs=inputs))
    return Plan(plan.name, plan.topology, nodes, list(plan.inputs), list(plan.outputs))


class NetworkCanvas(QGraphicsView):
    """The diagram of the document's plan; clicks select, selection highlights."""

    zoom_changed = Signal(float)

    def __init__(self, document: Document, parent: Any = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor("#f8fafc"))
        self.blocks: dict[str, BlockItem] = {}
        #: The blocks in the order the arrow keys walk them.
        self.order: list[BlockItem] = []
        self.error_note: QGraphicsSimpleTextItem | None = None
        self.collapse_repeats = True
        self.wrap_long = True
        self._key_cursor: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit_pending = True
        document.changed.connect(self.rebuild)
        document.selection_changed.connect(self.show_selection)
        self.scene().selectionChanged.connect(self._scene_selection)
        self._updating = False
        #: The last run's layer health, drawn on the blocks (see :meth:`set_health`).
        self.health: HealthModel | None = None
        self.rebuild()

    def set_health(self, model: HealthModel) -> None:
        """Colour the blocks by the layer health of ``model`` (redrawn whenever it changes)."""
        self.health = model
        model.changed.connect(self.rebuild)
        self.rebuild()

    # ----- drawing -------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Redraw the whole diagram from the document's plan (or the structure as far as it can be computed)."""
        self._updating = True
        scene = self.scene()
        scene.clear()
        self.blocks = {}
        self.order = []
        spec = self.document.spec
        plan = structure_plan(spec)
        if plan is None:
            errors = len(spec.errors)
            text = QGraphicsSimpleTextItem(
                "The diagram appears when the network's structure can be computed.\n"
                f"{errors} error{'s' if errors != 1 else ''}: see Problems (double-click one to go to it)."
            )
            text.setBrush(QColor("#475569"))
            scene.addItem(text)
            scene.setSceneRect(text.boundingRect().adjusted(-20, -20, 20, 20))
            self._updating = False
            return
        raw = self.document.raw if isinstance(self.document.raw, dict) else {}
        by_subject: dict[str, list[Any]] = {}
        for problem in spec.problems:
            by_subject.setdefault(problem_subject(problem.path, raw), []).append(problem)
        runs = collapse_runs(plan) if self.collapse_repeats else {}
        shown = display_plan(plan, runs)
        places = layout(shown, raw)
        positions = self._positions(shown, places)
        for node in shown.nodes:
            run = [plan.node(name) for name in runs.get(node.name, [node.name])]
            subjects = [subject_pointer(n.spec_path) for n in run]
            problems = [p for subject in dict.fromkeys(subjects)
                        if subject not in ("", "/network", "/training", "/data") for p in by_subject.get(subject, [])]
            block = BlockItem(node, subjects[0], problems, run, subjects)
            if self.health is not None:
                block.set_health([v for v in map(self.health.layer, (n.name for n in run)) if v is not None])
            block.setPos(positions[node.name])
            block.setZValue(1)
            scene.addItem(block)
            self.order.append(block)
            for member in run:
                self.blocks[member.name] = block
        pen = QPen(QColor("#64748b"), 1.5)
        for node in shown.nodes:
            for source in node.inputs:
                start = self.blocks[source].pos() + QPointF(0, BLOCK_H / 2)
                end = self.blocks[node.name].pos() - QPointF(0, BLOCK_H / 2)
                curve, head = (wrap_arrow_path if end.y() < start.y() else arrow_path)(start, end)
                item = QGraphicsPathItem(curve)
                item.setPen(pen)
                scene.addItem(item)
                tip = QGraphicsPolygonItem(head)
                tip.setPen(QPen(Qt.PenStyle.NoPen))
                tip.setBrush(QColor("#64748b"))
                scene.addItem(tip)
        self._add_lane_titles(shown)
        if self.health is not None and any(block.health is not None for block in self.order):
            advice = self.health.advice
            top = min(b.pos().y() for b in self.order) - BLOCK_H / 2 - legend_height(advice)
            top -= 60 if spec.errors else 20
            add_legend(scene, min(b.pos().x() for b in self.order) - BLOCK_W / 2, top, advice)
        if spec.errors:
            self._add_error_note(len(spec.errors))
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        self._updating = False
        self.show_selection(self.document.selection)
        if self._fit_pending:
            self.fit()

    def _positions(self, plan: Plan, places: dict[str, tuple[float, int]]) -> dict[str, QPointF]:
        """Scene positions: lanes side by side, ranks top to bottom; a long sequential network wraps into columns."""
        ranks = 1 + max((rank for _lane, rank in places.values()), default=0)
        if not self.wrap_long or plan.topology != "sequential" or ranks <= WRAP_RANKS:
            return {name: QPointF(lane * LANE_W, rank * RANK_H) for name, (lane, rank) in places.items()}
        per_column = max(6, math.ceil(math.sqrt(ranks * LANE_W / RANK_H)))
        step = BLOCK_W + COLUMN_GAP
        return {name: QPointF((rank // per_column) * step + lane * LANE_W, (rank % per_column) * RANK_H)
                for name, (lane, rank) in places.items()}

    def _add_error_note(self, errors: int) -> None:
        top = min((b.pos().y() for b in self.order), default=0.0)
        left = min((b.pos().x() for b in self.order), default=0.0)
        note = QGraphicsSimpleTextItem(f"{errors} error{'s' * (errors != 1)}: marked on the blocks; see Problems.")
        note.setBrush(QColor(SEVERITY_COLORS["error"]))
        note.setPos(left - BLOCK_W / 2, top - BLOCK_H / 2 - 48)
        self.error_note = note
        self.scene().addItem(note)

    def set_collapse_repeats(self, on: bool) -> None:
        """Draw runs of identical layers as one block (×N), or every layer."""
        self.collapse_repeats = bool(on)
        self._fit_pending = True
        self.rebuild()

    def set_wrap_long(self, on: bool) -> None:
        """Wrap a long sequential network into side-by-side columns, or draw one column."""
        self.wrap_long = bool(on)
        self._fit_pending = True
        self.rebuild()

    def _add_lane_titles(self, plan: Plan) -> None:
        if plan.topology != "wide_deep":
            return
        deep_nodes = [b for b in self.blocks.values() if b.node.role == "deep"]
        wide_nodes = [b for b in self.blocks.values() if b.node.kind == "input" and b.pos().x() < LANE_W * 0.4]
        for title, blocks in (("wide path", wide_nodes), ("deep path", deep_nodes)):
            if not blocks:
                continue
            top = min(blocks, key=lambda b: b.pos().y())
            label = QGraphicsSimpleTextItem(title)
            label.setBrush(QColor("#94a3b8"))
            font = label.font()
            font.setItalic(True)
            label.setFont(font)
            label.setPos(top.pos().x() - BLOCK_W / 2, top.pos().y() - BLOCK_H / 2 - 22)
            self.scene().addItem(label)

    # ----- selection -----------------------------------------------------------------------------
    def show_selection(self, ptr: str) -> None:
        """Highlight the blocks of the selected layer, input or output."""
        subject = subject_pointer(ptr)
        self._updating = True
        for block in self.order:
            look = bool(subject) and subject in block.subjects
            block.selected_look = look
            block.setSelected(look)
            block.update()
        self._updating = False
        first = next((b for b in self.order if b.selected_look), None)
        if first is not None:
            self.ensureVisible(first, 30, 30)

    def _scene_selection(self) -> None:
        if self._updating:
            return
        chosen = [item for item in self.scene().selectedItems() if isinstance(item, BlockItem)]
        current = subject_pointer(self.document.selection)
        fresh = [item for item in chosen if current not in item.subjects]
        if fresh:
            self.document.select(fresh[0].subject)

    def block_for(self, ptr: str) -> BlockItem | None:
        """The first block that belongs to a pointer's subject."""
        subject = subject_pointer(ptr)
        return next((b for b in self.order if subject in b.subjects), None)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Arrow keys walk the blocks in build order (Down/Right: next; Up/Left: previous; Home/End)."""
        steps = {Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1}
        key = event.key()
        if key in steps or key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            if self.order:
                current = next((i for i, b in enumerate(self.order) if b.selected_look), None)
                cursor = self._key_cursor
                if cursor is not None and cursor < len(self.order) and not self.order[cursor].subject:
                    current = cursor  # a block with nothing to select (the concatenation) keeps the place
                if key == Qt.Key.Key_Home:
                    index = 0
                elif key == Qt.Key.Key_End:
                    index = len(self.order) - 1
                elif current is None:
                    index = 0 if steps[key] > 0 else len(self.order) - 1
                else:
                    # Step to the next block that selects something else: an input's standardization block
                    # selects the input itself, so the walk passes over it.
                    index, subject = current, self.order[current].subject
                    while True:
                        index = max(0, min(len(self.order) - 1, index + steps[key]))
                        if not subject or self.order[index].subject != subject or index in (0, len(self.order) - 1):
                            break
                block = self.order[index]
                self._key_cursor = index
                if block.subject:
                    self.document.select(block.subject)
                self.ensureVisible(block, 30, 30)
            event.accept()
            return
        super().keyPressEvent(event)

    # ----- zoom and export -----------------------------------------------------------------------
    def wheelEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            event.accept()
        else:
            super().wheelEvent(event)

    def zoom(self, factor: float) -> None:
        """Zoom by a factor (kept between 10% and 400%)."""
        current = self.transform().m11()
        factor = max(0.1 / current, min(4.0 / current, factor))
        self.scale(factor, factor)
        self._fit_pending = False
        self.zoom_changed.emit(self.transform().m11())

    def reset_zoom(self) -> None:
        self.resetTransform()
        self._fit_pending = False
        self.zoom_changed.emit(1.0)

    def fit(self) -> None:
        """Fit the whole diagram in the view (never enlarging beyond 100%)."""
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
        self._fit_pending = True
        self.zoom_changed.emit(self.transform().m11())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fit_pending:
            self.fit()

    def export_png(self, path: str | Path, scale: float = 2.0) -> None:
        """Render the diagram to a PNG file."""
        rect = self.scene().sceneRect()
        image = QImage(QSize(max(1, math.ceil(rect.width() * scale)), max(1, math.ceil(rect.height() * scale))),
                       QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._render_clean(painter, QRectF(image.rect()), rect)
        painter.end()
        if not image.save(str(path), "PNG"):
            raise OSError(f"Cannot write the image {path}")

    def export_svg(self, path: str | Path) -> None:
        """Render the diagram to an SVG file (QtSvg, part of PySide6-Essentials)."""
        rect = self.scene().sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(math.ceil(rect.width()), math.ceil(rect.height())))
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle(self.document.display_name)
        painter = QPainter()
        if not painter.begin(generator):
            raise OSError(f"Cannot write the SVG file {path}")
        self._render_clean(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        painter.end()
        if not Path(path).is_file():
            raise OSError(f"Cannot write the SVG file {path}")

    def _render_clean(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        selected = [b for b in self.order if b.selected_look]
        for block in selected:
            block.selected_look = False
        self.scene().clearSelection()
        self.scene().render(painter, target, source)
        for block in selected:
            block.selected_look = True
            block.setSelected(True)
