"""One exit-code convention for every command, and bad input reported before TensorFlow loads.

The convention (:class:`mlpdesigner.errors.ExitCode`, the README's CLI section):
0 done, 1 the work found a problem (validate found errors, a run failed, an
export failed its check), 2 bad input, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mlpdesigner.cli as cli
from mlpdesigner.errors import ExitCode, UserError, exit_code_for
from mlpdesigner.export.onnx_export import ParityError
from mlpdesigner.resources import example_path
from mlpdesigner.spec import Problem, SpecError

ROOT = Path(__file__).resolve().parent.parent
FLOWERS = str(example_path("flowers_multiclass"))

#: Packages that must not be imported while checking input; each raises when imported.
HEAVY = ("tensorflow", "keras", "tf2onnx", "onnxruntime", "ray", "optuna")


def _commands() -> set[str]:
    parser = cli.build_parser()
    return set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.fixture
def poisoned(tmp_path: Path) -> Path:
    """A folder to put first on PYTHONPATH: importing TensorFlow (or Keras, tf2onnx...) from it fails loudly."""
    folder = tmp_path / "poison"
    for name in HEAVY:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('POISONED: {name} was imported')\n")
    # The opset check reads tf2onnx's table of opsets from its source, without importing it.
    real = importlib.util.find_spec("tf2onnx")
    if real is not None and real.submodule_search_locations:
        shutil.copy(Path(list(real.submodule_search_locations)[0]) / "constants.py", folder / "tf2onnx")
    return folder


@pytest.fixture
def fake_run(tmp_path: Path) -> Path:
    """A finished run folder as far as the pre-checks can tell (its model file is never opened by them)."""
    run = tmp_path / "run"
    run.mkdir()
    spec = json.loads(Path(FLOWERS).read_text("utf-8"))
    spec["data"]["path"] = str(Path(FLOWERS).parent.parent / "datasets" / "flowers.csv")
    (run / "spec.json").write_text(json.dumps(spec), "utf-8")
    (run / "run.json").write_text(json.dumps({"status": "completed"}), "utf-8")
    (run / "model.keras").write_bytes(b"not read by the checks")
    return run


def _invalid_spec(tmp_path: Path) -> str:
    spec = json.loads(Path(FLOWERS).read_text("utf-8"))
    spec["outputs"][0]["units"] = 0
    path = tmp_path / "invalid.json"
    path.write_text(json.dumps(spec), "utf-8")
    return str(path)


def _bad_input_cases(tmp_path: Path, run: Path) -> list[tuple[list[str], str]]:
    """(arguments, words of the message) for bad input to each TensorFlow-loading command."""
    missing = str(tmp_path / "missing.json")
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("")
    invalid = _invalid_spec(tmp_path)
    return [
        (["train", missing], "Cannot read the file"),
        (["train", invalid], "/outputs/0/units"),
        (["train", FLOWERS, "--data", str(tmp_path / "nope.csv")], "Data file not found"),
        (["train", FLOWERS, "--epochs", "0"], "--epochs"),
        (["train", FLOWERS, "--out", str(full)], "Expected a new or empty folder"),
        (["train", FLOWERS, "--out", str(full / "x" / "run")], "is not a folder"),
        (["train", FLOWERS, "--init-from", str(tmp_path / "no-run")], "--init-from"),
        (["train", FLOWERS, "--init-from", str(run), "--cv", "3"], "cannot be combined with --cv"),
        (["demo", "--out", str(full)], "Expected a new or empty folder"),
        (["summary", "--keras", invalid], "/outputs/0/units"),
        (["export", FLOWERS, "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--opset", "99"], "opset"),
        (["export", str(run), "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--opset", "5"], "opset"),
        (["export", str(run), "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--tolerance", "-1"], "tolerance"),
        (["export", FLOWERS, "--format", "onnx", "-o", str(tmp_path / "no" / "m.onnx")], "does not exist"),
        (["export", FLOWERS, "--format", "keras", "-o", str(tmp_path / "m.h5")], ".keras"),
        (["export", missing, "--format", "onnx", "-o", str(tmp_path / "m.onnx")], "no such file"),
        (["export", invalid, "--format", "onnx", "-o", str(tmp_path / "m.onnx")], "/outputs/0/units"),
        (["search", FLOWERS, "--out", str(tmp_path / "s")], "Expected a search section"),
        (["search", invalid], "/outputs/0/units"),
        (["search", FLOWERS, "--trials", "0"], "--trials"),
        (["evaluate", str(run), "--data", str(tmp_path / "nope.csv")], "--data"),
        (["evaluate", str(tmp_path / "no-run")], "Run folder not found"),
        (["report", str(tmp_path / "no-run"), "-o", str(tmp_path / "r.html")], "Run folder not found"),
        (["predict", str(run), "--data", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "p.csv")], "--data"),
        (["predict", str(run), "--data", str(tmp_path), "-o", str(tmp_path / "p.csv")], "not a file"),
    ]


def test_bad_input_is_reported_without_importing_tensorflow(tmp_path: Path, poisoned: Path, fake_run: Path) -> None:
    """Each of these took 5-10 s (TensorFlow's import) before its error; now no heavy package is imported."""
    env = {**os.environ, "PYTHONPATH": f"{poisoned}{os.pathsep}{ROOT}"}
    env.pop("MLPDESIGNER_DEBUG", None)
    probe = subprocess.run(
        [sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "POISONED" in probe.stderr  # the poison works
    for args, words in _bad_input_cases(tmp_path, fake_run):
        command = [sys.executable, "-m", "mlpdesigner", *args]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        shown = " ".join(args)
        assert "POISONED" not in result.stderr, f"mlpdesigner {shown} imported a heavy package:\n{result.stderr}"
        assert result.returncode == ExitCode.BAD_INPUT, f"mlpdesigner {shown}: {result.returncode}\n{result.stderr}"
        assert words in result.stderr and "Traceback" not in result.stderr, f"mlpdesigner {shown}:\n{result.stderr}"
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "p.csv").exists()


def test_exit_codes_of_every_command(tmp_path: Path, fake_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Success (where it needs no TensorFlow), found problems, and bad input, command by command."""
    invalid = _invalid_spec(tmp_path)
    missing = str(tmp_path / "missing.json")
    cases: dict[str, list[tuple[list[str], int]]] = {
        "validate": [([FLOWERS], 0), ([invalid], 1), ([missing], 2), ([FLOWERS, invalid, missing], 2)],
        "summary": [([FLOWERS], 0), ([invalid], 2), ([missing], 2)],
        "train": [
            ([invalid], 2),
            ([missing], 2),
            ([FLOWERS, "--batch-size", "0"], 2),
            ([FLOWERS, "--init-from", str(tmp_path / "no-run")], 2),
        ],
        "evaluate": [([str(tmp_path / "no-run")], 2), ([str(fake_run), "--data", missing], 2)],
        "predict": [([str(fake_run), "--data", missing, "-o", str(tmp_path / "p.csv")], 2)],
        "export": [
            ([FLOWERS, "--format", "python", "-o", str(tmp_path / "m.py")], 0),
            ([invalid, "--format", "python", "-o", str(tmp_path / "m.py")], 2),
            ([missing, "--format", "keras", "-o", str(tmp_path / "m.keras")], 2),
        ],
        "report": [
            ([str(fake_run), "-o", str(tmp_path / "r.html")], 0),
            ([str(tmp_path / "no-run"), "-o", str(tmp_path / "r.html")], 2),
            ([str(fake_run), "-o", str(tmp_path)], 2),
        ],
        "gui": [([missing], 2), ([invalid], 2)],
        "search": [([missing], 2), ([invalid], 2), ([FLOWERS], 2), ([FLOWERS, "--parallel", "0"], 2)],
        "demo": [(["--out", str(fake_run)], 2)],
        "import": [
            ([missing.replace(".json", ".keras"), "-o", str(tmp_path / "imported.json")], 2),
            ([invalid, "-o", str(tmp_path / "imported.json")], 2),
        ],
    }
    assert set(cases) == _commands(), "every command needs its exit codes tested here"
    for command, runs in cases.items():
        for args, expected in runs:
            env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""} if command == "gui" else {}
            with pytest.MonkeyPatch.context() as patch:
                for key, value in env.items():
                    patch.setenv(key, value)
                assert cli.main([command, *args]) == expected, f"mlpdesigner {command} {' '.join(args)}"
    capsys.readouterr()


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_maps_errors_to_the_same_codes(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Usage errors, bad input, invalid specs, bugs and Ctrl+C end each command with the same code and message."""
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--no-such-option"])
    assert exited.value.code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("usage: mlpdesigner") and "error:" in err

    monkeypatch.delenv("MLPDESIGNER_DEBUG", raising=False)
    build = cli.build_parser
    args = {
        "validate": ["x.json"],
        "summary": ["x.json"],
        "train": ["x.json"],
        "evaluate": ["run"],
        "predict": ["run", "--data", "d.csv", "-o", "p.csv"],
        "export": ["x.json", "--format", "onnx", "-o", "m.onnx"],
        "import": ["m.keras", "-o", "x.json"],
        "report": ["run", "-o", "r.html"],
        "search": ["x.json"],
    }.get(command, [])
    invalid = SpecError([Problem("error", "E202", "/", "'outputs' is a required property")], "x.json")
    cases: list[tuple[BaseException, int, str]] = [
        (invalid, ExitCode.BAD_INPUT, "x.json:1:1: error E202 /: 'outputs' is a required property"),
        (UserError("bad thing"), ExitCode.BAD_INPUT, "error: bad thing"),
        (ParityError("differs"), ExitCode.FAILED, "error: differs"),
        (RuntimeError("kaboom"), ExitCode.INTERNAL, "internal error: RuntimeError: kaboom"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED, "interrupted"),
    ]
    for raised, expected, words in cases:

        def fail(parsed: object, raised: BaseException = raised) -> int:
            raise raised

        def patched(fail: object = fail) -> object:
            parser = build()
            parser._subparsers._group_actions[0].choices[command].set_defaults(func=fail)  # type: ignore[union-attr]
            return parser

        monkeypatch.setattr(cli, "build_parser", patched)
        assert cli.main([command, *args]) == expected, f"{command}: {raised!r}"
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err


def test_exit_code_for_exceptions() -> None:
    assert exit_code_for(SpecError([], "x.json")) == 2
    assert exit_code_for(ParityError("differs")) == 1
    assert exit_code_for(ValueError("bug")) == 3
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 130]


def test_unknown_command_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "no-such-command"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr
