"""The data tab's logic (Qt-free, pandas only): read a CSV, guess a target's task, advise, and edit the mapping.

Every edit is returned as JSON Patch operations on the spec as written, for
the document's undoable :meth:`~mlpdesigner.gui.document.Document.apply`.
"""

from __future__ import annotations

import copy
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..safeio import check_input_file
from ..spec.defaults import task_defaults_patch
from ..spec.paths import relative_path
from .table import label_text, read_csv_table

Ops = list[dict[str, Any]]

#: Rows shown in the preview table.
PREVIEW_ROWS = 20
#: Most distinct integer values a target may have to count as class labels.
MAX_CLASSES = 50
#: A class below this share of the largest class counts as imbalanced.
IMBALANCE_RATIO = 0.25

_ID_NAME = re.compile(r"(^|[_\s-])(id|index|idx|key|uuid|row)$|^(id|index|idx|uuid|row_?number)$", re.IGNORECASE)


def read_table(path: str | os.PathLike[str]) -> Any:
    """The CSV file as a pandas DataFrame (``.tsv`` tab-separated); UserError naming the file when unreadable."""
    file = check_input_file(path, "a CSV file")
    if not file.is_file():
        raise UserError(f"Data file not found: {file}. Expected a CSV file.")
    if file.suffix.lower() == ".npz":
        raise UserError(
            f"{file}: the data tab previews CSV files. Expected a .csv file (.npz files train as they are)."
        )
    return read_csv_table(file).frame


def leaves_folder(data_file: str | os.PathLike[str], spec_path: str | os.PathLike[str] | None) -> bool:
    """True when a spec's data file lies outside the spec's folder (and its subfolders).

    A spec from someone else could point there to read private files: the
    designer asks before reading such a file, and training says where it reads
    and never shows the content of a file that does not fit the spec.
    """
    if spec_path is None:
        return False
    folder = Path(os.path.realpath(Path(spec_path).parent))
    target = Path(os.path.realpath(data_file))
    return folder != target and folder not in target.parents and not _bundled(target)


def _bundled(path: Path) -> bool:
    """True for the datasets shipped with MLP Designer (the starter designs point at them with ../)."""
    from ..resources import data_dir

    try:
        bundled = Path(os.path.realpath(str(data_dir("resources"))))
    except Exception:  # noqa: BLE001 - no bundled resources: nothing is bundled
        return False
    return bundled in path.parents


def relative_data_path(data_file: str | os.PathLike[str], spec_path: str | os.PathLike[str] | None) -> str:
    """The data path as the spec stores it: relative to the spec's folder (absolute when there is no spec file)."""
    if spec_path is None:
        return Path(data_file).resolve().as_posix()
    return relative_path(data_file, Path(spec_path).resolve().parent)


# --------------------------------------------------------------------------- task inference


@dataclass
class TaskGuess:
    """What a target column (or set of columns) looks like."""

    task: str
    units: int
    classes: list[str] | None = None
    why: str = ""

    def describe(self) -> str:
        if self.task == "regression":
            return f"regression ({self.units} value{'s' * (self.units != 1)})"
        if self.task == "binary":
            return "binary (2 classes" + (f": {', '.join(self.classes)})" if self.classes else ")")
        if self.task == "multilabel":
            return f"multilabel ({self.units} labels)"
        shown = ", ".join((self.classes or [])[:8]) + (", …" if len(self.classes or []) > 8 else "")
        return f"multiclass ({self.units} classes" + (f": {shown})" if shown else ")")


def _is_numeric(series: Any) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return bool(is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype))


def _is_zero_one(series: Any) -> bool:
    from pandas.api.types import is_bool_dtype

    values = series.dropna()
    if is_bool_dtype(values.dtype):
        return True
    return _is_numeric(values) and set(values.unique().tolist()) <= {0, 1}


def infer_task(frame: Any, columns: list[str]) -> TaskGuess | None:
    """The task and unit count a target made of ``columns`` suggests (None when there is nothing to go on)."""
    columns = [c for c in columns if c in frame.columns]
    if not columns:
        return None
    if len(columns) > 1:
        if all(_is_zero_one(frame[c]) for c in columns):
            return TaskGuess("multilabel", len(columns), list(columns), "every column holds only 0 and 1")
        if all(_is_numeric(frame[c]) for c in columns):
            return TaskGuess("regression", len(columns), None, "several numeric columns")
        return None
    series = frame[columns[0]].dropna()
    if series.empty:
        return None
    distinct = series.unique()
    count = len(distinct)
    if _is_numeric(series):
        values = series.to_numpy(dtype="float64")
        integers = bool(((values % 1) == 0).all())
        if count == 2:
            labels = sorted(distinct.tolist())
            return TaskGuess("binary", 1, [label_text(v) for v in labels], "two distinct values")
        if integers and 2 < count <= MAX_CLASSES and count <= max(3, len(series) // 5):
            labels = sorted(distinct.tolist())
            return TaskGuess("multiclass", count, [label_text(v) for v in labels], f"{count} distinct whole numbers")
        return TaskGuess("regression", 1, None, "numbers with many distinct values")
    labels = sorted((label_text(v) for v in distinct), key=str)
    if count == 2:
        return TaskGuess("binary", 1, labels, "two distinct labels")
    if count == 1:
        return TaskGuess("binary", 1, labels, "a single label (a constant target cannot be learned)")
    return TaskGuess("multiclass", count, labels, f"{count} distinct labels")


def head_matches(output: dict[str, Any], guess: TaskGuess) -> bool:
    """True when the output head already has the guessed task and units (and class names when it lists them)."""
    if output.get("task") != guess.task:
        return False
    if guess.task != "binary" and output.get("units", 1) != guess.units:
        return False
    if guess.task in ("multiclass", "multilabel") and "classes" in output and guess.classes:
        return list(output["classes"]) == list(guess.classes)
    return True


def head_ops(raw: dict[str, Any], index: int, guess: TaskGuess) -> Ops:
    """Set output ``index``'s head to the guess: task (with its defaults), units and class names."""
    output = raw["outputs"][index]
    new = copy.deepcopy(output) if output.get("task") == guess.task else task_defaults_patch(output, guess.task)
    new["task"] = guess.task
    new["units"] = 1 if guess.task == "binary" else guess.units
    if guess.task in ("multiclass", "multilabel") and guess.classes and len(guess.classes) == new["units"]:
        new["classes"] = list(guess.classes)
    else:
        new.pop("classes", None)
    if new == output:
        return []
    return [{"op": "replace", "path": f"/outputs/{index}", "value": new}]


# --------------------------------------------------------------------------- mapping edits


def data_file_ops(raw: dict[str, Any], path_text: str) -> Ops:
    """Point the spec at a data file (creating the data section with an empty mapping)."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return [{"op": "add", "path": "/data", "value": {"path": path_text, "columns": {}}}]
    ops: Ops = []
    if data.get("path") != path_text:
        ops.append({"op": "add", "path": "/data/path", "value": path_text})
    if not isinstance(data.get("columns"), dict):
        ops.append({"op": "add", "path": "/data/columns", "value": {}})
    return ops


def mapped_columns(raw: dict[str, Any], name: str) -> list[str]:
    """The columns mapped to an input or output ([] when none)."""
    data = raw.get("data") if isinstance(raw, dict) else None
    columns = data.get("columns") if isinstance(data, dict) else None
    value = columns.get(name) if isinstance(columns, dict) else None
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def mapping_ops(raw: dict[str, Any], name: str, columns: list[str], *, resize: bool = True) -> Ops:
    """Map ``columns`` to the input or output ``name`` (an empty list removes the mapping).

    With ``resize``, a one-dimensional input's shape, and the units of a
    regression or multilabel output, follow the number of columns (the same
    undoable edit), so the mapping never leaves the spec inconsistent.
    """
    data = raw.get("data")
    if not isinstance(data, dict):
        raise ValueError("Expected a data section (choose a data file first). Received: none")
    ops: Ops = []
    if not isinstance(data.get("columns"), dict):
        ops.append({"op": "add", "path": "/data/columns", "value": {}})
        current = None
    else:
        current = data["columns"].get(name)
    if columns:
        if current != columns:
            ops.append({"op": "add", "path": f"/data/columns/{name}", "value": list(columns)})
    elif current is not None:
        ops.append({"op": "remove", "path": f"/data/columns/{name}"})
    if not resize or not columns:
        return ops
    for index, item in enumerate(raw.get("inputs") or []):
        if isinstance(item, dict) and item.get("name") == name:
            shape = item.get("shape")
            if isinstance(shape, list) and len(shape) == 1 and shape != [len(columns)]:
                ops.append({"op": "replace", "path": f"/inputs/{index}/shape", "value": [len(columns)]})
    for index, item in enumerate(raw.get("outputs") or []):
        if isinstance(item, dict) and item.get("name") == name and item.get("task") in ("regression", "multilabel"):
            if item.get("units", 1) != len(columns):
                ops.append({"op": "add", "path": f"/outputs/{index}/units", "value": len(columns)})
            if item.get("task") == "multilabel" and "classes" in item:
                ops.append({"op": "replace", "path": f"/outputs/{index}/classes", "value": list(columns)})
    return ops


# --------------------------------------------------------------------------- advice


@dataclass
class DataAdvice:
    """One observation about the data, with an optional fix (JSON Patch)."""

    kind: str  #: missing, constant, non_numeric, id_column, scale, imbalance, unreadable, constant_in_training,
    #: near_constant, small_split, target_range
    column: str
    message: str
    fix: Ops = field(default_factory=list)
    fix_title: str = ""
    #: Where, for people: ``file:line, column 'c'`` (a row), ``file, column 'c'``, or ``file``.
    location: str = ""

    def format(self) -> str:
        """``location: message`` (the command line's form)."""
        return f"{self.location}: {self.message}" if self.location else self.message


#: Features whose mean or standard deviation exceeds this are "far from unit scale".
SCALE_LIMIT = 10.0


def likely_id_column(name: str, series: Any) -> bool:
    """A column of unique whole numbers or strings named like an ID, or counting up one by one."""
    values = series.dropna()
    if len(values) < 10 or values.nunique() != len(values):
        return False
    if _ID_NAME.search(str(name)):
        return True
    if _is_numeric(values):
        numbers = values.to_numpy(dtype="float64")
        if ((numbers % 1) == 0).all():
            import numpy as np

            steps = np.diff(numbers)
            return bool(len(steps) and (np.all(steps == 1) or np.all(steps == -1)))
    return False


def data_advice(frame: Any, raw: dict[str, Any]) -> list[DataAdvice]:
    """Missing values, constant columns, non-numeric features, likely ID columns and class imbalance."""
    advice: list[DataAdvice] = []
    inputs = [i.get("name") for i in raw.get("inputs") or [] if isinstance(i, dict)]
    outputs = [o for o in raw.get("outputs") or [] if isinstance(o, dict)]
    feature_columns = {c for name in inputs for c in mapped_columns(raw, str(name))}
    target_columns = {c for o in outputs for c in mapped_columns(raw, str(o.get("name")))}
    rows = len(frame)
    for column in frame.columns:
        series = frame[column]
        name = str(column)
        role = "input column" if name in feature_columns else "target column" if name in target_columns else "column"
        missing = int(series.isna().sum())
        if missing:
            first = int(series.isna().to_numpy().argmax()) + 2
            advice.append(DataAdvice(
                "missing", name,
                f"{role.capitalize()} {name!r} has {missing} missing value{'s' * (missing != 1)} "
                f"({missing / max(rows, 1):.1%} of rows; first on line {first}). Training refuses missing "
                "values: fill or drop those rows"
                + (", or leave the column out." if name not in target_columns else "."),
            ))
        if rows > 1 and series.nunique(dropna=True) <= 1:
            advice.append(DataAdvice(
                "constant", name,
                f"{role.capitalize()} {name!r} holds a single value: it carries no information; leave it out.",
            ))
        if name not in target_columns and not _is_numeric(series) and not _is_zero_one(series):
            example = series.dropna().iloc[0] if series.notna().any() else ""
            advice.append(DataAdvice(
                "non_numeric", name,
                f"{role.capitalize()} {name!r} is not numeric (e.g. {str(example)[:30]!r}): an input needs numbers; "
                "encode it as numbers (one column per category) or leave it out.",
            ))
        if name not in target_columns and likely_id_column(name, series):
            advice.append(DataAdvice(
                "id_column", name,
                f"{role.capitalize()} {name!r} looks like a row ID (a different value on every row): "
                "it cannot generalize; leave it out of the inputs.",
            ))
    advice += scale_advice(frame, raw)
    training: dict[str, Any] = raw["training"] if isinstance(raw.get("training"), dict) else {}
    for output in outputs:
        if output.get("task") not in ("binary", "multiclass"):
            continue
        columns = mapped_columns(raw, str(output.get("name")))
        if len(columns) != 1 or columns[0] not in frame.columns:
            continue
        counts = frame[columns[0]].dropna().value_counts()
        if len(counts) < 2:
            continue
        smallest, largest = int(counts.iloc[-1]), int(counts.iloc[0])
        if smallest / largest >= IMBALANCE_RATIO:
            continue
        label = label_text(counts.index[-1])
        message = (
            f"Target {columns[0]!r} of output {output.get('name')!r} is imbalanced: class {label!r} has "
            f"{smallest} rows ({smallest / counts.sum():.1%}), the largest class {largest}."
        )
        if training.get("class_weight") == "balanced":
            message += " Class weights are balanced already."
            advice.append(DataAdvice("imbalance", columns[0], message))
        else:
            message += ' Weight the classes: training.class_weight = "balanced".'
            ops = [] if isinstance(raw.get("training"), dict) else [{"op": "add", "path": "/training", "value": {}}]
            ops.append({"op": "add", "path": "/training/class_weight", "value": "balanced"})
            advice.append(DataAdvice("imbalance", columns[0], message, ops, "Use balanced class weights"))
    return advice


def scale_advice(frame: Any, raw: dict[str, Any]) -> list[DataAdvice]:
    """Inputs whose features are far from unit scale and not normalized: offer ``normalize``.

    Gradient descent with the usual initializations and learning rates assumes features of
    roughly unit scale; raw values in the hundreds or spread over orders of magnitude slow
    training or make it diverge.
    """
    advice = []
    for index, inp in enumerate(raw.get("inputs") or []):
        if not isinstance(inp, dict) or inp.get("normalize", True):
            continue
        columns = [c for c in mapped_columns(raw, str(inp.get("name"))) if c in frame.columns]
        numeric = [c for c in columns if _is_numeric(frame[c])]
        if not numeric:
            continue
        stds = frame[numeric].std(ddof=0).fillna(0.0)
        means = frame[numeric].mean().abs().fillna(0.0)
        spread = float(max(stds.max(), means.max()))
        if spread <= SCALE_LIMIT:
            continue
        widest = str(stds.idxmax() if stds.max() >= means.max() else means.idxmax())
        advice.append(DataAdvice(
            "scale", widest,
            f"Input {inp.get('name')!r} is not normalized and its features reach values around {spread:,.0f} "
            f"(e.g. {widest!r}); gradient descent trains best on standardized features: turn on normalize "
            "(the statistics come from the training split and are built into the model).",
            [{"op": "add", "path": f"/inputs/{index}/normalize", "value": True}],
            "Normalize this input",
        ))
    return advice


def preview_rows(frame: Any, rows: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first rows as text for the preview table (empty cells for missing values)."""
    head = frame.head(rows)
    out = []
    for values in head.itertuples(index=False):
        out.append(["" if isinstance(v, float) and math.isnan(v) else str(v) for v in values])
    return out


# --------------------------------------------------------------------------- the data file against the spec

#: The GUI offers to locate a missing data file (a file chooser, not a JSON Patch).
LOCATE_DATA = "locate_data"
_HEADERS: dict[tuple[str, int, int], list[str]] = {}


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a CSV (``.tsv``: tab-separated) file, read from its first line only (cached by mtime).

    Raises UserError naming the file when it cannot be read.
    """
    import csv

    file = Path(path)
    try:
        stat = file.stat()
        key = (str(file), stat.st_mtime_ns, stat.st_size)
        if key in _HEADERS:
            return _HEADERS[key]
        with file.open(newline="", encoding="utf-8-sig") as handle:
            row = next(csv.reader(handle, delimiter="\t" if file.suffix.lower() == ".tsv" else ","), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{file}: cannot read its first line as CSV: {exc}") from None
    if len(_HEADERS) > 64:
        _HEADERS.clear()
    _HEADERS[key] = [name.strip() for name in row]
    return _HEADERS[key]


def resolve_data_path(raw: Any, spec_path: str | os.PathLike[str] | None) -> Path | None:
    """The data file a spec as written points at (None when it has none, or when a relative path has no folder)."""
    data = raw.get("data") if isinstance(raw, dict) else None
    text = data.get("path") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text:
        return None
    path = Path(text)
    if not path.is_absolute():
        if spec_path is None:
            return None
        path = Path(spec_path).parent / path
    return path.resolve()


def _squash(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _by_name(wanted: list[str], header: list[str]) -> list[str] | None:
    """Each wanted column matched to a file column spelled the same up to case, spaces and punctuation."""
    index: dict[str, list[str]] = {}
    for column in header:
        index.setdefault(_squash(column), []).append(column)
    matched = []
    for column in wanted:
        found = [column] if column in header else index.get(_squash(column), [])
        if len(found) != 1:
            return None
        matched.append(found[0])
    return matched


def data_file_problems(raw: Any, spec_path: str | os.PathLike[str] | None) -> list[Any]:
    """Errors where the spec's data section does not fit the real file: E307 (missing or unreadable file),
    E308 (mapped columns the file does not have, with a fix: map by name where the names match, else clear).

    Only the file's first line is read. A relative path with no spec file, a path that leaves the spec's folder
    (see :func:`leaves_folder`), or an ``.npz`` file, is not checked.
    """
    from ..spec.problems import Problem, pointer

    file = resolve_data_path(raw, spec_path)
    if file is None or leaves_folder(file, spec_path):
        return []  # a path out of the design's folder is not looked at until the user agrees (the Data tab asks)
    if not file.is_file():
        return [Problem(
            "error", "E307", "/data/path",
            f"Data file not found: {file}. Expected a CSV file there (a relative path is read from the design's "
            "folder): locate the file, or choose another in the Data tab.",
            fix_title="Locate the data file…", extra={"action": LOCATE_DATA},
        )]
    if file.suffix.lower() == ".npz":
        return []
    try:
        header = read_header(file)
    except UserError as exc:
        return [Problem("error", "E307", "/data/path", f"{exc}. Expected a readable CSV file.",
                        fix_title="Locate the data file…", extra={"action": LOCATE_DATA})]
    columns = raw["data"].get("columns")
    problems = batch_size_problems(count_rows(file), raw)
    for name, mapped in (columns.items() if isinstance(columns, dict) else []):
        if not isinstance(mapped, list) or not all(isinstance(c, str) for c in mapped):
            continue
        missing = [c for c in mapped if c not in header]
        if not missing:
            continue
        where = pointer("data", "columns", name)
        shown = ", ".join(repr(c) for c in missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        available = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
        message = (f"{file.name} has no column{'s' * (len(missing) != 1)} {shown} (mapped to {name!r}). "
                   f"Expected columns of the file: {available}.")
        clear = ([{"op": "remove", "path": where}], f"Clear the mapping of {name}")
        matched = _by_name(mapped, header)
        if matched is not None:
            fix = [{"op": "replace", "path": where, "value": matched}]
            title = f"Map {name} by name ({', '.join(matched[:3])}{', …' if len(matched) > 3 else ''})"
            problems.append(Problem("error", "E308", where, message, fix=tuple(fix), fix_title=title,
                                    extra={"alternatives": [clear]}))
        else:
            problems.append(Problem("error", "E308", where, message, fix=tuple(clear[0]), fix_title=clear[1]))
    return problems


#: Files up to this size have their rows counted for the batch-size advice (larger ones surely have enough).
COUNT_ROWS_BYTES = 8 * 1024 * 1024
_ROWS: dict[tuple[str, int, int], int | None] = {}


def count_rows(path: str | os.PathLike[str]) -> int | None:
    """The number of data rows (non-blank lines after the header) of a small file; None for a large one."""
    file = Path(path)
    try:
        stat = file.stat()
        key = (str(file), stat.st_mtime_ns, stat.st_size)
        if key not in _ROWS:
            if len(_ROWS) > 64:
                _ROWS.clear()
            if stat.st_size > COUNT_ROWS_BYTES:
                _ROWS[key] = None
            else:
                with file.open("rb") as handle:
                    _ROWS[key] = max(0, sum(1 for line in handle if line.strip()) - 1)
    except OSError:
        return None
    return _ROWS[key]


def batch_size_problems(rows: int | None, raw: dict[str, Any]) -> list[Any]:
    """W413: a batch larger than the training split (every epoch is then a single step on fewer rows)."""
    from ..spec.problems import Problem

    training: dict[str, Any] = raw["training"] if isinstance(raw.get("training"), dict) else {}
    data: dict[str, Any] = raw["data"] if isinstance(raw.get("data"), dict) else {}
    batch = training.get("batch_size", 32)
    validation, test = data.get("validation_split", 0.2), data.get("test_split", 0.1)
    numbers = (batch, validation, test)
    if rows is None or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        return []
    train_rows = rows - int(round(rows * test)) - int(round(rows * validation))
    if train_rows <= 0 or batch <= train_rows:
        return []
    smaller = 1 << max(0, (train_rows // 4).bit_length() - 1) if train_rows >= 8 else train_rows
    if isinstance(raw.get("training"), dict):
        ops = [{"op": "add", "path": "/training/batch_size", "value": smaller}]
    else:
        ops = [{"op": "add", "path": "/training", "value": {"batch_size": smaller}}]
    where = "/training/batch_size" if "batch_size" in training else "/training" if raw.get("training") else ""
    return [Problem(
        "warning", "W413", where,
        f"Batch size {batch} is larger than the {train_rows} training rows of the data: every epoch is one "
        f"step on all of them; use a batch of a quarter of the rows or less ({smaller})",
        fix=tuple(ops), fix_title=f"Use batch size {smaller}",
    )]


# --------------------------------------------------------------------------- checks on the split data (core)

#: A feature whose most frequent value fills at least this share of the training rows is nearly constant.
NEAR_CONSTANT_SHARE = 0.99


def _located(path: Any, column: str | None = None, row: str | None = None) -> str:
    where = f"{path}:{row.removeprefix('row ')}" if row and row.startswith("row ") else str(path)
    if row and not row.startswith("row "):
        where += f", {row}"
    return where + (f", column {column!r}" if column else "")


def dataset_advice(spec: Any, dataset: Any) -> list[DataAdvice]:
    """Advice that needs the split data (:class:`mlpdesigner.train.data.Dataset`), located in the file.

    Features constant or nearly constant in the training split, splits too small
    to trust, and regression targets a ``range`` or ``positive`` head can never
    predict. Pure NumPy; the frame-level checks (missing values, IDs, imbalance,
    scale) are :func:`data_advice`.
    """
    import numpy as np

    from ..train.data import split_warnings

    filled = spec.filled or {}
    advice: list[DataAdvice] = []
    train_rows = dataset.train.indices
    for inp in filled.get("inputs", []):
        name = inp["name"]
        columns = dataset.inputs.get(name) or []
        values = dataset.x[name].reshape(dataset.rows, -1)
        if values.shape[1] != len(columns):
            continue
        training = values[train_rows]
        for position, column in enumerate(columns):
            feature = training[:, position]
            if not feature.size:
                continue
            everywhere = values[:, position]
            if np.all(feature == feature[0]):
                if np.all(everywhere == feature[0]):
                    continue  # constant in the whole file: data_advice says so
                advice.append(DataAdvice(
                    "constant_in_training", column,
                    f"Input column {column!r} (input {name!r}) is constant in the training split (every training "
                    f"row holds {feature[0]:g}) but not in the other rows: the model cannot learn from it. "
                    "Standardization only centres it (scale 1), so those rows stay finite; consider leaving it out.",
                    location=_located(dataset.path, column),
                ))
                continue
            unique, counts = np.unique(feature, return_counts=True)
            share = counts.max() / feature.size
            if share >= NEAR_CONSTANT_SHARE:
                common = unique[counts.argmax()]
                std = float(feature.std())
                farthest = float(np.abs(unique - common).max()) / std
                advice.append(DataAdvice(
                    "near_constant", column,
                    f"Input column {column!r} (input {name!r}) is nearly constant: {share:.1%} of the training rows "
                    f"hold {common:g} ({feature.size - counts.max()} differ). Standardized by its small spread "
                    f"(std {std:.3g}), its rarest values lie up to {farthest:.0f} standard deviations out; consider "
                    "leaving it out or merging rare categories.",
                    location=_located(dataset.path, column),
                ))
    for message in split_warnings(dataset, spec):
        text = message.split(": ", 1)[1]
        advice.append(DataAdvice("small_split", "", text[0].upper() + text[1:], location=str(dataset.path)))
    for out in filled.get("outputs", []):
        if out.get("task") != "regression" or out["name"] not in dataset.y:
            continue
        columns = (dataset.outputs.get(out["name"]).columns if out["name"] in dataset.outputs else []) or [""]
        targets = dataset.y[out["name"]].reshape(dataset.rows, -1)
        if out.get("range"):
            low, high = out["range"]["low"], out["range"]["high"]
            bad = (targets < low) | (targets > high)
            expected = f"inside the output's range [{low:g}, {high:g}]"
            fix = "widen outputs.{}.range or drop it"
        elif out.get("positive") or out.get("activation") in ("softplus", "relu"):
            bad = targets < 0
            expected = "0 or above (the output is positive)"
            fix = "remove outputs.{}.positive"
        else:
            continue
        if bad.any():
            row, unit = (int(v) for v in np.argwhere(bad)[0])
            column = columns[unit] if unit < len(columns) else columns[0]
            advice.append(DataAdvice(
                "target_range", column,
                f"Target column {column!r} (output {out['name']!r}): {int(bad.sum())} value"
                f"{'s' * (int(bad.sum()) != 1)} the model can never predict. Expected values {expected}. "
                f"Received: {targets[row, unit]:g} (first here); " + fix.format(out["name"]) + ".",
                location=_located(dataset.path, column, dataset.row_name(row)),
            ))
    return advice


def data_checks(spec: Any, data_path: Any = None) -> list[DataAdvice]:
    """Every data check for a spec and its data file, located: what ``validate --data`` and ``train`` print.

    Reads and splits the data as training does; a problem that stops training
    (a missing file, an unreadable row) raises :class:`~mlpdesigner.errors.UserError`.
    """
    from ..spec import load_spec
    from ..train.data import load_dataset
    from ..train.stream import open_dataset, wants_streaming

    spec = load_spec(spec)
    if wants_streaming(spec, data_path):
        open_dataset(spec, data_path)  # every cell checked in one pass; the advice needs whole columns
        return []
    dataset = load_dataset(spec, data_path)
    advice: list[DataAdvice] = []
    if dataset.format == "csv":
        for entry in data_advice(read_table(dataset.path), spec.raw):
            entry.location = _located(dataset.path, entry.column or None)
            advice.append(entry)
    return advice + dataset_advice(spec, dataset)
