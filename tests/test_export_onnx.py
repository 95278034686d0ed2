"""ONNX export: the full checker and onnxruntime parity for every starter design, names, metadata, failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlpdesigner.errors import UserError
from mlpdesigner.export import ParityError, export_onnx, load_source
from mlpdesigner.resources import example_path
from tests._export_support import all_examples, example, make_run, random_inputs


def _keras_outputs(model, spec: dict, feeds: dict) -> list:
    import keras
    import numpy as np

    args = [feeds[i["name"]] for i in spec["inputs"]]
    result = model(args[0] if isinstance(model, keras.Sequential) else args, training=False)
    return [np.asarray(r) for r in (result if isinstance(result, (list, tuple)) else [result])]


@pytest.mark.slow
@pytest.mark.parametrize("name", all_examples())
def test_every_example_passes_the_checker_and_matches_keras(name: str, tmp_path: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    out = tmp_path / f"{name}.onnx"
    report = export_onnx(example_path(name), out)
    assert out.is_file()
    onnx.checker.check_model(str(out), full_check=True)
    assert [c.batch for c in report.checks] == [1, 64]
    assert report.max_abs_diff <= 1e-5
    spec = example(name)
    proto = onnx.load(str(out))
    assert [i.name for i in proto.graph.input] == [i["name"] for i in spec["inputs"]]
    assert [o.name for o in proto.graph.output] == [o["name"] for o in spec["outputs"]]
    assert {op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")} == {17}
    for value in list(proto.graph.input) + list(proto.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    # An independent recomputation at both batch sizes, against a freshly built Keras model.
    from mlpdesigner.compile import build_model

    model = build_model(spec, compile=False)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for batch in (1, 64):
        feeds = random_inputs(spec, batch, seed=batch)
        got = session.run(None, feeds)
        expected = _keras_outputs(model, spec, feeds)
        assert max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected, strict=True)) <= 1e-5


@pytest.mark.slow
def test_metadata_carries_spec_columns_and_classes_from_a_run(tmp_path: Path) -> None:
    import onnx

    spec = example("wide_deep_aux_output")
    spec["inputs"][1]["normalize"] = True
    columns = {"wide": [f"w{i}" for i in range(5)], "deep": [f"d{i}" for i in range(6)]}
    run = make_run(spec, tmp_path / "run", columns=columns, classes={})
    out = tmp_path / "model.onnx"
    report = export_onnx(run, out, opset=18)
    assert report.trained
    assert [c.label for c in report.checks] == ["real rows", "random", "random"]
    assert report.checks[0].batch == 32
    proto = onnx.load(str(out))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["mlpdesigner.spec"]) == spec
    assert json.loads(props["mlpdesigner.columns"]) == columns
    assert json.loads(props["mlpdesigner.classes"]) == {}
    assert props["mlpdesigner.trained"] == "true"
    assert {op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")} == {18}


@pytest.mark.slow
def test_run_folder_onnx_uses_trained_weights_and_class_names(tmp_path: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    spec = example("selu_self_normalizing")
    classes = {"label": [f"class {i}" for i in range(10)]}
    run = make_run(spec, tmp_path / "run", classes=classes)
    out = tmp_path / "selu.onnx"
    export_onnx(run, out)
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(props["mlpdesigner.classes"]) == classes
    source = load_source(run)
    feeds = random_inputs(spec, 8, seed=9)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    trained = _keras_outputs(source.model(), spec, feeds)[0]
    assert float(np.max(np.abs(got - trained))) <= 1e-5
    from mlpdesigner.compile import build_model

    untrained = _keras_outputs(build_model(spec, compile=False), spec, feeds)[0]
    assert float(np.max(np.abs(got - untrained))) > 1e-4, "the run's trained weights were exported"


@pytest.mark.slow
def test_parity_failure_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlpdesigner.export import onnx_export

    monkeypatch.setattr(onnx_export, "_max_abs_diff", lambda got, expected, **kw: 0.5)
    out = tmp_path / "model.onnx"
    with pytest.raises(ParityError, match="max abs difference 0.5") as info:
        export_onnx(example_path("housing_regression"), out)
    assert "no file was written" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    out.write_bytes(b"old")
    monkeypatch.setattr(onnx_export, "_max_abs_diff", lambda got, expected, **kw: 0.5)
    with pytest.raises(ParityError):
        export_onnx(example_path("housing_regression"), out)
    assert out.read_bytes() == b"old", "a failed export keeps the previous file"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_bad_opset_and_tolerance_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="opset"):
        export_onnx(example_path("housing_regression"), tmp_path / "m.onnx", opset=99)
    with pytest.raises(UserError, match="tolerance"):
        export_onnx(example_path("housing_regression"), tmp_path / "m.onnx", tolerance=-1)
    assert list(tmp_path.iterdir()) == []


def test_max_abs_diff_treats_nan_and_shapes_strictly() -> None:
    import numpy as np

    from mlpdesigner.export.onnx_export import _max_abs_diff

    assert _max_abs_diff(np.array([1.0, np.nan]), np.array([1.5, np.nan])) == 0.5
    assert _max_abs_diff(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == float("inf")
    assert _max_abs_diff(np.zeros((2, 1)), np.zeros((2,))) == float("inf")


@pytest.mark.slow
def test_every_layer_kind_converts_including_exact_gelu_and_normalization(tmp_path: Path) -> None:
    from tests._export_support import kitchen_sink

    run = make_run(kitchen_sink(), tmp_path / "run")
    report = export_onnx(run, tmp_path / "sink.onnx")
    assert report.max_abs_diff <= 1e-5
    assert report.output_names == ["share", "level", "kind"]


def test_tolerance_is_absolute_below_one_and_relative_above() -> None:
    import numpy as np

    from mlpdesigner.export.onnx_export import _max_abs_diff

    expected = np.array([[0.5], [300.0]])
    got = expected + np.array([[2e-6], [3e-4]])
    assert _max_abs_diff(got, expected) == pytest.approx(3e-4, rel=1e-2)
    assert _max_abs_diff(got, expected, scaled=True) == pytest.approx(2e-6, rel=1e-2)
    nan = np.array([[np.nan]])
    assert _max_abs_diff(nan, nan, scaled=True) == 0.0
    assert _max_abs_diff(nan, np.zeros((1, 1))) == float("inf")
