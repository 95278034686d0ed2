"""Keras callbacks of a training run: progress, graceful stop, NaN guard, history.

This module imports Keras at its top: import it only inside training code
(:mod:`mlpdesigner.train.runner` does, when a run starts).
"""

from __future__ import annotations

import math
import time
from typing import Any

from .. import tfenv

tfenv.quiet()

import keras  # noqa: E402

from .progress import Reporter, StopRequest, Throttle  # noqa: E402


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


class RunMonitor(keras.callbacks.Callback):
    """Reports progress, stops on request or on a NaN loss, and keeps the history.

    With ``steps_per_execution`` > 1 Keras calls the batch hooks once per
    execution, so "after the current batch" means after the current group of
    steps (at most ``steps_per_execution`` batches, a fraction of a second on
    an MLP).
    """

    def __init__(self, reporter: Reporter, stop: StopRequest, *, epochs: int, steps: int) -> None:
        super().__init__()
        self.reporter = reporter
        self.stop = stop
        self.epochs = epochs
        self.steps = steps
        self.history: list[dict[str, Any]] = []
        self.nan_message: str | None = None
        self.started = time.monotonic()
        self.epoch_index = 0
        self._throttle = Throttle(0.2)

    def _check_stop(self) -> None:
        if self.stop.requested:
            self.model.stop_training = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.started = time.monotonic()
        self._check_stop()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_index = epoch
        self._throttle.last = -math.inf
        self._check_stop()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = _float((logs or {}).get("loss"))
        step = min(batch + 1, self.steps)
        if loss is not None and not math.isfinite(loss):
            self._nan(step, loss)
            return
        if self._throttle.ready():
            self.reporter.batch(self.epoch_index + 1, step, self.steps, loss)
        self._check_stop()

    def _nan(self, step: int, loss: float) -> None:
        rate = _float(getattr(self.model.optimizer, "learning_rate", None))
        rate_text = f" (now {rate:g})" if rate is not None else ""
        self.nan_message = (
            f"The loss became {loss} in epoch {self.epoch_index + 1}, by step {step}. "
            f"Try a lower learning rate{rate_text}, gradient clipping (training.optimizer.clipnorm), "
            "or normalizing the inputs."
        )
        self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        metrics = {k: _float(v) for k, v in (logs or {}).items()}
        if "learning_rate" not in metrics:
            metrics["learning_rate"] = _float(self.model.optimizer.learning_rate)
        loss = metrics.get("loss")
        if self.nan_message is None and loss is not None and not math.isfinite(loss):
            self._nan(self.steps, loss)
        elapsed = time.monotonic() - self.started
        self.history.append({"epoch": epoch + 1, **metrics, "elapsed": round(elapsed, 4)})
        done = epoch + 1
        eta = elapsed / done * (self.epochs - done) if done else None
        self.reporter.epoch(done, self.epochs, metrics, elapsed, eta)
        self._check_stop()
