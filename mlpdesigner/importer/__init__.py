"""Bring existing models in: a ``.keras`` or ONNX multilayer perceptron -> a spec (and a run folder).

:func:`import_model` reads the file's structure (no weights, no TensorFlow for
``.keras``), recognises a sequential or Wide & Deep MLP and returns the spec,
checked by the same pipeline as any spec. :func:`write_run` then rebuilds the
model from that spec, copies the file's trained weights into it, checks that
both give the same predictions, and writes a run folder marked "imported"
that ``evaluate``, ``export`` and fine-tuning can use.

Anything outside the MLP family is refused with an
:class:`~mlpdesigner.importer.graph.ImportRefused` that names the first node the
spec cannot describe and where it is in the file; a spec is returned whole or
not at all.
"""

from __future__ import annotations

import copy
import hashlib
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..spec import analyze
from .graph import GNode, Graph, ImportRefused, Recognised, _Recogniser

__all__ = ["ImportRefused", "ImportResult", "import_model", "write_run", "WEIGHT_TOLERANCE"]

#: Largest difference allowed between the file's model and the rebuilt one (absolute up to |y| 1, relative above).
WEIGHT_TOLERANCE = 1e-5

#: Rows of random inputs the rebuilt model is checked on.
CHECK_ROWS = 64

MAX_DESCRIPTION = 4000


@dataclass
class ImportResult:
    """A model file read as a spec.

    ``spec`` is the spec as it would be saved; ``notes`` list what was inferred
    or left out (also summed up in the spec's description).
    """

    path: Path
    format: str
    spec: dict[str, Any]
    notes: list[str]
    graph: Graph
    origins: dict[str, GNode]
    #: Output name -> (scale, offset) per unit of the file's target-scaling Rescaling layers.
    target_scaling: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    _weights: Callable[[GNode], list[Any]] | None = field(default=None, repr=False)
    _reference: Callable[[list[Any]], list[Any]] | None = field(default=None, repr=False)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return "keras"
    if suffix == ".onnx":
        return "onnx"
    if suffix in (".h5", ".hdf5"):
        raise UserError(
            f"{path}: legacy HDF5 models are not read (they can carry code). Expected a .keras or .onnx file"
        )
    raise UserError(f"{path}: Expected a .keras or .onnx model file. Received: {suffix or 'no extension'!r}")


def import_model(path: str | os.PathLike[str]) -> ImportResult:
    """Read a ``.keras`` or ``.onnx`` file and write the equivalent spec (raises ImportRefused / UserError)."""
    file = Path(path).expanduser()
    fmt = _format_of(file)
    if not file.is_file():
        raise UserError(f"{file}: no such model file" if not file.exists() else f"{file}: not a file")
    if fmt == "keras":
        from .keras_file import read_config, read_graph

        graph = read_graph(file, read_config(file))
    else:
        from .onnx_file import read_onnx_graph

        graph = read_onnx_graph(file)
    recognised = _Recogniser(graph).recognise()
    spec = _finish(recognised, graph, file, fmt)
    return ImportResult(file, fmt, spec, recognised.notes, graph, recognised.origins, recognised.target_scaling)


def _finish(recognised: Recognised, graph: Graph, file: Path, fmt: str) -> dict[str, Any]:
    spec = recognised.spec
    spec["name"] = graph.name
    kind = "Keras model" if fmt == "keras" else "ONNX graph"
    sentences = [f"Imported from the {kind} {file.name}"] + [n[0].upper() + n[1:] for n in recognised.notes]
    spec["description"] = (". ".join(sentences) + ".")[:MAX_DESCRIPTION]
    training: dict[str, Any] = {}
    if graph.training.optimizer:
        optimizer = dict(graph.training.optimizer)
        if optimizer.get("momentum") == 0.0:
            del optimizer["momentum"]
        if optimizer.get("nesterov") is False:
            del optimizer["nesterov"]
        training["optimizer"] = optimizer
    if graph.training.schedule:
        training["learning_rate_schedule"] = graph.training.schedule
    if training:
        spec["training"] = training
    _class_labels(spec, graph)
    checked = analyze(spec)
    if not checked.ok:
        problems = "; ".join(f"{p.path or '/'}: {p.message}" for p in checked.errors)
        raise ImportRefused(f"{file}: the model reads as a spec that is not valid: {problems}")
    return spec


def _class_labels(spec: dict[str, Any], graph: Graph) -> None:
    """Class labels the file names (an skl2onnx classifier's) become the classification outputs' ``classes``."""
    for out in spec["outputs"]:
        node = graph.nodes.get(out["name"])
        labels = node.config.get("classes") if node is not None else None
        if not labels:
            continue
        count = 2 if out["task"] == "binary" else out["units"]
        if out["task"] in ("binary", "multiclass") and len(labels) == count:
            out["classes"] = [str(label)[:200] for label in labels]


# --------------------------------------------------------------------------- weights


def _plan_targets(spec: dict[str, Any]) -> dict[str, str]:
    """Spec path -> layer name in the rebuilt model, for every node that holds weights.

    The copies of a repeated layer after the first are ``<path>#2``, ``<path>#3``, ... (as the importer's origins).
    """
    plan = analyze(spec).plan
    assert plan is not None
    targets: dict[str, str] = {}
    # A target-scaling Rescaling shares its output's path with the output's Dense; it has no weights.
    for node in plan.nodes:
        if node.kind in ("input", "rescaling"):
            continue
        path, number = node.spec_path, 1
        while path in targets:
            number += 1
            path = f"{node.spec_path}#{number}"
        targets[path] = node.name
    return targets


def rebuild(result: ImportResult) -> tuple[Any, float]:
    """(The Keras model of the imported spec holding the file's weights, its largest difference from the file's)."""
    from ..compile import build_model, set_normalization

    source_weights, reference = _weight_readers(result)
    model = build_model(result.spec, target_scaling=result.target_scaling or None)
    targets = _plan_targets(result.spec)
    for path, node in result.origins.items():
        arrays = source_weights(node)
        if path.endswith("/normalize"):
            index = int(path.split("/")[2])
            mean, variance = arrays
            set_normalization(model, result.spec["inputs"][index]["name"], mean, variance)
            continue
        layer = model.get_layer(targets[path])
        expected = [tuple(w.shape) for w in layer.weights]
        got = [tuple(a.shape) for a in arrays]
        if expected != got:
            raise ImportRefused(
                f"{result.path}: the weights of {node.describe()} have shapes {got}; the rebuilt layer "
                f"{layer.name!r} expects {expected}"
            )
        layer.set_weights(arrays)
    check = verify(result, model, reference)
    return model, check


def _weight_readers(result: ImportResult) -> tuple[Callable[[GNode], list[Any]], Callable[[list[Any]], list[Any]]]:
    if result._weights is None:
        if result.format == "keras":
            from .keras_weights import keras_readers

            result._weights, result._reference = keras_readers(result)
        else:
            from .onnx_file import onnx_readers

            result._weights, result._reference = onnx_readers(result)
    assert result._reference is not None
    return result._weights, result._reference


def call_model(model: Any, names: list[str], feeds: list[Any]) -> list[Any]:
    """A Keras model's outputs (a list) for input arrays in ``names`` order, without Keras' structure warnings."""
    import keras

    x = feeds[0] if isinstance(model, keras.Sequential) else dict(zip(names, feeds))
    got = model(x, training=False)
    return list(got) if isinstance(got, (list, tuple)) else [got]


def verify(result: ImportResult, model: Any, reference: Callable[[list[Any]], list[Any]]) -> float:
    """Largest (scaled) difference between the file's model and the rebuilt one on random inputs."""
    import numpy as np

    rng = np.random.default_rng(0)
    fixed = [result.graph.nodes[n].config.get("batch") for n in result.graph.inputs]
    rows = next((b for b in fixed if b), CHECK_ROWS)  # an ONNX graph exported for one batch size takes only that
    feeds = [rng.normal(size=(rows, *i["shape"])).astype("float32") for i in result.spec["inputs"]]
    expected = reference(feeds)
    got = call_model(model, [i["name"] for i in result.spec["inputs"]], feeds)
    worst = 0.0
    for name, a, b in zip([o["name"] for o in result.spec["outputs"]], got, expected):
        a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64").reshape(np.shape(a))
        diff = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0
        if not np.isfinite(diff) or diff > WEIGHT_TOLERANCE:
            raise ImportRefused(
                f"{result.path}: the rebuilt model does not reproduce output {name!r} of the file "
                f"(largest difference {diff:.3g}, allowed {WEIGHT_TOLERANCE:g}). Expected the same predictions; "
                "the model has a feature the importer does not carry over"
            )
        worst = max(worst, diff)
    return worst


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_run(
    result: ImportResult, out: str | os.PathLike[str] | None = None, *, data_file: str | os.PathLike[str] | None = None
) -> Path:
    """A run folder with the imported weights: spec.json, model.keras and run.json (status "imported").

    With ``data_file`` (and a data section in the spec) the frozen spec's data path points at it from the folder.
    """
    from .. import runfolder
    from ..atomic import atomic_write_text
    from ..data.checks import relative_data_path
    from ..spec import dumps
    from ..train.runner import new_run_dir, save_model, setup_device, versions

    setup_device("cpu")
    model, difference = rebuild(result)
    run_dir = new_run_dir(out, result.spec["name"])
    frozen = copy.deepcopy(result.spec)
    if data_file is not None and "data" in frozen:
        frozen["data"]["path"] = relative_data_path(data_file, run_dir / runfolder.SPEC_FILE)
    atomic_write_text(run_dir / runfolder.SPEC_FILE, dumps(frozen))
    save_model(model, run_dir)
    info = runfolder.RunInfo(
        status=runfolder.RunStatus.IMPORTED,
        spec=result.spec["name"],
        host=platform.node(),
        versions=versions(),
        timings={"started": datetime.now(timezone.utc).isoformat(timespec="seconds")},
        extra={
            "imported": {
                "path": str(result.path.resolve()),
                "format": result.format,
                "sha256": _sha256(result.path),
                "max_difference": difference,
                "notes": result.notes,
            }
        },
    )
    runfolder.write_info(run_dir, info)
    return run_dir
