"""TensorFlow's start-up log stays off the console; real messages on stderr still get through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlpdesigner.resources import example_path
from mlpdesigner.tfenv import filter_log

ROOT = Path(__file__).resolve().parent.parent

#: What TensorFlow 2.21 printed on stderr on a CPU-only machine before issue 17 (abridged).
TF_NOISE = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1796002477.676432    8329 port.cc:153] oneDNN custom operations are on. You may see...\n"
    b"I0000 00:00:1796002477.676862    8329 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
    b"I0000 00:00:1796002667.346277   16342 cpu_feature_guard.cc:227] This TensorFlow binary is optimized...\n"
    b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow.\n"
    b"E0000 00:00:1796002479.788362    8329 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "MLPDESIGNER_DEBUG")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_filter_hides_log_lines_below_the_level_and_keeps_everything_else() -> None:
    python_warning = b"/x/y.py:3: UserWarning: something the user should see\n"
    assert filter_log(TF_NOISE + python_warning, 3) == python_warning
    at_errors = filter_log(TF_NOISE + python_warning, 2)
    assert at_errors.startswith(b"E0000 ") and b"cuInit" in at_errors and at_errors.endswith(python_warning)
    assert b"To enable the following instructions" not in at_errors  # the rest of a hidden message goes with it
    assert filter_log(TF_NOISE, 0) == TF_NOISE  # TF_CPP_MIN_LOG_LEVEL=0: everything, as TensorFlow wrote it
    assert filter_log(b"F0000 00:00:1.2 7 x.cc:1] fatal\n", 3) == b"F0000 00:00:1.2 7 x.cc:1] fatal\n"


def test_filtered_stderr_passes_real_messages_written_to_descriptor_2() -> None:
    code = (
        "import os, sys\n"
        "from mlpdesigner.tfenv import filtered_stderr\n"
        "import warnings\n"
        "with filtered_stderr(3):\n"
        "    print('a real problem', file=sys.stderr)\n"
        "    os.write(2, b'I0000 00:00:17.5  12 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "    os.write(2, b'the second line of that message\\n')\n"
        "    warnings.warn('a real warning')\n"
        "print('after', file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert lines[0] == "a real problem" and lines[-1] == "after", result.stderr
    assert "UserWarning: a real warning" in lines[1], result.stderr
    assert "oneDNN" not in result.stderr and "second line" not in result.stderr


@pytest.mark.slow
def test_training_and_exporting_print_nothing_on_stderr(tmp_path: Path) -> None:
    """The first commands a user runs: no TensorFlow log lines (no E0000 cuInit, no NodeDef attribute)."""
    spec = str(example_path("flowers_multiclass"))
    run = tmp_path / "run"
    commands = [
        ["train", spec, "--epochs", "1", "--out", str(run)],
        ["export", str(run), "--format", "onnx", "-o", str(tmp_path / "model.onnx")],
        ["export", spec, "--format", "keras", "-o", str(tmp_path / "model.keras")],
    ]
    for args in commands:
        result = subprocess.run(
            [sys.executable, "-m", "mlpdesigner", *args],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=tmp_path,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", f"mlpdesigner {args[0]} printed on stderr:\n{result.stderr}"
        assert result.stdout.strip()


def test_keras_loads_without_the_extras_it_would_import_and_they_stay_importable() -> None:
    """scikit-learn, matplotlib and IPython cost a train command about a second of Keras' import (issue 18)."""
    code = (
        "import sys\n"
        "from mlpdesigner import tfenv\n"
        "tfenv.quiet()\n"
        "import keras\n"
        "print(sorted(n for n in ('sklearn', 'matplotlib', 'IPython') if n in sys.modules))\n"
        "layer = keras.layers.Dense(2)\n"
        "print(float(keras.ops.sum(layer(keras.ops.ones((1, 3))) * 0)))\n"
        "import matplotlib, sklearn\n"
        "print('importable')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "0.0", "importable"]
