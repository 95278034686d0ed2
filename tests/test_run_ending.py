"""How a run's ending is classified (train.runner.classify_ending): pure logic, no TensorFlow."""

from __future__ import annotations

from types import SimpleNamespace

from mlpdesigner.runfolder import RunStatus
from mlpdesigner.train.progress import StopRequest
from mlpdesigner.train.runner import classify_ending


def EarlyStopping(stopped_epoch: int) -> object:  # noqa: N802 - the runner recognises the callback by class name
    cls = type("EarlyStopping", (), {})
    stopper = cls()
    stopper.__dict__.update(stopped_epoch=stopped_epoch, monitor="val_loss", patience=5, best_epoch=3)
    return stopper


def test_failure_wins_over_nan_and_stop() -> None:
    stop = StopRequest()
    stop.request("stopped by SIGTERM")
    assert classify_ending("Out of memory", "loss became NaN", stop, []) == (RunStatus.FAILED, "Out of memory")
    assert classify_ending(None, "loss became NaN", stop, []) == (RunStatus.FAILED, "loss became NaN")
    assert classify_ending(None, None, stop, []) == (RunStatus.STOPPED, "stopped by SIGTERM")


def test_completed_says_when_early_stopping_ended_it() -> None:
    assert classify_ending(None, None, StopRequest(), [SimpleNamespace(), EarlyStopping(0)]) == (
        RunStatus.COMPLETED, None)
    status, reason = classify_ending(None, None, StopRequest(), [EarlyStopping(7)])
    assert status is RunStatus.COMPLETED
    assert reason == "early stopping: val_loss did not improve for 5 epochs (best epoch 4)"
