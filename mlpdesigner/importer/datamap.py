"""``import --data FILE``: map a data file's columns onto an imported spec, in order.

A model file names its inputs and outputs but not the data columns behind
them. When the file's columns are exactly the model's features followed by
its targets (as in the bundled data sets), they are mapped in that order;
otherwise the user is told how many columns each part needs and can map them
in the designer's Data tab.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..errors import UserError


def target_columns(output: dict[str, Any]) -> int:
    """Columns an output's targets take: one label column for binary and integer multiclass, else one per unit."""
    if output["task"] == "binary":
        return 1
    if output["task"] == "multiclass" and output.get("label_format", "integer") == "integer":
        return 1
    return int(output["units"])


def header(path: Path) -> list[str]:
    """The column names of a CSV file (nothing else is read)."""
    import pandas as pd

    if not path.is_file():
        raise UserError(f"--data {path}: no such file. Expected a CSV file")
    try:
        frame = pd.read_csv(path, nrows=0, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"--data {path}: cannot read its header as CSV: {exc}") from None
    return [str(c) for c in frame.columns]


def data_section(spec: dict[str, Any], data_file: str | os.PathLike[str], spec_path: Path) -> dict[str, Any]:
    """The spec's ``data`` section for ``data_file``: its columns in order, inputs first, then outputs."""
    from ..data.checks import relative_data_path

    path = Path(data_file).expanduser().resolve()
    names = header(path)
    parts = [(i["name"], math.prod(i["shape"]), "input") for i in spec["inputs"]]
    parts += [(o["name"], target_columns(o), "output") for o in spec["outputs"]]
    needed = sum(count for _, count, _ in parts)
    if len(names) != needed:
        listing = ", ".join(f"{name} ({count} {role} column{'s' * (count != 1)})" for name, count, role in parts)
        raise UserError(
            f"--data {path}: {len(names)} columns. Expected exactly {needed}, in this order: {listing}; or leave "
            "--data out and map the columns in the designer's Data tab"
        )
    columns: dict[str, list[str]] = {}
    start = 0
    for name, count, _ in parts:
        columns[name] = names[start : start + count]
        start += count
    return {"path": relative_data_path(path, spec_path), "columns": columns}
