"""``mlpdesigner import MODEL -o SPEC.json [--weights [--out DIR]]``."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import UserError
from . import import_model, write_run


def run_import(args: argparse.Namespace) -> int:
    """Write the spec of a model file (and with ``--weights`` a run folder holding its weights)."""
    from ..export import check_output_path
    from ..spec import save_spec

    if args.out and not args.weights:
        print("note: --out applies with --weights only; ignored", file=sys.stderr)
    output = check_output_path(args.output)
    result = import_model(args.model)
    if args.data:
        from .datamap import data_section

        result.spec["data"] = data_section(result.spec, args.data, output.resolve())
    run_dir = write_run(result, args.out, data_file=args.data) if args.weights else None
    try:
        save_spec(result.spec, output)
    except OSError as exc:
        raise UserError(f"Cannot write {output}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps({"spec": str(output), "run_dir": str(run_dir) if run_dir else None, "notes": result.notes}))
        return 0
    topology = {"sequential": "sequential", "wide_deep": "Wide & Deep"}[result.spec["network"]["topology"]]
    print(f"wrote {output} ({topology} {result.spec['name']!r} from {result.path})")
    for note in result.notes:
        print(f"  {note}")
    if run_dir:
        print(f"wrote {run_dir} (the imported weights: evaluate, predict or export it)")
    return 0
