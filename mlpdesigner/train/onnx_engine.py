"""Predictions of a trained run with onnxruntime, from the run folder's ``model.onnx`` (no TensorFlow).

``predict`` and ``evaluate`` pick an engine with :func:`choose_engine`:
``onnx`` when the run folder holds a ``model.onnx`` that passed its check at
the end of training, else Keras, with one line on stderr that says why
(an older run folder, a failed conversion). ``--engine keras`` asks for Keras;
``--engine onnx`` refuses a run without a usable ONNX model.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import runfolder
from ..errors import UserError
from ..runfolder import RunInfo, RunStatus
from ..spec import Spec
from .onnx_artifact import RECORD_KEY

#: The engines ``--engine`` offers.
ENGINES = ("auto", "onnx", "keras")

#: Rows per onnxruntime call: bounds the memory of the hidden activations on large files.
CHUNK_ROWS = 65_536


@dataclass
class Engine:
    """The engine a command runs: ``onnx`` with its session, or ``keras`` (and why, when it was not asked for)."""

    name: str
    session: Any = None
    fallback_reason: str | None = None
    #: The Keras model, once loaded (the ``keras`` engine, or a fallback).
    model: Any = None


def onnx_unavailable(run: Path, info: RunInfo) -> str | None:
    """Why the run's ``model.onnx`` cannot be used, or None when it can."""
    record = info.extra.get(RECORD_KEY)
    path = run / runfolder.ONNX_FILE
    if isinstance(record, dict) and record.get("error"):
        return f"training could not write {runfolder.ONNX_FILE}: {record['error']}"
    if not path.is_file():
        if record is None and info.status is RunStatus.IMPORTED:
            return f"the run folder has no {runfolder.ONNX_FILE} (written by mlpdesigner import)"
        if record is None:
            return f"the run folder has no {runfolder.ONNX_FILE} (written by an older version of MLP Designer)"
        return f"the run folder has no {runfolder.ONNX_FILE}"
    return None


def open_session(path: Path) -> Any:
    """An onnxruntime CPU session of ``path``; a :class:`UserError` naming the file when it cannot load."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise UserError(f"{path}: onnxruntime cannot load it: {exc}") from None


def check_session_matches_spec(session: Any, spec: Spec, run: Path) -> None:
    """Refuse a ``model.onnx`` whose input and output shapes are not those its run's ``spec.json`` describes."""
    plan = spec.checked()[1]

    def shapes(values: Any, names: list[str]) -> list[tuple]:
        by_name = {v.name: tuple(v.shape[1:]) for v in values}
        return [by_name[name] for name in names]

    expected_in = [tuple(plan.node(name).shape) for name in plan.inputs]
    expected_out = [tuple(plan.node(name).shape) for name in plan.outputs]
    got_in, got_out = shapes(session.get_inputs(), plan.inputs), shapes(session.get_outputs(), plan.outputs)
    def fits(got: list[tuple], expected: list[tuple]) -> bool:  # a named (symbolic) dimension fits any size
        return all(len(g) == len(e) and all(not isinstance(a, int) or a == b for a, b in zip(g, e))
                   for g, e in zip(got, expected, strict=True))

    if not fits(got_in, expected_in) or not fits(got_out, expected_out):
        raise UserError(
            f"{run / runfolder.ONNX_FILE}: the model does not match {run / runfolder.SPEC_FILE}: it takes inputs of "
            f"shape {got_in} and gives outputs of shape {got_out}. Expected inputs {expected_in} and outputs "
            f"{expected_out} (inputs {plan.inputs}, outputs {plan.outputs}). The run folder mixes files of "
            "different runs: train again."
        )


def choose_engine(
    run: Path, spec: Spec, info: RunInfo, requested: str = "auto", *, action: str = "predicting"
) -> Engine:
    """The engine for a run: ONNX where the run has a usable model (``auto``, ``onnx``), else Keras.

    With ``auto`` a fallback to Keras prints one line on stderr naming the reason.
    """
    if requested not in ENGINES:
        raise UserError(f"--engine: Expected one of {', '.join(ENGINES)}. Received: {requested!r}")
    if requested == "keras":
        return Engine("keras")
    reason = onnx_unavailable(run, info)
    session = None
    if reason is None:
        try:
            session = open_session(run / runfolder.ONNX_FILE)
        except UserError as exc:
            reason = str(exc)
    if session is not None:
        plan = spec.checked()[1]
        names = sorted(i.name for i in session.get_inputs()), sorted(o.name for o in session.get_outputs())
        if names != (sorted(plan.inputs), sorted(plan.outputs)):
            reason = (f"{run / runfolder.ONNX_FILE} has inputs {names[0]} and outputs {names[1]}; expected "
                      f"{sorted(plan.inputs)} and {sorted(plan.outputs)} (the run's spec)")
            session = None
    if session is not None:
        check_session_matches_spec(session, spec, run)
        return Engine("onnx", session)
    if requested == "onnx":
        raise UserError(f"{run}: --engine onnx: {reason}. Expected a run folder with a checked {runfolder.ONNX_FILE}",
                        hint="use --engine keras (or auto), or export one with mlpdesigner export --format onnx")
    print(f"note: {action} with Keras (loads TensorFlow): {reason}", file=sys.stderr)
    return Engine("keras", fallback_reason=reason)


def onnx_predict(session: Any, spec: Spec, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output name -> predictions (float32, one row per data row) of the ONNX model."""
    plan = spec.checked()[1]
    inputs, outputs = list(plan.inputs), list(plan.outputs)
    rows = len(next(iter(x.values()))) if x else 0
    feeds = {name: np.ascontiguousarray(x[name], dtype=np.float32) for name in inputs}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in outputs}
    for start in range(0, max(rows, 1), CHUNK_ROWS):
        chunk = {name: values[start:start + CHUNK_ROWS] for name, values in feeds.items()}
        for name, values in zip(outputs, session.run(outputs, chunk), strict=True):
            parts[name].append(np.asarray(values))
    return {name: np.concatenate(chunks) if len(chunks) > 1 else chunks[0] for name, chunks in parts.items()}


def keras_predict(model: Any, spec: Spec, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output name -> predictions of the Keras model (``model.predict``)."""
    from .runner import model_inputs

    raw = model.predict(model_inputs(model, x), batch_size=1024, verbose=0)
    names = [o["name"] for o in spec.checked()[0]["outputs"]]
    if isinstance(raw, dict):
        return {k: np.asarray(v) for k, v in raw.items()}
    if isinstance(raw, (list, tuple)):
        return dict(zip(names, map(np.asarray, raw)))
    return {names[0]: np.asarray(raw)}


def engine_metrics(engine: Engine, run: Path, spec: Spec, info: RunInfo, split: Any, batch_size: int) -> Any:
    """Loss and metrics of the run's model on one split: NumPy on ONNX predictions, else Keras' ``evaluate``.

    A loss or metric :mod:`mlpdesigner.train.onnx_metrics` does not compute
    falls back to Keras, saying so on stderr.
    """
    from .onnx_metrics import MetricUnavailable, evaluate_predictions

    if split.rows == 0:
        return None
    if engine.session is not None:
        try:
            predictions = onnx_predict(engine.session, spec, split.x)
            return evaluate_predictions(spec.checked()[0]["outputs"], split.y, predictions,
                                        info.extra.get(RECORD_KEY) or {}, batch_size)
        except MetricUnavailable as exc:
            print(f"note: evaluating with Keras (loads TensorFlow): no NumPy version of {exc}", file=sys.stderr)
            engine.fallback_reason = str(exc)
    if engine.model is None:
        from .cli import load_run

        engine.model = load_run(run)[3]
    from .runner import evaluate_split

    return evaluate_split(engine.model, split, batch_size)
