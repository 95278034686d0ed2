"""Designer start: process start to the main window's first painted frame, with a spec loaded.

Each measurement is a fresh ``python`` process on the offscreen Qt platform,
with ``HOME`` and the XDG folders in a scratch folder (no saved layout, no
recovery files). The child goes through the real entry point
(``mlpdesigner.cli.main(["gui", SPEC])``, which opens the window and enters
the event loop); an event filter notes the first paint event of the main
window's widgets, lets that paint pass finish, records the time and quits. The
figure is the parent's clock from just before it started the process to that
first frame. The child also reports whether ``tensorflow`` or ``keras`` is in
``sys.modules`` and its peak RSS (``VmHWM``).

Two designs side by side (issue 18): the starter with its data file, and the
same design with its data section removed. The designer reads the data file
only when the Data tab is shown, so the two should open equally fast
(``with_data_vs_without_ratio`` of the medians; also the median of the ratios of
pairs run back to back, and the ratio of the best runs, which a varying load
disturbs less); the child says whether pandas was imported.
The warm worker is off in the child (it starts after the first frame anyway,
and a child that exits at once must leave no worker behind).

Side by side, as context: a bare ``python -c pass`` and
``python -c "import tensorflow"`` (start to exit), in fresh processes too.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 1.5
SPEC_NAME = "wide_deep_aux_output"

#: The child: open the designer through its CLI, quit after the first frame (and ``idle`` seconds more).
DESIGNER_CHILD = r"""
import json, os, sys, time
spec, idle = sys.argv[1], float(sys.argv[2])
from mlpdesigner.cli import main as cli_main
import mlpdesigner.cli as cli_module
cli_module._has_display = lambda: True  # offscreen here: measure the window as if a display were there
from PySide6.QtCore import QEvent, QObject, QTimer
from mlpdesigner.gui import app as gui_app
from mlpdesigner.gui.main_window import MainWindow
imported = time.time()
marks = {"imported": imported}

def finish():
    if "painted" in marks:
        return
    marks["painted"] = time.time()
    QTimer.singleShot(int(idle * 1000), gui_app.application().quit)

class FirstFrame(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "first_paint" not in marks:
            window = obj.window() if hasattr(obj, "window") else None
            if isinstance(window, MainWindow):
                marks["first_paint"] = time.time()
                marks["window_title"] = window.windowTitle()
                marks["window_visible"] = window.isVisible()
                QTimer.singleShot(0, finish)  # after this paint pass
        return False

qt_app = gui_app.application()
watcher = FirstFrame()
qt_app.installEventFilter(watcher)
code = cli_main(["gui", spec])
status = {}
with open("/proc/self/status") as handle:
    for line in handle:
        key, _, value = line.partition(":")
        status[key] = value.strip()
import resource
marks.update(
    exit_code=code,
    tensorflow_imported="tensorflow" in sys.modules,
    pandas_imported="pandas" in sys.modules,
    keras_imported="keras" in sys.modules,
    modules=len(sys.modules),
    vmhwm_kib=int(status.get("VmHWM", "0 kB").split()[0]),
    ru_maxrss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
)
print("BENCH-RESULT " + json.dumps(marks), flush=True)
os._exit(0)
"""


def child_environment(home: Path) -> dict[str, str]:
    """The environment of a measured child: offscreen Qt, a scratch home, the repository importable."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        TF_CPP_MIN_LOG_LEVEL="3",
        MLPDESIGNER_WARM_WORKER="0",
    )
    env.pop("PYTHONSTARTUP", None)
    return env


def designer_child(spec: str | os.PathLike[str], idle_seconds: float = 0.0, timeout: float = 120) -> dict[str, Any]:
    """Start the designer on ``spec`` in a fresh process; seconds from start to first frame, and its report."""
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-home-") as home:
        started = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", DESIGNER_CHILD, str(spec), str(idle_seconds)],
            env=child_environment(Path(home)),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise RuntimeError(
            f"The designer child did not report (exit {proc.returncode}). Received stderr: {proc.stderr[-2000:]}"
        )
    report = json.loads(line.removeprefix("BENCH-RESULT "))
    if "painted" not in report:
        raise RuntimeError("The designer child quit before it painted its window")
    report["seconds_to_first_frame"] = report["painted"] - started
    report["seconds_to_imports_done"] = report["imported"] - started
    return report


def python_seconds(code: str, timeout: float = 120) -> float:
    """Seconds from start to exit of ``python -c code`` in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-home-") as home:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code],
            env=child_environment(Path(home)),
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        return time.perf_counter() - started


def without_data(spec: Path, folder: Path) -> Path:
    """A copy of ``spec`` with no data section (written into ``folder``)."""
    raw = json.loads(spec.read_text("utf-8"))
    raw.pop("data", None)
    target = folder / f"{spec.stem}-no-data.json"
    target.write_text(json.dumps(raw, indent=2), "utf-8")
    return target


def run(quick: bool = False) -> dict[str, Any]:
    """Median start times (fresh processes, alternating) with and without a data file; TensorFlow and pandas."""
    from mlpdesigner.resources import example_path

    spec = example_path(SPEC_NAME)
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-spec-") as scratch:
        bare_spec = without_data(spec, Path(scratch))
        designer_child(spec)  # warm the file cache once
        designer_child(bare_spec)
        python_seconds("import tensorflow")
        reports: list[dict[str, Any]] = []
        bare_reports: list[dict[str, Any]] = []
        tf_times: list[float] = []
        bare_times: list[float] = []
        for index in range(repeats):
            pair = [(reports, spec), (bare_reports, bare_spec)]
            for collected, design in pair if index % 2 == 0 else pair[::-1]:  # order rotated
                collected.append(designer_child(design))
            tf_times.append(python_seconds("import tensorflow"))
            bare_times.append(python_seconds("pass"))
    first_frame = statistics.median(r["seconds_to_first_frame"] for r in reports)
    first_frame_no_data = statistics.median(r["seconds_to_first_frame"] for r in bare_reports)
    imports = statistics.median(r["seconds_to_imports_done"] for r in reports)
    tf_import = statistics.median(tf_times)
    return {
        "spec": f"{SPEC_NAME}.json (offscreen)",
        "repeats": repeats,
        "designer_start_to_first_frame_s": round(first_frame, 3),
        "designer_start_to_first_frame_without_data_s": round(first_frame_no_data, 3),
        "with_data_vs_without_ratio": round(first_frame / first_frame_no_data, 3),
        # Under a varying load the medians drift apart; each pair ran back to back, so its ratio is steadier.
        "with_data_vs_without_paired_ratio": round(statistics.median(
            r["seconds_to_first_frame"] / b["seconds_to_first_frame"] for r, b in zip(reports, bare_reports)), 3),
        "with_data_vs_without_best_ratio": round(
            min(r["seconds_to_first_frame"] for r in reports) / min(b["seconds_to_first_frame"] for b in bare_reports),
            3),
        "designer_start_to_imports_done_s": round(imports, 3),
        "designer_window_build_load_show_paint_s": round(first_frame - imports, 3),
        "designer_runs_s": [round(r["seconds_to_first_frame"], 3) for r in reports],
        "designer_runs_without_data_s": [round(r["seconds_to_first_frame"], 3) for r in bare_reports],
        "tensorflow_imported": any(r["tensorflow_imported"] for r in reports + bare_reports),
        "keras_imported": any(r["keras_imported"] for r in reports + bare_reports),
        "pandas_imported": any(r["pandas_imported"] for r in reports + bare_reports),
        "modules_loaded": reports[0]["modules"],
        "python_import_tensorflow_s": round(tf_import, 3),
        "python_bare_start_s": round(statistics.median(bare_times), 3),
        "import_tensorflow_vs_designer_start_ratio": round(tf_import / first_frame, 2),
        "designer_start_vs_goal_ratio": round(first_frame / GOAL_SECONDS, 2),
        "goal_s": GOAL_SECONDS,
    }


if __name__ == "__main__":  # python -m bench.startup [--quick]
    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
