"""Recovery files: unsaved work written every 30 s, offered again after a crash (Qt-free)."""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write_text, remove_stale_temporaries

PREFIX = "recovery-"


@dataclass(frozen=True)
class Recovery:
    """One recovery file's content."""

    file: Path
    text: str
    original_path: str | None
    saved_at: float
    pid: int

    @property
    def label(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{self.original_path or 'unsaved design'} (autosaved {when})"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class RecoveryStore:
    """A folder of recovery files; each window writes its own file."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.file = self.folder / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}.json"

    def write(self, text: str, original_path: str | None) -> Path:
        """Write (atomically) this window's unsaved text."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"text": text, "path": original_path, "saved_at": time.time(), "pid": os.getpid()}
        atomic_write_text(self.file, json.dumps(record, ensure_ascii=False))
        return self.file

    def clear(self) -> None:
        """Remove this window's recovery file (after a save or a clean close)."""
        with contextlib.suppress(OSError):
            self.file.unlink()

    def leftovers(self) -> list[Recovery]:
        """Recovery files left by processes that are gone (crashed), newest first."""
        found = []
        if not self.folder.is_dir():
            return []
        remove_stale_temporaries(self.folder)  # half-written recovery files of killed windows
        for file in self.folder.glob(f"{PREFIX}*.json"):
            if file == self.file:
                continue
            try:
                record = json.loads(file.read_text("utf-8"))
                item = Recovery(
                    file, str(record["text"]), record.get("path"), float(record["saved_at"]), int(record["pid"])
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if item.pid != os.getpid() and _alive(item.pid):
                continue
            found.append(item)
        return sorted(found, key=lambda r: r.saved_at, reverse=True)

    @staticmethod
    def discard(item: Recovery) -> None:
        """Remove a leftover recovery file."""
        with contextlib.suppress(OSError):
            item.file.unlink()
