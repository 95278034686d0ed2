"""Pictures of the evaluation views (matplotlib, Agg backend, imported inside the drawing functions).

One figure per output, saved as PNG and SVG beside ``evaluation.json``:
classification outputs get the confusion matrix (row-normalized colours,
counts written in), ROC and precision-recall curves with their areas, and the
reliability curve; multilabel outputs show per-label precision/recall/F1 in
place of a matrix; regression outputs get, per unit (the first
:data:`MAX_UNITS`), predicted vs actual, residuals vs predicted and the
residual histogram. Also the training curves of a run (for the report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes

#: Curves drawn per panel (ROC/PR of a multiclass output with more classes show the first ones).
MAX_CURVES = 10
#: Class count up to which the confusion matrix has its counts written in.
ANNOTATED_CLASSES = 12
#: Regression units drawn per output.
MAX_UNITS = 4
DPI = 100
#: Metrics drawn in the training curves (the rest are in history.csv).
MAX_CURVE_PANELS = 9


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _save(figure: Any, run_dir: Path, stem: str) -> dict[str, str]:
    import io

    plt = _pyplot()
    files = {}
    try:
        (run_dir / stem).parent.mkdir(exist_ok=True)
        for kind in ("png", "svg"):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=kind, dpi=DPI, metadata={"Date": None} if kind == "svg" else None)
            atomic_write_bytes(run_dir / f"{stem}.{kind}", buffer.getvalue())
            files[kind] = f"{stem}.{kind}"
    finally:
        plt.close(figure)
    return files


def _confusion_panel(ax: Any, view: dict[str, Any]) -> None:
    import numpy as np

    counts = np.asarray(view["confusion"]["counts"])
    normalized = np.asarray(view["confusion"]["normalized"])
    labels = [_short(c, 12) for c in view["classes"]]
    image = ax.imshow(normalized, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    k = len(labels)
    if k <= ANNOTATED_CLASSES:
        for t in range(k):
            for p in range(k):
                ax.text(p, t, f"{counts[t, p]}\n{normalized[t, p]:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if normalized[t, p] > 0.5 else "black")
        ax.set_xticks(range(k), labels, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
        ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (accuracy {view['accuracy']:.3f})" if view.get("accuracy") is not None
                 else "Confusion matrix")


def _scores_panel(ax: Any, view: dict[str, Any]) -> None:
    import numpy as np

    rows = view["per_class"][:MAX_CURVES * 2]
    x = np.arange(len(rows))
    for i, key in enumerate(("precision", "recall", "f1")):
        ax.bar(x + (i - 1) * 0.27, [r[key] or 0.0 for r in rows], width=0.27, label=key)
    ax.set_xticks(x, [_short(r["class"], 12) for r in rows], rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("Per label (threshold 0.5)")


def _curves_panel(ax: Any, curves: dict[str, Any], x_key: str, y_key: str, area_key: str, area_name: str) -> None:
    for label, curve in list(curves.items())[:MAX_CURVES]:
        if not curve[x_key]:
            continue
        area = curve.get(area_key)
        text = f"{area_name} {area:.3f}" if area is not None else f"{area_name} -"
        ax.plot(curve[x_key], curve[y_key], drawstyle="steps-post" if x_key == "recall" else "default",
                label=f"{_short(label)} ({text})" if len(curves) > 1 else text)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="lower right" if x_key == "fpr" else "lower left")


def _classification(view: dict[str, Any], name: str) -> Any:
    plt = _pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(10, 8.5))
    if view["task"] == "multilabel":
        _scores_panel(axes[0, 0], view)
    else:
        _confusion_panel(axes[0, 0], view)
    roc = axes[0, 1]
    roc.plot([0, 1], [0, 1], color="#9ca3af", linestyle="--", linewidth=1)
    _curves_panel(roc, view["roc"], "fpr", "tpr", "auc", "AUC")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate")
    roc.set_title("ROC" + (" (one vs rest)" if view["task"] == "multiclass" else ""))
    pr = axes[1, 0]
    _curves_panel(pr, view["pr"], "recall", "precision", "average_precision", "AP")
    pr.set_xlabel("recall")
    pr.set_ylabel("precision")
    pr.set_title("Precision-recall")
    cal = axes[1, 1]
    reliability = view["calibration"]
    cal.plot([0, 1], [0, 1], color="#9ca3af", linestyle="--", linewidth=1, label="perfectly calibrated")
    points = [(p, o) for p, o in zip(reliability["mean_predicted"], reliability["observed"]) if p is not None]
    if points:
        cal.plot([p for p, _ in points], [o for _, o in points], marker="o", label="model")
    cal.set_xlim(-0.02, 1.02)
    cal.set_ylim(-0.02, 1.02)
    cal.set_xlabel(f"predicted ({reliability.get('of', 'probability')})")
    cal.set_ylabel("observed frequency")
    brier = reliability.get("brier")
    cal.set_title("Reliability" + (f" (Brier {brier:.3f}, ECE {reliability['ece']:.3f})" if brier is not None else ""))
    cal.legend(fontsize=8, loc="upper left")
    figure.suptitle(f"{name}: {view['task']}, {view['rows']} rows")
    figure.tight_layout()
    return figure


def _regression(view: dict[str, Any], name: str) -> Any:
    plt = _pyplot()
    units = view["units"][:MAX_UNITS]
    figure, axes = plt.subplots(len(units), 3, figsize=(13, 3.8 * len(units)), squeeze=False)
    for u, unit in enumerate(units):
        actual, predicted = unit["actual"], unit["predicted"]
        residual = [a - p for a, p in zip(actual, predicted)]
        label = f"{name}[{u}]" if len(view["units"]) > 1 else name
        ax = axes[u, 0]
        ax.scatter(actual, predicted, s=8, alpha=0.5, rasterized=True)
        if actual:
            low, high = min(min(actual), min(predicted)), max(max(actual), max(predicted))
            ax.plot([low, high], [low, high], color="#9ca3af", linestyle="--", linewidth=1)
        r2 = unit.get("r2")
        ax.set_title(f"{label}: predicted vs actual" + (f" (R² {r2:.3f})" if r2 is not None else ""))
        ax.set_xlabel("actual")
        ax.set_ylabel("predicted")
        ax = axes[u, 1]
        ax.scatter(predicted, residual, s=8, alpha=0.5, rasterized=True)
        ax.axhline(0.0, color="#9ca3af", linestyle="--", linewidth=1)
        ax.set_title(f"Residuals (MAE {unit['mae']:.4g}, RMSE {unit['rmse']:.4g})" if unit["mae"] is not None
                     else "Residuals")
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual - predicted")
        ax = axes[u, 2]
        histogram = unit["histogram"]
        if histogram["counts"]:
            edges = histogram["edges"]
            ax.stairs(histogram["counts"], edges, fill=True, alpha=0.7)
        ax.set_title("Residual histogram")
        ax.set_xlabel("actual - predicted")
        ax.set_ylabel("rows")
    shown = f" (first {MAX_UNITS} of {len(view['units'])} units)" if len(view["units"]) > MAX_UNITS else ""
    figure.suptitle(f"{name}: regression, {view['rows']} rows" + (f", {view['sampled_rows']} plotted"
                    if view["sampled_rows"] < view["rows"] else "") + shown)
    figure.tight_layout()
    return figure


def draw_all(views: dict[str, Any], run_dir: Path) -> dict[str, dict[str, str]]:
    """Draw and save one figure per output; returns output name -> {"png": file, "svg": file}."""
    from . import figure_stem

    files = {}
    for name, view in views.items():
        figure = _regression(view, name) if view["task"] == "regression" else _classification(view, name)
        files[name] = _save(figure, run_dir, figure_stem(name))
    return files


def training_curves(history: dict[str, list[float | None]]) -> tuple[bytes, bytes] | None:
    """The training curves of a run (one panel per metric, training and validation) as (PNG, SVG); None if empty."""
    import io

    epochs = history.get("epoch") or []
    bases = [k for k in history if k != "epoch" and not k.startswith("val_") and k not in ("lr", "learning_rate")]
    if not epochs or not bases:
        return None
    bases = sorted(bases, key=lambda key: key != "loss")[:MAX_CURVE_PANELS]  # the total loss first
    plt = _pyplot()
    columns = min(3, len(bases))
    rows = -(-len(bases) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.3 * columns, 3.3 * rows), squeeze=False)
    for ax, base in zip(axes.flat, bases):
        for key, colour in ((base, "#2563eb"), (f"val_{base}", "#ea580c")):
            values = history.get(key)
            if values:
                points = [(e, v) for e, v in zip(epochs, values) if e is not None and v is not None]
                ax.plot([e for e, _ in points], [v for _, v in points], color=colour,
                        label="validation" if key.startswith("val_") else "training")
        ax.set_title(_short(base, 40))
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(bases):]:
        ax.set_visible(False)
    figure.tight_layout()
    out = []
    try:
        for kind in ("png", "svg"):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=kind, dpi=DPI, metadata={"Date": None} if kind == "svg" else None)
            out.append(buffer.getvalue())
    finally:
        plt.close(figure)
    return out[0], out[1]
