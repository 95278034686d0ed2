"""The trivial baseline: what a constant predictor scores on the same rows as the model.

A model is only worth something if it beats predicting a constant. The constant
comes from the training split (so it is a fair competitor that never saw the
test rows): the mean target for regression, the most frequent class for binary
and multiclass outputs, each label's own majority for multilabel outputs.
Probabilities (for the cross-entropy loss) are the training split's class
frequencies. Pure NumPy; keys follow Keras' names (``loss``, ``mae``,
``accuracy``; ``<output>_<metric>`` with several outputs) so the baseline sits
next to the model's metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Keras clips probabilities to [EPSILON, 1 - EPSILON] in its cross-entropies.
EPSILON = 1e-7
#: An output's loss in its data's units, before the target-scale factor (see :func:`output_baseline`).
DATA_LOSS = "data_loss"


def _class_index(y: np.ndarray) -> np.ndarray:
    """Class index per row of a sparse (index) or one-hot target."""
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def _regression(out: dict[str, Any], train: np.ndarray, rows: np.ndarray, scale: Any) -> dict[str, float]:
    train = train.astype(np.float64).reshape(len(train), -1)
    rows = rows.astype(np.float64).reshape(len(rows), -1)
    error = rows - train.mean(axis=0)
    mse = float(np.mean(error**2))
    mae = float(np.mean(np.abs(error)))
    result = {"mae": mae, "mse": mse, "rmse": float(np.sqrt(mse))}
    scales = np.ones(rows.shape[1]) if scale is None else np.asarray(scale, dtype=np.float64).reshape(-1)
    square, linear = float(np.mean(scales**2)), float(np.mean(scales))
    loss = out["loss"]
    if loss == "mse":
        result[DATA_LOSS], factor = mse, square
    elif loss == "mae":
        result[DATA_LOSS], factor = mae, linear
    elif loss == "huber":
        delta = float(np.sqrt(square))
        absolute = np.abs(error)
        huber = np.where(absolute <= delta, 0.5 * error**2, delta * absolute - 0.5 * delta**2)
        result[DATA_LOSS], factor = float(np.mean(huber)), square
    elif loss == "log_cosh":
        result[DATA_LOSS], factor = float(np.mean(np.logaddexp(error, -error) - np.log(2.0))), linear
    else:
        return result
    result["loss"] = result[DATA_LOSS] / factor
    return result


def _binary(train: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    """One column per label (binary: one); each predicted by its training frequency."""
    train = train.astype(np.float64).reshape(len(train), -1)
    rows = rows.astype(np.float64).reshape(len(rows), -1)
    prior = np.clip(train.mean(axis=0), EPSILON, 1 - EPSILON)
    predicted = (prior > 0.5).astype(np.float64)
    loss = -np.mean(rows * np.log(prior) + (1 - rows) * np.log(1 - prior))
    positives = predicted.astype(bool)
    true_positive = float(np.sum(rows[:, positives]))
    predicted_positive = float(len(rows) * positives.sum())
    actual_positive = float(np.sum(rows))
    return {
        "loss": float(loss),
        "accuracy": float(np.mean(rows == predicted)),
        "auc": 0.5,
        "precision": true_positive / predicted_positive if predicted_positive else 0.0,
        "recall": true_positive / actual_positive if actual_positive else 0.0,
    }


def _multiclass(out: dict[str, Any], train: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    units = out["units"]
    train_index, index = _class_index(train), _class_index(rows)
    counts = np.bincount(train_index, minlength=units).astype(np.float64)
    prior = np.clip(counts / counts.sum(), EPSILON, 1 - EPSILON)
    majority = int(counts.argmax())
    return {
        "loss": float(-np.mean(np.log(prior[index]))),
        "accuracy": float(np.mean(index == majority)),
        "auc": 0.5,
    }


def output_baseline(
    out: dict[str, Any], train: np.ndarray, rows: np.ndarray, scale: Any = None
) -> dict[str, float]:
    """Baseline loss and metrics of one output on ``rows`` (targets), the constant fitted on ``train``.

    ``scale`` is the output's target scale (see :func:`mlpdesigner.compile.scaled_loss`), so
    ``loss`` is on the model's footing: the term it adds to the model's total loss. A scaled
    regression output also gets ``data_loss``, the same loss in the data's units, which is
    what Keras reports as ``<output>_loss`` beside the total of a model with several outputs.
    """
    task = out["task"]
    if task == "regression":
        values = _regression(out, train, rows, scale)
    elif task == "multiclass":
        values = _multiclass(out, train, rows)
    else:
        values = _binary(train, rows)
    wanted = {"loss", DATA_LOSS, *out["metrics"]}
    return {k: v for k, v in values.items() if k in wanted}


def combined_baseline(outputs: list[dict[str, Any]], per_output: dict[str, dict[str, float]]) -> dict[str, float]:
    """Keys as Keras gives a model's: one output's own; several: the weighted total and ``<output>_<key>``.

    The total adds each output's ``loss`` (on the model's footing) times its weight; an output's
    own ``<output>_loss`` is in the data's units, as Keras reports it.
    """
    if len(outputs) == 1:
        return {k: v for k, v in per_output[outputs[0]["name"]].items() if k != DATA_LOSS}
    result: dict[str, float] = {"loss": 0.0}
    for out in outputs:
        values = dict(per_output[out["name"]])
        result["loss"] += out["loss_weight"] * values.get("loss", 0.0)
        if DATA_LOSS in values:
            values["loss"] = values.pop(DATA_LOSS)
        result.update({f"{out['name']}_{k}": v for k, v in values.items()})
    return result


def baseline_metrics(
    outputs: list[dict[str, Any]],
    train_y: dict[str, np.ndarray],
    rows_y: dict[str, np.ndarray],
    target_scaling: dict[str, tuple[Any, Any]] | None = None,
) -> dict[str, float] | None:
    """The baseline's metrics on one split, keyed as Keras keys the model's (None for no rows)."""
    if not outputs or not len(next(iter(rows_y.values()), [])) or not len(next(iter(train_y.values()), [])):
        return None
    scaling = target_scaling or {}
    per_output = {
        o["name"]: output_baseline(o, train_y[o["name"]], rows_y[o["name"]], scaling.get(o["name"], (None,))[0])
        for o in outputs
    }
    return combined_baseline(outputs, per_output)


def split_baselines(spec_outputs: list[dict[str, Any]], dataset: Any) -> dict[str, dict[str, float] | None]:
    """Baseline metrics on the validation and test splits of a :class:`~mlpdesigner.train.data.Dataset`."""
    if hasattr(dataset, "baselines"):  # streamed (mlpdesigner.train.stream)
        return dataset.baselines(spec_outputs)
    return {
        name: baseline_metrics(spec_outputs, dataset.train.y, dataset.splits[name].y, dataset.target_scaling)
        for name in ("validation", "test")
    }


#: Metrics where lower is better; the others (accuracy, auc, precision, recall) are better higher.
LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse")


def not_better_than_baseline(metrics: dict[str, Any] | None, split: str = "test") -> list[str]:
    """``"mae 164 (constant: 71)"`` for each metric (not the loss) where the model does no better than the baseline."""
    metrics = metrics or {}
    model, base = metrics.get(split) or {}, (metrics.get("baseline") or {}).get(split) or {}
    found = []
    for key, value in model.items():
        reference = base.get(key)
        if key == "loss" or key.endswith("_loss") or reference is None or value is None:
            continue
        lower = key.split("_")[-1] in LOWER_IS_BETTER or key in LOWER_IS_BETTER
        if (value >= reference) if lower else (value <= reference):
            found.append(f"{key} {value:.4g} (constant: {reference:.4g})")
    return found
