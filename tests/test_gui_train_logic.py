"""The designer's training, history, export and data logic without Qt or TensorFlow."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from mlpdesigner.data.checks import (
    TaskGuess,
    data_advice,
    data_file_ops,
    head_matches,
    head_ops,
    infer_task,
    mapping_ops,
    relative_data_path,
)
from mlpdesigner.runevents import (
    LineBuffer,
    TrainingState,
    curve_groups,
    export_command,
    export_message,
    train_command,
)
from mlpdesigner.runfolder import new_run_dir, read_history, scan_runs
from mlpdesigner.spec import analyze, apply_patch

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


# --------------------------------------------------------------------------- data checks

FRAME = pd.DataFrame({
    "id": range(100),
    "x1": [i * 0.37 % 5 for i in range(100)],
    "x2": [1.0] * 100,
    "city": ["a", "b"] * 50,
    "hole": [None if i == 7 else i for i in range(100)],
    "label": ["yes"] * 90 + ["no"] * 10,
    "kind": [i % 3 for i in range(100)],
    "price": [i * 1.5 + 0.25 for i in range(100)],
})


def test_infer_task_from_targets() -> None:
    assert infer_task(FRAME, ["label"]) == TaskGuess("binary", 1, ["no", "yes"], "two distinct labels")
    guess = infer_task(FRAME, ["kind"])
    assert guess.task == "multiclass" and guess.units == 3 and guess.classes == ["0", "1", "2"]
    assert infer_task(FRAME, ["price"]).task == "regression"
    ml = pd.DataFrame({"a": [0, 1, 1], "b": [1, 0, 1]})
    assert infer_task(ml, ["a", "b"]) == TaskGuess("multilabel", 2, ["a", "b"], "every column holds only 0 and 1")
    assert infer_task(FRAME, ["price", "x1"]).task == "regression"
    assert infer_task(FRAME, ["nope"]) is None


def _raw() -> dict:
    return {
        "format": "mlpdesigner/1", "name": "net",
        "inputs": [{"name": "features", "shape": [2]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4}]},
        "outputs": [{"name": "target", "task": "regression", "units": 1}],
    }


def test_mapping_edits_keep_the_spec_valid_and_undo() -> None:
    raw = _raw()
    before = json.loads(json.dumps(raw))
    inverse_file = apply_patch(raw, data_file_ops(raw, "data.csv"))
    assert raw["data"] == {"path": "data.csv", "columns": {}}
    inverse_a = apply_patch(raw, mapping_ops(raw, "features", ["x1", "city", "hole"]))
    assert raw["inputs"][0]["shape"] == [3]
    inverse_b = apply_patch(raw, mapping_ops(raw, "target", ["label"]))
    guess = infer_task(FRAME, ["label"])
    assert not head_matches(raw["outputs"][0], guess)
    inverse_c = apply_patch(raw, head_ops(raw, 0, guess))
    assert raw["outputs"][0]["task"] == "binary" and head_matches(raw["outputs"][0], guess)
    spec = analyze(raw)
    assert spec.ok, [p.message for p in spec.problems if p.is_error]
    for inverse in (inverse_c, inverse_b, inverse_a, inverse_file):
        apply_patch(raw, inverse)
    assert raw == before


def test_head_ops_for_multiclass_sets_units_and_classes() -> None:
    raw = _raw()
    ops = head_ops(raw, 0, infer_task(FRAME, ["kind"]))
    apply_patch(raw, ops)
    assert raw["outputs"][0]["task"] == "multiclass"
    assert raw["outputs"][0]["units"] == 3 and raw["outputs"][0]["classes"] == ["0", "1", "2"]
    assert head_ops(raw, 0, infer_task(FRAME, ["kind"])) == []


def test_data_advice_names_each_problem() -> None:
    raw = _raw()
    apply_patch(raw, data_file_ops(raw, "data.csv"))
    apply_patch(raw, mapping_ops(raw, "features", ["id", "x1"]))
    apply_patch(raw, mapping_ops(raw, "target", ["label"]))
    apply_patch(raw, head_ops(raw, 0, infer_task(FRAME, ["label"])))
    advice = {(a.kind, a.column): a for a in data_advice(FRAME, raw)}
    assert ("missing", "hole") in advice and "1 missing value" in advice[("missing", "hole")].message
    assert ("constant", "x2") in advice
    assert ("non_numeric", "city") in advice
    assert ("id_column", "id") in advice and advice[("id_column", "id")].message.startswith("Input column 'id'")
    assert ("id_column", "price") not in advice  # unique, but not counting up one by one
    imbalance = advice[("imbalance", "label")]
    assert "'no' has 10 rows (10.0%)" in imbalance.message and "balanced" in imbalance.message
    apply_patch(raw, imbalance.fix)
    assert raw["training"] == {"class_weight": "balanced"}
    assert analyze(raw).ok
    again = [a for a in data_advice(FRAME, raw) if a.kind == "imbalance"]
    assert again and not again[0].fix


def test_relative_data_path(tmp_path) -> None:
    (tmp_path / "specs").mkdir()
    data = tmp_path / "data" / "d.csv"
    assert relative_data_path(data, tmp_path / "specs" / "a.json") == "../data/d.csv"
    assert relative_data_path(data, None) == data.resolve().as_posix()


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


def test_scale_advice_offers_normalize_for_raw_features() -> None:
    import json

    from mlpdesigner.data.checks import read_table
    from mlpdesigner.resources import data_path, example_path
    from mlpdesigner.spec import apply_patch, validate_spec

    raw = json.loads(example_path("housing_regression").read_text())
    frame = read_table(data_path("resources", "datasets", "housing.csv"))
    scale = [a for a in data_advice(frame, raw) if a.kind == "scale"]
    assert len(scale) == 1 and "normalize" in scale[0].message and scale[0].column == "Population"
    apply_patch(raw, scale[0].fix)
    assert raw["inputs"][0]["normalize"] is True
    assert not any(p.is_error for p in validate_spec(raw))
    assert not [a for a in data_advice(frame, raw) if a.kind == "scale"]
