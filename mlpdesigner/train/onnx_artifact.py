"""``model.onnx`` in the run folder: written once at the end of training, so prediction needs no TensorFlow.

At the end of a run that saved its model, :func:`record_run_onnx` converts the
trained Keras model with the project's ONNX exporter (tf2onnx) and checks it
against Keras with onnxruntime on the run's sample rows and on random rows
(the same check as ``mlpdesigner export --format onnx``). ``run.json`` gets an
``onnx`` record: the file, the parity figures and the seconds it took, or why
there is no file. A failed conversion or check never fails the run: the
reason goes to ``run.json`` (``onnx.error`` and a warning) and ``predict`` /
``evaluate`` fall back to Keras, saying so.

The record also keeps what :mod:`mlpdesigner.train.onnx_metrics` needs to
compute Keras' loss without Keras: each output's loss, its compiled weight
(loss weight times the target-scaling factor) and Huber's delta, and the
model's regularization penalty (constant once the weights are trained).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import runfolder
from ..runfolder import RunInfo

#: Key of the record in ``run.json``.
RECORD_KEY = "onnx"


def loss_terms(filled: dict[str, Any], target_scaling: dict[str, tuple[Any, Any]] | None) -> dict[str, Any]:
    """Per output: the loss name, its weight in the total loss and (Huber) its delta, as ``compile_model`` sets them."""
    outputs = filled["outputs"]
    terms: dict[str, Any] = {}
    for out in outputs:
        name, loss = out["name"], out["loss"]
        factor, delta = 1.0, 1.0
        if target_scaling and name in target_scaling:
            scales = np.asarray(target_scaling[name][0], dtype="float64").reshape(-1)
            square, linear = float(np.mean(scales**2)), float(np.mean(scales))
            factor = 1.0 / square if loss in ("mse", "huber") else 1.0 / linear
            if loss == "huber":
                delta = float(np.sqrt(square))
        weight = factor if len(outputs) == 1 else out["loss_weight"] * factor
        terms[name] = {"loss": loss, "weight": weight, "delta": delta}
    return terms


def regularization_penalty(model: Any) -> float:
    """The sum of the model's weight regularization losses (what Keras adds to every reported loss)."""
    losses = list(getattr(model, "losses", []) or [])
    return float(sum(float(np.asarray(loss)) for loss in losses))


def record_run_onnx(model: Any, spec: Any, dataset: Any, run_dir: Path, info: RunInfo) -> dict[str, Any]:
    """Write ``model.onnx`` (checked against Keras) into the run folder; record the outcome in ``info``.

    Never raises for a conversion or parity failure: the reason lands in
    ``info.extra["onnx"]["error"]`` and ``info.warnings``, and on stderr.
    """
    t0 = time.monotonic()
    record: dict[str, Any] = {"file": None}
    try:
        from ..export import ExportSource, export_onnx

        source = ExportSource(spec, run_dir=run_dir, columns=dict(dataset.inputs),
                              classes={k: v for k, v in dataset.classes.items() if v is not None}, _model=model)
        report = export_onnx(source, run_dir / runfolder.ONNX_FILE)
        record.update(file=runfolder.ONNX_FILE, opset=report.opset, max_abs_diff=report.max_abs_diff,
                      max_scaled_diff=report.max_scaled_diff, tolerance=report.tolerance)
    except Exception as exc:  # noqa: BLE001 - any failure here leaves the run intact, and says why
        with_reason = f"{type(exc).__name__}: {exc}" if not str(exc).startswith(type(exc).__name__) else str(exc)
        record["error"] = with_reason
        message = f"no {runfolder.ONNX_FILE}: {with_reason}; predict and evaluate will use Keras"
        info.warnings.append(message)
        print(f"warning: {message}", file=sys.stderr)
        with contextlib.suppress(OSError):  # a half-written file must not look usable
            (run_dir / runfolder.ONNX_FILE).unlink(missing_ok=True)
    filled = spec.checked()[0]
    try:
        record["losses"] = loss_terms(filled, dataset.target_scaling)
        record["regularization"] = regularization_penalty(model)
    except Exception as exc:  # noqa: BLE001 - without them evaluate falls back to Keras
        record["losses_error"] = f"{type(exc).__name__}: {exc}"
    record["seconds"] = round(time.monotonic() - t0, 3)
    info.extra[RECORD_KEY] = record
    return record
