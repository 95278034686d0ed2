"""The one registry of Keras objects a spec can name: layers, optimizers, metrics and callbacks (pure Python).

Each entry says which Keras class a spec object becomes and with which
JSON-safe arguments, as a :class:`KerasCall`. The compiler
(:mod:`mlpdesigner.compile`) instantiates these calls; the code generator
(:mod:`mlpdesigner.export.codegen`) renders the same calls as Python, leaving
out arguments equal to Keras' defaults. Adding a layer type means adding it to
the schema and one :class:`LayerKind` here.

Only names from this module ever reach ``keras.<target>``: a spec can never
name a Python object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]


@dataclass(frozen=True)
class KerasCall:
    """``keras.<target>(*args, **kwargs)`` as data; values are JSON-safe, tuples, or nested calls.

    ``defaults`` holds Keras' own default of keyword arguments that generated
    code leaves out when the value equals it (same value and same type).
    """

    target: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()

    def explicit_kwargs(self) -> list[tuple[str, Any]]:
        """The keyword arguments that differ from Keras' defaults (what generated code writes)."""
        defaults = dict(self.defaults)
        return [
            (key, value)
            for key, value in self.kwargs
            if not (key in defaults and value == defaults[key] and type(value) is type(defaults[key]))
        ]


# --------------------------------------------------------------------------- layers


def _same_shape(shape: Shape, config: dict[str, Any]) -> Shape:
    return shape


def _no_params(shape: Shape, config: dict[str, Any]) -> tuple[int, int]:
    return 0, 0


@dataclass(frozen=True)
class LayerKind:
    """A kind of plan node: its Keras class, how its arguments come from its config, its shape and weights."""

    keras_class: str
    #: Config keys passed positionally, then by keyword (in this order).
    args: tuple[str, ...] = ()
    kwargs: tuple[str, ...] = ()
    #: Keras' defaults of keyword arguments (left out of generated code).
    defaults: dict[str, Any] = field(default_factory=dict)
    #: The node's config from the spec's layer object (schema defaults already filled).
    config: Callable[[dict[str, Any]], dict[str, Any]] = lambda layer: {}
    shape: Callable[[Shape, dict[str, Any]], Shape] = _same_shape
    #: (trainable, non-trainable) parameter counts for an input of this shape.
    params: Callable[[Shape, dict[str, Any]], tuple[int, int]] = _no_params


def regularizer_call(config: dict[str, float] | None) -> KerasCall | None:
    """``{"l1": a, "l2": b}`` -> the Keras regularizer a hand-written model would use."""
    if not config:
        return None
    l1, l2 = config.get("l1"), config.get("l2")
    if l1 is not None and l2 is not None:
        return KerasCall("regularizers.L1L2", kwargs=(("l1", l1), ("l2", l2)))
    if l1 is not None:
        return KerasCall("regularizers.L1", (l1,))
    return KerasCall("regularizers.L2", (l2,))


def _constraint_call(config: dict[str, float] | None) -> KerasCall | None:
    return KerasCall("constraints.MaxNorm", (config["max_norm"],)) if config else None


#: How a config value becomes an argument, for keys that are not passed as they are.
ARGUMENT_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "activation": lambda value: None if value == "linear" else value,
    "kernel_regularizer": regularizer_call,
    "bias_regularizer": regularizer_call,
    "activity_regularizer": regularizer_call,
    "kernel_constraint": _constraint_call,
}

_DENSE_KEYS = (
    "activation", "use_bias", "kernel_initializer", "bias_initializer",
    "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
)


def _dense_config(layer: dict[str, Any]) -> dict[str, Any]:
    config = {k: layer.get(k) for k in ("units", *_DENSE_KEYS)}
    config["activation"] = config["activation"] or "linear"
    config["use_bias"] = layer.get("use_bias", True)
    config["kernel_initializer"] = config["kernel_initializer"] or "glorot_uniform"
    config["bias_initializer"] = config["bias_initializer"] or "zeros"
    return config


def _dense_params(shape: Shape, config: dict[str, Any]) -> tuple[int, int]:
    units = config["units"]
    return shape[-1] * units + (units if config.get("use_bias", True) else 0), 0


def _batch_norm_config(layer: dict[str, Any]) -> dict[str, Any]:
    return {
        "momentum": layer.get("momentum", 0.99),
        "epsilon": layer.get("epsilon", 0.001),
        "center": layer.get("center", True),
        "scale": layer.get("scale", True),
    }


def _batch_norm_params(shape: Shape, config: dict[str, Any]) -> tuple[int, int]:
    channels = shape[-1]
    return channels * (int(config["center"]) + int(config["scale"])), 2 * channels


def _layer_norm_config(layer: dict[str, Any]) -> dict[str, Any]:
    return {
        "epsilon": layer.get("epsilon", 0.001),
        "center": layer.get("center", True),
        "scale": layer.get("scale", True),
    }


def _layer_norm_params(shape: Shape, config: dict[str, Any]) -> tuple[int, int]:
    return shape[-1] * (int(config["center"]) + int(config["scale"])), 0


def _rate(layer: dict[str, Any]) -> dict[str, Any]:
    return {"rate": layer["rate"]}


#: Plan node kinds -> Keras. ``input`` is ``keras.Input``, built apart.
LAYERS: dict[str, LayerKind] = {
    "dense": LayerKind(
        "Dense", args=("units",), kwargs=_DENSE_KEYS,
        defaults={"activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
                  "bias_initializer": "zeros", "kernel_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None},
        config=_dense_config, shape=lambda shape, config: shape[:-1] + (config["units"],), params=_dense_params,
    ),
    "activation": LayerKind("Activation", args=("activation",)),
    "leaky_relu": LayerKind("LeakyReLU", kwargs=("negative_slope",)),
    "prelu": LayerKind("PReLU", params=lambda shape, config: (math.prod(shape), 0)),
    "elu": LayerKind("ELU", kwargs=("alpha",)),
    "batch_normalization": LayerKind(
        "BatchNormalization", kwargs=("momentum", "epsilon", "center", "scale"),
        defaults={"momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True},
        config=_batch_norm_config, params=_batch_norm_params,
    ),
    "layer_normalization": LayerKind(
        "LayerNormalization", kwargs=("epsilon", "center", "scale"),
        defaults={"epsilon": 0.001, "center": True, "scale": True},
        config=_layer_norm_config, params=_layer_norm_params,
    ),
    "dropout": LayerKind("Dropout", args=("rate",), config=_rate),
    "alpha_dropout": LayerKind("AlphaDropout", args=("rate",), config=_rate),
    "gaussian_noise": LayerKind("GaussianNoise", args=("stddev",), config=lambda layer: {"stddev": layer["stddev"]}),
    "flatten": LayerKind("Flatten", shape=lambda shape, config: (math.prod(shape),)),
    "concatenate": LayerKind("Concatenate", kwargs=("axis",), defaults={"axis": -1}),
    "rescaling": LayerKind("Rescaling", kwargs=("scale", "offset")),
    "normalization": LayerKind(
        "Normalization", kwargs=("axis",), defaults={"axis": -1},
        params=lambda shape, config: (0, 2 * shape[-1] + 1),
    ),
}


def activation_kind(layer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An ``activation`` layer's node: activations with a parameter get their own Keras layer."""
    act = layer["activation"]
    if act == "leaky_relu":
        return "leaky_relu", {"negative_slope": layer.get("negative_slope", 0.2)}
    if act == "prelu":
        return "prelu", {}
    if act == "elu":
        return "elu", {"alpha": layer.get("alpha", 1.0)}
    return "activation", {"activation": act}


def layer_call(kind: str, name: str, config: dict[str, Any]) -> KerasCall:
    """The Keras constructor call of a plan node (not an input)."""
    entry = LAYERS[kind]

    def argument(key: str) -> Any:
        value = config.get(key)
        convert = ARGUMENT_CONVERTERS.get(key)
        return convert(value) if convert else value

    return KerasCall(
        "layers." + entry.keras_class,
        tuple(argument(k) for k in entry.args),
        tuple((k, argument(k)) for k in entry.kwargs) + (("name", name),),
        tuple(entry.defaults.items()),
    )


# --------------------------------------------------------------------------- optimizers


#: Optimizer name -> (Keras class, the optimizer's own keyword arguments).
OPTIMIZERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sgd": ("SGD", ("momentum", "nesterov")),
    "adam": ("Adam", ()),
    "adamw": ("AdamW", ("weight_decay",)),
    "rmsprop": ("RMSprop", ("momentum",)),
    "nadam": ("Nadam", ()),
}

#: Gradient clipping arguments every optimizer takes.
CLIPPING = ("clipnorm", "clipvalue")


def learning_rate(training: dict[str, Any]) -> float | KerasCall:
    """The learning rate: a number, or the schedule that decays it."""
    lr = float(training["optimizer"]["learning_rate"])  # JSON may hold an integer; Keras wants a float
    schedule = training.get("learning_rate_schedule", {"type": "constant"})
    if schedule.get("type") == "exponential":
        return KerasCall("optimizers.schedules.ExponentialDecay", (lr, schedule["decay_steps"], schedule["decay_rate"]))
    if schedule.get("type") == "cosine":
        return KerasCall("optimizers.schedules.CosineDecay", (lr, schedule["decay_steps"]),
                         (("alpha", schedule["alpha"]),))
    return lr


def optimizer_call(training: dict[str, Any]) -> KerasCall:
    """The Keras optimizer of the training section, with its learning rate (or schedule) and clipping."""
    opt = training["optimizer"]
    keras_class, own = OPTIMIZERS[opt["name"]]
    kwargs = tuple((k, opt[k]) for k in own) + tuple((k, opt[k]) for k in CLIPPING if k in opt)
    return KerasCall("optimizers." + keras_class, (learning_rate(training),), kwargs)


# --------------------------------------------------------------------------- metrics


#: Metric name -> Keras class, for metrics that need nothing from the output.
METRICS: dict[str, str] = {
    "mae": "MeanAbsoluteError",
    "mse": "MeanSquaredError",
    "rmse": "RootMeanSquaredError",
    "precision": "Precision",
    "recall": "Recall",
}


def metric_call(name: str, output: dict[str, Any]) -> str | KerasCall:
    """A metric for an output: the string Keras resolves itself, or a metric object fitted to the task."""
    multilabel = output["task"] == "multilabel"
    if name == "accuracy":
        # Keras resolves "accuracy" to categorical accuracy for several units; labels are independent yes/no.
        return KerasCall("metrics.BinaryAccuracy", kwargs=(("name", "accuracy"),)) if multilabel else "accuracy"
    if name == "auc":
        return KerasCall("metrics.AUC", kwargs=(("name", "auc"), ("multi_label", multilabel)),
                         defaults=(("multi_label", False),))
    if name not in METRICS:  # pragma: no cover - the schema rules this out
        raise ValueError(f"Expected a known metric. Received: {name!r}")
    return KerasCall("metrics." + METRICS[name], kwargs=(("name", name),))


# --------------------------------------------------------------------------- callbacks


def callback_calls(
    training: dict[str, Any],
    monitor: Callable[[str, str], str] = lambda section, name: name,
    warnings: list[str] | None = None,
    *,
    plateau_with_schedule: bool = False,
) -> list[KerasCall]:
    """Early stopping and reduce-on-plateau from the training section.

    ``monitor(section, name)`` may change what a callback watches (the runner
    watches ``loss`` when there is no validation split); ``warnings`` collects
    what was ignored and why. Training ignores reduce-on-plateau when a
    learning-rate schedule is set; generated scripts have always kept it
    (``plateau_with_schedule``), and their golden files hold it so.
    """
    calls = []
    stopping = training.get("early_stopping")
    if stopping and stopping.get("enabled", True):
        calls.append(KerasCall("callbacks.EarlyStopping", kwargs=(
            ("monitor", monitor("early_stopping", stopping["monitor"])),
            ("patience", stopping["patience"]),
            ("min_delta", stopping["min_delta"]),
            ("restore_best_weights", stopping["restore_best_weights"]),
        )))
    plateau = training.get("reduce_lr_on_plateau")
    if plateau and plateau.get("enabled", True):
        scheduled = training.get("learning_rate_schedule", {}).get("type", "constant") != "constant"
        if scheduled and not plateau_with_schedule:
            if warnings is not None:
                warnings.append(
                    "training.reduce_lr_on_plateau is ignored: the learning rate already follows "
                    "training.learning_rate_schedule"
                )
        else:
            calls.append(KerasCall("callbacks.ReduceLROnPlateau", kwargs=(
                ("monitor", monitor("reduce_lr_on_plateau", plateau["monitor"])),
                ("factor", plateau["factor"]),
                ("patience", plateau["patience"]),
                ("min_lr", plateau["min_lr"]),
            )))
    return calls


def keras_targets() -> set[str]:
    """Every ``keras.<target>`` this registry can produce (what the compiler may instantiate)."""
    targets = {"layers." + kind.keras_class for kind in LAYERS.values()}
    targets |= {"optimizers." + cls for cls, _ in OPTIMIZERS.values()}
    targets |= {"metrics." + cls for cls in METRICS.values()} | {"metrics.BinaryAccuracy", "metrics.AUC"}
    targets |= {"regularizers.L1L2", "regularizers.L1", "regularizers.L2", "constraints.MaxNorm"}
    targets |= {"optimizers.schedules.ExponentialDecay", "optimizers.schedules.CosineDecay"}
    targets |= {"callbacks.EarlyStopping", "callbacks.ReduceLROnPlateau"}
    return targets
