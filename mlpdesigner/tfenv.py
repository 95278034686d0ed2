"""TensorFlow, imported once and quietly.

TensorFlow's C++ code logs on file descriptor 2 while it loads (oneDNN notes,
"Could not find cuda drivers", a ``cuInit`` error on machines without a GPU,
and absl's "All log messages before absl::InitializeLog()" preamble), and some
of those lines appear whatever ``TF_CPP_MIN_LOG_LEVEL`` says, because they are
written before TensorFlow reads it. A user sees errors that are not errors.

:func:`quiet` therefore sets the environment before the first import
(``TF_CPP_MIN_LOG_LEVEL`` 3 unless the user chose a level), imports TensorFlow
and Keras with descriptor 2 sent to a temporary file, and then writes back
every captured line except C++ log lines below the chosen level. Anything else
printed during the import (a Python warning, an import error's message) still
reaches stderr. ``TF_CPP_MIN_LOG_LEVEL=0`` shows everything TensorFlow logs.

Keras, when imported, also imports scikit-learn (for its estimator wrappers),
matplotlib (``keras.visualization``) and IPython (its file editor) if they are
installed: about a second of a train command's start on this project's machine
(issue 18), for features MLP Designer never uses. :func:`quiet` hides those
packages while Keras loads (Keras treats them as not installed) and gives them
back right after, so anything else in the process can still import them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: TF_CPP_MIN_LOG_LEVEL when the user has not set one: C++ errors too are hidden,
#: since every failure that matters reaches Python as an exception and is reported there.
DEFAULT_LOG_LEVEL = "3"

#: The line absl prints once before its own logging is set up.
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"

#: The first line of a C++ log message: severity letter, MMDD, time, thread, file:line] message.
_LOG_LINE = re.compile(rb"^([IWEF])\d{4} \d+:\d+:\d+\.\d+\s+\d+ \S+:\d+\] ")

#: Lines that start a Python message (a warning, a traceback, our own "error:"): never part of a C++ message.
_PYTHON_LINE = re.compile(
    rb"^(Traceback |\S+:\d+: \w+: |\w*(Warning|Error)\b|(DEBUG|INFO|WARNING|ERROR|CRITICAL):|error: |warning: )"
)

_SEVERITY = "IWEF"

#: Optional packages Keras imports at start-up for features this tool does not use (see the module docstring).
KERAS_EXTRAS_NOT_USED = ("sklearn", "matplotlib", "IPython")

_imported = False


def log_level() -> int:
    """The C++ log level in effect: 0 shows everything, 3 hides info, warnings and errors."""
    try:
        return max(0, min(3, int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LOG_LEVEL))))
    except ValueError:
        return int(DEFAULT_LOG_LEVEL)


def filter_log(text: bytes, level: int) -> bytes:
    """``text`` without the C++ log messages (and absl's preamble) that ``level`` hides; other lines stay.

    A message may run over several lines: the lines after a hidden message's
    first line are hidden with it, up to the next log line or Python message.
    """
    if level <= 0:
        return text
    kept = []
    hiding = False
    for line in text.splitlines(keepends=True):
        if line.rstrip(b"\r\n") == _ABSL_PREAMBLE.encode():
            hiding = False
            continue
        match = _LOG_LINE.match(line)
        if match:
            hiding = _SEVERITY.index(match.group(1).decode()) < level
        elif _PYTHON_LINE.match(line):
            hiding = False
        if not hiding:
            kept.append(line)
    return b"".join(kept)


@contextlib.contextmanager
def filtered_stderr(level: int) -> Iterator[None]:
    """Send descriptor 2 to a temporary file; on exit, write back what ``level`` does not hide."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to protect
        yield
        return
    capture = tempfile.TemporaryFile()
    try:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            capture.seek(0)
            kept = filter_log(capture.read(), level)
            if kept:
                os.write(2, kept)
    finally:
        os.close(saved)
        capture.close()


@contextlib.contextmanager
def _hidden(packages: tuple[str, ...]) -> Iterator[None]:
    """Within the block, importing one of ``packages`` (not imported yet) fails as if it were not installed."""
    hidden = [name for name in packages if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not importable" marker
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


def _quiet_python_loggers() -> None:
    """TensorFlow's and absl's Python loggers: errors only, unless someone configured them already."""
    for name in ("tensorflow", "absl"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)


def quiet() -> None:
    """Import TensorFlow and Keras without their start-up noise (once per process; cheap after that)."""
    global _imported
    if _imported:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LOG_LEVEL)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" not in sys.modules or "keras" not in sys.modules:
        with filtered_stderr(log_level()), _hidden(KERAS_EXTRAS_NOT_USED):
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    _quiet_python_loggers()
    _imported = True
