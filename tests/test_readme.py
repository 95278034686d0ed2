"""The README's command blocks run as written, in order, in a fresh copy of the repository.

Blocks fenced as ``sh``/``shell``/``bash`` hold commands only (one per line,
``#`` comments allowed); ``console`` blocks hold ``$ command`` lines followed
by sample output, and every sample line (other than ``...``) must appear in
what the command prints. A block preceded by ``<!-- readme-test: skip (why) -->``
is not run. ``mlpdesigner`` is this checkout's package (a shim on PATH runs
``python -m mlpdesigner`` with the copy on PYTHONPATH), as after ``pip install .``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHELL_LANGUAGES = {"sh", "shell", "bash", "console"}
SKIP_MARKER = re.compile(r"<!--\s*readme-test:\s*skip\b.*-->")
FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass
class Command:
    line: int
    text: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    language: str
    skipped: bool
    commands: list[Command]


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of the README, with its commands (``sh``/``console`` blocks)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        language, start = opening.group(1), i
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        i += 1
        body: list[tuple[int, str]] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append((i + 1, lines[i]))
            i += 1
        i += 1
        commands: list[Command] = []
        if language == "console":
            for number, line in body:
                if line.startswith("$ "):
                    commands.append(Command(number, line[2:]))
                elif commands and line.strip() and line.strip() != "...":
                    commands[-1].expected.append(line.rstrip())
        elif language in SHELL_LANGUAGES:
            commands = [Command(number, line) for number, line in body if line.strip() and not line.startswith("#")]
        blocks.append(Block(start + 1, language, bool(SKIP_MARKER.search(before)), commands))
    return blocks


def _fresh_copy(target: Path) -> Path:
    """The files a clone would have (tracked and not ignored), or the folder minus build outputs without git."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
    )
    if listed.returncode == 0 and listed.stdout:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = ROOT / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
        return target
    ignore = shutil.ignore_patterns(".git", "runs", "__pycache__", "*.egg-info", ".pytest_cache", ".venv", "build")
    shutil.copytree(ROOT, target, ignore=ignore, dirs_exist_ok=True)
    return target


def test_readme_blocks_are_all_fenced_with_a_language() -> None:
    """A command block cannot hide from the runner as a plain fence: every block names its language."""
    blocks = readme_blocks(README.read_text("utf-8"))
    assert blocks, "no fenced blocks found in README.md"
    plain = [b.line for b in blocks if not b.language]
    assert not plain, f"README.md blocks at lines {plain} have no language (use sh, console, json, python...)"
    run = [b for b in blocks if b.language in SHELL_LANGUAGES and not b.skipped]
    assert sum(len(b.commands) for b in run) >= 8
    skipped = [b for b in blocks if b.skipped]
    skipped_commands = [c.text for b in skipped for c in b.commands]
    assert skipped_commands[:2] == [
        "pip install . && mlpdesigner",
        "pip install '.[test]' && pytest",
    ]
    # Besides the quick start, only the search recipes skip: they start Ray (tests/test_search_run.py runs them)
    # or need several machines.
    others = skipped_commands[2:]
    recipes = (["mlpdesigner", "search"], ["ray", "start"])
    assert all(c.split()[:2] in recipes or "[search]" in c for c in others), others


def test_block_parser_reads_commands_and_expected_output() -> None:
    text = (
        "<!-- readme-test: skip (installs) -->\n```sh\npip install x\n```\n\n"
        "```console\n$ echo hi   # a comment\nhi\n...\n$ true\n```\n```json\n{}\n```\n"
    )
    skipped, console, data = readme_blocks(text)
    assert skipped.skipped and [c.text for c in skipped.commands] == ["pip install x"]
    assert not console.skipped and [(c.text, c.expected) for c in console.commands] == [
        ("echo hi   # a comment", ["hi"]),
        ("true", []),
    ]
    assert data.language == "json" and data.commands == []


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    repo = _fresh_copy(tmp_path / "repo")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "mlpdesigner").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlpdesigner "$@"\n')
    (shim / "mlpdesigner").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("MLPDESIGNER_DEBUG", "TF_CPP_MIN_LOG_LEVEL")}
    env.update(PATH=f"{shim}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(repo), QT_QPA_PLATFORM="offscreen")
    blocks = [b for b in readme_blocks(README.read_text("utf-8")) if b.language in SHELL_LANGUAGES and not b.skipped]
    for block in blocks:
        for command in block.commands:
            result = subprocess.run(
                ["bash", "-c", command.text], cwd=repo, env=env, capture_output=True, text=True, timeout=300
            )
            where = f"README.md:{command.line}: {command.text}"
            assert result.returncode == 0, f"{where}\nexit {result.returncode}\n{result.stderr[-2000:]}"
            printed = {line.rstrip() for line in result.stdout.splitlines()}
            missing = [line for line in command.expected if line not in printed]
            assert not missing, f"{where}\nexpected output lines not printed: {missing}\ngot:\n{result.stdout[-2000:]}"
    assert (repo / "predictions.csv").is_file() and (repo / "flowers.onnx").is_file()
