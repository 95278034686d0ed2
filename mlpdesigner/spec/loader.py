"""The load pipeline: read, parse, validate, fill defaults, check, plan, lint."""

from __future__ import annotations

import copy
import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..safeio import NotRegularFileError, read_regular
from .defaults import apply_task_defaults, fill_schema_defaults
from .jsonloc import MAX_FILE_BYTES, JSONProblem, SourceMap, decode_bytes, parse_json
from .lint import lint_problems
from .paths import resolve_path
from .plan import Plan, PlanError, build_plan
from .problems import Problem, SpecError
from .schema import schema_problems
from .search import search_problems
from .semantic import semantic_problems

FORMAT = "mlpdesigner/1"


@dataclass
class Spec:
    """A spec as written, with what the pipeline found out about it.

    ``raw`` is the document as written (``None`` when the text is not JSON);
    ``filled`` has every default filled in (``None`` unless schema-valid);
    ``plan`` is the layer graph (``None`` unless free of errors).
    """

    raw: Any
    path: Path | None = None
    text: str | None = None
    problems: list[Problem] = field(default_factory=list)
    filled: dict[str, Any] | None = None
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and advice allowed)."""
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def advice(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def name(self) -> str:
        if isinstance(self.raw, dict) and isinstance(self.raw.get("name"), str):
            return self.raw["name"]
        return self.path.stem if self.path else "spec"

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the spec are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def data_file(self) -> Path | None:
        """Absolute path of the data file, or None when the spec has no data section."""
        if not self.filled or "data" not in self.filled:
            return None
        return resolve_path(self.filled["data"]["path"], self.base_dir)

    def checked(self) -> tuple[dict[str, Any], Plan]:
        """``(filled, plan)`` of a spec without errors; raises :class:`SpecError` when there are errors."""
        self.require_ok()
        if self.filled is None or self.plan is None:  # pragma: no cover - an error-free spec has both
            raise SpecError(self.problems, str(self.path) if self.path else None)
        return self.filled, self.plan

    def require_ok(self) -> Spec:
        """Return self, or raise :class:`SpecError` when there are errors."""
        if not self.ok:
            raise SpecError(self.problems, str(self.path) if self.path else None)
        return self


def locate(problems: list[Problem], text: str | None) -> list[Problem]:
    """The problems with the line and column of their path in ``text`` (those that have none yet)."""
    if text is None:
        return problems
    smap = SourceMap(text)
    out = []
    for problem in problems:
        if problem.line is not None:
            out.append(problem)
            continue
        line, col = smap.position(problem.path, key=bool(problem.extra.get("key")))
        out.append(problem.located(line, col))
    return out


def analyze(raw: Any, *, text: str | None = None, path: Path | None = None) -> Spec:
    """Run the pipeline on a parsed document."""
    spec = Spec(raw=raw, path=path, text=text)
    problems = schema_problems(raw)
    if not problems:
        filled = fill_schema_defaults(raw)
        apply_task_defaults(filled)
        spec.filled = filled
        problems = semantic_problems(filled)
        if not problems:
            try:
                spec.plan = build_plan(filled)
            except PlanError as exc:
                problems = exc.problems
            else:
                problems = lint_problems(filled)
        if isinstance(raw, dict) and "search" in raw:
            base_ok = not any(p.is_error for p in problems)
            problems = problems + search_problems(raw, filled, base_ok=base_ok)
    spec.problems = locate(problems, text)
    return spec


def parse_text(text: str, path: Path | None = None) -> Spec:
    """Analyze spec text (as typed in an editor or read from a file)."""
    try:
        raw = parse_json(text)
    except JSONProblem as exc:
        return Spec(raw=None, path=path, text=text, problems=[exc.problem])
    return analyze(raw, text=text, path=path)


def _size_of(file: Path) -> str:
    try:
        return f"{file.stat().st_size:,} bytes"
    except OSError:
        return "a larger file"


def read_file(path: str | os.PathLike[str]) -> Spec:
    """Read and analyze a spec file; unreadable files become E101/E102 problems."""
    file = Path(path)
    try:
        # Opened without blocking and refused unless a regular file: a FIFO would hang, /dev/zero never end.
        data = read_regular(file, MAX_FILE_BYTES)
    except NotRegularFileError as exc:
        message = f"Cannot read the file: {exc.strerror}. Expected a spec file"
        return Spec(raw=None, path=file, problems=[Problem("error", "E101", "", message, 1, 1)])
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            size = _size_of(file)
            message = f"Expected a spec file of at most {MAX_FILE_BYTES // (1024 * 1024)} MiB. Received: {size}"
            return Spec(raw=None, path=file, problems=[Problem("error", "E107", "", message, 1, 1)])
        reason = exc.strerror or str(exc)
        return Spec(
            raw=None, path=file, problems=[Problem("error", "E101", "", f"Cannot read the file: {reason}", 1, 1)]
        )
    try:
        text = decode_bytes(data)
    except JSONProblem as exc:
        return Spec(raw=None, path=file, problems=[exc.problem])
    return parse_text(text, file.resolve())


def load_spec(source: str | os.PathLike[str] | dict[str, Any] | Spec, *, strict: bool = True) -> Spec:
    """Load a spec from a file path, a dict or a :class:`Spec`.

    With ``strict`` (the default) a spec with errors raises :class:`SpecError`;
    otherwise the returned :class:`Spec` lists them in ``problems``.
    """
    if isinstance(source, Spec):
        spec = source
    elif isinstance(source, dict):
        spec = analyze(copy.deepcopy(source))
    else:
        spec = read_file(source)
    return spec.require_ok() if strict else spec


def validate_spec(source: str | os.PathLike[str] | dict[str, Any] | Spec) -> list[Problem]:
    """Every problem with a spec: errors, warnings and advice."""
    return load_spec(source, strict=False).problems


def dumps(spec: dict[str, Any]) -> str:
    """Serialize a spec the way the designer saves it (2-space indent, UTF-8, final newline)."""
    return json.dumps(spec, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def save_spec(spec: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a spec atomically: a temporary file in the same folder, then a rename."""
    from ..atomic import atomic_write_text

    atomic_write_text(Path(path), dumps(spec))
