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
from typing import Any

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


# --------------------------------------------------------------------------- .npz archives


class NpzMember:
    """One array of an ``.npz`` archive as its header declares it (nothing loaded)."""

    def __init__(self, name: str, member: str, shape: tuple[int, ...], dtype: Any, stored: int) -> None:
        self.name = name
        self.member = member
        self.shape = shape
        self.dtype = dtype
        #: Uncompressed size of the member in the archive (header included).
        self.stored = stored

    @property
    def nbytes(self) -> int:
        count = 1
        for n in self.shape:
            count *= n
        return count * self.dtype.itemsize


def npz_members(path: str | os.PathLike[str], what: str = "the .npz file") -> dict[str, NpzMember]:
    """The arrays of an ``.npz`` file from their headers, checked against the bytes the archive holds.

    Raises :class:`UserError` naming the file (and the array) for anything that
    is not a zip of ``.npy`` arrays, for pickled (object) arrays, and for a
    header that declares more data than the member stores (a memory bomb).
    """
    import zipfile

    import numpy as np

    file = check_input_file(path, what)
    try:
        archive = zipfile.ZipFile(file)
    except FileNotFoundError:
        raise UserError(f"{file}: no such file. Expected {what}.") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"{file}: not an .npz file (expected a zip of NumPy arrays): {exc}") from None
    members: dict[str, NpzMember] = {}
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            try:
                with archive.open(info) as handle:
                    version = np.lib.format.read_magic(handle)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                    else:
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
                raise UserError(f"{file}: array {name!r} is not a NumPy array: {exc}") from None
            if dtype.hasobject:
                raise UserError(
                    f"{file}: array {name!r} holds Python objects (pickled data, which can run code). "
                    "Expected numeric or text arrays."
                )
            member = NpzMember(name, info.filename, tuple(int(n) for n in shape), dtype, info.file_size)
            if member.nbytes > info.file_size:
                raise UserError(
                    f"{file}: array {name!r} declares shape {list(member.shape)} of {dtype} ({member.nbytes:,} "
                    f"bytes) but the archive stores only {info.file_size:,} bytes for it. Expected a header that "
                    "matches the data (the file is damaged or forged)."
                )
            members[name] = member
    return members


def load_npz_arrays(
    path: str | os.PathLike[str],
    names: Iterable[str],
    what: str = "the .npz file",
    members: dict[str, NpzMember] | None = None,
) -> dict[str, Any]:
    """Only the arrays ``names`` of an ``.npz`` file, after every header was checked (``members``, if given)."""
    import numpy as np

    if members is None:
        members = npz_members(path, what)
    wanted = [n for n in names if n in members]
    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            for name in wanted:
                arrays[name] = archive[name]
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path}: cannot read the .npz file: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - zipfile raises its own errors for a damaged member
        raise UserError(f"{path}: cannot read the .npz file: {type(exc).__name__}: {exc}") from None
    return arrays


# --------------------------------------------------------------------------- CSV output

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell that no spreadsheet runs as a formula: a leading ``'`` before ``= + - @`` tab or CR.

    Numbers, and text that reads as a number (``-1.5``, ``+3``), are left alone.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value
