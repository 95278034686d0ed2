"""Evaluation views (issue 14): known predictions give the expected matrices and areas; scikit-learn agrees."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.evaluation import EVALUATION_FILE, evaluate_outputs, read_evaluation, write_evaluation
from mlpdesigner.evaluation.metrics import calibration, pr_curve, regression_summary, roc_curve, single_label

TRUTH = np.array([0, 0, 0, 1, 1, 0, 1, 0, 1, 1])


@pytest.mark.parametrize(
    ("probability", "counts", "auc"),
    [
        (TRUTH * 0.8 + 0.1, [[5, 0], [0, 5]], 1.0),  # perfect
        (np.full(10, 0.3), [[5, 0], [5, 0]], 0.5),  # constant: always the first class
        (1.0 - (TRUTH * 0.8 + 0.1), [[0, 5], [5, 0]], 0.0),  # inverted
    ],
    ids=["perfect", "constant", "inverted"],
)
def test_known_binary_classifiers(probability: np.ndarray, counts: list[list[int]], auc: float) -> None:
    view = single_label(TRUTH, probability.reshape(-1, 1), ["no", "yes"], "binary")
    assert view["confusion"]["counts"] == counts
    assert view["roc_auc"] == pytest.approx(auc)
    assert list(view["roc"]) == ["yes"]  # one curve, for the positive class
    rows = np.asarray(counts, dtype=float)
    assert view["confusion"]["normalized"] == (rows / rows.sum(axis=1, keepdims=True)).tolist()


def test_known_multiclass_classifiers() -> None:
    truth = np.array([0, 1, 2, 2, 1, 0, 2])
    perfect = np.eye(3)[truth] * 0.9 + 0.1 / 3
    view = single_label(truth, perfect, ["a", "b", "c"], "multiclass")
    assert view["confusion"]["counts"] == [[2, 0, 0], [0, 2, 0], [0, 0, 3]]
    assert view["roc_auc"] == 1.0 and view["macro_f1"] == 1.0
    assert [s["support"] for s in view["per_class"]] == [2, 2, 3]
    inverted = single_label(truth, 1.0 - perfect, ["a", "b", "c"], "multiclass")
    assert inverted["roc_auc"] == 0.0 and inverted["accuracy"] == 0.0
    constant = single_label(truth, np.tile([0.2, 0.5, 0.3], (7, 1)), None, "multiclass")
    assert constant["confusion"]["counts"] == [[0, 2, 0], [0, 2, 0], [0, 3, 0]]
    assert constant["classes"] == ["0", "1", "2"] and constant["roc_auc"] == 0.5
    assert constant["per_class"][0]["precision"] is None  # never predicted: 0/0, not 0


def test_one_hot_and_multilabel_targets_through_evaluate_outputs() -> None:
    outputs = [{"name": "kind", "task": "multiclass"}, {"name": "tags", "task": "multilabel"}]
    truth_index = np.array([0, 1, 1, 0])
    tags = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.float32)
    views = evaluate_outputs(
        outputs,
        {"kind": np.eye(2)[truth_index], "tags": tags},
        {"kind": np.eye(2)[truth_index] * 0.8 + 0.1, "tags": 1.0 - tags},
        {"tags": ["red", "blue"]},
    )
    assert views["kind"]["confusion"]["counts"] == [[2, 0], [0, 2]]
    assert views["tags"]["classes"] == ["red", "blue"]
    assert [r["confusion"]["counts"] for r in views["tags"]["per_class"]] == [[[0, 2], [2, 0]]] * 2
    assert views["tags"]["roc_auc"] == 0.0


def test_one_class_split_has_no_auc() -> None:
    curve = roc_curve(np.ones(4), np.array([0.1, 0.4, 0.6, 0.9]))
    assert curve["auc"] is None and "one class" in curve["note"]


def test_areas_and_scores_agree_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    for trial in range(20):
        rows = int(rng.integers(5, 400))
        truth = rng.integers(0, 2, rows)
        if truth.min() == truth.max():
            continue
        # Rounded scores make ties, which both must treat the same way.
        score = np.round(np.clip(truth * 0.3 + rng.normal(0.35, 0.25, rows), 0, 1), int(trial % 3) + 1)
        assert roc_curve(truth, score)["auc"] == pytest.approx(metrics.roc_auc_score(truth, score), abs=1e-12)
        assert pr_curve(truth, score)["average_precision"] == pytest.approx(
            metrics.average_precision_score(truth, score), abs=1e-12)
        view = single_label(truth, score.reshape(-1, 1), None, "binary")
        predicted = (score >= 0.5).astype(int)
        assert view["confusion"]["counts"] == metrics.confusion_matrix(truth, predicted, labels=[0, 1]).tolist()
        f1 = metrics.f1_score(truth, predicted, average=None, labels=[0, 1], zero_division=np.nan)
        ours = [np.nan if s["f1"] is None else s["f1"] for s in view["per_class"]]
        np.testing.assert_allclose(ours, f1, atol=1e-12)
    truth = rng.integers(0, 4, 300)
    probabilities = rng.dirichlet(np.ones(4), 300)
    probabilities[np.arange(300), truth] += 0.3
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    view = single_label(truth, probabilities, None, "multiclass")
    assert view["roc_auc"] == pytest.approx(metrics.roc_auc_score(truth, probabilities, multi_class="ovr"), abs=1e-12)
    assert view["macro_f1"] == pytest.approx(metrics.f1_score(truth, probabilities.argmax(1), average="macro"))


def test_calibration_of_a_calibrated_and_an_overconfident_model() -> None:
    rng = np.random.default_rng(3)
    probability = rng.uniform(0, 1, 20000)
    calibrated = calibration(rng.uniform(0, 1, 20000) < probability, probability)
    assert calibrated["ece"] < 0.02 and sum(calibrated["count"]) == 20000
    overconfident = calibration(rng.uniform(0, 1, 20000) < 0.5, np.where(probability > 0.5, 0.99, 0.01))
    assert overconfident["ece"] > 0.4
    assert overconfident["mean_predicted"][5] is None  # empty bins are gaps, not zeros


def test_regression_summary_agrees_with_scikit_learn_and_subsamples() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    actual = rng.normal(size=(5000, 2))
    predicted = actual + rng.normal(scale=[0.1, 1.0], size=(5000, 2))
    view = regression_summary(actual, predicted, max_points=500)
    for u, unit in enumerate(view["units"]):
        assert unit["mae"] == pytest.approx(metrics.mean_absolute_error(actual[:, u], predicted[:, u]))
        assert unit["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(actual[:, u], predicted[:, u])))
        assert unit["r2"] == pytest.approx(metrics.r2_score(actual[:, u], predicted[:, u]))
        assert len(unit["actual"]) == len(unit["predicted"]) == 500
        assert sum(unit["histogram"]["counts"]) == 5000  # the histogram uses every row
    assert view["sampled_rows"] == 500 and view["rows"] == 5000
    assert view["units"][0]["r2"] > 0.95 > view["units"][1]["r2"]
    perfect = regression_summary(np.array([2.0, 2.0]), np.array([2.0, 2.0]))
    assert perfect["units"][0]["r2"] is None and perfect["units"][0]["mae"] == 0.0


def test_written_evaluation_has_pictures_and_reads_back(tmp_path: Path) -> None:
    outputs = [{"name": "price", "task": "regression"}, {"name": "kind", "task": "multiclass"}]
    truth = {"price": np.arange(50.0).reshape(-1, 1), "kind": np.arange(50) % 3}
    predictions = {"price": np.arange(50.0).reshape(-1, 1) + 1, "kind": np.eye(3)[np.arange(50) % 3]}
    views = evaluate_outputs(outputs, truth, predictions, {"kind": ["<b>x</b>", "y", "z"]})
    record = write_evaluation(tmp_path, views, split="test", rows=50)
    assert record["figures_error"] is None
    for name in ("price", "kind"):
        files = record["figures"][name]
        assert (tmp_path / files["png"]).read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (tmp_path / files["svg"]).read_bytes()
    stored = read_evaluation(tmp_path)
    assert stored is not None and stored["outputs"]["kind"]["classes"][0] == "<b>x</b>"
    assert stored["outputs"]["price"]["units"][0]["mae"] == 1.0


def test_a_failure_to_draw_is_recorded_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlpdesigner.evaluation.figures as figures

    def broken(views: object, run_dir: object) -> None:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(figures, "draw_all", broken)
    views = evaluate_outputs([{"name": "y", "task": "binary"}], {"y": TRUTH}, {"y": TRUTH * 0.5 + 0.2})
    write_evaluation(tmp_path, views, split="test", rows=10)
    stored = json.loads((tmp_path / EVALUATION_FILE).read_text())
    assert stored["figures_error"] == "RuntimeError: no fonts" and stored["outputs"]["y"]["roc_auc"] == 1.0


def test_unreadable_evaluation_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / EVALUATION_FILE).write_text("{broken")
    assert read_evaluation(tmp_path) is None
    assert read_evaluation(tmp_path / "missing") is None
