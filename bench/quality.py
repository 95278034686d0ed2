"""Quality on real data: the starter designs against scikit-learn's MLP and a constant, on the same rows.

Five public datasets that ship inside scikit-learn (no network): breast cancer
(binary, 30 features), iris and wine (3 classes), digits (10 classes, 8x8
pixels as 64 features, many constant at the border), diabetes (regression,
raw features, targets 25-346). Each is trained with a starter design from
``resources/examples`` changed only in its input shape, column mapping and
output units: ``binary_batchnorm_dropout``, ``flowers_multiclass`` (iris and
wine), ``fashion_mnist_classifier`` (digits) and ``housing_regression``
(diabetes), through ``mlpdesigner.train.runner.train`` as ``mlpdesigner
train`` runs it (its own split, standardization, early stopping).

On the same test rows (the run's ``splits.npz``):

- scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with default settings
  after a ``StandardScaler`` (its documentation's advice), trained on the
  run's training rows (the starter design learns from the same rows; it
  only watches the validation rows for early stopping);
- the constant baseline from ``metrics.json`` (majority class / mean target of
  the training rows).

Metric: test accuracy (classification) or test MAE (regression), mean ±
standard deviation over several split seeds (``data.split_seed`` 0..N-1; one
in ``--quick``), the same splits for all three columns, because a test split
of 30-60 rows moves by whole points with one row. A dataset gets at least
:data:`MIN_SPLIT_SEEDS` splits, and more while its test rows over all splits
add up to fewer than :data:`MIN_TEST_PREDICTIONS` (iris: 20 splits of 30 test
rows), so that a small dataset's mean is not decided by one flower. The
paired difference (ours minus scikit-learn's, split by split) is given with
its standard error: a gap within about two standard errors is noise.
"""

from __future__ import annotations

import copy
import json
import statistics
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Fewest split seeds a dataset is averaged over (the quick run uses one).
MIN_SPLIT_SEEDS = 5

#: More split seeds are added until the test rows over all splits reach this many.
MIN_TEST_PREDICTIONS = 600

#: Most split seeds for one dataset.
MAX_SPLIT_SEEDS = 30


@dataclass(frozen=True)
class Case:
    """One dataset and the starter design it is trained with."""

    key: str
    loader: str
    design: str
    task: str

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        import sklearn.datasets

        loader = getattr(sklearn.datasets, self.loader)
        bunch = loader(scaled=False) if self.loader == "load_diabetes" else loader()
        return np.asarray(bunch.data, dtype="float64"), np.asarray(bunch.target)


CASES = (
    Case("breast_cancer", "load_breast_cancer", "binary_batchnorm_dropout", "binary"),
    Case("iris", "load_iris", "flowers_multiclass", "multiclass"),
    Case("wine", "load_wine", "flowers_multiclass", "multiclass"),
    Case("digits", "load_digits", "fashion_mnist_classifier", "multiclass"),
    Case("diabetes", "load_diabetes", "housing_regression", "regression"),
)


def design_for(case: Case, data: Path, features: int, classes: int, *, epochs: int | None = None) -> dict[str, Any]:
    """The starter design with only its shape, columns and output units changed (epochs only for a smoke run)."""
    from mlpdesigner.resources import example_path

    spec = json.loads(example_path(case.design).read_text(encoding="utf-8"))
    spec = copy.deepcopy(spec)
    spec["inputs"][0]["shape"] = [features]
    output = spec["outputs"][0]
    output.pop("classes", None)
    if case.task == "multiclass":
        output["units"] = classes
    spec.setdefault("data", {})
    spec["data"]["path"] = str(data)
    spec["data"]["columns"] = {
        spec["inputs"][0]["name"]: [f"x{i}" for i in range(features)],
        output["name"]: ["target"],
    }
    if epochs is not None:
        spec.setdefault("training", {})["epochs"] = epochs
    return spec


def _sklearn_score(case: Case, x: np.ndarray, y: np.ndarray, rows: dict[str, np.ndarray], seed: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    fit_rows = rows["train"]
    estimator = MLPRegressor(random_state=seed) if case.task == "regression" else MLPClassifier(random_state=seed)
    model = make_pipeline(StandardScaler(), estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[fit_rows], y[fit_rows])
    predicted = model.predict(x[rows["test"]])
    truth = y[rows["test"]]
    if case.task == "regression":
        return float(np.mean(np.abs(predicted - truth)))
    return float(np.mean(predicted == truth))


def split_seed_count(test_rows: int) -> int:
    """Split seeds for a dataset whose test split has ``test_rows`` rows (see the module docstring)."""
    needed = -(-MIN_TEST_PREDICTIONS // max(1, test_rows))
    return min(MAX_SPLIT_SEEDS, max(MIN_SPLIT_SEEDS, needed))


def mean_std(values: list[float], digits: int = 4) -> str:
    """``mean ± std`` (sample standard deviation; 0 for one value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {std:.{digits}f}"


def paired_difference(ours: list[float], theirs: list[float], digits: int = 4) -> str:
    """Mean of ours - theirs split by split, ± its standard error."""
    diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
    error = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    return f"{statistics.fmean(diffs):+.{digits}f} ± {error:.{digits}f}"


def run_case(case: Case, folder: Path, quick: bool = False, epochs: int | None = None) -> dict[str, Any]:
    """Test metric of the starter design, scikit-learn's MLP and the constant on the same split seeds."""
    import pandas as pd

    from mlpdesigner.train.progress import Reporter
    from mlpdesigner.train.runner import train

    x, y = case.load()
    classes = len(np.unique(y)) if case.task != "regression" else 1
    table = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    table["target"] = y
    data = folder / f"{case.key}.csv"
    table.to_csv(data, index=False)
    metric = "mae" if case.task == "regression" else "accuracy"
    ours: list[float] = []
    theirs: list[float] = []
    constant: list[float] = []
    test_rows: list[int] = []
    seeds = 1
    seed = 0
    while seed < seeds:
        spec = design_for(case, data, x.shape[1], classes, epochs=epochs)
        spec["data"]["split_seed"] = seed
        result = train(spec, out=folder / f"{case.key}-{seed}", reporter=Reporter())
        if result.status != "completed":
            raise RuntimeError(f"{case.key} (split seed {seed}): the run {result.status}: {result.reason}")
        metrics = json.loads((result.run_dir / "metrics.json").read_text(encoding="utf-8"))
        with np.load(result.run_dir / "splits.npz") as stored:
            rows = {name: stored[name] for name in ("train", "validation", "test")}
        ours.append(metrics["test"][metric])
        constant.append(metrics["baseline"]["test"][metric])
        theirs.append(_sklearn_score(case, x, y, rows, seed))
        test_rows.append(len(rows["test"]))
        if seed == 0 and not quick:
            seeds = split_seed_count(len(rows["test"]))
        seed += 1
    better = min if metric == "mae" else max
    # Rounded: Keras reports float32, scikit-learn float64; a tie on the same rows is a tie.
    mean_ours, mean_theirs, mean_constant = (round(statistics.fmean(v), 6) for v in (ours, theirs, constant))
    digits = 2 if metric == "mae" else 4
    return {
        "dataset": case.key,
        "rows x features": f"{x.shape[0]} x {x.shape[1]}",
        "task": case.task if case.task != "multiclass" else f"{classes} classes",
        "starter design": case.design,
        "metric": f"test {metric}",
        "split seeds": seeds,
        "test rows": round(statistics.fmean(test_rows)),
        "MLP Designer": round(mean_ours, 4),
        "sklearn MLP": round(mean_theirs, 4),
        "constant": round(mean_constant, 4),
        "MLP Designer mean ± std": mean_std(ours, digits),
        "sklearn MLP mean ± std": mean_std(theirs, digits),
        "difference (paired) ± s.e.": paired_difference(ours, theirs, digits),
        "matches or beats sklearn": "yes" if better(mean_ours, mean_theirs) == mean_ours else "no",
        "beats constant": "yes" if better(mean_ours, mean_constant) == mean_ours and mean_ours != mean_constant
        else "no",
    }


def run(quick: bool = False, only: list[str] | None = None, epochs: int | None = None) -> dict[str, Any]:
    """The side-by-side table and how many datasets meet each goal."""
    from mlpdesigner import tfenv

    tfenv.quiet()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-quality-") as tmp:
        for case in CASES:
            if only and case.key not in only:
                continue
            rows.append(run_case(case, Path(tmp), quick, epochs))
    caption = (
        "Test metric over split seeds 0..N-1 (N per dataset: at least 5, and enough for 600 test predictions); "
        "the same test rows for all three columns; sklearn: StandardScaler + default MLP on the same training rows; "
        "constant: majority class / mean target; difference: ours - sklearn split by split, ± standard error"
    )
    return {
        "tables": {caption: rows},
        "matches_or_beats_sklearn": f"{sum(r['matches or beats sklearn'] == 'yes' for r in rows)}/{len(rows)}",
        "beats_constant": f"{sum(r['beats constant'] == 'yes' for r in rows)}/{len(rows)}",
    }
