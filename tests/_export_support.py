"""Helpers shared by the export tests: specs to export and hand-made run folders."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from mlpdesigner.resources import example_names, example_path


def example(name: str) -> dict[str, Any]:
    """A starter design as a dict."""
    return json.loads(example_path(name).read_text("utf-8"))


def all_examples() -> list[str]:
    return example_names()


def with_data(spec: dict[str, Any], path: str = "data.csv", prefix: str = "") -> dict[str, Any]:
    """The spec with a data section mapping every input and output to made-up column names."""
    spec = copy.deepcopy(spec)
    columns = {}
    for inp in spec["inputs"]:
        count = math.prod(inp["shape"])
        columns[inp["name"]] = [f"{prefix}{inp['name']}_{k}" for k in range(count)]
    for out in spec["outputs"]:
        count = 1 if out["task"] in ("binary", "multiclass") else out["units"]
        columns[out["name"]] = [f"{prefix}{out['name']}_{k}" for k in range(count)]
    spec["data"] = {"path": path, "columns": columns}
    return spec


def kitchen_sink() -> dict[str, Any]:
    """A Wide & Deep design that uses every layer kind and option the generator maps."""
    return {
        "format": "mlpdesigner/1",
        "name": "kitchen_sink",
        "description": "Every layer kind and option.",
        "inputs": [
            {"name": "wide", "shape": [3], "normalize": True},
            {"name": "deep", "shape": [6], "normalize": True},
        ],
        "network": {
            "topology": "wide_deep",
            "wide": {"inputs": ["wide"]},
            "deep": {
                "inputs": ["deep"],
                "layers": [
                    {"type": "flatten", "name": "keras"},
                    {
                        "type": "dense",
                        "units": 7,
                        "use_bias": False,
                        "kernel_initializer": "he_uniform",
                        "kernel_regularizer": {"l1": 0.001, "l2": 0.01},
                        "bias_regularizer": {"l1": 0.5},
                        "activity_regularizer": {"l2": 0.25},
                        "kernel_constraint": {"max_norm": 2.5},
                    },
                    {"type": "batch_normalization", "momentum": 0.9, "epsilon": 0.01, "center": False},
                    {"type": "activation", "activation": "prelu"},
                    {"type": "dense", "units": 6, "bias_initializer": "ones", "activation": "gelu"},
                    {"type": "activation", "activation": "elu", "alpha": 0.5},
                    {"type": "dropout", "rate": 0.3, "name": "main"},
                    {"type": "dense", "units": 5, "kernel_initializer": "lecun_normal", "activation": "selu"},
                    {"type": "alpha_dropout", "rate": 0.1},
                    {"type": "activation", "activation": "leaky_relu", "negative_slope": 0.1},
                    {"type": "activation", "activation": "swish", "name": "print"},
                ],
            },
        },
        "outputs": [
            {"name": "share", "task": "regression", "units": 1, "range": {"low": -2, "high": 3}},
            {"name": "level", "task": "regression", "units": 2, "range": {"low": 0, "high": 10, "squash": "tanh"}},
            {"name": "kind", "task": "multiclass", "units": 3, "source": "deep", "classes": ["a", "b", "c"]},
        ],
        "training": {
            "optimizer": {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9, "nesterov": True, "clipnorm": 1.0},
            "learning_rate_schedule": {"type": "exponential", "decay_steps": 100, "decay_rate": 0.5},
            "early_stopping": {"patience": 3},
            "reduce_lr_on_plateau": {"patience": 2},
            "seed": 7,
        },
    }


def set_statistics(model: Any, spec: dict[str, Any], seed: int = 0) -> None:
    """Give every Normalization layer non-trivial statistics."""
    import numpy as np

    from mlpdesigner.compile import set_normalization

    rng = np.random.default_rng(seed)
    for inp in spec["inputs"]:
        if inp.get("normalize"):
            channels = inp["shape"][-1]
            set_normalization(model, inp["name"], rng.normal(size=channels), rng.uniform(0.5, 2.0, size=channels))


def random_inputs(spec: dict[str, Any], rows: int, seed: int = 1) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {i["name"]: rng.normal(size=(rows, *i["shape"])).astype("float32") for i in spec["inputs"]}


def make_run(
    spec: dict[str, Any],
    folder: Path,
    *,
    classes: dict[str, list[str]] | None = None,
    columns: dict[str, list[str]] | None = None,
    samples: int = 32,
    train: bool = True,
) -> Path:
    """A run folder like the one training writes: spec.json, model.keras, run.json, sample_inputs.npz.

    The model is built from the spec, given normalization statistics, and (with
    ``train``) fitted for one epoch on random data so its weights differ from the
    seeded ones.
    """
    import numpy as np

    from mlpdesigner.compile import build_model

    folder.mkdir(parents=True, exist_ok=True)
    model = build_model(spec)
    set_statistics(model, spec)
    if train:
        x = random_inputs(spec, 64, seed=3)
        rng = np.random.default_rng(4)
        y = {}
        for out in spec["outputs"]:
            if out["task"] == "multiclass" and out.get("label_format", "integer") == "integer":
                y[out["name"]] = rng.integers(0, out["units"], size=64)
            elif out["task"] == "multiclass":
                y[out["name"]] = np.eye(out["units"])[rng.integers(0, out["units"], size=64)]
            else:
                y[out["name"]] = rng.integers(0, 2, size=(64, out["units"])).astype("float32")
        xs = x[spec["inputs"][0]["name"]] if len(x) == 1 and spec["network"]["topology"] == "sequential" else x
        ys = next(iter(y.values())) if len(y) == 1 else y
        model.fit(xs, ys, epochs=1, batch_size=32, verbose=0)
    model.save(folder / "model.keras")
    (folder / "spec.json").write_text(json.dumps(spec, indent=2), "utf-8")
    info: dict[str, Any] = {"spec_name": spec["name"]}
    if classes is not None:
        info["classes"] = classes
    if columns is not None:
        info["columns"] = columns
    (folder / "run.json").write_text(json.dumps(info, indent=2), "utf-8")
    if samples:
        np.savez(folder / "sample_inputs.npz", **random_inputs(spec, samples, seed=5))
    return folder
