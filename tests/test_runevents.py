"""Reading a training child's events, the child commands and the run history (no Qt, no TensorFlow)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from mlpdesigner.runevents import (
    LineBuffer,
    TrainingState,
    curve_groups,
    export_command,
    export_message,
    train_command,
)
from mlpdesigner.runfolder import new_run_dir, read_history, scan_runs

START = {"event": "start", "run_dir": "/r/x-1", "epochs": 3, "steps_per_epoch": 10, "samples": 90}


def lines(*events: dict) -> list[str]:
    return [json.dumps(e) for e in events]


def test_line_buffer_joins_partial_lines() -> None:
    buffer = LineBuffer()
    assert buffer.feed(b'{"event": "st') == []
    assert buffer.feed(b'art"}\r\n{"a"') == ['{"event": "start"}']
    assert buffer.flush() == ['{"a"']
    assert buffer.flush() == []


def test_state_follows_a_run_to_its_end() -> None:
    state = TrainingState()
    assert "Starting" in state.progress_text()
    for line in lines(
        START,
        {"event": "batch", "epoch": 1, "step": 5, "steps": 10, "loss": 2.0},
        {"event": "epoch", "epoch": 1, "epochs": 3, "metrics": {"loss": 1.5, "val_loss": 1.7, "mae": 1.0},
         "elapsed": 1.0, "eta": 2.0},
    ):
        state.feed_stdout(line)
    assert state.status == "running" and state.epoch == 1
    assert state.fraction() == pytest.approx(1 / 3)
    assert "Epoch 2/3" in state.progress_text() and "ETA 2s" in state.progress_text()
    state.feed_stdout("not json at all")
    assert state.stderr_tail[-1] == "not json at all"
    state.feed_stdout(json.dumps({"event": "end", "status": "completed", "reason": None, "run_dir": "/r/x-1",
                                  "metrics": {"test": {"loss": 1.2}}, "epochs_completed": 1}))
    state.finish(0)
    assert state.status == "completed" and state.finished and state.message is None
    assert state.final_metrics["test"] == {"loss": 1.2}
    assert state.series() == {"epoch": [1.0], "loss": [1.5], "val_loss": [1.7], "mae": [1.0]}


def test_error_event_is_the_message() -> None:
    state = TrainingState()
    state.feed_stdout(json.dumps({"event": "error", "message": "Data file not found: /x.csv"}))
    state.finish(2)
    assert state.status == "failed" and state.message == "Data file not found: /x.csv"


def test_failed_end_event_gives_its_reason() -> None:
    state = TrainingState()
    state.feed_stdout(json.dumps(START))
    state.feed_stdout(json.dumps({"event": "end", "status": "failed", "reason": "loss became NaN at epoch 2",
                                  "metrics": {}, "epochs_completed": 1}))
    state.finish(1)
    assert state.status == "failed" and state.message == "loss became NaN at epoch 2"


def test_exit_without_end_event_quotes_stderr_without_tensorflow_noise() -> None:
    state = TrainingState()
    state.feed_stdout(json.dumps(START))
    state.feed_stderr("I0000 00:00:1795941614.275321   19791 port.cc:153] oneDNN custom operations are on.")
    state.feed_stderr("Traceback (most recent call last):")
    state.feed_stderr("MemoryError: out of memory")
    state.finish(-9, crashed=True)
    assert state.status == "failed"
    assert "crashed before the run ended" in state.message
    assert "MemoryError: out of memory" in state.message and "oneDNN" not in state.message


def test_killed_after_a_stop_request_counts_as_stopped() -> None:
    state = TrainingState()
    state.feed_stdout(json.dumps(START))
    state.stop_requested = True
    state.finish(None, crashed=True)
    assert state.status == "stopped" and state.message is None


def test_curve_groups_pair_training_and_validation() -> None:
    keys = ["loss", "main_loss", "val_main_loss", "mae", "val_mae", "val_loss", "learning_rate", "val_only"]
    groups = curve_groups(keys)
    assert list(groups)[0] == "loss"
    assert groups["loss"] == ["loss", "val_loss"]
    assert groups["mae"] == ["mae", "val_mae"]
    assert groups["main_loss"] == ["main_loss", "val_main_loss"]
    assert groups["only"] == ["val_only"]
    assert "learning_rate" not in groups


def test_commands_and_run_folder_names(tmp_path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5)
    first = new_run_dir(tmp_path, "net", now)
    assert first == tmp_path / "net-20260102-030405"
    first.mkdir()
    assert new_run_dir(tmp_path, "net", now).name == "net-20260102-030405-2"
    argv = train_command("a.json", first, epochs=3)
    assert argv[:4] == [sys.executable, "-m", "mlpdesigner", "train"]
    assert argv[-2:] == ["--epochs", "3"] and "--progress" in argv and str(first) in argv
    onnx = export_command(first, "onnx", "m.onnx", opset=15, tolerance=1e-4)
    assert "--json" in onnx and onnx[onnx.index("--opset") + 1] == "15"
    python = export_command(first, "python", "m.py", opset=15, with_training=True)
    assert "--with-training" in python and "--opset" not in python


def test_export_message_reads_the_report_or_the_error() -> None:
    report = {"format": "onnx", "path": "/o/m.onnx", "opset": 17, "tolerance": 1e-5, "trained": True,
              "max_abs_diff": 2.4e-7, "checks": [{"inputs": "real rows", "batch": 120, "max_abs_diff": 2.4e-7}]}
    parsed, text = export_message("noise\n" + json.dumps(report) + "\n", "", 0)
    assert parsed == report and "max abs difference 2.4e-07" in text and "trained" in text
    parsed, text = export_message("", "I0000 00:00:1.0 1 port.cc:1] x\nerror: Cannot write /o: it is a folder\n", 2)
    assert parsed is None and text == "error: Cannot write /o: it is a folder"
    parsed, text = export_message("", "Segmentation fault\n", -11)
    assert parsed is None and "code -11" in text and "Segmentation fault" in text


def _run(root: Path, name: str, spec: str, status: str, started: str, history: str | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"spec": spec, "status": status, "reason": None,
                                                 "epochs_completed": 2, "timings": {"started": started}}))
    (folder / "metrics.json").write_text(json.dumps({"train": {"loss": 1.0}, "test": {"loss": 0.5, "mae": 0.4}}))
    if history is not None:
        (folder / "history.csv").write_text(history)
    return folder


def test_scan_runs_lists_this_design_newest_first(tmp_path) -> None:
    _run(tmp_path, "net-1", "net", "completed", "2026-01-01T10:00:00+00:00", "epoch,loss,val_loss\n1,2.0,\n2,1.0,1.5\n")
    _run(tmp_path, "net-2", "net", "stopped", "2026-01-02T10:00:00+00:00")
    _run(tmp_path, "network-1", "network", "completed", "2026-01-03T10:00:00+00:00")
    (tmp_path / "net-empty").mkdir()
    records = scan_runs(tmp_path, "net")
    assert [r.name for r in records] == ["net-2", "net-1"]
    assert records[0].status == "stopped" and records[0].headline() == "test: loss 0.5, mae 0.4"
    assert read_history(records[1].path) == {"epoch": [1.0, 2.0], "loss": [2.0, 1.0], "val_loss": [None, 1.5]}
    assert read_history(records[0].path) == {}
    assert scan_runs(tmp_path / "missing", "net") == []


def test_export_json_flag_prints_the_report(tmp_path, capsys) -> None:
    from mlpdesigner.cli import main
    from mlpdesigner.resources import example_path

    out = tmp_path / "model.py"
    assert main(["export", str(example_path("housing_regression")), "--format", "python", "-o", str(out),
                 "--with-training", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report == {"format": "python", "path": str(out), "trained": False, "detail": "with training"}
    parsed, text = export_message(json.dumps(report), "", 0)
    assert parsed == report and text.startswith(f"Wrote {out} (python, untrained (seeded) weights; with training)")
