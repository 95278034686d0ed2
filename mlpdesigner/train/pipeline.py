"""The input pipeline: in-memory arrays -> a ``tf.data`` dataset of whole batches.

Rows are never handled one at a time. Every epoch draws one permutation of the
row indices (``stateless_shuffle`` under a seed that the dataset re-draws at
each new iteration, so a seed repeats the whole run), cuts it into batches of
indices and gathers each batch from the arrays in one ``tf.gather`` — the
same scheme Keras uses for NumPy arrays, seeded.

The arrays are not copied: a C-contiguous array whose buffer is aligned to
:data:`ALIGNMENT` bytes is shared with TensorFlow through DLPack (TensorFlow
aborts the process on an unaligned buffer, so anything else is copied once,
aligned). :func:`aligned_empty` allocates such arrays, and
:meth:`mlpdesigner.train.data.Dataset.subset` builds the splits with it, so
training holds one float32 copy of the data, with no ``.cache()`` copy and no
shuffle buffer of rows. ``bench/pipeline.py`` measures it against ``fit`` fed
NumPy arrays.

TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aligned import ALIGNMENT, aligned_empty, is_shareable  # noqa: F401 - re-exported


def shared_tensor(array: Any) -> Any:
    """A ``tf.Tensor`` over the array's own memory when possible (DLPack), else one aligned copy.

    The tensor keeps the array alive; the array must not be written while the
    tensor is in use (training never writes its data).
    """
    import tensorflow as tf

    array = np.asarray(array)
    if not is_shareable(array):
        copy = aligned_empty(array.shape, array.dtype) if array.size else array.copy()
        if array.size:
            copy[...] = array
        array = copy
        if not is_shareable(array):  # empty, or a dtype DLPack does not carry
            return tf.convert_to_tensor(array)
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


def rows_of(x: Any) -> int:
    """Number of rows of an array or of a dict of arrays (all the same length)."""
    first = next(iter(x.values())) if isinstance(x, dict) else x
    return int(len(first))


def input_pipeline(x: Any, y: Any, batch_size: int, *, shuffle_seed: int | None = None,
                   epochs: int | None = None) -> Any:
    """A ``tf.data`` dataset of ``(x, y)`` batches of ``batch_size`` rows (the last one may be smaller).

    ``x`` and ``y`` are arrays or dicts of arrays with the same number of rows.
    With ``shuffle_seed`` every iteration (every epoch of ``fit``) takes the
    rows in a new uniform random order drawn from that seed: the same seed
    gives the same sequence of epochs, in any process. Without it the rows
    come in order (for validation; one epoch's worth from :func:`_in_order`).

    ``epochs`` makes one pass hold that many epochs, each in the order a new
    iteration of the one-epoch dataset would take (the same batches), for
    ``fit`` with ``steps_per_epoch``. Keras then keeps one iterator for the
    whole fit instead of making two per epoch, which cost 30-40 ms each on the
    housing starter (a tenth of its epoch; issue 18). The pass ends with the
    last epoch and runs without tf.data's autotuner: with it, dropping the
    iterator at the end of ``fit`` waited up to a second, one run in two. Its
    length is left unknown, so that Keras counts epochs by ``steps_per_epoch``.
    """
    import tensorflow as tf

    rows = rows_of(x)
    full_batches, partial = divmod(rows, batch_size)
    data = tf.nest.map_structure(shared_tensor, (x, y))
    if shuffle_seed is None and epochs is None:
        return _in_order(data, full_batches, partial, batch_size)

    def epoch_batches(indices: Any) -> Any:
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(indices[: full_batches * batch_size],
                                                                [full_batches, batch_size]))
        if partial:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(indices[full_batches * batch_size :]))
        return batches

    if shuffle_seed is None:
        order = tf.data.Dataset.from_tensors(tf.range(rows, dtype=tf.int64))
        if epochs is not None:
            order = order.repeat(epochs)
    else:
        # One draw per iteration; rerandomized each iteration, from shuffle_seed, so epochs differ but repeat.
        draws = tf.data.Dataset.random(seed=int(shuffle_seed), rerandomize_each_iteration=True).take(1)
        if epochs is not None:
            # Iterating the draw again gives the draws of new iterations, in order. Fed the one-epoch dataset,
            # Keras makes two iterators per epoch (one when an epoch ends, another when the next begins), so its
            # epoch e took iteration 2e-1: every other draw keeps a seed's batches (and the generated script's).
            draws = draws.repeat(2 * epochs - 1).shard(2, 0)
        order = draws.map(
            lambda draw: tf.random.experimental.stateless_shuffle(
                tf.range(rows, dtype=tf.int64), seed=tf.stack([tf.constant(int(shuffle_seed), tf.int64), draw])
            )
        )
    indices = order.prefetch(1).flat_map(epoch_batches)
    # The arrays enter as a dataset element (not captured by the map function), so no graph holds a copy.
    batches = tf.data.Dataset.zip((indices, tf.data.Dataset.from_tensors(data).repeat())).map(
        lambda index, arrays: tf.nest.map_structure(lambda tensor: tf.gather(tensor, index, axis=0), arrays),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    # flat_map hides the length; Keras needs it to know an epoch's steps without running one first.
    if epochs is None:
        batches = batches.apply(tf.data.experimental.assert_cardinality(full_batches + (1 if partial else 0)))
    options = tf.data.Options()
    # The graph rewrites would serialize the pipeline, arrays included, for no gain here.
    options.experimental_optimization.apply_default_optimizations = False
    if epochs is not None:
        # tf.data's autotuner made dropping a live iterator wait for it, up to a second at the end of fit.
        options.autotune.enabled = False
    return batches.with_options(options).prefetch(tf.data.AUTOTUNE)


def _in_order(data: Any, full_batches: int, partial: int, batch_size: int) -> Any:
    """The rows in order as batches (validation, evaluation): slices of the arrays viewed as [batches, batch, ...].

    No map function and no index dataset: Keras makes a new iterator of the
    validation data at every epoch, and this one starts in about 0.5 ms
    against 7-10 ms for the gather pipeline (the housing starter's 20 epochs
    spent 0.3 s there; issue 18). The leading slice and the reshape are views
    of the shared tensors, not copies; only a last, partial batch is sliced
    apart.
    """
    import tensorflow as tf

    def whole(tensor: Any) -> Any:
        return tf.reshape(tensor[: full_batches * batch_size], [full_batches, batch_size, *tensor.shape[1:]])

    batches = tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(whole, data))
    if partial:
        tail = tf.nest.map_structure(lambda tensor: tensor[full_batches * batch_size :], data)
        batches = batches.concatenate(tf.data.Dataset.from_tensors(tail))
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return batches.with_options(options)
