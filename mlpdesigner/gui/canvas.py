"""The network canvas: one block per layer of the plan, arrows between them."""

from __future__ import annotations

import math
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

from ..spec.operations import subject_pointer
from ..spec.plan import Node, Plan
from .document import Document

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


class BlockItem(QGraphicsItem):
    """One layer (or input, output, concatenation) as a rounded block."""

    def __init__(self, node: Node, subject: str, severity: str | None, messages: list[str]) -> None:
        super().__init__()
        self.node = node
        self.subject = subject
        self.severity = severity
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        lines = [
            f"{node.name}  ({node.keras_class})",
            f"{node_label(node)}",
            f"output ({', '.join(['None', *map(str, node.shape)])})    {node.params:,} params",
        ]
        self.setToolTip("\n".join(lines + messages))
        self.lines = lines
        self.selected_look = False

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-BLOCK_W / 2 - 3, -BLOCK_H / 2 - 3, BLOCK_W + 6, BLOCK_H + 6)

    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        rect = QRectF(-BLOCK_W / 2, -BLOCK_H / 2, BLOCK_W, BLOCK_H)
        fill = OUTPUT_COLOR if self.node.role == "output" else KIND_COLORS.get(self.node.kind, "#f8fafc")
        border = QColor("#2563eb") if self.selected_look else QColor("#64748b")
        if self.severity in ("error", "warning") and not self.selected_look:
            border = QColor(SEVERITY_COLORS[self.severity])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border, 3.0 if self.selected_look else 1.4))
        painter.setBrush(QBrush(QColor(fill)))
        painter.drawRoundedRect(rect, 8, 8)
        font = QFont(painter.font())
        font.setPointSizeF(9.5)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#0f172a"))
        painter.drawText(rect.adjusted(8, 4, -8, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         _elide(self.node.name, 24))
        font.setBold(False)
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.drawText(rect.adjusted(8, 26, -8, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         _elide(node_label(self.node), 30))
        painter.setPen(QColor("#475569"))
        shape = "(" + ", ".join(["None", *map(str, self.node.shape)]) + ")"
        painter.drawText(rect.adjusted(8, 0, -8, -5), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, shape)
        painter.drawText(rect.adjusted(8, 0, -8, -5), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                         f"{self.node.params:,} p")
        if self.severity:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(SEVERITY_COLORS[self.severity]))
            painter.drawEllipse(QPointF(BLOCK_W / 2 - 10, -BLOCK_H / 2 + 10), 5, 5)


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
        self._fit_pending = True
        document.changed.connect(self.rebuild)
        document.selection_changed.connect(self.show_selection)
        self.scene().selectionChanged.connect(self._scene_selection)
        self._updating = False
        self.rebuild()

    # ----- drawing -------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Redraw the whole diagram from the document's plan."""
        self._updating = True
        scene = self.scene()
        scene.clear()
        self.blocks = {}
        spec = self.document.spec
        plan = spec.plan
        if plan is None:
            errors = len(spec.errors)
            text = QGraphicsSimpleTextItem(
                "The diagram appears when the design has no errors.\n"
                f"{errors} error{'s' if errors != 1 else ''}: see Problems (double-click one to go to it)."
            )
            text.setBrush(QColor("#475569"))
            scene.addItem(text)
            scene.setSceneRect(text.boundingRect().adjusted(-20, -20, 20, 20))
            self._updating = False
            return
        by_subject: dict[str, list[Any]] = {}
        for problem in spec.problems:
            by_subject.setdefault(subject_pointer(problem.path), []).append(problem)
        places = layout(plan, self.document.raw)
        for node in plan.nodes:
            subject = subject_pointer(node.spec_path)
            problems = by_subject.get(subject, []) if subject not in ("", "/network", "/training", "/data") else []
            severity = None
            for level in ("info", "warning", "error"):
                if any(p.severity == level for p in problems):
                    severity = level
            block = BlockItem(node, subject, severity, [f"{p.code}: {p.message}" for p in problems])
            lane, rank = places[node.name]
            block.setPos(lane * LANE_W, rank * RANK_H)
            block.setZValue(1)
            scene.addItem(block)
            self.blocks[node.name] = block
        pen = QPen(QColor("#64748b"), 1.5)
        for node in plan.nodes:
            for source in node.inputs:
                start = self.blocks[source].pos() + QPointF(0, BLOCK_H / 2)
                end = self.blocks[node.name].pos() - QPointF(0, BLOCK_H / 2)
                curve, head = arrow_path(start, end)
                item = QGraphicsPathItem(curve)
                item.setPen(pen)
                scene.addItem(item)
                tip = QGraphicsPolygonItem(head)
                tip.setPen(QPen(Qt.PenStyle.NoPen))
                tip.setBrush(QColor("#64748b"))
                scene.addItem(tip)
        self._add_lane_titles(plan)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        self._updating = False
        self.show_selection(self.document.selection)
        if self._fit_pending:
            self.fit()

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
        for block in self.blocks.values():
            look = bool(subject) and block.subject == subject
            block.selected_look = look
            block.setSelected(look)
            block.update()
        self._updating = False
        first = next((b for b in self.blocks.values() if b.selected_look), None)
        if first is not None:
            self.ensureVisible(first, 30, 30)

    def _scene_selection(self) -> None:
        if self._updating:
            return
        chosen = [item for item in self.scene().selectedItems() if isinstance(item, BlockItem)]
        current = subject_pointer(self.document.selection)
        fresh = [item for item in chosen if item.subject != current]
        if fresh:
            self.document.select(fresh[0].subject)

    def block_for(self, ptr: str) -> BlockItem | None:
        """The first block that belongs to a pointer's subject."""
        subject = subject_pointer(ptr)
        return next((b for b in self.blocks.values() if b.subject == subject), None)

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
        selected = [b for b in self.blocks.values() if b.selected_look]
        for block in selected:
            block.selected_look = False
        self.scene().clearSelection()
        self.scene().render(painter, target, source)
        for block in selected:
            block.selected_look = True
            block.setSelected(True)
