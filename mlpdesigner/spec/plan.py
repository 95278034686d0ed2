"""The layer graph a spec describes, with shapes and parameter counts.

One plan feeds both the pure-Python summary and the Keras compiler, so the
two cannot disagree about names, order, shapes or parameter counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .defaults import output_activation, target_scaling
from .problems import Problem, pointer
from .registry import LAYERS, KerasCall, activation_kind, layer_call

Shape = tuple[int, ...]

@dataclass
class Node:
    """One layer of the planned model."""

    name: str
    kind: str
    inputs: list[str]
    config: dict[str, Any]
    shape: Shape
    spec_path: str
    role: str = "hidden"
    trainable_params: int = 0
    non_trainable_params: int = 0

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def keras_class(self) -> str:
        """The Keras class of this node (``InputLayer`` for an input)."""
        return "InputLayer" if self.kind == "input" else LAYERS[self.kind].keras_class

    @property
    def keras_call(self) -> KerasCall:
        """The Keras constructor call of this node (not an input), from the registry."""
        return layer_call(self.kind, self.name, self.config)


@dataclass
class Plan:
    """The whole model: nodes in build order, and which are inputs and outputs."""

    name: str
    topology: str
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def total_params(self) -> int:
        return sum(n.params for n in self.nodes)

    @property
    def trainable_params(self) -> int:
        return sum(n.trainable_params for n in self.nodes)

    @property
    def non_trainable_params(self) -> int:
        return sum(n.non_trainable_params for n in self.nodes)


class PlanError(Exception):
    """Raised while planning; carries the located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


#: Most hidden layers a network may expand to (repeats counted), as many as the schema lets a list hold.
MAX_EXPANDED_LAYERS = 10000


def repeat_count(layer: Any) -> int:
    """How many layers a hidden layer of the spec stands for: its ``repeat`` (dense only), else 1."""
    if isinstance(layer, dict) and layer.get("type") == "dense":
        count = layer.get("repeat", 1)
        if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
            return count
    return 1


def copy_names(name: str, repeat: int) -> list[str]:
    """The Keras names of a layer repeated ``repeat`` times: ``name``, then ``name_2``, ``name_3``, ..."""
    return [name] + [f"{name}_{copy}" for copy in range(2, repeat + 1)]


def layer_names(layers: list[dict[str, Any]], taken: set[str]) -> list[str]:
    """Keras names for layers: the explicit name, else ``<type>_<n>`` counted per type.

    A repeated layer's copies are named after it (:func:`copy_names`); generated names keep clear of
    every explicit name and its copies.
    """
    counters: dict[str, int] = {}
    names = []
    explicit: set[str] = set()
    # Beyond the limit the plan refuses the network anyway: name the layers as if unrepeated, in bounded time.
    expand = sum(repeat_count(layer) for layer in layers) <= MAX_EXPANDED_LAYERS
    count = repeat_count if expand else (lambda layer: 1)
    for layer in layers:
        if layer.get("name"):
            explicit.update(copy_names(layer["name"], count(layer)))
    used = set(taken) | explicit
    for layer in layers:
        if layer.get("name"):
            names.append(layer["name"])
            continue
        kind = layer.get("type", "layer")
        while True:
            counters[kind] = counters.get(kind, 0) + 1
            candidate = f"{kind}_{counters[kind]}"
            copies = copy_names(candidate, count(layer))
            if not used.intersection(copies):
                break
        used.update(copies)
        names.append(candidate)
    return names


class _Builder:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.plan = Plan(spec["name"], spec["network"]["topology"])
        self.problems: list[Problem] = []
        self.taken: set[str] = set()
        #: Name of each copy of a repeated layer -> (the layer's name, copy number, spec path).
        self.copies: dict[str, tuple[str, int, str]] = {}

    def add(self, node: Node) -> Node:
        if node.name in self.taken:
            owner = self.copies.get(node.name)
            other = (f"copy {owner[1]} of the repeated layer {owner[0]!r} at {owner[2]} (copies are named "
                     f"{owner[0]}_2, {owner[0]}_3, ...)") if owner else "another input, layer or output"
            self.error(
                node.spec_path,
                f"Expected unique layer names. Received: {node.name!r} is already the name of {other}; "
                "rename one of them",
                code="E301",
            )
        self.plan.nodes.append(node)
        self.taken.add(node.name)
        return node

    def error(self, path: str, message: str, code: str = "E303") -> None:
        self.problems.append(Problem("error", code, path, message))

    def input_node(self, index: int) -> Node:
        inp = self.spec["inputs"][index]
        path = pointer("inputs", index)
        node = self.add(Node(inp["name"], "input", [], {}, tuple(inp["shape"]), path, role="input"))
        self.plan.inputs.append(node.name)
        if inp.get("normalize"):
            node = self.add(
                Node(
                    f"{inp['name']}_normalization",
                    "normalization",
                    [node.name],
                    {"axis": -1},
                    node.shape,
                    path + "/normalize",
                    role="input",
                    non_trainable_params=LAYERS["normalization"].params(node.shape, {})[1],
                )
            )
        return node

    def concatenate(self, name: str, parts: list[Node], path: str, role: str) -> Node:
        for part in parts:
            if len(part.shape) != 1:
                self.error(
                    path,
                    f"Expected 1-D features to concatenate. Received: {part.name} with shape "
                    f"{list(part.shape)}; add a flatten layer or reshape the input",
                )
                return parts[0]
        width = sum(p.shape[0] for p in parts)
        return self.add(Node(name, "concatenate", [p.name for p in parts], {"axis": -1}, (width,), path, role=role))

    def layers(self, layers: list[dict[str, Any]], start: Node, base: str, role: str) -> Node:
        expanded = sum(repeat_count(layer) for layer in layers)
        if expanded > MAX_EXPANDED_LAYERS:
            self.error(base, f"Expected at most {MAX_EXPANDED_LAYERS:,} hidden layers with the repeats counted. "
                             f"Received: {expanded:,}; lower the repeat of the largest blocks", code="E304")
            return start
        names = layer_names(layers, self.taken | {i["name"] for i in self.spec["inputs"]})
        prev = start
        for index, (layer, name) in enumerate(zip(layers, names)):
            path = f"{base}/{index}"
            kind = layer["type"]
            if kind == "activation":
                kind, config = activation_kind(layer)
            else:
                config = LAYERS[kind].config(layer)
            for number, copy_name in enumerate(copy_names(name, repeat_count(layer)), start=1):
                if number > 1:
                    if copy_name in self.taken:
                        self.error(path + "/repeat", f"Expected unique layer names. Received: copy {number} of the "
                                   f"repeated layer {name!r} is named {copy_name!r}, which is already the name of "
                                   "another input, layer or output; rename one of them", code="E301")
                        return prev
                    self.copies[copy_name] = (name, number, path)
                shape = prev.shape
                trainable, non_trainable = LAYERS[kind].params(shape, config)
                shape = LAYERS[kind].shape(shape, config)
                prev = self.add(Node(copy_name, kind, [prev.name], config, shape, path, role, trainable,
                                     non_trainable))
        return prev

    def head(self, index: int, source: Node) -> None:
        out = self.spec["outputs"][index]
        path = pointer("outputs", index)
        if len(source.shape) != 1:
            self.error(
                path,
                f"Expected the output {out['name']!r} to attach to 1-D features. Received: "
                f"{source.name} with shape {list(source.shape)}; add a flatten layer before the output",
            )
            return
        activation = output_activation(out)
        units = out["units"]
        rng = out.get("range") if out.get("task") == "regression" else None
        rescale = None
        if rng:
            low, high = rng["low"], rng["high"]
            if activation == "sigmoid" and (low, high) != (0, 1):
                rescale = {"scale": high - low, "offset": low}
            elif activation == "tanh" and (low, high) != (-1, 1):
                rescale = {"scale": (high - low) / 2, "offset": (high + low) / 2}
        scaling = target_scaling(out)
        if scaling:
            # Placeholder statistics: training sets the targets' own (see compile.build_model).
            rescale = {"scale": 1.0, "offset": 0.0, "target_scaling": scaling}
        dense_name = f"{out['name']}_raw" if rescale else out["name"]
        config = {
            "units": units,
            "activation": activation,
            "use_bias": True,
            "kernel_initializer": out.get("kernel_initializer", "glorot_uniform"),
            "bias_initializer": "zeros",
        }
        node = self.add(
            Node(
                dense_name,
                "dense",
                [source.name],
                config,
                (units,),
                path,
                role="output",
                trainable_params=source.shape[0] * units + units,
            )
        )
        if rescale:
            node = self.add(
                Node(
                    out["name"],
                    "rescaling",
                    [node.name],
                    rescale,
                    (units,),
                    path if scaling else path + "/range",
                    role="output",
                )
            )
        self.plan.outputs.append(node.name)

    def build(self) -> Plan:
        spec = self.spec
        network = spec["network"]
        if network["topology"] == "sequential":
            start = self.input_node(0)
            end = self.layers(network["layers"], start, "/network/layers", "hidden")
            if self.problems:
                raise PlanError(self.problems)
            for index in range(len(spec["outputs"])):
                self.head(index, end)
        else:
            made = {inp["name"]: self.input_node(i) for i, inp in enumerate(spec["inputs"])}
            deep_parts = [made[n] for n in network["deep"]["inputs"]]
            deep_start = (
                deep_parts[0]
                if len(deep_parts) == 1
                else self.concatenate("deep_inputs", deep_parts, "/network/deep/inputs", "deep")
            )
            deep_end = self.layers(network["deep"]["layers"], deep_start, "/network/deep/layers", "deep")
            wide_parts = [made[n] for n in network["wide"]["inputs"]]
            merged = self.concatenate("wide_deep", wide_parts + [deep_end], "/network", "merge")
            if self.problems:
                raise PlanError(self.problems)
            for index, out in enumerate(spec["outputs"]):
                self.head(index, deep_end if out.get("source") == "deep" else merged)
        if self.problems:
            raise PlanError(self.problems)
        return self.plan


def build_plan(spec: dict[str, Any]) -> Plan:
    """Plan the model of a schema-valid, reference-checked spec (defaults filled)."""
    return _Builder(spec).build()
