"""Memory: peak resident set size of the designer at idle and of a training run.

- Designer: a fresh process on the offscreen Qt platform opens a spec through
  ``mlpdesigner gui SPEC`` (see :mod:`bench.startup`), paints its window, idles
  in the event loop for :data:`IDLE_SECONDS`, then reads its own ``VmHWM``
  from ``/proc/self/status`` (peak RSS).
- Training: ``python -m mlpdesigner train housing_regression.json --progress
  none --epochs 2 --out TMP`` as a child; its peak RSS comes from the child's
  own resource usage (``os.wait4``, the per-child form of
  ``getrusage(RUSAGE_CHILDREN)``: the other children of this process do not
  mix in).
- Context, side by side: a bare ``python -c "import tensorflow"`` the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .startup import ROOT, SPEC_NAME, child_environment, designer_child

IDLE_SECONDS = 2.0
TRAIN_EXAMPLE = "housing_regression"


def child_peak_rss_mib(args: list[str], cwd: Path, timeout: float = 300) -> tuple[float, int]:
    """Peak RSS (MiB, from ``wait4``) and exit code of a child process run to its end."""
    with tempfile.TemporaryDirectory(prefix="mlpdesigner-bench-home-") as home:
        proc = subprocess.Popen(
            args, cwd=cwd, env=child_environment(Path(home)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[1:4])} exited {proc.returncode}: {stderr[-2000:]}")
    return usage.ru_maxrss / 1024, proc.returncode  # Linux reports KiB


def run(quick: bool = False) -> dict[str, Any]:
    """Peak RSS in MiB of the designer at idle, a training run, and ``import tensorflow``."""
    from mlpdesigner.resources import example_path

    designer = designer_child(example_path(SPEC_NAME), idle_seconds=IDLE_SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        train_rss, _ = child_peak_rss_mib(
            [
                sys.executable,
                "-m",
                "mlpdesigner",
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
        tf_rss, _ = child_peak_rss_mib([sys.executable, "-c", "import tensorflow"], cwd=Path(tmp))
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
