"""The command line: exit codes, output formats, and no TensorFlow where none is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlpdesigner.cli import main
from mlpdesigner.resources import example_names, example_path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=120)


def test_validate_valid_files(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(example_path(n)) for n in example_names()]
    assert main(["validate", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": valid") == len(files)


def test_validate_reports_warnings_with_location(capsys: pytest.CaptureFixture[str]) -> None:
    file = str(example_path("wide_deep_aux_output"))
    assert main(["validate", file]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{file}:") and ": warning W405 /network/deep/layers/0" in line for line in lines)


def test_validate_json_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mlpdesigner/1"}')
    assert main(["validate", "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    missing = {p["message"] for p in report["problems"] if p["code"] == "E202"}
    assert any("'name'" in m for m in missing) and any("'outputs'" in m for m in missing)
    assert all(p["line"] == 1 for p in report["problems"])


def test_validate_worst_exit_code_wins(tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.json"
    invalid.write_text("{}")
    unreadable = tmp_path / "missing.json"
    good = str(example_path("housing_regression"))
    assert main(["validate", good, str(invalid)]) == 1
    assert main(["validate", good, str(invalid), str(unreadable)]) == 2


def test_summary_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--json", str(example_path("binary_batchnorm_dropout"))]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (4353, 4225, 128)
    assert [layer["class"] for layer in data["layers"]] == [
        "InputLayer",
        "Dense",
        "BatchNormalization",
        "Dropout",
        "Dense",
        "Dense",
    ]


def test_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(example_path("fashion_mnist_classifier"))]) == 0
    out = capsys.readouterr().out
    assert "flatten_1 (Flatten)" in out and "(None, 784)" in out
    assert "Total params: 266,610" in out


def test_summary_of_invalid_spec_lists_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid spec given to a command that needs a valid one is bad input: exit 2 (it was 1 before issue 17)."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mlpdesigner/1", "name": "x"')
    assert main(["summary", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1:" in err and "E103" in err


@pytest.mark.slow
def test_summary_keras_prints_keras_summary() -> None:
    result = _run("-m", "mlpdesigner", "summary", "--keras", str(example_path("wide_deep_two_inputs")))
    assert result.returncode == 0, result.stderr
    assert "Total params: 1,176" in result.stdout
    assert "Concatenate" in result.stdout


@pytest.mark.parametrize(
    "code",
    [
        "import mlpdesigner",
        "import mlpdesigner.spec",
        "import mlpdesigner.cli",
        "from mlpdesigner.cli import main; main(['validate', {f!r}])",
        "from mlpdesigner.cli import main; main(['summary', '--json', {f!r}])",
        "from mlpdesigner.cli import main; main(['gui', {f!r}])",
    ],
)
def test_tensorflow_is_not_imported(code: str) -> None:
    file = str(example_path("wide_deep_aux_output"))
    probe = code.format(f=file) + "\nimport sys\nassert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
    result = _run("-c", probe, env=env)
    assert result.returncode == 0, result.stderr


def test_no_command_without_display_prints_the_example_summary() -> None:
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
    result = _run("-m", "mlpdesigner", env=env)
    assert result.returncode == 0, result.stderr
    assert 'Model: "wide_deep_aux_output"' in result.stdout
    assert "No display" in result.stderr


def test_unexpected_errors_are_not_tracebacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlpdesigner.cli as cli

    def boom(args: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.delenv("MLPDESIGNER_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_summary", boom)
    parser_args = ["summary", str(example_path("housing_regression"))]
    monkeypatch.setattr(cli, "build_parser", _patched_parser(cli.build_parser, boom))
    assert cli.main(parser_args) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err and "Traceback" not in err


def _patched_parser(build, func):
    def patched():
        parser = build()
        parser._subparsers._group_actions[0].choices["summary"].set_defaults(func=func)
        return parser

    return patched
