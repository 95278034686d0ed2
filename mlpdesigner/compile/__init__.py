"""Spec -> Keras 3 model. Imports Keras only when called.

Everything here maps the closed registries of the spec onto Keras objects; a
spec can never name a Python object to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..spec import Spec, load_spec
from ..spec.plan import Node, Plan
from ..spec.registry import KerasCall, keras_targets, layer_call, metric_call, optimizer_call

_TARGETS = keras_targets()

if TYPE_CHECKING:  # pragma: no cover
    import keras

def _keras() -> Any:
    from .. import tfenv

    tfenv.quiet()
    import keras

    return keras


def instantiate(value: Any) -> Any:
    """Build what a registry :class:`~mlpdesigner.spec.registry.KerasCall` describes (nested calls first).

    Only targets the registry can produce are looked up on ``keras``.
    """
    if isinstance(value, KerasCall):
        if value.target not in _TARGETS:  # pragma: no cover - the registry only makes known targets
            raise ValueError(f"Expected a Keras object from the registry. Received: {value.target!r}")
        factory: Any = _keras()
        for part in value.target.split("."):
            factory = getattr(factory, part)
        return factory(*(instantiate(a) for a in value.args), **{k: instantiate(v) for k, v in value.kwargs})
    if isinstance(value, tuple):
        return tuple(instantiate(v) for v in value)
    return value


TargetScaling = dict[str, tuple[Any, Any]]


def _scalar_or_list(values: Any) -> float | list[float]:
    """A JSON-friendly scale or offset: one float for one unit, else a list per unit."""
    import numpy as np

    flat = [float(v) for v in np.asarray(values, dtype="float64").reshape(-1)]
    return flat[0] if len(flat) == 1 else flat


def make_layer(node: Node, target_scaling: TargetScaling | None = None) -> Any:
    """The Keras layer for one planned node (not for inputs).

    ``target_scaling`` maps output names to (scale, offset) per unit: the training
    targets' statistics for an output's target-scaling Rescaling layer.
    """
    cfg = node.config
    if node.kind == "rescaling" and cfg.get("target_scaling") and target_scaling and node.name in target_scaling:
        scale, offset = target_scaling[node.name]
        cfg = {**cfg, "scale": _scalar_or_list(scale), "offset": _scalar_or_list(offset)}
        return instantiate(layer_call(node.kind, node.name, cfg))
    return instantiate(node.keras_call)


def _is_sequential(plan: Plan) -> bool:
    return plan.topology == "sequential" and len(plan.inputs) == 1 and len(plan.outputs) == 1


def build_architecture(spec: Spec, target_scaling: TargetScaling | None = None) -> keras.Model:
    """The uncompiled model of a valid spec, with the spec's names (and the targets' scaling, if given)."""
    keras = _keras()
    plan = spec.checked()[1]
    if _is_sequential(plan):
        first = plan.nodes[0]
        stack = [keras.Input(shape=first.shape, name=first.name)]
        stack += [make_layer(n, target_scaling) for n in plan.nodes[1:]]
        return keras.Sequential(stack, name=plan.name)
    tensors: dict[str, Any] = {}
    for node in plan.nodes:
        if node.kind == "input":
            tensors[node.name] = keras.Input(shape=node.shape, name=node.name)
            continue
        args = [tensors[i] for i in node.inputs]
        tensors[node.name] = make_layer(node, target_scaling)(args if node.kind == "concatenate" else args[0])
    return keras.Model(
        inputs=[tensors[n] for n in plan.inputs],
        outputs=[tensors[n] for n in plan.outputs],
        name=plan.name,
    )


def make_optimizer(training: dict[str, Any]) -> Any:
    """The Keras optimizer (with its learning-rate schedule) for the training section."""
    return instantiate(optimizer_call(training))


def make_metric(name: str, output: dict[str, Any]) -> Any:
    """A Keras metric for a registry name, fitted to the output's task."""
    return instantiate(metric_call(name, output))


def scaled_loss(output: dict[str, Any], scale: Any) -> tuple[Any, float]:
    """(loss, weight factor) that make a scaled output's loss what it is on standardized targets.

    The model predicts in data units (``y = scale * z + offset``), so its errors are
    ``scale`` times those of the unit-scale network output ``z``: MSE grows with
    ``scale**2``, MAE with ``scale``. Dividing by that factor gives the loss (and its
    gradients) the size it has on standardized targets, whatever the data's units;
    Huber's threshold moves to data units with it (delta = scale). log-cosh has no
    such parameter: it is weighted like MAE, which it follows for large errors.
    Metrics stay in data units.
    """
    import numpy as np

    scales = np.asarray(scale, dtype="float64").reshape(-1)
    linear = float(np.mean(scales))
    square = float(np.mean(scales**2))
    name = output["loss"]
    if name == "mse":
        return name, 1.0 / square
    if name == "huber":
        keras = _keras()
        return keras.losses.Huber(delta=float(np.sqrt(square)), name="huber"), 1.0 / square
    return name, 1.0 / linear


def compile_model(
    model: keras.Model,
    spec: Spec,
    *,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
    target_scaling: TargetScaling | None = None,
) -> keras.Model:
    """Compile with the spec's optimizer, a loss per output, loss weights and metrics.

    With ``target_scaling`` the losses of the scaled outputs are weighted to their
    standardized size (:func:`scaled_loss`).
    """
    filled = spec.checked()[0]
    outputs = filled["outputs"]
    names = [o["name"] for o in outputs]
    losses: list[Any] = []
    factors: list[float] = []
    for out in outputs:
        if target_scaling and out["name"] in target_scaling:
            loss_object, factor = scaled_loss(out, target_scaling[out["name"]][0])
        else:
            loss_object, factor = out["loss"], 1.0
        losses.append(loss_object)
        factors.append(factor)
    if len(outputs) == 1:
        loss: Any = losses[0]
        metrics: Any = [make_metric(m, outputs[0]) for m in outputs[0]["metrics"]]
        weights: Any = None if factors[0] == 1.0 else [factors[0]]
    else:
        loss = dict(zip(names, losses))
        metrics = {n: [make_metric(m, o) for m in o["metrics"]] for n, o in zip(names, outputs)}
        weights = {n: o["loss_weight"] * f for n, o, f in zip(names, outputs, factors)}
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
    target_scaling: TargetScaling | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Build the Keras model of a spec (path, dict or Spec), seeded by the spec's seed.

    ``normalization`` maps input names to (mean, variance) arrays for inputs
    marked ``normalize``; without it those layers start as the identity.
    ``target_scaling`` maps regression output names to (scale, offset) per unit
    (see :func:`mlpdesigner.train.data.target_statistics`); without it the
    target-scaling layers are the identity.
    """
    spec = load_spec(source)
    keras = _keras()
    filled = spec.checked()[0]
    keras.utils.set_random_seed(filled["training"]["seed"] if seed is None else seed)
    model = build_architecture(spec, target_scaling)
    for name, (mean, variance) in (normalization or {}).items():
        set_normalization(model, name, mean, variance)
    if compile:
        compile_model(
            model,
            spec,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
            target_scaling=target_scaling,
        )
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
