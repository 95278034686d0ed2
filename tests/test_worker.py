"""The warm worker process (``python -m mlpdesigner.worker``) outside the designer."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mlpdesigner import cli, worker


def test_a_job_ends_with_the_fast_exit_of_the_console_script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """After its job the worker ends at once like ``mlpdesigner`` does (issue 18: 1.2 s of teardown otherwise)."""
    exits: list[int] = []
    monkeypatch.setattr(worker, "warm_up", lambda: None)
    monkeypatch.setattr(cli, "exit_now", exits.append)  # the real one would end this test process
    job = json.dumps({"argv": ["evaluate", str(tmp_path / "no-such-run")], "cwd": str(tmp_path)})
    monkeypatch.setattr(sys, "stdin", io.StringIO(job + "\n"))
    monkeypatch.chdir(tmp_path)
    assert worker.main() == 2
    assert exits == [2]
