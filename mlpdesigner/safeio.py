"""Reading and writing user-named paths defensively.

Input files are opened without blocking (a FIFO would otherwise wait for a
writer forever), must be regular files, and are read up to a limit checked
*before* the bytes are in memory. Output paths must be regular files or new
paths, and never one of the command's inputs.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import UserError


class NotRegularFileError(OSError):
    """The path names a device, FIFO, socket or folder where a regular file was expected."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def non_regular_kind(path: str | os.PathLike[str]) -> str | None:
    """What an existing non-regular path is ("a device", ...); None for a regular file or a missing path."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises :class:`NotRegularFileError` for a device, FIFO, socket or folder
    (without blocking on a FIFO), and ``OSError(EFBIG)`` for a larger file;
    never reads more than ``limit + 1`` bytes.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(errno.EINVAL, f"it is {_kind(mode)}, not a regular file", str(path))
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit:,} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_input_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a Path when it is an existing regular file; a :class:`UserError` naming it otherwise."""
    file = Path(path)
    kind = non_regular_kind(file)
    if kind is not None:
        raise UserError(f"{file}: it is {kind}. Expected {what} (a regular file).")
    return file


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output_file(
    out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = (), *, option: str = "-o"
) -> Path:
    """The output path, or a :class:`UserError` naming it when writing there would harm something.

    Refused: an existing folder, device, FIFO or socket (the atomic rename
    would replace the node), a missing or unwritable folder, and any of
    ``inputs`` (also through a link) — a command never overwrites what it reads.
    """
    path = Path(out).expanduser()
    kind = non_regular_kind(path)
    if kind == "a folder":
        raise UserError(f"{option} {path}: it is a folder. Expected a file path")
    if kind is not None:
        raise UserError(f"{option} {path}: it is {kind}. Expected a regular file or a new path (nothing was written)")
    parent = Path(os.path.realpath(path)).parent
    if not parent.is_dir():
        raise UserError(f"{option} {path}: the folder {parent} does not exist. Expected an existing folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: permission denied in the folder {parent}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{option} {path}: the file is read-only")
    real = Path(os.path.realpath(path))
    for source in inputs:
        src = Path(source).expanduser()
        if real == Path(os.path.realpath(src)) or (path.exists() and src.exists() and _same_file(path, src)):
            raise UserError(
                f"{option} {path}: it is the input file {src}. Expected an output path that is not one of the "
                "command's inputs (the input would be overwritten)"
            )
    return path
