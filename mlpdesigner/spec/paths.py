"""Paths inside a spec: stored relative to the spec's folder (or a run folder, or a script), with ``/``."""

from __future__ import annotations

import os
from pathlib import Path


def relative_path(file: str | os.PathLike[str], folder: str | os.PathLike[str]) -> str:
    """``file`` relative to ``folder``, with forward slashes; the absolute path when there is none (another drive)."""
    absolute = Path(file).resolve()
    try:
        return Path(os.path.relpath(absolute, Path(folder).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return absolute.as_posix()


def resolve_path(stored: str, folder: str | os.PathLike[str]) -> Path:
    """The absolute file a path stored in a spec names: relative paths count from ``folder``."""
    return (Path(folder) / stored).resolve()
