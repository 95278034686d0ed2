"""Evaluation views of a trained run: the data (``evaluation.json``) and the pictures (PNG and SVG).

Computed once at the end of a run on its test split (the validation split when
there is no test split) from the trained model's predictions, and again by
``mlpdesigner evaluate RUN_DIR --views``. Each fold of a cross-validation is an
ordinary run folder, so each gets its own evaluation of its test fold.

The data is written at the end of the run; the pictures are drawn from it the
first time something shows them (:func:`evaluation_with_figures`: the
designer's Evaluation view, ``mlpdesigner report``) and then stored in the run
folder like the rest, or at once by ``evaluate --views``. Importing matplotlib
and drawing cost a train command about as much as a third of its epochs on the
housing starter (issue 18), for pictures most runs never show.

No Qt and no TensorFlow here: :func:`evaluate_outputs` takes predictions
(from Keras, or from any other runtime), :func:`write_evaluation` stores them,
and the pictures (in the run's ``evaluation/`` folder) are drawn by :mod:`mlpdesigner.evaluation.figures`
(matplotlib, imported only there). Drawing that fails leaves the data in place
and says why in ``figures_error``; it never fails the run.

``evaluation.json``::

    {"format": 1, "split": "test", "rows": N,
     "outputs": {name: {"task": ..., ...}},           # see mlpdesigner.evaluation.metrics
     "figures": {name: {"png": "evaluation/<name>.png", "svg": "evaluation/<name>.svg"}},  # {} until drawn
     "figures_error": null}
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import runfolder
from ..runfolder import EVALUATION_FILE, EVALUATION_FOLDER, RunFolderError
from .metrics import multilabel, regression_summary, single_label

FORMAT = 1


def figure_stem(output: str) -> str:
    """The path (relative to the run folder, without extension) of an output's picture."""
    return f"{EVALUATION_FOLDER}/" + re.sub(r"[^A-Za-z0-9_-]", "_", output)


def evaluate_outputs(outputs: list[dict[str, Any]], truth: dict[str, np.ndarray],
                     predictions: dict[str, np.ndarray], classes: dict[str, list[str]] | None = None,
                     *, seed: int = 0) -> dict[str, Any]:
    """The views of every output (``outputs``: the filled spec's heads, with name and task).

    ``truth`` holds the targets as the run's data gives them (class indices,
    one-hot rows or 0/1 columns; regression values); ``predictions`` the
    model's outputs (probabilities, regression values) by output name.
    """
    classes = classes or {}
    views: dict[str, Any] = {}
    for out in outputs:
        name, task = out["name"], out["task"]
        if name not in predictions or name not in truth:
            continue
        y = np.asarray(truth[name])
        p = np.asarray(predictions[name], dtype=np.float64)
        p = p.reshape(len(p), -1)
        names = classes.get(name) or out.get("classes")
        if task == "regression":
            views[name] = regression_summary(y, p, seed=seed)
        elif task == "multilabel":
            views[name] = multilabel(y, p, names)
        else:
            index = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
            views[name] = single_label(index, p, names, task)
    return views


def write_evaluation(run_dir: Path, views: dict[str, Any], *, split: str, rows: int,
                     draw: bool = True) -> dict[str, Any]:
    """Write ``evaluation.json`` and (with ``draw``) the pictures; returns what was written.

    A picture that cannot be drawn is recorded in ``figures_error``; the JSON is written either way.
    """
    record: dict[str, Any] = {"format": FORMAT, "split": split, "rows": rows, "outputs": views,
                              "figures": {}, "figures_error": None}
    if draw:
        try:
            from .figures import draw_all

            record["figures"] = draw_all(views, run_dir)
        except Exception as exc:  # noqa: BLE001 - pictures are a view; the data stays and says why
            record["figures_error"] = f"{type(exc).__name__}: {exc}"
    runfolder.write_json(run_dir / EVALUATION_FILE, record)
    return record


def predict_outputs(model: Any, x: dict[str, np.ndarray], names: list[str], batch_size: int = 1024
                    ) -> dict[str, np.ndarray]:
    """A Keras model's predictions by output name (the model is called, TensorFlow not imported here)."""
    inputs = x[next(iter(x))] if len(x) == 1 else dict(x)
    raw = model.predict(inputs, batch_size=batch_size, verbose=0)
    if isinstance(raw, dict):
        return {k: np.asarray(v) for k, v in raw.items()}
    if isinstance(raw, (list, tuple)):
        return dict(zip(names, map(np.asarray, raw)))
    return {names[0]: np.asarray(raw)}


def record_run(run_dir: Path, model: Any, dataset: Any, filled: dict[str, Any], seed: int = 0) -> str | None:
    """At the end of a run: evaluate the model on the test split (else validation) and write the views' data.

    The pictures are drawn when first shown (:func:`evaluation_with_figures`).

    Never raises: returns None when written, else why not (also left in
    ``evaluation.json`` where the folder can still be written).
    """
    split_name = "test" if dataset.test.rows else "validation"
    split = dataset.splits[split_name]
    if not split.rows:
        return "no test or validation rows to evaluate on"
    try:
        names = [out["name"] for out in filled["outputs"]]
        predictions = predict_outputs(model, split.x, names)
        views = evaluate_outputs(filled["outputs"], split.y, predictions, dataset.classes, seed=seed)
        write_evaluation(run_dir, views, split=split_name, rows=split.rows, draw=False)
    except Exception as exc:  # noqa: BLE001 - the run's model and metrics are saved; the views are extra
        reason = f"evaluation views failed: {type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            runfolder.write_json(run_dir / EVALUATION_FILE, {"format": FORMAT, "error": reason})
        return reason
    return None


def read_evaluation(run_dir: str | Path) -> dict[str, Any] | None:
    """``evaluation.json`` of a run folder, or None when there is none or it cannot be read as one."""
    path = Path(run_dir) / EVALUATION_FILE
    if not path.is_file():
        return None
    try:
        data = runfolder.read_json(path)
    except RunFolderError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("outputs", {}), dict):
        return None
    return data


def missing_figures(run_dir: str | Path, record: dict[str, Any]) -> bool:
    """Whether some output of ``record`` has no picture on disk while none failed to draw (then drawing is due)."""
    if record.get("error") or record.get("figures_error") or not record.get("outputs"):
        return False
    figures = record.get("figures")
    figures = figures if isinstance(figures, dict) else {}
    for name in record["outputs"]:
        files = figures.get(name)
        if not isinstance(files, dict) or not all(
            isinstance(files.get(kind), str) and (Path(run_dir) / files[kind]).is_file() for kind in ("png", "svg")
        ):
            return True
    return False


def evaluation_with_figures(run_dir: str | Path) -> dict[str, Any] | None:
    """``evaluation.json`` of a run folder with its pictures, drawn (and stored there) now if they are missing.

    What readers that show pictures call (the designer's Evaluation view, the
    report). A picture that cannot be drawn, or a folder that cannot take
    them, is said in ``figures_error`` of the returned record (and of the file,
    where it can be written); the data is returned either way. None when there
    is no readable ``evaluation.json``.
    """
    record = read_evaluation(run_dir)
    if record is None or not missing_figures(run_dir, record):
        return record
    run_dir = Path(run_dir)
    try:
        from .figures import draw_all

        record["figures"] = draw_all(record["outputs"], run_dir)
    except Exception as exc:  # noqa: BLE001 - pictures are a view; the data stays and says why
        record["figures"], record["figures_error"] = {}, f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(OSError):  # a read-only folder: shown now, drawn again next time
        runfolder.write_json(run_dir / EVALUATION_FILE, record)
    return record
