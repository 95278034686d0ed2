"""The run folder: what ``mlpdesigner train`` writes and every reader reads (no Qt, no TensorFlow).

One owner for the file names, the run's status, the typed ``run.json`` record,
the folder's name, and the question "is this run still going, or was it
interrupted?". The runner writes through this module; the CLI (``evaluate``,
``predict``, ``export``) and the designer's run history read through it.

A run folder holds:

``spec.json``          the spec as trained (data path relative to the folder)
``run.json``           :class:`RunInfo`: status, reason, process, data, settings, timings
``history.csv``        one row per finished epoch
``metrics.json``       final metrics per split (``train``/``validation``/``test``), and ``baseline``:
                       a constant predictor's on ``validation``/``test`` (:mod:`mlpdesigner.train.baseline`)
``model.keras``        the trained model (absent when the run failed)
``model.onnx``         the same model for onnxruntime, checked against Keras (``run.json``'s ``onnx``
                       record says why when it is absent); ``predict`` and ``evaluate`` run it
``sample_inputs.npz``  up to 256 real input rows, for export checks
``splits.npz``         the row indices (0-based data rows) of the train, validation and test splits
``evaluation.json``    evaluation views of the test split (confusion, ROC/PR, reliability; regression errors)
``evaluation/``        their pictures, ``<output>.png`` and ``<output>.svg``, drawn when first shown (absent
                       until then, and when they could not be drawn)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text, remove_stale_temporaries
from .errors import UserError
from .safeio import csv_safe

SPEC_FILE = "spec.json"
MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
INFO_FILE = "run.json"
SAMPLES_FILE = "sample_inputs.npz"
SPLIT_ROWS_FILE = "splits.npz"
#: Layer health per epoch (:mod:`mlpdesigner.train.health`).
HEALTH_FILE = "health.json"
#: In the parent folder of a cross-validation (``train --cv K``): per-fold and mean +- std metrics.
CV_FILE = "cv.json"
#: Where ``model.keras`` is written before it is renamed into place.
PARTIAL_MODEL_FILE = ".model.partial.keras"

#: The evaluation views of the test split (:mod:`mlpdesigner.evaluation`), and the folder of their pictures.
EVALUATION_FILE = "evaluation.json"
EVALUATION_FOLDER = "evaluation"

#: Files of a finished run folder (the pictures' ``evaluation/`` folder comes when the views are first shown).
RUN_FILES = (SPEC_FILE, MODEL_FILE, ONNX_FILE, HISTORY_FILE, METRICS_FILE, INFO_FILE, SAMPLES_FILE, SPLIT_ROWS_FILE,
             EVALUATION_FILE, HEALTH_FILE)

#: Metric splits of ``metrics.json``.
SPLITS = ("train", "validation", "test")


class RunStatus(str, Enum):
    """How a run stands. ``run.json`` holds running, completed, stopped, failed or imported.

    ``interrupted`` is never written: a reader says it of a run whose
    ``run.json`` still says running while its process is gone. ``starting``
    is the designer's word for a child that has not reported yet.
    ``imported`` marks a folder ``mlpdesigner import --weights`` wrote: a model
    brought in from a file, never trained here.
    """

    STARTING = "starting"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    IMPORTED = "imported"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def ended(self) -> bool:
        """True for completed, stopped, failed and interrupted runs."""
        return self not in (RunStatus.STARTING, RunStatus.RUNNING)


#: The statuses ``run.json`` may hold.
WRITTEN_STATUSES = (RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.IMPORTED)


class RunFolderError(UserError):
    """A run folder, or one of its files, that cannot be read as a run."""


# --------------------------------------------------------------------------- the run record (run.json)


def _check(value: Any, kind: type | tuple[type, ...], where: str, expected: str, optional: bool = True) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise RunFolderError(f"{where}: Expected {expected}. Received: {value!r}")
    if not isinstance(value, kind):
        raise RunFolderError(f"{where}: Expected {expected}. Received: {json.dumps(value)[:80]}")
    return value


def _name_lists(value: Any, where: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    _check(value, dict, where, "an object of name -> list of strings")
    for key, names in value.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RunFolderError(
                f"{where}.{key}: Expected names mapped to lists of strings. Received: {json.dumps(names)[:80]}"
            )
    return {str(k): list(v) for k, v in value.items()}


@dataclass
class RunInfo:
    """``run.json``, typed. Keys this version does not know are kept in :attr:`extra` and written back."""

    status: RunStatus = RunStatus.RUNNING
    reason: str | None = None
    #: While running, pid + its start time + host let a reader tell a live run from one that was killed.
    pid: int | None = None
    pid_start: int | None = None
    host: str | None = None
    spec: str = ""
    spec_path: str | None = None
    seed: int | None = None
    device: str | None = None
    device_name: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    #: path, sha256, format, rows, splits, validation_split, test_split, shuffle, stratify.
    data: dict[str, Any] = field(default_factory=dict)
    #: Input name -> data column names.
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: Output name -> target column names.
    targets: dict[str, list[str]] = field(default_factory=dict)
    #: Output name -> class names (classification outputs).
    classes: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    normalized_inputs: list[str] = field(default_factory=list)
    #: epochs, batch_size, steps_per_epoch, steps_per_execution, jit_compile, class_weight.
    training: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: started, data_seconds; when ended: ended, train_seconds, total_seconds.
    timings: dict[str, Any] = field(default_factory=dict)
    epochs_completed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = (
        "status", "reason", "pid", "pid_start", "host", "spec", "spec_path", "seed", "device", "device_name",
        "versions", "data", "columns", "targets", "classes", "outputs", "normalized_inputs", "training",
        "warnings", "timings", "epochs_completed",
    )

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``run.json`` (``epochs_completed`` only once the run ended)."""
        out: dict[str, Any] = {}
        for key in self._KEYS:
            value = getattr(self, key)
            if key == "status":
                value = value.value
            elif key == "epochs_completed" and value is None:
                continue
            out[key] = value
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = INFO_FILE, *, status_required: bool = True) -> RunInfo:
        """A record from the JSON of ``run.json``; a value of the wrong kind is a :class:`RunFolderError` naming it.

        Without ``status_required`` a missing status reads as ``failed`` (for readers that want only names).
        """
        _check(data, dict, where, "a JSON object", optional=False)
        status = data.get("status")
        if status is None and not status_required:
            status = RunStatus.FAILED.value
        try:
            parsed = RunStatus(status)
        except ValueError:
            parsed = None
        if parsed not in WRITTEN_STATUSES:
            allowed = ", ".join(s.value for s in WRITTEN_STATUSES)
            raise RunFolderError(f"{where}: status: Expected one of {allowed}. Received: {json.dumps(status)}")
        text, integer = (str,), (int,)
        return cls(
            status=parsed,
            reason=_check(data.get("reason"), text, f"{where}: reason", "text"),
            pid=_check(data.get("pid"), integer, f"{where}: pid", "a process id"),
            pid_start=_check(data.get("pid_start"), integer, f"{where}: pid_start", "a whole number"),
            host=_check(data.get("host"), text, f"{where}: host", "a host name"),
            spec=_check(data.get("spec"), text, f"{where}: spec", "the spec's name") or "",
            spec_path=_check(data.get("spec_path"), text, f"{where}: spec_path", "a path"),
            seed=_check(data.get("seed"), integer, f"{where}: seed", "a whole number"),
            device=_check(data.get("device"), text, f"{where}: device", '"cpu" or "gpu"'),
            device_name=_check(data.get("device_name"), text, f"{where}: device_name", "text"),
            versions=_check(data.get("versions"), dict, f"{where}: versions", "an object") or {},
            data=_check(data.get("data"), dict, f"{where}: data", "an object") or {},
            columns=_name_lists(data.get("columns"), f"{where}: columns"),
            targets=_name_lists(data.get("targets"), f"{where}: targets"),
            classes=_name_lists(data.get("classes"), f"{where}: classes"),
            outputs=_check(data.get("outputs"), dict, f"{where}: outputs", "an object") or {},
            normalized_inputs=_check(data.get("normalized_inputs"), list, f"{where}: normalized_inputs", "a list")
            or [],
            training=_check(data.get("training"), dict, f"{where}: training", "an object") or {},
            warnings=_check(data.get("warnings"), list, f"{where}: warnings", "a list") or [],
            timings=_check(data.get("timings"), dict, f"{where}: timings", "an object") or {},
            epochs_completed=_check(data.get("epochs_completed"), integer, f"{where}: epochs_completed",
                                    "a whole number"),
            extra={k: v for k, v in data.items() if k not in cls._KEYS},
        )

    @property
    def started(self) -> datetime | None:
        """When the run started (``timings.started``), or None."""
        stamp = self.timings.get("started")
        if isinstance(stamp, str):
            try:
                return datetime.fromisoformat(stamp)
            except ValueError:
                return None
        return None


# --------------------------------------------------------------------------- is it still running?


def process_start_ticks(pid: int) -> int | None:
    """When a process started (clock ticks since boot, Linux); None where that cannot be read.

    Together with the pid it names one process, even after the pid is reused.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, start_ticks: int | None = None) -> bool:
    """True when a process with this id exists on this machine (and, given ``start_ticks``, is that process)."""
    if pid <= 0:
        return False
    if start_ticks is not None:
        now = process_start_ticks(pid)
        if now is not None:
            return now == start_ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def this_process() -> tuple[int, int | None, str]:
    """(pid, its start time, host) of this process, as a running run records them."""
    return os.getpid(), process_start_ticks(os.getpid()), platform.node()


def current_status(info: RunInfo) -> RunStatus:
    """The run's status as it stands now: a "running" run whose process is gone on this host is interrupted.

    A run recorded on another host stays "running" (it may still be training there).
    """
    if info.status is not RunStatus.RUNNING:
        return info.status
    if info.host not in (None, platform.node()):
        return RunStatus.RUNNING
    if info.pid is not None and info.pid != os.getpid() and process_alive(info.pid, info.pid_start):
        return RunStatus.RUNNING
    return RunStatus.INTERRUPTED


def remove_leftovers(run: Path, info: RunInfo) -> None:
    """Remove what a killed run left behind (a partial model, temporary files); never from a live run."""
    if current_status(info) is RunStatus.RUNNING:
        return
    with contextlib.suppress(OSError):
        (run / PARTIAL_MODEL_FILE).unlink(missing_ok=True)
    remove_stale_temporaries(run)


def unfinished_run_message(run: Path, info: RunInfo) -> str | None:
    """Why a run whose ``run.json`` still says "running" cannot be used; None for a run that ended."""
    if info.status is not RunStatus.RUNNING:
        return None
    pid = info.pid
    status = current_status(info)
    if status is RunStatus.RUNNING and info.host in (None, platform.node()):
        return f"{run}: the run is still training (process {pid}). Expected a finished run: wait for it to end."
    if status is RunStatus.RUNNING:
        return (
            f"{run}: the run did not finish: run.json still says \"running\" (process {pid} on {info.host}, which "
            "may still be training or may have been killed). Expected a finished run."
        )
    who = f"its process {pid}" if pid is not None else "its process"
    return (
        f"{run}: the run was interrupted: run.json still says \"running\" but {who} is gone "
        "(killed, crashed, or out of memory). Expected a finished run: train again."
    )


# --------------------------------------------------------------------------- naming


def runs_folder(spec_path: str | os.PathLike[str]) -> Path:
    """Where the designer puts the runs of a design: ``<spec folder>/runs``."""
    return Path(spec_path).resolve().parent / "runs"


def run_folder_names(name: str, now: datetime | None = None) -> Iterator[str]:
    """``<name>-<YYYYmmdd-HHMMSS>``, then ``...-2``, ``...-3`` ... (1000 in all)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        yield f"{name}-{stamp}" + (f"-{attempt + 1}" if attempt else "")


def new_run_dir(runs_root: str | os.PathLike[str], name: str, now: datetime | None = None, *,
                create: bool = False) -> Path:
    """A fresh run folder ``<runs_root>/<name>-<YYYYmmdd-HHMMSS>[-n]``.

    With ``create`` the folder is made (atomically claimed: two runs started in
    the same second get different folders); without, only a free name is found
    (``train --out`` creates it later).
    """
    root = Path(runs_root)
    for folder in run_folder_names(name, now):
        path = root / folder
        if not create:
            if not path.exists():
                return path
            continue
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot create the run folder {path}: {exc.strerror or exc}") from None
        return path.resolve()
    raise UserError(f"cannot find a free run folder name under {root}")  # pragma: no cover


# --------------------------------------------------------------------------- writing


def json_safe(value: Any) -> Any:
    """A JSON-safe copy: numpy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_safe(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def write_json(path: Path, data: Any) -> None:
    """JSON written atomically, non-finite numbers as null."""
    atomic_write_text(path, json.dumps(json_safe(data), indent=2, allow_nan=False, ensure_ascii=False) + "\n")


def write_info(run_dir: Path, info: RunInfo) -> None:
    """``run.json``."""
    write_json(run_dir / INFO_FILE, info.to_json())


def write_metrics(run_dir: Path, metrics: dict[str, Any]) -> None:
    """``metrics.json``."""
    write_json(run_dir / METRICS_FILE, metrics)


def write_history(run_dir: Path, history: list[dict[str, Any]]) -> None:
    """``history.csv``: one row per finished epoch."""
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_safe(k) for k in keys or ["epoch"]])  # names come from the spec: no formulas
    for row in history:
        writer.writerow([csv_safe("" if row.get(k) is None else row.get(k)) for k in keys])
    atomic_write_text(run_dir / HISTORY_FILE, buffer.getvalue())


# --------------------------------------------------------------------------- reading


def read_json(path: Path) -> Any:
    """A JSON file; a :class:`RunFolderError` naming the file (and line and column) when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunFolderError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RunFolderError(f"{path}: Expected UTF-8 JSON. Received: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}:{exc.lineno}:{exc.colno}: Expected JSON. Received: {exc.msg}") from None
    except RecursionError:
        raise RunFolderError(f"{path}: Expected a run record. Received: JSON nested too deeply to read") from None


def read_info(run_dir: str | os.PathLike[str]) -> RunInfo:
    """The typed ``run.json`` of a run folder (a :class:`RunFolderError` when it is missing or malformed)."""
    path = Path(run_dir) / INFO_FILE
    return RunInfo.from_json(read_json(path), str(path))


def read_metrics(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``metrics.json`` ({} when there is none or it cannot be read)."""
    try:
        metrics = read_json(Path(run_dir) / METRICS_FILE)
    except RunFolderError:
        return {}
    return metrics if isinstance(metrics, dict) else {}


def format_number(value: Any) -> str:
    """A metric value in 4 significant digits (``-`` for none)."""
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return str(value)


def finite_number(value: Any) -> float | None:
    """A finite float from a CSV cell or JSON value; None for empty, non-numeric or non-finite."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_history(run_dir: str | os.PathLike[str]) -> dict[str, list[float | None]]:
    """``history.csv`` as columns (``epoch`` plus every metric); {} when there is none."""
    path = Path(run_dir) / HISTORY_FILE
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    if not rows:
        return {}
    return {key: [finite_number(row.get(key)) for row in rows] for key in rows[0]}


# --------------------------------------------------------------------------- the run history of a design


@dataclass
class RunRecord:
    """One run folder as the designer's history lists it."""

    path: Path
    info: RunInfo
    status: RunStatus
    metrics: dict[str, Any] = field(default_factory=dict)
    #: ``cv.json`` when this is the parent folder of a cross-validation (``train --cv K``), else None.
    cv: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def spec(self) -> str:
        return self.info.spec

    @property
    def reason(self) -> str | None:
        return self.info.reason

    @property
    def epochs_completed(self) -> int | None:
        return None if self.cv is not None else self.info.epochs_completed

    @property
    def has_model(self) -> bool:
        return (self.path / MODEL_FILE).is_file()

    @property
    def started(self) -> datetime | None:
        started = self.info.started
        if started is not None:
            return started
        try:
            return datetime.fromtimestamp(self.path.stat().st_mtime).astimezone()
        except OSError:
            return None

    @property
    def started_text(self) -> str:
        started = self.started
        return started.astimezone().strftime("%Y-%m-%d %H:%M:%S") if started else "?"

    def headline(self, limit: int = 3) -> str:
        """The final test metrics (else validation, else train) in a few words; mean ± std for a cross-validation."""
        if self.cv is not None:
            means, stds = self.cv.get("mean") or {}, self.cv.get("std") or {}
            shown = [f"{k} {format_number(v)} ± {format_number(stds.get(k, 0.0))}" for k, v in means.items()]
            return f"{self.cv.get('folds')}-fold CV: " + (", ".join(shown[:limit]) or (self.reason or ""))
        for split in ("test", "validation", "train"):
            values = self.metrics.get(split)
            if values:
                shown = [f"{k} {format_number(v)}" for k, v in values.items()]
                return f"{split}: " + ", ".join(shown[:limit])
        return self.reason or ""


def read_run(folder: str | os.PathLike[str]) -> RunRecord | None:
    """The record of a run folder, or None when it holds no readable run.json."""
    path = Path(folder)
    try:
        info = read_info(path)
    except RunFolderError:
        return read_cross_validation(path)
    return RunRecord(path=path.resolve(), info=info, status=current_status(info), metrics=read_metrics(path))


def read_cross_validation(folder: Path) -> RunRecord | None:
    """The record of a cross-validation's parent folder (its ``cv.json`` and first fold), or None.

    Its metrics are the folds' mean test metrics (``test``) and the constant
    baseline's mean (``baseline.test``), so the designer's tables show them.
    """
    try:
        cv = read_json(folder / CV_FILE)
        first = folder / str(cv["runs"][0]["run_dir"])
        info = read_info(first)
        status = RunStatus(cv["status"])
    except (RunFolderError, OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    metrics = {"test": cv.get("mean") or {}, "baseline": {"test": cv.get("baseline_mean") or {}}}
    return RunRecord(path=folder.resolve(), info=info, status=status, metrics=metrics, cv=cv)


def scan_runs(runs_root: str | os.PathLike[str], spec_name: str) -> list[RunRecord]:
    """The runs of the design ``spec_name`` under ``runs_root``, newest first."""
    root = Path(runs_root)
    if not root.is_dir():
        return []
    records = []
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.startswith(f"{spec_name}-"):
            continue
        record = read_run(folder)
        if record is not None and record.spec == spec_name:
            records.append(record)

    def newest(record: RunRecord) -> tuple[float, str]:
        started = record.started
        return (started.timestamp() if started else 0.0, record.name)

    records.sort(key=newest, reverse=True)
    return records
