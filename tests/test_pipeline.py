"""The training input pipeline: whole batches, seeded per-epoch shuffling, one copy of the data."""

from __future__ import annotations

import numpy as np
import pytest

from mlpdesigner.train.pipeline import aligned_empty, input_pipeline, is_shareable, shared_tensor

pytest.importorskip("tensorflow")


def _epochs(dataset, count: int) -> list[list[list[int]]]:
    """Target values per batch, for ``count`` passes over the dataset (as ``fit`` makes them)."""
    return [[batch[1].numpy().reshape(-1).tolist() for batch in dataset] for _ in range(count)]


def _data(rows: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    x = aligned_empty((rows, 3), np.float32)
    x[:] = np.arange(rows, dtype=np.float32)[:, None] * np.array([1, 10, 100], dtype=np.float32)
    y = aligned_empty((rows,), np.int64)
    y[:] = np.arange(rows)
    return {"features": x}, y


def test_every_epoch_is_a_permutation_in_whole_batches() -> None:
    x, y = _data(103)
    epochs = _epochs(input_pipeline(x, y, 10, shuffle_seed=7), 3)
    for batches in epochs:
        assert [len(b) for b in batches] == [10] * 10 + [3]
        assert sorted(sum(batches, [])) == list(range(103))
    orders = [sum(batches, []) for batches in epochs]
    assert orders[0] != orders[1] != orders[2] and orders[0] != list(range(103))


def test_inputs_and_targets_stay_paired() -> None:
    x, y = _data(50)
    for features, target in input_pipeline(x, y, 8, shuffle_seed=1):
        assert np.array_equal(features["features"].numpy()[:, 0], target.numpy().astype(np.float32))
        assert np.array_equal(features["features"].numpy()[:, 2], 100 * target.numpy().astype(np.float32))


def test_the_seed_repeats_the_whole_sequence_of_epochs() -> None:
    x, y = _data(64)
    first = _epochs(input_pipeline(x, y, 16, shuffle_seed=42), 3)
    assert _epochs(input_pipeline(x, y, 16, shuffle_seed=42), 3) == first
    assert _epochs(input_pipeline(x, y, 16, shuffle_seed=43), 3) != first


def test_without_a_seed_the_rows_come_in_order() -> None:
    x, y = _data(10)
    assert _epochs(input_pipeline(x, y, 4), 2) == [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]] * 2


def test_the_pipeline_reads_the_arrays_in_place() -> None:
    """No cached or buffered copy of the rows: a value changed in the array shows in the next epoch."""
    x, y = _data(20)
    dataset = input_pipeline(x, y, 20)
    assert _epochs(dataset, 1)[0][0] == list(range(20))
    y[5] = 500
    x["features"][5, 0] = -1.0
    features, target = next(iter(dataset))
    assert target.numpy()[5] == 500 and features["features"].numpy()[5, 0] == -1.0


def test_unaligned_or_strided_arrays_are_copied_once_and_train_the_same() -> None:
    raw = np.arange(41, dtype=np.float32)
    unaligned = raw[1:].reshape(20, 2)  # 4 bytes past an allocation: never 64-byte aligned
    strided = np.arange(40, dtype=np.int64)[::2]
    assert not is_shareable(unaligned) and not is_shareable(strided)
    assert np.array_equal(shared_tensor(unaligned).numpy(), unaligned)
    ((features, target),) = list(input_pipeline(unaligned, strided, 20))
    assert np.array_equal(features.numpy(), unaligned) and np.array_equal(target.numpy(), strided)


def test_an_aligned_array_is_shared_not_copied() -> None:
    array = aligned_empty((1000, 4), np.float32)
    array[:] = 1.0
    assert is_shareable(array)
    tensor = shared_tensor(array)
    array[3, 2] = 9.0
    assert float(tensor[3, 2]) == 9.0


def test_fit_sees_the_declared_number_of_steps() -> None:
    """The dataset tells Keras its length (no epoch has to run out of data to learn it)."""
    x, y = _data(103)
    assert int(input_pipeline(x, y, 10, shuffle_seed=0).cardinality()) == 11
    assert int(input_pipeline(x, y, 103).cardinality()) == 1


def test_all_epochs_in_one_pass_train_exactly_as_one_pass_per_epoch() -> None:
    """``epochs``: one iterator for the whole ``fit`` (issue 18), the same batches in every epoch as before,
    so a seed's run (and the generated script, which feeds the finite pipeline) does not change."""
    import keras

    x, y = _data(103)
    target = y.astype(np.float32)
    histories = []
    for one_pass in (False, True):
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(1e-6), loss="mse", steps_per_execution=11)
        data = input_pipeline(x["features"], target, 10, shuffle_seed=9, epochs=4 if one_pass else None)
        history = model.fit(data, epochs=4, steps_per_epoch=11 if one_pass else None, shuffle=False, verbose=0)
        histories.append(history.history["loss"])
    assert histories[0] == histories[1] and len(set(histories[0])) == 4


def test_splits_are_built_shareable(tmp_path) -> None:
    """load_dataset's split arrays are the single copy training uses (aligned, contiguous)."""
    from mlpdesigner.train.data import load_dataset

    rng = np.random.default_rng(0)
    path = tmp_path / "data.csv"
    rows = rng.normal(size=(200, 3))
    np.savetxt(path, rows, delimiter=",", header="a,b,y", comments="", fmt="%.5f")
    spec = {
        "format": "mlpdesigner/1",
        "name": "s",
        "inputs": [{"name": "x", "shape": [2]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4}]},
        "outputs": [{"name": "y", "task": "regression", "units": 1}],
        "data": {"path": str(path), "columns": {"x": ["a", "b"], "y": ["y"]}},
    }
    dataset = load_dataset(spec)
    for split in dataset.splits.values():
        assert is_shareable(split.x["x"]) and is_shareable(split.y["y"])
        assert split.x["x"].dtype == np.float32
    train = dataset.train
    assert np.allclose(train.x["x"], rows[train.indices, :2], atol=1e-5)


def test_reading_a_block_makes_no_float64_copy_of_it(tmp_path) -> None:
    """Converting the columns an input reads goes straight to float32: the peak extra memory is the float32
    block plus a few single columns, not a float64 copy of the whole block besides it."""
    import tracemalloc

    import pandas as pd

    from mlpdesigner.train.data import _numeric, _Source

    rows, width = 200_000, 16
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(rows, width)), columns=[f"c{i}" for i in range(width)])
    path = tmp_path / "tiny.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    source = _Source(path)
    tracemalloc.start()
    try:
        values = _numeric(source, frame, "x", "input", np.float32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert values.dtype == np.float32
    assert np.array_equal(values, frame.to_numpy().astype(np.float32))
    float32_block = rows * width * 4
    assert peak < float32_block + 6 * rows * 8, f"peak {peak:,} bytes for a {float32_block:,}-byte block"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({("b", 5): "1e39", ("c", 3): "-1e39"}, "row 4, column 'c' (the input 'x'): Expected a number within +-3.4e38"),
        ({("b", 3): "1e39", ("c", 3): "1e40"}, "row 4, column 'b' (the input 'x'): Expected a number within"),
        ({("b", 2): "1e39", ("c", 6): ""}, "missing values (empty cells, NaN or infinity) for the input 'x' in 1 row,"
                                           " first at row 7; columns: 'c' (1 row)"),
    ],
)
def test_float32_reading_keeps_the_located_errors(tmp_path, cells, expected) -> None:
    """Beyond-float32 values are reported at the first one in file order; missing values take precedence."""
    from mlpdesigner.errors import UserError
    from mlpdesigner.train.data import read_data

    table = [["a", "b", "c", "y"]] + [[str(i), str(i), str(i), str(i)] for i in range(8)]
    for (column, row), text in cells.items():
        table[row]["abcy".index(column)] = text  # table row r is file line r + 1
    path = tmp_path / "d.csv"
    path.write_text("\n".join(",".join(r) for r in table) + "\n", encoding="utf-8")
    spec = {
        "format": "mlpdesigner/1",
        "name": "s",
        "inputs": [{"name": "x", "shape": [3]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4}]},
        "outputs": [{"name": "y", "task": "regression", "units": 1}],
        "data": {"path": str(path), "columns": {"x": ["a", "b", "c"], "y": ["y"]}},
    }
    with pytest.raises(UserError) as caught:
        read_data(spec)
    assert expected in str(caught.value)
