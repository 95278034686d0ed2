"""One search trial on a Ray worker: an ordinary training run, one Tune step per epoch.

This module imports Ray at its top; :mod:`mlpdesigner.search.runner` imports it
only when a search starts. The run is :func:`mlpdesigner.train.runner.train`
in a thread of the trial's actor; its per-epoch progress events (sent from the
run's Keras callback) become Tune results, so ASHA judges each epoch. When Tune
stops the trial (ASHA, or the search being stopped), :meth:`SearchTrial.cleanup`
asks the run to stop after its current batch and waits while it saves its model
and writes its run folder: a stopped trial is a complete run folder, status "stopped".
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
from pathlib import Path
from typing import Any

import ray
from ray import tune

from ..spec.search import with_values
from ..train.progress import Reporter, StopRequest

#: Seconds a stopped trial may take to save its model and write its folder.
STOP_WAIT_S = 300

#: What the metrics of a result may hold (Tune keeps only JSON-like values).
_METRIC_KEYS = ("loss", "val_loss", "learning_rate")


class _QueueReporter(Reporter):
    """Hands each epoch to the trial's ``step`` and waits until Tune asks for the next one (or stops the trial).

    Lock-step, so that the epochs in the run folder are the epochs Tune (and ASHA) saw.
    """

    def __init__(self, events: queue.Queue[tuple[str, Any]], proceed: threading.Semaphore) -> None:
        self.events = events
        self.proceed = proceed

    def epoch(self, epoch: int, epochs: int, metrics: dict[str, Any], elapsed: float, eta: float | None) -> None:
        self.events.put(("epoch", {"epoch": epoch, **metrics}))
        self.proceed.acquire()


def trial_values(fields: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """The values of a trial's config, keyed by their JSON pointers (the config uses p0, p1, ...)."""
    return {field: config[f"p{index}"] for index, field in enumerate(fields) if f"p{index}" in config}


def set_threads(threads: int) -> None:
    """TensorFlow's thread pools sized to the trial's CPUs (only before TensorFlow first runs in this process)."""
    from .. import tfenv

    tfenv.quiet()
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # a reused actor: TensorFlow already runs with these pools
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


class SearchTrial(tune.Trainable):
    """A Tune trainable whose every step is one epoch of an ordinary training run."""

    def setup(self, config: dict[str, Any], base: dict[str, Any] | None = None, fields: list[str] | None = None,
              trials_dir: str = "", threads: int = 1) -> None:
        self.base = base or {}
        self.fields = fields or []
        self.trials_dir = Path(trials_dir)
        self.threads = threads
        self._start(config)

    def _start(self, config: dict[str, Any]) -> None:
        set_threads(self.threads)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.stop_request = StopRequest()
        self.proceed = threading.Semaphore(0)
        self.steps = 0
        self.last: dict[str, Any] = {}
        spec = with_values(self.base, trial_values(self.fields, config))
        self.epochs = int(spec.get("training", {}).get("epochs", 20))
        self.run_dir = self._new_folder(str(self.trial_id))
        self.node_id = ray.get_runtime_context().get_node_id()
        self.thread = threading.Thread(target=self._train, args=(spec,), name="mlpdesigner-trial", daemon=True)
        self.thread.start()

    def _new_folder(self, name: str) -> Path:
        folder, attempt = self.trials_dir / name, 1
        while folder.exists():  # a trial restarted by --resume keeps its earlier (stopped) folder
            attempt += 1
            folder = self.trials_dir / f"{name}-{attempt}"
        return folder

    def _train(self, spec: dict[str, Any]) -> None:
        from ..train.runner import train

        try:
            result = train(spec, out=self.run_dir, reporter=_QueueReporter(self.events, self.proceed),
                           stop=self.stop_request)
        except BaseException as exc:  # noqa: BLE001 - every ending reaches step(), which fails the trial with it
            self.events.put(("error", f"{type(exc).__name__}: {exc}"))
            return
        self.events.put(("end", {"status": result.status.value, "reason": result.reason}))

    def step(self) -> dict[str, Any]:
        if self.steps:
            self.proceed.release()  # the run may train its next epoch
        self.steps += 1
        while True:
            kind, payload = self.events.get()
            if kind == "epoch":
                metrics = {k: float(payload[k]) for k in _METRIC_KEYS if payload.get(k) is not None}
                if not math.isfinite(metrics.get("val_loss", math.nan)):
                    self.proceed.release()
                    continue  # a NaN loss: the run fails next, and that is what the trial reports
                self.last = {**metrics, "epoch": int(payload["epoch"])}
                if self.last["epoch"] >= self.epochs:
                    # The last epoch is reported with the run's end, once its folder is written: a trial Tune
                    # calls complete is a complete run folder even if the search is then stopped at once.
                    self.proceed.release()
                    continue
                return {**self.last, "node_id": self.node_id, "run_dir": str(self.run_dir),
                        "finished": self.last["epoch"] >= self.epochs}
            if kind == "error":
                raise RuntimeError(payload)
            if payload["status"] == "failed" or not self.last:
                raise RuntimeError(f"the run in {self.run_dir} failed: {payload['reason']}")
            return {**self.last, "node_id": self.node_id, "run_dir": str(self.run_dir), "finished": True,
                    "done": True}

    def _finish_run(self) -> None:
        if self.thread.is_alive() and self.last.get("epoch", 0) < self.epochs:  # the last epoch: let it finish
            self.stop_request.request("stopped by the search (ASHA stopped the trial early, or the search was stopped)")
        self.proceed.release()
        self.thread.join(STOP_WAIT_S)

    def save_checkpoint(self, checkpoint_dir: str) -> dict[str, Any]:
        # The run folder is the trial's record; a trial Tune restores (--resume) trains again from the start.
        return {"run_dir": str(self.run_dir)}

    def load_checkpoint(self, checkpoint: Any) -> None:
        """Nothing to restore: :meth:`setup` already started the run again."""

    def cleanup(self) -> None:
        self._finish_run()

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        self._finish_run()
        self._start(new_config)
        return True


#: The live trial recorders of this process, by search folder (see :class:`RecorderHook`).
RECORDERS: dict[str, Any] = {}


class RecorderHook(tune.Callback):
    """Passes Tune's trial events to the recorder of its search folder.

    Tune pickles its callbacks with the experiment and unpickles them on
    ``--resume``; this class is found by reference and holds only the folder,
    so a resumed search reports to that run's recorder.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def _recorder(self) -> Any:
        return RECORDERS.get(self.folder)

    def on_trial_start(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        if (recorder := self._recorder()) is not None:
            recorder.start(trial)

    def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any],
                        **info: Any) -> None:
        if (recorder := self._recorder()) is not None:
            recorder.result(trial, result)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        if (recorder := self._recorder()) is not None:
            recorder.complete(trial)

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        if (recorder := self._recorder()) is not None:
            recorder.error(trial)


def cpus_for(threads: int) -> dict[str, float]:
    """The resources one trial asks of Ray."""
    return {"cpu": float(threads)}


def worker_env() -> dict[str, str]:
    """Environment for the trial workers: TensorFlow quiet, this package importable."""
    env = {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    return env
