"""``mlpdesigner export SOURCE --format onnx|keras|python -o OUT``."""

from __future__ import annotations

import argparse
import json
import sys

from . import DEFAULT_OPSET, DEFAULT_TOLERANCE, export_keras, export_onnx, export_python, load_source


def run_export(args: argparse.Namespace) -> int:
    """Export a spec or a run folder; prints what was written (and the ONNX parity figure).

    With ``--json`` it prints the report as one JSON object instead (``format``,
    ``path``, ``trained``, and for ONNX ``opset``, ``tolerance``, ``max_abs_diff``
    and the individual ``checks``).

    An invalid spec raises :class:`~mlpdesigner.spec.SpecError` and a bad path
    or failed check a :class:`~mlpdesigner.errors.UserError`; the CLI prints both
    without a traceback.
    """
    fmt = args.format
    source = load_source(args.source)
    if fmt == "onnx":
        opset = DEFAULT_OPSET if args.opset is None else args.opset
        tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
        report = export_onnx(source, args.output, opset=opset, tolerance=tolerance)
        if getattr(args, "json", False):
            print(json.dumps(report.to_json()))
            return 0
        kind = "trained" if report.trained else "untrained (seeded)"
        print(f"wrote {report.path} (ONNX opset {report.opset}, {kind} weights)")
        print(report.summary())
        return 0
    for option in ("opset", "tolerance"):
        if getattr(args, option, None) is not None:
            print(f"note: --{option} applies to --format onnx only; ignored", file=sys.stderr)
    if fmt == "keras":
        report_k = export_keras(source, args.output)
        print(json.dumps(report_k.to_json()) if getattr(args, "json", False) else report_k.summary())
        return 0
    report_p = export_python(source, args.output, with_training=bool(args.with_training))
    print(json.dumps(report_p.to_json()) if getattr(args, "json", False) else report_p.summary())
    return 0
