"""Form <-> JSON <-> canvas sync, shared selection, problem marks and navigation."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import close_clean, make_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from mlpdesigner.gui.canvas import layout  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path, example="wide_deep_aux_output")
    yield win
    close_clean(win)


def test_canvas_shows_every_layer_with_shape_and_params(window) -> None:
    plan = window.document.spec.plan
    assert set(window.canvas.blocks) == {n.name for n in plan.nodes}
    dense = window.canvas.blocks["dense_1"]
    assert "Dense 30 · relu" in dense.toolTip() and "210 params" in dense.toolTip()
    assert "(None, 30)" in dense.toolTip()


def test_wide_and_deep_layout_side_by_side_with_aux_off_the_deep_path(window) -> None:
    places = layout(window.document.spec.plan, window.document.raw)
    wide_lane, deep_lane = places["wide"][0], places["deep"][0]
    assert wide_lane < deep_lane
    assert places["dense_1"][0] == places["dense_2"][0] == deep_lane
    merge_lane, merge_rank = places["wide_deep"]
    assert wide_lane < merge_lane < deep_lane
    assert merge_rank > places["dense_2"][1]
    assert places["aux"][0] > deep_lane
    assert places["main"][0] == merge_lane and places["main"][1] > merge_rank


def test_selection_is_shared_between_canvas_outline_and_inspector(window) -> None:
    block = window.canvas.blocks["dense_2"]
    block.setSelected(True)
    assert window.document.selection == "/network/deep/layers/1"
    assert window.layers.list.currentItem().data(Qt.ItemDataRole.UserRole) == "/network/deep/layers/1"
    assert window.inspector.fields["/network/deep/layers/1/units"].value() == 30
    # outline -> canvas
    outline = window.layers.list
    row = next(r for r in range(outline.count()) if outline.item(r).data(Qt.ItemDataRole.UserRole) == "/outputs/1")
    outline.setCurrentRow(row)
    assert window.document.selection == "/outputs/1"
    assert window.canvas.blocks["aux"].selected_look
    assert not window.canvas.blocks["dense_2"].selected_look
    assert "/outputs/1/task" in window.inspector.fields


def test_form_edit_updates_json_and_canvas(window) -> None:
    window.document.select("/network/deep/layers/0")
    window.inspector.fields["/network/deep/layers/0/units"].setValue(16)
    assert '"units": 16' in window.json_view.toPlainText()
    assert window.canvas.blocks["dense_1"].node.shape == (16,)
    assert window.canvas.blocks["dense_2"].node.params == 16 * 30 + 30
    assert "16" in window.layers.list.currentItem().text()


def test_json_edit_updates_form_and_canvas(window, qtbot) -> None:
    window.document.select("/network/deep/layers/1")
    text = window.json_view.toPlainText()
    start = text.index('"units": 30', text.index('"units": 30') + 1)
    window.json_view.setPlainText(text[:start] + '"units": 8' + text[start + len('"units": 30'):])
    assert window.json_view.pending
    qtbot.waitUntil(lambda: window.canvas.blocks.get("dense_2") is not None
                    and window.canvas.blocks["dense_2"].node.shape == (8,), timeout=3000)
    assert window.inspector.fields["/network/deep/layers/1/units"].value() == 8
    assert window.summary.table.item(3, 2).text() == "(None, 8)" or any(
        window.summary.table.item(r, 2).text() == "(None, 8)" for r in range(window.summary.table.rowCount())
    )


def test_typing_invalid_json_marks_the_line_and_keeps_the_text(window, qtbot) -> None:
    text = window.json_view.toPlainText()
    broken = text.replace('"units": 30,', '"units": 30,,', 1)
    window.json_view.setPlainText(broken)
    qtbot.waitUntil(lambda: window.document.text == broken, timeout=3000)
    problem = window.document.spec.problems[0]
    assert problem.code == "E103" and problem.line is not None
    assert problem.line in window.json_view.line_problems
    assert window.json_view.toPlainText() == broken
    assert not window.inspector.fields and not window.layers.list.isEnabled()
    assert window.canvas.blocks == {}


def test_semantic_error_is_listed_and_navigates_to_form_and_line(window, qtbot) -> None:
    doc = window.document
    doc.apply([{"op": "replace", "path": "/network/deep/inputs/0", "value": "nowhere"}], "break")
    errors = [p for p in window.problems.problems if p.is_error]
    assert any(p.code == "E302" and p.path == "/network/deep/inputs/0" for p in errors)
    assert window.canvas.blocks == {}  # no diagram while there are errors
    doc.apply([{"op": "replace", "path": "/network/deep/inputs/0", "value": "deep"}], "fix")
    doc.apply([{"op": "replace", "path": "/outputs/1/units", "value": 0}], "bad units")
    row = next(i for i, p in enumerate(window.problems.problems) if p.path == "/outputs/1/units")
    problem = window.problems.problems[row]
    assert problem.line is not None
    item = window.problems.tree.topLevelItem(row)
    window.problems.tree.itemDoubleClicked.emit(item, 0)
    assert doc.selection == "/outputs/1"
    assert window.inspector.fields["/outputs/1/units"].hasFocus() or \
        window.inspector.focus_field("/outputs/1/units") is window.inspector.fields["/outputs/1/units"]
    assert window.json_view.textCursor().blockNumber() + 1 == problem.line


def test_advice_navigation_selects_the_canvas_block(window) -> None:
    advice = next(p for p in window.problems.problems if p.code == "W405")
    window.navigate_to(advice)
    assert window.document.selection == subject(advice.path)
    assert window.canvas.block_for(advice.path).selected_look
    assert window.json_view.textCursor().blockNumber() + 1 == advice.line


def subject(path: str) -> str:
    from mlpdesigner.spec.operations import subject_pointer

    return subject_pointer(path)


def test_summary_panel_matches_the_plan(window) -> None:
    plan = window.document.spec.plan
    assert window.summary.table.rowCount() == len(plan.nodes)
    assert f"{plan.total_params:,}" in window.summary.totals.text()


def test_export_png_and_svg(window, tmp_path) -> None:
    window.dialogs.paths += [str(tmp_path / "d.png"), str(tmp_path / "d.svg")]
    assert window.export_diagram("png")
    assert window.export_diagram("svg")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "d.svg").read_text("utf-8")
    assert "<svg" in svg and "dense_1" in svg


def test_zoom_and_fit(window) -> None:
    window.canvas.reset_zoom()
    window.canvas.zoom(2.0)
    assert window.canvas.transform().m11() == pytest.approx(2.0)
    window.canvas.zoom(100)
    assert window.canvas.transform().m11() == pytest.approx(4.0)
    window.canvas.fit()
    assert window.canvas.transform().m11() <= 1.0


def test_mouse_click_on_a_block_selects_it(window, qtbot) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.canvas.fit()
    block = window.canvas.blocks["aux"]
    point = window.canvas.mapFromScene(block.pos())
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.document.selection == "/outputs/1"
    assert "/outputs/1/task" in window.inspector.fields
