"""``mlpdesigner train SPEC --init-from RUN_DIR``: fine-tune from an imported or a finished run (issue 16).

The learning rate of a spec must be above 0 (the schema's exclusiveMinimum), so
"learning rate 0" is 1e-12 here: Adam moves no weight by more than that.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mlpdesigner.cli import main

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.slow

ROWS = 300


def _classification_data(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 4)).astype("float32")
    y = np.argmax(x @ rng.normal(size=(4, 3)), axis=1)
    table = "a,b,c,d,label\n" + "".join(",".join(f"{v:.6f}" for v in row) + f",{label}\n" for row, label in zip(x, y))
    path.write_text(table)
    return x, y


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, Path, np.ndarray, np.ndarray]:
    """A hand-built, trained Keras classifier imported with its weights: (model, spec file, run folder, x, y)."""
    tmp_path = tmp_path_factory.mktemp("imported")
    x, y = _classification_data(tmp_path / "rows.csv")
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    model.save(tmp_path / "hand.keras")
    spec, run = tmp_path / "imported.json", tmp_path / "imported-run"
    argv = ["import", str(tmp_path / "hand.keras"), "-o", str(spec), "--weights", "--out", str(run)]
    assert main([*argv, "--data", str(tmp_path / "rows.csv")]) == 0
    return model, spec, run, x, y


def _with_training(spec_file: Path, out: Path, **training: object) -> Path:
    """The imported spec (its data path made absolute) with these training settings, no early stopping."""
    spec = json.loads(spec_file.read_text())
    spec["data"]["path"] = str((spec_file.parent / spec["data"]["path"]).resolve())
    spec.setdefault("training", {}).update(training)
    spec["training"]["early_stopping"] = {"enabled": False}
    out.write_text(json.dumps(spec))
    return out


def _first_epoch_loss(run: Path) -> float:
    with (run / "history.csv").open() as rows:
        return float(next(csv.DictReader(rows))["loss"])


def _weights(model: object) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.weights]  # type: ignore[attr-defined]


def test_fine_tuning_at_learning_rate_zero_keeps_the_imported_model(tmp_path: Path, imported: tuple) -> None:
    """One epoch at (almost) no learning rate: the same weights, the same predictions; run.json says where from."""
    source, spec, run, x, _ = imported
    still = _with_training(spec, tmp_path / "still.json", optimizer={"name": "adam", "learning_rate": 1e-12})
    assert main(["train", str(still), "--init-from", str(run), "--epochs", "1", "--out", str(tmp_path / "ft")]) == 0
    tuned = keras.saving.load_model(tmp_path / "ft" / "model.keras")
    for got, expected in zip(_weights(tuned), _weights(source), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-9)
    np.testing.assert_allclose(tuned.predict(x, verbose=0), source.predict(x, verbose=0), atol=1e-6)
    record = json.loads((tmp_path / "ft" / "run.json").read_text())
    assert record["init_from"]["run_dir"] == str(run.resolve())
    assert record["init_from"]["status"] == "imported"
    assert record["init_from"]["layers"] == 3
    assert record["status"] == "completed"


def test_fine_tuning_starts_from_the_imported_models_loss(tmp_path: Path, imported: tuple) -> None:
    """At a normal learning rate the first epoch's loss is the imported model's, not a fresh model's."""
    source, spec, run, x, y = imported
    tuned_spec = _with_training(spec, tmp_path / "tune.json", optimizer={"name": "adam", "learning_rate": 0.001})
    argv = ["train", str(tuned_spec), "--epochs", "1"]
    assert main([*argv, "--init-from", str(run), "--out", str(tmp_path / "ft")]) == 0
    assert main([*argv, "--out", str(tmp_path / "fresh")]) == 0
    with np.load(tmp_path / "ft" / "splits.npz") as splits:
        train_rows = splits["train"]
    imported_loss = float(source.evaluate(x[train_rows], y[train_rows], verbose=0))
    tuned_loss, fresh_loss = _first_epoch_loss(tmp_path / "ft"), _first_epoch_loss(tmp_path / "fresh")
    assert imported_loss < 0.3 < fresh_loss  # the source model has learned the rule; a fresh one has not
    assert tuned_loss == pytest.approx(imported_loss, rel=0.25, abs=0.02)


def test_a_finished_run_continues_with_its_own_standardization_and_target_scaling(tmp_path: Path) -> None:
    """A regression run fine-tuned on other data (shifted and scaled targets and inputs) starts as the same
    function: the run's standardization statistics and target scaling are kept, not recomputed."""
    from mlpdesigner.resources import example_path

    rng = np.random.default_rng(2)
    spec = json.loads(example_path("housing_regression").read_text())
    names = spec["data"]["columns"][spec["inputs"][0]["name"]]
    target = spec["data"]["columns"][spec["outputs"][0]["name"]][0]
    x = rng.normal(size=(200, len(names)))
    y = x @ rng.normal(size=len(names)) * 30 + 150
    for file, (scale, shift) in {"first.csv": (1, 0), "second.csv": (3, 50)}.items():
        header = ",".join([*names, target])
        body = "".join(",".join(f"{v:.6f}" for v in [*(row * scale + shift), t * scale + shift]) + "\n"
                       for row, t in zip(x, y))
        (tmp_path / file).write_text(header + "\n" + body)
    spec["data"]["path"] = "first.csv"
    spec["training"].update(epochs=3, early_stopping={"enabled": False})
    (tmp_path / "design.json").write_text(json.dumps(spec))
    assert main(["train", str(tmp_path / "design.json"), "--out", str(tmp_path / "first")]) == 0
    spec["training"]["optimizer"] = {"name": "adam", "learning_rate": 1e-12}
    spec["data"]["path"] = "second.csv"
    (tmp_path / "again.json").write_text(json.dumps(spec))
    argv = ["train", str(tmp_path / "again.json"), "--init-from", str(tmp_path / "first"), "--epochs", "1"]
    assert main([*argv, "--out", str(tmp_path / "second")]) == 0
    first = keras.saving.load_model(tmp_path / "first" / "model.keras")
    second = keras.saving.load_model(tmp_path / "second" / "model.keras")
    probe = rng.normal(size=(50, len(names))).astype("float32")
    np.testing.assert_allclose(second.predict(probe, verbose=0), first.predict(probe, verbose=0), rtol=1e-5)
    assert json.loads((tmp_path / "second" / "run.json").read_text())["init_from"]["status"] == "completed"


def test_a_design_that_does_not_match_is_refused_at_its_first_differing_layer(
    tmp_path: Path, imported: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    _, spec, run, _, _ = imported
    design = json.loads(_with_training(spec, tmp_path / "wider.json").read_text())
    design["network"]["layers"][1]["units"] = 9
    (tmp_path / "wider.json").write_text(json.dumps(design))
    capsys.readouterr()
    code = main(["train", str(tmp_path / "wider.json"), "--init-from", str(run), "--out", str(tmp_path / "ft")])
    assert code == 2
    err = capsys.readouterr().err
    assert "--init-from" in err and "layer number 2 that holds weights" in err
    assert "(/network/layers/1) with weights of shapes [(16, 9), (9,)]" in err
    assert "Expected the run's dense layer" in err and "[(16, 8), (8,)]" in err
    assert "Traceback" not in err
    assert not (tmp_path / "ft").exists()
