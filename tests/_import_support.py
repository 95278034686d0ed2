"""Helpers shared by the import tests: comparable specs, perturbed weights, predictions."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from mlpdesigner.spec import load_spec

#: What a model file carries of the training section.
CARRIED_TRAINING = ("optimizer", "learning_rate_schedule")


def comparable(spec: dict[str, Any], *, training: tuple[str, ...] = CARRIED_TRAINING) -> dict[str, Any]:
    """The spec after filling defaults, without what a model file cannot carry.

    Left out: the description (the import writes where it came from), the data
    section, class names, and the training settings other than ``training``.
    """
    filled = copy.deepcopy(load_spec(spec).filled)
    assert filled is not None
    filled.pop("description", None)
    filled.pop("data", None)
    filled["training"] = {k: v for k, v in filled["training"].items() if k in training}
    for out in filled["outputs"]:
        out.pop("classes", None)
    return filled


def assert_same(a: Any, b: Any, where: str = "", *, rel: float = 1e-12, tiny: float = 1e-300) -> None:
    """Equal, with floats equal to ``rel`` relative (a range's bounds come back from scale and offset).

    ``tiny``: differences this small count as equal (ONNX holds float32 values).
    """
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}", rel=rel, tiny=tiny)
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {a} != {b}"
        for index, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}/{index}", rel=rel, tiny=tiny)
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{where}: {a!r} != {b!r}"
        assert math.isclose(a, b, rel_tol=rel, abs_tol=tiny), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def perturb(model: Any, seed: int = 1) -> None:
    """Give every weight a random value, as training would (so a copy that forgot one shows)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        arrays = layer.get_weights()
        if not arrays:
            continue
        if type(layer).__name__ == "Normalization":
            mean, variance, count = arrays
            arrays = [rng.normal(size=mean.shape), rng.uniform(0.5, 3, size=variance.shape), count]
        elif type(layer).__name__ == "BatchNormalization":
            arrays = [
                rng.uniform(0.5, 2, size=a.shape) if "variance" in w.path else rng.normal(scale=0.5, size=a.shape)
                for a, w in zip(arrays, layer.weights)
            ]
        else:
            arrays = [rng.normal(scale=(1 / np.sqrt(a.shape[0]) if a.ndim == 2 else 0.3), size=a.shape) for a in arrays]
        layer.set_weights([np.asarray(a, dtype="float32") for a in arrays])
        if type(layer).__name__ == "Normalization":
            layer.finalize_state()


def inputs_for(model: Any, rows: int = 32, seed: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(rows, *t.shape[1:])).astype("float32") for t in model.inputs]


def predictions(model: Any, feeds: list[np.ndarray]) -> list[np.ndarray]:
    from mlpdesigner.importer import call_model

    return [np.asarray(a) for a in call_model(model, [t.name for t in model.inputs], feeds)]


def largest_difference(got: list[np.ndarray], expected: list[np.ndarray]) -> float:
    """Largest difference: absolute where |expected| <= 1, relative above (float32 cannot agree better)."""
    assert len(got) == len(expected)
    worst = 0.0
    for x, y in zip(got, expected):
        y = np.reshape(np.asarray(y, dtype="float64"), np.shape(x))
        worst = max(worst, float(np.max(np.abs(np.asarray(x, dtype="float64") - y) / np.maximum(1.0, np.abs(y)))))
    return worst
