"""Keras -> ONNX through tf2onnx, verified against Keras with onnxruntime."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ExitCode, UserError
from .settings import MIN_OPSET
from .source import ExportSource

#: Batch sizes of the random-input checks.
RANDOM_BATCHES = (1, 64)
#: Name of the dynamic batch dimension in the ONNX graph.
BATCH_DIM = "batch"


class ParityError(UserError):
    """The ONNX model does not match Keras within the tolerance."""

    exit_code = ExitCode.FAILED


@dataclass
class ParityCheck:
    """One comparison of onnxruntime with Keras."""

    label: str
    batch: int
    max_abs_diff: float
    #: max |onnx - keras| / max(1, |keras|): the absolute difference, relative where outputs exceed 1.
    max_scaled_diff: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": self.label,
            "batch": self.batch,
            "max_abs_diff": self.max_abs_diff,
            "max_scaled_diff": self.max_scaled_diff,
        }


@dataclass
class OnnxReport:
    """What an ONNX export wrote and how closely it matches Keras."""

    path: Path
    opset: int
    tolerance: float
    trained: bool
    checks: list[ParityCheck] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)

    @property
    def max_abs_diff(self) -> float:
        return max((c.max_abs_diff for c in self.checks), default=0.0)

    @property
    def max_scaled_diff(self) -> float:
        return max((c.max_scaled_diff for c in self.checks), default=0.0)

    def summary(self) -> str:
        parts = ", ".join(f"{c.label} batch {c.batch}: {c.max_abs_diff:.3g}" for c in self.checks)
        if self.max_abs_diff <= self.tolerance:
            verdict = f"max abs diff {self.max_abs_diff:.3g} <= {self.tolerance:g}"
        else:
            verdict = (
                f"max abs diff {self.max_abs_diff:.3g} on outputs above 1; relative to them "
                f"{self.max_scaled_diff:.3g} <= {self.tolerance:g}"
            )
        return f"ONNX parity (onnxruntime vs Keras): {verdict} ({parts})"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "onnx",
            "path": str(self.path),
            "opset": self.opset,
            "tolerance": self.tolerance,
            "trained": self.trained,
            "max_abs_diff": self.max_abs_diff,
            "max_scaled_diff": self.max_scaled_diff,
            "checks": [c.to_json() for c in self.checks],
            "inputs": self.input_names,
            "outputs": self.output_names,
        }


def max_opset() -> int:
    """The highest opset the installed tf2onnx can target.

    Read from tf2onnx's ``constants.py`` without importing tf2onnx (which
    imports TensorFlow), so that a bad ``--opset`` is refused at once.
    """
    loaded = sys.modules.get("tf2onnx.constants")
    if loaded is not None:
        return max(loaded.OPSET_TO_IR_VERSION)
    found = importlib.util.find_spec("tf2onnx")
    locations = list(found.submodule_search_locations or []) if found else []
    for folder in locations:
        table = _opset_table(Path(folder) / "constants.py")
        if table:
            return max(table)
    from tf2onnx import constants  # an unusual layout: import it after all

    return max(constants.OPSET_TO_IR_VERSION)


def _opset_table(source: Path) -> dict[int, int] | None:
    """``OPSET_TO_IR_VERSION`` as written in tf2onnx's constants file, or None."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "OPSET_TO_IR_VERSION" for t in node.targets
        ):
            try:
                table = ast.literal_eval(node.value)
            except ValueError:
                return None
            return table if isinstance(table, dict) and table else None
    return None


def check_opset(opset: int) -> None:
    top = max_opset()
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= top:
        raise UserError(f"Expected an ONNX opset from {MIN_OPSET} to {top}. Received: opset={opset!r}")


def _is_sequential(model: Any) -> bool:
    import keras

    return isinstance(model, keras.Sequential)


def keras_outputs(model: Any, feeds: dict[str, Any], input_names: list[str], output_names: list[str]) -> list[Any]:
    """The model's outputs (numpy, inference mode) in ``output_names`` order."""
    import numpy as np

    args = [feeds[n] for n in input_names]
    result = model(args[0] if _is_sequential(model) else args, training=False)
    if not isinstance(result, (list, tuple)):
        result = [result]
    if len(result) != len(output_names):
        raise UserError(f"Expected the model to have {len(output_names)} outputs. Received: {len(result)}")
    return [np.asarray(r) for r in result]


def _erfc_handler(ctx: Any, node: Any, name: str, args: Any) -> None:
    """tf2onnx handler for TensorFlow's Erfc (exact GELU): ``1 - Erf(x)``."""
    import numpy as np
    from tf2onnx import utils

    node.type = "Erf"
    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.output[0]))
    one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype=dtype))
    minus = ctx.insert_new_node_on_output(
        "Sub", node.output[0], name=utils.make_name(f"{node.name}_erfc"), inputs=[one.output[0], node.output[0]]
    )
    ctx.copy_shape(node.output[0], minus.output[0])
    ctx.set_dtype(minus.output[0], ctx.get_dtype(node.output[0]))


#: TensorFlow ops tf2onnx 1.17 lacks, mapped here.
CUSTOM_OP_HANDLERS: dict[str, tuple[Any, list[Any]]] = {"Erfc": (_erfc_handler, [])}


def convert(model: Any, input_names: list[str], output_names: list[str], opset: int) -> Any:
    """The ONNX ModelProto of a Keras model, with the spec's input and output names.

    The model is seen through a functional wrapper (the same layers and weights),
    so tf2onnx names the outputs after the output layers, which carry the spec's
    output names; its variables and captured constants (normalization
    statistics) are frozen into the graph.
    """
    from .. import tfenv

    tfenv.quiet()
    import keras
    import tensorflow as tf
    import tf2onnx

    outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    functional = keras.Model(inputs=list(model.inputs), outputs=list(outputs), name=model.name)
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    signature = [
        tf.TensorSpec((None, *shape), tf.float32, name=name) for shape, name in zip(shapes, input_names, strict=True)
    ]
    proto, _ = tf2onnx.convert.from_keras(
        functional, input_signature=signature, opset=opset, custom_op_handlers=dict(CUSTOM_OP_HANDLERS)
    )
    # tf2onnx orders outputs by name; put them in the model's order.
    by_name = {o.name: o for o in proto.graph.output}
    if sorted(by_name) != sorted(output_names):  # pragma: no cover - tf2onnx contract
        raise RuntimeError(f"Expected ONNX outputs {output_names}. Received: {sorted(by_name)}")
    ordered = [type(by_name[n])() for n in output_names]
    for slot, name in zip(ordered, output_names, strict=True):
        slot.CopyFrom(by_name[name])
    del proto.graph.output[:]
    proto.graph.output.extend(ordered)
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = BATCH_DIM
    return proto


def add_metadata(proto: Any, source: ExportSource) -> None:
    """Spec, feature columns and class names as ONNX metadata properties."""
    import onnx

    spec = source.spec
    input_names = set(spec.plan.inputs) if spec.plan else set()
    columns = {k: v for k, v in source.columns.items() if k in input_names}
    props = {
        "mlpdesigner.version": __version__,
        "mlpdesigner.spec": json.dumps(spec.raw, ensure_ascii=False, sort_keys=False),
        "mlpdesigner.columns": json.dumps(columns, ensure_ascii=False),
        "mlpdesigner.classes": json.dumps(source.classes, ensure_ascii=False),
        "mlpdesigner.trained": "true" if source.trained else "false",
    }
    onnx.helper.set_model_props(proto, props)
    proto.producer_name = "mlpdesigner"
    proto.producer_version = __version__
    proto.graph.name = spec.name
    description = spec.checked()[0].get("description") or ""
    proto.doc_string = description


def _random_feeds(model: Any, input_names: list[str], batch: int, seed: int) -> dict[str, Any]:
    """Standard-normal rows, in the data's own scale for inputs that the model normalizes.

    A normalized input sees raw feature values (e.g. populations in the thousands);
    drawing ``mean + std * N(0, 1)`` keeps the check on inputs the model is built for,
    so the float32 rounding of both runtimes is compared where it matters.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    layers = {layer.name: layer for layer in model.layers}
    feeds = {}
    for name, tensor in zip(input_names, model.inputs, strict=True):
        rows = rng.standard_normal((batch, *tuple(tensor.shape[1:])))
        norm = layers.get(f"{name}_normalization")
        if norm is not None and len(norm.weights) >= 2:
            mean, variance = (np.asarray(w.numpy(), dtype="float64") for w in norm.weights[:2])
            rows = mean + np.sqrt(np.maximum(variance, 0.0)) * rows
        feeds[name] = rows.astype("float32")
    return feeds


def _max_abs_diff(got: Any, expected: Any, *, scaled: bool = False) -> float:
    """max |got - expected| (divided by max(1, |expected|) when ``scaled``).

    NaN in the same places counts as equal, elsewhere as infinite.
    """
    import numpy as np

    got, expected = np.asarray(got, dtype="float64"), np.asarray(expected, dtype="float64")
    if got.shape != expected.shape:
        return float("inf")
    nan = np.isnan(got)
    if not np.array_equal(nan, np.isnan(expected)):
        return float("inf")
    diff = np.abs(got - expected)
    if scaled:
        diff = diff / np.maximum(1.0, np.abs(expected))
    return float(np.max(diff[~nan], initial=0.0))


def verify(path: Path, model: Any, source: ExportSource, tolerance: float) -> list[ParityCheck]:
    """Full ONNX check, then onnxruntime against Keras on real and random rows."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ParityError(f"The ONNX file failed the ONNX checker: {exc}") from None
    plan = source.spec.checked()[1]
    input_names, output_names = list(plan.inputs), list(plan.outputs)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ParityError(f"onnxruntime cannot load the ONNX file: {exc}") from None
    cases: list[tuple[str, dict[str, Any]]] = []
    if source.samples:
        cases.append(("real rows", source.samples))
    for index, batch in enumerate(RANDOM_BATCHES):
        cases.append(("random", _random_feeds(model, input_names, batch, seed=index)))
    checks = []
    for label, feeds in cases:
        expected = keras_outputs(model, feeds, input_names, output_names)
        got = session.run(output_names, {n: np.asarray(feeds[n], dtype="float32") for n in input_names})
        diff = max(_max_abs_diff(g, e) for g, e in zip(got, expected, strict=True))
        scaled = max(_max_abs_diff(g, e, scaled=True) for g, e in zip(got, expected, strict=True))
        batch = len(next(iter(feeds.values())))
        checks.append(ParityCheck(label, batch, diff, scaled))
    # float32 carries ~7 significant digits, so outputs in the hundreds cannot agree to
    # 1e-5 absolutely; the tolerance is absolute up to |output| = 1 and relative above it.
    worst = max(checks, key=lambda c: c.max_scaled_diff)
    if worst.max_scaled_diff > tolerance:
        raise ParityError(
            f"The ONNX model does not match Keras: max abs difference {worst.max_abs_diff:.3g} "
            f"({worst.max_scaled_diff:.3g} relative to outputs above 1) on {worst.label} (batch {worst.batch}). "
            f"Expected at most {tolerance:g}; no file was written",
            hint="raise --tolerance if the difference is acceptable for this model",
        )
    return checks
