"""Strict JSON reading with source positions.

``parse_json`` decodes with the C parser (fast path) and refuses what JSON
readers usually let through: duplicate keys, NaN/Infinity, numbers that
overflow or have absurd length, lone surrogates, deep nesting. Every refusal
is a :class:`Problem` with a line and column. ``SourceMap`` maps JSON
pointers to positions lazily, only when a problem needs one.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # public since Python 2, not in typeshed

from .problems import Problem, pointer

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 64

_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_WS = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    """The position after any JSON white space at ``pos`` (the pattern always matches, maybe empty)."""
    match = _WS.match(text, pos)
    return match.end() if match else pos
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null")


#: Python's JSON error messages, said the way a person fixing the file needs them.
_SYNTAX_HINTS = {
    "Expecting value": "a value here (a string, number, object, array, true, false or null)",
    "Expecting property name enclosed in double quotes": "a key in double quotes here (JSON allows no trailing comma)",
    "Unterminated string starting at": "a closing quote for the string that starts here",
    "Expecting ',' delimiter": "a comma between the items before this point",
    "Expecting ':' delimiter": "a colon after the key",
    "Extra data": "the end of the file after the top-level value",
    "Invalid control character at": "no raw control character (newline, tab) inside a string; write \\n or \\t",
    "Invalid \\escape": "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
}


def _syntax_message(msg: str) -> str:
    hint = _SYNTAX_HINTS.get(msg)
    return f"Expected valid JSON: {hint}" if hint else f"Expected valid JSON. {msg}"


class JSONProblem(Exception):
    """A located problem raised while reading JSON text."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _fail(code: str, message: str, text: str | None = None, offset: int = 0) -> JSONProblem:
    line, col = line_col(text, offset) if text is not None else (1, 1)
    return JSONProblem(Problem("error", code, "", message, line, col))


def decode_bytes(data: bytes) -> str:
    """Decode a spec file's bytes as UTF-8, refusing BOMs, UTF-16/32 and binary."""
    if len(data) > MAX_FILE_BYTES:
        raise _fail(
            "E107",
            f"Expected a spec file of at most {MAX_FILE_BYTES // (1024 * 1024)} MiB. Received: {len(data):,} bytes",
        )
    head = data[:64]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) >= 8 and (not any(head[1::2]) or not any(head[0::2])) and any(head)
    ):
        raise _fail(
            "E102",
            "Expected UTF-8 text. Received: UTF-16 or UTF-32 encoded text; save the file as UTF-8",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        raise _fail(
            "E102",
            "Expected UTF-8 text without a byte-order mark. Received: a UTF-8 BOM "
            "at the start of the file; save it as plain UTF-8",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        line, col = line_col(good, len(good))
        raise JSONProblem(
            Problem(
                "error",
                "E102",
                "",
                f"Expected UTF-8 text. Received: byte 0x{data[exc.start]:02x} that is not "
                "valid UTF-8 (is this a binary file?)",
                line,
                col,
            )
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _fail("E102", "Expected text. Received: a NUL character (binary data)", text, nul)
    return text


def _check_depth(text: str) -> None:
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _fail(
                    "E106",
                    f"Expected at most {MAX_DEPTH} levels of nesting. Received: deeper nesting",
                    text,
                    match.start(),
                )
        elif token in "]}":
            depth -= 1


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


class _BadNumber(Exception):
    def __init__(self, literal: str, reason: str) -> None:
        self.literal = literal
        self.reason = reason


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _BadNumber(literal, f"a number of at most {MAX_NUMBER_CHARS} characters")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _BadNumber(literal, f"a number of at most {MAX_NUMBER_CHARS} characters")
    value = float(literal)
    if math.isinf(value):
        raise _BadNumber(literal, "a finite number (this one overflows a 64-bit float)")
    return value


def _parse_constant(literal: str) -> object:
    raise _BadNumber(literal, "a finite JSON number (NaN and Infinity are not JSON)")


def parse_json(text: str) -> object:
    """Parse JSON text strictly; raise :class:`JSONProblem` with a position."""
    _check_depth(text)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as exc:
        if not text.strip():
            raise _fail("E103", "Expected a JSON object. Received: an empty file") from None
        raise JSONProblem(
            Problem("error", "E103", "", _syntax_message(exc.msg), exc.lineno, exc.colno)
        ) from None
    except _Duplicate as exc:
        where = SourceMap(text).duplicate_key_position(exc.key)
        raise JSONProblem(
            Problem(
                "error",
                "E104",
                where[0],
                f"Expected each key once per object. Received: {exc.key!r} twice",
                where[1],
                where[2],
            )
        ) from None
    except _BadNumber as exc:
        offset = _find_literal(text, exc.literal)
        line, col = line_col(text, offset)
        raise JSONProblem(
            Problem(
                "error",
                "E105",
                SourceMap(text).pointer_at(offset),
                f"Expected {exc.reason}. Received: {_clip(exc.literal)}",
                line,
                col,
            )
        ) from None
    except RecursionError:
        raise _fail("E106", "Expected less deeply nested JSON", text, 0) from None
    bad = _find_surrogate(value, "")
    if bad is not None:
        line, col = SourceMap(text).position(bad)
        raise JSONProblem(
            Problem(
                "error",
                "E108",
                bad,
                "Expected text of valid Unicode characters. Received: a lone surrogate escape",
                line,
                col,
            )
        )
    return value


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _find_literal(text: str, literal: str) -> int:
    for match in re.finditer(re.escape(literal), text):
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if not (before.isalnum() or before in ".-+") and not (after.isalnum() or after == "."):
            return match.start()
    found = text.find(literal)
    return max(found, 0)


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find_surrogate(value: object, path: str) -> str | None:
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if _has_surrogate(node):
                return where
        elif isinstance(node, dict):
            for key, child in node.items():
                if _has_surrogate(key):
                    return where
                stack.append((child, where + pointer(key)))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                stack.append((child, where + pointer(index)))
    return None


class SourceMap:
    """Positions of values (and keys) in JSON text, by JSON pointer.

    Built on first use by an iterative scan, so deep or large documents cost
    nothing until a problem has to be located.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts: list[int] | None = None
        self._values: dict[str, int] | None = None
        self._keys: dict[str, int] = {}
        self._duplicates: list[tuple[str, str, int]] = []

    def _build(self) -> dict[str, int]:
        if self._values is not None:
            return self._values
        values: dict[str, int] = {}
        text = self.text
        pos = _skip_space(text, 0)
        # Each frame: [kind, path, next index or None, seen keys]
        stack: list[list] = []
        path = ""
        try:
            while True:
                pos = _skip_space(text, pos)
                values.setdefault(path, pos)
                ch = text[pos]
                if ch == "{":
                    pos = _skip_space(text, pos + 1)
                    if text[pos] == "}":
                        pos += 1
                    else:
                        stack.append(["obj", path, set()])
                        path, pos = self._read_key(stack[-1], pos)
                        continue
                elif ch == "[":
                    pos = _skip_space(text, pos + 1)
                    if text[pos] == "]":
                        pos += 1
                    else:
                        stack.append(["arr", path, 0])
                        path = path + "/0"
                        continue
                elif ch == '"':
                    _, pos = scanstring(text, pos + 1)
                else:
                    match = _NUMBER.match(text, pos)
                    if match:
                        pos = match.end()
                    else:
                        for lit in (*_LITERALS, "NaN", "Infinity", "-Infinity"):
                            if text.startswith(lit, pos):
                                pos += len(lit)
                                break
                        else:
                            break
                # after a value: close containers or move to the next member
                while stack:
                    pos = _skip_space(text, pos)
                    frame = stack[-1]
                    if text[pos] == ",":
                        pos = _skip_space(text, pos + 1)
                        if frame[0] == "obj":
                            path, pos = self._read_key(frame, pos)
                        else:
                            frame[2] += 1
                            path = f"{frame[1]}/{frame[2]}"
                        break
                    pos += 1  # the closing bracket
                    stack.pop()
                else:
                    break
        except (IndexError, ValueError):
            pass
        self._values = values
        return values

    def _read_key(self, frame: list, pos: int) -> tuple[str, int]:
        key, end = scanstring(self.text, pos + 1)
        child = frame[1] + pointer(key)
        if key in frame[2]:
            self._duplicates.append((key, child, pos))
        else:
            self._keys[child] = pos
        frame[2].add(key)
        end = _skip_space(self.text, end)
        return child, end + 1  # skip ':'

    def offset(self, ptr: str, *, key: bool = False) -> int | None:
        """Character offset of the value (or its key) at ``ptr``; nearest parent if absent."""
        values = self._build()
        if key and ptr in self._keys:
            return self._keys[ptr]
        while True:
            if ptr in values:
                return values[ptr]
            if not ptr:
                return None
            ptr = ptr.rsplit("/", 1)[0]

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset (line starts indexed once)."""
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def position(self, ptr: str, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) for a JSON pointer (nearest existing parent)."""
        return self.line_col(self.offset(ptr, key=key) or 0)

    def pointer_at(self, offset: int) -> str:
        """The JSON pointer of the value that starts at a character offset ("" if none)."""
        for ptr, start in self._build().items():
            if start == offset:
                return ptr
        return ""

    def duplicate_key_position(self, key: str) -> tuple[str, int, int]:
        """Pointer, line and column of the second occurrence of a duplicated key."""
        self._build()
        for dup_key, ptr, offset in self._duplicates:
            if dup_key == key:
                line, col = line_col(self.text, offset)
                return ptr, line, col
        return "", 1, 1
