"""The numbers behind the evaluation views, from true targets and predictions (NumPy only).

Classification outputs take predicted probabilities (what the model's sigmoid
or softmax head gives); regression outputs take predicted values in the
target's units. Everything returned is plain JSON (lists, floats, None for
an undefined value such as the AUC of a split holding one class only).

- :func:`confusion` -- counts and row-normalized rates (rows: true class).
- :func:`per_class_scores` -- precision, recall, F1 and support per class.
- :func:`roc_curve` / :func:`pr_curve` -- the curves over every distinct
  score as threshold, with the area under the ROC curve (trapezoids; ties
  count half, as in scikit-learn's ``roc_auc_score``) and the average
  precision (scikit-learn's ``average_precision_score``).
- :func:`calibration` -- reliability curve in equal-width bins, Brier score
  and expected calibration error.
- :func:`regression_summary` -- MAE, RMSE and R² per unit, predicted-vs-actual
  points (a seeded subsample of at most :data:`MAX_POINTS`) and the residual
  histogram over all rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Rows of a regression scatter kept for the pictures and evaluation.json (the errors use every row).
MAX_POINTS = 2000
#: Points of a ROC or PR curve kept (the areas use every point).
CURVE_POINTS = 500
#: Bins of the reliability curve.
CALIBRATION_BINS = 10
#: Bins of the residual histogram.
HISTOGRAM_BINS = 30


def _float(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _thin(*columns: np.ndarray, limit: int = CURVE_POINTS) -> list[list[float]]:
    """Evenly spaced points of a curve (first and last kept) as JSON lists."""
    size = len(columns[0])
    if size > limit:
        keep = np.unique(np.linspace(0, size - 1, limit).round().astype(np.int64))
        columns = tuple(c[keep] for c in columns)
    return [[float(v) for v in c] for c in columns]


# --------------------------------------------------------------------------- classification


def confusion(true_index: np.ndarray, predicted_index: np.ndarray, classes: int) -> dict[str, Any]:
    """Confusion matrix: ``counts[t][p]`` rows of true class t predicted p, and each row divided by its total."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (true_index.astype(np.int64), predicted_index.astype(np.int64)), 1)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)
    return {"counts": counts.tolist(), "normalized": normalized.round(6).tolist()}


def per_class_scores(counts: np.ndarray | list[list[int]]) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support per class from a confusion matrix (None where a ratio is 0/0)."""
    matrix = np.asarray(counts, dtype=np.float64)
    scores = []
    for c in range(matrix.shape[0]):
        tp = matrix[c, c]
        predicted, actual = matrix[:, c].sum(), matrix[c, :].sum()
        precision = tp / predicted if predicted else None
        recall = tp / actual if actual else None
        if precision is not None and recall is not None:
            f1: float | None = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        else:
            f1 = None
        scores.append({"precision": precision, "recall": recall, "f1": f1, "support": int(actual)})
    return scores


def _ranked(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true positives, false positives, threshold) at each distinct score, highest score first."""
    order = np.argsort(-score, kind="mergesort")
    score, positive = score[order], positive[order].astype(np.float64)
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tps = np.cumsum(positive)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    return tps, fps, score[last_of_tie]


def roc_curve(positive: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """ROC curve (false and true positive rates from threshold +inf down) and its area; AUC None for one class."""
    positive = np.asarray(positive).reshape(-1).astype(bool)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    tps, fps, _ = _ranked(positive, score)
    p, n = positive.sum(), (~positive).sum()
    if p == 0 or n == 0:
        return {"fpr": [], "tpr": [], "auc": None, "note": "only one class in these rows: no ROC curve"}
    fpr = np.r_[0.0, fps / n]
    tpr = np.r_[0.0, tps / p]
    fpr_kept, tpr_kept = _thin(fpr, tpr)
    return {"fpr": fpr_kept, "tpr": tpr_kept, "auc": _float(np.trapezoid(tpr, fpr))}


def pr_curve(positive: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Precision-recall curve (recall rising) and the average precision; None without positive rows."""
    positive = np.asarray(positive).reshape(-1).astype(bool)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    tps, fps, _ = _ranked(positive, score)
    p = positive.sum()
    if p == 0:
        return {"recall": [], "precision": [], "average_precision": None, "prevalence": 0.0,
                "note": "no positive rows: no precision-recall curve"}
    precision = tps / (tps + fps)
    recall = tps / p
    average = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    recall_kept, precision_kept = _thin(np.r_[0.0, recall], np.r_[1.0, precision])
    return {"recall": recall_kept, "precision": precision_kept, "average_precision": _float(average),
            "prevalence": float(p / positive.size)}


def calibration(positive: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Reliability curve: per equal-width probability bin, the mean predicted probability and observed rate.

    Also the Brier score (mean squared error of the probabilities) and the
    expected calibration error (bin-size-weighted mean |observed - predicted|).
    """
    positive = np.asarray(positive, dtype=np.float64).reshape(-1)
    probability = np.clip(np.asarray(probability, dtype=np.float64).reshape(-1), 0.0, 1.0)
    which = np.minimum((probability * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins)
    predicted_sum = np.bincount(which, weights=probability, minlength=bins)
    observed_sum = np.bincount(which, weights=positive, minlength=bins)
    filled = count > 0
    mean_predicted = np.where(filled, predicted_sum / np.maximum(count, 1), np.nan)
    observed = np.where(filled, observed_sum / np.maximum(count, 1), np.nan)
    ece = float(np.sum(count[filled] * np.abs(observed[filled] - mean_predicted[filled])) / max(positive.size, 1))
    return {
        "bin_edges": np.linspace(0.0, 1.0, bins + 1).round(6).tolist(),
        "mean_predicted": [_float(v) if f else None for v, f in zip(mean_predicted, filled)],
        "observed": [_float(v) if f else None for v, f in zip(observed, filled)],
        "count": count.tolist(),
        "brier": _float(np.mean((probability - positive) ** 2)) if positive.size else None,
        "ece": ece,
    }


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _class_names(names: list[str] | None, count: int) -> list[str]:
    return [names[i] if names and i < len(names) else str(i) for i in range(count)]


def single_label(true_index: np.ndarray, probabilities: np.ndarray, names: list[str] | None,
                 task: str) -> dict[str, Any]:
    """Binary (one probability column: the second class's) or multiclass (one column per class) views."""
    true_index = np.asarray(true_index).reshape(-1).astype(np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(len(true_index), -1)
    if task == "binary":
        positive_probability = probabilities[:, 0]
        probabilities = np.column_stack([1.0 - positive_probability, positive_probability])
    classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1) if task != "binary" else (probabilities[:, 1] >= 0.5).astype(np.int64)
    matrix = confusion(true_index, predicted, classes)
    scores = per_class_scores(matrix["counts"])
    labels = _class_names(names, classes)
    if task == "binary":
        curve_classes = [1]  # one curve: the second class is the positive one
    else:
        curve_classes = list(range(classes))
    roc = {labels[c]: roc_curve(true_index == c, probabilities[:, c]) for c in curve_classes}
    pr = {labels[c]: pr_curve(true_index == c, probabilities[:, c]) for c in curve_classes}
    if task == "binary":
        reliability = calibration(true_index == 1, probabilities[:, 1])
        reliability["of"] = f"probability of {labels[1]}"
    else:
        # Top-label calibration: the confidence in the predicted class against how often it is right.
        reliability = calibration(predicted == true_index, probabilities.max(axis=1))
        reliability["of"] = "confidence in the predicted class"
    return {
        "task": task,
        "classes": labels,
        "rows": int(true_index.size),
        "accuracy": float(np.mean(predicted == true_index)) if true_index.size else None,
        "confusion": matrix,
        "per_class": [{"class": labels[c], **scores[c]} for c in range(classes)],
        "macro_f1": _mean([s["f1"] for s in scores]),
        "roc": roc,
        "roc_auc": roc[labels[1]]["auc"] if task == "binary" else _mean([r["auc"] for r in roc.values()]),
        "pr": pr,
        "calibration": reliability,
    }


def multilabel(truth: np.ndarray, probabilities: np.ndarray, names: list[str] | None) -> dict[str, Any]:
    """Per label: a 2x2 confusion matrix (threshold 0.5), scores, ROC and PR curves; one pooled reliability curve."""
    truth = np.asarray(truth, dtype=np.float64).reshape(len(truth), -1) >= 0.5
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(truth.shape)
    labels = _class_names(names, truth.shape[1])
    per_label = []
    roc, pr = {}, {}
    for i, label in enumerate(labels):
        matrix = confusion(truth[:, i].astype(np.int64), (probabilities[:, i] >= 0.5).astype(np.int64), 2)
        scores = per_class_scores(matrix["counts"])[1]
        per_label.append({"class": label, **scores, "confusion": matrix})
        roc[label] = roc_curve(truth[:, i], probabilities[:, i])
        pr[label] = pr_curve(truth[:, i], probabilities[:, i])
    reliability = calibration(truth.reshape(-1), probabilities.reshape(-1))
    reliability["of"] = "probability of each label (all labels pooled)"
    return {
        "task": "multilabel",
        "classes": labels,
        "rows": int(truth.shape[0]),
        "per_class": per_label,
        "macro_f1": _mean([s["f1"] for s in per_label]),
        "roc": roc,
        "roc_auc": _mean([r["auc"] for r in roc.values()]),
        "pr": pr,
        "calibration": reliability,
    }


# --------------------------------------------------------------------------- regression


def regression_summary(actual: np.ndarray, predicted: np.ndarray, *, seed: int = 0,
                       max_points: int = MAX_POINTS, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Per unit: MAE, RMSE, R² (None when the actual values are constant), a point sample and a residual histogram.

    Residuals are actual - predicted. The same rows are sampled for every unit.
    """
    actual = np.asarray(actual, dtype=np.float64).reshape(len(actual), -1)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(actual.shape)
    rows = actual.shape[0]
    sample = np.arange(rows)
    if rows > max_points:
        sample = np.sort(np.random.default_rng(seed).choice(rows, size=max_points, replace=False))
    units = []
    for u in range(actual.shape[1]):
        a, p = actual[:, u], predicted[:, u]
        residual = a - p
        total = float(np.sum((a - a.mean()) ** 2)) if rows else 0.0
        counts, edges = np.histogram(residual, bins=bins) if rows else (np.zeros(0), np.zeros(0))
        units.append({
            "mae": _float(np.mean(np.abs(residual))) if rows else None,
            "rmse": _float(np.sqrt(np.mean(residual**2))) if rows else None,
            "r2": _float(1.0 - float(np.sum(residual**2)) / total) if total > 0 else None,
            "actual": [float(v) for v in a[sample]],
            "predicted": [float(v) for v in p[sample]],
            "histogram": {"counts": [int(c) for c in counts], "edges": [float(e) for e in edges]},
        })
    return {"task": "regression", "rows": rows, "sampled_rows": int(sample.size), "units": units}
