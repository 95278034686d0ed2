"""``repeat`` on a dense layer: n identical dense layers in a row, each with its own weights (issue 15).

The planner expands it, so the summary, the Keras model, the generated script, the exports, ``--init-from``,
the importer and the layer-health callback all see the n layers; a spec without ``repeat`` plans exactly as before.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlpdesigner.cli import main
from mlpdesigner.resources import example_path
from mlpdesigner.spec import analyze, load_spec, summarize
from mlpdesigner.spec.plan import build_plan

FLOWERS = Path(example_path("flowers_multiclass"))


def _example(name: str) -> dict[str, Any]:
    return json.loads(Path(example_path(name)).read_text("utf-8"))


def _flowers(repeat: int | None = 3, *, epochs: int = 2) -> dict[str, Any]:
    """The bundled flowers classifier (data path absolute) with its first dense layer repeated."""
    spec = json.loads(FLOWERS.read_text("utf-8"))
    spec["data"]["path"] = str((FLOWERS.parent / spec["data"]["path"]).resolve())
    spec["training"]["epochs"] = epochs
    if repeat is not None:
        spec["network"]["layers"][0]["repeat"] = repeat
    return spec


def _wide_deep(repeat: int = 3) -> dict[str, Any]:
    spec = _example("wide_deep_aux_output")
    spec["network"]["deep"]["layers"][0]["repeat"] = repeat
    return spec


def _dense_names(plan: Any) -> list[str]:
    return [n.name for n in plan.nodes if n.kind == "dense" and n.role != "output"]


def _problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in analyze(spec).errors]


# --------------------------------------------------------------------------- planning (pure Python)


def test_repeat_expands_into_named_layers_with_their_own_weights() -> None:
    plan = load_spec(_flowers(3)).plan
    assert _dense_names(plan) == ["dense_1", "dense_1_2", "dense_1_3", "dense_2"]
    first, second, third = (plan.node(n) for n in ("dense_1", "dense_1_2", "dense_1_3"))
    assert second.inputs == ["dense_1"] and third.inputs == ["dense_1_2"]
    assert plan.node("dense_2").inputs == ["dense_1_3"]
    assert {n.spec_path for n in (first, second, third)} == {"/network/layers/0"}
    assert (first.params, second.params, third.params) == (4 * 16 + 16, 16 * 16 + 16, 16 * 16 + 16)
    assert plan.total_params == load_spec(_flowers(None)).plan.total_params + 2 * (16 * 16 + 16)


def test_without_repeat_and_with_repeat_one_the_plan_is_unchanged() -> None:
    for name in ("housing_regression", "wide_deep_aux_output", "fashion_mnist_classifier"):
        spec = _example(name)
        before = build_plan(load_spec(spec).filled)
        stacks = [spec["network"]["layers"]] if "layers" in spec["network"] else [spec["network"]["deep"]["layers"]]
        for layer in stacks[0]:
            if layer["type"] == "dense":
                layer["repeat"] = 1
        assert build_plan(load_spec(spec).filled) == before, name


def test_wide_and_deep_repeats_in_the_deep_tower_and_the_aux_output_follows_the_last_copy() -> None:
    spec = _wide_deep(3)
    plan = load_spec(spec).plan
    deep = [n for n in plan.nodes if n.role == "deep"]
    assert [n.name for n in deep][:3] == ["dense_1", "dense_1_2", "dense_1_3"]
    aux = next(o["name"] for o in spec["outputs"] if o.get("source") == "deep")
    raw = plan.node(aux) if plan.node(aux).kind == "dense" else plan.node(plan.node(aux).inputs[0])
    assert raw.inputs == [deep[-1].name]


def test_summary_shows_every_copy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = [row.name for row in summarize(_flowers(3)).layers]
    assert rows[2:6] == ["dense_1", "dense_1_2", "dense_1_3", "dense_2"]
    path = tmp_path / "flowers.json"
    path.write_text(json.dumps(_flowers(3)), "utf-8")
    assert main(["summary", str(path)]) == 0
    table = capsys.readouterr().out
    assert "dense_1_3 (Dense)" in table and "dense_1_2" in table


def test_generated_names_keep_clear_of_copies_and_explicit_clashes_are_located() -> None:
    spec = _flowers(None)
    spec["network"]["layers"] = [
        {"type": "dense", "units": 8, "name": "dense", "repeat": 3},
        {"type": "dense", "units": 8},  # dense_1: "dense_2" and "dense_3" belong to the copies above
        {"type": "dense", "units": 8},
    ]
    assert _dense_names(load_spec(spec).plan) == ["dense", "dense_2", "dense_3", "dense_1", "dense_4"]
    spec["network"]["layers"][1]["name"] = "dense_2"
    found = analyze(spec).errors
    assert [(p.code, p.path) for p in found] == [("E301", "/network/layers/1")]
    assert "'dense_2' is already the name of copy 2 of the repeated layer 'dense' at /network/layers/0" \
        in found[0].message
    spec["network"]["layers"] = [{"type": "dense", "units": 8, "name": "late_2"},
                                 {"type": "dense", "units": 8, "name": "late", "repeat": 2}]
    found = analyze(spec).errors
    assert [(p.code, p.path) for p in found] == [("E301", "/network/layers/1/repeat")]
    assert "copy 2 of the repeated layer 'late' is named 'late_2'" in found[0].message


@pytest.mark.parametrize(
    ("layer", "code", "path", "words"),
    [
        ({"type": "dense", "units": 8, "repeat": 0}, "E205", "/network/layers/0/repeat", "repeat >= 1"),
        ({"type": "dense", "units": 8, "repeat": 2.0}, "E201", "/network/layers/0/repeat", "an integer"),
        ({"type": "dense", "units": 8, "repeat": 1001}, "E205", "/network/layers/0/repeat", "repeat <= 1000"),
        ({"type": "dropout", "rate": 0.2, "repeat": 2}, "E203", "/network/layers/0/repeat", "Only a dense layer"),
        ({"type": "batch_normalization", "repeat": 2}, "E203", "/network/layers/0/repeat", "Only a dense layer"),
    ],
)
def test_bad_repeats_get_located_errors(layer: dict, code: str, path: str, words: str) -> None:
    spec = _flowers(None)
    spec["network"]["layers"].insert(0, layer)
    text = json.dumps(spec, indent=2)
    from mlpdesigner.spec import parse_text

    errors = parse_text(text).errors
    assert [(p.code, p.path) for p in errors] == [(code, path)]
    assert words in errors[0].message and errors[0].line is not None


def test_too_many_expanded_layers_is_an_error_not_a_hang() -> None:
    spec = _flowers(None)
    spec["network"]["layers"] = [{"type": "dense", "units": 2, "repeat": 1000}] * 11
    found = analyze(spec).errors
    assert [(p.code, p.path) for p in found] == [("E304", "/network/layers")]
    assert "11,000" in found[0].message


# --------------------------------------------------------------------------- Keras and the exports

keras = pytest.importorskip("keras")


def test_keras_model_has_the_copies_and_agrees_with_the_summary() -> None:
    from mlpdesigner.compile import build_model

    for spec in (_flowers(3), _wide_deep(2)):
        model = build_model(spec, compile=False)
        plan = load_spec(spec).plan
        dense = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        assert dense[: len(_dense_names(plan))] == _dense_names(plan)
        assert model.count_params() == plan.total_params
        for node in plan.nodes:
            if node.kind != "input":
                assert model.get_layer(node.name).count_params() == node.params, node.name
        # Each copy its own weights: no two copies share a kernel.
        kernels = [model.get_layer(n).kernel for n in _dense_names(plan)]
        assert len({id(k) for k in kernels}) == len(kernels)


@pytest.mark.slow
def test_keras_and_onnx_exports_keep_every_copy(tmp_path: Path) -> None:
    import numpy as np
    import onnxruntime as ort

    from mlpdesigner.export import export_keras, export_onnx
    from tests._export_support import random_inputs

    spec = _wide_deep(3)
    report = export_onnx(spec, tmp_path / "model.onnx")
    assert report.max_abs_diff <= 1e-5
    export_keras(spec, tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    names = [layer.name for layer in loaded.layers]
    assert {"dense_1", "dense_1_2", "dense_1_3"} <= set(names)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = random_inputs(spec, 16)
    got = session.run(None, feeds)
    expected = loaded([feeds[i["name"]] for i in spec["inputs"]], training=False)
    assert max(float(np.max(np.abs(g - np.asarray(e)))) for g, e in zip(got, expected, strict=True)) <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("design", ["sequential", "wide_deep"])
def test_a_repeated_design_imports_back_with_its_repeat_and_its_weights(tmp_path: Path, design: str) -> None:
    """The importer folds identical dense layers named x, x_2, x_3 into one layer with repeat 3; the run it writes
    holds each copy's own (trained) weights."""
    import numpy as np

    from mlpdesigner.compile import build_model
    from mlpdesigner.importer import import_model, write_run
    from tests._import_support import perturb

    spec = _flowers(3) if design == "sequential" else _wide_deep(3)
    model = build_model(spec)
    perturb(model)
    model.save(tmp_path / "repeated.keras")
    imported = import_model(tmp_path / "repeated.keras")
    def stack(of: dict) -> list[dict]:
        return of["network"]["layers"] if design == "sequential" else of["network"]["deep"]["layers"]

    layers = stack(imported.spec)
    assert layers[0]["repeat"] == 3 and "name" not in layers[0]
    assert len(layers) == len(stack(spec))
    assert [n.name for n in load_spec(imported.spec).plan.nodes] == [n.name for n in load_spec(spec).plan.nodes]
    run = write_run(imported, tmp_path / "run")
    loaded = keras.saving.load_model(run / "model.keras")
    for name in ("dense_1", "dense_1_2", "dense_1_3"):
        for got, expected in zip(loaded.get_layer(name).get_weights(), model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.slow
def test_training_records_health_per_copy_and_init_from_continues_it(tmp_path: Path) -> None:
    """A run of a repeated design: health per copy; ``--init-from`` takes it and refuses another repeat count."""
    import numpy as np

    from mlpdesigner.errors import UserError
    from mlpdesigner.train.health import read_health
    from mlpdesigner.train.runner import train

    spec = _flowers(3, epochs=1)
    first = train(spec, out=tmp_path / "first")
    health = read_health(first.run_dir)
    assert health is not None
    names = [layer["name"] for layer in health["layers"]]
    assert names[:4] == ["dense_1", "dense_1_2", "dense_1_3", "dense_2"]
    assert all(name in health["epochs"][-1]["layers"] for name in names)
    assert health["layers"][1]["spec_path"] == "/network/layers/0"

    design = tmp_path / "again.json"
    design.write_text(json.dumps(spec), "utf-8")
    argv = ["train", str(design), "--init-from", str(first.run_dir), "--epochs", "1", "--out", str(tmp_path / "2")]
    again = copy.deepcopy(spec)
    again["training"]["optimizer"]["learning_rate"] = 1e-12
    design.write_text(json.dumps(again), "utf-8")
    assert main(argv) == 0
    before = keras.saving.load_model(first.run_dir / "model.keras")
    after = keras.saving.load_model(tmp_path / "2" / "model.keras")
    np.testing.assert_allclose(after.get_layer("dense_1_3").get_weights()[0],
                               before.get_layer("dense_1_3").get_weights()[0], atol=1e-6)
    fewer = copy.deepcopy(spec)
    fewer["network"]["layers"][0]["repeat"] = 2
    from mlpdesigner.train.init_from import initialize
    from mlpdesigner.train.runner import prepare

    with pytest.raises(UserError, match="layer number"):
        initialize(prepare(fewer), first.run_dir)
