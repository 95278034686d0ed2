"""Design advice: the classic MLP craft as warnings with fixes.

Each rule looks at the filled spec (and the plan) and yields problems of
severity ``warning`` or ``info`` with a stable code, the JSON path, a one-line
reason and, where there is one, a fix as a JSON Patch on the spec as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .defaults import TASK_ACTIVATIONS_OK, TASK_LOSSES
from .plan import repeat_count
from .problems import Problem, pointer

Rule = Callable[[dict[str, Any]], Iterator[Problem]]
RULES: list[Rule] = []

RELU_FAMILY = ("relu", "leaky_relu", "prelu", "elu", "gelu", "swish")
SATURATING = ("sigmoid", "tanh")
TYPICAL_DEPTH = (1, 5)
TYPICAL_WIDTH = (10, 100)


def rule(func: Rule) -> Rule:
    """Register a lint rule."""
    RULES.append(func)
    return func


def _warn(
    code: str, path: str, message: str, fix: list[dict[str, Any]] | None = None, title: str | None = None
) -> Problem:
    return Problem("warning", code, path, message, fix=tuple(fix) if fix else None, fix_title=title)


def _info(code: str, path: str, message: str) -> Problem:
    return Problem("info", code, path, message)


def layer_stacks(spec: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(JSON path, layers) of each stack of hidden layers in the network."""
    network = spec["network"]
    if network["topology"] == "sequential":
        return [("/network/layers", network["layers"])]
    return [("/network/deep/layers", network["deep"]["layers"])]


def dense_depth(layers: list[dict[str, Any]]) -> int:
    """How many dense layers a stack builds, each repeat counted."""
    return sum(repeat_count(layer) for layer in layers if layer["type"] == "dense")


def _effective_activation(layers: list[dict[str, Any]], index: int) -> tuple[str, int]:
    """A dense layer's activation, or that of the activation layer right after a linear one."""
    layer = layers[index]
    act = layer.get("activation", "linear")
    if act == "linear" and index + 1 < len(layers) and layers[index + 1]["type"] == "activation":
        return layers[index + 1]["activation"], index + 1
    return act, index


@rule
def softmax_single_unit(spec: dict[str, Any]) -> Iterator[Problem]:
    for index, out in enumerate(spec["outputs"]):
        if out["activation"] == "softmax" and out["units"] == 1:
            base = pointer("outputs", index)
            yield _warn(
                "W401",
                base + "/activation",
                "Softmax over a single unit always outputs 1; use one sigmoid unit (binary task) instead",
                [
                    {"op": "add", "path": base + "/task", "value": "binary"},
                    {"op": "add", "path": base + "/activation", "value": "sigmoid"},
                    {"op": "add", "path": base + "/loss", "value": "binary_crossentropy"},
                ],
                "Make it a binary output with one sigmoid unit",
            )
    for base, layers in layer_stacks(spec):
        for index, layer in enumerate(layers):
            if layer["type"] == "dense" and layer["units"] == 1 and layer.get("activation") == "softmax":
                path = f"{base}/{index}/activation"
                yield _warn(
                    "W401",
                    path,
                    "Softmax over a single unit always outputs 1; the layer passes no information",
                    [{"op": "add", "path": path, "value": "relu"}],
                    "Use ReLU",
                )


@rule
def output_fits_task(spec: dict[str, Any]) -> Iterator[Problem]:
    for index, out in enumerate(spec["outputs"]):
        task = out["task"]
        base = pointer("outputs", index)
        if out["activation"] not in TASK_ACTIVATIONS_OK[task] and not (
            out["activation"] == "softmax" and out["units"] == 1
        ):
            yield _warn(
                "W402",
                base + "/activation",
                f"A {task} output usually uses {' or '.join(TASK_ACTIVATIONS_OK[task])}; "
                f"{out['activation']} does not fit",
                [{"op": "remove", "path": base + "/activation"}],
                "Use the task's default activation",
            )
        loss = out["loss"]
        if loss not in TASK_LOSSES[task]:
            yield _warn(
                "W403",
                base + "/loss",
                f"A {task} output is trained with {' or '.join(TASK_LOSSES[task])}; {loss} does not fit",
                [{"op": "remove", "path": base + "/loss"}],
                "Use the task's default loss",
            )
        elif task == "multiclass":
            one_hot = out.get("label_format") == "one_hot"
            if one_hot and loss == "sparse_categorical_crossentropy":
                yield _warn(
                    "W403",
                    base + "/loss",
                    "One-hot labels need categorical_crossentropy; "
                    "sparse_categorical_crossentropy expects class indices",
                    [{"op": "add", "path": base + "/loss", "value": "categorical_crossentropy"}],
                    "Use categorical cross-entropy",
                )


@rule
def vanishing_gradients(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        dense = [i for i, layer in enumerate(layers) if layer["type"] == "dense"]
        depth = dense_depth(layers)
        if depth < 3:
            continue
        for index in dense:
            act, _ = _effective_activation(layers, index)
            init = layers[index].get("kernel_initializer", "glorot_uniform")
            if act in SATURATING and not init.startswith("glorot"):
                path = f"{base}/{index}"
                yield _warn(
                    "W404",
                    path + "/activation",
                    f"{act} units in a stack of {depth} dense layers with {init} initialization risk "
                    "vanishing gradients; use ReLU (or ELU) with He initialization",
                    [
                        {"op": "add", "path": path + "/activation", "value": "relu"},
                        {"op": "add", "path": path + "/kernel_initializer", "value": "he_normal"},
                    ],
                    "Use ReLU with He initialization",
                )


@rule
def relu_with_glorot(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        for index, layer in enumerate(layers):
            if layer["type"] != "dense":
                continue
            act, _ = _effective_activation(layers, index)
            init = layer.get("kernel_initializer", "glorot_uniform")
            if act in RELU_FAMILY and init.startswith("glorot"):
                path = f"{base}/{index}/kernel_initializer"
                yield _warn(
                    "W405",
                    path,
                    f"{act} units start better with He initialization than with {init}",
                    [{"op": "add", "path": path, "value": "he_normal"}],
                    "Use he_normal",
                )


@rule
def selu_setup(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        selu = [i for i, layer in enumerate(layers) if _is_selu(layers, i)]
        if not selu:
            continue
        for index in selu:
            layer = layers[index]
            if layer["type"] == "dense" and layer.get("kernel_initializer") != "lecun_normal":
                path = f"{base}/{index}/kernel_initializer"
                yield _warn(
                    "W406",
                    path,
                    "SELU self-normalizes only with LeCun normal initialization",
                    [{"op": "add", "path": path, "value": "lecun_normal"}],
                    "Use lecun_normal",
                )
        for index, layer in enumerate(layers):
            path = f"{base}/{index}"
            if layer["type"] == "batch_normalization":
                yield _warn(
                    "W406",
                    path,
                    "Batch normalization is not needed in a self-normalizing SELU network and breaks its guarantees",
                    [{"op": "remove", "path": path}],
                    "Remove the batch normalization layer",
                )
            elif layer["type"] == "dropout":
                yield _warn(
                    "W406",
                    path + "/type",
                    "Plain dropout breaks SELU's self-normalization; use alpha dropout",
                    [{"op": "add", "path": path + "/type", "value": "alpha_dropout"}],
                    "Use alpha dropout",
                )


def _is_selu(layers: list[dict[str, Any]], index: int) -> bool:
    layer = layers[index]
    return (layer["type"] == "dense" and layer.get("activation") == "selu") or (
        layer["type"] == "activation" and layer["activation"] == "selu"
    )


@rule
def dropout_before_output(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        if spec["network"]["topology"] == "wide_deep" and not any(o.get("source") == "deep" for o in spec["outputs"]):
            continue  # the deep path ends in the concatenation, not in an output
        if layers and layers[-1]["type"] in ("dropout", "alpha_dropout"):
            path = f"{base}/{len(layers) - 1}"
            yield _warn(
                "W407",
                path,
                "Dropout right before an output head makes its predictions noisy in training "
                "for no regularization gain; put it between hidden layers",
                [{"op": "remove", "path": path}],
                "Remove this dropout layer",
            )


@rule
def bias_before_batchnorm(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        for index, layer in enumerate(layers[:-1]):
            nxt = layers[index + 1]
            if (
                layer["type"] == "dense"
                and layer.get("use_bias", True)
                and layer.get("activation", "linear") == "linear"
                and nxt["type"] == "batch_normalization"
                and nxt.get("center", True)
            ):
                path = f"{base}/{index}/use_bias"
                yield _warn(
                    "W408",
                    path,
                    "The bias is cancelled by the batch normalization right after; drop it to save parameters",
                    [{"op": "add", "path": path, "value": False}],
                    "Turn off the bias",
                )


@rule
def softmax_in_hidden_layer(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        for index, layer in enumerate(layers):
            if layer["type"] == "dense" and layer.get("activation") == "softmax" and layer["units"] > 1:
                path = f"{base}/{index}/activation"
            elif layer["type"] == "activation" and layer["activation"] == "softmax":
                path = f"{base}/{index}/activation"
            else:
                continue
            yield _warn(
                "W409",
                path,
                "Softmax in a hidden layer squeezes its units into probabilities that sum to 1, so they compete "
                "instead of carrying features; keep softmax for a multiclass output and use ReLU here",
                [{"op": "add", "path": path, "value": "relu"}],
                "Use ReLU",
            )


#: A dropout rate at or above this drops nearly everything.
DROPOUT_TOO_HIGH = 0.9


@rule
def dropout_too_high(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        for index, layer in enumerate(layers):
            if layer["type"] in ("dropout", "alpha_dropout") and layer["rate"] >= DROPOUT_TOO_HIGH:
                path = f"{base}/{index}/rate"
                yield _warn(
                    "W410",
                    path,
                    f"Dropout rate {layer['rate']:g} drops {layer['rate']:.0%} of the units at every step: the next "
                    "layer sees almost nothing; 0.1 to 0.5 is the usual range",
                    [{"op": "add", "path": path, "value": 0.5}],
                    "Use rate 0.5",
                )


#: Adaptive optimizers whose usual learning rate is around 1e-3.
ADAM_FAMILY = ("adam", "adamw", "nadam")


@rule
def learning_rate_too_high(spec: dict[str, Any]) -> Iterator[Problem]:
    optimizer = spec["training"]["optimizer"]
    rate = optimizer.get("learning_rate")
    if optimizer["name"] in ADAM_FAMILY and isinstance(rate, (int, float)) and rate >= 1:
        yield _warn(
            "W411",
            "/training/optimizer/learning_rate",
            f"Learning rate {rate:g} with {optimizer['name']} makes every step as large as the weights themselves: "
            "the loss diverges; 0.001 is the usual starting point",
            [{"op": "add", "path": "/training/optimizer/learning_rate", "value": 0.001}],
            "Use learning rate 0.001",
        )


@rule
def batchnorm_repeated(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        for index in range(1, len(layers)):
            if layers[index]["type"] == "batch_normalization" and layers[index - 1]["type"] == "batch_normalization":
                path = f"{base}/{index}"
                yield _warn(
                    "W412",
                    path,
                    "Batch normalization right after another one does nothing the first did not: "
                    "the values are normalized already; remove it",
                    [{"op": "remove", "path": path}],
                    "Remove the repeated batch normalization",
                )


@rule
def linear_repeat(spec: dict[str, Any]) -> Iterator[Problem]:
    for base, layers in layer_stacks(spec):
        for index, layer in enumerate(layers):
            if layer["type"] == "dense" and repeat_count(layer) > 1 and layer.get("activation", "linear") == "linear":
                path = f"{base}/{index}/activation"
                yield _warn(
                    "W414",
                    path,
                    f"{repeat_count(layer)} linear dense layers in a row compute one linear map, no more than a "
                    "single layer; an activation layer after them acts on the last copy only. Give the dense layer "
                    "its activation",
                    [{"op": "add", "path": path, "value": "relu"}],
                    "Use ReLU",
                )


@rule
def typical_size(spec: dict[str, Any]) -> Iterator[Problem]:
    low, high = TYPICAL_DEPTH
    for base, layers in layer_stacks(spec):
        dense = [i for i, layer in enumerate(layers) if layer["type"] == "dense"]
        depth = dense_depth(layers)
        if not low <= depth <= high:
            repeated = " (repeats counted)" if depth != len(dense) else ""
            yield _info(
                "I501",
                base,
                f"{depth} hidden dense layers{repeated}; {low} to {high} is the typical starting range for an MLP",
            )
        wlow, whigh = TYPICAL_WIDTH
        for index in dense:
            units = layers[index]["units"]
            if not wlow <= units <= whigh:
                yield _info(
                    "I502",
                    f"{base}/{index}/units",
                    f"{units} units; {wlow} to {whigh} per hidden layer is the typical starting range",
                )


def lint_problems(spec: dict[str, Any]) -> list[Problem]:
    """Run every lint rule on a valid, filled spec."""
    problems: list[Problem] = []
    for func in RULES:
        problems.extend(func(spec))
    return problems
