"""Starting the designer: ``mlpdesigner gui [FILE] [--train [--epochs N]] [--screenshot OUT.png]``.

With ``--train`` the window trains FILE on its data as soon as it opens; with
``--screenshot`` as well it waits for the run to end, saves the training view
and exits (the runs go to a scratch folder, not next to FILE).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from ..errors import ExitCode, UserError
from ..runfolder import RunStatus
from ..safeio import check_input_file
from .main_window import DEFAULT_EXAMPLE, MainWindow

SCREENSHOT_SIZE = (1280, 800)


def _no_platform_exit(design: str | None) -> Any:
    """A Qt message handler that turns Qt's fatal "no platform plugin" into a message and exit code 2.

    Without it Qt aborts the process (a core dump) when, say, DISPLAY names an
    X server that is not there or the xcb plugin's libraries are missing.
    """

    def handler(mode: QtMsgType, context: Any, message: str) -> None:
        if mode != QtMsgType.QtFatalMsg:
            category = getattr(context, "category", None)
            prefix = f"{category}: " if category and category != "default" else ""
            sys.stderr.write(f"{prefix}{message}\n")
            return
        from ..headless import headless_help
        from ..resources import example_path

        display = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "none"
        sys.stderr.write(
            f"error: the designer window cannot open: Qt found no usable display (display {display}). "
            f"Qt said: {message.strip().split('. ')[0]}.\n"
            f"{headless_help(design or str(example_path(DEFAULT_EXAMPLE)))}\n"
        )
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(ExitCode.BAD_INPUT)  # Qt aborts right after a fatal message; leave first, cleanly

    return handler


def application(design: str | None = None) -> QApplication:
    """The running QApplication (created on first use; ``design`` names the file in the no-display message)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("MLPDesigner")
        QCoreApplication.setApplicationName("MLP Designer")
        previous = qInstallMessageHandler(_no_platform_exit(design))
        try:
            app = QApplication(sys.argv[:1])
        finally:
            qInstallMessageHandler(previous)
    return app  # type: ignore[return-value]


def install_exception_hook(window: MainWindow) -> Any:
    """Route uncaught exceptions (in any slot) to a readable message; returns the previous hook."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        try:
            window.show_exception(exc_type, exc, tb)
        except Exception:  # noqa: BLE001 - never let the hook itself crash the app
            previous(exc_type, exc, tb)

    sys.excepthook = hook
    return previous


def render_screenshot(window: MainWindow, out: str | Path) -> Path:
    """Show the window at 1280x800, let it lay out, and save it as PNG."""
    app = application()
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    for _ in range(5):
        app.processEvents()
    window.canvas.fit()
    app.processEvents()
    target = Path(out)
    if not window.grab().save(str(target), "PNG"):
        raise UserError(f"Cannot write the screenshot {target}", hint="check that the folder exists and is writable")
    return target


def _train_and_screenshot(window: MainWindow, screenshot: str, epochs: int | None) -> int:
    """Train the open design in the window, wait for the run to end, save the training view, exit."""
    window.resize(*SCREENSHOT_SIZE)
    for dock in (window.inspector_dock, window.problems_dock, window.summary_dock):
        dock.hide()  # the picture is about the training view: the outline stays, the other panels go
    window.show()
    application().processEvents()
    started = window.train(epochs)
    state = window.train_view.wait() if started else None
    window.tabs.setCurrentWidget(window.train_view)
    target = render_screenshot(window, screenshot)
    window.document.undo_stack.setClean()
    window.close()
    print(f"wrote {target}")
    if state is None:
        print(f"error: training did not start: {window.train_view.banner.text()}", file=sys.stderr)
        return ExitCode.FAILED
    print(f"run {state.status}: {state.run_dir}" + (f" ({state.reason})" if state.reason else ""))
    if state.status is RunStatus.FAILED:
        print(f"error: {state.message}", file=sys.stderr)
    return ExitCode.OK if state.status is RunStatus.COMPLETED else ExitCode.FAILED


def run_gui(args: argparse.Namespace) -> int:
    """Open the designer on ``args.file`` (or the built-in Wide & Deep example)."""
    file = getattr(args, "file", None)
    screenshot = getattr(args, "screenshot", None)
    train = bool(getattr(args, "train", False))
    epochs = getattr(args, "epochs", None)
    if file and not Path(file).exists():
        raise UserError(f"Cannot open {file}: no such file", hint="check the path")
    if file:
        check_input_file(file, "a design file")  # a FIFO would hang the window before it shows
    if train and not file:
        raise UserError("--train needs a design FILE with a data section", hint="mlpdesigner gui FILE --train")
    if epochs is not None and epochs < 1:
        raise UserError(f"--epochs: Expected a whole number of at least 1. Received: {epochs}")
    app = application(file)
    if screenshot:  # a fresh layout and no recovery files: the picture shows the defaults
        import tempfile

        from PySide6.QtCore import QSettings

        scratch = tempfile.mkdtemp(prefix="mlpdesigner-shot-")
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, recovery_dir=Path(scratch) / "recovery")
        window.autosave_timer.stop()
        window.runs.runs_root_override = Path(scratch) / "runs"
    else:
        window = MainWindow()
    if file:
        window.open_file(file)
    else:
        window.open_example(DEFAULT_EXAMPLE)
    if screenshot:
        try:
            if train:
                return _train_and_screenshot(window, screenshot, epochs)
            window.resize(*SCREENSHOT_SIZE)
            target = render_screenshot(window, screenshot)
            window.document.undo_stack.setClean()
            window.close()
            print(f"wrote {target}")
            return 0
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    previous = install_exception_hook(window)
    window.show()
    QTimer.singleShot(0, window.offer_recovery)
    if train:
        QTimer.singleShot(0, lambda: window.train(epochs))
    try:
        return app.exec()
    finally:
        sys.excepthook = previous
