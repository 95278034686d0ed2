"""The search folder's files: the trials table (CSV + JSON), the best spec, the plot.

No Ray here: the designer reads these files while a search runs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..spec import dumps, load_spec
from ..spec.search import with_values

TRIALS_JSON = "trials.json"
TRIALS_CSV = "trials.csv"
BEST_SPEC = "best.json"
PLOT = "search.png"
#: The search's own record: the base spec, the command's settings, how it ended.
SEARCH_JSON = "search.json"

#: A trial's status in the table.
COMPLETED, EARLY_STOPPED, FAILED = "completed", "early_stopped", "failed"
RUNNING, INTERRUPTED = "running", "interrupted"


def best_value(trial: dict[str, Any]) -> float | None:
    """The lowest validation loss of a trial's epochs, or None."""
    values = [e["val_loss"] for e in trial.get("history", []) if _finite(e.get("val_loss"))]
    return min(values) if values else None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def ranked(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trials with a validation loss, best first."""
    scored = [t for t in trials if t.get("best_val_loss") is not None]
    return sorted(scored, key=lambda t: t["best_val_loss"])


def read_trials(folder: Path) -> list[dict[str, Any]]:
    """The trials recorded in a search folder (empty when there is none yet, or it is being replaced)."""
    try:
        data = json.loads((folder / TRIALS_JSON).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return data.get("trials", []) if isinstance(data, dict) else []


def write_tables(folder: Path, fields: list[str], trials: list[dict[str, Any]], *, metric: str = "val_loss") -> None:
    """trials.json (everything, with per-epoch history) and trials.csv (one row per trial)."""
    for trial in trials:
        trial["best_val_loss"] = best_value(trial)
        trial["epochs"] = len(trial.get("history", []))
    document = {"metric": metric, "mode": "min", "fields": fields, "trials": trials}
    atomic_write_text(folder / TRIALS_JSON, json.dumps(document, indent=2, allow_nan=False, default=str) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["trial", *fields, "status", f"best_{metric}", "epochs", "node_id", "run_dir"])
    for trial in trials:
        params = trial.get("params", {})
        writer.writerow([trial["trial"], *(json.dumps(params.get(f)) for f in fields), trial.get("status"),
                         trial.get("best_val_loss"), trial.get("epochs"), trial.get("node_id"), trial.get("run_dir")])
    atomic_write_text(folder / TRIALS_CSV, buffer.getvalue())


def write_best(folder: Path, base: dict[str, Any], trials: list[dict[str, Any]], base_dir: Path) -> dict[str, Any]:
    """best.json: the base spec with the best trial's values, no search section, validated; returns the trial."""
    best = ranked(trials)[0]
    spec = with_values(base, best["params"])
    if "data" in spec:  # the folder may sit elsewhere than the spec: keep the data reachable from it
        data = (base_dir / spec["data"]["path"]).resolve()
        spec["data"]["path"] = os.path.relpath(data, folder.resolve())
    load_spec(spec)  # a search's best is a complete valid spec, or this is a bug worth a traceback
    atomic_write_text(folder / BEST_SPEC, dumps(spec))
    return best


def _axis_values(domain: dict[str, Any], values: list[Any]) -> tuple[list[float], list[str] | None, bool]:
    """Values mapped to an axis: (positions, tick labels for choices, log scale)."""
    if "choice" in domain:
        labels = [json.dumps(v) for v in domain["choice"]]
        return [float(labels.index(json.dumps(v))) if json.dumps(v) in labels else math.nan for v in values], \
            labels, False
    return [float(v) for v in values], None, "log" in domain


def write_plot(folder: Path, domains: dict[str, dict[str, Any]], trials: list[dict[str, Any]]) -> Path | None:
    """A parallel-coordinates plot: one line per trial across the searched fields, coloured by validation loss."""
    scored = ranked(trials)
    if not scored or not domains:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors

    fields = list(domains)
    axes_count = len(fields) + 1
    losses = [t["best_val_loss"] for t in scored]
    columns: list[list[float]] = []
    labels: list[list[str] | None] = []
    for field in fields:
        positions, ticks, log = _axis_values(domains[field], [t["params"].get(field) for t in scored])
        if log:
            positions = [math.log10(p) if p > 0 else math.nan for p in positions]
        columns.append(positions)
        labels.append(ticks)
    columns.append(losses)
    labels.append(None)
    normalized = []
    for column in columns:
        finite = [v for v in column if math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        span = (high - low) or 1.0
        normalized.append([(v - low) / span if math.isfinite(v) else math.nan for v in column])
    figure, axis = plt.subplots(figsize=(max(6, 2.2 * axes_count), 4.5), dpi=100)
    norm = colors.Normalize(min(losses), max(losses))
    cmap = matplotlib.colormaps["viridis_r"]
    for row in reversed(range(len(scored))):  # the best drawn last, on top
        ys = [normalized[c][row] for c in range(axes_count)]
        axis.plot(range(axes_count), ys, color=cmap(norm(losses[row])), linewidth=2.5 if row == 0 else 1.2,
                  alpha=0.9)
    for index in range(axes_count):
        axis.axvline(index, color="#888", linewidth=0.8)
        column = columns[index]
        finite = [v for v in column if math.isfinite(v)]
        if labels[index]:
            low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
            span = (high - low) or 1.0
            for position, text in enumerate(labels[index] or []):
                axis.text(index + 0.03, (position - low) / span, text, fontsize=8, va="center")
        elif finite:
            low, high = min(finite), max(finite)
            log = index < len(fields) and "log" in domains[fields[index]]
            show = (lambda v: f"{10 ** v:.3g}") if log else (lambda v: f"{v:.4g}")
            axis.text(index + 0.03, 0, show(low), fontsize=8, va="bottom")
            axis.text(index + 0.03, 1, show(high), fontsize=8, va="top")
    axis.set_xticks(range(axes_count), [*fields, "best val_loss"], rotation=12, fontsize=8)
    axis.set_yticks([])
    axis.set_xlim(-0.1, axes_count - 0.6)
    figure.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=axis, label="best val_loss")
    axis.set_title(f"{len(scored)} trials (best in bold)")
    path = folder / PLOT
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
    return path
