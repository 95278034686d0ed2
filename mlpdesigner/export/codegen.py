"""Spec -> a standalone, readable Keras script, rendered from ``templates/``.

All decisions are made here; the template only lays the pieces out. Every user
string (names, descriptions, column and class names, paths) is turned into a
checked literal or a checked identifier by :mod:`.pyformat` before it reaches
the template, and the template runs with ``StrictUndefined``.
"""

from __future__ import annotations

import builtins
import os
import re
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..spec.defaults import target_scaling
from ..spec.paths import relative_path
from ..spec.plan import Node, Plan
from ..spec.registry import KerasCall, callback_calls, metric_call, optimizer_call
from .pyformat import (
    LINE_LENGTH,
    Call,
    Expr,
    Mapping,
    Raw,
    Seq,
    Str,
    identifier,
    is_identifier,
    line,
    literal,
    statement,
    value_expr,
)
from .source import ExportSource

TEMPLATE = "keras_script.py.jinja"

def module_names() -> set[str]:
    """Names the generated module binds at its top level, and ``build_model``'s parameters.

    Read from the template (functions, imports) and from this module (the
    constants it writes), so the list cannot fall behind either.
    """
    from ..resources import data_dir

    template = data_dir("templates").joinpath(TEMPLATE).read_text(encoding="utf-8")
    names = set(re.findall(r"^def (\w+)\(", template, re.MULTILINE))
    for module, alias in re.findall(r"^import (\w+)(?: as (\w+))?$", template, re.MULTILINE):
        names.add(alias or module)
    build = re.search(r"^def build_model\(([^)]*)\)", template, re.MULTILINE)
    if build:
        names.update(part.split("=")[0].strip(" *") for part in build.group(1).split(",") if part.strip())
    names.update(re.findall(r'statement\("([A-Z][A-Z_]*)"', Path(__file__).read_text(encoding="utf-8")))
    return names


#: Names a layer variable never takes.
MODULE_NAMES = module_names()
RESERVED = MODULE_NAMES | set(dir(builtins))


def render_call(value: Any, suffix: str = "") -> Expr:
    """A registry value as Python: a :class:`KerasCall` as ``keras.<target>(...)`` without Keras' defaults."""
    if isinstance(value, KerasCall):
        args = [render_call(a) for a in value.args]
        kwargs = [(key, render_call(v)) for key, v in value.explicit_kwargs()]
        return Call("keras." + value.target, args, kwargs, suffix)
    if isinstance(value, str):
        return Str(value)
    return Raw(literal(value))


def _layer_expr(node: Node, suffix: str = "") -> Expr:
    """The Keras layer constructor of one planned node, leaving out Keras' defaults."""
    if node.kind == "rescaling" and node.config.get("target_scaling"):
        # The training targets' statistics are known only when the script runs: build_model takes them.
        scaling = Raw(f"**target_rescaling({literal(node.name)}, target_scaling)")
        return Call("keras.layers.Rescaling", [scaling], [("name", Str(node.name))], suffix)
    return render_call(node.keras_call, suffix)


def _input_expr(node: Node) -> Call:
    return Call("keras.Input", [], [("shape", Raw(literal(tuple(node.shape)))), ("name", Str(node.name))])


class _Variables:
    """Python variable names for tensors: the layer's name when safe, else ``t<n>``."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.used: set[str] = set()

    def add(self, layer_name: str) -> str:
        if is_identifier(layer_name, RESERVED):
            base = layer_name
        elif is_identifier(f"{layer_name}_tensor", RESERVED):
            base = f"{layer_name}_tensor"
        else:
            base = "t"
        candidate, count = base, 1
        while candidate in self.used or candidate in RESERVED:
            count += 1
            candidate = f"{base}{count}" if base != "t" else f"t{count}"
        self.used.add(candidate)
        self.names[layer_name] = identifier(candidate, RESERVED)
        return candidate

    def __getitem__(self, layer_name: str) -> str:
        return self.names[layer_name]


def build_body(plan: Plan) -> list[str]:
    """Statements of ``build_model()`` after the seeding (indented one level)."""
    sequential = plan.topology == "sequential" and len(plan.inputs) == 1 and len(plan.outputs) == 1
    if sequential:
        stack: list[Expr] = [_input_expr(plan.nodes[0])] + [_layer_expr(n) for n in plan.nodes[1:]]
        model = Call("keras.Sequential", [Seq(stack)], [("name", Raw("NAME"))])
        return [line("return ", model, 1)]
    names = _Variables()
    lines = []
    for node in plan.nodes:
        if node.kind == "input":
            expr: Expr = _input_expr(node)
        else:
            args = [names[i] for i in node.inputs]
            called = f"([{', '.join(args)}])" if node.kind == "concatenate" else f"({args[0]})"
            expr = _layer_expr(node, called)
        lines.append(statement(names.add(node.name), expr, 1))
    model = Call(
        "keras.Model",
        [],
        [
            ("inputs", Seq([Raw(names[n]) for n in plan.inputs])),
            ("outputs", Seq([Raw(names[n]) for n in plan.outputs])),
            ("name", Raw("NAME")),
        ],
    )
    lines.append(line("return ", model, 1))
    return lines


# --------------------------------------------------------------------------- training part


def _optimizer_expr(training: dict[str, Any]) -> Expr:
    return render_call(optimizer_call(training))


def _metric_expr(name: str, output: dict[str, Any]) -> Expr:
    return render_call(metric_call(name, output))


def _compile_call(outputs: list[dict[str, Any]], training: dict[str, Any]) -> Call:
    """``model.compile``: the losses and their weights come from ``losses_and_weights`` (target scaling)."""
    kwargs: list[tuple[str, Expr]] = [("optimizer", _optimizer_expr(training))]
    kwargs += [("loss", Raw("loss")), ("loss_weights", Raw("loss_weights"))]
    if len(outputs) == 1:
        out = outputs[0]
        kwargs.append(("metrics", Seq([_metric_expr(m, out) for m in out["metrics"]])))
    else:
        kwargs.append(
            ("metrics", Mapping([(o["name"], Seq([_metric_expr(m, o) for m in o["metrics"]])) for o in outputs]))
        )
    kwargs.append(("steps_per_execution", Raw("steps_per_execution")))
    return Call("model.compile", [], kwargs)


def _callbacks(training: dict[str, Any], has_validation: bool = True) -> list[Expr]:
    """Early stopping and reduce-on-plateau as the app sets them up: ``val_`` monitors watch the training
    value when there are no validation rows; no plateau callback under a learning-rate schedule."""

    def monitor(section: str, name: str) -> str:
        return name[4:] if name.startswith("val_") and not has_validation else name

    return [render_call(call) for call in callback_calls(training, monitor)]


def _strata_output(outputs: list[dict[str, Any]]) -> str | None:
    """The output whose classes stratify the split, as in the app: the first binary or multiclass one."""
    return next((o["name"] for o in outputs if o["task"] in ("binary", "multiclass")), None)


def _label_column(output: dict[str, Any], columns: dict[str, list[str]]) -> bool:
    """True when a classification output reads one label column (not 0/1 or one-hot columns)."""
    return output["task"] in ("binary", "multiclass") and len(columns[output["name"]]) == 1


def _target_expr(output: dict[str, Any], columns: dict[str, list[str]]) -> Expr:
    name = Str(output["name"])
    task = output["task"]
    one_hot = output.get("label_format", "integer") == "one_hot"
    if task == "binary":
        return Call("class_indices", [Raw("table"), name, Raw("2")], suffix=".reshape(-1, 1)")
    if task == "multiclass" and _label_column(output, columns):
        indices = Call("class_indices", [Raw("table"), name, Raw(literal(output["units"]))])
        if one_hot:
            return Call("keras.utils.to_categorical", [indices, Raw(literal(output["units"]))])
        return indices
    if task == "multiclass" and not one_hot:
        return Call("columns", [Raw("table"), name], suffix=".argmax(axis=1)")
    return Call("columns", [Raw("table"), name])


def _data_path(source: ExportSource, out: Path | None) -> str:
    """The data file as the script should name it: relative to the script's folder when known."""
    spec = source.spec
    written = spec.checked()[0]["data"]["path"]
    if spec.path is None or out is None:
        return written
    return relative_path(spec.base_dir / written, Path(os.path.realpath(out)).parent)


def _steps_cap(spec: Any) -> int:
    """Batches per graph call as the app resolves ``steps_per_execution`` (capped by an epoch's steps)."""
    from ..train.runner import AUTO_STEPS_PER_EXECUTION, AUTO_STEPS_SMALL_MODEL, SMALL_MODEL_PARAMS

    value = (spec.filled or {})["training"]["steps_per_execution"]
    if value != "auto":
        return int(value)
    params = spec.plan.total_params if spec.plan else SMALL_MODEL_PARAMS + 1
    return AUTO_STEPS_SMALL_MODEL if params <= SMALL_MODEL_PARAMS else AUTO_STEPS_PER_EXECUTION


def training_context(source: ExportSource, out: Path | None) -> dict[str, Any]:
    """Constants and statements of the training part."""
    spec = source.spec
    filled, plan = spec.checked()
    if "data" not in filled and not source.columns:
        raise UserError(
            f"Cannot generate the training part for {spec.path or spec.name}: the spec has no data section. "
            "Expected data.path and data.columns",
            hint="add a data section to the spec, or export without --with-training",
        )
    data = filled.get("data") or {}
    columns = dict(data.get("columns", {}))
    columns.update(source.columns)
    names = [i["name"] for i in filled["inputs"]] + [o["name"] for o in filled["outputs"]]
    missing = [n for n in names if not columns.get(n)]
    if missing or "path" not in data:
        where = "data.path" if "path" not in data else "data.columns for " + ", ".join(missing)
        raise UserError(
            f"Cannot generate the training part for {spec.path or spec.name}. Expected {where} in the spec",
            hint="map every input and output to its data columns",
        )
    outputs = filled["outputs"]
    training = filled["training"]
    classification = [o for o in outputs if _label_column(o, columns)]
    constants = [
        statement("DATA_PATH", Str(_data_path(source, out))),
        statement("COLUMNS", Mapping([(n, value_expr(columns[n])) for n in names])),
    ]
    if classification:
        classes = {o["name"]: source.classes[o["name"]] for o in classification if o["name"] in source.classes}
        constants.append(statement("CLASSES", value_expr(classes)))
    constants += [
        statement("VALIDATION_SPLIT", Raw(literal(data["validation_split"]))),
        statement("TEST_SPLIT", Raw(literal(data["test_split"]))),
        statement("SHUFFLE", Raw(literal(data["shuffle"]))),
        statement("SPLIT_SEED", Raw(literal(data["split_seed"]))),
        statement("STRATIFY_BY", Raw(literal(_strata_output(outputs) if data["stratify"] else None))),
        statement("EPOCHS", Raw(literal(training["epochs"]))),
        statement("BATCH_SIZE", Raw(literal(training["batch_size"]))),
        statement("STEPS_PER_EXECUTION_CAP", Raw(literal(_steps_cap(spec)))),
        statement("TARGET_SCALING", value_expr({o["name"]: target_scaling(o) for o in outputs if target_scaling(o)})),
        statement("LOSSES", value_expr({o["name"]: o["loss"] for o in outputs})),
        statement("LOSS_WEIGHTS", Mapping([(o["name"], Raw(literal(float(o["loss_weight"])))) for o in outputs])),
    ]
    input_exprs: list[tuple[str, Expr]] = []
    for inp in filled["inputs"]:
        shape = tuple(inp["shape"])
        args: list[Expr] = [Raw("table"), Str(inp["name"])]
        kwargs: list[tuple[str, Expr]] = [("shape", Raw(literal(shape)))] if len(shape) > 1 else []
        input_exprs.append((inp["name"], Call("columns", args, kwargs)))
    load = [
        statement("inputs", Mapping(input_exprs), 1),
        statement("targets", Mapping([(o["name"], _target_expr(o, columns)) for o in outputs]), 1),
    ]
    adapt = [
        statement(
            "",
            Call(
                "set_standardization",
                [Raw(f"model.get_layer({literal(n.name)})"), Raw(f"inputs[{literal(n.inputs[0])}][train]")],
            ),
            1,
        )
        for n in plan.nodes
        if n.kind == "normalization"
    ]
    fit_kwargs: list[tuple[str, Expr]] = []
    if data["validation_split"] > 0:
        fit_kwargs.append(
            ("validation_data", Call("pipeline", [Raw("take(inputs, validation)"), Raw("take(targets, validation)")]))
        )
    fit_kwargs += [("epochs", Raw("EPOCHS")), ("shuffle", Raw("False"))]
    callbacks = _callbacks(training, data["validation_split"] > 0)
    if callbacks:
        fit_kwargs.append(("callbacks", Seq(callbacks)))
    balanced = (
        training.get("class_weight") == "balanced"
        and len(outputs) == 1
        and outputs[0]["task"] in ("binary", "multiclass")
        and outputs[0].get("label_format", "integer") == "integer"
    )
    if balanced:
        fit_kwargs.append(
            ("class_weight", Call("balanced_class_weight", [Raw(f"targets[{literal(outputs[0]['name'])}][train]")]))
        )
    training_rows = Call("pipeline", [Raw("take(inputs, train)"), Raw("take(targets, train)")],
                         [("shuffle_seed", Raw("SEED"))])
    fit = Call("model.fit", [training_rows], fit_kwargs)
    return {
        "training_constants": constants,
        "uses_classes": bool(classification),
        "uses_class_weight": balanced,
        "load_data_body": load,
        "adapt": adapt,
        "compile": statement("", _compile_call(outputs, training), 1),
        "fit": statement("", fit, 1),
        "has_test": data["test_split"] > 0,
    }


# --------------------------------------------------------------------------- rendering


def _environment() -> Any:
    import jinja2

    from ..resources import data_dir

    folder = data_dir("templates")

    def load(name: str) -> str:
        return folder.joinpath(name).read_text(encoding="utf-8")

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def generate(source: ExportSource, *, with_training: bool = False, out: Path | None = None) -> str:
    """The generated script's text."""
    spec = source.spec
    filled, plan = spec.checked()
    title_name = spec.name if is_identifier(spec.name) else None
    constants = [
        statement("NAME", Str(filled["name"])),
        statement("DESCRIPTION", Str(filled.get("description") or "")),
        statement("SEED", Raw(literal(filled["training"]["seed"]))),
        statement("INPUT_NAMES", value_expr(list(plan.inputs))),
        statement("OUTPUT_NAMES", value_expr(list(plan.outputs))),
    ]
    context: dict[str, Any] = {
        "title_name": title_name,
        "with_training": with_training,
        "constants": constants,
        "build_body": build_body(plan),
        "uses_target_scaling": any(n.kind == "rescaling" and n.config.get("target_scaling") for n in plan.nodes),
        "trained_source": source.trained,
    }
    if with_training:
        context.update(training_context(source, out))
    code = _environment().get_template(TEMPLATE).render(**context)
    too_long = [i + 1 for i, line in enumerate(code.splitlines()) if len(line) > LINE_LENGTH]
    if too_long:  # pragma: no cover - the formatter keeps every line within the width
        raise RuntimeError(f"Generated lines longer than {LINE_LENGTH}: {too_long[:10]}")
    return code
