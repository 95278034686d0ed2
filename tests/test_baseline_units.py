"""The constant predictor's figures sit beside the model's in the same units.

A model whose network outputs zero predicts, through its target-scaling Rescaling, exactly the
training mean: it *is* the constant predictor. Its metrics must then equal the baseline's, key by
key. With several regression outputs Keras reports the total loss on the model's footing
(standardized targets, weighted) but each ``<output>_loss`` in the data's units; the baseline once
gave its per-output losses on the standardized footing, so ``main_loss 0.29`` sat beside a
constant's ``main_loss 1.06`` although, in the same units, the constant scored 1.4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.resources import data_path, example_path

pytestmark = pytest.mark.slow


def zero_network(model) -> None:  # noqa: ANN001
    """Every Dense layer outputs zero, so each target-scaled head predicts its offset (the training mean)."""
    for layer in model.layers:
        if layer.__class__.__name__ == "Dense":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])


@pytest.mark.parametrize("example", ["wide_deep_aux_output", "housing_regression"])
def test_a_model_that_predicts_the_training_mean_scores_exactly_the_baseline(tmp_path: Path, example: str) -> None:
    from mlpdesigner.train.baseline import split_baselines
    from mlpdesigner.train.runner import evaluate_split, prepare

    raw = json.loads(example_path(example).read_text("utf-8"))
    raw["data"]["path"] = str(data_path("resources", "datasets", Path(raw["data"]["path"]).name))
    spec = tmp_path / f"{example}.json"
    spec.write_text(json.dumps(raw), "utf-8")
    prepared = prepare(spec, out=tmp_path / "runs")
    zero_network(prepared.model)
    test = prepared.dataset.test
    model_metrics = evaluate_split(prepared.model, test, batch_size=test.rows)  # one batch: exact means
    baseline = split_baselines(prepared.filled["outputs"], prepared.dataset)["test"]

    assert set(baseline) <= set(model_metrics)
    for key, value in baseline.items():
        assert model_metrics[key] == pytest.approx(value, rel=2e-4), key
    if len(prepared.filled["outputs"]) > 1:
        # The per-output losses are the data's own: the constant's MSE is the targets' variance about the mean.
        y = test.y["main"].astype(np.float64)
        mean = prepared.dataset.train.y["main"].astype(np.float64).mean()
        assert baseline["main_loss"] == pytest.approx(float(np.mean((y - mean) ** 2)), rel=1e-6)
