"""The pinned PySide6 does not corrupt reference counts (6.12.0 on Python 3.11 did)."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")


def test_void_qt_calls_keep_none_alive(qtbot) -> None:
    from PySide6.QtWidgets import QSpinBox

    box = QSpinBox()
    qtbot.addWidget(box)
    before = sys.getrefcount(None)
    for i in range(2000):
        box.setValue(i % 50)
    assert sys.getrefcount(None) >= before - 50


def test_check_accepts_the_installed_build() -> None:
    from mlpdesigner.gui.qtcheck import check, leaks_none

    assert leaks_none() is False
    check()
