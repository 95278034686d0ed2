"""Files and safety: templates, dirty flag, save, recovery, broken files, errors, screenshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, copy_example, make_window  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from mlpdesigner.gui.gallery import TemplateGallery, templates  # noqa: E402
from mlpdesigner.gui.main_window import MainWindow  # noqa: E402
from mlpdesigner.resources import example_names, example_path  # noqa: E402
from mlpdesigner.spec import read_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", example_names())
def test_gallery_creates_each_design(qtbot, tmp_path, name) -> None:
    window = make_window(qtbot, tmp_path)
    window.dialogs.templates.append(name)
    assert window.new_from_template()
    doc = window.document
    expected = json.loads(example_path(name).read_text("utf-8"))
    if "data" in expected:  # issue 12: the bundled data path is made absolute, so a copy finds it anywhere
        expected["data"]["path"] = (example_path(name).parent / expected["data"]["path"]).resolve().as_posix()
        assert Path(doc.raw["data"]["path"]).is_file()
    assert doc.raw == expected
    assert doc.path is None and not doc.dirty
    assert doc.spec.ok and window.canvas.blocks
    assert name in window.windowTitle()
    close_clean(window)


def test_gallery_lists_descriptions(qtbot) -> None:
    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    assert gallery.list.count() == len(templates()) >= 10  # ten reference designs, plus any added
    gallery.select("selu_self_normalizing")
    assert gallery.chosen().name == "selu_self_normalizing"
    assert "SELU" in gallery.description.text() or "self-normalizing" in gallery.description.text().lower()
    kinds = {(t.topology, t.tasks) for t in templates()}
    assert ("wide_deep", ("regression", "regression")) in kinds


def test_dirty_title_save_and_clean(qtbot, tmp_path) -> None:
    path = copy_example(tmp_path, "housing_regression")
    window = make_window(qtbot, tmp_path, file=path)
    assert not window.document.dirty and not window.isWindowModified()
    window.document.select("/network/layers/0")
    window.inspector.fields["/network/layers/0/units"].setValue(12)
    assert window.document.dirty and window.isWindowModified()
    assert "[*]" in window.windowTitle()
    assert window.save()
    assert not window.document.dirty
    assert read_file(path).raw["network"]["layers"][0]["units"] == 12
    assert path.read_text("utf-8").endswith("}\n")
    window.document.undo()
    assert window.document.dirty
    window.document.redo()
    assert not window.document.dirty
    assert str(path.resolve()) == window.recent_files()[0]
    close_clean(window)


def test_save_as_and_recent_files(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path, example="binary_batchnorm_dropout")
    target = tmp_path / "mine.json"
    window.dialogs.paths.append(str(target))
    assert window.save()  # untitled: asks for a name
    assert window.document.path == target.resolve()
    assert read_file(target).ok
    assert window.recent_files()[0] == str(target.resolve())
    assert window.recent_menu.actions()[0].text() == str(target.resolve())


def test_save_to_read_only_place_keeps_the_document_dirty(qtbot, tmp_path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/mlpdesigner-cannot-write.json")
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
        target = folder / "x.json"
    window = make_window(qtbot, tmp_path, example="housing_regression")
    window.document.apply([{"op": "replace", "path": "/name", "value": "changed"}], "rename")
    window.dialogs.paths.append(str(target))
    assert not window.save_as()
    assert window.dialogs.errors and "Cannot save" in window.dialogs.errors[0][0]
    assert window.document.dirty and window.document.path is None
    close_clean(window)


def test_close_asks_before_losing_work(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path, example="housing_regression")
    window.show()
    window.document.apply([{"op": "replace", "path": "/name", "value": "changed"}], "rename")
    window.dialogs.discard_answers.append("cancel")
    assert not window.close()
    assert window.dialogs.asked_discard == 1 and window.isVisible()
    target = tmp_path / "saved.json"
    window.dialogs.discard_answers.append("save")
    window.dialogs.paths.append(str(target))
    assert window.close()
    assert read_file(target).raw["name"] == "changed"


def test_autosave_and_recovery_after_a_crash(qtbot, tmp_path) -> None:
    crashed = make_window(qtbot, tmp_path, example="housing_regression")
    assert crashed.autosave() is None  # clean: nothing to recover
    crashed.document.apply([{"op": "replace", "path": "/name", "value": "unsaved_work"}], "rename")
    recovery_file = crashed.autosave()
    assert recovery_file is not None and recovery_file.is_file()
    # the "crashed" window never closes normally; a new start finds its file
    fresh = make_window(qtbot, tmp_path)
    fresh.dialogs.recovery_answers.append("restore")
    assert fresh.offer_recovery()
    assert fresh.document.raw["name"] == "unsaved_work"
    assert fresh.document.dirty
    assert not recovery_file.exists()
    assert fresh.recovery.file.is_file()  # the restored work is protected again at once
    close_clean(crashed)
    fresh.dialogs.discard_answers.append("discard")
    assert fresh.close()
    third = make_window(qtbot, tmp_path)
    assert third.recovery.leftovers() == []


def test_clean_close_removes_the_recovery_file(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path, example="housing_regression")
    window.show()
    window.document.apply([{"op": "replace", "path": "/name", "value": "x"}], "rename")
    file = window.autosave()
    window.dialogs.discard_answers.append("discard")
    assert window.close()
    assert not file.exists()


def test_recovery_timer_interval(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path)
    assert window.autosave_timer.interval() == 30_000 and window.autosave_timer.isActive()


@pytest.mark.parametrize(
    "content, code",
    [
        (b'{"format": "mlpdesigner/1", "name": "x",,}', "E103"),
        (b"not json at all", "E103"),
        (b'{"format": "mlpdesigner/1", "name": "x"}', "E202"),
        (b"\xff\xfe{\x00}\x00", "E102"),
    ],
)
def test_broken_files_open_in_the_json_view(qtbot, tmp_path, content, code) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    window = make_window(qtbot, tmp_path, file=path)
    assert window.tabs.currentWidget() is window.json_view or code == "E202"
    assert any(p.code == code for p in window.document.spec.problems)
    assert any(p.code == code for p in window.problems.problems)
    if code != "E102":
        assert window.json_view.toPlainText() == content.decode("utf-8")
        assert window.json_view.line_problems
    assert window.canvas.blocks == {}
    close_clean(window)


def test_missing_file_shows_an_error(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path)
    assert not window.open_file(tmp_path / "nope.json")
    assert "Cannot open" in window.dialogs.errors[0][0]


def test_exception_hook_shows_a_message_and_keeps_the_window(qtbot, tmp_path) -> None:
    from mlpdesigner.gui.app import install_exception_hook

    window = make_window(qtbot, tmp_path, example="housing_regression")
    previous = install_exception_hook(window)
    try:
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    title, message = window.dialogs.errors[-1]
    assert title == "Unexpected error" and "boom in a slot" in message and "Traceback" not in message
    assert window.document.spec.ok


def test_window_layout_is_remembered(qtbot, tmp_path) -> None:
    window = make_window(qtbot, tmp_path)
    window.show()
    window.summary_dock.hide()
    window.save_layout()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    again = MainWindow(settings=settings, dialogs=window.dialogs, recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(again)
    again.show()
    assert not again.summary_dock.isVisible()
    assert again.problems_dock.isVisible()


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_tensorflow_is_not_imported_by_opening_and_editing(tmp_path) -> None:
    code = f"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from PySide6.QtCore import QSettings
import mlpdesigner.gui.main_window as mw
window = mw.MainWindow(settings=QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat),
                       recovery_dir={str(tmp_path / 'r')!r})
window.open_example("wide_deep_aux_output")
window.document.select("/network/deep/layers/0")
window.layers.add_layer("dropout")
window.document.select("/network/deep/layers/0")
window.inspector.fields["/network/deep/layers/0/units"].setValue(40)
window.problems.select_row(0)
window.problems.apply_selected_fix()
window.document.undo()
window.document.undo_stack.setClean()
window.new_from_template("fashion_mnist_classifier")
window.canvas.export_svg({str(tmp_path / 'x.svg')!r})
window.document.undo_stack.setClean()
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx', 'onnxruntime'))
print("HEAVY", heavy)
"""
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_screenshot_command(tmp_path) -> None:
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "mlpdesigner", "gui", str(example_path("housing_regression")), "--screenshot", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
