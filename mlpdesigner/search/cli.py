"""The ``search`` command: arguments in, a search folder and a short report out."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ExitCode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``search`` command's options."""
    parser.add_argument("spec", metavar="SPEC", help="a spec with a search section")
    parser.add_argument("--trials", type=int, default=10, metavar="N", help="trials to run (default 10)")
    parser.add_argument("--parallel", type=int, default=1, metavar="K", help="trials at a time (default 1)")
    parser.add_argument("--time-budget", type=float, metavar="S", help="stop starting trials after S seconds")
    parser.add_argument("--address", metavar="ADDR", help="an existing Ray cluster (ray start --head) instead of "
                        "a local Ray started for this search")
    parser.add_argument("--out", metavar="DIR", help="the search folder (default searches/<name>-<timestamp>)")
    parser.add_argument("--algorithm", choices=["tpe", "random", "grid"], default="tpe",
                        help="tpe: Optuna's TPE (default); random; grid: every int and choice, 3 points per range")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted search in --out DIR")
    parser.add_argument("--threads", type=int, default=1, metavar="N", help="CPU threads per trial (default 1)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run_search_command(args: argparse.Namespace) -> int:
    """Run the search the arguments describe; 0 when it finished or was stopped, 1 when no trial succeeded."""
    from .runner import run_search

    if args.threads < 1:
        from ..errors import UserError

        raise UserError(f"--threads: Expected threads per trial >= 1. Received: {args.threads}")
    result = run_search(args.spec, trials=args.trials, parallel=args.parallel, time_budget=args.time_budget,
                        address=args.address, out=args.out, algorithm=args.algorithm, resume=args.resume,
                        threads=args.threads)
    counts: dict[str, int] = {}
    for trial in result.trials:
        counts[trial["status"]] = counts.get(trial["status"], 0) + 1
    if args.json:
        print(json.dumps({"folder": str(result.folder), "interrupted": result.interrupted, "counts": counts,
                          "best": result.best}, indent=2, default=str))
    else:
        shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"{result.folder}: {len(result.trials)} trials ({shown})")
        if result.best:
            print(f"best: trial {result.best['trial']}, val_loss {result.best['best_val_loss']:.5g}, "
                  f"{json.dumps(result.best['params'])}")
            print(f"best spec: {result.folder / 'best.json'}")
        if result.interrupted:
            print(f"stopped: continue with mlpdesigner search {args.spec} --out {result.folder} --resume",
                  file=sys.stderr)
    if result.best is None and not result.interrupted:
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)
