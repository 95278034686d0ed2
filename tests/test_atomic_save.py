"""Saves never lose work: faults leave the previous file byte-identical."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from privileges import as_nobody

from mlpdesigner import atomic
from mlpdesigner.resources import example_path
from mlpdesigner.spec import dumps, save_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytes, dict]:
    spec = json.loads(example_path("housing_regression").read_text())
    target = tmp_path / "design.json"
    save_spec(spec, target)
    spec["description"] = "changed"
    return target, target.read_bytes(), spec


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_save_writes_the_document(saved: tuple[Path, bytes, dict]) -> None:
    target, _, spec = saved
    save_spec(spec, target)
    assert target.read_text(encoding="utf-8") == dumps(spec)
    assert _leftovers(target.parent) == []


def test_failure_during_write_keeps_previous_file(saved, monkeypatch: pytest.MonkeyPatch) -> None:
    target, before, spec = saved

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        save_spec(spec, target)
    assert target.read_bytes() == before
    assert _leftovers(target.parent) == []


def test_failure_during_rename_keeps_previous_file(saved, monkeypatch: pytest.MonkeyPatch) -> None:
    target, before, spec = saved

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_spec(spec, target)
    assert target.read_bytes() == before
    assert _leftovers(target.parent) == []


def test_disk_full_keeps_previous_file(saved) -> None:
    target, before, spec = saved
    spec["description"] = "x" * 3000
    code = (
        "import json, resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))\n"
        "from mlpdesigner.spec import save_spec\n"
        "try:\n"
        f"    save_spec(json.loads({json.dumps(json.dumps(spec))}), {str(target)!r})\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert "refused 27" in result.stdout, result.stderr
    assert target.read_bytes() == before
    assert _leftovers(target.parent) == []


def test_symlinked_target_replaces_the_linked_file(saved) -> None:
    target, _, spec = saved
    link = target.parent / "link.json"
    link.symlink_to(target)
    save_spec(spec, link)
    assert link.is_symlink()
    assert json.loads(target.read_text())["description"] == "changed"


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges to 'nobody' needs root")


@needs_root
@pytest.mark.parametrize("case", ["read-only file", "read-only folder", "writable"])
def test_permissions_as_unprivileged_user(case: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="mlpd-perm-"))
    try:
        os.chmod(folder, 0o777)
        target = folder / "design.json"
        spec = json.loads(example_path("housing_regression").read_text())
        save_spec(spec, target)
        nobody = pwd.getpwnam("nobody")
        os.chown(target, nobody.pw_uid, nobody.pw_gid)
        if case == "read-only file":
            os.chmod(target, 0o444)
        elif case == "read-only folder":
            os.chmod(folder, 0o555)
        before = target.read_bytes()
        spec["description"] = "new"

        def attempt() -> str:
            try:
                save_spec(spec, target)
            except PermissionError as exc:
                return f"refused {exc.filename}"
            return "saved"

        result = as_nobody(attempt)
        if case == "writable":
            assert result == "saved"
            assert json.loads(target.read_text())["description"] == "new"
        else:
            assert result.startswith("refused"), result
            assert target.read_bytes() == before
            assert _leftovers(folder) == []
    finally:
        os.chmod(folder, 0o777)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
