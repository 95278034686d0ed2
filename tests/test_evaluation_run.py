"""Evaluation views at the end of a run, ``evaluate --views`` and ``report`` (issue 14), on one trained run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlpdesigner.cli import main
from mlpdesigner.evaluation import read_evaluation
from mlpdesigner.runfolder import EVALUATION_FILE, EVALUATION_FOLDER
from mlpdesigner.train.runner import train
from tests.test_train_run import ALL_TASKS, save_spec, spec_dict, write_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evaluation")
    write_csv(folder / "data.csv", rows=200)
    return folder


@pytest.fixture(scope="module")
def multitask_run(workdir: Path) -> Path:
    spec = save_spec(workdir, spec_dict(workdir / "data.csv", *ALL_TASKS, epochs=3))
    result = train(spec, out=workdir / "run")
    assert result.status == "completed", result.reason
    return result.run_dir


def test_a_run_ends_with_its_evaluation_views(multitask_run: Path) -> None:
    views = read_evaluation(multitask_run)
    assert views is not None and views["split"] == "test" and views["figures_error"] is None
    metrics = json.loads((multitask_run / "metrics.json").read_text())["test"]
    outputs = views["outputs"]
    test_rows = json.loads((multitask_run / "run.json").read_text())["data"]["splits"]["test"]
    assert views["rows"] == test_rows == 20 and {name: v["task"] for name, v in outputs.items()} == {
        "value": "regression", "answer": "binary", "kind": "multiclass", "tags": "multilabel"}
    # The same predictions as Keras' own test metrics.
    assert outputs["value"]["units"][0]["mae"] == pytest.approx(metrics["value_mae"], rel=1e-4)
    assert outputs["answer"]["classes"] == ["no", "yes"] and outputs["kind"]["classes"] == ["a", "b", "c"]
    assert outputs["kind"]["accuracy"] == pytest.approx(metrics["kind_accuracy"], abs=1e-6)
    assert sum(map(sum, outputs["kind"]["confusion"]["counts"])) == 20
    assert outputs["tags"]["classes"] == ["l1", "l2", "l3"]
    for name in outputs:
        for kind in ("png", "svg"):
            file = multitask_run / views["figures"][name][kind]
            assert file.parent.name == EVALUATION_FOLDER and file.stat().st_size > 1000


def test_evaluate_views_rewrites_them(multitask_run: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = workdir / "copy"  # beside the run: the data path in spec.json is relative
    shutil.copytree(multitask_run, run)
    (run / EVALUATION_FILE).unlink()
    shutil.rmtree(run / EVALUATION_FOLDER)
    assert main(["evaluate", str(run), "--views", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["views"]["figures_error"] is None
    again, first = read_evaluation(run), read_evaluation(multitask_run)
    assert again is not None and first is not None
    assert again["outputs"]["kind"]["confusion"] == first["outputs"]["kind"]["confusion"]
    assert (run / again["figures"]["value"]["png"]).is_file()
    assert main(["evaluate", str(run), "--views", "--data", str(run / "spec.json")]) == 2
    assert "--views with --data" in capsys.readouterr().err


def test_a_failure_to_draw_does_not_fail_the_run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlpdesigner.evaluation.figures as figures

    def broken(views: object, run_dir: object) -> None:
        raise OSError("no room for pictures")

    monkeypatch.setattr(figures, "draw_all", broken)
    folder = workdir / "broken"
    folder.mkdir()
    spec = save_spec(folder, spec_dict(workdir / "data.csv", *ALL_TASKS, epochs=1))
    result = train(spec, out=workdir / "broken-run")
    assert result.status == "completed" and result.exit_code == 0
    views = read_evaluation(result.run_dir)
    assert views is not None and views["figures_error"] == "OSError: no room for pictures"
    assert views["outputs"]["kind"]["confusion"]["counts"]
