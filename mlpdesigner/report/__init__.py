"""``mlpdesigner report RUN_DIR -o report.html``: one self-contained HTML page about a run.

Sections: the design (an SVG diagram from the spec), the data, the training
curves, the final metrics beside the constant predictor's, the evaluation
views (``evaluation.json`` and its pictures), the layer health when the run
folder has a ``health.json``, and the environment (versions, seed, device,
data hash). Images are embedded as ``data:`` URIs; there is no script, no
external stylesheet and nothing fetched from the network.

Everything from the run folder (column names, class labels, file paths) is
HTML-escaped by the template (Jinja2 autoescape, ``StrictUndefined``). Reads
the folder only: no TensorFlow, and a run that failed or never saved a model
still gets its page (with what it has).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from .. import __version__, runfolder
from ..errors import UserError
from ..evaluation import evaluation_with_figures
from ..runfolder import RunFolderError

#: The optional file another part of the runner may write (layer health during training).
HEALTH_FILE = runfolder.HEALTH_FILE
#: The layout the training runner writes (:mod:`mlpdesigner.train.health`); others are shown as text.
HEALTH_FORMAT = "mlpdesigner-health/1"
#: Bytes of health.json shown at most when its layout is not one the report knows.
HEALTH_TEXT_LIMIT = 20_000


def data_uri(content: bytes, mime: str) -> str:
    """``data:<mime>;base64,...``."""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _picture(run: Path, relative: Any) -> str | None:
    """A picture of the run folder as a data URI (SVG preferred by the caller), or None when it is not there."""
    if not isinstance(relative, str) or ".." in Path(relative).parts or Path(relative).is_absolute():
        return None
    path = run / relative
    try:
        content = path.read_bytes()
    except OSError:
        return None
    return data_uri(content, "image/svg+xml" if path.suffix == ".svg" else "image/png")


def _design(run: Path) -> dict[str, Any]:
    from ..spec import load_spec
    from .diagram import layer_rows, plan_svg

    try:
        spec = load_spec(run / runfolder.SPEC_FILE)
        _, plan = spec.checked()
    except Exception as exc:  # noqa: BLE001 - a damaged spec.json still gets a page that says so
        return {"error": f"{runfolder.SPEC_FILE} cannot be drawn: {exc}"}
    return {
        "svg": data_uri(plan_svg(plan).encode("utf-8"), "image/svg+xml"),
        "layers": layer_rows(plan),
        "total_params": plan.total_params,
        "topology": plan.topology,
        "description": spec.raw.get("description") or "",
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _metric_table(metrics: dict[str, Any]) -> dict[str, Any]:
    splits = [s for s in runfolder.SPLITS if isinstance(metrics.get(s), dict)]
    baseline: dict[str, Any] = _mapping(metrics.get("baseline"))
    baseline_split = "test" if isinstance(baseline.get("test"), dict) else "validation"
    constant = _mapping(baseline.get(baseline_split))
    keys: list[str] = []
    for split in splits:
        keys += [k for k in metrics[split] if k not in keys]
    rows = [{"metric": k, "values": [runfolder.format_number(metrics[s].get(k)) for s in splits],
             "baseline": runfolder.format_number(constant.get(k)) if k in constant else "-"} for k in keys]
    return {"splits": splits, "rows": rows, "baseline_split": baseline_split}


def _health(run: Path) -> dict[str, Any] | None:
    """``health.json`` read defensively: a table of per-layer numbers when it has them, else its text."""
    path = run / HEALTH_FILE
    if not path.is_file():
        return None
    try:
        data = runfolder.read_json(path)
    except RunFolderError as exc:
        return {"error": str(exc)}
    if isinstance(data, dict) and data.get("format") == HEALTH_FORMAT:
        return _recorded_health(data)
    layers = data.get("layers") if isinstance(data, dict) else None
    rows = []
    if isinstance(layers, dict):
        for name, values in layers.items():
            if isinstance(values, dict):
                numbers = {}
                for key, value in values.items():
                    last = value[-1] if isinstance(value, list) and value else value
                    if isinstance(last, (int, float)) and not isinstance(last, bool):
                        numbers[str(key)] = runfolder.format_number(last)
                rows.append({"layer": str(name), "values": numbers})
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row["values"] if k not in columns]
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if len(text) > HEALTH_TEXT_LIMIT:
        text = text[:HEALTH_TEXT_LIMIT] + "\n… (cut)"
    advice = data.get("advice") if isinstance(data, dict) else None
    advice_lines = [str(a.get("message", a)) if isinstance(a, dict) else str(a) for a in advice] \
        if isinstance(advice, list) else []
    return {"rows": rows, "columns": columns[:8], "text": text, "advice": advice_lines}


def _recorded_health(data: dict[str, Any]) -> dict[str, Any]:
    """The health the runner records (:mod:`mlpdesigner.train.health`): the last epoch per layer, and its advice."""
    from ..train.health import document_problem, health_advice

    problem = document_problem(data)
    if problem:
        return {"error": f"{HEALTH_FILE}: {problem}"}
    last = data["epochs"][-1] if data["epochs"] else {"layers": {}}
    columns = ["grad_norm", "weight_norm", "update_ratio", "act_mean", "act_std", "dead", "saturated"]
    rows = []
    for layer in data["layers"]:
        figures = last["layers"].get(layer["name"]) or {}
        rows.append({"layer": f"{layer['name']} ({layer.get('activation')})",
                     "values": {k: runfolder.format_number(figures[k]) for k in columns if figures.get(k) is not None}})
    advice = [f"{p.code}: {p.message}" for p in health_advice(data)]
    note = f"epoch {last.get('epoch', '?')}, on {data.get('rows')} {data.get('split')} rows"
    text = json.dumps(data, ensure_ascii=False)
    text = text if len(text) <= HEALTH_TEXT_LIMIT else text[:HEALTH_TEXT_LIMIT] + "\n… (cut)"
    return {"rows": rows, "columns": columns, "text": text, "advice": [note, *advice]}


def _evaluation(run: Path) -> dict[str, Any] | None:
    views = evaluation_with_figures(run)
    if views is None:
        return None
    figures = _mapping(views.get("figures"))
    outputs = []
    for name, view in (views.get("outputs") or {}).items():
        if not isinstance(view, dict):
            continue
        files = _mapping(figures.get(name))
        outputs.append({
            "name": str(name),
            "view": view,
            "picture": _picture(run, files.get("svg")) or _picture(run, files.get("png")),
        })
    return {"split": views.get("split"), "rows": views.get("rows"), "outputs": outputs,
            "error": views.get("error"), "figures_error": views.get("figures_error")}


def _curves(run: Path) -> tuple[str | None, str | None]:
    history = runfolder.read_history(run)
    if not history:
        return None, None
    try:
        from ..evaluation.figures import training_curves

        drawn = training_curves(history)
    except Exception as exc:  # noqa: BLE001 - the rest of the page still helps
        return None, f"the training curves could not be drawn: {type(exc).__name__}: {exc}"
    return (data_uri(drawn[1], "image/svg+xml") if drawn else None), None


def build_report(run_dir: str | os.PathLike[str]) -> str:
    """The HTML page of a run folder (a :class:`UserError` when the folder holds no readable ``run.json``)."""
    import jinja2

    from ..resources import data_path

    run = Path(run_dir).expanduser().resolve()
    if not run.is_dir():
        raise UserError(f"Run folder not found: {run}. Expected a folder written by mlpdesigner train.")
    if not (run / runfolder.INFO_FILE).is_file():
        raise UserError(f"{run}: no {runfolder.INFO_FILE}. Expected a folder written by mlpdesigner train.")
    info = runfolder.read_info(run)
    curves, curves_error = _curves(run)
    context = {
        "run_name": run.name,
        "run_path": str(run),
        "info": info.to_json(),
        "status": str(runfolder.current_status(info)),
        "design": _design(run),
        "metrics": _metric_table(runfolder.read_metrics(run)),
        "curves": curves,
        "curves_error": curves_error,
        "evaluation": _evaluation(run),
        "health": _health(run),
        "version": __version__,
        "fmt": runfolder.format_number,
    }
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_path("templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html.jinja").render(**context)


def write_report(run_dir: str | os.PathLike[str], output: str | os.PathLike[str]) -> Path:
    """Write the page of ``run_dir`` to ``output`` (atomically); returns the path written."""
    from ..atomic import atomic_write_text
    from ..safeio import check_output_file

    run = Path(run_dir).expanduser()
    inputs = [run / name for name in runfolder.RUN_FILES]
    path = check_output_file(output, inputs)
    page = build_report(run)
    try:
        atomic_write_text(path, page)
    except OSError as exc:
        raise UserError(f"-o {output}: cannot write it: {exc.strerror or exc}") from None
    return path
