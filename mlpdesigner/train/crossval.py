"""K-fold cross-validation: ``mlpdesigner train SPEC --cv K``.

One test split of 20-60 rows moves by whole points when one row changes;
cross-validation tests on every row once. The rows are dealt into K folds
(stratified by the first binary or multiclass output when ``data.stratify``;
see :func:`mlpdesigner.train.data.fold_indices`); fold k trains a fresh model
(same seed) on the other folds, minus ``data.validation_split`` of them kept
for early stopping, and tests on fold k.

The parent folder (``--out``, else ``runs/<name>-cv<K>-<stamp>``) holds one
ordinary run folder per fold (``fold-1`` ... ``fold-K``: ``evaluate``,
``predict`` and ``export`` work on each) and ``cv.json``::

    {"folds": K, "status": "completed", "runs": [{"fold": 1, "run_dir": "fold-1",
     "status": ..., "test": {...}, "baseline": {...}}, ...],
     "mean": {metric: ...}, "std": {metric: ...},
     "baseline_mean": {...}, "baseline_std": {...}}

``std`` is the sample standard deviation over the folds' test metrics (0 for
one fold). A stop request ends the cross-validation after the current fold
(status ``stopped``); a failed fold makes it ``failed`` (exit code 1).
"""

from __future__ import annotations

import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .. import runfolder
from ..spec import Spec, load_spec
from .progress import Reporter, StopRequest


@dataclass
class CrossValidationResult:
    """Where the cross-validation lies, how it ended and its summary (``cv.json``)."""

    run_dir: Path
    status: str
    summary: dict[str, Any]
    exit_code: int


def summarize_folds(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation per test metric (and per baseline metric) over finished folds."""
    out: dict[str, dict[str, float]] = {"mean": {}, "std": {}, "baseline_mean": {}, "baseline_std": {}}
    for source, mean_key, std_key in (("test", "mean", "std"), ("baseline", "baseline_mean", "baseline_std")):
        keys: list[str] = []
        for run in runs:
            keys += [k for k in (run.get(source) or {}) if k not in keys]
        for key in keys:
            values = [float(run[source][key]) for run in runs if (run.get(source) or {}).get(key) is not None]
            if values:
                out[mean_key][key] = statistics.fmean(values)
                out[std_key][key] = statistics.stdev(values) if len(values) > 1 else 0.0
    return out


def format_summary(summary: dict[str, Any]) -> str:
    """``accuracy 0.953 ± 0.021 (constant 0.333 ± 0.004)`` per metric, one line each."""
    lines = []
    for key, mean in summary.get("mean", {}).items():
        std = summary["std"].get(key, 0.0)
        text = f"  {key:<16s} {mean:.4g} ± {std:.2g}"
        base = summary.get("baseline_mean", {}).get(key)
        if base is not None:
            text += f"   (constant predictor {base:.4g} ± {summary['baseline_std'].get(key, 0.0):.2g})"
        lines.append(text)
    return "\n".join(lines)


def cross_validate(
    spec_source: Spec | str | os.PathLike[str] | dict[str, Any],
    folds: int,
    *,
    data_path: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    reporter: Reporter | None = None,
    stop: StopRequest | None = None,
    stream: IO[str] | None = None,
) -> CrossValidationResult:
    """Train one run per fold under one parent folder and write ``cv.json``; print mean ± std to ``stream``."""
    from ..errors import UserError
    from .data import load_dataset
    from .runner import apply_overrides, new_run_dir, train

    stream = stream or sys.stdout
    stop = stop or StopRequest()
    spec = apply_overrides(load_spec(spec_source), data_path=data_path, epochs=epochs, batch_size=batch_size,
                           seed=seed)
    if folds < 2:
        raise UserError(f"--cv: Expected at least 2 folds. Received: {folds}")
    load_dataset(spec, fold=(0, folds))  # every data problem (too few rows per fold, ...) before a folder exists
    parent = new_run_dir(out, f"{spec.name}-cv{folds}")
    runs: list[dict[str, Any]] = []
    status = "completed"
    for index in range(folds):
        if stop.requested:
            status = "stopped"
            break
        stream.write(f"Fold {index + 1}/{folds}\n")
        stream.flush()
        result = train(spec, out=parent / f"fold-{index + 1}", reporter=reporter, stop=stop, fold=(index, folds))
        metrics = result.metrics or {}
        runs.append({
            "fold": index + 1,
            "run_dir": f"fold-{index + 1}",
            "status": str(result.status),
            "reason": result.reason,
            "test": metrics.get("test"),
            "baseline": (metrics.get("baseline") or {}).get("test"),
        })
        if str(result.status) == "failed":
            status = "failed"
            break
        if str(result.status) == "stopped":
            status = "stopped"
            break
    finished = [r for r in runs if r["status"] == "completed" and r["test"]]
    summary = {"folds": folds, "status": status, "runs": runs, **summarize_folds(finished)}
    runfolder.write_json(parent / runfolder.CV_FILE, summary)
    stream.write(f"Cross-validation {status}: {len(finished)} of {folds} folds, test metrics mean ± std:\n")
    stream.write(format_summary(summary) + "\n")
    stream.write(f"Folder: {parent}\n")
    stream.flush()
    return CrossValidationResult(parent, status, summary, 1 if status == "failed" else 0)
