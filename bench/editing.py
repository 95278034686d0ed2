"""Editing latency: load + validate + summarize + lint of specs with 10, 100 and 1,000 layers.

Compared side by side with what a user would do without the pure-Python core to get
the same parameter counts: build the Keras model and call ``count_params()``.
"""

from __future__ import annotations

import json
from typing import Any

from . import median_seconds

SIZES = (10, 100, 1000)


def make_spec_text(layers: int) -> str:
    """A sequential spec with ``layers`` hidden layers (dense and dropout alternating)."""
    stack = []
    for i in range(layers):
        if i % 2 == 0:
            stack.append(
                {"type": "dense", "units": 32 + i % 64, "activation": "relu", "kernel_initializer": "he_normal"}
            )
        else:
            stack.append({"type": "dropout", "rate": 0.1})
    spec = {
        "format": "mlpdesigner/1",
        "name": f"deep_{layers}",
        "inputs": [{"name": "features", "shape": [8]}],
        "network": {"topology": "sequential", "layers": stack},
        "outputs": [{"name": "y", "task": "regression", "units": 1}],
    }
    return json.dumps(spec, indent=2)


def run(quick: bool = False) -> dict[str, Any]:
    """Median milliseconds per analysis, cold (empty layer cache) and warm (as in the editor)."""
    from mlpdesigner.spec import parse_text, summarize
    from mlpdesigner.spec import schema as schema_module

    def analyze(text: str) -> None:
        spec = parse_text(text)
        summarize(spec)

    results: dict[str, Any] = {}
    for size in SIZES:
        text = make_spec_text(size)

        def cold(text: str = text) -> None:
            schema_module._cached_layer_problems.cache_clear()
            analyze(text)

        repeats = 3 if quick or size >= 1000 else 9
        results[f"layers_{size}_cold_ms"] = round(median_seconds(cold, repeats) * 1000, 2)
        results[f"layers_{size}_warm_ms"] = round(median_seconds(lambda t=text: analyze(t), repeats) * 1000, 2)

    from mlpdesigner.compile import build_model

    text = make_spec_text(100)
    spec = parse_text(text)
    keras_s = median_seconds(lambda: build_model(spec, compile=False).count_params(), 3)
    results["layers_100_keras_build_ms"] = round(keras_s * 1000, 2)
    results["layers_100_keras_vs_pure_python_ratio"] = round(keras_s * 1000 / results["layers_100_warm_ms"], 1)
    results["goal_layers_100_ms"] = 10
    return results
