"""Refuse a PySide6 build known to corrupt the interpreter.

PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every Qt call
that returns nothing (``setValue``, ``setText``...); after a few thousand calls
the interpreter aborts with "deallocating None". 6.11.3 does not (both measured
here). ``pyproject.toml`` pins PySide6-Essentials below 6.12; this check turns a
forced install of a bad build into a clear message instead of a crash minutes later.
"""

from __future__ import annotations

import sys


class BrokenQtError(ImportError):
    """The installed PySide6 has the reference-count bug."""


def leaks_none() -> bool:
    """True when a void Qt call drops a reference to None in this build."""
    if sys.version_info >= (3, 12):  # None is immortal there
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(20):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 10


def check() -> None:
    """Raise :class:`BrokenQtError` when the installed PySide6 leaks references to None."""
    if leaks_none():
        import PySide6

        raise BrokenQtError(
            f"PySide6 {PySide6.__version__} has a reference-count bug on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} that crashes the designer. "
            "Expected PySide6-Essentials 6.11: pip install 'PySide6-Essentials>=6.11.3,<6.12'"
        )
