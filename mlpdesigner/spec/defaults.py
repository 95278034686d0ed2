"""Defaults: the schema's ``default`` values, then the classic task tables."""

from __future__ import annotations

import copy
from typing import Any

from ..resources import schema as load_schema

#: Task -> the output activation the classic tables prescribe.
TASK_ACTIVATION = {
    "regression": "linear",
    "binary": "sigmoid",
    "multilabel": "sigmoid",
    "multiclass": "softmax",
}

#: Task -> losses that fit it. The first is the default.
TASK_LOSSES = {
    "regression": ("mse", "mae", "huber", "log_cosh"),
    "binary": ("binary_crossentropy",),
    "multilabel": ("binary_crossentropy",),
    "multiclass": ("sparse_categorical_crossentropy", "categorical_crossentropy"),
}

#: Task -> output activations that fit it.
TASK_ACTIVATIONS_OK = {
    "regression": ("linear", "softplus", "relu", "sigmoid", "tanh"),
    "binary": ("sigmoid",),
    "multilabel": ("sigmoid",),
    "multiclass": ("softmax",),
}

TASK_METRICS = {
    "regression": ["mae"],
    "binary": ["accuracy"],
    "multilabel": ["accuracy"],
    "multiclass": ["accuracy"],
}


_RESOLVED: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def resolve_ref(node: dict[str, Any], root: dict[str, Any] | None = None) -> dict[str, Any]:
    """Follow local ``$ref`` chains; keys beside a ``$ref`` override the target's. Memoized per node."""
    root = root if root is not None else load_schema()
    if not isinstance(node, dict) or "$ref" not in node:
        return node
    hit = _RESOLVED.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    original = node
    while isinstance(node, dict) and "$ref" in node:
        target: Any = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        merged = dict(target)
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        node = merged
    _RESOLVED[id(original)] = (original, node)
    return node


def _branches(node: dict[str, Any], instance: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """Schemas whose ``if`` (a ``const`` on one property) holds for the instance."""
    out = []
    for part in node.get("allOf", []):
        cond = part.get("if", {}).get("properties", {})
        if cond and all(instance.get(k) == v.get("const") for k, v in cond.items()):
            out.append(resolve_ref(part["then"], root))
    return out


def _fill(instance: Any, node: dict[str, Any], root: dict[str, Any]) -> None:
    node = resolve_ref(node, root)
    if isinstance(instance, dict):
        schemas = [node, *_branches(node, instance, root)]
        for sch in schemas:
            for key, prop in sch.get("properties", {}).items():
                if not isinstance(prop, dict):
                    continue
                prop = resolve_ref(prop, root)
                if key not in instance and "default" in prop:
                    instance[key] = copy.deepcopy(prop["default"])
        for sch in schemas:
            for key, prop in sch.get("properties", {}).items():
                if key in instance and isinstance(prop, dict):
                    _fill(instance[key], prop, root)
    elif isinstance(instance, list) and isinstance(node.get("items"), dict):
        for item in instance:
            _fill(item, node["items"], root)


def fill_schema_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``spec`` with every schema default filled in."""
    root = load_schema()
    filled = copy.deepcopy(spec)
    filled.setdefault("training", {})
    _fill(filled, root, root)
    return filled


def output_activation(output: dict[str, Any]) -> str:
    """The activation an output head uses: explicit, else helper, else the task's."""
    if output.get("activation"):
        return output["activation"]
    if output.get("task") == "regression":
        if output.get("positive"):
            return output["positive"]
        if output.get("range"):
            return output["range"].get("squash", "sigmoid")
    return TASK_ACTIVATION.get(output.get("task", ""), "linear")


def target_scaling(output: dict[str, Any]) -> str | None:
    """How a regression head maps the network's unit-scale output to the data's units.

    ``"standardize"`` (a linear head: times the targets' standard deviation plus their
    mean), ``"scale"`` (a positive head, softplus or relu: times the targets' root mean
    square only, so the output stays above zero), or None: not regression, ``normalize``
    turned off, a ``range`` head (its squash is already scaled to the range) or another
    bounded activation (sigmoid, tanh) whose bounds are the user's choice.
    """
    if output.get("task") != "regression" or not output.get("normalize", True) or output.get("range"):
        return None
    activation = output_activation(output)
    if activation == "linear":
        return "standardize"
    if activation in ("softplus", "relu"):
        return "scale"
    return None


def output_loss(output: dict[str, Any]) -> str:
    """The loss an output head uses: explicit, else the task's default."""
    if output.get("loss"):
        return output["loss"]
    task = output.get("task")
    if task == "multiclass" and output.get("label_format") == "one_hot":
        return "categorical_crossentropy"
    return TASK_LOSSES.get(str(task), ("mse",))[0]


def apply_task_defaults(spec: dict[str, Any]) -> None:
    """Fill each output's activation, loss and metrics from its task (in place)."""
    for output in spec.get("outputs", []):
        output["activation"] = output_activation(output)
        output["loss"] = output_loss(output)
        output.setdefault("metrics", list(TASK_METRICS.get(output.get("task", ""), [])))
        if output.get("task") != "multiclass":
            output.pop("label_format", None)
        if output.get("task") != "regression":
            output.pop("normalize", None)


def task_defaults_patch(output: dict[str, Any], task: str) -> dict[str, Any]:
    """The output head as it should become when its task changes to ``task``.

    Keeps the name, source and loss weight; resets activation, loss, metrics and
    the regression helpers to what the new task implies.
    """
    new = {k: v for k, v in output.items() if k in ("name", "source", "loss_weight", "kernel_initializer")}
    new["task"] = task
    units = output.get("units", 1)
    if task == "binary":
        units = 1
    elif task == "multiclass":
        units = max(units, 2) if units != 1 else 2
    new["units"] = units
    return new
