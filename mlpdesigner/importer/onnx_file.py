"""ONNX files -> :class:`~mlpdesigner.importer.graph.Graph`.

Exporters write the same MLP in different ops: tf2onnx writes ``MatMul`` +
``Add`` and spells some activations as small subgraphs (PReLU as
``Relu``/``Neg``/``Mul``/``Add``, GELU around ``Erf``, swish as ``x * Sigmoid(x)``);
PyTorch writes ``Gemm`` and ``BatchNormalization``; skl2onnx writes ``MatMul`` +
``Add``. The reader therefore works in three steps:

1. linear ops become dense layers (``MatMul``/``Gemm`` and a following bias
   ``Add``) or per-feature affine steps (``Mul``/``Add``/``Sub``/``Div`` by a
   constant, ``BatchNormalization``);
2. each run of element-wise ops is evaluated on probe values and named by the
   activation it computes (relu, leaky_relu with its slope, elu with its alpha,
   gelu, swish, prelu with its slopes, ...), so spellings do not matter;
3. affine steps become what their place says: the input's normalization, a
   batch normalization (folded or not), or an output's range rescaling.

skl2onnx classifiers end in a label output and a ``ZipMap`` (``ai.onnx.ml``
ops): :mod:`mlpdesigner.importer.sklearn_tail` removes that tail first, so the
probabilities are the output and the labels its ``classes``.

Layer normalization is read from ONNX's ``LayerNormalization`` op (PyTorch's
``nn.LayerNorm`` at opset 17); tf2onnx spells it as ReduceMean/Sub/Mul/Sqrt/
Reciprocal arithmetic, which is refused at its first ``ReduceMean``. Gaussian
noise (and dropout) act only in training, so an ONNX graph never carries them:
a model that had them imports without them.

Files are read with ``onnx.load`` (protobuf only: no pickles, no code), external
data and custom op domains are refused, and ops outside the list are refused
naming the first such node and its position.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .graph import GNode, Graph, ImportRefused, float32_value, identifier
from .sklearn_tail import strip_classifier_tail

if TYPE_CHECKING:  # pragma: no cover
    from . import ImportResult

#: ONNX files larger than this are refused (protobuf cannot hold more than 2 GiB anyway).
MAX_ONNX_BYTES = 1 << 31

#: Element-wise ops an activation may be spelled with.
ELEMENTWISE = {
    "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Gelu", "PRelu", "Erf", "Exp", "Log",
    "Neg", "Abs", "Mul", "Add", "Sub", "Div", "Greater", "Less", "Not", "Cast", "Where", "Max", "Min", "Pow",
    "Sqrt", "HardSigmoid", "Identity", "Sign",
}  # fmt: skip

#: Ops that pass their input through at inference.
PASS_THROUGH = {"Identity", "Dropout"}

DENSE_ACTIVATIONS = {"relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "softplus", "softmax", "leaky_relu"}

_PROBE = np.concatenate([np.linspace(-6, 6, 49), [-30.0, -3.3, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 2.7]])


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:  # pragma: no cover - onnx is a dependency
        raise ImportRefused("Reading ONNX files needs the onnx package: pip install onnx") from None
    return onnx


def load_proto(path: Path) -> Any:
    """The checked ModelProto of an ONNX file."""
    onnx = _onnx()
    size = path.stat().st_size
    if size > MAX_ONNX_BYTES:
        raise ImportRefused(f"{path}: {size:,} bytes; expected an ONNX file of at most {MAX_ONNX_BYTES:,}")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure means not an ONNX model
        raise ImportRefused(f"{path}: not an ONNX model (it does not parse as one): {type(exc).__name__}") from None
    graph = proto.graph
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise ImportRefused(
                f"{path}: the weight {tensor.name!r} lives in an external data file, which is not read. Expected "
                "the weights inside the .onnx file"
            )
    if proto.functions:
        raise ImportRefused(f"{path}: the model defines its own functions. Expected standard ONNX ops only")
    proto, _ = strip_classifier_tail(proto)
    graph = proto.graph
    for index, node in enumerate(graph.node):
        if node.domain not in ("", "ai.onnx"):
            raise ImportRefused(
                f"{path}: node {index + 1} of {len(graph.node)}, {node.name or node.op_type!r}, is the custom op "
                f"{node.domain}.{node.op_type}. Expected standard ONNX ops only"
            )
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:  # noqa: BLE001 - the checker's message says what is wrong
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportRefused(f"{path}: not a valid ONNX model: {first[:300]}") from None
    return proto


class _Reader:
    def __init__(self, path: Path, proto: Any) -> None:
        onnx = _onnx()
        self.path = path
        self.proto = proto
        self.graph = proto.graph
        self.count = len(self.graph.node)
        self.consts: dict[str, np.ndarray] = {}
        for tensor in self.graph.initializer:
            self.consts[tensor.name] = onnx.numpy_helper.to_array(tensor).astype("float64", copy=False)
        self.nodes = list(self.graph.node)
        for node in self.nodes:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value":
                        self.consts[node.output[0]] = onnx.numpy_helper.to_array(attr.t).astype("float64")
                    elif attr.name in ("value_float", "value_int"):
                        self.consts[node.output[0]] = np.asarray(onnx.helper.get_attribute_value(attr), "float64")
        self.done: set[int] = set()
        self.fold_constants()
        self.producer = {out: i for i, n in enumerate(self.nodes) for out in n.output}
        self.users: dict[str, list[int]] = {}
        for i, node in enumerate(self.nodes):
            for name in node.input:
                self.users.setdefault(name, []).append(i)
        self.gnodes: dict[str, GNode] = {}
        #: ONNX value name -> the GNode that produces it.
        self.value_of: dict[str, str] = {}
        self.counter = 0

    def fold_constants(self) -> None:
        """Ops on constants only (PyTorch's exporter copies weights through Identity) are constants themselves."""
        for index, node in enumerate(self.nodes):
            if node.op_type not in ("Identity", "Cast", "Transpose", "Reshape", "Neg") or not node.input:
                continue
            value = self.consts.get(node.input[0])
            if value is None or any(v not in self.consts for v in node.input[1:] if v):
                continue
            if node.op_type == "Transpose":
                value = np.transpose(value, self.attr(node, "perm", None))
            elif node.op_type == "Reshape":
                value = value.reshape([int(d) for d in self.consts[node.input[1]]])
            elif node.op_type == "Neg":
                value = -value
            self.consts[node.output[0]] = value
            self.done.add(index)

    # ------------------------------------------------------------------ helpers

    def where(self, index: int) -> str:
        node = self.nodes[index]
        return f"node {index + 1} of {self.count}, {node.name or node.output[0]!r} (op {node.op_type})"

    def refuse(self, index: int, why: str) -> ImportRefused:
        return ImportRefused(f"{self.path}: cannot import {self.where(index)}: {why}")

    def attr(self, node: Any, name: str, default: Any = None) -> Any:
        for attr in node.attribute:
            if attr.name == name:
                return _onnx().helper.get_attribute_value(attr)
        return default

    def new(self, kind: str, inputs: list[str], config: dict[str, Any], label: str, index: int, **kw: Any) -> GNode:
        self.counter += 1
        node = GNode(f"#{kind}{self.counter}", kind, inputs, config, label, self.where(index).split(",")[0], **kw)
        self.gnodes[node.name] = node
        return node

    def source(self, value: str, index: int) -> str:
        if value not in self.value_of:
            raise self.refuse(index, f"reads {value!r}, which no supported node produces")
        return self.value_of[value]

    def const(self, value: str) -> np.ndarray | None:
        return self.consts.get(value)

    def sole_user(self, value: str) -> int | None:
        users = [u for u in self.users.get(value, []) if self.nodes[u].op_type != "Constant"]
        return users[0] if len(users) == 1 and value not in self.outputs else None

    # ------------------------------------------------------------------ the walk

    def read(self) -> Graph:
        onnx = _onnx()
        initializers = {t.name for t in self.graph.initializer}
        inputs = [i for i in self.graph.input if i.name not in initializers]
        self.outputs = [o.name for o in self.graph.output]
        names: list[str] = []
        for entry in inputs:
            dims = entry.type.tensor_type.shape.dim
            if entry.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
                raise ImportRefused(f"{self.path}: the input {entry.name!r} is not float32. Expected float32 features")
            shape = [d.dim_value if d.HasField("dim_value") else None for d in dims]
            if len(shape) < 2 or any(d is None or d < 1 for d in shape[1:]):
                raise ImportRefused(
                    f"{self.path}: the input {entry.name!r} has the shape {shape}. Expected a batch dimension and "
                    "fixed feature dimensions"
                )
            name = identifier(entry.name, "input")
            batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
            node = GNode(name, "input", [], {"onnx_name": entry.name, "batch": batch}, "graph input", "the inputs")
            node.shape = tuple(int(d or 0) for d in shape[1:])  # all fixed: checked above
            self.gnodes[name] = node
            self.value_of[entry.name] = name
            names.append(name)
        for index, node in enumerate(self.nodes):
            if index in self.done or node.op_type == "Constant":
                continue
            self.step(index)
        self.settle_affines(names)
        outputs = []
        for out in self.outputs:
            if out not in self.value_of:
                raise ImportRefused(f"{self.path}: the output {out!r} is not computed by a supported node")
            outputs.append(self.value_of[out])
        self.name_outputs(outputs)
        graph = Graph(
            name=identifier(self.graph.name or self.path.stem, identifier(self.path.stem, "imported")),
            nodes=self.gnodes,
            inputs=names,
            outputs=[self.value_of[o] for o in self.outputs],
            source=str(self.path),
        )
        hints = self.designer_hints(graph)
        graph.notes.append(
            "the losses and the optimizer come from the MLP Designer spec stored in the file; dropout, initializers "
            "and regularizers are not in ONNX graphs"
            if hints
            else "ONNX files carry no training settings: the optimizer, losses, dropout and initializers are "
            "the defaults"
        )
        return graph

    def designer_hints(self, graph: Graph) -> bool:
        """Losses, loss weights, metrics and the optimizer from the spec MLP Designer stores in its exports."""
        import json

        from ..spec import analyze

        props = {p.key: p.value for p in self.proto.metadata_props}
        text = props.get("mlpdesigner.spec")
        if not text or len(text) > 10_000_000:
            return False
        try:
            stored = analyze(json.loads(text))
        except (ValueError, RecursionError):
            return False
        if not stored.ok or stored.filled is None:
            return False
        names = {self.gnodes[g].config.get("onnx_output"): g for g in graph.outputs}
        training = graph.training
        for out in stored.filled["outputs"]:
            if out["name"] in names:
                name = names[out["name"]]
                training.losses[name] = out["loss"]
                training.loss_weights[name] = out["loss_weight"]
                training.metrics[name] = list(out["metrics"])
                if out["task"] == "multilabel":
                    training.multilabel.add(name)
        settings = stored.filled["training"]
        training.optimizer = dict(settings["optimizer"])
        schedule = settings.get("learning_rate_schedule") or {}
        if schedule.get("type", "constant") != "constant":
            training.schedule = dict(schedule)
        return True

    def step(self, index: int) -> None:
        node = self.nodes[index]
        op = node.op_type
        if op in PASS_THROUGH or (op == "Cast" and self.attr(node, "to") == 1):
            self.value_of[node.output[0]] = self.source(node.input[0], index)
            self.done.add(index)
            return
        if op in ("MatMul", "Gemm"):
            self.dense(index)
            return
        if op == "BatchNormalization":
            self.batch_norm(index)
            return
        if op == "LayerNormalization":
            self.layer_norm(index)
            return
        if op in ("Flatten", "Reshape"):
            self.flatten(index)
            return
        if op == "Concat":
            axis = self.attr(node, "axis", 1)
            if axis not in (1, -1):
                raise self.refuse(index, f"concatenates on axis {axis}. Expected the feature axis")
            parts = [self.source(v, index) for v in node.input]
            made = self.new("concatenate", parts, {}, "Concat", index)
            self.value_of[node.output[0]] = made.name
            self.done.add(index)
            return
        if op == "Softmax":
            axis = self.attr(node, "axis", -1)
            if axis not in (1, -1):
                raise self.refuse(index, f"applies softmax on axis {axis}. Expected the feature axis")
            made = self.new("activation", [self.source(node.input[0], index)], {"activation": "softmax"}, op, index)
            self.value_of[node.output[0]] = made.name
            self.done.add(index)
            return
        affine = op in ("Mul", "Add", "Sub", "Div") and self.affine_operand(node) is not None
        if op in ELEMENTWISE and self.activation(index, required=not affine):
            return
        if affine:
            self.affine(index)
            return
        raise self.refuse(
            index,
            "it is outside the multilayer-perceptron family. Expected MatMul/Gemm, Add, activation ops, "
            "BatchNormalization, LayerNormalization, Flatten, Concat and Softmax",
        )

    # ------------------------------------------------------------------ linear parts

    def dense(self, index: int) -> None:
        node = self.nodes[index]
        weight = self.const(node.input[1]) if len(node.input) > 1 else None
        if weight is None or weight.ndim != 2:
            raise self.refuse(index, "multiplies by something other than a constant weight matrix. Expected weights")
        bias = np.zeros(weight.shape[1] if node.op_type == "MatMul" else 0)
        if node.op_type == "Gemm":
            if self.attr(node, "transA", 0):
                raise self.refuse(index, "transposes its input (transA=1). Expected samples in rows")
            if self.attr(node, "transB", 0):
                weight = weight.T
            weight = weight * float(self.attr(node, "alpha", 1.0))
            bias = np.zeros(weight.shape[1])
            if len(node.input) > 2 and node.input[2]:
                given = self.const(node.input[2])
                if given is None:
                    raise self.refuse(index, "adds a bias that is not a constant. Expected a bias vector")
                bias = np.broadcast_to(given * float(self.attr(node, "beta", 1.0)), (weight.shape[1],)).copy()
        parent = self.source(node.input[0], index)
        self.done.add(index)
        out = node.output[0]
        # A bias Add right after MatMul belongs to the dense layer.
        follower = self.sole_user(out)
        if follower is not None and self.nodes[follower].op_type == "Add":
            add = self.nodes[follower]
            other = add.input[1] if add.input[0] == out else add.input[0]
            value = self.const(other)
            if value is not None and value.size in (1, weight.shape[1]) and value.ndim <= 2:
                bias = bias + np.broadcast_to(value.reshape(-1), (weight.shape[1],))
                self.done.add(follower)
                out = add.output[0]
        units = int(weight.shape[1])
        made = self.new(
            "dense",
            [parent],
            {"units": units, "activation": "linear", "use_bias": True},
            node.op_type,
            index,
            weights=[weight.astype("float32"), bias.astype("float32")],
        )
        self.value_of[out] = made.name

    def affine_operand(self, node: Any) -> np.ndarray | None:
        """The constant of a Mul/Add/Sub/Div with one variable input (None when it has none)."""
        if len(node.input) != 2:
            return None
        a, b = (self.const(v) for v in node.input)
        if (a is None) == (b is None):
            return None
        return a if a is not None else b

    def affine(self, index: int) -> None:
        node = self.nodes[index]
        value = self.affine_operand(node)
        assert value is not None
        variable = node.input[1] if self.const(node.input[0]) is not None else node.input[0]
        const_first = self.const(node.input[0]) is not None
        op = node.op_type
        if value.size > 1 and any(d != 1 for d in value.shape[:-1]):
            raise self.refuse(index, "combines with a constant of several dimensions. Expected per-feature values")
        vector = value.reshape(-1)
        if op == "Mul":
            scale, shift = vector, np.zeros_like(vector)
        elif op == "Add":
            scale, shift = np.ones_like(vector), vector
        elif op == "Sub":
            scale, shift = (-np.ones_like(vector), vector) if const_first else (np.ones_like(vector), -vector)
        else:
            if const_first:
                raise self.refuse(index, "divides a constant by the features. Expected features divided by a constant")
            scale, shift = 1.0 / vector, np.zeros_like(vector)
        parent = self.source(variable, index)
        previous = self.gnodes[parent]
        self.done.add(index)
        if previous.kind == "affine" and self.sole_user(variable) == index:
            s0, t0 = previous.config["scale"], previous.config["shift"]
            previous.config["scale"], previous.config["shift"] = _broadcast_pair(s0 * scale, t0 * scale + shift)
            self.value_of[node.output[0]] = parent
            return
        scale, shift = _broadcast_pair(scale, shift)
        made = self.new("affine", [parent], {"scale": scale, "shift": shift}, op, index)
        self.value_of[node.output[0]] = made.name

    def batch_norm(self, index: int) -> None:
        node = self.nodes[index]
        arrays = [self.const(v) for v in node.input[1:5]]
        if len(arrays) != 4 or any(a is None for a in arrays) or self.attr(node, "training_mode", 0):
            raise self.refuse(index, "is not an inference-mode batch normalization with constant statistics")
        gamma, beta, mean, var = (np.asarray(a).reshape(-1) for a in arrays)
        epsilon = float(self.attr(node, "epsilon", 1e-5))
        made = self.new(
            "batch_normalization",
            [self.source(node.input[0], index)],
            {"momentum": 0.99, "epsilon": float32_value(epsilon), "center": True, "scale": True},
            "BatchNormalization",
            index,
            weights=[a.astype("float32") for a in (gamma, beta, mean, var)],
        )
        self.value_of[node.output[0]] = made.name
        self.done.add(index)

    def layer_norm(self, index: int) -> None:
        """ONNX's own LayerNormalization op (opset 17; PyTorch's nn.LayerNorm) over the feature axis.

        Exporters that spell it out instead (tf2onnx: ReduceMean, Sub, Mul, Sqrt,
        Reciprocal ...) are refused at its first ReduceMean.
        """
        node = self.nodes[index]
        if self.attr(node, "axis", -1) not in (-1, 1):
            raise self.refuse(index, f"normalizes over axis {self.attr(node, 'axis')}. Expected the feature axis")
        if any(value and self.users.get(value) for value in node.output[1:]):
            raise self.refuse(index, "its mean or inverse standard deviation is read by other nodes")
        gamma = self.const(node.input[1]) if len(node.input) > 1 else None
        beta = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if gamma is None or (len(node.input) > 2 and node.input[2] and beta is None):
            raise self.refuse(index, "its scale or bias is not a constant. Expected trained weights")
        weights = [np.asarray(gamma, dtype="float32").reshape(-1)]
        if beta is not None:
            weights.append(np.asarray(beta, dtype="float32").reshape(-1))
        made = self.new(
            "layer_normalization",
            [self.source(node.input[0], index)],
            {"epsilon": float32_value(float(self.attr(node, "epsilon", 1e-5))), "center": beta is not None,
             "scale": True},
            "LayerNormalization",
            index,
            weights=weights,
        )
        self.value_of[node.output[0]] = made.name
        self.done.add(index)

    def flatten(self, index: int) -> None:
        node = self.nodes[index]
        parent = self.source(node.input[0], index)
        if node.op_type == "Flatten" and self.attr(node, "axis", 1) != 1:
            raise self.refuse(index, "flattens from an axis other than 1. Expected one vector per sample")
        if node.op_type == "Reshape":
            shape = self.const(node.input[1])
            if shape is None or shape.size != 2 or shape[0] not in (-1, 0):
                raise self.refuse(index, "reshapes to something other than (batch, features). Expected a flatten")
        made = self.new("flatten", [parent], {}, node.op_type, index)
        self.value_of[node.output[0]] = made.name
        self.done.add(index)

    # ------------------------------------------------------------------ activations

    def activation(self, index: int, *, required: bool) -> bool:
        """Grow a run of element-wise ops from the value it reads; keep the longest prefix that is an activation.

        Returns False when no prefix is one (and ``required`` is false: the op is then an affine step).
        """
        variables = {v for v in self.nodes[index].input if v and self.const(v) is None}
        if len(variables) > 1:
            if not required:
                return False
            raise self.refuse(
                index,
                "joins two paths (a residual connection or a branch). Expected a sequential stack, or Wide & Deep "
                "joined by one Concat",
            )
        start_value = next(iter(variables)) if variables else self.nodes[index].input[0]
        region: list[int] = []
        known = {start_value}
        matches: list[tuple[int, dict[str, Any], str]] = []
        for candidate in range(index, self.count):
            node = self.nodes[candidate]
            if candidate in self.done or node.op_type == "Constant":
                continue
            reads = [v for v in node.input if v and self.const(v) is None]
            if node.op_type not in ELEMENTWISE or not reads or not all(v in known for v in reads):
                continue
            region.append(candidate)
            known.update(node.output)
            exits = self.exits(region)
            if len(exits) == 1:
                found = self.classify(region, start_value, exits[0])
                if found is not None:
                    matches.append((len(region), found, exits[0]))
        best = self.shortest_split(region, matches)
        if best is None:
            if not required:
                return False
            raise self.refuse(index, "does not compute an activation the spec knows (with the ops after it)")
        size, config, exit_value = best
        self.done.update(region[:size])
        label = "+".join(self.nodes[i].op_type for i in region[:size])
        parent = self.source(start_value, index)
        if config["activation"] == "linear":
            self.value_of[exit_value] = parent
            return True
        weights = config.pop("weights", None)
        affine = config.pop("affine", None)
        kind = {"leaky_relu": "leaky_relu", "elu": "elu", "prelu": "prelu"}.get(config["activation"], "activation")
        if kind != "activation":
            config = {k: v for k, v in config.items() if k != "activation"}
        made = self.new(kind, [parent], config, label, index, weights=weights)
        if affine is not None:
            scale, shift = _broadcast_pair(affine[0], affine[1])
            made = self.new("affine", [made.name], {"scale": scale, "shift": shift}, label, index)
        self.value_of[exit_value] = made.name
        return True

    def shortest_split(
        self, region: list[int], matches: list[tuple[int, dict[str, Any], str]]
    ) -> tuple[int, dict[str, Any], str] | None:
        """The longest match, unless a shorter one ends where the rest starts (relu after relu is two layers)."""
        if not matches:
            return None
        longest = matches[-1]
        for size, config, exit_value in matches[:-1]:
            rest = region[size : longest[0]]
            produced = {v for i in rest for v in self.nodes[i].output}
            reads = {v for i in rest for v in self.nodes[i].input if v and self.const(v) is None}
            if reads <= produced | {exit_value}:
                return size, config, exit_value
        return longest

    def exits(self, region: list[int]) -> list[str]:
        inside = set(region)
        out = []
        for i in region:
            for value in self.nodes[i].output:
                users = self.users.get(value, [])
                if value in self.outputs or any(u not in inside for u in users):
                    out.append(value)
        return out

    def classify(self, region: list[int], start: str, exit_value: str) -> dict[str, Any] | None:
        width = self.width(start)
        x = np.repeat(_PROBE[:, None], max(width, 1), axis=1)
        try:
            with np.errstate(all="ignore"):
                y = self.evaluate(region, start, exit_value, x)
        except (_CannotEvaluate, ValueError, TypeError):
            return None
        if y is None or y.shape != x.shape or not np.all(np.isfinite(y[np.abs(_PROBE) <= 6])):
            return None
        return match_activation(x[:, 0], y)

    def width(self, value: str) -> int:
        name = self.value_of.get(value)
        node = self.gnodes.get(name or "")
        return 1 if node is None else self.width_of(node)

    def evaluate(self, region: list[int], start: str, exit_value: str, x: np.ndarray) -> np.ndarray | None:
        values: dict[str, np.ndarray] = {start: x}
        for i in region:
            node = self.nodes[i]
            args: list[np.ndarray] = []
            for v in node.input:
                value = values[v] if v in values else self.consts.get(v)
                if value is None:
                    raise _CannotEvaluate
                args.append(value)
            values[node.output[0]] = _apply(node.op_type, args, lambda n, d=None, node=node: self.attr(node, n, d))
        return values.get(exit_value)

    # ------------------------------------------------------------------ affine steps by place

    def settle_affines(self, inputs: list[str]) -> None:
        for name in list(self.gnodes):
            node = self.gnodes[name]
            if node.kind != "affine":
                continue
            scale, shift = node.config["scale"], node.config["shift"]
            parent = self.gnodes[node.inputs[0]]
            users = [g for g in self.gnodes.values() if name in g.inputs]
            if parent.kind == "input":
                if np.any(scale <= 0):
                    raise ImportRefused(
                        f"{self.path}: {node.describe()} scales the input {parent.name!r} by a value <= 0. Expected a "
                        "standardization (x - mean) / std"
                    )
                width = (parent.shape or (1,))[-1]
                mean = np.broadcast_to(-shift / scale, (width,))
                variance = np.broadcast_to(1.0 / scale**2, (width,))
                node.kind = "normalization"
                node.config = {}
                node.weights = [mean.astype("float32"), variance.astype("float32")]
            elif not users and parent.kind in ("dense", "activation") and np.ptp(scale) == 0 and np.ptp(shift) == 0:
                node.kind = "rescaling"
                node.config = {"scale": float32_value(float(scale[0])), "offset": float32_value(float(shift[0]))}
            elif (
                not users
                and parent.kind in ("dense", "activation")
                and np.size(scale) == np.size(shift) == self.width_of(parent)
            ):
                # One scale and offset per unit after an output layer: its target scaling.
                node.kind = "rescaling"
                node.config = {"scale": [float(v) for v in scale], "offset": [float(v) for v in shift]}
            else:
                width = self.width_of(parent)
                gamma = np.broadcast_to(scale, (width,)).astype("float32")
                beta = np.broadcast_to(shift, (width,)).astype("float32")
                epsilon = 0.001
                node.kind = "batch_normalization"
                node.config = {"momentum": 0.99, "epsilon": epsilon, "center": True, "scale": True}
                node.weights = [
                    gamma,
                    beta,
                    np.zeros(width, "float32"),
                    np.full(width, 1 - epsilon, "float32"),
                ]
        self.fold_activations()

    def width_of(self, node: GNode) -> int:
        while node.kind not in ("dense", "input", "concatenate", "flatten"):
            node = self.gnodes[node.inputs[0]]
        if node.kind == "dense":
            return node.config["units"]
        if node.kind == "input":
            return (node.shape or (1,))[-1]
        if node.kind == "flatten":
            return self.flat_width(node)
        return sum(self.width_of(self.gnodes[p]) for p in node.inputs)

    def flat_width(self, node: GNode) -> int:
        """Features after a flatten: the input's leading dimensions times the last width before it."""
        last: int | None = None
        while node.kind != "input":
            if node.kind == "dense" and last is None:
                last = node.config["units"]
            node = self.gnodes[node.inputs[0]]
        shape = node.shape or (1,)
        return math.prod(shape[:-1]) * (last if last is not None else shape[-1])

    def fold_activations(self) -> None:
        """An activation right after a linear dense layer (its only reader) becomes the layer's activation."""
        for name in list(self.gnodes):
            node = self.gnodes.get(name)
            if node is None or node.kind not in ("activation", "leaky_relu", "elu"):
                continue
            parent = self.gnodes[node.inputs[0]]
            act = node.config.get("activation", node.kind)
            if node.kind == "leaky_relu" and node.config["negative_slope"] != 0.2:
                continue
            if node.kind == "elu" and node.config["alpha"] != 1.0:
                continue
            if parent.kind != "dense" or parent.config["activation"] != "linear" or act not in DENSE_ACTIVATIONS:
                continue
            if sum(1 for g in self.gnodes.values() if parent.name in g.inputs) != 1:
                continue
            parent.config["activation"] = act
            for other in self.gnodes.values():
                other.inputs = [parent.name if p == name else p for p in other.inputs]
            for value, owner in list(self.value_of.items()):
                if owner == name:
                    self.value_of[value] = parent.name
            del self.gnodes[name]

    def name_outputs(self, outputs: list[str]) -> None:
        taken = {n for n in self.gnodes if not n.startswith("#")}
        for onnx_name, gname in zip(self.outputs, outputs):
            node = self.gnodes[gname]
            if not gname.startswith("#"):
                raise ImportRefused(f"{self.path}: the output {onnx_name!r} is an input. Expected layers in between")
            name = identifier(onnx_name, "output")
            while name in taken:
                name = f"{name}_out"
            taken.add(name)
            self.rename(gname, name)
            node.config.setdefault("onnx_output", onnx_name)

    def rename(self, old: str, new: str) -> None:
        node = self.gnodes.pop(old)
        node.name = new
        self.gnodes[new] = node
        for other in self.gnodes.values():
            other.inputs = [new if p == old else p for p in other.inputs]
        for value, owner in list(self.value_of.items()):
            if owner == old:
                self.value_of[value] = new


class _CannotEvaluate(Exception):
    pass


def _broadcast_pair(scale: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = max(np.size(scale), np.size(shift))
    return np.broadcast_to(scale, (size,)).astype("float64"), np.broadcast_to(shift, (size,)).astype("float64")


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=["float64"])(x)


def _apply(op: str, args: list[np.ndarray], attr: Callable[..., Any]) -> np.ndarray:
    a = args[0]
    b = args[1] if len(args) > 1 else None
    if op == "Relu":
        return np.maximum(a, 0)
    if op == "LeakyRelu":
        return np.where(a >= 0, a, a * attr("alpha", 0.01))
    if op == "Elu":
        return np.where(a > 0, a, attr("alpha", 1.0) * (np.exp(a) - 1))
    if op == "Selu":
        alpha, gamma = attr("alpha", 1.67326319217681884765625), attr("gamma", 1.05070102214813232421875)
        return gamma * np.where(a > 0, a, alpha * (np.exp(a) - 1))
    if op == "Sigmoid":
        return 1 / (1 + np.exp(-a))
    if op == "HardSigmoid":
        return np.clip(attr("alpha", 0.2) * a + attr("beta", 0.5), 0, 1)
    if op == "Tanh":
        return np.tanh(a)
    if op == "Softplus":
        return np.logaddexp(0, a)
    if op == "Gelu":
        if attr("approximate", "none") not in ("none", b"none"):
            raise _CannotEvaluate
        return 0.5 * a * (1 + _erf(a / math.sqrt(2)))
    if op == "PRelu":
        if b is None:
            raise _CannotEvaluate
        return np.where(a >= 0, a, a * np.broadcast_to(b.reshape(-1) if b.size > 1 else b, a.shape))
    if op == "Erf":
        return _erf(a)
    if op == "Exp":
        return np.exp(a)
    if op == "Log":
        return np.log(a)
    if op == "Neg":
        return -a
    if op == "Abs":
        return np.abs(a)
    if op == "Sign":
        return np.sign(a)
    if op == "Sqrt":
        return np.sqrt(a)
    if op in ("Identity", "Cast"):
        return a.astype("float64")
    if op == "Not":
        return (a == 0).astype("float64")
    if b is None:
        raise _CannotEvaluate
    if op == "Mul":
        return a * b
    if op == "Add":
        return a + b
    if op == "Sub":
        return a - b
    if op == "Div":
        return a / b
    if op == "Pow":
        return a**b
    if op == "Max":
        return np.maximum(a, b)
    if op == "Min":
        return np.minimum(a, b)
    if op == "Greater":
        return (a > b).astype("float64")
    if op == "Less":
        return (a < b).astype("float64")
    if op == "Where":
        return np.where(a != 0, b, args[2])
    raise _CannotEvaluate


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-5 * np.maximum(1, np.abs(b))))


def match_activation(x: np.ndarray, y: np.ndarray) -> dict[str, Any] | None:
    """The activation (and its settings) that maps probe values ``x`` to ``y`` (one column per feature)."""
    inner = np.abs(x) <= 6
    xs, ys = x[inner][:, None], y[inner]
    same = bool(np.all(np.abs(ys - ys[:, :1]) <= 1e-6 * np.maximum(1, np.abs(ys[:, :1]))))
    column = ys[:, 0]
    xv = xs[:, 0]
    candidates = _fixed_activations(xv)
    if not same:
        slopes = _prelu_slopes(xv, ys)
        if slopes is not None:
            return {"activation": "prelu", "weights": [slopes.astype("float32")]}
        # Exporters fold a following batch normalization's scale into the activation's ops: y = a * f(x) + b.
        for name, expected in candidates.items():
            if name == "linear":
                continue
            design = np.stack([expected, np.ones_like(expected)], axis=1)
            coefficients, *_ = np.linalg.lstsq(design, ys, rcond=None)
            if _close(ys, design @ coefficients):
                return {"activation": name, "affine": (coefficients[0], coefficients[1])}
        return None
    for name, expected in candidates.items():
        if _close(column, expected):
            return {"activation": name}
    return _parametric(x, y, xv, ys, column)


def _fixed_activations(xv: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "linear": xv,
        "relu": np.maximum(xv, 0),
        "sigmoid": 1 / (1 + np.exp(-xv)),
        "tanh": np.tanh(xv),
        "softplus": np.logaddexp(0, xv),
        "selu": 1.0507009873554805 * np.where(xv > 0, xv, 1.6732632423543772 * (np.exp(xv) - 1)),
        "gelu": 0.5 * xv * (1 + _erf(xv / math.sqrt(2))),
        "swish": xv / (1 + np.exp(-xv)),
    }


def _parametric(
    x: np.ndarray, y: np.ndarray, xv: np.ndarray, ys: np.ndarray, column: np.ndarray
) -> dict[str, Any] | None:
    """leaky_relu, elu or prelu: the identity above zero, a learned or set shape below."""
    positive = xv > 0
    if _close(column[positive], xv[positive]):
        slope = float(column[xv == -1.0][0]) / -1.0 if np.any(xv == -1.0) else None
        if slope is not None and 0 <= slope <= 1 and _close(column, np.where(xv >= 0, xv, slope * xv)):
            return {"activation": "leaky_relu", "negative_slope": _tidy(slope)}
        far = y[x == -30.0]
        alpha = float(-far[0, 0]) if far.size else None
        if alpha and alpha > 0 and _close(column, np.where(xv > 0, xv, alpha * (np.exp(xv) - 1))):
            return {"activation": "elu", "alpha": _tidy(alpha)}
    slopes = _prelu_slopes(xv, ys)  # one slope outside [0, 1], or one feature: a learned PReLU
    return {"activation": "prelu", "weights": [slopes.astype("float32")]} if slopes is not None else None


def _prelu_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    positive = x > 0
    if not _close(y[positive], np.repeat(x[positive][:, None], y.shape[1], axis=1)):
        return None
    at = np.where(x == -1.0)[0]
    if not at.size:
        return None
    slopes = -y[at[0]]
    if not _close(y, np.where(x[:, None] >= 0, x[:, None], slopes[None, :] * x[:, None])):
        return None
    return slopes


def _tidy(value: float) -> float:
    """A setting read back through float32 arithmetic, as the decimal it most likely was."""
    for digits in range(1, 8):
        candidate = float(f"{value:.{digits}g}")
        if abs(candidate - value) <= 1e-6 * max(1.0, abs(value)):
            return candidate
    return float(value)


def read_onnx_graph(path: Path) -> Graph:
    """The layer graph of an ONNX file (an skl2onnx classifier's class labels on its probability output)."""
    proto = load_proto(path)
    graph = _Reader(path, proto).read()
    _, labels = strip_classifier_tail(_onnx().load(str(path), load_external_data=False))
    for name in graph.outputs:
        node = graph.nodes[name]
        if node.config.get("onnx_output") in labels:
            node.config["classes"] = labels[node.config["onnx_output"]]
            graph.notes.append(
                f"the label output and ZipMap of the skl2onnx classifier are left out; output {name!r} gives the "
                "class probabilities, its classes the file's labels"
            )
    return graph


def onnx_readers(result: ImportResult) -> tuple[Callable[[GNode], list[Any]], Callable[[list[Any]], list[Any]]]:
    """(weights of a graph node, onnxruntime's predictions of the file for a list of input arrays)."""
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - onnxruntime is a dependency
        raise ImportRefused("Checking ONNX weights needs onnxruntime: pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.log_severity_level = 3
    trimmed, labels = strip_classifier_tail(_onnx().load(str(result.path), load_external_data=False))
    try:
        # An skl2onnx classifier is checked on its probabilities (the graph without its label output and ZipMap).
        model = trimmed.SerializeToString() if labels else str(result.path)
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - the runtime's reason is the user's answer
        raise ImportRefused(f"{result.path}: onnxruntime cannot run the model: {exc}") from None
    graph = result.graph
    input_names = [graph.nodes[n].config.get("onnx_name", n) for n in graph.inputs]
    output_names = [graph.nodes[n].config.get("onnx_output", n) for n in graph.outputs]

    def weights(node: GNode) -> list[Any]:
        arrays = list(node.weights or [])
        if node.kind == "prelu":
            return [arrays[0].reshape(-1)]
        return arrays

    def reference(feeds: list[Any]) -> list[Any]:
        return session.run(output_names, dict(zip(input_names, feeds)))

    return weights, reference
