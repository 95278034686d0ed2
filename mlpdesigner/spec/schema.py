"""Schema validation with readable, located problems."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import replace
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from ..resources import schema as load_schema
from .problems import Problem, pointer

_JSON_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


#: Why only dense layers take ``repeat``: a block of several layers would need a group the format does not have.
REPEAT_HINT = (" Only a dense layer repeats (repeat: n gives n dense layers in a row); repeat a block such as"
               " dense + batch normalization + dropout by writing its layers out")


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


#: Draft 2020-12 counts 16.0 and 1e2 as integers; Keras, the exported code and ``range()`` do not.
#: One rule everywhere: an integer field takes an integer literal, anything else is refused at its pointer.
StrictValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


@lru_cache(maxsize=1)
def _document_validator() -> Draft202012Validator:
    """The spec schema with layers left to :func:`_cached_layer_problems` (validated one by one, cached).

    The bundled schema is checked against the draft 2020-12 metaschema by the
    tests (``tests/test_schema_metaschema.py``), not at every start: that check
    cost 0.5 s of each command's fixed time (issue 18).
    """
    schema = copy.deepcopy(load_schema())
    schema["$defs"]["layer"] = True
    return StrictValidator(schema)


@lru_cache(maxsize=1)
def _layer_validator() -> Draft202012Validator:
    schema = load_schema()
    return StrictValidator({"$ref": "#/$defs/layer", "$defs": schema["$defs"]})


@lru_cache(maxsize=8192)
def _cached_layer_problems(layer_json: str) -> tuple[Problem, ...]:
    return tuple(_problems_from(_layer_validator().iter_errors(json.loads(layer_json))))


def _layer_lists(spec: Any) -> list[tuple[str, list[Any]]]:
    """The layer lists the schema would validate, with their JSON pointers."""
    network = spec.get("network") if isinstance(spec, dict) else None
    if not isinstance(network, dict):
        return []
    if network.get("topology", "sequential") == "sequential":
        found = [("/network/layers", network.get("layers"))]
    elif network.get("topology") == "wide_deep" and isinstance(network.get("deep"), dict):
        found = [("/network/deep/layers", network["deep"].get("layers"))]
    else:
        found = []
    return [(ptr, layers) for ptr, layers in found if isinstance(layers, list)]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:60] + "..."
        return f"{json.dumps(shown, ensure_ascii=False)}" + (f" ({len(value):,} characters)" if len(value) > 60 else "")
    return json.dumps(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _expected_type(types: str | list[str]) -> str:
    if isinstance(types, str):
        types = [types]
    return " or ".join(_JSON_TYPES.get(t, t) for t in types)


def _field(path: list[Any], schema: dict[str, Any]) -> str:
    """How to name the value at ``path`` in a message, without depending on where it sits."""
    if path and not isinstance(path[-1], int):
        return str(path[-1])
    if schema.get("title") == load_schema()["title"] or not path and "title" not in schema:
        return "the spec"
    title = schema.get("title")
    return f"the {title[0].lower()}{title[1:]}" if title else pointer(*path)


def _problems_for(error: ValidationError) -> list[Problem]:
    path = list(error.absolute_path)
    ptr = pointer(*path)
    kw = error.validator
    value = error.validator_value
    inst = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    name = _field(path, schema)

    def one(code: str, message: str, where: str = ptr) -> list[Problem]:
        return [Problem("error", code, where, message)]

    if kw == "type":
        wanted = [value] if isinstance(value, str) else value
        whole = isinstance(inst, float) and inst.is_integer() and "integer" in wanted
        return one(
            "E201",
            f"Expected {_expected_type(value)} for {name}. Received: {_type_name(inst)} {_describe(inst)}"
            + (f" (write it as {int(inst)}, without a decimal point or exponent)" if whole else ""),
        )
    if kw == "required":
        missing = [key for key in value if isinstance(inst, dict) and key not in inst]
        return [
            Problem("error", "E202", ptr, f"Expected key {key!r} in {name}. Received: no {key!r}") for key in missing
        ]
    if kw in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(schema.get("properties", {}))
        extras = [k for k in inst if k not in schema.get("properties", {})] if isinstance(inst, dict) else []
        hint = f" Allowed keys: {', '.join(allowed)}." if allowed else ""
        return [
            Problem(
                "error",
                "E203",
                ptr + pointer(key),
                f"Unknown key {key!r} in {name}.{hint}" + (REPEAT_HINT if key == "repeat" else ""),
                extra={"key": True},
            )
            for key in extras
        ] or one("E203", error.message)
    if kw == "enum":
        choices = ", ".join(json.dumps(v) for v in value)
        return one("E204", f"Expected {name} to be one of {choices}. Received: {_describe(inst)}")
    if kw == "const":
        return one("E204", f"Expected {name} to be {json.dumps(value)}. Received: {_describe(inst)}")
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kw]
        return one("E205", f"Expected {name} {op} {value}. Received: {name}={_describe(inst)}")
    if kw == "pattern":
        expected = schema.get("x-expected", f"text matching {value}")
        return one("E206", f"Expected {expected}. Received: {_describe(inst)}")
    if kw in ("minItems", "maxItems", "minLength", "maxLength", "minProperties"):
        what = "items" if "Items" in kw else ("keys" if "Properties" in kw else "characters")
        op = "at least" if kw.startswith("min") else "at most"
        size = len(inst) if hasattr(inst, "__len__") else 0
        return one("E207", f"Expected {name} to have {op} {value} {what}. Received: {size:,}")
    if kw == "uniqueItems":
        return one("E204", f"Expected {name} without repeated items. Received: {_describe(inst)}")
    if kw == "oneOf" and "steps_per_execution" in path:
        return one("E204", f'Expected "auto" or an integer >= 1. Received: {_describe(inst)}')
    if kw == "propertyNames":
        return one("E206", f"Expected every key of {name} to be an input or output name. {error.message}")
    return one("E299", error.message)


def schema_problems(spec: Any) -> list[Problem]:
    """Validate against the JSON Schema; one problem per violation.

    Layers are validated one at a time through a cache keyed by their JSON, so
    re-validating a document after a small edit only re-checks what changed.
    """
    problems = _problems_from(_document_validator().iter_errors(spec))
    problems += nonfinite_problems(spec)
    for base, layers in _layer_lists(spec):
        for index, layer in enumerate(layers):
            try:
                key = json.dumps(layer, sort_keys=True, allow_nan=True)
            except (TypeError, ValueError):  # not JSON data: validate uncached
                found: tuple[Problem, ...] = tuple(_problems_from(_layer_validator().iter_errors(layer)))
            else:
                found = _cached_layer_problems(key)
            prefix = f"{base}/{index}"
            problems.extend(replace(p, path=prefix + p.path) for p in found)
    return problems


def nonfinite_problems(spec: Any) -> list[Problem]:
    """NaN and infinities anywhere in the document (JSON Schema's bounds let NaN through)."""
    problems = []
    stack: list[tuple[Any, str]] = [(spec, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            problems.append(Problem("error", "E105", where, f"Expected a finite number. Received: {node!r}"))
        elif isinstance(node, dict):
            stack.extend((child, where + pointer(key)) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, f"{where}/{index}") for index, child in enumerate(node))
    return sorted(problems, key=lambda p: p.path)


def _problems_from(errors: Any) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    type_errors: list[str] = []
    errors = sorted(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    for error in errors:
        for problem in _problems_for(error):
            if any(problem.path.startswith(t + "/") for t in type_errors) or (
                problem.code == "E201" and problem.path in type_errors
            ):
                continue
            key = (problem.path, problem.code, problem.message)
            if key in seen:
                continue
            seen.add(key)
            if problem.code == "E201":
                type_errors.append(problem.path)
            problems.append(problem)
    return problems
