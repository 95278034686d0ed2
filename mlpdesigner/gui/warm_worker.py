"""The designer's one warm worker: TensorFlow loaded in the background, so that Train starts at once.

:class:`WarmWorker` keeps at most one ``python -m mlpdesigner.worker`` process
(see :mod:`mlpdesigner.worker`) started after the window is up, never while a
training or export child runs. A job whose command is ``python -m mlpdesigner
…`` goes to it when it is ready (:meth:`WarmWorker.take`): the caller gets the
worker's ``QProcess``, already told its job, and reads it like a fresh child.
With no ready worker the caller starts a fresh child as before.

A worker runs one job and exits; when the job has ended a fresh worker is
started (:meth:`WarmWorker.start_soon`), so the memory a run took is returned
and a crashed or killed worker is replaced. A worker that dies while idle is
replaced too, up to :data:`MAX_FAILURES` times in a row (then the designer
uses fresh children). ``MLPDESIGNER_WARM_WORKER=0`` turns the worker off.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from ..runevents import LineBuffer, child_environment
from ..worker_protocol import READY_EVENT, job_line
from .training import new_process

#: The environment variable that turns the warm worker off ("0", "false", "no" or "off").
ENV_SWITCH = "MLPDESIGNER_WARM_WORKER"
#: Milliseconds after the window is shown (or a job ended) before a worker starts: the window paints first.
START_DELAY_MS = 500
#: Idle workers that may die in a row before the designer stops starting them.
MAX_FAILURES = 3


def warm_worker_enabled() -> bool:
    """False when the environment turns the warm worker off."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def cli_arguments(argv: Sequence[str]) -> list[str] | None:
    """The ``mlpdesigner`` arguments of a child command line, or None when it is not ``python -m mlpdesigner``."""
    if len(argv) > 3 and list(argv[:3]) == [sys.executable, "-m", "mlpdesigner"]:
        return list(argv[3:])
    return None


class WarmWorker(QObject):
    """At most one warm worker process, started in the background and replaced after each job."""

    #: Emitted with the worker's pid when a worker has finished loading TensorFlow.
    ready = Signal(int)

    def __init__(self, busy: Callable[[], bool] = lambda: False, *, enabled: bool | None = None,
                 delay_ms: int = START_DELAY_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: True while a child runs: no worker starts then (it would slow the run down).
        self.busy = busy
        self.enabled = warm_worker_enabled() if enabled is None else enabled
        self.delay_ms = delay_ms
        self.process: QProcess | None = None
        self.pid: int | None = None
        self.is_ready = False
        self.closed = False
        self.failures = 0
        self.environment: dict[str, str] = {}
        self._stdout = LineBuffer()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)

    def start_soon(self) -> None:
        """Start a worker after a short delay, unless one runs, the designer is closing, or it is turned off."""
        if self.enabled and not self.closed and self.process is None and self.failures < MAX_FAILURES:
            self._timer.start(self.delay_ms)

    def _start(self) -> None:
        if not self.enabled or self.closed or self.process is not None:
            return
        if self.busy():
            return  # started again when the running child has ended
        self.environment = child_environment()
        process = new_process([sys.executable, "-m", "mlpdesigner.worker"], None, self)
        self._stdout = LineBuffer()
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._drain_stderr)
        process.finished.connect(self._died)
        process.errorOccurred.connect(self._failed_to_start)
        self.process, self.pid, self.is_ready = process, None, False
        process.start()

    def _read_stdout(self) -> None:
        if self.process is None:
            return
        for line in self._stdout.feed(bytes(self.process.readAllStandardOutput().data())):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == READY_EVENT:
                self.pid = int(event.get("pid") or self.process.processId())
                self.is_ready = True
                self.failures = 0
                self.ready.emit(self.pid)

    def _drain_stderr(self) -> None:
        if self.process is not None:
            self.process.readAllStandardError()  # start-up chatter of an idle worker: nobody's log

    def _died(self, *_args: object) -> None:
        """The idle worker ended on its own (crashed, killed): start another, a few times at most."""
        self._forget(count_failure=True)
        self.start_soon()

    def _failed_to_start(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._forget(count_failure=True)

    def _forget(self, *, count_failure: bool = False) -> QProcess | None:
        process, self.process, self.pid, self.is_ready = self.process, None, None, False
        if process is not None:
            for signal in (process.readyReadStandardOutput, process.readyReadStandardError, process.finished,
                           process.errorOccurred):
                signal.disconnect()
            if count_failure:
                self.failures += 1
                process.deleteLater()
        return process

    def take(self, argv: Sequence[str], cwd: str | os.PathLike[str] | None) -> QProcess | None:
        """The ready worker, given the job ``argv`` (a ``python -m mlpdesigner`` command line) in ``cwd``.

        None when no worker is ready, the command is another program, or the
        environment a child would get has changed since the worker started
        (that worker is then replaced). The caller owns the returned process.
        """
        arguments = cli_arguments(argv)
        if arguments is None or self.process is None or not self.is_ready or self.closed:
            return None
        if child_environment() != self.environment:
            self.discard()
            self.start_soon()
            return None
        process = self._forget()
        assert process is not None
        process.setParent(None)
        process.write(job_line(arguments, Path(cwd) if cwd is not None else Path.cwd()))
        return process

    def discard(self) -> None:
        """End the idle worker now (killed; nothing is waited for)."""
        process = self._forget()
        if process is not None:
            process.finished.connect(process.deleteLater)
            process.kill()

    def shutdown(self) -> None:
        """The window closes: end the idle worker and start no other. Returns at once."""
        self.closed = True
        self._timer.stop()
        self.discard()
