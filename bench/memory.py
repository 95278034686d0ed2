"""Memory: peak resident set size of the designer at idle and of a training run.

- Designer: a fresh process on the offscreen Qt platform opens a spec through
  ``mlpdesigner gui SPEC`` (see :mod:`bench.startup`), paints its window, idles
  in the event loop for :data:`IDLE_SECONDS`, then reads its own ``VmHWM``
  from ``/proc/self/status`` (peak RSS).
- Training: ``mlpdesigner train housing_regression.json --progress none
  --epochs 2 --out TMP`` in a fresh process (the CLI's ``main``, run by a
  ``python -c`` wrapper that reads ``VmHWM`` when it returns).
- Context, side by side: a bare ``python -c "import tensorflow"`` the same way.

Why ``VmHWM`` and not ``getrusage(RUSAGE_CHILDREN)`` / ``wait4``: on Linux a
child's ``ru_maxrss`` keeps the high-water mark of the memory it was forked
from (it survives ``execve``), so a child started by a process that holds
TensorFlow reports that process's peak. ``VmHWM`` belongs to the child's own
address space, which starts empty at ``execve``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .startup import ROOT, SPEC_NAME, child_environment, designer_child

IDLE_SECONDS = 2.0
TRAIN_EXAMPLE = "housing_regression"


#: Runs ``mlpdesigner.cli.main(argv[1:])`` or executes argv[1] (with ``-c``), then prints its own VmHWM.
_PEAK_CHILD = """
import sys
if sys.argv[1] == "-c":
    exec(sys.argv[2])
    code = 0
else:
    from mlpdesigner.cli import main
    code = main(sys.argv[1:])
with open("/proc/self/status") as handle:
    peak = next(line.split()[1] for line in handle if line.startswith("VmHWM:"))
print("BENCH-PEAK-KIB", peak, flush=True)
sys.exit(code)
"""


def child_peak_rss_mib(args: list[str], cwd: Path, timeout: float = 300) -> float:
    """Peak RSS (MiB) of a fresh process running ``mlpdesigner ARGS`` (or ``python -c CODE`` for ``-c CODE``)."""
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-home-") as home:
        proc = subprocess.run(
            [sys.executable, "-c", _PEAK_CHILD, *args],
            cwd=cwd,
            env=child_environment(Path(home)),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-PEAK-KIB ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{' '.join(args[:3])} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return int(line.split()[1]) / 1024


def run(quick: bool = False) -> dict[str, Any]:
    """Peak RSS in MiB of the designer at idle, a training run, and ``import tensorflow``."""
    from mlpdesigner.resources import example_path

    designer = designer_child(example_path(SPEC_NAME), idle_seconds=IDLE_SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        train_rss = child_peak_rss_mib(
            [
                "train",
                str(example_path(TRAIN_EXAMPLE)),
                "--progress",
                "none",
                "--epochs",
                "2",
                "--out",
                str(Path(tmp) / "run"),
            ],
            cwd=ROOT,
        )
        tf_rss = child_peak_rss_mib(["-c", "import tensorflow"], cwd=Path(tmp))
    designer_mib = designer["vmhwm_kib"] / 1024
    return {
        "designer_spec": f"{SPEC_NAME}.json, offscreen, {IDLE_SECONDS:g} s idle after the first frame",
        "designer_idle_peak_rss_mib": round(designer_mib, 1),
        "designer_tensorflow_imported": designer["tensorflow_imported"],
        "training_run": f"mlpdesigner train {TRAIN_EXAMPLE}.json --epochs 2",
        "training_run_peak_rss_mib": round(train_rss, 1),
        "python_import_tensorflow_peak_rss_mib": round(tf_rss, 1),
        "training_run_vs_designer_idle_ratio": round(train_rss / designer_mib, 1),
    }


if __name__ == "__main__":  # python -m bench.memory
    import json

    print(json.dumps(run(), indent=1))
