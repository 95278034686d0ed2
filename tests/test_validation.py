"""Bad specs get located, readable problems: the committed corpus and generated pathological files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlpdesigner.cli import main
from mlpdesigner.resources import example_path
from mlpdesigner.spec import load_spec, parse_text, read_file, validate_spec
from mlpdesigner.spec.problems import SpecError

CORPUS = Path(__file__).parent / "corpus" / "broken"

# file -> (exit code, code, JSON pointer, line, column, words the message must contain)
EXPECTED = {
    "bad_enum_activation.json": (1, "E204", "/network/layers/0/activation", 19, 23, ['"relu6"', '"selu"']),
    "bad_name_newline.json": (1, "E206", "/outputs/0/name", 26, 15, ["letters, digits and underscores", "price\\n"]),
    "bad_name_space.json": (1, "E206", "/inputs/0/name", 7, 15, ["my features"]),
    "binary_garbage.json": (2, "E102", "", None, None, ["UTF-8", "binary"]),
    "binary_two_units.json": (1, "E305", "/outputs/0/units", 28, 16, ["1 unit", "units=2"]),
    "bom.json": (2, "E102", "", 1, 1, ["byte-order mark"]),
    "data_unknown_column_key.json": (1, "E302", "/data/columns/ghost", None, None, ["'ghost'", "features, price"]),
    "data_wrong_column_count.json": (
        1,
        "E306",
        "/data/columns/features",
        None,
        None,
        ["Expected 8 columns", "Received: 2"],
    ),
    "dropout_rate_one.json": (1, "E205", "/network/layers/1/rate", 24, 17, ["rate < 1", "rate=1.0"]),
    "duplicate_key.json": (1, "E104", "/name", 4, 3, ["'name' twice"]),
    "duplicate_names.json": (1, "E301", "/outputs/0/name", 26, 15, ["'features'", "/inputs/0/name"]),
    "empty.json": (1, "E103", "", 1, 1, ["empty file"]),
    "image_without_flatten.json": (1, "E303", "/outputs/0", None, None, ["flatten", "[4, 30]"]),
    "infinity_value.json": (1, "E105", "/network/layers/0/units", 18, 18, ["Infinity"]),
    "layer_name_collides.json": (1, "E301", "/outputs/0", None, None, ["'price'", "unique"]),
    "lone_surrogate.json": (1, "E108", "/description", 4, 18, ["surrogate"]),
    "missing_outputs.json": (1, "E202", "", 1, 1, ["'outputs'"]),
    "nan_value.json": (1, "E105", "/training/optimizer/learning_rate", 34, 24, ["NaN"]),
    "not_json.json": (1, "E103", "", 1, 1, ["valid JSON"]),
    "number_5000_digits.json": (1, "E105", "/network/layers/0/units", 18, 18, ["at most 64 characters", "5000"]),
    "nesting_100000_deep.json": (1, "E106", "", 1, 97, ["at most 64 levels"]),
    "overflow_float.json": (1, "E105", "/training/optimizer/learning_rate", 34, 24, ["1e999", "finite"]),
    "sequential_two_inputs.json": (1, "E304", "/inputs", None, None, ["exactly one input", "wide_deep"]),
    "trailing_comma.json": (1, "E103", "", 4, 1, ["key in double quotes", "trailing comma"]),
    "truncated.json": (1, "E103", "", 14, 17, ["closing quote"]),
    "units_zero.json": (1, "E205", "/network/layers/0/units", 18, 18, ["units >= 1", "units=0"]),
    "unknown_key.json": (1, "E203", "/network/layers/0/unitz", 21, 9, ["'unitz'", "units"]),
    "unknown_layer_type.json": (1, "E204", "/network/layers/1/type", 23, 17, ['"lambda"', '"dense"']),
    "utf16.json": (2, "E102", "", 1, 1, ["UTF-16"]),
    "wide_deep_bad_reference.json": (1, "E302", "/network/wide/inputs/0", 23, 9, ["'wyde'", "wide, deep"]),
    "wrong_format.json": (1, "E204", "/format", 2, 13, ['"mlpdesigner/1"']),
    "wrong_type_units.json": (1, "E201", "/network/layers/0/units", 18, 18, ["an integer", '"thirty"']),
}


def test_corpus_is_fully_covered() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_gets_located_error(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code, code, path, line, column, words = EXPECTED[name]
    spec = read_file(CORPUS / name)
    first = spec.errors[0]
    assert (first.code, first.path) == (code, path)
    assert first.line is not None and first.column is not None
    if line is not None:
        assert (first.line, first.column) == (line, column)
    for word in words:
        assert word in first.message
    file = str(CORPUS / name)
    assert main(["validate", file]) == exit_code
    out = capsys.readouterr().out
    assert f"{file}:{first.line}:{first.column}: error {code} {path or '/'}: " in out
    assert "Traceback" not in out


def _housing() -> dict:
    return json.loads(example_path("housing_regression").read_text())


@pytest.mark.parametrize(
    "text, code",
    [
        (json.dumps({**_housing(), "description": "x" * 10_000_000}), "E207"),
        ("[" * 100_000 + "]" * 100_000, "E106"),
        ("{" * 100_000, "E106"),
        (json.dumps(_housing()).replace('"units": 30', '"units": ' + "9" * 5000), "E105"),
        (json.dumps(_housing()).replace("0.001", "0." + "1" * 5000), "E105"),
    ],
    ids=["10MB-string", "deep-array", "deep-object", "5000-digit-int", "5000-digit-float"],
)
def test_pathological_text_is_answered(text: str, code: str) -> None:
    spec = parse_text(text)
    assert [p.code for p in spec.errors][:1] == [code]
    assert spec.errors[0].line is not None


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'{"a": "' + b"x" * (17 * 1024 * 1024) + b'"}')
    spec = read_file(big)
    assert spec.errors[0].code == "E107"
    assert main(["validate", str(big)]) == 2


def test_missing_file_is_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.json")]) == 2
    assert "E101" in capsys.readouterr().out


def test_several_problems_are_all_reported() -> None:
    spec = _housing()
    spec["network"]["layers"][0]["units"] = -1
    spec["network"]["layers"][0]["activation"] = "nope"
    spec["outputs"][0]["task"] = "clustering"
    codes = {(p.code, p.path) for p in validate_spec(spec)}
    assert ("E205", "/network/layers/0/units") in codes
    assert ("E204", "/network/layers/0/activation") in codes
    assert ("E204", "/outputs/0/task") in codes


def test_non_object_document() -> None:
    spec = parse_text("[1, 2]")
    assert spec.errors[0].code == "E201"
    assert "an object" in spec.errors[0].message


def test_strict_load_raises_with_every_error() -> None:
    bad = _housing()
    bad["inputs"][0]["shape"] = [0]
    with pytest.raises(SpecError) as info:
        load_spec(bad)
    assert info.value.problems[0].path == "/inputs/0/shape/0"
    assert "/inputs/0/shape/0" in str(info.value)


@pytest.mark.parametrize("name", ["a\n", "_x", "1abc", "a-b", "a" * 65, "ä", "a b", ""])
def test_unsafe_names_are_refused(name: str) -> None:
    spec = _housing()
    spec["outputs"][0]["name"] = name
    problems = validate_spec(spec)
    assert any(p.path == "/outputs/0/name" and p.is_error for p in problems)


def test_semantic_errors_wait_for_a_schema_valid_spec() -> None:
    spec = _housing()
    spec["outputs"][0]["name"] = "features"
    spec["training"]["epochs"] = 0
    codes = [p.code for p in validate_spec(spec)]
    assert codes == ["E205"]


def test_spec_reference_doc_is_current() -> None:
    from mlpdesigner.spec.reference import render

    doc = Path(__file__).resolve().parent.parent / "docs" / "spec-reference.md"
    assert doc.read_text(encoding="utf-8") == render(), (
        "run: python -m mlpdesigner.spec.reference > docs/spec-reference.md"
    )


def test_schema_has_title_and_description_everywhere() -> None:
    from mlpdesigner.resources import schema

    missing = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, prop in node.get("properties", {}).items():
                if isinstance(prop, dict) and not ({"title", "description"} <= set(prop) or "$ref" in prop):
                    missing.append(f"{where}/{key}")
            for key, child in node.items():
                if key != "if":  # conditions, not properties
                    walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{where}/{index}")

    root = schema()
    walk(root, "")
    assert root["$id"] and root["$schema"].endswith("2020-12/schema")
    assert missing == []
