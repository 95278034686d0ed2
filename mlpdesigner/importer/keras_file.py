"""``.keras`` files -> :class:`~mlpdesigner.importer.graph.Graph`, from ``config.json`` alone.

The archive and its config go through :func:`mlpdesigner.modelfile.check_keras_file`
first (no HDF5, no pickles, only the classes MLP Designer builds); nothing is
deserialized here: the graph is read from the JSON. Keras loads the file (in
safe mode) only when the weights are wanted.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..modelfile import MAX_CONFIG_BYTES, check_keras_file
from .graph import GNode, Graph, ImportRefused, Training, float32_value, identifier

#: Keras activation names -> the spec's.
ACTIVATIONS = {
    "linear": "linear",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "silu": "swish",
    "swish": "swish",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "softmax": "softmax",
}

INITIALIZERS = {
    "GlorotUniform": "glorot_uniform",
    "GlorotNormal": "glorot_normal",
    "HeUniform": "he_uniform",
    "HeNormal": "he_normal",
    "LecunUniform": "lecun_uniform",
    "LecunNormal": "lecun_normal",
    "Zeros": "zeros",
    "Ones": "ones",
}

LOSSES = {
    "mse": "mse",
    "mean_squared_error": "mse",
    "MeanSquaredError": "mse",
    "mae": "mae",
    "mean_absolute_error": "mae",
    "MeanAbsoluteError": "mae",
    "huber": "huber",
    "Huber": "huber",
    "log_cosh": "log_cosh",
    "LogCosh": "log_cosh",
    "binary_crossentropy": "binary_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}

METRICS = {
    "accuracy": "accuracy",
    "acc": "accuracy",
    "BinaryAccuracy": "accuracy",
    "CategoricalAccuracy": "accuracy",
    "SparseCategoricalAccuracy": "accuracy",
    "Accuracy": "accuracy",
    "mae": "mae",
    "MeanAbsoluteError": "mae",
    "mse": "mse",
    "MeanSquaredError": "mse",
    "rmse": "rmse",
    "RootMeanSquaredError": "rmse",
    "auc": "auc",
    "AUC": "auc",
    "precision": "precision",
    "Precision": "precision",
    "recall": "recall",
    "Recall": "recall",
}

OPTIMIZERS = {"SGD": "sgd", "Adam": "adam", "AdamW": "adamw", "RMSprop": "rmsprop", "Nadam": "nadam"}

#: Keras layer classes with a place in an MLP, and what they become.
KINDS = {
    "InputLayer": "input",
    "Dense": "dense",
    "Activation": "activation",
    "LeakyReLU": "leaky_relu",
    "PReLU": "prelu",
    "ELU": "elu",
    "BatchNormalization": "batch_normalization",
    "LayerNormalization": "layer_normalization",
    "Dropout": "dropout",
    "GaussianNoise": "gaussian_noise",
    "AlphaDropout": "alpha_dropout",
    "Flatten": "flatten",
    "Concatenate": "concatenate",
    "Rescaling": "rescaling",
    "Normalization": "normalization",
}


def _layer_list(config: dict[str, Any], source: str) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential", "Functional", "Model"):
        got = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise ImportRefused(f"{source}: config.json describes {got!r}. Expected a Sequential or functional model")
    body = config.get("config")
    layers = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise ImportRefused(f"{source}: config.json has no list of layers at /config/layers. Expected a Keras 3 model")
    return config["class_name"], layers


def first_unsupported(config: Any, source: str) -> str | None:
    """The message for the first layer outside the MLP family, or None (for a diagnosis of a refused file)."""
    try:
        _, layers = _layer_list(config, source)
    except ImportRefused:
        return None
    for index, layer in enumerate(layers):
        cls = layer.get("class_name")
        if cls not in KINDS:
            name = (layer.get("config") or {}).get("name") if isinstance(layer.get("config"), dict) else None
            return _outside(str(name or layer.get("name") or "?"), str(cls), index, len(layers), source)
    return None


def _outside(name: str, cls: str, index: int, count: int, source: str) -> str:
    why = {
        "Lambda": "Lambda layers hold code and are never imported",
        "Functional": "a model nested as a layer is not imported; save the inner model on its own",
        "Sequential": "a model nested as a layer is not imported; save the inner model on its own",
    }.get(cls, "it is outside the multilayer-perceptron family (convolutional, recurrent, custom layers ...)")
    return (
        f"{source}: cannot import layer {index + 1} of {count}, {name!r} ({cls}): {why}. Expected only Dense, "
        "Activation, LeakyReLU, PReLU, ELU, BatchNormalization, LayerNormalization, Dropout, AlphaDropout, "
        "GaussianNoise, Flatten, Normalization, Rescaling and Concatenate layers"
    )


def read_config(path: Path) -> dict[str, Any]:
    """The checked config of a ``.keras`` file; a non-MLP layer is named before the safety reason."""
    try:
        return check_keras_file(path)
    except UserError as refused:
        message = first_unsupported(_peek_config(path), str(path))
        if message:
            raise ImportRefused(f"{message}\n  (the file is also refused for safety: {refused})") from None
        raise


def _peek_config(path: Path) -> Any:
    """config.json parsed as plain JSON (nothing built from it), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                return None
            return json.loads(archive.read(info))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, RecursionError):
        return None


def _name(layer: dict[str, Any]) -> str:
    cfg: dict[str, Any] = layer["config"] if isinstance(layer.get("config"), dict) else {}
    return str(cfg.get("name") or layer.get("name") or "")


def _activation(value: Any, node: str) -> str:
    if isinstance(value, dict):
        value = value.get("config") if isinstance(value.get("config"), str) else value.get("class_name")
    if value is None:
        return "linear"
    if value not in ACTIVATIONS:
        raise ImportRefused(
            f"{node} uses the activation {value!r}. Expected one of {', '.join(sorted(set(ACTIVATIONS)))}"
        )
    return ACTIVATIONS[value]


def _initializer(value: Any, node: str, key: str) -> str:
    name = value.get("class_name") if isinstance(value, dict) else value
    if isinstance(name, str) and name in INITIALIZERS:
        return INITIALIZERS[name]
    if isinstance(name, str) and name in INITIALIZERS.values():
        return name
    raise ImportRefused(f"{node} has {key}={name!r}. Expected one of {', '.join(INITIALIZERS.values())}")


def _regularizer(value: Any, node: str, key: str) -> dict[str, float] | None:
    if value is None:
        return None
    cfg = value.get("config") if isinstance(value, dict) else None
    cls = value.get("class_name") if isinstance(value, dict) else value
    if cls not in ("L1", "L2", "L1L2") or not isinstance(cfg, dict):
        raise ImportRefused(f"{node} has {key}={cls!r}. Expected an L1, L2 or L1L2 regularizer")
    out = {k: float(cfg[k]) for k in ("l1", "l2") if isinstance(cfg.get(k), (int, float))}
    if cls == "L1L2":
        return {k: out.get(k, 0.0) for k in ("l1", "l2")}
    return out or None


def _no(cfg: dict[str, Any], node: str, **expected: Any) -> None:
    """Refuse settings the spec cannot hold (anything but their default)."""
    for key, default in expected.items():
        value = cfg.get(key, default)
        if value != default and not (isinstance(default, tuple) and value in default):
            raise ImportRefused(
                f"{node} has {key}={value!r}, which the spec format cannot hold. Expected {key}="
                f"{default[0] if isinstance(default, tuple) else default!r}"
            )


def _shape(value: Any, node: str) -> tuple[int, ...]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) < 2
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in value[1:])
    ):
        raise ImportRefused(
            f"{node} has the shape {value!r}. Expected a fixed shape per sample (batch first), e.g. [null, 8]"
        )
    if not 1 <= len(value) - 1 <= 3:
        raise ImportRefused(f"{node} has {len(value) - 1} dimensions per sample. Expected 1 to 3")
    return tuple(value[1:])


def _node(layer: dict[str, Any], index: int, count: int, source: str, inputs: list[str]) -> GNode:
    cls = layer.get("class_name")
    name = _name(layer)
    if cls not in KINDS:
        raise ImportRefused(_outside(name, str(cls), index, count, source))
    kind = KINDS[cls]
    cfg: dict[str, Any] = layer["config"] if isinstance(layer.get("config"), dict) else {}
    where = f"layer {index + 1} of {count}"
    node = GNode(name, kind, inputs, {}, str(cls), where)
    desc = f"{source}: {node.describe()}"
    dtype = cfg.get("dtype")
    dtype_name = (dtype.get("config") or {}).get("name") if isinstance(dtype, dict) else dtype
    if dtype_name not in (None, "float32"):
        raise ImportRefused(f"{desc} computes in {dtype_name!r}. Expected float32")
    if kind == "input":
        node.shape = _shape(cfg.get("batch_shape", cfg.get("batch_input_shape")), desc)
    elif kind == "dense":
        _no(cfg, desc, bias_constraint=None, lora_rank=None, quantization_config=None)
        constraint = cfg.get("kernel_constraint")
        max_norm = None
        if constraint is not None:
            ccfg = constraint.get("config") if isinstance(constraint, dict) else None
            if (
                not isinstance(constraint, dict)
                or constraint.get("class_name") != "MaxNorm"
                or not isinstance(ccfg, dict)
                or ccfg.get("axis", 0) != 0
            ):
                raise ImportRefused(f"{desc} has a kernel constraint other than MaxNorm(axis=0). Expected MaxNorm")
            max_norm = {"max_norm": float(ccfg.get("max_value", 2.0))}
        node.config = {
            "units": cfg.get("units"),
            "activation": _activation(cfg.get("activation"), desc),
            "use_bias": bool(cfg.get("use_bias", True)),
            "kernel_initializer": _initializer(
                cfg.get("kernel_initializer", "GlorotUniform"), desc, "kernel_initializer"
            ),
            "bias_initializer": _initializer(cfg.get("bias_initializer", "Zeros"), desc, "bias_initializer"),
            "kernel_regularizer": _regularizer(cfg.get("kernel_regularizer"), desc, "kernel_regularizer"),
            "bias_regularizer": _regularizer(cfg.get("bias_regularizer"), desc, "bias_regularizer"),
            "activity_regularizer": _regularizer(cfg.get("activity_regularizer"), desc, "activity_regularizer"),
            "kernel_constraint": max_norm,
        }
        if not isinstance(node.config["units"], int) or node.config["units"] < 1:
            raise ImportRefused(f"{desc} has units={cfg.get('units')!r}. Expected a whole number of at least 1")
    elif kind == "activation":
        act = _activation(cfg.get("activation"), desc)
        node.config = {"activation": act}
        if act == "linear":
            node.kind = "dropout"  # an identity: it passes through like an inactive dropout
            node.config = {"rate": 0.0, "identity": True}
    elif kind == "leaky_relu":
        node.config = {"negative_slope": float(cfg.get("negative_slope", cfg.get("alpha", 0.3)))}
    elif kind == "elu":
        node.config = {"alpha": float(cfg.get("alpha", 1.0))}
    elif kind == "prelu":
        _no(cfg, desc, alpha_regularizer=None, alpha_constraint=None, shared_axes=None)
        init = cfg.get("alpha_initializer")
        if init is not None and _initializer(init, desc, "alpha_initializer") != "zeros":
            raise ImportRefused(f"{desc} has a non-zero alpha_initializer. Expected Zeros")
    elif kind == "batch_normalization":
        _no(
            cfg,
            desc,
            axis=(-1, [-1]),
            beta_regularizer=None,
            gamma_regularizer=None,
            beta_constraint=None,
            gamma_constraint=None,
            synchronized=False,
            renorm=False,
        )
        for key, default in (
            ("beta_initializer", "zeros"),
            ("gamma_initializer", "ones"),
            ("moving_mean_initializer", "zeros"),
            ("moving_variance_initializer", "ones"),
        ):
            if key in cfg and _initializer(cfg[key], desc, key) != default:
                raise ImportRefused(f"{desc} has {key} other than {default!r}, which the spec format cannot hold")
        node.config = {
            "momentum": float(cfg.get("momentum", 0.99)),
            "epsilon": float(cfg.get("epsilon", 0.001)),
            "center": bool(cfg.get("center", True)),
            "scale": bool(cfg.get("scale", True)),
        }
    elif kind == "layer_normalization":
        _no(
            cfg,
            desc,
            axis=(-1, [-1]),
            beta_regularizer=None,
            gamma_regularizer=None,
            beta_constraint=None,
            gamma_constraint=None,
            rms_scaling=False,
        )
        for key, default in (("beta_initializer", "zeros"), ("gamma_initializer", "ones")):
            if key in cfg and _initializer(cfg[key], desc, key) != default:
                raise ImportRefused(f"{desc} has {key} other than {default!r}, which the spec format cannot hold")
        node.config = {
            "epsilon": float(cfg.get("epsilon", 0.001)),
            "center": bool(cfg.get("center", True)),
            "scale": bool(cfg.get("scale", True)),
        }
    elif kind == "gaussian_noise":
        node.config = {"stddev": float(cfg.get("stddev", 0.1))}
    elif kind in ("dropout", "alpha_dropout"):
        _no(cfg, desc, noise_shape=None)
        node.config = {"rate": float(cfg.get("rate", 0.0))}
    elif kind == "flatten":
        _no(cfg, desc, data_format=(None, "channels_last"))
    elif kind == "concatenate":
        _no(cfg, desc, axis=(-1, 1))
    elif kind == "rescaling":
        scale, offset = cfg.get("scale", 1.0), cfg.get("offset", 0.0)
        node.config = {"scale": _scale_value(scale, desc, "scale"), "offset": _scale_value(offset, desc, "offset")}
    elif kind == "normalization":
        _no(cfg, desc, axis=(-1, [-1]), invert=False)
        node.config = {"mean": cfg.get("mean"), "variance": cfg.get("variance")}
    return node


def _scale_value(value: Any, desc: str, key: str) -> float | list[float]:
    """A Rescaling's scale or offset: one number, or one per unit (a target scaling of several units)."""

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if number(value):
        return float(value)
    if isinstance(value, list) and value and all(number(v) for v in value):
        return [float(v) for v in value]
    raise ImportRefused(f"{desc} has the {key} {value!r}. Expected a number or a list of numbers (one per unit)")


def _history(value: Any, where: str) -> list[str]:
    """Names of the layers a functional layer's call reads (from its serialized arguments)."""
    names: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "__keras_tensor__":
                history = (item.get("config") or {}).get("keras_history")
                if not isinstance(history, list) or not history or not isinstance(history[0], str):
                    raise ImportRefused(f"{where}: an input without keras_history. Expected a Keras 3 model")
                if history[1:2] not in ([0], []) or history[2:3] not in ([0], []):
                    raise ImportRefused(f"{where}: reads a second call of a shared layer. Expected no shared layers")
                names.append(history[0])
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return names


def read_graph(path: Path, config: dict[str, Any]) -> Graph:
    """The layer graph a checked ``config.json`` describes."""
    source = str(path)
    cls, layers = _layer_list(config, source)
    body = config["config"]
    nodes: dict[str, GNode] = {}
    notes: list[str] = []
    count = len(layers)
    if cls == "Sequential":
        previous: str | None = None
        inputs: list[str] = []
        for index, layer in enumerate(layers):
            node = _node(layer, index, count, source, [previous] if previous else [])
            if node.kind == "input" and index:
                raise ImportRefused(f"{source}: {node.describe()} is an input in the middle. Expected it first")
            if index == 0 and node.kind != "input":
                shape = body.get("build_input_shape")
                if shape is None:
                    raise ImportRefused(
                        f"{source}: the Sequential model was never built, so its input shape is unknown. "
                        "Expected a model built with keras.Input(shape=...)"
                    )
                entry = GNode("input_layer", "input", [], {}, "InputLayer", "the model's input")
                entry.shape = _shape(shape, f"{source}: build_input_shape")
                nodes[entry.name] = entry
                inputs = [entry.name]
                node.inputs = [entry.name]
            if node.kind == "input":
                inputs = [node.name]
            if node.name in nodes:
                raise ImportRefused(
                    f"{source}: {node.describe()}: a second layer with this name. Expected unique names"
                )
            nodes[node.name] = node
            previous = node.name
        if previous is None or previous in inputs:
            raise ImportRefused(f"{source}: the model has no layers. Expected at least an output layer")
        outputs = [previous]
    else:
        for index, layer in enumerate(layers):
            name = _name(layer)
            where = f"{source}: layer {index + 1} of {count}, {name!r}"
            inbound = layer.get("inbound_nodes") or []
            if not isinstance(inbound, list):
                raise ImportRefused(f"{where}: inbound_nodes is not a list. Expected a Keras 3 model")
            if len(inbound) > 1:
                raise ImportRefused(
                    f"{where} ({layer.get('class_name')}) is called {len(inbound)} times (a shared layer). "
                    "Expected each layer used once"
                )
            parents = _history(inbound[0].get("args") if inbound and isinstance(inbound[0], dict) else [], where)
            node = _node(layer, index, count, source, parents)
            if node.name in nodes:
                raise ImportRefused(
                    f"{source}: {node.describe()}: a second layer with this name. Expected unique names"
                )
            nodes[node.name] = node
        inputs = [_endpoint(e, source, "input_layers") for e in _endpoints(body.get("input_layers"))]
        outputs = [_endpoint(e, source, "output_layers") for e in _endpoints(body.get("output_layers"))]
    _drop_identities(nodes, outputs)
    graph = Graph(
        name=identifier(str(body.get("name") or ""), identifier(path.stem, "imported")),
        nodes=nodes,
        inputs=inputs,
        outputs=outputs,
        source=source,
        notes=notes,
    )
    for name in inputs + outputs:
        if name not in nodes:
            raise ImportRefused(f"{source}: the model names {name!r} as an input or output, but has no such layer")
    graph.training = _training(config.get("compile_config"), outputs, source, notes)
    return graph


def _drop_identities(nodes: dict[str, GNode], outputs: list[str]) -> None:
    """Linear Activation layers compute nothing: read through them."""
    for name in [n for n, node in nodes.items() if node.config.get("identity")]:
        node = nodes[name]
        if name in outputs or len(node.inputs) != 1:
            raise ImportRefused(f"{node.describe()}: a linear activation as an output. Expected a Dense output layer")
        for other in nodes.values():
            other.inputs = [node.inputs[0] if p == name else p for p in other.inputs]
        del nodes[name]


def _endpoints(value: Any) -> list[Any]:
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    if isinstance(value, dict):
        return list(value.values())
    return list(value or [])


def _endpoint(entry: Any, source: str, key: str) -> str:
    if isinstance(entry, list) and entry and isinstance(entry[0], str):
        return entry[0]
    raise ImportRefused(f"{source}: config.json /config/{key} holds {entry!r}. Expected [layer name, 0, 0] entries")


def _per_output(value: Any, outputs: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict) and not ("class_name" in value and "config" in value):
        return {k: v for k, v in value.items() if k in outputs}
    if isinstance(value, (list, tuple)) and len(outputs) > 1 and len(value) == len(outputs):
        return dict(zip(outputs, value))
    return {name: value for name in outputs}


def _loss_name(value: Any, output: str, source: str) -> str | None:
    if value is None:
        return None
    cfg = value.get("config") if isinstance(value, dict) else None
    name = value.get("class_name") if isinstance(value, dict) else value
    if isinstance(cfg, dict) and cfg.get("from_logits"):
        raise ImportRefused(
            f"{source}: the loss of output {output!r} works on logits (from_logits=True). Expected the output layer "
            "to apply its sigmoid or softmax and the loss to take probabilities"
        )
    if name not in LOSSES:
        raise ImportRefused(
            f"{source}: output {output!r} is compiled with the loss {name!r}. Expected one of "
            f"{', '.join(sorted(set(LOSSES.values())))}"
        )
    return LOSSES[name]


def _training(compile_config: Any, outputs: list[str], source: str, notes: list[str]) -> Training:
    training = Training()
    if not isinstance(compile_config, dict):
        return training
    for name, loss in _per_output(compile_config.get("loss"), outputs).items():
        loss_name = _loss_name(loss, name, source)
        if loss_name:
            training.losses[name] = loss_name
    weights = compile_config.get("loss_weights")
    for name, weight in _per_output(weights, outputs).items():
        if isinstance(weight, (int, float)) and not isinstance(weight, bool):
            training.loss_weights[name] = float(weight)
    training.compiled_loss_weights = True
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list) and len(outputs) > 1 and not any(isinstance(m, list) for m in metrics):
        metrics = {name: metrics for name in outputs}
    for name, entries in _per_output(metrics, outputs).items():
        found: list[str] = []
        for entry in entries if isinstance(entries, list) else [entries]:
            key: Any = entry.get("class_name") if isinstance(entry, dict) else entry
            if key == "BinaryAccuracy" or (
                key == "AUC" and isinstance(entry, dict) and (entry.get("config") or {}).get("multi_label")
            ):
                training.multilabel.add(name)
            if key == "MeanMetricWrapper" and isinstance(entry, dict):
                key = (entry.get("config") or {}).get("name")
            if key in METRICS:
                if METRICS[key] not in found:
                    found.append(METRICS[key])
            else:
                notes.append(f"output {name!r}: the metric {key!r} has no spec equivalent and was left out")
        training.metrics[name] = found
    _optimizer(compile_config.get("optimizer"), training, source, notes)
    return training


def _optimizer(value: Any, training: Training, source: str, notes: list[str]) -> None:
    if not isinstance(value, dict):
        if isinstance(value, str) and value.capitalize() in ("Adam", "Sgd", "Rmsprop", "Nadam", "Adamw"):
            training.optimizer = {"name": value.lower()}
        return
    cls, cfg = value.get("class_name"), value.get("config") or {}
    if cls not in OPTIMIZERS:
        notes.append(f"the optimizer {cls!r} has no spec equivalent; the spec uses the default (adam)")
        return
    name = OPTIMIZERS[cls]
    optimizer: dict[str, Any] = {"name": name}
    rate = cfg.get("learning_rate")
    if isinstance(rate, dict):
        scfg = rate.get("config") or {}
        if rate.get("class_name") == "ExponentialDecay" and not scfg.get("staircase"):
            training.schedule = {
                "type": "exponential",
                "decay_steps": int(scfg["decay_steps"]),
                "decay_rate": float(scfg["decay_rate"]),
            }
        elif rate.get("class_name") == "CosineDecay" and not scfg.get("warmup_steps"):
            training.schedule = {
                "type": "cosine",
                "decay_steps": int(scfg["decay_steps"]),
                "alpha": float(scfg["alpha"]),
            }
        else:
            notes.append(f"the learning-rate schedule {rate.get('class_name')!r} was left out (no spec equivalent)")
        rate = scfg.get("initial_learning_rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        optimizer["learning_rate"] = float32_value(rate)
    if name in ("sgd", "rmsprop") and isinstance(cfg.get("momentum"), (int, float)):
        optimizer["momentum"] = float(cfg["momentum"])
    if name == "sgd":
        optimizer["nesterov"] = bool(cfg.get("nesterov", False))
    if name == "adamw" and isinstance(cfg.get("weight_decay"), (int, float)):
        optimizer["weight_decay"] = float32_value(cfg["weight_decay"])
    for key in ("clipnorm", "clipvalue"):
        if isinstance(cfg.get(key), (int, float)):
            optimizer[key] = float(cfg[key])
    training.optimizer = optimizer
