"""Property-based tests: generated valid specs behave, mutated specs are rejected at the right place."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpdesigner.spec import dumps, parse_text, summarize
from mlpdesigner.spec.loader import analyze

ACTIVATIONS = ["linear", "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "softplus"]
LAYER_ACTIVATIONS = ["relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "softplus"]
INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal"]

regularizer = st.one_of(
    st.none(),
    st.fixed_dictionaries({"l2": st.floats(0, 0.1)}),
    st.fixed_dictionaries({"l1": st.floats(0, 0.1), "l2": st.floats(0, 0.1)}),
)


@st.composite
def dense(draw: st.DrawFn) -> dict:
    layer = {"type": "dense", "units": draw(st.integers(1, 40))}
    if draw(st.booleans()):
        layer["activation"] = draw(st.sampled_from(ACTIVATIONS))
    if draw(st.booleans()):
        layer["kernel_initializer"] = draw(st.sampled_from(INITIALIZERS))
    if draw(st.booleans()):
        layer["use_bias"] = draw(st.booleans())
    reg = draw(regularizer)
    if reg:
        layer["kernel_regularizer"] = reg
    if draw(st.booleans()):
        layer["kernel_constraint"] = {"max_norm": draw(st.floats(0.5, 5))}
    return layer


def other_layer() -> st.SearchStrategy[dict]:
    return st.one_of(
        st.builds(lambda a: {"type": "activation", "activation": a}, st.sampled_from(LAYER_ACTIVATIONS)),
        st.builds(lambda s: {"type": "activation", "activation": "leaky_relu", "negative_slope": s}, st.floats(0, 1)),
        st.builds(
            lambda m, c, s: {"type": "batch_normalization", "momentum": m, "center": c, "scale": s},
            st.floats(0.5, 0.999),
            st.booleans(),
            st.booleans(),
        ),
        st.builds(lambda r: {"type": "dropout", "rate": r}, st.floats(0, 0.9)),
        st.builds(lambda r: {"type": "alpha_dropout", "rate": r}, st.floats(0, 0.9)),
    )


layers = st.lists(st.one_of(dense(), other_layer()), min_size=0, max_size=6)


@st.composite
def head(draw: st.DrawFn, name: str, deep_ok: bool = False) -> dict:
    task = draw(st.sampled_from(["regression", "binary", "multilabel", "multiclass"]))
    units = {
        "regression": draw(st.integers(1, 3)),
        "binary": 1,
        "multilabel": draw(st.integers(1, 5)),
        "multiclass": draw(st.integers(2, 6)),
    }[task]
    out = {"name": name, "task": task, "units": units}
    if task == "regression" and draw(st.booleans()):
        out["positive"] = draw(st.sampled_from(["softplus", "relu"]))
    elif task == "regression" and draw(st.booleans()):
        low = draw(st.floats(-10, 10))
        out["range"] = {
            "low": low,
            "high": low + draw(st.floats(0.5, 10)),
            "squash": draw(st.sampled_from(["sigmoid", "tanh"])),
        }
    if task == "multiclass" and draw(st.booleans()):
        out["label_format"] = "one_hot"
    if deep_ok and draw(st.booleans()):
        out["source"] = "deep"
    return out


@st.composite
def specs(draw: st.DrawFn) -> dict:
    if draw(st.booleans()):
        image = draw(st.booleans())
        shape = [draw(st.integers(1, 6)), draw(st.integers(1, 6))] if image else [draw(st.integers(1, 20))]
        stack = ([{"type": "flatten"}] if image else []) + draw(layers)
        network = {"topology": "sequential", "layers": stack}
        inputs = [{"name": "x", "shape": shape, "normalize": draw(st.booleans())}]
        outputs = [draw(head("y"))] + ([draw(head("z"))] if draw(st.booleans()) else [])
    else:
        two = draw(st.booleans())
        inputs = [{"name": "wide", "shape": [draw(st.integers(1, 8))]}]
        if two:
            inputs.append({"name": "deep", "shape": [draw(st.integers(1, 8))], "normalize": draw(st.booleans())})
        deep_inputs = ["deep"] if two else ["wide"]
        network = {
            "topology": "wide_deep",
            "wide": {"inputs": ["wide"]},
            "deep": {"inputs": deep_inputs, "layers": draw(layers)},
        }
        outputs = [draw(head("main"))] + ([draw(head("aux", deep_ok=True))] if draw(st.booleans()) else [])
    return {"format": "mlpdesigner/1", "name": "generated", "inputs": inputs, "network": network, "outputs": outputs}


@given(specs())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_specs_validate_summarize_and_round_trip(spec: dict) -> None:
    result = analyze(copy.deepcopy(spec))
    assert result.ok, [p.format() for p in result.errors]
    summary = summarize(result)
    assert summary.total_params == summary.trainable_params + summary.non_trainable_params
    again = parse_text(dumps(spec))
    assert again.raw == spec
    assert summarize(again) == summary


@pytest.mark.slow
@given(specs())
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_specs_compile_with_the_summary_counts(spec: dict) -> None:
    import numpy as np

    from mlpdesigner.compile import build_model

    summary = summarize(spec)
    model = build_model(spec, compile=False)
    assert model.count_params() == summary.total_params
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == summary.trainable_params


def _leaves(node: object, path: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _leaves(value, (*path, index))
    else:
        out.append(path)
    return out


def _pointer(path: tuple) -> str:
    return "".join(f"/{p}" for p in path)


def _set(doc: dict, path: tuple, value: object) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


MUTATIONS = {
    "wrong type": lambda v: {"unexpected": "object"} if not isinstance(v, dict) else 7,
    "nan": lambda v: math.nan,
    "huge": lambda v: 1e300,
    "negative": lambda v: -5,
}


@given(specs(), st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_leaves_are_rejected_at_their_path(spec: dict, data: st.DataObject) -> None:
    leaves = [p for p in _leaves(spec) if p[-1] not in ("description",)]
    path = data.draw(st.sampled_from(leaves))
    kind = data.draw(st.sampled_from(sorted(MUTATIONS)))
    original = spec
    for part in path:
        original = original[part]
    value = MUTATIONS[kind](original)
    if kind in ("huge", "negative") and (isinstance(original, (str, bool)) or path[-1] in ("low", "high")):
        return  # only numbers have ranges; range bounds accept any finite number
    if kind == "negative" and path[-1] in ("min_delta",):
        return
    mutant = copy.deepcopy(spec)
    _set(mutant, path, value)
    result = analyze(mutant)
    pointer = _pointer(path)
    assert not result.ok, (pointer, kind)
    assert any(pointer.startswith(p.path) for p in result.errors), (pointer, [p.path for p in result.errors])


@given(specs(), st.data())
@settings(max_examples=100, deadline=None)
def test_removed_required_keys_are_reported_on_their_parent(spec: dict, data: st.DataObject) -> None:
    candidates = [
        ("name",),
        ("inputs", 0, "shape"),
        ("outputs", 0, "task"),
        ("outputs", 0, "units"),
        ("network", "topology"),
    ]
    path = data.draw(st.sampled_from(candidates))
    mutant = copy.deepcopy(spec)
    parent = mutant
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    result = analyze(mutant)
    assert not result.ok
    assert any(p.code == "E202" and p.path == _pointer(path[:-1]) for p in result.errors) or any(
        _pointer(path).startswith(p.path) for p in result.errors
    )


@given(specs(), st.text(min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_broken_references_are_reported(spec: dict, name: str) -> None:
    if spec["network"]["topology"] != "wide_deep" or name in ("wide", "deep"):
        return
    mutant = copy.deepcopy(spec)
    mutant["network"]["wide"]["inputs"] = [name]
    result = analyze(mutant)
    assert not result.ok
    assert any(p.path.startswith("/network/wide/inputs/0") or p.path == "/inputs/0" for p in result.errors)
