"""Reading a CSV data file, and writing a label as text: one way each, for training, the Data tab and the CLI.

Pandas is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError


@dataclass
class Table:
    """A CSV file's rows without its blank lines; ``lines[i]`` is the file line (1-based) of row ``i``."""

    frame: Any
    lines: np.ndarray


def separator(path: str | os.PathLike[str]) -> str:
    """The field separator of a data file: tab for ``.tsv``, else comma."""
    return "\t" if Path(path).suffix.lower() == ".tsv" else ","


def vanished_message(path: Path, exc: OSError) -> str:
    """The message for a data file that could not be read once it was found (deleted or moved meanwhile)."""
    return (
        f"{path}: cannot read the data file: {exc.strerror or exc} (was it deleted or moved while being read?). "
        "Expected an existing CSV or .npz file."
    )


def read_csv_table(path: str | os.PathLike[str]) -> Table:
    """A CSV (``.tsv``: tab-separated) file with a header line; blank lines dropped, file line numbers kept.

    Every failure is a :class:`~mlpdesigner.errors.UserError` naming the file
    and saying what was expected.
    """
    import pandas as pd

    file = Path(path)
    try:
        frame = read_csv_strict(file, separator(file), skip_blank_lines=False, low_memory=False)
    except pd.errors.EmptyDataError:
        raise UserError(f"{file}: the data file is empty. Expected a header line and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{file}: cannot read it as CSV: {exc}") from None
    except OSError as exc:  # e.g. deleted or moved between the check and the read
        raise UserError(vanished_message(file, exc)) from None
    # Blank lines (kept above so that row numbers match the file) are dropped here.
    blank = frame.isna().all(axis=1).to_numpy()
    lines = np.arange(len(frame)) + 2
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
        lines = lines[~blank]
    return Table(frame, lines)


def read_csv_strict(path: Path, sep: str, **options: Any) -> Any:
    """``pandas.read_csv`` that never takes the first field as the row index.

    pandas does that when rows have one more field than the header, which
    silently shifts every column by one; here it is a :class:`UserError`
    naming the first such row.
    """
    import warnings

    import pandas as pd

    _check_header(path, sep)
    # Words such as NA, None, null and n/a can be class labels: only empty cells and NaN spellings are missing.
    options.setdefault("keep_default_na", False)
    options.setdefault("na_values", MISSING_MARKERS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        frame = pd.read_csv(path, sep=sep, index_col=False, **options)
    if any(issubclass(w.category, pd.errors.ParserWarning) and "Length of header" in str(w.message) for w in caught):
        raise UserError(ragged_rows_message(path, sep))
    return frame


#: Cells read as missing values (pandas' default list without the words that can be labels).
MISSING_MARKERS = ["", "NaN", "nan", "-NaN", "-nan", "#N/A", "<NA>", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"]


def short_text(value: Any, limit: int = 80) -> str:
    """``repr`` of a value from a data file, cut to ``limit`` characters (a 50 MB label is not echoed whole)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _check_header(path: Path, sep: str) -> None:
    """Refuse a header that names a column twice (pandas would silently rename the second to ``a.1``)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle, delimiter=sep), [])
    except (OSError, csv.Error):
        return  # pandas reports what is wrong with the file
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        name = name.strip()
        if name and name in seen:
            raise UserError(
                f"{path}: the header names column {short_text(name)} twice (columns {seen[name]} and {position}). "
                "Expected unique column names."
            )
        seen[name] = position


def ragged_rows_message(path: Path, sep: str) -> str:
    """The error for a CSV file whose rows have more fields than its header, naming the first such row."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=sep)
        header = next(reader, [])
        for row in reader:
            if row and len(row) != len(header):
                return (
                    f"{path}: row {reader.line_num} has {len(row)} fields but the header names {len(header)} "
                    "columns. Expected as many fields in every row as in the header (an extra field would "
                    "shift every column by one)."
                )
    return f"{path}: rows have more fields than the header names columns. Expected as many fields in every row."


def label_text(value: Any) -> str:
    """A class label as text: whole floats without ``.0`` (``1.0`` -> ``"1"``), NumPy scalars as Python values."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
