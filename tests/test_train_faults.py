"""Training faults (issue 8, item 6): NaN loss, vanished data, out of memory, a removed run folder, SIGKILL.

Each case checks what the CLI (or the ``train`` API the CLI wraps) reports and
what the run folder records.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.spec import load_spec
from mlpdesigner.train.memory import (
    available_bytes,
    is_out_of_memory,
    optimizer_slots,
    out_of_memory_message,
    training_bytes_lower_bound,
)
from mlpdesigner.train.progress import QuietReporter
from mlpdesigner.train.runner import train
from tests.test_train_run import REGRESSION, save_spec, spec_dict, write_csv

ROOT = Path(__file__).resolve().parent.parent
#: Address-space limit of the out-of-memory child: TensorFlow itself maps about 2.5 GiB.
CHILD_ADDRESS_SPACE = 4 * 2**30


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    write_csv(tmp_path / "data.csv")
    return tmp_path


# --------------------------------------------------------------------------- NaN loss through the CLI


def test_nan_loss_through_the_cli_exits_1_and_says_why(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    rows = ["f1,f2,f3,f4,value"] + [",".join(f"{v:.3f}" for v in rng.normal(size=4) * 1e6) + ",1e12" for _ in range(64)]
    (folder / "big.csv").write_text("\n".join(rows) + "\n")
    spec = spec_dict(folder / "big.csv", *REGRESSION, epochs=5, optimizer={"name": "sgd", "learning_rate": 10})
    spec["inputs"][0]["normalize"] = False
    out = folder / "run"
    assert main(["train", str(save_spec(folder, spec)), "--out", str(out), "--progress", "none"]) == 1
    printed = capsys.readouterr().out
    assert "Run failed (The loss became" in printed and "lower learning rate" in printed and str(out) in printed
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "failed" and "The loss became" in run["reason"]
    assert not (out / "model.keras").exists()
    assert main(["evaluate", str(out)]) == 2
    assert "no model.keras (the run failed: The loss became" in capsys.readouterr().err


# --------------------------------------------------------------------------- the data file vanishes


def test_data_deleted_before_the_run_is_a_user_error_without_a_folder(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = save_spec(folder, spec_dict(folder / "data.csv", *REGRESSION))
    (folder / "data.csv").unlink()
    assert main(["train", str(spec), "--out", str(folder / "run"), "--progress", "none"]) == 2
    err = capsys.readouterr().err
    assert f"Data file not found: {folder / 'data.csv'}" in err and "Traceback" not in err
    assert not (folder / "run").exists()


def test_data_deleted_between_the_check_and_the_read(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file passes the existence check, then is gone when pandas opens it: a UserError, not a crash."""
    spec = save_spec(folder, spec_dict(folder / "data.csv", *REGRESSION))
    data = folder / "data.csv"
    real_is_file = Path.is_file

    def is_file_then_delete(self: Path) -> bool:
        answer = real_is_file(self)
        if self == data and answer:
            self.unlink()
        return answer

    monkeypatch.setattr(Path, "is_file", is_file_then_delete)
    with pytest.raises(UserError, match=r"cannot read the data file: No such file .*deleted or moved while being"):
        train(spec, out=folder / "run")
    assert not (folder / "run").exists()


def test_data_deleted_between_the_read_and_the_checksum(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlpdesigner.train.data as data_module

    spec = save_spec(folder, spec_dict(folder / "data.csv", *REGRESSION))
    real = data_module.file_sha256

    def delete_first(path: Any) -> str:
        Path(path).unlink()
        return real(path)

    monkeypatch.setattr(data_module, "file_sha256", delete_first)
    with pytest.raises(UserError, match="deleted or moved while being read"):
        train(spec, out=folder / "run")


class _DeleteOnStart(QuietReporter):
    """Deletes a file when the run reports its start (the data is already in memory then)."""

    def __init__(self, victim: Path) -> None:
        super().__init__(io.StringIO())
        self.victim = victim

    def start(self, info: dict[str, Any]) -> None:
        self.victim.unlink()


def test_data_deleted_during_the_run(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = save_spec(folder, spec_dict(folder / "data.csv", *REGRESSION))
    shutil.copy(folder / "data.csv", folder / "copy.csv")
    out = folder / "run"
    result = train(spec, out=out, reporter=_DeleteOnStart(folder / "data.csv"))
    assert result.status == "completed" and not (folder / "data.csv").exists()
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["path"] == str(folder / "data.csv") and len(run["data"]["sha256"]) == 64
    assert main(["evaluate", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"the run's data file {folder / 'data.csv'} is gone" in err and "--data FILE" in err
    assert main(["evaluate", str(out), "--data", str(folder / "copy.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 160


# --------------------------------------------------------------------------- the run folder is removed


class _RemoveFolderAfterEpoch(QuietReporter):
    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.run_dir: Path | None = None

    def start(self, info: dict[str, Any]) -> None:
        self.run_dir = Path(info["run_dir"])

    def epoch(self, epoch: int, epochs: int, metrics: dict[str, float], elapsed: float, eta: float | None) -> None:
        if epoch == 1 and self.run_dir is not None:
            shutil.rmtree(self.run_dir)


def test_run_folder_removed_during_the_run(folder: Path) -> None:
    spec = save_spec(folder, spec_dict(folder / "data.csv", *REGRESSION, epochs=2))
    reporter = _RemoveFolderAfterEpoch()
    result = train(spec, out=folder / "run", reporter=reporter)
    assert result.status == "failed" and result.exit_code == 1
    assert "was removed during the run" in (result.reason or "")
    summary = reporter.stream.getvalue()
    assert summary.startswith("Run failed (the run folder") and "was removed during the run" in summary
    assert not (folder / "run").exists(), "a folder the user removed is not recreated"


# --------------------------------------------------------------------------- out of memory


def test_memory_bound_counts_weights_slots_and_activations() -> None:
    spec = load_spec(spec_dict(Path("d.csv"), *REGRESSION))
    plan = spec.plan
    params = sum(n.params for n in plan.nodes)
    widths = [int(np.prod(n.shape)) for n in plan.nodes if n.kind != "input"]
    adam = {"name": "adam"}
    assert optimizer_slots(adam) == 2 and optimizer_slots({"name": "sgd", "momentum": 0}) == 0
    assert optimizer_slots({"name": "sgd", "momentum": 0.9}) == 1
    assert training_bytes_lower_bound(plan, 10, adam) == 4 * (4 * params + 10 * (sum(widths) + max(widths)))
    room = available_bytes()
    assert room is None or room[0] > 0


def test_out_of_memory_errors_are_recognised_and_explained() -> None:
    import tensorflow as tf

    spec = load_spec(spec_dict(Path("d.csv"), *REGRESSION))
    exhausted = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[100000,100000]")
    for exc in (exhausted, MemoryError()):
        assert is_out_of_memory(exc)
        message = out_of_memory_message(exc, spec.plan, 4096, "training")
        assert message.startswith("Out of memory while training (")
        assert "smaller training.batch_size (now 4096)" in message
        assert "fewer units in the widest layer" in message
    assert not is_out_of_memory(ValueError("shapes do not match"))


OOM_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from mlpdesigner.cli import main
    codes = {}
    for name in sys.argv[2:]:
        codes[name] = main(["train", name + ".json", "--out", name + "_run", "--progress", "none"])
    print("CODES " + json.dumps(codes))
    """
)


def _oom_spec(folder: Path, name: str, data: Path, units: list[int], batch_size: int) -> None:
    spec = spec_dict(data, *REGRESSION, epochs=1, batch_size=batch_size)
    spec["network"]["layers"] = [{"type": "dense", "units": u, "activation": "relu"} for u in units]
    save_spec(folder, spec).rename(folder / f"{name}.json")


@pytest.mark.slow
def test_out_of_memory_fails_the_run_with_advice_under_an_address_space_limit(tmp_path: Path) -> None:
    """A 100,000-unit pair of layers (40 GB of weights) and a 7,000-row batch of 100,000 units, under ulimit -v."""
    write_csv(tmp_path / "small.csv", rows=160)
    write_csv(tmp_path / "large.csv", rows=10_000)
    _oom_spec(tmp_path, "fits", tmp_path / "small.csv", [16], 32)
    _oom_spec(tmp_path, "wide", tmp_path / "small.csv", [100_000, 100_000], 16)
    _oom_spec(tmp_path, "batch", tmp_path / "large.csv", [100_000], 1 << 20)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "MALLOC_ARENA_MAX": "2"}
    result = subprocess.run(
        [sys.executable, "-c", OOM_CHILD, str(CHILD_ADDRESS_SPACE), "fits", "wide", "batch"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    codes = json.loads(result.stdout.split("CODES ", 1)[1])
    assert codes == {"fits": 0, "wide": 1, "batch": 1}, result.stdout
    assert "Run completed" in result.stdout, "the limit leaves room for an ordinary run"
    for name, batch_text in (("wide", "(now 16)"), ("batch", f"(now {1 << 20})")):
        run = json.loads((tmp_path / f"{name}_run" / "run.json").read_text())
        assert run["status"] == "failed" and run["reason"].startswith("Out of memory"), run["reason"]
        assert f"smaller training.batch_size {batch_text}" in run["reason"]
        assert "100000 units" in run["reason"] and "address-space limit" in run["reason"]
        assert f"Run failed ({run['reason']})" in result.stdout
        assert not (tmp_path / f"{name}_run" / "model.keras").exists()
    assert "one batch of 7000 rows" in result.stdout


# --------------------------------------------------------------------------- SIGKILL


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkilled_run_is_recognised_as_interrupted(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = write_csv(folder / "rows.csv", rows=2000)
    spec = save_spec(folder, spec_dict(big, *REGRESSION, epochs=10_000, batch_size=8))
    out = folder / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "mlpdesigner", "train", str(spec), "--out", str(out), "--progress", "jsonl"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 180
        for line in proc.stdout:
            if json.loads(line)["event"] == "epoch":
                break
            assert time.monotonic() < deadline
        # Alive: the folder says running, with this process's id, and evaluate refuses it as still training.
        run = json.loads((out / "run.json").read_text())
        assert run["status"] == "running" and run["pid"] == proc.pid
        assert main(["evaluate", str(out)]) == 2
        assert f"still training (process {proc.pid})" in capsys.readouterr().err
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "running", "a killed run never claims to have completed"
    assert not (out / "model.keras").exists() and not (out / "metrics.json").exists()
    assert main(["evaluate", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"the run was interrupted: run.json still says \"running\" but its process {proc.pid} is gone" in err
    assert main(["predict", str(out), "--data", str(big), "-o", str(folder / "p.csv")]) == 2
    assert "interrupted" in capsys.readouterr().err


def test_reused_pid_does_not_pass_for_the_training_process(tmp_path: Path) -> None:
    import platform

    from mlpdesigner.runfolder import RunInfo, process_start_ticks
    from mlpdesigner.runfolder import unfinished_run_message as message

    def unfinished_run_message(folder: Path, info: dict) -> str | None:
        return message(folder, RunInfo.from_json(info))

    parent = os.getppid()
    started = process_start_ticks(parent)
    if started is None:
        pytest.skip("process start times are not readable here (/proc)")
    live = {"status": "running", "pid": parent, "pid_start": started, "host": platform.node()}
    assert "still training" in unfinished_run_message(tmp_path, live)
    reused = {**live, "pid_start": started + 1}
    assert "interrupted" in unfinished_run_message(tmp_path, reused)
    assert unfinished_run_message(tmp_path, {**live, "status": "completed"}) is None
