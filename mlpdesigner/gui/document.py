"""The open design: spec as written, text, file path, dirty flag, analysis, undo stack.

Views never hold model state; they observe :class:`Document` and redraw. Every
change goes through a :class:`QUndoCommand` built on the Qt-free
:func:`mlpdesigner.spec.apply_patch`, which returns the exact inverse.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..atomic import atomic_write_text
from ..data.checks import data_file_problems
from ..safeio import read_regular
from ..spec import Spec, analyze, apply_patch, dumps, parse_text
from ..spec.jsonloc import MAX_FILE_BYTES, JSONProblem, decode_bytes
from ..spec.loader import locate
from ..spec.problems import Problem


class PatchCommand(QUndoCommand):
    """One structural edit: JSON Patch operations on the spec as written."""

    def __init__(self, document: Document, ops: list[dict[str, Any]], title: str, select: str | None = None) -> None:
        super().__init__(title)
        self.document = document
        self.ops = copy.deepcopy(ops)
        self.inverse: list[dict[str, Any]] | None = None
        self.text_before = document.text
        self.selection_before = document.selection
        self.select_after = select

    def redo(self) -> None:
        self.inverse = apply_patch(self.document.raw, self.ops)
        self.document._after_structural_edit(self.select_after)

    def undo(self) -> None:
        assert self.inverse is not None
        apply_patch(self.document.raw, self.inverse)
        self.document._set_text(self.text_before, self.selection_before)


class TextCommand(QUndoCommand):
    """An edit made in the JSON view: the whole text before and after."""

    def __init__(self, document: Document, before: str, after: str, title: str = "Edit JSON") -> None:
        super().__init__(title)
        self.document = document
        self.before = before
        self.after = after

    def redo(self) -> None:
        self.document._set_text(self.after)

    def undo(self) -> None:
        self.document._set_text(self.before)


class Document(QObject):
    """The design being edited.

    ``raw`` is the spec dict as written (``None`` while the text is not JSON);
    ``text`` is the JSON text (``dumps(raw)`` after a structural edit, or what
    the user typed); ``spec`` is the latest analysis, with problems located on
    ``text``.
    """

    #: Emitted after every change of content (edit, undo, redo, load).
    changed = Signal()
    #: Emitted with the new selection pointer ("" for none).
    selection_changed = Signal(str)
    #: Emitted when the dirty flag flips.
    dirty_changed = Signal(bool)
    #: Emitted when the file path changes (open, save-as).
    path_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.path: Path | None = None
        self.text = ""
        self.raw: Any = None
        self.spec: Spec = Spec(raw=None)
        self.selection = ""
        self._forced_dirty = False
        self._was_dirty = False
        #: Callbacks run before any new edit, a save or a run (the JSON view and the inspector apply pending typing).
        self.before_edit: list[Callable[[], None]] = []
        self._flushing = False

    # ----- loading -----------------------------------------------------------------------------
    def load_text(self, text: str, path: Path | None = None, *, dirty: bool = False) -> None:
        """Replace the content (open, new from template, recovery); clears the undo history."""
        self.undo_stack.clear()
        self.path = Path(path).resolve() if path else None
        self.selection = ""
        self._set_text(text, emit=False)
        self.undo_stack.setClean()
        self._forced_dirty = dirty
        self._emit_dirty()
        self.path_changed.emit()
        self.changed.emit()
        self.selection_changed.emit(self.selection)

    def load_file(self, path: str | Path) -> list[Problem]:
        """Open a file; text that is not JSON or not a valid spec opens as it is, with its problems.

        Raises OSError when the file cannot be read at all.
        """
        file = Path(path)
        data = read_regular(file, MAX_FILE_BYTES)  # a FIFO or device is refused without blocking
        try:
            text = decode_bytes(data)
            decode_problem = None
        except JSONProblem as exc:
            text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
            decode_problem = exc.problem
        self.load_text(text, file)
        if decode_problem is not None:
            self.spec.problems.insert(0, decode_problem)
            self.changed.emit()
        return self.spec.problems

    def load_dict(self, raw: dict[str, Any], path: Path | None = None) -> None:
        """Open a spec dict (a template) as a new document."""
        self.load_text(dumps(raw), path)

    # ----- state -------------------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        """True when structural edits are possible (the text is a JSON object)."""
        return isinstance(self.raw, dict)

    @property
    def dirty(self) -> bool:
        return self._forced_dirty or not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        if self.path:
            return self.path.name
        if isinstance(self.raw, dict) and isinstance(self.raw.get("name"), str):
            return f"{self.raw['name']} (unsaved)"
        return "untitled"

    def _clean_changed(self, _clean: bool) -> None:
        self._emit_dirty()

    def _emit_dirty(self) -> None:
        if self.dirty != self._was_dirty:
            self._was_dirty = self.dirty
            self.dirty_changed.emit(self.dirty)

    def _analyze(self) -> None:
        if self.raw is not None and self.text == dumps(self.raw):
            self.spec = analyze(self.raw, text=self.text, path=self.path)
        else:
            self.spec = parse_text(self.text, self.path)
            self.raw = self.spec.raw
        self._check_data_file()

    def _check_data_file(self) -> None:
        """Add what the spec alone cannot know: a missing data file, mapped columns the file lacks."""
        found = data_file_problems(self.spec.raw, self.path)
        if found:
            self.spec.problems.extend(locate(found, self.text))

    def recheck_data_file(self) -> None:
        """Check the data file again (it changed on disk) and tell the views."""
        self._analyze()
        self.changed.emit()

    def _set_text(self, text: str, selection: str | None = None, *, emit: bool = True) -> None:
        self.text = text
        self.spec = parse_text(text, self.path)
        self.raw = copy.deepcopy(self.spec.raw)
        self._check_data_file()
        if selection is not None:
            self.selection = selection
        if emit:
            self.changed.emit()
            self.selection_changed.emit(self.selection)

    def _after_structural_edit(self, select: str | None) -> None:
        self.text = dumps(self.raw)
        self.spec = analyze(copy.deepcopy(self.raw), text=self.text, path=self.path)
        self._check_data_file()
        if select is not None:
            self.selection = select
        self.changed.emit()
        self.selection_changed.emit(self.selection)

    # ----- edits -------------------------------------------------------------------------------
    def flush(self) -> None:
        """Apply pending typing (the ``before_edit`` callbacks); an edit one of them makes does not flush again."""
        if self._flushing:
            return
        self._flushing = True
        try:
            for callback in list(self.before_edit):
                callback()
        finally:
            self._flushing = False

    def apply(self, ops: list[dict[str, Any]], title: str, select: str | None = None) -> bool:
        """Push an undoable structural edit; returns False when there is nothing to do."""
        self.flush()
        if not ops:
            return False
        if not self.editable:
            raise ValueError(
                "Expected a spec that is a JSON object. Received: text that is not; fix it in the JSON view"
            )
        self.undo_stack.push(PatchCommand(self, ops, title, select))
        return True

    def set_text(self, text: str) -> bool:
        """Push an undoable edit of the whole text (from the JSON view)."""
        if text == self.text:
            return False
        self.undo_stack.push(TextCommand(self, self.text, text))
        return True

    def undo(self) -> None:
        self.flush()
        self.undo_stack.undo()

    def redo(self) -> None:
        self.flush()
        self.undo_stack.redo()

    def select(self, ptr: str) -> None:
        """Change the shared selection (a JSON pointer; "" for none)."""
        if ptr != self.selection:
            self.selection = ptr
            self.selection_changed.emit(ptr)

    # ----- saving ------------------------------------------------------------------------------
    def save(self, path: str | Path | None = None) -> Path:
        """Write the design atomically; the document stays dirty when this raises OSError."""
        self.flush()
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("Expected a file name to save to. Received: none")
        text = dumps(self.raw) if self.raw is not None and self.text == dumps(self.raw) else self.text
        atomic_write_text(target, text)
        new_path = target.resolve()
        if new_path != self.path:
            self.path = new_path
            self._analyze()
            self.path_changed.emit()
        self._forced_dirty = False
        self.undo_stack.setClean()
        self._emit_dirty()
        return new_path
