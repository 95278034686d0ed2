"""Problems: errors, warnings and advice about a spec, each tied to a place."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: Stable problem codes. E1xx: the file; E2xx: the schema; E3xx: meaning;
#: W4xx: design advice; I5xx: informational advice; H6xx: advice from a run's layer health
#: (:mod:`mlpdesigner.train.health`).
CODES: dict[str, str] = {
    "E101": "file cannot be read",
    "E102": "file is not UTF-8 text",
    "E103": "JSON syntax error",
    "E104": "duplicate key",
    "E105": "number not allowed (NaN, Infinity, out of range or too long)",
    "E106": "nesting too deep",
    "E107": "file too large",
    "E108": "string holds a lone surrogate",
    "E201": "wrong type",
    "E202": "missing required key",
    "E203": "unknown key",
    "E204": "value not allowed",
    "E205": "number out of range",
    "E206": "bad name",
    "E207": "wrong length",
    "E299": "schema violation",
    "E301": "duplicate name",
    "E302": "reference does not resolve",
    "E303": "shapes do not fit",
    "E304": "topology misuse",
    "E305": "output does not fit its task",
    "E306": "data mapping does not fit",
    "E307": "data file not found or unreadable",
    "E308": "mapped columns are not in the data file",
    "E309": "search range is malformed or points nowhere",
    "E310": "search range gives an invalid spec",
    "W401": "softmax on a single unit",
    "W402": "output activation does not fit the task",
    "W403": "loss does not fit the task",
    "W404": "vanishing gradients",
    "W405": "ReLU family with Glorot initialization",
    "W406": "SELU without self-normalizing setup",
    "W407": "dropout right before an output",
    "W408": "bias right before batch normalization",
    "W409": "softmax in a hidden layer",
    "W410": "dropout rate too high",
    "W411": "learning rate too high for Adam",
    "W412": "batch normalization repeated",
    "W413": "batch larger than the training rows",
    "W414": "linear dense layer repeated",
    "I501": "depth outside the typical range",
    "I502": "width outside the typical range",
    "I503": "search ranges present (train ignores them)",
    "H601": "vanishing gradients measured in training",
    "H602": "exploding gradients measured in training",
    "H603": "dead ReLU units measured in training",
    "H604": "saturated units measured in training",
}


@dataclass(frozen=True)
class Problem:
    """One finding about a spec.

    ``path`` is a JSON pointer into the spec ("" is the whole document);
    ``line``/``column`` are 1-based and set when the spec came from text.
    ``fix`` is a JSON Patch (RFC 6902 list of operations) that resolves the
    finding when applied to the spec as written.
    """

    severity: Severity
    code: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    fix: tuple[dict[str, Any], ...] | None = None
    fix_title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def located(self, line: int | None, column: int | None) -> Problem:
        """Return a copy with a source position."""
        return replace(self, line=line, column=column)

    def format(self, filename: str = "<spec>") -> str:
        """Render as ``FILE:LINE:COL: severity CODE /path: message``."""
        line = self.line if self.line is not None else 1
        column = self.column if self.column is not None else 1
        path = self.path or "/"
        return f"{filename}:{line}:{column}: {self.severity} {self.code} {path}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output and the GUI."""
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }
        if self.fix is not None:
            out["fix"] = list(self.fix)
            out["fix_title"] = self.fix_title
        return out


class SpecError(Exception):
    """Raised when a spec cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        errors = [p for p in problems if p.is_error] or problems
        name = source or "<spec>"
        lines = [p.format(name) for p in errors[:20]]
        if len(errors) > 20:
            lines.append(f"... and {len(errors) - 20} more")
        super().__init__("invalid spec:\n" + "\n".join(lines))


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer from path parts, escaping ``~`` and ``/``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def split_pointer(ptr: str) -> list[str]:
    """Split a JSON pointer into its unescaped parts."""
    if not ptr:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]
