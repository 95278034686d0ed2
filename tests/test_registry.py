"""One registry of Keras objects for the compiler and the code generator (mlpdesigner.spec.registry)."""

from __future__ import annotations

import ast
import copy
import inspect
import json
from typing import Any

import pytest

from mlpdesigner.resources import example_names, example_path
from mlpdesigner.spec import load_spec
from mlpdesigner.spec.operations import LAYER_TEMPLATES
from mlpdesigner.spec.registry import (
    LAYERS,
    KerasCall,
    callback_calls,
    keras_targets,
    metric_call,
    optimizer_call,
)

#: Every option a training section can hold, to reach every registry entry.
TRAININGS = [
    {"optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "clipnorm": 1.0}},
    {"optimizer": {"name": "adamw", "learning_rate": 1, "weight_decay": 0.01, "clipvalue": 0.5},
     "learning_rate_schedule": {"type": "cosine", "decay_steps": 100, "alpha": 0.1}},
    {"optimizer": {"name": "rmsprop", "learning_rate": 0.01, "momentum": 0.0},
     "learning_rate_schedule": {"type": "exponential", "decay_steps": 100, "decay_rate": 0.9}},
    {"optimizer": {"name": "nadam", "learning_rate": 0.002}},
    {"optimizer": {"name": "adam", "learning_rate": 0.001},
     "early_stopping": {"monitor": "val_loss", "patience": 3, "min_delta": 0.0, "restore_best_weights": True},
     "reduce_lr_on_plateau": {"monitor": "val_loss", "factor": 0.5, "patience": 2, "min_lr": 1e-6}},
]


def keras_module() -> Any:
    from mlpdesigner import tfenv

    tfenv.quiet()
    import keras

    return keras


def rendered(value: Any) -> Any:
    """What generated code builds for a registry value: the code run with ``keras`` in scope."""
    from mlpdesigner.export.codegen import render_call
    from mlpdesigner.export.pyformat import statement

    scope: dict[str, Any] = {"keras": keras_module()}
    exec(statement("built", render_call(value)), scope)  # noqa: S102 - code this test's registry rendered
    return scope["built"]


def config_of(obj: Any) -> Any:
    if isinstance(obj, str):
        return obj
    config = obj.get_config()
    if "ema_momentum" in config:  # an optimizer: Keras numbers unnamed ones (sgd, sgd_1, ...)
        config.pop("name")
    for key in ("learning_rate",):  # a schedule's config is nested; a plain rate is a float either way
        if isinstance(config.get(key), dict):
            config[key] = json.dumps(config[key], sort_keys=True)
    return type(obj).__name__, config


def test_every_schema_layer_type_is_in_the_registry() -> None:
    for kind in LAYER_TEMPLATES:
        if kind != "activation":  # activation layers become one of activation, leaky_relu, prelu, elu
            assert kind in LAYERS, f"{kind} is in the schema but not in the registry"
    assert {"activation", "leaky_relu", "prelu", "elu"} <= set(LAYERS)


def test_every_target_is_a_keras_class() -> None:
    keras = keras_module()
    for target in keras_targets():
        obj: Any = keras
        for part in target.split("."):
            obj = getattr(obj, part)
        assert inspect.isclass(obj), target


def test_defaults_left_out_of_generated_code_are_keras_defaults() -> None:
    keras = keras_module()
    checked = 0
    for kind in LAYERS.values():
        parameters = inspect.signature(getattr(keras.layers, kind.keras_class).__init__).parameters
        for key, default in kind.defaults.items():
            assert parameters[key].default == default, f"{kind.keras_class}({key}=...)"
            checked += 1
    auc = metric_call("auc", {"task": "binary"})
    assert isinstance(auc, KerasCall)
    parameters = inspect.signature(keras.metrics.AUC.__init__).parameters
    assert all(parameters[key].default == default for key, default in auc.defaults)
    assert checked >= 14


@pytest.mark.parametrize("example", example_names())
def test_generated_layers_equal_compiled_layers(example: str) -> None:
    """Every node of every starter design: the code generator's call builds the layer the compiler builds."""
    from mlpdesigner.compile import make_layer

    plan = load_spec(example_path(example)).plan
    assert plan is not None
    for node in plan.nodes:
        if node.kind != "input":
            assert config_of(rendered(node.keras_call)) == config_of(make_layer(node)), node.name


@pytest.mark.parametrize("training", TRAININGS, ids=lambda t: t["optimizer"]["name"])
def test_generated_optimizers_metrics_and_callbacks_equal_compiled_ones(training: dict[str, Any]) -> None:
    from mlpdesigner.compile import instantiate

    assert config_of(rendered(optimizer_call(training))) == config_of(instantiate(optimizer_call(training)))
    for call in callback_calls(training):
        built, made = rendered(call), instantiate(call)
        assert type(built) is type(made) and vars(built).keys() == vars(made).keys()
        assert {k: v for k, v in vars(built).items() if isinstance(v, (int, float, str))} == {
            k: v for k, v in vars(made).items() if isinstance(v, (int, float, str))}
    for task in ("regression", "binary", "multilabel", "multiclass"):
        for name in ("accuracy", "auc", "mae", "mse", "rmse", "precision", "recall"):
            call = metric_call(name, {"task": task})
            assert config_of(rendered(call)) == config_of(instantiate(call))


def test_generated_code_leaves_keras_defaults_out() -> None:
    from mlpdesigner.export.codegen import render_call
    from mlpdesigner.export.pyformat import statement
    from mlpdesigner.spec.registry import layer_call

    dense = layer_call("dense", "d", {"units": 4, "activation": "linear", "use_bias": True,
                                      "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"})
    assert statement("", render_call(dense)) == 'keras.layers.Dense(4, name="d")'
    norm = layer_call("batch_normalization", "b", {"momentum": 1, "epsilon": 0.001, "center": True, "scale": False})
    assert statement("", render_call(norm)) == 'keras.layers.BatchNormalization(momentum=1, scale=False, name="b")'


def test_module_names_cover_every_name_a_generated_script_binds() -> None:
    """The names no layer variable may take are read from the template and codegen; none is missed."""
    from mlpdesigner.export import generate_python
    from mlpdesigner.export.codegen import MODULE_NAMES

    raw = json.loads(example_path("flowers_multiclass").read_text("utf-8"))
    raw["training"]["class_weight"] = "balanced"
    code = generate_python(copy.deepcopy(raw), with_training=True)
    tree = ast.parse(code)
    bound = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            bound.add(node.name)
            if node.name == "build_model":
                bound |= {a.arg for a in node.args.args}
        elif isinstance(node, ast.Assign):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import):
            bound |= {alias.asname or alias.name for alias in node.names}
    assert bound <= MODULE_NAMES, sorted(bound - MODULE_NAMES)
    assert {"keras", "np", "pd", "SEED", "CLASSES", "build_model", "balanced_class_weight", "seed"} <= bound


# ------------------------------------------------------------ a layer type added through schema + registry

NEW_LAYERS_SPEC = {
    "format": "mlpdesigner/1",
    "name": "regularized",
    "inputs": [{"name": "x", "shape": [6]}],
    "network": {
        "topology": "sequential",
        "layers": [
            {"type": "gaussian_noise", "stddev": 0.2},
            {"type": "dense", "units": 8, "activation": "relu"},
            {"type": "layer_normalization"},
            {"type": "dense", "units": 5},
            {"type": "layer_normalization", "epsilon": 0.01, "center": False, "name": "ln"},
            {"type": "gaussian_noise"},
        ],
    },
    "outputs": [{"name": "y", "task": "regression", "units": 1}],
}


def test_new_layer_types_plan_compile_and_generate_alike() -> None:
    from mlpdesigner.compile import build_model, make_layer
    from mlpdesigner.export import generate_python

    spec = load_spec(copy.deepcopy(NEW_LAYERS_SPEC))
    plan = spec.plan
    assert plan is not None
    # nodes[1] is the input's standardization (on by default since issue 13)
    assert [n.keras_class for n in plan.nodes][1:5] == ["Normalization", "GaussianNoise", "Dense", "LayerNormalization"]
    assert spec.filled["network"]["layers"][5]["stddev"] == 0.1, "the schema's default"
    model = build_model(spec)
    assert {layer.name: layer.count_params() for layer in model.layers} == {
        n.name: n.params for n in plan.nodes if n.kind != "input"}
    assert plan.node("ln").params == 5 and plan.node("layer_normalization_1").params == 16
    for node in plan.nodes[1:]:
        assert config_of(rendered(node.keras_call)) == config_of(make_layer(node)), node.name
    code = generate_python(copy.deepcopy(NEW_LAYERS_SPEC))
    assert 'keras.layers.GaussianNoise(0.2, name="gaussian_noise_1")' in code
    assert 'keras.layers.LayerNormalization(name="layer_normalization_1")' in code
    assert 'keras.layers.LayerNormalization(epsilon=0.01, center=False, name="ln")' in code


def test_new_layer_types_are_checked_like_the_others() -> None:
    from mlpdesigner.spec import validate_spec

    bad = copy.deepcopy(NEW_LAYERS_SPEC)
    bad["network"]["layers"][0]["stddev"] = -1
    bad["network"]["layers"][2]["momentum"] = 0.5
    errors = {(p.path, p.is_error) for p in validate_spec(bad) if p.is_error}
    assert ("/network/layers/0/stddev", True) in errors
    assert ("/network/layers/2/momentum", True) in errors or ("/network/layers/2", True) in errors
    assert LAYER_TEMPLATES["gaussian_noise"] == {"type": "gaussian_noise"}


def test_every_class_the_registry_builds_may_be_loaded_back() -> None:
    """A trained model is read back through the model-file allow-list: it must know every class we build."""
    from mlpdesigner.modelfile import ALLOWED_CLASSES

    built = {target.rsplit(".", 1)[-1] for target in keras_targets() if not target.startswith("callbacks.")}
    assert built <= ALLOWED_CLASSES, sorted(built - ALLOWED_CLASSES)


@pytest.mark.slow
def test_a_model_with_the_new_layer_types_saves_and_loads_through_the_checked_loader(tmp_path) -> None:
    from mlpdesigner.compile import build_model
    from mlpdesigner.modelfile import load_keras_model

    model = build_model(load_spec(copy.deepcopy(NEW_LAYERS_SPEC)))
    model.save(tmp_path / "model.keras")
    loaded = load_keras_model(tmp_path / "model.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
