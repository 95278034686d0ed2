"""Hostile and broken input (issue 19): files that must not be clobbered, bombs, special files, injections.

Each test names the item of the issue it covers.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlpdesigner.cli import main
from tests._export_support import example

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


# --------------------------------------------------------------------------- 2. memory and disk bombs


def _rewrite_zip(source: Path, target: Path, replace: dict[str, bytes]) -> None:
    """Copy a zip archive with some members replaced or added (stored, uncompressed)."""
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in replace:
                new.writestr(info, old.read(info))
        for name, data in replace.items():
            new.writestr(name, data)


def _forged_npy(shape: tuple[int, ...], payload: bytes = b"\0" * 64) -> bytes:
    """An .npy file whose header declares ``shape`` float32 but which holds only ``payload``."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


@pytest.mark.slow
def test_weights_declaring_a_huge_tensor_are_refused_before_keras_allocates(trained_run: Path, tmp_path: Path) -> None:
    """Item 2: a 4 MB model.weights.h5 declaring a 3.9 GiB tensor took 8.6 GB of memory to load."""
    import io
    import zipfile

    import h5py

    from mlpdesigner.errors import UserError
    from mlpdesigner.modelfile import check_keras_file

    original = trained_run / "model.keras"
    with zipfile.ZipFile(original) as archive:
        weights = archive.read("model.weights.h5")
    buffer = io.BytesIO(weights)
    with h5py.File(buffer, "a") as h5:
        name = next(n for n in _datasets(h5))
        del h5[name]
        h5.create_dataset(name, shape=(64 * 1024 * 1024,), dtype="float32")  # 256 MiB, no storage written
    forged = tmp_path / "model.keras"
    _rewrite_zip(original, forged, {"model.weights.h5": buffer.getvalue()})
    assert forged.stat().st_size < 1024 * 1024
    with pytest.raises(UserError, match=r"declares [\d,]+ bytes of tensors .* but stores only"):
        check_keras_file(forged)


def _datasets(group: Any) -> list[str]:
    import h5py

    names: list[str] = []
    group.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return names


@pytest.mark.slow
def test_assets_in_a_model_archive_are_refused(trained_run: Path, tmp_path: Path) -> None:
    """Item 2: Keras extracts assets/ to a temporary folder; 12 entries of 250 MiB wrote 3 GB there."""
    from mlpdesigner.errors import UserError
    from mlpdesigner.modelfile import check_keras_file

    forged = tmp_path / "model.keras"
    _rewrite_zip(trained_run / "model.keras", forged, {"assets/blob.bin": b"\0" * 4096})
    with pytest.raises(UserError, match="unexpected asset 'assets/blob.bin'"):
        check_keras_file(forged)


@pytest.mark.slow
def test_python_export_never_reads_sample_inputs_and_onnx_refuses_a_forged_header(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Item 2: a 3.8 MB sample_inputs.npz took 12.3 GB in ONNX export; the Python export loaded it needlessly."""
    import shutil
    import zipfile

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    with zipfile.ZipFile(run / "sample_inputs.npz", "w") as archive:
        archive.writestr("x.npy", _forged_npy((64 * 1024 * 1024, 2)))
    assert main(["export", str(run), "--format", "python", "-o", str(tmp_path / "m.py")]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert "sample_inputs.npz: array 'x' declares shape [67108864, 2]" in err and "stores only" in err
    assert not (tmp_path / "m.onnx").exists()


def test_data_npz_loads_only_the_mapped_arrays(tmp_path: Path) -> None:
    """Item 2: every array of a data .npz was loaded, even unmapped ones (5.8 MB file, 5.75 GB of memory).

    The unmapped array here is damaged (bad CRC), which only a full read notices.
    """
    import zipfile

    import numpy as np

    from mlpdesigner.train.data import read_data

    rng = np.random.default_rng(0)
    good = tmp_path / "good.npz"
    np.savez(
        good,
        x=rng.normal(size=(20, 2)).astype("float32"),
        label=np.arange(20) % 2,
        unused=np.arange(20 * 256, dtype="float64").reshape(20, 256),
    )
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("unused.npy")
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data = bytearray(good.read_bytes())
    data[offset + info.file_size - 8] ^= 0xFF  # inside the unused array's values: its CRC no longer matches
    damaged = tmp_path / "data.npz"
    damaged.write_bytes(bytes(data))
    spec = json.loads(json.dumps(TINY_SPEC))
    spec["data"]["path"] = "data.npz"
    (tmp_path / "s.json").write_text(json.dumps(spec), "utf-8")
    dataset = read_data(tmp_path / "s.json")
    assert dataset.rows == 20 and dataset.x["x"].shape == (20, 2)


def test_data_npz_with_a_forged_shape_or_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    """Items 2 and 13: a forged header declared gigabytes; a non-zip .npz was an internal error."""
    import zipfile

    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    spec = json.loads(json.dumps(TINY_SPEC))
    spec["data"]["path"] = "data.npz"
    (tmp_path / "s.json").write_text(json.dumps(spec), "utf-8")
    data = tmp_path / "data.npz"
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("x.npy", _forged_npy((1 << 40, 2)))
    with pytest.raises(UserError, match=r"data.npz: array 'x' declares shape \[1099511627776, 2\]"):
        read_data(tmp_path / "s.json")
    data.write_bytes(b"this is not a zip file\n" * 10)
    with pytest.raises(UserError, match="data.npz: not an .npz file"):
        read_data(tmp_path / "s.json")


# --------------------------------------------------------------------------- 3. Python export of ordinary text


@pytest.mark.parametrize("length", range(70, 90))
def test_python_export_wraps_text_that_fits_the_indented_width_only(tmp_path: Path, length: int) -> None:
    """Item 3: a 73-82 character description (or data path) was "internal error: Generated lines longer than 88"."""
    from mlpdesigner.export import export_python

    spec = json.loads(json.dumps(TINY_SPEC))
    spec["description"] = ("word " * 40)[:length].rstrip() + "x" * (length - len(("word " * 40)[:length].rstrip()))
    spec["data"]["path"] = "d" * (length - 4) + ".csv"
    assert len(spec["description"]) == length and len(spec["data"]["path"]) == length
    (tmp_path / "s.json").write_text(json.dumps(spec), "utf-8")
    for with_training in (False, True):
        out = tmp_path / f"m{int(with_training)}.py"
        export_python(tmp_path / "s.json", out, with_training=with_training)
        code = out.read_text("utf-8")
        assert max(len(line) for line in code.splitlines()) <= 88
        assert spec["description"] in "".join(_string_constants(code)) or spec["description"] in code


def _string_constants(code: str) -> list[str]:
    import ast

    return [
        node.value
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.slow
def test_script_generated_from_a_spec_with_text_labels_trains(tmp_path: Path) -> None:
    """Item 3: a script from a spec (no run, so no class names) crashed at run time: int('versicolor')."""
    spec = write_tiny(tmp_path, labels=("versicolor", "setosa"))
    out = tmp_path / "train_tiny.py"
    assert main(["export", str(spec), "--format", "python", "--with-training", "-o", str(out)]) == 0
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, str(out)], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ValueError" not in done.stderr


# --------------------------------------------------------------------------- 4. whole-number floats in integer fields


def _integer_subschemas(node: Any, where: str = "#") -> list[str]:
    """JSON pointers (into the schema) of every subschema that accepts integers."""
    found = []
    if isinstance(node, dict):
        types = node.get("type")
        if types == "integer" or (isinstance(types, list) and "integer" in types):
            found.append(where)
        elif node.get("$ref") == "#/$defs/positive_int":
            found.append(where)
        for key, child in node.items():
            found += _integer_subschemas(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _integer_subschemas(child, f"{where}/{index}")
    return found


def test_every_integer_field_of_the_schema_refuses_whole_number_floats() -> None:
    """Item 4 (every integer field of the schema): 16.0 and 1e2 validated, then broke train/export/summary."""
    from mlpdesigner.resources import schema
    from mlpdesigner.spec.schema import StrictValidator

    document = schema()
    fields = _integer_subschemas(document)
    assert len(fields) >= 11 and "#/$defs/positive_int" in fields
    for where in fields:
        validator = StrictValidator({"$ref": where, "$defs": document["$defs"]})
        assert validator.is_valid(1) or validator.is_valid(0) or validator.is_valid(2), where
        for value in (16.0, 1e2, 1.0, 0.0):
            assert not validator.is_valid(value), f"{where} accepts {value!r}"


def _int_fields(node: Any, where: str = "") -> list[str]:
    found = []
    if isinstance(node, bool):
        return found
    if isinstance(node, int):
        return [where]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _int_fields(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _int_fields(child, f"{where}/{index}")
    return found


def _set(doc: Any, where: str, value: Any) -> None:
    keys = where.split("/")[1:]
    for key in keys[:-1]:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    last = keys[-1]
    if isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


def test_whole_number_floats_are_refused_at_their_pointer_in_real_specs() -> None:
    """Item 4: in every starter design and the kitchen-sink design, each integer written as N.0 is an error there."""
    from mlpdesigner.resources import example_names, schema
    from mlpdesigner.spec import validate_spec
    from tests._export_support import kitchen_sink, with_data

    designs = [example(name) for name in example_names()] + [with_data(kitchen_sink())]
    designs.append({**TINY_SPEC, "training": {**TINY_SPEC["training"], "steps_per_execution": 4}})
    integer_names = {_field_name(where) for where in _integer_subschemas(schema())}
    checked = set()
    for design in designs:
        for where in _int_fields(design):
            broken = json.loads(json.dumps(design))
            value = float(_get(design, where))
            _set(broken, where, value)
            errors = [p for p in validate_spec(broken) if p.is_error]
            if re.sub(r"/\d+$", "", where).rsplit("/", 1)[-1] not in integer_names:
                assert not errors, f"{where} is a number field; {value!r} must stay valid"
                continue
            assert any(p.path == where for p in errors), (where, [(p.path, p.message) for p in errors])
            checked.add(re.sub(r"/\d+", "/#", where))
    assert {
        "/network/layers/#/units",
        "/inputs/#/shape/#",
        "/training/seed",
        "/training/epochs",
        "/training/batch_size",
        "/outputs/#/units",
        "/training/steps_per_execution",
    } <= checked


def _field_name(schema_pointer: str) -> str:
    """The property a schema location describes: ``#/$defs/dense/properties/units`` -> units."""
    parts = [p for p in schema_pointer.split("/") if p not in ("items", "oneOf", "anyOf") and not p.isdigit()]
    return parts[-1]


def _get(doc: Any, where: str) -> Any:
    for key in where.split("/")[1:]:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc


def test_whole_number_float_message_says_how_to_write_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Item 4: the refusal names the pointer, line and column, and the integer to write."""
    spec = json.loads(json.dumps(TINY_SPEC))
    spec["network"]["layers"][0]["units"] = 16.0
    (tmp_path / "s.json").write_text(json.dumps(spec, indent=2).replace("16.0", "1.6e1"), "utf-8")
    assert main(["validate", str(tmp_path / "s.json")]) == 1
    out = capsys.readouterr().out
    assert "/network/layers/0/units" in out and "write it as 16" in out


# --------------------------------------------------------------------------- 5. special files as input

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path, timeout: float = 120, memory: int = 3 << 30) -> subprocess.CompletedProcess:
    """The CLI in a child process under an address-space limit and a time limit."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n"
        "from mlpdesigner.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_fifo_as_spec_is_refused_without_waiting(tmp_path: Path) -> None:
    """Item 5: a FIFO as the spec hung validate, summary and the designer forever."""
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    for command in (["validate"], ["summary"], ["export", "--format", "python", "-o", "x.py"]):
        args = [command[0], str(fifo), *command[1:]]
        done = run_cli(*args, cwd=tmp_path, timeout=60)
        assert done.returncode in (1, 2), (args, done.stderr)
        assert "named pipe (FIFO)" in done.stdout + done.stderr, (args, done.stdout, done.stderr)
    shot = subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "gui", str(fifo), "--screenshot", str(tmp_path / "s.png")],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shot.returncode == 2 and "named pipe (FIFO)" in shot.stderr


def test_dev_zero_as_spec_or_data_is_refused_before_reading(tmp_path: Path) -> None:
    """Item 5: /dev/zero was read until memory ran out (the 16 MiB limit was checked after reading)."""
    done = run_cli("validate", "/dev/zero", cwd=tmp_path, timeout=60, memory=1 << 30)
    assert done.returncode == 2 and "/dev/zero" in done.stdout and "it is a device" in done.stdout
    spec = write_tiny(tmp_path)
    done = run_cli("train", str(spec), "--data", "/dev/zero", cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "/dev/zero: it is a device. Expected a CSV or .npz data file" in done.stderr


def test_designer_refuses_a_fifo_with_a_message(qtbot: Any, tmp_path: Path) -> None:
    """Item 5: opening a FIFO in the designer shows an error instead of freezing the window."""
    import threading
    import time

    pytest.importorskip("pytestqt")
    sys.path.insert(0, str(Path(__file__).parent))
    from gui_helpers import close_clean, make_window

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    stop = time.monotonic() + 10

    def unblock() -> None:  # only matters for code that opens the FIFO blocking: give it a writer
        while time.monotonic() < stop:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=unblock, daemon=True).start()
    window = make_window(qtbot, tmp_path)
    assert not window.open_file(fifo)
    assert "named pipe (FIFO)" in window.dialogs.errors[0][1]
    close_clean(window)


# --------------------------------------------------------------------------- 6. minified specs in the designer


def test_minified_spec_marks_a_bounded_number_of_problems_per_line(qtbot: Any, tmp_path: Path) -> None:
    """Item 6: 1,000 unknown keys on one line froze the designer (> 300 s); every mark walked the line.

    The line is tinted once; underlines stop at MAX_MARKS_PER_LINE; the problems panel still lists all.
    """
    pytest.importorskip("pytestqt")
    sys.path.insert(0, str(Path(__file__).parent))
    from gui_helpers import close_clean, make_window

    from mlpdesigner.gui.json_view import MAX_MARKS_PER_LINE

    spec = json.loads(json.dumps(TINY_SPEC))
    for index in range(300):
        spec[f"unknown_{index}"] = index
    path = tmp_path / "minified.json"
    path.write_text(json.dumps(spec), "utf-8")
    window = make_window(qtbot, tmp_path, file=path)
    view = window.json_view
    assert len(view.line_problems[1]) >= 300
    assert len(view.extraSelections()) == 1 + MAX_MARKS_PER_LINE
    assert len(window.problems.problems) >= 300
    close_clean(window)


def test_highlighter_colours_tokens_of_a_minified_line(qtbot: Any) -> None:
    """Item 6: the one-pass highlighter keeps the colours: keys, strings (numbers and literals inside stay strings)."""
    from PySide6.QtGui import QTextDocument

    from mlpdesigner.gui.json_view import JsonHighlighter

    text = '{"k1": "true 12", "n": -1.5e3, "b": [true, null], "s": "a\\"b": 1}'
    document = QTextDocument()
    document.setPlainText(text)
    highlighter = JsonHighlighter(document)
    highlighter.rehighlight()
    formats = document.firstBlock().layout().formats()
    spans = {text[f.start : f.start + f.length]: f.format.foreground().color().name() for f in formats}
    assert spans['"k1"'] == spans['"n"'] == "#1d4ed8"
    assert spans['"true 12"'] == "#15803d"
    assert spans["-1.5e3"] == "#b45309"
    assert spans["true"] == spans["null"] == "#7c3aed"
    assert spans["{"] == spans["["] == "#475569"
    assert spans['"a\\"b"'] == "#1d4ed8"


# --------------------------------------------------------------------------- 8. ragged CSV rows


def test_rows_with_one_more_field_than_the_header_are_an_error_naming_the_row(tmp_path: Path) -> None:
    """Item 8: pandas took the first field as the index and training "completed" on shifted columns."""
    from mlpdesigner.data.checks import read_table
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    spec = write_tiny(tmp_path)
    lines = (tmp_path / "data.csv").read_text("utf-8").splitlines()
    shifted = [lines[0]] + [f"{i},{line}" for i, line in enumerate(lines[1:])]
    (tmp_path / "data.csv").write_text("\n".join(shifted) + "\n", "utf-8")
    expected = r"data.csv: row 2 has 4 fields but the header names 3 columns"
    with pytest.raises(UserError, match=expected):
        read_data(spec)
    with pytest.raises(UserError, match=expected):
        read_table(tmp_path / "data.csv")


# --------------------------------------------------------------------------- 9. CSV formula injection


def test_csv_safe_neutralizes_formulas_but_not_negative_numbers() -> None:
    """Item 9 (OWASP): = + - @ tab CR at the start get a leading quote; -1.5 and +3 stay numbers."""
    from mlpdesigner.safeio import csv_safe

    for formula in ("=1+1", "+cmd|' /C calc'!A0", "-2+3+cmd", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_safe(formula) == "'" + formula
    for plain in ("-1.5", "+3", "-1e5", "setosa", "", "a=b", 3, -2.5):
        assert csv_safe(plain) == plain


@pytest.mark.slow
def test_predict_output_has_no_live_formulas(trained_run: Path, tmp_path: Path) -> None:
    """Item 9: class labels learned from the data were written verbatim into predict's cells and headers."""
    import csv

    out = tmp_path / "p.csv"
    assert main(["predict", str(trained_run), "--data", str(trained_run.parent / "data.csv"), "-o", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    labels = {row[0] for row in rows[1:]}
    assert labels <= {'\'=HYPERLINK("http://x")', "'+cmd|' /C calc'!A0"} and labels
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(cell)  # only numbers may start that way


# --------------------------------------------------------------------------- 11. interrupted runs


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.slow
def test_an_interrupted_run_is_not_exported(trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Item 11: killed right after the last epoch, model.keras existed with run.json "running"; export said 0."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    info = json.loads((run / "run.json").read_text("utf-8"))
    info.update(status="running", pid=_dead_pid(), pid_start=None)
    (run / "run.json").write_text(json.dumps(info), "utf-8")
    for fmt, name in (("python", "m.py"), ("keras", "m.keras"), ("onnx", "m.onnx")):
        assert main(["export", str(run), "--format", fmt, "-o", str(tmp_path / name)]) == 2
        assert "the run was interrupted" in capsys.readouterr().err
        assert not (tmp_path / name).exists()


@pytest.mark.slow
def test_a_double_sigterm_records_stopped(tmp_path: Path) -> None:
    """Item 11: a second stop signal exited 130 and left run.json saying "running"."""
    import signal

    spec = write_tiny(tmp_path, rows=400)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlpdesigner",
            "train",
            str(spec),
            "--epochs",
            "100000",
            "--batch-size",
            "1",
            "--out",
            str(tmp_path / "run"),
            "--progress",
            "jsonl",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if json.loads(line).get("event") == "epoch":
            break
    # Two signals of one kind that arrive while TensorFlow runs a graph call coalesce into one; SIGINT then
    # SIGTERM are always handled as two, in order, when the call returns (the second stops at once).
    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    # Once a full-suite run saw exit -11 here (a segfault while KeyboardInterrupt unwound through TensorFlow);
    # the console script now records the run and ends from the signal handler.
    assert child.returncode == 130, err[-3000:]
    assert err.rstrip().endswith("interrupted") and "Traceback" not in err, err[-3000:]
    info = json.loads((tmp_path / "run" / "run.json").read_text("utf-8"))
    assert info["status"] == "stopped", info
    assert "a second signal stopped it at once" in info["reason"]


# --------------------------------------------------------------------------- 12. model-file allow-list


@pytest.mark.slow
@pytest.mark.parametrize(
    "activation, match",
    [
        (
            {
                "module": "keras.layers",
                "class_name": "function",
                "config": "deserialize",
                "registered_name": "function",
            },
            "calls the function keras.layers.deserialize",
        ),
        (
            {
                "module": "keras.activations",
                "class_name": "function",
                "config": "deserialize",
                "registered_name": "function",
            },
            "calls the function keras.activations.deserialize",
        ),
        ("deserialize", "with the activation 'deserialize'"),
    ],
    ids=["layers-deserialize", "activations-deserialize", "string"],
)
def test_model_file_may_name_only_the_functions_mlp_designer_builds(
    trained_run: Path, tmp_path: Path, activation: Any, match: str
) -> None:
    """Item 12: an activation naming keras.layers.deserialize passed the check and ran at inference."""
    import zipfile

    from mlpdesigner.errors import UserError
    from mlpdesigner.modelfile import check_keras_file

    with zipfile.ZipFile(trained_run / "model.keras") as archive:
        config = json.loads(archive.read("config.json"))
    config["config"]["layers"][1]["config"]["activation"] = activation
    forged = tmp_path / "model.keras"
    _rewrite_zip(trained_run / "model.keras", forged, {"config.json": json.dumps(config).encode()})
    with pytest.raises(UserError, match=re.escape(match)):
        check_keras_file(forged)
    check_keras_file(trained_run / "model.keras")


# --------------------------------------------------------------------------- 10. disk full during train


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Any:
    """Mount a tmpfs of the given size (root only); unmounted afterwards."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        folder = tmp_path / f"disk-{size}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("size", ["8k", "24k", "40k"])
def test_disk_full_during_train_is_a_clean_recorded_failure(tmp_path: Path, tiny_disk: Any, size: str) -> None:
    """Item 10: with little space left, train ended in an internal error (ENOSPC) with run.json "running"."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    spec = write_tiny(tmp_path)
    run = tiny_disk(size) / "run"
    done = run_cli("train", str(spec), "--out", str(run), cwd=tmp_path, timeout=300)
    assert done.returncode in (1, 2), done.stderr
    assert "internal error" not in done.stderr and "No space left on device" in done.stderr + done.stdout
    if (run / "run.json").exists():
        info = json.loads((run / "run.json").read_text("utf-8"))
        assert info["status"] == "failed" and "No space left on device" in info["reason"]
        assert not (run / "model.keras").exists() or info["status"] == "completed"


# --------------------------------------------------------------------------- 14. data quirks


def _tiny_with(tmp_path: Path, rows: list[str], header: str = "a,b,label") -> Path:
    spec = write_tiny(tmp_path)
    (tmp_path / "data.csv").write_text("\n".join([header, *rows]) + "\n", "utf-8")
    return spec


def test_values_beyond_float32_are_an_error_naming_the_cell(tmp_path: Path) -> None:
    """Item 14: 1e39 passed the finite check (float64) and became inf in float32."""
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    spec = _tiny_with(tmp_path, [f"{i},1,{'ab'[i % 2]}" for i in range(8)] + ["1e39,1,a"])
    with pytest.raises(UserError, match=r"row 10, column 'a' \(the input 'x'\): Expected a number within"):
        read_data(spec)


def test_an_integer_beyond_any_float_is_an_error_naming_the_cell(tmp_path: Path) -> None:
    """Item 14 (found by the fuzz test): a 400-digit integer was "internal error: OverflowError"."""
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    spec = _tiny_with(tmp_path, [f"{i},1,{'ab'[i % 2]}" for i in range(8)] + [f"{'9' * 400},1,a"])
    with pytest.raises(UserError, match=r"row 10, column 'a' \(the input 'x'\): Expected a number within"):
        read_data(spec)


def test_na_none_null_are_labels_not_missing_values(tmp_path: Path) -> None:
    """Item 14: labels NA, None, null, n/a were taken as missing values."""
    from mlpdesigner.train.data import read_data

    spec = json.loads(json.dumps(TINY_SPEC))
    spec["outputs"] = [{"name": "label", "task": "multiclass", "units": 4}]
    (tmp_path / "s.json").write_text(json.dumps(spec), "utf-8")
    labels = ["NA", "None", "null", "n/a"]
    (tmp_path / "data.csv").write_text("a,b,label\n" + "".join(f"{i},2,{labels[i % 4]}\n" for i in range(16)), "utf-8")
    dataset = read_data(tmp_path / "s.json")
    assert dataset.outputs["label"].classes == sorted(labels)


def test_single_class_target_and_duplicate_headers_are_refused(tmp_path: Path) -> None:
    """Item 14: no word about a single-class target; pandas renamed a duplicate header to a.1."""
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    spec = _tiny_with(tmp_path, [f"{i},1,yes" for i in range(8)])
    with pytest.raises(UserError, match=r"has a single class in all 8 rows"):
        read_data(spec)
    spec = _tiny_with(tmp_path, [f"{i},1,{'ab'[i % 2]},3" for i in range(8)], header="a,b,label,a")
    with pytest.raises(UserError, match=r"the header names column 'a' twice \(columns 1 and 4\)"):
        read_data(spec)


def test_a_huge_label_is_not_echoed_whole(tmp_path: Path) -> None:
    """Item 14: a 50 MB label was echoed whole in an error."""
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    spec = _tiny_with(tmp_path, [f"{i},1,{'ab'[i % 2]}" for i in range(8)] + ["x" * 1_000_000 + ",1,a"])
    with pytest.raises(UserError) as caught:
        read_data(spec)
    assert len(str(caught.value)) < 1000 and "1,000,002 characters" in str(caught.value)


def test_a_csv_larger_than_memory_is_refused_before_reading(tmp_path: Path) -> None:
    """Item 14: a 2 GB CSV was read with no size check (5.9 GB of memory). Here: 1.5 GB under a 1 GiB limit.

    Read whole (``data.streaming`` false) it is refused before reading. Since issue 15, "auto" streams a file
    that large instead; a 1.5 GB line of NUL bytes cannot be parsed in chunks either, and that is a clear
    error naming the file, not a crash.
    """
    spec = _tiny_with(tmp_path, [f"{i},1,{'ab'[i % 2]}" for i in range(8)])
    with open(tmp_path / "data.csv", "ab") as handle:
        handle.truncate(1536 * 1024 * 1024)  # sparse: 1.5 GB of NUL bytes after the rows
    streamed = run_cli("train", str(spec), "--out", str(tmp_path / "streamed"), cwd=tmp_path, timeout=120,
                       memory=1 << 30)
    assert streamed.returncode == 2, streamed.stderr[-2000:]
    assert "data.csv" in streamed.stderr and "Traceback" not in streamed.stderr
    raw = json.loads(spec.read_text("utf-8"))
    raw["data"]["streaming"] = False
    spec.write_text(json.dumps(raw), "utf-8")
    done = run_cli("train", str(spec), "--out", str(tmp_path / "run"), cwd=tmp_path, timeout=120, memory=1 << 30)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "reading it needs at least as much memory" in done.stderr


# --------------------------------------------------------------------------- 15. leftovers


def test_temporaries_of_killed_writers_are_cleaned_by_the_next_write(tmp_path: Path) -> None:
    """Item 15: ``.out.onnx.*.tmp`` left by a killed export were never removed; a live writer's are kept."""
    from mlpdesigner.atomic import atomic_write_text

    target = tmp_path / "out.onnx"
    dead = tmp_path / f".out.onnx.{_dead_pid()}-abcd1234.tmp"
    alive = tmp_path / f".out.onnx.{os.getppid()}-efgh5678.tmp"
    foreign = tmp_path / ".out.onnx.notes.tmp"
    for path in (dead, alive, foreign):
        path.write_text("partial", "utf-8")
    atomic_write_text(target, "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, alive.name, foreign.name])


@pytest.mark.slow
def test_a_killed_runs_partial_model_is_removed_when_the_run_is_read(trained_run: Path, tmp_path: Path) -> None:
    """Item 15: ``.model.partial.keras`` after a kill was never cleaned."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / ".model.partial.keras").write_bytes(b"half a model")
    (run / f".run.json.{_dead_pid()}-x1y2z3.tmp").write_text("{", "utf-8")
    assert main(["export", str(run), "--format", "python", "-o", str(tmp_path / "m.py")]) == 0
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]


def test_recovery_temporaries_of_killed_windows_are_cleaned(tmp_path: Path) -> None:
    """Item 15: ``.recovery-*.tmp`` files after kills were never cleaned."""
    pytest.importorskip("PySide6")
    from mlpdesigner.gui.recovery import RecoveryStore

    stale = tmp_path / f".recovery-1-abc.json.{_dead_pid()}-k2j3h4.tmp"
    stale.write_text("{", "utf-8")
    assert RecoveryStore(tmp_path).leftovers() == []
    assert not stale.exists()


def test_gui_screenshot_leaves_no_temporary_folder(tmp_path: Path) -> None:
    """Item 15: every ``gui --screenshot`` left an empty mlpdesigner-shot-* folder in the temp folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", TMPDIR=str(scratch))
    done = subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "gui", "--screenshot", str(tmp_path / "s.png")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s.png").is_file()
    assert list(scratch.iterdir()) == []


# --------------------------------------------------------------------------- 7. data paths leaving the spec's folder

SECRET = "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n"


def _spec_pointing_outside(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "credentials").write_text(SECRET, "utf-8")
    (tmp_path / "designs").mkdir()
    spec = json.loads(json.dumps(TINY_SPEC))
    spec["data"]["path"] = "../home/credentials"
    path = tmp_path / "designs" / "from_someone.json"
    path.write_text(json.dumps(spec), "utf-8")
    return path


def test_train_says_where_it_reads_and_never_echoes_a_file_outside_the_spec_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Item 7: ``"path": "../home/.aws/credentials"`` made train print the first line of that file."""
    spec = _spec_pointing_outside(tmp_path)
    assert main(["train", str(spec), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "notice:" in err and "leaves the spec's folder" in err and "credentials" in err
    assert "its contents are not shown" in err
    for secret in ("[default]", "aws_access_key_id", "AKIAEXAMPLE", "s3cr3t"):
        assert secret not in err


def test_designer_asks_before_reading_a_data_file_outside_the_design_folder(qtbot: Any, tmp_path: Path) -> None:
    """Item 7: the designer previewed the whole file a design's data path pointed at."""
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import Qt

    sys.path.insert(0, str(Path(__file__).parent))
    from gui_helpers import close_clean, make_window

    spec = _spec_pointing_outside(tmp_path)
    window = make_window(qtbot, tmp_path, file=spec)
    tab = window.data_tab
    window.tabs.setCurrentWidget(tab)
    tab.sync()
    assert tab.frame is None and "leaves its folder" in (tab.load_error or "")
    window.show()
    assert tab.allow_button.isVisible()
    window.grab().save(str(tmp_path / "held.png"))
    assert "AKIAEXAMPLE" not in _all_cell_text(tab)
    qtbot.mouseClick(tab.allow_button, Qt.MouseButton.LeftButton)
    assert tab.wait_for_read()  # read on a worker thread (issue 18)
    assert tab.frame is not None and not tab.allow_button.isVisible()
    assert "aws_access_key_id = AKIAEXAMPLE" in _all_cell_text(tab)
    close_clean(window)


def _all_cell_text(widget: Any) -> str:
    from PySide6.QtWidgets import QTableWidget

    texts = []
    for table in widget.findChildren(QTableWidget):
        for row in range(table.rowCount()):
            for column in range(table.columnCount()):
                item = table.item(row, column)
                texts.append(item.text() if item else "")
        for column in range(table.columnCount()):
            header = table.horizontalHeaderItem(column)
            texts.append(header.text() if header else "")
    return "\n".join(texts)


# --------------------------------------------------------------------------- 13. clear errors instead of internal ones


@pytest.mark.slow
def test_run_folder_mixing_spec_and_model_of_different_runs_is_a_clear_error(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Item 13: a run folder whose spec.json disagrees with its model.keras was an internal error."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    spec = json.loads((run / "spec.json").read_text("utf-8"))
    spec["inputs"][0]["shape"] = [3]
    spec["data"]["columns"]["x"] = ["a", "b", "a"]
    (run / "spec.json").write_text(json.dumps(spec), "utf-8")
    data = trained_run.parent / "data.csv"
    assert main(["predict", str(run), "--data", str(data), "-o", str(tmp_path / "p.csv")]) == 2
    assert "the model does not match" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 2
    assert "the model does not match" in capsys.readouterr().err


@pytest.mark.slow
def test_deeply_nested_run_json_or_model_config_is_a_clear_error(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Item 13: deeply nested run.json or model config.json ended in internal errors (RecursionError)."""
    import shutil

    from mlpdesigner.errors import UserError
    from mlpdesigner.modelfile import check_keras_file

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "run.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    for argv in (["evaluate", str(run)], ["export", str(run), "--format", "python", "-o", str(tmp_path / "m.py")]):
        assert main(argv) == 2
        assert "run.json" in capsys.readouterr().err
    forged = tmp_path / "model.keras"
    _rewrite_zip(trained_run / "model.keras", forged, {"config.json": b"[" * 100_000 + b"]" * 100_000})
    with pytest.raises(UserError, match="config.json is nested too deeply"):
        check_keras_file(forged)


def test_summary_keras_and_export_of_a_spec_too_large_for_memory_are_refused(tmp_path: Path) -> None:
    """Item 13: only train checked memory first; summary --keras and export ended in internal errors."""
    spec = json.loads(json.dumps(TINY_SPEC))
    spec["network"]["layers"] = [{"type": "dense", "units": 40_000}, {"type": "dense", "units": 40_000}]
    (tmp_path / "big.json").write_text(json.dumps(spec), "utf-8")
    for argv in (["summary", "big.json", "--keras"], ["export", "big.json", "--format", "keras", "-o", "m.keras"]):
        done = run_cli(*argv, cwd=tmp_path, timeout=300, memory=3 << 30)
        assert done.returncode == 2, done.stderr[-1500:]
        assert "Out of memory" in done.stderr and "1,600," in done.stderr
