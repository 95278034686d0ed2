"""Hostile and broken input (issue 19): files that must not be clobbered, bombs, special files, injections.

Each test names the item of the issue it covers.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from mlpdesigner.cli import main

TINY_SPEC: dict[str, Any] = {
    "format": "mlpdesigner/1",
    "name": "tiny",
    "inputs": [{"name": "x", "shape": [2]}],
    "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 3, "activation": "relu"}]},
    "outputs": [{"name": "label", "task": "binary", "units": 1}],
    "training": {"epochs": 1, "batch_size": 8, "seed": 1},
    "data": {
        "path": "data.csv",
        "columns": {"x": ["a", "b"], "label": ["label"]},
        "validation_split": 0.25,
        "test_split": 0.0,
    },
}


def write_tiny(folder: Path, labels: tuple[str, str] = ("no", "yes"), rows: int = 24) -> Path:
    """The tiny binary spec and its CSV data in ``folder``; returns the spec path."""
    lines = ["a,b,label"] + [f"{i % 5},{(i * 7) % 3},{labels[i % 2]}" for i in range(rows)]
    (folder / "data.csv").write_text("\n".join(lines) + "\n", "utf-8")
    spec = folder / "tiny.json"
    spec.write_text(json.dumps(TINY_SPEC), "utf-8")
    return spec


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run folder trained (one epoch) on text labels that look like spreadsheet formulas."""
    folder = tmp_path_factory.mktemp("run")
    spec = write_tiny(folder, labels=('=HYPERLINK("http://x")', "+cmd|' /C calc'!A0"))
    run = folder / "run"
    assert main(["train", str(spec), "--out", str(run)]) == 0
    return run


# --------------------------------------------------------------------------- 1. -o never clobbers


def test_export_refuses_a_fifo_as_output_and_leaves_it_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Item 1: the atomic rename would have replaced the node (as root, -o /dev/null destroys the device)."""
    spec = write_tiny(tmp_path)
    fifo = tmp_path / "out.py"
    os.mkfifo(fifo)
    assert main(["export", str(spec), "--format", "python", "-o", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot write {fifo}: it is a named pipe (FIFO)" in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_atomic_write_refuses_a_device_or_fifo(tmp_path: Path) -> None:
    """Item 1: every writer goes through atomic_path, which refuses non-regular targets itself."""
    from mlpdesigner.atomic import atomic_write_text
    from mlpdesigner.safeio import NotRegularFileError

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(NotRegularFileError, match="named pipe"):
            atomic_write_text(target, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "pipe"]


def test_export_refuses_its_own_input_as_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Item 1: ``export s.json -o s.json`` used to overwrite the spec with Python code."""
    spec = write_tiny(tmp_path)
    before = spec.read_bytes()
    link = tmp_path / "same.json"
    link.symlink_to(spec)
    for out in (spec, link):
        assert main(["export", str(spec), "--format", "python", "-o", str(out)]) == 2
        assert f"it is the input file {spec}" in capsys.readouterr().err
    assert spec.read_bytes() == before


@pytest.mark.slow
def test_predict_refuses_its_data_file_and_a_fifo_as_output(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Item 1: ``predict --data d.csv -o d.csv`` used to overwrite the data with predictions."""
    data = trained_run.parent / "data.csv"
    before = data.read_bytes()
    assert main(["predict", str(trained_run), "--data", str(data), "-o", str(data)]) == 2
    assert f"it is the input file {data}" in capsys.readouterr().err
    assert data.read_bytes() == before
    run_json = trained_run / "run.json"
    assert main(["predict", str(trained_run), "--data", str(data), "-o", str(run_json)]) == 2
    assert "it is the input file" in capsys.readouterr().err
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    assert main(["predict", str(trained_run), "--data", str(data), "-o", str(fifo)]) == 2
    assert "it is a named pipe" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
