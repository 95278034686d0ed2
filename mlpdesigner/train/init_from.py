"""``mlpdesigner train SPEC --init-from RUN_DIR``: start training from the weights of an earlier run.

The run may be an ordinary finished run (completed or stopped, with its
``model.keras``) or one written by ``mlpdesigner import --weights`` (status
``imported``). Its model file is read with the same checked loader as
``evaluate`` (config checked before anything is deserialized, Keras safe mode).

The design being trained must have the same architecture as the run's model:
the layers that hold weights (dense, batch normalization, layer
normalization, the inputs' standardization) and the outputs' target scaling,
in build order, of the same kinds and weight shapes. Layers without weights
(activation, dropout, flatten, noise) and settings such as the dropout rate,
the optimizer, the learning rate, epochs and regularizers may differ: that is
what fine-tuning changes. The first layer that differs is named with its
place in the spec (``network/layers/2``) and in the run's spec.

The model starts as the exact function of the run's model: every weight is
copied, including the inputs' standardization statistics and the outputs'
target scaling (scale and offset), which are *not* recomputed from the new
data, so that the first epoch's loss is the run's model's loss on these rows.
The optimizer starts fresh (its state is not part of a finished run).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import UserError

__all__ = ["check_source", "initialize"]

#: Statuses of runs whose model can be continued.
FINISHED = ("completed", "stopped", "imported")


def check_source(run_dir: str | os.PathLike[str]) -> Path:
    """The run folder ``--init-from`` names, checked without TensorFlow (raises UserError, exit 2)."""
    from .. import runfolder
    from ..runfolder import RunFolderError
    from .cli import open_run

    try:
        run, _, info = open_run(run_dir)
    except (UserError, RunFolderError) as exc:
        raise UserError(f"--init-from {run_dir}: {exc}") from None
    if info.status.value not in FINISHED:
        raise UserError(
            f"--init-from {run_dir}: the run {info.status.value}. Expected a completed, stopped or imported run "
            f"with its {runfolder.MODEL_FILE}"
        )
    return run


def _weighted(plan: Any, model: Any) -> list[tuple[Any, Any]]:
    """(plan node, Keras layer) of the layers that hold weights or scale targets, in build order."""
    pairs = []
    for node in plan.nodes:
        if node.kind == "input":
            continue
        layer = model.get_layer(node.name)
        if layer.weights or (node.kind == "rescaling" and node.config.get("target_scaling")):
            pairs.append((node, layer))
    return pairs


def _shapes(layer: Any) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in w.shape) for w in layer.weights]


def _describe(node: Any, layer: Any) -> str:
    kind = "target scaling" if node.kind == "rescaling" else node.kind
    shapes = _shapes(layer)
    return f"{kind} layer {node.name!r} ({node.spec_path})" + (f" with weights of shapes {shapes}" if shapes else "")


def match_layers(plan: Any, model: Any, source_plan: Any, source: Any, where: str) -> list[tuple[Any, Any]]:
    """Pairs (design's layer, run's layer) to copy; a located UserError at the first layer that differs."""
    ours, theirs = _weighted(plan, model), _weighted(source_plan, source)
    for index in range(max(len(ours), len(theirs))):
        mine = ours[index] if index < len(ours) else None
        other = theirs[index] if index < len(theirs) else None
        if mine and other and mine[0].kind == other[0].kind and _shapes(mine[1]) == _shapes(other[1]):
            continue
        if mine is None:
            assert other is not None
            received = f"the design ends before it (it has {len(ours)} such layers, the run {len(theirs)})"
            expected = _describe(*other)
        elif other is None:
            received = _describe(*mine)
            expected = f"nothing there: the run's model ends before it ({len(theirs)} such layers, the design " \
                       f"{len(ours)})"
        else:
            received, expected = _describe(*mine), "the run's " + _describe(*other)
        raise UserError(
            f"--init-from {where}: the design does not match the run's model at its layer number {index + 1} "
            f"that holds weights. Expected {expected}. Received: {received}",
            hint="fine-tune the run's own design (its spec.json), changing only training settings, dropout rates "
                 "or layers without weights",
        )
    return list(zip(ours, theirs, strict=True))


def _scaling_of(layer: Any) -> tuple[Any, Any]:
    config = layer.get_config()
    return config["scale"], config["offset"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def initialize(prepared: Any, run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Give the prepared run's model the weights of ``run_dir``'s model; returns the ``init_from`` record.

    Rebuilds the model with the run's target scaling first (a constant of the
    graph, not a weight), then copies every weight. Raises UserError (exit 2)
    before anything is written when the run cannot be used or does not match.
    """
    from .. import runfolder
    from ..modelfile import check_model_matches_spec, load_keras_model
    from .cli import open_run
    from .runner import build_for_training

    run = check_source(run_dir)
    _, source_spec, info = open_run(run)
    model_file = run / runfolder.MODEL_FILE
    try:
        # Uncompiled: the optimizer starts fresh, so the run's optimizer state is not read.
        source = load_keras_model(model_file, compile=False)
    except UserError as exc:
        raise UserError(f"--init-from {run_dir}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is the user's input
        raise UserError(f"--init-from {run_dir}: {model_file}: cannot load the model: {type(exc).__name__}: {exc}") \
            from None
    check_model_matches_spec(source, source_spec.checked()[1], model_file, run / runfolder.SPEC_FILE)
    where = str(run_dir)
    # First with the model as prepared: locate a mismatch before anything is rebuilt.
    pairs = match_layers(prepared.plan, prepared.model, source_spec.checked()[1], source, where)
    scaling = {node.name: _scaling_of(theirs) for (node, _), (_, theirs) in pairs if node.kind == "rescaling"}
    if scaling:
        prepared.dataset.target_scaling = scaling
        prepared.model = build_for_training(prepared.spec, prepared.dataset, prepared.settings)
        pairs = match_layers(prepared.plan, prepared.model, source_spec.checked()[1], source, where)
    for (node, layer), (_, theirs) in pairs:
        if not layer.weights:
            continue
        layer.set_weights(theirs.get_weights())
        if node.kind == "normalization" or type(layer).__name__ == "Normalization":
            layer.finalize_state()
    return {
        "run_dir": str(run),
        "status": info.status.value,
        "spec": info.spec or source_spec.name,
        "model_sha256": _sha256(model_file),
        "layers": len([p for p in pairs if p[0][1].weights]),
    }
