"""The ``mlpdesigner`` command line: the same operations as the designer, without a screen.

This module holds argument parsing and dispatch only; each command's work is
in the core. Heavy modules (TensorFlow, Qt) are imported inside the commands
that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .errors import ExitCode, UserError, exit_code_for
from .headless import headless_help
from .spec import Spec, SpecError, read_file

#: The design the designer opens when started without a file.
DEFAULT_EXAMPLE = "wide_deep_aux_output"

#: Codes of problems that mean the file could not be read at all.
UNREADABLE = {"E101", "E102", "E107"}


def _print_problems(spec: Spec, stream=None, *, advice: bool = True) -> None:
    stream = stream or sys.stdout
    name = str(spec.path) if spec.path else "<spec>"
    for problem in spec.problems:
        if advice or problem.is_error:
            print(problem.format(name), file=stream)


def _load_or_fail(path: str) -> Spec:
    spec = read_file(path)
    if not spec.ok:
        raise SpecError(spec.problems, path)
    return spec


def cmd_validate(args: argparse.Namespace) -> int:
    worst = ExitCode.OK
    reports = []
    for file in args.files:
        spec = read_file(file)
        codes = {p.code for p in spec.errors}
        status = ExitCode.BAD_INPUT if codes & UNREADABLE else (ExitCode.FAILED if codes else ExitCode.OK)
        worst = max(worst, status)
        if args.json:
            reports.append(
                {
                    "file": file,
                    "valid": status == 0,
                    "problems": [p.to_json() for p in spec.problems],
                }
            )
            continue
        display = Spec(raw=spec.raw, path=Path(file), problems=spec.problems)
        _print_problems(display, advice=not args.errors_only)
        data_notes = 0
        if status == 0 and getattr(args, "data", None):
            data_status, data_notes = _check_data(spec, args)
            if data_status:
                status = ExitCode.FAILED
            worst = max(worst, status)
        if status == 0 and not args.quiet:
            warnings = sum(1 for p in spec.problems if not p.is_error)
            notes = [f"{warnings} advice"] * bool(warnings) + [f"{data_notes} data advice"] * bool(data_notes)
            print(f"{file}: valid" + (f" ({', '.join(notes)})" if notes else ""))
    if args.json:
        print(json.dumps(reports if len(reports) != 1 else reports[0], indent=2))
    return worst


def _check_data(spec: Spec, args: argparse.Namespace) -> tuple[int, int]:
    """``validate --data``: read and split the spec's data (or FILE) and print the located data advice.

    (status, advice count): status 1 when the data cannot be trained on (the error is printed).
    """
    from .data.checks import data_checks

    data_file = args.data if isinstance(args.data, str) else None
    try:
        advice = data_checks(spec, data_file)
    except UserError as exc:
        print(f"error: {exc}")
        return 1, 0
    if not args.errors_only:
        for entry in advice:
            print(entry.format())
    return 0, len(advice)


def cmd_summary(args: argparse.Namespace) -> int:
    spec = _load_or_fail(args.file)
    if args.keras:
        from .compile import build_model
        from .train.memory import check_build_fits

        assert spec.plan is not None
        too_big = check_build_fits(spec.plan, f"summary --keras of {args.file}")
        if too_big:
            raise UserError(too_big)

        model = build_model(spec, compile=False)
        model.summary(print_fn=lambda line, **_: print(line))
        return 0
    from .spec import summarize

    summary = summarize(spec)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(summary.format_table())
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train.cli import run_train

    return run_train(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .train.cli import run_evaluate

    return run_evaluate(args)


def cmd_predict(args: argparse.Namespace) -> int:
    from .train.cli import run_predict

    return run_predict(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from .train.cli import run_demo

    return run_demo(args)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    path = write_report(args.run, args.output)
    print(f"Wrote {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export.cli import run_export

    return run_export(args)


def cmd_search(args: argparse.Namespace) -> int:
    from .search.cli import run_search_command

    return run_search_command(args)


def cmd_import(args: argparse.Namespace) -> int:
    from .importer.cli import run_import

    return run_import(args)


#: Qt platforms that draw no window a person can see: the event loop would wait forever.
INVISIBLE_PLATFORMS = ("offscreen", "minimal")


def _qt_platform() -> str:
    return os.environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()


def _has_display() -> bool:
    """True when a window opened here would be visible (or the platform plugin decides, e.g. xcb, wayland)."""
    platform = _qt_platform()
    if platform:
        return platform not in INVISIBLE_PLATFORMS
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _no_window_reason() -> str:
    platform = _qt_platform()
    if platform in INVISIBLE_PLATFORMS:
        return (
            f"QT_QPA_PLATFORM={platform} draws no visible window, so the designer would wait for a window "
            "nobody can see; it only serves --screenshot."
        )
    return "No display found (DISPLAY and WAYLAND_DISPLAY are unset), so the designer window cannot open."


def cmd_gui(args: argparse.Namespace) -> int:
    screenshot = getattr(args, "screenshot", None)
    if not _has_display() and not screenshot:
        from .resources import example_path
        from .spec import summarize

        file = args.file or str(example_path(DEFAULT_EXAMPLE))
        spec = _load_or_fail(file)
        print(f"{_no_window_reason()}\n{headless_help(file)}", file=sys.stderr)
        if getattr(args, "train", False):
            raise UserError("--train needs the designer window. Expected a display, or --screenshot OUT.png")
        print(f"The summary of {file}:\n", file=sys.stderr)
        print(summarize(spec).format_table())
        return ExitCode.OK
    if screenshot and not _has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from .gui.app import run_gui
    except ImportError as exc:  # PySide6 missing or the designer not built in this install
        raise UserError(f"The designer window is not available: {exc}") from None
    return run_gui(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    parser = argparse.ArgumentParser(
        prog="mlpdesigner",
        description="Design, train and export multilayer perceptrons. Without a command, opens the designer.",
        epilog="Exit codes of every command: 0 done; 1 problems found (invalid spec in validate, failed run, "
        "failed export check); 2 bad input or usage; 3 internal error; 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("validate", cmd_validate, "check spec files: exit 0 valid, 1 invalid, 2 unreadable")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--errors-only", action="store_true", help="do not print warnings and advice")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    p.add_argument(
        "--data",
        nargs="?",
        const=True,
        metavar="FILE",
        help="also read the spec's data (or FILE) as training would and print located data advice",
    )

    p = add("summary", cmd_summary, "layers, output shapes and parameter counts (no TensorFlow)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--keras", action="store_true", help="build the real Keras model and print its own summary")

    p = add("train", cmd_train, "train a spec on its data and write a run folder")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--data", metavar="FILE", help="data file instead of the spec's data path")
    p.add_argument("--epochs", type=int, metavar="N")
    p.add_argument("--batch-size", type=int, metavar="N")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<name>-<timestamp>)")
    p.add_argument(
        "--progress",
        choices=["bar", "jsonl", "none"],
        default=None,
        help="bar (default when stdout is a terminal), jsonl (only JSON events on stdout), none (default otherwise)",
    )
    p.add_argument("--seed", type=int, metavar="N", help="override the spec's seed")
    p.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="K-fold cross-validation (stratified for classification): one run per fold, mean ± std per metric",
    )
    p.add_argument(
        "--init-from",
        metavar="RUN_DIR",
        help="start from the weights of a finished or imported run (same architecture): fine-tuning",
    )

    p = add("evaluate", cmd_evaluate, "metrics of a trained run on its test split or on a data file")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--data", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--views", action="store_true",
                   help="also (re)write the run's evaluation views (evaluation.json and pictures) from its test split")
    p.add_argument("--engine", choices=["auto", "onnx", "keras"], default="auto",
                   help="auto (default): the run's model.onnx on onnxruntime, Keras where there is none")

    p = add("predict", cmd_predict, "predictions of a trained run for a data file")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--data", metavar="FILE", required=True)
    p.add_argument("-o", "--output", metavar="OUT.csv", required=True)
    p.add_argument("--engine", choices=["auto", "onnx", "keras"], default="auto",
                   help="auto (default): the run's model.onnx on onnxruntime, Keras where there is none")

    p = add("report", cmd_report, "one self-contained HTML page about a run: design, data, curves, metrics, views")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("-o", "--output", metavar="OUT.html", required=True)

    p = add("export", cmd_export, "export a spec or run to ONNX, .keras or Python code")
    p.add_argument("source", metavar="SOURCE", help="a spec file (untrained weights) or a run folder")
    p.add_argument("--format", choices=["onnx", "keras", "python"], required=True)
    p.add_argument("-o", "--output", metavar="OUT", required=True)
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    p.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="ONNX check: largest difference allowed (absolute up to |output| 1, relative above; default 1e-5)",
    )
    p.add_argument("--with-training", action="store_true", help="python: include data loading and fit")
    p.add_argument("--json", action="store_true", help="print the export report as one JSON object")

    p = add("import", cmd_import, "read a .keras or .onnx MLP and write the equivalent spec")
    p.add_argument("model", metavar="MODEL", help="a .keras or .onnx file")
    p.add_argument("-o", "--output", metavar="SPEC.json", required=True, help="the spec file to write")
    p.add_argument(
        "--weights",
        action="store_true",
        help="also bring the trained weights: write a run folder (model + spec + run.json marked imported)",
    )
    p.add_argument("--out", metavar="DIR", help="with --weights: the run folder (default runs/<name>-<timestamp>)")
    p.add_argument(
        "--data",
        metavar="FILE",
        help="a CSV file whose columns are the model's features then its targets, in order (the spec's data section)",
    )
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")

    from .search.cli import add_arguments as add_search_arguments

    add_search_arguments(add("search", cmd_search, "try the spec's search ranges on Ray Tune; write the best spec"))

    p = add("gui", cmd_gui, "open the designer window")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit")
    p.add_argument("--train", action="store_true", help="train the design in the window first (with --screenshot)")
    p.add_argument("--epochs", type=int, metavar="N", help="with --train: epochs instead of the spec's")

    p = add("demo", cmd_demo, "train a built-in Wide & Deep design on bundled data")
    p.add_argument("--out", metavar="DIR")
    return parser


#: Commands that may end the process with ``os._exit`` once their files are written (see :func:`exit_now`).
FAST_EXIT_COMMANDS = frozenset({"train", "demo", "evaluate", "predict", "export", "import", "summary"})


def exit_now(code: int) -> None:
    """End the process at once when TensorFlow is loaded: flush stdout and stderr, then ``os._exit(code)``.

    Every file a command writes is complete (atomically renamed into place) before
    it returns; what Python and TensorFlow tear down after that took seconds
    (issue 18) and changes nothing on disk. Without TensorFlow this returns.
    """
    if "tensorflow" not in sys.modules:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, a closed stream: nothing left to say there
            pass
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, exit_fast: bool = False) -> int:
    """Entry point of the ``mlpdesigner`` command.

    ``exit_fast`` (the console script, ``python -m mlpdesigner``) ends the
    process as soon as a command of :data:`FAST_EXIT_COMMANDS` is done (:func:`exit_now`).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    args.exit_fast = exit_fast  # a second Ctrl+C may then end the process from its signal handler
    code = _run_command(args)
    if exit_fast and args.command in FAST_EXIT_COMMANDS:
        exit_now(code)
    return code


def run() -> None:
    """The ``mlpdesigner`` console script: :func:`main`, ending fast after the commands that load TensorFlow."""
    raise SystemExit(main(exit_fast=True))


def _run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; errors become their message on stderr and an exit code."""
    try:
        return int(args.func(args))
    except SpecError as exc:
        for problem in exc.problems:
            if problem.is_error:
                print(problem.format(exc.source or "<spec>"), file=sys.stderr)
        return int(exit_code_for(exc))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exit_code_for(exc))
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return int(exit_code_for(exc))
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("MLPDESIGNER_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in MLP Designer; run again with MLPDESIGNER_DEBUG=1 for the traceback.",
            file=sys.stderr,
        )
        return int(exit_code_for(exc))
