"""A warm worker: a process that loads TensorFlow ahead of time, then runs ONE command-line job and exits.

The designer starts ``python -m mlpdesigner.worker`` in the background once its
window is up; when the user trains or exports, the job goes to this process,
whose TensorFlow import and device set-up are already done. After the job the
worker exits (the designer starts a fresh one): every job gets a clean process,
and the memory TensorFlow and the data took is returned to the system.

Protocol (one line each, UTF-8 JSON):

- stdout, once the imports are done: ``{"event": "worker_ready", "pid": N, "seconds": S}``.
- stdin, the job: ``{"argv": ["train", "SPEC", "--progress", "jsonl", ...], "cwd": "/folder"}`` -
  the arguments of ``mlpdesigner`` (without the program) and the working folder.

From then on the process is that command: the same stdout (the jsonl events),
stderr, signal handling (SIGTERM stops a run after its batch) and exit code as
``python -m mlpdesigner ARGV`` in ``cwd``, including its fast exit once the job is
done (:func:`mlpdesigner.cli.exit_now`). End of input before a job ends the
worker quietly (the designer closed, or died).
"""

from __future__ import annotations

import json
import os
import sys
import time

from .errors import ExitCode
from .worker_protocol import READY_EVENT, parse_job


def warm_up() -> None:
    """Import what train and export need (TensorFlow, Keras, pandas, the project's modules) and set up devices."""
    from . import tfenv

    tfenv.quiet()
    import tensorflow as tf

    from . import cli  # noqa: F401
    from .export import cli as export_cli  # noqa: F401
    from .train import cli as train_cli  # noqa: F401
    from .train import data, runner  # noqa: F401

    tf.constant(0.0).numpy()  # the device set-up happens on the first operation
    _trace_once()


def _trace_once() -> None:
    """Fit a tiny model for one epoch and forget it: the first ``fit`` of a process pays one-time tracing costs
    (about half of a small design's first epoch), which this moves out of the user's run.

    ``clear_session`` afterwards resets Keras' global state (layer names, the default graph), so the
    job's model is built as in a fresh process (the tests compare a warm run's history with a fresh one's).
    """
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32")
    model.fit(x, y, validation_data=(x[:4], y[:4]), epochs=1, batch_size=4, verbose=0)
    del model
    keras.backend.clear_session()


def main() -> int:
    """Warm up, say so, wait for one job and run it as the ``mlpdesigner`` command would."""
    started = time.perf_counter()
    warm_up()
    ready = {"event": READY_EVENT, "pid": os.getpid(), "seconds": round(time.perf_counter() - started, 3)}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line.strip():
        return int(ExitCode.OK)
    try:
        argv, cwd = parse_job(line)
        if cwd is not None:
            os.chdir(cwd)
    except (ValueError, OSError) as exc:
        print(f"error: the warm worker cannot run its job: {exc}", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    from .cli import main as cli_main

    sys.argv = ["mlpdesigner", *argv]
    # As the console script does: once the job's files are written, end without tearing TensorFlow down (1.2 s).
    return cli_main(argv, exit_fast=True)


if __name__ == "__main__":  # python -m mlpdesigner.worker
    raise SystemExit(main())
