"""Training data: read a CSV or ``.npz`` file through the spec's column mapping, check it, split it.

Pure NumPy and pandas; no TensorFlow.

The mapping is ``data.columns``: for each input and output name, the list of
data columns that feed it, in order.

File formats
    - **CSV** (any extension but ``.npz``; ``.tsv`` is read tab-separated): the
      first line names the columns. Blank lines are skipped; row numbers in
      messages are line numbers in the file (the header is line 1).
    - **NumPy ``.npz``**: for each input or output name, a key of that name
      holding the whole block (``N x columns``, or any shape whose trailing
      dimensions hold that many values, e.g. ``N x 28 x 28`` images; a 1-D
      array for a single label column); otherwise one 1-D key per mapped
      column name. Object (pickled) arrays are refused. Row numbers in
      messages are 0-based array indices.

Targets by task
    - ``regression``: float columns, one per unit.
    - ``binary``: one column of 0/1 values (or ``True``/``False``), or exactly two
      distinct labels, mapped to 0 and 1 in sorted order (numbers sort
      numerically, text alphabetically); the class names are kept.
    - ``multiclass``: one label column, or ``units`` one-hot 0/1 columns.
      Integer labels ``0 <= label < units`` are class indices themselves;
      any other labels (text, or integers outside that range) are sorted and
      numbered. Class names come from the output's ``classes`` in the spec
      when it lists them. The target is an integer index, or a one-hot row
      when the output's loss is ``categorical_crossentropy``.
    - ``multilabel``: one 0/1 column per unit; the column names are the labels.

Splits
    Rows are shuffled with ``data.split_seed`` (when ``data.shuffle``; the
    training seed does not move rows between splits), then
    ``data.test_split`` and ``data.validation_split`` of them are held out.
    With ``data.stratify`` the first binary or multiclass output keeps its
    class proportions in every split; which rows go where does not depend on
    the class names (renaming labels keeps the split).

Standardization (in the model, from the training split only)
    Inputs with ``normalize`` (the default) get each feature's mean and
    variance. A feature that is constant in the training split (standard
    deviation at most :data:`CONSTANT_RELATIVE` of its mean, or below
    :data:`CONSTANT_ABSOLUTE`) gets variance 1: it is centred only, so a
    validation or test row where it differs stays on the data's own scale
    instead of being divided by ~0. Regression targets get (scale, offset)
    for the target-scaling layer (:func:`target_statistics`).
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.checks import leaves_folder
from ..data.table import label_text, read_csv_table, short_text, vanished_message
from ..errors import UserError
from ..safeio import check_input_file, load_npz_arrays, npz_members
from ..spec import Spec, load_spec
from ..spec.defaults import target_scaling

#: A feature whose standard deviation is at most this fraction of its mean is constant (float32 noise).
CONSTANT_RELATIVE = 1e-6
#: ... or whose standard deviation is below this (Keras' own floor on the divisor).
CONSTANT_ABSOLUTE = 1e-7

#: The three splits, in the order rows are assigned.
SPLITS = ("train", "validation", "test")

_MAX_LISTED = 12


def _listing(names: Sequence[Any], limit: int = _MAX_LISTED) -> str:
    shown = ", ".join(short_text(str(n), 60) for n in list(names)[:limit])
    more = len(names) - limit
    return shown + (f", ... ({more} more)" if more > 0 else "")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading


class _Source:
    """A data file as a set of named blocks; knows how to name a row in messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = "npz" if path.suffix.lower() == ".npz" else "csv"
        self._frame: Any = None
        self._npz: dict[str, np.ndarray] = {}
        self._npz_members: dict[str, Any] = {}
        self._lines: np.ndarray | None = None
        if self.format == "npz":
            self._read_npz()
        else:
            self._read_csv()

    # -- reading
    def _read_csv(self) -> None:
        _check_room_for(self.path)
        table = read_csv_table(self.path)
        frame, lines = table.frame, table.lines
        self._frame = frame
        self._lines = lines
        self.columns = [str(c) for c in frame.columns]
        self.rows = len(frame)

    def _read_npz(self) -> None:
        # Only the headers here: the arrays the mapping names are loaded in block(), each checked
        # against the bytes the archive stores, so a small file cannot declare a huge array.
        self._npz_members = npz_members(self.path, "a CSV or .npz data file")
        self.columns = sorted(self._npz_members)
        lengths = {key: (m.shape[0] if m.shape else 0) for key, m in self._npz_members.items()}
        if not lengths:
            raise UserError(f"{self.path}: the .npz file holds no arrays.")
        counts = set(lengths.values())
        if len(counts) != 1:
            detail = ", ".join(f"{k}: {v}" for k, v in sorted(lengths.items()))
            raise UserError(f"{self.path}: Expected every array to have the same number of rows. Received: {detail}")
        self.rows = counts.pop()

    def _array(self, key: str) -> np.ndarray:
        if key not in self._npz:
            from .memory import available_bytes

            size = self._npz_members[key].nbytes
            room = available_bytes()
            if room is not None and size > room[0]:
                raise UserError(
                    f"{self.path}: array {key!r} needs {size:,} bytes of memory; {room[0]:,} are available "
                    f"({room[1]}). Expected data that fits in memory."
                )
            self._npz.update(load_npz_arrays(self.path, [key], members=self._npz_members))
        return self._npz[key]

    # -- access
    def row_name(self, position: int) -> str:
        """How a row is called in messages: its line in a CSV file, its index in an .npz array."""
        if self._lines is not None:
            return f"row {int(self._lines[position])}"
        return f"row index {position}"

    def block(self, name: str, columns: list[str], role: str) -> Any:
        """The mapped columns of one input or output as a pandas DataFrame (columns in mapping order)."""
        import pandas as pd

        if self.format == "csv":
            missing = [c for c in columns if c not in self._frame.columns]
            if missing:
                hint = None
                if len(self.columns) == 1 and any(sep in self.columns[0] for sep in ";\t|"):
                    hint = "the header has a single column; the file seems to use another separator than commas"
                raise UserError(
                    f"{self.path}: column {missing[0]!r} (data.columns.{name}, the {role} {name!r}) is not in the "
                    f"file. Expected one of the columns there are: {_listing(self.columns, 40)}. "
                    f"Received: {_listing(missing)}",
                    hint=hint,
                )
            frame = self._frame.loc[:, columns]
            frame.columns = columns
            return frame
        if name in self._npz_members:
            array = self._array(name)
            if array.ndim == 1:
                array = array.reshape(-1, 1)
            array = array.reshape(array.shape[0], -1)
            if array.shape[1] != len(columns):
                raise UserError(
                    f"{self.path}: array {name!r} (the {role} {name!r}) has {array.shape[1]} values per row. "
                    f"Expected {len(columns)}, one per column in data.columns.{name}."
                )
            return pd.DataFrame(array, columns=columns)
        missing = [c for c in columns if c not in self._npz_members]
        if missing:
            raise UserError(
                f"{self.path}: no array {name!r} and no array for column {missing[0]!r} (data.columns.{name}, "
                f"the {role} {name!r}). Expected a key named {name!r} or one key per column; keys there are: "
                f"{_listing(self.columns, 40)}. Received: missing {_listing(missing)}"
            )
        arrays = {}
        for column in columns:
            array = self._array(column)
            if array.ndim != 1:
                raise UserError(
                    f"{self.path}: array {column!r} (data.columns.{name}) has shape {list(array.shape)}. "
                    "Expected a 1-D array, one value per row."
                )
            arrays[column] = array
        frame = pd.DataFrame(arrays)
        return frame.loc[:, columns]


def _numeric(source: _Source, frame: Any, name: str, role: str, dtype: Any = np.float64) -> np.ndarray:
    """The block as ``dtype`` (float64, or float32 for what the model reads), with the first non-numeric cell,
    every missing value, or the first value beyond float32 reported.

    Columns are converted one at a time, straight into the result: no float64 copy of the whole block.
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    rows, width = frame.shape
    out = np.empty((rows, width), dtype=dtype)
    missing_rows = np.zeros(rows, dtype=bool)
    missing_per_column = np.zeros(width, dtype=np.int64)
    first_huge: tuple[int, int, float] | None = None  # (row, column, value), first in row-major order
    limit = np.finfo(np.float32).max
    for j in range(width):
        series = frame.iloc[:, j]
        column = str(frame.columns[j])
        if is_bool_dtype(series.dtype):
            values = series.astype("float64").to_numpy()
        elif is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            try:
                coerced = pd.to_numeric(series, errors="coerce")
            except OverflowError:  # pandas keeps a 400-digit integer as a Python int, beyond any float
                first = next(i for i, value in enumerate(series) if not _fits_float(value))
                raise UserError(
                    f"{source.path}: {source.row_name(first)}, column {column!r} (the {role} {name!r}): "
                    "Expected a number within +-3.4e38 (the model computes in float32). "
                    f"Received: {short_text(series.iloc[first])}"
                ) from None
            bad = (coerced.isna() & series.notna()).to_numpy()
            if bad.any():
                first = int(np.argmax(bad))
                raise UserError(
                    f"{source.path}: {source.row_name(first)}, column {column!r} (the {role} {name!r}): "
                    f"Expected a number. Received: {short_text(series.iloc[first])}"
                    + (f" ({int(bad.sum())} such cells in this column)" if bad.sum() > 1 else "")
                )
            values = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = ~np.isfinite(values)
        if missing.any():
            missing_rows |= missing
            missing_per_column[j] = int(missing.sum())
        with np.errstate(invalid="ignore"):
            huge = np.abs(values) > limit
        if huge.any():
            row = int(np.argmax(huge))
            if first_huge is None or row < first_huge[0]:
                first_huge = (row, j, float(values[row]))
        with np.errstate(over="ignore"):  # values beyond float32 are refused below
            out[:, j] = values
    columns = list(map(str, frame.columns))
    if missing_rows.any():
        _raise_missing(source, columns, missing_per_column, missing_rows, name, role, "a number")
    if first_huge is not None:
        row, col, value = first_huge
        raise UserError(
            f"{source.path}: {source.row_name(row)}, column {columns[col]!r} (the {role} {name!r}): "
            f"Expected a number within +-3.4e38 (the model computes in float32). Received: {value:g}"
        )
    return out


def _fits_float(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    except (TypeError, ValueError):
        return True  # not a number at all: reported as such elsewhere
    return True


def _check_finite(
    source: _Source, values: np.ndarray, columns: list[str], name: str, role: str, expected: str = "a number"
) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        _raise_missing(source, columns, bad.sum(axis=0), bad.any(axis=1), name, role, expected)


def _raise_missing(
    source: _Source, columns: list[str], per_column: np.ndarray, rows: np.ndarray, name: str, role: str, expected: str
) -> None:
    """The missing-values error: how many rows, the first one, and the count per column."""
    def counted(n: int) -> str:
        return f"{n} row{'s' * (n != 1)}"

    detail = ", ".join(f"{columns[j]!r} ({counted(int(n))})" for j, n in enumerate(per_column) if n)
    first = int(np.argmax(rows))
    raise UserError(
        f"{source.path}: missing values (empty cells, NaN or infinity) for the {role} {name!r} in "
        f"{counted(int(rows.sum()))}, first at {source.row_name(first)}; columns: {detail}. "
        f"Expected {expected} in every cell.",
        hint="remove or fill those rows, then run the command again",
    )


def _check_present(source: _Source, frame: Any, name: str, role: str) -> None:
    missing = frame.isna().to_numpy()
    if missing.any():
        _check_finite(source, np.where(missing, np.nan, 0.0), list(map(str, frame.columns)), name, role, "a label")


def _sorted_labels(series: Any) -> list[Any]:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    unique = series.unique()
    if is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype):
        return sorted(unique.tolist())
    return sorted(unique.tolist(), key=str)


def _integer_valued(series: Any) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(series.dtype) or not is_numeric_dtype(series.dtype):
        return False
    values = series.to_numpy(dtype=np.float64)
    return bool(np.all(np.equal(np.floor(values), values)))


def _map_known(source: _Source, series: Any, classes: list[str], name: str, column: str) -> np.ndarray:
    text = series.map(label_text)
    lookup = {c: i for i, c in enumerate(classes)}
    index = text.map(lookup)
    unknown = index.isna().to_numpy()
    if unknown.any():
        first = int(np.argmax(unknown))
        raise UserError(
            f"{source.path}: {source.row_name(first)}, column {column!r} (the output {name!r}): "
            f"Expected one of the classes {_listing(classes)}. Received: {short_text(text.iloc[first])}"
        )
    return index.to_numpy(dtype=np.int64)


@dataclass
class OutputInfo:
    """What a target column set means: task, columns, class names and layout."""

    name: str
    task: str
    columns: list[str]
    units: int
    classes: list[str] | None = None
    one_hot: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "columns": self.columns,
            "units": self.units,
            "classes": self.classes,
            "one_hot": self.one_hot,
        }


def _binary_target(source: _Source, frame: Any, out: dict[str, Any], classes: list[str] | None) -> tuple:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    name = out["name"]
    series = frame.iloc[:, 0]
    column = str(frame.columns[0])
    if classes:
        return _map_known(source, series, classes, name, column), classes
    labels = _sorted_labels(series)
    if is_bool_dtype(series.dtype):
        return series.astype("int64").to_numpy(), ["False", "True"]
    if is_numeric_dtype(series.dtype) and set(labels) <= {0, 1}:
        return series.to_numpy(dtype=np.int64), ["0", "1"]
    if len(labels) == 2:
        names = [label_text(v) for v in labels]
        return _map_known(source, series, names, name, column), names
    raise UserError(
        f"{source.path}: column {column!r} (the binary output {name!r}): Expected labels 0 and 1, or exactly two "
        f"distinct labels. Received: {len(labels)} distinct label{'s' if len(labels) != 1 else ''}: "
        f"{_listing([label_text(v) for v in labels])}",
        hint="use a multiclass output for more than two classes",
    )


def _zero_one(source: _Source, frame: Any, name: str, role: str) -> np.ndarray:
    values = _numeric(source, frame, name, role)
    bad = (values != 0) & (values != 1)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise UserError(
            f"{source.path}: {source.row_name(int(row))}, column {str(frame.columns[col])!r} (the {role} {name!r}): "
            f"Expected 0 or 1. Received: {values[row, col]:g}"
        )
    return values


def _multiclass_target(source: _Source, frame: Any, out: dict[str, Any], classes: list[str] | None) -> tuple:
    name, units = out["name"], out["units"]
    if frame.shape[1] == units and units > 1:
        values = _zero_one(source, frame, name, "multiclass output (one-hot columns)")
        sums = values.sum(axis=1)
        bad = sums != 1
        if bad.any():
            first = int(np.argmax(bad))
            raise UserError(
                f"{source.path}: {source.row_name(first)} (the multiclass output {name!r}, one-hot columns "
                f"{_listing(list(frame.columns))}): Expected exactly one 1 per row. Received: {int(sums[first])}"
            )
        return values.argmax(axis=1).astype(np.int64), classes or [str(c) for c in frame.columns]
    series = frame.iloc[:, 0]
    column = str(frame.columns[0])
    if classes:
        return _map_known(source, series, classes, name, column), classes
    labels = _sorted_labels(series)
    if _integer_valued(series) and labels and labels[0] >= 0 and labels[-1] < units:
        return series.to_numpy(dtype=np.int64), [str(i) for i in range(units)]
    if len(labels) > units:
        raise UserError(
            f"{source.path}: column {column!r} (the multiclass output {name!r}): Expected at most {units} classes "
            f"(the output's units). Received: {len(labels)} classes: {_listing([label_text(v) for v in labels])}",
            hint=f"set outputs.{name}.units to {len(labels)}",
        )
    names = [label_text(v) for v in labels]
    return _map_known(source, series, names, name, column), names


def _target(
    source: _Source, out: dict[str, Any], columns: list[str], classes: list[str] | None
) -> tuple[np.ndarray, OutputInfo, np.ndarray | None]:
    """(target array, info, class index per row or None) for one output."""
    name, task, units = out["name"], out["task"], out["units"]
    role = f"{task} output"
    frame = source.block(name, columns, role)
    info = OutputInfo(name=name, task=task, columns=columns, units=units)
    if task == "regression":
        return _numeric(source, frame, name, role, np.float32), info, None
    if task == "multilabel":
        values = _zero_one(source, frame, name, role)
        info.classes = classes or out.get("classes") or list(columns)
        return values.astype(np.float32), info, None
    _check_present(source, frame, name, role)
    if classes is None:  # training: a classifier needs two classes to learn from (evaluation may see one)
        distinct = frame.iloc[:, 0].nunique() if frame.shape[1] == 1 else int((frame.to_numpy() != 0).any(axis=0).sum())
        if distinct < 2:
            raise UserError(
                f"{source.path}: column {short_text(str(frame.columns[0]))} (the {role} {name!r}) has a single class "
                f"in all {source.rows} rows. Expected at least two classes to learn from.",
                hint="check data.columns, or whether the file was filtered to one class",
            )
    spec_classes = classes or out.get("classes") or None
    if task == "binary":
        index, info.classes = _binary_target(source, frame, out, spec_classes)
        return index.astype(np.float32).reshape(-1, 1), info, index
    index, info.classes = _multiclass_target(source, frame, out, spec_classes)
    if len(info.classes) > units:
        raise UserError(
            f"output {name!r}: Expected at most {units} classes (the output's units). "
            f"Received: {len(info.classes)} class names"
        )
    if out["loss"] == "categorical_crossentropy":
        info.one_hot = True
        return np.eye(units, dtype=np.float32)[index], info, index
    return index.astype(np.int32), info, index


# --------------------------------------------------------------------------- the dataset


@dataclass
class Split:
    """One split: row indices into the file, inputs and targets keyed by name."""

    indices: np.ndarray
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]

    @property
    def rows(self) -> int:
        return int(self.indices.size)


@dataclass
class Dataset:
    """Checked data, its splits, and what the model needs to know about it."""

    path: Path
    format: str
    sha256: str
    rows: int
    seed: int
    inputs: dict[str, list[str]]
    outputs: dict[str, OutputInfo]
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    splits: dict[str, Split] = field(default_factory=dict)
    normalization: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: Per regression output with target scaling: (scale, offset) per unit, from the training split.
    target_scaling: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: Per normalized input: the feature positions (flattened over the last axis) constant in the training split.
    constant_features: dict[str, list[int]] = field(default_factory=dict)
    #: Class index per row of the first binary or multiclass output (for stratified splits).
    strata: np.ndarray | None = None
    #: Line in the file per row (CSV; the header is line 1), or None (.npz: rows are array indices).
    lines: np.ndarray | None = None

    def row_name(self, position: int) -> str:
        """How a row is called in messages: its line in a CSV file, its index in an .npz array."""
        if self.lines is not None:
            return f"row {int(self.lines[position])}"
        return f"row index {position}"

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def validation(self) -> Split:
        return self.splits["validation"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def classes(self) -> dict[str, list[str] | None]:
        """Class names per output (None for regression)."""
        return {name: info.classes for name, info in self.outputs.items()}

    def subset(self, indices: np.ndarray) -> Split:
        """Rows ``indices`` of the data as a :class:`Split`."""
        return Split(indices=indices, x={k: _take_rows(v, indices) for k, v in self.x.items()},
                     y={k: _take_rows(v, indices) for k, v in self.y.items()})


def _take_rows(array: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``array[indices]`` in an aligned buffer that training shares with TensorFlow without a copy."""
    from .aligned import aligned_empty

    out = aligned_empty((len(indices), *array.shape[1:]), array.dtype)
    np.take(array, indices, axis=0, out=out, mode="clip")  # indices are valid; "raise" would buffer a copy
    return out


def _resolve_path(spec: Spec, data_path: str | os.PathLike[str] | None) -> Path:
    if data_path is not None:
        return Path(data_path).expanduser().resolve()
    path = spec.data_file()
    if path is None:
        raise UserError(
            f'{spec.path or "the spec"}: no data section. Expected "data": {{"path": ..., "columns": ...}} '
            "in the spec, or --data with a spec that maps columns."
        )
    return path


def _columns(spec: Spec) -> dict[str, list[str]]:
    filled = spec.filled or {}
    if "data" not in filled:
        raise UserError(
            f'{spec.path or "the spec"}: no data section. Expected "data": {{"path": ..., "columns": '
            "{input or output name: [column, ...]}} so the data's columns can be mapped to the model."
        )
    return filled["data"]["columns"]


def _check_room_for(path: Path) -> None:
    """Refuse a CSV file larger than the memory available: reading it would need at least its size."""
    from .memory import available_bytes

    try:
        size = path.stat().st_size
    except OSError:
        return
    room = available_bytes()
    if room is not None and size > room[0]:
        raise UserError(
            f"{path}: the data file is {size:,} bytes; reading it needs at least as much memory, and "
            f"{room[0]:,} bytes are available ({room[1]}). Expected a data file that fits in memory.",
            hint="use a sample of the rows, or a machine with more memory",
        )


def read_data(
    spec: Spec | dict[str, Any] | str | os.PathLike[str],
    data_path: str | os.PathLike[str] | None = None,
    *,
    classes: dict[str, list[str] | None] | None = None,
    targets: bool = True,
) -> Dataset:
    """Read and check every row of the data file (no splits yet).

    ``classes`` fixes the class names per output (e.g. those of a trained run);
    labels outside them are errors. With ``targets=False`` only the inputs'
    columns are read (for prediction).
    """
    spec = load_spec(spec)
    path = _resolve_path(spec, data_path)
    check_input_file(path, "a CSV or .npz data file")  # a FIFO would block, /dev/zero never end
    if not path.is_file():
        where = f" (data.path in {spec.path})" if data_path is None and spec.path else ""
        raise UserError(f"Data file not found: {path}{where}. Expected an existing CSV or .npz file.")
    mapping = _columns(spec)
    filled = spec.filled
    assert filled is not None
    outside = data_path is None and leaves_folder(path, spec.path)
    in_run_folder = spec.path is not None and (spec.path.parent / "run.json").is_file()
    if outside and not in_run_folder:  # a run's frozen spec always points back at the data it trained on
        print(
            f"notice: {spec.path}: data.path {filled['data']['path']!r} leaves the spec's folder; reading {path}",
            file=sys.stderr,
        )
    try:
        return _read_checked(spec, path, mapping, classes, targets)
    except UserError:
        if not outside:
            raise
        # A spec from someone else must not make us echo a private file: say what failed, not what it holds.
        raise UserError(
            f"{path}: the data file named by data.path in {spec.path} (outside the spec's folder) does not fit "
            "the spec's data section; its contents are not shown. Expected a CSV or .npz file with the mapped "
            "columns.",
            hint="pass the file with --data to see the details, or move it next to the spec",
        ) from None


def _read_checked(
    spec: Spec, path: Path, mapping: dict[str, list[str]], classes: dict[str, list[str] | None] | None, targets: bool
) -> Dataset:
    filled = spec.filled
    assert filled is not None
    source = _Source(path)
    if source.rows == 0:
        raise UserError(f"{path}: no data rows. Expected a header line followed by rows of values.")
    x: dict[str, np.ndarray] = {}
    inputs: dict[str, list[str]] = {}
    for inp in filled["inputs"]:
        name = inp["name"]
        columns = mapping[name]
        values = _numeric(source, source.block(name, columns, "input"), name, "input", np.float32)
        x[name] = values.reshape((source.rows, *inp["shape"]))
        inputs[name] = list(columns)
    y: dict[str, np.ndarray] = {}
    outputs: dict[str, OutputInfo] = {}
    strata: np.ndarray | None = None
    if targets:
        for out in filled["outputs"]:
            fixed = (classes or {}).get(out["name"])
            array, info, index = _target(source, out, list(mapping[out["name"]]), fixed)
            y[out["name"]] = array
            outputs[out["name"]] = info
            if strata is None and index is not None:
                strata = index
    try:
        digest = file_sha256(path)
    except OSError as exc:
        raise UserError(vanished_message(path, exc)) from None
    dataset = Dataset(
        path=path,
        format=source.format,
        sha256=digest,
        rows=source.rows,
        seed=filled["data"]["split_seed"] if "data" in filled else 0,
        inputs=inputs,
        outputs=outputs,
        x=x,
        y=y,
        strata=strata,
        lines=source._lines,
    )
    return dataset


def split_indices(
    rows: int,
    *,
    validation_split: float,
    test_split: float,
    seed: int,
    shuffle: bool = True,
    strata: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Row indices of the train, validation and test splits.

    Every row draws a random rank from ``seed`` (when shuffling; else its row
    number). Rows are taken in rank order: the last ``round(rows * test_split)``
    go to test, the ``round(rows * validation_split)`` before them to
    validation. With ``strata`` (class index per row) the same is done within
    each class, so every split keeps the class proportions; because the ranks
    do not depend on the classes, renaming or renumbering labels keeps the
    split. Each split lists its rows in rank order.
    """
    rank = np.random.default_rng(seed).permutation(rows) if shuffle else np.arange(rows)
    groups = [np.arange(rows)] if strata is None else [np.flatnonzero(strata == c) for c in np.unique(strata)]
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for group in groups:
        order = group[np.argsort(rank[group], kind="stable")]
        n_test = int(round(len(order) * test_split))
        n_val = int(round(len(order) * validation_split))
        n_train = len(order) - n_test - n_val
        parts["train"].append(order[:n_train])
        parts["validation"].append(order[n_train : n_train + n_val])
        parts["test"].append(order[n_train + n_val :])
    out = {}
    for name in SPLITS:
        joined = np.concatenate(parts[name]).astype(np.int64) if parts[name] else np.empty(0, dtype=np.int64)
        out[name] = joined[np.argsort(rank[joined], kind="stable")]
    return out


def fold_indices(
    rows: int,
    *,
    folds: int,
    fold: int,
    validation_split: float,
    seed: int,
    shuffle: bool = True,
    strata: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Train, validation and test rows of fold ``fold`` (0-based) of ``folds``-fold cross-validation.

    Rows are ranked as in :func:`split_indices` and dealt to the folds in rank
    order, within each class when ``strata`` is given (stratified folds), so
    the folds' test splits are disjoint, cover every row once and keep the
    class proportions. The rows outside the test fold are split into training
    and validation rows (``validation_split`` of them, for early stopping).
    """
    rank = np.random.default_rng(seed).permutation(rows) if shuffle else np.arange(rows)
    assigned = np.empty(rows, dtype=np.int64)
    groups = [np.arange(rows)] if strata is None else [np.flatnonzero(strata == c) for c in np.unique(strata)]
    offset = 0
    for group in groups:
        order = group[np.argsort(rank[group], kind="stable")]
        # Continue the deal where the previous class stopped, so fold sizes differ by at most one row.
        assigned[order] = (np.arange(len(order)) + offset) % folds
        offset += len(order)
    test = np.flatnonzero(assigned == fold)
    rest = np.flatnonzero(assigned != fold)
    inner = split_indices(
        len(rest),
        validation_split=validation_split,
        test_split=0.0,
        seed=seed,
        shuffle=shuffle,
        strata=None if strata is None else strata[rest],
    )
    out = {"train": rest[inner["train"]], "validation": rest[inner["validation"]], "test": test}
    return {name: idx[np.argsort(rank[idx], kind="stable")] for name, idx in out.items()}


def check_folds(dataset: Dataset, folds: int, stratified: bool) -> None:
    """Refuse a ``--cv`` that cannot give every fold a measurable test split (or every class a row per fold)."""
    if folds < 2:
        raise UserError(f"--cv: Expected at least 2 folds. Received: {folds}")
    if dataset.rows // folds < MIN_TEST_ROWS:
        raise UserError(
            f"{dataset.path}: {dataset.rows} rows are too few for {folds}-fold cross-validation: each fold would "
            f"test on {dataset.rows // folds} rows. Expected at least {MIN_TEST_ROWS} per fold.",
            hint=f"use at most {max(2, dataset.rows // MIN_TEST_ROWS)} folds, or add rows",
        )
    if stratified and dataset.strata is not None:
        counts = np.bincount(dataset.strata)
        counts = counts[counts > 0]
        if counts.min() < folds:
            raise UserError(
                f"{dataset.path}: the smallest class has {int(counts.min())} rows, fewer than the {folds} folds: "
                "some folds would not test it. Expected at least one row of every class per fold.",
                hint=f"use --cv {max(2, int(counts.min()))} or fewer folds, or add rows of the rare class",
            )


#: A test split with fewer rows than this measures nothing: training refuses it.
MIN_TEST_ROWS = 5
#: Below this many test rows a metric moves by several points when one row changes: a warning.
FEW_TEST_ROWS = 30


def _check_split_sizes(dataset: Dataset, splits: dict[str, np.ndarray], data: dict[str, Any]) -> None:
    sizes = {k: int(v.size) for k, v in splits.items()}
    wanted = {"train": True, "validation": data["validation_split"] > 0, "test": data["test_split"] > 0}
    empty = [k for k, want in wanted.items() if want and sizes[k] == 0]
    if empty:
        need = math.ceil(1 / min(f for f in (data["validation_split"], data["test_split"], 1.0) if f > 0))
        raise UserError(
            f"{dataset.path}: too few rows for the splits: {dataset.rows} rows give "
            f"{sizes['train']} train, {sizes['validation']} validation and {sizes['test']} test rows. "
            f"Expected at least one row in every split (validation_split={data['validation_split']:g}, "
            f"test_split={data['test_split']:g}); that needs about {need} rows or more.",
            hint="add rows, or lower data.validation_split / data.test_split (0 turns a split off)",
        )
    if wanted["test"] and sizes["test"] < MIN_TEST_ROWS:
        fraction = min(0.5, math.ceil(100 * FEW_TEST_ROWS / dataset.rows) / 100)
        raise UserError(
            f"{dataset.path}: the test split is too small to measure anything: {dataset.rows} rows and "
            f"data.test_split={data['test_split']:g} give {sizes['test']} test row{'s' * (sizes['test'] != 1)}. "
            f"Expected at least {MIN_TEST_ROWS} (better {FEW_TEST_ROWS} or more): one row more or less right "
            f"moves a metric on {sizes['test']} rows by {100 / max(sizes['test'], 1):.0f} points.",
            hint=f"add rows, raise data.test_split (e.g. to {fraction:g}), use cross-validation "
            "(mlpdesigner train --cv 5), or set data.test_split to 0 to train without a test split",
        )


def split_warnings(dataset: Dataset, spec: Spec) -> list[str]:
    """Splits that are small enough to make their metrics unreliable (messages naming the data file)."""
    filled = spec.filled or {}
    warnings = []
    test = dataset.splits.get("test")
    if test is not None and 0 < test.rows < FEW_TEST_ROWS:
        warnings.append(
            f"{dataset.path}: the test split has only {test.rows} rows (fewer than {FEW_TEST_ROWS}): one row more "
            f"or less right moves its metrics by {100 / test.rows:.1f} points; raise data.test_split, add rows, "
            "or use cross-validation (--cv 5)"
        )
    for out in filled.get("outputs", []):
        info = dataset.outputs.get(out["name"])
        if info is None or out["task"] not in ("binary", "multiclass") or not info.classes:
            continue
        classes = len(info.classes)
        for name, split in dataset.splits.items():
            if 0 < split.rows < classes:
                warnings.append(
                    f"{dataset.path}: the {name} split has {split.rows} rows but the output {out['name']!r} has "
                    f"{classes} classes: some classes cannot appear in it; add rows"
                    + (f" or raise data.{name}_split" if name != "train" else "")
                )
    return warnings


def constant_features(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """True for features whose spread is float noise or below Keras' divisor floor (see the module docstring)."""
    std = np.sqrt(np.maximum(variance, 0.0))
    return (std <= CONSTANT_RELATIVE * np.abs(mean)) | (std < CONSTANT_ABSOLUTE)


def training_statistics(spec: Spec, x_train: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean and variance of every ``normalize`` input over the training rows (per last-axis feature).

    Constant features get variance 1 (centred, not divided by ~0).
    """
    filled = spec.filled
    assert filled is not None
    stats = {}
    for inp in filled["inputs"]:
        if not inp.get("normalize", True):
            continue
        values = x_train[inp["name"]].astype(np.float64)
        flat = values.reshape(-1, values.shape[-1])
        mean, variance = flat.mean(axis=0), flat.var(axis=0)
        variance = np.where(constant_features(mean, variance), 1.0, variance)
        stats[inp["name"]] = (mean.astype(np.float32), variance.astype(np.float32))
    return stats


def constant_input_features(spec: Spec, x_train: dict[str, np.ndarray]) -> dict[str, list[int]]:
    """Per ``normalize`` input: the positions of its features that are constant over the training rows."""
    filled = spec.filled
    assert filled is not None
    found: dict[str, list[int]] = {}
    for inp in filled["inputs"]:
        if not inp.get("normalize", True):
            continue
        values = x_train[inp["name"]].astype(np.float64)
        flat = values.reshape(-1, values.shape[-1])
        flags = constant_features(flat.mean(axis=0), flat.var(axis=0))
        if flags.any():
            found[inp["name"]] = [int(i) for i in np.flatnonzero(flags)]
    return found


def target_statistics(spec: Spec, y_train: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(scale, offset) per unit for every regression output with target scaling, from the training rows.

    ``standardize`` (linear head): the targets' standard deviation and mean.
    ``scale`` (positive head): their root mean square and 0, so the output stays
    above zero. A constant target gets scale 1 (offset: its value).
    """
    filled = spec.filled
    assert filled is not None
    stats = {}
    for out in filled["outputs"]:
        mode = target_scaling(out)
        if mode is None or out["name"] not in y_train or not len(y_train[out["name"]]):
            continue
        values = y_train[out["name"]].astype(np.float64).reshape(len(y_train[out["name"]]), -1)
        if mode == "standardize":
            offset = values.mean(axis=0)
            scale = values.std(axis=0)
            scale = np.where(constant_features(offset, scale**2), 1.0, scale)
        else:
            offset = np.zeros(values.shape[1])
            scale = np.sqrt(np.mean(values**2, axis=0))
            scale = np.where(scale < CONSTANT_ABSOLUTE, 1.0, scale)
        stats[out["name"]] = (scale.astype(np.float32), offset.astype(np.float32))
    return stats


def load_dataset(
    spec: Spec | dict[str, Any] | str | os.PathLike[str],
    data_path: str | os.PathLike[str] | None = None,
    *,
    seed: int | None = None,
    classes: dict[str, list[str] | None] | None = None,
    fold: tuple[int, int] | None = None,
) -> Dataset:
    """Read, check and split the data of a spec; normalization statistics from the training split.

    ``data_path`` replaces the spec's ``data.path``; ``seed`` the spec's
    ``data.split_seed``; ``classes`` fixes class names per output; ``fold``
    (index, count) takes the splits of one cross-validation fold
    (:func:`fold_indices`) instead of ``data.test_split``. Every problem
    with the data raises :class:`~mlpdesigner.errors.UserError`.
    """
    spec = load_spec(spec)
    dataset = read_data(spec, data_path, classes=classes)
    filled = spec.filled
    assert filled is not None
    data = filled["data"]
    dataset.seed = data["split_seed"] if seed is None else seed
    strata = dataset.strata if data["stratify"] else None
    if fold is not None:
        check_folds(dataset, fold[1], strata is not None)
        indices = fold_indices(
            dataset.rows,
            folds=fold[1],
            fold=fold[0],
            validation_split=data["validation_split"],
            seed=dataset.seed,
            shuffle=data["shuffle"],
            strata=strata,
        )
        _check_split_sizes(dataset, indices, {**data, "test_split": 1.0 / fold[1]})
    else:
        indices = split_indices(
            dataset.rows,
            validation_split=data["validation_split"],
            test_split=data["test_split"],
            seed=dataset.seed,
            shuffle=data["shuffle"],
            strata=strata,
        )
        _check_split_sizes(dataset, indices, data)
    dataset.splits = {name: dataset.subset(idx) for name, idx in indices.items()}
    dataset.normalization = training_statistics(spec, dataset.train.x)
    dataset.constant_features = constant_input_features(spec, dataset.train.x)
    dataset.target_scaling = target_statistics(spec, dataset.train.y)
    return dataset
