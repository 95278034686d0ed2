"""Layer health during training: what is recorded, the ``health.json`` file, and advice from it.

Pure Python (no TensorFlow, no Qt): the designer and ``mlpdesigner report`` read it.
The recording itself is :class:`mlpdesigner.train.health_callback.LayerHealth`.

What is measured
----------------
Before the first epoch (record ``epoch`` 0) and after every epoch, on one fixed
batch chosen when training starts (the first :data:`BATCH_ROWS` validation
rows, or training rows when there is no validation split), in inference mode
(no dropout; batch normalization uses its moving statistics), for every dense
layer (hidden layers and output heads, in build order):

- ``grad_norm``: L2 norm of the loss gradient over the layer's weights (kernel and bias);
- ``weight_norm``: L2 norm of the layer's weights;
- ``update_ratio``: ‖w − w_previous‖ / ‖w‖, the share by which the weights moved since
  the previous record (``null`` in record 0);
- ``act_mean`` / ``act_std``: mean and standard deviation of the layer's activation
  (the output of the dense layer, or of the activation layer that follows a linear
  dense layer, possibly after batch normalization or dropout) over the batch;
- ``dead`` (ReLU only; otherwise absent): share of units whose activation is zero on
  every row of the batch: they pass no gradient back;
- ``saturated`` (sigmoid and tanh only; otherwise absent): share of units within
  :data:`SATURATION_EPSILON` of a limit of their range (a fraction of the range) on at
  least :data:`SATURATED_SHARE` of the rows: their gradient is nearly zero.

Each record also has ``loss`` (the loss on the batch) and ``global_grad_norm``
(the norm over all the watched layers). Non-finite numbers are ``null``.

``health.json`` (in the run folder, rewritten after every record)::

    {"format": "mlpdesigner-health/1", "split": "validation", "rows": 256,
     "layers": [{"name": "dense_1", "spec_path": "/network/layers/0", "role": "hidden",
                 "activation": "relu", "activation_path": "/network/layers/0/activation",
                 "units": 30}, ...],
     "epochs": [{"epoch": 0, "loss": 0.9, "global_grad_norm": 1.2,
                 "layers": {"dense_1": {"grad_norm": ..., "weight_norm": ..., "update_ratio": null,
                                        "act_mean": ..., "act_std": ..., "dead": 0.0}, ...}}, ...]}

The same records stream as ``health`` events (:mod:`mlpdesigner.train.progress`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import UserError
from ..runfolder import HEALTH_FILE, json_safe
from ..spec.plan import Node, Plan
from ..spec.problems import Problem

FORMAT = "mlpdesigner-health/1"

#: Rows of the fixed batch measured once per epoch.
BATCH_ROWS = 256
#: A sigmoid/tanh unit is saturated when it is this close to a limit (as a fraction of its range) ...
SATURATION_EPSILON = 0.01
#: ... on at least this share of the batch's rows.
SATURATED_SHARE = 0.9

#: Activation ranges (low, high) of the saturating activations.
SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
#: Activations whose units can die (exactly zero output and gradient for negative inputs).
CAN_DIE = ("relu",)
#: Nodes that may stand between a linear dense layer and the activation layer that belongs to it.
PASS_THROUGH = ("batch_normalization", "layer_normalization", "dropout", "alpha_dropout", "gaussian_noise")
#: Nodes that are activation layers (the kind names the activation, except for ``activation``).
ACTIVATION_KINDS = ("activation", "leaky_relu", "prelu", "elu")

#: Advice thresholds (see :func:`health_advice`).
VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
EXPLODING_GROWTH = 1e3
DEAD_SHARE = 0.5
SATURATION_ALARM = 0.5


@dataclass(frozen=True)
class HealthLayer:
    """One watched dense layer: its Keras name, where it is in the spec, and its activation."""

    name: str
    spec_path: str
    role: str
    activation: str
    activation_path: str
    activation_layer: str
    units: int

    @property
    def can_die(self) -> bool:
        return self.activation in CAN_DIE

    @property
    def saturation_limits(self) -> tuple[float, float, float] | None:
        """(low, high, epsilon) of a saturating activation, else None."""
        if self.activation not in SATURATING:
            return None
        low, high = SATURATING[self.activation]
        return low, high, SATURATION_EPSILON * (high - low)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["activation_layer"]
        return out


def _activation_of(node: Node) -> str:
    return str(node.config.get("activation") or "linear") if node.kind == "activation" else node.kind


def health_layers(plan: Plan) -> list[HealthLayer]:
    """The dense layers of a plan, each with the activation that follows it."""
    consumers: dict[str, list[Node]] = {}
    for node in plan.nodes:
        for source in node.inputs:
            consumers.setdefault(source, []).append(node)
    layers = []
    for node in plan.nodes:
        if node.kind != "dense":
            continue
        activation = str(node.config.get("activation") or "linear")
        where, path = node, node.spec_path + "/activation"
        if activation == "linear":
            current = node
            while len(consumers.get(current.name, [])) == 1:
                current = consumers[current.name][0]
                if current.kind in ACTIVATION_KINDS:
                    where, activation, path = current, _activation_of(current), current.spec_path + "/activation"
                    break
                if current.kind not in PASS_THROUGH:
                    break
        units = int(node.config.get("units") or (node.shape[-1] if node.shape else 0))
        layers.append(HealthLayer(node.name, node.spec_path, node.role, activation, path, where.name, units))
    return layers


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def epoch_record(epoch: int, layers: list[HealthLayer], values: dict[str, Any]) -> dict[str, Any]:
    """One record from the measured figures (``layer<i>`` per layer, in ``layers``' order)."""
    has_previous = bool(values.get("has_previous"))
    per_layer: dict[str, Any] = {}
    for index, layer in enumerate(layers):
        raw = values[f"layer{index}"]
        weight_norm = _finite(raw["weight_norm"])
        update = _finite(raw["update_norm"])
        ratio = update / weight_norm if has_previous and update is not None and weight_norm else None
        figures = {
            "grad_norm": _finite(raw["grad_norm"]),
            "weight_norm": weight_norm,
            "update_ratio": ratio,
            "act_mean": _finite(raw["act_mean"]),
            "act_std": _finite(raw["act_std"]),
        }
        for key in ("dead", "saturated"):
            if key in raw:
                figures[key] = _finite(raw[key])
        per_layer[layer.name] = figures
    return {
        "epoch": epoch,
        "loss": _finite(values.get("loss")),
        "global_grad_norm": _finite(values.get("global_grad_norm")),
        "layers": per_layer,
    }


def health_document(layers: list[HealthLayer], records: list[dict[str, Any]], split: str, rows: int) -> dict[str, Any]:
    """The contents of ``health.json``."""
    return {
        "format": FORMAT,
        "split": split,
        "rows": rows,
        "layers": [layer.to_json() for layer in layers],
        "epochs": records,
    }


def write_health(run_dir: Path, document: dict[str, Any]) -> None:
    """Write ``health.json`` atomically."""
    text = json.dumps(json_safe(document), allow_nan=False, separators=(",", ":"))
    atomic_write_text(run_dir / HEALTH_FILE, text + "\n")


def read_health(run_dir: str | Path) -> dict[str, Any] | None:
    """``health.json`` of a run folder; None when the run has none (older runs, or none recorded).

    A file that is not a health record raises :class:`~mlpdesigner.errors.UserError` naming it.
    """
    path = Path(run_dir) / HEALTH_FILE
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the layer health record: {exc}. Expected a JSON file "
                        "written by mlpdesigner train.") from None
    problem = document_problem(document)
    if problem:
        raise UserError(f"{path}: {problem}")
    return document


def document_problem(document: Any) -> str | None:
    """What is wrong with a health document's shape, or None."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return f'Expected an object with "format": "{FORMAT}". Received: {str(document)[:60]}'
    if not isinstance(document.get("layers"), list) or not isinstance(document.get("epochs"), list):
        return 'Expected "layers" and "epochs" lists.'
    for index, layer in enumerate(document["layers"]):
        if not isinstance(layer, dict) or not isinstance(layer.get("name"), str):
            return f"/layers/{index}: Expected an object with a name."
    for index, record in enumerate(document["epochs"]):
        if not isinstance(record, dict) or not isinstance(record.get("layers"), dict):
            return f"/epochs/{index}: Expected an object with a layers object."
    return None


def layer_series(document: dict[str, Any], name: str, key: str) -> list[float | None]:
    """One figure of one layer over the records (None where missing)."""
    out = []
    for record in document.get("epochs", []):
        figures = record.get("layers", {}).get(name) or {}
        out.append(_finite(figures.get(key)))
    return out


# --------------------------------------------------------------------------- advice after a run


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _span(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]} ({len(names)} layers)"


def _times(ratio: float) -> str:
    """1000× / 3×10⁵×: how many times, rounded to its order of magnitude."""
    exponent = math.floor(math.log10(ratio)) if ratio > 0 else 0
    return f"{10 ** exponent:,}×" if exponent <= 6 else f"10^{exponent}×"


def _set_ops(raw: dict[str, Any], parts: list[str | int], value: Any) -> list[dict[str, Any]]:
    """JSON Patch operations that set ``parts`` to ``value`` in ``raw``, adding missing objects on the way."""
    ops: list[dict[str, Any]] = []
    node: Any = raw
    path = ""
    for part in parts[:-1]:
        path += "/" + str(part)
        if isinstance(node, dict) and part not in node:
            ops.append({"op": "add", "path": path, "value": {}})
            node = {}
            continue
        node = node[part] if isinstance(node, dict) else node[int(part)]
    ops.append({"op": "add", "path": f"{path}/{parts[-1]}", "value": value})
    return ops


def _pointer_parts(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]


def _resolves(raw: Any, path: str) -> bool:
    node = raw
    for part in _pointer_parts(path)[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, dict)


def _layer_fix(raw: dict[str, Any] | None, layers: list[dict[str, Any]], activation: str | None,
               extra: dict[str, Any] | None = None) -> list[dict[str, Any]] | None:
    """He initialization (and ``activation``, and ``extra`` keys) for each listed hidden layer, where it is written."""
    if raw is None:
        return None
    ops: list[dict[str, Any]] = []
    for layer in layers:
        targets = [(layer["spec_path"] + "/kernel_initializer", "he_normal")]
        targets += [(f"{layer['spec_path']}/{key}", value) for key, value in (extra or {}).items()]
        if activation is not None and layer.get("activation") in (*SATURATING, *CAN_DIE):
            targets.append((layer["activation_path"], activation))
        for path, value in targets:
            if not _resolves(raw, path):
                return None
            ops.append({"op": "add", "path": path, "value": value})
    return ops or None


def health_advice(document: dict[str, Any], spec: Any = None) -> list[Problem]:
    """Advice (H6xx problems) from a run's recorded layer health; fixes are patches on ``spec`` (a Spec).

    - H601 vanishing gradients: a layer whose gradient norm is below :data:`VANISHING_RATIO`
      times the largest layer's, in the median record (layers with exactly zero gradient are
      left to H603: they sit under dead units);
    - H602 exploding gradients: a non-finite gradient, a first layer whose gradient is
      :data:`EXPLODING_RATIO` times the last layer's, or a global gradient norm that grew
      :data:`EXPLODING_GROWTH` times over its value before training;
    - H603 dead units: a hidden ReLU layer with at least :data:`DEAD_SHARE` of its units dead
      in the last record;
    - H604 saturated units: a hidden sigmoid/tanh layer with at least :data:`SATURATION_ALARM`
      of its units saturated in the last record.
    """
    layers = [layer for layer in document.get("layers", []) if isinstance(layer, dict)]
    records = [r for r in document.get("epochs", []) if isinstance(r, dict) and isinstance(r.get("layers"), dict)]
    if not layers or not records:
        return []
    raw = getattr(spec, "raw", None)
    problems: list[Problem] = []
    hidden = [layer for layer in layers if layer.get("role") != "output"]

    # H601: vanishing.
    ratios: dict[str, list[float]] = {}
    strongest = layers[-1]["name"]
    for record in records:
        norms = {layer["name"]: _finite((record["layers"].get(layer["name"]) or {}).get("grad_norm"))
                 for layer in layers}
        largest = max((n for n in norms.values() if n is not None), default=None)
        if not largest:
            continue
        strongest = next(name for name, value in norms.items() if value == largest)
        for name, value in norms.items():
            if value:  # exactly zero: dead units above, not a vanishing signal
                ratios.setdefault(name, []).append(value / largest)
    vanishing = [layer for layer in hidden
                 if layer["name"] in ratios and _median(ratios[layer["name"]]) < VANISHING_RATIO]
    if vanishing:
        smallest = min(_median(ratios[layer["name"]]) for layer in vanishing)
        names = [layer["name"] for layer in vanishing]
        saturating = [layer for layer in hidden if layer.get("activation") in SATURATING]
        targets = [layer for layer in hidden if layer in vanishing or layer in saturating]
        problems.append(Problem(
            "warning", "H601", vanishing[0]["spec_path"],
            f"Vanishing gradients: {_span(names)} received gradients over {_times(1 / VANISHING_RATIO)} smaller than "
            f"{strongest} (down to {_times(1 / smallest)} smaller) — try He initialization with "
            "ReLU/ELU, or batch normalization",
            fix=_tuple(_layer_fix(raw, targets, "elu")), fix_title="Use He initialization and ELU in the hidden layers",
            extra={"layers": names},
        ))

    # H602: exploding.
    why = None
    if any(r.get("global_grad_norm") is None and r.get("loss") is not None for r in records[1:]):
        why = "a gradient became infinite or NaN"
    first, last = layers[0]["name"], layers[-1]["name"]
    growth = []
    for record in records:
        a = _finite((record["layers"].get(first) or {}).get("grad_norm"))
        b = _finite((record["layers"].get(last) or {}).get("grad_norm"))
        if a and b and len(layers) > 1:
            growth.append(a / b)
    if why is None and growth and _median(growth) > EXPLODING_RATIO:
        why = f"{first} received gradients {_times(_median(growth))} larger than {last}"
    start = _finite(records[0].get("global_grad_norm"))
    peak = max((g for g in (_finite(r.get("global_grad_norm")) for r in records[1:]) if g is not None), default=None)
    if why is None and start and peak and peak / start > EXPLODING_GROWTH:
        why = f"the gradient norm grew {_times(peak / start)} during training (from {start:.3g} to {peak:.3g})"
    if why:
        fix = None
        if raw is not None:
            filled = getattr(spec, "filled", None) or {}
            rate = float(filled.get("training", {}).get("optimizer", {}).get("learning_rate") or 0.001)
            fix = _set_ops(raw, ["training", "optimizer", "learning_rate"], rate / 10)
            fix.append({"op": "add", "path": "/training/optimizer/clipnorm", "value": 1.0})
        problems.append(Problem(
            "warning", "H602", "/training/optimizer/learning_rate",
            f"Exploding gradients: {why} — lower the learning rate or clip the gradients (clipnorm)",
            fix=_tuple(fix), fix_title="Divide the learning rate by 10 and clip gradients to norm 1",
            extra={"layers": [first]},
        ))

    # H603 / H604: dead and saturated units, per hidden layer, from the last record.
    final = records[-1]["layers"]
    for layer in hidden:
        figures = final.get(layer["name"]) or {}
        dead, saturated = _finite(figures.get("dead")), _finite(figures.get("saturated"))
        if dead is not None and dead >= DEAD_SHARE:
            problems.append(Problem(
                "warning", "H603", layer["spec_path"],
                f"Dead ReLUs: {dead:.0%} of the units of {layer['name']} output zero for every row of the "
                "batch and pass no gradient back — try He initialization, LeakyReLU, or a lower learning rate",
                fix=_tuple(_layer_fix(raw, [layer], "leaky_relu", {"bias_initializer": "zeros"})),
                fix_title=f"Use He initialization, zero biases and LeakyReLU in {layer['name']}",
                extra={"layers": [layer["name"]]},
            ))
        if saturated is not None and saturated >= SATURATION_ALARM:
            problems.append(Problem(
                "warning", "H604", layer["spec_path"],
                f"Saturated units: {saturated:.0%} of the units of {layer['name']} sit at a limit of "
                f"{layer['activation']}, where the gradient is almost zero — add batch normalization before the "
                "activation, or change it (ReLU/ELU with He initialization)",
                fix=_tuple(_layer_fix(raw, [layer], "elu")),
                fix_title=f"Use ELU with He initialization in {layer['name']}",
                extra={"layers": [layer["name"]]},
            ))
    return problems


def _tuple(ops: list[dict[str, Any]] | None) -> tuple[dict[str, Any], ...] | None:
    return tuple(ops) if ops else None


def advice_for_layer(problems: list[Problem], name: str) -> list[Problem]:
    """The health advice that concerns one layer (by Keras name)."""
    return [p for p in problems if name in p.extra.get("layers", ())]


def print_advice(run_dir: Path, stream: Any) -> list[Problem]:
    """Print a finished run's health advice (``health: warning H601 /path: ...``); returns it."""
    from ..spec import load_spec

    try:
        document = read_health(run_dir)
        spec = load_spec(run_dir / "spec.json") if (run_dir / "spec.json").is_file() else None
    except Exception as exc:  # noqa: BLE001 - advice is an aid: say why it is missing
        stream.write(f"warning: no layer health advice: {exc}\n")
        return []
    problems = health_advice(document, spec) if document else []
    for problem in problems:
        stream.write(f"health: {problem.severity} {problem.code} {problem.path}: {problem.message}\n")
        if problem.fix_title:
            stream.write(f"  fix: {problem.fix_title}\n")
    stream.flush()
    return problems
