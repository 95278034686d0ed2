"""Tables of figures that stay readable: a table never gets narrower than its headers and values."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget


def readable_width(table: QTableWidget) -> int:
    """Fit the columns of ``table`` to their headers and cells; the width at which all of them show in full."""
    header = table.horizontalHeader()
    stretch = header.stretchLastSection()
    header.setStretchLastSection(False)  # measured at their own widths, not stretched into the room there is
    table.resizeColumnsToContents()  # not the ResizeToContents mode: it crashed Qt
    columns = header.length()
    header.setStretchLastSection(stretch)
    return columns + 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()


def keep_readable(table: QTableWidget) -> None:
    """Make ``table`` at least :func:`readable_width` wide, so a splitter or a layout cannot elide its figures.

    Call it after each fill; the columns may still stretch into more room.
    """
    table.setMinimumWidth(readable_width(table))
