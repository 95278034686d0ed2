"""Semantic checks: what the schema cannot say. Each check is a small function."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from .problems import Problem, pointer

Check = Callable[[dict[str, Any]], Iterator[Problem]]
CHECKS: list[Check] = []


def check(func: Check) -> Check:
    """Register a semantic check."""
    CHECKS.append(func)
    return func


def _err(code: str, path: str, message: str) -> Problem:
    return Problem("error", code, path, message)


@check
def unique_names(spec: dict[str, Any]) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for section in ("inputs", "outputs"):
        for index, item in enumerate(spec[section]):
            path = pointer(section, index, "name")
            name = item["name"]
            if name in seen:
                yield _err(
                    "E301",
                    path,
                    f"Expected unique input and output names. Received: {name!r}, already used at {seen[name]}",
                )
            else:
                seen[name] = path


@check
def topology_fits(spec: dict[str, Any]) -> Iterator[Problem]:
    network = spec["network"]
    inputs = [i["name"] for i in spec["inputs"]]
    if network["topology"] == "sequential":
        if len(inputs) != 1:
            yield _err(
                "E304",
                "/inputs",
                f"Expected exactly one input for a sequential network. Received: {len(inputs)}; "
                "use the wide_deep topology for two inputs",
            )
        for index, out in enumerate(spec["outputs"]):
            if out.get("source") == "deep":
                yield _err(
                    "E304",
                    pointer("outputs", index, "source"),
                    'Expected source "network" in a sequential network. Received: "deep" '
                    "(only a wide_deep network has a deep path)",
                )
        return
    used: set[str] = set()
    for path_name in ("wide", "deep"):
        refs = network[path_name]["inputs"]
        for index, ref in enumerate(refs):
            where = pointer("network", path_name, "inputs", index)
            if ref not in inputs:
                yield _err(
                    "E302",
                    where,
                    f"Expected the name of an input ({', '.join(inputs)}). Received: {ref!r}",
                )
            elif refs.index(ref) != index:
                yield _err("E302", where, f"Expected each input once per path. Received: {ref!r} twice")
            used.add(ref)
    for index, name in enumerate(inputs):
        if name not in used:
            yield _err(
                "E302",
                pointer("inputs", index),
                f"Expected every input to feed the wide or the deep path. Received: {name!r} feeds neither",
            )
    for index, inp in enumerate(spec["inputs"]):
        if len(inp["shape"]) != 1:
            yield _err(
                "E303",
                pointer("inputs", index, "shape"),
                f"Expected a 1-D shape for a Wide & Deep input. Received: {inp['shape']}",
            )


@check
def outputs_fit_tasks(spec: dict[str, Any]) -> Iterator[Problem]:
    for index, out in enumerate(spec["outputs"]):
        task, units = out["task"], out["units"]
        base = pointer("outputs", index)
        if task == "binary" and units != 1:
            yield _err(
                "E305",
                base + "/units",
                f"Expected 1 unit for a binary output (one logistic unit). Received: units={units}; "
                "use multilabel for several yes/no labels or multiclass for several classes",
            )
        if task == "multiclass" and units < 2:
            yield _err(
                "E305",
                base + "/units",
                f"Expected at least 2 units for a multiclass output (one per class). Received: units={units}; "
                "use binary for two classes with one unit",
            )
        for helper in ("positive", "range"):
            if helper in out and task != "regression":
                yield _err(
                    "E305",
                    f"{base}/{helper}",
                    f"Expected {helper!r} only on a regression output. Received: task={task!r}",
                )
        if "range" in out and task == "regression":
            low, high = out["range"]["low"], out["range"]["high"]
            if not low < high:
                yield _err(
                    "E305",
                    base + "/range",
                    f"Expected low < high. Received: low={low}, high={high}",
                )
            if "positive" in out:
                yield _err(
                    "E305",
                    base + "/positive",
                    "Expected either positive or range on one output. Received: both",
                )
        if "label_format" in out and task != "multiclass" and out["label_format"] != "integer":
            yield _err(
                "E305",
                base + "/label_format",
                f"Expected label_format only on a multiclass output. Received: task={task!r}",
            )
        classes = out.get("classes")
        if classes and task in ("multiclass", "multilabel") and len(classes) != units:
            yield _err(
                "E305",
                base + "/classes",
                f"Expected {units} class names (one per unit). Received: {len(classes)}",
            )


@check
def data_mapping_fits(spec: dict[str, Any]) -> Iterator[Problem]:
    data = spec.get("data")
    if not data:
        return
    columns = data["columns"]
    known = {i["name"]: ("input", i) for i in spec["inputs"]}
    known.update({o["name"]: ("output", o) for o in spec["outputs"]})
    for key in columns:
        if key not in known:
            yield _err(
                "E302",
                pointer("data", "columns", key),
                f"Expected an input or output name ({', '.join(known)}). Received: {key!r}",
            )
    for name, (kind, item) in known.items():
        where = pointer("data", "columns", name)
        if name not in columns:
            yield _err("E306", "/data/columns", f"Expected a column mapping for {kind} {name!r}. Received: none")
            continue
        count = len(columns[name])
        if kind == "input":
            need = math.prod(item["shape"])
            if count != need:
                yield _err(
                    "E306",
                    where,
                    f"Expected {need} columns for input {name!r} of shape {item['shape']}. Received: {count}",
                )
        else:
            task, units = item["task"], item["units"]
            if task in ("regression", "multilabel") and count != units:
                yield _err(
                    "E306",
                    where,
                    f"Expected {units} target columns for the {task} output {name!r} (one per unit). Received: {count}",
                )
            elif task == "binary" and count != 1:
                yield _err("E306", where, f"Expected 1 label column for the binary output {name!r}. Received: {count}")
            elif task == "multiclass" and count not in (1, units):
                yield _err(
                    "E306",
                    where,
                    f"Expected 1 label column (or {units} one-hot columns) for the multiclass output "
                    f"{name!r}. Received: {count}",
                )
    total = data.get("validation_split", 0.2) + data.get("test_split", 0.1)
    if total >= 1:
        yield _err(
            "E306",
            "/data/test_split",
            f"Expected validation_split + test_split < 1 to leave training rows. Received: {total:g}",
        )


def semantic_problems(spec: dict[str, Any]) -> list[Problem]:
    """Run every registered check on a schema-valid spec with defaults filled."""
    problems: list[Problem] = []
    for func in CHECKS:
        problems.extend(func(spec))
    return problems
