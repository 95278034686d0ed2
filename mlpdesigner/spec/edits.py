"""Spec edits as JSON Patch operations, each with an exact inverse (for undo)."""

from __future__ import annotations

import copy
from typing import Any

from .problems import split_pointer

_MISSING = object()


class EditError(ValueError):
    """An edit that does not apply to the document."""


def _parent(doc: Any, ptr: str) -> tuple[Any, str]:
    parts = split_pointer(ptr)
    if not parts:
        raise EditError("Expected a path below the document root. Received: ''")
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise EditError(f"Expected an existing path. Received: {ptr!r}") from None
    return node, parts[-1]


def get(doc: Any, ptr: str, default: Any = _MISSING) -> Any:
    """The value at a JSON pointer."""
    node = doc
    for part in split_pointer(ptr):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            if default is _MISSING:
                raise EditError(f"Expected an existing path. Received: {ptr!r}") from None
            return default
    return node


def apply_op(doc: Any, op: dict[str, Any]) -> dict[str, Any]:
    """Apply one operation in place; return the operation that undoes it."""
    kind, ptr = op["op"], op["path"]
    parent, key = _parent(doc, ptr)
    if isinstance(parent, list):
        index = len(parent) if key == "-" else int(key)
        if kind == "add":
            if not 0 <= index <= len(parent):
                raise EditError(f"Expected an index up to {len(parent)}. Received: {ptr!r}")
            parent.insert(index, copy.deepcopy(op["value"]))
            return {"op": "remove", "path": ptr.rsplit("/", 1)[0] + f"/{index}"}
        if not 0 <= index < len(parent):
            raise EditError(f"Expected an existing item. Received: {ptr!r}")
        if kind == "remove":
            old = parent.pop(index)
            return {"op": "add", "path": ptr, "value": old}
        if kind == "replace":
            old = parent[index]
            parent[index] = copy.deepcopy(op["value"])
            return {"op": "replace", "path": ptr, "value": old}
    elif isinstance(parent, dict):
        old = parent.get(key, _MISSING)
        if kind in ("add", "replace"):
            if kind == "replace" and old is _MISSING:
                raise EditError(f"Expected an existing key. Received: {ptr!r}")
            parent[key] = copy.deepcopy(op["value"])
            return {"op": "remove", "path": ptr} if old is _MISSING else {"op": "replace", "path": ptr, "value": old}
        if kind == "remove":
            if old is _MISSING:
                raise EditError(f"Expected an existing key. Received: {ptr!r}")
            del parent[key]
            return {"op": "add", "path": ptr, "value": old}
    raise EditError(f"Expected an add, remove or replace on an object or array. Received: {op!r}")


def apply_patch(doc: Any, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply operations in place, all or nothing; return the inverse patch."""
    inverse: list[dict[str, Any]] = []
    try:
        for op in ops:
            inverse.insert(0, apply_op(doc, op))
    except Exception:
        for undo in inverse:
            apply_op(doc, undo)
        raise
    return inverse
