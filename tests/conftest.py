"""Test configuration shared by every test module."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The designer's warm worker (a background process that loads TensorFlow) is off unless a test turns it on:
# other tests must not share the machine with a TensorFlow import they did not ask for.
os.environ.setdefault("MLPDESIGNER_WARM_WORKER", "0")


import gc  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _windows_die_with_their_test() -> Iterator[None]:
    """Delete the windows a test closed before the next test starts.

    pytest-qt closes a test's widgets and calls ``deleteLater`` in its teardown, but a deferred delete posted
    outside an event loop waits for the next one, which is inside some later test's ``qtbot.wait``: windows then
    died in the middle of other tests, and one of those deaths crashed Qt (a segfault in QTreeView.setRootIndex,
    seen in CI and under gdb). This finalizer runs after pytest-qt's and flushes the deletes here.
    """
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is None:
        return
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


#: Test files that start Ray clusters: one xdist worker runs them one after another.
RAY_FILES = frozenset({"test_search_run.py", "test_gui_search.py"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Spread the suite over xdist workers (``-n 2 --dist loadgroup`` in pyproject) one file at a time.

    A file's tests stay together and in order on one worker, as in a plain run; the files that start Ray share
    a group (two Ray clusters on a 2-core machine at once starve each other's trials) and go first, so the
    longest group does not start last.
    """
    for item in items:
        name = item.path.name
        item.add_marker(pytest.mark.xdist_group("ray" if name in RAY_FILES else name))
    items.sort(key=lambda item: item.path.name not in RAY_FILES)
