"""Spec -> Keras 3 model. Imports Keras only when called.

Everything here maps the closed registries of the spec onto Keras objects; a
spec can never name a Python object to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..spec import Spec, load_spec
from ..spec.plan import Node, Plan

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Multiclass/binary metric names understood by Keras as strings.
_STRING_METRICS = {"accuracy"}


def _keras() -> Any:
    from .. import tfenv

    tfenv.quiet()
    import keras

    return keras


def regularizer(config: dict[str, float] | None) -> Any:
    """``{"l1": a, "l2": b}`` -> the Keras regularizer a hand-written model would use."""
    if not config:
        return None
    keras = _keras()
    l1, l2 = config.get("l1"), config.get("l2")
    if l1 is not None and l2 is not None:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l1 is not None:
        return keras.regularizers.L1(l1)
    return keras.regularizers.L2(l2)


def make_layer(node: Node) -> Any:
    """The Keras layer for one planned node (not for inputs)."""
    keras = _keras()
    layers = keras.layers
    cfg = node.config
    kind = node.kind
    if kind == "dense":
        constraint = cfg.get("kernel_constraint")
        return layers.Dense(
            cfg["units"],
            activation=None if cfg["activation"] == "linear" else cfg["activation"],
            use_bias=cfg["use_bias"],
            kernel_initializer=cfg["kernel_initializer"],
            bias_initializer=cfg["bias_initializer"],
            kernel_regularizer=regularizer(cfg.get("kernel_regularizer")),
            bias_regularizer=regularizer(cfg.get("bias_regularizer")),
            activity_regularizer=regularizer(cfg.get("activity_regularizer")),
            kernel_constraint=keras.constraints.MaxNorm(constraint["max_norm"]) if constraint else None,
            name=node.name,
        )
    if kind == "activation":
        return layers.Activation(cfg["activation"], name=node.name)
    if kind == "leaky_relu":
        return layers.LeakyReLU(negative_slope=cfg["negative_slope"], name=node.name)
    if kind == "prelu":
        return layers.PReLU(name=node.name)
    if kind == "elu":
        return layers.ELU(alpha=cfg["alpha"], name=node.name)
    if kind == "batch_normalization":
        return layers.BatchNormalization(
            momentum=cfg["momentum"],
            epsilon=cfg["epsilon"],
            center=cfg["center"],
            scale=cfg["scale"],
            name=node.name,
        )
    if kind == "dropout":
        return layers.Dropout(cfg["rate"], name=node.name)
    if kind == "alpha_dropout":
        return layers.AlphaDropout(cfg["rate"], name=node.name)
    if kind == "flatten":
        return layers.Flatten(name=node.name)
    if kind == "concatenate":
        return layers.Concatenate(axis=-1, name=node.name)
    if kind == "rescaling":
        return layers.Rescaling(scale=cfg["scale"], offset=cfg["offset"], name=node.name)
    if kind == "normalization":
        return layers.Normalization(axis=-1, name=node.name)
    raise ValueError(f"Expected a known layer kind. Received: {kind!r}")  # pragma: no cover


def _is_sequential(plan: Plan) -> bool:
    return plan.topology == "sequential" and len(plan.inputs) == 1 and len(plan.outputs) == 1


def build_architecture(spec: Spec) -> keras.Model:
    """The uncompiled model of a valid spec, with the spec's names."""
    keras = _keras()
    plan = spec.plan
    assert plan is not None
    if _is_sequential(plan):
        first = plan.nodes[0]
        stack = [keras.Input(shape=first.shape, name=first.name)]
        stack += [make_layer(n) for n in plan.nodes[1:]]
        return keras.Sequential(stack, name=plan.name)
    tensors: dict[str, Any] = {}
    for node in plan.nodes:
        if node.kind == "input":
            tensors[node.name] = keras.Input(shape=node.shape, name=node.name)
            continue
        args = [tensors[i] for i in node.inputs]
        tensors[node.name] = make_layer(node)(args if node.kind == "concatenate" else args[0])
    return keras.Model(
        inputs=[tensors[n] for n in plan.inputs],
        outputs=[tensors[n] for n in plan.outputs],
        name=plan.name,
    )


def make_optimizer(training: dict[str, Any]) -> Any:
    """The Keras optimizer (with its learning-rate schedule) for the training section."""
    keras = _keras()
    opt = training["optimizer"]
    lr: Any = float(opt["learning_rate"])  # JSON may hold an integer; Keras wants a float
    schedule = training.get("learning_rate_schedule", {"type": "constant"})
    if schedule.get("type") == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(lr, schedule["decay_steps"], schedule["decay_rate"])
    elif schedule.get("type") == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, schedule["decay_steps"], alpha=schedule["alpha"])
    clip = {k: opt[k] for k in ("clipnorm", "clipvalue") if k in opt}
    name = opt["name"]
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=opt["momentum"], nesterov=opt["nesterov"], **clip)
    if name == "adam":
        return keras.optimizers.Adam(lr, **clip)
    if name == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=opt["weight_decay"], **clip)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=opt["momentum"], **clip)
    if name == "nadam":
        return keras.optimizers.Nadam(lr, **clip)
    raise ValueError(f"Expected a known optimizer. Received: {name!r}")  # pragma: no cover


def make_metric(name: str, output: dict[str, Any]) -> Any:
    """A Keras metric for a registry name, fitted to the output's task."""
    keras = _keras()
    metrics = keras.metrics
    if name == "accuracy" and output["task"] == "multilabel":
        # Keras resolves the string to categorical accuracy for several units; labels are independent yes/no.
        return metrics.BinaryAccuracy(name="accuracy")
    if name in _STRING_METRICS:
        return name
    if name == "mae":
        return metrics.MeanAbsoluteError(name="mae")
    if name == "mse":
        return metrics.MeanSquaredError(name="mse")
    if name == "rmse":
        return metrics.RootMeanSquaredError(name="rmse")
    if name == "auc":
        return metrics.AUC(name="auc", multi_label=output["task"] == "multilabel")
    if name == "precision":
        return metrics.Precision(name="precision")
    if name == "recall":
        return metrics.Recall(name="recall")
    raise ValueError(f"Expected a known metric. Received: {name!r}")  # pragma: no cover


def compile_model(
    model: keras.Model,
    spec: Spec,
    *,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Compile with the spec's optimizer, a loss per output, loss weights and metrics."""
    filled = spec.filled
    assert filled is not None
    outputs = filled["outputs"]
    names = [o["name"] for o in outputs]
    if len(outputs) == 1:
        loss: Any = outputs[0]["loss"]
        metrics: Any = [make_metric(m, outputs[0]) for m in outputs[0]["metrics"]]
        weights: Any = None
    else:
        loss = {n: o["loss"] for n, o in zip(names, outputs)}
        metrics = {n: [make_metric(m, o) for m in o["metrics"]] for n, o in zip(names, outputs)}
        weights = {n: o["loss_weight"] for n, o in zip(names, outputs)}
    model.compile(
        optimizer=make_optimizer(filled["training"]),
        loss=loss,
        loss_weights=weights,
        metrics=metrics,
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


def build_model(
    source: Any,
    *,
    compile: bool = True,
    seed: int | None = None,
    normalization: dict[str, tuple[Any, Any]] | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Build the Keras model of a spec (path, dict or Spec), seeded by the spec's seed.

    ``normalization`` maps input names to (mean, variance) arrays for inputs
    marked ``normalize``; without it those layers start as the identity.
    """
    spec = load_spec(source)
    keras = _keras()
    filled = spec.filled
    assert filled is not None
    keras.utils.set_random_seed(filled["training"]["seed"] if seed is None else seed)
    model = build_architecture(spec)
    for name, (mean, variance) in (normalization or {}).items():
        set_normalization(model, name, mean, variance)
    if compile:
        compile_model(model, spec, steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    return model


def set_normalization(model: keras.Model, input_name: str, mean: Any, variance: Any) -> None:
    """Set the statistics of an input's Normalization layer (as ``adapt`` would)."""
    import numpy as np

    layer = model.get_layer(f"{input_name}_normalization")
    mean_w, variance_w, count_w = layer.weights
    mean = np.asarray(mean, dtype="float32").reshape(mean_w.shape)
    variance = np.asarray(variance, dtype="float32").reshape(variance_w.shape)
    layer.set_weights([mean, variance, np.zeros(count_w.shape, dtype=count_w.dtype)])
    layer.finalize_state()
