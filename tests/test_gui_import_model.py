"""File ▸ Open model… in the designer: a .keras model comes in as a design with its trained weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gui_helpers import close_clean, make_window

pytest.importorskip("pytestqt")


def _menu_action(window, menu_title: str, text: str):
    for menu_action in window.menuBar().actions():
        if menu_action.text().replace("&", "") == menu_title:
            for action in menu_action.menu().actions():
                if action.text() == text:
                    return action
    raise AssertionError(f"no {menu_title} ▸ {text}")


@pytest.mark.slow
def test_open_model_imports_the_design_and_its_run(qtbot, tmp_path: Path) -> None:
    from mlpdesigner.compile import build_model
    from mlpdesigner.resources import example_path
    from tests._import_support import perturb

    model = build_model(example_path("wide_deep_aux_output"))
    perturb(model)
    model.save(tmp_path / "trained.keras")
    window = make_window(qtbot, tmp_path, example="housing_regression")
    close_clean(window)
    spec_path = tmp_path / "designs" / "imported.json"
    spec_path.parent.mkdir()
    window.dialogs.paths += [str(tmp_path / "trained.keras"), str(spec_path)]

    _menu_action(window, "File", "Open model…").trigger()
    qtbot.waitUntil(lambda: window.document.path == spec_path, timeout=180_000)

    assert window.dialogs.errors == []
    assert window.document.spec.ok
    assert window.document.raw["network"]["topology"] == "wide_deep"
    assert [o["name"] for o in window.document.raw["outputs"]] == ["main", "aux"]
    runs = list((spec_path.parent / "runs").iterdir())
    assert len(runs) == 1
    assert json.loads((runs[0] / "run.json").read_text())["status"] == "imported"
    window.train_view.refresh_history()
    assert [r.path for r in window.train_view.records] == [runs[0].resolve()]


def test_open_model_shows_the_refusal(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip archive")
    window = make_window(qtbot, tmp_path, example="housing_regression")
    close_clean(window)
    before = window.document.raw
    window.dialogs.paths += [str(bad), str(tmp_path / "broken.json")]

    _menu_action(window, "File", "Open model…").trigger()
    qtbot.waitUntil(lambda: bool(window.dialogs.errors), timeout=120_000)

    title, message = window.dialogs.errors[0]
    assert title == "Cannot import the model"
    assert "broken.keras" in message and "zip" in message
    assert "Traceback" not in message
    assert window.document.raw == before
    assert not (tmp_path / "broken.json").exists()
