"""Access to the data folders that ship with the package.

In a wheel, ``schemas/``, ``templates/`` and ``resources/`` are installed as
``mlpdesigner/_data/<folder>``; in a source checkout they sit beside the
package. Both are read through :mod:`importlib.resources`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from importlib.resources.abc import Traversable

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def data_dir(folder: str) -> Traversable:
    """The shipped folder ``schemas``, ``templates`` or ``resources``."""
    packaged = resources.files("mlpdesigner").joinpath("_data").joinpath(folder)
    if packaged.is_dir():
        return packaged
    return _SOURCE_ROOT / folder


def data_path(folder: str, *parts: str) -> Path:
    """A filesystem path to a shipped file (wheels install as plain files)."""
    return Path(str(data_dir(folder).joinpath(*parts)))


@cache
def schema() -> dict[str, Any]:
    """The spec's JSON Schema."""
    return json.loads(data_dir("schemas").joinpath("mlp-spec-1.schema.json").read_text("utf-8"))


def examples_dir() -> Path:
    """Folder of the starter designs."""
    return data_path("resources", "examples")


def example_names() -> list[str]:
    """Names of the starter designs, sorted."""
    return sorted(p.stem for p in examples_dir().glob("*.json"))


def example_path(name: str) -> Path:
    """Path of a starter design by name; raises KeyError listing the names."""
    path = examples_dir() / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"Expected one of {', '.join(example_names())}. Received: {name!r}")
    return path
