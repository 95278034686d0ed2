"""Data larger than memory: train from a CSV file, a Parquet file or a folder of shards, chunk by chunk.

Sources
    ``data.path`` names a CSV file (``.tsv``: tab-separated), a Parquet file
    (``.parquet``/``.pq``, read with pyarrow: ``pip install 'mlpdesigner[parquet]'``)
    or a folder of shards: every file in it (but names starting with ``.`` or
    ``_``, such as Spark's ``_SUCCESS``) in sorted order, all CSV or all Parquet,
    all with the same columns. Rows are counted across the shards in that order.

When training streams (``data.streaming``)
    ``"auto"`` (the default) streams Parquet files and folders of shards always,
    and a CSV file when it is larger than :data:`STREAM_FRACTION` of the memory
    available (reading a CSV file whole takes several times its size);
    ``true`` streams any CSV or Parquet source; ``false`` reads the file whole
    (CSV and ``.npz`` only). ``.npz`` files are never streamed.

What streaming does
    One pass over the data checks every cell (the messages of the in-memory
    path, rows named as there: ``row N`` is a CSV file's line, ``row index N``
    a Parquet row, with the row across all shards beside it) and computes the
    normalization statistics, the target statistics and the class labels and
    counts of the training rows, with the same formulas as the in-memory path.
    Rows go to the splits by a hash of their global row index with
    ``data.split_seed`` (:func:`assign_splits`): the same row always lands in the
    same split, and no pass needs the whole file. The split sizes are therefore
    ``validation_split`` and ``test_split`` of the rows in expectation, not
    exactly; ``data.shuffle`` and ``data.stratify`` do not apply (a warning says so).
    Training reads the file again every epoch in chunks of :data:`CHUNK_ROWS`
    rows and shuffles the training rows within a buffer of
    :data:`SHUFFLE_CHUNKS` chunks (seeded by the training seed and the epoch),
    feeding ``tf.data`` whole batches from a generator. Validation, test metrics
    and the constant predictor's baseline stream the same way.

Memory: one buffer of chunks, independent of the number of rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.table import MISSING_MARKERS, _check_header, label_text, separator
from ..errors import UserError
from ..spec import Spec, load_spec
from ..spec.defaults import target_scaling
from . import data as memory_data
from .data import CONSTANT_ABSOLUTE, MIN_TEST_ROWS, OutputInfo, constant_features

#: Rows per chunk read from the file.
CHUNK_ROWS = 65_536
#: Training rows are shuffled within a buffer of this many chunks.
SHUFFLE_CHUNKS = 4
#: ``"auto"`` streams a CSV file larger than this fraction of the memory available.
STREAM_FRACTION = 0.25
#: Blocks of whole batches (each about a quarter chunk) read ahead while the model trains.
PREFETCH_BLOCKS = 8
#: Test rows (the first, in file order) the end-of-run evaluation views of a streamed run are drawn from.
VIEW_ROWS = 100_000
#: Rows of the validation split (else test, else train) kept as the run's sample inputs.
SAMPLE_ROWS = 256

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}
PARQUET_INSTALL = "pip install 'mlpdesigner[parquet]' (or pip install 'pyarrow>=26.0.1')"


# --------------------------------------------------------------------------- sources


def file_kind(path: Path) -> str:
    """``"parquet"``, ``"npz"`` or ``"csv"`` (every other name is read as CSV, as the in-memory path does)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "npz" if suffix == ".npz" else "csv"


def shard_files(path: Path) -> tuple[list[Path], str]:
    """The files of a data source and their kind: the file itself, or a folder's shards in sorted order."""
    if not path.is_dir():
        return [path], file_kind(path)
    files = sorted(p for p in path.iterdir() if not p.name.startswith((".", "_")) and p.is_file())
    if not files:
        raise UserError(
            f"{path}: the data folder holds no shards. Expected .parquet or .csv files with the same columns."
        )
    kinds: dict[str, Path] = {}
    for file in files:
        suffix = file.suffix.lower()
        kind = "parquet" if suffix in PARQUET_SUFFIXES else "csv" if suffix in CSV_SUFFIXES else None
        if kind is None:
            raise UserError(
                f"{file}: not a data shard (suffix {suffix or 'none'!r}). Expected only .parquet or only .csv files "
                f"in the data folder {path}."
            )
        kinds.setdefault(kind, file)
    if len(kinds) > 1:
        raise UserError(
            f"{path}: the data folder mixes shard kinds: {kinds['csv'].name} is CSV, {kinds['parquet'].name} is "
            "Parquet. Expected all .parquet or all .csv shards."
        )
    return files, next(iter(kinds))


def _pyarrow_parquet(file: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(
            f"{file}: reading Parquet needs pyarrow, which is not installed. Expected: {PARQUET_INSTALL}"
        ) from None
    return pq


def source_digest(files: list[Path]) -> str:
    """SHA-256 of a file's bytes; for several shards, of their names and digests in order."""
    try:
        if len(files) == 1:
            return memory_data.file_sha256(files[0])
        digest = hashlib.sha256()
        for file in files:
            digest.update(f"{file.name}\0{memory_data.file_sha256(file)}\n".encode())
        return digest.hexdigest()
    except OSError as exc:
        raise UserError(f"{files[0].parent}: cannot read the data: {exc.strerror or exc}") from None


def wants_streaming(spec: Spec, data_path: str | os.PathLike[str] | None = None) -> bool:
    """Whether the spec's data (or ``data_path``) is read in chunks; see the module docstring.

    Raises :class:`UserError` for a ``data.streaming`` the source cannot honour.
    """
    filled = spec.filled or {}
    if "data" not in filled and data_path is None:
        return False
    path = Path(data_path).expanduser().resolve() if data_path is not None else spec.data_file()
    if path is None or not path.exists():
        return False  # the in-memory path says the file is missing
    setting = (filled.get("data") or {}).get("streaming", "auto")
    kind = "folder" if path.is_dir() else file_kind(path)
    if kind in ("folder", "parquet"):
        if setting is False:
            raise UserError(
                f"{path}: data.streaming is false, but a {'folder of shards' if kind == 'folder' else 'Parquet file'} "
                'is always streamed. Expected data.streaming "auto" or true, or a CSV or .npz file.'
            )
        return True
    if kind == "npz":
        if setting is True:
            raise UserError(
                f"{path}: data.streaming is true, but .npz files are read whole. Expected a CSV or Parquet file "
                'or a folder of shards, or data.streaming "auto".'
            )
        return False
    if setting != "auto":
        return bool(setting)
    from .memory import available_bytes

    room = available_bytes()
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return room is not None and size > STREAM_FRACTION * room[0]


# --------------------------------------------------------------------------- chunks


@dataclass
class Chunk:
    """Rows of one shard: ``start`` is the global index of the first (rows counted across shards)."""

    shard: Path
    start: int
    frame: Any
    #: File line per row (CSV), else None.
    lines: np.ndarray | None
    #: Index within its shard of the first row.
    local_start: int
    several: bool

    @property
    def rows(self) -> int:
        return len(self.frame)

    # The in-memory checks' "source" interface: a path and a row name.
    @property
    def path(self) -> Path:
        return self.shard

    def row_name(self, position: int) -> str:
        """Row ``position`` of the chunk as the in-memory path names it, with the row across shards beside it."""
        if self.lines is not None:
            name = f"row {int(self.lines[position])}"
            return f"{name} (data row {self.start + position + 1} across the shards)" if self.several else name
        name = f"row index {self.local_start + position}"
        return f"{name} (row index {self.start + position} across the shards)" if self.several else name


class Reader:
    """Reads a source's shards chunk by chunk (only the mapped columns) and checks their columns."""

    def __init__(self, path: Path, mapping: dict[str, list[str]], roles: dict[str, str]) -> None:
        self.path = path
        self.files, self.kind = shard_files(path)
        self.several = len(self.files) > 1
        self.mapping = mapping
        self.roles = roles
        self.columns = self._header(self.files[0])
        self._check_mapping()
        for shard in self.files[1:]:
            self._check_same_columns(shard)
        self.needed = list(dict.fromkeys(c for cols in mapping.values() for c in cols))

    def _header(self, file: Path) -> list[str]:
        if self.kind == "parquet":
            pq = _pyarrow_parquet(file)
            try:
                return [str(n) for n in pq.ParquetFile(file).schema_arrow.names]
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a file that is not Parquet
                raise UserError(f"{file}: cannot read it as Parquet: {exc}") from None
        _check_header(file, separator(file))
        try:
            with open(file, newline="", encoding="utf-8", errors="replace") as handle:
                header = next(csv.reader(handle, delimiter=separator(file)), [])
        except OSError as exc:
            raise UserError(f"{file}: cannot read it: {exc.strerror or exc}") from None
        if not header:
            raise UserError(f"{file}: the data file is empty. Expected a header line and data rows.")
        return [h.strip() for h in header]

    def _check_mapping(self) -> None:
        for name, columns in self.mapping.items():
            missing = [c for c in columns if c not in self.columns]
            if missing:
                listing = memory_data._listing(self.columns, 40)
                raise UserError(
                    f"{self.files[0]}: column {missing[0]!r} (data.columns.{name}, the {self.roles[name]} {name!r}) is "
                    f"not in the file. Expected one of the columns there are: {listing}. "
                    f"Received: {memory_data._listing(missing)}"
                )

    def _check_same_columns(self, shard: Path) -> None:
        columns = self._header(shard)
        if columns == self.columns:
            return
        missing = [c for c in self.columns if c not in columns]
        extra = [c for c in columns if c not in self.columns]
        if missing:
            detail = f"column {missing[0]!r} of {self.files[0].name} is missing"
        elif extra:
            detail = f"it has column {extra[0]!r}, which {self.files[0].name} has not"
        else:
            detail = "the same columns in another order"
        raise UserError(
            f"{shard}: this shard's columns differ from the first shard's ({self.files[0].name}): {detail}. "
            f"Expected every shard of {self.path} to have the columns {memory_data._listing(self.columns, 40)}."
        )

    def chunks(self, *, all_columns: bool = False) -> Iterator[Chunk]:
        """Every row in order, as chunks of at most :data:`CHUNK_ROWS` rows (blank CSV lines dropped)."""
        start = 0
        for shard in self.files:
            local = 0
            parts = self._parquet_chunks(shard) if self.kind == "parquet" else self._csv_chunks(shard, all_columns)
            for frame, lines in parts:
                if len(frame):
                    yield Chunk(shard, start, frame, lines, local, self.several)
                start += len(frame)
                local += len(frame)

    def _parquet_chunks(self, shard: Path) -> Iterator[tuple[Any, None]]:
        pq = _pyarrow_parquet(shard)
        try:
            handle = pq.ParquetFile(shard)
            for batch in handle.iter_batches(batch_size=CHUNK_ROWS, columns=self.needed):
                yield batch.to_pandas(), None
        except UserError:
            raise
        except OSError as exc:
            raise UserError(f"{shard}: cannot read the shard: {exc.strerror or exc}") from None
        except Exception as exc:  # noqa: BLE001 - pyarrow's errors for damaged files
            raise UserError(f"{shard}: cannot read it as Parquet: {exc}") from None

    def _csv_chunks(self, shard: Path, all_columns: bool) -> Iterator[tuple[Any, np.ndarray]]:
        import pandas as pd

        options: dict[str, Any] = dict(
            sep=separator(shard), index_col=False, chunksize=CHUNK_ROWS, skip_blank_lines=False,
            keep_default_na=False, na_values=MISSING_MARKERS, low_memory=False,
        )
        if not all_columns:
            options["usecols"] = self.needed
        line = 2
        try:
            with pd.read_csv(shard, **options) as reader:
                for frame in reader:
                    lines = np.arange(line, line + len(frame))
                    line += len(frame)
                    blank = frame.isna().all(axis=1).to_numpy()
                    if blank.any():
                        frame = frame.loc[~blank].reset_index(drop=True)
                        lines = lines[~blank]
                    yield frame, lines
        except pd.errors.EmptyDataError:
            return
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise UserError(f"{shard}: cannot read it as CSV: {exc}") from None
        except OSError as exc:
            raise UserError(f"{shard}: cannot read the shard: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- splits


def _mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a well-spread 64-bit hash of each value."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def assign_splits(rows: np.ndarray, seed: int, validation_split: float, test_split: float) -> np.ndarray:
    """Split code per global row index (0 train, 1 validation, 2 test): a hash of the row and the seed.

    A row's split depends only on its index, the seed and the two fractions,
    so every pass over the data agrees without holding any index in memory.
    """
    keyed = np.asarray(rows, dtype=np.uint64) ^ _mix64(np.array([seed], dtype=np.uint64))[0]
    uniform = (_mix64(keyed) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    codes = np.zeros(len(uniform), dtype=np.int8)
    codes[uniform < test_split + validation_split] = 1
    codes[uniform < test_split] = 2
    return codes


# --------------------------------------------------------------------------- statistics in one pass


class _Moments:
    """Count, mean and sum of squared deviations per column, merged chunk by chunk (Chan et al.)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None
        self.squares: np.ndarray | None = None

    def add(self, values: np.ndarray) -> None:
        if not len(values):
            return
        values = values.astype(np.float64)
        n_b = len(values)
        mean_b = values.mean(axis=0)
        m2_b = ((values - mean_b) ** 2).sum(axis=0)
        squares_b = (values**2).sum(axis=0)
        if self.mean is None or self.m2 is None or self.squares is None:
            self.n, self.mean, self.m2, self.squares = n_b, mean_b, m2_b, squares_b
            return
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * n_b / n)
        self.squares = self.squares + squares_b
        self.n = n

    @property
    def variance(self) -> np.ndarray:
        assert self.m2 is not None
        return self.m2 / self.n


@dataclass
class _LabelTally:
    """Distinct raw labels of a classification output (with the first row holding each) and training counts."""

    first_row: dict[Any, str] = field(default_factory=dict)
    values: dict[Any, Any] = field(default_factory=dict)
    train_counts: dict[str, int] = field(default_factory=dict)
    numeric: bool = True


class _UniqueLabels:
    """The in-memory checks' source for a frame of distinct labels: rows named by where each first occurred."""

    def __init__(self, path: Path, rows: int, names: list[str]) -> None:
        self.path = path
        self.rows = rows
        self._names = names
        self.frame: Any = None

    def row_name(self, position: int) -> str:
        return self._names[position]

    def block(self, name: str, columns: list[str], role: str) -> Any:
        return self.frame


# --------------------------------------------------------------------------- the dataset


@dataclass
class StreamSplit:
    """One split of a streamed dataset: its row count, and its rows read on demand."""

    name: str
    rows: int
    dataset: StreamDataset


@dataclass
class StreamDataset:
    """A checked data source read in chunks: what the model needs to know about it, and its splits by hash."""

    path: Path
    format: str
    sha256: str
    rows: int
    seed: int
    inputs: dict[str, list[str]]
    outputs: dict[str, OutputInfo]
    reader: Reader
    spec: Spec
    validation_split: float
    test_split: float
    splits: dict[str, StreamSplit] = field(default_factory=dict)
    normalization: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    target_scaling: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    constant_features: dict[str, list[int]] = field(default_factory=dict)
    #: Per classification output: training rows per class (in class order).
    class_counts: dict[str, np.ndarray] = field(default_factory=dict)
    #: Per multilabel/binary output: the training rows' mean per unit; per regression output: their mean.
    train_means: dict[str, np.ndarray] = field(default_factory=dict)
    sample_inputs: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    streaming: bool = True
    strata: None = None
    lines: None = None

    @property
    def train(self) -> StreamSplit:
        return self.splits["train"]

    @property
    def validation(self) -> StreamSplit:
        return self.splits["validation"]

    @property
    def test(self) -> StreamSplit:
        return self.splits["test"]

    @property
    def classes(self) -> dict[str, list[str] | None]:
        return {name: info.classes for name, info in self.outputs.items()}

    @property
    def record(self) -> dict[str, Any]:
        """Keys added to ``run.json``'s data section."""
        return {"streaming": True, "split_method": "row-hash", "shards": len(self.reader.files)}

    # -- arrays of a chunk
    def arrays(self, chunk: Chunk, *, targets: bool = True) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Model inputs and targets of a chunk, checked and laid out as the in-memory path does."""
        filled = self.spec.filled or {}
        x = {}
        for inp in filled["inputs"]:
            name = inp["name"]
            frame = chunk.frame.loc[:, self.inputs[name]]
            values = memory_data._numeric(chunk, frame, name, "input")  # type: ignore[arg-type]
            x[name] = values.astype(np.float32).reshape((chunk.rows, *inp["shape"]))
        y = {}
        if targets:
            for out in filled["outputs"]:
                info = self.outputs[out["name"]]
                y[out["name"]] = _chunk_target(chunk, out, info)
        return x, y

    def codes(self, chunk: Chunk) -> np.ndarray:
        """Split code per row of a chunk (see :func:`assign_splits`)."""
        return assign_splits(
            np.arange(chunk.start, chunk.start + chunk.rows), self.seed, self.validation_split, self.test_split
        )

    def split_blocks(self, split: str, *, targets: bool = True) -> Iterator[tuple[dict, dict]]:
        """The rows of one split, chunk by chunk, in file order."""
        code = SPLIT_CODES[split]
        for chunk in self.reader.chunks():
            mask = self.codes(chunk) == code
            if not mask.any():
                continue
            x, y = self.arrays(chunk, targets=targets)
            yield {k: v[mask] for k, v in x.items()}, {k: v[mask] for k, v in y.items()}

    def signature_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        chunk = next(self.reader.chunks())
        small = Chunk(chunk.shard, chunk.start, chunk.frame.iloc[:1], chunk.lines, chunk.local_start, chunk.several)
        return self.arrays(small)

    # -- the constant predictor
    def baselines(self, spec_outputs: list[dict[str, Any]]) -> dict[str, dict[str, float] | None]:
        """The constant predictor's metrics on the validation and test splits, in one streaming pass."""
        from .baseline import DATA_LOSS, combined_baseline, output_baseline

        sums: dict[str, dict[str, dict[str, float]]] = {s: {o["name"]: {} for o in spec_outputs} for s in ("validation",
                                                                                                         "test")}
        weights: dict[str, dict[str, dict[str, float]]] = {s: {o["name"]: {} for o in spec_outputs}
                                                           for s in ("validation", "test")}
        for chunk in self.reader.chunks():
            codes = self.codes(chunk)
            if not (codes > 0).any():
                continue
            _, y = self.arrays(chunk)
            for split in ("validation", "test"):
                mask = codes == SPLIT_CODES[split]
                if not mask.any():
                    continue
                for out in spec_outputs:
                    name = out["name"]
                    rows = y[name][mask]
                    if out["task"] == "multiclass":
                        values = self._multiclass_baseline(out, rows)
                    else:
                        scale = self.target_scaling.get(name, (None,))[0]
                        values = output_baseline(out, self.train_means[name].reshape(1, -1), rows, scale)
                    positives = float(np.sum(rows)) if out["task"] in ("binary", "multilabel") else 0.0
                    for key, value in values.items():
                        weight = positives if key == "recall" else float(len(rows))
                        if key == "rmse":
                            continue
                        sums[split][name][key] = sums[split][name].get(key, 0.0) + value * weight
                        weights[split][name][key] = weights[split][name].get(key, 0.0) + weight
        result: dict[str, dict[str, float] | None] = {}
        for split in ("validation", "test"):
            if not self.splits[split].rows:
                result[split] = None
                continue
            per_output = {}
            for out in spec_outputs:
                name = out["name"]
                values = {k: (v / weights[split][name][k] if weights[split][name][k] else 0.0)
                          for k, v in sums[split][name].items()}
                wanted = {"loss", DATA_LOSS, *out["metrics"]}
                if "rmse" in wanted and "mse" in values:
                    values["rmse"] = float(np.sqrt(values["mse"]))
                per_output[name] = {k: v for k, v in values.items() if k in wanted}
            result[split] = combined_baseline(spec_outputs, per_output)
        return result

    def _multiclass_baseline(self, out: dict[str, Any], rows: np.ndarray) -> dict[str, float]:
        from .baseline import EPSILON, _class_index

        counts = self.class_counts[out["name"]].astype(np.float64)
        prior = np.clip(counts / counts.sum(), EPSILON, 1 - EPSILON)
        index = _class_index(rows)
        return {
            "loss": float(-np.mean(np.log(prior[index]))),
            "accuracy": float(np.mean(index == int(counts.argmax()))),
            "auc": 0.5,
        }

    def first_rows(self, name: str, limit: int) -> memory_data.Split:
        """Up to ``limit`` rows of split ``name`` in memory (its first rows in file order), read in chunks."""
        xs: list[dict] = []
        ys: list[dict] = []
        held = 0
        if self.splits[name].rows and limit > 0:
            for x, y in self.split_blocks(name):
                take = min(limit - held, len(next(iter(y.values()))))
                xs.append({k: v[:take] for k, v in x.items()})
                ys.append({k: v[:take] for k, v in y.items()})
                held += take
                if held >= limit:
                    break
        return memory_data.Split(
            indices=np.arange(held),
            x={k: np.concatenate([b[k] for b in xs]) for k in (xs[0] if xs else {})},
            y={k: np.concatenate([b[k] for b in ys]) for k in (ys[0] if ys else {})},
        )

    def views_sample(self, limit: int | None = None) -> Any:
        """The first ``limit`` (:data:`VIEW_ROWS`) test rows (else validation rows) in memory, for the evaluation views.

        Shaped as the in-memory dataset is for :func:`mlpdesigner.evaluation.record_run`: ``test``,
        ``splits`` and ``classes``.
        """
        from types import SimpleNamespace

        limit = VIEW_ROWS if limit is None else limit
        name = "test" if self.test.rows else "validation"
        joined = self.first_rows(name, limit)
        empty = memory_data.Split(indices=np.arange(0), x={}, y={})
        splits = {"test": joined if name == "test" else empty, "validation": joined if name == "validation" else empty}
        return SimpleNamespace(test=splits["test"], splits=splits, classes=self.classes)

    def split_file_bytes(self) -> bytes:
        """``splits.npz`` of a streamed run: how rows were assigned (the rows themselves are not listed)."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            split_method=np.array("row-hash"),
            split_seed=np.array(self.seed, dtype=np.int64),
            validation_split=np.array(self.validation_split),
            test_split=np.array(self.test_split),
        )
        return buffer.getvalue()


def _chunk_target(chunk: Chunk, out: dict[str, Any], info: OutputInfo) -> np.ndarray:
    """One output's target array for a chunk, its classes fixed by the first pass."""
    frame = chunk.frame.loc[:, info.columns]

    class _One:
        path = chunk.shard
        rows = chunk.rows
        row_name = staticmethod(chunk.row_name)

        @staticmethod
        def block(name: str, columns: list[str], role: str) -> Any:
            return frame

    array, _, _ = memory_data._target(_One, out, info.columns, info.classes)  # type: ignore[arg-type]
    return array


# --------------------------------------------------------------------------- opening a source


def _roles(filled: dict[str, Any]) -> dict[str, str]:
    roles = {i["name"]: "input" for i in filled["inputs"]}
    roles.update({o["name"]: f"{o['task']} output" for o in filled["outputs"]})
    return roles


def open_dataset(
    spec: Spec | dict[str, Any] | str | os.PathLike[str],
    data_path: str | os.PathLike[str] | None = None,
    *,
    seed: int | None = None,
    classes: dict[str, list[str] | None] | None = None,
    all_rows: bool = False,
) -> StreamDataset:
    """Check a source in one streaming pass and compute what training needs (see the module docstring).

    ``classes`` fixes the class names per output (those of a trained run);
    with ``all_rows`` every row is in the test split (evaluating a file).
    Every problem with the data raises :class:`UserError` naming the shard, row and column.
    """
    spec = load_spec(spec)
    filled = spec.filled
    assert filled is not None
    path = memory_data._resolve_path(spec, data_path)
    if not path.exists():
        where = f" (data.path in {spec.path})" if data_path is None and spec.path else ""
        raise UserError(f"Data file not found: {path}{where}. Expected an existing CSV or Parquet file or a folder.")
    data = filled["data"]
    mapping = {k: list(v) for k, v in memory_data._columns(spec).items()}
    wanted = {i["name"] for i in filled["inputs"]} | {o["name"] for o in filled["outputs"]}
    mapping = {k: v for k, v in mapping.items() if k in wanted}
    reader = Reader(path, mapping, _roles(filled))
    dataset = StreamDataset(
        path=path,
        format=reader.kind,
        sha256="",
        rows=0,
        seed=data["split_seed"] if seed is None else seed,
        inputs={i["name"]: mapping[i["name"]] for i in filled["inputs"]},
        outputs={},
        reader=reader,
        spec=spec,
        validation_split=0.0 if all_rows else data["validation_split"],
        test_split=1.0 if all_rows else data["test_split"],
    )
    _scan(dataset, filled, classes, check_sizes=not all_rows)
    dataset.sha256 = source_digest(reader.files)
    if data["shuffle"] is False:
        dataset.warnings.append(
            f"{path}: data.shuffle is false, but streamed data is split by a hash of each row's index "
            "(data.split_seed); the last rows are not the test split"
        )
    return dataset


def _scan(
    dataset: StreamDataset, filled: dict[str, Any], fixed: dict[str, list[str] | None] | None, check_sizes: bool = True
) -> None:
    """The first pass: check every cell; moments, labels and counts of the training rows; split sizes."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    inputs = [i for i in filled["inputs"]]
    outputs = filled["outputs"]
    moments = {i["name"]: _Moments() for i in inputs if i.get("normalize", True)}
    target_moments = {o["name"]: _Moments() for o in outputs if o["task"] in ("regression", "multilabel")}
    tallies = {o["name"]: _LabelTally() for o in outputs if o["task"] in ("binary", "multiclass")}
    one_hot = {o["name"]: o["task"] == "multiclass" and len(dataset.reader.mapping[o["name"]]) == o["units"] > 1
               for o in outputs}
    split_rows = np.zeros(3, dtype=np.int64)
    samples: dict[int, dict[str, list[np.ndarray]]] = {c: {i["name"]: [] for i in inputs} for c in range(3)}
    sample_rows = np.zeros(3, dtype=np.int64)
    total = 0
    for chunk in dataset.reader.chunks(all_columns=True):
        codes = dataset.codes(chunk)
        split_rows += np.bincount(codes, minlength=3)
        train = codes == 0
        total = chunk.start + chunk.rows
        for inp in inputs:
            name = inp["name"]
            values = memory_data._numeric(chunk, chunk.frame.loc[:, dataset.inputs[name]], name, "input")  # type: ignore[arg-type]
            values = values.astype(np.float32)
            if name in moments:
                moments[name].add(values[train].reshape(-1, inp["shape"][-1]))
            for code in range(3):
                if sample_rows[code] < SAMPLE_ROWS:
                    picked = values[codes == code][: SAMPLE_ROWS - int(sample_rows[code])]
                    samples[code][name].append(picked.reshape((len(picked), *inp["shape"])))
        for code in range(3):
            sample_rows[code] = min(SAMPLE_ROWS, sample_rows[code] + int((codes == code).sum()))
        for out in outputs:
            name, task = out["name"], out["task"]
            columns = dataset.reader.mapping[name]
            frame = chunk.frame.loc[:, columns]
            role = f"{task} output"
            if task == "regression":
                values = memory_data._numeric(chunk, frame, name, role).astype(np.float32)  # type: ignore[arg-type]
                target_moments[name].add(values[train])
            elif task == "multilabel":
                values = memory_data._zero_one(chunk, frame, name, role)  # type: ignore[arg-type]
                target_moments[name].add(values[train])
            elif one_hot[name]:
                info = OutputInfo(name, task, columns, out["units"], classes=list(columns))
                index = _chunk_target(chunk, out, info)
                index = index.argmax(axis=1) if index.ndim == 2 else index
                tally = tallies[name]
                for position, count in zip(*np.unique(index[train], return_counts=True)):
                    tally.train_counts[str(int(position))] = tally.train_counts.get(str(int(position)), 0) + int(count)
            else:
                memory_data._check_present(chunk, frame, name, role)  # type: ignore[arg-type]
                series = frame.iloc[:, 0]
                tally = tallies[name]
                if not (is_numeric_dtype(series.dtype) or is_bool_dtype(series.dtype)):
                    tally.numeric = False
                firsts = series.drop_duplicates()
                for position, value in zip(firsts.index, firsts.tolist()):
                    key = label_text(value)
                    if key not in tally.first_row:
                        tally.first_row[key] = chunk.row_name(int(position))
                        tally.values[key] = value
                counts = series[train].map(label_text).value_counts()
                for label, count in counts.items():
                    tally.train_counts[str(label)] = tally.train_counts.get(str(label), 0) + int(count)
    dataset.rows = total
    if total == 0:
        raise UserError(f"{dataset.path}: no data rows. Expected a header line followed by rows of values.")
    for code, name in enumerate(SPLIT_CODES):
        dataset.splits[name] = StreamSplit(name, int(split_rows[code]), dataset)
    if check_sizes:
        _check_split_sizes(dataset)
    for code in (1, 2, 0):
        if split_rows[code]:
            dataset.sample_inputs = {k: np.concatenate(v) for k, v in samples[code].items()}
            break
    for inp in inputs:
        name = inp["name"]
        if name not in moments or not moments[name].n:
            continue
        mean, variance = moments[name].mean, moments[name].variance
        assert mean is not None
        flags = constant_features(mean, variance)
        dataset.normalization[name] = (mean.astype(np.float32), np.where(flags, 1.0, variance).astype(np.float32))
        if flags.any():
            dataset.constant_features[name] = [int(i) for i in np.flatnonzero(flags)]
    for out in outputs:
        name, task = out["name"], out["task"]
        columns = dataset.reader.mapping[name]
        info = OutputInfo(name, task, columns, out["units"])
        if task in ("regression", "multilabel"):
            stats = target_moments[name]
            mean = stats.mean if stats.mean is not None else np.zeros(len(columns))
            dataset.train_means[name] = mean
            if task == "multilabel":
                info.classes = (fixed or {}).get(name) or out.get("classes") or list(columns)
            mode = target_scaling(out)
            if task == "regression" and mode is not None and stats.n:
                if mode == "standardize":
                    offset, scale = stats.mean, np.sqrt(stats.variance)
                    assert offset is not None
                    scale = np.where(constant_features(offset, scale**2), 1.0, scale)
                else:
                    assert stats.squares is not None
                    offset = np.zeros(len(columns))
                    scale = np.sqrt(stats.squares / stats.n)
                    scale = np.where(scale < CONSTANT_ABSOLUTE, 1.0, scale)
                dataset.target_scaling[name] = (scale.astype(np.float32), offset.astype(np.float32))
        else:
            _resolve_classes(dataset, out, info, tallies[name], one_hot[name], (fixed or {}).get(name))
        dataset.outputs[name] = info
    if filled["data"]["stratify"] and tallies:
        dataset.warnings.append(
            f"{dataset.path}: data.stratify does not apply to streamed data; rows are split by a hash of their "
            "index, so class proportions match across splits only on average"
        )


def _resolve_classes(
    dataset: StreamDataset, out: dict[str, Any], info: OutputInfo, tally: _LabelTally, one_hot: bool,
    fixed: list[str] | None,
) -> None:
    """Class names as the in-memory path would give them, and the training rows per class."""
    import pandas as pd

    if one_hot:
        info.classes = fixed or out.get("classes") or list(info.columns)
        counts = [tally.train_counts.get(str(i), 0) for i in range(out["units"])]
    else:
        keys = list(tally.values)
        values = [tally.values[k] for k in keys]
        if not tally.numeric:
            values = [label_text(v) for v in values]
        column = info.columns[0]
        series = pd.Series(values, name=column)
        if tally.numeric and values and all(isinstance(v, bool) for v in values):
            series = series.astype(bool)
        source = _UniqueLabels(dataset.reader.files[0], dataset.rows, [tally.first_row[k] for k in keys])
        source.frame = pd.DataFrame({column: series})
        _, resolved, _ = memory_data._target(source, out, info.columns, fixed)  # type: ignore[arg-type]
        info.classes, info.one_hot = resolved.classes, resolved.one_hot
        names = info.classes or []
        counts = [tally.train_counts.get(name, 0) for name in names]
    info.one_hot = out["task"] == "multiclass" and out.get("loss") == "categorical_crossentropy"
    dataset.class_counts[out["name"]] = np.asarray(counts, dtype=np.int64)
    dataset.train_means[out["name"]] = np.asarray(
        [counts[1] / max(sum(counts), 1)] if out["task"] == "binary" else [], dtype=np.float64
    )


def _check_split_sizes(dataset: StreamDataset) -> None:
    sizes = {name: split.rows for name, split in dataset.splits.items()}
    wanted = {"train": True, "validation": dataset.validation_split > 0, "test": dataset.test_split > 0}
    empty = [name for name, want in wanted.items() if want and sizes[name] == 0]
    if empty:
        raise UserError(
            f"{dataset.path}: too few rows for the splits: {dataset.rows} rows give {sizes['train']} train, "
            f"{sizes['validation']} validation and {sizes['test']} test rows. Expected at least one row in every "
            f"split (validation_split={dataset.validation_split:g}, test_split={dataset.test_split:g}).",
            hint="add rows, or lower data.validation_split / data.test_split (0 turns a split off)",
        )
    if wanted["test"] and sizes["test"] < MIN_TEST_ROWS:
        raise UserError(
            f"{dataset.path}: the test split is too small to measure anything: {dataset.rows} rows give "
            f"{sizes['test']} test rows. Expected at least {MIN_TEST_ROWS}.",
            hint="add rows, raise data.test_split, or set it to 0",
        )


def training_data(spec: Spec, *, fold: tuple[int, int] | None = None) -> Any:
    """The data a run trains on: a :class:`StreamDataset` when the source streams, else the in-memory dataset."""
    if not wants_streaming(spec):
        return memory_data.load_dataset(spec, fold=fold)
    if fold is not None:
        raise UserError(
            f"{spec.data_file()}: cross-validation (--cv) reads the data into memory, but this source is streamed. "
            'Expected a CSV or .npz file with data.streaming "auto" or false.'
        )
    return open_dataset(spec)



# --------------------------------------------------------------------------- evaluate and predict


def input_chunks(spec: Spec, data_path: str | os.PathLike[str]) -> Iterator[dict[str, np.ndarray]]:
    """The model inputs of every row of a source, chunk by chunk (for prediction: no targets are read)."""
    filled = spec.filled
    assert filled is not None
    path = Path(data_path).expanduser().resolve()
    mapping = memory_data._columns(spec)
    inputs = {i["name"]: list(mapping[i["name"]]) for i in filled["inputs"]}
    reader = Reader(path, inputs, {name: "input" for name in inputs})
    for chunk in reader.chunks():
        x = {}
        for inp in filled["inputs"]:
            name = inp["name"]
            values = memory_data._numeric(chunk, chunk.frame.loc[:, inputs[name]], name, "input")  # type: ignore[arg-type]
            x[name] = values.astype(np.float32).reshape((chunk.rows, *inp["shape"]))
        yield x
