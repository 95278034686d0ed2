"""Data larger than memory: CSV, Parquet and shard folders read in chunks, the same statistics as in memory,
located errors for bad shards, and streamed training, evaluation and prediction."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.spec import analyze, load_spec
from mlpdesigner.train import stream
from mlpdesigner.train.data import read_data, target_statistics, training_statistics
from mlpdesigner.train.stream import assign_splits, open_dataset, wants_streaming
from tests.test_train_data import make_spec, write_csv

pq = pytest.importorskip("pyarrow.parquet")

ROWS = 1000
OUTPUTS = {
    "value": ({"name": "value", "task": "regression", "units": 1}, ["value"]),
    "answer": ({"name": "answer", "task": "binary", "units": 1}, ["answer"]),
    "kind": ({"name": "kind", "task": "multiclass", "units": 3}, ["kind"]),
    "digit": ({"name": "digit", "task": "multiclass", "units": 6, "loss": "categorical_crossentropy"}, ["digit"]),
    "flag": ({"name": "flag", "task": "binary", "units": 1}, ["flag"]),
    "labels": ({"name": "labels", "task": "multilabel", "units": 3}, ["l1", "l2", "l3"]),
}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 170 rows, so a 1,000-row file takes several chunks (and shards split across chunk edges)."""
    monkeypatch.setattr(stream, "CHUNK_ROWS", 170)


def spec_for(data: Path, *names: str, **options: Any) -> dict[str, Any]:
    outputs = [OUTPUTS[n][0] for n in names]
    return make_spec(data, outputs, {n: OUTPUTS[n][1] for n in names}, **options)


def write_shards(csv_file: Path, folder: Path, kind: str, parts: int = 3) -> Path:
    import pandas as pd

    frame = pd.read_csv(csv_file)
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), parts)):
        shard = frame.iloc[part]
        if kind == "parquet":
            shard.to_parquet(folder / f"part-{i:03d}.parquet", index=False)
        else:
            shard.to_csv(folder / f"part-{i:03d}.csv", index=False)
    return folder


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "data.csv", rows=ROWS)


def in_memory_on_hash_rows(spec: dict[str, Any], seed: int = 0) -> tuple[Any, np.ndarray]:
    """The in-memory reading of the file, and the training rows the streaming split picks."""
    loaded = load_spec(spec)
    whole = read_data(loaded)
    codes = assign_splits(np.arange(whole.rows), seed, 0.2, 0.1)
    return whole, np.flatnonzero(codes == 0)


def test_row_hash_split_is_deterministic_and_near_the_fractions() -> None:
    rows = np.arange(200_000)
    codes = assign_splits(rows, 7, 0.2, 0.1)
    shares = np.bincount(codes, minlength=3) / rows.size
    np.testing.assert_allclose(shares, [0.7, 0.2, 0.1], atol=0.005)
    np.testing.assert_array_equal(codes[5000:6000], assign_splits(rows[5000:6000], 7, 0.2, 0.1))
    assert (assign_splits(rows, 8, 0.2, 0.1) != codes).mean() > 0.3  # the seed moves rows


@pytest.mark.parametrize("source", ["csv", "parquet", "parquet_shards", "csv_shards"])
def test_streaming_statistics_equal_the_in_memory_ones(csv_file: Path, tmp_path: Path, source: str) -> None:
    names = ("value", "answer", "kind", "labels")
    reference, train_rows = in_memory_on_hash_rows(spec_for(csv_file, *names))
    if source == "parquet":
        import pandas as pd

        path = tmp_path / "data.parquet"
        pd.read_csv(csv_file).to_parquet(path, index=False)
    elif source.endswith("shards"):
        path = write_shards(csv_file, tmp_path / "shards", source.split("_")[0])
    else:
        path = csv_file
    streamed = open_dataset(spec_for(path, *names, streaming=True))
    assert streamed.rows == ROWS
    assert streamed.train.rows == train_rows.size
    assert streamed.train.rows + streamed.validation.rows + streamed.test.rows == ROWS
    x_train = {"features": reference.x["features"][train_rows]}
    expected = training_statistics(load_spec(spec_for(csv_file, *names)), x_train)
    for got, want in zip(streamed.normalization["features"], expected["features"]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    targets = target_statistics(load_spec(spec_for(csv_file, *names)), {"value": reference.y["value"][train_rows]})
    for got, want in zip(streamed.target_scaling["value"], targets["value"]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert streamed.classes == reference.classes
    counts = np.bincount(reference.y["kind"][train_rows].astype(int), minlength=3)
    np.testing.assert_array_equal(streamed.class_counts["kind"], counts)
    np.testing.assert_allclose(streamed.train_means["labels"], reference.y["labels"][train_rows].mean(axis=0))


def test_one_hot_and_zero_one_labels_match_in_memory(csv_file: Path) -> None:
    spec = spec_for(csv_file, "digit", "flag", streaming=True)
    reference, train_rows = in_memory_on_hash_rows(spec)
    streamed = open_dataset(spec)
    assert streamed.classes == reference.classes == {"digit": [str(i) for i in range(6)], "flag": ["0", "1"]}
    assert streamed.outputs["digit"].one_hot
    np.testing.assert_array_equal(
        streamed.class_counts["digit"], np.bincount(reference.y["digit"][train_rows].argmax(axis=1), minlength=6)
    )
    x, y = next(iter(streamed.split_blocks("train")))
    assert y["digit"].shape[1] == 6 and y["flag"].dtype == np.float32


def test_streamed_split_blocks_hold_exactly_the_split_rows(csv_file: Path) -> None:
    spec = spec_for(csv_file, "value", streaming=True)
    reference, _ = in_memory_on_hash_rows(spec)
    streamed = open_dataset(spec)
    codes = assign_splits(np.arange(ROWS), 0, 0.2, 0.1)
    for code, name in enumerate(("train", "validation", "test")):
        blocks = list(streamed.split_blocks(name))
        features = np.concatenate([b[0]["features"] for b in blocks])
        np.testing.assert_array_equal(features, reference.x["features"][codes == code])


def test_when_training_streams(csv_file: Path, tmp_path: Path) -> None:
    import pandas as pd

    parquet = tmp_path / "data.parquet"
    pd.read_csv(csv_file).to_parquet(parquet, index=False)
    folder = write_shards(csv_file, tmp_path / "shards", "csv")
    assert not wants_streaming(load_spec(spec_for(csv_file, "value")))  # a small CSV file: in memory
    assert wants_streaming(load_spec(spec_for(csv_file, "value", streaming=True)))
    assert wants_streaming(load_spec(spec_for(parquet, "value")))
    assert wants_streaming(load_spec(spec_for(folder, "value")))
    with pytest.raises(UserError, match="always streamed"):
        wants_streaming(load_spec(spec_for(parquet, "value", streaming=False)))
    npz = tmp_path / "data.npz"
    np.savez(npz, features=np.zeros((10, 4)), value=np.zeros(10))
    with pytest.raises(UserError, match=r"\.npz files are read whole"):
        wants_streaming(load_spec(spec_for(npz, "value", streaming=True)))


def test_schema_accepts_streaming_settings_and_locates_a_bad_one(csv_file: Path) -> None:
    for value in ("auto", True, False):
        assert analyze(spec_for(csv_file, "value", streaming=value)).ok
    bad = analyze(spec_for(csv_file, "value", streaming="yes"))
    assert not bad.ok
    assert any("/data/streaming" in str(p.path) for p in bad.problems)


# --------------------------------------------------------------------------- located errors


def test_empty_folder_and_mixed_shards_are_refused(csv_file: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "_SUCCESS").write_text("")
    with pytest.raises(UserError, match="holds no shards"):
        open_dataset(spec_for(empty, "value"))
    mixed = write_shards(csv_file, tmp_path / "mixed", "parquet")
    (mixed / "part-009.csv").write_text("f1\n1\n")
    with pytest.raises(UserError, match=r"mixes shard kinds: part-009\.csv is CSV, part-000\.parquet is Parquet"):
        open_dataset(spec_for(mixed, "value"))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_shard_with_other_columns_is_named_with_the_column(csv_file: Path, tmp_path: Path, kind: str) -> None:
    import pandas as pd

    folder = write_shards(csv_file, tmp_path / "shards", kind)
    shard = folder / f"part-001.{kind}"
    frame = (pd.read_parquet(shard) if kind == "parquet" else pd.read_csv(shard)).rename(columns={"f3": "f3x"})
    frame.to_parquet(shard, index=False) if kind == "parquet" else frame.to_csv(shard, index=False)
    with pytest.raises(UserError) as caught:
        open_dataset(spec_for(folder, "value"))
    assert str(caught.value).startswith(f"{shard}: this shard's columns differ")
    assert "column 'f3' of part-000" in str(caught.value)


def test_a_non_numeric_cell_is_located_as_in_memory(csv_file: Path) -> None:
    lines = csv_file.read_text().splitlines()
    cells = lines[700].split(",")
    cells[1] = "oops"
    lines[700] = ",".join(cells)
    csv_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError) as in_memory:
        read_data(spec_for(csv_file, "value"))
    with pytest.raises(UserError) as streamed:
        open_dataset(spec_for(csv_file, "value", streaming=True))
    assert str(streamed.value) == str(in_memory.value)
    assert "row 701, column 'f2'" in str(streamed.value)


def test_a_non_numeric_cell_in_a_shard_names_the_shard_and_the_row_across_shards(
    csv_file: Path, tmp_path: Path
) -> None:
    import pandas as pd

    folder = write_shards(csv_file, tmp_path / "shards", "parquet")  # 334, 333, 333 rows
    shard = folder / "part-002.parquet"
    frame = pd.read_parquet(shard)
    frame["f4"] = frame["f4"].astype(object)
    frame.loc[frame.index[10], "f4"] = "n/a?"
    frame["f4"] = frame["f4"].astype(str)
    frame.to_parquet(shard, index=False)
    with pytest.raises(UserError) as caught:
        open_dataset(spec_for(folder, "value"))
    message = str(caught.value)
    assert message.startswith(f"{shard}: row index 10 (row index 677 across the shards), column 'f4'")
    assert "Expected a number. Received: 'n/a?'" in message


def test_parquet_without_pyarrow_says_how_to_install(
    csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    path = tmp_path / "data.parquet"
    pd.read_csv(csv_file).to_parquet(path, index=False)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UserError) as caught:
        open_dataset(spec_for(path, "value"))
    assert str(path) in str(caught.value)
    assert "pip install 'mlpdesigner[parquet]'" in str(caught.value)


def test_cross_validation_refuses_streamed_data(csv_file: Path, tmp_path: Path) -> None:
    folder = write_shards(csv_file, tmp_path / "shards", "csv")
    with pytest.raises(UserError, match="cross-validation"):
        stream.training_data(load_spec(spec_for(folder, "value")), fold=(0, 5))


# --------------------------------------------------------------------------- training, evaluate, predict


def final_metrics(run: Path) -> dict[str, Any]:
    return json.loads((run / "metrics.json").read_text())


@pytest.mark.slow
def test_streamed_training_matches_in_memory_and_evaluates_and_predicts(
    csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same seed, same file: streamed and in-memory training reach a similar loss, both beat the constant."""
    write_csv(csv_file, rows=2000)
    folder = write_shards(csv_file, tmp_path / "shards", "parquet")
    losses = {}
    for label, path, options in (("memory", csv_file, {}), ("stream", folder, {})):
        spec = spec_for(path, "value", **options)
        spec["training"].update(epochs=5, batch_size=32, optimizer={"name": "adam", "learning_rate": 0.01})
        spec_file = tmp_path / f"{label}.json"
        spec_file.write_text(json.dumps(spec))
        assert main(["train", str(spec_file), "--out", str(tmp_path / label)]) == 0
        metrics = final_metrics(tmp_path / label)
        assert metrics["test"]["loss"] < 0.5 * metrics["baseline"]["test"]["loss"], (label, metrics)
        losses[label] = metrics["test"]["loss"]
    assert abs(losses["stream"] - losses["memory"]) < 0.5 * max(losses.values()) + 0.01
    run = tmp_path / "stream"
    info = json.loads((run / "run.json").read_text())
    assert info["data"]["streaming"] and info["data"]["shards"] == 3
    assert sum(info["data"]["splits"].values()) == 2000
    evaluation = json.loads((run / "evaluation.json").read_text())  # views from the streamed test rows
    assert evaluation["split"] == "test" and evaluation["rows"] == info["data"]["splits"]["test"]
    assert "error" not in evaluation and not evaluation["figures_error"]
    capsys.readouterr()
    assert main(["evaluate", str(run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(report["metrics"]["loss"], final_metrics(run)["test"]["loss"], rtol=1e-5)
    np.testing.assert_allclose(report["baseline"]["loss"], final_metrics(run)["baseline"]["test"]["loss"], rtol=1e-6)
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(run), "--data", str(folder), "-o", str(out)]) == 0
    import pandas as pd

    predictions = pd.read_csv(out)
    truth = pd.read_csv(csv_file)["value"]
    assert len(predictions) == 2000
    assert np.mean(np.abs(predictions["value"] - truth)) < 0.5 * np.mean(np.abs(truth - truth.mean()))


# --------------------------------------------------------------------------- bigger than the memory limit

#: Address space the run may add after TensorFlow is loaded and warmed up: streaming needs about 110 MiB here
#: (threads, one buffer of chunks). Reading 300,000 rows whole fitted in it once the in-memory path read
#: straight to float32, so the file has 800,000.
HEADROOM = 160 * 2**20
BIG_ROWS = 800_000

LIMITED_RUN = r"""
import json, resource, sys
from pathlib import Path

import mlpdesigner.train.stream as stream
from mlpdesigner.train.runner import train

stream.CHUNK_ROWS = 8192
folder, big, small = (Path(a) for a in sys.argv[1:4])
mode, headroom = sys.argv[4], int(sys.argv[5])


def spec(path, streaming):
    columns = [f"f{i}" for i in range(8)]
    return {"format": "mlpdesigner/1", "name": "big", "inputs": [{"name": "x", "shape": [8]}],
            "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 30, "activation": "relu"},
                                                             {"type": "dense", "units": 30, "activation": "relu"}]},
            "outputs": [{"name": "y", "task": "regression", "units": 1}],
            "training": {"epochs": 1, "batch_size": 256},
            "data": {"path": str(path), "columns": {"x": columns, "y": ["y"]}, "streaming": streaming,
                     "validation_split": 0.0}}


def address_space():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024


train(spec(small, mode == "stream"), out=folder / "warm")  # TensorFlow loaded, its thread pools started
resource.setrlimit(resource.RLIMIT_AS, (address_space() + headroom, resource.RLIM_INFINITY))
print("limited", flush=True)
result = train(spec(big, mode == "stream"), out=folder / "run")
print(json.dumps({"status": result.status.value, "reason": result.reason, "metrics": result.metrics}))
"""


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 92 MB CSV file of 800,000 rows (8 features, a linear target), written once per session, and its head."""
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BIG_ROWS, 8)).astype(np.float32)
    y = x @ np.linspace(-1, 1, 8).astype(np.float32)
    big, small = folder / "big.csv", folder / "small.csv"
    header = ",".join([f"f{i}" for i in range(8)] + ["y"])
    with open(big, "w") as handle:
        handle.write(header + "\n")
        np.savetxt(handle, np.column_stack([x, y]), fmt="%.9f", delimiter=",")
    with open(small, "w") as handle:
        handle.write(header + "\n")
        np.savetxt(handle, np.column_stack([x, y])[:400], fmt="%.9f", delimiter=",")
    return big, small


def run_limited(folder: Path, big: Path, small: Path, mode: str) -> Any:
    import os
    import subprocess

    folder.mkdir()
    env = {**os.environ, "MALLOC_ARENA_MAX": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-c", LIMITED_RUN, str(folder), str(big), str(small), mode, str(HEADROOM)],
        capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_streaming_trains_on_a_file_that_does_not_fit_under_the_memory_limit(
    big_csv: tuple[Path, Path], tmp_path: Path
) -> None:
    """Under the same address-space limit, reading the file whole fails and streaming it completes."""
    big, small = big_csv
    whole = run_limited(tmp_path / "memory", big, small, "memory")
    assert "limited" in whole.stdout, whole.stderr[-2000:]
    assert whole.returncode != 0 or '"status": "failed"' in whole.stdout, whole.stdout[-2000:]
    assert '"status": "completed"' not in whole.stdout
    streamed = run_limited(tmp_path / "stream", big, small, "stream")
    assert streamed.returncode == 0, streamed.stderr[-3000:]
    result = json.loads(streamed.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed", result
    assert result["metrics"]["test"]["loss"] < 0.5 * result["metrics"]["baseline"]["test"]["loss"]
    info = json.loads((tmp_path / "stream" / "run" / "run.json").read_text())
    assert info["data"]["rows"] == BIG_ROWS and info["data"]["streaming"]


def test_validate_data_checks_a_shard_folder_cell_by_cell(
    csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_shards(csv_file, tmp_path / "shards", "csv")
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec_for(folder, "value")))
    assert main(["validate", str(spec_file), "--data"]) == 0
    shard = folder / "part-001.csv"
    lines = shard.read_text().splitlines()
    lines[5] = "x" + lines[5]
    shard.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["validate", str(spec_file), "--data"]) == 1  # as for a bad cell in a CSV file
    assert f"error: {shard}: row 6 (data row 339 across the shards), column 'f1'" in capsys.readouterr().out
