"""The ``train``, ``evaluate``, ``predict`` and ``demo`` commands.

``mlpdesigner train SPEC [--data FILE] [--epochs N] [--batch-size N] [--out DIR] [--progress P] [--seed N]``
    ``--progress`` (bar, jsonl or none) defaults to ``bar`` when stdout is a terminal, else ``none``
    (a short summary at the end either way). ``jsonl`` makes stdout carry
    only JSON events, one per line (format: :mod:`mlpdesigner.train.progress`);
    everything else TensorFlow or Python prints goes to stderr. SIGINT and
    SIGTERM stop the run after the current batch and still write the run
    folder (status ``stopped``); a second signal stops at once.
    Exit codes (:class:`~mlpdesigner.errors.ExitCode`): 0 completed or stopped, 1 failed, 2 bad input
    (an invalid spec, missing data, a bad option).
``mlpdesigner train SPEC --init-from RUN_DIR [...]``
    Starts from the weights of a finished or imported run whose model has the
    same architecture (:mod:`mlpdesigner.train.init_from`); ``run.json`` records
    ``init_from``. A run that cannot be used, or a design that does not match
    it (the error names the first layer that differs), is bad input (exit 2).
``mlpdesigner train SPEC --cv K [...]``
    K-fold cross-validation (:mod:`mlpdesigner.train.crossval`): one run folder
    per fold under one parent folder, ``cv.json`` there, and the test metrics'
    mean ± std on the terminal.
``mlpdesigner evaluate RUN_DIR [--data FILE] [--json] [--views]``
    Metrics on the run's test split (the rows stored in the run's ``splits.npz``;
    for older runs, recomputed from the split settings), or on every row of ``--data``. A run whose
    ``run.json`` still says ``running`` is refused (exit 2): still training, or
    interrupted when its process is gone (killed, crashed, out of memory).
    When the run's data file is gone, the error says so and asks for ``--data``.
    ``--views`` also writes the evaluation views of the test split into the run
    folder again (``evaluation.json`` and its pictures; :mod:`mlpdesigner.evaluation`).
``mlpdesigner predict RUN_DIR --data FILE -o OUT.csv``
    One row per data row. Columns per output: regression ``name`` (one unit)
    or ``name_<i>``; binary ``name`` (the predicted label) and
    ``name_<second class>_probability`` (the probability of that class); multiclass
    ``name`` (the predicted label) and ``name_<class>`` (one probability per
    class); multilabel ``name_<label>`` (0/1 at 0.5) and
    ``name_<label>_probability``.
``mlpdesigner demo [--out DIR]``
    Trains the built-in Wide & Deep design on the bundled housing data.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .. import runfolder
from ..errors import ExitCode, UserError
from ..runfolder import RunInfo, RunStatus
from ..safeio import check_output_file, csv_safe
from ..spec import Spec, SpecError, load_spec
from .health import print_advice
from .progress import BarReporter, JsonlReporter, QuietReporter, Reporter, StopRequest

#: The design ``mlpdesigner demo`` trains (under resources/).
DEMO_SPEC = ("demo", "housing_wide_deep.json")


@contextlib.contextmanager
def graceful_stop(stop: StopRequest, *, exit_at_once: bool = False) -> Iterator[None]:
    """SIGINT/SIGTERM request a stop after the current batch; a second one interrupts at once.

    ``exit_at_once`` (the console script, whose process ends with the command): once
    TensorFlow is loaded, the second signal records the run as stopped
    (``stop.on_hard_stop``) and ends the process from the handler, exit code 130,
    instead of raising ``KeyboardInterrupt`` through whatever TensorFlow was doing.
    Unwinding from there ended one run of the suite in a segmentation fault (exit
    -11) before anything was recorded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [signal.SIGINT, signal.SIGTERM]
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        if stop.requested:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
            if exit_at_once and "tensorflow" in sys.modules:
                _end_at_once(stop)
            raise KeyboardInterrupt
        stop.request(f"stopped by {signal.Signals(signum).name}")

    for sig in signals:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _end_at_once(stop: StopRequest) -> None:
    """Record the run stopped at once, say "interrupted" and end the process with exit code 130 (no unwinding)."""
    from ..cli import exit_now

    with contextlib.suppress(Exception):  # whatever fails here, the process still ends
        if stop.on_hard_stop is not None:
            stop.on_hard_stop()
    with contextlib.suppress(Exception):  # stderr may be busy (the handler interrupted a write) or closed
        print("interrupted", file=sys.stderr)
    exit_now(int(ExitCode.INTERRUPTED))


@contextlib.contextmanager
def stdout_for_events() -> Iterator[IO[str]]:
    """A stream on the real stdout for JSON events; everything else written to stdout goes to stderr.

    At the file-descriptor level where possible, so that messages printed by
    TensorFlow's C++ code cannot mix with the events either.
    """
    stream = sys.stdout
    try:
        out_fd, err_fd = stream.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        with contextlib.redirect_stdout(sys.stderr):
            yield stream
        return
    stream.flush()
    saved = os.dup(out_fd)
    events = open(os.dup(out_fd), "w", encoding="utf-8", buffering=1, closefd=True)
    os.dup2(err_fd, out_fd)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield events
    finally:
        events.flush()
        sys.stdout.flush()
        os.dup2(saved, out_fd)
        os.close(saved)
        events.close()


def _spec_error_text(exc: SpecError) -> str:
    return "; ".join(p.format(exc.source or "<spec>") for p in exc.problems if p.is_error)


def _train_with_progress(spec: Any, args: argparse.Namespace, progress: str | None, **overrides: Any) -> Any:
    from .runner import train

    progress = progress or ("bar" if sys.stdout.isatty() else "none")
    stop = StopRequest()
    with graceful_stop(stop, exit_at_once=getattr(args, "exit_fast", False)):
        if progress != "jsonl":
            reporter: Reporter = BarReporter(sys.stdout) if progress == "bar" else QuietReporter(sys.stdout)
            return train(spec, reporter=reporter, stop=stop, **overrides)
        with stdout_for_events() as events:
            jsonl = JsonlReporter(events)
            try:
                return train(spec, reporter=jsonl, stop=stop, **overrides)
            except UserError as exc:
                jsonl.error(str(exc))
                raise
            except SpecError as exc:
                jsonl.error(_spec_error_text(exc))
                raise
            except Exception as exc:
                jsonl.error(f"internal error: {type(exc).__name__}: {exc}")
                raise


def run_cross_validation(args: argparse.Namespace) -> int:
    """``mlpdesigner train --cv K``: one run per fold, then mean ± std per test metric."""
    from .crossval import cross_validate

    progress = getattr(args, "progress", None) or ("bar" if sys.stdout.isatty() else "none")
    stop = StopRequest()
    with graceful_stop(stop, exit_at_once=getattr(args, "exit_fast", False)):
        if progress == "jsonl":
            reporter: Reporter = JsonlReporter(sys.stdout)
            stream = sys.stderr
        else:
            reporter = BarReporter(sys.stdout) if progress == "bar" else QuietReporter(sys.stdout)
            stream = sys.stdout
        result = cross_validate(
            args.spec,
            args.cv,
            data_path=getattr(args, "data", None),
            out=getattr(args, "out", None),
            epochs=getattr(args, "epochs", None),
            batch_size=getattr(args, "batch_size", None),
            seed=getattr(args, "seed", None),
            reporter=reporter,
            stop=stop,
            stream=stream,
        )
    return result.exit_code


def run_train(args: argparse.Namespace) -> int:
    """``mlpdesigner train``: train a spec and write a run folder."""
    if not faulthandler.is_enabled():  # a crash in native code leaves at least a Python traceback on stderr
        with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):  # stderr without a file
            faulthandler.enable()
    init_from = getattr(args, "init_from", None)
    if init_from is not None:
        from .init_from import check_source

        if getattr(args, "cv", None) is not None:
            raise UserError("--init-from cannot be combined with --cv. Expected one of them: cross-validation "
                            "measures a design trained from scratch on each fold")
        check_source(init_from)
    if getattr(args, "cv", None) is not None:
        return run_cross_validation(args)
    result = _train_with_progress(
        args.spec,
        args,
        getattr(args, "progress", None),
        data_path=getattr(args, "data", None),
        out=getattr(args, "out", None),
        epochs=getattr(args, "epochs", None),
        batch_size=getattr(args, "batch_size", None),
        seed=getattr(args, "seed", None),
        init_from=init_from,
    )
    print_advice(result.run_dir, sys.stderr)
    return result.exit_code


# --------------------------------------------------------------------------- trained runs


def open_run(run_dir: str | os.PathLike[str]) -> tuple[Path, Spec, RunInfo]:
    """(folder, frozen spec, run.json) of a finished run folder that saved its model; no TensorFlow."""
    run = Path(run_dir).expanduser().resolve()
    if not run.is_dir():
        raise UserError(f"Run folder not found: {run}. Expected a folder written by mlpdesigner train.")
    for name in (runfolder.SPEC_FILE, runfolder.INFO_FILE):
        if not (run / name).is_file():
            raise UserError(f"{run}: no {name}. Expected a folder written by mlpdesigner train.")
    info = runfolder.read_info(run)
    runfolder.remove_leftovers(run, info)
    unfinished = runfolder.unfinished_run_message(run, info)
    if unfinished:
        raise UserError(unfinished)
    model_file = run / runfolder.MODEL_FILE
    if not model_file.is_file():
        why = f" (the run {info.status}: {info.reason})" if info.status is not RunStatus.COMPLETED else ""
        raise UserError(f"{run}: no {runfolder.MODEL_FILE}{why}. Expected a run that saved its model.")
    return run, load_spec(run / runfolder.SPEC_FILE), info


def load_run(run_dir: str | os.PathLike[str]) -> tuple[Path, Spec, RunInfo, Any]:
    """(folder, frozen spec, run.json, Keras model) of a run folder."""
    run, spec, info = open_run(run_dir)
    model_file = run / runfolder.MODEL_FILE
    from ..modelfile import check_model_matches_spec, load_keras_model
    from .runner import setup_device

    requested = spec.checked()[0]["training"]["device"]
    setup_device("auto" if requested == "gpu" else requested)
    try:
        model = load_keras_model(model_file)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is the user's input
        raise UserError(f"{model_file}: cannot load the model: {type(exc).__name__}: {exc}") from None
    check_model_matches_spec(model, spec.checked()[1], model_file, run / runfolder.SPEC_FILE)
    return run, spec, info, model


def require_data_file(data: str | os.PathLike[str] | None) -> None:
    """Refuse a ``--data`` path that is not a file, before the run's model (and TensorFlow) loads."""
    if data is None:
        return
    path = Path(data).expanduser()
    if not path.exists():
        raise UserError(f"--data {data}: no such file. Expected an existing CSV or .npz file.")
    if path.is_dir():  # a folder of shards (mlpdesigner.train.stream), checked before TensorFlow loads
        from .stream import shard_files

        try:
            shard_files(path.resolve())
        except UserError as exc:
            raise UserError(f"--data {data}: not a file, nor a folder of data shards: {exc}") from None
        return
    if not path.is_file():
        raise UserError(f"--data {data}: not a file. Expected an existing CSV or .npz file.")


def _check_same_data(info: RunInfo, dataset: Any) -> None:
    recorded = info.data.get("sha256")
    if recorded and recorded != dataset.sha256:
        print(
            f"warning: {dataset.path} changed since the run was trained (SHA-256 differs); "
            "the test split is not the one the run held out",
            file=sys.stderr,
        )


def stored_split_rows(run: Path, info: Any, dataset: Any) -> dict[str, np.ndarray] | None:
    """The split row indices the run stored (``splits.npz``), when they fit the data as it is now.

    None for runs written before splits were stored, a changed data file (the
    SHA-256 differs: the warning says the split is not the held-out one) or an
    unreadable file; then the split is recomputed from the settings.
    """
    from ..runfolder import SPLIT_ROWS_FILE

    path = run / SPLIT_ROWS_FILE
    recorded = (info.data or {}).get("sha256")
    if not path.is_file() or (recorded and recorded != dataset.sha256):
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            rows = {name: np.asarray(archive[name], dtype=np.int64) for name in ("train", "validation", "test")}
    except (OSError, ValueError, KeyError) as exc:
        print(f"warning: {path}: cannot read the stored split ({exc}); recomputing it", file=sys.stderr)
        return None
    if any(r.size and (r.min() < 0 or r.max() >= dataset.rows) for r in rows.values()):
        print(f"warning: {path}: row indices outside the data; recomputing the split", file=sys.stderr)
        return None
    return rows


def run_evaluate(args: argparse.Namespace) -> int:
    """``mlpdesigner evaluate``: metrics of a trained run."""
    from .data import load_dataset, read_data
    from .onnx_engine import choose_engine, engine_metrics

    require_data_file(args.data)
    if getattr(args, "views", False) and args.data:
        raise UserError("--views with --data: Expected one of them. --views recomputes the run's own views on its "
                        "test split; --data evaluates another file without changing the run folder.")
    run, spec, info = open_run(args.run)
    data_file = spec.data_file()
    if not args.data and data_file is not None and not data_file.exists():
        digest = info.data.get("sha256") or "?"
        raise UserError(
            f"{run}: the run's data file {data_file} is gone (moved or deleted since training; run.json "
            f"records its SHA-256 {digest[:16]}...). Expected it back in place, or --data FILE to evaluate "
            "on another file."
        )
    engine = choose_engine(run, spec, info, getattr(args, "engine", None) or "auto", action="evaluating")
    if engine.session is None:
        run, spec, info, engine.model = load_run(run)
    classes: dict[str, list[str] | None] = dict(info.classes)
    batch_size = info.training.get("batch_size") or 32
    from .stream_feed import evaluates_streaming, evaluation_report

    if evaluates_streaming(spec, info, args.data):
        if getattr(args, "views", False):
            raise UserError(f"{run}: --views draws the evaluation views from the test split held in memory, but this "
                            "run's data is streamed. Expected a run trained on data read whole.")
        if engine.model is None:  # streamed evaluation runs the Keras model chunk by chunk
            engine.model = load_run(run)[3]
        return print_evaluation(evaluation_report(run, spec, info, engine.model, args.data, batch_size), args)
    if args.data:
        dataset = read_data(spec, args.data, classes=classes)
        split = dataset.subset(np.arange(dataset.rows))
        where = "file"
    else:
        dataset = load_dataset(spec, classes=classes)
        _check_same_data(info, dataset)
        split = dataset.splits["test"]
        stored = stored_split_rows(run, info, dataset)
        if stored is not None:
            split = dataset.subset(stored["test"])
            training_rows = dataset.subset(stored["train"])
        else:
            training_rows = dataset.train
        where = "test"
        if split.rows == 0:
            raise UserError(f"{run}: the run has no test split (data.test_split is 0). Expected --data FILE.")
    metrics = engine_metrics(engine, run, spec, info, split, batch_size) or {}
    report = {"run_dir": str(run), "data": str(dataset.path), "split": where, "rows": split.rows, "metrics": metrics}
    if where == "test" and split.rows:
        from .baseline import baseline_metrics
        from .data import target_statistics

        outputs = (spec.filled or {})["outputs"]
        scaling = target_statistics(spec, training_rows.y)
        report["baseline"] = baseline_metrics(outputs, training_rows.y, split.y, scaling) or {}
    if getattr(args, "views", False):
        if engine.model is None:  # the views draw from the Keras model's predictions
            engine.model = load_run(run)[3]
        report["views"] = write_views(run, spec, engine.model, split, dataset.classes, info.seed or 0)
    return print_evaluation(report, args)


def print_evaluation(report: dict[str, Any], args: argparse.Namespace) -> int:
    """Print ``mlpdesigner evaluate``'s report (JSON with ``--json``); returns the exit code."""
    run, where, metrics = Path(report["run_dir"]), report["split"], report["metrics"]
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2))
    else:
        label = "test split" if where == "test" else "all rows"
        print(f"{run.name}: {label} of {report['data']} ({report['rows']} rows)")
        baseline: dict[str, Any] = report.get("baseline") or {}
        for key, value in metrics.items():
            constant = f"   (constant predictor: {baseline[key]:.6g})" if key in baseline else ""
            print(f"  {key:<24s} {value:.6g}{constant}")
    return 0


def write_views(run: Path, spec: Spec, model: Any, split: Any, classes: dict[str, Any], seed: int) -> dict[str, Any]:
    """``evaluate --views``: the evaluation views of the run's test split, written into the run folder again."""
    from ..evaluation import EVALUATION_FILE, evaluate_outputs, predict_outputs, write_evaluation

    outputs = spec.checked()[0]["outputs"]
    predictions = predict_outputs(model, split.x, [o["name"] for o in outputs])
    views = evaluate_outputs(outputs, split.y, predictions, classes, seed=seed)
    try:
        record = write_evaluation(run, views, split="test", rows=split.rows)
    except OSError as exc:
        raise UserError(f"{run}: cannot write {EVALUATION_FILE}: {exc.strerror or exc}") from None
    if record["figures_error"]:
        print(f"warning: the evaluation pictures could not be drawn: {record['figures_error']}", file=sys.stderr)
    files = [EVALUATION_FILE, *(f for kinds in record["figures"].values() for f in kinds.values())]
    print(f"Wrote {', '.join(files)} to {run}", file=sys.stderr)
    return {"file": str(run / EVALUATION_FILE), "figures": record["figures"], "figures_error": record["figures_error"]}


def prediction_columns(spec: Spec, info: RunInfo, predictions: dict[str, np.ndarray]) -> dict[str, Any]:
    """Output columns by name (see the module docstring for the layout)."""
    filled = spec.checked()[0]
    classes = info.classes
    columns: dict[str, Any] = {}
    for out in filled["outputs"]:
        name, task = out["name"], out["task"]
        values = np.asarray(predictions[name], dtype=np.float64).reshape(len(predictions[name]), -1)
        names = classes.get(name) or out.get("classes")
        if task == "regression":
            if values.shape[1] == 1:
                columns[name] = values[:, 0]
            else:
                for i in range(values.shape[1]):
                    columns[f"{name}_{i}"] = values[:, i]
        elif task == "binary":
            labels = names if names and len(names) == 2 else ["0", "1"]
            columns[name] = np.where(values[:, 0] >= 0.5, labels[1], labels[0])
            # Named after the class it is the probability of: "_probability" alone was read as the probability
            # of the predicted label, which it is not for the rows predicted as the first class.
            columns[f"{name}_{labels[1]}_probability"] = values[:, 0]
        elif task == "multiclass":
            labels = [(names[i] if names and i < len(names) else str(i)) for i in range(values.shape[1])]
            columns[name] = np.asarray(labels, dtype=object)[values.argmax(axis=1)]
            for i, label in enumerate(labels):
                columns[f"{name}_{label}"] = values[:, i]
        else:
            labels = [(names[i] if names and i < len(names) else str(i)) for i in range(values.shape[1])]
            for i, label in enumerate(labels):
                columns[f"{name}_{label}"] = (values[:, i] >= 0.5).astype(int)
            for i, label in enumerate(labels):
                columns[f"{name}_{label}_probability"] = values[:, i]
    return columns


def run_predict(args: argparse.Namespace) -> int:
    """``mlpdesigner predict``: predictions of a trained run for a data file, as CSV."""

    from ..atomic import atomic_write_text
    from .data import read_data
    from .onnx_engine import choose_engine

    run_files = [Path(args.run) / name for name in (runfolder.SPEC_FILE, runfolder.INFO_FILE, runfolder.MODEL_FILE,
                                                   runfolder.ONNX_FILE)]
    output = check_output_file(args.output, [args.data, *run_files])
    require_data_file(args.data)
    run, spec, info = open_run(args.run)
    engine = choose_engine(run, spec, info, getattr(args, "engine", None) or "auto")
    if engine.session is None:
        run, spec, info, engine.model = load_run(run)
    from .stream import input_chunks, wants_streaming

    if wants_streaming(spec, args.data):  # read and predict chunk by chunk, append to the CSV file
        return predict_streaming(spec, info, engine, input_chunks(spec, args.data), output, args.output)
    dataset = read_data(spec, args.data, targets=False)
    frame = prediction_frame(spec, info, engine_predictions(engine, spec, dataset.x))
    try:
        atomic_write_text(output, frame.to_csv(index=False, float_format="%.7g", lineterminator="\n"))
    except OSError as exc:
        raise UserError(f"-o {args.output}: cannot write it: {exc.strerror or exc}") from None
    print(f"Wrote {len(frame)} predictions ({', '.join(frame.columns)}) to {output}")
    return 0


def engine_predictions(engine: Any, spec: Spec, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Predictions by output name from the run's ONNX session, or from its Keras model when there is none."""
    from .onnx_engine import keras_predict, onnx_predict

    if engine.session is not None:
        return onnx_predict(engine.session, spec, x)
    return keras_predict(engine.model, spec, x)


def prediction_frame(spec: Spec, info: RunInfo, predictions: dict[str, np.ndarray]) -> Any:
    """The predictions CSV's table (labels and header made safe for spreadsheets)."""
    import pandas as pd

    frame = pd.DataFrame(prediction_columns(spec, info, predictions))
    # Labels and header names come from the training data: neutralize anything a spreadsheet would run.
    frame.columns = [csv_safe(str(c)) for c in frame.columns]
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].map(csv_safe)
    return frame


def predict_streaming(spec: Spec, info: RunInfo, engine: Any, chunks: Any, output: Path, option: str) -> int:
    """Predict chunk by chunk, appending to a temporary file renamed to ``output`` at the end."""
    partial = output.with_name(f".{output.name}.partial")
    rows, columns = 0, []
    try:
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            for x in chunks:
                frame = prediction_frame(spec, info, engine_predictions(engine, spec, x))
                frame.to_csv(handle, index=False, header=rows == 0, float_format="%.7g", lineterminator="\n")
                rows, columns = rows + len(frame), list(frame.columns)
        os.replace(partial, output)
    except OSError as exc:
        raise UserError(f"-o {option}: cannot write it: {exc.strerror or exc}") from None
    finally:
        if partial.exists():
            partial.unlink()
    print(f"Wrote {rows} predictions ({', '.join(columns)}) to {output}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """``mlpdesigner demo``: train the built-in Wide & Deep design on the bundled housing data."""
    from ..resources import data_path

    spec_path = data_path("resources", *DEMO_SPEC)
    result = _train_with_progress(str(spec_path), args, None, out=getattr(args, "out", None))
    run = result.run_dir
    print(f"\nDemo: trained the Wide & Deep design {spec_path}")
    print(f"on the bundled data {load_spec(run / 'spec.json').data_file()}.")
    print(f"Wrote {run}:")
    for path in sorted(run.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            print(f"  {path.name:<20s} {path.stat().st_size:>9,d} bytes")
    print("Next:")
    print(f"  mlpdesigner evaluate {run}")
    print(f"  mlpdesigner predict {run} --data {load_spec(run / 'spec.json').data_file()} -o predictions.csv")
    print(f"  mlpdesigner export {run} --format onnx -o model.onnx")
    return result.exit_code
