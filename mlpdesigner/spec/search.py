"""The spec's ``search`` section: ranges of values for ``mlpdesigner search`` to try.

Each key is a JSON pointer to a field of the spec; each value one domain::

    "search": {
      "/network/layers/0/units": {"int": [10, 100], "step": 10},
      "/network/layers/0/activation": {"choice": ["relu", "selu"]},
      "/training/optimizer/learning_rate": {"log": [1e-4, 1e-1]}
    }

The rest of the spec is the base design (``train`` ignores the section). The
checks here run after the schema's: a pointer must reach a field of the spec,
a domain must be well formed, and every end of a range (every choice) must
give a valid spec when put in the base.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from .problems import Problem, pointer, split_pointer

KINDS = ("int", "float", "log", "choice")

#: Top-level sections a search may not change.
FIXED = ("format", "search")


@dataclass(frozen=True)
class Domain:
    """One field's range: ``kind`` is int, float, log or choice; ``values`` are [low, high] or the choices."""

    field: str
    kind: str
    values: tuple[Any, ...]
    step: int = 1

    @property
    def low(self) -> Any:
        return self.values[0]

    @property
    def high(self) -> Any:
        return self.values[-1]

    def ends(self) -> list[Any]:
        """The values whose validity stands for the whole domain: both ends of a range, every choice."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            last = self.low + (self.high - self.low) // self.step * self.step
            return sorted({self.low, last})
        # Sampled values are floats: an integer field refuses 1.5 (and 1.0), whatever the ends are written as.
        return sorted({float(self.low), (self.low + self.high) / 2, float(self.high)})

    def grid(self, points: int = 3) -> list[Any]:
        """Values for a grid search: every int (by step) and choice; ``points`` values across a float/log range."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            return list(range(self.low, self.high + 1, self.step))
        if self.low == self.high:
            return [self.low]
        if self.kind == "log":
            ratio = (self.high / self.low) ** (1 / (points - 1))
            return [self.low * ratio**i for i in range(points - 1)] + [self.high]
        gap = (self.high - self.low) / (points - 1)
        return [self.low + gap * i for i in range(points - 1)] + [self.high]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.kind: list(self.values)}
        if self.kind == "int" and self.step != 1:
            out["step"] = self.step
        return out


def search_key_path(field: str) -> str:
    """The JSON pointer of a search entry (its key escaped: ``/search/~1training~1epochs``)."""
    return pointer("search", field)


def _error(code: str, field: str, message: str, *, key: bool = False) -> Problem:
    return Problem("error", code, search_key_path(field), message, extra={"key": True} if key else {})


def _describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_domain(field: str, entry: dict[str, Any]) -> tuple[Domain | None, list[Problem]]:
    """The domain of a schema-valid entry, or the problems that make it unusable."""
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        received = ", ".join(kinds) if kinds else "none"
        return None, [_error("E309", field, f"Expected exactly one of int, float, log or choice for {field}. "
                                            f"Received: {received}")]
    kind = kinds[0]
    values = tuple(entry[kind])
    step = entry.get("step", 1)
    if "step" in entry and kind != "int":
        return None, [_error("E309", field, f"Expected step only with an int range. Received: step with {kind}")]
    if kind != "choice":
        low, high = values
        if low > high:
            return None, [_error("E309", field, f"Expected low <= high in the {kind} range of {field}. "
                                                f"Received: [{_describe(low)}, {_describe(high)}]")]
        if kind == "log" and low <= 0:
            return None, [_error("E309", field, f"Expected low > 0 in the log range of {field} (a log scale "
                                                f"has no zero). Received: low={_describe(low)}")]
        if kind == "int" and step > high - low and high > low:
            return None, [_error("E309", field, f"Expected a step of at most high - low = {high - low} in the "
                                                f"int range of {field}. Received: step={step}")]
    elif len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
        return None, [_error("E309", field, f"Expected distinct choices for {field}. Received: {_describe(values)}")]
    return Domain(field, kind, values, step), []


def _resolve(doc: Any, field: str) -> tuple[bool, Any, str]:
    """(found, value, why not): whether ``field`` names an existing value, or a missing key of an existing object."""
    parts = split_pointer(field)
    node = doc
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = pointer(*parts[: depth + 1])
        if isinstance(node, dict):
            if part not in node:
                if last:
                    return True, None, ""  # a key the base leaves out: the candidates' validation decides
                return False, None, f"the spec has no {here}"
            node = node[part]
        elif isinstance(node, list):
            if not (part.isdigit() and (part == "0" or not part.startswith("0"))) or int(part) >= len(node):
                return False, None, f"the spec has no {here}; {pointer(*parts[:depth]) or '/'} has {len(node)} items"
            node = node[int(part)]
        else:
            return False, None, f"{pointer(*parts[:depth])} is {_describe(node)}, not an object or an array"
    return True, node, ""


def with_values(raw: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec with each pointer set to its value and the search section removed."""
    spec = copy.deepcopy(raw)
    spec.pop("search", None)
    for field, value in values.items():
        parts = split_pointer(field)
        node: Any = spec
        for part in parts[:-1]:
            if isinstance(node, list):
                node = node[int(part)]
            else:
                node = node.setdefault(part, {})
        if isinstance(node, list):
            node[int(parts[-1])] = copy.deepcopy(value)
        else:
            node[parts[-1]] = copy.deepcopy(value)
    return spec


def domains(raw: Any) -> dict[str, Domain]:
    """The well-formed domains of a spec's search section (entries with problems are left out)."""
    section = raw.get("search") if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        return {}
    found = {}
    for field, entry in section.items():
        if isinstance(entry, dict):
            domain, problems = parse_domain(field, entry)
            if domain is not None:
                found[field] = domain
    return found


def search_problems(raw: dict[str, Any], filled: dict[str, Any], *, base_ok: bool) -> list[Problem]:
    """Problems of a schema-valid spec's search section; with ``base_ok``, each range end is tried in the base."""
    from .loader import analyze  # the candidates go through the whole pipeline

    section = raw.get("search")
    if not isinstance(section, dict):
        return []
    problems: list[Problem] = []
    if section:
        problems.append(Problem("info", "I503", "/search", f"{len(section)} search range(s): mlpdesigner search "
                                "tries them; train uses the base values and ignores this section", extra={"key": True}))
    for field, entry in section.items():
        parts = split_pointer(field)
        if not field.startswith("/") or not parts or parts[0] in FIXED:
            problems.append(_error("E309", field, "Expected a JSON pointer to a field of the spec, such as "
                                   f"/training/optimizer/learning_rate. Received: {_describe(field)}", key=True))
            continue
        domain, found = parse_domain(field, entry)
        if domain is None:
            problems += found
            continue
        exists, current, why = _resolve(filled, field)
        if not exists:
            problems.append(_error("E309", field, f"Expected a pointer to a field of the spec. Received: {field} "
                                   f"({why})", key=True))
            continue
        numeric = domain.kind != "choice"
        article = "an" if domain.kind == "int" else "a"
        if numeric and current is not None and (isinstance(current, bool) or not isinstance(current, (int, float))):
            problems.append(_error("E309", field, f"Expected a numeric field for {article} {domain.kind} range; "
                                   f"{field} holds {_describe(current)}. Use choice for other values", key=True))
            continue
        if not base_ok:
            continue
        for value in domain.ends():
            candidate = analyze(with_values(raw, {field: value}))
            errors = candidate.errors
            if errors:
                first = errors[0]
                where = f" at {first.path}" if first.path and first.path != field else ""
                problems.append(_error("E310", field, f"Expected every value of {field} to give a valid spec. "
                                       f"Received: {_describe(value)}, which does not{where}: {first.message}"))
                break
    return problems



#: Fields searched on a log scale when the designer suggests a range.
LOG_FIELDS = ("learning_rate", "l1", "l2", "weight_decay", "epsilon", "min_lr", "clipnorm", "clipvalue")


def suggested_domain(raw: dict[str, Any], field: str, schema: dict[str, Any], current: Any) -> dict[str, Any] | None:
    """A first range for a field (the designer's "search this field"): every valid enum value, or around the value.

    ``schema`` is the field's schema, ``current`` its value (None when unset: the default is used). Returns None
    for a field with no range to suggest.
    """
    from .loader import analyze

    if "enum" in schema:
        valid = [v for v in schema["enum"] if analyze(with_values(raw, {field: v})).ok]
        return {"choice": valid} if len(valid) > 1 else None
    value = current if current is not None else schema.get("default")
    kind = schema.get("type")
    if kind not in ("integer", "number") or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    low_bound = schema.get("minimum", schema.get("exclusiveMinimum"))
    high_bound = schema.get("maximum", schema.get("exclusiveMaximum"))
    if kind == "integer":
        low, high = max(1, value // 2), max(2, value * 2)
        if split_pointer(field)[-1] == "repeat":  # the number of layers: from one up, past the current depth
            low, high = 1, max(3, value * 2)
        if low_bound is not None:
            low = max(low, int(low_bound))
        if high_bound is not None:
            high = min(high, int(high_bound))
        return {"int": [low, high]} if low < high else None
    name = split_pointer(field)[-1]
    if name in LOG_FIELDS and value > 0:
        low, high = value / 10, value * 10
        log = True
    else:
        low, high = value / 2, value * 2 if value else 0.5
        log = False
    if low_bound is not None:
        low = max(low, low_bound + (1e-6 if "exclusiveMinimum" in schema and low <= low_bound else 0))
    if high_bound is not None:
        high = min(high, high_bound * (0.9 if "exclusiveMaximum" in schema else 1))
    low, high = float(f"{low:.3g}"), float(f"{high:.3g}")
    if not low < high:
        return None
    return {"log" if log else "float": [low, high]}
