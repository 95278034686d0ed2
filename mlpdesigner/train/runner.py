"""One training run: spec + data -> a run folder.

Order of work, so that bad input never leaves a half-written folder: load the
spec, read and check the data, set up TensorFlow and the device, build the
model; only then create the run folder, and from there on every ending
(completed, stopped, failed) writes it completely.

Faults, and what the run folder says:

- NaN or infinite loss: ``failed``, with the epoch and step and what to try.
- Out of memory: a run whose lower bound of memory
  (:mod:`mlpdesigner.train.memory`) exceeds what the machine offers, or whose
  model building, training or evaluation raises ``MemoryError`` /
  ``ResourceExhaustedError``, ends ``failed`` with a reason that suggests a
  smaller batch or fewer units (the folder is still written).
- The data file is read whole before training starts. Deleted before it is
  read: a :class:`~mlpdesigner.errors.UserError` (exit 2, no folder). Deleted
  once the run started: the run is unaffected; ``run.json`` records the path
  and SHA-256, and ``mlpdesigner evaluate`` later says the file is gone.
- The run folder removed during training: ``failed`` (reported on the
  console and in the ``end`` event); the folder is not recreated.
- The process killed (SIGKILL, a crash in native code): ``run.json`` keeps
  the status ``running`` written at the start, with ``pid`` and ``host``;
  readers (:func:`mlpdesigner.runfolder.current_status`) call such a run
  interrupted once that process is gone.

Speed: a small MLP trained with ``fit(batch_size=32)`` spends most of its time
in per-step overhead (one Python -> graph call per batch). ``steps_per_execution``
"auto" runs several batches per call into the graph (never more than an
epoch's steps), which leaves batch size, shuffling and the number of optimizer
updates as they were: up to :data:`AUTO_STEPS_SMALL_MODEL` for models of at
most :data:`SMALL_MODEL_PARAMS` parameters, where per-call overhead dominates
(measured interleaved on 8-30-30-1, 20,000 rows: 64 steps 169k samples/s,
256 steps 184k, a whole epoch of 625 steps 198k), and
:data:`AUTO_STEPS_PER_EXECUTION` for larger ones, whose steps are heavy enough
that 64 already hides the overhead while progress and Stop stay responsive. The data goes to ``fit`` as a
``tf.data`` pipeline of whole batches (:mod:`mlpdesigner.train.pipeline`):
seeded per-epoch shuffling of indices, one gather per batch, no copy of the
data; as fast as handing ``fit`` the NumPy arrays, in less memory
(``python -m bench --only pipeline``).
``jit_compile`` "auto" is XLA on a GPU and off on the CPU, where it did not
help an MLP reliably. ``bench/train_speed.py`` measures it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import numpy as np

from .. import runfolder
from ..atomic import atomic_write_bytes, atomic_write_text
from ..errors import ExitCode, UserError
from ..evaluation import record_run
from ..runfolder import RunInfo, RunStatus
from ..spec import Spec, analyze, dumps, load_spec
from ..spec.paths import relative_path
from ..spec.plan import Plan
from ..spec.registry import callback_calls
from .baseline import split_baselines
from .data import Dataset, split_warnings
from .memory import check_fits, is_out_of_memory, out_of_memory_message
from .onnx_artifact import record_run_onnx
from .pipeline import input_pipeline
from .progress import Reporter, StopRequest
from .stream import training_data

#: Batches per call into the compiled graph when ``steps_per_execution`` is "auto".
AUTO_STEPS_PER_EXECUTION = 64

#: Small models run up to this many batches per call ("auto"): a whole epoch of 20,000 rows.
AUTO_STEPS_SMALL_MODEL = 1024

#: Parameter count up to which a model counts as small for ``steps_per_execution``.
SMALL_MODEL_PARAMS = 20_000

#: Rows of the validation split saved as ``sample_inputs.npz``.
SAMPLE_ROWS = 256



@dataclass
class Settings:
    """How the model is fitted, after "auto" values are resolved."""

    epochs: int
    batch_size: int
    seed: int
    steps_per_epoch: int
    steps_per_execution: int
    jit_compile: bool
    device: str
    device_name: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """How a run ended and where it lies."""

    run_dir: Path
    status: RunStatus
    reason: str | None
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    exit_code: int


# --------------------------------------------------------------------------- spec and overrides


def apply_overrides(
    spec: Spec,
    *,
    data_path: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
) -> Spec:
    """The spec with command-line overrides written into it (checked again)."""
    for flag, value in (("--epochs", epochs), ("--batch-size", batch_size)):
        if value is not None and value < 1:
            raise UserError(f"{flag}: Expected a whole number of at least 1. Received: {value}")
    if seed is not None and not 0 <= seed <= 4294967295:
        raise UserError(f"--seed: Expected a number from 0 to 4294967295. Received: {seed}")
    raw = copy.deepcopy(spec.raw)
    training = raw.setdefault("training", {})
    for key, value in (("epochs", epochs), ("batch_size", batch_size), ("seed", seed)):
        if value is not None:
            training[key] = value
    if data_path is not None:
        if "data" not in raw:
            raise UserError(
                f"{spec.path or 'the spec'}: --data needs a data section that maps columns to inputs and outputs. "
                'Expected "data": {"path": ..., "columns": {name: [column, ...]}} in the spec.'
            )
        raw["data"]["path"] = str(Path(data_path).expanduser().resolve())
    return load_spec(analyze(raw, path=spec.path))


def frozen_spec(spec: Spec, data_file: Path, run_dir: Path) -> dict[str, Any]:
    """The spec as trained, its data path relative to the run folder (absolute if there is no relative path)."""
    raw = copy.deepcopy(spec.raw)
    raw["data"]["path"] = relative_path(data_file, run_dir)
    return raw


# --------------------------------------------------------------------------- TensorFlow set-up


def setup_device(requested: str) -> tuple[str, str]:
    """Choose the device ("cpu" or "gpu") and make TensorFlow use it; returns (device, description)."""
    from .. import tfenv

    tfenv.quiet()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if requested == "gpu" and not gpus:
        raise UserError(
            'training.device is "gpu", but TensorFlow sees no GPU. Expected a CUDA GPU with its drivers. '
            "Received: devices " + ", ".join(d.name for d in tf.config.list_physical_devices()),
            hint='set training.device to "auto" or "cpu" to train on the CPU',
        )
    if requested == "cpu" or not gpus:
        if gpus:
            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError:  # TensorFlow already initialized in this process: tf.device pins the CPU instead
                pass
        tf.config.experimental.enable_op_determinism()
        return "cpu", platform.processor() or platform.machine() or "cpu"
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):
            pass
    details = tf.config.experimental.get_device_details(gpus[0])
    return "gpu", str(details.get("device_name") or gpus[0].name)


def resolve_settings(spec: Spec, dataset: Dataset, device: str, device_name: str) -> Settings:
    """Resolve "auto" values of the training section for this data and device."""
    training = spec.checked()[0]["training"]
    batch_size = training["batch_size"]
    steps = max(1, -(-dataset.train.rows // batch_size))
    spe = training["steps_per_execution"]
    if spe == "auto":
        params = spec.plan.total_params if spec.plan else SMALL_MODEL_PARAMS + 1
        cap = AUTO_STEPS_SMALL_MODEL if params <= SMALL_MODEL_PARAMS else AUTO_STEPS_PER_EXECUTION
        spe = min(steps, cap)
    else:
        spe = int(spe)
    jit = training["jit_compile"]
    jit = device == "gpu" if jit == "auto" else bool(jit)
    return Settings(
        epochs=training["epochs"],
        batch_size=batch_size,
        seed=training["seed"],
        steps_per_epoch=steps,
        steps_per_execution=spe,
        jit_compile=jit,
        device=device,
        device_name=device_name,
    )


def model_inputs(model: Any, x: dict[str, np.ndarray]) -> Any:
    """Inputs in the form the model takes: one array, or a dict by input name."""
    return x[next(iter(x))] if len(x) == 1 else dict(x)


def model_targets(y: dict[str, np.ndarray]) -> Any:
    """Targets in the form the model takes: one array, or a dict by output name."""
    return y[next(iter(y))] if len(y) == 1 else dict(y)


def class_weights(spec: Spec, dataset: Dataset, settings: Settings) -> dict[int, float] | None:
    """``balanced`` class weights (n / (classes * count)) over the training rows, or None."""
    filled = spec.filled or {}  # the filled spec (class_weights is also given stand-ins in tests)
    if filled["training"]["class_weight"] != "balanced":
        return None
    outputs = filled["outputs"]
    if len(outputs) != 1 or outputs[0]["task"] not in ("binary", "multiclass"):
        settings.warnings.append(
            'training.class_weight "balanced" applies to a single binary or multiclass output; ignored here'
        )
        return None
    out = outputs[0]
    classes = 2 if out["task"] == "binary" else out["units"]
    if getattr(dataset, "streaming", False):
        counts = np.zeros(classes, dtype=np.int64)
        streamed = cast(Any, dataset).class_counts[out["name"]]  # a StreamDataset (mlpdesigner.train.stream)
        counts[: len(streamed)] = streamed
    else:
        target = dataset.train.y[out["name"]]
        index = target.argmax(axis=1) if target.ndim == 2 and target.shape[1] > 1 else target.reshape(-1).astype(int)
        counts = np.bincount(index, minlength=classes)
    present = counts > 0
    weights = {}
    for c in range(classes):
        weights[c] = float(counts.sum() / (present.sum() * counts[c])) if counts[c] else 1.0
    return weights


def make_callbacks(spec: Spec, dataset: Dataset, settings: Settings) -> list[Any]:
    """Early stopping and reduce-on-plateau from the training section, as the registry describes them."""
    from ..compile import instantiate

    has_validation = dataset.validation.rows > 0

    def monitor_for(section: str, monitor: str) -> str:
        if monitor.startswith("val_") and not has_validation:
            settings.warnings.append(
                f"training.{section}.monitor is {monitor!r} but there is no validation split; watching "
                f"{monitor[4:]!r} instead"
            )
            return monitor[4:]
        return monitor

    training = spec.checked()[0]["training"]
    from .health_callback import callbacks_for as health_callbacks

    calls = callback_calls(training, monitor_for, settings.warnings)
    return [instantiate(call) for call in calls] + health_callbacks(spec.checked()[1], dataset)


def build_for_training(spec: Spec, dataset: Dataset, settings: Settings) -> Any:
    """The compiled model, seeded, with the training split's normalization statistics."""
    from ..compile import build_model

    return build_model(
        spec,
        seed=settings.seed,
        normalization=dataset.normalization,
        target_scaling=dataset.target_scaling,
        steps_per_execution=settings.steps_per_execution,
        jit_compile=settings.jit_compile,
    )


def record_jit_used(model: Any, settings: Settings, requested: bool | str) -> None:
    """``settings.jit_compile`` becomes what Keras really compiled with; a refused explicit request is a warning.

    Keras turns XLA off, with only a Python warning, for models that contain a
    layer without XLA support (the inputs' Normalization layer) and whenever
    TensorFlow's op determinism is on (which the CPU set-up enables); ``run.json``
    and the ``start`` event must say what was used, not what was asked for.
    """
    used = bool(getattr(model, "jit_compile", settings.jit_compile))
    if settings.jit_compile and not used and requested is True:
        why = "deterministic ops on the CPU" if settings.device == "cpu" else "a layer without XLA support"
        settings.warnings.append(
            f"training.jit_compile is true, but Keras compiles this model without XLA ({why}); training without it"
        )
    settings.jit_compile = used


def fit_model(
    model: Any,
    dataset: Dataset,
    settings: Settings,
    callbacks: list[Any],
    class_weight: dict[int, float] | None = None,
) -> Any:
    """``model.fit`` on the training split, validating on the validation split.

    The splits go in as ``tf.data`` pipelines of whole batches
    (:func:`mlpdesigner.train.pipeline.input_pipeline`), shuffled per epoch
    under the spec's seed, sharing the split arrays' memory; the training
    pipeline holds every epoch in one pass (one iterator for the fit) when
    ``steps_per_execution`` divides the epoch's steps, which "auto" gives every small model.
    """
    train = dataset.train
    validation = dataset.validation
    if getattr(dataset, "streaming", False):  # read from the file every epoch (mlpdesigner.train.stream)
        from .stream_feed import pipeline

        return model.fit(
            pipeline(cast(Any, dataset), "train", settings.batch_size, shuffle_seed=settings.seed),
            epochs=settings.epochs,
            validation_data=(
                pipeline(cast(Any, dataset), "validation", settings.batch_size) if validation.rows else None
            ),
            shuffle=False,  # the pipeline shuffles
            class_weight=class_weight,
            callbacks=callbacks,
            verbose=0,
        )
    # One pass of every epoch (one iterator for the whole fit, not two per epoch) where each call into the graph
    # ends on an epoch's end; else calls would run on into the next epoch's batches.
    one_pass = settings.steps_per_epoch % settings.steps_per_execution == 0
    train_data = input_pipeline(
        model_inputs(model, train.x), model_targets(train.y), settings.batch_size, shuffle_seed=settings.seed,
        epochs=settings.epochs if one_pass else None,
    )
    validation_data = None
    if validation.rows:
        validation_data = input_pipeline(
            model_inputs(model, validation.x), model_targets(validation.y), settings.batch_size
        )
    return model.fit(
        train_data,
        epochs=settings.epochs,
        steps_per_epoch=settings.steps_per_epoch if one_pass else None,
        validation_data=validation_data,
        shuffle=False,  # the pipeline shuffles
        class_weight=class_weight,
        callbacks=callbacks,
        verbose=0,
    )


def evaluate_split(model: Any, split: Any, batch_size: int) -> dict[str, float] | None:
    """Metrics of the model on one split (None for an empty split)."""
    if split.rows == 0:
        return None
    if hasattr(split, "dataset"):  # a streamed split
        from .stream_feed import evaluate

        return evaluate(model, split, batch_size)
    # The in-order pipeline: the same batches as NumPy arrays would give, without Keras copying them into its own.
    result = model.evaluate(input_pipeline(model_inputs(model, split.x), model_targets(split.y), batch_size),
                            verbose=0, return_dict=True)
    return {k: float(v) for k, v in result.items()}


# --------------------------------------------------------------------------- the run folder


def check_run_dir(out: str | os.PathLike[str] | None) -> None:
    """Refuse, before any slow work, a run folder that :func:`new_run_dir` could not create.

    ``out`` must be a new or empty folder; without it, ``runs/`` in the
    current folder. The nearest existing folder above must be writable.
    """
    if out is not None:
        path = Path(out).expanduser().resolve()
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UserError(f"--out {out}: Expected a new or empty folder. Received: an existing non-empty path")
        label = f"--out {out}"
    else:
        path = Path.cwd() / "runs"
        label = f"the run folder {path}"
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{label}: cannot create the folder: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{label}: cannot create the folder: permission denied in {existing}")


def new_run_dir(out: str | os.PathLike[str] | None, name: str) -> Path:
    """Create the run folder: ``out`` (new or empty), else ``runs/<name>-<YYYYmmdd-HHMMSS>``."""
    if out is not None:
        path = Path(out).expanduser().resolve()
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UserError(f"--out {out}: Expected a new or empty folder. Received: an existing non-empty path")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out {out}: cannot create the folder: {exc.strerror or exc}") from None
        return path
    return runfolder.new_run_dir(Path.cwd() / "runs", name, create=True)


def save_model(model: Any, run_dir: Path) -> None:
    """``model.keras`` written atomically: a temporary name in the folder, then a rename."""
    partial = run_dir / runfolder.PARTIAL_MODEL_FILE
    try:
        model.save(partial)
        os.replace(partial, run_dir / runfolder.MODEL_FILE)
    finally:
        if partial.exists():
            partial.unlink()


def write_split_rows(dataset: Dataset, run_dir: Path) -> None:
    """``splits.npz``: the row indices (0-based data rows) of the train, validation and test splits."""
    from ..atomic import atomic_write_bytes

    if getattr(dataset, "streaming", False):
        atomic_write_bytes(run_dir / runfolder.SPLIT_ROWS_FILE, cast(Any, dataset).split_file_bytes())
        return
    buffer = io.BytesIO()
    rows = {name: split.indices.astype(np.int64) for name, split in dataset.splits.items()}
    np.savez(buffer, **rows)  # type: ignore[arg-type]  # numpy types the keywords as allow_pickle
    atomic_write_bytes(run_dir / runfolder.SPLIT_ROWS_FILE, buffer.getvalue())


def write_sample_inputs(dataset: Dataset, run_dir: Path) -> None:
    """Up to :data:`SAMPLE_ROWS` rows of the validation split (else test, else train), float32 per input."""
    if getattr(dataset, "streaming", False):
        chosen = cast(Any, dataset).sample_inputs  # a StreamDataset (mlpdesigner.train.stream)
    else:
        chosen = next((s for s in (dataset.validation, dataset.test, dataset.train) if s.rows), dataset.train).x
    arrays = {name: np.ascontiguousarray(values[:SAMPLE_ROWS], dtype=np.float32) for name, values in chosen.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy types the keywords as allow_pickle
    atomic_write_bytes(run_dir / runfolder.SAMPLES_FILE, buffer.getvalue())


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape a run."""
    import keras
    import tensorflow as tf

    from .. import __version__

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "mlpdesigner": __version__,
        "platform": platform.platform(),
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- the run, in four steps


@dataclass
class Prepared:
    """Everything a run needs before its folder exists: checked spec and data, settings, the model."""

    spec: Spec
    filled: dict[str, Any]
    plan: Plan
    dataset: Dataset
    settings: Settings
    model: Any
    #: Why the run fails before training (it cannot fit in memory), or None.
    failure: str | None
    class_weight: dict[int, float] | None
    callbacks: list[Any]
    started_wall: str
    t0: float
    data_seconds: float


def prepare(
    spec_source: Spec | str | os.PathLike[str] | dict[str, Any],
    *,
    data_path: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    fold: tuple[int, int] | None = None,
) -> Prepared:
    """Load the spec and data, set up the device, build the model; raises before anything is written.

    The cheap checks (spec, overrides, the run folder ``out``) come before the
    data is read and TensorFlow loads, so that their errors come at once.
    """
    started_wall = _now()
    t0 = time.monotonic()
    spec = apply_overrides(load_spec(spec_source), data_path=data_path, epochs=epochs, batch_size=batch_size, seed=seed)
    check_run_dir(out)
    dataset = training_data(spec, fold=fold)
    data_seconds = time.monotonic() - t0
    filled, plan = spec.checked()
    device, device_name = setup_device(filled["training"]["device"])
    settings = resolve_settings(spec, dataset, device, device_name)
    settings.warnings += split_warnings(dataset, spec) + getattr(dataset, "warnings", [])
    # A run that cannot fit in memory fails here, recorded in its folder, before TensorFlow tries.
    batch_rows = min(settings.batch_size, max(dataset.train.rows, dataset.validation.rows))
    failure = check_fits(plan, settings.batch_size, batch_rows, filled["training"]["optimizer"], device)
    model = None
    if failure is None:
        try:
            model = build_for_training(spec, dataset, settings)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            failure = out_of_memory_message(exc, plan, settings.batch_size, "building the model")
        else:
            record_jit_used(model, settings, filled["training"]["jit_compile"])
    weights = class_weights(spec, dataset, settings)
    callbacks = make_callbacks(spec, dataset, settings)
    return Prepared(spec, filled, plan, dataset, settings, model, failure, weights, callbacks, started_wall, t0,
                    data_seconds)


def data_advice_for_run(prepared: Prepared) -> list[Any]:
    """The located data advice (:func:`mlpdesigner.data.checks.dataset_advice`) but the split warnings.

    The split warnings are already among the run's warnings.
    """
    from ..data.checks import dataset_advice

    if getattr(prepared.dataset, "streaming", False):
        return []  # the advice looks at every row at once
    return [a for a in dataset_advice(prepared.spec, prepared.dataset) if a.kind != "small_split"]


def run_record(prepared: Prepared) -> RunInfo:
    """The ``run.json`` written when the run starts: status running, with this process's id and host."""
    spec, dataset, settings, filled = prepared.spec, prepared.dataset, prepared.settings, prepared.filled
    pid, pid_start, host = runfolder.this_process()
    return RunInfo(
        status=RunStatus.RUNNING,
        reason=None,
        pid=pid,
        pid_start=pid_start,
        host=host,
        spec=spec.name,
        spec_path=str(spec.path) if spec.path else None,
        seed=settings.seed,
        device=settings.device,
        device_name=settings.device_name,
        versions=versions(),
        data={
            "path": str(dataset.path),
            "sha256": dataset.sha256,
            "format": dataset.format,
            "rows": dataset.rows,
            "splits": {name: split.rows for name, split in dataset.splits.items()},
            "validation_split": filled["data"]["validation_split"],
            "test_split": filled["data"]["test_split"],
            "shuffle": filled["data"]["shuffle"],
            "stratify": filled["data"]["stratify"],
            "split_seed": dataset.seed,
            "split_rows": runfolder.SPLIT_ROWS_FILE,
            **getattr(dataset, "record", {}),
        },
        columns=dataset.inputs,
        targets={name: info.columns for name, info in dataset.outputs.items()},
        classes={name: names for name, names in dataset.classes.items() if names is not None},
        outputs={name: info.to_json() for name, info in dataset.outputs.items()},
        normalized_inputs=sorted(dataset.normalization),
        training={
            "epochs": settings.epochs,
            "batch_size": settings.batch_size,
            "steps_per_epoch": settings.steps_per_epoch,
            "steps_per_execution": settings.steps_per_execution,
            "jit_compile": settings.jit_compile,
            "class_weight": prepared.class_weight,
        },
        warnings=settings.warnings,
        timings={"started": prepared.started_wall, "data_seconds": round(prepared.data_seconds, 3)},
    )


def start_event(prepared: Prepared, run_dir: Path, info: RunInfo) -> dict[str, Any]:
    """The ``start`` event's keys (see :mod:`mlpdesigner.train.progress`)."""
    settings, dataset = prepared.settings, prepared.dataset
    return {
        "run_dir": str(run_dir),
        "spec": prepared.spec.name,
        "spec_path": info.spec_path,
        "data": str(dataset.path),
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "steps_per_epoch": settings.steps_per_epoch,
        "steps_per_execution": settings.steps_per_execution,
        "jit_compile": settings.jit_compile,
        "samples": dataset.train.rows,
        "validation_samples": dataset.validation.rows,
        "test_samples": dataset.test.rows,
        "device": settings.device,
        "device_name": settings.device_name,
        "seed": settings.seed,
    }


def fit_or_failure(prepared: Prepared, monitor: Any) -> str | None:
    """Fit the model; the failure reason when it raised (or could not start), else None."""
    if prepared.failure is not None:
        return prepared.failure
    try:
        fit_model(prepared.model, prepared.dataset, prepared.settings, [*prepared.callbacks, monitor],
                  prepared.class_weight)
    except Exception as exc:  # noqa: BLE001 - recorded in run.json, reported, and the exit code says failed
        if os.environ.get("MLPDESIGNER_DEBUG"):
            import traceback

            traceback.print_exc()
        if is_out_of_memory(exc):
            return out_of_memory_message(exc, prepared.plan, prepared.settings.batch_size, "training")
        return f"{type(exc).__name__}: {exc}"
    return None


def classify_ending(failure: str | None, nan_message: str | None, stop: StopRequest,
                    callbacks: list[Any]) -> tuple[RunStatus, str | None]:
    """How the fit ended: failed (an error, a NaN loss), stopped (by request), or completed (maybe early)."""
    if failure is not None:
        return RunStatus.FAILED, failure
    if nan_message:
        return RunStatus.FAILED, nan_message
    if stop.requested:
        return RunStatus.STOPPED, stop.reason
    stopper = next((c for c in callbacks if type(c).__name__ == "EarlyStopping"), None)
    if stopper is not None and stopper.stopped_epoch > 0:
        return RunStatus.COMPLETED, (
            f"early stopping: {stopper.monitor} did not improve for {stopper.patience} epochs "
            f"(best epoch {stopper.best_epoch + 1})"
        )
    return RunStatus.COMPLETED, None


def finish(prepared: Prepared, run_dir: Path, info: RunInfo, status: RunStatus, reason: str | None,
           history: list[dict[str, Any]], train_seconds: float) -> tuple[RunStatus, str | None, dict[str, Any]]:
    """Save the model, evaluate each split, and complete the run folder; returns the final (status, reason, metrics)."""
    settings = prepared.settings
    empty: dict[str, Any] = {split: None for split in runfolder.SPLITS}
    metrics = dict(empty)
    try:
        if status is not RunStatus.FAILED:
            save_model(prepared.model, run_dir)
            metrics = {
                name: evaluate_split(prepared.model, split, settings.batch_size)
                for name, split in prepared.dataset.splits.items()
            }
            metrics["baseline"] = split_baselines(prepared.filled["outputs"], prepared.dataset)
            record_run_onnx(prepared.model, prepared.spec, prepared.dataset, run_dir, info)
            viewed = prepared.dataset
            if getattr(viewed, "streaming", False):  # the views need rows in memory: a bounded sample of them
                viewed = cast(Any, viewed).views_sample()
            if why_no_views := record_run(run_dir, prepared.model, viewed, prepared.filled, settings.seed):
                info.warnings.append(why_no_views)
    except Exception as exc:  # noqa: BLE001
        status, reason = RunStatus.FAILED, f"saving or evaluating the model failed: {type(exc).__name__}: {exc}"
        if is_out_of_memory(exc):
            reason = out_of_memory_message(exc, prepared.plan, settings.batch_size, "saving or evaluating the model")
    if not run_dir.is_dir():
        # Deleted (or moved) while training: say so; do not recreate a folder the user removed.
        reason = f"the run folder {run_dir} was removed during the run; nothing could be saved"
        return RunStatus.FAILED, reason, dict(empty)
    info.status, info.reason = status, reason
    info.epochs_completed = len(history)
    info.timings.update(
        ended=_now(),
        train_seconds=round(train_seconds, 3),
        total_seconds=round(time.monotonic() - prepared.t0, 3),
    )
    try:
        runfolder.write_history(run_dir, history)
        runfolder.write_metrics(run_dir, metrics)
        runfolder.write_info(run_dir, info)
    except OSError as exc:
        status, reason = RunStatus.FAILED, f"cannot write the run folder {run_dir}: {exc.strerror or exc}"
        # A model without its record must not look usable; removing it also frees room for run.json.
        with contextlib.suppress(OSError):
            (run_dir / runfolder.MODEL_FILE).unlink(missing_ok=True)
        if not record_failure(run_dir, info, reason + " (the model was not kept)"):
            reason += "; run.json could not be updated either"
    return status, reason, metrics


def record_failure(run_dir: Path, info: RunInfo, reason: str) -> bool:
    """Record the run as failed: atomically, else by rewriting run.json in place (a full disk

    may have no room for a temporary file but still for the bytes the old record occupies).
    Returns False when nothing could be written.
    """
    info.status, info.reason = RunStatus.FAILED, reason
    info.timings.setdefault("ended", _now())
    try:
        runfolder.write_info(run_dir, info)
        return True
    except OSError:
        pass
    try:
        text = json.dumps(runfolder.json_safe(info.to_json()), separators=(",", ":"))
        with open(run_dir / runfolder.INFO_FILE, "r+", encoding="utf-8") as handle:
            handle.write(text)
            handle.truncate()
        return True
    except OSError:
        return False


def record_hard_stop(run_dir: Path, info: RunInfo, history: list[dict[str, Any]], stop: StopRequest) -> None:
    """Record a run stopped at once (a second signal): status "stopped", no model saved."""
    info.status = RunStatus.STOPPED
    first = stop.reason or "stopped"
    saved = (run_dir / runfolder.MODEL_FILE).is_file()
    info.reason = f"{first}; a second signal stopped it at once" + ("" if saved else " (the model was not saved)")
    info.epochs_completed = len(history)
    info.timings.update(ended=_now())
    with contextlib.suppress(OSError):
        runfolder.write_history(run_dir, history)
    with contextlib.suppress(OSError):
        runfolder.write_info(run_dir, info)


def initial_weights(prepared: Prepared, init_from: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """``--init-from``: the prepared model takes that run's weights; returns run.json's ``init_from`` record."""
    if init_from is None or prepared.model is None:
        return None
    from .init_from import initialize

    return initialize(prepared, init_from)


def train(
    spec_source: Spec | str | os.PathLike[str] | dict[str, Any],
    *,
    data_path: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    reporter: Reporter | None = None,
    stop: StopRequest | None = None,
    fold: tuple[int, int] | None = None,
    init_from: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Train a spec on its data and write the run folder.

    Raises :class:`~mlpdesigner.errors.UserError` (bad data, no GPU, bad
    folder) or :class:`~mlpdesigner.spec.SpecError` before anything is
    written. Once the folder exists, every ending is recorded in it and
    returned; ``stop`` (a :class:`~mlpdesigner.train.progress.StopRequest`)
    ends the run gracefully after the current batch. ``fold`` (index, count)
    trains on one cross-validation fold (see :mod:`mlpdesigner.train.crossval`).
    ``init_from`` (a run folder) starts from that run's weights (:mod:`mlpdesigner.train.init_from`).
    """
    reporter = reporter or Reporter()
    stop = stop or StopRequest()
    prepared = prepare(spec_source, data_path=data_path, out=out, epochs=epochs, batch_size=batch_size, seed=seed,
                       fold=fold)
    initial = initial_weights(prepared, init_from)
    from .callbacks import RunMonitor
    from .health_callback import attach as attach_health

    run_dir = new_run_dir(out, prepared.spec.name)
    for message in prepared.settings.warnings:
        print(f"warning: {message}", file=sys.stderr)
    for entry in data_advice_for_run(prepared):
        print(f"data: {entry.format()}", file=sys.stderr)
    info = run_record(prepared)
    if initial is not None:
        info.extra["init_from"] = initial
    try:
        atomic_write_text(run_dir / runfolder.SPEC_FILE,
                          dumps(frozen_spec(prepared.spec, prepared.dataset.path, run_dir)))
        runfolder.write_info(run_dir, info)
        write_sample_inputs(prepared.dataset, run_dir)
        write_split_rows(prepared.dataset, run_dir)
    except OSError as exc:  # disk full (or quota) before training started
        message = f"cannot write the run folder {run_dir}: {exc.strerror or exc}"
        recorded = record_failure(run_dir, info, message)
        raise UserError(
            message + ("; run.json records the run as failed" if recorded else "; nothing could be recorded there"),
            hint="free some disk space, or train with --out on another disk",
        ) from None
    reporter.start(start_event(prepared, run_dir, info))
    attach_health(prepared.callbacks, reporter, run_dir)

    settings = prepared.settings
    monitor = RunMonitor(reporter, stop, epochs=settings.epochs, steps=settings.steps_per_epoch)
    t_fit = time.monotonic()
    stop.on_hard_stop = lambda: record_hard_stop(run_dir, info, monitor.history, stop)
    try:
        failure = fit_or_failure(prepared, monitor)
        train_seconds = time.monotonic() - t_fit
        status, reason = classify_ending(failure, monitor.nan_message, stop, prepared.callbacks)
        status, reason, metrics = finish(prepared, run_dir, info, status, reason, monitor.history, train_seconds)
    except KeyboardInterrupt:  # a second SIGINT/SIGTERM: stop at once, but the record says so
        record_hard_stop(run_dir, info, monitor.history, stop)
        raise
    finally:
        stop.on_hard_stop = None
    reporter.end(
        {
            "status": status.value,
            "reason": reason,
            "run_dir": str(run_dir),
            "metrics": metrics,
            "epochs_completed": len(monitor.history),
            "elapsed": round(time.monotonic() - prepared.t0, 3),
        }
    )
    exit_code = ExitCode.FAILED if status is RunStatus.FAILED else ExitCode.OK
    return RunResult(run_dir, status, reason, metrics, monitor.history, exit_code)
