"""The benchmark modules import and describe themselves (no timing: ``python -m bench`` measures)."""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import SECTIONS, _markdown


@pytest.mark.parametrize("module_name", [module for module, _ in SECTIONS.values()] + ["bench.train_speed"])
def test_bench_module_imports_and_has_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert callable(module.run)
    assert module.__doc__ and module.__doc__.strip()


def test_training_cases_match_the_issue() -> None:
    from bench.training import CASES

    shapes = {case.key: case.dense_sizes() for case in CASES}
    assert shapes == {
        "small": [(8, 30), (30, 30), (30, 1)],
        "binary": [(30, 64), (64, 32), (32, 1)],
        "multiclass": [(784, 300), (300, 100), (100, 10)],
    }
    assert {case.output["task"] for case in CASES} == {"regression", "binary", "multiclass"}


def test_training_specs_are_valid_designs(tmp_path) -> None:
    from bench.training import CASES
    from mlpdesigner.spec import load_spec

    for case in CASES:
        spec = load_spec(case.spec(tmp_path / "data.npz", epochs=1))
        assert spec.filled["training"]["batch_size"] == 32
        assert spec.filled["training"]["optimizer"]["name"] == "adam"


def test_markdown_renders_tables_and_bolds_ratios() -> None:
    results = {
        "date": "today",
        "machine": {"platform": "test", "cpu_count": 2, "python": "3.11"},
        "sections": {"training": {"tables": {"caption": [{"side": "a", "samples/s": 1}]}, "x_ratio": 2.0}},
    }
    text = _markdown(results)
    assert "**caption**" in text
    assert "| side | samples/s |" in text
    assert "| `x_ratio` | **2.0** |" in text
    assert "`tables`" not in text


def test_quality_section_runs_on_a_tiny_setting() -> None:
    """One dataset, one split seed, two epochs: the table has every column, on the same test rows."""
    pytest.importorskip("sklearn")
    from bench.quality import CASES, run

    assert {case.key for case in CASES} == {"breast_cancer", "iris", "wine", "digits", "diabetes"}
    section = run(quick=True, only=["iris"], epochs=2)
    (rows,) = section["tables"].values()
    (row,) = rows
    assert row["dataset"] == "iris" and row["test rows"] == 30 and row["metric"] == "test accuracy"
    assert row["split seeds"] == 1 and row["MLP Designer mean ± std"].endswith("± 0.0000")
    assert 0 <= row["MLP Designer"] <= 1 and 0.5 < row["sklearn MLP"] <= 1
    assert row["constant"] == pytest.approx(1 / 3, abs=1e-4)  # 10 rows of each class in 30
    assert section["beats_constant"] in ("0/1", "1/1")


@pytest.mark.slow
def test_e2e_section_runs_quick() -> None:
    """mlpdesigner train and the scikit-learn script both run, in their own processes, and the ratio is theirs.

    Since issue 18's breakdown the section has a second table: one more train process, phase by phase,
    the phases adding up to its wall time. The third side is the designer's Train on its warm worker,
    clocked from the click to the finished run.
    """
    pytest.importorskip("sklearn")
    from bench.e2e import run

    section = run(quick=True)
    rows, phases = section["tables"].values()
    assert [row["side"] for row in rows] == ["mlpdesigner train", "scikit-learn MLPRegressor script",
                                             "designer: Train on the warm worker, click to finished run"]
    wall = phases[-1]
    assert wall["phase"] == "wall time" and wall["seconds"] > 0
    assert sum(row["seconds"] for row in phases[:-1]) == pytest.approx(wall["seconds"], abs=0.02)
    named = {row["phase"]: row["seconds"] for row in phases}
    assert named["import TensorFlow + Keras"] > 0 and named["fit: epoch 1 (graph tracing)"] > 0
    assert named["model.onnx (tf2onnx + parity check)"] > 0 and named["end event to process exit"] >= 0
    seconds = {row["side"]: row["seconds"] for row in rows}
    assert section["designer_over_sklearn_ratio"] == pytest.approx(
        seconds["mlpdesigner train"] / seconds["scikit-learn MLPRegressor script"], rel=0.05)
    assert section["end_to_exit_seconds"] is not None and section["onnx_step_seconds"] > 0
    assert section["warm_designer_over_sklearn_ratio"] == pytest.approx(
        seconds["designer: Train on the warm worker, click to finished run"]
        / seconds["scikit-learn MLPRegressor script"], rel=0.05)


@pytest.mark.slow
def test_predict_section_runs_quick() -> None:
    """mlpdesigner predict and the plain onnxruntime script give the same predictions on the same model.onnx."""
    from bench.predict import run

    section = run(quick=True)
    (rows,) = section["tables"].values()
    assert [row["side"] for row in rows] == ["mlpdesigner predict", "pandas + onnxruntime script"]
    assert section["rows"] == 5_000 and section["max_abs_diff_designer_vs_script"] <= 1e-5
    assert section["designer_over_script_time_ratio"] > 0 and section["designer_over_script_rss_ratio"] > 0


def test_quality_averages_small_datasets_over_more_splits() -> None:
    """A 30-row test split gets 20 split seeds (600 test predictions); large ones keep the minimum of 5."""
    from bench.quality import paired_difference, split_seed_count

    assert [split_seed_count(rows) for rows in (30, 36, 114, 360, 1)] == [20, 17, 6, 5, 30]
    assert paired_difference([1.0, 0.9, 0.8], [0.9, 0.9, 0.9]) == "+0.0000 ± 0.0577"


def test_script_speed_case_is_a_valid_design_without_early_stopping(tmp_path) -> None:
    """Both sides train exactly the given epochs on the same data file."""
    from bench.script_speed import FEATURES, ROWS, write_case
    from mlpdesigner.spec import load_spec

    spec = load_spec(write_case(tmp_path, epochs=3))
    assert spec.ok
    assert spec.filled["training"]["epochs"] == 3 and spec.filled["training"]["early_stopping"]["enabled"] is False
    assert spec.filled["inputs"][0]["shape"] == [FEATURES]
    assert len((tmp_path / "rows.csv").read_text().splitlines()) == ROWS + 1
