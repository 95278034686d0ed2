"""Fuzzing every command with mutated inputs (issue 19): exit 0/1/2, a message naming the file, bounded memory
and time, nothing outside the output path touched. The driver is tests/fuzz_driver.py; run it with a larger
``--cases`` for longer campaigns (figures in the README's robustness section)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Rounds in the suite (each runs all nine kinds of case once); about a minute.
ROUNDS = int(os.environ.get("MLPDESIGNER_FUZZ_ROUNDS", "8"))
#: Address space the driver may use (TensorFlow included).
MEMORY_GIB = 4


@pytest.mark.slow
def test_mutated_inputs_never_crash_hang_or_touch_other_files(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "fuzz_driver.py"),
            "--cases",
            str(ROUNDS),
            "--seed",
            "19",
            "--work",
            str(tmp_path / "work"),
            "--memory-gib",
            str(MEMORY_GIB),
            "--case-seconds",
            "60",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["total"] == 9 * ROUNDS
    assert not report["failures"], json.dumps(report["failures"][:5], indent=2)
    assert report["peak_rss_mib"] < MEMORY_GIB * 1024
    leftovers = [p for p in tmp_path.iterdir() if p.name != "work"]
    assert not leftovers, leftovers
