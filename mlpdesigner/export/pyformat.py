"""Safe literals and a small formatter for the Python code the exporter generates.

User strings reach generated code only through :func:`literal` (a ``repr()``
that is checked to read back as the same value) or :func:`identifier` (checked
against a strict pattern, keywords and a caller's reserved names). Expressions
are built as small trees (:class:`Call`, :class:`Seq`, :class:`Mapping`,
:class:`Raw`, :class:`Str`) and laid out in the style ``ruff format`` uses: on
one line when they fit, else one item per line with a trailing comma.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Width of the generated code.
LINE_LENGTH = 88
INDENT = "    "

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")


class UnsafeNameError(ValueError):
    """A string that cannot be used as a Python identifier in generated code."""


def is_identifier(name: object, reserved: Iterable[str] = ()) -> bool:
    """True when ``name`` may appear unquoted in generated code."""
    return (
        isinstance(name, str)
        and bool(_IDENTIFIER.match(name))
        and not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and name not in set(reserved)
    )


def identifier(name: object, reserved: Iterable[str] = ()) -> str:
    """``name`` itself when it is a safe identifier; raises :class:`UnsafeNameError` otherwise."""
    if not is_identifier(name, reserved):
        raise UnsafeNameError(f"Expected a Python identifier (letters, digits, _). Received: {name!r}")
    assert isinstance(name, str)
    return name


def literal(value: Any) -> str:
    """A Python literal for a JSON-like value (str, int, float, bool, None, list, dict).

    Strings go through ``repr()``; double quotes are used where ``repr()`` would
    pick single quotes for no reason (the style of ``ruff format``). Each result
    is parsed back and compared, so a literal can never carry code.
    """
    if isinstance(value, bool) or value is None:
        text = repr(value)
    elif isinstance(value, int):
        text = repr(int(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Expected a finite number. Received: {value!r}")
        text = repr(float(value))
    elif isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
    elif isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        text = f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        )
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    else:
        raise TypeError(f"Expected a JSON-like value. Received: {type(value).__name__}")
    if ast.literal_eval(text) != value:  # pragma: no cover - a defence that should never fire
        raise ValueError(f"Literal does not read back: {value!r}")
    return text


# --------------------------------------------------------------------------- expression trees


@dataclass
class Raw:
    """Code written by the generator itself (never a user string)."""

    code: str


@dataclass
class Str:
    """A string literal; split into implicitly concatenated parts when too long."""

    value: str


@dataclass
class Call:
    """``func(args..., key=value...)``, optionally followed by ``suffix`` (e.g. ``(x)``)."""

    func: str
    args: list[Expr] = field(default_factory=list)
    kwargs: list[tuple[str, Expr]] = field(default_factory=list)
    suffix: str = ""


@dataclass
class Seq:
    """A list (``[...]``) or tuple (``(...)``) display."""

    items: list[Expr]
    brackets: str = "[]"


@dataclass
class Mapping:
    """A dict display with string keys."""

    items: list[tuple[str, Expr]]


Expr = Raw | Str | Call | Seq | Mapping


def value_expr(value: Any) -> Expr:
    """An expression tree for a JSON-like value (strings may split, containers may wrap)."""
    if isinstance(value, str):
        return Str(value)
    if isinstance(value, list):
        return Seq([value_expr(v) for v in value])
    if isinstance(value, dict):
        return Mapping([(k, value_expr(v)) for k, v in value.items()])
    return Raw(literal(value))


def _flat(expr: Expr) -> str:
    if isinstance(expr, Raw):
        return expr.code
    if isinstance(expr, Str):
        return literal(expr.value)
    if isinstance(expr, Call):
        parts = [_flat(a) for a in expr.args] + [f"{k}={_flat(v)}" for k, v in expr.kwargs]
        return f"{expr.func}({', '.join(parts)}){expr.suffix}"
    if isinstance(expr, Seq):
        inner = ", ".join(_flat(i) for i in expr.items)
        if expr.brackets == "()" and len(expr.items) == 1:
            inner += ","
        return expr.brackets[0] + inner + expr.brackets[1]
    inner = ", ".join(f"{literal(k)}: {_flat(v)}" for k, v in expr.items)
    return "{" + inner + "}"


def _split_string(value: str, width: int) -> list[str]:
    """Literals of consecutive pieces of ``value``, each at most ``width`` wide where possible.

    Pieces break after a space when one is near, so words stay whole.
    """
    pieces: list[str] = []
    rest = value
    while rest:
        if len(literal(rest)) <= width:
            pieces.append(literal(rest))
            break
        # The longest prefix whose literal fits (at least one character).
        low, high = 1, len(rest)
        while low < high:
            mid = (low + high + 1) // 2
            if len(literal(rest[:mid])) <= width:
                low = mid
            else:
                high = mid - 1
        cut = low
        space = rest.rfind(" ", 0, cut)
        if space >= cut // 2:
            cut = space + 1
        pieces.append(literal(rest[:cut]))
        rest = rest[cut:]
    return pieces or [literal("")]


def format_expr(expr: Expr, indent: int, first_width: int, trailer: str = "") -> list[str]:
    """Lines (without the first line's indentation) of ``expr``.

    ``first_width`` is the room left on the first line (already taken by a
    prefix such as ``name = ``); ``trailer`` follows the expression (``,``).
    Continuation lines carry their own indentation.
    """
    flat = _flat(expr) + trailer
    if len(flat) <= first_width:
        return [flat]
    pad = INDENT * (indent + 1)
    inner_width = LINE_LENGTH - len(pad)
    if isinstance(expr, Str):
        # A string that fits the indented width but not the first line still moves into parentheses.
        parts = _split_string(expr.value, inner_width)
        return ["("] + [pad + p for p in parts] + [INDENT * indent + ")" + trailer]
    if isinstance(expr, Raw):
        return [flat]
    if isinstance(expr, Call):
        opener = f"{expr.func}("
        closer = f"){expr.suffix}{trailer}"
        entries: list[tuple[str, Expr]] = [("", a) for a in expr.args] + [(f"{k}=", v) for k, v in expr.kwargs]
    elif isinstance(expr, Seq):
        opener, closer = expr.brackets[0], expr.brackets[1] + trailer
        entries = [("", i) for i in expr.items]
    else:
        opener, closer = "{", "}" + trailer
        entries = [(f"{literal(k)}: ", v) for k, v in expr.items]
    lines = [opener]
    for prefix, item in entries:
        sub = format_expr(item, indent + 1, inner_width - len(prefix), ",")
        lines.append(pad + prefix + sub[0])
        lines.extend(sub[1:])
    lines.append(INDENT * indent + closer)
    return lines


def statement(target: str, expr: Expr, indent: int = 0) -> str:
    """``target = expr`` (or just ``expr`` when target is empty), laid out at ``indent``."""
    return line(f"{target} = " if target else "", expr, indent)


def line(prefix: str, expr: Expr, indent: int = 0) -> str:
    """``prefix`` (generator code such as ``return ``) then ``expr``, laid out at ``indent``."""
    start = INDENT * indent + prefix
    return start + "\n".join(format_expr(expr, indent, LINE_LENGTH - len(start)))
