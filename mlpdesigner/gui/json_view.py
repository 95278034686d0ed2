"""The JSON view: the spec as text, highlighted, synced both ways, problems marked on their lines."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeySequence,
    QPainter,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from ..spec.operations import SubjectIndex, subject_pointer
from ..spec.problems import Problem
from .document import Document

#: Milliseconds of quiet typing before the text is re-validated.
DEBOUNCE_MS = 300
#: Underlined problems per line at most (the line tint and the problems panel show the rest).
MAX_MARKS_PER_LINE = 50

SEVERITY_COLORS = {"error": QColor("#dc2626"), "warning": QColor("#d97706"), "info": QColor("#2563eb")}
SUBJECT_TINT = QColor(37, 99, 235, 22)
#: Lines of a selected subject tinted at most (a huge layer list is not tinted line by line).
MAX_TINTED_LINES = 2000
LINE_TINTS = {"error": QColor(220, 38, 38, 40), "warning": QColor(217, 119, 6, 35), "info": QColor(37, 99, 235, 25)}


def _format(color: str, bold: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    return fmt


class JsonHighlighter(QSyntaxHighlighter):
    """Keys, strings, numbers, literals and brackets in distinct colours.

    One left-to-right pass of a single alternation per line, so the time is
    linear in the line's length however many tokens a minified spec puts on it.
    """

    TOKEN = re.compile(
        r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
        r'|(?P<string>"(?:[^"\\]|\\.)*")'
        r"|(?P<number>-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)"
        r"|(?P<literal>\b(?:true|false|null)\b)"
        r"|(?P<bracket>[{}\[\]])"
    )
    FORMATS = {
        "key": _format("#1d4ed8", bold=True),
        "string": _format("#15803d"),
        "number": _format("#b45309"),
        "literal": _format("#7c3aed", bold=True),
        "bracket": _format("#475569", bold=True),
    }

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        for match in self.TOKEN.finditer(text):
            kind = match.lastgroup
            assert kind is not None
            self.setFormat(match.start(), match.end() - match.start(), self.FORMATS[kind])


class _Gutter(QWidget):
    def __init__(self, editor: JsonView) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.editor.paint_gutter(event)


class JsonView(QPlainTextEdit):
    """Editable JSON text of the document; typing re-validates after ``DEBOUNCE_MS``."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("json_view")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(10)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setUndoRedoEnabled(False)  # undo goes through the document's stack
        self.highlighter = JsonHighlighter(self.document_text())
        self.gutter = _Gutter(self)
        self.line_problems: dict[int, list[Problem]] = {}
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self._push)
        self._syncing = False
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.textChanged.connect(self._typed)
        self._problem_marks: list[QTextEdit.ExtraSelection] = []
        self._subject_mark: list[QTextEdit.ExtraSelection] = []
        self._index: SubjectIndex | None = None
        self._following = False
        self.cursorPositionChanged.connect(self._cursor_moved)
        document.changed.connect(self.sync_from_document)
        document.selection_changed.connect(self.show_subject)
        document.before_edit.append(self.commit)
        self._update_gutter_width()
        self.sync_from_document()

    def document_text(self) -> Any:
        return super().document()

    # ----- sync ----------------------------------------------------------------------------------
    def sync_from_document(self) -> None:
        """Show the document's text (unless it is what is already there) and its problems."""
        if self.toPlainText() != self.document.text:
            self._syncing = True
            cursor = self.textCursor()
            position = cursor.position()
            scroll = self.verticalScrollBar().value()
            self.setPlainText(self.document.text)
            cursor = self.textCursor()
            cursor.setPosition(min(position, len(self.document.text)))
            self.setTextCursor(cursor)
            self.verticalScrollBar().setValue(scroll)
            self._syncing = False
        self.mark_problems(self.document.spec.problems)
        self.show_subject(self.document.selection, move=False)

    # ----- following the selection ---------------------------------------------------------------
    def subject_index(self) -> SubjectIndex:
        """Where the layers, inputs, outputs and sections are in the current text (cached per text)."""
        text = self.toPlainText()
        if self._index is None or self._index.text != text:
            self._index = SubjectIndex(text)
        return self._index

    def subject_span(self, ptr: str) -> tuple[int, int] | None:
        """The character range of the subject at ``ptr`` in the text (None when it is not there)."""
        return self.subject_index().span(ptr) if ptr else None

    def show_subject(self, ptr: str, move: bool = True) -> None:
        """Tint the selected layer's (input's, output's, section's) text and, unless the cursor is
        already inside it, put the cursor at its start and scroll there."""
        span = self.subject_span(subject_pointer(ptr)) if ptr else None
        self._subject_mark = []
        if span is not None:
            block = self.document_text().findBlock(span[0])
            last = self.document_text().findBlock(span[1]).blockNumber()
            while block.isValid() and block.blockNumber() <= last and len(self._subject_mark) < MAX_TINTED_LINES:
                mark = QTextEdit.ExtraSelection()  # one per line, so the tint spans the whole width
                mark.format.setBackground(SUBJECT_TINT)
                mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
                mark.cursor = QTextCursor(block)
                self._subject_mark.append(mark)
                block = block.next()
            inside = span[0] <= self.textCursor().position() <= span[1]
            if move and not self._following and not inside:
                self._following = True
                cursor = self.textCursor()
                cursor.setPosition(span[0])
                self.setTextCursor(cursor)
                self.centerCursor()
                self._following = False
        self.setExtraSelections(self._subject_mark + self._problem_marks)

    def _cursor_moved(self) -> None:
        """The cursor moved in the text (a click, the arrow keys): select the subject it is in."""
        if self._syncing or self._following or not self.hasFocus():
            return
        subject = self.subject_index().at(self.textCursor().position())
        if subject and subject != subject_pointer(self.document.selection):
            self._following = True
            try:
                self.document.select(subject)
            finally:
                self._following = False

    def _typed(self) -> None:
        if not self._syncing:
            self.timer.start()

    def commit(self) -> None:
        """Send pending typing to the document now (also run before any other edit)."""
        if self.timer.isActive():
            self.timer.stop()
            self._push()

    def _push(self) -> None:
        self.document.set_text(self.toPlainText())

    @property
    def pending(self) -> bool:
        return self.timer.isActive()

    # ----- problems ------------------------------------------------------------------------------
    def mark_problems(self, problems: list[Problem]) -> None:
        """Tint the lines that have problems and underline the exact column."""
        self.line_problems = {}
        for problem in problems:
            if problem.line is not None:
                self.line_problems.setdefault(problem.line, []).append(problem)
        selections = []
        blocks = self.document_text().blockCount()
        for line, items in self.line_problems.items():
            if not 1 <= line <= blocks:
                continue
            worst = _worst(items)
            block = self.document_text().findBlockByNumber(line - 1)
            whole = QTextEdit.ExtraSelection()
            whole.format.setBackground(LINE_TINTS[worst])
            whole.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            whole.cursor = QTextCursor(block)
            selections.append(whole)
            # One underline per column, and a bounded number per line: painting a minified line
            # costs time per mark, and the problems panel lists every problem anyway.
            marked: set[int] = set()
            for problem in items:
                if problem.column in marked or len(marked) >= MAX_MARKS_PER_LINE:
                    continue
                marked.add(problem.column or 1)
                mark = QTextEdit.ExtraSelection()
                mark.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                mark.format.setUnderlineColor(SEVERITY_COLORS[problem.severity])
                cursor = QTextCursor(block)
                column = max(0, (problem.column or 1) - 1)
                # setPosition jumps; moving Right column times walked the line once per problem.
                cursor.setPosition(block.position() + min(column, max(0, block.length() - 1)))
                cursor.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
                if not cursor.hasSelection():
                    cursor.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor)
                mark.cursor = cursor
                selections.append(mark)
        self._problem_marks = selections
        self.setExtraSelections(self._subject_mark + self._problem_marks)
        self.gutter.update()

    def go_to(self, line: int | None, column: int | None = None) -> None:
        """Put the cursor on a 1-based line and column and show it."""
        if line is None:
            return
        block = self.document_text().findBlockByNumber(max(0, line - 1))
        cursor = QTextCursor(block)
        column = max(0, (column or 1) - 1)
        cursor.setPosition(block.position() + min(column, max(0, block.length() - 1)))
        self.setTextCursor(cursor)
        self.centerCursor()

    def event(self, event: Any) -> bool:
        if event.type() == event.Type.ToolTip:
            cursor = self.cursorForPosition(event.pos() - self.viewport().pos())
            items = self.line_problems.get(cursor.blockNumber() + 1)
            if items:
                QToolTip.showText(event.globalPos(), "\n".join(f"{p.code}: {p.message}" for p in items), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    # ----- keys: undo and redo go to the document ------------------------------------------------
    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.matches(QKeySequence.StandardKey.Undo):
            self.document.undo()
            return
        if event.matches(QKeySequence.StandardKey.Redo):
            self.document.redo()
            return
        super().keyPressEvent(event)

    # ----- gutter --------------------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 18 + self.fontMetrics().horizontalAdvance("9") * max(3, digits)

    def _update_gutter_width(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        rect = self.contentsRect()
        self.gutter.setGeometry(QRect(rect.left(), rect.top(), self.gutter_width(), rect.height()))

    def paint_gutter(self, event: Any) -> None:
        painter = QPainter(self.gutter)
        painter.fillRect(event.rect(), QColor("#f1f5f9"))
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= event.rect().top():
                items = self.line_problems.get(number + 1)
                if items:
                    painter.setBrush(SEVERITY_COLORS[_worst(items)])
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.drawEllipse(3, top + height // 2 - 4, 8, 8)
                painter.setPen(QColor("#94a3b8"))
                painter.drawText(0, top, self.gutter.width() - 4, height, Qt.AlignmentFlag.AlignRight, str(number + 1))
            block = block.next()
            top = bottom
            number += 1


def _worst(problems: list[Problem]) -> str:
    for level in ("error", "warning", "info"):
        if any(p.severity == level for p in problems):
            return level
    return "info"
