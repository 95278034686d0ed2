"""The spec layer: pure Python and jsonschema, no Keras, no Qt."""

from .edits import EditError, apply_patch
from .loader import FORMAT, Spec, analyze, dumps, load_spec, parse_text, read_file, save_spec, validate_spec
from .plan import Plan, build_plan
from .problems import CODES, Problem, SpecError
from .summary import Summary, summarize

__all__ = [
    "CODES",
    "FORMAT",
    "EditError",
    "Plan",
    "Problem",
    "Spec",
    "SpecError",
    "Summary",
    "analyze",
    "apply_patch",
    "build_plan",
    "dumps",
    "load_spec",
    "parse_text",
    "read_file",
    "save_spec",
    "summarize",
    "validate_spec",
]
