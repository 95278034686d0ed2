"""The spec's search section: located errors for bad ranges, the base untouched, train ignoring it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlpdesigner.cli import main
from mlpdesigner.resources import example_path
from mlpdesigner.spec import load_spec, parse_text
from mlpdesigner.spec.search import Domain, domains, with_values

FLOWERS = Path(example_path("flowers_multiclass"))


def _spec(search: dict[str, Any]) -> dict[str, Any]:
    spec = json.loads(FLOWERS.read_text("utf-8"))
    spec["search"] = search
    return spec


def _errors(search: dict[str, Any]) -> list[tuple[str, str, int | None, int | None, str]]:
    text = json.dumps(_spec(search), indent=2)
    return [(p.code, p.path, p.line, p.column, p.message) for p in parse_text(text).errors]


GOOD = {
    "/network/layers/0/units": {"int": [4, 64], "step": 4},
    "/network/layers/0/activation": {"choice": ["relu", "selu", "tanh"]},
    "/training/optimizer/learning_rate": {"log": [1e-4, 1e-1]},
    "/training/optimizer/clipnorm": {"float": [0.5, 5]},
    "/network/layers/1/kernel_regularizer": {"choice": [{"l2": 0.01}, {"l1": 0.001}]},
}


def test_a_good_search_section_is_valid_and_reported_as_info() -> None:
    spec = parse_text(json.dumps(_spec(GOOD), indent=2))
    assert spec.ok, spec.errors
    info = [p for p in spec.problems if p.code == "I503"]
    assert len(info) == 1 and info[0].severity == "info" and "train" in info[0].message
    assert info[0].line is not None
    assert set(domains(spec.raw)) == set(GOOD)


def test_validate_prints_the_search_note_as_info_not_error(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    spec = _spec(GOOD)
    spec["data"]["path"] = str((FLOWERS.parent / spec["data"]["path"]).resolve())
    path.write_text(json.dumps(spec, indent=2), "utf-8")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "info I503 /search" in out and "valid" in out


@pytest.mark.parametrize(
    ("search", "code", "words"),
    [
        ({"/network/layers/7/units": {"int": [1, 4]}}, "E309", "the spec has no /network/layers/7"),
        ({"/network/nothing/units": {"int": [1, 4]}}, "E309", "the spec has no /network/nothing"),
        ({"training/epochs": {"int": [1, 4]}}, "E309", "Expected a JSON pointer"),
        ({"/search/x": {"int": [1, 4]}}, "E309", "Expected a JSON pointer"),
        ({"/network/layers/0/activation": {"float": [0.1, 0.5]}}, "E309", "Expected a numeric field"),
        ({"/network/layers/0/units": {"int": [64, 8]}}, "E309", "Expected low <= high"),
        ({"/training/optimizer/learning_rate": {"log": [0, 0.1]}}, "E309", "Expected low > 0"),
        ({"/training/optimizer/learning_rate": {"log": [0.1, 0.01]}}, "E309", "Expected low <= high"),
        ({"/network/layers/0/units": {"int": [1, 4], "choice": [1]}}, "E309", "Expected exactly one"),
        ({"/training/optimizer/learning_rate": {"float": [0.1, 1], "step": 2}}, "E309", "step only with an int"),
        ({"/network/layers/0/activation": {"choice": ["relu", "relu"]}}, "E309", "distinct"),
        ({"/network/layers/0/activation": {"choice": ["relu", "sinc"]}}, "E310", '"sinc"'),
        ({"/network/layers/0/units": {"int": [0, 8]}}, "E310", "Expected units >= 1"),
        ({"/network/layers/0/units": {"float": [4, 64]}}, "E310", "Expected an integer"),
        ({"/training/optimizer/nope": {"float": [0.1, 1]}}, "E310", "Unknown key 'nope'"),
        ({"/outputs/0/task": {"choice": ["multiclass", "regression"]}}, "E310", "regression"),
        ({"/network/layers/0/repeat": {"int": [0, 3]}}, "E310", "Expected repeat >= 1"),
        ({"/network/layers/0/repeat": {"int": [1, 2000]}}, "E310", "Expected repeat <= 1000"),
        ({"/network/layers/0/repeat": {"float": [1, 3]}}, "E310", "Expected an integer"),
        ({"/network/layers/0/repeat": {"choice": ["2"]}}, "E310", "Expected an integer"),
        ({"/network/layers/2/repeat": {"int": [1, 3]}}, "E309", "the spec has no /network/layers/2"),
    ],
)
def test_bad_ranges_get_located_errors(search: dict[str, Any], code: str, words: str) -> None:
    found = _errors(search)
    assert len(found) == 1, found
    got_code, path, line, column, message = found[0]
    field = next(iter(search))
    assert got_code == code and words in message, found
    assert path == "/search/" + field.replace("~", "~0").replace("/", "~1")
    text = json.dumps(_spec(search), indent=2)
    assert line is not None and column is not None
    # The position is that of the entry: its key, or its value, on the entry's line.
    assert json.dumps(field) in text.splitlines()[line - 1], (line, text.splitlines()[line - 1])


def test_schema_errors_inside_the_search_section_are_located() -> None:
    found = _errors({"/network/layers/0/units": {"int": [1, 2, 3]}})
    assert [(c, p) for c, p, *_ in found] == [("E207", "/search/~1network~1layers~10~1units/int")]
    found = _errors({"/network/layers/0/units": {"range": [1, 2]}})
    assert found[0][0] == "E203" and "range" in found[0][4]


def test_with_values_sets_the_fields_and_drops_the_search_section() -> None:
    spec = _spec(GOOD)
    trial = with_values(spec, {"/network/layers/0/units": 12, "/training/optimizer/clipnorm": 1.5})
    assert "search" not in trial and "search" in spec
    assert trial["network"]["layers"][0]["units"] == 12
    assert trial["training"]["optimizer"]["clipnorm"] == 1.5
    assert spec["network"]["layers"][0]["units"] == 16
    load_spec(trial)


def test_domain_ends_and_grid() -> None:
    assert Domain("/a", "int", (4, 10), step=4).ends() == [4, 8]
    assert Domain("/a", "int", (4, 10), step=4).grid() == [4, 8]
    assert Domain("/a", "log", (1e-4, 1e-2)).grid() == pytest.approx([1e-4, 1e-3, 1e-2])
    assert Domain("/a", "choice", ("relu", "selu")).grid() == ["relu", "selu"]


def test_train_uses_the_base_values(tmp_path: Path) -> None:
    """The compiled model ignores the search section: the base's units, not a range's."""
    from mlpdesigner.spec import summarize

    spec = load_spec(_spec({"/network/layers/0/units": {"int": [40, 50]}}))
    summary = summarize(spec)
    base = summarize(load_spec(json.loads(FLOWERS.read_text("utf-8"))))
    assert summary.total_params == base.total_params


def test_the_number_of_layers_is_searched_through_repeat() -> None:
    """Issue 15: ``repeat`` takes a range like any field, in a sequential stack and in the deep tower; a layer
    type that does not repeat is refused at its search entry."""
    spec = parse_text(json.dumps(_spec({"/network/layers/0/repeat": {"int": [1, 5]}}), indent=2))
    assert spec.ok, spec.errors
    assert domains(spec.raw)["/network/layers/0/repeat"].grid() == [1, 2, 3, 4, 5]
    wide_deep = json.loads(example_path("wide_deep_aux_output").read_text("utf-8"))
    wide_deep["search"] = {"/network/deep/layers/0/repeat": {"int": [1, 4]}}
    assert load_spec(wide_deep, strict=False).ok
    dropout = json.loads(example_path("binary_batchnorm_dropout").read_text("utf-8"))
    index = next(i for i, layer in enumerate(dropout["network"]["layers"]) if layer["type"] == "dropout")
    dropout["search"] = {f"/network/layers/{index}/repeat": {"int": [1, 3]}}
    errors = load_spec(dropout, strict=False).errors
    assert [(p.code, p.path) for p in errors] == [("E310", f"/search/~1network~1layers~1{index}~1repeat")]
    assert "Only a dense layer repeats" in errors[0].message
    trial = with_values(_spec({"/network/layers/0/repeat": {"int": [1, 5]}}), {"/network/layers/0/repeat": 4})
    assert [n.name for n in load_spec(trial).plan.nodes if n.kind == "dense"][:5] == [
        "dense_1", "dense_1_2", "dense_1_3", "dense_1_4", "dense_2"]
