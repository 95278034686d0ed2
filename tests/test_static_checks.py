"""The layers of DESIGN.md, enforced: import contracts (lint-imports) and a type check of the core (mypy).

Both read their settings from pyproject.toml ([tool.importlinter], [tool.mypy]),
so CI runs them through the README's test command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_tool(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="import-linter 2.17 (the tested release) needs Python 3.11")
def test_import_contracts_hold() -> None:
    """spec imports no Keras/Qt/upper package; gui no TensorFlow, Keras, compiler or runner; only gui imports Qt."""
    result = run_tool("import sys; from importlinter.cli import lint_imports_command; "
                      "sys.argv = ['lint-imports', '--no-cache', '--no-logo']; lint_imports_command()")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout


def test_core_packages_type_check() -> None:
    result = run_tool("import sys; from mypy import api; out, err, code = api.run([]); "
                      "print(out); print(err, file=sys.stderr); sys.exit(code)")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
