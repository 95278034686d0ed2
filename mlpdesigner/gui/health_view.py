"""Layer health in the designer: the last run's figures on the diagram and in the inspector.

:class:`HealthModel` follows the training view's runs: ``health`` events while a
run trains (through the run's ``event`` signal, the same one the training view
reads), then the run folder's ``health.json`` and the advice computed from it
(:func:`mlpdesigner.train.health.health_advice`) when the run ends. The last
run's health stays shown until the next run starts. Editing the design clears
the figures of each layer whose own settings, position or input changed since
the run (they no longer describe that layer); the others stay.

The canvas colours each dense block by its gradient norm relative to the
largest layer's (:func:`heat_color`) and adds a badge for dead or saturated
units; the inspector shows a sparkline of the selected layer's gradient norm
over the epochs, its latest figures and the advice with its fix.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..errors import UserError
from ..spec import load_spec
from ..spec.plan import Plan
from ..spec.problems import CODES, Problem
from ..train.health import VANISHING_RATIO, advice_for_layer, health_advice, health_layers, read_health
from .document import Document

#: Gradient ratios (to the largest layer's) at the cold and hot ends of the heat scale.
HEAT_COLD, HEAT_HOT = 1e-6, 1.0
#: Heat scale stops: cold (a gradient that vanished), lukewarm, hot (the largest).
HEAT_STOPS = ((0.0, (147, 197, 253)), (0.5, (196, 181, 253)), (0.75, (253, 230, 138)), (1.0, (253, 186, 116)))
DEAD_COLOR, SATURATED_COLOR = "#b91c1c", "#c2410c"


def heat_color(ratio: float | None) -> QColor:
    """The heat-scale colour of a gradient ratio (log scale from :data:`HEAT_COLD` to :data:`HEAT_HOT`)."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        t = 0.0
    else:
        t = (math.log10(ratio) - math.log10(HEAT_COLD)) / (math.log10(HEAT_HOT) - math.log10(HEAT_COLD))
        t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(HEAT_STOPS, HEAT_STOPS[1:]):
        if t <= t1:
            share = (t - t0) / (t1 - t0)
            return QColor(*(round(a + (b - a) * share) for a, b in zip(c0, c1)))
    return QColor(*HEAT_STOPS[-1][1])


def _times(ratio: float) -> str:
    return f"{ratio:.2g}×" if ratio >= 0.01 else f"{ratio:.0e}×".replace("e-0", "e-")


@dataclass
class LayerHealthView:
    """What the designer shows for one layer: the last record's figures, the series, and the advice."""

    name: str
    activation: str
    ratio: float | None  #: gradient norm / the largest layer's, in the last record
    grad_series: list[float | None]
    figures: dict[str, Any]
    advice: list[Problem] = field(default_factory=list)

    @property
    def dead(self) -> float | None:
        return self.figures.get("dead")

    @property
    def saturated(self) -> float | None:
        return self.figures.get("saturated")

    @property
    def badge(self) -> str:
        """``dead 100%`` / ``sat 75%`` when a quarter or more of the units are; else empty."""
        if self.dead is not None and self.dead >= 0.25:
            return f"dead {self.dead:.0%}"
        if self.saturated is not None and self.saturated >= 0.25:
            return f"sat {self.saturated:.0%}"
        return ""

    def sentence(self) -> str:
        """One sentence on what the figures mean and what to try."""
        if self.dead is not None and self.dead >= 0.25:
            return (f"{self.dead:.0%} of its ReLU units output zero for every row and no longer learn (dead ReLUs): "
                    "try He initialization, LeakyReLU or a lower learning rate.")
        if self.saturated is not None and self.saturated >= 0.25:
            return (f"{self.saturated:.0%} of its {self.activation} units sit at a limit, where the gradient is "
                    "almost zero (saturation): try batch normalization before the activation, or ReLU/ELU.")
        if self.ratio is not None and self.ratio < VANISHING_RATIO:
            return (f"It receives gradients {_times(self.ratio)} the largest layer's, so it barely learns "
                    "(vanishing gradients): try He initialization with ReLU/ELU, or batch normalization.")
        if any(p.code == "H602" for p in self.advice):
            return ("The gradients grew very large (exploding gradients): "
                    "lower the learning rate or clip the gradients.")
        shown = "the largest" if self.ratio is not None and self.ratio >= 0.999 else (
            f"{_times(self.ratio)} the largest layer's" if self.ratio is not None else "not measured")
        return f"Healthy: its gradient is {shown}, and its units are alive."

    def tooltip(self) -> str:
        text = f"Layer health: {self.sentence()}"
        for problem in self.advice:
            text += f"\n{problem.code}: {problem.fix_title or problem.message}"
            text += " — select the layer: the inspector offers the fix." if problem.fix else ""
        return text


class HealthModel(QObject):
    """The last run's layer health for the designer (see the module docstring)."""

    changed = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.layers: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.advice: list[Problem] = []
        self.run_dir: Path | None = None
        self.running = False
        self.stale: set[str] = set()
        self._signatures: dict[str, Any] = {}
        document.changed.connect(self._document_changed)

    # ----- input ---------------------------------------------------------------------------------
    def watch(self, train_view: Any) -> None:
        """Follow the runs the training view starts (their events) and ends (their run folder)."""
        train_view.run_started.connect(self.run_started)
        train_view.run_finished.connect(self.run_finished)

    def run_started(self, run: Any) -> None:
        """A new run: forget the last one's figures; read this one's ``health`` events."""
        plan = self.document.spec.plan
        self.layers = [layer.to_json() for layer in health_layers(plan)] if plan is not None else []
        self._signatures = layer_signatures(plan)
        self.records, self.advice, self.stale = [], [], set()
        self.run_dir, self.running = None, True
        run.event.connect(self.on_event)
        self.changed.emit()

    def on_event(self, event: dict[str, Any]) -> None:
        """One event of the running child (only ``health`` events matter here)."""
        if event.get("event") == "health" and isinstance(event.get("layers"), dict):
            self.records.append({k: v for k, v in event.items() if k != "event"})
            self.changed.emit()

    def run_finished(self, state: Any) -> None:
        """The run ended: its ``health.json`` (complete, with the layers' places) and the advice from it."""
        self.running = False
        self.run_dir = state.run_dir
        if state.run_dir is not None:
            self.load_run(Path(state.run_dir), keep_signatures=True)
        else:
            self.changed.emit()

    def load_run(self, run_dir: Path, *, keep_signatures: bool = False) -> bool:
        """Show the health recorded in a run folder; False when it has none (or it cannot be read)."""
        try:
            document = read_health(run_dir)
        except UserError:
            document = None
        if document is None:
            self.changed.emit()
            return False
        self.run_dir = run_dir
        self.layers, self.records = document["layers"], document["epochs"]
        if not keep_signatures:
            try:
                frozen = load_spec(json.loads((run_dir / "spec.json").read_text("utf-8")))
                self._signatures = layer_signatures(frozen.plan)
            except (OSError, ValueError, UserError):
                self._signatures = {}
        self.advice = health_advice(document, self._current_spec())
        self._document_changed()
        return True

    def _current_spec(self) -> Any:
        spec = self.document.spec
        return spec if spec.plan is not None else None

    def _document_changed(self) -> None:
        if not self.records:  # nothing shown: no second redraw of the diagram
            return
        plan = self.document.spec.plan
        now = layer_signatures(plan)
        self.stale = {name for name, signature in self._signatures.items() if now.get(name) != signature}
        if self.records and not self.running:  # the fixes are patches on the design as it is now
            document = {"layers": self.layers, "epochs": self.records}
            self.advice = health_advice(document, self._current_spec()) if plan is not None else []
        self.changed.emit()

    # ----- output --------------------------------------------------------------------------------
    @property
    def shown(self) -> bool:
        return bool(self.records)

    def layer(self, name: str) -> LayerHealthView | None:
        """What to show for one layer (by Keras name); None when nothing (current) was recorded for it."""
        if name in self.stale or not self.records:
            return None
        meta = next((layer for layer in self.layers if layer.get("name") == name), None)
        last = self.records[-1].get("layers", {})
        if meta is None or name not in last:
            return None
        norms = [f.get("grad_norm") for f in last.values() if isinstance(f, dict) and f.get("grad_norm")]
        largest = max(norms, default=None)
        grad = last[name].get("grad_norm")
        ratio = grad / largest if largest and grad is not None else None
        series = [(record.get("layers", {}).get(name) or {}).get("grad_norm") for record in self.records]
        return LayerHealthView(name, str(meta.get("activation")), ratio, series, dict(last[name]),
                               advice_for_layer(self.advice, name))

    def layer_for_subject(self, subject: str) -> LayerHealthView | None:
        """The health of the layer a selection pointer names (a dense layer, or the activation layer after it).

        A repeated dense layer shows its worst copy, as its block on the diagram does.
        """
        views = []
        for meta in self.layers:
            paths = (meta.get("spec_path"), str(meta.get("activation_path", "")).rsplit("/", 1)[0])
            if subject and subject in paths:
                view = self.layer(str(meta.get("name")))
                if view is not None:
                    views.append(view)
        return min(views, key=lambda v: (not v.badge, v.ratio if v.ratio is not None else math.inf), default=None)


def layer_signatures(plan: Plan | None) -> dict[str, Any]:
    """Per layer name, what its health depends on: kind, settings, place in the spec and inputs."""
    if plan is None:
        return {}
    return {node.name: (node.kind, json.dumps(node.config, sort_keys=True, default=str), node.spec_path,
                        tuple(node.inputs), node.shape) for node in plan.nodes}


class Sparkline(QWidget):
    """A small line of values over the epochs (log scale when they span orders of magnitude)."""

    def __init__(self, values: list[float | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = values
        self.setMinimumHeight(44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        finite = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
        self.log = bool(finite) and max(finite) / min(finite) > 100

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(180, 44)

    def points(self) -> list[QPointF]:
        """The line's points in widget coordinates (one per epoch with a value)."""
        rect = QRectF(self.rect()).adjusted(3, 4, -3, -4)
        usable = [(i, v) for i, v in enumerate(self.values) if v is not None and math.isfinite(v)
                  and (v > 0 or not self.log)]
        if not usable:
            return []
        ys = [math.log10(v) if self.log else v for _, v in usable]
        low, high = min(ys), max(ys)
        span = high - low or 1.0
        count = max(1, len(self.values) - 1)
        return [QPointF(rect.left() + rect.width() * i / count, rect.bottom() - rect.height() * (y - low) / span)
                for (i, _), y in zip(usable, ys)]

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#f8fafc"))
        points = self.points()
        if not points:
            return
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.setPen(QPen(QColor("#2563eb"), 1.6))
        painter.drawPath(path)
        painter.setBrush(QColor("#2563eb"))
        painter.drawEllipse(points[-1], 2.5, 2.5)


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3g}"


def health_section(model: HealthModel | None, subject: str, document: Document) -> QWidget | None:
    """The inspector's Layer health box for the selected layer, or None when there is nothing to show."""
    view = model.layer_for_subject(subject) if model is not None else None
    if view is None:
        return None
    box = QWidget()
    box.setObjectName("layer_health")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 8, 0, 0)
    epochs = len(view.grad_series) - 1
    where = f"{model.run_dir.name}, " if model is not None and model.run_dir else ""
    title = QLabel(f"<b>Layer health</b> <span style='color:#64748b'>({where}epoch {epochs}"
                   f"{', training' if model is not None and model.running else ''})</span>")
    title.setWordWrap(True)
    layout.addWidget(title)
    ends = [v for v in view.grad_series if v is not None]
    caption = QLabel("Gradient norm per epoch" + (" (log scale)" if Sparkline(view.grad_series).log else "")
                     + (f": {_fmt(ends[0])} → {_fmt(ends[-1])}" if ends else ""))
    caption.setWordWrap(True)
    caption.setStyleSheet("color:#475569;")
    layout.addWidget(caption)
    spark = Sparkline(view.grad_series, box)
    spark.setObjectName("health_sparkline")
    spark.setToolTip(" → ".join(_fmt(v) for v in view.grad_series))
    layout.addWidget(spark)
    f = view.figures
    lines = [f"gradient {_fmt(f.get('grad_norm'))} ({_times(view.ratio) if view.ratio else '—'} the largest)",
             f"weights {_fmt(f.get('weight_norm'))}, update ratio {_fmt(f.get('update_ratio'))}",
             f"activation mean {_fmt(f.get('act_mean'))}, std {_fmt(f.get('act_std'))}"]
    if view.dead is not None:
        lines.append(f"dead units {view.dead:.0%}")
    if view.saturated is not None:
        lines.append(f"saturated units {view.saturated:.0%}")
    figures = QLabel("\n".join(lines))
    figures.setWordWrap(True)
    figures.setObjectName("health_figures")
    layout.addWidget(figures)
    sentence = QLabel(view.sentence())
    sentence.setObjectName("health_sentence")
    sentence.setWordWrap(True)
    sentence.setStyleSheet("color:#b45309;" if view.advice or view.badge else "color:#15803d;")
    layout.addWidget(sentence)
    for problem in view.advice:
        note = QLabel(f"{problem.code}: {problem.message}" + (f"\nFix: {problem.fix_title}." if problem.fix else ""))
        note.setWordWrap(True)
        layout.addWidget(note)
        if problem.fix and document.editable:
            button = QPushButton(f"Apply fix ({problem.code})")
            button.setObjectName(f"health_fix_{problem.code}")
            button.setToolTip(f"{problem.fix_title} (undoable)")
            fix, label = list(problem.fix), f"Apply fix: {problem.fix_title or problem.code}"
            button.clicked.connect(lambda _checked=False, fix=fix, label=label: document.apply(fix, label))
            layout.addWidget(button)
    return box


def paint_health(painter: QPainter, rect: QRectF, view: LayerHealthView) -> None:
    """Draw a block's heat band (left edge) and its dead/saturated badge (top left)."""
    band = QRectF(rect.left(), rect.top(), 9, rect.height())
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(heat_color(view.ratio).darker(125))
    painter.drawRoundedRect(band, 4, 4)
    badge = view.badge
    if badge:
        font = painter.font()
        font.setPointSizeF(7.5)
        font.setBold(True)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(badge) + 12
        pill = QRectF(rect.left() - 4, rect.top() - 9, width, 16)
        painter.setBrush(QColor(DEAD_COLOR if badge.startswith("dead") else SATURATED_COLOR))
        painter.drawRoundedRect(pill, 8, 8)
        painter.setPen(QColor("white"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, badge)


def legend_height(advice: list[Problem]) -> float:
    """The height :func:`add_legend` takes."""
    return 40.0 + 18.0 * min(len(advice), 3)


def add_legend(scene: Any, left: float, top: float, advice: list[Problem] | None = None) -> None:
    """A small key to the heat scale above the diagram (gradient norm relative to the largest layer's),
    and one line per piece of the run's health advice (the first three)."""
    from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem

    title = QGraphicsSimpleTextItem("Last run: gradient norm relative to the largest layer's")
    title.setBrush(QColor("#475569"))
    title.setPos(left, top)
    scene.addItem(title)
    x = left
    for ratio, label in ((1e-6, "1e-6"), (1e-4, "1e-4"), (1e-2, "0.01"), (1.0, "1")):
        swatch = QGraphicsRectItem(x, top + 20, 14, 12)
        swatch.setBrush(heat_color(ratio))
        swatch.setPen(QPen(QColor("#64748b"), 0.8))
        scene.addItem(swatch)
        text = QGraphicsSimpleTextItem(label)
        text.setBrush(QColor("#475569"))
        text.setPos(x + 18, top + 18)
        scene.addItem(text)
        x += 62
    shown = (advice or [])[:3]
    for index, problem in enumerate(shown):
        last = index == len(shown) - 1
        line = QGraphicsSimpleTextItem(f"{problem.code} {CODES.get(problem.code, '')}" + (": see the layers" * last))
        line.setBrush(QColor("#b45309"))
        line.setPos(left, top + 40 + 18 * index)
        scene.addItem(line)
