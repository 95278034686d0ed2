"""Keras' evaluation metrics in NumPy, for ``evaluate`` on onnxruntime predictions (no TensorFlow).

Each function follows the Keras 3 definition the run compiled
(:func:`mlpdesigner.compile.compile_model`, :func:`mlpdesigner.spec.registry.metric_call`):

- losses: mean over rows of the per-row loss (``sum_over_batch_size``); with
  several outputs the reported ``loss`` is the sum of each output's loss times
  its compiled weight, ``<output>_loss`` the unweighted one; the model's
  regularization penalty (recorded at the end of training) is added to ``loss``;
- cross-entropies on probabilities clipped to [1e-7, 1 - 1e-7], as Keras does
  for probabilities (it uses the logits when it has them: for predictions that
  saturate float32, e.g. 1.0 for a wrong label, the two differ);
- ``accuracy``: binary (``p > 0.5``) for one unit and multilabel outputs,
  sparse or one-hot categorical (argmax) for multiclass outputs;
- ``precision``/``recall``: ``p > 0.5`` over every label, flattened;
- ``auc``: the ROC area of Keras' ``AUC`` (200 thresholds, interpolated
  heights), per label and averaged for multilabel outputs;
- ``mae``/``mse``/``rmse`` over every unit.

Keys are Keras' own (``loss`` and the metrics with one output; ``loss``,
``<output>_loss`` and ``<output>_<metric>`` with several), sorted as Keras returns them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Keras' ``backend.epsilon()``: the clipping of probabilities in cross-entropies.
EPSILON = 1e-7
#: ``keras.metrics.AUC``'s default number of thresholds.
AUC_THRESHOLDS = 200


class MetricUnavailable(Exception):
    """A metric or loss this module does not compute (``evaluate`` then uses Keras)."""


def _two_d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1)


def _class_index(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def output_loss(name: str, y: np.ndarray, p: np.ndarray, delta: float = 1.0) -> float:
    """Mean per-row loss of one output (Keras' definitions, on probabilities for the cross-entropies)."""
    if name in ("mse", "mae", "huber", "log_cosh"):
        error = _two_d(p) - _two_d(y)
        if name == "mse":
            rows = np.mean(error**2, axis=1)
        elif name == "mae":
            rows = np.mean(np.abs(error), axis=1)
        elif name == "huber":
            absolute = np.abs(error)
            rows = np.mean(np.where(absolute <= delta, 0.5 * error**2, delta * absolute - 0.5 * delta**2), axis=1)
        else:
            rows = np.mean(error + np.logaddexp(0.0, -2.0 * error) - np.log(2.0), axis=1)
        return float(np.mean(rows))
    if name == "binary_crossentropy":
        probability = np.clip(_two_d(p), EPSILON, 1 - EPSILON)
        target = _two_d(y)
        rows = -np.mean(target * np.log(probability + EPSILON) + (1 - target) * np.log(1 - probability + EPSILON),
                        axis=1)
        return float(np.mean(rows))
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        probability = _two_d(p)
        probability = probability / probability.sum(axis=1, keepdims=True)
        probability = np.clip(probability, EPSILON, 1 - EPSILON)
        if name == "categorical_crossentropy" and np.asarray(y).ndim == 2 and np.asarray(y).shape[1] > 1:
            return float(np.mean(-np.sum(_two_d(y) * np.log(probability), axis=1)))
        index = _class_index(y)
        return float(np.mean(-np.log(probability[np.arange(len(index)), index])))
    raise MetricUnavailable(f"loss {name!r}")


def _auc(y: np.ndarray, p: np.ndarray, multi_label: bool) -> float:
    """``keras.metrics.AUC()`` (ROC, interpolation, 200 evenly spaced thresholds) in one pass."""
    target = (_two_d(y) != 0).astype(np.float64)
    probability = np.clip(np.asarray(p, dtype=np.float32).reshape(target.shape), 0.0, 1.0)
    # Keras' bucketing: ceil(p * (T - 1)) - 1, at least 0, in float32; bucket i counts toward thresholds <= i.
    buckets = np.maximum(np.ceil(probability * np.float32(AUC_THRESHOLDS - 1)) - 1, 0).astype(np.int64)
    if not multi_label:
        target, buckets = target.reshape(-1, 1), buckets.reshape(-1, 1)
    areas = []
    for label in range(target.shape[1]):
        tp_bucket = np.bincount(buckets[:, label], weights=target[:, label], minlength=AUC_THRESHOLDS)
        fp_bucket = np.bincount(buckets[:, label], weights=1 - target[:, label], minlength=AUC_THRESHOLDS)
        tp, fp = np.cumsum(tp_bucket[::-1])[::-1], np.cumsum(fp_bucket[::-1])[::-1]
        positives, negatives = target[:, label].sum(), (1 - target[:, label]).sum()
        recall = tp / positives if positives else np.zeros_like(tp)
        fp_rate = fp / negatives if negatives else np.zeros_like(fp)
        heights = (recall[:-1] + recall[1:]) / 2.0
        areas.append(float(np.sum((fp_rate[:-1] - fp_rate[1:]) * heights)))
    return float(np.mean(areas))


def output_metric(name: str, out: dict[str, Any], y: np.ndarray, p: np.ndarray) -> float:
    """One metric of one output, as the Keras metric the run compiled computes it."""
    task = out["task"]
    if name in ("mae", "mse", "rmse"):
        error = _two_d(p) - _two_d(y)
        if name == "mae":
            return float(np.mean(np.abs(error)))
        mse = float(np.mean(error**2))
        return mse if name == "mse" else float(np.sqrt(mse))
    if name == "accuracy":
        if task == "multiclass":
            return float(np.mean(_two_d(p).argmax(axis=1) == _class_index(y)))
        return float(np.mean(_two_d(y) == (_two_d(p) > 0.5)))
    if task == "multiclass":  # precision, recall and AUC of a multiclass head: not a form Keras defines cleanly
        raise MetricUnavailable(f"metric {name!r} of a multiclass output")
    if name in ("precision", "recall"):
        predicted = _two_d(p).reshape(-1) > 0.5
        actual = _two_d(y).reshape(-1) != 0
        true_positive = float(np.sum(predicted & actual))
        total = float(np.sum(predicted) if name == "precision" else np.sum(actual))
        return true_positive / total if total else 0.0
    if name == "auc":
        return _auc(y, p, multi_label=task == "multilabel")
    raise MetricUnavailable(f"metric {name!r}")


def mean_of_batch_losses(name: str, y: np.ndarray, p: np.ndarray, delta: float, batch_size: int) -> float:
    """The unweighted mean of per-batch mean losses: how Keras 3 reports ``<output>_loss`` with several outputs.

    Its per-output loss trackers get no batch size in graph mode, so the last,
    partial batch counts as much as a full one; ``loss`` itself is weighted by rows.
    """
    rows = len(y)
    batches = [output_loss(name, y[start:start + batch_size], p[start:start + batch_size], delta)
               for start in range(0, rows, max(1, batch_size))]
    return float(np.mean(batches)) if batches else 0.0


def evaluate_predictions(
    outputs: list[dict[str, Any]],
    y: dict[str, np.ndarray],
    predictions: dict[str, np.ndarray],
    record: dict[str, Any],
    batch_size: int,
) -> dict[str, float]:
    """Loss and metrics keyed as Keras' ``evaluate(return_dict=True, batch_size=batch_size)`` keys them.

    ``record`` is the ``onnx`` record of ``run.json`` (its ``losses`` and
    ``regularization``); raises :class:`MetricUnavailable` for what it cannot compute.
    """
    terms = record.get("losses")
    if not isinstance(terms, dict) or not all(o["name"] in terms for o in outputs):
        raise MetricUnavailable("the run did not record its loss weights")
    losses = {}
    for out in outputs:
        term = terms[out["name"]]
        losses[out["name"]] = output_loss(str(term["loss"]), y[out["name"]], predictions[out["name"]],
                                          float(term.get("delta", 1.0)))
    total = sum(float(terms[name]["weight"]) * value for name, value in losses.items())
    total += float(record.get("regularization") or 0.0)
    result: dict[str, float] = {"loss": total}
    if len(outputs) == 1:
        out = outputs[0]
        for metric in out["metrics"]:
            result[metric] = output_metric(metric, out, y[out["name"]], predictions[out["name"]])
        return dict(sorted(result.items()))
    for out in outputs:
        for metric in out["metrics"]:
            result[f"{out['name']}_{metric}"] = output_metric(metric, out, y[out["name"]], predictions[out["name"]])
    for out in outputs:
        term = terms[out["name"]]
        result[f"{out['name']}_loss"] = mean_of_batch_losses(
            str(term["loss"]), y[out["name"]], predictions[out["name"]], float(term.get("delta", 1.0)), batch_size
        )
    return dict(sorted(result.items()))
