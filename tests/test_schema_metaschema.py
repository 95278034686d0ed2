"""The bundled spec schema is a valid draft 2020-12 schema (checked here, not at every process start)."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from mlpdesigner.spec.schema import load_schema


def test_the_bundled_schema_passes_the_metaschema() -> None:
    Draft202012Validator.check_schema(load_schema())


def test_the_metaschema_check_catches_a_broken_schema() -> None:
    broken = copy.deepcopy(load_schema())
    broken["$defs"]["layer"] = {"type": "no-such-type"}
    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(broken)
