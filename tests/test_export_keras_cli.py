"""``.keras`` export, run folders, and the ``mlpdesigner export`` command's errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from privileges import as_nobody

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.export import export_keras, export_python, load_source
from mlpdesigner.resources import example_path
from mlpdesigner.spec import SpecError
from tests._export_support import example, make_run


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_keras_export_of_a_spec_is_seeded_and_reloads(tmp_path: Path) -> None:
    import keras
    import numpy as np

    from mlpdesigner.compile import build_model

    out = tmp_path / "housing.keras"
    report = export_keras(example_path("housing_regression"), out)
    assert not report.trained and out.is_file()
    loaded = keras.saving.load_model(out, safe_mode=True)
    expected = build_model(example_path("housing_regression"))
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), expected.get_weights(), strict=True))
    assert [p.name for p in tmp_path.iterdir()] == ["housing.keras"], "no temporary file is left"


@pytest.mark.slow
def test_keras_export_of_a_run_keeps_the_trained_model(tmp_path: Path) -> None:
    run = make_run(example("binary_batchnorm_dropout"), tmp_path / "run")
    out = tmp_path / "trained.keras"
    report = export_keras(run, out)
    assert report.trained
    assert out.read_bytes() == (run / "model.keras").read_bytes()


def test_keras_export_needs_the_keras_suffix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"ending in \.keras"):
        export_keras(example_path("housing_regression"), tmp_path / "model.h5")


@pytest.mark.slow
def test_cli_exports_every_format_from_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = example("wide_deep_aux_output")
    spec["data"] = {
        "path": "housing.csv",
        "columns": {"wide": list("abcde"), "deep": list("fghijk"), "main": ["y"], "aux": ["y"]},
    }
    run = make_run(spec, tmp_path / "run", columns={"wide": list("ABCDE")})
    assert main(["export", str(run), "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--opset", "17"]) == 0
    printed = capsys.readouterr().out
    assert "max abs diff" in printed and "real rows batch 32" in printed
    assert main(["export", str(run), "--format", "keras", "-o", str(tmp_path / "m.keras")]) == 0
    assert main(["export", str(run), "--format", "python", "--with-training", "-o", str(tmp_path / "m.py")]) == 0
    code = (tmp_path / "m.py").read_text("utf-8")
    assert '"wide": ["A", "B", "C", "D", "E"]' in code, "run.json columns win over the spec's"
    assert "trained run" in code
    assert load_source(run).trained


def test_cli_invalid_spec_prints_problems_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2, bad input, like every command given an invalid spec (it was 1 before issue 17)."""
    spec = example("housing_regression")
    spec["outputs"][0]["units"] = 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec), "utf-8")
    assert main(["export", str(bad), "--format", "python", "-o", str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert "/outputs/0/units" in err and "Traceback" not in err
    assert not (tmp_path / "x.py").exists()
    with pytest.raises(SpecError):
        export_python(bad, tmp_path / "x.py")


@pytest.mark.parametrize("fmt", ["python", "onnx", "keras"])
def test_cli_unwritable_output_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    target = tmp_path / "missing" / f"model.{fmt}"
    assert main(["export", str(example_path("housing_regression")), "--format", fmt, "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"error: Cannot write {target}" in err
    assert not (tmp_path / "missing").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["export", str(example_path("housing_regression")), "--format", fmt, "-o", str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().err
    assert main(["export", str(example_path("housing_regression")), "--format", fmt, "-o", str(blocker / "m")]) == 2
    assert "Cannot write" in capsys.readouterr().err


def test_read_only_folder() -> None:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="mlpd-ro-"))
    os.chmod(folder, 0o555)

    def attempt() -> str:
        try:
            export_python(example_path("housing_regression"), folder / "m.py")
        except UserError as exc:
            return str(exc)
        return "written"

    try:
        message = as_nobody(attempt) if os.geteuid() == 0 else attempt()
        assert "permission denied" in message.lower(), message
        assert list(folder.iterdir()) == []
    finally:
        os.chmod(folder, 0o700)
        folder.rmdir()


def test_write_failure_mid_way_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlpdesigner.atomic as atomic

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    out = tmp_path / "model.py"
    with pytest.raises(UserError, match=f"Cannot write {out}: No space left on device"):
        export_python(example_path("housing_regression"), out)
    assert list(tmp_path.iterdir()) == []


def test_run_folder_errors_name_the_place(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file or folder"):
        load_source(tmp_path / "nothing")
    (tmp_path / "run").mkdir()
    with pytest.raises(UserError, match="has no spec.json"):
        load_source(tmp_path / "run")
    (tmp_path / "run" / "spec.json").write_text(json.dumps(example("housing_regression")))
    with pytest.raises(UserError, match="has no model.keras"):
        load_source(tmp_path / "run")
    (tmp_path / "run" / "model.keras").write_bytes(b"not a zip")
    (tmp_path / "run" / "run.json").write_text('{"classes": {"price": [1, 2]}}')
    with pytest.raises(UserError, match="lists of strings"):
        load_source(tmp_path / "run")
    (tmp_path / "run" / "run.json").write_text("{broken")
    with pytest.raises(UserError, match="Expected JSON"):
        load_source(tmp_path / "run")
    (tmp_path / "run" / "run.json").write_text("{}")
    source = load_source(tmp_path / "run")
    with pytest.raises(UserError, match="model.keras: not a .keras model"):
        source.model()
