"""Feeding streamed data to Keras: ``tf.data`` pipelines over :class:`~mlpdesigner.train.stream.StreamDataset` splits.

Kept apart from :mod:`mlpdesigner.train.stream` (pure NumPy, pandas and pyarrow), which the designer's data
checks import: only this module touches TensorFlow.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..spec import Spec
from .stream import (
    CHUNK_ROWS,
    PREFETCH_BLOCKS,
    SHUFFLE_CHUNKS,
    StreamDataset,
    StreamSplit,
    open_dataset,
    wants_streaming,
)


def pipeline(dataset: StreamDataset, split: str, batch_size: int, *, shuffle_seed: int | None = None) -> Any:
    """A ``tf.data`` pipeline of the split's batches, read from the file at every pass.

    The generator yields blocks of whole batches (shape ``(k, batch, ...)``)
    that ``unbatch`` turns into batches, so ``tf.data`` handles one element
    per batch, not per row. With ``shuffle_seed`` the rows are shuffled
    within a buffer of :data:`SHUFFLE_CHUNKS` chunks, differently each epoch.
    """
    import tensorflow as tf

    filled = dataset.spec.filled or {}
    single_in = len(filled["inputs"]) == 1
    single_out = len(filled["outputs"]) == 1
    x_names = [i["name"] for i in filled["inputs"]]
    y_names = [o["name"] for o in filled["outputs"]]
    sample_x, sample_y = dataset.signature_arrays()
    rows = dataset.splits[split].rows
    buffer_rows = max(SHUFFLE_CHUNKS * CHUNK_ROWS, batch_size)
    block_rows = batch_size * max(1, CHUNK_ROWS // (4 * batch_size))
    epoch = [0]

    def pack(xs: dict[str, np.ndarray], ys: dict[str, np.ndarray], batches: int, size: int) -> tuple:
        def shaped(v: np.ndarray) -> np.ndarray:
            return v.reshape((batches, size, *v.shape[1:]))

        xo = shaped(xs[x_names[0]]) if single_in else {k: shaped(xs[k]) for k in x_names}
        yo = shaped(ys[y_names[0]]) if single_out else {k: shaped(ys[k]) for k in y_names}
        return xo, yo

    def generate() -> Iterator[tuple]:
        rng = None if shuffle_seed is None else np.random.default_rng([shuffle_seed, epoch[0]])
        epoch[0] += 1
        pending: list[tuple[dict, dict]] = []
        held = 0

        def drain(final: bool) -> Iterator[tuple]:
            nonlocal pending, held
            xs = {k: np.concatenate([p[0][k] for p in pending]) for k in x_names}
            ys = {k: np.concatenate([p[1][k] for p in pending]) for k in y_names}
            if rng is not None:
                order = rng.permutation(held)
                xs = {k: v[order] for k, v in xs.items()}
                ys = {k: v[order] for k, v in ys.items()}
            whole = (held // block_rows) * block_rows
            if whole:
                batches = block_rows // batch_size
                for begin in range(0, whole, block_rows):
                    part = slice(begin, begin + block_rows)
                    yield pack({k: v[part] for k, v in xs.items()}, {k: v[part] for k, v in ys.items()},
                               batches, batch_size)
            rest_x = {k: v[whole:] for k, v in xs.items()}
            rest_y = {k: v[whole:] for k, v in ys.items()}
            left = held - whole
            pending, held = ([(rest_x, rest_y)], left) if left else ([], 0)
            if final and left:
                full = (left // batch_size) * batch_size
                if full:
                    yield pack({k: v[:full] for k, v in rest_x.items()}, {k: v[:full] for k, v in rest_y.items()},
                               full // batch_size, batch_size)
                if left > full:
                    yield pack({k: v[full:] for k, v in rest_x.items()}, {k: v[full:] for k, v in rest_y.items()},
                               1, left - full)

        for x, y in dataset.split_blocks(split):
            pending.append((x, y))
            held += len(next(iter(y.values())))
            if held >= buffer_rows:
                yield from drain(False)
        if held:
            yield from drain(True)

    def spec_of(array: np.ndarray) -> Any:
        return tf.TensorSpec(shape=(None, None, *array.shape[1:]), dtype=tf.as_dtype(array.dtype))

    x_sig = spec_of(sample_x[x_names[0]]) if single_in else {k: spec_of(sample_x[k]) for k in x_names}
    y_sig = spec_of(sample_y[y_names[0]]) if single_out else {k: spec_of(sample_y[k]) for k in y_names}
    # Blocks are prefetched before unbatching, so reading and shuffling the next chunks overlaps training.
    data = tf.data.Dataset.from_generator(generate, output_signature=(x_sig, y_sig))
    data = data.prefetch(PREFETCH_BLOCKS).unbatch()
    steps = -(-rows // batch_size)
    return data.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(tf.data.AUTOTUNE)


def evaluate(model: Any, split: StreamSplit, batch_size: int) -> dict[str, float] | None:
    """Metrics of the model on a streamed split (None for an empty split)."""
    if split.rows == 0:
        return None
    result = model.evaluate(pipeline(split.dataset, split.name, batch_size), verbose=0, return_dict=True)
    return {k: float(v) for k, v in result.items()}


def evaluates_streaming(spec: Spec, info: Any, data_path: str | os.PathLike[str] | None) -> bool:
    """Whether ``mlpdesigner evaluate`` streams: a run trained on streamed data, or ``--data`` that streams."""
    if data_path is not None:
        return wants_streaming(spec, data_path)
    return bool((info.data or {}).get("streaming")) or wants_streaming(spec)


def evaluation_report(
    run: Path, spec: Spec, info: Any, model: Any, data_path: str | os.PathLike[str] | None, batch_size: int
) -> dict[str, Any]:
    """``mlpdesigner evaluate``'s report, streamed: the run's test split (or every row of ``--data``)."""
    classes = dict(info.classes)
    if data_path is not None:
        dataset = open_dataset(spec, data_path, classes=classes, all_rows=True)
        where = "file"
    else:
        dataset = open_dataset(spec, seed=(info.data or {}).get("split_seed"), classes=classes)
        recorded = (info.data or {}).get("sha256")
        if recorded and recorded != dataset.sha256:
            print(
                f"warning: {dataset.path} changed since the run was trained (SHA-256 differs); "
                "the test split is not the one the run held out",
                file=sys.stderr,
            )
        where = "test"
        if dataset.test.rows == 0:
            raise UserError(f"{run}: the run has no test split (data.test_split is 0). Expected --data FILE.")
    split = dataset.test
    metrics = evaluate(model, split, batch_size) or {}
    report = {"run_dir": str(run), "data": str(dataset.path), "split": where, "rows": split.rows, "metrics": metrics}
    if where == "test":
        report["baseline"] = dataset.baselines((spec.filled or {})["outputs"])["test"] or {}
    return report
