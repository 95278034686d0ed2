"""The run folder's one owner: status, the typed run.json, naming, the interrupted-run check (no TensorFlow)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from mlpdesigner.runfolder import (
    RunFolderError,
    RunInfo,
    RunStatus,
    current_status,
    new_run_dir,
    read_info,
    read_run,
    scan_runs,
    write_info,
)

FULL = {
    "status": "completed", "reason": "early stopping", "pid": 12, "pid_start": 34, "host": "h", "spec": "net",
    "spec_path": "/d/net.json", "seed": 42, "device": "cpu", "device_name": "x86", "versions": {"python": "3.11"},
    "data": {"path": "/d/a.csv", "rows": 10}, "columns": {"x": ["a", "b"]}, "targets": {"y": ["c"]},
    "classes": {"y": ["no", "yes"]}, "outputs": {"y": {"kind": "binary"}}, "normalized_inputs": ["x"],
    "training": {"epochs": 3, "batch_size": 32}, "warnings": ["w"], "timings": {"started": "2026-01-01T00:00:00+00:00"},
    "epochs_completed": 3, "added_by_a_newer_version": {"kept": True},
}


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_run_info_round_trips_run_json_keeping_unknown_keys() -> None:
    info = RunInfo.from_json(FULL)
    assert info.status is RunStatus.COMPLETED and info.classes == {"y": ["no", "yes"]}
    assert info.extra == {"added_by_a_newer_version": {"kept": True}}
    assert info.to_json() == FULL
    assert list(info.to_json()) == list(FULL)
    assert info.started == datetime.fromisoformat("2026-01-01T00:00:00+00:00")


def test_a_running_record_has_no_epochs_completed_yet() -> None:
    assert "epochs_completed" not in RunInfo(status=RunStatus.RUNNING, spec="net").to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # "imported" joined the written statuses with issue 16 (mlpdesigner import --weights).
        (
            {"status": "done"},
            "status: Expected one of running, completed, stopped, failed, imported. Received: \"done\"",
        ),
        ({"status": "interrupted"}, "status: Expected one of running"),
        ({"pid": "12"}, "pid: Expected a process id"),
        ({"pid": True}, "pid: Expected a process id"),
        ({"classes": {"y": [1, 2]}}, "classes.y: Expected names mapped to lists of strings"),
        ({"timings": []}, "timings: Expected an object"),
    ],
)
def test_a_malformed_run_json_names_the_key(tmp_path: Path, change: dict, message: str) -> None:
    """A bad value names its key. The allowed statuses include "imported" since issue 16 (imported models)."""
    (tmp_path / "run.json").write_text(json.dumps({**FULL, **change}))
    with pytest.raises(RunFolderError) as caught:
        read_info(tmp_path)
    assert str(tmp_path / "run.json") in str(caught.value) and message in str(caught.value)


def test_unreadable_run_json_gives_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text('{\n  "status": "completed",\n}')
    with pytest.raises(RunFolderError, match=r"run\.json:3:1: Expected JSON"):
        read_info(tmp_path)


def test_status_reads_and_prints_as_its_word() -> None:
    assert RunStatus("stopped") is RunStatus.STOPPED and RunStatus.STOPPED == "stopped"
    assert f"{RunStatus.FAILED}" == "failed" and str(RunStatus.RUNNING) == "running"
    assert json.dumps({"s": RunStatus.COMPLETED}) == '{"s": "completed"}'
    assert RunStatus.INTERRUPTED.ended and not RunStatus.RUNNING.ended


def test_running_run_whose_process_is_gone_is_interrupted(tmp_path: Path) -> None:
    here = platform.node()
    gone = RunInfo(status=RunStatus.RUNNING, pid=dead_pid(), host=here, spec="net")
    assert current_status(gone) is RunStatus.INTERRUPTED
    live = RunInfo(status=RunStatus.RUNNING, pid=os.getppid(), host=here, spec="net")
    assert current_status(live) is RunStatus.RUNNING
    elsewhere = RunInfo(status=RunStatus.RUNNING, pid=dead_pid(), host=here + "-other", spec="net")
    assert current_status(elsewhere) is RunStatus.RUNNING, "another host's run may still be training"
    assert current_status(RunInfo(status=RunStatus.STOPPED)) is RunStatus.STOPPED


def test_history_lists_a_killed_run_as_interrupted(tmp_path: Path) -> None:
    folder = tmp_path / "net-20260101-000000"
    folder.mkdir()
    write_info(folder, RunInfo(status=RunStatus.RUNNING, pid=dead_pid(), host=platform.node(), spec="net",
                               timings={"started": "2026-01-01T00:00:00+00:00"}))
    (tmp_path / "net-broken").mkdir()
    (tmp_path / "net-broken" / "run.json").write_text('{"status": "exploded", "spec": "net"}')
    records = scan_runs(tmp_path, "net")
    assert [(r.name, r.status) for r in records] == [("net-20260101-000000", RunStatus.INTERRUPTED)]
    assert read_run(tmp_path / "net-broken") is None


def test_run_folder_names_are_claimed_once(tmp_path: Path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5)
    first = new_run_dir(tmp_path, "net", now, create=True)
    second = new_run_dir(tmp_path, "net", now, create=True)
    assert (first.name, second.name) == ("net-20260102-030405", "net-20260102-030405-2")
    assert first.is_dir() and second.is_dir()
    assert new_run_dir(tmp_path, "net", now).name == "net-20260102-030405-3"
    assert not (tmp_path / "net-20260102-030405-3").exists()


def test_runfolder_imports_neither_tensorflow_nor_qt() -> None:
    code = (
        "import sys, mlpdesigner.runfolder, mlpdesigner.runevents; "
        "bad = [m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
