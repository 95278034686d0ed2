"""The designer's main window: canvas, outline, inspector, JSON view, problems, summary, files."""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QWidget,
)

from ..data.checks import LOCATE_DATA, resolve_data_path
from ..resources import example_path
from ..runfolder import RunStatus
from ..spec.operations import layer_list, layers_pointer, subject_pointer
from ..spec.problems import Problem
from .canvas import NetworkCanvas
from .data_tab import DataTab
from .dialogs import Dialogs
from .document import Document
from .export_dialog import ExportDialog
from .gallery import BLANK, blank_design, templates
from .health_view import HealthModel
from .import_model import open_model
from .inspector import Inspector
from .json_view import JsonView
from .layer_list import LayerPanel
from .panels import ProblemsPanel, SummaryPanel
from .recovery import RecoveryStore
from .run_control import RunController
from .search_view import SearchView
from .train_view import TrainView

APP_NAME = "MLP Designer"
#: Milliseconds between autosaves of unsaved work to the recovery file.
AUTOSAVE_MS = 30_000
MAX_RECENT = 10
#: The docks' usual widths (the inspector's forms need room for a label and a field).
OUTLINE_WIDTH, INSPECTOR_WIDTH = 220, 370
DEFAULT_EXAMPLE = "wide_deep_aux_output"


#: Advice that means the design will not learn what it is meant to: the status bar says so instead of "valid".
SERIOUS_ADVICE = ("W401", "W402", "W403")


def _short(message: str, limit: int = 90) -> str:
    first = message.splitlines()[0] if message else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def default_recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".mlpdesigner") / "recovery"


class MainWindow(QMainWindow):
    """One design in one window."""

    def __init__(
        self,
        *,
        settings: QSettings | None = None,
        dialogs: Dialogs | None = None,
        recovery_dir: str | os.PathLike[str] | None = None,
        autosave_ms: int = AUTOSAVE_MS,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("MLPDesigner", "designer")
        self.dialogs = dialogs or Dialogs()
        self.recovery = RecoveryStore(recovery_dir or default_recovery_dir())
        self.document = Document(self)
        self.setObjectName("main_window")
        self.resize(1280, 800)

        self.canvas = NetworkCanvas(self.document)
        self.canvas.setObjectName("canvas")
        self.json_view = JsonView(self.document)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("central_tabs")
        self.tabs.addTab(self.canvas, "Diagram")
        self.tabs.addTab(self.json_view, "JSON")
        self.data_tab = DataTab(self.document, chooser=lambda parent, folder: self.dialogs.data_path(parent, folder))
        self.tabs.addTab(self.data_tab, "Data")
        #: Starts and ends the training and export children (for the training view and the export dialog).
        self.runs = RunController(self.document, save_first=self.save, parent=self)
        self.train_view = TrainView(self.document, self.runs, report_error=self._report_run_error)
        self.train_view.setObjectName("train_view")
        self.train_view.open_url = lambda url: self.dialogs.open_url(url)
        self.train_view.export_requested.connect(self.open_export_dialog)
        self.train_view.run_started.connect(lambda _run: self._update_run_actions())
        self.train_view.run_finished.connect(self._run_finished)
        self.tabs.addTab(self.train_view, "Training")
        self.export_dialog: ExportDialog | None = None
        self.setCentralWidget(self.tabs)

        self.layers = LayerPanel(self.document)
        self.inspector = Inspector(self.document)
        self.health = HealthModel(self.document, self)  # the last run's layer health on the diagram and inspector
        self.health.watch(self.train_view)
        self.canvas.set_health(self.health)
        self.inspector.set_health(self.health)
        self.problems = ProblemsPanel(self.document)
        self.summary = SummaryPanel(self.document)
        self.outline_dock = self._dock("Outline", self.layers, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.problems_dock = self._dock("Problems and advice", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.summary_dock = self._dock("Summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.problems_dock, self.summary_dock)
        self.search_view = SearchView(self.document)
        self.search_view.open_design.connect(lambda path: self.maybe_save() and self.open_file(path))
        self.search_dock = self._dock("Search", self.search_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.summary_dock, self.search_dock)
        self.problems_dock.raise_()
        self._layout_restored = False
        #: The undo index when the user agreed to close while a child ran (the close finishes when it ends).
        self._close_requested_at: int | None = None
        for dock in (self.outline_dock, self.inspector_dock):
            dock.setMinimumWidth(200)

        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self._build_actions()
        self.problems.navigate.connect(self.navigate_to)
        self.problems.action_requested.connect(self._problem_action)
        self.document.changed.connect(self._update_status)
        self.document.dirty_changed.connect(lambda _dirty: self._update_title())
        self.document.path_changed.connect(self._update_title)
        self.document.changed.connect(self._update_title)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self._restore_layout()
        for keys, forward in (("Tab", True), ("Shift+Tab", False), ("Shift+Backtab", False)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(lambda f=forward: self._tab_pressed(f))
        self._update_title()
        self._update_status()

    # ----- construction --------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.lower().replace(" ", "_") + "_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu: QMenu, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "New from template…", self.new_from_template, QKeySequence.StandardKey.New,
                     "Start a design from one of the starter designs")
        self._action(file_menu, "Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open model…", lambda: open_model(self),
                     tip="Bring in a .keras or ONNX model as a design, with its trained weights")
        self.recent_menu = file_menu.addMenu("Open recent")
        self.save_action = self._action(file_menu, "Save", self.save, QKeySequence.StandardKey.Save)
        self._action(file_menu, "Save as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        self._action(file_menu, "Export diagram as PNG…", lambda: self.export_diagram("png"))
        self._action(file_menu, "Export diagram as SVG…", lambda: self.export_diagram("svg"))
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, "Ctrl+Q")

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self.document.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.disconnect()
        self.undo_action.triggered.connect(self.document.undo)
        self.redo_action = self.document.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        # The toolbar shows the short words, so it does not shift after every edit; the menu and tooltip say what.
        self.undo_action.setIconText("Undo")
        self.redo_action.setIconText("Redo")
        self.redo_action.triggered.disconnect()
        self.redo_action.triggered.connect(self.document.redo)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addMenu(self.layers.add_menu)
        for action in (self.layers.insert_action, self.layers.duplicate_action, self.layers.delete_action,
                       self.layers.up_action, self.layers.down_action):
            edit_menu.addAction(action)
        for action in (self.layers.delete_action, self.layers.up_action, self.layers.down_action):
            self.canvas.addAction(action)
        self.addActions(self.layers.actions_for_window())
        self._connect_structure(edit_menu)

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "Zoom in", lambda: self.canvas.zoom(1.25), QKeySequence.StandardKey.ZoomIn)
        self._action(view_menu, "Zoom out", lambda: self.canvas.zoom(0.8), QKeySequence.StandardKey.ZoomOut)
        self._action(view_menu, "Actual size", self.canvas.reset_zoom, "Ctrl+0")
        self._action(view_menu, "Fit to view", self.canvas.fit, "Ctrl+F")
        self.collapse_action = self._action(
            view_menu, "Collapse repeated layers", self.canvas.set_collapse_repeats,
            tip="In a large network, draw a run of identical layers as one block (×N)")
        self.collapse_action.setCheckable(True)
        self.collapse_action.setChecked(self.canvas.collapse_repeats)
        self.wrap_action = self._action(view_menu, "Wrap long networks into columns", self.canvas.set_wrap_long,
                                        tip="Draw a long sequential network in side-by-side columns")
        self.wrap_action.setCheckable(True)
        self.wrap_action.setChecked(self.canvas.wrap_long)
        view_menu.addSeparator()
        self._action(view_menu, "Diagram", lambda: self.tabs.setCurrentWidget(self.canvas), "Ctrl+1")
        self._action(view_menu, "JSON", lambda: self.tabs.setCurrentWidget(self.json_view), "Ctrl+2")
        self._action(view_menu, "Data", lambda: self.tabs.setCurrentWidget(self.data_tab), "Ctrl+3")
        self._action(view_menu, "Training", lambda: self.tabs.setCurrentWidget(self.train_view), "Ctrl+4")
        view_menu.addSeparator()
        self._action(view_menu, "Next pane", lambda: self.cycle_pane(1), "F6",
                     "Move the keyboard focus: outline, diagram, inspector, problems")
        self._action(view_menu, "Previous pane", lambda: self.cycle_pane(-1), "Shift+F6")
        for dock in (self.outline_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.search_dock):
            view_menu.addAction(dock.toggleViewAction())

        run_menu = bar.addMenu("&Run")
        # A lambda: triggered(bool) would otherwise arrive as ``epochs=False`` and hide the Epochs box.
        self.train_action = self._action(run_menu, "Train", lambda: self.train(), "F5",
                                         "Train the design on its data in a separate process")
        self.stop_action = self._action(run_menu, "Stop training", self.train_view.stop_training, "Shift+F5",
                                        "Stop the run after the current batch")
        run_menu.addSeparator()
        self.export_action = self._action(
            run_menu, "Export model…", lambda: self.open_export_dialog(self.train_view.selected_run_dir()),
            "Ctrl+E", "Export a trained run or the design to ONNX, .keras or Python")

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addSeparator()
        for kind in ("dense", "dropout", "batch_normalization", "activation"):
            toolbar.addAction(self.layers.add_actions[kind])
        toolbar.addSeparator()
        self._tool(toolbar, "Fit", self.canvas.fit)
        self._tool(toolbar, "Zoom +", lambda: self.canvas.zoom(1.25))
        self._tool(toolbar, "Zoom −", lambda: self.canvas.zoom(0.8))
        toolbar.addSeparator()
        toolbar.addAction(self.train_action)
        toolbar.addAction(self.stop_action)
        toolbar.addAction(self.export_action)
        self._update_run_actions()
        self._refresh_recent_menu()

    def _connect_structure(self, edit_menu: QMenu) -> None:
        """Edit ▸ Structure, the diagram's context menu, Rename… through the inspector, notes in the status bar."""
        structure = self.layers.structure
        edit_menu.addMenu(structure.menu)
        structure.attach_canvas(self.canvas)
        structure.context_widgets(self.canvas)

        def rename(ptr: str) -> None:
            self.inspector_dock.show()
            self.inspector.start_editing(ptr)

        structure.attach_rename(rename)
        for source in (structure.message, self.inspector.message):
            source.connect(lambda text: self.statusBar().showMessage(text, 10000))

    def _tool(self, toolbar: Any, text: str, slot: Any) -> None:
        action = QAction(text, self)
        action.triggered.connect(slot)
        toolbar.addAction(action)

    # ----- keyboard ------------------------------------------------------------------------------
    def panes(self) -> list[QWidget]:
        """The panes in keyboard order: outline, the central tab's view (diagram), inspector, problems."""
        return [self.layers, self.tabs.currentWidget(), self.inspector, self.problems]

    @staticmethod
    def _focusable(pane: QWidget) -> list[QWidget]:
        """The widgets of a pane that Tab stops at, in the pane's own focus-chain order."""
        found = []
        if pane.focusPolicy() & Qt.FocusPolicy.TabFocus and pane.isVisible() and pane.isEnabled():
            found.append(pane)
        widget = pane.nextInFocusChain()
        seen = 0
        while widget is not pane and widget is not None and seen < 2000:
            seen += 1
            target = widget
            while target.focusProxy() is not None:  # a view's viewport, a spin box's line edit
                target = target.focusProxy()
            if ((target is pane or pane.isAncestorOf(target)) and target.isVisible() and target.isEnabled()
                    and target.focusPolicy() & Qt.FocusPolicy.TabFocus and target not in found):
                found.append(target)
            widget = widget.nextInFocusChain()
        return found

    def _pane_index(self, widget: QWidget | None) -> int | None:
        for index, pane in enumerate(self.panes()):
            if widget is not None and (widget is pane or pane.isAncestorOf(widget)):
                return index
        return None

    def cycle_pane(self, step: int = 1) -> QWidget | None:
        """Move the focus to the next (or previous) pane's first field (F6, Shift+F6)."""
        panes = self.panes()
        current = self._pane_index(QApplication.focusWidget())
        start = -1 if current is None and step > 0 else (0 if current is None else current)
        for offset in range(1, len(panes) + 1):
            pane = panes[(start + step * offset) % len(panes)]
            targets = self._focusable(pane)
            if targets:
                targets[0].setFocus(Qt.FocusReason.OtherFocusReason)
                return targets[0]
        return None

    def _tab_pressed(self, forward: bool) -> None:
        """Tab walks outline -> diagram -> inspector -> problems (Shift+Tab back), across the docks.

        Bound as window shortcuts, so a text editor that takes Tab itself (the JSON view) keeps it.
        """
        focus = QApplication.focusWidget()
        if focus is None or not self._tab_to_next(focus, forward):
            QMainWindow.focusNextPrevChild(self, forward)

    def _tab_to_next(self, focus: QWidget, forward: bool) -> bool:
        if self._pane_index(focus) is None:
            return False
        chain = [w for pane in self.panes() for w in self._focusable(pane)]
        if focus not in chain:
            return False
        target = chain[(chain.index(focus) + (1 if forward else -1)) % len(chain)]
        target.setFocus(Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason)
        return True

    # ----- title and status ----------------------------------------------------------------------
    def _update_title(self) -> None:
        name = self.document.display_name
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.dirty)

    def _update_status(self) -> None:
        """The permanent status: errors (the first one named), serious advice, or valid with the parameter count."""
        spec = self.document.spec
        errors = spec.errors
        serious = [p for p in spec.advice if p.code in SERIOUS_ADVICE]
        if errors:
            text = f"{len(errors)} error{'s' * (len(errors) != 1)}: {_short(errors[0].message)}"
            color = "#dc2626"
        elif serious:
            text = f"not ready: {_short(serious[0].message)}" + (f" (+{len(serious) - 1} more)" if len(serious) > 1
                                                                   else "")
            color = "#b45309"
        elif spec.plan is not None:
            text = f"valid · {spec.plan.total_params:,} params · {len(spec.advice)} advice"
            color = "#15803d"
        else:
            text, color = "", "#374151"
        self.status_label.setText(text)
        self.status_label.setToolTip("\n".join(p.message for p in (errors or serious)))
        self.status_label.setStyleSheet(f"color: {color};")

    # ----- files ---------------------------------------------------------------------------------
    def open_file(self, path: str | os.PathLike[str]) -> bool:
        """Open a design; broken files open in the JSON view with their problems."""
        try:
            self.document.load_file(path)
        except OSError as exc:
            self.dialogs.error(self, "Cannot open the file", f"Cannot read {path}: {exc.strerror or exc}")
            return False
        self._add_recent(str(Path(path).resolve()))
        self._after_load()
        return True

    def _after_load(self) -> None:
        if not self.document.editable:
            self.tabs.setCurrentWidget(self.json_view)
        else:
            self.tabs.setCurrentWidget(self.canvas)
        if not self.document.spec.ok:
            first = next(p for p in self.document.spec.problems if p.is_error)
            self.json_view.go_to(first.line, first.column)
        elif layers_pointer(self.document.raw) and layer_list(self.document.raw):
            self.document.select(f"{layers_pointer(self.document.raw)}/0")
        self.canvas._fit_pending = True
        self.canvas.fit()

    def open_example(self, name: str = DEFAULT_EXAMPLE) -> None:
        """Open a starter design as an unsaved copy; its bundled data path is made absolute, so the copy
        finds its data wherever it is saved."""
        path = example_path(name)
        text = path.read_text("utf-8")
        try:
            raw = json.loads(text)
        except ValueError:
            raw = None
        data_file = resolve_data_path(raw, path)
        if data_file is not None and raw["data"]["path"] != data_file.as_posix():
            raw["data"]["path"] = data_file.as_posix()
            self.document.load_dict(raw)
        else:
            self.document.load_text(text)
        self._after_load()

    def new_from_template(self, name: str | None = None) -> bool:
        """Start a new, untitled design from a starter design (asks which when ``name`` is None)."""
        if not self.maybe_save():
            return False
        name = name or self.dialogs.choose_template(self)
        if not name:
            return False
        if name not in {t.name for t in templates()}:
            raise KeyError(name)
        if name == BLANK:
            self.document.load_dict(blank_design())
            self._after_load()
        else:
            self.open_example(name)
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        folder = str(self.document.path.parent) if self.document.path else str(Path.cwd())
        path = self.dialogs.open_path(self, folder)
        return self.open_file(path) if path else False

    def save(self) -> bool:
        """Save to the current file (asks for a name when there is none)."""
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        suggested = str(self.document.path or Path.cwd() / f"{self.document.spec.name}.json")
        path = self.dialogs.save_path(self, suggested)
        return self._save_to(Path(path)) if path else False

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.document.save(path)
        except OSError as exc:
            self.dialogs.error(self, "Cannot save", f"Cannot save to {path}: {exc.strerror or exc}.\n"
                                                    "The design is still open and unsaved; try another place.")
            return False
        self.recovery.clear()
        self._add_recent(str(saved))
        self.statusBar().showMessage(f"Saved {saved}", 4000)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved work (a value still being typed counts); True when it is fine to go on."""
        self.document.flush()
        if not self.document.dirty:
            return True
        answer = self.dialogs.confirm_discard(self, self.document.display_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def export_diagram(self, kind: str) -> bool:
        stem = self.document.path.stem if self.document.path else self.document.spec.name
        file_filter = "PNG image (*.png)" if kind == "png" else "SVG image (*.svg)"
        path = self.dialogs.export_path(self, str(Path.cwd() / f"{stem}.{kind}"), file_filter)
        if not path:
            return False
        try:
            (self.canvas.export_png if kind == "png" else self.canvas.export_svg)(path)
        except OSError as exc:
            self.dialogs.error(self, "Cannot export", str(exc))
            return False
        self.statusBar().showMessage(f"Exported {path}", 4000)
        return True

    # ----- recent files --------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        files = [path] + [f for f in self.recent_files() if f != path]
        self.settings.setValue("recent_files", files[:MAX_RECENT])
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for file in files:
            self.recent_menu.addAction(file, lambda f=file: self.maybe_save() and self.open_file(f))
        self.recent_menu.setEnabled(bool(files))

    # ----- recovery ------------------------------------------------------------------------------
    def autosave(self) -> Path | None:
        """Write unsaved work to this window's recovery file (nothing when clean)."""
        if not self.document.dirty:
            self.recovery.clear()
            return None
        self.document.flush()
        return self.recovery.write(self.document.text, str(self.document.path) if self.document.path else None)

    def offer_recovery(self) -> bool:
        """Offer the newest recovery file left by a crash; True when one was restored."""
        for item in self.recovery.leftovers():
            answer = self.dialogs.offer_recovery(self, item)
            if answer == "restore":
                path = Path(item.original_path) if item.original_path else None
                self.document.load_text(item.text, path, dirty=True)
                self.recovery.discard(item)
                self._after_load()
                self.autosave()
                return True
            if answer == "discard":
                self.recovery.discard(item)
            else:
                return False
        return False

    # ----- navigation ----------------------------------------------------------------------------
    def navigate_to(self, problem: Problem) -> None:
        """Go to a problem's place: its canvas block and form field, and its line in the JSON text."""
        self.json_view.go_to(problem.line, problem.column)
        subject = subject_pointer(problem.path)
        if not self.document.editable or not subject or self.tabs.currentWidget() is self.json_view:
            self.tabs.setCurrentWidget(self.json_view)
            self.json_view.setFocus()
            return
        self.document.select(subject)
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        block = self.canvas.block_for(subject)
        if block is not None:
            self.canvas.centerOn(block)
        self.inspector.focus_field(problem.path)

    def _problem_action(self, problem: Problem) -> None:
        """A problem's fix that needs the user: locate a missing data file."""
        if problem.extra.get("action") == LOCATE_DATA:
            self.tabs.setCurrentWidget(self.data_tab)
            self.data_tab.choose_file()

    # ----- training and export -------------------------------------------------------------------
    def train(self, epochs: int | None = None) -> bool:
        """Train the design in a child process and show the training view; False when it cannot start."""
        self.tabs.setCurrentWidget(self.train_view)
        run = self.train_view.start_training(epochs)
        self._update_run_actions()
        return run is not None

    def _run_finished(self, state: Any) -> None:
        self._update_run_actions()
        if state.status is RunStatus.FAILED:
            self.statusBar().showMessage(f"Training failed: {(state.message or '').splitlines()[0]}", 15000)
        else:
            where = f" ({state.run_dir})" if state.run_dir else ""
            self.statusBar().showMessage(f"Training {state.status}{where}", 15000)

    def _report_run_error(self, _title: str, message: str) -> None:
        self.statusBar().showMessage((message.splitlines() or [""])[0], 15000)

    def _update_run_actions(self) -> None:
        training = self.runs.training
        self.train_action.setEnabled(not training)
        self.stop_action.setEnabled(training)

    def open_export_dialog(self, run_dir: Path | None = None) -> ExportDialog:
        """Show the export dialog (not modal), on ``run_dir`` or the untrained design."""
        self.document.flush()  # the untrained design is exported as the editor shows it, typing included
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        root = self.runs.runs_root()
        out_dir = root.parent if root is not None else Path.cwd()
        self.train_view.refresh_history()
        self.export_dialog = ExportDialog(
            self.runs, self.train_view.records, selected=run_dir, out_dir=out_dir,
            name=self.document.spec.name or "model", opener=lambda url: self.dialogs.open_url(url),
            chooser=lambda parent, suggested, flt: self.dialogs.export_model_path(parent, suggested, flt),
            parent=self,
        )
        self.export_dialog.show()
        return self.export_dialog

    def running_children(self) -> list[Any]:
        """The training run and export child that are still running."""
        children = [self.runs.run, self.runs.export]
        return [child for child in children if child is not None and child.running]

    def stop_children(self) -> list[Any]:
        """Ask the running training to stop (gracefully, killed after a timeout) and kill an export.

        Returns at once: the children end in the background and emit ``finished`` (waiting for them
        here would freeze the window).
        """
        children = self.running_children()
        for child in children:
            if child is self.runs.run:
                if not child.state.stop_requested:
                    self.train_view.stop_training()
            else:
                child.process.kill()
        return children

    # ----- errors --------------------------------------------------------------------------------
    def show_exception(self, exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        """Show an unexpected error readably; the window stays open and the design is kept."""
        detail = "".join(traceback.format_exception(exc_type, exc, tb))
        print(detail, file=__import__("sys").stderr)
        message = (f"Something went wrong: {exc_type.__name__}: {exc}\n\n"
                   "Your design is still open. If this keeps happening, save your work and report the "
                   "details printed on the terminal.")
        self.statusBar().showMessage(f"Error: {exc}", 10000)
        self.dialogs.error(self, "Unexpected error", message)

    # ----- layout and closing ----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self._layout_restored = self.restoreState(state)

    def default_dock_sizes(self) -> None:
        """The first-start layout: a narrow outline, a roomy inspector, a short problems strip."""
        self.resizeDocks([self.outline_dock, self.inspector_dock], [OUTLINE_WIDTH, INSPECTOR_WIDTH],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.problems_dock], [170], Qt.Orientation.Vertical)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._layout_restored:
            self._layout_restored = True
            self.default_dock_sizes()
        QTimer.singleShot(0, self.ensure_usable_docks)
        self.runs.warm_up_soon()  # TensorFlow loads in a worker process while the user looks at the design

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.isVisible():
            QTimer.singleShot(0, lambda: self.ensure_usable_docks(squeezed_only=True))

    def ensure_usable_docks(self, squeezed_only: bool = False) -> None:
        """Give a squeezed inspector (and outline) back a usable width when the window has room for it.

        A layout saved in a smaller window, or a central view that once asked for more room, must not
        leave the inspector at its 200 px minimum for good. On a resize only a dock at its minimum
        grows (a width the user chose stays).
        """
        wanted = {self.inspector_dock: INSPECTOR_WIDTH, self.outline_dock: OUTLINE_WIDTH}
        docks, widths = [], []
        spare = self.centralWidget().width() - self.centralWidget().minimumSizeHint().width()
        for dock, width in wanted.items():
            limit = dock.minimumWidth() + 10 if squeezed_only else width * 0.85
            if dock.isVisible() and not dock.isFloating() and dock.width() < limit and spare > 0:
                grow = min(width - dock.width(), spare)
                spare -= grow
                docks.append(dock)
                widths.append(dock.width() + grow)
        if docks:
            self.resizeDocks(docks, widths, Qt.Orientation.Horizontal)

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Close after asking about unsaved work and a running child; never waits for a child on the GUI thread."""
        children = self.running_children()
        if self._close_requested_at is None or self._close_requested_at != self.document.undo_stack.index():
            if children:
                what = "A training run" if self.train_view.training else "An export"
                if self.dialogs.confirm_stop_run(self, what) != "stop":
                    event.ignore()
                    return
            if not self.maybe_save():
                event.ignore()
                return
        self.runs.shutdown()  # the idle warm worker is killed, not waited for
        if children:
            # Close again once every child has ended; the window stays responsive meanwhile.
            self._close_requested_at = self.document.undo_stack.index()
            for child in self.stop_children():
                child.finished.connect(self._close_when_children_ended)
            self.statusBar().showMessage("Stopping the run before closing…")
            event.ignore()
            return
        self._close_requested_at = None
        self.search_view.shutdown()
        self.save_layout()
        self.autosave_timer.stop()
        self.recovery.clear()
        event.accept()

    def _close_when_children_ended(self, *_args: Any) -> None:
        if self._close_requested_at is not None and not self.running_children():
            QTimer.singleShot(0, self.close)
