"""Evaluation views at the end of a run, ``evaluate --views`` and ``report`` (issue 14), on one trained run."""

from __future__ import annotations

import base64
import csv
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest

from mlpdesigner.cli import main
from mlpdesigner.errors import UserError
from mlpdesigner.evaluation import evaluation_with_figures, read_evaluation
from mlpdesigner.report import build_report
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


def test_a_run_ends_with_its_evaluation_views(multitask_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The data is written by the run; the pictures when first shown, then kept in the run folder.

    Issue 18 changed this: the run no longer draws the pictures (matplotlib cost the train command ~0.7 s);
    :func:`evaluation_with_figures` (the designer's Evaluation view, the report) draws and stores them.
    """
    views = read_evaluation(multitask_run)
    assert views is not None and views["split"] == "test" and views["figures_error"] is None
    assert views["figures"] == {} and not (multitask_run / EVALUATION_FOLDER).exists()
    views = evaluation_with_figures(multitask_run)
    assert views is not None and views["figures_error"] is None
    assert read_evaluation(multitask_run) == views  # stored: the next reader does not draw again
    import mlpdesigner.evaluation.figures as figures

    monkeypatch.setattr(figures, "draw_all", None)  # drawing again would fail
    assert evaluation_with_figures(multitask_run) == views
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
    """Drawing fails when the pictures are first shown (issue 18: no longer during the run): said, data kept."""
    import mlpdesigner.evaluation.figures as figures

    def broken(views: object, run_dir: object) -> None:
        raise OSError("no room for pictures")

    monkeypatch.setattr(figures, "draw_all", broken)
    folder = workdir / "broken"
    folder.mkdir()
    spec = save_spec(folder, spec_dict(workdir / "data.csv", *ALL_TASKS, epochs=1))
    result = train(spec, out=workdir / "broken-run")
    assert result.status == "completed" and result.exit_code == 0
    views = evaluation_with_figures(result.run_dir)
    assert views is not None and views["figures_error"] == "OSError: no room for pictures"
    assert views["outputs"]["kind"]["confusion"]["counts"]
    assert read_evaluation(result.run_dir) == views  # recorded: not tried on every look


# --------------------------------------------------------------------------- report


class PageParser(HTMLParser):
    """Tags, attributes and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def check_self_contained(parser: PageParser) -> list[bytes]:
    """No script, no event handler, nothing fetched; returns the decoded images (each checked well-formed)."""
    images = []
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "object", "embed", "link"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("data:image/"), value[:60]
        if tag == "img":
            header, encoded = str(attrs["src"]).split(",", 1)
            content = base64.b64decode(encoded)
            if header.startswith("data:image/svg+xml"):
                ElementTree.fromstring(content)  # well-formed SVG
            else:
                assert content.startswith(b"\x89PNG")
            images.append(content)
    return images


def test_report_is_one_self_contained_page(multitask_run: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Parsed with html.parser (Qt WebEngine is not installed with PySide6-Essentials: no rendering check).

    Every run now records its layer health (issue 14, ``health.json``), so the page has a health section.
    """
    out = tmp_path / "report.html"
    assert main(["report", str(multitask_run), "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    page = out.read_text("utf-8")
    parser = parse_page(page)
    sections = [attrs.get("id") for tag, attrs in parser.tags if tag == "section"]
    assert sections == ["design", "data", "training", "metrics", "evaluation", "health", "environment"]
    images = check_self_contained(parser)
    assert len(images) == 2 + 4  # the diagram, the training curves, one figure per output
    assert b"dense_1" in images[0] and b"softmax" in images[0]
    text = " ".join(parser.text)
    assert "constant predictor" in text and "ROC AUC" in text and "R²" in text and "kind_accuracy" in text
    info = json.loads((multitask_run / "run.json").read_text())
    assert info["data"]["sha256"] in text and info["versions"]["tensorflow"] in text
    for label in ("a", "b", "c"):  # each class of the multiclass output heads a row of its confusion matrix
        assert f"<tr><th>{label}</th>" in page
    assert main(["report", str(multitask_run), "-o", str(multitask_run / "run.json")]) == 2  # never its input


def test_report_escapes_what_comes_from_the_data(tmp_path: Path) -> None:
    hostile_column = "<script>alert(1)</script>"
    hostile_label = '<img src=x onerror="alert(1)">'
    data = tmp_path / "hostile.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", hostile_column, "label"])
        for i in range(60):
            writer.writerow([i % 7, (i * 3) % 5, i % 2, hostile_label if i % 3 else "ok"])
    spec = {
        "format": "mlpdesigner/1", "name": "hostile",
        "inputs": [{"name": "x", "shape": [3]}],
        "network": {"topology": "sequential", "layers": [{"type": "dense", "units": 4, "activation": "relu"}]},
        "outputs": [{"name": "y", "task": "binary", "units": 1}],
        "training": {"epochs": 1, "batch_size": 16, "seed": 1},
        "data": {"path": str(data), "columns": {"x": ["a", "b", hostile_column], "y": ["label"]}},
    }
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    result = train(spec_file, out=tmp_path / "run")
    assert result.status == "completed", result.reason
    (result.run_dir / "health.json").write_text(json.dumps({"layers": {"<b>dense</b>": {"grad_norm": [0.1, 0.2]}},
                                                            "advice": ["<script>x</script> vanishing"]}))
    page = build_report(result.run_dir)
    parser = parse_page(page)
    check_self_contained(parser)
    text = "".join(parser.text)
    assert hostile_column in text and hostile_label in text  # shown as text ...
    assert "<script>" not in page and "<img src=x" not in page  # ... never as markup
    assert "<b>dense</b>" in text and "0.2" in text  # the health table: last value per layer
    assert [attrs.get("id") for tag, attrs in parser.tags if tag == "section"][-2:] == ["health", "environment"]


def test_report_of_a_run_without_views_or_health(multitask_run: Path, workdir: Path) -> None:
    run = workdir / "bare"
    shutil.copytree(multitask_run, run)
    (run / EVALUATION_FILE).unlink()
    (run / "health.json").write_text("{not json")
    page = build_report(run)
    assert f"mlpdesigner evaluate {run} --views" in page
    assert "health.json:1:2: Expected JSON" in page
    (run / "run.json").write_text("[]")
    with pytest.raises(UserError, match="run.json: Expected a JSON object"):
        build_report(run)


def test_report_draws_the_pictures_a_run_has_not_drawn_yet(multitask_run: Path, workdir: Path) -> None:
    """A finished run holds the views' data only (issue 18); its report still shows every output's picture."""
    run = workdir / "undrawn"
    shutil.copytree(multitask_run, run)
    shutil.rmtree(run / EVALUATION_FOLDER, ignore_errors=True)
    views = read_evaluation(run)
    assert views is not None
    views["figures"] = {}
    (run / EVALUATION_FILE).write_text(json.dumps(views))
    images = check_self_contained(parse_page(build_report(run)))
    assert len(images) == 2 + 4  # the diagram, the training curves, one figure per output
    stored = read_evaluation(run)
    assert stored is not None and set(stored["figures"]) == {"value", "answer", "kind", "tags"}
    assert all((run / files["svg"]).is_file() for files in stored["figures"].values())
