"""Run history of a design (Qt-free): the run folders under ``<spec folder>/runs/<name>-<timestamp>/``.

A run folder is what ``mlpdesigner train`` writes: ``run.json`` (status,
reason, timings, settings), ``metrics.json`` (final metrics per split),
``history.csv`` (one row per epoch), ``model.keras`` when the run saved its model.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..runevents import _number, format_number


@dataclass
class RunRecord:
    """One run folder as the history lists it."""

    path: Path
    spec: str
    status: str
    reason: str | None
    started: datetime | None
    epochs_completed: int | None
    metrics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def has_model(self) -> bool:
        return (self.path / "model.keras").is_file()

    @property
    def started_text(self) -> str:
        return self.started.astimezone().strftime("%Y-%m-%d %H:%M:%S") if self.started else "?"

    def headline(self, limit: int = 3) -> str:
        """The final test metrics (else validation, else train) in a few words."""
        for split in ("test", "validation", "train"):
            values = self.metrics.get(split)
            if values:
                shown = [f"{k} {format_number(v)}" for k, v in values.items()][:limit]
                return f"{split}: " + ", ".join(shown)
        return self.reason or ""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _started(info: dict[str, Any], folder: Path) -> datetime | None:
    stamp = (info.get("timings") or {}).get("started")
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp)
        except ValueError:
            pass
    try:
        return datetime.fromtimestamp(folder.stat().st_mtime).astimezone()
    except OSError:
        return None


def read_run(folder: str | os.PathLike[str]) -> RunRecord | None:
    """The record of a run folder, or None when it holds no readable run.json."""
    path = Path(folder)
    info = _read_json(path / "run.json")
    if not isinstance(info, dict):
        return None
    metrics = _read_json(path / "metrics.json")
    status = str(info.get("status") or "?")
    if status == "running":
        status = "running or interrupted"
    return RunRecord(
        path=path.resolve(),
        spec=str(info.get("spec") or ""),
        status=status,
        reason=info.get("reason"),
        started=_started(info, path),
        epochs_completed=info.get("epochs_completed"),
        metrics=metrics if isinstance(metrics, dict) else {},
        info=info,
    )


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
    records.sort(key=lambda r: (r.started.timestamp() if r.started else 0.0, r.name), reverse=True)
    return records


def read_history(run_dir: str | os.PathLike[str]) -> dict[str, list[float | None]]:
    """``history.csv`` as columns (``epoch`` plus every metric); {} when there is none."""
    path = Path(run_dir) / "history.csv"
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return {}
    if not rows:
        return {}
    return {key: [_number(row.get(key)) for row in rows] for key in rows[0]}
