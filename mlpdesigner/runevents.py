"""Reading a training child's JSON-lines events into a run's state (Qt-free).

The designer runs ``python -m mlpdesigner train SPEC --progress jsonl --out RUN_DIR``
in a child process (see :mod:`mlpdesigner.gui.training`). Its stdout carries one
JSON event per line (format: :mod:`mlpdesigner.train.progress`), its stderr the
log. :class:`TrainingState` turns those lines into what the training view shows:
progress, the per-epoch history, the final metrics, the layer health records
(``health`` events, :mod:`mlpdesigner.train.health`: kept in
:attr:`TrainingState.health`, in the order they came) and - when the run fails -
the run's own message. Event kinds it does not know are ignored, so older
designers read newer children's streams.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runfolder import RunStatus, finite_number, format_number

#: Lines of stderr kept for the failure message and the log's tail.
STDERR_TAIL = 60
#: Lines of stderr quoted when a child ends without its own message.
QUOTED_LINES = 8

#: Keys of an epoch's metrics that are not curves.
NOT_CURVES = ("learning_rate", "lr")

_TF_NOISE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} \d\d:\d\d:\d\d[.\d]* +\d+ \S+\.cc:\d+\])")


class LineBuffer:
    """Splits a stream of bytes into whole text lines (a partial last line waits for the next chunk)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[str]:
        """The complete lines in ``data`` (plus what was pending), without line ends."""
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]

    def flush(self) -> list[str]:
        """The partial last line, if any."""
        rest, self._pending = self._pending, b""
        text = rest.decode("utf-8", errors="replace").rstrip("\r")
        return [text] if text else []


def format_duration(seconds: float | None) -> str:
    """``1:05`` / ``42s`` / ``?``."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, sec = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{sec:02d}"
    return f"{minutes}:{sec:02d}" if minutes else f"{sec}s"


def curve_groups(keys: list[str]) -> dict[str, list[str]]:
    """Metric keys grouped per plot: ``loss`` -> [loss, val_loss], ``mae`` -> [mae, val_mae].

    The learning rate is left out; a validation key without its training key gets its own group.
    """
    groups: dict[str, list[str]] = {}
    for key in keys:
        if key in NOT_CURVES or key == "epoch" or key == "elapsed":
            continue
        base = key[4:] if key.startswith("val_") else key
        groups.setdefault(base, [])
        if key not in groups[base]:
            groups[base].append(key)
    for base, members in groups.items():
        members.sort(key=lambda k: k.startswith("val_"))
        groups[base] = members
    return dict(sorted(groups.items(), key=lambda item: (item[0] != "loss", not item[0].endswith("loss"), item[0])))


def is_tensorflow_noise(line: str) -> bool:
    """True for TensorFlow's C++ start-up chatter (kept in the log, never quoted as the run's message)."""
    return bool(_TF_NOISE.match(line))


@dataclass
class TrainingState:
    """What the designer knows about one training child, updated line by line."""

    status: RunStatus = RunStatus.STARTING
    run_dir: Path | None = None
    epochs: int | None = None
    steps: int | None = None
    epoch: int = 0  #: epochs finished
    step: int = 0  #: steps of the current epoch done
    batch_loss: float | None = None
    elapsed: float | None = None
    eta: float | None = None
    reason: str | None = None
    message: str | None = None  #: the failure message shown to the user
    start_info: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)  #: layer health records (``health`` events)
    final_metrics: dict[str, Any] = field(default_factory=dict)
    stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL))
    ended: bool = False  #: an end or error event arrived
    exit_code: int | None = None
    stop_requested: bool = False

    # ----- input ---------------------------------------------------------------------------------
    def feed_stdout(self, line: str) -> dict[str, Any] | None:
        """Read one stdout line; returns the event it held (None for a line that is not an event)."""
        text = line.strip()
        if not text:
            return None
        try:
            event = json.loads(text)
        except ValueError:
            self.stderr_tail.append(text)
            return None
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            self.stderr_tail.append(text)
            return None
        handler = getattr(self, f"_on_{event['event']}", None)
        if handler is not None:
            handler(event)
        return event

    def feed_stderr(self, line: str) -> None:
        """Keep one stderr line for the failure message."""
        if line.strip():
            self.stderr_tail.append(line)

    def _on_start(self, event: dict[str, Any]) -> None:
        self.status = RunStatus.RUNNING
        self.start_info = event
        self.run_dir = Path(event["run_dir"]) if event.get("run_dir") else self.run_dir
        self.epochs = event.get("epochs")
        self.steps = event.get("steps_per_epoch")

    def _on_batch(self, event: dict[str, Any]) -> None:
        self.step = int(event.get("step") or 0)
        self.steps = event.get("steps") or self.steps
        self.batch_loss = event.get("loss")

    def _on_epoch(self, event: dict[str, Any]) -> None:
        self.epoch = int(event.get("epoch") or len(self.history) + 1)
        self.epochs = event.get("epochs") or self.epochs
        self.step = 0 if self.epochs and self.epoch < self.epochs else (self.steps or self.step)
        self.elapsed = event.get("elapsed")
        self.eta = event.get("eta")
        row = {"epoch": self.epoch, **(event.get("metrics") or {})}
        self.history.append(row)

    def _on_health(self, event: dict[str, Any]) -> None:
        if isinstance(event.get("layers"), dict):
            self.health.append({key: value for key, value in event.items() if key != "event"})

    def _on_end(self, event: dict[str, Any]) -> None:
        self.ended = True
        try:
            self.status = RunStatus(event.get("status"))
        except ValueError:
            self.status = RunStatus.FAILED
        self.reason = event.get("reason")
        self.final_metrics = event.get("metrics") or {}
        if event.get("run_dir"):
            self.run_dir = Path(event["run_dir"])
        self.eta = 0.0 if self.status is RunStatus.COMPLETED else self.eta
        if self.status is RunStatus.FAILED:
            self.message = self.reason or "the run failed"

    def _on_error(self, event: dict[str, Any]) -> None:
        self.ended = True
        self.status = RunStatus.FAILED
        self.message = str(event.get("message") or "the run could not start")
        self.reason = self.message

    def finish(self, exit_code: int | None, crashed: bool = False, launch_error: str | None = None) -> None:
        """The child ended: without an end or error event, the last stderr lines become the message."""
        self.exit_code = exit_code
        if launch_error:
            self.status, self.ended = RunStatus.FAILED, True
            self.message = self.reason = launch_error
            return
        if self.ended:
            return
        self.status = RunStatus.STOPPED if self.stop_requested else RunStatus.FAILED
        how = "crashed" if crashed else f"exited with code {exit_code}"
        tail = self.quoted_stderr()
        if self.status is RunStatus.STOPPED:
            self.reason = "stopped by the designer (the process ended before it wrote the run's end)"
            self.message = None
        else:
            self.message = f"The training process {how} before the run ended." + (f"\n{tail}" if tail else "")
            self.reason = self.message

    def quoted_stderr(self, lines: int = QUOTED_LINES) -> str:
        """The last meaningful stderr lines (TensorFlow's start-up chatter left out)."""
        meaningful = [line for line in self.stderr_tail if not is_tensorflow_noise(line)]
        return "\n".join(meaningful[-lines:])

    # ----- output --------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.status.ended and (self.ended or self.exit_code is not None)

    def fraction(self) -> float:
        """Share of the run done, 0..1 (epochs plus the current epoch's steps)."""
        if not self.epochs:
            return 0.0
        within = (self.step / self.steps) if self.steps and self.epoch < self.epochs else 0.0
        return max(0.0, min(1.0, (self.epoch + within) / self.epochs))

    def progress_text(self) -> str:
        """``Epoch 3/20 · batch 64/132 · ETA 12s``."""
        if self.status is RunStatus.STARTING:
            return "Starting (loading TensorFlow and the data)…"
        current = min(self.epoch + (1 if self.status is RunStatus.RUNNING and self.epoch < (self.epochs or 0) else 0),
                      self.epochs or 0)
        parts = [f"Epoch {current}/{self.epochs or '?'}"]
        if self.steps and self.status is RunStatus.RUNNING:
            parts.append(f"batch {self.step}/{self.steps}")
        if self.batch_loss is not None and self.status is RunStatus.RUNNING:
            parts.append(f"loss {format_number(self.batch_loss)}")
        if self.status is RunStatus.RUNNING:
            parts.append(f"ETA {format_duration(self.eta)}")
        else:
            why = f": {self.reason}" if self.reason and self.status is not RunStatus.FAILED else ""
            parts.append(self.status.value + why)
        return " · ".join(parts)

    def series(self) -> dict[str, list[float | None]]:
        """The history as columns (``epoch`` plus every metric)."""
        return history_columns(self.history)


def history_columns(rows: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    """Rows of per-epoch metrics as columns; missing values are None."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return {key: [finite_number(row.get(key)) for row in rows] for key in keys}


# --------------------------------------------------------------------------- the child's command


def child_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child ``python -m mlpdesigner``: this package importable, output unbuffered."""
    env = dict(os.environ if base is None else base)
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_root not in paths:
        paths.insert(0, package_root)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def train_command(spec_path: str | os.PathLike[str], run_dir: str | os.PathLike[str],
                  epochs: int | None = None, init_from: str | os.PathLike[str] | None = None) -> list[str]:
    """argv of the training child (``init_from``: a run folder whose weights it starts from)."""
    argv = [sys.executable, "-m", "mlpdesigner", "train", str(spec_path), "--progress", "jsonl", "--out", str(run_dir)]
    if epochs:
        argv += ["--epochs", str(int(epochs))]
    if init_from is not None:
        argv += ["--init-from", str(init_from)]
    return argv


def export_command(source: str | os.PathLike[str], fmt: str, output: str | os.PathLike[str], *,
                   opset: int | None = None, tolerance: float | None = None, with_training: bool = False) -> list[str]:
    """argv of the export child (``--json`` makes its report machine-readable)."""
    argv = [sys.executable, "-m", "mlpdesigner", "export", str(source), "--format", fmt, "-o", str(output), "--json"]
    if fmt == "onnx" and opset is not None:
        argv += ["--opset", str(int(opset))]
    if fmt == "onnx" and tolerance is not None:
        argv += ["--tolerance", repr(float(tolerance))]
    if fmt == "python" and with_training:
        argv.append("--with-training")
    return argv


def export_message(stdout: str, stderr: str, exit_code: int | None) -> tuple[dict[str, Any] | None, str]:
    """(the export's JSON report or None, a readable message) from a finished export child."""
    report = None
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                continue
            break
    if report is not None and exit_code == 0:
        return report, describe_export(report)
    lines = [line for line in stderr.splitlines() if line.strip() and not is_tensorflow_noise(line)]
    errors = [line for line in lines if line.startswith(("error:", "  hint:"))]
    if errors:
        return None, "\n".join(errors)
    where = "\n".join(lines[-QUOTED_LINES:])
    return None, f"The export process exited with code {exit_code}." + (f"\n{where}" if where else "")


def describe_export(report: dict[str, Any]) -> str:
    """One paragraph about what an export wrote (with the ONNX parity figure)."""
    weights = "trained" if report.get("trained") else "untrained (seeded)"
    text = f"Wrote {report.get('path')} ({report.get('format')}, {weights} weights"
    if report.get("detail"):
        text += f"; {report['detail']}"
    text += ")."
    if report.get("format") == "onnx":
        text += (
            f"\nONNX opset {report.get('opset')}. Parity with Keras (onnxruntime): max abs difference "
            f"{report.get('max_abs_diff', float('nan')):.3g} (allowed {report.get('tolerance', 0):g})"
        )
        checks = report.get("checks") or []
        if checks:
            text += " - " + ", ".join(f"{c['inputs']} batch {c['batch']}: {c['max_abs_diff']:.3g}" for c in checks)
    return text
