"""A model file's layer graph, recognised as a sequential or Wide & Deep MLP and written as a spec.

Both readers (``.keras`` and ONNX) turn their file into a :class:`Graph` of
spec-level nodes (dense, activation, batch normalization, ...). This module
decides whether that graph is one the spec format can describe and writes the
spec; anything else is refused with a message that names the node and its
position in the file. Pure Python: no Keras, no ONNX.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from ..spec.defaults import TASK_LOSSES, TASK_METRICS
from ..spec.plan import layer_names

#: Node kinds that can sit on a hidden path.
HIDDEN_KINDS = {
    "dense",
    "activation",
    "leaky_relu",
    "prelu",
    "elu",
    "batch_normalization",
    "layer_normalization",
    "dropout",
    "alpha_dropout",
    "gaussian_noise",
    "flatten",
}

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class ImportRefused(UserError):
    """The model file describes something the spec format cannot hold (or is not a model at all)."""


@dataclass
class GNode:
    """One node of a model file, in spec terms.

    ``label`` says what it was in the file (``Dense``, ``Gemm``) and ``position``
    where (``layer 3 of 7``, ``node 5 of 12``), for messages. ``weights`` are
    arrays in Keras' layout (readers that have them at hand fill them in).
    """

    name: str
    kind: str
    inputs: list[str]
    config: dict[str, Any]
    label: str
    position: str
    shape: tuple[int, ...] | None = None
    weights: list[Any] | None = None

    def describe(self) -> str:
        if self.name.startswith("#"):  # unnamed in the file (ONNX nodes become layers without names)
            return f"{self.label} ({self.position})"
        return f"{self.name!r} ({self.label}, {self.position})"


@dataclass
class Training:
    """What a file says about training: per-output loss, loss weight and metrics, and the optimizer."""

    losses: dict[str, str] = field(default_factory=dict)
    loss_weights: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, list[str]] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    #: Outputs whose metrics say they are independent labels (BinaryAccuracy, multi-label AUC).
    multilabel: set[str] = field(default_factory=set)
    #: The loss weights are a compiled model's: a target-scaled output's carries the scaling's factor.
    compiled_loss_weights: bool = False


@dataclass
class Graph:
    """A model file's nodes in file order, with its inputs and outputs by name."""

    name: str
    nodes: dict[str, GNode]
    inputs: list[str]
    outputs: list[str]
    source: str
    training: Training = field(default_factory=Training)
    notes: list[str] = field(default_factory=list)


@dataclass
class Recognised:
    """The spec written for a graph, and which file node each weighted spec node came from.

    ``origins`` maps a spec path (``/network/layers/0``, ``/outputs/1``,
    ``/inputs/0/normalize``) to the file node whose weights it takes.
    """

    spec: dict[str, Any]
    origins: dict[str, GNode]
    notes: list[str]
    #: Output name -> (scale, offset) per unit of its target-scaling Rescaling (regression ``normalize``).
    target_scaling: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def identifier(name: str, fallback: str) -> str:
    """``name`` as a spec identifier: other characters become ``_``, a letter first, at most 64 characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name or "")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"{fallback}_{cleaned}" if cleaned else fallback
    cleaned = cleaned[:64]
    return cleaned if _IDENTIFIER.match(cleaned) else fallback


def shortest_float(value: float, consistent: Any = None) -> float:
    """The shortest decimal for ``value`` (at float32 precision when it is a float32), for a readable spec."""
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return value
    for digits in range(1, 18):
        candidate = float(f"{value:.{digits}g}")
        if consistent is not None:
            if consistent(candidate):
                return candidate
        elif candidate == value:
            return candidate
    return value


def float32_value(value: float) -> float:
    """A value Keras stored as float32 (learning rates), written as the decimal it was given as."""
    import numpy as np

    single = np.float32(value)
    if float(single) != float(value):
        return float(value)
    return shortest_float(value, lambda c: np.float32(c) == single)


class _Recogniser:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes = graph.nodes
        self.consumers: dict[str, list[str]] = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for parent in node.inputs:
                if parent not in self.nodes:
                    raise ImportRefused(
                        f"{graph.source}: {node.describe()} reads {parent!r}, which is not a node of the model"
                    )
                self.consumers[parent].append(node.name)
        self.used: set[str] = set()
        self.origins: dict[str, GNode] = {}
        self.scaling: dict[int, tuple[Any, Any]] = {}
        self.notes = list(graph.notes)

    def refuse(self, node: GNode, why: str) -> ImportRefused:
        return ImportRefused(f"{self.graph.source}: {node.describe()} {why}")

    # ------------------------------------------------------------------ inputs

    def features(self) -> dict[str, str]:
        """Input name -> the node its features come from (the input, or its normalization)."""
        out = {}
        for name in self.graph.inputs:
            node = self.nodes[name]
            self.used.add(name)
            users = self.consumers[name]
            norm = [u for u in users if self.nodes[u].kind == "normalization"]
            if norm:
                if len(users) != 1:
                    raise self.refuse(
                        self.nodes[users[0] if users[0] not in norm else users[-1]],
                        f"reads the input {name!r} beside its normalization. Expected every use of a normalized "
                        "input to go through the normalization",
                    )
                self.used.add(norm[0])
                out[name] = norm[0]
            else:
                out[name] = node.name
        for node in self.nodes.values():
            if node.kind == "normalization" and node.name not in self.used:
                raise self.refuse(
                    node, "normalizes something other than a model input. Expected it right after an input"
                )
        return out

    # ------------------------------------------------------------------ heads

    def head(self, output: str) -> tuple[GNode, GNode | None, GNode | None]:
        """(dense, folded activation or None, rescaling or None) of one output."""
        node = self.nodes[output]
        rescale = activation = None
        if node.kind == "rescaling":
            rescale, node = node, self.nodes[node.inputs[0]]
        elif node.kind in ("activation",) and node.inputs and self.nodes[node.inputs[0]].kind == "dense":
            dense = self.nodes[node.inputs[0]]
            if dense.config.get("activation", "linear") == "linear" and self.consumers[dense.name] == [node.name]:
                activation, node = node, dense
        if node.kind != "dense":
            raise self.refuse(
                node,
                f"produces the output {output!r}. Expected each output to come from a Dense layer "
                "(optionally followed by an activation or a rescaling)",
            )
        if len(self.consumers[node.name]) > (1 if (rescale or activation) else 0):
            raise self.refuse(node, "is an output and also feeds other layers. Expected outputs to end the network")
        for part in (node, activation, rescale):
            if part is not None:
                self.used.add(part.name)
        return node, activation, rescale

    # ------------------------------------------------------------------ paths

    def chain(self, end: str, starts: set[str], stop_at_concat: bool) -> tuple[list[GNode], str]:
        """Hidden layers from a start node to ``end`` (in order), and the start they begin at."""
        layers: list[GNode] = []
        current = end
        while current not in starts:
            node = self.nodes[current]
            if node.kind == "concatenate" and stop_at_concat:
                break
            if node.kind not in HIDDEN_KINDS:
                raise self.refuse(node, self.unsupported_here(node))
            if len(node.inputs) != 1:
                raise self.refuse(node, "takes several inputs. Expected one input per hidden layer")
            if layers and len(self.consumers[current]) != 1:
                raise self.refuse(
                    node,
                    "feeds several layers (a branch). Expected a sequential stack or Wide & Deep: "
                    "one chain of layers per path",
                )
            layers.append(node)
            self.used.add(current)
            current = node.inputs[0]
        layers.reverse()
        return layers, current

    def unsupported_here(self, node: GNode) -> str:
        if node.kind == "concatenate":
            return (
                "joins paths where the spec format has none. Expected a sequential stack, or Wide & Deep: "
                "inputs concatenated with the end of one deep path just before the outputs"
            )
        if node.kind == "input":
            return "is an input used where it cannot be. Expected inputs at the start of the network"
        return f"is a {node.kind} layer where the spec format has none. Expected hidden layers on one path"

    # ------------------------------------------------------------------ the whole graph

    def recognise(self) -> Recognised:
        graph = self.graph
        if not 1 <= len(graph.inputs) <= 2:
            raise ImportRefused(
                f"{graph.source}: the model has {len(graph.inputs)} inputs. Expected one or two inputs "
                "(a sequential stack or Wide & Deep)"
            )
        if not 1 <= len(graph.outputs) <= 8:
            raise ImportRefused(f"{graph.source}: the model has {len(graph.outputs)} outputs. Expected 1 to 8")
        features = self.features()
        feature_of = {v: k for k, v in features.items()}
        heads = [self.head(o) for o in graph.outputs]
        sources = [dense.inputs[0] for dense, _, _ in heads]
        merges = {s for s in sources if self.nodes[s].kind == "concatenate"}
        inputs = [self.input_entry(name, features[name]) for name in graph.inputs]
        spec: dict[str, Any] = {"format": "mlpdesigner/1", "name": "", "description": "", "inputs": inputs}
        if not merges:
            if len(set(sources)) != 1:
                first = self.nodes[sorted(set(sources), key=list(self.nodes).index)[1]]
                raise self.refuse(
                    first,
                    "feeds an output while another output reads a different layer. Expected every output on "
                    "the end of one sequential stack (or Wide & Deep with auxiliary outputs on the deep path)",
                )
            if len(graph.inputs) != 1:
                raise ImportRefused(
                    f"{graph.source}: the model has two inputs but no Wide & Deep concatenation. Expected one "
                    "input for a sequential stack"
                )
            layers, start = self.chain(sources[0], set(feature_of), stop_at_concat=False)
            spec["network"] = {"topology": "sequential", "layers": self.layer_specs(layers, "/network/layers")}
            head_source = ["network"] * len(heads)
        else:
            if len(merges) > 1:
                node = self.nodes[sorted(merges, key=list(self.nodes).index)[1]]
                raise self.refuse(node, "is a second concatenation before the outputs. Expected one Wide & Deep merge")
            merge = self.nodes[merges.pop()]
            self.used.add(merge.name)
            if len(merge.inputs) < 2:
                raise self.refuse(merge, "joins fewer than two paths. Expected the wide inputs and the deep path")
            deep_end = merge.inputs[-1]
            wide = merge.inputs[:-1]
            for part in wide:
                if part not in feature_of:
                    raise self.refuse(
                        self.nodes[part],
                        f"feeds the Wide & Deep concatenation {merge.name!r} before its last part. Expected model "
                        "inputs there (the wide path), and the deep path last",
                    )
            head_source = []
            for (dense, _, _), src in zip(heads, sources):
                if src == merge.name:
                    head_source.append("network")
                elif src == deep_end:
                    head_source.append("deep")
                else:
                    raise self.refuse(
                        dense,
                        f"reads {src!r}. Expected outputs on the Wide & Deep concatenation or on the end of the "
                        "deep path (auxiliary outputs)",
                    )
            layers, start = self.chain(deep_end, set(feature_of), stop_at_concat=True)
            if start in feature_of:
                deep_inputs = [feature_of[start]]
            else:
                joined = self.nodes[start]
                if (
                    joined.kind != "concatenate"
                    or not all(p in feature_of for p in joined.inputs)
                    or len(joined.inputs) > 2
                ):
                    raise self.refuse(
                        joined,
                        "starts the deep path. Expected the deep path to start at a model input or at a "
                        "concatenation of the two inputs",
                    )
                self.used.add(joined.name)
                deep_inputs = [feature_of[p] for p in joined.inputs]
            spec["network"] = {
                "topology": "wide_deep",
                "wide": {"inputs": [feature_of[p] for p in wide]},
                "deep": {"inputs": deep_inputs, "layers": self.layer_specs(layers, "/network/deep/layers")},
            }
        for name, node in self.nodes.items():
            if name not in self.used:
                raise self.refuse(node, "is not on the path from the inputs to the outputs. Expected no side branches")
        spec["outputs"] = [
            self.output_entry(index, head, source) for index, (head, source) in enumerate(zip(heads, head_source))
        ]
        self.clean_names(spec)
        self.name_layers(spec)
        scaling = {spec["outputs"][index]["name"]: value for index, value in self.scaling.items()}
        return Recognised(spec, self.origins, self.notes, scaling)

    # ------------------------------------------------------------------ spec entries

    def input_entry(self, name: str, feature: str) -> dict[str, Any]:
        node = self.nodes[name]
        entry: dict[str, Any] = {"name": name, "shape": list(node.shape or ())}
        if feature != name:
            entry["normalize"] = True
            self.origins[f"/inputs/{self.graph.inputs.index(name)}/normalize"] = self.nodes[feature]
        else:
            entry["normalize"] = False  # the spec's default would add a Normalization the file does not have
        return entry

    def layer_specs(self, layers: list[GNode], base: str) -> list[dict[str, Any]]:
        out = []
        for index, node in enumerate(layers):
            kind, cfg = node.kind, node.config
            layer: dict[str, Any]
            if kind == "dense":
                layer = {"type": "dense", "units": cfg["units"]}
                layer.update(
                    {k: v for k, v in cfg.items() if k != "units" and v is not None and v != DENSE_DEFAULTS.get(k)}
                )
            elif kind == "activation":
                layer = {"type": "activation", "activation": cfg["activation"]}
            elif kind == "leaky_relu":
                layer = {"type": "activation", "activation": "leaky_relu", "negative_slope": cfg["negative_slope"]}
            elif kind == "elu":
                layer = {"type": "activation", "activation": "elu", "alpha": cfg["alpha"]}
            elif kind == "prelu":
                layer = {"type": "activation", "activation": "prelu"}
            elif kind == "batch_normalization":
                layer = {"type": "batch_normalization"}
                layer.update({k: v for k, v in cfg.items() if v != BN_DEFAULTS.get(k)})
            elif kind == "layer_normalization":
                layer = {"type": "layer_normalization"}
                layer.update({k: v for k, v in cfg.items() if v != BN_DEFAULTS.get(k)})
            elif kind == "gaussian_noise":
                layer = {"type": "gaussian_noise", "stddev": cfg["stddev"]}
            elif kind in ("dropout", "alpha_dropout"):
                layer = {"type": kind, "rate": cfg["rate"]}
            else:
                layer = {"type": "flatten"}
            if not node.name.startswith("#"):
                layer = {"type": layer.pop("type"), "name": node.name, **layer}
            self.origins[f"{base}/{index}"] = node
            out.append(layer)
        return out

    def output_entry(self, index: int, head: tuple[GNode, GNode | None, GNode | None], source: str) -> dict[str, Any]:
        dense, activation_node, rescale = head
        name = (rescale or activation_node or dense).name
        activation = (
            activation_node.config["activation"] if activation_node else dense.config.get("activation", "linear")
        )
        units = dense.config["units"]
        training = self.graph.training
        loss = training.losses.get(name)
        out: dict[str, Any] = {"name": name}
        standardized = rescale is not None and activation in _SCALED_ACTIVATIONS
        task, said = infer_task(
            activation, units, loss, (rescale or dense), self.graph.source, bool(rescale), standardized
        )
        if task == "binary" and name in training.multilabel:
            task, said = "multilabel", said + " with per-label metrics"
        out["task"] = task
        out["units"] = units
        if task == "regression":
            if standardized:
                assert rescale is not None
                self.scaling[index] = _target_scaling(activation, rescale, units)
                if activation != "linear":
                    out["positive"] = activation
            elif rescale is not None:
                out["range"] = _range_of(activation, rescale)
            elif activation in _SCALED_ACTIVATIONS:
                if activation != "linear":
                    out["positive"] = activation
                out["normalize"] = False  # the spec's default would add target scaling the file does not have
            elif activation == "sigmoid":
                out["range"] = {"low": 0, "high": 1}
            elif activation == "tanh":
                out["range"] = {"low": -1, "high": 1, "squash": "tanh"}
            elif activation != "linear":
                out["activation"] = activation
        elif rescale is not None:
            raise self.refuse(rescale, f"rescales a {task} output. Expected rescaling on regression outputs only")
        if task == "multiclass" and loss == "categorical_crossentropy":
            out["label_format"] = "one_hot"
        elif loss and loss != TASK_LOSSES[task][0]:
            out["loss"] = loss
        loss_weight = training.loss_weights.get(name, 1.0)
        if index in self.scaling and training.compiled_loss_weights and name in training.loss_weights:
            loss_weight = _unscaled_loss_weight(loss_weight, loss or TASK_LOSSES[task][0], self.scaling[index][0])
        if loss_weight != 1.0:
            out["loss_weight"] = loss_weight
        metrics = training.metrics.get(name)
        if metrics is not None and metrics != TASK_METRICS[task]:
            out["metrics"] = metrics
        if source == "deep":
            out["source"] = "deep"
        init = dense.config.get("kernel_initializer")
        if init and init != "glorot_uniform":
            out["kernel_initializer"] = init
        for key in (
            "use_bias",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
        ):
            value = dense.config.get(key)
            if value is not None and value != DENSE_DEFAULTS.get(key):
                raise self.refuse(
                    dense,
                    f"is the output layer of {name!r} and has {key}={value!r}. Expected an output layer with a "
                    "bias and no regularizer or constraint (the spec's output heads have none)",
                )
        self.notes.append(f"output {name!r}: task {task!r} inferred from {said}")
        self.origins[f"/outputs/{index}"] = dense
        return out

    def clean_names(self, spec: dict[str, Any]) -> None:
        """Input, layer and output names the spec format can hold: identifiers, all different."""
        network = spec["network"]
        layers = network["layers"] if network["topology"] == "sequential" else network["deep"]["layers"]
        entries = spec["inputs"] + [layer for layer in layers if "name" in layer] + spec["outputs"]
        renamed: dict[str, str] = {}
        used: set[str] = set()
        for entry in entries:
            old = entry["name"]
            new = identifier(old, "layer")
            base, count = new, 1
            while new in used:
                count += 1
                new = f"{base[:60]}_{count}"
            used.add(new)
            if new != old:
                entry["name"] = new
                self.notes.append(f"{old!r} is named {new!r} (spec names are letters, digits and underscores)")
                if entry in spec["inputs"]:
                    renamed[old] = new
        if network["topology"] == "wide_deep":
            for part in ("wide", "deep"):
                network[part]["inputs"] = [renamed.get(n, n) for n in network[part]["inputs"]]

    def fold_repeats(self, spec: dict[str, Any]) -> None:
        """Identical dense layers named ``x``, ``x_2``, ``x_3`` in a row become one layer with ``repeat``.

        That is how the spec names a repeated layer's copies, so a model built from a spec with ``repeat``
        imports as that spec; the copies' weights stay theirs (origins ``<path>#<copy>``).
        """
        network = spec["network"]
        base = "/network/layers" if network["topology"] == "sequential" else "/network/deep/layers"
        layers = network["layers"] if network["topology"] == "sequential" else network["deep"]["layers"]

        def settings(layer: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in layer.items() if k not in ("name", "repeat")}

        folded: list[tuple[dict[str, Any], list[GNode]]] = []
        for index, layer in enumerate(layers):
            node = self.origins.pop(f"{base}/{index}")
            if folded and layer["type"] == "dense" and "name" in layer:
                first, nodes = folded[-1]
                count = first.get("repeat", 1)
                if (first["type"] == "dense" and "name" in first and layer["name"] == f"{first['name']}_{count + 1}"
                        and settings(layer) == settings(first)):
                    first["repeat"] = count + 1
                    nodes.append(node)
                    continue
            folded.append((layer, [node]))
        layers[:] = [layer for layer, _ in folded]
        for index, (_, nodes) in enumerate(folded):
            self.origins[f"{base}/{index}"] = nodes[0]
            for number, node in enumerate(nodes[1:], start=2):
                self.origins[f"{base}/{index}#{number}"] = node

    def name_layers(self, spec: dict[str, Any]) -> None:
        """Keep only the layer names that the spec's automatic naming would not give anyway."""
        self.fold_repeats(spec)
        network = spec["network"]
        layers = network["layers"] if network["topology"] == "sequential" else network["deep"]["layers"]
        if not all("name" in layer for layer in layers) or len(layers) > 300:
            return
        taken = {i["name"] for i in spec["inputs"]}
        taken |= {f"{i['name']}_normalization" for i in spec["inputs"] if i.get("normalize", True)}
        if network["topology"] == "wide_deep" and len(network["deep"]["inputs"]) > 1:
            taken.add("deep_inputs")
        wanted = [layer["name"] for layer in layers]
        for layer in layers:
            name = layer.pop("name")
            if layer_names(layers, set(taken)) != wanted:
                layer["name"] = name
            layer_type = layer.pop("type")
            rest = dict(layer)
            layer.clear()
            layer.update({"type": layer_type, **({"name": rest.pop("name")} if "name" in rest else {}), **rest})


DENSE_DEFAULTS: dict[str, Any] = {
    "activation": "linear",
    "use_bias": True,
    "kernel_initializer": "glorot_uniform",
    "bias_initializer": "zeros",
}
BN_DEFAULTS: dict[str, Any] = {"momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}


#: Output activations whose regression heads the spec scales to the targets by default (``normalize``).
_SCALED_ACTIVATIONS = ("linear", "softplus", "relu")


def _target_scaling(activation: str, rescale: GNode, units: int) -> tuple[Any, Any]:
    """(scale, offset) per unit of a Rescaling after a linear or positive regression head: its target scaling."""
    import numpy as np

    try:
        scale = np.broadcast_to(np.asarray(rescale.config["scale"], dtype="float64"), (units,)).copy()
        offset = np.broadcast_to(np.asarray(rescale.config["offset"], dtype="float64"), (units,)).copy()
    except ValueError:
        raise ImportRefused(
            f"{rescale.describe()} rescales {units} units by values of another length. Expected one scale and "
            "offset, or one per unit"
        ) from None
    if activation != "linear" and np.any(offset != 0):
        raise ImportRefused(
            f"{rescale.describe()} shifts a {activation} output. Expected a positive head only scaled (offset 0), "
            "so it stays above zero"
        )
    return scale, offset


def _unscaled_loss_weight(weight: float, loss: str, scale: Any) -> float:
    """The spec's loss weight of a target-scaled output, whose compiled weight carries the scaling's factor.

    Mirrors :func:`mlpdesigner.compile.scaled_loss`: MSE and Huber are divided by the mean
    squared scale, other losses by the mean scale.
    """
    import numpy as np

    scales = np.asarray(scale, dtype="float64").reshape(-1)
    factor = 1.0 / float(np.mean(scales**2) if loss in ("mse", "huber") else np.mean(scales))
    if factor == 1.0:
        return weight
    return shortest_float(
        weight / factor, lambda c: c * factor == weight or abs(c * factor - weight) <= 1e-12 * abs(weight)
    )


def _range_of(activation: str, rescale: GNode) -> dict[str, Any]:
    if not all(isinstance(rescale.config[k], (int, float)) for k in ("scale", "offset")):
        raise ImportRefused(
            f"{rescale.describe()} rescales a {activation} output by per-unit values. Expected one scale and one "
            "offset for a range"
        )
    scale, offset = float(rescale.config["scale"]), float(rescale.config["offset"])
    if activation == "sigmoid":
        low = offset
        high = shortest_float(offset + scale, lambda c: c - low == scale)
        return {"low": low, "high": high}
    if activation == "tanh":

        def fits(low: float, high: float) -> bool:
            return (high - low) / 2 == scale and (high + low) / 2 == offset

        high = shortest_float(offset + scale)
        low = shortest_float(offset - scale, lambda c: fits(c, high))
        if not fits(low, high):
            low, high = offset - scale, offset + scale
        return {"low": low, "high": high, "squash": "tanh"}
    raise ImportRefused(
        f"{rescale.describe()} rescales a {activation} output. Expected rescaling after a sigmoid or tanh output "
        "(a bounded regression range)"
    )


_CLASSIFICATION_LOSSES = {"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"}


def infer_task(
    activation: str,
    units: int,
    loss: str | None,
    node: GNode,
    source: str,
    rescaled: bool = False,
    standardized: bool = False,
) -> tuple[str, str]:
    """(task, what it was inferred from) for an output with this activation, width and loss."""
    said = f"its {activation} activation ({units} unit{'s' if units != 1 else ''})"
    if loss:
        said += f" and its {loss} loss"
    if standardized:
        return "regression", said + ", rescaled to the targets' scale"
    if rescaled:
        return "regression", said + ", rescaled to a range"
    if activation == "softmax":
        if loss and loss not in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
            raise ImportRefused(
                f"{source}: output {node.describe()} has a softmax activation but the loss {loss!r}. Expected a "
                "categorical cross-entropy loss with softmax"
            )
        if units < 2:
            raise ImportRefused(
                f"{source}: output {node.describe()} is a softmax over 1 unit (always 1.0). Expected 2 or more units"
            )
        return "multiclass", said
    if activation == "sigmoid" and (loss is None or loss == "binary_crossentropy"):
        return ("binary" if units == 1 else "multilabel"), said
    if loss in _CLASSIFICATION_LOSSES:
        raise ImportRefused(
            f"{source}: output {node.describe()} has a {activation} activation with the loss {loss!r}. Expected "
            "sigmoid with binary cross-entropy or softmax with categorical cross-entropy (a loss on logits is not "
            "supported: add the sigmoid or softmax to the output layer)"
        )
    return "regression", said
