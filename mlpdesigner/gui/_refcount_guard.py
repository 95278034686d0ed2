"""Guard against a PySide6 build that drops a reference to ``None`` on every void call.

With PySide6 6.12 on CPython 3.11 (seen here), each call of a Qt method that
returns nothing (``setValue``, ``setText``, ``setFormat``...) decrements the
reference count of ``None`` without having incremented it. On CPython 3.12+
``None`` is immortal and nothing happens; on 3.11 the count reaches zero after
a few thousand calls and the interpreter aborts with "deallocating None".

:func:`install` measures whether this build has the leak and, only then, gives
``None``, ``True`` and ``False`` a large reserve of references, so a session
can make about a billion such calls. It changes nothing else.
"""

from __future__ import annotations

import ctypes
import platform
import sys

RESERVE = 1_000_000_000
_installed = False


def leaks_none() -> bool:
    """True when a void Qt call drops a reference to None in this build."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(10):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before


def install() -> bool:
    """Add the reserve once, when the leak is present; returns True when added."""
    global _installed
    if _installed or platform.python_implementation() != "CPython" or sys.version_info >= (3, 12):
        return False
    if not leaks_none():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE
    _installed = True
    return True
