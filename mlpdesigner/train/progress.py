"""Progress reporting for ``mlpdesigner train``: JSON-lines events, a terminal bar, or nothing.

Pure Python (no TensorFlow), so the designer can import it to read events.

The ``--progress jsonl`` event stream
-------------------------------------
stdout carries only JSON objects, one per line (UTF-8); TensorFlow and Keras
messages go to stderr. Non-finite numbers are written as ``null``. Events, in
order:

``{"event": "start", ...}``
    The run began. Keys: ``run_dir`` (absolute), ``spec`` (the spec's name),
    ``spec_path``, ``data`` (absolute data file), ``epochs``, ``batch_size``,
    ``steps_per_epoch``, ``steps_per_execution``, ``jit_compile``, ``samples``
    (training rows), ``validation_samples``, ``test_samples``, ``device``
    (``"cpu"`` or ``"gpu"``), ``device_name``, ``seed``.
``{"event": "batch", "epoch": E, "step": S, "steps": N, "loss": L}``
    Every few batches (at most about five times a second): ``S`` of ``N``
    steps of epoch ``E`` (1-based) are done; ``L`` is the epoch's running loss.
``{"event": "epoch", "epoch": E, "epochs": T, "metrics": {...}, "elapsed": s, "eta": s}``
    After each epoch: every Keras log (``loss``, metrics, ``val_*``,
    ``learning_rate``); ``elapsed`` seconds since training started; ``eta``
    the estimated seconds left for the remaining epochs (early stopping may end
    sooner).
``{"event": "health", "epoch": E, "loss": L, "global_grad_norm": G, "layers": {name: {...}}}``
    Layer health (:mod:`mlpdesigner.train.health`): once before the first epoch
    (``E`` 0) and after each epoch (after that epoch's ``epoch`` event, or just
    before it), gradient and weight norms, update ratio and activation figures
    per dense layer, measured on a fixed batch; the same records are kept in
    ``health.json`` in the run folder. Readers that do not know this event
    ignore it, as they must ignore any event kind they do not know.
``{"event": "end", "status": ..., "reason": ..., "run_dir": ..., "metrics": {...}, "epochs_completed": n}``
    Last line of a run that started. ``status`` is ``completed`` (all epochs,
    or early stopping), ``stopped`` (SIGINT/SIGTERM: the run folder is still
    written) or ``failed`` (e.g. a NaN loss; ``reason`` says why). ``metrics``
    maps ``train``/``validation``/``test`` to their final metrics, and ``baseline`` to
    ``validation``/``test`` metrics of a constant predictor (:mod:`mlpdesigner.train.baseline`) (``null``
    for an empty split or a failed run).
``{"event": "error", "message": ...}``
    Instead of ``start``: the run could not begin (bad data, missing file,
    invalid spec, no GPU). The process exits with code 2 (1 for an invalid
    spec) and writes no run folder.

Exit codes of ``train``: 0 completed or stopped, 1 failed (or invalid spec),
2 bad input.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from ..runfolder import json_safe

#: An epoch's metrics; a value that was not finite is None.
Metrics = dict[str, float | None]


class Reporter:
    """Receives the run's events; the base class ignores them."""

    def start(self, info: dict[str, Any]) -> None:
        """The run began (see the module docstring for the keys)."""

    def batch(self, epoch: int, step: int, steps: int, loss: float | None) -> None:
        """``step`` of ``steps`` steps of ``epoch`` (1-based) done."""

    def epoch(self, epoch: int, epochs: int, metrics: Metrics, elapsed: float, eta: float | None) -> None:
        """Epoch ``epoch`` of ``epochs`` finished."""

    def health(self, record: dict[str, Any]) -> None:
        """A layer health record (see :mod:`mlpdesigner.train.health`)."""

    def end(self, info: dict[str, Any]) -> None:
        """The run ended; the run folder is written."""

    def error(self, message: str) -> None:
        """The run could not start."""


class JsonlReporter(Reporter):
    """One JSON object per line on a stream."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **json_safe(fields)}, allow_nan=False, ensure_ascii=False)
        self.stream.write(line + "\n")
        self.stream.flush()

    def start(self, info: dict[str, Any]) -> None:
        self.emit("start", **info)

    def batch(self, epoch: int, step: int, steps: int, loss: float | None) -> None:
        self.emit("batch", epoch=epoch, step=step, steps=steps, loss=loss)

    def epoch(self, epoch: int, epochs: int, metrics: Metrics, elapsed: float, eta: float | None) -> None:
        self.emit(
            "epoch",
            epoch=epoch,
            epochs=epochs,
            metrics=metrics,
            elapsed=round(elapsed, 3),
            eta=None if eta is None else round(eta, 3),
        )

    def health(self, record: dict[str, Any]) -> None:
        self.emit("health", **record)

    def end(self, info: dict[str, Any]) -> None:
        self.emit("end", **info)

    def error(self, message: str) -> None:
        self.emit("error", message=message)


def _format_metrics(metrics: dict[str, Any], limit: int = 6) -> str:
    parts = []
    for key, value in list(metrics.items())[:limit]:
        if isinstance(value, (int, float)) and value is not None:
            parts.append(f"{key} {value:.4g}")
    return "  ".join(parts)


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    minutes, sec = divmod(seconds, 60)
    return f"{minutes}:{sec:02d}" if minutes else f"{sec}s"


class BarReporter(Reporter):
    """A one-line progress bar per epoch for a terminal."""

    width = 24

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.epochs = 0

    def start(self, info: dict[str, Any]) -> None:
        self.epochs = info["epochs"]
        self.stream.write(
            f"Training {info['spec']} on {info['samples']} rows ({info['device']}), "
            f"{info['epochs']} epochs of {info['steps_per_epoch']} steps -> {info['run_dir']}\n"
        )
        self.stream.flush()

    def batch(self, epoch: int, step: int, steps: int, loss: float | None) -> None:
        done = int(self.width * step / max(steps, 1))
        bar = "#" * done + "." * (self.width - done)
        loss_text = f"loss {loss:.4g}" if loss is not None and math.isfinite(loss) else ""
        self.stream.write(f"\repoch {epoch}/{self.epochs} [{bar}] {step}/{steps} {loss_text}\033[K")
        self.stream.flush()

    def epoch(self, epoch: int, epochs: int, metrics: Metrics, elapsed: float, eta: float | None) -> None:
        self.stream.write(
            f"\repoch {epoch}/{epochs} [{'#' * self.width}] {_format_metrics(metrics)}  "
            f"({_duration(elapsed)}, eta {_duration(eta)})\033[K\n"
        )
        self.stream.flush()

    def end(self, info: dict[str, Any]) -> None:
        print_summary(info, self.stream)

    def error(self, message: str) -> None:
        """Errors are printed by the CLI on stderr."""


class QuietReporter(Reporter):
    """No progress; a short summary at the end."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def end(self, info: dict[str, Any]) -> None:
        print_summary(info, self.stream)


def print_summary(info: dict[str, Any], stream: IO[str]) -> None:
    """What a finished run did and where it lies, for people."""
    reason = f" ({info['reason']})" if info.get("reason") else ""
    stream.write(f"Run {info['status']}{reason}: {info['epochs_completed']} epochs\n")
    metrics = info.get("metrics") or {}
    for split in ("train", "validation", "test"):
        if metrics.get(split):
            stream.write(f"  {split:<10s} {_format_metrics(metrics[split], limit=12)}\n")
    baseline = metrics.get("baseline") or {}
    shown = "test" if baseline.get("test") else "validation"
    if baseline.get(shown):
        stream.write(
            f"  {'baseline':<10s} {_format_metrics(baseline[shown], limit=12)}  "
            f"(a constant from the training rows, on the {shown} rows)\n"
        )
        from .baseline import not_better_than_baseline

        worse = not_better_than_baseline(metrics, shown)
        if worse:
            stream.write(f"warning: on the {shown} rows the model does no better than a constant: {'; '.join(worse)}\n")
    stream.write(f"Run folder: {info['run_dir']}\n")
    stream.flush()


class StopRequest:
    """A flag that a signal handler (or the designer) sets to end the run after the current batch."""

    def __init__(self) -> None:
        self.reason: str | None = None
        #: Set by the runner while a run folder is open: records the run as stopped at once (a second signal).
        self.on_hard_stop: Callable[[], None] | None = None

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    @property
    def requested(self) -> bool:
        return self.reason is not None


class Throttle:
    """True at most once per ``interval`` seconds (and always on the first call)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = -math.inf

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            return True
        return False
