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
    # Inputs are standardized by default (issue 13): a Normalization layer adds 2 * 30 + 1 statistics.
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (4414, 4225, 189)
    assert [layer["class"] for layer in data["layers"]] == [
        "InputLayer",
        "Normalization",
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
    # 266,610 weights plus the pixels' standardization statistics (2 * 28 + 1, issue 13).
    assert "Total params: 266,667" in out and "Trainable params: 266,610" in out


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
    assert "Total params: 1,200" in result.stdout and "Trainable params: 1,176" in result.stdout  # + standardization
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


NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}


def _suggested_commands(stderr: str) -> list[list[str]]:
    """The command lines the no-display message suggests, as argument lists after ``mlpdesigner``."""
    import shlex

    lines = [line.strip() for line in stderr.splitlines() if line.startswith("  mlpdesigner ")]
    return [shlex.split(line, comments=True)[1:] for line in lines]


def test_offscreen_platform_without_screenshot_says_so_and_exits() -> None:
    """QT_QPA_PLATFORM=offscreen shows no window: the designer must not wait forever for one (it used to hang)."""
    result = _run("-m", "mlpdesigner", env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert 'Model: "wide_deep_aux_output"' in result.stdout
    assert "QT_QPA_PLATFORM=offscreen draws no visible window" in result.stderr
    assert "set QT_QPA_PLATFORM" not in result.stderr


def test_no_display_message_suggests_only_commands_that_work_there() -> None:
    with_data = _run("-m", "mlpdesigner", "gui", str(example_path("flowers_multiclass")), env=NO_DISPLAY)
    assert with_data.returncode == 0, with_data.stderr
    assert "No display found" in with_data.stderr and "QT_QPA_PLATFORM" not in with_data.stderr
    commands = [args[0] for args in _suggested_commands(with_data.stderr)]
    assert commands == ["summary", "validate", "train", "export", "gui"]
    assert ["--screenshot", "window.png"] == _suggested_commands(with_data.stderr)[-1][-2:]
    no_data = _run("-m", "mlpdesigner", "gui", str(example_path("selu_self_normalizing")), env=NO_DISPLAY)
    assert no_data.returncode == 0, no_data.stderr
    assert [args[0] for args in _suggested_commands(no_data.stderr)] == ["summary", "validate", "export", "gui"]


@pytest.mark.slow
def test_every_suggested_command_runs_without_a_display(tmp_path: Path) -> None:
    design = tmp_path / "selu.json"
    design.write_text(example_path("selu_self_normalizing").read_text("utf-8"), "utf-8")
    shown = subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "gui", str(design)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **NO_DISPLAY},
        cwd=tmp_path,
        timeout=120,
    )
    suggested = _suggested_commands(shown.stderr)
    assert len(suggested) == 4
    for args in suggested:
        result = subprocess.run(
            [sys.executable, "-m", "mlpdesigner", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **NO_DISPLAY},
            cwd=tmp_path,
            timeout=300,
        )
        assert result.returncode == 0, f"mlpdesigner {' '.join(args)}:\n{result.stderr}"
    assert (tmp_path / "model.onnx").is_file() and (tmp_path / "window.png").is_file()


def test_train_in_the_window_without_a_display_is_bad_input() -> None:
    result = _run("-m", "mlpdesigner", "gui", str(example_path("flowers_multiclass")), "--train", env=NO_DISPLAY)
    assert result.returncode == 2
    assert "--train needs the designer window" in result.stderr and "mlpdesigner train" in result.stderr


def test_unreachable_display_is_a_message_not_a_crash() -> None:
    """DISPLAY naming no X server: Qt would abort (a core dump, exit 134); the designer says what works instead."""
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":987654", "WAYLAND_DISPLAY": ""}
    result = _run("-m", "mlpdesigner", "gui", str(example_path("housing_regression")), env=env)
    assert result.returncode == 2, result.stderr
    assert "error: the designer window cannot open" in result.stderr
    assert "mlpdesigner summary" in result.stderr and "--screenshot" in result.stderr
