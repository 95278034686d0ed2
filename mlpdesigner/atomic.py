"""Atomic file writes: a temporary file in the target's folder, then a rename."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .safeio import NotRegularFileError, non_regular_kind

_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)-[^.]+(?:\.[^.]+)*\.tmp$")


def _process_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else
        return False
    return False


def remove_stale_temporaries(folder: str | os.PathLike[str], pattern: str = ".*.tmp") -> list[Path]:
    """Remove temporary files of :func:`atomic_path` whose writing process is gone (killed mid-write).

    Only names this module makes (``.NAME.PID-XXXX[.suffix].tmp``) are touched; returns what was removed.
    """
    removed = []
    for path in Path(folder).glob(pattern):
        match = _TEMPORARY.match(path.name)
        if match and _process_gone(int(match["pid"])):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    On any error the temporary file is removed and ``target`` is untouched.
    A symlinked target is followed, so the link stays and its target is replaced.
    A target that exists but is not a regular file (device, FIFO, socket,
    folder) is refused with :class:`~mlpdesigner.safeio.NotRegularFileError`.
    An existing target that the user may not write is refused (PermissionError),
    as an editor would, even though the folder would allow replacing it.
    """
    final = Path(os.path.realpath(target))
    kind = non_regular_kind(final)
    if kind is not None:
        # Renaming over a device or FIFO would replace the node itself (as root: /dev/null).
        raise NotRegularFileError(errno.EINVAL, f"it is {kind}, not a regular file", str(target))
    if final.exists() and not os.access(final, os.W_OK):
        raise PermissionError(errno.EACCES, "the file is read-only", str(target))
    remove_stale_temporaries(final.parent, f".{glob.escape(final.name)}.*.tmp")
    # The writer's pid is in the name, so a later write can tell a killed writer's leftover from a live one.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}-", suffix=suffix + ".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if final.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, final.stat().st_mode & 0o7777)
        else:
            with contextlib.suppress(OSError):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes atomically (fsync before the rename)."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))
