"""Child processes of the designer: a training run and an export, each a ``QProcess`` (never the GUI thread).

The designer never imports TensorFlow: ``python -m mlpdesigner train|export``
does, in a child that a crash or out-of-memory takes down alone. When the
designer's warm worker (:mod:`mlpdesigner.gui.warm_worker`) is ready, the
child is that worker, which has loaded TensorFlow already; it is read, stopped
and killed exactly like a fresh child.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from ..runevents import LineBuffer, TrainingState, child_environment

if TYPE_CHECKING:
    from .warm_worker import WarmWorker

#: Milliseconds a stopped run gets to finish its batch and write the run folder before it is killed.
STOP_TIMEOUT_MS = 15_000


def new_process(argv: Sequence[str], cwd: str | os.PathLike[str] | None, parent: QObject | None) -> QProcess:
    """A ``QProcess`` for ``argv`` (not started) with the child environment and separate stdout and stderr."""
    process = QProcess(parent)
    process.setProgram(argv[0])
    process.setArguments(list(argv[1:]))
    environment = QProcessEnvironment()
    for key, value in child_environment().items():
        environment.insert(key, value)
    process.setProcessEnvironment(environment)
    if cwd is not None:
        process.setWorkingDirectory(str(cwd))
    process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
    return process


class _Child(QObject):
    """What a training and an export child share: the process, its temporary files, its end."""

    def __init__(self, argv: Sequence[str], cwd: str | os.PathLike[str] | None, cleanup: Sequence[Path],
                 parent: QObject | None, worker: WarmWorker | None = None) -> None:
        super().__init__(parent)
        self.argv = list(argv)
        self.cwd = cwd
        self.cleanup = list(cleanup)
        #: Where a ready warm worker comes from (None: always a fresh child).
        self.worker = worker
        #: The warm worker's pid when the job went to it; None for a fresh child.
        self.worker_pid: int | None = None
        self.process = new_process(self.argv, cwd, self)
        self._done = False

    @property
    def running(self) -> bool:
        return not self._done

    def _connect(self, process: QProcess) -> None:
        """Connect the process's signals to this child (a subclass's readers)."""

    def start(self) -> None:
        """Start the child, or hand its job to the ready warm worker (returns at once)."""
        warm = self.worker.take(self.argv, self.cwd) if self.worker is not None else None
        if warm is None:
            self.process.start()
            return
        fresh, self.process = self.process, warm
        fresh.deleteLater()
        warm.setParent(self)
        self.worker_pid = warm.processId()
        self._connect(warm)
        self._on_worker()

    def _on_worker(self) -> None:
        """The job went to the warm worker (a subclass may say so)."""

    def _mark_done(self) -> bool:
        """Mark the child ended and remove its temporary files; False when it had ended already.

        A warm worker is started again (after a job on it, that worker is gone; after a fresh child,
        none was started while it ran).
        """
        if self._done:
            return False
        self._done = True
        for path in self.cleanup:
            try:
                path.unlink()
            except OSError:
                pass
        if self.worker is not None:
            self.worker.start_soon()
        return True


class TrainingRun(_Child):
    """One ``mlpdesigner train --progress jsonl`` child and its :class:`TrainingState`."""

    #: Emitted with each event (a dict) after the state took it in.
    event = Signal(dict)
    #: Emitted with each stderr line (the log).
    log_line = Signal(str)
    #: Emitted once when the child has ended; the state is final.
    finished = Signal(object)

    def __init__(self, argv: Sequence[str], *, cwd: str | os.PathLike[str] | None = None,
                 stop_timeout_ms: int = STOP_TIMEOUT_MS, cleanup: Sequence[Path] = (),
                 parent: QObject | None = None, worker: WarmWorker | None = None) -> None:
        super().__init__(argv, cwd, cleanup, parent, worker)
        self.state = TrainingState()
        self.stop_timeout_ms = stop_timeout_ms
        self._stdout = LineBuffer()
        self._stderr = LineBuffer()
        self.kill_timer = QTimer(self)
        self.kill_timer.setSingleShot(True)
        self.kill_timer.timeout.connect(self._kill)
        self._connect(self.process)

    def _connect(self, process: QProcess) -> None:
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)

    def _on_worker(self) -> None:
        self.log_line.emit(f"Running on the warm worker (process {self.worker_pid}; TensorFlow already loaded).")

    def stop(self) -> None:
        """Ask the run to stop after its current batch (SIGTERM); kill it if it has not ended in time."""
        if self._done:
            return
        self.state.stop_requested = True
        self.log_line.emit("Stop requested: the run ends after the current batch and writes its folder.")
        self.process.terminate()
        self.kill_timer.start(self.stop_timeout_ms)

    def _kill(self) -> None:
        if not self._done:
            self.log_line.emit(f"The run did not stop within {self.stop_timeout_ms / 1000:g} s; killing it.")
            self.process.kill()

    def _read_stdout(self) -> None:
        for line in self._stdout.feed(bytes(self.process.readAllStandardOutput().data())):
            self._stdout_line(line)

    def _stdout_line(self, line: str) -> None:
        event = self.state.feed_stdout(line)
        if event is not None:
            self.event.emit(event)
        elif line.strip():
            self.log_line.emit(line)

    def _read_stderr(self) -> None:
        for line in self._stderr.feed(bytes(self.process.readAllStandardError().data())):
            self._stderr_line(line)

    def _stderr_line(self, line: str) -> None:
        self.state.feed_stderr(line)
        self.log_line.emit(line)

    def _finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        for line in self._stdout.flush():
            self._stdout_line(line)
        for line in self._stderr.flush():
            self._stderr_line(line)
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        self._end(exit_code, crashed=crashed)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end(None, launch_error=f"Cannot start the training process {self.argv[0]}: "
                                         f"{self.process.errorString()}")

    def _end(self, exit_code: int | None, *, crashed: bool = False, launch_error: str | None = None) -> None:
        if not self._mark_done():
            return
        self.kill_timer.stop()
        self.state.finish(exit_code, crashed=crashed, launch_error=launch_error)
        self.finished.emit(self.state)


class ExportRun(_Child):
    """One ``mlpdesigner export … --json`` child; ``finished`` carries (exit code, stdout, stderr)."""

    finished = Signal(object)

    def __init__(self, argv: Sequence[str], *, cwd: str | os.PathLike[str] | None = None,
                 cleanup: Sequence[Path] = (), parent: QObject | None = None,
                 worker: WarmWorker | None = None) -> None:
        super().__init__(argv, cwd, cleanup, parent, worker)
        self.result: tuple[int | None, str, str] | None = None
        self._connect(self.process)

    def _connect(self, process: QProcess) -> None:
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)

    def _finished(self, exit_code: int, exit_status: Any) -> None:
        stdout = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        stderr = bytes(self.process.readAllStandardError().data()).decode("utf-8", errors="replace")
        if exit_status == QProcess.ExitStatus.CrashExit:
            stderr += "\nThe export process crashed."
        self._end(exit_code, stdout, stderr)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end(None, "", f"error: cannot start the export process: {self.process.errorString()}")

    def _end(self, exit_code: int | None, stdout: str, stderr: str) -> None:
        if not self._mark_done():
            return
        self.result = (exit_code, stdout, stderr)
        self.finished.emit(self.result)
